/*
 * shims/posix/px_timers.h: one-shot timers of the real-socket node: a binary
 * heap ordered by (deadline, id) with lazy cancellation.
 */
#ifndef SHIMS_POSIX_PX_TIMERS_H
#define SHIMS_POSIX_PX_TIMERS_H

#include <stdbool.h>
#include <stddef.h>

#include "../../core/env.h"
#include "../../core/idmap.h"

struct px_timer {
    cs_time deadline;
    cs_timer_id id;
    uint64_t tag;
};

struct px_timers {
    struct px_timer *heap;
    size_t count, cap;
    struct cs_idmap live; /* id -> 1 while armed */
    cs_timer_id next_id;
};

void px_timers_init(struct px_timers *t);
void px_timers_free(struct px_timers *t);
/* Arms a timer; its id, or 0 out of memory. */
cs_timer_id px_timers_add(struct px_timers *t, cs_time deadline, uint64_t tag);
/* Disarms it (a no-op when it fired or was cancelled). */
void px_timers_cancel(struct px_timers *t, cs_timer_id id);
/* The earliest armed deadline, or -1 when none. */
cs_time px_timers_next(struct px_timers *t);
/* Pops the earliest armed timer due at or before `now` into *out. */
bool px_timers_pop_due(struct px_timers *t, cs_time now, struct px_timer *out);

#endif
