/*
 * tests/test_membership_gossip.c: the gossip strategy (group
 * "membership-gossip"), on the harness of membership_harness.h: discovery
 * under datagram loss, a node with the wrong secret that never joins,
 * replayed heartbeats (refused, also from an older incarnation), and a link
 * lost under a partition that heartbeats dial again once it heals.
 */
#include "tests.h"
#include "membership_harness.h"

#include "../sim/net.h"

#include <string.h>

/* ---- 6. gossip ---- */

#define GOSSIP_TOPOLOGY "{name: gossip, strategy: gossip, interval: {min: 200ms, max: 1s}}"

static void test_gossip_discovery_under_loss(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 5, .topology = GOSSIP_TOPOLOGY,
                     .network = "  datagrams: {loss: 10%}\n"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3)); /* at most 3 heartbeat intervals */
    assert_true(full_mesh(t));
    assert_true(t->w->stats.dgrams_lost > 0);
    for (uint32_t i = 0; i < 5; i++) {
        assert_true(st(t, i)->gossip_sent >= 3);
        assert_true(st(t, i)->gossip_accepted > 0);
        assert_int_equal(st(t, i)->gossip_bad_mac, 0);
        assert_int_equal(st(t, i)->gossip_replayed, 0);
        assert_int_equal(st(t, i)->disconnects, 0);
    }
}

static void test_gossip_wrong_secret_never_joins(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes_yaml = "[n1, n2, n3, {id: n4, secret: not-the-secret}]",
                     .topology = GOSSIP_TOPOLOGY};
    open_world(t, &o, 1);
    start_all(t);
    for (cs_time at = CS_MSEC(100); at <= CS_SEC(10); at += CS_MSEC(100)) {
        fx_run(t, at);
        assert_int_equal(view(t, 3), 0);
    }
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(view(t, i), 2);
        assert_false(sees(t, i, 3));
        assert_true(st(t, i)->gossip_bad_mac > 0);
        assert_false(discovered(t, i, "app@10.0.0.4"));
    }
    /* n4 cannot read the others either, so it never even dials. */
    assert_true(st(t, 3)->gossip_bad_mac > 0);
    assert_int_equal(st(t, 3)->gossip_accepted, 0);
    assert_int_equal(st(t, 3)->connects, 0);
}

/* Heartbeats of a peer that is up are not looked up in the connection
 * layer again until a peer's state changes: when the link to it breaks
 * (a partition), the next heartbeat after the heal must dial it again. */
static void test_gossip_redials_after_a_lost_link(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 3, .topology = GOSSIP_TOPOLOGY,
                     .network = "  break_detect: 2s\n"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3));
    assert_true(full_mesh(t));
    uint64_t dialled = st(t, 0)->connects + st(t, 1)->connects;
    const uint32_t a = 0, b = 1;
    sim_net_partition(t->w, &a, 1, &b, 1, false);
    fx_run(t, CS_SEC(6)); /* the link breaks and both ends learn it */
    assert_false(sees(t, 0, 1));
    sim_net_unpartition(t->w, &a, 1, &b, 1, false);
    fx_run(t, CS_SEC(9)); /* a few heartbeats */
    assert_true(full_mesh(t));
    assert_true(st(t, 0)->connects + st(t, 1)->connects > dialled);
}

struct dgram_grab {
    uint32_t from, to;
    uint8_t data[256];
    size_t len;
};

static void grab_heartbeat(void *ctx, const struct sim_event *ev)
{
    struct dgram_grab *g = ctx;
    if (g->len || ev->kind != SEV_DGRAM || ev->src != g->from || ev->node != g->to ||
        ev->len > sizeof g->data || ev->len < 11 || memcmp(ev->payload, "heartbeat::", 11) != 0)
        return;
    memcpy(g->data, ev->payload, ev->len);
    g->len = ev->len;
}

/* Captures the first heartbeat from node `from` to node `to` in flight. */
static void capture(struct fx *t, struct dgram_grab *g, uint32_t from, uint32_t to, cs_time limit)
{
    memset(g, 0, sizeof *g);
    g->from = from;
    g->to = to;
    for (cs_time at = t->w->now; at <= limit && !g->len; at += CS_MSEC(1)) {
        fx_run(t, at);
        sim_evq_each(&t->w->queue, grab_heartbeat, g);
    }
    assert_true(g->len > 0);
}

/* Re-sends captured bytes to node `to`, from node `via`. */
static void replay(struct fx *t, const struct dgram_grab *g, uint32_t via, uint32_t to)
{
    struct cs_env *env = fx_env(t, via);
    assert_int_equal(env->dgram_send(env, &t->w->nodes[to].addr, g->data, g->len), 0);
    fx_run(t, t->w->now + CS_MSEC(2));
}

static void test_gossip_replay_refused(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 3, .topology = GOSSIP_TOPOLOGY};
    open_world(t, &o, 1);
    start_all(t);
    struct dgram_grab g;
    capture(t, &g, 0, 1, CS_SEC(2));
    fx_run(t, CS_SEC(4));
    assert_true(full_mesh(t));
    uint64_t accepted = st(t, 1)->gossip_accepted, connects = st(t, 1)->connects;
    /* n2 took later heartbeats of n1 since: the capture is stale. */
    assert_true(st(t, 0)->gossip_sent >= 3);
    replay(t, &g, 2, 1);
    assert_int_equal(st(t, 1)->gossip_replayed, 1);
    assert_int_equal(st(t, 1)->gossip_accepted, accepted);

    /* n1 crashes: a replay that were taken for news would make n2 dial it. */
    sim_node_kill(t->w, 0);
    fx_run(t, t->w->now + CS_MSEC(10));
    assert_false(sees(t, 1, 0));
    connects = st(t, 1)->connects;
    replay(t, &g, 2, 1);
    assert_int_equal(st(t, 1)->gossip_replayed, 2);
    assert_int_equal(st(t, 1)->connects, connects);
    assert_false(conn_is_connecting(membership_conn(mem(t, 1)), name(t, 0)));

    /* n1 comes back (a new incarnation): its new heartbeats are taken, the
     * old incarnation's capture still is not. */
    start(t, 0);
    fx_run(t, t->w->now + CS_SEC(3));
    assert_true(full_mesh(t));
    accepted = st(t, 1)->gossip_accepted;
    replay(t, &g, 2, 1);
    assert_int_equal(st(t, 1)->gossip_replayed, 3);
    assert_int_equal(st(t, 1)->gossip_accepted, accepted);

    /* Malformed and forged datagrams are counted and ignored. */
    struct dgram_grab bad = g;
    bad.data[bad.len - 1] ^= 1; /* the MAC no longer matches */
    replay(t, &bad, 2, 1);
    assert_int_equal(st(t, 1)->gossip_bad_mac, 1);
    bad.len = 5;
    replay(t, &bad, 2, 1);
    assert_int_equal(st(t, 1)->gossip_malformed, 1);
    assert_int_equal(st(t, 1)->gossip_accepted, accepted);
}

/* A heartbeat captured two incarnations ago: the receiver remembers only
 * the current and the previous incarnation, yet the capture must neither
 * pass for news nor make it refuse the live incarnation's heartbeats. */
static void test_gossip_replay_of_older_incarnation(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 3, .topology = GOSSIP_TOPOLOGY};
    open_world(t, &o, 4);
    start_all(t);
    struct dgram_grab g;
    capture(t, &g, 0, 1, CS_SEC(2));
    for (int restarts = 0; restarts < 2; restarts++) {
        fx_run(t, t->w->now + CS_SEC(3));
        sim_node_kill(t->w, 0);
        start(t, 0);
    }
    fx_run(t, t->w->now + CS_SEC(3));
    assert_true(full_mesh(t));
    /* n2 cannot tell the capture from a newer incarnation (incarnations
     * are random, not ordered), so it may take it once ... */
    replay(t, &g, 2, 1);
    uint64_t accepted = st(t, 1)->gossip_accepted, replayed = st(t, 1)->gossip_replayed;
    /* ... but the live incarnation's heartbeats are still taken (the bug:
     * every one of them was refused as a replay from then on), and a second
     * replay of the capture is refused. */
    fx_run(t, t->w->now + CS_SEC(3));
    assert_int_equal(st(t, 1)->gossip_replayed, replayed);
    assert_true(st(t, 1)->gossip_accepted >= accepted + 2);
    replay(t, &g, 2, 1);
    assert_int_equal(st(t, 1)->gossip_replayed, replayed + 1);
    assert_true(full_mesh(t));
}

int test_membership_gossip_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gossip_discovery_under_loss, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_wrong_secret_never_joins, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_replay_refused, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_replay_of_older_incarnation, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_redials_after_a_lost_link, mt_setup, mt_teardown),
    };
    return cmocka_run_group_tests_name("membership-gossip", tests, NULL, NULL);
}
