/*
 * tests/test_strmap.c: the string map of core/strmap.h against a plain
 * model (an array searched with strcmp): keys of every length from 0 to 40
 * (short keys live in the slot, longer ones on the heap), keys that share
 * prefixes, deletions leaving tombstones, re-insertion, growth, rehashing
 * over tombstones, clearing for reuse.
 */
#include "tests.h"

#include <stdio.h>
#include <string.h>

#include "../core/strmap.h"

#define KEYS 600

struct model {
    char keys[KEYS][48];
    int32_t values[KEYS]; /* -1: absent */
};

void map_test_key(int i, char *buf, size_t size)
{
    char digits[16];
    snprintf(digits, sizeof digits, "%d", i);
    size_t len = (size_t)(i % 41);
    static const char prefix[] = "app@10.0.0.1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    if (len < strlen(digits)) {
        snprintf(buf, size, "%s", digits);
        return;
    }
    snprintf(buf, size, "%.*s%s", (int)(len - strlen(digits)), prefix, digits);
}

static void assert_agrees(const struct cs_strmap *m, const struct model *md)
{
    size_t present = 0;
    for (int i = 0; i < KEYS; i++) {
        assert_int_equal(cs_strmap_get(m, md->keys[i]), md->values[i]);
        present += md->values[i] >= 0;
    }
    assert_int_equal(m->count, present);
    assert_int_equal(cs_strmap_get(m, "absent-key"), -1);
    assert_int_equal(cs_strmap_get(m, "app@10.0.0.1-aaaaaaaaaaaaaaaaaaaaaaaaaaa-long-absent"), -1);
}

static void test_strmap_matches_model(void **state)
{
    (void)state;
    static struct model md;
    for (int i = 0; i < KEYS; i++) {
        map_test_key(i, md.keys[i], sizeof md.keys[i]);
        md.values[i] = -1;
    }
    /* The keys are distinct (the test would prove nothing otherwise). */
    for (int i = 0; i < KEYS; i++)
        for (int j = 0; j < i; j++)
            assert_string_not_equal(md.keys[i], md.keys[j]);
    struct cs_strmap m;
    cs_strmap_init(&m);
    assert_agrees(&m, &md);
    uint64_t x = 0x2545F4914F6CDD1DULL; /* a fixed xorshift sequence */
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int i = (int)(x % KEYS);
        if ((x >> 20) % 3 == 0) {
            cs_strmap_del(&m, md.keys[i]);
            md.values[i] = -1;
        } else {
            int32_t v = (int32_t)((x >> 32) & 0x7fffffff);
            assert_int_equal(cs_strmap_put(&m, md.keys[i], v), 0);
            md.values[i] = v;
        }
        if (step % 1000 == 999)
            assert_agrees(&m, &md);
    }
    assert_agrees(&m, &md);
    /* Cleared, the map is empty and takes keys again. */
    cs_strmap_clear(&m);
    for (int i = 0; i < KEYS; i++)
        md.values[i] = -1;
    assert_agrees(&m, &md);
    for (int i = 0; i < KEYS; i += 3) {
        assert_int_equal(cs_strmap_put(&m, md.keys[i], i), 0);
        md.values[i] = i;
    }
    assert_agrees(&m, &md);
    cs_strmap_free(&m);
}

/* A key the caller changes or frees after put is still found: the map
 * keeps its own copy, short or long. */
static void test_strmap_copies_keys(void **state)
{
    (void)state;
    struct cs_strmap m;
    cs_strmap_init(&m);
    char shortk[32] = "app@10.0.0.7", longk[64] = "app@a-rather-long-pod-name.headless.default.svc";
    assert_int_equal(cs_strmap_put(&m, shortk, 1), 0);
    assert_int_equal(cs_strmap_put(&m, longk, 2), 0);
    char shortcopy[32], longcopy[64];
    memcpy(shortcopy, shortk, sizeof shortk);
    memcpy(longcopy, longk, sizeof longk);
    memset(shortk, 'x', sizeof shortk - 1);
    memset(longk, 'y', sizeof longk - 1);
    assert_int_equal(cs_strmap_get(&m, shortcopy), 1);
    assert_int_equal(cs_strmap_get(&m, longcopy), 2);
    assert_int_equal(cs_strmap_get(&m, shortk), -1);
    assert_int_equal(cs_strmap_get(&m, longk), -1);
    cs_strmap_free(&m);
}

int test_strmap_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_matches_model),
        cmocka_unit_test(test_strmap_copies_keys),
    };
    return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
