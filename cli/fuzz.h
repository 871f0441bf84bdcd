/*
 * cli/fuzz.h: the pieces of `clustersim fuzz`: one seed's run and its
 * verdict (fuzz_seed.c), and the campaign summary with its JSON form and
 * merging of shard summaries (fuzz_summary.c).  The command itself (workers,
 * sharding, output) is cli/cmd_fuzz.c.
 */
#ifndef CLI_FUZZ_H
#define CLI_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../sim/fuzzgen.h"
#include "shrinker.h"

struct ring_memo;

/* What a failing seed broke, most telling first. */
enum fuzz_invariant {
    FI_STUCK = 0,     /* a live node got stuck (a deadlock) */
    FI_DUPLICATES,    /* live nodes disagree on owners at the end */
    FI_LOSS,          /* a registration lost or a deletion undone */
    FI_PLACEMENT,     /* a started process off its ring owner */
    FI_CONVERGED,     /* no convergence within the bound after healing */
    FI_CRASH,         /* the run died (sanitizer report, assertion, signal) */
    FI_GENERATOR,     /* the generated file did not load (a generator bug) */
    FI_COUNT,
};

const char *fuzz_invariant_name(enum fuzz_invariant inv);
/* The invariant written `name`, or -1. */
int fuzz_invariant_find(const char *name);

struct fuzz_config {
    struct fuzz_request req;    /* profile, mode, node range (seed set per run) */
    const char *out_dir;        /* failures go to OUT/failures/ */
    unsigned shrink_per_kind;   /* shrink the first this many failures per kind (per worker) */
    unsigned shrink_trials;     /* trial budget of each shrink */
    unsigned reports_per_kind;  /* write a run report for the first this many failures per kind
                                   (per worker); UINT_MAX: every failure */
};

struct fuzz_seed_result {
    uint64_t seed;
    bool pass;
    enum fuzz_invariant invariant; /* when failing */
    enum deadlock_class deadlock;
    uint32_t nodes, faults;
    uint64_t events;
    double virtual_seconds, wall_seconds;
    char detail[256];
    char file[512];             /* the failing scenario, or "" */
    char shrunk[512];           /* its shrunk form, or "" */
    char report[512];           /* its run report (index.html), or "" */
    long shrunk_nodes;
    size_t shrunk_items;
};

/* Per-worker state: what was shrunk and reported already, and the ring
 * memo its seeds share (node point hashes are a pure function of the name,
 * and the names repeat from seed to seed; NULL: each run makes its own). */
struct fuzz_worker {
    unsigned used[FI_COUNT][DL_COUNT];
    unsigned reported[FI_COUNT][DL_COUNT];
    struct ring_memo *ring_memo;
};

/* Generates, runs and judges one seed; on failure writes the scenario, its
 * trace and (within the worker's budget) its shrunk form. Returns 0, or -1
 * when the scenario could not be generated at all (out of memory). */
int fuzz_run_seed(const struct fuzz_config *cfg, uint64_t seed, struct fuzz_worker *worker,
                  struct fuzz_seed_result *res);

/* Writes the scenario YAML of one seed (what fuzz_run_seed runs) to f; its
 * shape into *shape when not NULL. */
int fuzz_write_seed_scenario(const struct fuzz_config *cfg, uint64_t seed, FILE *f, struct fuzz_shape *shape);

/* Encodes / decodes a seed result as one tab-separated line (the pipe from
 * a worker to the parent). */
void fuzz_result_encode(const struct fuzz_seed_result *r, char *buf, size_t size);
int fuzz_result_decode(const char *line, struct fuzz_seed_result *r);

/* The campaign's totals. */
struct fuzz_summary {
    char profile[32], mode[16];
    uint64_t seeds, passed, events;
    double virtual_seconds, wall_seconds;
    uint64_t by_invariant[FI_COUNT];
    uint64_t deadlocks[DL_COUNT];
    char state[32];             /* "complete", "running" (a checkpoint) or
                                   "interrupted by SIGINT" / "... SIGTERM" */
    struct fuzz_seed_result *failures; /* every failing seed */
    size_t failure_count, failure_cap;
};

/* Adds one seed's result. */
void fuzz_summary_add(struct fuzz_summary *s, const struct fuzz_seed_result *r);
/* Writes the summary as JSON to path; 0 on success. */
int fuzz_summary_write(const struct fuzz_summary *s, const char *path);
/* Adds a JSON summary file into s (merging shards); 0, or -1 with a message
 * in err. */
int fuzz_summary_merge_file(struct fuzz_summary *s, const char *path, char *err, size_t size);
/* Prints the totals readably. */
void fuzz_summary_print(const struct fuzz_summary *s, FILE *f);
void fuzz_summary_free(struct fuzz_summary *s);

#endif
