/*
 * core/tracker/internal.h: the tracker's private state and the functions
 * its shared files offer each other and the two modes:
 *   tracker.c   the frame: nodes, ring, clock, delivery and postponing, dump
 *   codec.c     the wire codec of entries and clocks
 *   commands.c  the API, the processes behind it, registry writes, requests
 *   merge.c     taking copies in, handoffs, topology passes, stop
 *   snapshot.c  sync requests and snapshots
 *   digest.c    the registry's agreement and content digests
 *   fixed_batch.c  replication batches (modes with `batches`)
 * What differs between the modes is behind struct trk_mode_ops (mode.h); the
 * modes live in swarm.c and fixed*.c and include this header, never each
 * other.
 */
#ifndef CS_TRACKER_INTERNAL_H
#define CS_TRACKER_INTERNAL_H

#include "../addr.h"
#include "../idmap.h"
#include "../itc.h"
#include "../registry.h"
#include "../ring.h"
#include "../refmap.h"
#include "../strmap.h"
#include "../timer_tag.h"
#include "../tracker.h"
#include "../wire.h"

struct trk_mode_ops; /* mode.h */

#define TRK_TAG(kind, arg) CS_TAG(CS_TAG_TRK, kind, arg)

/* A registry's content digest (fixed mode, digest.c): the count and the
 * wrapping sum of its entries' content hashes.  Equal digests, equal
 * entries byte for byte. */
struct trk_content_digest {
    uint32_t count;
    uint64_t sum;
};
/* The content digest is also kept by bucket of names (the top
 * TRK_BUCKET_BITS of a name's XXH3), so that two trackers can tell which
 * buckets they differ in. */
#define TRK_BUCKET_BITS 8
#define TRK_BUCKETS (1u << TRK_BUCKET_BITS)
/* A set of buckets, bit b of word b / 64 for bucket b. */
struct trk_bucket_set {
    uint64_t bits[TRK_BUCKETS / 64];
};
#define TRK_CLOCK_MAX 512

enum trk_timer {
    TRK_TIMER_START = 1,       /* the tracker process starts */
    TRK_TIMER_CLUSTER_JOIN,    /* sync_nodes_timeout elapsed in cluster_wait */
    TRK_TIMER_ANTI_ENTROPY,
    TRK_TIMER_RETRY_CHECK,     /* arg: name index << 8 | attempt */
    TRK_TIMER_SYNC_TIMEOUT,    /* fixed mode: the pull under way timed out; arg = its epoch */
    TRK_TIMER_CALL_TIMEOUT,    /* arg: request id */
    TRK_TIMER_ORPHANS,         /* fixed mode: owners never met may now count as gone */
    TRK_TIMER_BATCH_FLUSH,     /* fixed mode: the replication batch window ended */
    TRK_TIMER_PLACEMENT,       /* fixed mode: the node list may have settled */
};

enum trk_msg {
    TRK_MSG_CHECK = 1, TRK_MSG_CHECK_REPLY,
    TRK_MSG_SYNC, TRK_MSG_SYNC_RECV, TRK_MSG_SYNC_ACK, TRK_MSG_SYNC_ERR,
    TRK_MSG_TRACK, TRK_MSG_UNTRACK, TRK_MSG_UPDATE_META, TRK_MSG_HANDOFF,
    TRK_MSG_REQUEST, TRK_MSG_REPLY, TRK_MSG_SEND, TRK_MSG_KILL,
    TRK_MSG_BATCH, /* fixed mode: replicated events gathered in one frame (fixed_batch.c) */
    TRK_MSG_DIGEST, /* fixed mode: anti-entropy's content digest, answered by a pull if it differs */
    TRK_MSG_PULL,   /* fixed mode: bucket digests, answered by the entries of the buckets that differ (pull.c) */
    TRK_MSG_LAST = TRK_MSG_PULL,
};

/* The wire name of a message type ("sync_recv"), "unknown" when out of range. */
const char *trk_msg_name(unsigned type);

/* A decoded registry entry (owner by name) as it travels. */
/* The fewest bytes an entry takes on the wire (codec.c's layout: a
 * name and an owner of at least one byte, four u64, flags, spec, the meta
 * and clock counts). */
#define TRK_WIRE_ENTRY_MIN (3 + 3 + 4 * 8 + 4 + 8 + 1 + 1)

struct trk_wire_entry {
    char name[REG_NAME_MAX];
    char owner[CS_NODE_NAME_MAX];
    uint64_t handle, version, meta_version, origin;
    uint32_t flags;
    int64_t spec;
    uint8_t meta_count;
    char meta[REG_META_MAX][REG_META_KEY_MAX];
    uint8_t clock_len;
    uint8_t clock[REG_CLOCK_MAX];
    bool tagged;  /* tag holds the name's registry tag (a batch prefetched it) */
    uint32_t tag;
    bool same;    /* (a snapshot's) the receiver holds this very copy: nothing to check or take */
    uint64_t wire_hash; /* trk_entry_content_hash of the bytes it was decoded from (0: none) */
};

/* A postponed event (Swarm mode): re-delivered after the next state change. */
struct trk_event {
    enum { TE_NODEUP, TE_NODEDOWN, TE_MESSAGE, TE_TIMER, TE_COMMAND } kind;
    char *peer;
    int32_t peer_index;   /* the peer's name index when known (> 0), else 0 (trk_event_peer) */
    uint8_t *data;
    size_t len;
    uint64_t tag;
    char *op, *name, *arg;
    int64_t value;
};

/* A process owned by this node. */
struct trk_proc {
    uint64_t handle;  /* 0: free slot */
    const char *name; /* the registry's arena copy of its name (it outlives a
                         removal, core/registry.h), or NULL until registered */
    int64_t value;    /* the counter */
};

/* A request waiting for a peer's reply. */
struct trk_request {
    uint64_t id;
    char op[24];
    char name[128];
    size_t waiting;   /* multi_call: replies still expected */
    int64_t sum;      /* multi_call: members that answered */
    size_t failures;
};

struct tracker {
    struct cs_env *env;
    struct trk_config cfg;
    const struct trk_mode_ops *mode;  /* cfg.mode's table of operations (mode.h) */
    struct trk_host host;
    char self[CS_NODE_NAME_MAX];
    uint32_t creation;
    bool running, stopping;
    enum trk_state state;
    bool state_changed;
    /* Node names interned: index 0 is self; registry owners refer to them. */
    char **names;
    uint64_t *name_hashes;        /* XXH3 of each name (registry digests) */
    bool *met;                    /* fixed mode: the name was once in `nodes` */
    bool *check_out;              /* fixed mode: our check of it, carrying our digest, is
                                     unanswered (a check of its crossing it answers it) */
    bool check_crossing;          /* a crossed check is being taken as its answer (tracker.c) */
    bool *is_node;                /* the name is in `nodes` now */
    uint32_t *owner_live;         /* live entries (digest.c's `counted`) it owns */
    uint32_t owners_not_nodes;    /* names (index > 0) owning a live entry, not in `nodes` */
    cs_time *unknown_since;       /* fixed mode: since when an entry names it as owner
                                     while it was never met (-1: not yet) */
    struct trk_sync_watch {       /* the syncs with it under way (stats only) */
        uint32_t open;
        cs_time first, last;      /* when the oldest and the newest began */
    } *syncs;
    int32_t *host_slot;           /* the host's number for the name (trk_message_from), -1: none yet */
    size_t name_count, name_cap;
    struct cs_refmap name_index; /* names -> their index */
    int32_t *slot_names;          /* the host's number of a peer -> its name index (0: not seen) */
    size_t slot_names_cap;
    uint32_t last_name_index;     /* the name trk_name_index found last */
    /* The peers believed to run a tracker (name indices), and the ring. */
    uint32_t *nodes;
    size_t node_count, node_cap;
    struct ring *ring;
    int32_t sync_node;            /* name index, -1 none */
    uint32_t *pending;            /* parked sync requests (name indices) */
    size_t pending_count, pending_cap;
    uint8_t clock[TRK_CLOCK_MAX]; /* encoded ITC stamp */
    size_t clock_len;
    struct itc_arena *arena;
    struct registry reg;
    struct trk_proc *procs;
    size_t proc_count, proc_cap;
    uint32_t *free_procs;         /* free slots of procs (room for proc_cap once one is freed) */
    size_t free_proc_count, free_proc_cap;
    struct cs_idmap proc_index;   /* handle's local number -> slot */
    uint32_t next_local;
    struct trk_event *postponed;
    size_t postponed_count, postponed_cap;
    struct trk_request *requests;
    size_t request_count, request_cap;
    uint64_t next_request;
    uint64_t version_clock;       /* fixed mode: Lamport counter for versions */
    size_t digest_count;          /* live entries, kept as entries change */
    uint64_t digest_sum;          /* sum of XXH3 over (name, owner, handle) of live entries */
    uint64_t *own_slots;          /* bit per registry slot: a live entry owned by us (owner 0) */
    uint64_t *handoff_sent;       /* fixed mode, bit per slot (as own_slots): our process handed
                                     off, its new owner's copy not yet here (digest.c) */
    uint64_t *authored;           /* bit per slot (as own_slots): entries whose copy here we
                                     wrote, tombstones included (a scoped pull's answer) */
    size_t authored_count;        /* bits set in authored */
    bool taking_copy;             /* trk_copy_in takes a peer's copy: not a write of ours */
    uint64_t copy_hash;           /* ... whose encoding has this content hash (0: unknown) */
    size_t own_slot_words;        /* words of own_slots, handoff_sent and authored */
    bool own_slots_lost;          /* out of memory once: passes walk everything */
    uint64_t entry_changes;       /* trk_digest_out calls (trk_registry_epoch) */
    /* fixed mode: the content digest (digest.c), kept lazily */
    uint64_t *content_hashes;     /* by registry slot; 0: not in the digest */
    uint8_t *content_bucket;      /* by registry slot: its name's bucket (when hashed) */
    struct trk_content_digest buckets[TRK_BUCKETS]; /* the content digest by bucket */
    size_t content_cap, content_alloc; /* cells zeroed and kept (a slot's each), cells allocated */
    size_t content_count;
    uint64_t content_sum;
    bool content_valid;           /* the hashes are kept (else: recomputed when asked) */
    uint32_t *dirty;              /* slots changed since the last reading */
    size_t dirty_count, dirty_cap;
    /* Topology changes that would change nothing are skipped
     * (merge.c): node_changes counts changes of the node list and
     * the ring; a pass that acted on no entry and read no clock leaves its
     * registry epoch and node_changes as the mark of a quiet state. */
    uint64_t node_changes;
    uint64_t reconsider_acts, reconsider_timed;
    bool quiet_valid;
    bool pass_handoffs_wait;      /* the pass under way found that handoffs wait */
    uint64_t quiet_epoch, quiet_nodes;
    /* fixed mode: pulls (pull.c), one under way and the rest queued */
    int32_t pull_peer;            /* name index of the pull under way, -1 none */
    uint64_t pull_epoch;          /* its number (its timeout's tag) */
    uint32_t *pull_queue;         /* a ring of name indices */
    size_t pull_head, pull_count, pull_cap;
    uint8_t *pull_state;          /* by name index: enum trk_pull_state, with its flags */
    uint8_t pull_ask;             /* what the pull under way asked (enum trk_pull_ask) */
    bool took_full_pull;          /* a full pull's answer was merged since we started */
    bool anti_entropy_armed;
    bool orphan_check_armed;
    bool second_look;             /* fixed mode: the pass of the TRK_TIMER_ORPHANS timer */
    bool departure_unsettled;     /* fixed mode: a node left since the last second look, whose
                                     writes may live on some nodes only (fixed.c) */
    /* fixed mode: handoffs wait for the node list to settle (fixed_merge.c) */
    cs_time node_list_changed_at; /* when a node was last added or removed */
    cs_time placement_waiting_since; /* the first handoff held back, or -1 */
    cs_time placement_forced_at;  /* the instant of a pass that moves all, or -1 */
    bool placement_armed;
    /* fixed mode: the replication batch being gathered, and this turn's
     * handoffs by destination (fixed_batch.c) */
    uint8_t *batch_buf;
    struct cs_writer batch;
    uint32_t batch_count;         /* events in it; 0: nothing pending */
    bool batch_timer_armed, batch_flushing;
    struct trk_bundle_item *bundle_items;
    size_t bundle_count, bundle_cap;
    uint8_t *bundle_buf;          /* the handoffs' bytes */
    size_t bundle_len, bundle_buf_cap;
    struct trk_wire_entry *batch_in; /* decoded events of a received batch (lookahead) */
    struct trk_wire_entry *snap_in;  /* one entry of a received snapshot, decoded */
    uint64_t *snap_hash;             /* XXH3 of each of its entries' encoded bytes */
    uint8_t *snap_same;              /* and whether we held that very copy */
    uint32_t snap_cap, snap_count;   /* snap_count: of the last snapshot merged */
    /* The registry's names in name order, each with its entry's slot
     * (merge.c), kept while its names stay the same
     * (by_name_version is the registry version they were listed at; 0:
     * none). */
    struct trk_name_slot { const char *name; uint32_t slot; } *by_name;
    size_t by_name_count, by_name_cap;
    uint64_t by_name_version;
    bool by_name_busy; /* a walk runs over it: a nested walk lists its own */
    struct trk_stats stats;
    struct trk_reply last_reply;
};

/* ---- tracker.c: the remote check ---- */
/* Our check of `peer` needs no more answer (it answered, or its link went
 * down): a check of its no longer crosses ours. */
void trk_check_answered(struct tracker *t, uint32_t peer);

/* ---- pull.c (fixed mode) ---- */
/* What a pull asks for (its flags byte on the wire): every entry of the
 * buckets that differ, or only the copies of those buckets the answerer
 * wrote; and whether the answerer, if they differed, pulls ours in turn
 * (all of ours, or those we wrote). */
enum trk_pull_ask {
    TRK_PULL_ASK_FULL = 1,      /* every differing entry, not only the answerer's writes */
    TRK_PULL_ASK_BACK = 2,      /* a pull back when the buckets differed ... */
    TRK_PULL_ASK_BACK_FULL = 4, /* ... a full one */
    TRK_PULL_ASKS = 7,
    TRK_PULL_WRITES = 8,        /* on the wire only: the puller's writes follow (below) */
};
/* A pull asking for a scoped pull back carries the puller's writes when
 * it holds at most this many (every copy it wrote, as a snapshot's count
 * and entries after the digests): the answerer merges them and needs no
 * pull back, and drops its own queued scoped pull of the puller, whose
 * answer they were.  A pull's digests take 3 KB; up to 64 entries (about
 * as much again) ride along.  A tracker that wrote more is pulled back as
 * before. */
#define TRK_PULL_WRITES_MAX 64
/* A peer's pull state (pull_state[peer]): none, queued or under way in the
 * low two bits, what it asks (enum trk_pull_ask) shifted by
 * TRK_PULL_ASK_SHIFT, and TRK_PULL_AGAIN. */
enum trk_pull_state {
    TRK_PULL_NONE = 0, TRK_PULL_QUEUED, TRK_PULL_UNDER_WAY,
    TRK_PULL_STATE = 3,
    TRK_PULL_ASK_SHIFT = 2,
    TRK_PULL_AGAIN = 32,     /* more was asked while one was under way: another follows */
};
/* Queues a pull from `peer` asking `ask` (enum trk_pull_ask), or adds
 * `ask` to the one queued; it is sent at once when no other is under way.
 * A tracker that never merged a full pull's answer asks for every entry. */
void trk_pull_from(struct tracker *t, uint32_t peer, unsigned ask);
/* `peer` answered (a sync_ack, merged when `merged`): if it is the pull
 * under way, that pull ends and the next queued one starts. */
void trk_pull_answered(struct tracker *t, uint32_t peer, bool merged);
/* The pull of epoch `epoch` timed out: given up, queued again. */
void trk_pull_timeout(struct tracker *t, uint64_t epoch);
/* `peer` left the node list: a pull under way from it ends. */
void trk_pull_node_removed(struct tracker *t, uint32_t peer);
/* A peer's pull: answers with our entries of the buckets that differ and
 * queues a pull of its own when some did; false when malformed (counted). */
bool trk_on_pull(struct tracker *t, uint32_t from, struct cs_reader *r);
/* True when the pull `r` is positioned in (past its type byte) says it
 * carries the puller's writes; a peek, checked when the pull is read. */
bool trk_pull_carries_writes(const struct cs_reader *r);
void trk_pull_free(struct tracker *t);
/* Writes the count and every copy we wrote (snapshot.c), for a pull that
 * carries them; false (the writer to be rewound) when we wrote more than
 * TRK_PULL_WRITES_MAX, do not know what we wrote, or they do not fit. */
bool trk_put_writes(struct tracker *t, struct cs_writer *w);
/* Room trk_put_writes may take. */
size_t trk_writes_cap(void);

/* ---- tracker.c: syncs, for the counters (trk_stats) ---- */
/* A sync with `peer` begins (counted, its start time noted). */
void trk_sync_begin(struct tracker *t, uint32_t peer);
/* The oldest sync under way with `peer` ends, completed (its duration
 * counted) or abandoned; nothing when none is under way. */
void trk_sync_end(struct tracker *t, uint32_t peer, bool completed);
/* Every sync under way with `peer` is abandoned (it left `nodes`). */
void trk_sync_abandon_all(struct tracker *t, uint32_t peer);

/* Fixed mode's handoffs in flight (digest.c): marks our entry's process as
 * handed off; true while it is marked (until the entry changes or a node
 * leaves); forgets every mark. */
void trk_handoff_mark(struct tracker *t, const struct reg_entry *e);
bool trk_handoff_pending(const struct tracker *t, const struct reg_entry *e);
void trk_handoffs_forget(struct tracker *t);
/* Counts every copy we hold as one we wrote, so that scoped pulls carry
 * them: a node left, and the copies of its writes that it alone served may
 * now live only in copies such as ours. */
void trk_adopt_copies(struct tracker *t);
/* False once out of memory for the bitset of the entries we wrote
 * (authored): a scoped pull's answer then carries every entry it would
 * carry in full. */
bool trk_authored_known(const struct tracker *t);

/* ---- digest.c ---- */
/* Take an entry out of / put it into the registry digests: call out before
 * changing any field of an entry (or removing it), in after. */
void trk_digest_out(struct tracker *t, const struct reg_entry *e);
void trk_digest_in(struct tracker *t, const struct reg_entry *e);
#define TRK_CONTENT_DIGEST_LEN 12 /* on the wire */
/* This tracker's content digest; false when it keeps none (a mode without
 * one, or out of memory). */
bool trk_content_digest(struct tracker *t, struct trk_content_digest *out);
/* True when `peer` (may be NULL) equals this tracker's content digest: a
 * snapshot between the two would change nothing. */
bool trk_content_matches(struct tracker *t, const struct trk_content_digest *peer);
/* Brings the kept content hashes up to date (trk_kept_content_hash is
 * exact until the next change); false when none are kept. */
bool trk_content_fresh(struct tracker *t);
void trk_put_content_digest(struct cs_writer *w, const struct trk_content_digest *d);
/* The content hash kept for `e` (trk_entry_content_hash of its encoding);
 * 0 when none is kept (swarm mode, out of memory, or `e` changed since the
 * last trk_content_fresh). */
uint64_t trk_kept_content_hash(const struct tracker *t, const struct reg_entry *e);
void trk_get_content_digest(struct cs_reader *r, struct trk_content_digest *d);
/* This tracker's content digest of each bucket; false when it keeps none. */
bool trk_bucket_digests(struct tracker *t, struct trk_content_digest out[TRK_BUCKETS]);
/* The bucket digests as a pull carries them: TRK_BUCKETS times
 * trk_put_content_digest's form, written in one pass (all zeros, every
 * bucket but the empty differing, when this tracker keeps no digest). */
#define TRK_BUCKET_DIGESTS_LEN (TRK_BUCKETS * TRK_CONTENT_DIGEST_LEN)
void trk_put_bucket_digests(struct tracker *t, struct cs_writer *w);
/* Sets `out` to the buckets whose digests differ from `peer`'s, which
 * are TRK_BUCKET_DIGESTS_LEN bytes in the wire form (every bucket when
 * this tracker keeps no digest); true when there is any. */
bool trk_buckets_differing(struct tracker *t, const uint8_t *peer, struct trk_bucket_set *out);
/* True when bucket b is in the set. */
static inline bool trk_bucket_in(const struct trk_bucket_set *set, unsigned b)
{
    return set->bits[b / 64] >> (b % 64) & 1;
}
/* The bucket of the entry in registry slot `slot`, -1 unless its content
 * hash is kept (exact after trk_content_fresh until the next change).
 * Inline: a pull's answer asks it of every slot it walks. */
static inline int trk_kept_bucket(const struct tracker *t, size_t slot)
{
    return t->content_valid && slot < t->content_cap && t->content_hashes[slot] ? t->content_bucket[slot] : -1;
}

/* ---- names.c ---- */
int32_t trk_name_index(struct tracker *t, const char *name);  /* interns */
/* A message's sender by the host's number for it (-1: none) or its name. */
int32_t trk_sender_index(struct tracker *t, const char *peer, int32_t slot);
/* Frees the name table and everything kept per name. */
void trk_names_free(struct tracker *t);
/* The name index of an event's peer (-1: none, or out of memory). */
int32_t trk_event_peer(struct tracker *t, const struct trk_event *ev);
const char *trk_name(const struct tracker *t, uint32_t idx);
/* strlen(trk_name(t, idx)), from the byte kept before each interned name. */
size_t trk_name_len(const struct tracker *t, uint32_t idx);
bool trk_is_node(const struct tracker *t, uint32_t idx);
void trk_add_node(struct tracker *t, uint32_t idx);
void trk_remove_node(struct tracker *t, uint32_t idx);
uint32_t trk_random_node(struct tracker *t);
void trk_set_state(struct tracker *t, enum trk_state s);
void trk_postpone(struct tracker *t, const struct trk_event *ev);
void trk_send(struct tracker *t, uint32_t peer, const struct cs_writer *w);
void trk_clock_fork(struct tracker *t, uint8_t *other, size_t *other_len);
void trk_clock_adopt(struct tracker *t, const uint8_t *clock, size_t len);
void trk_clock_seed(struct tracker *t);
void trk_send_sync(struct tracker *t, uint32_t peer);
void trk_send_snapshot(struct tracker *t, uint32_t peer, enum trk_msg type, const uint8_t *clock,
                       size_t clock_len);
/* The same, as a reply to the snapshot just merged (fixed mode's
 * sync_ack): without the entries that snapshot carried byte for byte
 * (snapshot.c). */
void trk_send_snapshot_reply(struct tracker *t, uint32_t peer, enum trk_msg type, const uint8_t *clock,
                             size_t clock_len);
/* Sends `peer` a snapshot (of message `type`, with our clock) of the
 * entries of the given buckets only (bit b: bucket b; none: an empty one),
 * and of those, when `authored_only`, only the copies we wrote. */
void trk_send_snapshot_buckets(struct tracker *t, uint32_t peer, enum trk_msg type, const struct trk_bucket_set *buckets,
                               bool authored_only);
/* XXH3 of an entry's encoded bytes, never 0: the key by which a reply
 * leaves out what the peer sent. */
uint64_t trk_entry_content_hash(const uint8_t *bytes, size_t len);
/* Merges a snapshot (Swarm rules in swarm mode, version rules in fixed);
 * a malformed one (or one with an undecodable entry clock) is counted and
 * changes nothing: false. */
bool trk_merge_snapshot(struct tracker *t, uint32_t from, struct cs_reader *r);
/* Frees what the last snapshot merged left (its entries' hashes, which a
 * reply to it reads) once it held more than TRK_SNAP_KEEP entries: a large
 * snapshot's arrays are not kept for the rest of the run. */
#define TRK_SNAP_KEEP 1024
void trk_snapshot_release(struct tracker *t);
/* True when an encoded clock decodes; an empty one (a stamp too deep to be
 * encoded travels empty) is accepted. */
bool trk_clock_valid(struct tracker *t, const uint8_t *clock, size_t len);
void trk_topology_change(struct tracker *t);
void trk_arm_anti_entropy(struct tracker *t);
void trk_reply(struct tracker *t, const char *op, const char *name, const char *status,
               const char *owner, int64_t value);
/* Handles a message every state handles (checks, requests, replies). */
bool trk_common_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r);
/* Tracking-state work: replicated events and API requests. */
void trk_tracking_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r);
void trk_tracking_command(struct tracker *t, const struct trk_event *ev);
void trk_start_check(struct tracker *t, uint32_t peer, uint32_t attempt);
/* At start: takes the connected peers as nodes (Swarm, unchecked) or checks
 * each of them (fixed). */
void trk_take_connected(struct tracker *t, bool check);

/* ---- commands.c ---- */
void trk_proc_kill(struct tracker *t, uint64_t handle);
int64_t trk_proc_value(struct tracker *t, uint64_t handle, bool *found);
uint64_t trk_proc_restart(struct tracker *t, int64_t value);
/* Gives the local process `handle` its name: the registry's arena copy
 * (trk_register_local and a restart in place call it). */
void trk_proc_named(struct tracker *t, uint64_t handle, const char *arena_name);
void trk_stamp_entry(struct tracker *t, struct reg_entry *e, uint64_t version);
/* Fixed-mode versions: the high bits count writes (register, unregister,
 * group changes), the low TRK_GEN_BITS count continuations of a write
 * (restart, handoff, departure, refutation).  A write is newer than every
 * version seen; a continuation is newer than the copy it continues but
 * older than any later write, so a restart never undoes an unregister. */
#define TRK_GEN_BITS 20
uint64_t trk_version_write(struct tracker *t);
uint64_t trk_version_continue(struct tracker *t, uint64_t version);
void trk_broadcast_entry(struct tracker *t, uint8_t type, const struct reg_entry *e);
/* Sends `e` as a message of `type` (track, untrack...) to one node. */
void trk_send_entry(struct tracker *t, uint32_t peer, uint8_t type, const struct reg_entry *e);
struct reg_entry *trk_register_local(struct tracker *t, const char *name, uint64_t handle, uint64_t version,
                                     uint64_t origin,
                                     uint32_t flags, int64_t spec);
void trk_call_timeout(struct tracker *t, uint64_t id);

/* ---- merge.c ---- */
void trk_apply_event(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r);
/* Applies one decoded, checked replicated event (`state`: a handoff's). */
void trk_apply_wire(struct tracker *t, uint32_t from, uint8_t type, struct trk_wire_entry *we, int64_t state);
/* Takes one checked copy from a peer: a new name as it comes, a name we
 * hold by the mode's merge_copy; tombstones only in modes that keep them. */
void trk_apply_entry(struct tracker *t, const struct trk_wire_entry *we, bool from_sync);
/* Takes a peer's copy into `e`; false (e unchanged) when out of memory. */
bool trk_copy_in(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we);
/* A conflict lost: kills our process (owner 0) or tells `owner` to. */
void trk_tell_to_die(struct tracker *t, uint32_t owner, const char *name, uint64_t handle);
/* Sends our process `e` with its state to node `to` (the mode decides
 * whether ours exits now). */
void trk_handoff(struct tracker *t, struct reg_entry *e, const char *to);
/* Restarts the started process of `e` here and broadcasts it. */
void trk_restart_here(struct tracker *t, struct reg_entry *e);

/* ---- fixed_batch.c ---- */
struct trk_bundle_item;
/* True when replicated events are batched (a mode that batches: by
 * batch_window, or by turn when it is 0). */
bool trk_batching(const struct tracker *t);
/* The end of one event (a turn): with batch_window 0 the pending batch
 * leaves, and this turn's handoffs leave in any case. */
void trk_turn_end(struct tracker *t);
/* Holds a handoff message for `peer` until the end of the turn (sent with
 * the others for it in one batch frame); false when it cannot (too large,
 * out of memory): send it now. */
bool trk_bundle_add(struct tracker *t, uint32_t peer, const uint8_t *msg, size_t len);
/* Appends one encoded event (type byte, then the entry) to the batch,
 * flushing first when it would not fit. */
void trk_batch_add(struct tracker *t, const uint8_t *event, size_t len);
/* Sends the pending handoffs and the pending batch now (nothing when
 * empty). */
void trk_batch_flush(struct tracker *t);
/* An TRK_MSG_BATCH from a peer: each event applied in order; at a malformed one
 * the rest is refused, counted and logged. */
void trk_apply_batch(struct tracker *t, uint32_t from, struct cs_reader *r);

/* ---- codec.c ---- */
void trk_put_entry(struct tracker *t, struct cs_writer *w, const struct reg_entry *e);
bool trk_get_entry(struct cs_reader *r, struct trk_wire_entry *out);
void trk_put_clock(struct cs_writer *w, const uint8_t *clock, size_t len);
bool trk_get_clock(struct cs_reader *r, uint8_t *clock, size_t *len, size_t cap);

#endif
