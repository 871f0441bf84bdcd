/*
 * tests/test_refmap.c: the map of core/refmap.h, which keeps the caller's
 * key strings instead of copies, against a plain model (an array searched
 * with strcmp).  The test owns each key as a heap string and frees it as
 * soon as the map may forget it (after a delete, a put of the key at a new
 * address, a clear): under the sanitizer build, a map that read a
 * forgotten key would fail.  Keys of every length from 0 to 40 sharing
 * prefixes, tombstones, re-insertion, growth, rehashing over tombstones,
 * clearing for reuse.
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/refmap.h"

#define KEYS 600

struct model {
    char keys[KEYS][48];  /* the test's reference copy of each key */
    char *held[KEYS];     /* the string the map was given, or NULL */
    int32_t values[KEYS]; /* -1: absent */
};

/* Every lookup goes through the reference copy, never the held string. */
static void assert_agrees(const struct cs_refmap *m, const struct model *md)
{
    size_t present = 0;
    for (int i = 0; i < KEYS; i++) {
        assert_int_equal(cs_refmap_get(m, md->keys[i]), md->values[i]);
        present += md->values[i] >= 0;
    }
    assert_int_equal(m->count, present);
    assert_int_equal(cs_refmap_get(m, "absent-key"), -1);
    assert_int_equal(cs_refmap_get(m, ""), -1);
}

/* Puts key i with value v as a fresh heap string; the one the map held
 * before (if any) is freed once the map took the new one. */
static void put(struct cs_refmap *m, struct model *md, int i, int32_t v)
{
    char *fresh = strdup(md->keys[i]);
    assert_non_null(fresh);
    assert_int_equal(cs_refmap_put(m, fresh, v), 0);
    free(md->held[i]);
    md->held[i] = fresh;
    md->values[i] = v;
}

static void forget_all(struct model *md)
{
    for (int i = 0; i < KEYS; i++) {
        free(md->held[i]);
        md->held[i] = NULL;
        md->values[i] = -1;
    }
}

static void test_refmap_matches_model(void **state)
{
    (void)state;
    static struct model md;
    for (int i = 0; i < KEYS; i++) {
        map_test_key(i, md.keys[i], sizeof md.keys[i]);
        md.held[i] = NULL;
        md.values[i] = -1;
    }
    for (int i = 0; i < KEYS; i++) /* distinct keys, or the test proves nothing */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(md.keys[i], md.keys[j]);
    struct cs_refmap m;
    cs_refmap_init(&m);
    assert_agrees(&m, &md);
    uint64_t x = 0x2545F4914F6CDD1DULL; /* a fixed xorshift sequence */
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int i = (int)(x % KEYS);
        if ((x >> 20) % 3 == 0) {
            cs_refmap_del(&m, md.keys[i]);
            free(md.held[i]); /* the map may no longer read it */
            md.held[i] = NULL;
            md.values[i] = -1;
        } else {
            put(&m, &md, i, (int32_t)((x >> 32) & 0x7fffffff));
        }
        if (step % 1000 == 999)
            assert_agrees(&m, &md);
    }
    assert_agrees(&m, &md);
    /* Cleared, the map is empty, reads none of its old keys, and takes keys again. */
    cs_refmap_clear(&m);
    forget_all(&md);
    assert_agrees(&m, &md);
    for (int i = 0; i < KEYS; i += 3)
        put(&m, &md, i, i);
    assert_agrees(&m, &md);
    cs_refmap_free(&m);
    forget_all(&md);
}

/* The map keeps the address it was given: a key changed in place is found
 * under its new contents' hash no more (the caller's promise is broken),
 * and one put again at a new address is read there. */
static void test_refmap_keeps_the_callers_string(void **state)
{
    (void)state;
    struct cs_refmap m;
    cs_refmap_init(&m);
    char a[32] = "app@10.0.0.7", b[32] = "app@10.0.0.7";
    assert_int_equal(cs_refmap_put(&m, a, 1), 0);
    assert_int_equal(cs_refmap_get(&m, b), 1);
    assert_int_equal(cs_refmap_put(&m, b, 2), 0); /* the same key at another address */
    assert_int_equal(m.count, 1);
    a[4] = 'X'; /* a's owner may now reuse it */
    assert_int_equal(cs_refmap_get(&m, "app@10.0.0.7"), 2);
    b[4] = 'Y'; /* breaking the promise: the kept string changed */
    assert_int_equal(cs_refmap_get(&m, "app@10.0.0.7"), -1);
    cs_refmap_free(&m);
}

int test_refmap_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refmap_matches_model),
        cmocka_unit_test(test_refmap_keeps_the_callers_string),
    };
    return cmocka_run_group_tests_name("refmap", tests, NULL, NULL);
}
