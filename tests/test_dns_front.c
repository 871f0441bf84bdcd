/*
 * tests/test_dns_front.c: the real world's truncating DNS front
 * (real/dns_front.c): an A answer longer than the cap becomes a rotated
 * window of the cap's size with TC set and the other sections dropped; an
 * answer whose records may hold pointers into each other keeps a prefix;
 * short, malformed and cut-short answers pass unchanged.
 */
#include "tests.h"

#include "../real/dns_front.h"

#include <string.h>

/* Appends a name in wire form ("\3app\3svc" style from dotted text). */
static size_t put_name(uint8_t *m, size_t at, const char *dotted)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
        m[at++] = (uint8_t)len;
        memcpy(m + at, dotted, len);
        at += len;
        dotted += len + (dot ? 1 : 0);
    }
    m[at++] = 0;
    return at;
}

static size_t put16(uint8_t *m, size_t at, unsigned v)
{
    m[at] = (uint8_t)(v >> 8);
    m[at + 1] = (uint8_t)v;
    return at + 2;
}

/* An answer to "app.svc" type `type` with `count` records; A records hold
 * 10.0.0.<i+1>; SRV records name "n<i>.app.svc" and carry an additional
 * record each (to be dropped). */
static size_t answer(uint8_t *m, unsigned type, unsigned count)
{
    memset(m, 0, 12);
    put16(m, 0, 0x1234);
    put16(m, 2, 0x8180);
    put16(m, 4, 1);
    put16(m, 6, count);
    put16(m, 10, type == 33 ? count : 0);
    size_t at = put_name(m, 12, "app.svc");
    at = put16(m, at, type);
    at = put16(m, at, 1);
    for (unsigned i = 0; i < count; i++) {
        at = put16(m, at, 0xC00C); /* the question's name */
        at = put16(m, at, type);
        at = put16(m, at, 1);
        at = put16(m, at, 0);
        at = put16(m, at, 5);
        if (type == 1) {
            at = put16(m, at, 4);
            const uint8_t ip[4] = {10, 0, 0, (uint8_t)(i + 1)};
            memcpy(m + at, ip, 4);
            at += 4;
        } else {
            at = put16(m, at, 6 + 3 + 2); /* priority, weight, port, "\2nX" + pointer */
            at = put16(m, at, 0);
            at = put16(m, at, 10);
            at = put16(m, at, 4369);
            m[at++] = 2;
            m[at++] = 'n';
            m[at++] = (uint8_t)('0' + i);
            at = put16(m, at, 0xC00C);
        }
    }
    for (unsigned i = 0; type == 33 && i < count; i++) { /* additional: n<i>.app.svc A */
        at = put16(m, at, 0xC00C);
        at = put16(m, at, 1);
        at = put16(m, at, 1);
        at = put16(m, at, 0);
        at = put16(m, at, 5);
        at = put16(m, at, 4);
        at += 4;
    }
    return at;
}

static unsigned u16(const uint8_t *p) { return (unsigned)(p[0] << 8 | p[1]); }

static void test_a_long_a_answer_becomes_a_rotated_window_marked_truncated(void **state)
{
    (void)state;
    uint8_t m[1024];
    size_t len = answer(m, 1, 5);
    size_t qend = 12 + 9 + 4, rr = 16;
    assert_int_equal(len, qend + 5 * rr);
    size_t cut = rdf_cut(m, len, 2, 8); /* 8 % 5: the window starts at record 3 */
    assert_int_equal(cut, qend + 2 * rr);
    assert_int_equal(u16(m + 6), 2);
    assert_true(u16(m + 2) & 0x0200);
    assert_int_equal(u16(m + 8) | u16(m + 10), 0);
    assert_int_equal(m[qend + 15], 4);         /* 10.0.0.4 */
    assert_int_equal(m[qend + rr + 15], 5);    /* 10.0.0.5 */
    len = answer(m, 1, 5);
    cut = rdf_cut(m, len, 3, 4); /* wraps around: records 4, 0, 1 */
    assert_int_equal(cut, qend + 3 * rr);
    assert_int_equal(m[qend + 15], 5);
    assert_int_equal(m[qend + rr + 15], 1);
    assert_int_equal(m[qend + 2 * rr + 15], 2);
}

static void test_an_srv_answer_keeps_a_prefix_and_drops_the_additional_records(void **state)
{
    (void)state;
    uint8_t m[1024];
    size_t len = answer(m, 33, 4);
    size_t qend = 12 + 9 + 4, rr = 12 + 6 + 5;
    size_t cut = rdf_cut(m, len, 2, 3);
    assert_int_equal(cut, qend + 2 * rr);
    assert_int_equal(u16(m + 6), 2);
    assert_int_equal(u16(m + 10), 0);
    assert_true(u16(m + 2) & 0x0200);
    assert_int_equal(m[qend + 12 + 6 + 2], '0'); /* the first record stays first */
}

static void test_short_and_malformed_answers_pass_unchanged(void **state)
{
    (void)state;
    uint8_t m[1024], copy[1024];
    size_t len = answer(m, 1, 3);
    memcpy(copy, m, len);
    assert_int_equal(rdf_cut(m, len, 3, 1), len);
    assert_memory_equal(m, copy, len);
    assert_int_equal(rdf_cut(m, len - 5, 2, 1), len - 5); /* the last record runs off the end */
    assert_memory_equal(m, copy, len);
    put16(m, 6, 40000); /* more records than a message can hold */
    assert_int_equal(rdf_cut(m, len, 2, 1), len);
    assert_int_equal(rdf_cut(m, 7, 2, 1), 7); /* not even a header */
    m[12] = 0x80;                          /* a reserved label type in the question */
    put16(m, 6, 3);
    assert_int_equal(rdf_cut(m, len, 2, 1), len);
}

int test_dns_front_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_long_a_answer_becomes_a_rotated_window_marked_truncated),
        cmocka_unit_test(test_an_srv_answer_keeps_a_prefix_and_drops_the_additional_records),
        cmocka_unit_test(test_short_and_malformed_answers_pass_unchanged),
    };
    return cmocka_run_group_tests_name("dns_front", tests, NULL, NULL);
}
