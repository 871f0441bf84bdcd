/*
 * tests/test_loader.c: the scenario loader (config/scenario/loader.c and friends)
 * through scenario_load_string: defaults, every section landing in struct
 * scenario, node address assignment, the timeline and expectations, the
 * duration parser, and error messages with their exact file:line:column.
 */
#include "tests.h"

#include "../config/nearest.h"

#include "../config/scenario/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads `yaml` as "t.yaml" and fails the test with the loader's message when
 * it is rejected. */
static void load_ok(const char *yaml, struct scenario *sc)
{
    char err[1024] = "";
    int rc = scenario_load_string(yaml, strlen(yaml), "t.yaml", sc, err, sizeof err);
    if (rc != 0)
        print_error("unexpected loader error: %s\n", err);
    assert_int_equal(rc, 0);
}

/* Loads `yaml` as "bad.yaml", expects a rejection with exactly `want` as the
 * message, and checks that the scenario was left empty. */
static void load_fails(const char *yaml, const char *want)
{
    struct scenario sc;
    char err[1024] = "";
    int rc = scenario_load_string(yaml, strlen(yaml), "bad.yaml", &sc, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
    assert_null(sc.cluster.nodes);
    assert_int_equal(sc.cluster.node_count, 0);
    assert_null(sc.actions);
    assert_int_equal(sc.action_count, 0);
}

static struct cs_addr addr(const char *text)
{
    struct cs_addr a;
    memset(&a, 0, sizeof a);
    assert_int_equal(cs_addr_parse(text, &a), 0);
    return a;
}

static void assert_addr(const struct cs_addr *got, const char *want)
{
    char buf[CS_ADDR_STRLEN];
    cs_addr_format(got, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void assert_dist(const struct sim_dist *d, enum sim_dist_kind kind, cs_time a, cs_time b)
{
    assert_int_equal(d->kind, kind);
    assert_int_equal(d->a, a);
    assert_int_equal(d->b, b);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster:\n"
            "  nodes: 2\n",
            &sc);
    assert_string_equal(sc.path, "t.yaml");
    assert_string_equal(sc.name, "t"); /* the file name without its extension */
    assert_string_equal(sc.description, "");
    assert_int_equal(sc.seed, 1);

    const struct sc_cluster *cl = &sc.cluster;
    assert_string_equal(cl->basename, "app");
    assert_addr(&cl->pool, "10.0.0.0");
    assert_int_equal(cl->node_count, 2);
    assert_string_equal(cl->nodes[0].id, "n1");
    assert_string_equal(cl->nodes[1].id, "n2");
    assert_addr(&cl->nodes[0].addr, "10.0.0.1");
    assert_addr(&cl->nodes[1].addr, "10.0.0.2");
    assert_int_equal(cl->pool_next, 2);
    assert_true(cl->nodes[0].drift_ppm == 0.0);
    assert_int_equal(cl->nodes[0].clock_offset, 0);
    assert_int_equal(cl->nodes[1].pos.line, 2); /* a count: the position of the count */
    assert_int_equal(cl->nodes[1].pos.col, 10);
    assert_int_equal(cl->protocol, SC_PROTO_PING);
    assert_int_equal(cl->ping.discovery, PING_DISCOVER_STATIC);
    assert_string_equal(cl->ping.dns_name, "");
    assert_int_equal(cl->ping.poll_interval, CS_SEC(1));
    assert_int_equal(cl->ping.ping_interval, CS_SEC(1));
    assert_int_equal(cl->ping.peer_timeout, CS_SEC(3));
    assert_true(cl->ping.datagrams);
    /* Static peers default to every node's address. */
    assert_int_equal(cl->ping.static_count, 2);
    assert_ptr_equal(cl->ping.static_peers, cl->ping_static);
    assert_addr(&cl->ping.static_peers[0], "10.0.0.1");
    assert_addr(&cl->ping.static_peers[1], "10.0.0.2");

    const struct sc_network *net = &sc.net;
    assert_dist(&net->latency, SIM_DIST_FIXED, CS_MSEC(1), CS_MSEC(1));
    assert_dist(&net->connect_time, SIM_DIST_FIXED, CS_MSEC(2), CS_MSEC(2));
    assert_int_equal(net->break_detect, CS_SEC(60));
    assert_int_equal(net->crash_detect, CS_MSEC(1));
    assert_int_equal(net->connect_timeout, CS_SEC(10));
    assert_dist(&net->dgram_latency, SIM_DIST_FIXED, CS_MSEC(1), CS_MSEC(1));
    assert_true(net->dgram_loss == 0.0);
    assert_true(net->dgram_duplicate == 0.0);
    assert_true(net->dgram_reorder == 0.0);
    assert_dist(&net->reorder_delay, SIM_DIST_UNIFORM, CS_MSEC(1), CS_MSEC(50));

    const struct sc_dns *dns = &sc.dns;
    assert_dist(&dns->latency, SIM_DIST_FIXED, CS_MSEC(1), CS_MSEC(1));
    assert_int_equal(dns->propagation.a, 0);
    assert_int_equal(dns->ttl_s, 0);
    assert_int_equal(dns->max_answers, 0);
    assert_int_equal(dns->timeout, CS_SEC(5));
    assert_string_equal(dns->service, "");
    assert_int_equal(dns->ready_delay.a, 0);
    assert_int_equal(dns->removal_delay.a, 0);
    assert_int_equal(dns->zone_count, 0);

    assert_int_equal(sc.action_count, 0);
    assert_int_equal(sc.expect_count, 0);
    assert_int_equal(sc.limits.duration, CS_SEC(60));
    assert_int_equal(sc.limits.max_events, SC_DEFAULT_MAX_EVENTS);
    assert_int_equal(sc.limits.wall, SC_DEFAULT_WALL);
    assert_int_equal(sc.limits.check_interval, CS_MSEC(100));
    assert_false(sc.limits.stop_when_settled);
    scenario_free(&sc);
}

/* ---- each section lands in the struct ---- */

static const char full_yaml[] =
    "name: full\n"                                              /* 1 */
    "description: every section\n"                             /* 2 */
    "seed: 4242\n"                                             /* 3 */
    "limits:\n"                                                /* 4 */
    "  duration: 2m\n"                                         /* 5 */
    "  max_events: 500000\n"                                   /* 6 */
    "  check_interval: 250ms\n"                                /* 7 */
    "  stop_when_settled: yes\n"                               /* 8 */
    "network:\n"                                               /* 9 */
    "  latency: {dist: uniform, min: 1ms, max: 5ms}\n"         /* 10 */
    "  connect_time: {dist: exponential, min: 2ms, mean: 8ms}\n" /* 11 */
    "  break_detect: 7s\n"                                     /* 12 */
    "  crash_detect: 20ms\n"                                   /* 13 */
    "  connect_timeout: 1.5s\n"                                /* 14 */
    "  datagrams:\n"                                           /* 15 */
    "    latency: {dist: fixed, value: 3ms}\n"                 /* 16 */
    "    loss: 10%\n"                                          /* 17 */
    "    duplicate: 0.25\n"                                    /* 18 */
    "    reorder: 1\n"                                         /* 19 */
    "    reorder_delay: 40ms\n"                                /* 20 */
    "dns:\n"                                                   /* 21 */
    "  latency: {dist: exponential, min: 1ms, mean: 3ms}\n"    /* 22 */
    "  propagation: 2s\n"                                      /* 23 */
    "  ttl: 30s\n"                                             /* 24 */
    "  max_answers: 8\n"                                       /* 25 */
    "  timeout: 4s\n"                                          /* 26 */
    "  service: {name: svc.local, ready_delay: 300ms, removal_delay: 2s}\n" /* 27 */
    "  zone:\n"                                                /* 28 */
    "    - {name: db.local, address: 10.9.0.1}\n"              /* 29 */
    "    - {name: db.local, type: AAAA, address: 'fd00::9', ttl: 5s}\n" /* 30 */
    "    - {name: _x._tcp.local, type: SRV, target: db.local, port: 5432,\n" /* 31 */
    "       priority: 10, weight: 20}\n"                       /* 32 */
    "cluster:\n"                                               /* 33 */
    "  basename: web\n"                                        /* 34 */
    "  address_pool: 192.168.1.10\n"                           /* 35 */
    "  protocol: ping\n"                                       /* 36 */
    "  nodes:\n"                                               /* 37 */
    "    - alpha\n"                                            /* 38 */
    "    - {id: beta, address: 192.168.1.11, clock: {drift_ppm: -12.5, offset: 3s}}\n" /* 39 */
    "    - id: gamma\n"                                        /* 40 */
    "      clock: {offset: -250ms}\n"                          /* 41 */
    "  ping:\n"                                                /* 42 */
    "    discovery: dns\n"                                     /* 43 */
    "    dns_name: web.local\n"                                /* 44 */
    "    poll_interval: 2s\n"                                  /* 45 */
    "    ping_interval: 750ms\n"                               /* 46 */
    "    peer_timeout: 0s\n"                                   /* 47 */
    "    datagrams: off\n";                                    /* 48 */

static void test_all_sections(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok(full_yaml, &sc);
    assert_string_equal(sc.name, "full");
    assert_string_equal(sc.description, "every section");
    assert_int_equal(sc.seed, 4242);

    assert_int_equal(sc.limits.duration, CS_SEC(120));
    assert_int_equal(sc.limits.max_events, 500000);
    assert_int_equal(sc.limits.check_interval, CS_MSEC(250));
    assert_true(sc.limits.stop_when_settled);

    assert_dist(&sc.net.latency, SIM_DIST_UNIFORM, CS_MSEC(1), CS_MSEC(5));
    assert_dist(&sc.net.connect_time, SIM_DIST_EXP, CS_MSEC(2), CS_MSEC(8));
    assert_int_equal(sc.net.break_detect, CS_SEC(7));
    assert_int_equal(sc.net.crash_detect, CS_MSEC(20));
    assert_int_equal(sc.net.connect_timeout, CS_MSEC(1500));
    assert_dist(&sc.net.dgram_latency, SIM_DIST_FIXED, CS_MSEC(3), CS_MSEC(3));
    assert_float_equal(sc.net.dgram_loss, 0.10, 1e-12);
    assert_float_equal(sc.net.dgram_duplicate, 0.25, 1e-12);
    assert_float_equal(sc.net.dgram_reorder, 1.0, 1e-12);
    assert_dist(&sc.net.reorder_delay, SIM_DIST_FIXED, CS_MSEC(40), CS_MSEC(40));

    assert_dist(&sc.dns.latency, SIM_DIST_EXP, CS_MSEC(1), CS_MSEC(3));
    assert_int_equal(sc.dns.propagation.a, CS_SEC(2));
    assert_int_equal(sc.dns.ttl_s, 30);
    assert_int_equal(sc.dns.max_answers, 8);
    assert_int_equal(sc.dns.timeout, CS_SEC(4));
    assert_string_equal(sc.dns.service, "svc.local");
    assert_int_equal(sc.dns.ready_delay.kind, SIM_DIST_FIXED);
    assert_int_equal(sc.dns.ready_delay.a, CS_MSEC(300));
    assert_int_equal(sc.dns.removal_delay.a, CS_SEC(2));
    assert_int_equal(sc.dns.zone_count, 3);
    const struct sc_dns_entry *z = sc.dns.zone;
    assert_string_equal(z[0].name, "db.local");
    assert_int_equal(z[0].rec.type, CS_DNS_A); /* type defaults to A */
    assert_addr(&z[0].rec.addr, "10.9.0.1");
    assert_int_equal(z[0].rec.ttl_s, 30); /* ttl defaults to dns.ttl */
    assert_int_equal(z[1].rec.type, CS_DNS_AAAA);
    assert_int_equal(z[1].rec.addr.family, 6);
    assert_addr(&z[1].rec.addr, "fd00::9");
    assert_int_equal(z[1].rec.ttl_s, 5);
    assert_string_equal(z[2].name, "_x._tcp.local");
    assert_int_equal(z[2].rec.type, CS_DNS_SRV);
    assert_string_equal(z[2].rec.target, "db.local");
    assert_int_equal(z[2].rec.port, 5432);
    assert_int_equal(z[2].rec.priority, 10);
    assert_int_equal(z[2].rec.weight, 20);
    assert_int_equal(z[2].rec.ttl_s, 30);

    const struct sc_cluster *cl = &sc.cluster;
    assert_string_equal(cl->basename, "web");
    assert_addr(&cl->pool, "192.168.1.10");
    assert_int_equal(cl->protocol, SC_PROTO_PING);
    assert_int_equal(cl->node_count, 3);
    assert_string_equal(cl->nodes[0].id, "alpha");
    assert_string_equal(cl->nodes[1].id, "beta");
    assert_string_equal(cl->nodes[2].id, "gamma");
    /* beta took 192.168.1.11 explicitly: the pool skips it. */
    assert_addr(&cl->nodes[0].addr, "192.168.1.12");
    assert_addr(&cl->nodes[1].addr, "192.168.1.11");
    assert_addr(&cl->nodes[2].addr, "192.168.1.13");
    assert_int_equal(cl->pool_next, 3);
    assert_float_equal(cl->nodes[1].drift_ppm, -12.5, 1e-12);
    assert_int_equal(cl->nodes[1].clock_offset, CS_SEC(3));
    assert_int_equal(cl->nodes[2].clock_offset, -CS_MSEC(250));
    assert_true(cl->nodes[2].drift_ppm == 0.0);
    assert_int_equal(cl->nodes[0].pos.line, 38);
    assert_int_equal(cl->nodes[0].pos.col, 7);
    assert_int_equal(cl->nodes[1].pos.line, 39);
    assert_int_equal(cl->nodes[1].pos.col, 7);
    assert_int_equal(cl->nodes[2].pos.line, 40);
    assert_int_equal(cl->nodes[2].pos.col, 7);

    assert_int_equal(cl->ping.discovery, PING_DISCOVER_DNS);
    assert_string_equal(cl->ping.dns_name, "web.local");
    assert_int_equal(cl->ping.poll_interval, CS_SEC(2));
    assert_int_equal(cl->ping.ping_interval, CS_MSEC(750));
    assert_int_equal(cl->ping.peer_timeout, 0);
    assert_false(cl->ping.datagrams);
    scenario_free(&sc);
    assert_null(sc.cluster.nodes); /* scenario_free leaves an empty scenario */
    assert_null(sc.dns.zone);
}

static void test_dns_name_defaults_to_service(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("dns:\n"
            "  service: app-headless.default.svc.cluster.local\n"
            "cluster:\n"
            "  nodes: 1\n"
            "  ping: {discovery: dns}\n",
            &sc);
    assert_int_equal(sc.cluster.ping.discovery, PING_DISCOVER_DNS);
    assert_string_equal(sc.dns.service, "app-headless.default.svc.cluster.local");
    assert_string_equal(sc.cluster.ping.dns_name, "app-headless.default.svc.cluster.local");
    assert_int_equal(sc.dns.ready_delay.a, 0);
    scenario_free(&sc);
}

static void test_static_peers_list(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster:\n"
            "  nodes: 3\n"
            "  ping:\n"
            "    peers: [10.0.0.2, '10.0.0.200', 'fd00::1']\n",
            &sc);
    assert_int_equal(sc.cluster.ping.static_count, 3);
    assert_addr(&sc.cluster.ping.static_peers[0], "10.0.0.2");
    assert_addr(&sc.cluster.ping.static_peers[1], "10.0.0.200");
    assert_addr(&sc.cluster.ping.static_peers[2], "fd00::1");
    scenario_free(&sc);
}

/* ---- address assignment ---- */

static void test_pool_skips_explicit_addresses(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster:\n"
            "  nodes:\n"
            "    - a\n"
            "    - {id: b, address: 10.0.0.1}\n"
            "    - c\n"
            "    - {id: d, address: 10.0.0.3}\n"
            "    - e\n"
            "    - {id: f, address: 10.7.7.7}\n",
            &sc);
    const struct sc_node *n = sc.cluster.nodes;
    assert_int_equal(sc.cluster.node_count, 6);
    assert_addr(&n[0].addr, "10.0.0.2");
    assert_addr(&n[1].addr, "10.0.0.1");
    assert_addr(&n[2].addr, "10.0.0.4");
    assert_addr(&n[3].addr, "10.0.0.3");
    assert_addr(&n[4].addr, "10.0.0.5");
    assert_addr(&n[5].addr, "10.7.7.7");
    assert_int_equal(sc.cluster.pool_next, 5); /* the offset of the last address handed out */
    assert_int_equal(scenario_node_index(&sc, "e"), 4);
    assert_int_equal(scenario_node_index(&sc, "zz"), -1);
    /* Static peers follow the final addresses, explicit or not. */
    assert_int_equal(sc.cluster.ping.static_count, 6);
    assert_addr(&sc.cluster.ping.static_peers[1], "10.0.0.1");
    assert_addr(&sc.cluster.ping.static_peers[4], "10.0.0.5");
    scenario_free(&sc);
}

static void test_pool_ipv6_carries(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster:\n"
            "  address_pool: 'fd00::fe'\n"
            "  nodes: 3\n",
            &sc);
    assert_addr(&sc.cluster.nodes[0].addr, "fd00::ff");
    assert_addr(&sc.cluster.nodes[1].addr, "fd00::100");
    assert_addr(&sc.cluster.nodes[2].addr, "fd00::101");
    struct cs_addr want = addr("fd00::101");
    assert_int_equal(cs_addr_compare(&sc.cluster.nodes[2].addr, &want), 0);
    scenario_free(&sc);
}

/* ---- the timeline ---- */

static const char timeline_yaml[] =
    "cluster:\n"                                                        /* 1 */
    "  nodes: 4\n"                                                      /* 2 */
    "timeline:\n"                                                       /* 3 */
    "  - at: 0s\n"                                                      /* 4 */
    "    start: all\n"                                                  /* 5 */
    "  - {at: 1s, every: 2s, until: 9s, kill: {random: 2}}\n"           /* 6 */
    "  - at: 2s\n"                                                      /* 7 */
    "    stop: {nodes: [n1, n2], grace: 5s}\n"                          /* 8 */
    "  - at: 2500ms\n"                                                  /* 9 */
    "    stop: n3\n"                                                    /* 10 */
    "  - at: 3s\n"                                                      /* 11 */
    "    restart: {nodes: n2, downtime: 3s, address: new, how: crash}\n" /* 12 */
    "  - at: 3s\n"                                                      /* 13 */
    "    restart: n1\n"                                                 /* 14 */
    "  - at: 4s\n"                                                      /* 15 */
    "    partition: {nodes: [n1], to: [n2, n3], oneway: true, for: 4s}\n" /* 16 */
    "  - at: 5s\n"                                                      /* 17 */
    "    partition: {from: n4}\n"                                       /* 18 */
    "  - at: 6s\n"                                                      /* 19 */
    "    heal: all\n"                                                   /* 20 */
    "  - at: 6s\n"                                                      /* 21 */
    "    clog: {nodes: n1, to: {random: 1}, for: 500ms}\n"              /* 22 */
    "  - at: 7s\n"                                                      /* 23 */
    "    dns_add: {name: x.local, address: 10.1.1.1, ttl: 7s}\n"        /* 24 */
    "  - at: 7s\n"                                                      /* 25 */
    "    dns_remove: {name: _s.local, type: SRV, target: x.local, port: 80}\n" /* 26 */
    "  - at: 8s\n"                                                      /* 27 */
    "    dns_fail: {mode: timeout, for: 10s}\n"                         /* 28 */
    "  - at: 8s\n"                                                      /* 29 */
    "    dns_fail: {}\n"                                                /* 30 */
    "  - at: 9s\n"                                                      /* 31 */
    "    clock_jump: {nodes: n1, by: -2s}\n"                            /* 32 */
    "  - at: 9s\n"                                                      /* 33 */
    "    clock_rate: {nodes: all, ppm: -50.5}\n"                        /* 34 */
    "  - at: 10s\n"                                                     /* 35 */
    "    register: {node: n1, name: worker, arg: a1, value: 42}\n"      /* 36 */
    "  - at: 10s\n"                                                     /* 37 */
    "    command: {node: [n2, n4], op: dump, value: -7}\n";             /* 38 */

static void test_timeline(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok(timeline_yaml, &sc);
    assert_int_equal(sc.action_count, 18);
    const struct sc_action *a = sc.actions;

    assert_int_equal(a[0].kind, SC_ACT_START);
    assert_int_equal(a[0].at, 0);
    assert_int_equal(a[0].every, 0);
    assert_true(a[0].nodes.all);
    assert_int_equal(a[0].nodes.count, 0);
    assert_int_equal(a[0].pos.line, 5); /* the position of the action key */
    assert_int_equal(a[0].pos.col, 5);

    assert_int_equal(a[1].kind, SC_ACT_KILL);
    assert_int_equal(a[1].at, CS_SEC(1));
    assert_int_equal(a[1].every, CS_SEC(2));
    assert_int_equal(a[1].until, CS_SEC(9));
    assert_false(a[1].nodes.all);
    assert_int_equal(a[1].nodes.random_count, 2);
    assert_int_equal(a[1].nodes.count, 0);
    assert_int_equal(a[1].pos.line, 6);
    assert_int_equal(a[1].pos.col, 36);

    assert_int_equal(a[2].kind, SC_ACT_STOP);
    assert_int_equal(a[2].nodes.count, 2);
    assert_int_equal(a[2].nodes.idx[0], 0);
    assert_int_equal(a[2].nodes.idx[1], 1);
    assert_int_equal(a[2].grace, CS_SEC(5));

    assert_int_equal(a[3].kind, SC_ACT_STOP);
    assert_int_equal(a[3].at, CS_MSEC(2500));
    assert_int_equal(a[3].nodes.count, 1);
    assert_int_equal(a[3].nodes.idx[0], 2);
    assert_int_equal(a[3].grace, CS_SEC(30)); /* the default grace */

    assert_int_equal(a[4].kind, SC_ACT_RESTART);
    assert_int_equal(a[4].nodes.idx[0], 1);
    assert_int_equal(a[4].downtime, CS_SEC(3));
    assert_true(a[4].new_address);
    assert_true(a[4].crash);

    assert_int_equal(a[5].kind, SC_ACT_RESTART);
    assert_int_equal(a[5].nodes.idx[0], 0);
    assert_int_equal(a[5].downtime, CS_SEC(1)); /* defaults */
    assert_false(a[5].new_address);
    assert_false(a[5].crash);
    assert_int_equal(a[5].grace, CS_SEC(30));

    assert_int_equal(a[6].kind, SC_ACT_PARTITION);
    assert_int_equal(a[6].nodes.count, 1);
    assert_int_equal(a[6].nodes.idx[0], 0);
    assert_int_equal(a[6].peers.count, 2);
    assert_int_equal(a[6].peers.idx[0], 1);
    assert_int_equal(a[6].peers.idx[1], 2);
    assert_true(a[6].oneway);
    assert_int_equal(a[6].duration, CS_SEC(4));

    assert_int_equal(a[7].kind, SC_ACT_PARTITION);
    assert_int_equal(a[7].nodes.idx[0], 3);
    assert_int_equal(a[7].peers.count, 0); /* empty: every other node */
    assert_false(a[7].peers.all);
    assert_false(a[7].oneway);
    assert_int_equal(a[7].duration, 0);

    assert_int_equal(a[8].kind, SC_ACT_HEAL);

    assert_int_equal(a[9].kind, SC_ACT_CLOG);
    assert_int_equal(a[9].nodes.idx[0], 0);
    assert_int_equal(a[9].peers.random_count, 1);
    assert_int_equal(a[9].duration, CS_MSEC(500));

    assert_int_equal(a[10].kind, SC_ACT_DNS_ADD);
    assert_string_equal(a[10].dns.name, "x.local");
    assert_int_equal(a[10].dns.rec.type, CS_DNS_A);
    assert_addr(&a[10].dns.rec.addr, "10.1.1.1");
    assert_int_equal(a[10].dns.rec.ttl_s, 7);

    assert_int_equal(a[11].kind, SC_ACT_DNS_REMOVE);
    assert_int_equal(a[11].dns.rec.type, CS_DNS_SRV);
    assert_string_equal(a[11].dns.rec.target, "x.local");
    assert_int_equal(a[11].dns.rec.port, 80);

    assert_int_equal(a[12].kind, SC_ACT_DNS_FAIL);
    assert_int_equal(a[12].fail_mode, CS_DNS_TIMEOUT);
    assert_int_equal(a[12].duration, CS_SEC(10));
    assert_int_equal(a[13].kind, SC_ACT_DNS_FAIL);
    assert_int_equal(a[13].fail_mode, CS_DNS_SERVFAIL);
    assert_int_equal(a[13].duration, 0);

    assert_int_equal(a[14].kind, SC_ACT_CLOCK_JUMP);
    assert_int_equal(a[14].jump, -CS_SEC(2));
    assert_int_equal(a[14].nodes.idx[0], 0);
    assert_int_equal(a[15].kind, SC_ACT_CLOCK_RATE);
    assert_true(a[15].nodes.all);
    assert_float_equal(a[15].rate_ppm, -50.5, 1e-12);

    /* Registry operations are commands whose op is the action's key. */
    assert_int_equal(a[16].kind, SC_ACT_COMMAND);
    assert_string_equal(a[16].op, "register");
    assert_string_equal(a[16].name, "worker");
    assert_string_equal(a[16].arg, "a1");
    assert_int_equal(a[16].value, 42);
    assert_int_equal(a[16].nodes.count, 1);
    assert_int_equal(a[16].nodes.idx[0], 0);

    assert_int_equal(a[17].kind, SC_ACT_COMMAND);
    assert_string_equal(a[17].op, "dump");
    assert_int_equal(a[17].value, -7);
    assert_int_equal(a[17].nodes.count, 2);
    assert_int_equal(a[17].nodes.idx[0], 1);
    assert_int_equal(a[17].nodes.idx[1], 3);
    assert_string_equal(a[17].name, "");
    assert_int_equal(a[17].pos.line, 38);
    scenario_free(&sc);
}

/* The last fault: the latest occurrence of a non-command action, plus the
 * downtime of a restart or the duration of a timed partition/clog/outage. */
static void test_last_fault(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster: {nodes: 3}\n"
            "limits: {duration: 30s}\n"
            "timeline:\n"
            "  - {at: 0s, start: all}\n"
            "  - {at: 2s, every: 3s, until: 10s, kill: {random: 1}}\n"
            "  - {at: 25s, command: {node: n1, op: noop}}\n",
            &sc);
    assert_int_equal(scenario_last_fault(&sc), CS_SEC(8)); /* 2, 5, 8 (11 > until) */
    scenario_free(&sc);

    load_ok("cluster: {nodes: 3}\n"
            "limits: {duration: 30s}\n"
            "timeline:\n"
            "  - {at: 4s, every: 5s, kill: n1}\n",
            &sc);
    assert_int_equal(scenario_last_fault(&sc), CS_SEC(29)); /* repeats up to the limit */
    scenario_free(&sc);

    load_ok("cluster: {nodes: 3}\n"
            "timeline:\n"
            "  - {at: 3s, restart: {nodes: n1, downtime: 4s}}\n"
            "  - {at: 5s, partition: {nodes: n2, for: 1s}}\n"
            "  - {at: 5s, dns_fail: {for: 1500ms}}\n"
            "  - {at: 6s, stop: {nodes: n3, grace: 20s}}\n",
            &sc);
    assert_int_equal(scenario_last_fault(&sc), CS_SEC(7)); /* 3s + 4s; a grace is not added */
    scenario_free(&sc);
}

/* ---- expectations ---- */

static void test_expectations(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster: {nodes: 2}\n"          /* 1 */
            "expect:\n"                      /* 2 */
            "  - converged: {within: 5s}\n"  /* 3 */
            "  - converged: 1500ms\n"        /* 4 */
            "  - stuck: true\n"              /* 5 */
            "  - not_stuck: yes\n"           /* 6 */
            "  - stuck_fraction: {min: 10%, max: 0.5}\n" /* 7 */
            "  - stuck_fraction: {}\n",      /* 8 */
            &sc);
    assert_int_equal(sc.expect_count, 6);
    const struct sc_expect *e = sc.expects;
    assert_int_equal(e[0].kind, SC_EXP_CONVERGED);
    assert_int_equal(e[0].within, CS_SEC(5));
    assert_int_equal(e[0].pos.line, 3);
    assert_int_equal(e[0].pos.col, 5);
    assert_int_equal(e[1].kind, SC_EXP_CONVERGED);
    assert_int_equal(e[1].within, CS_MSEC(1500));
    assert_int_equal(e[2].kind, SC_EXP_STUCK);
    assert_int_equal(e[3].kind, SC_EXP_NOT_STUCK);
    assert_int_equal(e[4].kind, SC_EXP_STUCK_FRACTION);
    assert_float_equal(e[4].min, 0.10, 1e-12);
    assert_float_equal(e[4].max, 0.50, 1e-12);
    assert_int_equal(e[4].pos.line, 7);
    assert_float_equal(e[5].min, 0.0, 1e-12);
    assert_float_equal(e[5].max, 1.0, 1e-12);
    assert_true(scenario_expects(&sc, SC_EXP_STUCK_FRACTION));
    assert_false(scenario_expects(&sc, SC_EXP_NO_DUPLICATES));
    scenario_free(&sc);
}

/* ---- durations ---- */

static void test_parse_duration(void **state)
{
    (void)state;
    static const struct { const char *text; cs_time ns; } good[] = {
        {"250ms", CS_MSEC(250)}, {"5s", CS_SEC(5)},      {"2m", CS_SEC(120)},
        {"1.5s", CS_MSEC(1500)}, {"1h", CS_SEC(3600)},   {"0", 0},
        {"-5s", -CS_SEC(5)},     {"0s", 0},              {"10us", CS_USEC(10)},
        {"7ns", 7},              {"+3ms", CS_MSEC(3)},   {"0.25m", CS_SEC(15)},
        {"1.5h", CS_SEC(5400)},  {"-0", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cs_time v = 12345;
        if (sc_parse_duration(good[i].text, &v) != 0)
            print_error("'%s' was rejected\n", good[i].text);
        assert_int_equal(sc_parse_duration(good[i].text, &v), 0);
        assert_int_equal(v, good[i].ns);
    }
    static const char *const bad[] = {
        "5", "5 s", "5sec", "", "s", "-", "--5s", ".5s", "5S", "5ms ", " 5s", "ms5",
        "0x10s", "1e400s", "5d", "nan", "inf", "5s5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_time v = 12345;
        if (sc_parse_duration(bad[i], &v) == 0)
            print_error("'%s' was accepted\n", bad[i]);
        assert_int_equal(sc_parse_duration(bad[i], &v), -1);
    }
}

/* ---- errors, with their exact location ---- */

static void test_error_locations(void **state)
{
    (void)state;
    load_fails("cluster:\n"
               "  nodes: 2\n"
               "network:\n"
               "  latency: 5\n",
               "bad.yaml:4:12: expected a duration with a unit (ns, us, ms, s, m, h) such as "
               "250ms, 5s or 2m, found '5'");
    load_fails("cluster:\n"
               "  nodes: 2\n"
               "  ping: {peer_timeout: [1s]}\n",
               "bad.yaml:3:24: expected a duration such as 250ms, 5s or 2m, found a list");
    load_fails("cluster: {nodes: 3}\n"
               "timeline:\n"
               "  - at: 1s\n"
               "    kill: [n1, n7]\n",
               "bad.yaml:4:16: node 'n7' is not declared in cluster.nodes");
    load_fails("cluster: {nodes: 2}\n"
               "limits: {duration: 10s}\n"
               "timeline:\n"
               "  - {at: 11s, kill: n1}\n",
               "bad.yaml:4:10: this action is after the run limit (limits.duration); raise the "
               "limit or move the action");
    load_fails("cluster: {nodes: 2}\n"
               "network:\n"
               "  datagrams: {loss: 1.01}\n",
               "bad.yaml:3:21: expected a probability between 0 and 1, found '1.01'");
    load_fails("cluster: {nodes: 2}\n"
               "network:\n"
               "  datagrams: {lost: 1%}\n",
               "bad.yaml:3:15: unknown key 'lost' in network.datagrams; did you mean 'loss'? (expected one of: "
               "latency, loss, duplicate, reorder, reorder_delay)");
    load_fails("cluster:\n"
               "  nodes: [a, b, a]\n",
               "bad.yaml:2:17: node id 'a' is declared twice");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - at: 1s\n"
               "    until: 5s\n"
               "    at: 2s\n"
               "    kill: n1\n",
               "bad.yaml:5:5: duplicate key 'at' in a timeline entry");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {at: 1s, kill: n1, start: n2}\n",
               "bad.yaml:3:24: expected one action per timeline entry, found 'kill' and 'start'");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {every: 1s, kill: n1}\n",
               "bad.yaml:3:5: expected 'at' (when the action happens) in a timeline entry");
    load_fails("cluster: {nodes: 2}\n"
               "network: {latency: {dist: uniform, min: 3ms, max: 2ms}}\n",
               "bad.yaml:2:20: expected max >= min in a uniform distribution");
    load_fails("cluster: {nodes: 2}\n"
               "network: {latency: {dist: gaussian}}\n",
               "bad.yaml:2:27: expected a distribution (one of: fixed, uniform, exponential), "
               "found 'gaussian'");
    load_fails("cluster:\n"
               "  nodes:\n"
               "    - {id: a, address: 10.0.0.256}\n",
               "bad.yaml:3:24: expected an IPv4 or IPv6 address such as 10.0.0.1, found "
               "'10.0.0.256'");
    load_fails("cluster: {nodes: 2}\n"
               "expect:\n"
               "  - stuck_fraction: {min: 0.9, max: 0.1}\n",
               "bad.yaml:3:21: expected min <= max in stuck_fraction");
    load_fails("cluster: {nodes: 2}\n"
               "expect:\n"
               "  - no_duplicates: true\n",
               "bad.yaml:3:20: no_duplicates needs a protocol with a registry; 'ping' has none");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "limits: {duration: 10s}\n"
               "expect:\n"
               "  - no_duplicates: {at: [5s, 11s]}\n",
               "bad.yaml:4:30: this instant comes after the run limit (limits.duration)");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "expect:\n"
               "  - registered: {min: 1, at: []}\n",
               "bad.yaml:3:30: expected at least one instant in 'at'");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "timeline:\n"
               "  - {at: 1s, kill: n1}\n"
               "expect:\n"
               "  - no_duplicates: {at: [{step: 2, after: 1s}]}\n",
               "bad.yaml:5:33: expected a timeline entry between 1 and 1");
    load_fails("cluster: {nodes: 2}\n"
               "expect:\n"
               "  - converged: {within: 5s, quantile: 0}\n",
               "bad.yaml:3:39: expected a quantile above 0 (such as 0.95)");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {at: 0s, start: {nodes: all, boot: {dist: uniform, min: 2s, max: 1s}}}\n",
               "bad.yaml:3:40: expected max >= min in a uniform distribution");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {at: 0s, kill: {nodes: all, boot: 1s}}\n",
               "bad.yaml:3:33: unknown key 'boot' in kill (expected one of: nodes)");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "expect:\n"
               "  - duplicates: {}\n",
               "bad.yaml:3:17: expected 'at' in duplicates (or write 'duplicates: true')");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "expect:\n"
               "  - no_duplicates: {at: [1s, 2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s, 10s, 11s, 12s, 13s, 14s, 15s, 16s, 17s]}\n",
               "bad.yaml:3:97: expected at most 16 instants in 'at'");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {at: 1s, heal: [n1]}\n",
               "bad.yaml:3:20: expected 'all', found a list");
    load_fails("cluster:\n"
               "  nodes: 2\n"
               "  ping: {peers: 10.0.0.1}\n",
               "bad.yaml:3:17: expected a list of addresses");
    load_fails("cluster: {nodes: 2}\n"
               "timeline:\n"
               "  - {at: 1s, send: {node: n1, value: 1e300}}\n",
               "bad.yaml:3:38: expected a whole number for value, found '1e300'");
    load_fails("cluster: {nodes: 2}\n"
               "dns: {ttl: 0x10s}\n",
               "bad.yaml:2:12: expected a duration with a unit (ns, us, ms, s, m, h) such as "
               "250ms, 5s or 2m, found '0x10s'");
    load_fails("seed: ' 5'\n"
               "cluster: {nodes: 2}\n",
               "bad.yaml:1:7: expected a whole number, found ' 5'");
    load_fails("cluster:\n"
               "  nodes: 2\n"
               "  ping: {discovery: static\n",
               "bad.yaml:4:1: invalid YAML: did not find expected ',' or '}' while parsing a "
               "flow mapping");
    load_fails("", "bad.yaml:1:1: expected a scenario mapping, found an empty document");
    load_fails("- cluster\n", "bad.yaml:1:1: expected a mapping for the scenario, found a list");
}

/* worlds: sim by default; [sim, real] is read; what the real world cannot
 * perform is refused at the position that asks for it. */
static void test_worlds(void **state)
{
    (void)state;
    struct scenario sc;
    load_ok("cluster: {nodes: 2, protocol: cluster}\n", &sc);
    assert_int_equal(sc.worlds, SC_WORLD_SIM);
    scenario_free(&sc);
    load_ok("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster}\n"
            "timeline:\n  - {at: 1s, partition: {nodes: [n1], for: 2s}}\n  - {at: 5s, stop: n2}\n", &sc);
    assert_int_equal(sc.worlds, SC_WORLD_SIM | SC_WORLD_REAL);
    scenario_free(&sc);
    load_ok("worlds: real\ncluster: {nodes: 2, protocol: cluster}\n", &sc);
    assert_int_equal(sc.worlds, SC_WORLD_REAL);
    scenario_free(&sc);
    load_fails("worlds: [sim, moon]\ncluster: {nodes: 2}\n",
               "bad.yaml:1:15: expected a world (one of: sim, real), found 'moon'");
    load_fails("worlds: []\ncluster: {nodes: 2}\n",
               "bad.yaml:1:9: expected a list of worlds: [sim], [real] or [sim, real]");
    load_fails("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster}\n"
               "timeline:\n  - {at: 1s, clog: {nodes: [n1], for: 2s}}\n",
               "bad.yaml:4:14: clog: not in the real world (the scenario asks for it in `worlds`): the real world "
               "cannot hold a link's messages and release them later (a clog): use a partition or network latency");
    load_fails("worlds: [sim, real]\ncluster: {nodes: 2}\n",
               "bad.yaml:1:9: worlds: real: clusterd runs protocol `cluster`; this scenario runs `ping`");
    load_fails("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster}\n"
               "network: {latency: {dist: exponential, min: 1ms, mean: 2ms}}\n",
               "bad.yaml:1:9: worlds: real: network.latency is exponential, which tc netem cannot draw (use "
               "fixed or uniform)");
    load_fails("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster}\nnetwork: {datagrams: {loss: 0.1}}\n",
               "bad.yaml:1:9: worlds: real: datagram loss, duplication and reordering are simulated only (tc netem "
               "would apply them to the links too)");
    load_fails("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster, tracker: on}\n"
               "expect:\n  - no_loss: true\n",
               "bad.yaml:4:5: not in the real world (the scenario asks for it in `worlds`; an expectation may say "
               "`worlds: [sim]`): the real world reads each daemon's registry digest, not every entry: no_loss, "
               "placement and losers_killed are judged in the simulator only");
    /* An expectation narrows where it is judged. */
    load_ok("worlds: [sim, real]\ncluster: {nodes: 2, protocol: cluster, tracker: on}\n"
            "expect:\n  - {losers_killed: true, worlds: [sim]}\n  - worlds: real\n    registered: 0\n", &sc);
    assert_int_equal(sc.expects[0].kind, SC_EXP_LOSERS_KILLED);
    assert_int_equal(sc.expects[0].worlds, SC_WORLD_SIM);
    assert_false(sc_expect_in_world(&sc.expects[0], SC_WORLD_REAL));
    assert_int_equal(sc.expects[1].kind, SC_EXP_REGISTERED);
    assert_true(sc_expect_in_world(&sc.expects[1], SC_WORLD_REAL));
    assert_false(sc_expect_in_world(&sc.expects[1], SC_WORLD_SIM));
    scenario_free(&sc);
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\nexpect:\n  - {registered: 0, worlds: [real]}\n",
               "bad.yaml:3:29: this expectation's worlds are not all among the scenario's `worlds` (default [sim])");
    load_fails("cluster: {nodes: 2, protocol: cluster, tracker: on}\nexpect:\n  - {worlds: [sim]}\n",
               "bad.yaml:3:5: expected exactly one expectation per list entry (and `worlds` to narrow where it is "
               "judged)");
}

static void test_nearest_word(void **state)
{
    (void)state;
    const char *const keys[] = {"timeline", "name", "network", "expect", "seeds", "seed", NULL};
    assert_string_equal(cs_nearest("timline", keys, 6), "timeline");   /* a deletion */
    assert_string_equal(cs_nearest("nmae", keys, 6), "name");           /* a swap of neighbours */
    assert_string_equal(cs_nearest("sede", keys, 6), "seed");
    assert_string_equal(cs_nearest("netw", keys, 6), "network");        /* the only word it starts */
    assert_null(cs_nearest("se", keys, 6));                             /* starts two words, near none */
    assert_null(cs_nearest("bogus", keys, 6));                          /* too far from every word */
    assert_string_equal(cs_nearest("expecy", keys, 100), "expect");     /* stops at the NULL entry */
}

static void test_error_file_name(void **state)
{
    (void)state;
    struct scenario sc;
    char err[256];
    const char *yaml = "cluster: {nodes: 1}\nbogus: 1\n";
    assert_int_equal(scenario_load_string(yaml, strlen(yaml), "dir/x.yaml", &sc, err, sizeof err), -1);
    const char *want = "dir/x.yaml:2:1: unknown key 'bogus' in the scenario (expected one of:";
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    /* A short buffer truncates the message but keeps it a string. */
    char tiny[16];
    assert_int_equal(scenario_load_string(yaml, strlen(yaml), "dir/x.yaml", &sc, tiny, sizeof tiny),
                     -1);
    assert_string_equal(tiny, "dir/x.yaml:2:1:");
    assert_int_equal(scenario_load_file("/nonexistent/s.yaml", &sc, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/s.yaml: cannot open the scenario file");
}

int test_loader_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_sections),
        cmocka_unit_test(test_dns_name_defaults_to_service),
        cmocka_unit_test(test_static_peers_list),
        cmocka_unit_test(test_pool_skips_explicit_addresses),
        cmocka_unit_test(test_pool_ipv6_carries),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_last_fault),
        cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_error_locations),
        cmocka_unit_test(test_error_file_name),
        cmocka_unit_test(test_nearest_word),
        cmocka_unit_test(test_worlds),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
