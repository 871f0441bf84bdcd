/*
 * sim/evq.c: the event queue as a radix heap over a slab of event bodies.
 *
 * Every queued time is at or after `last`, the earliest.  An event goes to
 * bucket 0 when its time equals `last`, else to bucket 1 + the index of the
 * highest bit in which its time differs from `last`.  When bucket 0 runs
 * dry, the lowest non-empty bucket is emptied: its earliest time becomes
 * `last` and each of its events drops to a lower bucket, those at `last`
 * into bucket 0.  Ties run in scheduling order without a sort: events of
 * equal time always share a bucket, enter it in sequence order (a push is
 * later than everything queued; a spill fills empty buckets, keeping its
 * order) and leave it in that order.  A push before `last` (the simulator
 * never makes one, but the queue does not rely on it) re-buckets everything,
 * bucket by bucket, which keeps that order too.
 */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define SIGN_BIT (1ULL << 63)

static inline uint64_t unsigned_time(cs_time t)
{
    return (uint64_t)t ^ SIGN_BIT; /* signed -> unsigned order */
}

static inline cs_time signed_time(uint64_t u)
{
    return (cs_time)(u ^ SIGN_BIT);
}

static inline unsigned bucket_of(uint64_t utime, uint64_t last)
{
    uint64_t diff = utime ^ last;
    return diff ? 64u - (unsigned)__builtin_clzll(diff) : 0u;
}

void sim_evq_init(struct sim_evq *q)
{
    memset(q, 0, sizeof *q);
}

static void each_entry(struct sim_evq *q, void (*fn)(void *ctx, struct sim_evq_entry *e), void *ctx)
{
    struct sim_evq_bucket *zero = &q->buckets[0];
    for (uint32_t i = q->head; i < zero->count; i++)
        fn(ctx, &zero->items[i]);
    for (unsigned b = 1; b < SIM_EVQ_BUCKETS; b++)
        for (uint32_t i = 0; i < q->buckets[b].count; i++)
            fn(ctx, &q->buckets[b].items[i]);
}

static void free_payload(void *ctx, struct sim_evq_entry *e)
{
    struct sim_evq *q = ctx;
    free(q->slab[e->key & SLOT_MASK].payload);
}

void sim_evq_free(struct sim_evq *q)
{
    each_entry(q, free_payload, q);
    for (unsigned b = 0; b < SIM_EVQ_BUCKETS; b++)
        free(q->buckets[b].items);
    free(q->slab);
    free(q->free_slots);
    sim_evq_init(q);
}

static int grow_slab(struct sim_evq *q)
{
    size_t cap = q->slab_capacity ? q->slab_capacity * 2 : 64; /* most runs queue a few dozen events */
    if (cap > (size_t)SLOT_MASK + 1)
        return -1;
    struct sim_event *slab = realloc(q->slab, cap * sizeof *slab);
    if (!slab)
        return -1;
    q->slab = slab;
    uint32_t *fs = realloc(q->free_slots, cap * sizeof *fs);
    if (!fs)
        return -1;
    q->free_slots = fs;
    /* Push new slots so that the lowest index is handed out first. */
    for (size_t i = cap; i > q->slab_capacity; i--)
        q->free_slots[q->free_count++] = (uint32_t)(i - 1);
    q->slab_capacity = cap;
    return 0;
}

static int bucket_reserve(struct sim_evq_bucket *b, uint32_t extra)
{
    if (b->count + extra <= b->capacity)
        return 0;
    uint32_t cap = b->capacity ? b->capacity : 16;
    while (cap < b->count + extra)
        cap *= 2;
    struct sim_evq_entry *items = realloc(b->items, cap * sizeof *items);
    if (!items)
        return -1;
    b->items = items;
    b->capacity = cap;
    return 0;
}

/* Appends to a bucket; -1 when out of memory. */
static inline int bucket_append(struct sim_evq *q, unsigned b, struct sim_evq_entry e)
{
    struct sim_evq_bucket *bk = &q->buckets[b];
    if (__builtin_expect(bk->count == bk->capacity, 0) && bucket_reserve(bk, 1) != 0)
        return -1;
    bk->items[bk->count++] = e;
    if (b)
        q->nonempty |= 1ULL << (b - 1);
    return 0;
}

/* Makes bucket 0 hold the earliest events; false when the queue is empty
 * (or, out of memory, cannot make it). */
static bool settle(struct sim_evq *q)
{
    struct sim_evq_bucket *zero = &q->buckets[0];
    if (q->head < zero->count)
        return true;
    zero->count = q->head = 0;
    if (!q->nonempty)
        return false;
    unsigned from = 1u + (unsigned)__builtin_ctzll(q->nonempty);
    struct sim_evq_bucket *src = &q->buckets[from];
    uint64_t earliest = UINT64_MAX;
    for (uint32_t i = 0; i < src->count; i++)
        earliest = src->items[i].utime < earliest ? src->items[i].utime : earliest;
    q->last = earliest;
    /* Every event of bucket `from` lands in a lower bucket. */
    q->nonempty &= ~(1ULL << (from - 1));
    uint32_t n = src->count;
    src->count = 0;
    for (uint32_t i = 0; i < n; i++)
        if (bucket_append(q, bucket_of(src->items[i].utime, earliest), src->items[i]) != 0)
            return false;
    return true;
}

/* A push before `last`: every queued event goes back through the buckets
 * relative to the new, earlier `last`. */
static int rebase(struct sim_evq *q, uint64_t utime)
{
    struct sim_evq_entry *all = malloc((q->count ? q->count : 1) * sizeof *all);
    if (!all)
        return -1;
    size_t n = 0;
    struct sim_evq_bucket *zero = &q->buckets[0];
    for (uint32_t i = q->head; i < zero->count; i++)
        all[n++] = zero->items[i];
    zero->count = q->head = 0;
    for (unsigned b = 1; b < SIM_EVQ_BUCKETS; b++) {
        if (q->buckets[b].count) /* (an unused bucket has no array) */
            memcpy(all + n, q->buckets[b].items, q->buckets[b].count * sizeof *all);
        n += q->buckets[b].count;
        q->buckets[b].count = 0;
    }
    q->nonempty = 0;
    q->last = utime;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (bucket_append(q, bucket_of(all[i].utime, utime), all[i]) != 0) {
            rc = -1;
            break;
        }
    }
    free(all);
    return rc;
}

int64_t sim_evq_push(struct sim_evq *q, const struct sim_event *ev)
{
    if (q->free_count == 0 && grow_slab(q) != 0)
        return -1;
    uint64_t utime = unsigned_time(ev->time);
    if (utime < q->last && rebase(q, utime) != 0)
        return -1;
    uint32_t slot = q->free_slots[q->free_count - 1];
    uint64_t key = (q->next_seq << SLOT_BITS) | slot;
    if (bucket_append(q, bucket_of(utime, q->last), (struct sim_evq_entry){utime, key}) != 0)
        return -1;
    q->free_count--;
    struct sim_event *body = &q->slab[slot];
    *body = *ev;
    body->seq = q->next_seq++;
    q->count++;
    return slot;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (!settle(q))
        return false;
    struct sim_evq_bucket *zero = &q->buckets[0];
    uint32_t slot = (uint32_t)(zero->items[q->head++].key & SLOT_MASK);
    if (q->head < zero->count) { /* the next body, pushed long ago: fetched while this one runs */
        const char *next = (const char *)&q->slab[zero->items[q->head].key & SLOT_MASK];
        __builtin_prefetch(next);
        __builtin_prefetch(next + sizeof(struct sim_event) - 1);
    }
    *out = q->slab[slot];
    q->slab[slot].seq = UINT64_MAX; /* no longer queued (sim_evq_queued) */
    q->free_slots[q->free_count++] = slot;
    q->count--;
    return true;
}

bool sim_evq_queued(const struct sim_evq *q, uint32_t slot, uint64_t seq)
{
    return slot < q->slab_capacity && seq != UINT64_MAX && q->slab[slot].seq == seq;
}

cs_time sim_evq_peek_time(struct sim_evq *q)
{
    return settle(q) ? signed_time(q->last) : CS_TIME_NEVER;
}

struct sim_event *sim_evq_get(struct sim_evq *q, uint32_t slot)
{
    return &q->slab[slot];
}

struct sim_event *sim_evq_find(struct sim_evq *q, bool (*match)(void *ctx, const struct sim_event *ev), void *ctx)
{
    for (unsigned b = 0; b < SIM_EVQ_BUCKETS; b++) {
        const struct sim_evq_bucket *bk = &q->buckets[b];
        for (uint32_t i = b == 0 ? q->head : 0; i < bk->count; i++) {
            struct sim_event *ev = &q->slab[bk->items[i].key & SLOT_MASK];
            if (match(ctx, ev))
                return ev;
        }
    }
    return NULL;
}

struct each_ctx {
    struct sim_evq *q;
    void (*fn)(void *ctx, const struct sim_event *ev);
    void *ctx;
};

static void each_event(void *ctx, struct sim_evq_entry *e)
{
    struct each_ctx *c = ctx;
    c->fn(c->ctx, &c->q->slab[e->key & SLOT_MASK]);
}

void sim_evq_each(struct sim_evq *q, void (*fn)(void *ctx, const struct sim_event *ev), void *ctx)
{
    struct each_ctx c = {q, fn, ctx};
    each_entry(q, each_event, &c);
}
