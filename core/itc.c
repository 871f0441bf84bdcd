/*
 * core/itc.c: interval tree clocks after Almeida, Baquero and Fonte (2008).
 * Trees are immutable; every constructor normalizes locally, and since trees
 * are built bottom-up from normalized parts, every result is normalized.  The
 * leaves 0 and 1 of ids and the event leaf 0 are static and shared; all other
 * nodes come from a bump arena.  Lifts (adding a constant to a subtree) are
 * carried as offsets through join and leq instead of being allocated.
 */
#include "itc.h"

#include <limits.h>
#include <stdlib.h>

/* An id leaf has l == r == NULL and value v (0 or 1). */
struct itc_id {
    const itc_id *l, *r;
    uint8_t v;
};

/* An event leaf has l == r == NULL. */
struct itc_ev {
    uint64_t n;
    const itc_ev *l, *r;
};

static const itc_id ID_ZERO = {NULL, NULL, 0};
static const itc_id ID_ONE = {NULL, NULL, 1};
static const itc_ev EV_ZERO = {0, NULL, NULL};

/* Event counts along any root-to-leaf path stay at most this, so sums of two
 * such counts never overflow. */
#define ITC_MAX_COUNT ((uint64_t)1 << 62)

/* ---- arena ---------------------------------------------------------------- */

union itc_align {
    uint64_t u;
    void *p;
};

#define CHUNK_BYTES 4096

struct chunk {
    struct chunk *next;
    size_t used, cap; /* bytes */
    union itc_align data[];
};

struct itc_arena {
    struct chunk *head, *cur;
    bool failed;
};

struct itc_arena *itc_arena_new(void)
{
    struct itc_arena *a = calloc(1, sizeof *a);
    return a;
}

void itc_arena_free(struct itc_arena *a)
{
    if (!a)
        return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void itc_arena_reset(struct itc_arena *a)
{
    a->cur = a->head;
    if (a->cur)
        a->cur->used = 0;
    a->failed = false;
}

bool itc_arena_failed(const struct itc_arena *a)
{
    return a->failed;
}

/* size bytes aligned for the node structs, or NULL (and the failure flag). */
static void *arena_alloc(struct itc_arena *a, size_t size)
{
    const size_t align = _Alignof(union itc_align);
    size = (size + align - 1) / align * align;
    while (!a->cur || a->cur->cap - a->cur->used < size) {
        if (a->cur && a->cur->next) {
            a->cur = a->cur->next;
            a->cur->used = 0;
            continue;
        }
        size_t cap = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        struct chunk *c = malloc(sizeof *c + cap);
        if (!c) {
            a->failed = true;
            return NULL;
        }
        c->next = NULL;
        c->used = 0;
        c->cap = cap;
        if (a->cur)
            a->cur->next = c;
        else
            a->head = c;
        a->cur = c;
    }
    void *p = (char *)a->cur->data + a->cur->used;
    a->cur->used += size;
    return p;
}

/* ---- ids ------------------------------------------------------------------ */

static bool id_is_leaf(const itc_id *i)
{
    return i->l == NULL;
}

static bool id_is_zero(const itc_id *i)
{
    return id_is_leaf(i) && i->v == 0;
}

static bool id_is_one(const itc_id *i)
{
    return id_is_leaf(i) && i->v == 1;
}

/* norm((l, r)): (0, 0) -> 0 and (1, 1) -> 1. */
static const itc_id *id_node(struct itc_arena *a, const itc_id *l, const itc_id *r)
{
    if (id_is_leaf(l) && id_is_leaf(r) && l->v == r->v)
        return l->v ? &ID_ONE : &ID_ZERO;
    itc_id *n = arena_alloc(a, sizeof *n);
    if (!n)
        return &ID_ZERO;
    n->l = l;
    n->r = r;
    n->v = 0;
    return n;
}

/* split(i): two disjoint ids whose sum is i. */
static void id_split(struct itc_arena *a, const itc_id *i, const itc_id **l, const itc_id **r)
{
    if (id_is_zero(i)) {
        *l = *r = &ID_ZERO;
    } else if (id_is_one(i)) {
        *l = id_node(a, &ID_ONE, &ID_ZERO);
        *r = id_node(a, &ID_ZERO, &ID_ONE);
    } else if (id_is_zero(i->l)) {
        const itc_id *i1, *i2;
        id_split(a, i->r, &i1, &i2);
        *l = id_node(a, &ID_ZERO, i1);
        *r = id_node(a, &ID_ZERO, i2);
    } else if (id_is_zero(i->r)) {
        const itc_id *i1, *i2;
        id_split(a, i->l, &i1, &i2);
        *l = id_node(a, i1, &ID_ZERO);
        *r = id_node(a, i2, &ID_ZERO);
    } else {
        *l = id_node(a, i->l, &ID_ZERO);
        *r = id_node(a, &ID_ZERO, i->r);
    }
}

/* sum(x, y): the union of the two ids (disjoint in correct use). */
static const itc_id *id_sum(struct itc_arena *a, const itc_id *x, const itc_id *y)
{
    if (id_is_zero(x))
        return y;
    if (id_is_zero(y))
        return x;
    if (id_is_one(x) || id_is_one(y))
        return &ID_ONE;
    return id_node(a, id_sum(a, x->l, y->l), id_sum(a, x->r, y->r));
}

/* ---- events --------------------------------------------------------------- */

static bool ev_is_leaf(const itc_ev *e)
{
    return e->l == NULL;
}

static const itc_ev *ev_leaf(struct itc_arena *a, uint64_t n)
{
    if (n == 0)
        return &EV_ZERO;
    itc_ev *e = arena_alloc(a, sizeof *e);
    if (!e)
        return &EV_ZERO;
    e->n = n;
    e->l = e->r = NULL;
    return e;
}

/* A node without normalization (callers guarantee the shape). */
static const itc_ev *ev_raw_node(struct itc_arena *a, uint64_t n, const itc_ev *l,
                                 const itc_ev *r)
{
    itc_ev *e = arena_alloc(a, sizeof *e);
    if (!e)
        return &EV_ZERO;
    e->n = n;
    e->l = l;
    e->r = r;
    return e;
}

/* lift(e, m) and sink(e, m): the tree with m added to / taken from its root. */
static const itc_ev *ev_with_root(struct itc_arena *a, const itc_ev *e, uint64_t n)
{
    if (n == e->n)
        return e;
    if (ev_is_leaf(e))
        return ev_leaf(a, n);
    return ev_raw_node(a, n, e->l, e->r);
}

static const itc_ev *ev_lift(struct itc_arena *a, const itc_ev *e, uint64_t m)
{
    return ev_with_root(a, e, e->n + m);
}

static const itc_ev *ev_sink(struct itc_arena *a, const itc_ev *e, uint64_t m)
{
    return ev_with_root(a, e, e->n - m);
}

/* norm((n, l, r)) for normalized l and r, whose minimum is their root value:
 * (n, m, m) -> n + m for leaves, else the common minimum moves up. */
static const itc_ev *ev_node(struct itc_arena *a, uint64_t n, const itc_ev *l, const itc_ev *r)
{
    if (ev_is_leaf(l) && ev_is_leaf(r) && l->n == r->n)
        return ev_leaf(a, n + l->n);
    uint64_t m = l->n < r->n ? l->n : r->n;
    if (m > 0) {
        l = ev_sink(a, l, m);
        r = ev_sink(a, r, m);
        n += m;
    }
    return ev_raw_node(a, n, l, r);
}

static uint64_t ev_max(const itc_ev *e)
{
    if (ev_is_leaf(e))
        return e->n;
    uint64_t l = ev_max(e->l), r = ev_max(e->r);
    return e->n + (l > r ? l : r);
}

static bool ev_equal(const itc_ev *x, const itc_ev *y)
{
    if (x == y)
        return true;
    if (x->n != y->n || ev_is_leaf(x) != ev_is_leaf(y))
        return false;
    return ev_is_leaf(x) || (ev_equal(x->l, y->l) && ev_equal(x->r, y->r));
}

/* join(lift(x, ox), lift(y, oy)): the pointwise maximum. */
static const itc_ev *ev_join(struct itc_arena *a, const itc_ev *x, uint64_t ox, const itc_ev *y,
                             uint64_t oy)
{
    uint64_t xn = x->n + ox, yn = y->n + oy;
    if (ev_is_leaf(x) && ev_is_leaf(y))
        return ev_leaf(a, xn > yn ? xn : yn);
    /* A leaf at most the other tree's minimum adds nothing. */
    if (ev_is_leaf(x) && xn <= yn)
        return ev_lift(a, y, oy);
    if (ev_is_leaf(y) && yn <= xn)
        return ev_lift(a, x, ox);
    uint64_t b = xn < yn ? xn : yn;
    const itc_ev *xl = ev_is_leaf(x) ? &EV_ZERO : x->l, *xr = ev_is_leaf(x) ? &EV_ZERO : x->r;
    const itc_ev *yl = ev_is_leaf(y) ? &EV_ZERO : y->l, *yr = ev_is_leaf(y) ? &EV_ZERO : y->r;
    const itc_ev *l = ev_join(a, xl, xn - b, yl, yn - b);
    const itc_ev *r = ev_join(a, xr, xn - b, yr, yn - b);
    return ev_node(a, b, l, r);
}

/* leq(lift(x, ox), lift(y, oy)); y normalized, so its minimum is its root. */
static bool ev_leq(const itc_ev *x, uint64_t ox, const itc_ev *y, uint64_t oy)
{
    uint64_t xn = x->n + ox, yn = y->n + oy;
    if (xn > yn)
        return false;
    if (ev_is_leaf(x))
        return true;
    const itc_ev *yl = ev_is_leaf(y) ? &EV_ZERO : y->l, *yr = ev_is_leaf(y) ? &EV_ZERO : y->r;
    return ev_leq(x->l, xn, yl, yn) && ev_leq(x->r, xn, yr, yn);
}

/* fill(i, e): raise e to its maximum where i owns the whole subinterval, as
 * far as that can be done without inventing events. */
static const itc_ev *ev_fill(struct itc_arena *a, const itc_id *i, const itc_ev *e)
{
    if (id_is_zero(i))
        return e;
    if (id_is_one(i))
        return ev_is_leaf(e) ? e : ev_leaf(a, ev_max(e));
    if (ev_is_leaf(e))
        return e;
    if (id_is_one(i->l)) {
        const itc_ev *er = ev_fill(a, i->r, e->r);
        uint64_t ml = ev_max(e->l);
        uint64_t v = ml > er->n ? ml : er->n;
        return ev_node(a, e->n, ev_leaf(a, v), er);
    }
    if (id_is_one(i->r)) {
        const itc_ev *el = ev_fill(a, i->l, e->l);
        uint64_t mr = ev_max(e->r);
        uint64_t v = mr > el->n ? mr : el->n;
        return ev_node(a, e->n, el, ev_leaf(a, v));
    }
    return ev_node(a, e->n, ev_fill(a, i->l, e->l), ev_fill(a, i->r, e->r));
}

/* The cost of grow: the paper's c, with N (the price of expanding an event
 * leaf into a node) taken as larger than any depth, so costs compare as
 * (expansions, steps) lexicographically. */
struct grow_cost {
    uint32_t expansions, steps;
};

static bool cost_less(struct grow_cost x, struct grow_cost y)
{
    return x.expansions < y.expansions || (x.expansions == y.expansions && x.steps < y.steps);
}

static struct grow_cost cost_step(struct grow_cost c)
{
    if (c.steps < UINT32_MAX)
        c.steps++;
    return c;
}

/* Cost of grow(i, e) for a non-zero normalized i. */
static struct grow_cost ev_grow_cost(const itc_id *i, const itc_ev *e)
{
    if (id_is_one(i))
        return (struct grow_cost){0, 0};
    if (ev_is_leaf(e)) {
        const itc_ev expanded = {e->n, &EV_ZERO, &EV_ZERO};
        struct grow_cost c = ev_grow_cost(i, &expanded);
        if (c.expansions < UINT32_MAX)
            c.expansions++;
        return c;
    }
    if (id_is_zero(i->l))
        return cost_step(ev_grow_cost(i->r, e->r));
    if (id_is_zero(i->r))
        return cost_step(ev_grow_cost(i->l, e->l));
    struct grow_cost cl = ev_grow_cost(i->l, e->l), cr = ev_grow_cost(i->r, e->r);
    return cost_step(cost_less(cl, cr) ? cl : cr);
}

/* grow(i, e): add one event at the cheapest place i owns (ties go right, as
 * in the paper: left only when strictly cheaper). */
static const itc_ev *ev_grow(struct itc_arena *a, const itc_id *i, const itc_ev *e)
{
    if (id_is_one(i)) /* e is a leaf whenever fill left it unchanged */
        return ev_leaf(a, ev_max(e) + 1);
    if (ev_is_leaf(e)) {
        const itc_ev expanded = {e->n, &EV_ZERO, &EV_ZERO};
        return ev_grow(a, i, &expanded); /* the result never points at expanded */
    }
    bool left;
    if (id_is_zero(i->l))
        left = false;
    else if (id_is_zero(i->r))
        left = true;
    else
        left = cost_less(ev_grow_cost(i->l, e->l), ev_grow_cost(i->r, e->r));
    if (left)
        return ev_node(a, e->n, ev_grow(a, i->l, e->l), e->r);
    return ev_node(a, e->n, e->l, ev_grow(a, i->r, e->r));
}

/* ---- stamps --------------------------------------------------------------- */

struct itc_stamp itc_seed(struct itc_arena *a)
{
    (void)a;
    return (struct itc_stamp){&ID_ONE, &EV_ZERO};
}

void itc_fork(struct itc_arena *a, struct itc_stamp s, struct itc_stamp *left,
              struct itc_stamp *right)
{
    const itc_id *l, *r;
    id_split(a, s.id, &l, &r);
    *left = (struct itc_stamp){l, s.ev};
    *right = (struct itc_stamp){r, s.ev};
}

struct itc_stamp itc_event(struct itc_arena *a, struct itc_stamp s)
{
    if (id_is_zero(s.id))
        return s;
    const itc_ev *filled = ev_fill(a, s.id, s.ev);
    if (!ev_equal(filled, s.ev))
        return (struct itc_stamp){s.id, filled};
    return (struct itc_stamp){s.id, ev_grow(a, s.id, s.ev)};
}

struct itc_stamp itc_join(struct itc_arena *a, struct itc_stamp x, struct itc_stamp y)
{
    return (struct itc_stamp){id_sum(a, x.id, y.id), ev_join(a, x.ev, 0, y.ev, 0)};
}

struct itc_stamp itc_peek(struct itc_arena *a, struct itc_stamp s)
{
    (void)a;
    return (struct itc_stamp){&ID_ZERO, s.ev};
}

bool itc_leq(struct itc_stamp x, struct itc_stamp y)
{
    return ev_leq(x.ev, 0, y.ev, 0);
}

enum itc_order itc_compare(struct itc_stamp x, struct itc_stamp y)
{
    bool le = itc_leq(x, y), ge = itc_leq(y, x);
    if (le && ge)
        return ITC_EQUAL;
    if (le)
        return ITC_BEFORE;
    if (ge)
        return ITC_AFTER;
    return ITC_CONCURRENT;
}

bool itc_is_seed_like(struct itc_stamp s)
{
    return id_is_one(s.id) && ev_is_leaf(s.ev) && s.ev->n == 0;
}

/* ---- encoding ------------------------------------------------------------- */

struct writer {
    uint8_t *buf;
    size_t cap, pos; /* pos: bits while writing the id, bytes after */
    bool bad;
};

static void put_bit(struct writer *w, unsigned bit)
{
    size_t byte = w->pos / 8;
    if (byte >= w->cap) {
        w->bad = true;
        return;
    }
    if (w->pos % 8 == 0)
        w->buf[byte] = 0;
    w->buf[byte] |= (uint8_t)(bit << (w->pos % 8));
    w->pos++;
}

static void put_id(struct writer *w, const itc_id *i, int depth)
{
    if (w->bad)
        return;
    if (id_is_leaf(i)) {
        put_bit(w, 0);
        put_bit(w, i->v);
        return;
    }
    if (depth >= ITC_MAX_DEPTH) {
        w->bad = true;
        return;
    }
    put_bit(w, 1);
    put_id(w, i->l, depth + 1);
    put_id(w, i->r, depth + 1);
}

static void put_varint(struct writer *w, uint64_t v)
{
    do {
        if (w->pos >= w->cap) {
            w->bad = true;
            return;
        }
        uint8_t b = v & 0x7f;
        v >>= 7;
        w->buf[w->pos++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
}

static void put_ev(struct writer *w, const itc_ev *e, int depth, uint64_t base)
{
    if (w->bad)
        return;
    if (e->n > ITC_MAX_COUNT - base) {
        w->bad = true;
        return;
    }
    if (ev_is_leaf(e)) {
        put_varint(w, e->n << 1);
        return;
    }
    if (depth >= ITC_MAX_DEPTH) {
        w->bad = true;
        return;
    }
    put_varint(w, e->n << 1 | 1);
    put_ev(w, e->l, depth + 1, base + e->n);
    put_ev(w, e->r, depth + 1, base + e->n);
}

int itc_encode(struct itc_stamp s, uint8_t *buf, size_t cap)
{
    struct writer w = {buf, cap, 0, false};
    put_id(&w, s.id, 0);
    w.pos = (w.pos + 7) / 8;
    put_ev(&w, s.ev, 0, 0);
    if (w.bad || w.pos > INT_MAX)
        return -1;
    return (int)w.pos;
}

struct reader {
    struct itc_arena *a;
    const uint8_t *buf;
    size_t len, pos; /* pos: bits while reading the id, bytes after */
    bool bad;
};

static unsigned get_bit(struct reader *r)
{
    size_t byte = r->pos / 8;
    if (byte >= r->len) {
        r->bad = true;
        return 0;
    }
    unsigned bit = (r->buf[byte] >> (r->pos % 8)) & 1;
    r->pos++;
    return bit;
}

static const itc_id *get_id(struct reader *r, int depth)
{
    if (!get_bit(r)) {
        unsigned v = get_bit(r);
        return v ? &ID_ONE : &ID_ZERO;
    }
    if (r->bad || depth >= ITC_MAX_DEPTH) {
        r->bad = true;
        return &ID_ZERO;
    }
    const itc_id *l = get_id(r, depth + 1);
    if (r->bad)
        return &ID_ZERO;
    const itc_id *rt = get_id(r, depth + 1);
    if (r->bad)
        return &ID_ZERO;
    if (id_is_leaf(l) && id_is_leaf(rt) && l->v == rt->v) { /* not normalized */
        r->bad = true;
        return &ID_ZERO;
    }
    itc_id *n = arena_alloc(r->a, sizeof *n);
    if (!n) {
        r->bad = true;
        return &ID_ZERO;
    }
    n->l = l;
    n->r = rt;
    n->v = 0;
    return n;
}

static uint64_t get_varint(struct reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->pos >= r->len || shift > 63) {
            r->bad = true;
            return 0;
        }
        uint8_t b = r->buf[r->pos++];
        uint64_t bits = b & 0x7f;
        if (shift == 63 && bits > 1) { /* overflow */
            r->bad = true;
            return 0;
        }
        v |= bits << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0) /* overlong */
                r->bad = true;
            return v;
        }
    }
}

static const itc_ev *get_ev(struct reader *r, int depth, uint64_t base)
{
    uint64_t v = get_varint(r);
    if (r->bad)
        return &EV_ZERO;
    uint64_t n = v >> 1;
    if (n > ITC_MAX_COUNT - base) {
        r->bad = true;
        return &EV_ZERO;
    }
    if (!(v & 1)) {
        const itc_ev *e = ev_leaf(r->a, n);
        if (r->a->failed)
            r->bad = true;
        return e;
    }
    if (depth >= ITC_MAX_DEPTH) {
        r->bad = true;
        return &EV_ZERO;
    }
    const itc_ev *l = get_ev(r, depth + 1, base + n);
    if (r->bad)
        return &EV_ZERO;
    const itc_ev *rt = get_ev(r, depth + 1, base + n);
    if (r->bad)
        return &EV_ZERO;
    /* Normalized: children not equal leaves, and one of them has minimum 0. */
    if ((ev_is_leaf(l) && ev_is_leaf(rt) && l->n == rt->n) || (l->n != 0 && rt->n != 0)) {
        r->bad = true;
        return &EV_ZERO;
    }
    const itc_ev *e = ev_raw_node(r->a, n, l, rt);
    if (r->a->failed)
        r->bad = true;
    return e;
}

int itc_decode(struct itc_arena *a, const uint8_t *buf, size_t len, struct itc_stamp *out)
{
    if (len > INT_MAX)
        return -1;
    bool failed_before = a->failed;
    a->failed = false;
    struct reader r = {a, buf, len, 0, false};
    const itc_id *id = get_id(&r, 0);
    if (r.bad)
        goto fail;
    /* The padding bits of the id's last byte must be zero. */
    if (r.pos % 8 && (buf[r.pos / 8] >> (r.pos % 8)) != 0)
        goto fail;
    r.pos = (r.pos + 7) / 8;
    const itc_ev *ev = get_ev(&r, 0, 0);
    if (r.bad || r.pos != len)
        goto fail;
    a->failed = failed_before;
    *out = (struct itc_stamp){id, ev};
    return (int)len;
fail:
    a->failed = a->failed || failed_before;
    return -1;
}

/* ---- text ----------------------------------------------------------------- */

struct text {
    char *buf;
    size_t size, len;
};

static void put_char(struct text *t, char c)
{
    if (t->len + 1 < t->size)
        t->buf[t->len] = c;
    t->len++;
}

static void put_str(struct text *t, const char *s)
{
    while (*s)
        put_char(t, *s++);
}

static void put_u64(struct text *t, uint64_t v)
{
    char digits[20];
    int k = 0;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k > 0)
        put_char(t, digits[--k]);
}

static void format_id(struct text *t, const itc_id *i)
{
    if (id_is_leaf(i)) {
        put_char(t, i->v ? '1' : '0');
        return;
    }
    put_char(t, '{');
    format_id(t, i->l);
    put_str(t, ", ");
    format_id(t, i->r);
    put_char(t, '}');
}

static void format_ev(struct text *t, const itc_ev *e)
{
    if (ev_is_leaf(e)) {
        put_u64(t, e->n);
        return;
    }
    put_char(t, '{');
    put_u64(t, e->n);
    put_str(t, ", ");
    format_ev(t, e->l);
    put_str(t, ", ");
    format_ev(t, e->r);
    put_char(t, '}');
}

int itc_format(struct itc_stamp s, char *buf, size_t size)
{
    struct text t = {buf, size, 0};
    put_char(&t, '{');
    format_id(&t, s.id);
    put_str(&t, ", ");
    format_ev(&t, s.ev);
    put_char(&t, '}');
    if (size > 0)
        buf[t.len < size ? t.len : size - 1] = '\0';
    return t.len > INT_MAX ? INT_MAX : (int)t.len;
}
