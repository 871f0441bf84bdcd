/*
 * tests/test_tracker_digest.c: the fixed tracker's content digest (group
 * "tracker-digest"): kept equal to its recomputation through every kind of
 * registry change; carried by check replies, so a joining peer that holds
 * our very entries gets a digest instead of a snapshot, and one that holds
 * others gets the snapshot; anti-entropy as one digest message when the
 * two registries agree and as a snapshot exchange when they do not; a
 * digest from a peer not yet in `nodes` makes it one (as a snapshot would);
 * malformed digests are counted and answered with nothing; swarm mode's
 * check reply stays Swarm's three bytes.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <stdio.h>

/* Asserts that node i's kept content digest equals its recomputation
 * (trk_registry_digest_full reports a drift as count SIZE_MAX). */
static void assert_digest_kept(struct harness *h, int i)
{
    size_t count;
    uint64_t sum;
    trk_registry_digest_full(h->n[i].t, &count, &sum);
    assert_true(count != SIZE_MAX);
}

static void assert_same_digest(struct harness *h, int i, int j)
{
    struct trk_content_digest a, b;
    assert_true(trk_content_digest(h->n[i].t, &a));
    assert_true(trk_content_digest(h->n[j].t, &b));
    assert_int_equal(a.count, b.count);
    assert_true(a.sum == b.sum);
}

static void assert_all_kept(struct harness *h)
{
    for (int i = 0; i < h->count; i++)
        if (h->n[i].t) /* (NULL after a crash) */
            assert_digest_kept(h, i);
}

/* Nodes i and j lose each other (both see the other's nodedown). */
static void h_unlink(struct harness *h, int i, int j)
{
    trk_nodedown(h->n[i].t, NAME[j]);
    trk_nodedown(h->n[j].t, NAME[i]);
}

/* Every kind of change keeps the digest: registrations, group joins and
 * leaves, unregistrations (tombstones), a conflict settled both ways, a
 * departed owner's entries (tombstoned or restarted elsewhere). */
static void test_digest_kept_through_changes(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_cmd(h, 2, "register_started", "s", NULL, 3);
    h_settle(h);
    assert_all_kept(h);
    h_cmd(h, 0, "join", "a", "g1", 0);
    h_cmd(h, 1, "join", "b", "g1", 0);
    h_settle(h);
    h_cmd(h, 0, "leave", "a", "g1", 0);
    h_cmd(h, 1, "unregister", "b", NULL, 0);
    h_settle(h);
    assert_all_kept(h);
    for (int i = 1; i < 3; i++)
        assert_same_digest(h, 0, i);
    /* the same name on both sides of a cut */
    h_unlink(h, 0, 1);
    h_unlink(h, 0, 2);
    h_settle(h);
    h_cmd(h, 0, "register", "dup", NULL, 4);
    h_cmd(h, 1, "register", "dup", NULL, 5);
    h_settle(h);
    assert_all_kept(h);
    h_link(h, 0, 1);
    h_link(h, 0, 2);
    h_settle(h);
    assert_all_kept(h);
    for (int i = 1; i < 3; i++) {
        assert_same_registry(h, 0, i);
        assert_same_digest(h, 0, i);
    }
    /* node 2 dies: its started process moves, its other entries go */
    h_crash(h, 2);
    trk_nodedown(T(0), NAME[2]);
    trk_nodedown(T(1), NAME[2]);
    h_settle(h);
    assert_all_kept(h);
    assert_same_registry(h, 0, 1);
    assert_same_digest(h, 0, 1);
}


/* A copy taken as it came keeps the hash of the bytes it came in as its
 * content hash at once, with no encoding when a digest is read later (the
 * hash of a changed entry of ours waits for that reading), and it is the
 * hash a recomputation gives. */
static void test_digest_copy_hashed_from_the_wire(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_settle(h);
    struct trk_content_digest d;
    assert_true(trk_content_digest(T(1), &d)); /* node 1 keeps hashes from now on */
    h_cmd(h, 0, "register", "w1", NULL, 1);
    h_cmd(h, 0, "register", "w2", NULL, 2);
    assert_true(h_pending(h, 0, 1) > 0);
    while (h_pending(h, 0, 1) > 0) { /* the tracks (or their batch), nothing back */
        int type = h_deliver(h, 0, 1);
        if (type != TRK_MSG_TRACK && type != TRK_MSG_BATCH)
            fail_msg("message of type %d", type);
    }
    for (int k = 0; k < 2; k++) {
        const struct reg_entry *e = registry_get(&T(1)->reg, k ? "w2" : "w1");
        assert_non_null(e);
        size_t slot = (size_t)(e - T(1)->reg.slots);
        assert_true(slot < T(1)->content_cap);
        assert_true(T(1)->content_hashes[slot] != 0); /* kept without a digest read */
    }
    assert_digest_kept(h, 1);
    /* node 0's own writes are hashed when a digest is read */
    const struct reg_entry *mine = registry_get(&T(0)->reg, "w1");
    size_t slot = (size_t)(mine - T(0)->reg.slots);
    assert_true(slot >= T(0)->content_cap || T(0)->content_hashes[slot] == 0);
    h_settle(h);
    assert_all_kept(h);
    assert_same_digest(h, 0, 1);
}
/* The digest is kept lazily: registrations cost nothing until a digest is
 * asked for (no hashes at all before the first); changes are listed and
 * hashed at the next reading, and a burst longer than the list allows is
 * recomputed whole, to the same digest. */
static void test_digest_kept_lazily(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_start_alone(h, 0);
    char name[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "early-%d", i);
        h_cmd(h, 0, "register", name, NULL, i);
    }
    assert_int_equal(T(0)->content_cap, 0); /* nobody asked: nothing hashed */
    assert_false(T(0)->content_valid);
    h_start_alone(h, 1);
    h_link(h, 0, 1); /* the check replies read the digests */
    h_settle(h);
    assert_true(T(0)->content_valid);
    assert_same_digest(h, 0, 1);
    h_cmd(h, 0, "register", "one-more", NULL, 1);
    assert_int_equal(T(0)->dirty_count, 1);
    h_settle(h);
    assert_same_digest(h, 0, 1);
    assert_int_equal(T(0)->dirty_count, 0);
    for (int i = 0; i < 120; i++) { /* past the list's limit (64 + an eighth) */
        if (i % 60 == 0)
            h->n[0].reply_count = 0; /* (the harness keeps 64 replies) */
        snprintf(name, sizeof name, "burst-%d", i);
        h_cmd(h, 0, "register", name, NULL, i);
    }
    assert_false(T(0)->content_valid);
    h_settle(h);
    assert_same_digest(h, 0, 1);
    assert_digest_kept(h, 0);
    assert_digest_kept(h, 1);
}

/* Three fixed trackers; node 2 registers x and y, then nodes 0 and 1 lose
 * each other (node 2, which both still see, owns every name, so neither
 * marks a departure): 0 and 1 hold the same entries, apart. */
static struct harness *agreeing_pair_apart(void)
{
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    h_cmd(h, 2, "register", "x", NULL, 1);
    h_cmd(h, 2, "register", "y", NULL, 2);
    h_settle(h);
    h_unlink(h, 0, 1);
    h_settle(h);
    assert_same_registry(h, 0, 1);
    return h;
}

/* Two trackers that hold the same entries meet again: each check reply
 * carries the other's digest, which is its own, so no snapshot goes out;
 * the joiner gets a digest instead. */
static void test_digest_join_without_snapshot(void **state)
{
    (void)state;
    struct harness *h = agreeing_pair_apart();
    uint64_t skipped = trk_stats(T(0))->syncs_skipped;
    trk_nodeup(T(0), NAME[1]);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_CHECK_REPLY), 1);
    assert_int_equal(h_find(h, 1, 0, TRK_MSG_CHECK_REPLY)->len, 3 + TRK_CONTENT_DIGEST_LEN);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK_REPLY);
    assert_true(h_knows(h, 0, 1));
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_SYNC_RECV), 0);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_DIGEST), 1);
    assert_int_equal(trk_stats(T(0))->syncs_skipped, skipped + 1);
    h_settle(h);
    assert_true(h_knows(h, 1, 0));
    assert_int_equal(h_pending(h, -1, -1), 0);
    assert_same_registry(h, 0, 1);
}

/* A joiner whose registry differs is pulled from (not pushed to), and the
 * pulls both ways bring both sides what they lacked. */
static void test_digest_join_with_difference(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_settle(h);
    h_unlink(h, 0, 1);
    h_settle(h);
    h_cmd(h, 1, "register", "only-b", NULL, 2);
    h_settle(h);
    assert_null(h_entry(h, 0, "only-b"));
    trk_nodeup(T(0), NAME[1]);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK_REPLY);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_PULL), 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_SYNC_RECV), 0);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_DIGEST), 0);
    h_settle(h);
    assert_non_null(h_entry(h, 0, "only-b"));
    assert_true(h_knows(h, 1, 0));
    assert_same_registry(h, 0, 1);
    assert_same_digest(h, 0, 1);
}

/* Anti-entropy between agreeing trackers is one message, and nothing
 * answers it. */
static void test_digest_anti_entropy_agreeing(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 1, "register", "y", NULL, 2);
    h_settle(h);
    uint64_t skipped = trk_stats(T(1))->syncs_skipped;
    h_pick(h, 0, 1);
    h_fire(h, 0, TRK_TIMER_ANTI_ENTROPY);
    assert_int_equal(h_pending(h, -1, -1), 1);
    assert_int_equal(h_deliver(h, 0, 1), TRK_MSG_DIGEST);
    assert_int_equal(h_pending(h, -1, -1), 0);
    assert_int_equal(trk_stats(T(1))->syncs_skipped, skipped + 1);
}

/* Deadlock C's set-up: X (0) checked Y (1) before Y's tracker ran and,
 * with retry_max 1, never checks again.  Y's check of X finds the same
 * (empty) registry, so Y sends its digest, not a snapshot; the digest
 * proves Y's tracker runs, and X takes Y as a node, before any
 * cluster_join. */
static void test_digest_adopts_unchecked_peer(void **state)
{
    (void)state;
    struct harness *h = h_unchecked_pair(TRK_FIXED);
    h_learn(h, 1, 0);
    assert_true(h_knows(h, 1, 0));
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_SYNC_RECV), 0);
    assert_int_equal(h_deliver(h, 1, 0), TRK_MSG_DIGEST);
    assert_true(h_knows(h, 0, 1));
}

/* Malformed digests (short, long, of an unknown kind) and check replies of
 * a wrong length are counted and change nothing. */
static void test_digest_malformed(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    const uint8_t short_digest[5] = {TRK_MSG_DIGEST, 1, 0, 0, 0};
    uint8_t long_digest[2 + TRK_CONTENT_DIGEST_LEN + 1] = {TRK_MSG_DIGEST};
    uint8_t odd_kind[2 + TRK_CONTENT_DIGEST_LEN] = {TRK_MSG_DIGEST, 2, 9}; /* (a count that differs) */
    const uint8_t odd_reply[3 + 4] = {TRK_MSG_CHECK_REPLY, 1, 0, 9, 9, 9, 9};
    uint64_t malformed = trk_stats(T(0))->malformed;
    trk_message(T(0), NAME[1], short_digest, sizeof short_digest);
    trk_message(T(0), NAME[1], long_digest, sizeof long_digest);
    trk_message(T(0), NAME[1], odd_kind, sizeof odd_kind);
    trk_message(T(0), NAME[1], odd_reply, sizeof odd_reply);
    assert_int_equal(trk_stats(T(0))->malformed, malformed + 4);
    assert_int_equal(h_pending(h, -1, -1), 0);
    odd_kind[1] = 1; /* a greeting's digest that differs: a pull */
    trk_message(T(0), NAME[1], odd_kind, sizeof odd_kind);
    assert_int_equal(trk_stats(T(0))->malformed, malformed + 4);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_PULL), 1);
}

/* Swarm mode: a check is Swarm's two bytes and its answer Swarm's three,
 * no digest in either, and two checks that cross are each answered. */
static void test_digest_not_in_swarm_replies(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start(h, 0);
    h_start(h, 1);
    trk_nodeup(T(0), NAME[1]);
    trk_nodeup(T(1), NAME[0]);
    assert_int_equal(h_find(h, 0, 1, TRK_MSG_CHECK)->len, 2);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    const struct hmsg *reply = h_find(h, 1, 0, TRK_MSG_CHECK_REPLY);
    assert_non_null(reply);
    assert_int_equal(reply->len, 3);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_CHECK_REPLY), 1);
    struct trk_content_digest d;
    assert_false(trk_content_digest(T(1), &d));
}

/* Two fixed trackers that met and then lost each other (link down both
 * ways, settled): the set-up of a meeting again. */
static struct harness *pair_apart(void)
{
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_unlink(h, 0, 1);
    h_settle(h);
    return h;
}

/* Fixed mode: two trackers that meet again (registries that differ) check
 * each other at once; each check carries its sender's digest and crosses
 * the other's, so each takes the other's check as its answer: no
 * check_reply either way, both are nodes of each other, each pulls the
 * other, and they agree.  A check that arrives after ours was answered is
 * answered as usual, and so is one after the link went down (our check
 * then awaits no answer); swarm mode's checks carry no digest and never
 * cross. */
static void test_checks_cross(void **state)
{
    (void)state;
    struct harness *h = pair_apart();
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_settle(h);
    trk_nodeup(T(0), NAME[1]);
    trk_nodeup(T(1), NAME[0]);
    assert_int_equal(h_find(h, 0, 1, TRK_MSG_CHECK)->len, 2 + TRK_CONTENT_DIGEST_LEN);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_CHECK_REPLY), 0);
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_CHECK_REPLY), 0);
    assert_true(h_knows(h, 0, 1));
    assert_true(h_knows(h, 1, 0));
    assert_int_equal(trk_stats(T(0))->checks_crossed, 1);
    assert_int_equal(trk_stats(T(1))->checks_crossed, 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_PULL), 1);
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_PULL), 1);
    h_settle(h);
    assert_non_null(h_entry(h, 0, "b"));
    assert_same_registry(h, 0, 1);
    /* no check of ours unanswered: answered */
    trk_nodeup(T(1), NAME[0]);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_CHECK_REPLY), 1);
    h_settle(h);
    /* our check went down with its link: the peer's next check is answered */
    trk_nodeup(T(0), NAME[1]);
    h_drop(h, 0, 1);
    trk_nodedown(T(0), NAME[1]);
    trk_nodeup(T(1), NAME[0]);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_CHECK_REPLY), 1);
    assert_int_equal(trk_stats(T(0))->checks_crossed, 1);
    h_settle(h);
    assert_true(h_knows(h, 1, 0));
}

/* Two trackers that hold the same entries and whose checks cross: each
 * finds the other's digest its own, and neither sends the greeting a
 * check_reply would have been followed by (each has the other's check,
 * which says what the greeting would: its tracker runs, with these
 * entries); nothing else goes out either, and both are nodes. */
static void test_crossed_checks_need_no_greeting(void **state)
{
    (void)state;
    struct harness *h = agreeing_pair_apart();
    uint64_t skipped = trk_stats(T(0))->syncs_skipped;
    trk_nodeup(T(0), NAME[1]);
    trk_nodeup(T(1), NAME[0]);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_true(h_knows(h, 0, 1));
    assert_true(h_knows(h, 1, 0));
    assert_int_equal(trk_stats(T(0))->syncs_skipped, skipped + 1);
    assert_int_equal(h_pending(h, -1, -1), 0);
}

/* A stopping tracker's check carries no digest, so it crosses nothing: the
 * peer answers it (not running), and a running peer's check crossing
 * ours while we stop is answered too. */
static void test_stopping_checks_do_not_cross(void **state)
{
    (void)state;
    struct harness *h = pair_apart();
    trk_nodeup(T(1), NAME[0]);     /* node 1's check, with its digest, ... */
    trk_stop(T(0));
    trk_nodeup(T(0), NAME[1]);     /* ... and stopping node 0's, without */
    assert_int_equal(h_find(h, 0, 1, TRK_MSG_CHECK)->len, 2);
    h_deliver_type(h, 0, 1, TRK_MSG_CHECK);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_int_equal(h_pending_type(h, 1, 0, TRK_MSG_CHECK_REPLY), 1);
    assert_int_equal(h_pending_type(h, 0, 1, TRK_MSG_CHECK_REPLY), 1);
    assert_int_equal(trk_stats(T(0))->checks_crossed + trk_stats(T(1))->checks_crossed, 0);
    const struct hmsg *reply = h_find(h, 0, 1, TRK_MSG_CHECK_REPLY);
    assert_int_equal(reply->data[1], 0); /* not running */
}

/* A tracker that checked a peer while running and stops before the peer's
 * check arrives answers that check (not running) rather than taking it as
 * its answer. */
static void test_stopped_since_checking_answers(void **state)
{
    (void)state;
    struct harness *h = pair_apart();
    trk_nodeup(T(0), NAME[1]);
    assert_int_equal(h_find(h, 0, 1, TRK_MSG_CHECK)->len, 2 + TRK_CONTENT_DIGEST_LEN);
    trk_stop(T(0));
    trk_nodeup(T(1), NAME[0]);
    h_deliver_type(h, 1, 0, TRK_MSG_CHECK);
    assert_int_equal(trk_stats(T(0))->checks_crossed, 0);
    const struct hmsg *reply = h_find(h, 0, 1, TRK_MSG_CHECK_REPLY);
    assert_non_null(reply);
    assert_int_equal(reply->data[1], 0); /* not running */
}

int test_tracker_digest_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_digest_kept_through_changes),
        T_(test_digest_copy_hashed_from_the_wire),
        T_(test_digest_kept_lazily),
        T_(test_digest_join_without_snapshot),
        T_(test_digest_join_with_difference),
        T_(test_digest_anti_entropy_agreeing),
        T_(test_digest_adopts_unchecked_peer),
        T_(test_digest_malformed),
        T_(test_digest_not_in_swarm_replies),
        T_(test_checks_cross),
        T_(test_crossed_checks_need_no_greeting),
        T_(test_stopping_checks_do_not_cross),
        T_(test_stopped_since_checking_answers),
    };
    return cmocka_run_group_tests_name("tracker-digest", tests, NULL, NULL);
}
