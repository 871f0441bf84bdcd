/*
 * real/internal.h: the state of one real-world run, shared by run.c (the
 * world, the timeline) and observe.c (probes, convergence, stuck nodes,
 * the verdicts).
 */
#ifndef REAL_INTERNAL_H
#define REAL_INTERNAL_H

#include "../sim/pcg.h"
#include <stdio.h>

#include "daemons.h"
#include "dns.h"
#include "netns.h"
#include "real.h"

enum rr_kind {
    RR_ACTION = 0,  /* an occurrence of a timeline action */
    RR_SPAWN,       /* a node's process starts (after its boot) */
    RR_DNS_UP,      /* a pod's records are published */
    RR_DNS_DOWN,    /* a pod's records are withdrawn */
    RR_HEAL,        /* a partition with a duration heals */
    RR_DNS_RESTORE, /* a DNS outage ends */
    RR_KILL_LATE,   /* a graceful stop's grace ran out */
    RR_BREAK,       /* a partition's links are noticed broken (break_detect) */
};

struct rr_event {
    cs_time at;
    enum rr_kind kind;
    size_t action, node;
    uint64_t occurrence;
    uint32_t incarnation;
    struct cs_addr addr;
};

struct rr_node {
    struct rdm_node d;
    struct cs_addr addr;
    uint32_t incarnation;
    bool up;        /* its process runs and was not told to stop */
    bool stopping;  /* SIGTERM sent, not yet exited */
    struct rdm_probe probe;
    char last_key[600];
    cs_time last_change;
};

struct rr_instant {
    uint8_t judged, failed;
    char detail[200];
};

struct rr_run {
    const struct scenario *sc;
    struct real_options opt;
    char dir[600];
    struct rn_world net;
    struct rd_server dns;
    struct rr_node *nodes;
    size_t n;
    struct rr_event *ev;
    size_t ev_count, ev_cap;
    struct pcg32 rng;
    uint32_t pool_next;
    double t0;                 /* monotonic seconds at time 0 */
    cs_time now, last_fault;
    /* observation */
    cs_time converged_since;   /* -1: not converged now */
    bool converged;
    char unconverged[256];
    bool ever_stuck;
    cs_time first_stuck_at;
    struct rdm_reply *replies;
    size_t reply_count, reply_cap;
    struct sim_window windows[RUN_MAX_EXPECT];
    struct rr_instant instants[RUN_MAX_EXPECT];
    uint64_t probes;
    bool no_netem;             /* the kernel cannot delay packets */
    char world_error[256];     /* the first failure of the world itself (dnsmasq), or "" */
    /* the observed trace (trace.c) */
    FILE *trace;
    struct XXH3_state_s *trace_hash;
    uint64_t trace_lines;
};

/* run.c */
void rr_schedule(struct rr_run *r, const struct rr_event *e);

/* observe.c */
/* Probes every node and updates convergence, windows, instants and stuck. */
void rr_observe(struct rr_run *r);
/* True when the run may end early (stop_when_settled). */
bool rr_settled(const struct rr_run *r, bool actions_left);
/* True when node i is left out of convergence (scenario `excluded`). */
bool excluded_node(const struct rr_run *r, size_t i);
/* The registry summary of the live counted nodes. */
struct sim_registry_summary;
void rr_registries(const struct rr_run *r, struct sim_registry_summary *s);
/* Records a command reply. */
void rr_note_reply(void *ctx, const struct rdm_reply *rep);
/* Fills the verdicts and the outcome of `res`. */
void rr_judge(struct rr_run *r, struct run_result *res);

/* trace.c: the observed trace (trace.jsonl in the run's directory), in the
 * simulator's trace format so that the run report reads it. */
/* Creates the file and writes the `run` header. */
void rt_open(struct rr_run *r);
/* A node's lifecycle record: node_start, node_stop, node_crash, node_exit. */
void rt_node(struct rr_run *r, size_t i, const char *kind);
/* A timeline action on the resolved nodes; `until` (or -1) ends a window. */
void rt_action(struct rr_run *r, const struct sc_action *a, const size_t *set, size_t count, cs_time until);
/* Node i's probe: a sample, and a tracker_state record when its tracker
 * state is not `previous_tracker`. */
void rt_probe(struct rr_run *r, size_t i, const char *previous_tracker);
/* The first time nodes got stuck. */
void rt_stuck(struct rr_run *r, size_t stuck_nodes);
/* Every live node's last dump, the end record; closes the file. */
void rt_close(struct rr_run *r);

#endif
