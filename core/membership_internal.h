/*
 * core/membership_internal.h: private state of the membership, shared by
 * membership.c (rounds, connecting, DNS and static strategies),
 * membership_mode.c (what differs between the modes) and
 * membership_gossip.c (the gossip strategy).
 */
#ifndef CS_MEMBERSHIP_INTERNAL_H
#define CS_MEMBERSHIP_INTERNAL_H

#include "auth.h"
#include "membership.h"
#include "refmap.h"

enum membership_timer { MEMBERSHIP_TIMER_POLL = 1, MEMBERSHIP_TIMER_GOSSIP, MEMBERSHIP_TIMER_SERIAL_GUARD };

/* fixed mode: how often a truncated answer is asked again within a round. */
#define MEM_TRUNCATED_RETRIES 4

/* A set of node names with a per-name counter (absent rounds, or gossip
 * replay state), indexed by a string map. */
/* What a set keeps with each name. */
struct name_info {
    uint32_t absent;       /* complete DNS answers missing it in a row */
    uint32_t seen_round;   /* answer sets: the last round whose records named it */
};

/* What a gossip topology remembers of each sender's heartbeats (kept only
 * in the sets that name_set_keep_heard marked: a DNS set of a thousand
 * names has no use for it). */
struct heard_info {
    uint32_t creation;     /* the sender's incarnation */
    uint32_t old_creation; /* its previous incarnation (replays refused) */
    uint64_t old_counter;  /* the highest counter accepted from old_creation */
    uint64_t counter;      /* the highest counter accepted */
    uint64_t linked_epoch; /* conn_peer_epoch + 1 when it was last found up
                              or connecting (0: not since it was added) */
};

struct name_set {
    struct cs_refmap index; /* names -> their index */
    char **names;        /* owned copies */
    struct name_info *info; /* per name, same index */
    struct heard_info *heard; /* per name, same index, in a set that keeps them; else NULL */
    bool keeps_heard;
    size_t count, cap;
    uint64_t version;    /* bumped whenever a name comes or goes */
};

struct topo {
    const struct membership_topology_config *cfg; /* in the membership's config */
    struct name_set discovered;  /* libcluster's "previous" */
    /* A DNS round in progress. */
    bool round_active;
    bool second_chain;  /* libcluster: the extra polling chain is running */
    int round_chain;
    int queued_chains[4];
    size_t queued;
    cs_query_id queries[2];
    size_t queries_pending;
    bool round_failed, round_truncated;
    uint32_t truncated_retries;
    /* The round's answer as a set.  It is not emptied when a round starts:
     * each record stamps its name with the round (answer_round), and when
     * the round ends the names no record stamped leave.  A steady answer,
     * in whatever order its records come (servers rotate them), changes
     * nothing and allocates nothing; names new to the set come after the
     * others, in record order. */
    struct name_set answer;
    uint32_t answer_round;
    /* Address memo: the answer index of the name behind each A/AAAA
     * address seen (open addressing, at most half full; index -1: a free
     * cell), so that a known address is taken without formatting its name,
     * in whatever order the records come.  Any name leaving the answer
     * voids it (indices move). */
    struct answer_memo { struct cs_addr addr; int32_t index; } *memo;
    size_t memo_cap, memo_count;
    /* libcluster mode: the serial connect queue of the round. */
    char (*serial)[CS_NODE_NAME_MAX];
    size_t serial_count, serial_next;
    char waiting_for[CS_NODE_NAME_MAX];
    uint64_t serial_epoch;
    /* gossip */
    uint64_t gossip_counter;
    /* Memos of work that would change nothing (fixed mode): the answer and
     * discovered versions of the last reconcile that found every
     * discovered name in the answer, and the discovered version and the
     * connection layer's peer epoch of the last pass that found no name to
     * connect to.  0: none. */
    uint64_t quiet_answer_version, quiet_discovered_version;
    uint64_t settled_discovered_version, settled_peer_epoch;
};

/* One mode's rules (membership_mode.c). */
struct membership_mode_ops {
    const char *name;        /* "libcluster" or "fixed" */
    bool hello_decides;      /* the connection layer settles a simultaneous
                                connect on the unproven HELLO (conn.h) */
    bool serial_connects;    /* DNS strategies connect one node at a time,
                                each waiting for its outcome; the round
                                ends with the last */
    bool second_poll_chain;  /* k8s DNS strategies run an extra polling chain */
    bool retries_truncated;  /* a truncated answer is asked again
                                (MEM_TRUNCATED_RETRIES per round) */
    bool announces_leave;    /* a graceful stop announces LEAVE (peers drop
                                the node at once) before the links close */
    /* A lookup round was answered (or failed: t->round_failed): bring the
     * discovered set in line with t->answer, disconnecting who left. */
    void (*reconcile)(struct membership *m, struct topo *t);
};

/* The table of a configured mode. */
const struct membership_mode_ops *membership_mode_of(enum membership_mode mode);

struct membership {
    struct cs_env *env;
    const struct membership_config *cfg; /* the creator's, which outlives it */
    const struct membership_mode_ops *mode; /* cfg->mode's rules */
    struct membership_callbacks cb;
    char self[CS_NODE_NAME_MAX];
    uint32_t creation;
    struct conn *conn;
    struct topo topos[MEM_MAX_TOPOLOGIES];
    size_t topo_count;
    struct cs_tag_key gossip_key;
    bool stopping;
    struct membership_stats stats;
};

/* A membership timer tag: the topology in bits 40-47 of the argument. */
#define MEM_TAG(kind, topo, arg) CS_TAG(CS_TAG_MEM, kind, ((uint64_t)(topo) << 40) | (uint64_t)(arg))

/* name_set helpers (membership.c). */
void name_set_init(struct name_set *s);
/* Makes an empty set keep a heard_info per name (gossip topologies). */
void name_set_keep_heard(struct name_set *s);
void name_set_free(struct name_set *s);
void name_set_clear(struct name_set *s);
/* Index of the name, adding it when absent; -1 out of memory. */
int32_t name_set_add(struct name_set *s, const char *name);
int32_t name_set_find(const struct name_set *s, const char *name);
void name_set_remove(struct name_set *s, const char *name);

/* Connects a discovered node the way the mode does it (membership.c). */
void membership_connect_discovered(struct membership *m, struct topo *t);
/* A name left the discovered set: counted, and its link closed (membership.c). */
void membership_disconnect_vanished(struct membership *m, struct topo *t, const char *name);
/* Forgets the answer's address memo (its indices moved) (membership.c). */
void membership_memo_void(struct topo *t);

/* Gossip strategy (membership_gossip.c). */
void membership_gossip_start(struct membership *m, size_t ti);
void membership_gossip_tick(struct membership *m, size_t ti);
/* Offers a datagram to the gossip topologies; true when it was gossip. */
bool membership_gossip_datagram(struct membership *m, const uint8_t *data, size_t len);

#endif
