/*
 * tests/test_tracker_batch.c: replication batches (group "tracker-batch",
 * core/tracker_batch.c), on the harness of tracker_harness.h: events made
 * within the window leave as one batch frame per peer when it ends; the
 * batch goes out before any later message on a link, before a node is
 * dropped and before one is added (it never reaches a node that was not
 * one when its events were made); a full batch goes early; swarm mode and a zero window send one
 * frame per event; batched and unbatched runs end with the same registry;
 * and bad batches apply the events before the first bad one and count it.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <stdio.h>
#include <string.h>

#define WINDOW CS_MSEC(5)

static struct harness *batching_cluster(enum trk_mode mode, cs_time window, int count)
{
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = mode;
    cfg.batch_window = window;
    struct harness *h = h_new_cfg(&cfg, count);
    h_cluster(h, count);
    return h;
}

/* Three registrations within the window: nothing leaves until it ends
 * (one flush timer, armed once, WINDOW long); then one batch to each peer,
 * which gives both of them the three names. */
static void test_batch_gathers_the_window(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 3);
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 0, "register", "b", NULL, 2);
    h_cmd(h, 0, "register", "c", NULL, 3);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_pending(h, 0, -1), 0);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_BATCH_FLUSH), 1);
    assert_int_equal(h_timer(h, 0, TRK_TIMER_BATCH_FLUSH)->delay, WINDOW);
    h_fire(h, 0, TRK_TIMER_BATCH_FLUSH);
    for (int peer = 1; peer <= 2; peer++) {
        assert_int_equal(h_pending(h, 0, peer), 1);
        assert_int_equal(h_head_type(h, 0, peer), TRK_MSG_BATCH);
    }
    /* the counters of messages sent by type say so: a batch a peer */
    assert_int_equal(trk_stats(T(0))->sent[TRK_MSG_BATCH], 2);
    assert_int_equal(trk_stats(T(0))->sent[TRK_MSG_TRACK], 0);
    assert_string_equal(trk_message_type_name(TRK_MSG_BATCH), "batch");
    assert_null(trk_message_type_name(0));
    assert_null(trk_message_type_name(TRK_SENT_TYPES - 1));
    h_settle(h);
    for (int i = 1; i <= 2; i++) {
        assert_string_equal(h_owner(h, i, "a"), NAME[0]);
        assert_string_equal(h_owner(h, i, "c"), NAME[0]);
        assert_int_equal(h_count(h, i), 3);
        assert_same_registry(h, 0, i);
    }
    /* The next event arms the window again. */
    assert_int_equal(h_armed(h, 0, TRK_TIMER_BATCH_FLUSH), 0);
    h_cmd(h, 0, "unregister", "b", NULL, 0);
    assert_int_equal(h_pending(h, 0, -1), 0);
    h_fire(h, 0, TRK_TIMER_BATCH_FLUSH);
    h_settle(h);
    assert_null(h_entry(h, 1, "b"));
    assert_null(h_entry(h, 2, "b"));
    assert_int_equal(h_armed(h, 0, TRK_TIMER_BATCH_FLUSH), 0);
}

/* A batched registration, then a call forwarded to node 1: the batch
 * leaves first, to both peers, so the link keeps the order in which the
 * messages were made. */
static void test_batch_goes_before_later_messages(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 3);
    h_cmd(h, 1, "register", "r", NULL, 7);
    h_fire(h, 1, TRK_TIMER_BATCH_FLUSH);
    h_settle(h);
    h_cmd(h, 0, "register", "x", NULL, 1);
    assert_int_equal(h_pending(h, 0, -1), 0);
    h_cmd(h, 0, "call", "r", NULL, 0);
    assert_int_equal(h_pending(h, 0, 1), 2);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_BATCH);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_REQUEST);
    assert_int_equal(h_head_type(h, 0, 2), TRK_MSG_BATCH);
    /* The window ends with nothing gathered since: nothing more leaves. */
    h_fire(h, 0, TRK_TIMER_BATCH_FLUSH);
    assert_int_equal(h_pending(h, 0, 1), 0);
    assert_int_equal(h_pending(h, 0, 2), 1);
    h_settle(h);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_last_reply(h, 0)->value, 7);
    assert_string_equal(h_owner(h, 2, "x"), NAME[0]);
}

/* A node that leaves `nodes` still gets what was batched while it was one. */
static void test_batch_flushed_before_a_node_leaves(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 3);
    h_cmd(h, 0, "register", "y", NULL, 1);
    trk_nodedown(T(0), NAME[2]);
    assert_false(h_knows(h, 0, 2));
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_BATCH), 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), 1);
    h_settle(h);
    assert_string_equal(h_owner(h, 2, "y"), NAME[0]);
}

/* A node that joins `nodes` while a batch is pending does not get it: the
 * batch goes to the old nodes before the newcomer is added, and the
 * newcomer takes those events by the pulls that follow (ours of it
 * shows it differs, so it pulls ours). */
static void test_batch_not_sent_to_a_later_node(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 3);
    trk_nodedown(T(0), NAME[2]);
    assert_false(h_knows(h, 0, 2));
    h_cmd(h, 0, "register", "z", NULL, 1);
    uint8_t up[3] = {TRK_MSG_CHECK_REPLY, 1, 0}; /* node 2's tracker answers a check: it is up */
    trk_message(T(0), NAME[2], up, sizeof up);
    assert_true(h_knows(h, 0, 2));
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), 1);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_BATCH), 0);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_PULL), 1);
    h_settle(h);
    assert_string_equal(h_owner(h, 2, "z"), NAME[0]);
    assert_string_equal(h_owner(h, 1, "z"), NAME[0]);
}

/* Events that overflow one frame (64 KiB) send it early: with 250-byte
 * names (about 324 bytes an event), 700 registrations fill three frames
 * before the window ends, and every name arrives. */
static void test_batch_full_frame_goes_early(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 2);
    char name[251];
    memset(name, 'n', 250);
    name[250] = '\0';
    for (int k = 0; k < 700; k++) {
        snprintf(name, 8, "%07d", k);
        name[7] = 'n';
        h->n[0].reply_count = 0; /* the harness keeps 64 replies */
        h_cmd(h, 0, "register", name, NULL, k);
        assert_string_equal(h_last_reply(h, 0)->status, "ok");
    }
    size_t early = h_pending_type(h, 0, 1, TRK_MSG_BATCH);
    assert_int_equal(early, 3);
    for (size_t k = 0; k < h->qlen; k++)
        assert_true(h->q[k].len <= 65536);
    h_fire(h, 0, TRK_TIMER_BATCH_FLUSH);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), early + 1);
    h_settle(h);
    assert_int_equal(h_count(h, 1), 700);
    assert_same_registry(h, 0, 1);
}

/* Swarm mode ignores the window (Swarm sends every event at once), and a
 * zero window is the unbatched default. */
static void test_batch_off_sends_each_event(void **state)
{
    (void)state;
    struct { enum trk_mode mode; cs_time window; } cases[] = {{TRK_SWARM, WINDOW}, {TRK_FIXED, 0}};
    for (size_t c = 0; c < 2; c++) {
        struct harness *h = batching_cluster(cases[c].mode, cases[c].window, 2);
        h_cmd(h, 0, "register", "a", NULL, 1);
        h_cmd(h, 0, "register", "b", NULL, 2);
        assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_TRACK), 2);
        assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), 0);
        assert_int_equal(trk_stats(T(0))->sent[TRK_MSG_TRACK], 2); /* counted by type as sent */
        assert_int_equal(trk_stats(T(0))->sent[TRK_MSG_BATCH], 0);
        assert_int_equal(h_armed(h, 0, TRK_TIMER_BATCH_FLUSH), 0);
        h_free(h);
        H = NULL;
    }
}

/* The same commands (registrations, group joins, unregistrations, on
 * every node, with messages delivered now and then) with and without
 * batching end with the same registry everywhere.  Each node writes only
 * its own names, so the outcome does not depend on delivery timing. */
static uint64_t run_commands(cs_time window)
{
    struct harness *h = batching_cluster(TRK_FIXED, window, 3);
    char name[16];
    bool live[3][7] = {{false}}; /* what the commands leave registered, worked out here */
    size_t expected = 0;
    for (int k = 0; k < 60; k++) {
        int node = k % 3;
        snprintf(name, sizeof name, "p%d-%d", node, k % 7);
        h->n[node].reply_count = 0;
        if (k % 5 == 4) {
            h_cmd(h, node, "unregister", name, NULL, 0);
            expected -= live[node][k % 7];
            live[node][k % 7] = false;
        } else if (k % 7 == 6) {
            h_cmd(h, node, "join", name, "g", 0);
        } else {
            h_cmd(h, node, "register", name, NULL, k);
            expected += !live[node][k % 7];
            live[node][k % 7] = true;
        }
        if (k % 4 == 3)
            h_settle(h);
        if (k % 11 == 10)
            h_run_until(h, h->now + CS_MSEC(10));
    }
    for (int round = 0; round < 2; round++) { /* the last windows end */
        h_run_until(h, h->now + window + CS_MSEC(1));
        h_settle(h);
    }
    assert_true(expected > 0);
    assert_int_equal(h_count(h, 0), expected);
    for (int i = 1; i < 3; i++)
        assert_same_registry(h, 0, i);
    uint64_t sum = h_sum(h, 0) ^ (uint64_t)h_count(h, 0) << 56;
    h_free(h);
    H = NULL;
    return sum;
}

static void test_batched_and_unbatched_agree(void **state)
{
    (void)state;
    uint64_t plain = run_commands(0);
    assert_int_equal(run_commands(WINDOW), plain);
    assert_int_equal(run_commands(CS_SEC(1)), plain);
}

/* ---- bad batches --------------------------------------------------------------- */

struct bad_case {
    const char *what;
    uint8_t types[4];
    int bad_at;               /* index of the bad event; 4: none */
    int count_field;          /* what the count says */
    size_t cut;               /* bytes cut from the end */
    bool trailing;            /* a stray byte after the events */
    size_t applied;           /* events that must stand */
    bool clock;               /* counted as a bad clock, not malformed */
};

/* Node 0 receives a forged batch from node 1: exactly the events before
 * the bad one stand, the stat counts it once, a warning is logged, and
 * node 0 sends nothing. */
static void feed_bad_batch(const struct bad_case *c)
{
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 2);
    uint8_t clock[16], badclock[1] = {0xff}, buf[4096];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct fentry e[4];
    const char *names[4] = {"b0", "b1", "b2", "b3"};
    for (int k = 0; k < 4; k++)
        e[k] = (struct fentry){names[k], NAME[1], (uint64_t)2 << 32 | (uint64_t)(k + 90), 50, 0, clock, cl};
    if (c->bad_at < 4) {
        if (c->clock) {
            e[c->bad_at].clock = badclock;
            e[c->bad_at].clock_len = 1;
        } else {
            e[c->bad_at].owner = "no-at-sign";
        }
    }
    size_t len = forge_batch(buf, sizeof buf, c->types, e, 4);
    buf[1] = (uint8_t)c->count_field; /* little-endian u32 after the type */
    len -= c->cut;
    if (c->trailing)
        buf[len++] = 0x7f;
    struct trk_stats before = *trk_stats(T(0));
    size_t warns = h->n[0].warn_count;
    trk_message(T(0), NAME[1], buf, len);
    const struct trk_stats *st = trk_stats(T(0));
    if (c->clock)
        assert_int_equal(st->bad_clock, before.bad_clock + 1);
    else
        assert_int_equal(st->malformed, before.malformed + 1);
    assert_int_equal(st->malformed + st->bad_clock + st->unknown_type,
                     before.malformed + before.bad_clock + before.unknown_type + 1);
    assert_int_equal(h->n[0].warn_count, warns + 1);
    assert_int_equal(h_count(h, 0), c->applied);
    for (size_t k = 0; k < 4; k++)
        if (k < c->applied)
            assert_string_equal(h_owner(h, 0, names[k]), NAME[1]);
        else
            assert_null(h_entry(h, 0, names[k]));
    assert_int_equal(h_pending(h, 0, -1), 0);
    h_free(h);
    H = NULL;
}

static void test_bad_batches(void **state)
{
    (void)state;
    const struct bad_case cases[] = {
        {"bad owner third", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 2, 4, 0, false, 2, false},
        {"bad clock first", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 0, 4, 0, false, 0, true},
        {"a kill inside", {TRK_MSG_TRACK, TRK_MSG_KILL, TRK_MSG_TRACK, TRK_MSG_TRACK}, 4, 4, 0, false, 1, false},
        {"an unknown type inside", {TRK_MSG_TRACK, TRK_MSG_TRACK, 0x63, TRK_MSG_TRACK}, 4, 4, 0, false, 2, false},
        {"truncated last event", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 4, 4, 3, false, 3, false},
        {"count larger than the events", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 4, 9, 0, false, 4, false},
        {"a stray byte after the events", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 4, 4, 0, true, 4, false},
        {"count smaller than the events", {TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK, TRK_MSG_TRACK}, 4, 2, 0, false, 2, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        print_message("bad batch: %s\n", cases[k].what);
        feed_bad_batch(&cases[k]);
    }
    /* A batch whose count cannot even be read. */
    struct harness *h = batching_cluster(TRK_FIXED, WINDOW, 2);
    uint8_t stub[3] = {TRK_MSG_BATCH, 1, 0};
    uint64_t malformed = trk_stats(T(0))->malformed;
    trk_message(T(0), NAME[1], stub, sizeof stub);
    assert_int_equal(trk_stats(T(0))->malformed, malformed + 1);
    assert_int_equal(h_count(h, 0), 0);
}

/* One turn's handoffs leave by destination: node 0 holds three started
 * processes that the ring over all three places on node 0 and the ring
 * without node 0 on node 1.  Stopping node 0 hands all three to node 1 in
 * one batch frame (no handoff frame), and node 1, taking them in one
 * turn, tells node 2 of all three in one batch frame too (batch_window 0:
 * by turn). */
static void test_handoffs_leave_by_destination(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, 0, 3);
    const struct placement p[2] = {{7, 0}, {6, 1}};
    char names[3][32];
    for (int k = 0; k < 3; k++) {
        char prefix[8];
        snprintf(prefix, sizeof prefix, "m%d-", k);
        h_name_placed(h, p, 2, prefix, names[k], sizeof names[k]);
        h_cmd(h, 0, "register_started", names[k], NULL, k);
        assert_string_equal(h_last_reply(h, 0)->status, "ok");
    }
    h_settle(h);
    for (int k = 0; k < 3; k++)
        assert_int_equal(h_procs(h, 0, names[k]), 1);
    trk_stop(T(0));
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_HANDOFF), 0);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), 1);
    h_deliver_type(h, 0, 1, TRK_MSG_BATCH);
    assert_int_equal(h_pending_type(h, 1, 2, TRK_MSG_TRACK), 0);
    assert_int_equal(h_pending_type(h, 1, 2, TRK_MSG_BATCH), 1);
    h_settle(h);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(h_procs(h, 1, names[k]), 1);
        assert_string_equal(h_owner(h, 2, names[k]), NAME[1]);
    }
}

/* With batch_window 0 a turn that makes one event sends it as its own
 * frame, as without batches. */
static void test_lone_event_of_a_turn_is_its_own_frame(void **state)
{
    (void)state;
    struct harness *h = batching_cluster(TRK_FIXED, 0, 2);
    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_TRACK), 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_BATCH), 0);
    assert_int_equal(h_armed(h, 0, TRK_TIMER_BATCH_FLUSH), 0);
}

/* ---- the group ------------------------------------------------------------- */

int test_tracker_batch_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_handoffs_leave_by_destination),
        T_(test_lone_event_of_a_turn_is_its_own_frame),
        T_(test_batch_gathers_the_window),
        T_(test_batch_goes_before_later_messages),
        T_(test_batch_flushed_before_a_node_leaves),
        T_(test_batch_not_sent_to_a_later_node),
        T_(test_batch_full_frame_goes_early),
        T_(test_batch_off_sends_each_event),
        T_(test_batched_and_unbatched_agree),
        T_(test_bad_batches),
    };
    return cmocka_run_group_tests_name("tracker-batch", tests, NULL, NULL);
}
