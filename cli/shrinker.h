/*
 * cli/shrinker.h: reduces a failing scenario file to a smaller one that
 * still fails the same way: the same invariant (expectation kind), or a
 * deadlock.  Used by `clustersim shrink` and by `clustersim fuzz` on every
 * failure it records.
 */
#ifndef CLI_SHRINKER_H
#define CLI_SHRINKER_H

#include <stdbool.h>
#include <stdint.h>

#include "../sim/scenario.h"

/* Deadlock classes of stuck runs (docs/swarm-model.md): A a
 * wait-for cycle of three or more trackers, B a cycle of two; chains that
 * end at a tracker that is no longer syncing: C when it still holds the
 * waiter's parked request (it left syncing without serving it), M3b when the
 * waiter sits in awaiting_sync_ack (a stale parked request was served), M3a
 * when the request was dropped (the waiter missing from its nodes); other:
 * anything else. */
enum deadlock_class { DL_NONE = 0, DL_A, DL_B, DL_C, DL_M3A, DL_M3B, DL_OTHER, DL_COUNT };

struct run_result;
/* The class of a stuck run's wait-for graph (DL_NONE when not stuck). */
enum deadlock_class deadlock_class_of(const struct run_result *res);
/* "A", "B", "C", "M3a", "M3b", "other", or "-". */
const char *deadlock_class_name(enum deadlock_class d);

struct shrink_spec {
    const char *in_path;   /* the failing scenario */
    const char *out_path;  /* where the reduced scenario is written */
    uint64_t seed;         /* the seed it fails on */
    uint64_t search_seeds; /* an edit may move the witness to a seed in 1..this */
    bool goal_stuck;       /* the goal: a node gets stuck (in the deadlock class
                              of the input's run, which the result keeps) ... */
    enum sc_expect_kind goal_kind; /* ... or else this expectation fails */
    bool witness;          /* write `expect: [stuck: true]` (a deadlock to reproduce)
                              instead of keeping the file's expectations */
    unsigned max_trials;   /* stop editing after this many runs (0: no limit) */
    const char *command;   /* how it was invoked, for the header comment */
};

struct shrink_outcome {
    bool reproduced;       /* the input fails the goal on the seed at all */
    unsigned trials;
    size_t items_before, items_after;
    long nodes_before, nodes_after;
    uint64_t seed;         /* the seed the result fails on */
    double failed_at;      /* seconds: when the result got stuck (stuck goals) */
    char wait_for[512];    /* the result's wait-for graph (stuck goals) */
    enum deadlock_class deadlock; /* and its class */
    char detail[256];      /* the failing expectation's detail in the result */
};

/* Shrinks; returns 0 when the reduced file was written, 1 when the input
 * does not fail the goal on the seed, 2 on an I/O error. */
int shrink_scenario(const struct shrink_spec *spec, struct shrink_outcome *out);


#endif
