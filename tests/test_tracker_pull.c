/*
 * tests/test_tracker_pull.c: what a fixed tracker's pulls ask for and what
 * their answers carry (group "tracker-pull", core/tracker/pull.c):
 * - a scoped pull is answered with exactly the copies the answerer wrote
 *   (its registrations, its unregisters of names others own), not the
 *   copies it took from peers; a full pull with every differing entry;
 * - a pull asking for a pull back gets one (scoped or full, as asked) only
 *   when the buckets differed, and a pull back asks for none in turn;
 * - a tracker's first pull is full, its first meeting with each later peer
 *   scoped, and a peer met again (after it left the node list) is pulled
 *   in full both ways, and all converge;
 * - what scoped answers leave out is covered otherwise: a departure
 *   tombstone taken from a peer goes to the owner, which refutes it, and a
 *   started entry whose owner was never met, first heard of through a
 *   replicated event, arms the second look that restarts it; and a node
 *   that sees a peer leave serves the copies it holds from then on;
 * - a pull's bucket digests on the wire are each bucket's digest, and a
 *   pull that differs in one bucket gets that bucket's entries alone;
 * - a pull asking for a scoped pull back carries the puller's writes when
 *   they are few, and the answerer then pulls nothing back and forgoes its
 *   own scoped pull of the puller; bad writes are refused and the pull
 *   forgone is queued after all;
 * - after a node leaves, every node offers its digest to every other at
 *   its second look, so a departed writer's one-sided writes spread.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <stdio.h>
#include <string.h>

/* What a queued pull asks for (its flags byte, without TRK_PULL_WRITES). */
static unsigned pull_ask(const struct hmsg *m)
{
    assert_non_null(m);
    assert_true(m->len > 2);
    assert_int_equal(m->data[0], TRK_MSG_PULL);
    return m->data[1] & TRK_PULL_ASKS;
}

/* The number of writes a queued pull carries, or -1 when it carries none
 * (its flag unset and nothing after the digests). */
static int pull_writes(const struct hmsg *m)
{
    assert_non_null(m);
    if (!(m->data[1] & TRK_PULL_WRITES)) {
        assert_int_equal(m->len, H_PULL_LEN);
        return -1;
    }
    assert_true(m->len >= H_PULL_LEN + 4);
    const uint8_t *c = m->data + H_PULL_LEN;
    return (int)((uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24);
}

/* A pull from node `from` to node `to` asking `ask`, with the digests of
 * an empty registry: every bucket of `to` that holds anything differs.
 * Returns the number of entries of `to`'s answer (which is consumed). */
static uint32_t forged_pull(struct harness *h, int from, int to, unsigned ask)
{
    uint8_t buf[H_PULL_LEN];
    trk_message(T(to), NAME[from], buf, h_forge_pull(buf, sizeof buf, ask, NULL));
    const struct hmsg *answer = h_find(h, to, from, TRK_MSG_SYNC_ACK);
    assert_non_null(answer);
    uint32_t count = h_snapshot_count(answer);
    h_deliver_type(h, to, from, TRK_MSG_SYNC_ACK);
    return count;
}

/* Registers `count` names "<prefix><k>" on node i, and lets them spread. */
static void register_names(struct harness *h, int i, const char *prefix, int count)
{
    char name[32];
    for (int k = 0; k < count; k++) {
        snprintf(name, sizeof name, "%s%d", prefix, k);
        h->n[i].reply_count = 0; /* the harness keeps H_REPLIES replies */
        h_cmd(h, i, "register", name, NULL, k + 1);
        assert_string_equal(h_last_reply(h, i)->status, "ok");
    }
    h_settle(h);
}

/* A scoped pull's answer carries exactly the copies the answerer wrote:
 * node 0 registered 7 names and node 1 another 5, which node 0 holds as
 * copies.  A scoped pull of node 0 gets 7 entries, a full one 12.  Once
 * node 1 unregisters one of node 0's names, node 0's copy is node 1's
 * tombstone: node 0's scoped answer has 6 entries and node 1's 6 (its 5
 * names and the tombstone it wrote). */
static void test_scoped_answer_carries_the_answerers_writes(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    register_names(h, 0, "a", 7);
    register_names(h, 1, "b", 5);
    assert_int_equal(h_count(h, 0), 12);
    assert_int_equal(forged_pull(h, 2, 0, 0), 7);
    assert_int_equal(forged_pull(h, 2, 0, TRK_PULL_ASK_FULL), 12);
    assert_int_equal(forged_pull(h, 2, 1, 0), 5);
    h_cmd(h, 1, "unregister", "a3", NULL, 0);
    assert_string_equal(h_last_reply(h, 1)->status, "ok");
    h_settle(h);
    const struct reg_entry *e = registry_get(&T(0)->reg, "a3");
    assert_non_null(e);
    assert_true(e->flags & REG_TOMBSTONE);
    assert_int_equal(forged_pull(h, 2, 0, 0), 6);
    assert_int_equal(forged_pull(h, 2, 1, 0), 6);
    assert_int_equal(forged_pull(h, 2, 0, TRK_PULL_ASK_FULL), 12); /* (the tombstone too) */
}

/* A pull that asks for a pull back gets one when the buckets differed, as
 * scoped or full as it asked (full anyway for the answerer's first pull),
 * and that pull asks for none; a pull that does not ask, or whose digests
 * agree, gets none. */
static void test_pull_back_as_asked(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    register_names(h, 0, "a", 3);
    forged_pull(h, 2, 0, 0);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_PULL), 0);
    assert_false(T(0)->took_full_pull); /* (the trackers met with equal digests: no pull yet) */
    forged_pull(h, 2, 0, TRK_PULL_ASK_BACK);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_PULL), 1);
    assert_int_equal(pull_ask(h_find(h, 0, 2, TRK_MSG_PULL)), TRK_PULL_ASK_FULL); /* its first */
    h_settle(h);
    assert_true(T(0)->took_full_pull);
    forged_pull(h, 2, 0, TRK_PULL_ASK_BACK);
    assert_int_equal(pull_ask(h_find(h, 0, 2, TRK_MSG_PULL)), 0);
    h_settle(h);
    forged_pull(h, 2, 0, TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK | TRK_PULL_ASK_BACK_FULL);
    assert_int_equal(pull_ask(h_find(h, 0, 2, TRK_MSG_PULL)), TRK_PULL_ASK_FULL);
    h_settle(h);
    /* digests that agree: an empty answer, no pull back */
    struct trk_content_digest d[TRK_BUCKETS];
    assert_true(trk_bucket_digests(T(2), d));
    uint8_t buf[H_PULL_LEN];
    trk_message(T(0), NAME[2], buf, h_forge_pull(buf, sizeof buf, TRK_PULL_ASK_BACK, d));
    assert_int_equal(h_snapshot_count(h_find(h, 0, 2, TRK_MSG_SYNC_ACK)), 0);
    assert_int_equal(h_pending_type(h, 0, 2, TRK_MSG_PULL), 0);
}

/* Node i learns node j (nodeup, check, reply) and the pull it sends j
 * asks `ask`. */
static void meet(struct harness *h, int i, int j, unsigned ask)
{
    h_learn(h, i, j);
    assert_int_equal(pull_ask(h_find(h, i, j, TRK_MSG_PULL)), ask);
}

/* Three trackers that start alone, each with a name of its own, meet one
 * pair at a time: a tracker's first pull is full, its first meeting with
 * each later peer scoped (both asking for a pull back), and all three
 * converge.  Then nodes 0 and 2 lose each other, node 0 registers a name
 * (which reaches node 1 only), and when they meet again each pulls the
 * other in full, asking a full pull back: node 2 gets the name. */
static void test_meetings_ask_as_they_should(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    const unsigned first = TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK;
    const unsigned again = TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK | TRK_PULL_ASK_BACK_FULL;
    for (int i = 0; i < 3; i++) {
        h_start_alone(h, i);
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        h_cmd(h, i, "register", name, NULL, 1);
    }
    meet(h, 0, 1, first);
    meet(h, 1, 0, first);
    h_settle(h);
    meet(h, 0, 2, TRK_PULL_ASK_BACK);
    meet(h, 2, 0, first);
    h_settle(h);
    meet(h, 1, 2, TRK_PULL_ASK_BACK);
    meet(h, 2, 1, TRK_PULL_ASK_BACK);
    h_settle(h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_count(h, i), 3);
        assert_int_equal(trk_stats(T(i))->full_pulls, 1);
    }
    assert_same_registry(h, 0, 1);
    assert_same_registry(h, 0, 2);
    trk_nodedown(T(0), NAME[2]);
    trk_nodedown(T(2), NAME[0]);
    h_cmd(h, 0, "register", "late", NULL, 1);
    h_settle(h);
    assert_non_null(h_entry(h, 1, "late"));
    assert_null(h_entry(h, 2, "late"));
    meet(h, 0, 2, again);
    meet(h, 2, 0, again);
    h_settle(h);
    assert_non_null(h_entry(h, 2, "late"));
    assert_same_registry(h, 0, 2);
    assert_same_registry(h, 1, 2);
}

/* Node 1 loses sight of node 0 and turns node 0's registration x into a
 * departure tombstone (its own write, sent to no one).  Node 2 takes it
 * with a full pull of node 1; node 0 is one of node 2's nodes, so node 2
 * sends it to node 0, which still runs x and refutes it: node 2 ends with
 * x live on node 0 again. */
static void test_departure_copy_goes_to_owner(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_settle(h);
    trk_nodedown(T(1), NAME[0]);
    h_settle(h);
    const struct reg_entry *e = registry_get(&T(1)->reg, "x");
    assert_non_null(e);
    assert_true((e->flags & REG_TOMBSTONE) && (e->flags & REG_DEPARTED));
    forged_pull(h, 2, 1, TRK_PULL_ASK_FULL);
    assert_null(h_entry(h, 2, "x")); /* the tombstone won at node 2 ... */
    assert_int_equal(h_pending_type(h, 2, 0, TRK_MSG_TRACK), 1); /* ... and goes to node 0 */
    h_settle(h);
    assert_non_null(h_entry(h, 2, "x"));
    assert_string_equal(h_owner(h, 2, "x"), NAME[0]);
    assert_non_null(h_entry(h, 0, "x"));
}

/* A started entry whose owner node 1 never met reaches it as a replicated
 * event, not in a snapshot: the second look is armed (at sync_timeout it
 * counts the owner as gone and restarts the process on its ring owner). */
static void test_unknown_owner_from_event_arms_second_look(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    uint8_t clock[16], buf[1024];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct fentry m = {"orphan", "app@10.9.9.9", (uint64_t)7 << 32 | 1, 5, REG_STARTED, clock, cl};
    size_t len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &m);
    assert_int_equal(h_armed(h, 1, TRK_TIMER_ORPHANS), 0);
    trk_message(T(1), NAME[0], buf, len);
    assert_string_equal(h_owner(h, 1, "orphan"), "app@10.9.9.9");
    assert_int_equal(h_armed(h, 1, TRK_TIMER_ORPHANS), 1);
    h_run_until(h, h->now + h->cfg.sync_timeout + 1);
    h_settle(h);
    const char *owner = h_owner(h, 1, "orphan");
    assert_non_null(owner);
    assert_true(strcmp(owner, NAME[0]) == 0 || strcmp(owner, NAME[1]) == 0);
    assert_string_equal(h_owner(h, 0, "orphan"), owner);
}

/* A node that sees a peer leave serves every copy it holds in its scoped
 * answers from then on: node 2's registration y is a copy on node 0 (not
 * in node 0's scoped answer) until node 1 leaves node 0's view; then it
 * is, so a node meeting node 0 first gets it even if node 2, its writer,
 * died meanwhile. */
static void test_copies_adopted_when_a_node_leaves(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    register_names(h, 0, "a", 2);
    register_names(h, 2, "y", 1);
    assert_int_equal(forged_pull(h, 1, 0, 0), 2);
    trk_nodedown(T(0), NAME[1]);
    h_settle(h);
    assert_int_equal(forged_pull(h, 1, 0, 0), 3);
}

/* A pull's bucket digests are written in one pass and read in place: they
 * are each bucket's digest (trk_bucket_digests) encoded field by field by
 * the harness (h_forge_pull), and a full pull whose digests differ from the
 * answerer's in one bucket alone is answered with that bucket's entries
 * alone, whichever bucket it is. */
static void test_pull_digests_on_the_wire(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    register_names(h, 0, "a", 300);
    struct trk_content_digest d[TRK_BUCKETS];
    assert_true(trk_bucket_digests(T(0), d));
    uint8_t forged[H_PULL_LEN], written[H_PULL_LEN];
    size_t len = h_forge_pull(forged, sizeof forged, TRK_PULL_ASK_FULL, d);
    struct cs_writer w;
    cs_writer_init(&w, written, sizeof written);
    cs_put_u8(&w, TRK_MSG_PULL);
    cs_put_u8(&w, TRK_PULL_ASK_FULL);
    trk_put_bucket_digests(T(0), &w);
    assert_false(w.overflow);
    assert_int_equal(w.len, len);
    assert_memory_equal(written, forged, len);
    unsigned tried = 0;
    for (unsigned b = 0; b < TRK_BUCKETS; b++) {
        if (d[b].count == 0 || (b % 7 != 0 && b != TRK_BUCKETS - 1 && d[b].count < 3))
            continue;
        struct trk_content_digest changed[TRK_BUCKETS];
        memcpy(changed, d, sizeof changed);
        changed[b].sum ^= 1ULL << (b % 64);
        trk_message(T(0), NAME[2], forged, h_forge_pull(forged, sizeof forged, TRK_PULL_ASK_FULL, changed));
        const struct hmsg *answer = h_find(h, 0, 2, TRK_MSG_SYNC_ACK);
        assert_non_null(answer);
        assert_int_equal(h_snapshot_count(answer), d[b].count);
        h_deliver_type(h, 0, 2, TRK_MSG_SYNC_ACK);
        tried++;
    }
    assert_true(tried > 20);
    /* digests that all agree: an empty answer */
    trk_message(T(0), NAME[2], written, len);
    assert_int_equal(h_snapshot_count(h_find(h, 0, 2, TRK_MSG_SYNC_ACK)), 0);
}

/* Nodes 0..count-1 start alone, node 0 meets every other one after the
 * other (each newcomer's first pull full, from node 0, which holds
 * "n0"), and then each other registers a name ("n<i>"), which reaches
 * its nodes only: every node
 * took its full pull, the nodes other than 0 have not met one another,
 * and each holds its own name and node 0's. */
static struct harness *star_of_strangers(int count)
{
    struct harness *h = h_new(TRK_FIXED, count);
    for (int i = 0; i < count; i++)
        h_start_alone(h, i);
    h_cmd(h, 0, "register", "n0", NULL, 1);
    for (int i = 1; i < count; i++) {
        h_link(h, 0, i);
        h_settle(h);
        assert_true(T(i)->took_full_pull);
    }
    for (int i = 1; i < count; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        h_cmd(h, i, "register", name, NULL, 1);
    }
    h_settle(h);
    for (int i = 1; i < count; i++)
        assert_int_equal(h_count(h, i), 2);
    return h;
}

/* A pull asking for a scoped pull back carries the puller's writes when
 * it wrote few: the answerer holds them as soon as the pull is merged
 * (before any answer of its own reaches the puller) and pulls nothing
 * back, its answer carrying its own writes.  A puller that wrote more
 * than TRK_PULL_WRITES_MAX sends digests only and is pulled. */
static void test_pull_carries_few_writes(void **state)
{
    (void)state;
    struct harness *h = star_of_strangers(4);
    h_learn(h, 1, 2);
    const struct hmsg *pull = h_find(h, 1, 2, TRK_MSG_PULL);
    assert_int_equal(pull_ask(pull), TRK_PULL_ASK_BACK);
    assert_int_equal(pull_writes(pull), 1); /* n1, node 1's one write */
    assert_null(h_entry(h, 2, "n1"));
    uint64_t merged = trk_stats(T(2))->tracked_remote;
    h_deliver_type(h, 1, 2, TRK_MSG_PULL);
    assert_non_null(h_entry(h, 2, "n1"));
    assert_string_equal(h_owner(h, 2, "n1"), NAME[1]);
    assert_true(trk_stats(T(2))->tracked_remote > merged);
    assert_int_equal(h_pending_type(h, 2, 1, TRK_MSG_PULL), 0); /* no pull back */
    assert_int_equal(h_snapshot_count(h_find(h, 2, 1, TRK_MSG_SYNC_ACK)), 1); /* n2 */
    h_settle(h);
    assert_same_registry(h, 1, 2);
    /* node 3 writes one more than a pull may carry */
    char name[16];
    for (int k = 0; k < TRK_PULL_WRITES_MAX; k++) {
        snprintf(name, sizeof name, "w%d", k);
        h->n[3].reply_count = 0; /* (the harness keeps H_REPLIES replies) */
        h_cmd(h, 3, "register", name, NULL, 1);
    }
    h_settle(h);
    assert_int_equal(T(3)->authored_count, TRK_PULL_WRITES_MAX + 1);
    h_learn(h, 3, 1);
    pull = h_find(h, 3, 1, TRK_MSG_PULL);
    assert_int_equal(pull_ask(pull), TRK_PULL_ASK_BACK);
    assert_int_equal(pull_writes(pull), -1);
    h_deliver_type(h, 3, 1, TRK_MSG_PULL);
    /* node 1 pulls node 3's writes (meeting node 3 through that pull, it
     * asks a pull back too, which its own writes ride along with) */
    pull = h_find(h, 1, 3, TRK_MSG_PULL);
    assert_int_equal(pull_ask(pull), TRK_PULL_ASK_BACK);
    assert_int_equal(pull_writes(pull), 1);
    h_settle(h);
    assert_int_equal(h_count(h, 1), 4 + TRK_PULL_WRITES_MAX); /* n0..n3 and node 3's w* */
    assert_non_null(h_entry(h, 3, "n1"));
}

/* The writes a pull brought stand for the answerer's own scoped pull of
 * the puller: one still queued (behind a pull under way) is dropped, and
 * so is the one a tracker would queue on meeting the puller through that
 * very pull; each gets the others' names all the same. */
static void test_pushed_writes_forgo_the_queued_pull(void **state)
{
    (void)state;
    struct harness *h = star_of_strangers(4);
    h_learn(h, 2, 3); /* node 2's pull of node 3 is under way, */
    h_learn(h, 2, 1); /* so its pull of node 1 waits in the queue */
    assert_int_equal(h_pending_type(h, 2, 1, TRK_MSG_PULL), 0);
    uint64_t pulls_of_2 = trk_stats(T(2))->sent[TRK_MSG_PULL];
    h_learn(h, 1, 2);
    assert_int_equal(pull_writes(h_find(h, 1, 2, TRK_MSG_PULL)), 1);
    h_deliver_type(h, 1, 2, TRK_MSG_PULL);
    assert_int_equal(trk_stats(T(2))->pulls_forgone, 1);
    /* node 3 meets node 2 through node 2's pull, which brought its writes */
    h_deliver_type(h, 2, 3, TRK_MSG_PULL);
    assert_true(trk_is_node(T(3), (uint32_t)trk_name_index(T(3), NAME[2])));
    assert_int_equal(trk_stats(T(3))->pulls_forgone, 1);
    assert_int_equal(h_pending_type(h, 3, 2, TRK_MSG_PULL), 0);
    h_settle(h);
    assert_int_equal(trk_stats(T(2))->sent[TRK_MSG_PULL], pulls_of_2); /* none to node 1 */
    assert_int_equal(h_count(h, 2), 4);
    assert_non_null(h_entry(h, 1, "n2"));
    assert_non_null(h_entry(h, 3, "n2"));
    assert_non_null(h_entry(h, 2, "n1"));
    assert_non_null(h_entry(h, 2, "n3"));
}

/* A newcomer that meets a peer through the peer's pull, writes and all,
 * keeps its own pull: it is its full one. */
static void test_newcomer_keeps_its_full_pull(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 1, "register", "b", NULL, 1);
    assert_false(T(1)->took_full_pull);
    h_learn(h, 0, 1);
    h_deliver_type(h, 0, 1, TRK_MSG_PULL);
    assert_int_equal(trk_stats(T(1))->pulls_forgone, 0);
    assert_int_equal(pull_ask(h_find(h, 1, 0, TRK_MSG_PULL)), TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK);
    h_settle(h);
    assert_same_registry(h, 0, 1);
}

/* A pull whose writes are malformed, or that carries writes it may not
 * (a pull asking for a full pull back, or none), is refused and counted:
 * nothing is merged or answered, and a tracker that forwent its own pull
 * for those writes (node 2, meeting node 1 through the first) queues it
 * after all, each time. */
static void test_pull_with_bad_writes_refused(void **state)
{
    (void)state;
    struct harness *h = star_of_strangers(3);
    uint8_t buf[H_PULL_LEN + 256];
    uint8_t clock[16];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct fentry e = {"forged", NAME[1], (uint64_t)1 << 32 | 9, 5, 0, clock, cl};
    const unsigned asks[] = {TRK_PULL_ASK_BACK | TRK_PULL_ASK_BACK_FULL, 0, TRK_PULL_ASK_BACK};
    for (int k = 0; k < 3; k++) {
        size_t len = h_forge_pull_writes(buf, sizeof buf, asks[k], NULL, &e, 1);
        if (k == 2)
            len -= 3; /* an entry cut short */
        uint64_t malformed = trk_stats(T(2))->malformed;
        trk_message(T(2), NAME[1], buf, len);
        assert_int_equal(trk_stats(T(2))->malformed, malformed + 1);
        assert_null(h_entry(h, 2, "forged"));
        assert_int_equal(h_pending_type(h, 2, 1, TRK_MSG_SYNC_ACK), 0);
        /* node 2 met node 1 through the first one and forwent its pull,
         * then took it back: its pull of node 1 is under way */
        assert_int_equal(trk_stats(T(2))->pulls_forgone, 1);
        assert_int_equal(pull_ask(h_find(h, 2, 1, TRK_MSG_PULL)), TRK_PULL_ASK_BACK);
        h_deliver_type(h, 2, 1, TRK_MSG_PULL);
        h_settle(h);
    }
    h_settle(h);
    assert_non_null(h_entry(h, 2, "n1"));
}

/* A writer cut off from all but one node, whose unregister of another
 * node's name reached that node alone before the writer died: the nodes
 * that missed it had met the holder long before, so no scoped pull brings
 * it.  At its second look after the departure, every node offers its
 * digest to every other; where they differ, they pull each other in full,
 * and all agree (before: only anti-entropy, a random peer at a time,
 * found it: tests/regressions/fixed-one-sided-unregister.yaml). */
static void test_departed_writers_one_sided_write_spreads(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 4);
    h_cluster(h, 4);
    h_cmd(h, 1, "register", "x", NULL, 1);
    h_settle(h);
    h_cmd(h, 3, "unregister", "x", NULL, 0);
    assert_string_equal(h_last_reply(h, 3)->status, "ok");
    h_drop(h, 3, 1);
    h_drop(h, 3, 2);
    h_settle(h);
    assert_null(h_entry(h, 0, "x"));
    assert_non_null(h_entry(h, 1, "x"));
    h_crash(h, 3);
    for (int i = 0; i < 3; i++)
        trk_nodedown(T(i), NAME[3]);
    h_settle(h);
    assert_non_null(h_entry(h, 1, "x")); /* nothing found it yet */
    assert_non_null(h_entry(h, 2, "x"));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_armed(h, i, TRK_TIMER_ORPHANS), 1);
        h_fire(h, i, TRK_TIMER_ORPHANS);
    }
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_null(h_entry(h, i, "x"));
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_stats(T(i))->departure_offers, 1);
    assert_same_registry(h, 0, 1);
    assert_same_registry(h, 0, 2);
    /* a second look with no departure since offers nothing */
    h_cmd(h, 0, "register", "y", NULL, 1);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        if (h_armed(h, i, TRK_TIMER_ORPHANS))
            h_fire(h, i, TRK_TIMER_ORPHANS);
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_stats(T(i))->departure_offers, 1);
}

int test_tracker_pull_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_scoped_answer_carries_the_answerers_writes),
        T_(test_pull_back_as_asked),
        T_(test_meetings_ask_as_they_should),
        T_(test_departure_copy_goes_to_owner),
        T_(test_unknown_owner_from_event_arms_second_look),
        T_(test_copies_adopted_when_a_node_leaves),
        T_(test_pull_digests_on_the_wire),
        T_(test_pull_carries_few_writes),
        T_(test_pushed_writes_forgo_the_queued_pull),
        T_(test_newcomer_keeps_its_full_pull),
        T_(test_pull_with_bad_writes_refused),
        T_(test_departed_writers_one_sided_write_spreads),
    };
    return cmocka_run_group_tests_name("tracker-pull", tests, NULL, NULL);
}
