/*
 * sim/explore.h: controlled runs for exhaustive exploration.  Instead of
 * taking events in time order with sampled delays, an explored run offers
 * a choice at every step among the events that could come next: any message
 * in flight (the head of each link direction, so links stay FIFO), any
 * datagram, DNS answer or connection set-up, and the earliest timers and
 * timeline actions (ties among them are choices too); and at every protocol
 * decision (env->choose, such as a sync node pick).  A run follows a given
 * prefix of choices, then takes the first alternative everywhere, and
 * records what it chose and how many alternatives each choice point had, so
 * a depth-first driver (cli/cmd_explore.c) can enumerate every schedule.
 * Timers a protocol declares unable to move it (keep-alive ticks, polls) are
 * never offered: exploration looks at what the protocol under test decides.
 */
#ifndef SIM_EXPLORE_H
#define SIM_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_world;

enum sim_explore_end {
    SIM_EXPLORE_LEAF = 0, /* nothing left that could happen */
    SIM_EXPLORE_PRUNED,   /* reached a state an earlier run already explored */
    SIM_EXPLORE_DEPTH,    /* hit the depth bound */
};

struct sim_explore {
    const uint32_t *prefix;   /* choices to follow first */
    size_t prefix_len;
    size_t max_depth;         /* choice points per run */
    int64_t from;             /* virtual time at which choices start (warm-up before) */
    bool reduce;              /* partial-order reduction (see sim_explore_run) */
    uint32_t *choices;        /* what this run chose (owned, grown) */
    uint32_t *branching;      /* how many alternatives each choice point had */
    size_t depth, cap;
    enum sim_explore_end end;
    /* Returns true when `hash` was seen before, and remembers it. */
    bool (*seen)(void *ctx, uint64_t hash);
    void *ctx;
    uint64_t final_hash;      /* the state hash where the run ended */
    uint64_t steps;
    /* The first prefix choice that was out of range (1-based; 0: none), and
     * how many alternatives there were: a schedule from another scenario. */
    size_t stale_at;
    uint32_t stale_branching;
};

/* Runs the world under exploration until a leaf, a known state or the depth
 * bound (the world must have been created with opt.explore set). */
void sim_explore_run(struct sim_world *w);

/* Answers a protocol decision during an explored run (env->choose). */
uint64_t sim_explore_choose(struct sim_world *w, uint64_t bound);

/* Frees what a run recorded. */
void sim_explore_free(struct sim_explore *ex);

#endif
