/*
 * tests/test_tracker_swarm_events.c: how a swarm tracker handles events
 * around a sync (group "tracker-swarm-events"), on the harness of
 * tracker_harness.h: the postpone rule and the order of postponed events,
 * serving the pending list (head == sync node, head in nodes, from
 * awaiting_sync_ack), replicated tracks by clock order (concurrent, equal,
 * newer, older), a stale sync_recv, and a graceful stop against a crash.
 *
 * Each test says the interleaving it builds; expected outcomes come from
 * docs/swarm-model.md.  Messages the tests forge or read
 * follow the wire layout of core/tracker/codec.c.
 */
#include "tests.h"
#include "tracker_harness.h"

#include "../core/ring.h"
#include "../core/wire.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers of these tests ---- */

/* The order of two encoded stamps. */
static enum itc_order clock_order(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
    struct itc_arena *a = itc_arena_new();
    assert_non_null(a);
    struct itc_stamp sx, sy;
    assert_true(itc_decode(a, x, xl, &sx) >= 0);
    assert_true(itc_decode(a, y, yl, &sy) >= 0);
    enum itc_order o = itc_compare(sx, sy);
    itc_arena_free(a);
    return o;
}

/* The entry clock of a queued TRK_MSG_TRACK. */
static size_t msg_track_clock(const struct hmsg *m, uint8_t *clock)
{
    struct cs_reader r;
    cs_reader_init(&r, m->data, m->len);
    assert_int_equal(cs_get_u8(&r), TRK_MSG_TRACK);
    struct trk_wire_entry we;
    assert_true(trk_get_entry(&r, &we));
    memcpy(clock, we.clock, we.clock_len);
    return we.clock_len;
}

/* Writes into `out` (and returns) the name of the ring owner of `name`
 * over the given nodes. */
static const char *ring_owner_of(struct harness *h, const int *nodes, int count, const char *name,
                                 char *out, size_t size)
{
    struct ring *r = ring_new(RING_POINTS_DEFAULT, h->cfg.static_quorum);
    assert_non_null(r);
    for (int k = 0; k < count; k++)
        ring_add(r, h->n[nodes[k]].name);
    snprintf(out, size, "%s", ring_owner(r, name));
    ring_free(r);
    return out;
}

/* ==== swarm mode: events around a sync ===================================== */

/* 8a. The postpone rule.  B (1) and C (2) track together; A (0) joins and
 * syncs to B.  While A is syncing: a register of x on A, C's replicated
 * track of y and a whereis of y on A are postponed (no reply, y not in
 * A's table).  When B's sync_recv (without y: B's copy of the track is
 * held back) moves A to tracking, they run in their original order: the
 * register is answered, then y is known locally for the whereis. */
static void test_swarm_postpone(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start_alone(h, 2);
    h_link(h, 1, 2);
    h_settle(h);
    h_start(h, 0);
    h_link(h, 0, 1);
    h_link(h, 0, 2);
    h_settle(h);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);

    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 2, "register", "y", NULL, 2);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_TRACK);
    h_cmd(h, 0, "whereis", "y", NULL, 0);
    assert_int_equal(h->n[0].reply_count, 0);
    assert_null(h_entry(h, 0, "y"));
    assert_null(h_entry(h, 0, "x"));
    assert_int_equal(trk_stats(T(0))->postponed, 3);
    assert_int_equal(trk_last_reply(T(0))->op[0], 0);

    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->n[0].reply_count, 2);
    assert_string_equal(h->n[0].replies[0].op, "register");
    assert_string_equal(h->n[0].replies[0].name, "x");
    assert_string_equal(h->n[0].replies[0].status, "ok");
    assert_string_equal(h->n[0].replies[1].op, "whereis");
    assert_string_equal(h->n[0].replies[1].status, "ok");
    assert_string_equal(h->n[0].replies[1].owner, NAME[2]);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
    assert_same_registry(h, 0, 1);
    assert_same_registry(h, 0, 2);
}

/* 8b. Order across a state change in the middle of re-delivery.  X (0)
 * syncs to Y (1), which parks it; X crashes and restarts; Y re-adds X,
 * syncs with Z (2) and then serves X's old request with a sync_recv.  The
 * new X, in cluster_wait, postpones a register c1, that sync_recv and a
 * register c2; its cluster_join picks Y.  On entering syncing, c1 is
 * postponed again, the sync_recv completes the sync (tracking) and the
 * postponed events must come back in their original order: c1 before c2. */
static void test_swarm_postponed_order(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    for (int i = 0; i < 3; i++)
        h_start(h, i);
    h_learn(h, 1, 0);
    h_learn(h, 1, 2);
    h_learn(h, 0, 1);
    h_learn(h, 2, 1);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_pending(h, 1, PID[0]);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    h_restart(h, 0, 10);
    h_start(h, 0);
    h_learn(h, 1, 0);
    h_cmd(h, 0, "register", "c1", NULL, 1);
    h_pick(h, 1, 2);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    h_cmd(h, 0, "register", "c2", NULL, 2);
    assert_int_equal(h->n[0].reply_count, 0);
    h_learn(h, 0, 1);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->n[0].reply_count, 2);
    assert_string_equal(h->n[0].replies[0].name, "c1");
    assert_string_equal(h->n[0].replies[1].name, "c2");
}

/* 9a. Serving the pending list, head == sync_node (PR #118).  B (1) picks
 * A (0); A, in cluster_wait with two peers, parks B; A picks B; B,
 * syncing to A, gets A's sync, wins the tie-break and leads.  A completes
 * on B's sync_recv: the parked head is its sync node and is dropped, so A
 * goes to tracking instead of sending B a second sync_recv. */
static void test_swarm_serve_drops_sync_node(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 1, 0);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC);
    assert_pending(h, 0, PID[1]);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_pending(h, 0, "");
    assert_sync_node(h, 0, -1);
    assert_int_equal(h_pending(h, 0, 1), 1);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h->qlen, 0);
}

/* 9b. Serving the pending list, head in nodes.  B (1) tracks alone; C (2)
 * knows only A.  A (0) knows B and C.  C picks A and is parked; A picks B
 * and completes with B; serving C: A forks its clock, sends C a sync_recv
 * and goes to awaiting_sync_ack with C as sync node.  C completes, A
 * tracks on C's ack. */
static void test_swarm_serve_head_in_nodes(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start(h, 0);
    h_start(h, 2);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 2, 0);
    h_pick(h, 2, 0);
    h_fire(h, 2, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC);
    assert_pending(h, 0, PID[2]);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(0)), NAME[2]);
    assert_pending(h, 0, "");
    assert_contains(h_dump(h, 0), "clock: {{1, 0}, 0}");
    const struct hmsg *m = h_find(h, 0, 2, TRK_MSG_SYNC_RECV);
    assert_non_null(m);
    char sender[CS_NODE_NAME_MAX], text[128];
    msg_sync_clock(m, sender, text, sizeof text);
    assert_string_equal(text, "{{0, 1}, 0}");
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_stats(T(0))->syncs_completed, 2);
    assert_int_equal(h->qlen, 0);
}

/* 9c. Serving from awaiting_sync_ack stays in awaiting_sync_ack, and that
 * is not a state change: postponed events stay postponed.  C (2, the
 * greatest) parks A's sync in cluster_wait, picks B; B picks C; C gets B's
 * sync, wins the tie-break and leads; B drops C's sync and completes.  A
 * register on C is postponed meanwhile.  On B's ack C serves A: sync_recv,
 * still awaiting_sync_ack (the register is still unanswered); on A's ack C
 * tracks and answers it. */
static void test_swarm_serve_stays_awaiting(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 2);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_SYNC);
    assert_pending(h, 2, PID[0]);
    h_pick(h, 2, 1);
    h_fire(h, 2, TRK_TIMER_CLUSTER_JOIN);
    h_pick(h, 1, 2);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(2)), NAME[1]);
    h_cmd(h, 2, "register", "z", NULL, 1);
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_SYNC); /* B drops it */
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(2)), NAME[0]);
    assert_pending(h, 2, "");
    assert_int_equal(h->n[2].reply_count, 0);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    assert_int_equal(h->n[2].reply_count, 1);
    assert_string_equal(h_last_reply(h, 2)->status, "ok");
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
}

/* 10a. Replicated track, concurrent clocks.  A and B track together after
 * a sync (B led and forked its clock, so their clocks are the two halves).
 * Both register x before either track arrives; the tracks' clocks are
 * concurrent, so each side logs and keeps its own: both processes live and
 * the registries disagree. */
static void test_swarm_track_concurrent_kept(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_link(h, 0, 1);
    h_settle(h);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 1, "register", "x", NULL, 2);
    uint8_t c0[REG_CLOCK_MAX], c1[REG_CLOCK_MAX];
    size_t l0 = msg_track_clock(h_find(h, 0, 1, TRK_MSG_TRACK), c0);
    size_t l1 = msg_track_clock(h_find(h, 1, 0, TRK_MSG_TRACK), c1);
    assert_int_equal(clock_order(c0, l0, c1, l1), ITC_CONCURRENT);
    size_t warns = h->n[0].warn_count;
    h_settle(h);
    assert_string_equal(h_owner(h, 0, "x"), NAME[0]);
    assert_string_equal(h_owner(h, 1, "x"), NAME[1]);
    assert_int_equal(h_procs(h, 0, "x"), 1);
    assert_int_equal(h_procs(h, 1, "x"), 1);
    assert_true(h_sum(h, 0) != h_sum(h, 1));
    assert_int_equal(trk_stats(T(0))->conflicts, 0);
    assert_int_equal(trk_stats(T(1))->conflicts, 0);
    assert_true(h->n[0].warn_count > warns);
}

/* 10b. Replicated track, equal clocks (local <= remote on both sides).  A
 * syncs to B (B echoes A's clock), then B syncs to A (A echoes B's): both
 * keep the seed clock, so their registrations carry equal clocks.  Both
 * register x; each track finds local <= remote, so each side kills its own
 * process and records the other's: nobody runs x any more. */
static void test_swarm_track_equal_replaces(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_learn(h, 0, 1);
    h_settle(h);
    h_learn(h, 1, 0);
    h_settle(h);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_contains(h_dump(h, 0), "clock: {1, 0}");
    assert_contains(h_dump(h, 1), "clock: {1, 0}");
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 1, "register", "x", NULL, 2);
    uint8_t c0[REG_CLOCK_MAX], c1[REG_CLOCK_MAX];
    size_t l0 = msg_track_clock(h_find(h, 0, 1, TRK_MSG_TRACK), c0);
    size_t l1 = msg_track_clock(h_find(h, 1, 0, TRK_MSG_TRACK), c1);
    assert_int_equal(clock_order(c0, l0, c1, l1), ITC_EQUAL);
    h_settle(h);
    assert_string_equal(h_owner(h, 0, "x"), NAME[1]);
    assert_string_equal(h_owner(h, 1, "x"), NAME[0]);
    assert_int_equal(h_procs(h, 0, "x"), 0);
    assert_int_equal(h_procs(h, 1, "x"), 0);
}

/* 10c. Replicated track with a strictly newer remote clock replaces the
 * local registration (its process dies, here, no message needed); one with
 * an older remote clock is ignored: the local entry and process stay and
 * nothing is sent to the remote owner. */
static void test_swarm_track_ordered(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_cmd(h, 0, "register", "x", NULL, 1); /* clock: seed + 1 event */
    h_cmd(h, 0, "register", "y", NULL, 1);
    uint8_t newer[16], older[16], buf[512];
    size_t nl = clock_after(2, newer, sizeof newer), ol = clock_after(0, older, sizeof older);
    struct fentry ex = {"x", NAME[1], (uint64_t)9 << 32 | 1, 1, 0, newer, nl};
    size_t len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &ex);
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "x"), NAME[1]);
    assert_true(h_entry(h, 0, "x")->handle == ex.handle);
    assert_int_equal(h_procs(h, 0, "x"), 0);
    assert_int_equal(trk_stats(T(0))->conflicts, 1);

    struct fentry ey = {"y", NAME[1], (uint64_t)9 << 32 | 2, 1, 0, older, ol};
    len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &ey);
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "y"), NAME[0]);
    assert_int_equal(h_procs(h, 0, "y"), 1);
    assert_int_equal(h_pending(h, 0, -1), 0); /* ignored: no kill sent */
    assert_int_equal(trk_stats(T(0))->conflicts, 1);
}

/* 10d. A stale sync_recv (M3b).  Z (2) tracks alone and learns nobody.  X
 * (0) and Y (1) know each other and Z.  X picks Y; Y, in cluster_wait with
 * two peers, parks X.  The X-Y link flaps: X, syncing, loses its sync node
 * and syncs with Z instead (X's nodeup of Y is postponed); Y drops X from
 * its nodes and re-adds it.  X completes with Z and tracks.  Y then picks
 * Z, completes, and serves X's old request: X, tracking, drops the
 * sync_recv, and Y waits in awaiting_sync_ack forever. */
static void test_swarm_stale_sync_recv(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 1, 0);
    h_learn(h, 1, 2);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_pending(h, 1, PID[0]);
    /* the flap */
    h_script(h, 0, 12); /* the only node left: Z */
    trk_nodedown(T(0), NAME[1]);
    assert_string_equal(trk_waiting_for(T(0)), NAME[2]);
    trk_nodedown(T(1), NAME[0]);
    h_learn(h, 1, 0);
    trk_nodeup(T(0), NAME[1]); /* postponed in syncing */
    assert_int_equal(h_pending(h, 0, 1), 0);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_SYNC);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    /* the postponed nodeup ran: check Y and add it */
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK_REPLY);
    assert_true(h_knows(h, 0, 1));
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);

    h_pick(h, 1, 2);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), TRK_MSG_SYNC);
    assert_int_equal(h_deliver(h, 2, 1), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    h_settle(h); /* Y's ack to Z, Y's stale sync_recv to X */
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    h_assert_no_progress_timer(h, 1);
}

/* Three swarm trackers tracking together, with s (started) and p (plain)
 * registered on A (0) and t (started) on B (1). */
static void swarm_three_with_names(struct harness *h, char *s, char *t, size_t size)
{
    h_cluster(h, 3);
    const int all[3] = {0, 1, 2};
    name_owned_by(h, all, 3, 0, "s", s, size);
    name_owned_by(h, all, 3, 1, "t", t, size);
    h_cmd(h, 0, "register_started", s, NULL, 5);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[0]);
    h_cmd(h, 0, "register", "p", NULL, 6);
    h_cmd(h, 1, "register_started", t, NULL, 7);
    assert_string_equal(h_last_reply(h, 1)->owner, NAME[1]);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_count(h, i), 3);
}

/* 11a. Graceful stop (swarm): A's processes shut down first and peers
 * untrack their names; when A's links then close nothing is restarted:
 * A's started process is lost. */
static void test_swarm_graceful_stop_loses(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    char s[32], t[32];
    swarm_three_with_names(h, s, t, sizeof s);
    trk_stop(T(0));
    assert_int_equal(h_procs(h, 0, s), 0);
    h_settle(h);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    trk_nodedown(T(2), NAME[0]);
    h_settle(h);
    for (int i = 1; i < 3; i++) {
        assert_null(h_entry(h, i, s));
        assert_null(h_entry(h, i, "p"));
        assert_string_equal(h_owner(h, i, t), NAME[1]);
        assert_int_equal(trk_stats(T(i))->restarts, 0);
        assert_int_equal(h_procs(h, i, s), 0);
    }
}

/* 11b. The contrast: a crash of A (no stop) makes the new ring owner of s
 * restart it; A's plain registration p is removed. */
static void test_swarm_crash_restarts(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    char s[32], t[32], owner[64];
    swarm_three_with_names(h, s, t, sizeof s);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    trk_nodedown(T(2), NAME[0]);
    h_settle(h);
    const int rest[2] = {1, 2};
    int o = h_index(h, ring_owner_of(h, rest, 2, s, owner, sizeof owner));
    for (int i = 1; i < 3; i++) {
        assert_string_equal(h_owner(h, i, s), NAME[o]);
        assert_null(h_entry(h, i, "p"));
    }
    assert_int_equal(h_procs(h, o, s), 1);
    assert_int_equal(h_procs(h, 3 - o, s), 0);
    assert_int_equal(trk_stats(T(o))->restarts, 1);
    assert_same_registry(h, 1, 2);
}

/* ---- the group ------------------------------------------------------------- */

int test_tracker_swarm_events_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_swarm_postpone),
        T_(test_swarm_postponed_order),
        T_(test_swarm_serve_drops_sync_node),
        T_(test_swarm_serve_head_in_nodes),
        T_(test_swarm_serve_stays_awaiting),
        T_(test_swarm_track_concurrent_kept),
        T_(test_swarm_track_equal_replaces),
        T_(test_swarm_track_ordered),
        T_(test_swarm_stale_sync_recv),
        T_(test_swarm_graceful_stop_loses),
        T_(test_swarm_crash_restarts),
    };
    return cmocka_run_group_tests_name("tracker-swarm-events", tests, NULL, NULL);
}
