/*
 * shims/posix/px_timers.c: the timer heap (see px_timers.h).
 */
#include "px_timers.h"

#include <stdlib.h>

#include "../../core/grow.h"

void px_timers_init(struct px_timers *t)
{
    t->heap = NULL;
    t->count = t->cap = 0;
    t->next_id = 0;
    cs_idmap_init(&t->live);
}

void px_timers_free(struct px_timers *t)
{
    free(t->heap);
    cs_idmap_free(&t->live);
    px_timers_init(t);
}

static bool earlier(const struct px_timer *a, const struct px_timer *b)
{
    return a->deadline != b->deadline ? a->deadline < b->deadline : a->id < b->id;
}

static void swap(struct px_timer *a, struct px_timer *b)
{
    struct px_timer x = *a;
    *a = *b;
    *b = x;
}

cs_timer_id px_timers_add(struct px_timers *t, cs_time deadline, uint64_t tag)
{
    if (cs_grow((void **)&t->heap, &t->cap, t->count + 1, sizeof *t->heap) != 0)
        return 0;
    cs_timer_id id = ++t->next_id;
    if (id == 0)
        id = ++t->next_id;
    if (cs_idmap_put(&t->live, id, 1) != 0)
        return 0;
    size_t i = t->count++;
    t->heap[i] = (struct px_timer){deadline, id, tag};
    while (i > 0 && earlier(&t->heap[i], &t->heap[(i - 1) / 2])) {
        swap(&t->heap[i], &t->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return id;
}

void px_timers_cancel(struct px_timers *t, cs_timer_id id)
{
    cs_idmap_del(&t->live, id);
}

static void pop_top(struct px_timers *t)
{
    t->heap[0] = t->heap[--t->count];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->count && earlier(&t->heap[l], &t->heap[m]))
            m = l;
        if (r < t->count && earlier(&t->heap[r], &t->heap[m]))
            m = r;
        if (m == i)
            return;
        swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
}

/* Drops cancelled timers from the top. */
static void skip_cancelled(struct px_timers *t)
{
    while (t->count && cs_idmap_get(&t->live, t->heap[0].id) < 0)
        pop_top(t);
}

cs_time px_timers_next(struct px_timers *t)
{
    skip_cancelled(t);
    return t->count ? t->heap[0].deadline : -1;
}

bool px_timers_pop_due(struct px_timers *t, cs_time now, struct px_timer *out)
{
    skip_cancelled(t);
    if (!t->count || t->heap[0].deadline > now)
        return false;
    *out = t->heap[0];
    cs_idmap_del(&t->live, out->id);
    pop_top(t);
    return true;
}
