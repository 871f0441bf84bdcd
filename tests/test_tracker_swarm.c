/*
 * tests/test_tracker_swarm.c: the swarm mode's start-up transitions and
 * deadlocks (group "tracker-swarm"), on the harness of tracker_harness.h:
 * start-up alone, cluster_join with nodes and the sync handshake,
 * sync requests in cluster_wait (answered or parked), the 2-cycle
 * tie-break, deadlocks A (with the reference's table of choice patterns),
 * B and C, and a parked request of a node that went down.
 *
 * Each test says the interleaving it builds; expected outcomes come from
 * docs/swarm-model.md.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <string.h>

/* 1. Start-up.  TRK_TIMER_START puts the tracker in cluster_wait with a
 * cluster_join timer of sync_nodes_timeout; cluster_join with no nodes goes
 * to tracking and arms the anti-entropy timer (anti_entropy_interval), whose
 * tick with no nodes only re-arms it.  Before TRK_TIMER_START commands are refused. */
static void test_swarm_start_alone(void **state)
{
    (void)state;
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = TRK_SWARM;
    cfg.sync_nodes_timeout = CS_MSEC(1234);
    cfg.anti_entropy_interval = CS_SEC(77);
    struct harness *h = h_new_cfg(&cfg, 1);

    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "not_running");
    trk_start(T(0));
    assert_false(trk_running(T(0)));
    assert_int_equal(h_armed(h, 0, TRK_TIMER_START), 1);
    h_fire(h, 0, TRK_TIMER_START);
    assert_true(trk_running(T(0)));
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_CLUSTER_JOIN), 1);
    struct htimer *join = h_timer(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_true(join->delay == CS_MSEC(1234));
    assert_true(trk_timer_can_progress(T(0), join->tag));
    assert_contains(h_dump(h, 0), "{:cluster_wait, %TrackerState{clock: {1, 0}, nodes: [], "
                                  "pending_sync_reqs: [], self: :\"app@10.0.0.1\"");
    assert_null(trk_waiting_for(T(0)));

    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_true(h->now == CS_MSEC(1234));
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_ANTI_ENTROPY), 1);
    assert_true(h_timer(h, 0, TRK_TIMER_ANTI_ENTROPY)->delay == CS_SEC(77));
    assert_int_equal(h->qlen, 0);
    assert_contains(h_dump(h, 0), "{:tracking, %TrackerState{clock: {1, 0}, nodes: [], ");
    assert_int_equal(h->n[0].unscripted, 0); /* no choice was made */

    h_fire(h, 0, TRK_TIMER_ANTI_ENTROPY); /* no nodes: nothing to sync with */
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_ANTI_ENTROPY), 1);
    /* An anti-entropy tick with no nodes only re-arms: not progress. */
    assert_false(trk_timer_can_progress(T(0), h_timer(h, 0, TRK_TIMER_ANTI_ENTROPY)->tag));
    assert_int_equal(h->qlen, 0);

    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[0]);
}

/* 2a. cluster_join with nodes.  B (1) and C (2) start alone (tracking) and
 * register b and c.  A (0) starts and learns B then C (their nodeups of A
 * are not delivered in this test), so A's nodes are [B, C].  A's register a
 * is postponed.  A's cluster_join picks B (scripted): A -> B sync; B,
 * tracking, answers sync_recv and waits for the ack; A merges, acks and
 * tracks; B tracks on the ack.  Then A's postponed register runs and its
 * track reaches B and C. */
static void test_swarm_cluster_join_sync(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start_alone(h, 2);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_cmd(h, 2, "register", "c", NULL, 3);
    h_start(h, 0);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    assert_int_equal(trk_node_count(T(0)), 2);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING); /* B never heard of A */
    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_int_equal(h->n[0].reply_count, 0); /* postponed */

    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h->n[0].unscripted, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_int_equal(h_pending(h, 0, -1), 1);
    assert_int_equal(h_head_type(h, 0, 1), TRK_MSG_SYNC);

    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_int_equal(h_head_type(h, 1, 0), TRK_MSG_SYNC_RECV);

    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_null(trk_waiting_for(T(0)));
    assert_int_equal(h_head_type(h, 0, 1), TRK_MSG_SYNC_ACK);
    /* the postponed register ran once A tracked */
    assert_int_equal(h->n[0].reply_count, 1);
    assert_string_equal(h_last_reply(h, 0)->op, "register");
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_TRACK), 1);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_TRACK), 1);

    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    h_settle(h);
    assert_int_equal(h_count(h, 0), 2); /* a, b */
    assert_same_registry(h, 0, 1);
    assert_string_equal(h_owner(h, 0, "b"), NAME[1]);
    assert_string_equal(h_owner(h, 1, "a"), NAME[0]);
    assert_string_equal(h_owner(h, 2, "a"), NAME[0]);
    assert_null(h_entry(h, 2, "b")); /* C synced with nobody */
    assert_int_equal(trk_stats(T(0))->syncs_completed, 1);
    assert_int_equal(trk_stats(T(1))->syncs_completed, 1);
}

/* 2b. Both registries merge through one sync.  A and B start alone and
 * register a and b.  A learns B: nodeup while nodes was empty acts as a
 * fresh cluster_join (sync to B); B, tracking, sends its registry in
 * sync_recv; A merges and sends its own in the ack. */
static void test_swarm_sync_merges_both_ways(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_script(h, 0, 12); /* the only node */
    h_learn(h, 0, 1);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 0, "b"), NAME[1]);
    assert_null(h_entry(h, 1, "a"));
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 1, "a"), NAME[0]);
    assert_int_equal(h_count(h, 0), 2);
    assert_same_registry(h, 0, 1);
    assert_int_equal(h->qlen, 0);
    h_cmd(h, 1, "whereis", "a", NULL, 0);
    assert_string_equal(h_last_reply(h, 1)->status, "ok");
    assert_string_equal(h_last_reply(h, 1)->owner, NAME[0]);
}

/* 3a. sync(from) in cluster_wait when nodes == [from]: A (nodes [B]) gets
 * B's sync, forks its clock, keeps one half, sends the other half in
 * sync_recv and waits for the ack with sync_node B.  B adopts the half it
 * was sent. */
static void test_swarm_cluster_wait_sync_single(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 1);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(0)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_contains(h_dump(h, 0), "{:awaiting_sync_ack, %TrackerState{clock: {{1, 0}, 0}, ");
    assert_sync_node(h, 0, 1);
    const struct hmsg *m = h_find(h, 0, 1, TRK_MSG_SYNC_RECV);
    assert_non_null(m);
    char sender[CS_NODE_NAME_MAX], text[128];
    msg_sync_clock(m, sender, text, sizeof text);
    assert_string_equal(sender, NAME[0]);
    assert_string_equal(text, "{{0, 1}, 0}"); /* the other half */

    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_contains(h_dump(h, 1), "clock: {{0, 1}, 0}");
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_ACK);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_sync_node(h, 0, -1);
    /* A's cluster_join timer fires later in tracking: nothing happens */
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->qlen, 0);
}

/* 3b. sync(from) in cluster_wait otherwise: A with nodes [B, C] parks B's
 * sync (a duplicate is parked once) and stays in cluster_wait, answering
 * nothing; A with no nodes at all parks too. */
static void test_swarm_cluster_wait_parks(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    for (int i = 0; i < 3; i++)
        h_start(h, i);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    const struct hmsg *m = h_find(h, 1, 0, TRK_MSG_SYNC);
    assert_non_null(m);
    uint8_t copy[256];
    size_t len = m->len;
    memcpy(copy, m->data, len);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC);
    trk_message(T(0), NAME[1], copy, len); /* the same request again */
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_pending(h, 0, PID[1]);
    assert_sync_node(h, 0, -1);
    assert_int_equal(h_pending(h, 0, 1), 0);

    /* C, whose nodes are empty, parks a sync as well */
    trk_message(T(2), NAME[1], copy, len);
    assert_int_equal(trk_state(T(2)), TRK_CLUSTER_WAIT);
    assert_pending(h, 2, PID[1]);
    assert_int_equal(h_pending(h, 2, -1), 0);
}

/* 4. Deadlock A.  Three trackers in cluster_wait, each with the other two
 * as nodes; the cluster_joins fire before any sync arrives and pick the
 * cycle A -> B, B -> C, C -> A.  Every sync reaches a node whose sync node
 * is someone else and is parked.  Nothing is in flight, no armed timer can
 * move anyone, and not even an hour of virtual time changes that. */
static void test_swarm_deadlock_a(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_pick(h, 1, 2);
    h_pick(h, 2, 0);
    for (int i = 0; i < 3; i++)
        h_fire(h, i, TRK_TIMER_CLUSTER_JOIN);
    h_settle(h);
    h_cmd(h, 0, "register", "x", NULL, 1); /* hangs */
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    for (int i = 0; i < 3; i++) {
        int next = (i + 1) % 3, prev = (i + 2) % 3;
        assert_int_equal(h->n[i].unscripted, 0);
        assert_int_equal(trk_state(T(i)), TRK_SYNCING);
        assert_string_equal(trk_waiting_for(T(i)), NAME[next]);
        assert_contains(h_dump(h, i), "{:syncing, %TrackerState{clock: {1, 0}, ");
        assert_pending(h, i, PID[prev]);
        assert_sync_node(h, i, next);
        h_assert_no_progress_timer(h, i);
        for (unsigned kind = TRK_TIMER_CLUSTER_JOIN; kind <= TRK_TIMER_CALL_TIMEOUT; kind++)
            assert_false(trk_timer_can_progress(T(i), TRK_TAG(kind, 0)));
    }
    assert_int_equal(h->n[0].reply_count, 0);
}

/* Runs one start-up of `count` swarm trackers where node i picks
 * choice[i]: all cluster_joins fire first, then every message is delivered
 * oldest first.  True when every tracker reached tracking. */
static bool run_choices(int count, const int *choice)
{
    struct harness *h = h_new(TRK_SWARM, count);
    h_start_all_connected(h, count);
    for (int i = 0; i < count; i++)
        h_pick(h, i, choice[i]);
    for (int i = 0; i < count; i++)
        h_fire(h, i, TRK_TIMER_CLUSTER_JOIN);
    h_settle(h);
    bool all = true;
    for (int i = 0; i < count; i++) {
        if (trk_state(T(i)) != TRK_TRACKING) {
            all = false;
            h_assert_no_progress_timer(h, i);
        }
    }
    assert_int_equal(h->qlen, 0);
    h_free(h);
    H = NULL;
    return all;
}

/* Whether the choice function has a cycle of length 3 or more. */
static bool has_long_cycle(int count, const int *choice)
{
    for (int i = 0; i < count; i++) {
        int x = i;
        for (int k = 0; k < count; k++)
            x = choice[x]; /* now on a cycle */
        int len = 1;
        for (int y = choice[x]; y != x; y = choice[y])
            len++;
        if (len >= 3)
            return true;
    }
    return false;
}

/* 4b. The reference's table: with every cluster_join before any sync, a
 * start-up hangs exactly when the choices have a cycle of length >= 3:
 * 2 of the 8 patterns of three nodes, 30 of the 81 of four. */
static void test_swarm_deadlock_a_patterns(void **state)
{
    (void)state;
    for (int count = 3; count <= 4; count++) {
        int patterns = 1, stuck = 0;
        for (int i = 0; i < count; i++)
            patterns *= count - 1;
        for (int p = 0; p < patterns; p++) {
            int choice[HN_MAX], rest = p;
            for (int i = 0; i < count; i++) {
                int k = rest % (count - 1);
                rest /= count - 1;
                choice[i] = k < i ? k : k + 1; /* the k-th other node */
            }
            bool ok = run_choices(count, choice);
            assert_true(ok == !has_long_cycle(count, choice));
            stuck += !ok;
        }
        assert_int_equal(stuck, count == 3 ? 2 : 30);
    }
}

/* 5. The 2-cycle tie-break, in both delivery orders of the two syncs: A
 * and B pick each other; B (the greater name) leads with sync_recv and
 * waits for the ack; A drops B's request and completes on the sync_recv. */
static void test_swarm_tie_break(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct harness *h = h_new(TRK_SWARM, 2);
        h_start_all_connected(h, 2);
        h_pick(h, 0, 1);
        h_pick(h, 1, 0);
        h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
        h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
        assert_int_equal(trk_state(T(1)), TRK_SYNCING);
        int first = order ? 1 : 0;
        assert_int_equal(h_deliver(h, first, 1 - first), TRK_MSG_SYNC);
        assert_int_equal(h_deliver(h, 1 - first, first), TRK_MSG_SYNC);
        assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
        assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
        assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
        assert_pending(h, 0, ""); /* dropped, not parked */
        assert_int_equal(h_pending(h, 0, 1), 0);
        assert_int_equal(h_pending(h, 1, 0), 1);
        assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
        assert_int_equal(trk_state(T(0)), TRK_TRACKING);
        assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC_ACK);
        assert_int_equal(trk_state(T(1)), TRK_TRACKING);
        assert_pending(h, 1, "");
        assert_int_equal(h->qlen, 0);
        h_free(h);
        H = NULL;
    }
}

/* 6. Deadlock B (issue #109), A < B by name, C the third node: A picks B;
 * B, in cluster_wait with two peers, parks A's sync; B then picks A; A,
 * syncing to B, gets B's sync, loses the tie-break and drops it.  A waits
 * for B, B for A, with A's request parked at B.  C then picks A and is
 * parked there: all three are stuck. */
static void test_swarm_deadlock_b(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_CLUSTER_WAIT);
    assert_pending(h, 1, PID[0]);
    h_pick(h, 1, 0);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC);
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_pending(h, 0, "");
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_contains(h_dump(h, 1), "{:syncing, %TrackerState{clock: {1, 0}, ");
    assert_pending(h, 1, PID[0]);
    assert_sync_node(h, 1, 0);
    h_assert_no_progress_timer(h, 0);
    h_assert_no_progress_timer(h, 1);

    h_pick(h, 2, 0);
    h_fire(h, 2, TRK_TIMER_CLUSTER_JOIN);
    h_settle(h);
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    assert_pending(h, 0, PID[2]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trk_state(T(i)), TRK_SYNCING);
        h_assert_no_progress_timer(h, i);
    }
}

/* 7a. Deadlock C through the loss of the sync node.  retry_max 1: a failed
 * check is not retried.  X (0) checks Z (2) before Z's tracker runs and
 * never adds it; X knows Y (1).  Z starts, knows X, picks X; X, syncing to
 * Y, parks Z.  Y crashes (X's sync to it is lost): X has nobody left and
 * goes to tracking without serving Z, which waits forever. */
static void test_swarm_deadlock_c_sync_node_down(void **state)
{
    (void)state;
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = TRK_SWARM;
    cfg.retry_max = 1;
    struct harness *h = h_new_cfg(&cfg, 3);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 2); /* Z not running: the check fails */
    assert_int_equal(trk_node_count(T(0)), 0);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_RETRY_CHECK), 0);
    h_learn(h, 0, 1);
    h_learn(h, 1, 0);
    h_start(h, 2);
    h_learn(h, 2, 0);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    h_pick(h, 2, 0);
    h_fire(h, 2, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC);
    assert_pending(h, 0, PID[2]);
    h_crash(h, 1);
    trk_nodedown(T(0), NAME[1]);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_pending(h, 0, 2), 0); /* Z is never answered */
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h_pending(h, 0, 2), 0);
    assert_int_equal(trk_state(T(2)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(2)), NAME[0]);
    h_assert_no_progress_timer(h, 2);
}

/* 7b. Deadlock C through cluster_join with no nodes: X (whose check of Z
 * failed) parks Z's sync in cluster_wait, then its cluster_join finds no
 * nodes and it tracks without serving Z. */
static void test_swarm_deadlock_c_join_alone(void **state)
{
    (void)state;
    struct harness *h = h_unchecked_pair(TRK_SWARM);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC);
    assert_pending(h, 0, PID[1]);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    h_run_until(h, h->now + CS_SEC(3600)); /* anti-entropy ticks: no nodes */
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    h_assert_no_progress_timer(h, 1);
}

/* 7c. The broken nodedown filter, and sync_err.  X (0) with nodes [Y, Z]
 * syncs to Y and parks Z; Z goes down: X's nodes lose Z but the parked
 * request stays.  A sync_err from Y makes X retry with a random node
 * (scripted: Y again).  When Y's sync_recv completes the sync, the head Z
 * is no longer a node and is dropped: X tracks. */
static void test_swarm_parked_request_of_dead_node(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
    h_pick(h, 2, 0);
    h_fire(h, 2, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), TRK_MSG_SYNC);
    h_crash(h, 2);
    trk_nodedown(T(0), NAME[2]);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_false(h_knows(h, 0, 2));
    assert_pending(h, 0, PID[2]);

    uint8_t err[1] = {TRK_MSG_SYNC_ERR};
    h_pick(h, 0, 1);
    trk_message(T(0), NAME[1], err, 1);
    assert_int_equal(h->n[0].unscripted, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_SYNC), 2);

    /* Y is in cluster_wait with nodes [X, Z]: make it track first */
    trk_nodedown(T(1), NAME[2]);
    h_deliver(h, 0, 1); /* X's first sync: nodes == [X], Y leads */
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_pending(h, 0, "");
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_SYNC_RECV), 0);
}

/* ---- the group ------------------------------------------------------------- */

int test_tracker_swarm_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_swarm_start_alone),
        T_(test_swarm_cluster_join_sync),
        T_(test_swarm_sync_merges_both_ways),
        T_(test_swarm_cluster_wait_sync_single),
        T_(test_swarm_cluster_wait_parks),
        T_(test_swarm_deadlock_a),
        T_(test_swarm_deadlock_a_patterns),
        T_(test_swarm_tie_break),
        T_(test_swarm_deadlock_b),
        T_(test_swarm_deadlock_c_sync_node_down),
        T_(test_swarm_deadlock_c_join_alone),
        T_(test_swarm_parked_request_of_dead_node),
    };
    return cmocka_run_group_tests_name("tracker-swarm", tests, NULL, NULL);
}
