/*
 * tests/test_pcg.c: PCG32 against the published output of O'Neill's
 * pcg32-demo (seed 42, stream 54): the six 32-bit values, coin flips, dice
 * rolls and card shuffle of round 1 and the values of round 5, which also
 * checks that bounded draws consume exactly as the reference does.  Plus
 * stream splitting: purposes do not overlap and do not disturb each other.
 */
#include "tests.h"

#include "../sim/pcg.h"

#include <string.h>

/* One round of the demo: values, 65 coins, 33 rolls, a 52-card shuffle. */
static void demo_round(struct pcg32 *rng, uint32_t values[6], char coins[66], char rolls[34],
                       char cards[52][3])
{
    for (int i = 0; i < 6; i++)
        values[i] = pcg32_next(rng);
    for (int i = 0; i < 65; i++)
        coins[i] = pcg32_below(rng, 2) ? 'H' : 'T';
    coins[65] = '\0';
    for (int i = 0; i < 33; i++)
        rolls[i] = (char)('1' + pcg32_below(rng, 6));
    rolls[33] = '\0';
    int deck[52];
    for (int i = 0; i < 52; i++)
        deck[i] = i;
    for (int i = 52; i > 1; i--) {
        uint32_t chosen = pcg32_below(rng, (uint32_t)i);
        int card = deck[chosen];
        deck[chosen] = deck[i - 1];
        deck[i - 1] = card;
    }
    for (int i = 0; i < 52; i++) {
        cards[i][0] = "A23456789TJQK"[deck[i] / 4];
        cards[i][1] = "hcds"[deck[i] % 4];
        cards[i][2] = '\0';
    }
}

static void test_pcg32_demo_round1(void **state)
{
    (void)state;
    struct pcg32 rng;
    pcg32_seed(&rng, 42, 54);
    uint32_t v[6];
    char coins[66], rolls[34], cards[52][3];
    demo_round(&rng, v, coins, rolls, cards);
    const uint32_t want[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                              0x83d2f293, 0xbfa4784b, 0xcbed606e};
    for (int i = 0; i < 6; i++)
        assert_int_equal(v[i], want[i]);
    assert_string_equal(coins, "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT");
    const char want_rolls[] = "341122324324335231315141564662633";
    assert_string_equal(rolls, want_rolls);
    const char *want_cards = "Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs "
                             "2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h "
                             "7d 8s 9d 5h 8h Qc 7c Tc";
    char got[200] = "";
    for (int i = 0; i < 52; i++) {
        strcat(got, cards[i]);
        if (i < 51)
            strcat(got, " ");
    }
    assert_string_equal(got, want_cards);
}

static void test_pcg32_demo_round5(void **state)
{
    (void)state;
    struct pcg32 rng;
    pcg32_seed(&rng, 42, 54);
    uint32_t v[6];
    char coins[66], rolls[34], cards[52][3];
    for (int round = 1; round <= 5; round++)
        demo_round(&rng, v, coins, rolls, cards);
    const uint32_t want[6] = {0xfcef7cd6, 0x1b488b5a, 0xd0daf7ea,
                              0x1d9a70f7, 0x241a37cf, 0x9a3857b7};
    for (int i = 0; i < 6; i++)
        assert_int_equal(v[i], want[i]);
}

static void test_pcg32_streams_independent(void **state)
{
    (void)state;
    struct pcg32 a, b, a2, c;
    pcg32_stream(&a, 7, PCG_STREAM_NETWORK, 0);
    pcg32_stream(&b, 7, PCG_STREAM_DNS, 0);
    pcg32_stream(&c, 8, PCG_STREAM_NETWORK, 0);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = pcg32_next(&a), y = pcg32_next(&b), z = pcg32_next(&c);
        same_ab += x == y;
        same_ac += x == z;
    }
    assert_true(same_ab < 3);
    assert_true(same_ac < 3);
    /* Drawing from one purpose leaves another purpose's sequence unchanged. */
    pcg32_stream(&a, 7, PCG_STREAM_NETWORK, 0);
    pcg32_stream(&a2, 7, PCG_STREAM_NETWORK, 0);
    pcg32_stream(&b, 7, PCG_STREAM_DNS, 0);
    for (int i = 0; i < 100; i++)
        pcg32_next(&b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pcg32_next(&a), pcg32_next(&a2));
    /* Node streams differ per node index. */
    struct pcg32 n1, n2;
    pcg32_stream(&n1, 7, PCG_STREAM_NODE, 1);
    pcg32_stream(&n2, 7, PCG_STREAM_NODE, 2);
    assert_int_not_equal(pcg32_next64(&n1), pcg32_next64(&n2));
}

static void test_pcg32_bounded_and_unit(void **state)
{
    (void)state;
    struct pcg32 rng;
    pcg32_seed(&rng, 1, 1);
    int counts[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint32_t r = pcg32_below(&rng, 6);
        assert_true(r < 6);
        counts[r]++;
    }
    for (int i = 0; i < 6; i++) /* 10000 expected; 5 sigma is about 456 */
        assert_true(counts[i] > 9500 && counts[i] < 10500);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = pcg32_unit(&rng);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
    assert_int_equal(pcg32_below(&rng, 0), 0);
    uint64_t big = (uint64_t)1 << 40;
    for (int i = 0; i < 1000; i++)
        assert_true(pcg32_below64(&rng, big) < big);
}

int test_pcg_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcg32_demo_round1),
        cmocka_unit_test(test_pcg32_demo_round5),
        cmocka_unit_test(test_pcg32_streams_independent),
        cmocka_unit_test(test_pcg32_bounded_and_unit),
    };
    return cmocka_run_group_tests_name("pcg", tests, NULL, NULL);
}
