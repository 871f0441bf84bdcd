/*
 * sim/world.h: the simulated world of one run: virtual time, the event
 * queue, the nodes and their lifecycle, and the handles of the network, DNS,
 * trace and checker models (each in its own file).  A run is a pure function
 * of (scenario, seed, build): every random draw comes from a PCG stream of
 * its own purpose, and events at the same instant run in scheduling order.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "../core/idmap.h"
#include "../core/proto.h"
#include "dns.h"
#include "evq.h"
#include "net.h"
#include "pcg.h"
#include "scenario.h"
#include "trace.h"

enum sim_node_state { SIM_NODE_DOWN = 0, SIM_NODE_UP, SIM_NODE_STOPPING };

struct sim_world;

/* A command's outcome as a node reported it (env->reply). */
struct sim_reply {
    uint32_t node, incarnation;
    cs_time at;
    char op[24], name[128], status[32], owner[128];
    int64_t value;
};

/* What the checks at an expectation's `at` instants saw. */
struct sim_instant {
    uint32_t judged, failed;
    char detail[240];  /* the first failure ("at 65s: ..."), else the last look */
};

/* What the checkers saw of one window expectation. */
struct sim_window {
    size_t checks, converged, isolated;
    cs_time first_miss;   /* first check not converged, -1 */
    cs_time first_hit;    /* first check isolated, -1 */
};

struct sim_node {
    uint32_t index;
    const char *id;              /* the scenario's pod id */
    enum sim_node_state state;
    uint32_t incarnation;        /* bumped at every start */
    struct cs_addr addr;
    char name[CS_NODE_NAME_MAX]; /* basename@address */
    uint64_t name_hash;          /* XXH3-64 of name (view digests) */
    struct cs_env env;
    void *instance;              /* the protocol instance while up */
    struct sim_world *world;
    struct pcg32 rng;            /* this node's own random stream */
    /* Clock: local = local_base + (t - virt_base) * (1 + ppm / 1e6). */
    cs_time local_base, virt_base;
    double drift_ppm;
    int64_t stop_slot;           /* queue slot of the grace deadline, or -1 */
    uint32_t groups[4];          /* multicast groups joined (IPv4, host order) */
    size_t group_count;
    cs_time started_at;
    cs_time ready_at;            /* when its service record is (to be) published */
    uint64_t events_handled;
    /* The no-loss observer's last look at this node (sim/invariants.c):
     * the incarnation and registry epoch it listed; valid when `observed`. */
    bool observed;
    uint32_t observed_incarnation;
    uint64_t observed_epoch;
};

/* Harness-level knobs of a run (not part of the scenario). */
struct sim_options {
    uint64_t seed;
    FILE *trace_file;         /* JSON lines of every event, or NULL */
    bool hash;                /* fold every event into w->hash (determinism check) */
    bool trace_ring;          /* keep the last trace lines (sim/trace.h) for a report */
    bool verbose;             /* print core log lines to stderr */
    const struct cs_proto *proto;   /* overrides the scenario's protocol */
    const void *proto_config;
    /* Binds a node's environment to the world (the sim shim). */
    void (*bind_env)(struct sim_world *w, struct sim_node *node);
    /* Report samples (sim/sampler.h) this often into trace_file; 0: none. */
    cs_time sample_every;
    /* Explored run: choices instead of time order (sim/explore.h), or NULL. */
    struct sim_explore *explore;
    /* A ring memo to share with other runs (a fuzz worker's seeds), or NULL
     * for one of the world's own: a pure memo, so placement is the same. */
    struct ring_memo *ring_memo;
    /* Run the protocol's consistency check (cs_proto.check) after every
     * event a node handles; the first failure fails the run. */
    bool check_internal;
};

struct sim_stats {
    uint64_t events, timers_fired, messages_delivered, messages_dropped;
    uint64_t dgrams_delivered, dgrams_lost, dgrams_duplicated, dns_queries;
    uint64_t links_opened, links_broken;
    uint64_t peak_queue;   /* most events ever waiting at once */
};

struct sim_world {
    const struct scenario *sc;
    struct sim_options opt;
    const struct cs_proto *proto;
    const void *proto_config;
    cs_time now;                 /* virtual time */
    struct sim_evq queue;
    struct sim_node *nodes;
    size_t node_count;
    uint32_t next_address;       /* pool offset of the next new address */
    struct cs_idmap addr_index;  /* address key -> node index */
    uint32_t next_timer_id, next_query_id;
    struct pcg32 rng_network, rng_dgram, rng_dns, rng_faults, rng_schedule;
    struct pcg_bytes entropy;    /* the scenario's recorded entropy, if any */
    struct sim_net net;
    struct sim_dns dns;
    struct sim_trace trace;
    uint64_t hash;               /* the events so far (opt.hash; sim_world_hash) */
    struct sim_stats stats;
    cs_time last_fault;
    size_t actions_pending;      /* timeline occurrences not yet run */
    bool stop_requested;
    struct sim_adversary *adversary; /* sim/adversary.h, once an adversary action ran */
    char internal_failure[320];  /* the first broken internal consistency rule, or "" */
    enum sim_budget { SIM_BUDGET_NONE = 0, SIM_BUDGET_EVENTS, SIM_BUDGET_WALL } budget_hit;
    cs_time wall_started;        /* monotonic ns when the run loop first ran */
    /* Checker state (sim/check.c). */
    cs_time converged_since;     /* -1 when not converged at the last check */
    cs_time first_stuck_at;      /* -1 when never stuck */
    /* The last queued event the stuck check found able to move a live node
     * (slot and sequence number; seq UINT64_MAX: none): tried first next
     * time, since it usually still can, before the queue is searched. */
    uint32_t mover_slot;
    uint64_t mover_seq;
    bool ever_stuck;
    bool *excluded;              /* per node: left out of convergence */
    struct sim_reply *replies;   /* every command reply, in order */
    size_t reply_count, reply_cap;
    struct sim_window *windows;  /* per expectation (window kinds only) */
    struct sim_instant *instants; /* per expectation (those with `at`) */
    struct sim_holders *holders; /* no-loss checker: who held which started name */
    struct ring_memo *ring_memo; /* point hashes shared by the nodes' rings */
    bool owns_ring_memo;
    uint64_t checks;
};

/* Builds the world for one run of `sc` (which must outlive it); NULL when
 * out of memory. Nothing runs until sim_world_run. */
struct sim_world *sim_world_new(const struct scenario *sc, const struct sim_options *opt);

/* Runs until the run limit, the event limit, or an early stop; returns the
 * number of events processed. */
uint64_t sim_world_run(struct sim_world *w);

/* Carries out one event popped from the queue (the run loop's step), and
 * folds it into w->hash when opt.hash is on. */
void sim_dispatch(struct sim_world *w, const struct sim_event *ev);

/* Runs the events due up to and including virtual time `t`. */
void sim_world_run_until(struct sim_world *w, cs_time t);

/* Frees the world and every node instance. */
void sim_world_free(struct sim_world *w);

/* Schedules an event (time, kind, node... filled by the caller); returns its
 * queue slot. */
int64_t sim_schedule(struct sim_world *w, const struct sim_event *ev);

/* Delivers a core event to a node's protocol instance, if it is running the
 * given incarnation; returns false when the node is gone. */
bool sim_deliver(struct sim_world *w, uint32_t node, uint32_t incarnation, const struct cs_event *ev);

/* The node listening at an address, or NULL. */
struct sim_node *sim_node_at(struct sim_world *w, const struct cs_addr *addr);

/* True while the node runs (up or stopping). */
bool sim_node_alive(const struct sim_node *n);

/* Node lifecycle, as the timeline or a test drives it. */
void sim_node_start(struct sim_world *w, uint32_t node);
void sim_node_kill(struct sim_world *w, uint32_t node);
void sim_node_stop(struct sim_world *w, uint32_t node, cs_time grace);
/* Starts a node that is down `after` from now (a pod that takes that long
 * to come up; nothing happens if it is up by then). */
void sim_node_boot(struct sim_world *w, uint32_t node, cs_time after);
void sim_node_restart(struct sim_world *w, uint32_t node, cs_time downtime, bool new_address,
                      bool crash, cs_time grace);
/* Called (through the env) when a stopping node finished its shutdown. */
void sim_node_stopped(struct sim_world *w, uint32_t node);

/* The node's clock reading at the current virtual time. */
cs_time sim_node_clock(const struct sim_world *w, const struct sim_node *n);
/* Converts a delay on the node's clock into virtual time. */
cs_time sim_node_delay_to_virtual(const struct sim_node *n, cs_time delay);
/* Jumps a node's clock by `delta` (may be negative). */
void sim_node_clock_jump(struct sim_world *w, uint32_t node, cs_time delta);
/* Changes a node's clock rate error. */
void sim_node_clock_rate(struct sim_world *w, uint32_t node, double ppm);

/* Arms and cancels node timers (used by the sim shim). */
cs_timer_id sim_timer_start(struct sim_world *w, uint32_t node, cs_time delay, uint64_t tag);
void sim_timer_cancel(struct sim_world *w, cs_timer_id timer);

#endif
