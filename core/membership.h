/*
 * core/membership.h: cluster membership in the spirit of libcluster: one or
 * more topologies, each a discovery strategy with its settings, reconciled
 * every round against the connection layer (core/conn.h): connect every
 * discovered node not yet connected, disconnect nodes that were discovered
 * before and vanished (for strategies that do), retry failed connects next
 * round.
 *
 * Two modes:
 * - MEM_LIBCLUSTER reproduces libcluster 3.5 including its weaknesses: a
 *   failed lookup counts as "no nodes" and disconnects every discovered
 *   node; a truncated DNS answer prunes the missing nodes; DNS strategies
 *   run two polling chains (twice per interval); connects are serial, each
 *   waiting for its outcome (up to the set-up timeout) before the next.
 * - MEM_FIXED (the default) keeps the previous view on a failed lookup,
 *   never prunes on a truncated answer (a node leaves only after it was
 *   missing from `absent_rounds` consecutive complete answers) and asks a
 *   truncated query again up to 4 times per round, merging the answers (as a
 *   resolver retries over TCP), polls once
 *   per interval, connects in parallel, and announces a graceful leave so
 *   peers drop a stopping node at once.
 *
 * The model, rule by rule, is docs/libcluster-model.md.
 *
 * Both modes log in libcluster's format:
 * `[libcluster:<topology>] connected to <node>`.
 */
#ifndef CS_MEMBERSHIP_H
#define CS_MEMBERSHIP_H

#include "addr.h"
#include "conn.h"

#define MEM_MAX_TOPOLOGIES 4
#define MEM_MAX_STATIC 64

enum membership_mode { MEM_FIXED = 0, MEM_LIBCLUSTER };

enum membership_strategy {
    MEM_STATIC = 0,     /* libcluster's Epmd: a fixed list of names */
    MEM_K8S_DNS,        /* A records of a headless service -> app@ip */
    MEM_K8S_DNS_SRV,    /* SRV records -> app@target */
    MEM_DNS_POLL,       /* A and AAAA records of any query -> app@ip */
    MEM_GOSSIP,         /* authenticated multicast heartbeats */
};

struct membership_topology_config {
    char name[32];
    enum membership_strategy strategy;
    char query[CS_DNS_NAME_MAX];   /* DNS strategies: the name to query */
    char app_name[64];             /* DNS strategies: basename of node names */
    cs_time polling_interval;      /* DNS strategies (5 s), static retry (0: none) */
    cs_time start_delay;           /* static and DNS: the first round runs this long after the
                                      node starts (0: at once, as libcluster's strategies do
                                      when their application starts) */
    char hosts[MEM_MAX_STATIC][CS_NODE_NAME_MAX]; /* static: node names */
    size_t host_count;
    struct cs_addr multicast;      /* gossip group (233.252.1.32) */
    uint16_t gossip_port;          /* 45892 */
    cs_time gossip_min, gossip_max;/* heartbeat spacing, uniform (1 s .. 5 s) */
};

struct membership_config {
    enum membership_mode mode;
    struct conn_config conn;
    struct membership_topology_config topologies[MEM_MAX_TOPOLOGIES];
    size_t topology_count;
    uint32_t absent_rounds;        /* fixed mode: complete answers missing a node before it leaves (3) */
};

/* What the membership tells the layer above it (the tracker). */
struct membership_callbacks {
    void *ctx;
    void (*nodeup)(void *ctx, const char *peer);
    void (*nodedown)(void *ctx, const char *peer, enum conn_down_reason why);
    /* A message from an up peer; `slot`: its number for conn_send_slot. */
    void (*message)(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len);
};

/* Counters, for tests, reports and operators. */
struct membership_stats {
    uint64_t rounds, lookups_failed, truncated_answers, connects, connect_failures;
    uint64_t disconnects, gossip_sent, gossip_accepted, gossip_bad_mac, gossip_replayed;
    uint64_t gossip_malformed;
};

struct membership;

/* Defaults: fixed mode, no topology, absent_rounds 3, conn defaults. */
void membership_config_defaults(struct membership_config *cfg);
/* Defaults of one topology of the given strategy (intervals, gossip group). */
void membership_topology_defaults(struct membership_topology_config *t, enum membership_strategy strategy);
/* The strategy's name as written in scenario files ("kubernetes_dns"). */
const char *membership_strategy_name(enum membership_strategy s);

/* Creates the membership of node `self` (it owns its connection layer).
 * It keeps a pointer to `cfg`, which must outlive it (a cluster node passes
 * its host's, core/proto.h: a config with 64 static hosts per topology is
 * 36 KB, too big to copy at every node start). */
struct membership *membership_new(struct cs_env *env, const struct membership_config *cfg, const char *self,
                           const struct membership_callbacks *cb);
/* Frees it. */
void membership_free(struct membership *m);
/* Starts polling, gossiping and connecting. */
void membership_start(struct membership *m);
/* Graceful stop (the node got CS_EV_STOP): no more polling, gossip or
 * dialling; fixed mode also announces LEAVE and closes every link
 * (libcluster's peers learn when the node's connections close). */
void membership_stop(struct membership *m);
/* The mode's name, "fixed" or "libcluster" (dumps, logs). */
const char *membership_mode_name(const struct membership *m);
/* Offers an event; true when it was the membership's (or its conn's). */
bool membership_handle(struct membership *m, const struct cs_event *ev);

/* The connection layer, for sending to peers and listing them. */
struct conn *membership_conn(struct membership *m);
/* True when no connection attempt to a discovered node is under way. */
bool membership_settled(const struct membership *m);
/* The counters. */
const struct membership_stats *membership_stats(const struct membership *m);

#endif
