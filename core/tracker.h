/*
 * core/tracker.h: the cluster-wide registry and its tracker, in the spirit
 * of the Elixir library Swarm (reference: docs/swarm-model.md).
 * Every node holds the full name table; the tracker keeps it in agreement
 * over the links the membership brings up (nodeup / nodedown), places
 * started processes on a consistent hash ring, hands them off when the ring
 * changes and restarts them when their node dies.
 *
 * Two modes:
 * - TRK_SWARM reproduces Swarm 3.4 faithfully, bugs included: the states
 *   cluster_wait / syncing / awaiting_sync_ack / tracking, the postpone
 *   rule, parked sync requests, the name tie-break, and with them the
 *   syncing deadlocks A, B and C.
 * - TRK_FIXED (the default) keeps the data model, API and vocabulary but no
 *   state waits without a timeout, every parked request is answered,
 *   departed nodes' requests are dropped, deletions propagate (tombstones)
 *   and duplicates after a partition are always resolved.  Design and the
 *   argument why it cannot deadlock: core/README.md.
 *
 * In C a "process" is a named handle owned by a node; the built-in process
 * kind is a counter (start with a value, increment, read).
 */
#ifndef CS_TRACKER_H
#define CS_TRACKER_H

#include "env.h"

enum trk_mode { TRK_FIXED = 0, TRK_SWARM };
enum trk_state { TRK_CLUSTER_WAIT = 0, TRK_SYNCING, TRK_AWAITING_SYNC_ACK, TRK_TRACKING };

struct trk_config {
    enum trk_mode mode;
    cs_time sync_nodes_timeout;    /* 5 s: cluster_wait -> cluster_join */
    cs_time anti_entropy_interval; /* 300 s */
    cs_time retry_interval;        /* 1 s between "is the tracker up there?" checks */
    uint32_t retry_max;            /* 10 */
    cs_time start_delay;           /* the tracker starts this long after the node */
    cs_time start_jitter;          /* ... plus a uniform random extra up to this */
    uint32_t static_quorum;        /* 0: plain Ring; else StaticQuorumRing */
    cs_time sync_timeout;          /* fixed mode: no sync waits longer (10 s) */
    cs_time batch_window;          /* fixed mode: replicated events made within this long
                                      travel as one batch frame (0, the default: those
                                      one tracker event brings about, a lone one as its
                                      own frame; fixed_batch.c) */
    cs_time placement_settle;      /* fixed mode: a started process moves to a new ring
                                      owner once the node list has been still this long
                                      (1 s; 0: at once, as Swarm moves it) */
    cs_time pull_timeout;          /* fixed mode: a pull of a peer's entries unanswered
                                      this long is given up and queued again (1 s) */
};

/* Callbacks from the tracker to the node that hosts it. */
struct trk_host {
    void *ctx;
    /* Sends a tracker message to a peer over its link; -1 if not up.
     * `slot` is the number the host gave the peer's messages
     * (trk_message_from), -1 until one came. */
    int (*send)(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len);
    /* Lists the peers connected now (what Erlang's Node.list() gives); the
     * tracker takes them when it starts. May be NULL. */
    void (*each_peer)(void *ctx, void (*fn)(void *fctx, const char *peer), void *fctx);
};

/* A command's outcome, reported through env->trace kind "reply" and kept as
 * the tracker's last reply (for tests). */
struct trk_reply {
    char op[24];
    char name[128];
    char status[32];   /* ok, already_started, not_found, no_node_available, timeout, error */
    char owner[128];   /* the owner node of the name, when known */
    int64_t value;     /* counter value, member count, ... */
};

struct tracker;

/* Swarm's defaults: mode fixed, timeouts as in Swarm, no start delay. */
void trk_config_defaults(struct trk_config *cfg);

/* Creates the tracker of node `self`; it starts after cfg->start_delay. */
struct tracker *trk_new(struct cs_env *env, const struct trk_config *cfg, const char *self,
                        uint32_t creation, const struct trk_host *host);
/* Frees it. */
void trk_free(struct tracker *t);
/* Arms the start timer (call once the node runs). */
void trk_start(struct tracker *t);
/* The membership saw a peer come up / go down. */
void trk_nodeup(struct tracker *t, const char *peer);
void trk_nodedown(struct tracker *t, const char *peer);
/* A tracker message from a peer. Malformed input is counted and logged. */
void trk_message(struct tracker *t, const char *peer, const uint8_t *data, size_t len);
/* The same, with the host's number for the peer (-1: none), which spares
 * a lookup of its name here and in the host when we answer.  A host must
 * never give one number to two peers. */
void trk_message_from(struct tracker *t, const char *peer, int32_t slot, const uint8_t *data, size_t len);
/* Offers an event (its timers); true when it was the tracker's. */
bool trk_handle(struct tracker *t, const struct cs_event *ev);
/* A registry operation (register, register_started, unregister, whereis,
 * send, call, join, leave, members, publish, multi_call). */
void trk_command(struct tracker *t, const struct cs_command *cmd);
/* Graceful stop: processes shut down first (Swarm: their names are
 * untracked); fixed mode hands them to their next owners. */
void trk_stop(struct tracker *t);

/* Observation. */
enum trk_state trk_state(const struct tracker *t);
bool trk_running(const struct tracker *t);
/* True while fixed mode holds handoffs back until the node list has been
 * still for placement_settle (the placement timer is armed). */
bool trk_placement_held(const struct tracker *t);
/* The peers the tracker believes run a tracker. */
void trk_each_node(const struct tracker *t, void (*fn)(void *ctx, const char *peer), void *ctx);
size_t trk_node_count(const struct tracker *t);
/* The count and wrapping XXH3 sum of the names in `nodes` (view digests). */
void trk_nodes_digest(const struct tracker *t, size_t *count, uint64_t *sum);
/* Registry digest for agreement checks: count of live names and a wrapping
 * sum of XXH3 over (name, owner, handle). */
void trk_registry_digest(const struct tracker *t, size_t *count, uint64_t *sum);
/* The same digest recomputed from every entry (to verify the kept one).
 * In fixed mode it also brings the kept content digest up to date and
 * checks it against a recomputation: a drift there reads as count
 * SIZE_MAX. */
void trk_registry_digest_full(struct tracker *t, size_t *count, uint64_t *sum);
/* How many processes run on this node under a name its own registry gives
 * to no process or to another one (a conflict's loser still alive);
 * writes the first one's name into `first` (may be NULL). */
size_t trk_stray_processes(const struct tracker *t, char *first, size_t size);

/* The tracker's own consistency (cs_proto.check, after every event in the
 * sanitizer build): its count of owners of live entries that are not
 * nodes agrees with a recount.  False with the reason in `why`. */
bool trk_check(const struct tracker *t, char *why, size_t size);
/* A number that changes whenever an entry comes, goes, or may have changed
 * its owner, handle, tombstone or started flag (every such change goes
 * through trk_digest_out first): equal readings mean trk_each_entry lists
 * the same. */
uint64_t trk_registry_epoch(const struct tracker *t);
/* Calls fn on every live entry (not tombstones) with its owner's name,
 * whether it is a started process, and, when with_ring_owner, the owner
 * this tracker's ring gives the name (NULL: none, or not asked for), in
 * slot order. */
void trk_each_entry(const struct tracker *t, bool with_ring_owner,
                    void (*fn)(void *ctx, const char *name, const char *owner, bool started,
                               const char *ring_owner),
                    void *ctx);
/* The state dump in Swarm's shape:
 * {:syncing, %TrackerState{clock: {1, 0}, nodes: [...], pending_sync_reqs: [...], ...}} */
int trk_dump(const struct tracker *t, char *buf, size_t size);
/* The dump's parts one by one, for hosts that present them structured
 * (clusterd's control socket): a state's name as the dump writes it
 * ("tracking"), the mode ("fixed" or "swarm"), the interval tree clock as
 * the dump writes it ("{1, 0}"; its length), the sync node (NULL where the
 * dump says nil), the parked sync requests (oldest first) and the ring's
 * nodes. */
const char *trk_state_name(enum trk_state s);
const char *trk_mode_name(const struct tracker *t);
int trk_clock_text(const struct tracker *t, char *buf, size_t size);
const char *trk_sync_node(const struct tracker *t);
void trk_each_pending(const struct tracker *t, void (*fn)(void *ctx, const char *peer), void *ctx);
void trk_each_ring_node(const struct tracker *t, void (*fn)(void *ctx, const char *node), void *ctx);
/* The control state (state, nodes, parked requests, sync node, postponed
 * count, registry digest) without clock stamps, for state hashing. */
int trk_state_key(const struct tracker *t, char *buf, size_t size);
/* The peer this tracker waits for (sync node), or NULL. */
const char *trk_waiting_for(const struct tracker *t);
/* True when a timer of this tag could move the tracker on in its state. */
bool trk_timer_can_progress(const struct tracker *t, uint64_t tag);
/* The C API's read path: looks `name` up in this node's table (no message,
 * no reply, no allocation); true with its owner's node name and handle when
 * it is registered. */
bool trk_lookup(const struct tracker *t, const char *name, const char **owner, uint64_t *handle);
/* trk_lookup for n names at once, their memory accesses overlapped (see
 * registry_get_many): owners[i] / handles[i] are set for found names (NULL
 * / 0 otherwise; either array may be NULL).  Returns how many were found. */
size_t trk_lookup_many(const struct tracker *t, const char *const *names, size_t n, const char **owners,
                       uint64_t *handles);
/* The last command reply. */
const struct trk_reply *trk_last_reply(const struct tracker *t);

/* The upper bounds of the sync duration histogram's buckets (1 ms to
 * 30 s, as Prometheus' `le`); TRK_SYNC_BUCKETS of them, ascending. */
#define TRK_SYNC_BUCKETS 13
extern const cs_time trk_sync_le[TRK_SYNC_BUCKETS];

/* The tracker's counters.  A sync is one this node waits on: in swarm mode
 * the one it is in while syncing or awaiting_sync_ack (begun by
 * cluster_join or anti-entropy, by leading a parked or lone requester, or
 * by answering a peer's sync from tracking); in fixed mode a snapshot it
 * pushed (sync_recv) until the peer's sync_ack is merged.  Every sync
 * started ends once, completed or abandoned (its peer left, sent
 * sync_err, or the answer was refused), or is still under way:
 * syncs_started = syncs_completed + syncs_abandoned + under way. */
#define TRK_SENT_TYPES 24 /* above every tracker message type */

struct trk_stats {
    /* Input refused, by reason; events swarm mode postponed. */
    uint64_t malformed, unknown_type, bad_clock, name_too_long, not_member, postponed;
    uint64_t syncs_started, syncs_completed, syncs_abandoned;
    uint64_t syncs_skipped;  /* fixed mode: snapshots not sent, the peer's content digest being ours */
    uint64_t restarts;       /* started processes of departed owners restarted here */
    uint64_t handoffs_sent;  /* processes handed to their ring owner */
    uint64_t handoffs_taken; /* processes handed here and resumed */
    uint64_t conflicts;      /* two processes under one name, the loser told to die by this node (or
                                a handoff that met a process of ours under its name) */
    uint64_t kills_received; /* processes of ours a peer's decision killed (a KILL obeyed) */
    uint64_t tracked_remote; /* registry copies from peers merged: replicated track, untrack and
                                meta events, and the snapshot entries that differ from ours */
    uint64_t sent[TRK_SENT_TYPES]; /* messages sent, by type (trk_message_type_name) */
    uint64_t snapshot_entries; /* entries carried by the snapshots and pull answers sent */
    uint64_t scoped_answer_entries; /* ... of which in answers to scoped pulls (copies we wrote) */
    uint64_t full_pulls;       /* pulls sent that asked for every differing entry */
    uint64_t pulls_with_writes; /* pulls sent carrying our writes (no pull back needed) */
    uint64_t pulls_forgone;    /* queued scoped pulls dropped: the peer's pull brought its writes */
    uint64_t checks_crossed;   /* peers' checks taken as the answer to ours (no check_reply either way) */
    uint64_t departure_offers; /* digests offered to every node after nodes left (one per second look) */
    /* Completed syncs by duration (from start to completion, on the
     * environment's clock): sync_buckets[i] counts those of at most
     * trk_sync_le[i] and more than the bound before it (not cumulative);
     * sync_buckets[TRK_SYNC_BUCKETS] those over the last bound. */
    uint64_t sync_buckets[TRK_SYNC_BUCKETS + 1];
    cs_time sync_time_sum;   /* their total duration */
};
const struct trk_stats *trk_stats(const struct tracker *t);
/* The name of tracker message type `type` (0 .. TRK_SENT_TYPES - 1) as
 * traces and counters write it ("track", "handoff", "kill" ...), or NULL
 * for a number no message type has. */
const char *trk_message_type_name(unsigned type);

#endif
