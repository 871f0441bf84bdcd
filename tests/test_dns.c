/*
 * tests/test_dns.c: the DNS model (sim/dns.c) as nodes see it through the
 * sim env: NXDOMAIN and NODATA, the zone's A records, propagation of added
 * and removed records, per-node TTL caches (stale answers until expiry, no
 * negative caching, a restarted node starts cold), truncation to
 * max_answers with rotating windows, outages (SERVFAIL, NXDOMAIN, TIMEOUT
 * after dns.timeout) and their end, timeline DNS actions, and the headless
 * service records of pods (ready_delay, removal_delay, kill, graceful stop,
 * restart on the same address).
 */
#include "tests.h"

#include "fixture.h"

#include <string.h>

#define MS(x) CS_MSEC(x)
#define SEC(x) CS_SEC(x)

enum { LATENCY_MS = 3 };

#define DNS_BASE                                                                                   \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "dns:\n"                                                                                       \
    "  latency: 3ms\n"                                                                             \
    "  timeout: 2s\n"

#define ZONE                                                                                       \
    "  zone:\n"                                                                                    \
    "    - {name: svc.test, address: 10.1.0.1}\n"                                                 \
    "    - {name: svc.test, address: 10.1.0.2}\n"                                                 \
    "    - {name: svc.test, address: 10.1.0.3}\n"                                                 \
    "    - {name: other.test, address: 10.1.0.9}\n"

static bool answer_has(const struct fx_event *e, const char *addr)
{
    struct cs_addr a = fx_addr(addr);
    for (size_t i = 0; i < e->count && i < FX_MAX_RECORDS; i++)
        if (cs_addr_compare(&e->records[i], &a) == 0)
            return true;
    return false;
}

/* Queries from `node` at virtual time `at`, runs until the answer can have
 * arrived (latency, or the timeout when `wait` says so) and returns it. */
static const struct fx_event *ask_at(struct fx *t, uint32_t node, const char *name,
                                     enum cs_dns_type type, cs_time at, cs_time wait)
{
    if (at > t->w->now)
        fx_run(t, at);
    cs_query_id q = fx_query(t, node, name, type);
    fx_run(t, t->w->now + wait);
    const struct fx_event *e = fx_find(t, node, CS_EV_DNS, q);
    assert_non_null(e);
    return e;
}

static const struct fx_event *ask(struct fx *t, uint32_t node, const char *name, cs_time at)
{
    return ask_at(t, node, name, CS_DNS_A, at, MS(LATENCY_MS));
}

/* Answers to two queries from `node` for an A record: one a nanosecond
 * before `edge`, one exactly at it. */
struct around {
    const struct fx_event *before, *at;
};

static struct around ask_around(struct fx *t, uint32_t node, const char *name, cs_time edge)
{
    fx_run(t, edge - 1);
    cs_query_id q1 = fx_query(t, node, name, CS_DNS_A);
    fx_run(t, edge);
    cs_query_id q2 = fx_query(t, node, name, CS_DNS_A);
    fx_run(t, edge + MS(LATENCY_MS));
    struct around r = {fx_find(t, node, CS_EV_DNS, q1), fx_find(t, node, CS_EV_DNS, q2)};
    assert_non_null(r.before);
    assert_non_null(r.at);
    return r;
}

static struct cs_dns_record a_record(const char *addr, uint32_t ttl_s)
{
    struct cs_dns_record r;
    memset(&r, 0, sizeof r);
    r.type = CS_DNS_A;
    r.ttl_s = ttl_s;
    r.addr = fx_addr(addr);
    return r;
}

static void test_dns_nxdomain(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE ZONE, 1);
    fx_start_all(t);
    cs_query_id q = fx_query(t, 0, "nope.test", CS_DNS_A);
    fx_run(t, MS(LATENCY_MS) - 1);
    assert_null(fx_find(t, 0, CS_EV_DNS, q));
    fx_run(t, MS(LATENCY_MS));
    const struct fx_event *e = fx_find(t, 0, CS_EV_DNS, q);
    assert_non_null(e);
    assert_int_equal(e->at, MS(LATENCY_MS));
    assert_int_equal(e->status, CS_DNS_NXDOMAIN);
    assert_int_equal(e->count, 0);
    assert_false(e->truncated);
    assert_int_equal(t->w->stats.dns_queries, 1);
    assert_int_equal(fx_count(t, 1, CS_EV_DNS), 0); /* only the asker hears */
}

static void test_dns_zone_records(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE ZONE, 1);
    fx_start_all(t);
    const struct fx_event *e = ask(t, 0, "svc.test", 0);
    assert_int_equal(e->status, CS_DNS_OK);
    assert_int_equal(e->count, 3);
    assert_false(e->truncated);
    assert_true(answer_has(e, "10.1.0.1"));
    assert_true(answer_has(e, "10.1.0.2"));
    assert_true(answer_has(e, "10.1.0.3"));
    assert_false(answer_has(e, "10.1.0.9"));
    e = ask(t, 1, "other.test", 0);
    assert_int_equal(e->status, CS_DNS_OK);
    assert_int_equal(e->count, 1);
    assert_true(answer_has(e, "10.1.0.9"));
    /* The name exists but has no AAAA records: an empty, successful answer. */
    e = ask_at(t, 2, "svc.test", CS_DNS_AAAA, t->w->now, MS(LATENCY_MS));
    assert_int_equal(e->status, CS_DNS_OK);
    assert_int_equal(e->count, 0);
}

static void test_dns_add_propagates(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  propagation: 500ms\n" ZONE, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_dns_record r4 = a_record("10.1.0.4", 0), r5 = a_record("10.1.0.5", 0);
    sim_dns_add(t->w, "svc.test", &r4);
    sim_dns_add(t->w, "new.test", &r5);
    const struct fx_event *e = ask(t, 0, "svc.test", SEC(1));
    assert_int_equal(e->count, 3);
    assert_false(answer_has(e, "10.1.0.4"));

    struct around svc = ask_around(t, 0, "svc.test", SEC(1) + MS(500));
    assert_int_equal(svc.before->count, 3);
    assert_false(answer_has(svc.before, "10.1.0.4"));
    assert_int_equal(svc.at->count, 4);
    assert_true(answer_has(svc.at, "10.1.0.4"));
    assert_true(answer_has(svc.at, "10.1.0.1"));
}

static void test_dns_new_name_propagates(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  propagation: 500ms\n" ZONE, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_dns_record r5 = a_record("10.1.0.5", 0);
    sim_dns_add(t->w, "new.test", &r5);
    assert_int_equal(ask(t, 1, "new.test", SEC(1))->status, CS_DNS_NXDOMAIN);
    struct around fresh = ask_around(t, 1, "new.test", SEC(1) + MS(500));
    assert_int_equal(fresh.before->status, CS_DNS_NXDOMAIN);
    assert_int_equal(fresh.at->status, CS_DNS_OK);
    assert_int_equal(fresh.at->count, 1);
    assert_true(answer_has(fresh.at, "10.1.0.5"));
}

static void test_dns_remove_propagates(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  propagation: 500ms\n" ZONE, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_dns_record r2 = a_record("10.1.0.2", 0), r9 = a_record("10.1.0.9", 0);
    sim_dns_remove(t->w, "svc.test", &r2);
    sim_dns_remove(t->w, "other.test", &r9);
    struct around svc = ask_around(t, 0, "svc.test", SEC(1) + MS(500));
    assert_int_equal(svc.before->count, 3);
    assert_true(answer_has(svc.before, "10.1.0.2"));
    assert_int_equal(svc.at->count, 2);
    assert_false(answer_has(svc.at, "10.1.0.2"));
    assert_true(answer_has(svc.at, "10.1.0.1"));
    assert_true(answer_has(svc.at, "10.1.0.3"));
}

/* A propagation distribution: each added record reaches resolvers after
 * its own draw, within the distribution's bounds, and not all at once. */
static void test_dns_propagation_drawn_per_change(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  propagation: {dist: uniform, min: 200ms, max: 2s}\n" ZONE, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    char addr[16];
    for (int i = 0; i < 8; i++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", 20 + i);
        struct cs_dns_record r = a_record(addr, 0);
        sim_dns_add(t->w, "spread.test", &r);
    }
    size_t seen[5];
    cs_time at[5] = {SEC(1) + MS(150), SEC(1) + MS(600), SEC(1) + MS(1200), SEC(1) + MS(1800),
                     SEC(1) + MS(2050)};
    for (int k = 0; k < 5; k++) {
        const struct fx_event *e = ask(t, 0, "spread.test", at[k]);
        seen[k] = e->status == CS_DNS_OK ? e->count : 0;
    }
    assert_int_equal(seen[0], 0);       /* none before the minimum */
    assert_int_equal(seen[4], 8);       /* all after the maximum */
    assert_true(seen[1] < 8 || seen[2] < 8 || seen[3] < 8); /* not all at once */
    for (int k = 1; k < 5; k++)
        assert_true(seen[k] >= seen[k - 1]);
}

static void test_dns_last_record_removed_is_nxdomain(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  propagation: 500ms\n" ZONE, 1);
    fx_start_all(t);
    fx_run(t, SEC(1));
    struct cs_dns_record r9 = a_record("10.1.0.9", 0);
    sim_dns_remove(t->w, "other.test", &r9);
    struct around other = ask_around(t, 2, "other.test", SEC(1) + MS(500));
    assert_int_equal(other.before->status, CS_DNS_OK);
    assert_int_equal(other.before->count, 1);
    assert_int_equal(other.at->status, CS_DNS_NXDOMAIN);
}

static void test_dns_add_existing_record_is_noop(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE ZONE, 1);
    fx_start_all(t);
    struct cs_dns_record r1 = a_record("10.1.0.1", 0);
    sim_dns_add(t->w, "svc.test", &r1); /* already in the zone: a set, not a list */
    const struct fx_event *e = ask(t, 0, "svc.test", MS(1));
    assert_int_equal(e->count, 3);
    /* And one removal takes it away for good. */
    sim_dns_remove(t->w, "svc.test", &r1);
    e = ask(t, 0, "svc.test", t->w->now);
    assert_int_equal(e->count, 2);
    assert_false(answer_has(e, "10.1.0.1"));
}

static void test_dns_ttl_cache(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  ttl: 10s\n" ZONE
                        "    - {name: short.test, address: 10.2.0.1, ttl: 30s}\n"
                        "    - {name: short.test, address: 10.2.0.2, ttl: 2s}\n",
            1);
    fx_start_all(t);
    assert_int_equal(ask(t, 0, "svc.test", 0)->count, 3);
    assert_int_equal(ask(t, 0, "short.test", 0)->count, 2);
    assert_int_equal(ask(t, 0, "late.test", 0)->status, CS_DNS_NXDOMAIN);
    fx_run(t, SEC(1));
    struct cs_dns_record r2 = a_record("10.1.0.2", 10), s2 = a_record("10.2.0.2", 2);
    struct cs_dns_record l1 = a_record("10.3.0.1", 10);
    sim_dns_remove(t->w, "svc.test", &r2);
    sim_dns_remove(t->w, "short.test", &s2);
    sim_dns_add(t->w, "late.test", &l1);

    /* The smallest TTL of an answer bounds its life in the cache. */
    assert_int_equal(ask(t, 0, "short.test", SEC(2) - MS(100))->count, 2);
    assert_int_equal(ask(t, 0, "short.test", SEC(2) + MS(100))->count, 1);
    /* Node 0 still gets its cached answer; node 1 asks the server. */
    const struct fx_event *e = ask(t, 0, "svc.test", SEC(3));
    assert_int_equal(e->status, CS_DNS_OK);
    assert_int_equal(e->count, 3);
    assert_true(answer_has(e, "10.1.0.2"));
    e = ask(t, 1, "svc.test", SEC(3));
    assert_int_equal(e->count, 2);
    assert_false(answer_has(e, "10.1.0.2"));
    /* Failures are not cached: the new name is found at once. */
    e = ask(t, 0, "late.test", SEC(3));
    assert_int_equal(e->status, CS_DNS_OK);
    assert_true(answer_has(e, "10.3.0.1"));
    assert_int_equal(ask(t, 0, "svc.test", SEC(10) - MS(100))->count, 3);
    e = ask(t, 0, "svc.test", SEC(10) + MS(100));
    assert_int_equal(e->count, 2);
    assert_false(answer_has(e, "10.1.0.2"));
}

static void test_dns_restart_flushes_cache(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE "  ttl: 30s\n" ZONE, 1);
    fx_start_all(t);
    assert_int_equal(ask(t, 0, "svc.test", 0)->count, 3);
    fx_run(t, SEC(1));
    struct cs_dns_record r2 = a_record("10.1.0.2", 30);
    sim_dns_remove(t->w, "svc.test", &r2);
    assert_int_equal(ask(t, 0, "svc.test", SEC(2))->count, 3); /* cached */
    sim_node_kill(t->w, 0);
    sim_node_start(t->w, 0);
    const struct fx_event *e = ask(t, 0, "svc.test", SEC(3));
    assert_int_equal(e->incarnation, 2);
    assert_int_equal(e->count, 2);
    assert_false(answer_has(e, "10.1.0.2"));
}

static void test_dns_answer_to_dead_incarnation_dropped(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE ZONE, 1);
    fx_start_all(t);
    fx_query(t, 0, "svc.test", CS_DNS_A);
    fx_run(t, MS(1));
    sim_node_kill(t->w, 0);
    fx_run(t, MS(2));
    sim_node_start(t->w, 0);
    fx_run(t, MS(100));
    assert_int_equal(fx_count(t, 0, CS_EV_DNS), 0);
}

#define BIG_ZONE                                                                                   \
    "  max_answers: 3\n"                                                                           \
    "  zone:\n"                                                                                    \
    "    - {name: big.test, address: 10.4.0.0}\n"                                                 \
    "    - {name: big.test, address: 10.4.0.1}\n"                                                 \
    "    - {name: big.test, address: 10.4.0.2}\n"                                                 \
    "    - {name: big.test, address: 10.4.0.3}\n"                                                 \
    "    - {name: big.test, address: 10.4.0.4}\n"                                                 \
    "    - {name: big.test, address: 10.4.0.5}\n"                                                 \
    "    - {name: svc.test, address: 10.1.0.1}\n"                                                 \
    "    - {name: svc.test, address: 10.1.0.2}\n"                                                 \
    "    - {name: svc.test, address: 10.1.0.3}\n"

static void test_dns_truncation_rotates(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE BIG_ZONE, 21);
    fx_start_all(t);
    enum { N = 60, TOTAL = 6, K = 3 };
    bool start_seen[TOTAL] = {false}, record_seen[TOTAL] = {false};
    for (int i = 0; i < N; i++) {
        const struct fx_event *e = ask(t, (uint32_t)i % 3, "big.test", t->w->now);
        assert_int_equal(e->status, CS_DNS_OK);
        assert_true(e->truncated);
        assert_int_equal(e->count, K);
        int idx[K];
        for (int k = 0; k < K; k++) {
            const struct cs_addr *a = &e->records[k];
            assert_int_equal(a->family, 4);
            assert_int_equal(a->ip[0], 10);
            assert_int_equal(a->ip[1], 4);
            assert_int_equal(a->ip[2], 0);
            assert_in_range(a->ip[3], 0, TOTAL - 1);
            idx[k] = a->ip[3];
            record_seen[idx[k]] = true;
        }
        /* A window of consecutive records of the (cyclic) zone order. */
        assert_int_equal(idx[1], (idx[0] + 1) % TOTAL);
        assert_int_equal(idx[2], (idx[0] + 2) % TOTAL);
        start_seen[idx[0]] = true;
    }
    size_t windows = 0;
    for (int i = 0; i < TOTAL; i++) {
        windows += start_seen[i];
        assert_true(record_seen[i]);
    }
    assert_true(windows >= 4);
    /* At most K records: nothing is cut. */
    const struct fx_event *e = ask(t, 0, "svc.test", t->w->now);
    assert_false(e->truncated);
    assert_int_equal(e->count, 3);
}

/* An outage of `mode` from 1s to 2s; dns.timeout is 2s. */
static void check_outage(struct fx *t, enum cs_dns_status mode)
{
    fx_open(t, DNS_BASE ZONE, 1);
    fx_start_all(t);
    assert_int_equal(ask(t, 0, "svc.test", MS(500))->status, CS_DNS_OK);
    fx_run(t, SEC(1));
    sim_dns_outage(t->w, mode, SEC(1));
    cs_time wait = mode == CS_DNS_TIMEOUT ? SEC(2) : MS(LATENCY_MS);
    fx_run(t, SEC(1) + MS(200));
    cs_query_id q = fx_query(t, 0, "svc.test", CS_DNS_A);
    fx_run(t, SEC(1) + MS(200) + wait - 1);
    assert_null(fx_find(t, 0, CS_EV_DNS, q));
    fx_run(t, SEC(1) + MS(200) + wait);
    const struct fx_event *e = fx_find(t, 0, CS_EV_DNS, q);
    assert_non_null(e);
    assert_int_equal(e->status, mode);
    assert_int_equal(e->count, 0);
    /* Queries from the end of the window on are answered again (for the
     * timeout mode the window is long over when its answer comes). */
    if (mode != CS_DNS_TIMEOUT) {
        struct around end = ask_around(t, 1, "svc.test", SEC(2));
        assert_int_equal(end.before->status, mode);
        assert_int_equal(end.at->status, CS_DNS_OK);
    }
    e = ask(t, 1, "svc.test", t->w->now);
    assert_int_equal(e->status, CS_DNS_OK);
    assert_int_equal(e->count, 3);
}

static void test_dns_outage_servfail(void **state)
{
    struct fx *t = *state;
    check_outage(t, CS_DNS_SERVFAIL);
    /* Without a duration, an outage lasts until the end of the run. */
    sim_dns_outage(t->w, CS_DNS_SERVFAIL, 0);
    assert_int_equal(ask(t, 2, "svc.test", SEC(50))->status, CS_DNS_SERVFAIL);
}

static void test_dns_outage_nxdomain(void **state)
{
    check_outage(*state, CS_DNS_NXDOMAIN);
}

static void test_dns_outage_timeout(void **state)
{
    check_outage(*state, CS_DNS_TIMEOUT);
}

static void test_dns_timeline_actions(void **state)
{
    struct fx *t = *state;
    fx_open(t, DNS_BASE ZONE
            "timeline:\n"
            "  - {at: 1s, dns_add: {name: svc.test, address: 10.1.0.7}}\n"
            "  - {at: 2s, dns_remove: {name: svc.test, address: 10.1.0.1}}\n"
            "  - {at: 3s, dns_fail: {mode: nxdomain, for: 1s}}\n",
            1);
    fx_start_all(t);
    const struct fx_event *e = ask(t, 0, "svc.test", SEC(1) - 1);
    assert_false(answer_has(e, "10.1.0.7"));
    e = ask(t, 0, "svc.test", SEC(1) + MS(500));
    assert_int_equal(e->count, 4);
    assert_true(answer_has(e, "10.1.0.7"));
    e = ask(t, 0, "svc.test", SEC(2) + MS(500));
    assert_int_equal(e->count, 3);
    assert_false(answer_has(e, "10.1.0.1"));
    assert_int_equal(ask(t, 0, "svc.test", SEC(3) + MS(500))->status, CS_DNS_NXDOMAIN);
    assert_int_equal(ask(t, 0, "svc.test", SEC(4) + MS(500))->status, CS_DNS_OK);
}

/* ---- the headless service of the pods ---- */

#define SERVICE                                                                                    \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "dns:\n"                                                                                       \
    "  latency: 3ms\n"                                                                             \
    "  service: {name: app.svc, ready_delay: 2s, removal_delay: 3s}\n"

static void test_dns_service_publish_withdraw(void **state)
{
    struct fx *t = *state;
    fx_open(t, SERVICE, 1);
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    struct around ready = ask_around(t, 1, "app.svc", SEC(2));
    assert_int_equal(ready.before->status, CS_DNS_NXDOMAIN);
    assert_int_equal(ready.at->status, CS_DNS_OK);
    assert_int_equal(ready.at->count, 2);
    assert_true(answer_has(ready.at, "10.0.0.1"));
    assert_true(answer_has(ready.at, "10.0.0.2"));
    assert_false(answer_has(ready.at, "10.0.0.3")); /* never started */
    fx_run(t, SEC(5));
    sim_node_kill(t->w, 0);
    struct around gone = ask_around(t, 1, "app.svc", SEC(8));
    assert_int_equal(gone.before->count, 2);
    assert_true(answer_has(gone.before, "10.0.0.1"));
    assert_int_equal(gone.at->count, 1);
    assert_false(answer_has(gone.at, "10.0.0.1"));
    assert_true(answer_has(gone.at, "10.0.0.2"));
}

static void test_dns_service_graceful_stop(void **state)
{
    struct fx *t = *state;
    fx_open(t, SERVICE, 1);
    t->cfg.on_stop = FX_STOP_NEVER;
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    fx_run(t, SEC(5));
    sim_node_stop(t->w, 0, SEC(10));
    /* Withdrawn removal_delay after the stop began, not after the exit. */
    struct around gone = ask_around(t, 1, "app.svc", SEC(8));
    assert_true(answer_has(gone.before, "10.0.0.1"));
    assert_false(answer_has(gone.at, "10.0.0.1"));
    assert_true(sim_node_alive(&t->w->nodes[0])); /* still in its grace period */
    fx_run(t, SEC(30)); /* killed at 15s: nothing comes back */
    assert_false(sim_node_alive(&t->w->nodes[0]));
    const struct fx_event *e = ask(t, 1, "app.svc", SEC(30));
    assert_int_equal(e->count, 1);
    assert_false(answer_has(e, "10.0.0.1"));
}

static void test_dns_service_killed_before_ready(void **state)
{
    struct fx *t = *state;
    fx_open(t, SERVICE, 1);
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    fx_run(t, SEC(1));
    sim_node_kill(t->w, 0); /* never became ready */
    const struct fx_event *e = ask(t, 1, "app.svc", SEC(3));
    assert_int_equal(e->count, 1);
    assert_false(answer_has(e, "10.0.0.1"));
    e = ask(t, 1, "app.svc", SEC(20));
    assert_int_equal(e->count, 1);
    assert_false(answer_has(e, "10.0.0.1"));
}

static void test_dns_service_restart_same_address(void **state)
{
    struct fx *t = *state;
    fx_open(t, SERVICE, 1);
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    fx_run(t, SEC(5));
    /* Back after 500ms on the same address: ready again at 7.5s, before the
     * old incarnation's withdrawal is due at 8s. */
    sim_node_restart(t->w, 0, MS(500), false, true, 0);
    fx_run(t, SEC(9));
    assert_true(sim_node_alive(&t->w->nodes[0]));
    const struct fx_event *e = ask(t, 1, "app.svc", SEC(9));
    assert_int_equal(e->count, 2); /* once each, no duplicate */
    assert_true(answer_has(e, "10.0.0.1"));
    assert_true(answer_has(e, "10.0.0.2"));
    e = ask(t, 1, "app.svc", SEC(20));
    assert_int_equal(e->count, 2);
    assert_true(answer_has(e, "10.0.0.1"));
}

static void test_dns_service_restart_before_withdrawal_then_ready(void **state)
{
    struct fx *t = *state;
    fx_open(t, SERVICE, 1);
    sim_node_start(t->w, 0);
    sim_node_start(t->w, 1);
    fx_run(t, SEC(5));
    /* Back at 5.5s, ready at 7.5s; killed again at 6s, before it was ready:
     * nothing of node 0 may stay in the zone. */
    sim_node_restart(t->w, 0, MS(500), false, true, 0);
    fx_run(t, SEC(6));
    sim_node_kill(t->w, 0);
    const struct fx_event *e = ask(t, 1, "app.svc", SEC(20));
    assert_int_equal(e->count, 1);
    assert_false(answer_has(e, "10.0.0.1"));
}

int test_dns_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dns_nxdomain, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_zone_records, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_add_propagates, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_new_name_propagates, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_propagation_drawn_per_change, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_remove_propagates, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_last_record_removed_is_nxdomain, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_add_existing_record_is_noop, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_ttl_cache, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_restart_flushes_cache, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_answer_to_dead_incarnation_dropped, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_truncation_rotates, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_outage_servfail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_outage_nxdomain, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_outage_timeout, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_timeline_actions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_service_publish_withdraw, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_service_graceful_stop, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_service_killed_before_ready, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_service_restart_same_address, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_dns_service_restart_before_withdrawal_then_ready,
                                        fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
