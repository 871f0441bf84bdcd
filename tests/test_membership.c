/*
 * tests/test_membership.c: the membership layer (core/membership.c,
 * core/mem_gossip.c) on the simulator, with nodes of the cluster protocol
 * built from YAML scenarios, in both modes: the reconciliation rule (every
 * discovered node not connected is connected, failed connects are retried
 * next round, vanished nodes leave at the next round in libcluster mode and
 * after absent_rounds complete answers in fixed mode), the DNS answer
 * parsing of each strategy (kubernetes_dns, kubernetes_dns_srv, dns_poll)
 * and the static list, libcluster's weaknesses next to the fixed mode (a
 * DNS outage, truncated answers, double polling, serial connects behind a
 * hanging one, no LEAVE on graceful stop), and gossip (discovery under
 * loss, the wrong secret, replayed heartbeats).
 *
 * Latencies are fixed (DNS 1 ms, links 1 ms, set-up 2 ms) so that round
 * times follow from the polling interval: a fixed-mode round starts every
 * interval + 1 ms (the next poll is armed when the answer is in).
 */
#include "tests.h"

#include "../core/cluster.h"
#include "../core/membership_internal.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- captured log lines ---- */

struct cap_line {
    uint32_t node;
    cs_time at;
    char text[200];
};

static struct {
    struct cap_line *v;
    size_t count, cap;
    void (*orig[FX_MAX_NODES])(struct cs_env *, enum cs_log_level, const char *);
} caps;

static void cap_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    struct sim_node *n = env->impl;
    if (caps.count == caps.cap) {
        size_t cap = caps.cap ? caps.cap * 2 : 256;
        struct cap_line *v = realloc(caps.v, cap * sizeof *v);
        if (!v)
            abort();
        caps.v = v;
        caps.cap = cap;
    }
    struct cap_line *c = &caps.v[caps.count++];
    c->node = n->index;
    c->at = n->world->now;
    snprintf(c->text, sizeof c->text, "%s", line);
    caps.orig[n->index](env, level, line);
}

/* Index of the first line `text` logged by `node`, or -1. */
static long log_index(uint32_t node, const char *text)
{
    for (size_t i = 0; i < caps.count; i++)
        if (caps.v[i].node == node && strcmp(caps.v[i].text, text) == 0)
            return (long)i;
    return -1;
}

static int mt_setup(void **state)
{
    memset(&caps, 0, sizeof caps);
    return fx_setup(state);
}

static int mt_teardown(void **state)
{
    free(caps.v);
    memset(&caps, 0, sizeof caps);
    return fx_teardown(state);
}

/* ---- scenarios ---- */

struct yopt {
    const char *mode;       /* "fixed" or "libcluster" */
    unsigned nodes;         /* count (ignored when nodes_yaml is set) */
    const char *nodes_yaml; /* a node list in flow style */
    const char *cluster;    /* extra cluster lines */
    const char *membership; /* extra membership lines */
    const char *topology;   /* the topology, in flow style */
    const char *dns;        /* extra dns lines */
    bool zone;              /* A records of svc.local for every node */
    const char *zone_extra; /* extra zone items */
    const char *network;    /* extra network lines */
};

#define K8S_TOPOLOGY "{name: k8s, strategy: kubernetes_dns, query: svc.local, polling_interval: 1s}"
#define INTERVAL CS_SEC(1)
#define ROUND_PERIOD (INTERVAL + CS_MSEC(1)) /* fixed mode: interval + DNS latency */
#define SETUP_TIMEOUT CS_SEC(2)

static const char *build_yaml(const struct yopt *o)
{
    static char buf[8192];
    size_t len = 0;
#define OUT(...) len += (size_t)snprintf(buf + len, sizeof buf - len, __VA_ARGS__)
    OUT("cluster:\n");
    if (o->nodes_yaml)
        OUT("  nodes: %s\n", o->nodes_yaml);
    else
        OUT("  nodes: %u\n", o->nodes);
    OUT("  protocol: cluster\n%s", o->cluster ? o->cluster : "");
    OUT("  membership:\n    mode: %s\n    secret: s3cret\n    setup_timeout: 2s\n"
        "    tick_timeout: 60s\n%s    topologies:\n      - %s\n",
        o->mode, o->membership ? o->membership : "", o->topology ? o->topology : K8S_TOPOLOGY);
    OUT("dns:\n  latency: 1ms\n%s", o->dns ? o->dns : "");
    if (o->zone || o->zone_extra) {
        OUT("  zone:\n");
        for (unsigned i = 1; o->zone && i <= o->nodes; i++)
            OUT("    - {name: svc.local, address: 10.0.0.%u}\n", i);
        OUT("%s", o->zone_extra ? o->zone_extra : "");
    }
    OUT("network:\n  latency: 1ms\n  connect_time: 2ms\n  connect_timeout: 10s\n%s",
        o->network ? o->network : "");
    OUT("limits: {duration: 10m}\n");
#undef OUT
    assert_true(len < sizeof buf);
    return buf;
}

static void open_world(struct fx *t, const struct yopt *o, uint64_t seed)
{
    fx_open_proto(t, build_yaml(o), seed, NULL, NULL);
    assert_int_equal(t->sc.cluster.protocol, SC_PROTO_CLUSTER);
}

/* Node i's own configuration (for nodes started later), made writable. */
static struct cluster_config *node_cfg(struct fx *t, uint32_t i)
{
    struct sc_cluster *cl = &t->sc.cluster;
    if (!cl->node_cluster) {
        cl->node_cluster = calloc(cl->node_count, sizeof *cl->node_cluster);
        assert_non_null(cl->node_cluster);
        for (size_t k = 0; k < cl->node_count; k++)
            cl->node_cluster[k] = cl->cluster;
    }
    return &cl->node_cluster[i];
}

/* A node without topologies: it discovers nobody and only accepts links,
 * so every link it has was dialled by the others. */
static void make_passive(struct fx *t, uint32_t i)
{
    node_cfg(t, i)->mem.topology_count = 0;
}

static void start(struct fx *t, uint32_t i)
{
    sim_node_start(t->w, i);
    struct cs_env *env = fx_env(t, i);
    caps.orig[i] = env->log;
    env->log = cap_log;
    env->log_enabled = 1;
}

static void start_all(struct fx *t)
{
    for (uint32_t i = 0; i < t->w->node_count; i++)
        start(t, i);
}

static struct membership *mem(struct fx *t, uint32_t i)
{
    assert_true(sim_node_alive(&t->w->nodes[i]));
    return cluster_membership(t->w->nodes[i].instance);
}

static const struct mem_stats *st(struct fx *t, uint32_t i)
{
    return mem_stats(mem(t, i));
}

static const char *name(struct fx *t, uint32_t i)
{
    return t->w->nodes[i].name;
}

static bool sees(struct fx *t, uint32_t i, uint32_t j)
{
    return conn_is_up(mem_conn(mem(t, i)), name(t, j));
}

static size_t view(struct fx *t, uint32_t i)
{
    return conn_up_count(mem_conn(mem(t, i)));
}

/* True when every live node sees exactly every other live node. */
static bool full_mesh(struct fx *t)
{
    size_t live = 0;
    for (uint32_t i = 0; i < t->w->node_count; i++)
        live += t->w->nodes[i].state == SIM_NODE_UP;
    for (uint32_t i = 0; i < t->w->node_count; i++) {
        if (t->w->nodes[i].state != SIM_NODE_UP)
            continue;
        if (view(t, i) != live - 1)
            return false;
        for (uint32_t j = 0; j < t->w->node_count; j++)
            if (j != i && t->w->nodes[j].state == SIM_NODE_UP && !sees(t, i, j))
                return false;
    }
    return true;
}

/* Runs in 1 ms steps until node i's view of j is `want`; the time, or -1
 * when it did not happen by `limit`. */
static cs_time run_until_sees(struct fx *t, uint32_t i, uint32_t j, bool want, cs_time limit)
{
    for (cs_time at = t->w->now; at <= limit; at += CS_MSEC(1)) {
        fx_run(t, at);
        if (sees(t, i, j) == want)
            return at;
    }
    return -1;
}

static bool discovered(struct fx *t, uint32_t i, const char *node)
{
    return name_set_find(&mem(t, i)->topos[0].discovered, node) >= 0;
}

static size_t discovered_count(struct fx *t, uint32_t i)
{
    return mem(t, i)->topos[0].discovered.count;
}

static void logline(char *buf, size_t size, const char *topology, const char *what, const char *node)
{
    snprintf(buf, size, "[libcluster:%s] %s %s", topology, what, node);
}

static const char *const modes[] = {"fixed", "libcluster"};

/* ---- 1. the reconciliation rule ---- */

/* A node in DNS that is not running yet: every round retries it (one
 * refused connect per round), and it is connected at the first round after
 * it starts.  It is passive, so only the others' retries can link it. */
static void test_failed_connect_retried_each_round(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 1);
        make_passive(t, 3);
        for (uint32_t i = 0; i < 3; i++)
            start(t, i);
        cs_time t_start = CS_MSEC(3500);
        fx_run(t, t_start);
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(view(t, i), 2);
            /* Each round tried n4 once and failed once (refused: nothing
             * listens there). */
            assert_true(discovered(t, i, "app@10.0.0.4"));
            assert_int_equal(st(t, i)->connect_failures, st(t, i)->rounds);
        }
        uint64_t r0 = st(t, 0)->rounds;
        if (mode == 0)
            assert_int_equal(r0, 4); /* at 0, 1.001, 2.002, 3.003 s */
        else
            assert_true(r0 >= 7 && r0 <= 8); /* two chains */
        char line[256];
        logline(line, sizeof line, "k8s", "unable to connect to", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        /* No failure is reported for the running nodes, although they dial
         * each other at once in the first round. */
        size_t failures = 0;
        for (size_t k = 0; k < caps.count; k++)
            if (strstr(caps.v[k].text, "unable to connect to")) {
                assert_string_equal(caps.v[k].text, line);
                failures++;
            }
        assert_int_equal(failures, st(t, 0)->rounds + st(t, 1)->rounds + st(t, 2)->rounds);

        start(t, 3);
        cs_time up = run_until_sees(t, 0, 3, true, t_start + CS_SEC(3));
        assert_true(up > t_start);
        assert_true(up <= t_start + ROUND_PERIOD + CS_MSEC(20));
        /* ... and at the first round after the start. */
        assert_true(st(t, 0)->rounds - r0 >= 1 && st(t, 0)->rounds - r0 <= (mode == 0 ? 1u : 2u));
        logline(line, sizeof line, "k8s", "connected to", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        fx_run(t, t_start + ROUND_PERIOD + CS_MSEC(50));
        assert_int_equal(view(t, 3), 3);
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* libcluster issue #148: every discovered node not connected is connected,
 * not only the newly discovered ones.  A known node whose link dropped (it
 * crashed and came back at once on the same address) is linked again at
 * the next round although the answer did not change. */
static void test_known_node_reconnected_after_link_loss(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 2);
        make_passive(t, 3);
        start_all(t);
        fx_run(t, CS_MSEC(2500));
        assert_true(full_mesh(t));
        sim_node_kill(t->w, 3);
        start(t, 3);
        fx_run(t, CS_MSEC(2510)); /* crash_detect 1 ms: the old links are gone */
        assert_int_equal(view(t, 3), 0);
        for (uint32_t i = 0; i < 3; i++) {
            assert_false(sees(t, i, 3));
            assert_true(discovered(t, i, "app@10.0.0.4"));
        }
        fx_run(t, CS_MSEC(2500) + ROUND_PERIOD + CS_MSEC(20));
        assert_int_equal(view(t, 3), 3);
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* A node withdrawn from a complete answer: libcluster drops it at the next
 * round; fixed mode after `absent_rounds` (here 3) consecutive complete
 * answers without it, and not at all when it comes back before. */
static void test_vanished_node_leaves_per_mode(void **state)
{
    struct cs_dns_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = CS_DNS_A;
    rec.addr = fx_addr("10.0.0.4");
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true,
                         .membership = "    absent_rounds: 3\n"};
        open_world(t, &o, 3);
        make_passive(t, 3);
        start_all(t);
        cs_time removed = CS_MSEC(5500);
        fx_run(t, removed);
        assert_true(full_mesh(t));
        sim_dns_remove(t->w, "svc.local", &rec);
        uint64_t r0 = st(t, 0)->rounds;
        cs_time down = run_until_sees(t, 0, 3, false, removed + CS_SEC(10));
        assert_true(down > removed);
        if (mode == 1) {
            assert_true(down <= removed + ROUND_PERIOD + CS_MSEC(10));
        } else {
            assert_int_equal(st(t, 0)->rounds - r0, 3);
            assert_true(down > removed + 2 * ROUND_PERIOD);
            assert_true(down <= removed + 3 * ROUND_PERIOD + CS_MSEC(10));
        }
        assert_int_equal(st(t, 0)->disconnects, 1);
        assert_false(discovered(t, 0, "app@10.0.0.4"));
        char line[256];
        logline(line, sizeof line, "k8s", "disconnected from", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        fx_run(t, removed + 4 * ROUND_PERIOD);
        assert_int_equal(view(t, 3), 0);
        mt_teardown(state);
        mt_setup(state);
    }

    /* Fixed mode: two absences, then the record is back: nobody leaves. */
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 4, .zone = true, .membership = "    absent_rounds: 3\n"};
    open_world(t, &o, 3);
    make_passive(t, 3);
    start_all(t);
    fx_run(t, CS_MSEC(5500));
    sim_dns_remove(t->w, "svc.local", &rec);
    fx_run(t, CS_MSEC(5500) + 2 * ROUND_PERIOD); /* two complete answers without n4 */
    sim_dns_add(t->w, "svc.local", &rec);
    for (cs_time at = t->w->now; at <= CS_SEC(15); at += CS_MSEC(100)) {
        fx_run(t, at);
        assert_true(full_mesh(t));
    }
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(st(t, i)->disconnects, 0);
    /* The absence count restarted: a second removal takes three rounds again. */
    sim_dns_remove(t->w, "svc.local", &rec);
    cs_time removed = t->w->now;
    cs_time down = run_until_sees(t, 0, 3, false, removed + CS_SEC(10));
    assert_true(down > removed + 2 * ROUND_PERIOD);
}

/* ---- 2. DNS answer parsing per strategy ---- */

/* kubernetes_dns: A records -> <application_name>@<ip>. */
static void test_k8s_dns_names_app_at_ip(void **state)
{
    struct fx *t = *state;
    /* application_name differs from the nodes' basename: the names are
     * built from it, and the peers refuse them (wrong dialled name). */
    struct yopt o = {.mode = "fixed", .nodes = 3, .zone = true,
                     .topology = "{name: k8s, strategy: kubernetes_dns, query: svc.local, "
                                 "polling_interval: 1s, application_name: web}"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3));
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(discovered_count(t, i), 3);
        assert_true(discovered(t, i, "web@10.0.0.1"));
        assert_true(discovered(t, i, "web@10.0.0.2"));
        assert_true(discovered(t, i, "web@10.0.0.3"));
        assert_false(discovered(t, i, "app@10.0.0.2"));
        assert_int_equal(view(t, i), 0);
        assert_true(conn_stats(mem_conn(mem(t, i)))->wrong_name > 0);
    }
    mt_teardown(state);
    mt_setup(state);

    /* The same with the nodes named web@<ip>: a full mesh of those names. */
    t = *state;
    o.cluster = "  basename: web\n";
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3));
    assert_true(full_mesh(t));
    assert_string_equal(name(t, 1), "web@10.0.0.2");
    assert_true(conn_is_up(mem_conn(mem(t, 0)), "web@10.0.0.2"));
    assert_true(conn_is_up(mem_conn(mem(t, 0)), "web@10.0.0.3"));
    assert_int_equal(st(t, 0)->connect_failures, 0);
}

/* kubernetes_dns_srv on a StatefulSet: pods are app@<id>.<service>; the
 * service has an SRV record per pod; names are app@<target> with a
 * trailing dot stripped, and the conn layer resolves the target. */
static void test_k8s_dns_srv_names_app_at_target(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {
            .mode = modes[mode], .nodes = 3,
            .cluster = "  naming: hostname\n",
            .topology = "{name: srv, strategy: kubernetes_dns_srv, polling_interval: 1s}",
            .dns = "  service: {name: svc.local, srv: true, port: 4369}\n",
            /* A target with a trailing dot for a real pod (the same node as
             * the service's own record once stripped) and one for no pod. */
            .zone_extra = "    - {name: svc.local, type: SRV, target: n3.svc.local., port: 4369}\n"
                          "    - {name: svc.local, type: SRV, target: ghost.svc.local., port: 4369}\n",
        };
        open_world(t, &o, 1);
        start_all(t);
        assert_string_equal(name(t, 0), "app@n1.svc.local");
        fx_run(t, CS_SEC(4));
        assert_true(full_mesh(t));
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(discovered_count(t, i), 4);
            assert_true(discovered(t, i, "app@n1.svc.local"));
            assert_true(discovered(t, i, "app@n2.svc.local"));
            assert_true(discovered(t, i, "app@n3.svc.local"));
            assert_true(discovered(t, i, "app@ghost.svc.local"));
            assert_false(discovered(t, i, "app@n3.svc.local."));
            /* ghost.svc.local has no A record: every round fails to resolve it. */
            assert_true(st(t, i)->connect_failures > 0);
        }
        assert_true(conn_is_up(mem_conn(mem(t, 0)), "app@n2.svc.local"));
        assert_true(conn_is_up(mem_conn(mem(t, 0)), "app@n3.svc.local"));
        assert_false(conn_is_up(mem_conn(mem(t, 0)), "app@ghost.svc.local"));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* dns_poll: both the A and the AAAA records of the query. */
static void test_dns_poll_collects_a_and_aaaa(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {
            .mode = modes[mode],
            .nodes_yaml = "[n1, n2, {id: n3, address: 'fd00::3'}]",
            .topology = "{name: poll, strategy: dns_poll, query: poll.local, polling_interval: 1s}",
            .zone_extra = "    - {name: poll.local, address: 10.0.0.1}\n"
                          "    - {name: poll.local, address: 10.0.0.2}\n"
                          "    - {name: poll.local, type: AAAA, address: 'fd00::3'}\n",
        };
        open_world(t, &o, 1);
        start_all(t);
        assert_string_equal(name(t, 2), "app@fd00::3");
        fx_run(t, CS_MSEC(2500));
        assert_true(full_mesh(t));
        uint64_t rounds = 0;
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(discovered_count(t, i), 3);
            assert_true(discovered(t, i, "app@10.0.0.1"));
            assert_true(discovered(t, i, "app@10.0.0.2"));
            assert_true(discovered(t, i, "app@fd00::3"));
            assert_int_equal(st(t, i)->rounds, 3); /* one chain in both modes */
            rounds += st(t, i)->rounds;
        }
        assert_true(conn_is_up(mem_conn(mem(t, 0)), "app@fd00::3"));
        /* One A and one AAAA query per round, nothing else. */
        assert_int_equal(t->w->stats.dns_queries, 2 * rounds);
        mt_teardown(state);
        mt_setup(state);
    }
}

/* static: the listed hosts, and only them; retried only with an interval. */
static void test_static_connects_listed_hosts(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 4,
                     .topology = "{name: epmd, strategy: static, hosts: [n1, n2]}"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(2));
    /* n1-n2, and n3 and n4 each to n1 and n2; n3 and n4 never meet. */
    assert_int_equal(view(t, 0), 3);
    assert_int_equal(view(t, 1), 3);
    assert_int_equal(view(t, 2), 2);
    assert_int_equal(view(t, 3), 2);
    assert_true(sees(t, 2, 0) && sees(t, 2, 1) && !sees(t, 2, 3));
    assert_true(sees(t, 3, 0) && sees(t, 3, 1) && !sees(t, 3, 2));
    assert_int_equal(st(t, 2)->rounds, 1); /* no interval: one round */
    mt_teardown(state);
    mt_setup(state);

    /* n2 starts late.  It dials only n1 itself, so n3 links to it only by
     * retrying: with polling_interval at its next round, without never. */
    for (int retry = 0; retry < 2; retry++) {
        t = *state;
        o.nodes = 3;
        o.topology = retry ? "{name: epmd, strategy: static, hosts: [n1, n2], polling_interval: 1s}"
                           : "{name: epmd, strategy: static, hosts: [n1, n2]}";
        open_world(t, &o, 1);
        start(t, 0);
        start(t, 2);
        fx_run(t, CS_MSEC(2500));
        assert_int_equal(st(t, 2)->connect_failures, retry ? 3 : 1);
        start(t, 1);
        cs_time up = run_until_sees(t, 2, 1, true, CS_SEC(10));
        if (retry) {
            assert_true(up > CS_MSEC(2500) && up <= CS_MSEC(3000) + CS_MSEC(20));
        } else {
            assert_int_equal(up, -1);
            assert_int_equal(st(t, 2)->connect_failures, 1);
        }
        assert_true(sees(t, 1, 0));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* ---- 3. libcluster's weaknesses next to the fixed mode ---- */

/* A SERVFAIL outage: libcluster reads it as "no nodes" and disconnects
 * everyone; fixed mode keeps its view.  Both recover once DNS is back. */
static void test_dns_outage(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 1);
        start_all(t);
        fx_run(t, CS_SEC(5));
        assert_true(full_mesh(t));
        assert_int_equal(st(t, 0)->lookups_failed, 0);
        sim_dns_outage(t->w, CS_DNS_SERVFAIL, CS_SEC(5));
        bool always_full = true, ever_empty = false;
        for (cs_time at = CS_SEC(5); at < CS_SEC(10); at += CS_MSEC(50)) {
            fx_run(t, at);
            always_full &= full_mesh(t);
            bool empty = true;
            for (uint32_t i = 0; i < 4; i++)
                empty &= view(t, i) == 0;
            ever_empty |= empty;
        }
        for (uint32_t i = 0; i < 4; i++) {
            /* Every round of the 5 s outage failed: 5 rounds, twice as many
             * with libcluster's two chains. */
            assert_int_equal(st(t, i)->lookups_failed, mode == 1 ? 10 : 5);
            if (mode == 1) {
                assert_int_equal(view(t, i), 0);
                assert_true(st(t, i)->disconnects >= 3);
            } else {
                assert_int_equal(st(t, i)->disconnects, 0);
            }
        }
        if (mode == 1) {
            assert_true(ever_empty);
            assert_false(always_full);
        } else {
            assert_true(always_full);
        }
        fx_run(t, CS_SEC(10) + ROUND_PERIOD + CS_MSEC(50));
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* Answers capped at 2 records for 6 pods: libcluster prunes whatever the
 * window left out and reconnects it later, forever; fixed mode never
 * prunes on a truncated answer and keeps a full mesh.  absent_rounds is 1
 * so that a single prune on a truncated answer would show. */
static void test_truncated_answers(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 6, .zone = true, .dns = "  max_answers: 2\n",
                         .membership = "    absent_rounds: 1\n"};
        open_world(t, &o, 1);
        start_all(t);
        size_t samples = 0, full = 0;
        for (cs_time at = CS_SEC(10); at <= CS_SEC(30); at += CS_MSEC(100)) {
            fx_run(t, at);
            samples++;
            full += full_mesh(t);
        }
        uint64_t disconnects = 0;
        for (uint32_t i = 0; i < 6; i++) {
            assert_true(st(t, i)->truncated_answers > 0);
            assert_int_equal(st(t, i)->lookups_failed, 0);
            disconnects += st(t, i)->disconnects;
            if (mode == 0)
                assert_int_equal(st(t, i)->disconnects, 0);
        }
        if (mode == 0) {
            assert_int_equal(full, samples);
        } else {
            assert_true(disconnects > 0);
            assert_true(full < samples / 2);
        }
        mt_teardown(state);
        mt_setup(state);
    }
}

/* Rounds per interval: libcluster's kubernetes_dns and kubernetes_dns_srv
 * run two polling chains, dns_poll one; fixed mode one each. */
static void test_polling_rounds_per_interval(void **state)
{
    static const char *const topologies[] = {
        K8S_TOPOLOGY,
        "{name: srv, strategy: kubernetes_dns_srv, query: srv.local, polling_interval: 1s}",
        "{name: poll, strategy: dns_poll, query: svc.local, polling_interval: 1s}",
    };
    /* SRV records whose targets are the pods' addresses (dialled as such). */
    const char *srv_zone = "    - {name: srv.local, type: SRV, target: 10.0.0.1, port: 4369}\n"
                           "    - {name: srv.local, type: SRV, target: 10.0.0.2, port: 4369}\n"
                           "    - {name: srv.local, type: SRV, target: 10.0.0.3, port: 4369}\n";
    const cs_time span = CS_MSEC(10500);
    /* One chain: rounds at k * (interval + 1 ms) for k = 0 .. 10. */
    const uint64_t one_chain = (uint64_t)(span / ROUND_PERIOD) + 1;
    assert_int_equal(one_chain, 11);
    for (int mode = 0; mode < 2; mode++)
        for (int s = 0; s < 3; s++) {
            struct fx *t = *state;
            struct yopt o = {.mode = modes[mode], .nodes = 3, .zone = true, .topology = topologies[s],
                             .zone_extra = srv_zone};
            open_world(t, &o, 1);
            start_all(t);
            fx_run(t, span);
            assert_true(full_mesh(t));
            bool two_chains = mode == 1 && s != 2;
            for (uint32_t i = 0; i < 3; i++) {
                uint64_t r = st(t, i)->rounds;
                if (two_chains)
                    assert_true(r >= 2 * one_chain - 1 && r <= 2 * one_chain);
                else
                    assert_int_equal(r, one_chain);
            }
            mt_teardown(state);
            mt_setup(state);
        }
}

/* ---- 4. serial connects ---- */

/* n1 discovers n2 first, but n2 is partitioned away: its connect hangs
 * until the 2 s set-up timeout.  libcluster connects serially, so the
 * healthy n3 and n4 (passive: only n1 can link them) wait behind it;
 * fixed mode links them at once. */
static void test_serial_connect_waits_for_hanging_one(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4,
                         .zone_extra = "    - {name: svc.local, address: 10.0.0.2}\n"
                                       "    - {name: svc.local, address: 10.0.0.3}\n"
                                       "    - {name: svc.local, address: 10.0.0.4}\n"
                                       "    - {name: svc.local, address: 10.0.0.1}\n"};
        open_world(t, &o, 1);
        for (uint32_t i = 1; i < 4; i++)
            make_passive(t, i);
        uint32_t a = 1, rest[] = {0, 2, 3};
        sim_net_partition(t->w, &a, 1, rest, 3, false);
        start_all(t);
        cs_time up3 = run_until_sees(t, 0, 2, true, CS_SEC(5));
        cs_time up4 = run_until_sees(t, 0, 3, true, CS_SEC(5));
        assert_true(up3 > 0 && up4 > 0);
        const struct conn_stats *cst = conn_stats(mem_conn(mem(t, 0)));
        char fail2[256], conn3[256], conn4[256];
        logline(fail2, sizeof fail2, "k8s", "unable to connect to", "app@10.0.0.2");
        logline(conn3, sizeof conn3, "k8s", "connected to", "app@10.0.0.3");
        logline(conn4, sizeof conn4, "k8s", "connected to", "app@10.0.0.4");
        if (mode == 1) {
            /* After the hanging connect gave up, in discovery order. */
            assert_true(up3 >= SETUP_TIMEOUT && up3 <= SETUP_TIMEOUT + CS_MSEC(20));
            assert_true(up4 > up3 && up4 <= SETUP_TIMEOUT + CS_MSEC(40));
            assert_true(log_index(0, fail2) >= 0);
            assert_true(log_index(0, fail2) < log_index(0, conn3));
            assert_true(log_index(0, conn3) < log_index(0, conn4));
        } else {
            assert_true(up3 <= CS_MSEC(20) && up4 <= CS_MSEC(20));
            assert_int_equal(cst->setup_timeouts, 0);
            fx_run(t, SETUP_TIMEOUT + CS_MSEC(20));
            assert_true(log_index(0, conn3) < log_index(0, fail2));
            assert_true(log_index(0, conn4) < log_index(0, fail2));
        }
        assert_true(cst->setup_timeouts >= 1);
        assert_false(sees(t, 0, 1));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* ---- 5. graceful stop ---- */

/* Fixed mode announces LEAVE: the peers drop the stopping node at once.
 * libcluster mode does not: the node stays linked until the grace period
 * runs out and it is killed. */
static void test_graceful_stop(void **state)
{
    const cs_time grace = CS_SEC(5), stop_at = CS_SEC(1);
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 3,
                         .topology = "{name: epmd, strategy: static}"};
        open_world(t, &o, 1);
        start_all(t);
        fx_run(t, stop_at);
        assert_true(full_mesh(t));
        sim_node_stop(t->w, 2, grace);
        if (mode == 0) {
            fx_run(t, stop_at + CS_MSEC(5));
            for (uint32_t i = 0; i < 2; i++) {
                assert_false(sees(t, i, 2));
                assert_int_equal(view(t, i), 1);
                assert_int_equal(conn_stats(mem_conn(mem(t, i)))->leaves_received, 1);
            }
            assert_int_equal(t->w->nodes[2].state, SIM_NODE_DOWN);
        } else {
            fx_run(t, stop_at + grace - CS_MSEC(10));
            assert_int_equal(t->w->nodes[2].state, SIM_NODE_STOPPING);
            for (uint32_t i = 0; i < 2; i++) {
                assert_true(sees(t, i, 2));
                assert_int_equal(conn_stats(mem_conn(mem(t, i)))->leaves_received, 0);
            }
            fx_run(t, stop_at + grace + CS_MSEC(5)); /* killed; crash_detect 1 ms */
            for (uint32_t i = 0; i < 2; i++) {
                assert_false(sees(t, i, 2));
                assert_int_equal(conn_stats(mem_conn(mem(t, i)))->leaves_received, 0);
            }
        }
        mt_teardown(state);
        mt_setup(state);
    }
}

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
    assert_false(conn_is_connecting(mem_conn(mem(t, 1)), name(t, 0)));

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

int test_membership_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_connect_retried_each_round, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_known_node_reconnected_after_link_loss, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_vanished_node_leaves_per_mode, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_k8s_dns_names_app_at_ip, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_k8s_dns_srv_names_app_at_target, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_dns_poll_collects_a_and_aaaa, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_static_connects_listed_hosts, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_dns_outage, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_answers, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_polling_rounds_per_interval, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_serial_connect_waits_for_hanging_one, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_discovery_under_loss, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_wrong_secret_never_joins, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_replay_refused, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_gossip_replay_of_older_incarnation, mt_setup, mt_teardown),
    };
    return cmocka_run_group_tests_name("membership", tests, NULL, NULL);
}
