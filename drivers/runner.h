/*
 * drivers/runner.h: one run of one scenario on one seed, and the verdict of its
 * expectations.  This is what `clustersim run`, the tests and the benchmark
 * call; it owns no output format (reports/ does).
 */
#ifndef SIM_RUNNER_H
#define SIM_RUNNER_H

#include <stdio.h>

#include "../sim/scenario.h"
#include "../sim/world.h"

#define RUN_MAX_EXPECT 32

struct ring_memo;

struct run_options {
    uint64_t seed;
    FILE *trace_file;  /* every event as JSON lines, or NULL */
    bool trace_hash;   /* compute the run's determinism hash, of its events (on in the CLI) */
    bool verbose;      /* core log lines on stderr */
    cs_time sample_every; /* report samples into trace_file this often (0: none) */
    const struct cs_proto *proto; /* override the scenario's protocol (tests) */
    const void *proto_config;
    struct ring_memo *ring_memo;  /* shared with other runs, or NULL (sim/world.h) */
    /* Check the protocol's internal consistency after every event.  Always
     * on for a scenario with an adversary, and in builds compiled with
     * CS_CHECK_INTERNAL (the sanitizer build). */
    bool check_internal;
    /* Sum the protocol's counters over live nodes into res->counters (a
     * few thousand instructions a run: only for those who print them). */
    bool counters;
    /* A failed run without a trace file runs again with the trace recorder
     * on, for res->last_events (and checks it gives the same hash and event
     * count).  With a trace file a failed or stuck run has them anyway. */
    bool last_events;
};

struct run_expect_result {
    enum sc_expect_kind kind;
    struct sc_pos pos;
    bool ok;
    bool per_seed;     /* false: judged over a seed range by the caller */
    char detail[256];
};

#define RUN_MAX_COUNTERS 32

/* The protocol's counters (cs_proto.counters) summed over the nodes live at
 * the end, in the order first met. */
struct run_counters {
    size_t count;
    struct {
        char name[40];
        uint64_t value;
    } items[RUN_MAX_COUNTERS];
};

/* The counter's sum, 0 when no node reported it. */
uint64_t run_counter(const struct run_counters *c, const char *name);

struct run_result {
    uint64_t seed;
    bool pass;             /* every per-seed expectation holds */
    uint64_t events;
    cs_time end_time;      /* virtual time when the run ended */
    double wall_seconds;
    uint64_t trace_hash;   /* the determinism hash of the run's events, or 0 */
    uint64_t trace_lines;  /* lines the trace recorder wrote (0 with it off) */
    cs_time last_fault;
    bool converged;        /* at the end of the run */
    cs_time converged_after; /* since the last fault, or -1 */
    bool stuck;
    cs_time stuck_at;
    char *stuck_report;    /* stuck nodes and their state dumps, or NULL */
    char wait_for[512];    /* the wait-for cycle among stuck nodes ("n1 -> n2 -> n1"), or "" */
    char wait_head[1024];  /* state dump of the last waiter in wait_for, or "" */
    char wait_tail[1024];  /* state dump of the node it waits on (the last one), or "" */
    char *last_events;     /* the last trace lines of a failed run (run_options.last_events), or NULL */
    char *final_dumps;     /* every live node's state dump at the end (verbose runs), or NULL */
    char unconverged[256]; /* why not converged, or "" */
    char budget[160];      /* "" or which budget stopped the run (then it fails) */
    char internal[320];    /* "" or the first broken internal consistency rule (then it fails) */
    bool has_registry;     /* the protocol reports registries */
    bool registries_agree; /* every live node holds the same registry */
    size_t registry_min, registry_max; /* names per live node */
    bool digest_drift;     /* a kept registry digest differs from a full recount */
    char *registry_diff;   /* when registries disagree: the names, with each live node's owner */
    struct sim_stats stats;
    struct run_counters counters; /* summed over live nodes at the end (run_options.counters) */
    size_t expect_count;
    struct run_expect_result expects[RUN_MAX_EXPECT];
    struct sim_window windows[RUN_MAX_EXPECT]; /* what window expectations saw */
};

/* Runs `sc` once; fills `res` (free it with run_result_free). Returns 0, or
 * -1 when the world could not be built (out of memory). */
int sim_run_scenario(const struct scenario *sc, const struct run_options *opt, struct run_result *res);

/* Frees what a result owns. */
void run_result_free(struct run_result *res);

/* The name of an expectation kind as written in files. */
const char *sc_expect_name(enum sc_expect_kind kind);

#endif
