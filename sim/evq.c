/*
 * sim/evq.c: a 4-ary min-heap of (time, key) pairs over a slab of event
 * bodies.  Four children per node halve the depth of a binary heap and keep
 * siblings in one cache line, which matters at millions of events a second.
 */
#include "evq.h"

#include <stdlib.h>

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define ARITY 4

void sim_evq_init(struct sim_evq *q)
{
    q->heap = NULL;
    q->count = q->capacity = 0;
    q->slab = NULL;
    q->free_slots = NULL;
    q->slab_capacity = q->free_count = 0;
    q->next_seq = 0;
}

void sim_evq_free(struct sim_evq *q)
{
    for (size_t i = 0; i < q->count; i++)
        free(q->slab[q->heap[i].key & SLOT_MASK].payload);
    free(q->heap);
    free(q->slab);
    free(q->free_slots);
    sim_evq_init(q);
}

/* (time, key) as one unsigned 128-bit number, so that picking the earliest
 * of four children is a run of branch-free compares. */
static inline unsigned __int128 order_of(const struct sim_evq_entry *e)
{
    uint64_t t = (uint64_t)e->time ^ (1ULL << 63); /* signed -> unsigned order */
    return (unsigned __int128)t << 64 | e->key;
}

static inline bool earlier(const struct sim_evq_entry *a, const struct sim_evq_entry *b)
{
    return order_of(a) < order_of(b);
}

static int grow_slab(struct sim_evq *q)
{
    size_t cap = q->slab_capacity ? q->slab_capacity * 2 : 1024;
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

int64_t sim_evq_push(struct sim_evq *q, const struct sim_event *ev)
{
    if (q->free_count == 0 && grow_slab(q) != 0)
        return -1;
    if (q->count == q->capacity) {
        size_t cap = q->capacity ? q->capacity * 2 : 1024;
        struct sim_evq_entry *h = realloc(q->heap, cap * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->capacity = cap;
    }
    uint32_t slot = q->free_slots[--q->free_count];
    struct sim_event *body = &q->slab[slot];
    *body = *ev;
    body->seq = q->next_seq++;
    struct sim_evq_entry e = {ev->time, (body->seq << SLOT_BITS) | slot};
    size_t i = q->count++;
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!earlier(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return slot;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (q->count == 0)
        return false;
    uint32_t slot = (uint32_t)(q->heap[0].key & SLOT_MASK);
    *out = q->slab[slot];
    q->free_slots[q->free_count++] = slot;
    struct sim_evq_entry last = q->heap[--q->count];
    size_t i = 0, n = q->count;
    for (;;) {
        size_t first = ARITY * i + 1;
        if (first >= n)
            break;
        size_t best = first;
        size_t end = first + ARITY < n ? first + ARITY : n;
        unsigned __int128 best_order = order_of(&q->heap[first]);
        for (size_t c = first + 1; c < end; c++) {
            unsigned __int128 o = order_of(&q->heap[c]);
            bool less = o < best_order;
            best = less ? c : best;
            best_order = less ? o : best_order;
        }
        if (!earlier(&q->heap[best], &last))
            break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    if (n > 0)
        q->heap[i] = last;
    return true;
}

cs_time sim_evq_peek_time(const struct sim_evq *q)
{
    return q->count ? q->heap[0].time : CS_TIME_NEVER;
}

struct sim_event *sim_evq_get(struct sim_evq *q, uint32_t slot)
{
    return &q->slab[slot];
}

void sim_evq_each(struct sim_evq *q, void (*fn)(void *ctx, const struct sim_event *ev), void *ctx)
{
    for (size_t i = 0; i < q->count; i++)
        fn(ctx, &q->slab[q->heap[i].key & SLOT_MASK]);
}
