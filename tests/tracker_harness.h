/*
 * tests/tracker_harness.h: the in-memory harness shared by the tracker's
 * unit tests (tests/test_tracker_*.c), which test core/tracker*.c without
 * the simulator.  It owns:
 *
 *  - the fake environment of each of 2..4 trackers named app@10.0.0.1 ..
 *    app@10.0.0.4: one virtual clock the test advances, timers recorded per
 *    node (delay, tag) and fired by hand or in time order, random_u64 served
 *    from a per-node script (so every sync-node choice is chosen by the
 *    test), and recorders for log lines, trace events and command replies;
 *  - the fake host, whose send() appends (from, to, bytes) to one message
 *    queue that the test delivers explicitly, pair by pair in FIFO order, in
 *    any interleaving it chooses, or drops.  The remote "is the tracker up?"
 *    check (TRK_MSG_CHECK / TRK_MSG_CHECK_REPLY) is delivered like any other message;
 *  - observation helpers (replies, dumps, registry digests and entries, the
 *    processes that run), read through core/tracker.h or, where a fact is
 *    not observable there, through the tracker's private state
 *    (core/tracker/internal.h);
 *  - clock helpers and forged messages, following the wire layout of
 *    core/tracker/codec.c (type:u8, then fields; strings as u16 length +
 *    bytes; a clock as u16 length + ITC bytes);
 *  - cluster builders (a tracker alone, all connected, a full cluster) and
 *    a ring helper (a name owned by a given node).
 *
 * The tests themselves, and helpers only one of them needs, live in the
 * test files.  Each test registers with T_() so that the teardown frees the
 * running test's harness H even when an assertion fails half way.
 */
#ifndef TRACKER_HARNESS_H
#define TRACKER_HARNESS_H

#include "../core/itc.h"
#include "../core/tracker.h"
#include "../core/tracker/internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HN_MAX 4
#define H_REPLIES 64
#define H_RND 64

/* A timer a tracker armed: when it is due, its delay and tag, and whether
 * it is still armed (fired and cancelled timers are not). */
struct htimer {
    cs_timer_id id;
    cs_time due, delay;
    uint64_t tag;
    bool armed;
};

/* A command reply a tracker gave. */
struct hreply {
    char op[24], name[300], status[32], owner[CS_NODE_NAME_MAX];
    int64_t value;
};

/* A queued message. */
struct hmsg {
    int from, to; /* to: -1 for a name outside the harness */
    uint8_t *data;
    size_t len;
};

struct harness;

/* One node: its tracker (NULL after a crash), fake environment and host,
 * timers, scripted randomness and recorders. */
struct hnode {
    struct harness *h;
    int idx;
    char name[32];
    uint32_t creation;
    struct cs_env env;
    struct trk_host host;
    struct tracker *t;
    struct htimer *timers;
    size_t timer_count, timer_cap;
    uint64_t rnd[H_RND];
    size_t rnd_count, rnd_pos;
    unsigned unscripted; /* draws the test did not script */
    char last_log[1024];
    size_t log_count, warn_count;
    char last_trace_kind[32], last_trace[1024];
    size_t trace_count;
    struct hreply replies[H_REPLIES];
    size_t reply_count;
};

/* The nodes of one test, their shared clock and the message queue. */
struct harness {
    struct trk_config cfg;
    int count;
    cs_time now;
    cs_timer_id next_timer;
    struct hnode n[HN_MAX];
    struct hmsg *q;
    size_t qlen, qcap;
};

/* The harness of the running test; freed by the teardown even when an
 * assertion fails half way. */
extern struct harness *H;

/* Node i's name: "app@10.0.0.<i + 1>". */
extern const char *NAME[HN_MAX];

/* Node i's tracker pid as the dump prints it in pending_sync_reqs. */
extern const char *PID[HN_MAX];

/* Registers a test whose teardown frees H. */
#define T_(f) cmocka_unit_test_teardown(f, h_teardown)

/* ---- set-up and teardown ---- */

/* A harness of `count` trackers with configuration `cfg` (created, not yet
 * started); node i has creation i + 1.  It becomes H. */
struct harness *h_new_cfg(const struct trk_config *cfg, int count);

/* A harness of `count` trackers with the default configuration in `mode`. */
struct harness *h_new(enum trk_mode mode, int count);

/* Frees a harness, its trackers, timers and queued messages (NULL: nothing);
 * a test that frees H itself sets H to NULL. */
void h_free(struct harness *h);

/* The cmocka teardown of every tracker test: frees H and clears it. */
int h_teardown(void **state);

/* The running tracker of node i in H (fails the test when it crashed). */
struct tracker *T(int i);

/* The index of the node called `name`, or -1. */
int h_index(const struct harness *h, const char *name);

/* ---- timers ---- */

/* How many timers of this kind node i has armed. */
size_t h_armed(struct harness *h, int i, unsigned kind);

/* Node i's earliest armed timer of this kind, or NULL. */
struct htimer *h_timer(struct harness *h, int i, unsigned kind);

/* Fires node i's earliest armed timer of this kind (the clock jumps to it). */
void h_fire(struct harness *h, int i, unsigned kind);

/* Fires every timer of every node due up to `until`, in time order (ties
 * by arming order), then sets the clock to `until`. */
void h_run_until(struct harness *h, cs_time until);

/* Asserts that no armed timer of node i can move its tracker on (a
 * deadlock's mark). */
void h_assert_no_progress_timer(struct harness *h, int i);

/* ---- starting, crashing ---- */

/* Arms node i's start timer and fires it: the tracker runs. */
void h_start(struct harness *h, int i);

/* A crash of node i: the tracker is gone, its timers and the messages from
 * and to it are lost. */
void h_crash(struct harness *h, int i);

/* A new tracker on crashed node i: same name, new creation; not yet
 * started. */
void h_restart(struct harness *h, int i, uint32_t creation);

/* ---- the message queue ---- */

/* How many messages from -> to are queued (-1: any node). */
size_t h_pending(struct harness *h, int from, int to);

/* How many messages of `type` from -> to are queued (-1: any node). */
size_t h_pending_type(struct harness *h, int from, int to, int type);

/* The type of the oldest message from -> to, or -1. */
int h_head_type(struct harness *h, int from, int to);

/* The oldest queued message from -> to of `type` (-1: any type), or NULL. */
const struct hmsg *h_find(struct harness *h, int from, int to, int type);

/* Delivers the oldest message from -> to (FIFO per pair); returns its type. */
int h_deliver(struct harness *h, int from, int to);

/* Delivers the oldest message of `type` from -> to. */
void h_deliver_type(struct harness *h, int from, int to, int type);

/* Drops every queued message from -> to (-1: any). */
void h_drop(struct harness *h, int from, int to);

/* Delivers everything, oldest first, until the queue is empty; when
 * `first` >= 0 the messages from that node go before the others. */
void h_settle_pref(struct harness *h, int first);

/* Delivers everything, oldest first, until the queue is empty. */
void h_settle(struct harness *h);

/* Node i learns that node j is up: nodeup, the check and its answer. */
void h_learn(struct harness *h, int i, int j);

/* Nodes i and j learn of each other, i first. */
void h_link(struct harness *h, int i, int j);

/* ---- scripted randomness ---- */

/* Appends `v` to node i's script of random values. */
void h_script(struct harness *h, int i, uint64_t v);

/* The next random choice of node i among its `nodes` will be node j. */
void h_pick(struct harness *h, int i, int j);

/* Whether node j is among node i's `nodes`. */
bool h_knows(struct harness *h, int i, int j);

/* ---- commands, observation ---- */

/* Runs command `op` on node i's tracker. */
void h_cmd(struct harness *h, int i, const char *op, const char *name, const char *arg,
           int64_t value);

/* Node i's last command reply (fails the test when there is none). */
const struct hreply *h_last_reply(struct harness *h, int i);

/* Node i's state dump, in one of four rotating static buffers. */
const char *h_dump(struct harness *h, int i);

/* Fails the test unless `needle` occurs in `hay`. */
void assert_contains(const char *hay, const char *needle);

/* How many live entries node i's registry holds. */
size_t h_count(struct harness *h, int i);

/* The digest sum of node i's registry. */
uint64_t h_sum(struct harness *h, int i);

/* Asserts that nodes i and j hold the same registry (count and digest). */
void assert_same_registry(struct harness *h, int i, int j);

/* The live entry of `name` in node i's table, or NULL. */
const struct reg_entry *h_entry(struct harness *h, int i, const char *name);

/* The owner node's name of `name` in node i's table, or NULL. */
const char *h_owner(struct harness *h, int i, const char *name);

/* How many processes of this name run on node i (0 after a crash). */
int h_procs(struct harness *h, int i, const char *name);

/* The handle of node i's process of this name, or 0. */
uint64_t h_proc_handle(struct harness *h, int i, const char *name);

/* Asserts that node i's dumped pending list is exactly `list` (the text
 * between the brackets). */
void assert_pending(struct harness *h, int i, const char *list);

/* Asserts that node i's dumped sync node is node j (-1: nil). */
void assert_sync_node(struct harness *h, int i, int j);

/* ---- clocks and forged messages ---- */

/* A registry entry to forge into a message. */
struct fentry {
    const char *name, *owner;
    uint64_t handle, version;
    uint32_t flags;
    const uint8_t *clock;
    size_t clock_len;
};

/* Encodes the seed stamp after `events` events into `out`; its length. */
size_t clock_after(int events, uint8_t *out, size_t cap);

/* The sender and clock text of a queued sync / sync_recv / sync_ack. */
void msg_sync_clock(const struct hmsg *m, char *sender, char *text, size_t size);

/* Writes a one-entry message (TRK_MSG_TRACK and the like) of `type` into `buf`;
 * its length. */
size_t forge_event(uint8_t *buf, size_t cap, uint8_t type, const struct fentry *e);

/* Writes a snapshot message (sync_recv, sync_ack) of `type` from `sender`
 * with this clock and these `count` entries into `buf`; its length. */
size_t forge_snapshot(uint8_t *buf, size_t cap, uint8_t type, const char *sender,
                      const uint8_t *clock, size_t clock_len, const struct fentry *e,
                      size_t count);

/* Writes a batch (TRK_MSG_BATCH, count:u32, then type:u8 + entry each) of these
 * `count` events into `buf`; its length. */
size_t forge_batch(uint8_t *buf, size_t cap, const uint8_t *types, const struct fentry *e, size_t count);

/* ---- cluster builders, the ring ---- */

/* Starts node i and lets its cluster_join fire with no peers: tracking. */
void h_start_alone(struct harness *h, int i);

/* Starts `count` trackers that all know one another (cluster_wait). */
void h_start_all_connected(struct harness *h, int count);

/* Deadlock C's set-up: node 0 (retry_max 1) checked node 1 before 1's
 * tracker ran, so it never checks again; then node 1 starts.  The harness
 * (trackers in `mode`) becomes H. */
struct harness *h_unchecked_pair(enum trk_mode mode);

/* A cluster of `count` trackers, all tracking and knowing one another:
 * each starts alone, then the pairs are linked one after the other and
 * every message is delivered (oldest first) before the next link. */
void h_cluster(struct harness *h, int count);

/* Writes into `out` a name starting with `prefix` whose ring owner, over
 * the given nodes, is node `owner`. */
void name_owned_by(struct harness *h, const int *nodes, int count, int owner,
                   const char *prefix, char *out, size_t size);

/* The number of entries a queued snapshot message (sync_recv, sync_ack)
 * carries. */
uint32_t h_snapshot_count(const struct hmsg *m);

/* Where the ring over a set of nodes (bit i: node i) puts a name. */
struct placement {
    unsigned nodes;
    int owner;
};

/* Writes into `out` a name starting with `prefix` that every placement in
 * `p` holds for (fails the test when none of 10,000 does). */
void h_name_placed(struct harness *h, const struct placement *p, int count, const char *prefix, char *out,
                   size_t size);

/* The bytes of the length of a pull. */
#define H_PULL_LEN (2 + TRK_BUCKETS * TRK_CONTENT_DIGEST_LEN)
/* Encodes a pull asking `ask` (enum trk_pull_ask) with the given bucket
 * digests (NULL: an empty registry's) into buf; its length. */
size_t h_forge_pull(uint8_t *buf, size_t cap, unsigned ask, const struct trk_content_digest *digests);
/* h_forge_pull with TRK_PULL_WRITES set and these `count` entries (a
 * snapshot's count and entries) after the digests; its length. */
size_t h_forge_pull_writes(uint8_t *buf, size_t cap, unsigned ask, const struct trk_content_digest *digests,
                           const struct fentry *e, size_t count);

#endif
