/*
 * tests/test_conn_hostile.c: the connection layer against hostile peers,
 * with many links at once (tests/fuzz/conn_driver.h): the issue-19 loop
 * (a failed proof used to free a link slot twice), a seeded campaign of
 * random operation strings in both handshake orders (the short run of the
 * fuzz_conn target), and the admission limits: unproven links per source,
 * eviction when the table is full, oversized handshake frames.  After
 * every operation the layer's consistency check holds and the genuine
 * members are undisturbed.
 */
#include "tests.h"

#include "../sim/pcg.h"
#include "../core/conn.h"
#include "fuzz/conn_driver.h"

#include <stdio.h>
#include <string.h>

static void expect_ok(const uint8_t *data, size_t size, bool hello_decides, struct conn_driver_result *r)
{
    conn_driver_run(data, size, hello_decides, r);
    if (!r->ok)
        print_error("step %zu: %s\n", r->steps, r->why);
    assert_true(r->ok);
}

static void test_issue19_loop_neither_corrupts_nor_disturbs(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    size_t n = conn_driver_issue19_loop(buf, sizeof buf, 100);
    assert_true(n > 0);
    for (int mode = 0; mode < 2; mode++) {
        struct conn_driver_result r;
        expect_ok(buf, n, mode, &r);
        assert_int_equal(r.auth_failed, 200); /* every zero proof refused */
        assert_true(r.m2_up);                 /* the newcomer joined in the middle */
    }
}

/* Random strings of operations: the fuzz target's short run. */
static void test_random_operations_keep_the_layer_consistent(void **state)
{
    (void)state;
    struct pcg32 rng;
    pcg32_seed(&rng, 19, 7);
    static uint8_t buf[400];
    uint64_t evicted = 0, refused = 0, oversized = 0, auth_failed = 0, m2_up = 0;
    for (int i = 0; i < 3000; i++) {
        size_t n = 40 + pcg32_below(&rng, sizeof buf - 40);
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)pcg32_next(&rng);
        struct conn_driver_result r;
        expect_ok(buf, n, i % 2, &r);
        evicted += r.pending_evicted;
        refused += r.source_refused;
        oversized += r.oversized_frames;
        auth_failed += r.auth_failed;
        m2_up += r.m2_up;
    }
    /* The campaign reached the limits it is meant to test. */
    assert_true(evicted > 0);
    assert_true(refused > 0);
    assert_true(oversized > 0);
    assert_true(auth_failed > 0);
    assert_true(m2_up > 1000);
}

/* A HELLO claiming m2's name while m2's own handshake is under way: with
 * the decision deferred to the proof m2 still comes up; in Erlang's order
 * (libcluster mode) the fake one replaces m2's handshake, as on BEAM. */
static void test_fake_hello_cannot_displace_a_genuine_handshake(void **state)
{
    (void)state;
    const uint8_t ops[] = {CD_OPEN, 0, 0, CD_TIME, 0, 0, CD_TIME, 0, 0, CD_TIME, 0, 0,
                           /* step 4: m2 opens and sends HELLO */
                           CD_HELLO, 0, 1, 9, CD_TIME, 0, 0, CD_TIME, 0, 0, CD_TIME, 0, 0,
                           /* step 8: m2 sends its valid REPLY */
                           CD_TIME, 0, 1};
    struct conn_driver_result r;
    expect_ok(ops, sizeof ops, false, &r);
    assert_true(r.m2_up);
    expect_ok(ops, sizeof ops, true, &r);
    assert_false(r.m2_up);
}

/* Four connections from one address: the fourth closes one of the first
 * three (cap 3 in the driver), and the table stays within the cap; six
 * from three addresses fill the table and a seventh evicts one. */
static void test_admission_limits(void **state)
{
    (void)state;
    const uint8_t one_source[] = {CD_OPEN, 0, 0, CD_OPEN, 1, 0, CD_OPEN, 2, 0, CD_OPEN, 3, 0};
    struct conn_driver_result r;
    expect_ok(one_source, sizeof one_source, false, &r);
    assert_int_equal(r.source_refused, 1);
    assert_int_equal(r.pending_evicted, 0);
    /* The newcomer m2 opens at step 4 and is the 5th unproven link. */
    const uint8_t many[] = {CD_OPEN, 0, 0, CD_OPEN, 1, 1, CD_OPEN, 2, 2, CD_OPEN, 3, 0,
                            CD_OPEN, 4, 1, CD_OPEN, 5, 2, CD_OPEN, 6, 0};
    expect_ok(many, sizeof many, false, &r);
    assert_int_equal(r.source_refused, 0);
    assert_int_equal(r.pending_evicted, 2);
}

/* A 2,040-byte frame before the handshake is refused and counted; the
 * same bytes cut to 1,000 are only a malformed frame. */
static void test_oversized_handshake_frame(void **state)
{
    (void)state;
    static uint8_t big[6 + 2040]; /* OPEN 0 0, RAW 0 len, 2,040 bytes */
    big[0] = CD_OPEN, big[1] = 0, big[2] = 0;
    big[3] = CD_RAW, big[4] = 0;
    big[5] = 255; /* 255 * 8 bytes */
    memset(big + 6, 1, sizeof big - 6);
    struct conn_driver_result r;
    expect_ok(big, 6 + 2040, false, &r);
    assert_int_equal(r.oversized_frames, 1);
    big[5] = 125;
    expect_ok(big, 6 + 1000, false, &r);
    assert_int_equal(r.oversized_frames, 0);
}

/* White/blacklist patterns: nested counted repetitions multiply; a pattern
 * whose expansion passes the bound is refused before regcomp sees it. */
static void test_pattern_cost_bound(void **state)
{
    (void)state;
    assert_true(conn_pattern_cost("^app@10\\.0\\.0\\.[0-9]+$") < 30);
    assert_int_equal(conn_pattern_cost("[a-z]{1,64}"), 64);
    assert_int_equal(conn_pattern_cost("(ab){3}c"), 7);
    assert_true(conn_pattern_cost("(a{1,100}){1,100}") > CONN_PATTERN_COST_MAX);
    assert_true(conn_pattern_cost("a{5000}") > CONN_PATTERN_COST_MAX);
    assert_true(conn_pattern_cost("((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))") ==
                SIZE_MAX);
    struct conn_config cfg;
    conn_config_defaults(&cfg);
    snprintf(cfg.blacklist[0], sizeof cfg.blacklist[0], "%s", "((a{1,100}){1,100}){1,100}");
    cfg.blacklist_count = 1;
    size_t bad = 99;
    assert_int_equal(conn_config_check(&cfg, &bad), -2);
    assert_int_equal(bad, CONN_MAX_PATTERNS);
}

int test_conn_hostile_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue19_loop_neither_corrupts_nor_disturbs),
        cmocka_unit_test(test_random_operations_keep_the_layer_consistent),
        cmocka_unit_test(test_fake_hello_cannot_displace_a_genuine_handshake),
        cmocka_unit_test(test_admission_limits),
        cmocka_unit_test(test_oversized_handshake_frame),
        cmocka_unit_test(test_pattern_cost_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
