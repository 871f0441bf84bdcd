/*
 * tests/test_itc.c: interval tree clocks (core/itc.h).  Expected trees are
 * worked out by hand from the definitions of Almeida, Baquero and Fonte
 * (2008): seed, fork (split), event (fill, else the cheapest grow), join (sum
 * of ids, join of events), peek, normalization, leq and compare.  Stamps that
 * no short history produces are built from their text form through a small
 * encoder written here from the documented byte layout, which also pins the
 * layout down.  Then the algebraic laws and the causality property over
 * random histories, the encode/decode round trip and the rejection of
 * malformed input.
 */
#include "tests.h"

#include "../core/itc.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

/* The text of a stamp, in one of a few rotating buffers. */
static const char *fmt(struct itc_stamp s)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    int n = itc_format(s, b, sizeof bufs[0]);
    assert_true(n > 0 && (size_t)n < sizeof bufs[0]);
    return b;
}

static bool same(struct itc_stamp x, struct itc_stamp y)
{
    return strcmp(fmt(x), fmt(y)) == 0;
}

/* Text form -> bytes, following the layout of itc_encode's comment: id bits
 * in preorder, LSB first (node 1; leaf 0 then value), padded; then event
 * varints of 2n (leaf) or 2n + 1 (node, then children). */
struct tbytes {
    uint8_t b[4096];
    size_t bits, len;
};

static void tb_bit(struct tbytes *t, unsigned bit)
{
    if (bit)
        t->b[t->bits / 8] |= (uint8_t)(1u << (t->bits % 8));
    t->bits++;
}

static void tb_varint(struct tbytes *t, uint64_t v)
{
    while (v >= 0x80) {
        t->b[t->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t->b[t->len++] = (uint8_t)v;
}

static void expect(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    assert_memory_equal(*p, lit, n);
    *p += n;
}

static void parse_id(const char **p, struct tbytes *t)
{
    if (**p == '{') {
        (*p)++;
        tb_bit(t, 1);
        parse_id(p, t);
        expect(p, ", ");
        parse_id(p, t);
        expect(p, "}");
        return;
    }
    assert_true(**p == '0' || **p == '1');
    tb_bit(t, 0);
    tb_bit(t, (unsigned)(**p - '0'));
    (*p)++;
}

static uint64_t parse_num(const char **p)
{
    char *end;
    uint64_t n = strtoull(*p, &end, 10);
    assert_true(end != *p);
    *p = end;
    return n;
}

static void parse_ev(const char **p, struct tbytes *t)
{
    if (**p == '{') {
        (*p)++;
        tb_varint(t, parse_num(p) << 1 | 1);
        expect(p, ", ");
        parse_ev(p, t);
        expect(p, ", ");
        parse_ev(p, t);
        expect(p, "}");
        return;
    }
    tb_varint(t, parse_num(p) << 1);
}

static size_t text_bytes(const char *text, uint8_t *out)
{
    struct tbytes *t = calloc(1, sizeof *t);
    assert_non_null(t);
    const char *p = text;
    expect(&p, "{");
    parse_id(&p, t);
    t->len = (t->bits + 7) / 8;
    expect(&p, ", ");
    parse_ev(&p, t);
    expect(&p, "}");
    assert_int_equal(*p, '\0');
    size_t len = t->len;
    memcpy(out, t->b, len);
    free(t);
    return len;
}

/* The stamp written as text (must be normalized: it goes through decode). */
static struct itc_stamp stamp_of(struct itc_arena *a, const char *text)
{
    uint8_t buf[4096];
    size_t len = text_bytes(text, buf);
    struct itc_stamp s;
    assert_int_equal(itc_decode(a, buf, len, &s), (int)len);
    assert_string_equal(fmt(s), text);
    return s;
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
}

static uint32_t rng_below(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

/* A random stamp: a few replicas forked from the seed, with random events and
 * joins; returns one replica. */
static struct itc_stamp random_stamp(struct itc_arena *a, int steps)
{
    struct itc_stamp r[6];
    int count = 1;
    r[0] = itc_seed(a);
    for (int i = 0; i < steps; i++) {
        int k = (int)rng_below((uint32_t)count);
        switch (rng_below(4)) {
        case 0:
        case 1:
            r[k] = itc_event(a, r[k]);
            break;
        case 2:
            if (count < 6) {
                itc_fork(a, r[k], &r[k], &r[count]);
                count++;
            }
            break;
        default:
            if (count > 1) {
                int j = (k + 1 + (int)rng_below((uint32_t)count - 1)) % count;
                r[k] = itc_join(a, r[k], r[j]);
                r[j] = r[--count];
            }
        }
    }
    return r[rng_below((uint32_t)count)];
}

/* ---- the algebra, by hand -------------------------------------------------- */

static void test_itc_seed(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    assert_non_null(a);
    struct itc_stamp s = itc_seed(a);
    assert_string_equal(fmt(s), "{1, 0}");
    assert_true(itc_is_seed_like(s));
    assert_int_equal(itc_compare(s, s), ITC_EQUAL);
    assert_false(itc_arena_failed(a));
    itc_arena_free(a);
}

static void test_itc_fork(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp l, r, ll, lr, z1, z2;
    itc_fork(a, itc_seed(a), &l, &r);
    assert_string_equal(fmt(l), "{{1, 0}, 0}");
    assert_string_equal(fmt(r), "{{0, 1}, 0}");
    assert_false(itc_is_seed_like(l));
    assert_int_equal(itc_compare(l, r), ITC_EQUAL); /* same events */
    /* split((i, 0)) = ((i1, 0), (i2, 0)) with (i1, i2) = split(i). */
    itc_fork(a, l, &ll, &lr);
    assert_string_equal(fmt(ll), "{{{1, 0}, 0}, 0}");
    assert_string_equal(fmt(lr), "{{{0, 1}, 0}, 0}");
    /* split((0, i)) = ((0, i1), (0, i2)). */
    itc_fork(a, r, &ll, &lr);
    assert_string_equal(fmt(ll), "{{0, {1, 0}}, 0}");
    assert_string_equal(fmt(lr), "{{0, {0, 1}}, 0}");
    /* split((il, ir)) with both non-zero = ((il, 0), (0, ir)). */
    struct itc_stamp both = stamp_of(a, "{{1, {1, 0}}, {0, 1, 0}}");
    itc_fork(a, both, &ll, &lr);
    assert_string_equal(fmt(ll), "{{1, 0}, {0, 1, 0}}");
    assert_string_equal(fmt(lr), "{{0, {1, 0}}, {0, 1, 0}}");
    /* The anonymous stamp splits into anonymous stamps. */
    itc_fork(a, itc_peek(a, both), &z1, &z2);
    assert_string_equal(fmt(z1), "{0, {0, 1, 0}}");
    assert_string_equal(fmt(z2), "{0, {0, 1, 0}}");
    itc_arena_free(a);
}

static void test_itc_event_on_seed(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s = itc_event(a, itc_seed(a));
    assert_string_equal(fmt(s), "{1, 1}");
    assert_false(itc_is_seed_like(s));
    s = itc_event(a, s);
    assert_string_equal(fmt(s), "{1, 2}");
    itc_arena_free(a);
}

static void test_itc_event_on_half(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp l, r;
    itc_fork(a, itc_seed(a), &l, &r);
    /* fill((1, 0), 0) = 0 (a leaf), so grow: expand to (0, 0, 0), bump the
     * left leaf. */
    struct itc_stamp l1 = itc_event(a, l);
    assert_string_equal(fmt(l1), "{{1, 0}, {0, 1, 0}}");
    struct itc_stamp r1 = itc_event(a, r);
    assert_string_equal(fmt(r1), "{{0, 1}, {0, 0, 1}}");
    /* fill((1, 0), (0, 1, 0)) = norm((0, max(1, min(0)), 0)): unchanged, so
     * grow the left leaf again. */
    struct itc_stamp l2 = itc_event(a, l1);
    assert_string_equal(fmt(l2), "{{1, 0}, {0, 2, 0}}");
    itc_arena_free(a);
}

static void test_itc_event_fill(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp l, r;
    itc_fork(a, itc_seed(a), &l, &r);
    /* The left half learns the right half's event, then records its own:
     * fill((1, 0), (0, 0, 1)) = norm((0, max(0, min(1)), 1)) = norm((0, 1, 1))
     * = 1, which differs, so no growth is needed. */
    struct itc_stamp r1 = itc_event(a, r);
    struct itc_stamp l1 = itc_join(a, l, itc_peek(a, r1));
    assert_string_equal(fmt(l1), "{{1, 0}, {0, 0, 1}}");
    struct itc_stamp l2 = itc_event(a, l1);
    assert_string_equal(fmt(l2), "{{1, 0}, 1}");
    /* fill with id 1 gives the maximum. */
    struct itc_stamp s = stamp_of(a, "{1, {2, {0, 3, 0}, 1}}");
    assert_string_equal(fmt(itc_event(a, s)), "{1, 5}");
    /* The general case fills each half: fill((1, 0), (0, 2, 0)) leaves it,
     * fill((0, 1), (0, 1, 0)) = norm((0, 1, max(0, min(1)))) = 1. */
    s = stamp_of(a, "{{{1, 0}, {0, 1}}, {0, {0, 2, 0}, {0, 1, 0}}}");
    assert_string_equal(fmt(itc_event(a, s)), "{{{1, 0}, {0, 1}}, {0, {0, 2, 0}, 1}}");
    itc_arena_free(a);
}

static void test_itc_event_grow_cost(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    /* fill changes nothing here.  grow(1, 1) on the left costs 0, grow((1,
     * 0), (0, 1, 0)) on the right costs 1: the cheaper left one wins. */
    struct itc_stamp s = stamp_of(a, "{{1, {1, 0}}, {0, 1, {0, 1, 0}}}");
    assert_string_equal(fmt(itc_event(a, s)), "{{1, {1, 0}}, {0, 2, {0, 1, 0}}}");
    /* Mirror image: the right wins. */
    s = stamp_of(a, "{{{1, 0}, 1}, {0, {0, 1, 0}, 1}}");
    assert_string_equal(fmt(itc_event(a, s)), "{{{1, 0}, 1}, {0, {0, 1, 0}, 2}}");
    /* Left: grow((1, 0), (0, 1, 0)) costs 1.  Right: grow((1, 0), 1) must
     * expand the leaf 1 into (1, 0, 0), costing N + 1.  Same depth, but the
     * expansion makes the right dearer. */
    s = stamp_of(a, "{{{1, 0}, {1, 0}}, {0, {0, 1, 0}, 1}}");
    assert_string_equal(fmt(itc_event(a, s)), "{{{1, 0}, {1, 0}}, {0, {0, 2, 0}, 1}}");
    /* Both sides cost N + 1 after expanding the root: a tie goes right
     * (left only when strictly cheaper). */
    s = stamp_of(a, "{{{1, 0}, {0, 1}}, 0}");
    assert_string_equal(fmt(itc_event(a, s)), "{{{1, 0}, {0, 1}}, {0, 0, {0, 0, 1}}}");
    itc_arena_free(a);
}

static void test_itc_join_halves(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp l, r;
    itc_fork(a, itc_seed(a), &l, &r);
    struct itc_stamp l1 = itc_event(a, l), r1 = itc_event(a, r);
    /* sum((1, 0), (0, 1)) = norm((1, 1)) = 1; join((0, 1, 0), (0, 0, 1)) =
     * norm((0, 1, 1)) = 1. */
    struct itc_stamp j = itc_join(a, l1, r1);
    assert_string_equal(fmt(j), "{1, 1}");
    /* (0, 2, 0) joined with (0, 0, 1) is (0, 2, 1), whose common minimum 1
     * moves up: (1, 1, 0). */
    struct itc_stamp l2 = itc_event(a, l1);
    j = itc_join(a, l2, r1);
    assert_string_equal(fmt(j), "{1, {1, 1, 0}}");
    assert_string_equal(fmt(itc_join(a, r1, l2)), "{1, {1, 1, 0}}");
    /* With the whole id, the next event fills to the maximum. */
    assert_string_equal(fmt(itc_event(a, j)), "{1, 2}");
    itc_arena_free(a);
}

static void test_itc_normalization(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s = itc_event(a, itc_event(a, itc_seed(a)));
    struct itc_stamp l, r;
    itc_fork(a, s, &l, &r);
    for (int i = 0; i < 3; i++) {
        l = itc_event(a, l);
        r = itc_event(a, r);
    }
    assert_string_equal(fmt(l), "{{1, 0}, {2, 3, 0}}");
    assert_string_equal(fmt(r), "{{0, 1}, {2, 0, 3}}");
    /* (2, 3, 3) -> 5, and (1, 0) + (0, 1) -> 1. */
    assert_string_equal(fmt(itc_join(a, l, r)), "{1, 5}");
    assert_string_equal(fmt(itc_join(a, itc_peek(a, l), itc_peek(a, r))), "{0, 5}");
    /* (0, (1, 1, 0), 2): the minimum 1 of the children is sunk into them. */
    struct itc_stamp x = stamp_of(a, "{0, {0, {1, 1, 0}, 0}}");
    struct itc_stamp y = stamp_of(a, "{0, {0, 0, 2}}");
    assert_string_equal(fmt(itc_join(a, x, y)), "{0, {1, {0, 1, 0}, 1}}");
    /* Ids: ((1, 0), 0) + ((0, 1), 0) = ((1, 1), 0) -> (1, 0). */
    struct itc_stamp p = stamp_of(a, "{{{1, 0}, 0}, 0}");
    struct itc_stamp q = stamp_of(a, "{{{0, 1}, 0}, 0}");
    assert_string_equal(fmt(itc_join(a, p, q)), "{{1, 0}, 0}");
    itc_arena_free(a);
}

static void test_itc_peek(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s = itc_event(a, itc_seed(a));
    struct itc_stamp p = itc_peek(a, s);
    assert_string_equal(fmt(p), "{0, 1}");
    assert_int_equal(itc_compare(p, s), ITC_EQUAL);
    /* The anonymous stamp cannot record events. */
    assert_string_equal(fmt(itc_event(a, p)), "{0, 1}");
    /* Joining a peek adds its events and no identity. */
    struct itc_stamp l, r;
    itc_fork(a, itc_seed(a), &l, &r);
    struct itc_stamp j = itc_join(a, l, itc_peek(a, itc_event(a, r)));
    assert_string_equal(fmt(j), "{{1, 0}, {0, 0, 1}}");
    itc_arena_free(a);
}

static void test_itc_leq_compare(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s = itc_seed(a);
    assert_true(itc_leq(s, s));
    assert_int_equal(itc_compare(s, s), ITC_EQUAL);
    struct itc_stamp s1 = itc_event(a, s);
    assert_true(itc_leq(s, s1));
    assert_false(itc_leq(s1, s));
    assert_int_equal(itc_compare(s1, s), ITC_AFTER);
    assert_int_equal(itc_compare(s, s1), ITC_BEFORE);
    assert_int_equal(itc_compare(s1, s1), ITC_EQUAL);

    struct itc_stamp l, r;
    itc_fork(a, s1, &l, &r);
    struct itc_stamp l1 = itc_event(a, l), r1 = itc_event(a, r);
    assert_int_equal(itc_compare(l1, r1), ITC_CONCURRENT);
    assert_int_equal(itc_compare(r1, l1), ITC_CONCURRENT);
    assert_false(itc_leq(l1, r1));
    assert_int_equal(itc_compare(l1, s1), ITC_AFTER);
    struct itc_stamp j = itc_join(a, l1, r1);
    assert_int_equal(itc_compare(j, l1), ITC_AFTER);
    assert_int_equal(itc_compare(j, r1), ITC_AFTER);
    /* Joining with an ancestor changes nothing. */
    assert_int_equal(itc_compare(itc_join(a, l1, s1), l1), ITC_EQUAL);
    /* leq looks at events only. */
    assert_int_equal(itc_compare(itc_peek(a, l1), l1), ITC_EQUAL);
    /* Trees of different shapes: (0, 2, 0) <= (1, 1, 0) pointwise? 2 <= 2
     * left, 0 <= 1 right: yes; and (1, 1, 0) <= 2. */
    struct itc_stamp x = stamp_of(a, "{0, {0, 2, 0}}");
    struct itc_stamp y = stamp_of(a, "{0, {1, 1, 0}}");
    struct itc_stamp z = stamp_of(a, "{0, 2}");
    assert_int_equal(itc_compare(x, y), ITC_BEFORE);
    assert_int_equal(itc_compare(y, z), ITC_BEFORE);
    assert_int_equal(itc_compare(z, x), ITC_AFTER);
    struct itc_stamp w = stamp_of(a, "{0, {0, 3, 0}}");
    assert_int_equal(itc_compare(w, z), ITC_CONCURRENT);
    itc_arena_free(a);
}

/* ---- laws over random stamps ----------------------------------------------- */

static void test_itc_join_laws(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    rng_seed(1);
    for (int round = 0; round < 300; round++) {
        struct itc_stamp x = itc_peek(a, random_stamp(a, 30));
        struct itc_stamp y = itc_peek(a, random_stamp(a, 30));
        struct itc_stamp z = itc_peek(a, random_stamp(a, 30));
        assert_true(same(itc_join(a, x, y), itc_join(a, y, x)));
        assert_true(same(itc_join(a, itc_join(a, x, y), z), itc_join(a, x, itc_join(a, y, z))));
        assert_true(same(itc_join(a, x, x), x));
        struct itc_stamp j = itc_join(a, x, y);
        enum itc_order ox = itc_compare(j, x), oy = itc_compare(j, y);
        assert_true(ox == ITC_AFTER || ox == ITC_EQUAL);
        assert_true(oy == ITC_AFTER || oy == ITC_EQUAL);
        /* The join is the least upper bound: x <= y iff join(x, y) = y. */
        assert_int_equal(itc_leq(x, y), same(j, y));
        itc_arena_reset(a);
    }
    assert_false(itc_arena_failed(a));
    itc_arena_free(a);
}

static void test_itc_fork_join_restores(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    rng_seed(2);
    for (int round = 0; round < 300; round++) {
        struct itc_stamp s = random_stamp(a, 40);
        struct itc_stamp l, r, rl, rr;
        itc_fork(a, s, &l, &r);
        assert_true(same(itc_join(a, l, r), s));
        assert_true(same(itc_join(a, r, l), s));
        itc_fork(a, r, &rl, &rr);
        assert_true(same(itc_join(a, l, itc_join(a, rr, rl)), s));
        /* The halves are disjoint and non-empty: each alone can record an
         * event the other has not seen. */
        if (strcmp(fmt(itc_peek(a, s)), fmt(s)) != 0) {
            assert_int_equal(itc_compare(itc_event(a, l), itc_event(a, r)), ITC_CONCURRENT);
            assert_int_equal(itc_compare(itc_event(a, s), s), ITC_AFTER);
        }
        itc_arena_reset(a);
    }
    itc_arena_free(a);
}

/* Random histories: every stamp made is a node of a DAG whose edges go from
 * the stamps it was made from.  y descends from x exactly when x's history is
 * part of y's, so leq(x, y) must hold; and when x was made by an event, the
 * converse holds too (that event is known to y only through descent). */
#define HIST_MAX 400
#define LIVE_MAX 8

struct hist_node {
    struct itc_stamp s;
    bool event;
    uint64_t anc[(HIST_MAX + 63) / 64]; /* ancestors, itself included */
};

static int hist_add(struct hist_node *h, int *n, struct itc_stamp s, bool event, int p1, int p2)
{
    int k = (*n)++;
    memset(&h[k], 0, sizeof h[k]);
    h[k].s = s;
    h[k].event = event;
    for (int w = 0; w < (HIST_MAX + 63) / 64; w++)
        h[k].anc[w] = (p1 >= 0 ? h[p1].anc[w] : 0) | (p2 >= 0 ? h[p2].anc[w] : 0);
    h[k].anc[k / 64] |= (uint64_t)1 << (k % 64);
    return k;
}

static bool hist_descends(const struct hist_node *h, int x, int y)
{
    return (h[y].anc[x / 64] >> (x % 64)) & 1;
}

static void test_itc_causality(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct hist_node *h = calloc(HIST_MAX, sizeof *h);
    assert_non_null(h);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rng_seed(100 + seed);
        int n = 0, live[LIVE_MAX], count = 1;
        live[0] = hist_add(h, &n, itc_seed(a), false, -1, -1);
        while (n < HIST_MAX - 2) {
            int k = (int)rng_below((uint32_t)count);
            int j = (k + 1 + (int)rng_below(count > 1 ? (uint32_t)count - 1 : 1)) % count;
            uint32_t op = rng_below(10);
            if (op < 4) { /* local event */
                struct itc_stamp e = itc_event(a, h[live[k]].s);
                assert_int_equal(itc_compare(e, h[live[k]].s), ITC_AFTER);
                live[k] = hist_add(h, &n, e, true, live[k], -1);
            } else if (op < 6 && count < LIVE_MAX) { /* a replica joins */
                struct itc_stamp l, r;
                int p = live[k];
                itc_fork(a, h[p].s, &l, &r);
                live[k] = hist_add(h, &n, l, false, p, -1);
                live[count++] = hist_add(h, &n, r, false, p, -1);
            } else if (op < 8 && count > 1) { /* k hears from j */
                struct itc_stamp m = itc_join(a, h[live[k]].s, itc_peek(a, h[live[j]].s));
                live[k] = hist_add(h, &n, m, false, live[k], live[j]);
            } else if (count > 1) { /* j retires into k */
                struct itc_stamp m = itc_join(a, h[live[k]].s, h[live[j]].s);
                live[k] = hist_add(h, &n, m, false, live[k], live[j]);
                live[j] = live[--count];
            }
        }
        for (int x = 0; x < n; x++) {
            for (int y = 0; y < n; y++) {
                bool desc = hist_descends(h, x, y);
                bool le = itc_leq(h[x].s, h[y].s);
                if (desc)
                    assert_true(le);
                if (h[x].event)
                    assert_int_equal(le, desc);
            }
        }
        /* The live ids still partition the whole interval. */
        struct itc_stamp all = h[live[0]].s;
        for (int i = 1; i < count; i++)
            all = itc_join(a, all, h[live[i]].s);
        assert_memory_equal(fmt(all), "{1, ", 4);
        itc_arena_reset(a);
    }
    assert_false(itc_arena_failed(a));
    free(h);
    itc_arena_free(a);
}

/* ---- encoding ---------------------------------------------------------------- */

static void check_bytes(struct itc_stamp s, const uint8_t *want, size_t len)
{
    uint8_t buf[64];
    assert_int_equal(itc_encode(s, buf, sizeof buf), (int)len);
    assert_memory_equal(buf, want, len);
    /* Exactly len bytes fit; one fewer does not. */
    assert_int_equal(itc_encode(s, buf, len), (int)len);
    assert_int_equal(itc_encode(s, buf, len - 1), -1);
}

static void test_itc_encode_small(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s = itc_seed(a);
    /* id leaf 1: bits 0, 1 -> 0x02; event leaf 0: varint 0. */
    check_bytes(s, (const uint8_t[]){0x02, 0x00}, 2);
    /* event leaf 1: varint 2. */
    check_bytes(itc_event(a, s), (const uint8_t[]){0x02, 0x02}, 2);
    struct itc_stamp l, r;
    itc_fork(a, s, &l, &r);
    /* id (1, 0): bits 1, 0 1, 0 0 -> 0b00101; id (0, 1): 1, 0 0, 0 1 -> 0b10001. */
    check_bytes(l, (const uint8_t[]){0x05, 0x00}, 2);
    check_bytes(r, (const uint8_t[]){0x11, 0x00}, 2);
    /* event (0, 1, 0): varints 1, 2, 0. */
    check_bytes(itc_event(a, l), (const uint8_t[]){0x05, 0x01, 0x02, 0x00}, 4);
    /* The anonymous stamp: bits 0, 0. Event 300 = varint 600 = 0xd8 0x04. */
    check_bytes(stamp_of(a, "{0, 300}"), (const uint8_t[]){0x00, 0xd8, 0x04}, 3);
    /* The test's own text encoder agrees with these bytes. */
    uint8_t buf[64];
    assert_int_equal(text_bytes("{{1, 0}, {0, 1, 0}}", buf), 4);
    assert_memory_equal(buf, ((const uint8_t[]){0x05, 0x01, 0x02, 0x00}), 4);
    itc_arena_free(a);
}

static void roundtrip(struct itc_arena *b, struct itc_stamp s)
{
    uint8_t buf[1024], again[1024];
    int len = itc_encode(s, buf, sizeof buf);
    assert_true(len > 0);
    struct itc_stamp d;
    assert_int_equal(itc_decode(b, buf, (size_t)len, &d), len);
    assert_string_equal(fmt(d), fmt(s));
    assert_int_equal(itc_compare(d, s), ITC_EQUAL);
    assert_int_equal(itc_encode(d, again, sizeof again), len);
    assert_memory_equal(again, buf, (size_t)len);
}

static void test_itc_encode_roundtrip(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new(), *b = itc_arena_new();
    rng_seed(3);
    for (int round = 0; round < 2000; round++) {
        struct itc_stamp s = random_stamp(a, 1 + (int)rng_below(60));
        roundtrip(b, s);
        roundtrip(b, itc_peek(a, s));
        itc_arena_reset(a);
        itc_arena_reset(b);
    }
    struct itc_stamp big = stamp_of(a, "{1, 4611686018427387904}"); /* 2^62 */
    roundtrip(b, big);
    itc_arena_free(a);
    itc_arena_free(b);
}

static int decode(struct itc_arena *a, const uint8_t *buf, size_t len)
{
    struct itc_stamp s;
    return itc_decode(a, buf, len, &s);
}

/* An id chain of depth d with event 0: every node has the leaf v on its
 * left, the last one the leaf 1 - v on its right: (1, (1, ... (1, 0))) for
 * v = 1, (0, (0, ... (0, 1))) for v = 0. */
static size_t deep_id(int d, unsigned v, uint8_t *buf)
{
    struct tbytes *t = calloc(1, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < d; i++) {
        tb_bit(t, 1);
        tb_bit(t, 0);
        tb_bit(t, v);
    }
    tb_bit(t, 0);
    tb_bit(t, 1 - v);
    t->len = (t->bits + 7) / 8;
    tb_varint(t, 0);
    size_t len = t->len;
    memcpy(buf, t->b, len);
    free(t);
    return len;
}

/* Id 1 with an event chain (0, 1, (0, 1, ... (0, 1, 0))) of depth d. */
static size_t deep_ev(int d, uint8_t *buf)
{
    size_t len = 0;
    buf[len++] = 0x02;
    for (int i = 0; i < d; i++) {
        buf[len++] = 0x01;
        buf[len++] = 0x02;
    }
    buf[len++] = 0x00;
    return len;
}

static void test_itc_decode_rejects(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    uint8_t buf[4096];
    /* Truncation: every proper prefix of a valid encoding fails. */
    struct itc_stamp s = stamp_of(a, "{{1, {0, 1}}, {3, {0, 200, 0}, {0, 0, 1}}}");
    int len = itc_encode(s, buf, sizeof buf);
    assert_true(len > 4);
    for (int i = 0; i < len; i++)
        assert_int_equal(decode(a, buf, (size_t)i), -1);
    assert_int_equal(decode(a, buf, (size_t)len), len);
    /* Trailing bytes. */
    buf[len] = 0;
    assert_int_equal(decode(a, buf, (size_t)len + 1), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x00, 0x00}, 3), -1);
    /* Depth: 64 levels decode, 65 do not, nor 10000. */
    len = (int)deep_id(ITC_MAX_DEPTH, 1, buf);
    assert_int_equal(decode(a, buf, (size_t)len), len);
    len = (int)deep_id(ITC_MAX_DEPTH + 1, 1, buf);
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    len = (int)deep_id(ITC_MAX_DEPTH + 1, 0, buf);
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    memset(buf, 0xff, sizeof buf); /* id nodes all the way down */
    assert_int_equal(decode(a, buf, sizeof buf), -1);
    len = (int)deep_ev(ITC_MAX_DEPTH, buf);
    assert_int_equal(decode(a, buf, (size_t)len), len);
    len = (int)deep_ev(ITC_MAX_DEPTH + 1, buf);
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    len = (int)deep_ev(1500, buf);
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    /* The encoder refuses what the decoder would refuse. */
    len = (int)deep_id(ITC_MAX_DEPTH, 0, buf);
    assert_int_equal(itc_decode(a, buf, (size_t)len, &s), len);
    assert_int_equal(itc_encode(s, buf, sizeof buf), len);
    struct itc_stamp l, r;
    itc_fork(a, s, &l, &r); /* split((0, i)) splits i: one level deeper */
    assert_int_equal(itc_encode(l, buf, sizeof buf), -1);
    assert_int_equal(itc_encode(r, buf, sizeof buf), -1);
    /* Not normalized: id (0, 0), id (1, 1), event (0, 0, 0), (2, 1, 1),
     * (0, 1, (1, 1, 0)) whose children both have a positive minimum. */
    assert_int_equal(decode(a, (const uint8_t[]){0x01, 0x00}, 2), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x15, 0x00}, 2), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x01, 0x00, 0x00}, 4), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x05, 0x02, 0x02}, 4), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x01, 0x02, 0x03, 0x02, 0x00}, 6), -1);
    /* ... while (0, 1, (0, 1, 0)) is fine. */
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x01, 0x02, 0x01, 0x02, 0x00}, 6), 6);
    /* Non-zero padding bits after the id. */
    assert_int_equal(decode(a, (const uint8_t[]){0x06, 0x00}, 2), -1);
    /* Overlong varint (0 as 0x80 0x00), and counts above 2^62. */
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x80, 0x00}, 3), -1);
    assert_int_equal(decode(a, (const uint8_t[]){0x02, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                 0x80, 0x80, 0x80, 0x01},
                            11),
                     -1);
    len = (int)text_bytes("{1, 4611686018427387905}", buf); /* 2^62 + 1 */
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    len = (int)text_bytes("{1, {4611686018427387904, 1, 0}}", buf); /* path sum */
    assert_int_equal(decode(a, buf, (size_t)len), -1);
    /* Empty input. */
    assert_int_equal(decode(a, buf, 0), -1);
    assert_false(itc_arena_failed(a));
    itc_arena_free(a);
}

static void test_itc_format(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    char buf[64];
    assert_int_equal(itc_format(itc_seed(a), buf, sizeof buf), 6);
    assert_string_equal(buf, "{1, 0}");
    struct itc_stamp l, r;
    itc_fork(a, itc_seed(a), &l, &r);
    assert_int_equal(itc_format(l, buf, sizeof buf), 11);
    assert_string_equal(buf, "{{1, 0}, 0}");
    /* Truncation keeps a terminated prefix and reports the full length. */
    char small[5];
    assert_int_equal(itc_format(l, small, sizeof small), 11);
    assert_string_equal(small, "{{1,");
    assert_int_equal(itc_format(l, NULL, 0), 11);
    itc_arena_free(a);
}

static void test_itc_arena_reuse(void **state)
{
    (void)state;
    struct itc_arena *a = itc_arena_new();
    for (int round = 0; round < 3; round++) {
        struct itc_stamp s = itc_seed(a);
        for (int i = 0; i < 5000; i++) /* many chunks */
            s = itc_join(a, itc_event(a, s), itc_peek(a, s));
        assert_string_equal(fmt(s), "{1, 5000}");
        assert_false(itc_arena_failed(a));
        itc_arena_reset(a);
    }
    itc_arena_free(a);
    itc_arena_free(NULL);
}

int test_itc_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_itc_seed),
        cmocka_unit_test(test_itc_fork),
        cmocka_unit_test(test_itc_event_on_seed),
        cmocka_unit_test(test_itc_event_on_half),
        cmocka_unit_test(test_itc_event_fill),
        cmocka_unit_test(test_itc_event_grow_cost),
        cmocka_unit_test(test_itc_join_halves),
        cmocka_unit_test(test_itc_normalization),
        cmocka_unit_test(test_itc_peek),
        cmocka_unit_test(test_itc_leq_compare),
        cmocka_unit_test(test_itc_join_laws),
        cmocka_unit_test(test_itc_fork_join_restores),
        cmocka_unit_test(test_itc_causality),
        cmocka_unit_test(test_itc_encode_small),
        cmocka_unit_test(test_itc_encode_roundtrip),
        cmocka_unit_test(test_itc_decode_rejects),
        cmocka_unit_test(test_itc_format),
        cmocka_unit_test(test_itc_arena_reuse),
    };
    return cmocka_run_group_tests_name("itc", tests, NULL, NULL);
}
