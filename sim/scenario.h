/*
 * sim/scenario.h: the in-memory form of a scenario file: the cluster, the
 * network and DNS models, the timeline of actions, the expectations and the
 * run limits.  config/scenario/loader.c fills it from YAML; the simulator and the
 * checkers read it.  Every element remembers the line and column it came
 * from, so later errors can point at the file.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "../core/addr.h"
#include "../core/cluster.h"
#include "../core/ping.h"
#include "dist.h"

#define SC_ID_MAX 32
#define SC_MAX_NODES 10000 /* the network model keeps a node x node matrix */
#define SC_REAL_MAX_NODES 64 /* the real world: a namespace and a daemon per node */

struct sc_pos {
    int line, col; /* 1-based; 0 when built by code */
};

struct sc_node {
    char id[SC_ID_MAX];   /* the pod's identity in the scenario ("n1") */
    struct cs_addr addr;  /* first address; family 0 = taken from the pool */
    double drift_ppm;     /* clock rate error, parts per million */
    cs_time clock_offset; /* what the node's clock reads at virtual time 0 */
    char secret[128];     /* protocol cluster: overrides the cluster secret */
    bool has_secret;
    struct sc_pos pos;
};

enum sc_protocol { SC_PROTO_PING = 0, SC_PROTO_CLUSTER };

/* How nodes are named: basename@ip, or basename@<id>.<dns service> (the
 * stable host names a StatefulSet behind a headless service gets). */
enum sc_naming { SC_NAMING_IP = 0, SC_NAMING_HOSTNAME };

struct sc_cluster {
    char basename[64];
    size_t node_count;
    struct sc_node *nodes;
    struct cs_addr pool;  /* addresses are handed out after this one */
    uint32_t pool_next;   /* pool offset of the next address to hand out */
    enum sc_protocol protocol;
    enum sc_naming naming;
    struct ping_config ping;
    struct cs_addr *ping_static; /* owned storage behind ping.static_peers */
    struct cluster_config cluster;        /* protocol: cluster */
    struct cluster_config *node_cluster;  /* per node, when some node overrides */
};

struct sc_network {
    struct sim_dist latency;      /* one-way delay of a link message */
    struct sim_dist connect_time; /* connection set-up */
    cs_time break_detect;         /* a cut link is noticed after this */
    cs_time crash_detect;         /* a crashed peer's links drop after this */
    cs_time connect_timeout;      /* a connect to an unreachable node fails */
    struct sim_dist dgram_latency;
    double dgram_loss, dgram_duplicate, dgram_reorder;
    struct sim_dist reorder_delay; /* extra delay of a reordered datagram */
};

struct sc_dns_entry {
    char name[CS_DNS_NAME_MAX];
    struct cs_dns_record rec;
};

struct sc_dns {
    struct sim_dist latency;   /* resolver round trip */
    struct sim_dist propagation; /* zone change -> visible to resolvers (drawn per change) */
    uint32_t ttl_s;            /* TTL of records published for pods */
    size_t max_answers;        /* 0 = no truncation */
    cs_time timeout;           /* unanswered queries fail after this */
    struct sc_dns_entry *zone; /* initial records */
    size_t zone_count;
    char service[CS_DNS_NAME_MAX]; /* headless service name, or "" */
    struct sim_dist ready_delay;   /* pod start -> its record is published (drawn per pod) */
    struct sim_dist removal_delay; /* pod gone -> its record is withdrawn (drawn per pod) */
    bool service_srv;          /* also an SRV record per pod -> <id>.<service> */
    uint16_t service_port;     /* the SRV records' port */
};

/* A set of nodes named by an action: explicit indices, all, or k chosen at
 * random (from the schedule stream) among those the action can apply to. */
struct sc_nodeset {
    bool all;
    size_t random_count;
    size_t count;
    uint32_t *idx;
};

enum sc_action_kind {
    SC_ACT_START = 0,
    SC_ACT_KILL,
    SC_ACT_STOP,
    SC_ACT_RESTART,
    SC_ACT_PARTITION,
    SC_ACT_HEAL,
    SC_ACT_CLOG,
    SC_ACT_DNS_ADD,
    SC_ACT_DNS_REMOVE,
    SC_ACT_DNS_FAIL,
    SC_ACT_CLOCK_JUMP,
    SC_ACT_CLOCK_RATE,
    SC_ACT_COMMAND,
    SC_ACT_ADVERSARY,
};

/* What an adversary does on each connection it opens (sim/adversary.h). */
enum sc_attack {
    SC_ATTACK_WRONG_PROOF = 0, /* HELLO claiming a name, then a REPLY of zeros */
    SC_ATTACK_REPLAYED_PROOF,  /* HELLO, then the last genuine REPLY seen on the network */
    SC_ATTACK_HELLO_FLOOD,     /* HELLO, then silence until the target gives up */
    SC_ATTACK_ABANDON,         /* connect and close at once */
    SC_ATTACK_OVERSIZED,       /* a 4 KiB frame before any handshake */
    SC_ATTACK_LOOP,            /* the issue-19 loop: wrong proof, two abandoned
                                  connections, a second HELLO for the same name */
};

/* An adversary action: from a host node's address, without the secret. */
struct sc_adversary {
    uint32_t host;          /* the node whose address the connections come from */
    int32_t claim_node;     /* claim this node's current name; -1: claim_name */
    char claim_name[128];   /* a literal name ("" and claim_node -1: the host's name) */
    enum sc_attack attack;
    uint32_t connections;   /* per target per occurrence */
};

struct sc_action {
    enum sc_action_kind kind;
    cs_time at, every, until; /* every 0: once; else repeat while <= until */
    struct sc_pos pos;
    struct sc_nodeset nodes;  /* subject: start/kill/..., partition side a, clog from */
    struct sc_nodeset peers;  /* partition side b, clog to (empty: all others) */
    bool oneway;              /* partition: only nodes -> peers is cut */
    cs_time duration;         /* partition, clog, dns_fail: heal after; 0 = never */
    cs_time grace;            /* stop: grace period */
    bool has_boot;            /* start: each node boots after its own draw of `boot` */
    struct sim_dist boot;     /* start: how long a pod takes to come up */
    cs_time downtime;         /* restart: how long the pod is gone */
    bool new_address;         /* restart: the pod comes back on a new IP */
    bool crash;               /* restart: kill -9 first instead of stopping */
    struct sc_dns_entry dns;  /* dns_add / dns_remove */
    enum cs_dns_status fail_mode; /* dns_fail */
    cs_time jump;             /* clock_jump (may be negative) */
    double rate_ppm;          /* clock_rate */
    char op[32], name[128], arg[256]; /* command */
    int64_t value;
    struct sc_adversary adv;  /* adversary */
};

enum sc_expect_kind {
    SC_EXP_CONVERGED = 0, /* converged within T after the last fault, and at the end */
    SC_EXP_STUCK,         /* a live node ends stuck (a deadlock is expected) */
    SC_EXP_NOT_STUCK,     /* no live node is ever stuck */
    SC_EXP_NO_DUPLICATES, /* once converged, every name has one owner */
    SC_EXP_STUCK_FRACTION,/* over a seed range, the stuck fraction lies in [min, max] */
    SC_EXP_STABLE,        /* converged at every check in [from, to] */
    SC_EXP_UNSTABLE,      /* not converged at some check in [from, to] */
    SC_EXP_ISOLATED,      /* at some check in [from, to] no live node sees any peer */
    SC_EXP_REGISTERED,    /* at the end every live node holds exactly `count` names */
    SC_EXP_REPLY,         /* a node's last reply to a command matches */
    SC_EXP_DUPLICATES,    /* at the end live nodes disagree on owners (a bug reproduced) */
    SC_EXP_NO_LOSS,       /* at the end no registration is lost and no deletion undone */
    SC_EXP_PLACEMENT,     /* at the end every started process lives on its ring owner */
    SC_EXP_WHEREIS,       /* every live node holds `name` with one same owner (`owner`, if given) */
    SC_EXP_LOSERS_KILLED, /* at the end no process runs under a name its node gives another */
    SC_EXP_KIND_COUNT
};

#define SC_EXPECT_AT_MAX 16

struct sc_expect {
    enum sc_expect_kind kind;
    cs_time within;
    cs_time from, to;     /* window expectations */
    uint64_t count, count_max; /* registered: between count and count_max */
    /* reply: the last reply of `node` to `op` on `name` */
    uint32_t node;
    char op[24], name[128], status[32];
    int32_t owner;        /* expected owner node, -1: not checked */
    bool has_value;
    int64_t value;
    double min, max;
    double quantile;      /* converged: over the seed range, this share of seeds
                             converged within `within` (0: every seed must) */
    /* registered, no_duplicates, duplicates: judged at these instants
     * (after every event already queued for each) instead of at the end */
    cs_time at[SC_EXPECT_AT_MAX];
    uint8_t at_count;
    unsigned worlds;      /* SC_WORLD_* bits it is judged in; 0: every world the scenario runs in */
    struct sc_pos pos, worlds_pos;
};

/* Every run's budgets unless the scenario sets its own: far above any
 * shipped scenario (the largest runs a few million events in seconds), so
 * only a runaway run meets them, and it is reported as such. */
#define SC_DEFAULT_MAX_EVENTS 200000000ULL
#define SC_DEFAULT_WALL CS_SEC(600)

struct sc_limits {
    cs_time duration;        /* virtual time the run lasts */
    uint64_t max_events;     /* the event budget (default SC_DEFAULT_MAX_EVENTS) */
    cs_time wall;            /* the wall-clock budget (default SC_DEFAULT_WALL) */
    cs_time check_interval;  /* how often checkers look at the cluster */
    bool stop_when_settled;  /* end early once converged after the last fault */
};

/* The worlds a scenario runs in (`worlds: [sim, real]`; default sim). */
enum sc_world { SC_WORLD_SIM = 1, SC_WORLD_REAL = 2 };

/* True when expectation `e` is judged in `world` (an expectation's own
 * `worlds` key narrows the scenario's). */
static inline bool sc_expect_in_world(const struct sc_expect *e, enum sc_world world)
{
    return !e->worlds || (e->worlds & (unsigned)world);
}

struct scenario {
    char path[512];
    unsigned worlds;       /* SC_WORLD_* bits */
    struct sc_pos worlds_pos;
    char name[128];
    char description[512];
    uint64_t seed; /* default seed when none is given on the command line */
    uint8_t *entropy;     /* recorded entropy (`entropy:` hex): replaces PCG draws */
    size_t entropy_len;
    struct sc_cluster cluster;
    struct sc_network net;
    struct sc_dns dns;
    struct sc_action *actions;
    size_t action_count;
    struct sc_expect *expects;
    size_t expect_count;
    /* Nodes left out of convergence (e.g. one with the wrong secret): they
     * must see no one and no one may see them. */
    uint32_t *excluded;
    size_t excluded_count;
    struct sc_limits limits;
};

/* Fills `sc` with defaults (no nodes, no actions, documented model values). */
void scenario_defaults(struct scenario *sc);

/* Frees everything `sc` owns (not `sc` itself). */
void scenario_free(struct scenario *sc);

/* Gives every node without an explicit address the next free address of
 * the pool (pool + 1, pool + 2, ... skipping explicit ones); -1 when two
 * nodes share an address or the pool overflows. */
int scenario_assign_addresses(struct scenario *sc);

/* Computes the next free pool address into `out`, skipping addresses for
 * which `taken(ctx, addr)` is true, and advances *offset; -1 on overflow. */
int scenario_pool_address(const struct scenario *sc, uint32_t *offset,
                          bool (*taken)(void *ctx, const struct cs_addr *a), void *ctx,
                          struct cs_addr *out);

/* Writes the name node `idx` has at address `addr` (see enum sc_naming). */
void scenario_node_name(const struct scenario *sc, size_t idx, const struct cs_addr *addr, char *buf,
                        size_t size);

/* The protocol configuration node `idx` starts with. */
const void *scenario_node_config(const struct scenario *sc, size_t idx);

/* The index of the node with this id, or -1. */
int scenario_node_index(const struct scenario *sc, const char *id);

/* The virtual time of the last fault of the timeline: the latest occurrence
 * of any action other than a command, plus its duration when it heals by
 * itself.  0 when there is none. */
cs_time scenario_last_fault(const struct scenario *sc);

/* True if the scenario has an expectation of this kind. */
bool scenario_expects(const struct scenario *sc, enum sc_expect_kind kind);

/* The name of an action kind as written in files ("kill", "dns_fail", ...). */
const char *sc_action_name(enum sc_action_kind kind);

#endif
