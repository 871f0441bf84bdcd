/*
 * tests/test_tracker_epoch.c: what lets work be skipped when nothing
 * changed (group "tracker-epoch").
 *
 *  - trk_registry_epoch's promise, which lets the simulator's no-loss
 *    observer skip a node whose registry it already listed: while a
 *    tracker's epoch reads the same, trk_each_entry lists the same entries
 *    (name, owner, started).  Random commands, deliveries, anti-entropy
 *    rounds and crashes on three trackers, in both modes; after every step
 *    each tracker's listing is compared with the one taken at its previous
 *    reading.
 *  - Quiet topology passes: a pass that would act on no entry is skipped,
 *    but not after the node list changed (a join still hands a process to
 *    its new ring owner) nor when the last pass depended on the time (an
 *    orphan of a never-met owner is still taken over when its wait ends).
 */
#include "tests.h"
#include "tracker_harness.h"

#include "../sim/pcg.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#define NODES 3

/* A listing's fingerprint: entries in any order, so a wrapping sum. */
struct listing {
    size_t count;
    uint64_t sum;
};

static void fold_entry(void *ctx, const char *name, const char *owner, bool started, const char *ring_owner)
{
    (void)ring_owner;
    struct listing *l = ctx;
    char text[512];
    int n = snprintf(text, sizeof text, "%s|%s|%d", name, owner ? owner : "", started);
    l->count++;
    l->sum += XXH3_64bits(text, (size_t)n);
}

static struct listing listing_of(struct tracker *t)
{
    struct listing l = {0, 0};
    trk_each_entry(t, false, fold_entry, &l);
    return l;
}

/* One random step on the cluster. */
static void random_step(struct harness *h, struct pcg32 *rng)
{
    static const char *const ops[] = {"register", "register_started", "unregister"};
    int i = (int)pcg32_below(rng, NODES);
    char name[8];
    snprintf(name, sizeof name, "n%u", pcg32_below(rng, 6));
    switch (pcg32_below(rng, 8)) {
    case 0:
    case 1:
    case 2:
        if (h->n[i].t) {
            h_cmd(h, i, ops[pcg32_below(rng, 3)], name, NULL, pcg32_below(rng, 100));
            h->n[i].reply_count = 0; /* the harness keeps a bounded record */
        }
        break;
    case 3:
    case 4: { /* one message of a random pair, if any */
        int j = (int)pcg32_below(rng, NODES);
        if (h->n[i].t && h->n[j].t && h_pending(h, i, j) > 0)
            h_deliver(h, i, j);
        break;
    }
    case 5:
        h_settle(h);
        break;
    case 6:
        h_run_until(h, h->now + CS_SEC(3)); /* anti-entropy, retries, timeouts */
        break;
    default: /* a crash and a return: new entries from the survivors' syncs */
        if (!h->n[i].t)
            break;
        h_crash(h, i);
        for (int j = 0; j < NODES; j++)
            if (j != i && h->n[j].t)
                trk_nodedown(h->n[j].t, NAME[i]);
        h_settle(h);
        h_restart(h, i, 100 + pcg32_below(rng, 1000));
        h_start(h, i);
        for (int j = 0; j < NODES; j++)
            if (j != i && h->n[j].t) { /* the links come back: both sides see nodeup */
                trk_nodeup(h->n[i].t, NAME[j]);
                trk_nodeup(h->n[j].t, NAME[i]);
            }
        break;
    }
}

static void run_epoch_promise(enum trk_mode mode, uint64_t seed)
{
    struct harness *h = h_new(mode, NODES);
    h_cluster(h, NODES);
    struct pcg32 rng;
    pcg32_seed(&rng, seed, 5);
    const struct tracker *seen_tracker[NODES] = {0};
    uint64_t seen_epoch[NODES] = {0};
    struct listing seen[NODES];
    size_t same_epoch = 0, changed = 0;
    for (int step = 0; step < 400; step++) {
        random_step(h, &rng);
        for (int i = 0; i < NODES; i++) {
            struct tracker *t = h->n[i].t;
            if (!t)
                continue;
            uint64_t epoch = trk_registry_epoch(t);
            struct listing now = listing_of(t);
            if (seen_tracker[i] == t && seen_epoch[i] == epoch) {
                same_epoch++;
                assert_int_equal(now.count, seen[i].count);
                assert_true(now.sum == seen[i].sum);
            } else if (seen_tracker[i] == t && (now.count != seen[i].count || now.sum != seen[i].sum)) {
                changed++;
            }
            seen_tracker[i] = t;
            seen_epoch[i] = epoch;
            seen[i] = now;
        }
    }
    /* The walk must have both kinds of steps to prove anything. */
    assert_true(same_epoch > 100);
    assert_true(changed > 20);
    h_free(h);
    H = NULL;
}

static void test_epoch_same_means_listing_same_fixed(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_epoch_promise(TRK_FIXED, seed);
}

static void test_epoch_same_means_listing_same_swarm(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_epoch_promise(TRK_SWARM, seed);
}

/* A started process on A alone, whose ring owner is B once B is there:
 * quiet passes on A, then B joins; the pass after the join hands it to B. */
static void test_quiet_pass_then_join_hands_off(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_start_alone(h, 0);
    char s[32];
    const int both[2] = {0, 1};
    name_owned_by(h, both, 2, 1, "s", s, sizeof s);
    h_cmd(h, 0, "register_started", s, NULL, 7);
    h_settle(h);
    assert_int_equal(h_procs(h, 0, s), 1);
    trk_topology_change(T(0)); /* nothing to do: quiet, */
    trk_topology_change(T(0)); /* so this one is skipped */
    assert_true(T(0)->quiet_valid);
    h_start(h, 1);
    h_link(h, 0, 1);
    h_settle(h);
    h_run_until(h, h->now + CS_SEC(5));
    h_settle(h);
    assert_int_equal(h_procs(h, 0, s), 0);
    assert_int_equal(h_procs(h, 1, s), 1);
    assert_string_equal(h_owner(h, 0, s), NAME[1]);
}

/* B's snapshot brings A a started process of C, a node A never met: A
 * waits sync_timeout for C (a pass that read the clock, so not quiet), then
 * takes it over as its ring owner when the orphan check fires. */
static void test_orphan_taken_over_after_its_wait(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    char x[32];
    const int both[2] = {0, 1};
    name_owned_by(h, both, 2, 0, "x", x, sizeof x);
    uint8_t clock[16], seed[8], buf[1024];
    size_t cl = clock_after(1, clock, sizeof clock), sl = clock_after(0, seed, sizeof seed);
    struct fentry orphan = {x, "app@10.0.0.9", (uint64_t)9 << 32 | 1, 50, REG_STARTED, clock, cl};
    size_t len = forge_snapshot(buf, sizeof buf, TRK_MSG_SYNC_RECV, NAME[1], seed, sl, &orphan, 1);
    trk_message(T(0), NAME[1], buf, len);
    h_drop(h, -1, -1);
    assert_string_equal(h_owner(h, 0, x), "app@10.0.0.9");
    assert_false(T(0)->quiet_valid); /* the pass depended on the time */
    assert_int_equal(h_procs(h, 0, x), 0);
    h_run_until(h, h->now + h->cfg.sync_timeout + CS_SEC(1));
    assert_int_equal(h_procs(h, 0, x), 1);
    assert_string_equal(h_owner(h, 0, x), NAME[0]);
}

int test_tracker_epoch_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_epoch_same_means_listing_same_fixed),
        T_(test_epoch_same_means_listing_same_swarm),
        T_(test_quiet_pass_then_join_hands_off),
        T_(test_orphan_taken_over_after_its_wait),
    };
    return cmocka_run_group_tests_name("tracker-epoch", tests, NULL, NULL);
}
