/*
 * tests/membership_harness.h: what the membership layer's tests
 * (tests/test_membership_*.c) share.  They run the membership layer
 * (core/membership.c, core/membership_gossip.c) on the simulator, with nodes of
 * the cluster protocol built from YAML scenarios, through the recording
 * fixture of fixture.h.  This harness owns:
 *
 *  - the captured log lines of every started node (in order, with node and
 *    virtual time), and the cmocka set-up and teardown that reset them;
 *  - the scenario builder: a YAML text from a few options (struct yopt),
 *    with fixed latencies (DNS 1 ms, links 1 ms, set-up 2 ms) so that round
 *    times follow from the polling interval: a fixed-mode round starts
 *    every interval + 1 ms (the next poll is armed when the answer is in);
 *  - node helpers (passive nodes, starting with captured logs) and
 *    observation helpers (views, links, the full mesh, discovered nodes,
 *    libcluster's log lines, the membership stats).
 */
#ifndef MEMBERSHIP_HARNESS_H
#define MEMBERSHIP_HARNESS_H

#include "../core/cluster.h"
#include "../core/membership_internal.h"
#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- captured log lines ---- */

/* One log line of a started node. */
struct cap_line {
    uint32_t node;
    cs_time at;
    char text[200];
};

/* The captured lines of the running test, and each node's own log
 * function (the capture passes every line on to it). */
struct cap_state {
    struct cap_line *v;
    size_t count, cap;
    void (*orig[FX_MAX_NODES])(struct cs_env *, enum cs_log_level, const char *);
};

/* The lines captured in the running test; reset by mt_setup and
 * mt_teardown. */
extern struct cap_state caps;

/* Index of the first line `text` logged by `node`, or -1. */
long log_index(uint32_t node, const char *text);

/* The cmocka set-up of every membership test: no captured lines, then the
 * fixture's set-up. */
int mt_setup(void **state);

/* The cmocka teardown of every membership test: frees the captured lines,
 * then the fixture's teardown.  Tests that run several worlds call
 * mt_teardown and mt_setup between them. */
int mt_teardown(void **state);

/* ---- scenarios ---- */

/* The options of a scenario (see build_yaml in membership_harness.c). */
struct yopt {
    const char *mode;       /* "fixed" or "libcluster" */
    unsigned nodes;         /* count (ignored when nodes_yaml is set) */
    const char *nodes_yaml; /* a node list in flow style */
    const char *cluster;    /* extra cluster lines */
    const char *membership; /* extra membership lines */
    const char *topology;   /* the topology, in flow style */
    const char *dns;        /* extra dns lines */
    bool zone;              /* A records of svc.local for every node */
    const char *zone_extra; /* extra zone items */
    const char *network;    /* extra network lines */
};

#define K8S_TOPOLOGY "{name: k8s, strategy: kubernetes_dns, query: svc.local, polling_interval: 1s}"
#define INTERVAL CS_SEC(1)
#define ROUND_PERIOD (INTERVAL + CS_MSEC(1)) /* fixed mode: interval + DNS latency */
#define SETUP_TIMEOUT CS_SEC(2)

/* The two membership modes, by index: 0 "fixed", 1 "libcluster". */
extern const char *const modes[2];

/* Opens the fixture's world on the scenario of these options, with `seed`. */
void open_world(struct fx *t, const struct yopt *o, uint64_t seed);

/* ---- nodes ---- */

/* Makes node i passive, before it starts: no topologies, so it discovers
 * nobody and only accepts links (every link it has was dialled by the
 * others). */
void make_passive(struct fx *t, uint32_t i);

/* Starts node i, capturing its log lines. */
void start(struct fx *t, uint32_t i);

/* Starts every node, in index order. */
void start_all(struct fx *t);

/* ---- observation ---- */

/* Node i's membership layer (fails the test when node i is not alive). */
struct membership *mem(struct fx *t, uint32_t i);

/* Node i's membership stats. */
const struct membership_stats *st(struct fx *t, uint32_t i);

/* Node i's name. */
const char *name(struct fx *t, uint32_t i);

/* Whether node i has a link up to node j. */
bool sees(struct fx *t, uint32_t i, uint32_t j);

/* How many links node i has up. */
size_t view(struct fx *t, uint32_t i);

/* True when every live node sees exactly every other live node. */
bool full_mesh(struct fx *t);

/* Runs in 1 ms steps until node i's view of j is `want`; the time, or -1
 * when it did not happen by `limit`. */
cs_time run_until_sees(struct fx *t, uint32_t i, uint32_t j, bool want, cs_time limit);

/* Whether node i's first topology has discovered `node`. */
bool discovered(struct fx *t, uint32_t i, const char *node);

/* How many nodes node i's first topology has discovered. */
size_t discovered_count(struct fx *t, uint32_t i);

/* Writes libcluster's log line "[libcluster:<topology>] <what> <node>"
 * into `buf`. */
void logline(char *buf, size_t size, const char *topology, const char *what, const char *node);

#endif
