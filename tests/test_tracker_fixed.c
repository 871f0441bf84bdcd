/*
 * tests/test_tracker_fixed.c: the fixed mode's promises (group
 * "tracker-fixed"), on the harness of tracker_harness.h: no waiting without
 * a timeout, every parked request answered (start-up always reaches
 * tracking), duplicates resolved in either delivery order, deletions
 * propagate (a tombstone beats a stale snapshot), a restarted node gets
 * the registry back, a sync_ack carries only what the pusher lacks, a
 * started process taken over under another view moves on to its owner, a
 * process handed off is not handed off again while the new owner's copy
 * has not come back (until a node leaves or the second look, which send a
 * lost handoff again), and a bystander that gets the old owner's copy
 * after the new owner's leaves the KILL to the new owner when both owners
 * are its nodes, and sends it when the new owner is not; and a dead
 * owner's started process that only a node other than its ring owner
 * holds reaches the ring owner at that node's second look.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ==== fixed mode ============================================================ */

/* 12a. Fixed start-up.  Three trackers in cluster_wait know one another
 * (each new peer gets a snapshot push).  A register in cluster_wait is
 * answered at once; cluster_join always leads to tracking; every armed
 * timer can progress; nothing is ever parked; all converge. */
/* Deadlock C's set-up in fixed mode: X (0) checked Y (1) before Y's tracker
 * ran and, with retry_max 1, never checks again.  Y's snapshot push proves
 * its tracker runs, so X takes Y as a node and answers it. */
static void test_fixed_sync_adopts_unchecked_peer(void **state)
{
    (void)state;
    struct harness *h = h_unchecked_pair(TRK_FIXED);
    assert_int_equal(trk_node_count(T(0)), 0);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_RETRY_CHECK), 0);
    h_learn(h, 1, 0);
    h_settle(h);
    assert_int_equal(trk_node_count(T(1)), 1);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN); /* pushes its snapshot to X */
    h_settle(h);
    assert_true(h_knows(h, 0, 1));
    assert_true(h_knows(h, 1, 0));
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    h_settle(h);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
}

static void test_fixed_start(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_start_all_connected(h, 3);
    h_cmd(h, 0, "register", "a", NULL, 3);
    assert_int_equal(h->n[0].reply_count, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    h_cmd(h, 0, "call", "a", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_last_reply(h, 0)->value, 3);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    h_settle(h); /* snapshots and the track, all in cluster_wait */
    for (int i = 0; i < 3; i++) {
        h_fire(h, i, TRK_TIMER_CLUSTER_JOIN);
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
        assert_null(trk_waiting_for(T(i)));
        assert_int_equal(h_armed(h, i, TRK_TIMER_ANTI_ENTROPY), 1);
        for (size_t k = 0; k < h->n[i].timer_count; k++)
            if (h->n[i].timers[k].armed)
                assert_true(trk_timer_can_progress(T(i), h->n[i].timers[k].tag));
        for (unsigned kind = TRK_TIMER_CLUSTER_JOIN; kind <= TRK_TIMER_CALL_TIMEOUT; kind++)
            assert_true(trk_timer_can_progress(T(i), TRK_TAG(kind, 0)));
    }
    h_settle(h);
    h_run_until(h, h->now + CS_SEC(700)); /* anti-entropy rounds */
    h_settle(h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
        assert_pending(h, i, "");
        assert_string_equal(h_owner(h, i, "a"), NAME[0]);
        assert_same_registry(h, 0, i);
    }
}

/* 12b. Duplicates resolved: A and B track apart and both register x (one
 * write each, so equal versions: the larger handle, B's, wins); then they
 * connect and exchange snapshots, A's messages first or B's first.  Both
 * orders end with one owner everywhere and one live process; the loser's
 * process is killed, and a call reaches the winner's counter. */
static void test_fixed_duplicates_converge(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct harness *h = h_new(TRK_FIXED, 2);
        h_start_alone(h, 0);
        h_start_alone(h, 1);
        h_cmd(h, 0, "register", "x", NULL, 10);
        h_cmd(h, 1, "register", "x", NULL, 20);
        uint64_t h0 = h_proc_handle(h, 0, "x"), h1 = h_proc_handle(h, 1, "x");
        assert_true(h1 > h0);
        h_link(h, 0, 1);
        h_settle_pref(h, order);
        for (int i = 0; i < 2; i++) {
            assert_string_equal(h_owner(h, i, "x"), NAME[1]);
            assert_true(h_entry(h, i, "x")->handle == h1);
        }
        assert_same_registry(h, 0, 1);
        assert_int_equal(h_procs(h, 0, "x"), 0);
        assert_int_equal(h_procs(h, 1, "x"), 1);
        for (int i = 0; i < 2; i++) /* the loser was killed: no process outlived its name */
            assert_int_equal(trk_stray_processes(T(i), NULL, 0), 0);
        assert_true(trk_stats(T(0))->conflicts + trk_stats(T(1))->conflicts > 0);
        h_cmd(h, 0, "call", "x", NULL, 0);
        h_settle(h);
        assert_string_equal(h_last_reply(h, 0)->status, "ok");
        assert_int_equal(h_last_reply(h, 0)->value, 20);
        h_free(h);
        H = NULL;
    }
}

/* The stray-process count behind `losers_killed`: a process whose name its
 * node's registry no longer gives it is counted and named. */
static void test_stray_processes_counted(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 1);
    h_start_alone(h, 0);
    h_cmd(h, 0, "register", "kept", NULL, 1);
    h_cmd(h, 0, "register", "lost", NULL, 2);
    char first[32] = "";
    assert_int_equal(trk_stray_processes(T(0), first, sizeof first), 0);
    struct reg_entry *e = registry_get(&T(0)->reg, "lost");
    assert_non_null(e);
    trk_digest_out(T(0), e);
    registry_remove(&T(0)->reg, "lost"); /* the name went elsewhere; the process lives on */
    assert_int_equal(trk_stray_processes(T(0), first, sizeof first), 1);
    assert_string_equal(first, "lost");
    h_free(h);
    H = NULL;
}

/* 12c. Deletions propagate.  Three fixed trackers; A registers u, all
 * learn it; A unregisters u: B gets the untrack, C's copy is lost.  C's
 * anti-entropy digest differs from B's, so B pushes its snapshot: its
 * tombstone removes u at C, and C's answer (u live, stale) does not
 * revive u at B. */
static void test_fixed_unregister_propagates(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    h_cmd(h, 0, "register", "u", NULL, 1);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_string_equal(h_owner(h, i, "u"), NAME[0]);
    h_cmd(h, 0, "unregister", "u", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_procs(h, 0, "u"), 0);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_UNTRACK);
    h_drop(h, 0, 2);
    assert_null(h_entry(h, 1, "u"));
    assert_non_null(h_entry(h, 2, "u"));
    h_pick(h, 2, 1);
    h_fire(h, 2, TRK_TIMER_ANTI_ENTROPY);
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_DIGEST);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_PULL);      /* 1 pulls from 2 */
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_SYNC_ACK);  /* 2's live copy: the tombstone wins */
    assert_null(h_entry(h, 1, "u"));
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_PULL);      /* they differed: 2 pulls back */
    assert_non_null(h_entry(h, 2, "u"));
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_SYNC_ACK);  /* 1's tombstone */
    assert_null(h_entry(h, 2, "u"));
    h_settle(h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_count(h, i), 0);
        assert_same_registry(h, 0, i);
    }
}

/* 12d. A restarted node gets the registry back.  A and B track together;
 * B registers r, A registers q and starts s on the ring.  A crashes: B
 * drops q (A's plain registration) and keeps s running (restarted on B if
 * A owned it).  A comes back with a new creation, connects, syncs: it
 * holds B's registry again, and s runs exactly once. */
static void test_fixed_restart_gets_registry(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 1, "register", "r", NULL, 5);
    h_cmd(h, 0, "register", "q", NULL, 6);
    char s[32];
    const int both[2] = {0, 1};
    name_owned_by(h, both, 2, 0, "s", s, sizeof s);
    h_cmd(h, 0, "register_started", s, NULL, 7);
    h_settle(h);
    assert_same_registry(h, 0, 1);
    assert_int_equal(h_count(h, 1), 3);

    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    h_settle(h);
    assert_null(h_entry(h, 1, "q"));
    assert_string_equal(h_owner(h, 1, s), NAME[1]);
    assert_int_equal(h_procs(h, 1, s), 1);

    h_restart(h, 0, 42);
    h_start(h, 0);
    h_link(h, 0, 1);
    h_settle(h);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    h_settle(h);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 0, "r"), NAME[1]);
    assert_null(h_entry(h, 0, "q"));
    assert_same_registry(h, 0, 1);
    assert_int_equal(h_count(h, 0), 2);
    assert_int_equal(h_procs(h, 0, s) + h_procs(h, 1, s), 1);
    const char *owner = h_owner(h, 0, s);
    assert_non_null(owner);
    assert_int_equal(h_procs(h, h_index(h, owner), s), 1);
    h_cmd(h, 0, "whereis", "r", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[1]);
}

/* A writer that dies with its write on one side: node 3 starts a process
 * it owns, its copy reaches node 2 alone (the frames to 0 and 1 are lost),
 * and node 3 dies.  The name's ring owner over the survivors, node 0,
 * never heard of it; node 2 holds the dead owner's copy and is not its
 * ring owner, so it waits for node 0 to restart it, which node 0 never
 * would.  At its second look (TRK_TIMER_ORPHANS, after sync_timeout) node
 * 2 sends its copy to node 0, which takes it and, at its own second look,
 * restarts the process; everyone then holds node 0's copy.  Without the second look's send only anti-entropy
 * would bring the copy over (tests/open had it at 25.5 s). */
static void test_fixed_orphan_goes_to_ring_owner(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 4);
    h_cluster(h, 4);
    const int all[4] = {0, 1, 2, 3}, survivors[3] = {0, 1, 2};
    char n[32];
    struct ring *before = ring_new(RING_POINTS_DEFAULT, 0), *after = ring_new(RING_POINTS_DEFAULT, 0);
    assert_non_null(before);
    assert_non_null(after);
    for (int k = 0; k < 4; k++)
        ring_add(before, NAME[all[k]]);
    for (int k = 0; k < 3; k++)
        ring_add(after, NAME[survivors[k]]);
    int k = 0;
    for (; k < 10000; k++) {
        snprintf(n, sizeof n, "orphan%d", k);
        if (strcmp(ring_owner(before, n), NAME[3]) == 0 && strcmp(ring_owner(after, n), NAME[0]) == 0)
            break;
    }
    assert_true(k < 10000);
    ring_free(before);
    ring_free(after);
    h_cmd(h, 3, "register_started", n, NULL, 7);
    assert_string_equal(h_last_reply(h, 3)->status, "ok");
    h_drop(h, 3, 0);
    h_drop(h, 3, 1);
    h_settle(h);
    assert_string_equal(h_owner(h, 2, n), NAME[3]);
    assert_null(h_entry(h, 0, n));
    h_crash(h, 3);
    for (int i = 0; i < 3; i++)
        trk_nodedown(T(i), NAME[3]);
    h_settle(h);
    assert_string_equal(h_owner(h, 2, n), NAME[3]); /* still the dead owner's: node 0 restarts it, not 2 */
    assert_null(h_entry(h, 0, n));
    assert_int_equal(h_armed(h, 2, TRK_TIMER_ORPHANS), 1);
    h_fire(h, 2, TRK_TIMER_ORPHANS);
    assert_int_equal(h_pending_type(h, 2, 0, TRK_MSG_TRACK) + h_pending_type(h, 2, 0, TRK_MSG_BATCH), 1);
    h_settle(h);
    assert_string_equal(h_owner(h, 0, n), NAME[3]); /* taken: its owner gone, node 0 looks again */
    assert_int_equal(h_armed(h, 0, TRK_TIMER_ORPHANS), 1);
    h_fire(h, 0, TRK_TIMER_ORPHANS);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_string_equal(h_owner(h, i, n), NAME[0]);
    assert_int_equal(h_procs(h, 0, n), 1);
}

/* 12e. No waiting without a timeout: a call forwarded to the owner whose
 * answer never comes (the request is lost) is answered with a timeout. */
static void test_fixed_forwarded_call_times_out(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 1, "register", "r", NULL, 5);
    h_settle(h);
    h_cmd(h, 0, "call", "r", NULL, 0);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_REQUEST), 1);
    size_t replies = h->n[0].reply_count;
    h_drop(h, 0, 1);
    h_run_until(h, h->now + CS_SEC(60));
    h_settle(h);
    assert_int_equal(h->n[0].reply_count, replies + 1);
    assert_string_equal(h_last_reply(h, 0)->op, "call");
    assert_string_equal(h_last_reply(h, 0)->status, "timeout");
}

/* The bucket of a name, as the pull protocol defines it (the top
 * TRK_BUCKET_BITS bits of the name's XXH3). */
static unsigned name_bucket(const char *name)
{
    return (unsigned)(XXH3_64bits(name, strlen(name)) >> (64 - TRK_BUCKET_BITS));
}

/* How many of node i's entries lie in the buckets of names a and b (a
 * single bucket when a and b are the same name). */
static uint32_t entries_in_buckets(struct harness *h, int i, const char *a, const char *b, int names)
{
    uint32_t n = 0;
    char name[32];
    for (int k = 0; k < names; k++) {
        snprintf(name, sizeof name, "s%d", k);
        unsigned bk = name_bucket(name);
        n += h_entry(h, i, name) && (bk == name_bucket(a) || bk == name_bucket(b));
    }
    return n + (h_entry(h, i, a) != NULL) + (strcmp(a, b) != 0 && h_entry(h, i, b) != NULL);
}

/* 12f. A pull carries only the buckets of names in which the two differ.
 * A and B share 200 names; A alone has a3, B alone b2 (their broadcasts
 * lost).  A's anti-entropy digest differs from B's: B pulls, and A's
 * answer holds its entries of the buckets of a3 and b2, nothing else; A
 * pulls back (its digest sent after that answer) and gets B's entries of
 * b2's bucket, the one they still differ in; then both hold the same 202. */
static void test_fixed_pull_carries_only_what_differs(void **state)
{
    (void)state;
    enum { SHARED = 200 };
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    char name[32];
    for (int k = 0; k < SHARED; k++) {
        snprintf(name, sizeof name, "s%d", k);
        h->n[k % 2].reply_count = 0; /* the harness keeps 64 replies */
        h_cmd(h, k % 2, "register", name, NULL, k + 1);
    }
    h_settle(h);
    assert_same_registry(h, 0, 1);
    h_cmd(h, 0, "register", "a3", NULL, 4);
    h_drop(h, 0, 1);
    h_cmd(h, 1, "register", "b2", NULL, 5);
    h_drop(h, 1, 0);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_ANTI_ENTROPY);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_DIGEST);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_PULL);
    const struct hmsg *answer = h_find(h, 0, 1, TRK_MSG_SYNC_ACK);
    assert_non_null(answer);
    uint32_t expected = entries_in_buckets(h, 0, "a3", "b2", SHARED);
    assert_true(expected < SHARED / 4); /* two buckets of TRK_BUCKETS */
    assert_int_equal(h_snapshot_count(answer), expected);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
    assert_non_null(h_entry(h, 1, "a3"));
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_PULL); /* they differed: A pulls back */
    answer = h_find(h, 1, 0, TRK_MSG_SYNC_ACK);
    assert_non_null(answer);
    assert_int_equal(h_snapshot_count(answer), entries_in_buckets(h, 1, "b2", "b2", SHARED));
    h_settle(h);
    assert_int_equal(h_count(h, 0), SHARED + 2);
    assert_non_null(h_entry(h, 0, "b2"));
    assert_same_registry(h, 0, 1);
}

/* A pull between agreeing trackers is answered by an empty snapshot. */
static void test_fixed_pull_agreeing_is_empty(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_settle(h);
    uint8_t buf[H_PULL_LEN];
    struct trk_content_digest d[TRK_BUCKETS];
    assert_true(trk_bucket_digests(T(1), d));
    size_t len = h_forge_pull(buf, sizeof buf, TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK, d);
    trk_message(T(0), NAME[1], buf, len);
    const struct hmsg *answer = h_find(h, 0, 1, TRK_MSG_SYNC_ACK);
    assert_non_null(answer);
    assert_int_equal(h_snapshot_count(answer), 0);
    /* one byte short: malformed, counted, unanswered */
    uint64_t malformed = trk_stats(T(0))->malformed;
    h_settle(h);
    trk_message(T(0), NAME[1], buf, len - 1);
    assert_int_equal(trk_stats(T(0))->malformed, malformed + 1);
    assert_null(h_find(h, 0, 1, TRK_MSG_SYNC_ACK));
    /* asks it cannot: more than TRK_PULL_ASKS, a full pull back without a pull back */
    const uint8_t bad_asks[] = {TRK_PULL_ASKS + 1, TRK_PULL_ASK_BACK_FULL, TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK_FULL};
    for (size_t i = 0; i < sizeof bad_asks; i++) {
        buf[1] = bad_asks[i];
        trk_message(T(0), NAME[1], buf, len);
    }
    assert_int_equal(trk_stats(T(0))->malformed, malformed + 1 + sizeof bad_asks);
    assert_null(h_find(h, 0, 1, TRK_MSG_SYNC_ACK));
}

/* 12g. A started process taken over under another view moves on.  Node 0
 * hands m (which the three-node ring places on node 2) to node 1, as a
 * node whose ring lacked node 2 would.  Node 1 takes it, and, its own ring
 * naming node 2, looks again after sync_timeout: then it hands m to node
 * 2, where it stays.  A handoff to the ring owner arms nothing. */
static void test_fixed_misplaced_handoff_moves_on(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    const int all[3] = {0, 1, 2};
    char name[32];
    name_owned_by(h, all, 3, 2, "m", name, sizeof name);
    uint8_t clock[16], buf[1024];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct fentry m = {name, NAME[0], (uint64_t)1 << 32 | 77, 5, REG_STARTED, clock, cl};
    size_t len = forge_event(buf, sizeof buf, TRK_MSG_HANDOFF, &m);
    memset(buf + len, 0, 8); /* the handed-over state: 0 */
    assert_int_equal(h_armed(h, 1, TRK_TIMER_ORPHANS), 0);
    trk_message(T(1), NAME[0], buf, len + 8);
    assert_int_equal(h_procs(h, 1, name), 1);
    assert_int_equal(h_armed(h, 1, TRK_TIMER_ORPHANS), 1);
    h_settle(h);
    assert_string_equal(h_owner(h, 0, name), NAME[1]);
    h_fire(h, 1, TRK_TIMER_ORPHANS);
    assert_int_equal(h_pending_type(h, 1, 2, TRK_MSG_HANDOFF), 1);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_string_equal(h_owner(h, i, name), NAME[2]);
    assert_int_equal(h_procs(h, 2, name), 1);
    assert_int_equal(h_armed(h, 2, TRK_TIMER_ORPHANS), 0);
}

/* ==== handoffs in flight (fixed mode) ======================================= */

/* A message taken out of the queue, to be delivered later (or never). */
struct held {
    uint8_t *data;
    size_t len;
};

/* Takes the oldest queued message from -> to of `type` out of the queue. */
static struct held h_hold(struct harness *h, int from, int to, int type)
{
    for (size_t k = 0; k < h->qlen; k++) {
        struct hmsg *m = &h->q[k];
        if (m->from == from && m->to == to && m->len && m->data[0] == type) {
            struct held out = {m->data, m->len};
            memmove(&h->q[k], &h->q[k + 1], (h->qlen - k - 1) * sizeof *h->q);
            h->qlen--;
            return out;
        }
    }
    fail_msg("no message of type %d from %d to %d", type, from, to);
    return (struct held){NULL, 0};
}

/* Delivers a held message to node `to` as if from node `from`, and frees it. */
static void h_release(struct harness *h, struct held *m, int from, int to)
{
    trk_message(T(to), h->n[from].name, m->data, m->len);
    free(m->data);
    *m = (struct held){NULL, 0};
}

/* Whether a queued message's bytes contain `text`. */
static bool holds_text(const struct hmsg *msg, const char *text)
{
    size_t n = strlen(text);
    for (size_t k = 0; k + n <= msg->len; k++)
        if (memcmp(msg->data + k, text, n) == 0)
            return true;
    return false;
}

/* How many processes of this name run in the whole cluster. */
static int procs_everywhere(struct harness *h, const char *name)
{
    int n = 0;
    for (int i = 0; i < h->count; i++)
        n += h_procs(h, i, name);
    return n;
}

/* How many handoffs node i has sent so far. */
static uint64_t handoffs_sent(int i)
{
    return trk_stats(T(i))->handoffs_sent;
}

/* The set-up of tests 12h and 12i.  Every node of `count` starts alone; nodes
 * 0 and 1 track together, and 0 runs the started name `m` (which the ring
 * over {0, 1} keeps on 0); node 2 joins them, and the ring over {0, 1, 2}
 * puts m on 2 (as do the rings over {0, 1, 2, 3} and {0, 2}).  Once node
 * 0's list has been still for placement_settle it hands m to node 2: that
 * HANDOFF is taken out of the queue, undelivered, into *handoff. */
static struct harness *handed_off_to_2(int count, char *m, size_t size, struct held *handoff)
{
    struct harness *h = h_new(TRK_FIXED, count);
    const struct placement p[] = {{0x3, 0}, {0x7, 2}, {0xf, 2}, {0x5, 2}};
    h_name_placed(h, p, 4, "m", m, size);
    for (int i = 0; i < count; i++)
        h_start_alone(h, i);
    h_link(h, 0, 1);
    h_settle(h);
    h_cmd(h, 0, "register_started", m, NULL, 7);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    h_settle(h);
    assert_string_equal(h_owner(h, 1, m), NAME[0]);
    h_link(h, 0, 2);
    h_settle(h);
    h_link(h, 1, 2);
    h_settle(h);
    assert_int_equal(handoffs_sent(0), 0); /* the list just changed: handoffs wait */
    h_fire(h, 0, TRK_TIMER_PLACEMENT);
    assert_int_equal(handoffs_sent(0), 1);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_HANDOFF), 1);
    *handoff = h_hold(h, 0, 2, TRK_MSG_HANDOFF);
    h_settle(h);
    assert_int_equal(h_procs(h, 0, m), 1); /* it runs until the new owner's copy comes */
    assert_string_equal(h_owner(h, 0, m), NAME[0]);
    return h;
}

/* ---- 12h: no second handoff while one is in flight ------------------------- */

/* 12h. Node 0 handed started m to its ring owner, node 2, and before 2's
 * copy comes back the topology changes again: node 3 joins everyone (a
 * pass on node 0 when it takes node 3 as a node, more after its syncs),
 * and the list then stays still past placement_settle (any placement timer
 * fires), all before the second look.  m is still on node 0, still off its
 * ring owner (node 2 in the four-node ring too), but already handed off:
 * no second HANDOFF, to node 2 or anyone.  Then the first one arrives:
 * node 2 runs m, its copy reaches node 0, whose process is ended: one
 * process cluster-wide, owned by node 2 everywhere. */
static void test_handoff_not_repeated_by_next_pass(void **state)
{
    (void)state;
    char m[32];
    struct held handoff;
    struct harness *h = handed_off_to_2(4, m, sizeof m, &handoff);
    const struct htimer *look = h_timer(h, 0, TRK_TIMER_ORPHANS); /* armed by the handoff */
    assert_non_null(look);
    cs_time second_look = look->due;
    uint64_t changes = T(0)->node_changes;
    for (int i = 0; i < 3; i++) {
        h_link(h, i, 3);
        h_settle(h);
    }
    assert_true(h_knows(h, 0, 3));
    assert_true(T(0)->node_changes > changes); /* so a pass ran */
    h_run_until(h, h->now + 2 * h->cfg.placement_settle); /* the list settled */
    h_settle(h);
    assert_true(h->now < second_look);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_ORPHANS), 1);
    assert_int_equal(handoffs_sent(0), 1);
    assert_int_equal(h_pending_type(h, 0, -1, TRK_MSG_HANDOFF), 0);
    assert_int_equal(h_procs(h, 0, m), 1);

    h_release(h, &handoff, 0, 2);
    assert_int_equal(h_procs(h, 2, m), 1);
    h_settle(h);
    assert_int_equal(h_procs(h, 0, m), 0);
    assert_int_equal(procs_everywhere(h, m), 1);
    for (int i = 0; i < 4; i++)
        assert_string_equal(h_owner(h, i, m), NAME[2]);
    /* the second look, sync_timeout later, finds m gone from node 0 */
    h_run_until(h, h->now + CS_SEC(30));
    h_settle(h);
    assert_int_equal(handoffs_sent(0), 1);
    assert_int_equal(procs_everywhere(h, m), 1);
}

/* ---- 12i: a lost handoff is sent again ------------------------------------- */

/* Node 0 has sent its second handoff of m to node 2; delivered, m runs
 * once, on node 2, which the first `nodes` nodes name as its owner. */
static void assert_resent_and_run_once(struct harness *h, const char *m, int nodes)
{
    assert_int_equal(handoffs_sent(0), 2);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_HANDOFF), 1);
    h_settle(h);
    assert_int_equal(procs_everywhere(h, m), 1);
    assert_int_equal(h_procs(h, 2, m), 1);
    for (int i = 0; i < nodes; i++)
        assert_string_equal(h_owner(h, i, m), NAME[2]);
}

/* 12i (b1). Node 0's handoff of m to node 2 is lost.  Then node 1, a
 * bystander, leaves node 0's list: the handoff may have gone down with a
 * link, so the mark is forgotten and, once the list has settled
 * (placement_settle later, well before the second look), m is handed to
 * node 2 again; that one arrives, and m runs once, on node 2. */
static void test_handoff_resent_after_node_leaves(void **state)
{
    (void)state;
    char m[32];
    struct held handoff;
    struct harness *h = handed_off_to_2(3, m, sizeof m, &handoff);
    free(handoff.data); /* lost */
    trk_nodedown(T(0), NAME[1]);
    assert_false(h_knows(h, 0, 1));
    const struct htimer *look = h_timer(h, 0, TRK_TIMER_ORPHANS); /* armed by the handoff */
    assert_non_null(look);
    cs_time second_look = look->due;
    h_run_until(h, h->now + 2 * h->cfg.placement_settle); /* the list settled */
    assert_true(h->now < second_look);
    assert_resent_and_run_once(h, m, 1);
}

/* The count behind a topology pass's shortcut (walk our own entries
 * alone while every other owner of a live entry is a node): a node that
 * leaves owning entries counts, one that comes back does not, and
 * trk_check finds a count that drifted. */
static void test_owners_not_nodes_counted(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    for (int i = 0; i < 3; i++)
        h_start_alone(h, i);
    h_link(h, 1, 2);
    h_settle(h);
    h_cmd(h, 1, "register", "of-1", NULL, 1);
    h_settle(h);
    char why[200];
    assert_true(trk_check(T(0), why, sizeof why));
    h_link(h, 0, 2); /* node 0 hears of node 1's entry from node 2, never from 1 */
    h_settle(h);
    assert_string_equal(h_owner(h, 0, "of-1"), NAME[1]);
    assert_false(h_knows(h, 0, 1));
    assert_int_equal(T(0)->owners_not_nodes, 1);
    if (!trk_check(T(0), why, sizeof why))
        fail_msg("%s", why);
    T(0)->owners_not_nodes = 0; /* drifted */
    assert_false(trk_check(T(0), why, sizeof why));
    assert_non_null(strstr(why, "are not nodes"));
    T(0)->owners_not_nodes = 1;
    h_link(h, 0, 1); /* the owner becomes a node */
    h_settle(h);
    assert_true(h_knows(h, 0, 1));
    assert_int_equal(T(0)->owners_not_nodes, 0);
    assert_true(trk_check(T(0), why, sizeof why));
    (void)h; /* h_teardown frees it */
}

/* 12i (b2). The same lost handoff, and no node leaves: the second look,
 * sync_timeout after the handoff, forgets the mark and hands m to node 2
 * again; that one arrives, and m runs once, on node 2. */
static void test_handoff_resent_at_second_look(void **state)
{
    (void)state;
    char m[32];
    struct held handoff;
    struct harness *h = handed_off_to_2(3, m, sizeof m, &handoff);
    free(handoff.data); /* lost */
    assert_int_equal(h_armed(h, 0, TRK_TIMER_ORPHANS), 1);
    h_fire(h, 0, TRK_TIMER_ORPHANS);
    assert_resent_and_run_once(h, m, 3);
}

/* ---- 12j: the old owner's copy after the new one --------------------------- */

/* The set-up of tests 12j.  Nodes 0 and 2 track together; 0 runs started
 * m, which the ring over {0, 2} keeps on 0; node 1 joins both, the ring
 * over {0, 1, 2} puts m on 1, and 0 hands it off once its list settled.
 * Node 1 takes it and sends its copy (same origin, newer version) to 0
 * and 2; node 2 merges it (its copy of 0's is replaced: no KILL either,
 * both owners being its nodes), and 1's copy to node 0 stays queued. */
static struct harness *bystander_holds_new_copy(char *m, size_t size)
{
    struct harness *h = h_new(TRK_FIXED, 3);
    const struct placement p[] = {{0x5, 0}, {0x7, 1}};
    h_name_placed(h, p, 2, "m", m, size);
    for (int i = 0; i < 3; i++)
        h_start_alone(h, i);
    h_link(h, 0, 2);
    h_settle(h);
    h_cmd(h, 0, "register_started", m, NULL, 7);
    h_settle(h);
    assert_string_equal(h_owner(h, 2, m), NAME[0]);
    h_link(h, 1, 0);
    h_settle(h);
    h_link(h, 1, 2);
    h_settle(h);
    h_fire(h, 0, TRK_TIMER_PLACEMENT);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_HANDOFF);
    assert_int_equal(h_procs(h, 1, m), 1);
    assert_int_equal(h_pending_type(h, 1, 2, TRK_MSG_TRACK), 1);
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_TRACK), 1);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_TRACK);
    assert_string_equal(h_owner(h, 2, m), NAME[1]);
    assert_int_equal(h_pending_type(h, 2, -1, TRK_MSG_KILL), 0);
    assert_string_equal(h_owner(h, 0, m), NAME[0]); /* node 0 still holds its own */
    assert_int_equal(h_procs(h, 0, m), 1);
    return h;
}

/* Node 0's anti-entropy round with node 2: its digest, 2's pull, and 0's
 * answer (a sync_ack with its entries of the buckets they differ in, m's
 * among them: node 0's own, older copy), which node 2 merges. */
static void old_copy_reaches_2_in_sync_ack(struct harness *h, const char *m)
{
    h_pick(h, 0, 2);
    h_fire(h, 0, TRK_TIMER_ANTI_ENTROPY);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_DIGEST);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_PULL);
    const struct hmsg *ack = h_find(h, 0, 2, TRK_MSG_SYNC_ACK);
    assert_non_null(ack);
    assert_true(holds_text(ack, m)); /* m's old copy is in it */
    h_deliver_type(h, 0, 2, TRK_MSG_SYNC_ACK);
    assert_string_equal(h_owner(h, 2, m), NAME[1]); /* the newer copy stays */
}

/* 12j (c1). Node 2 holds node 1's copy of m (the handoff's) and then gets node
 * 0's older copy of the same origin in a sync_ack: both owners are its
 * nodes, and node 0 gets node 1's copy as node 2 did, so node 2 sends no
 * KILL to node 0 (that is left to node 1's copy).  Node 1's copy then
 * reaches node 0 and ends its process: one process cluster-wide. */
static void test_bystander_leaves_kill_to_new_owner(void **state)
{
    (void)state;
    char m[32];
    struct harness *h = bystander_holds_new_copy(m, sizeof m);
    uint64_t conflicts = trk_stats(T(2))->conflicts;
    old_copy_reaches_2_in_sync_ack(h, m);
    assert_int_equal(h_pending_type(h, 2, 0, TRK_MSG_KILL), 0);
    assert_int_equal(trk_stats(T(2))->conflicts, conflicts);
    h_settle(h);
    assert_int_equal(h_procs(h, 0, m), 0);
    assert_int_equal(procs_everywhere(h, m), 1);
    for (int i = 0; i < 3; i++)
        assert_string_equal(h_owner(h, i, m), NAME[1]);
}

/* 12j (c2). The same, but node 1 (the new owner) left node 2's list after node
 * 2 took its copy (node 2 keeps that copy: the ring without node 1 puts m
 * on node 0, which restarts it if anyone does).  When node 0's older copy
 * comes, node 2 cannot count on node 1's copy reaching node 0, and sends
 * node 0 the KILL of its process. */
static void test_bystander_kills_when_new_owner_not_its_node(void **state)
{
    (void)state;
    char m[32];
    struct harness *h = bystander_holds_new_copy(m, sizeof m);
    trk_nodedown(T(2), NAME[1]);
    assert_false(h_knows(h, 2, 1));
    assert_true(h_knows(h, 2, 0));
    assert_string_equal(h_owner(h, 2, m), NAME[1]);
    assert_int_equal(h_pending_type(h, 2, 0, TRK_MSG_KILL), 0);
    old_copy_reaches_2_in_sync_ack(h, m);
    assert_int_equal(h_pending_type(h, 2, 0, TRK_MSG_KILL), 1);
    const struct hmsg *kill = h_find(h, 2, 0, TRK_MSG_KILL);
    struct cs_reader r; /* it names node 0's process */
    char name[32];
    cs_reader_init(&r, kill->data, kill->len);
    assert_int_equal(cs_get_u8(&r), TRK_MSG_KILL);
    cs_get_str(&r, name, sizeof name);
    uint64_t handle = cs_get_u64(&r);
    assert_false(r.bad);
    assert_string_equal(name, m);
    assert_true(handle == h_proc_handle(h, 0, m));
}

/* ---- the group ------------------------------------------------------------- */

int test_tracker_fixed_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_fixed_start),
        T_(test_fixed_sync_adopts_unchecked_peer),
        T_(test_fixed_duplicates_converge),
        T_(test_stray_processes_counted),
        T_(test_fixed_unregister_propagates),
        T_(test_fixed_restart_gets_registry),
        T_(test_fixed_orphan_goes_to_ring_owner),
        T_(test_fixed_forwarded_call_times_out),
        T_(test_fixed_pull_carries_only_what_differs),
        T_(test_fixed_pull_agreeing_is_empty),
        T_(test_fixed_misplaced_handoff_moves_on),
        T_(test_handoff_not_repeated_by_next_pass),
        T_(test_handoff_resent_after_node_leaves),
        T_(test_owners_not_nodes_counted),
        T_(test_handoff_resent_at_second_look),
        T_(test_bystander_leaves_kill_to_new_owner),
        T_(test_bystander_kills_when_new_owner_not_its_node),
    };
    return cmocka_run_group_tests_name("tracker-fixed", tests, NULL, NULL);
}
