/*
 * sim/fuzzgen.h: random scenarios for `clustersim fuzz`.  A profile says
 * which fault kinds may appear and how big the cluster is; each seed then
 * draws, swarm-testing style, which of those kinds are on and how often, and
 * writes a self-contained scenario YAML: the generated timeline itself (one
 * item per line, explicit node ids, no random node sets), so that the file
 * replays without the generator and survives changes to it.  Every fault
 * ends before the heal point; the file then heals everything, starts every
 * pod that is down, and expects convergence and the safety invariants.
 */
#ifndef SIM_FUZZGEN_H
#define SIM_FUZZGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcg.h"

struct sc_action;

/* Fault kinds a profile may turn on (bit flags). */
enum fuzz_fault {
    FZ_CRASH = 1u << 0,      /* kill -9, pod replaced (new address) or back later */
    FZ_STOP = 1u << 1,       /* graceful stop, then a replacement */
    FZ_ROLLING = 1u << 2,    /* rolling restart of every pod */
    FZ_PARTITION = 1u << 3,  /* symmetric, one-way, isolate-one, majority/minority, bridge */
    FZ_CLOG = 1u << 4,       /* clogged links, and swizzle-clogging */
    FZ_DNS = 1u << 5,        /* slow DNS, outages, truncated answers, late propagation */
    FZ_DATAGRAM = 1u << 6,   /* gossip discovery with lost, duplicated, reordered datagrams */
    FZ_CLOCK = 1u << 7,      /* clock-rate differences between nodes */
    FZ_TRAFFIC = 1u << 8,    /* registry commands throughout */
    FZ_STAGGER = 1u << 9,    /* start times spread over seconds instead of a storm */
    FZ_ALL = (1u << 10) - 1,
    /* Not in FZ_ALL (the default profile's draws stay as they were): an
     * attacker on members' addresses (sim/adversary.h), its own profile. */
    FZ_ADVERSARY = 1u << 10,
};

struct fuzz_profile {
    const char *name;
    const char *summary;
    uint32_t min_nodes, max_nodes;
    uint32_t faults;          /* kinds this profile may draw */
    bool swarm_testing;       /* each seed turns each kind on with p = 1/2 */
    int64_t duration_ns;      /* virtual time of each run */
    int64_t heal_at_ns;       /* faults end by then; heal and start all */
    int64_t converge_within_ns;
    bool draw_timings;        /* each seed also draws the link tick timeout, the gossip
                                 interval (otherwise 4 s and 200 ms..1 s) and, in fixed
                                 mode, a replication batch window (otherwise none) */
};

/* The named profile, or NULL. */
const struct fuzz_profile *fuzz_profile_find(const char *name);
/* Writes the names of all profiles, one per line with a summary. */
void fuzz_profile_list(char *buf, size_t size);

/* Where the generator's choices come from: a PCG stream (seeded fuzzing),
 * or the bytes of a coverage-guided fuzzer's input (zeros once used up). */
struct fuzz_entropy {
    struct pcg32 pcg;
    const uint8_t *bytes;
    size_t len, pos;
};
/* Seeds the entropy from a fuzz seed (its own PCG purpose). */
void fuzz_entropy_seed(struct fuzz_entropy *e, uint64_t seed);
/* Draws from input bytes instead. */
void fuzz_entropy_bytes(struct fuzz_entropy *e, const uint8_t *bytes, size_t len);
/* A number in [0, bound) (0 when bound is 0). */
uint32_t fuzz_below(struct fuzz_entropy *e, uint32_t bound);

enum fuzz_mode { FZ_MODE_FIXED = 0, FZ_MODE_SWARM };

struct fuzz_request {
    const struct fuzz_profile *profile;
    enum fuzz_mode mode;
    uint32_t min_nodes, max_nodes; /* 0: the profile's */
    uint64_t seed;                 /* written into the file */
};

/* What one generated scenario contains (for summaries and file names). */
struct fuzz_shape {
    uint32_t nodes;
    uint32_t faults;            /* the kinds this seed turned on */
    size_t timeline_items;
};

/* Generates the scenario YAML of `req` drawing from `e`; returns a malloc'd
 * NUL-terminated text (its length in *len), or NULL out of memory. */
char *fuzz_generate(const struct fuzz_request *req, struct fuzz_entropy *e, size_t *len,
                    struct fuzz_shape *shape);

/* A generated scenario in two forms: the complete YAML file (what a
 * failure writes and a replay reads), and the same scenario split for a
 * fast start: the file without its timeline items (`rest`), plus the
 * timeline as the loader would read it from the complete file (`actions`,
 * in file order, positions included).  Loading `rest` and taking `actions`
 * gives the scenario of `text` without parsing a hundred timeline lines
 * (tests/test_fuzz.c checks that they agree).  `text` is NULL when it was
 * not asked for: a fuzz run writes it only for a failing seed, generating
 * that seed again (the draws do not depend on it). */
struct fuzz_scenario {
    char *text;
    size_t len;
    char *rest;
    size_t rest_len;
    struct sc_action *actions; /* node sets owned here until taken */
    size_t action_count;
};

/* Generates the scenario of `req`: `rest` and `actions`, and `text` when
 * `with_text`; 0, or -1 out of memory. */
int fuzz_generate_parts(const struct fuzz_request *req, struct fuzz_entropy *e, struct fuzz_scenario *out,
                        struct fuzz_shape *shape, bool with_text);

/* Frees what fuzz_generate_parts made (and the actions still held). */
void fuzz_scenario_free(struct fuzz_scenario *s);

/* Writes the names of the kinds in `faults` ("crash,partition,...") into buf. */
void fuzz_fault_names(uint32_t faults, char *buf, size_t size);
/* The kinds named in `text` as fuzz_fault_names writes them (unknown names
 * and "none" add nothing). */
uint32_t fuzz_fault_parse(const char *text);

#endif
