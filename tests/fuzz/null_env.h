/*
 * tests/fuzz/null_env.h: an environment for fuzz targets that drive core/
 * directly: time stands still unless the target advances it, every send
 * succeeds and goes nowhere, and armed timers are remembered so the target
 * can fire them.  Nothing is logged or traced.
 */
#ifndef FUZZ_NULL_ENV_H
#define FUZZ_NULL_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/env.h"

#define NULL_ENV_TIMERS 64

struct null_timer {
    cs_timer_id id;
    uint64_t tag;
    cs_time at;
};

struct null_env {
    struct cs_env env;
    cs_time now;
    uint64_t random_state;
    uint32_t next_id;
    struct null_timer timers[NULL_ENV_TIMERS];
    size_t timer_count;
};

/* Prepares the environment of a node at `self` (an IPv4 address text). */
void null_env_init(struct null_env *n, const char *self);

/* Fires, in deadline order, every armed timer due within `advance` from
 * now, through `handle(instance, event)`; returns how many fired. */
size_t null_env_fire(struct null_env *n, cs_time advance, void (*handle)(void *instance, const struct cs_event *ev),
                     void *instance);

#endif
