/*
 * tests/membership_harness.c: the harness shared by the membership layer's
 * tests (see membership_harness.h for what it owns): captured log lines,
 * the scenario builder, and node and observation helpers on the fixture's
 * simulated world.
 */
#include "tests.h"
#include "membership_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- captured log lines ---- */

/* The lines captured in the running test. */
struct cap_state caps;

/* cs_env.log of a started node: captures the line, then passes it on to
 * the node's own log function. */
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
long log_index(uint32_t node, const char *text)
{
    for (size_t i = 0; i < caps.count; i++)
        if (caps.v[i].node == node && strcmp(caps.v[i].text, text) == 0)
            return (long)i;
    return -1;
}

int mt_setup(void **state)
{
    memset(&caps, 0, sizeof caps);
    return fx_setup(state);
}

int mt_teardown(void **state)
{
    free(caps.v);
    memset(&caps, 0, sizeof caps);
    return fx_teardown(state);
}

/* ---- scenarios ---- */

/* The scenario's YAML text for these options, in a static buffer. */
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

void open_world(struct fx *t, const struct yopt *o, uint64_t seed)
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
void make_passive(struct fx *t, uint32_t i)
{
    node_cfg(t, i)->mem.topology_count = 0;
}

void start(struct fx *t, uint32_t i)
{
    sim_node_start(t->w, i);
    struct cs_env *env = fx_env(t, i);
    caps.orig[i] = env->log;
    env->log = cap_log;
    env->log_enabled = 1;
}

void start_all(struct fx *t)
{
    for (uint32_t i = 0; i < t->w->node_count; i++)
        start(t, i);
}

struct membership *mem(struct fx *t, uint32_t i)
{
    assert_true(sim_node_alive(&t->w->nodes[i]));
    return cluster_membership(t->w->nodes[i].instance);
}

const struct membership_stats *st(struct fx *t, uint32_t i)
{
    return membership_stats(mem(t, i));
}

const char *name(struct fx *t, uint32_t i)
{
    return t->w->nodes[i].name;
}

bool sees(struct fx *t, uint32_t i, uint32_t j)
{
    return conn_is_up(membership_conn(mem(t, i)), name(t, j));
}

size_t view(struct fx *t, uint32_t i)
{
    return conn_up_count(membership_conn(mem(t, i)));
}

/* True when every live node sees exactly every other live node. */
bool full_mesh(struct fx *t)
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
cs_time run_until_sees(struct fx *t, uint32_t i, uint32_t j, bool want, cs_time limit)
{
    for (cs_time at = t->w->now; at <= limit; at += CS_MSEC(1)) {
        fx_run(t, at);
        if (sees(t, i, j) == want)
            return at;
    }
    return -1;
}

bool discovered(struct fx *t, uint32_t i, const char *node)
{
    return name_set_find(&mem(t, i)->topos[0].discovered, node) >= 0;
}

size_t discovered_count(struct fx *t, uint32_t i)
{
    return mem(t, i)->topos[0].discovered.count;
}

void logline(char *buf, size_t size, const char *topology, const char *what, const char *node)
{
    snprintf(buf, size, "[libcluster:%s] %s %s", topology, what, node);
}

/* The two membership modes, by index. */
const char *const modes[2] = {"fixed", "libcluster"};
