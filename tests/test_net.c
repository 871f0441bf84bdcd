/*
 * tests/test_net.c: the network model (sim/net.c) as nodes see it through
 * the sim env: link set-up time and LINK_UP on both ends, refused connects,
 * FIFO order per direction under random latency, the latency floor, orderly
 * close behind in-flight data, crash detection and dropped messages to dead
 * incarnations, symmetric and one-way partitions (break detection, lost
 * in-flight data, connect timeouts, also for a handshake cut midway, heal),
 * the links_broken count, clogs that delay but never drop, datagram loss,
 * duplication and reordering rates, multicast groups, and link handles that
 * stay valid when a LINK_UP handler opens more links.
 */
#include "tests.h"

#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define MS(x) CS_MSEC(x)
#define US(x) CS_USEC(x)

/* Four nodes (10.0.0.1 .. 10.0.0.4); every delay of the model is distinct so
 * that a test can tell which one applied. */
#define NET_BASE                                                                                   \
    "cluster:\n"                                                                                   \
    "  nodes: 4\n"                                                                                 \
    "network:\n"                                                                                   \
    "  connect_time: 5ms\n"                                                                        \
    "  break_detect: 200ms\n"                                                                      \
    "  crash_detect: 50ms\n"                                                                       \
    "  connect_timeout: 300ms\n"

#define NET_FIXED NET_BASE "  latency: 1ms\n"

enum { CONNECT_TIME = 5, BREAK_DETECT = 200, CRASH_DETECT = 50, CONNECT_TIMEOUT = 300 };
#define SEC_GRACE CS_SEC(5)

static bool same_addr(const struct cs_addr *a, const struct cs_addr *b)
{
    return cs_addr_compare(a, b) == 0;
}

/* Connects a -> b now and runs until the link is up on both ends; returns
 * the initiator's id and stores the acceptor's in *peer_id. */
static cs_link_id link_up(struct fx *t, uint32_t a, uint32_t b, cs_link_id *peer_id)
{
    cs_link_id id = fx_connect(t, a, b);
    size_t before = fx_count(t, b, CS_EV_LINK_UP);
    fx_run(t, t->w->now + MS(CONNECT_TIME));
    const struct fx_event *up = fx_find(t, a, CS_EV_LINK_UP, id);
    assert_non_null(up);
    const struct fx_event *in = fx_nth(t, b, CS_EV_LINK_UP, before);
    assert_non_null(in);
    assert_true(in->inbound);
    if (peer_id)
        *peer_id = in->id;
    return id;
}

static size_t count_from(const struct fx_log *log, enum cs_event_type type, cs_time from)
{
    size_t n = 0;
    for (size_t i = 0; i < log->count; i++)
        n += log->ev[i].type == type && log->ev[i].at >= from;
    return n;
}

/* ---- links ---- */

static void test_link_setup_both_ends(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    fx_run(t, MS(10));
    cs_link_id id = fx_connect(t, 0, 1);
    fx_run(t, MS(10 + CONNECT_TIME) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_UP), 0);
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_UP), 0);
    fx_run(t, MS(10 + CONNECT_TIME));

    const struct fx_event *out = fx_find(t, 0, CS_EV_LINK_UP, id);
    assert_non_null(out);
    assert_int_equal(out->at, MS(15));
    assert_false(out->inbound);
    assert_true(same_addr(&out->addr, &t->w->nodes[1].addr));
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_UP), 1);
    const struct fx_event *in = fx_nth(t, 1, CS_EV_LINK_UP, 0);
    assert_int_equal(in->at, MS(15));
    assert_true(in->inbound);
    assert_true(same_addr(&in->addr, &t->w->nodes[0].addr));
    struct cs_addr first = fx_addr("10.0.0.1"); /* the pool's first address */
    assert_true(same_addr(&in->addr, &first));

    /* The one link carries data both ways, with the configured latency. */
    assert_int_equal(fx_send(t, 0, id, 7), 0);
    assert_int_equal(fx_send(t, 1, in->id, 8), 0);
    fx_run(t, MS(16));
    const struct fx_event *m1 = fx_nth(t, 1, CS_EV_LINK_MSG, 0);
    const struct fx_event *m0 = fx_nth(t, 0, CS_EV_LINK_MSG, 0);
    assert_non_null(m1);
    assert_non_null(m0);
    assert_int_equal(m1->seq, 7);
    assert_int_equal(m1->at, MS(16));
    assert_int_equal(m1->len, 4);
    assert_int_equal(m0->seq, 8);
    assert_int_equal(m0->id, id);
    assert_int_equal(fx_log_of(t, 2)->count, 0);
    assert_int_equal(fx_log_of(t, 3)->count, 0);
    assert_int_equal(t->w->stats.messages_delivered, 2);
}

static void test_link_refused(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 3);
    fx_run(t, MS(1));
    sim_node_kill(t->w, 3);
    struct cs_env *env = fx_env(t, 0);
    struct cs_addr nobody = fx_addr("10.0.0.99");
    cs_link_id l_nobody = env->link_connect(env, &nobody);
    cs_link_id l_down = fx_connect(t, 0, 2);   /* never started */
    cs_link_id l_killed = fx_connect(t, 0, 3); /* crashed */
    assert_int_not_equal(l_nobody, 0);
    fx_run(t, MS(1 + CONNECT_TIME) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 0);
    fx_run(t, MS(100));
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_UP), 0);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 3);
    cs_link_id ids[] = {l_nobody, l_down, l_killed};
    for (int i = 0; i < 3; i++) {
        const struct fx_event *d = fx_find(t, 0, CS_EV_LINK_DOWN, ids[i]);
        assert_non_null(d);
        assert_int_equal(d->reason, CS_LINK_REFUSED);
        assert_int_equal(d->at, MS(1 + CONNECT_TIME));
        assert_int_equal(fx_send(t, 0, ids[i], 1), -1);
    }
}

#define N_FIFO 1000

static void check_fifo(struct fx *t, uint32_t node, uint32_t first, const cs_time *sent,
                       cs_time min, cs_time max)
{
    assert_int_equal(fx_count(t, node, CS_EV_LINK_MSG), N_FIFO);
    cs_time prev_at = 0, delays[N_FIFO];
    size_t distinct = 0;
    for (size_t i = 0; i < N_FIFO; i++) {
        const struct fx_event *m = fx_nth(t, node, CS_EV_LINK_MSG, i);
        assert_int_equal(m->seq, first + i);
        assert_true(m->at >= prev_at);
        prev_at = m->at;
        cs_time d = m->at - sent[i];
        assert_in_range(d, min, max);
        bool seen = false;
        for (size_t j = 0; j < distinct && !seen; j++)
            seen = delays[j] == d;
        if (!seen)
            delays[distinct++] = d;
    }
    assert_true(distinct >= 20); /* the latency really varied */
}

static void test_link_fifo_uniform_latency(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_BASE "  latency: {dist: uniform, min: 1ms, max: 20ms}\n", 3);
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 0, 1, &back);
    static cs_time sent[N_FIFO];
    cs_time base = t->w->now;
    for (uint32_t i = 0; i < N_FIFO; i++) {
        fx_run(t, base + (cs_time)i * US(50));
        sent[i] = t->w->now;
        assert_int_equal(fx_send(t, 0, id, i), 0);
        assert_int_equal(fx_send(t, 1, back, 100000 + i), 0);
    }
    fx_run(t, t->w->now + MS(30));
    check_fifo(t, 1, 0, sent, MS(1), MS(20));
    check_fifo(t, 0, 100000, sent, MS(1), MS(20));
}

static void test_link_latency_floor(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_BASE "  latency: {dist: exponential, min: 3ms, mean: 2ms}\n", 5);
    fx_start_all(t);
    cs_link_id id = link_up(t, 0, 1, NULL);
    cs_time base = t->w->now, total = 0;
    enum { N = 400 };
    for (uint32_t i = 0; i < N; i++) {
        fx_run(t, base + (cs_time)i * MS(20));
        assert_int_equal(fx_send(t, 0, id, i), 0);
    }
    fx_run(t, t->w->now + MS(200));
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), N);
    for (uint32_t i = 0; i < N; i++) {
        const struct fx_event *m = fx_nth(t, 1, CS_EV_LINK_MSG, i);
        cs_time d = m->at - (base + (cs_time)i * MS(20));
        assert_true(d >= MS(3));
        total += d;
    }
    /* min + mean = 5ms on average; the standard error is 0.1ms. */
    assert_in_range(total / N, US(4500), US(5500));
}

static void test_link_close_after_data(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_BASE "  latency: {dist: uniform, min: 1ms, max: 20ms}\n", 1);
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 0, 1, &back);
    cs_time t0 = t->w->now;
    enum { N = 50 };
    for (uint32_t i = 1; i <= N; i++)
        assert_int_equal(fx_send(t, 0, id, i), 0);
    struct cs_env *env = fx_env(t, 0);
    env->link_close(env, id);
    assert_int_equal(fx_send(t, 0, id, 99), -1); /* closed on this side */
    assert_int_equal(fx_send(t, 1, back, 9), 0); /* the peer does not know yet */
    fx_run(t, t0 + MS(20));

    /* Every message first, in order, then the orderly close. */
    const struct fx_log *b = fx_log_of(t, 1);
    size_t msgs = 0;
    const struct fx_event *down = NULL, *last = NULL;
    for (size_t i = 0; i < b->count; i++) {
        if (b->ev[i].type == CS_EV_LINK_MSG) {
            assert_null(down); /* no data after the close */
            assert_int_equal(b->ev[i].seq, ++msgs);
            last = &b->ev[i];
        } else if (b->ev[i].type == CS_EV_LINK_DOWN) {
            down = &b->ev[i];
        }
    }
    assert_int_equal(msgs, N);
    assert_non_null(down);
    assert_int_equal(down->id, back);
    assert_int_equal(down->reason, CS_LINK_CLOSED);
    assert_in_range(down->at, last->at, t0 + MS(20));
    /* The closing side gets no LINK_DOWN and no data after its close. */
    fx_run(t, t0 + MS(50));
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 0);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_MSG), 0);
    assert_int_equal(t->w->stats.messages_dropped, 1);
    assert_int_equal(fx_send(t, 1, back, 10), -1);
}

static void test_crash_breaks_links(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    cs_link_id ab_back, ac_back;
    cs_link_id ab = link_up(t, 0, 1, &ab_back);
    cs_link_id ac = link_up(t, 0, 2, &ac_back);
    cs_time t0 = t->w->now;
    assert_int_equal(fx_send(t, 1, ab_back, 55), 0);   /* B -> A, on the wire at the crash */
    fx_run(t, t0 + US(200));
    assert_int_equal(fx_send(t, 0, ab, 1), 0);         /* A -> B, in flight at the crash */
    fx_run(t, t0 + US(500));
    uint32_t inc = t->w->nodes[1].incarnation;
    sim_node_kill(t->w, 1);
    cs_time crash = t->w->now;
    fx_run(t, crash + US(100));
    sim_node_start(t->w, 1);                           /* same address, new incarnation */
    assert_int_equal(t->w->nodes[1].incarnation, inc + 1);
    assert_int_equal(fx_send(t, 0, ab, 2), 0);         /* A cannot tell yet: lost */
    assert_int_equal(fx_send(t, 0, ac, 3), 0);
    fx_run(t, crash + MS(CRASH_DETECT) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 0);
    fx_run(t, crash + MS(CRASH_DETECT));

    const struct fx_event *down = fx_find(t, 0, CS_EV_LINK_DOWN, ab);
    assert_non_null(down);
    assert_int_equal(down->reason, CS_LINK_BROKEN);
    assert_int_equal(down->at, crash + MS(CRASH_DETECT));
    /* Data the dead node had sent still arrives, before the break. */
    const struct fx_event *m = fx_nth(t, 0, CS_EV_LINK_MSG, 0);
    assert_non_null(m);
    assert_int_equal(m->seq, 55);
    assert_true(m->order < down->order);
    /* Nothing reached B: not the old incarnation, not the new one. */
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 0);
    assert_int_equal(t->w->stats.messages_dropped, 2);
    /* The other link lives on. */
    assert_null(fx_find(t, 0, CS_EV_LINK_DOWN, ac));
    assert_int_equal(fx_count(t, 2, CS_EV_LINK_MSG), 1);
    assert_int_equal(fx_nth(t, 2, CS_EV_LINK_MSG, 0)->seq, 3);
    assert_int_equal(fx_count(t, 2, CS_EV_LINK_DOWN), 0);
    assert_int_equal(fx_send(t, 0, ab, 4), -1);
    assert_int_equal(fx_send(t, 2, ac_back, 5), 0);
}

static const uint32_t N0[] = {0}, N1[] = {1};

static void test_links_broken_counted_once(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    t->cfg.on_stop = FX_STOP_AT_ONCE;
    fx_start_all(t);
    link_up(t, 0, 1, NULL);
    link_up(t, 0, 2, NULL);
    link_up(t, 3, 0, NULL);
    assert_int_equal(t->w->stats.links_opened, 3);
    sim_net_partition(t->w, N0, 1, N1, 1, false);
    assert_int_equal(t->w->stats.links_broken, 1);
    sim_node_kill(t->w, 1); /* its link was already broken by the cut */
    assert_int_equal(t->w->stats.links_broken, 1);
    sim_node_stop(t->w, 2, SEC_GRACE); /* an orderly exit closes, it does not break */
    fx_run(t, t->w->now + MS(1));
    assert_false(sim_node_alive(&t->w->nodes[2]));
    assert_int_equal(t->w->stats.links_broken, 1);
    sim_node_kill(t->w, 3);
    assert_int_equal(t->w->stats.links_broken, 2);
}


static void test_partition_breaks_links(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    cs_link_id ab_back;
    cs_link_id ab = link_up(t, 0, 1, &ab_back);
    cs_link_id ac = link_up(t, 0, 2, NULL);
    cs_time t0 = t->w->now;
    assert_int_equal(fx_send(t, 0, ab, 1), 0); /* in flight at the cut */
    fx_run(t, t0 + US(500));
    sim_net_partition(t->w, N0, 1, N1, 1, false);
    cs_time cut = t->w->now;
    assert_true(sim_net_blocked(t->w, 0, 1));
    assert_true(sim_net_blocked(t->w, 1, 0));
    assert_false(sim_net_blocked(t->w, 0, 2));
    assert_int_equal(fx_send(t, 0, ab, 2), 0); /* the sender cannot tell yet */
    assert_int_equal(fx_send(t, 0, ac, 3), 0);
    assert_int_equal(fx_dgram(t, 0, 1, 10), 0);
    assert_int_equal(fx_dgram(t, 1, 0, 11), 0);
    assert_int_equal(fx_dgram(t, 0, 2, 12), 0);
    cs_link_id across = fx_connect(t, 0, 1);
    fx_run(t, cut + MS(BREAK_DETECT) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 0);
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_DOWN), 0);
    fx_run(t, cut + MS(BREAK_DETECT));

    const struct fx_event *da = fx_find(t, 0, CS_EV_LINK_DOWN, ab);
    const struct fx_event *db = fx_find(t, 1, CS_EV_LINK_DOWN, ab_back);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(da->reason, CS_LINK_BROKEN);
    assert_int_equal(db->reason, CS_LINK_BROKEN);
    assert_int_equal(da->at, cut + MS(BREAK_DETECT));
    assert_int_equal(db->at, cut + MS(BREAK_DETECT));
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 0); /* in-flight data is lost */
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), 0);
    assert_int_equal(fx_count(t, 0, CS_EV_DGRAM), 0);
    assert_int_equal(fx_count(t, 2, CS_EV_LINK_MSG), 1);
    assert_int_equal(fx_count(t, 2, CS_EV_DGRAM), 1);
    assert_null(fx_find(t, 0, CS_EV_LINK_DOWN, ac));

    /* A connect across the cut times out; nobody sees it come up. */
    fx_run(t, cut + MS(CONNECT_TIMEOUT) - 1);
    assert_null(fx_find(t, 0, CS_EV_LINK_DOWN, across));
    fx_run(t, cut + MS(CONNECT_TIMEOUT));
    const struct fx_event *dc = fx_find(t, 0, CS_EV_LINK_DOWN, across);
    assert_non_null(dc);
    assert_int_equal(dc->reason, CS_LINK_TIMEOUT);
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_UP), 1); /* only the first link ever */

    /* After the heal everything works again. */
    sim_net_heal(t->w);
    assert_false(sim_net_blocked(t->w, 0, 1));
    cs_time healed = t->w->now;
    cs_link_id again = link_up(t, 0, 1, NULL);
    assert_int_equal(fx_send(t, 0, again, 20), 0);
    assert_int_equal(fx_dgram(t, 1, 0, 21), 0);
    fx_run(t, t->w->now + MS(2));
    assert_int_equal(count_from(fx_log_of(t, 1), CS_EV_LINK_MSG, healed), 1);
    assert_int_equal(fx_nth(t, 1, CS_EV_LINK_MSG, 0)->seq, 20);
    assert_int_equal(fx_count(t, 0, CS_EV_DGRAM), 1);
    assert_int_equal(t->w->stats.links_broken, 1);
}

static void test_partition_during_handshake(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    cs_time t0 = t->w->now;
    cs_link_id id = fx_connect(t, 0, 1);
    fx_run(t, t0 + MS(1));
    sim_net_partition(t->w, N0, 1, N1, 1, false); /* the handshake is cut */
    /* The initiator gets no answer and gives up after connect_timeout from
     * its connect, not when the handshake would have completed. */
    fx_run(t, t0 + MS(CONNECT_TIMEOUT) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN), 0);
    fx_run(t, t0 + MS(CONNECT_TIMEOUT));
    const struct fx_event *d = fx_find(t, 0, CS_EV_LINK_DOWN, id);
    assert_non_null(d);
    assert_int_equal(d->reason, CS_LINK_TIMEOUT);
    assert_int_equal(d->at, t0 + MS(CONNECT_TIMEOUT));
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_UP) + fx_count(t, 1, CS_EV_LINK_UP), 0);
    assert_int_equal(fx_send(t, 0, id, 1), -1);
}

static void test_partition_oneway(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    cs_link_id ab_back;
    cs_link_id ab = link_up(t, 0, 1, &ab_back);
    cs_link_id bc = link_up(t, 1, 2, NULL);
    sim_net_partition(t->w, N0, 1, N1, 1, true); /* 0 -> 1 is cut, 1 -> 0 is not */
    cs_time cut = t->w->now;
    assert_true(sim_net_blocked(t->w, 0, 1));
    assert_false(sim_net_blocked(t->w, 1, 0));
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(fx_dgram(t, 0, 1, i), 0);
        assert_int_equal(fx_dgram(t, 1, 0, 100 + i), 0);
    }
    cs_link_id back = fx_connect(t, 1, 0);
    fx_run(t, cut + MS(CONNECT_TIMEOUT));
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), 0);
    assert_int_equal(fx_count(t, 0, CS_EV_DGRAM), 10);
    assert_int_equal(fx_nth(t, 0, CS_EV_DGRAM, 9)->seq, 109);
    /* A link needs both directions: the existing one breaks on both ends. */
    const struct fx_event *da = fx_find(t, 0, CS_EV_LINK_DOWN, ab);
    const struct fx_event *db = fx_find(t, 1, CS_EV_LINK_DOWN, ab_back);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(da->reason, CS_LINK_BROKEN);
    assert_int_equal(db->at, cut + MS(BREAK_DETECT));
    const struct fx_event *dc = fx_find(t, 1, CS_EV_LINK_DOWN, back);
    assert_non_null(dc);
    assert_int_equal(dc->reason, CS_LINK_TIMEOUT);
    assert_null(fx_find(t, 1, CS_EV_LINK_DOWN, bc));

    sim_net_heal(t->w);
    assert_int_equal(fx_dgram(t, 0, 1, 7), 0);
    fx_run(t, t->w->now + MS(1));
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), 1);
    assert_int_equal(fx_nth(t, 1, CS_EV_DGRAM, 0)->seq, 7);
}

static void test_clog_delays_in_order(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 0, 1, &back);
    cs_time t0 = t->w->now, until = t0 + MS(100);
    sim_net_clog(t->w, 0, 1, until);
    for (uint32_t i = 0; i < 10; i++) {
        fx_run(t, t0 + MS(i));
        assert_int_equal(fx_send(t, 0, id, i), 0);
    }
    assert_int_equal(fx_send(t, 1, back, 500), 0); /* the other direction flows */
    fx_run(t, until - 1);
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 0);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_MSG), 1);
    assert_int_equal(fx_nth(t, 0, CS_EV_LINK_MSG, 0)->at, t0 + MS(10));
    fx_run(t, until + MS(20));
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 10);
    for (uint32_t i = 0; i < 10; i++) {
        const struct fx_event *m = fx_nth(t, 1, CS_EV_LINK_MSG, i);
        assert_int_equal(m->seq, i);
        assert_in_range(m->at, until, until + MS(1));
    }
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_DOWN) + fx_count(t, 1, CS_EV_LINK_DOWN), 0);
    assert_int_equal(t->w->stats.messages_dropped, 0);
    /* Once the clog is over, messages take the plain latency again. */
    cs_time later = t->w->now;
    assert_int_equal(fx_send(t, 0, id, 99), 0);
    fx_run(t, later + MS(1));
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 11);
    assert_int_equal(fx_nth(t, 1, CS_EV_LINK_MSG, 10)->at, later + MS(1));
}

/* ---- datagrams ---- */

/* Sends n numbered datagrams 0 -> 1, one every `gap`, and runs until all
 * have had time to arrive. */
static cs_time send_dgrams(struct fx *t, uint32_t n, cs_time gap, cs_time *sent)
{
    cs_time base = t->w->now;
    for (uint32_t i = 0; i < n; i++) {
        fx_run(t, base + (cs_time)i * gap);
        if (sent)
            sent[i] = t->w->now;
        assert_int_equal(fx_dgram(t, 0, 1, i), 0);
    }
    fx_run(t, t->w->now + MS(100));
    return base;
}

static void test_dgram_loss_rate(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED "  datagrams: {loss: 0.3}\n", 11);
    fx_start_all(t);
    enum { N = 4000 };
    send_dgrams(t, N, US(100), NULL);
    size_t got = fx_count(t, 1, CS_EV_DGRAM);
    double lost = 1.0 - (double)got / N;
    assert_true(lost > 0.25 && lost < 0.35);
    assert_int_equal(t->w->stats.dgrams_lost, N - got);
    assert_int_equal(t->w->stats.dgrams_delivered, got);
    /* Every datagram that arrived is a distinct one, from the sender. */
    for (size_t i = 1; i < got; i++) {
        assert_true(fx_nth(t, 1, CS_EV_DGRAM, i)->seq > fx_nth(t, 1, CS_EV_DGRAM, i - 1)->seq);
        assert_true(same_addr(&fx_nth(t, 1, CS_EV_DGRAM, i)->addr, &t->w->nodes[0].addr));
    }
}

static void test_dgram_duplicate_rate(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED "  datagrams: {duplicate: 0.2}\n", 12);
    fx_start_all(t);
    enum { N = 2000 };
    send_dgrams(t, N, US(100), NULL);
    static uint8_t copies[N];
    memset(copies, 0, sizeof copies);
    size_t got = fx_count(t, 1, CS_EV_DGRAM);
    for (size_t i = 0; i < got; i++) {
        uint32_t seq = fx_nth(t, 1, CS_EV_DGRAM, i)->seq;
        assert_true(seq < N);
        copies[seq]++;
    }
    size_t doubled = 0;
    for (size_t i = 0; i < N; i++) {
        assert_in_range(copies[i], 1, 2); /* never lost, at most one extra copy */
        doubled += copies[i] == 2;
    }
    assert_int_equal(got, N + doubled);
    assert_in_range(doubled, 300, 500); /* 0.2 +- 0.05 of 2000 */
    assert_int_equal(t->w->stats.dgrams_duplicated, doubled);
}

static size_t inversions(struct fx *t, uint32_t node)
{
    size_t n = 0, count = fx_count(t, node, CS_EV_DGRAM);
    uint32_t highest = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t seq = fx_nth(t, node, CS_EV_DGRAM, i)->seq;
        if (i > 0 && seq < highest)
            n++;
        if (seq > highest)
            highest = seq;
    }
    return n;
}

static void test_dgram_reorder(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED "  datagrams: {reorder: 0.2, reorder_delay: "
                         "{dist: uniform, min: 5ms, max: 50ms}}\n", 13);
    fx_start_all(t);
    enum { N = 2000 };
    static cs_time sent[N];
    send_dgrams(t, N, MS(1), sent);
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), N);
    size_t late = 0;
    for (size_t i = 0; i < N; i++) {
        const struct fx_event *d = fx_nth(t, 1, CS_EV_DGRAM, i);
        cs_time delay = d->at - sent[d->seq];
        /* Either the plain latency or latency plus a reorder delay. */
        assert_true(delay == MS(1) || (delay >= MS(6) && delay <= MS(51)));
        late += delay > MS(1);
    }
    assert_in_range(late, 300, 500);
    assert_true(inversions(t, 1) >= 300);
}

static void test_dgram_no_reorder_when_off(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED "  datagrams: {latency: 3ms}\n", 13);
    fx_start_all(t);
    enum { N = 2000 };
    static cs_time sent[N];
    send_dgrams(t, N, US(10), sent);
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), N);
    for (uint32_t i = 0; i < N; i++) {
        const struct fx_event *d = fx_nth(t, 1, CS_EV_DGRAM, i);
        assert_int_equal(d->seq, i);
        assert_int_equal(d->at - sent[i], MS(3));
    }
    assert_int_equal(t->w->stats.dgrams_lost + t->w->stats.dgrams_duplicated, 0);
}

static void test_dgram_multicast_groups(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    fx_start_all(t);
    struct cs_addr g1 = fx_addr("239.1.2.3"), g2 = fx_addr("239.9.9.9");
    assert_int_equal(fx_env(t, 1)->dgram_join(fx_env(t, 1), &g1), 0);
    assert_int_equal(fx_env(t, 2)->dgram_join(fx_env(t, 2), &g1), 0);
    assert_int_equal(fx_env(t, 3)->dgram_join(fx_env(t, 3), &g2), 0);
    assert_int_equal(fx_env(t, 0)->dgram_join(fx_env(t, 0), &g1), 0); /* the sender too */
    struct cs_addr unicast = fx_addr("10.0.0.2");
    assert_int_equal(fx_env(t, 3)->dgram_join(fx_env(t, 3), &unicast), -1);
    assert_int_equal(fx_dgram_to(t, 0, &g1, 1), 0);
    assert_int_equal(fx_dgram_to(t, 0, &g2, 2), 0);
    fx_run(t, MS(5));
    assert_int_equal(fx_count(t, 0, CS_EV_DGRAM), 0); /* no loopback */
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), 1);
    assert_int_equal(fx_count(t, 2, CS_EV_DGRAM), 1);
    assert_int_equal(fx_count(t, 3, CS_EV_DGRAM), 1);
    assert_int_equal(fx_nth(t, 1, CS_EV_DGRAM, 0)->seq, 1);
    assert_int_equal(fx_nth(t, 2, CS_EV_DGRAM, 0)->seq, 1);
    assert_int_equal(fx_nth(t, 3, CS_EV_DGRAM, 0)->seq, 2);
    assert_true(same_addr(&fx_nth(t, 2, CS_EV_DGRAM, 0)->addr, &t->w->nodes[0].addr));

    /* Membership belongs to the process: a restarted node has left. */
    sim_node_kill(t->w, 2);
    sim_node_start(t->w, 2);
    assert_int_equal(fx_dgram_to(t, 0, &g1, 3), 0);
    fx_run(t, MS(10));
    assert_int_equal(fx_count(t, 1, CS_EV_DGRAM), 2);
    assert_int_equal(fx_count(t, 2, CS_EV_DGRAM), 1);
}

/* ---- link handles across a LINK_UP handler that opens more links ---- */

static void test_link_up_handler_opens_links(void **state)
{
    struct fx *t = *state;
    fx_open(t, NET_FIXED, 1);
    enum { N = 600 }; /* enough to make the link table grow */
    t->cfg.connect_back = N;
    t->cfg.opened = calloc(N, sizeof *t->cfg.opened);
    assert_non_null(t->cfg.opened);
    fx_start_all(t);
    cs_link_id id = fx_connect(t, 0, 1);
    fx_run(t, MS(CONNECT_TIME));
    /* The initiator learns of its link after the acceptor's handler ran. */
    const struct fx_event *up = fx_find(t, 0, CS_EV_LINK_UP, id);
    assert_non_null(up);
    assert_false(up->inbound);
    assert_true(same_addr(&up->addr, &t->w->nodes[1].addr));
    assert_int_equal(t->cfg.opened_count, N);
    fx_run(t, MS(2 * CONNECT_TIME));
    /* Every link opened from the handler came up too. */
    for (size_t i = 0; i < N; i++) {
        const struct fx_event *e = fx_find(t, 1, CS_EV_LINK_UP, t->cfg.opened[i]);
        assert_non_null(e);
        assert_false(e->inbound);
    }
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_UP), 1 + N);
    const struct fx_event *in = fx_nth(t, 1, CS_EV_LINK_UP, 0);
    assert_true(in->inbound);
    assert_int_equal(fx_send(t, 0, id, 42), 0);
    fx_run(t, MS(2 * CONNECT_TIME) + MS(1));
    const struct fx_event *m = fx_find(t, 1, CS_EV_LINK_MSG, in->id);
    assert_non_null(m);
    assert_int_equal(m->seq, 42);
}

int test_net_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_link_setup_both_ends, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_fifo_uniform_latency, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_latency_floor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_close_after_data, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_breaks_links, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_links_broken_counted_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_partition_breaks_links, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_partition_during_handshake, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_partition_oneway, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_clog_delays_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dgram_loss_rate, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dgram_duplicate_rate, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dgram_reorder, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dgram_no_reorder_when_off, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dgram_multicast_groups, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_link_up_handler_opens_links, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
