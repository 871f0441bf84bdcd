/*
 * tests/test_world.c: the world (sim/world.c) and what runs on it: node
 * clocks (drift, offset, jumps, rate changes) and timers on them, timer
 * cancellation and timers of dead incarnations, graceful stop (exit on
 * env->stopped, kill when the grace runs out), restart on a new or the same
 * address, address lookup, determinism of whole runs (drivers/runner.c), the
 * timeline's timed partitions and clogs (sim/timeline.c), and the checkers
 * (sim/check.c): stuck detection and convergence.
 */
#include "tests.h"

#include "fixture.h"

#include "../sim/check.h"
#include "../drivers/runner.h"

#include <string.h>

#define MS(x) CS_MSEC(x)
#define SEC(x) CS_SEC(x)

/* ---- clocks ---- */

#define CLOCKS                                                                                     \
    "cluster:\n"                                                                                   \
    "  nodes:\n"                                                                                   \
    "    - {id: fast, clock: {drift_ppm: 1000}}\n"                                                \
    "    - {id: slow, clock: {drift_ppm: -500}}\n"                                                \
    "    - {id: ahead, clock: {offset: 5s}}\n"                                                    \
    "    - {id: behind, clock: {offset: -2s, drift_ppm: 250}}\n"                                  \
    "    - plain\n"

enum { FAST, SLOW, AHEAD, BEHIND, PLAIN };

static cs_time now_of(struct fx *t, uint32_t node)
{
    struct cs_env *env = fx_env(t, node);
    return env->now(env);
}

static void test_clock_drift_and_offset(void **state)
{
    struct fx *t = *state;
    fx_open(t, CLOCKS, 1);
    fx_start_all(t);
    assert_int_equal(now_of(t, FAST), 0);
    assert_int_equal(now_of(t, AHEAD), SEC(5));
    assert_int_equal(now_of(t, BEHIND), -SEC(2));
    fx_run(t, SEC(10));
    assert_int_equal(now_of(t, FAST), SEC(10) + MS(10));   /* +1000 ppm of 10 s */
    assert_int_equal(now_of(t, SLOW), SEC(10) - MS(5));    /* -500 ppm */
    assert_int_equal(now_of(t, AHEAD), SEC(15));
    assert_int_equal(now_of(t, BEHIND), SEC(8) + CS_USEC(2500)); /* -2 s + 10 s + 250 ppm */
    assert_int_equal(now_of(t, PLAIN), SEC(10));
    assert_int_equal(sim_node_clock(t->w, &t->w->nodes[FAST]), SEC(10) + MS(10));
    /* A clock belongs to the machine: a restarted process reads on. */
    sim_node_kill(t->w, FAST);
    fx_run(t, SEC(20));
    sim_node_start(t->w, FAST);
    assert_int_equal(now_of(t, FAST), SEC(20) + MS(20));
}

static void check_timer_on_clock(struct fx *t, uint32_t node, cs_time delay, double ppm)
{
    struct cs_env *env = fx_env(t, node);
    cs_time armed_local = env->now(env), armed = t->w->now;
    cs_timer_id id = env->timer_start(env, delay, 77);
    cs_time expect = armed + (cs_time)((double)delay / (1.0 + ppm * 1e-6));
    fx_run(t, armed + delay * 2);
    const struct fx_event *e = fx_find(t, node, CS_EV_TIMER, id);
    assert_non_null(e);
    assert_int_equal(e->tag, 77);
    /* Never early on the node's own clock, and at most a nanosecond late. */
    assert_true(e->local - armed_local >= delay);
    assert_true(e->local - armed_local <= delay + 1);
    assert_in_range(e->at, expect - 2, expect + 2);
}

static void test_timers_follow_node_clock(void **state)
{
    struct fx *t = *state;
    fx_open(t, CLOCKS, 1);
    fx_start_all(t);
    fx_run(t, SEC(10));
    check_timer_on_clock(t, FAST, SEC(1), 1000);
    check_timer_on_clock(t, SLOW, SEC(1), -500);
    check_timer_on_clock(t, BEHIND, MS(333), 250);
    check_timer_on_clock(t, PLAIN, MS(250), 0);
    check_timer_on_clock(t, FAST, 12345, 1000);
    check_timer_on_clock(t, SLOW, SEC(7) + 3, -500);
}

static void test_clock_jump_keeps_timers(void **state)
{
    struct fx *t = *state;
    fx_open(t, CLOCKS, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_env *env = fx_env(t, PLAIN);
    cs_timer_id before = env->timer_start(env, SEC(5), 1);
    fx_run(t, SEC(2));
    sim_node_clock_jump(t->w, PLAIN, SEC(3));
    sim_node_clock_jump(t->w, FAST, SEC(1));
    assert_int_equal(now_of(t, PLAIN), SEC(5));
    assert_int_equal(now_of(t, FAST), SEC(3) + MS(2));
    cs_timer_id after = env->timer_start(env, SEC(1), 2);
    fx_run(t, SEC(4));
    sim_node_clock_jump(t->w, PLAIN, -SEC(1));
    assert_int_equal(now_of(t, PLAIN), SEC(6));
    assert_int_equal(now_of(t, FAST), SEC(5) + MS(4)); /* the drift goes on */
    fx_run(t, SEC(10));
    const struct fx_event *e1 = fx_find(t, PLAIN, CS_EV_TIMER, before);
    const struct fx_event *e2 = fx_find(t, PLAIN, CS_EV_TIMER, after);
    assert_non_null(e1);
    assert_non_null(e2);
    assert_int_equal(e1->at, SEC(6)); /* armed at 1 s for 5 s: the jumps do not matter */
    assert_int_equal(e1->local, SEC(8));
    assert_int_equal(e2->at, SEC(3));
    assert_int_equal(e2->local, SEC(6));
}

static void test_clock_rate_change(void **state)
{
    struct fx *t = *state;
    fx_open(t, CLOCKS, 1);
    fx_start_all(t);
    fx_run(t, SEC(10));
    sim_node_clock_rate(t->w, PLAIN, 2000);
    sim_node_clock_rate(t->w, FAST, 0);
    assert_int_equal(now_of(t, PLAIN), SEC(10)); /* no jump at the change */
    assert_int_equal(now_of(t, FAST), SEC(10) + MS(10));
    fx_run(t, SEC(11));
    assert_int_equal(now_of(t, PLAIN), SEC(11) + MS(2));
    assert_int_equal(now_of(t, FAST), SEC(11) + MS(10));
}

/* ---- timers ---- */

#define PLAIN3                                                                                     \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "network:\n"                                                                                   \
    "  latency: 1ms\n"                                                                             \
    "  connect_time: 5ms\n"                                                                        \
    "  crash_detect: 50ms\n"

static void test_timers_fire_in_order(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_env *env = fx_env(t, 0);
    cs_timer_id a = env->timer_start(env, MS(100), 1);
    cs_timer_id b = env->timer_start(env, MS(50), 2);
    cs_timer_id c = env->timer_start(env, MS(100), 3);
    cs_timer_id z = env->timer_start(env, 0, 4);
    cs_timer_id neg = env->timer_start(env, -MS(5), 5);
    assert_true(a && b && c && z && neg);
    fx_run(t, SEC(1));
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 2); /* the zero and negative delays */
    assert_int_equal(fx_nth(t, 0, CS_EV_TIMER, 0)->id, z);
    assert_int_equal(fx_nth(t, 0, CS_EV_TIMER, 1)->id, neg);
    fx_run(t, SEC(1) + MS(100) - 1);
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 3);
    fx_run(t, SEC(2));
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 5);
    const struct fx_event *e = fx_nth(t, 0, CS_EV_TIMER, 2);
    assert_int_equal(e->id, b);
    assert_int_equal(e->tag, 2);
    assert_int_equal(e->at, SEC(1) + MS(50));
    e = fx_nth(t, 0, CS_EV_TIMER, 3);
    assert_int_equal(e->id, a); /* same expiry: in arming order */
    assert_int_equal(e->at, SEC(1) + MS(100));
    e = fx_nth(t, 0, CS_EV_TIMER, 4);
    assert_int_equal(e->id, c);
    assert_int_equal(e->tag, 3);
    assert_int_equal(e->at, SEC(1) + MS(100));
    assert_int_equal(fx_count(t, 1, CS_EV_TIMER), 0);
    assert_int_equal(t->w->stats.timers_fired, 5);
}

static void test_timer_cancel(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    fx_start_all(t);
    struct cs_env *env = fx_env(t, 0);
    cs_timer_id a = env->timer_start(env, MS(100), 1);
    cs_timer_id b = env->timer_start(env, MS(200), 2);
    env->timer_cancel(env, a);
    env->timer_cancel(env, a);       /* twice: a no-op */
    env->timer_cancel(env, 0);       /* never a valid handle */
    env->timer_cancel(env, 999999);  /* unknown */
    fx_run(t, SEC(1));
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 1);
    assert_int_equal(fx_nth(t, 0, CS_EV_TIMER, 0)->id, b);
    env->timer_cancel(env, b); /* already fired: a no-op */
    cs_timer_id c = env->timer_start(env, MS(10), 3);
    assert_int_not_equal(c, a);
    assert_int_not_equal(c, b);
    fx_run(t, SEC(2));
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 2);
    assert_int_equal(fx_nth(t, 0, CS_EV_TIMER, 1)->id, c);
    assert_int_equal(t->w->stats.timers_fired, 2);
}

static void test_timer_of_dead_incarnation(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    fx_start_all(t);
    struct cs_env *env = fx_env(t, 0);
    env->timer_start(env, SEC(1), 1);
    env->timer_start(env, MS(600), 2);
    fx_run(t, MS(500));
    sim_node_kill(t->w, 0);
    fx_run(t, MS(550));
    sim_node_start(t->w, 0); /* back before either would fire */
    env = fx_env(t, 0);
    cs_timer_id fresh = env->timer_start(env, SEC(1), 3);
    fx_run(t, SEC(3));
    assert_int_equal(fx_count(t, 0, CS_EV_TIMER), 1);
    const struct fx_event *e = fx_nth(t, 0, CS_EV_TIMER, 0);
    assert_int_equal(e->id, fresh);
    assert_int_equal(e->incarnation, 2);
    assert_int_equal(e->at, MS(1550));
}

/* ---- stop, restart, addresses ---- */

static cs_link_id link_up(struct fx *t, uint32_t a, uint32_t b, cs_link_id *back)
{
    size_t before = fx_count(t, b, CS_EV_LINK_UP);
    cs_link_id id = fx_connect(t, a, b);
    fx_run(t, t->w->now + MS(5));
    assert_non_null(fx_find(t, a, CS_EV_LINK_UP, id));
    *back = fx_nth(t, b, CS_EV_LINK_UP, before)->id;
    return id;
}

static void test_stop_exits_on_stopped(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    t->cfg.on_stop = FX_STOP_AT_ONCE;
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 1, 0, &back);
    cs_time t0 = t->w->now;
    assert_int_equal(fx_send(t, 0, back, 31), 0); /* in flight when 0 exits */
    struct cs_addr addr0 = t->w->nodes[0].addr;
    sim_node_stop(t->w, 0, SEC(5));
    const struct fx_event *stop = fx_nth(t, 0, CS_EV_STOP, 0);
    assert_non_null(stop);
    assert_int_equal(stop->grace, SEC(5));
    assert_int_equal(stop->at, t0);
    fx_run(t, t0);
    assert_false(sim_node_alive(&t->w->nodes[0]));
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_DOWN);
    assert_null(sim_node_at(t->w, &addr0));
    fx_run(t, t0 + SEC(10));
    /* The peer sees an orderly close, behind the data sent before it. */
    assert_int_equal(fx_count(t, 1, CS_EV_LINK_MSG), 1);
    const struct fx_event *down = fx_find(t, 1, CS_EV_LINK_DOWN, id);
    assert_non_null(down);
    assert_int_equal(down->reason, CS_LINK_CLOSED);
    assert_true(down->order > fx_nth(t, 1, CS_EV_LINK_MSG, 0)->order);
    assert_int_equal(down->at, t0 + MS(1));
    assert_int_equal(fx_count(t, 0, CS_EV_STOP), 1);
}

static void test_stop_delayed_exit(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    t->cfg.on_stop = FX_STOP_DELAYED;
    t->cfg.stop_delay = MS(300);
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 1, 0, &back);
    cs_time t0 = t->w->now;
    sim_node_stop(t->w, 0, SEC(5));
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_STOPPING);
    /* A stopping node still runs: timers fire, messages arrive. */
    assert_int_equal(fx_send(t, 1, id, 5), 0);
    fx_run(t, t0 + MS(300) - 1);
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_STOPPING);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_MSG), 1);
    fx_run(t, t0 + MS(300));
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_DOWN);
    assert_int_equal(fx_nth(t, 0, CS_EV_TIMER, 0)->tag, FX_TAG_STOP);
    const struct fx_event *down = fx_find(t, 1, CS_EV_LINK_DOWN, id);
    assert_non_null(down);
    assert_int_equal(down->reason, CS_LINK_CLOSED);
    assert_int_equal(down->at, t0 + MS(300));
}

static void test_stop_grace_expires(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    t->cfg.on_stop = FX_STOP_NEVER;
    fx_start_all(t);
    cs_link_id back;
    cs_link_id id = link_up(t, 1, 0, &back);
    cs_time t0 = t->w->now;
    sim_node_stop(t->w, 0, SEC(2));
    sim_node_stop(t->w, 0, SEC(1)); /* already stopping: ignored */
    fx_run(t, t0 + SEC(2) - 1);
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_STOPPING);
    assert_true(sim_node_alive(&t->w->nodes[0]));
    assert_non_null(sim_node_at(t->w, &t->w->nodes[0].addr));
    fx_run(t, t0 + SEC(2));
    assert_int_equal(t->w->nodes[0].state, SIM_NODE_DOWN);
    assert_int_equal(fx_count(t, 0, CS_EV_STOP), 1);
    /* Killed: the peer learns of a broken link after crash_detect. */
    fx_run(t, t0 + SEC(3));
    const struct fx_event *down = fx_find(t, 1, CS_EV_LINK_DOWN, id);
    assert_non_null(down);
    assert_int_equal(down->reason, CS_LINK_BROKEN);
    assert_int_equal(down->at, t0 + SEC(2) + MS(50));
}

static void test_restart_new_address(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    fx_start_all(t);
    struct sim_node *n = &t->w->nodes[1];
    struct cs_addr old = n->addr, a4 = fx_addr("10.0.0.4"), a5 = fx_addr("10.0.0.5");
    assert_string_equal(n->name, "app@10.0.0.2");
    fx_run(t, SEC(1));
    sim_node_restart(t->w, 1, SEC(1), true, true, 0);
    assert_false(sim_node_alive(n));
    assert_null(sim_node_at(t->w, &old));
    fx_run(t, SEC(2) - 1);
    assert_false(sim_node_alive(n));
    fx_run(t, SEC(2));
    assert_true(sim_node_alive(n));
    assert_int_equal(n->incarnation, 2);
    assert_int_equal(cs_addr_compare(&n->addr, &a4), 0); /* the pool's next free address */
    assert_string_equal(n->name, "app@10.0.0.4");
    assert_int_equal(cs_addr_compare(&n->env.self_addr, &a4), 0);
    assert_ptr_equal(sim_node_at(t->w, &a4), n);
    assert_null(sim_node_at(t->w, &old));
    /* Peers reach it on the new address only. */
    cs_link_id to_new = fx_connect(t, 0, 1);
    struct cs_env *env = fx_env(t, 0);
    cs_link_id to_old = env->link_connect(env, &old);
    fx_run(t, SEC(3));
    assert_non_null(fx_find(t, 0, CS_EV_LINK_UP, to_new));
    const struct fx_event *refused = fx_find(t, 0, CS_EV_LINK_DOWN, to_old);
    assert_non_null(refused);
    assert_int_equal(refused->reason, CS_LINK_REFUSED);
    /* A graceful restart: STOP with the grace bounded by the downtime. */
    sim_node_restart(t->w, 1, SEC(1), true, false, SEC(30));
    const struct fx_event *stop = fx_nth(t, 1, CS_EV_STOP, 0);
    assert_non_null(stop);
    assert_int_equal(stop->grace, SEC(1));
    fx_run(t, SEC(5));
    assert_int_equal(n->incarnation, 3);
    assert_int_equal(cs_addr_compare(&n->addr, &a5), 0);
    assert_string_equal(n->name, "app@10.0.0.5");
}

static void test_restart_keeps_address(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    t->cfg.on_stop = FX_STOP_AT_ONCE;
    fx_start_all(t);
    struct sim_node *n = &t->w->nodes[2];
    struct cs_addr old = n->addr;
    fx_run(t, SEC(1));
    sim_node_restart(t->w, 2, MS(500), false, false, SEC(30));
    assert_int_equal(fx_count(t, 2, CS_EV_STOP), 1);
    fx_run(t, SEC(1) + MS(250));
    assert_false(sim_node_alive(n)); /* exited at once, waits for its downtime */
    fx_run(t, SEC(1) + MS(500));
    assert_true(sim_node_alive(n));
    assert_int_equal(n->incarnation, 2);
    assert_int_equal(cs_addr_compare(&n->addr, &old), 0);
    assert_string_equal(n->name, "app@10.0.0.3");
    assert_ptr_equal(sim_node_at(t->w, &old), n);
    cs_link_id id = fx_connect(t, 0, 2);
    fx_run(t, SEC(2));
    assert_non_null(fx_find(t, 0, CS_EV_LINK_UP, id));
    const struct fx_event *in = fx_nth(t, 2, CS_EV_LINK_UP, 0);
    assert_non_null(in);
    assert_int_equal(in->incarnation, 2);
}

static void test_node_at(void **state)
{
    struct fx *t = *state;
    fx_open(t,
            "cluster:\n"
            "  address_pool: 10.20.0.0\n"
            "  nodes:\n"
            "    - {id: a, address: 10.20.0.1}\n"
            "    - b\n"
            "    - {id: c, address: 'fd00::7'}\n",
            1);
    struct sim_world *w = t->w;
    struct cs_addr a = fx_addr("10.20.0.1"), b = fx_addr("10.20.0.2"), c = fx_addr("fd00::7");
    struct cs_addr none = fx_addr("10.20.0.3");
    assert_null(sim_node_at(w, &a)); /* nobody listens before the start */
    fx_start_all(t);
    assert_ptr_equal(sim_node_at(w, &a), &w->nodes[0]);
    assert_ptr_equal(sim_node_at(w, &b), &w->nodes[1]); /* the pool skips 10.20.0.1 */
    assert_ptr_equal(sim_node_at(w, &c), &w->nodes[2]);
    assert_null(sim_node_at(w, &none));
    assert_string_equal(w->nodes[2].name, "app@fd00::7");
    c.port = 4369; /* ports do not matter */
    assert_ptr_equal(sim_node_at(w, &c), &w->nodes[2]);
    sim_node_kill(w, 1);
    assert_null(sim_node_at(w, &b));
    assert_ptr_equal(sim_node_at(w, &a), &w->nodes[0]);
}

/* ---- determinism ---- */

#define PING_LOSSY                                                                                 \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "  ping: {ping_interval: 200ms}\n"                                                             \
    "network:\n"                                                                                   \
    "  latency: {dist: uniform, min: 1ms, max: 9ms}\n"                                            \
    "  datagrams: {loss: 0.2, latency: {dist: uniform, min: 1ms, max: 4ms}}\n"                    \
    "timeline:\n"                                                                                  \
    "  - {at: 0s, start: all}\n"                                                                   \
    "  - {at: 2s, restart: {nodes: n2, how: crash, address: new}}\n"                               \
    "limits: {duration: 6s}\n"

static void run_once(const struct scenario *sc, uint64_t seed, struct run_result *res)
{
    struct run_options o = {.seed = seed, .trace_hash = true};
    assert_int_equal(sim_run_scenario(sc, &o, res), 0);
}

static void test_determinism(void **state)
{
    struct fx *t = *state;
    test_load(PING_LOSSY, &t->sc);
    t->loaded = true;
    struct run_result r1, r2, r3;
    run_once(&t->sc, 7, &r1);
    run_once(&t->sc, 7, &r2);
    run_once(&t->sc, 8, &r3);
    run_result_free(&r1);
    run_result_free(&r2);
    run_result_free(&r3);
    assert_true(r1.events > 400);
    assert_int_not_equal(r1.trace_hash, 0);
    assert_int_equal(r1.trace_hash, r2.trace_hash);
    assert_int_equal(r1.events, r2.events);
    assert_int_equal(r1.stats.dgrams_lost, r2.stats.dgrams_lost);
    assert_true(r1.stats.dgrams_lost > 0);
    assert_int_not_equal(r1.trace_hash, r3.trace_hash);
    assert_int_equal(r1.end_time, SEC(6));
}

/* ---- checkers ---- */

static void test_stuck_detection(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1);
    t->cfg.never_settled = true;
    t->cfg.idle_tag = 9;
    fx_start_all(t);
    uint32_t stuck[3];
    /* Nothing pending: all three are stuck. */
    assert_int_equal(sim_check_stuck(t->w, stuck), 3);
    struct cs_env *e0 = fx_env(t, 0), *e1 = fx_env(t, 1);
    e0->timer_start(e0, SEC(10), 9); /* a timer that cannot help */
    assert_int_equal(sim_check_stuck(t->w, stuck), 3);
    e1->timer_start(e1, SEC(10), 5); /* a timer that can: node 1 may yet */
    cs_link_id back;                 /* message the others, so nobody is stuck */
    link_up(t, 2, 1, &back);
    fx_run(t, SEC(1));
    assert_int_equal(sim_check_stuck(t->w, stuck), 0);
    /* A message in flight keeps the cluster live, too. */
    fx_run(t, SEC(20));              /* the progress timer fired */
    assert_int_equal(sim_check_stuck(t->w, stuck), 3);
    assert_int_equal(fx_send(t, 1, back, 1), 0);
    assert_int_equal(sim_check_stuck(t->w, stuck), 0);
    fx_run(t, SEC(21));              /* delivered: nothing pending anywhere */
    size_t n = sim_check_stuck(t->w, stuck);
    assert_int_equal(n, 3);
    assert_int_equal(stuck[0], 0);
    assert_int_equal(stuck[1], 1);
    assert_int_equal(stuck[2], 2);
    /* A settled node is never stuck. */
    t->cfg.never_settled = false;
    assert_int_equal(sim_check_stuck(t->w, stuck), 0);
    t->cfg.never_settled = true;
    /* Dead nodes are not stuck; the news of the crash is still coming. */
    sim_node_kill(t->w, 2);
    assert_int_equal(sim_check_stuck(t->w, stuck), 0);
    fx_run(t, SEC(22));
    assert_int_equal(sim_check_stuck(t->w, stuck), 2);
}

static void test_stuck_reported_by_run(void **state)
{
    struct fx *t = *state;
    test_load("cluster: {nodes: 2}\n"
              "timeline: [{at: 0s, start: all}]\n"
              "expect: [{stuck: true}]\n"
              "limits: {duration: 2s}\n",
              &t->sc);
    t->loaded = true;
    t->cfg.never_settled = true;
    struct run_options o = {.seed = 1, .trace_hash = true, .proto = &fx_proto,
                            .proto_config = &t->cfg};
    struct run_result res;
    assert_int_equal(sim_run_scenario(&t->sc, &o, &res), 0);
    bool stuck = res.stuck, pass = res.pass;
    bool dump = res.stuck_report && strstr(res.stuck_report, "{:fixture, app@10.0.0.1}") != NULL;
    run_result_free(&res);
    assert_true(stuck);
    assert_true(pass);
    assert_true(dump);
}

#define PING_STATIC                                                                                \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "  ping: {ping_interval: 200ms, peer_timeout: 1s}\n"                                           \
    "network:\n"                                                                                   \
    "  break_detect: 500ms\n"                                                                      \
    "  connect_timeout: 1s\n"

static void test_convergence_checker(void **state)
{
    struct fx *t = *state;
    fx_open_proto(t, PING_STATIC, 1, NULL, NULL);
    assert_true(sim_check_converged(t->w)); /* nobody live: trivially */
    fx_start_all(t);
    assert_false(sim_check_converged(t->w));
    fx_run(t, SEC(3));
    assert_true(sim_check_converged(t->w));
    char why[256];
    sim_check_explain(t->w, why, sizeof why);
    assert_string_equal(why, "");
    static const uint32_t cut[] = {2}, rest[] = {0, 1};
    sim_net_partition(t->w, cut, 1, rest, 2, false);
    fx_run(t, SEC(8));
    assert_false(sim_check_converged(t->w));
    sim_check_explain(t->w, why, sizeof why);
    assert_true(strlen(why) > 0);
    sim_net_heal(t->w);
    fx_run(t, SEC(14));
    assert_true(sim_check_converged(t->w));
}

static void test_convergence_needs_settled_and_views(void **state)
{
    struct fx *t = *state;
    fx_open(t, PLAIN3, 1); /* the fixture is settled and sees nobody */
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    char why[256];
    assert_false(sim_check_converged(t->w));
    sim_check_explain(t->w, why, sizeof why);
    assert_non_null(strstr(why, "app@10.0.0.1"));
    assert_non_null(strstr(why, "sees 0 peers"));
    sim_node_kill(t->w, 1);
    assert_true(sim_check_converged(t->w)); /* alone: an empty view is right */
    t->cfg.never_settled = true;
    assert_false(sim_check_converged(t->w));
    sim_check_explain(t->w, why, sizeof why);
    assert_non_null(strstr(why, "app@10.0.0.1"));
    assert_non_null(strstr(why, "not settled"));
}

static void test_convergence_expectation(void **state)
{
    struct fx *t = *state;
    test_load(PING_STATIC
              "timeline:\n"
              "  - {at: 0s, start: all}\n"
              "  - {at: 5s, partition: {nodes: n3}}\n"
              "expect: [{converged: 3s}]\n"
              "limits: {duration: 10s}\n",
              &t->sc);
    t->loaded = true;
    struct run_result res;
    run_once(&t->sc, 1, &res);
    bool converged = res.converged, pass = res.pass;
    bool named = strlen(res.unconverged) > 0;
    run_result_free(&res);
    assert_false(converged);
    assert_false(pass);
    assert_true(named);
}

static void test_convergence_expectation_met(void **state)
{
    struct fx *t = *state;
    test_load(PING_STATIC
              "timeline:\n"
              "  - {at: 0s, start: all}\n"
              "expect: [{converged: 3s}]\n"
              "limits: {duration: 10s}\n",
              &t->sc);
    t->loaded = true;
    struct run_result res;
    run_once(&t->sc, 1, &res);
    bool converged = res.converged, pass = res.pass, stuck = res.stuck;
    cs_time after = res.converged_after;
    run_result_free(&res);
    assert_true(converged);
    assert_true(pass);
    assert_false(stuck);
    assert_in_range(after, 0, SEC(3));
}

/* ---- timeline faults ---- */

static void test_timeline_timed_partition_and_clog(void **state)
{
    struct fx *t = *state;
    fx_open(t,
            "cluster: {nodes: 3}\n"
            "network: {latency: 1ms}\n"
            "timeline:\n"
            "  - {at: 1s, partition: {nodes: n1, to: n2, for: 1s}}\n"
            "  - {at: 5s, clog: {nodes: n1, to: n3, for: 100ms}}\n",
            1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    assert_true(sim_net_blocked(t->w, 0, 1));
    assert_true(sim_net_blocked(t->w, 1, 0));
    assert_false(sim_net_blocked(t->w, 0, 2));
    fx_run(t, SEC(2) - 1);
    assert_true(sim_net_blocked(t->w, 0, 1));
    fx_run(t, SEC(2));
    assert_false(sim_net_blocked(t->w, 0, 1));
    cs_link_id back;
    cs_link_id id = link_up(t, 0, 2, &back);
    fx_run(t, SEC(5));
    assert_int_equal(fx_send(t, 0, id, 1), 0);
    assert_int_equal(fx_send(t, 2, back, 2), 0);
    fx_run(t, SEC(5) + MS(100));
    assert_int_equal(fx_count(t, 2, CS_EV_LINK_MSG), 0); /* held */
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_MSG), 0); /* both ways by default */
    fx_run(t, SEC(5) + MS(101));
    assert_int_equal(fx_count(t, 2, CS_EV_LINK_MSG), 1);
    assert_int_equal(fx_count(t, 0, CS_EV_LINK_MSG), 1);
}

static void test_timeline_timed_heal_keeps_other_partitions(void **state)
{
    struct fx *t = *state;
    fx_open(t,
            "cluster: {nodes: 3}\n"
            "timeline:\n"
            "  - {at: 1s, partition: {nodes: n1, for: 1s}}\n"
            "  - {at: 1500ms, partition: {nodes: n3, to: n2}}\n",
            1);
    fx_start_all(t);
    fx_run(t, SEC(3));
    assert_false(sim_net_blocked(t->w, 0, 1)); /* the timed one healed */
    assert_false(sim_net_blocked(t->w, 0, 2));
    assert_true(sim_net_blocked(t->w, 2, 1));  /* the other one stays */
    assert_true(sim_net_blocked(t->w, 1, 2));
}

int test_world_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clock_drift_and_offset, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timers_follow_node_clock, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_clock_jump_keeps_timers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_clock_rate_change, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timers_fire_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timer_cancel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timer_of_dead_incarnation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_exits_on_stopped, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_delayed_exit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_grace_expires, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_new_address, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_address, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_node_at, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_determinism, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stuck_detection, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stuck_reported_by_run, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_convergence_checker, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_convergence_needs_settled_and_views, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_convergence_expectation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_convergence_expectation_met, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeline_timed_partition_and_clog, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeline_timed_heal_keeps_other_partitions, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests_name("world", tests, NULL, NULL);
}
