/*
 * sim/scenario.c: defaults, teardown and small queries on a scenario.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scenario_defaults(struct scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->seed = 1;
    sc->worlds = SC_WORLD_SIM;
    strcpy(sc->cluster.basename, "app");
    cs_addr_parse("10.0.0.0", &sc->cluster.pool);
    sc->cluster.protocol = SC_PROTO_PING;
    ping_config_defaults(&sc->cluster.ping);
    cluster_config_defaults(&sc->cluster.cluster);

    sc->net.latency = sim_dist_fixed(CS_MSEC(1));
    sc->net.connect_time = sim_dist_fixed(CS_MSEC(2));
    sc->net.break_detect = CS_SEC(60);
    sc->net.crash_detect = CS_MSEC(1);
    sc->net.connect_timeout = CS_SEC(10);
    sc->net.dgram_latency = sim_dist_fixed(CS_MSEC(1));
    sc->net.reorder_delay = (struct sim_dist){SIM_DIST_UNIFORM, CS_MSEC(1), CS_MSEC(50)};

    sc->dns.latency = sim_dist_fixed(CS_MSEC(1));
    sc->dns.propagation = sim_dist_fixed(0);
    sc->dns.ttl_s = 0;
    sc->dns.timeout = CS_SEC(5);
    sc->dns.ready_delay = sim_dist_fixed(0);
    sc->dns.removal_delay = sim_dist_fixed(0);
    sc->dns.service_port = 4369;

    sc->limits.duration = CS_SEC(60);
    sc->limits.check_interval = CS_MSEC(100);
    sc->limits.max_events = SC_DEFAULT_MAX_EVENTS;
    sc->limits.wall = SC_DEFAULT_WALL;
}

void scenario_free(struct scenario *sc)
{
    free(sc->cluster.nodes);
    free(sc->cluster.ping_static);
    free(sc->cluster.node_cluster);
    free(sc->dns.zone);
    for (size_t i = 0; i < sc->action_count; i++) {
        free(sc->actions[i].nodes.idx);
        free(sc->actions[i].peers.idx);
    }
    free(sc->actions);
    free(sc->expects);
    free(sc->excluded);
    free(sc->entropy);
    memset(sc, 0, sizeof *sc);
}

int scenario_pool_address(const struct scenario *sc, uint32_t *offset,
                          bool (*taken)(void *ctx, const struct cs_addr *a), void *ctx,
                          struct cs_addr *out)
{
    for (int tries = 0; tries < 1 << 20; tries++) {
        struct cs_addr a = sc->cluster.pool;
        uint64_t carry = ++*offset;
        int last = a.family == 4 ? 3 : 15;
        for (int i = last; i >= 0 && carry; i--) {
            carry += a.ip[i];
            a.ip[i] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry)
            return -1; /* ran off the end of the address space */
        if (!taken || !taken(ctx, &a)) {
            *out = a;
            return 0;
        }
    }
    return -1;
}

static bool explicitly_taken(void *ctx, const struct cs_addr *a)
{
    const struct scenario *sc = ctx;
    for (size_t i = 0; i < sc->cluster.node_count; i++)
        if (sc->cluster.nodes[i].addr.family && cs_addr_compare(&sc->cluster.nodes[i].addr, a) == 0)
            return true;
    return false;
}

int scenario_assign_addresses(struct scenario *sc)
{
    struct sc_cluster *cl = &sc->cluster;
    for (size_t i = 0; i < cl->node_count; i++)
        for (size_t j = 0; j < i; j++)
            if (cl->nodes[i].addr.family && cs_addr_compare(&cl->nodes[i].addr, &cl->nodes[j].addr) == 0)
                return -1;
    cl->pool_next = 0;
    for (size_t i = 0; i < cl->node_count; i++)
        if (!cl->nodes[i].addr.family &&
            scenario_pool_address(sc, &cl->pool_next, explicitly_taken, sc, &cl->nodes[i].addr) != 0)
            return -1;
    return 0;
}

void scenario_node_name(const struct scenario *sc, size_t idx, const struct cs_addr *addr, char *buf,
                        size_t size)
{
    if (sc->cluster.naming == SC_NAMING_HOSTNAME)
        snprintf(buf, size, "%s@%s.%s", sc->cluster.basename, sc->cluster.nodes[idx].id,
                 sc->dns.service);
    else
        cs_node_name(sc->cluster.basename, addr, buf, size);
}

const void *scenario_node_config(const struct scenario *sc, size_t idx)
{
    if (sc->cluster.protocol == SC_PROTO_PING)
        return &sc->cluster.ping;
    return sc->cluster.node_cluster ? (const void *)&sc->cluster.node_cluster[idx]
                                    : (const void *)&sc->cluster.cluster;
}

int scenario_node_index(const struct scenario *sc, const char *id)
{
    for (size_t i = 0; i < sc->cluster.node_count; i++)
        if (strcmp(sc->cluster.nodes[i].id, id) == 0)
            return (int)i;
    return -1;
}

static cs_time last_occurrence(const struct sc_action *a, cs_time limit)
{
    if (a->every <= 0)
        return a->at;
    cs_time until = a->until > 0 && a->until < limit ? a->until : limit;
    if (until < a->at)
        return a->at;
    return a->at + (until - a->at) / a->every * a->every;
}

cs_time scenario_last_fault(const struct scenario *sc)
{
    cs_time last = 0;
    for (size_t i = 0; i < sc->action_count; i++) {
        const struct sc_action *a = &sc->actions[i];
        if (a->kind == SC_ACT_COMMAND)
            continue;
        cs_time t = last_occurrence(a, sc->limits.duration);
        if (a->kind == SC_ACT_RESTART)
            t += a->downtime;
        else if (a->kind == SC_ACT_PARTITION || a->kind == SC_ACT_CLOG ||
                 a->kind == SC_ACT_DNS_FAIL)
            t += a->duration;
        if (t > last)
            last = t;
    }
    return last;
}

bool scenario_expects(const struct scenario *sc, enum sc_expect_kind kind)
{
    for (size_t i = 0; i < sc->expect_count; i++)
        if (sc->expects[i].kind == kind)
            return true;
    return false;
}

const char *sc_action_name(enum sc_action_kind kind)
{
    static const char *const names[] = {
        "start", "kill", "stop", "restart", "partition", "heal", "clog",
        "dns_add", "dns_remove", "dns_fail", "clock_jump", "clock_rate", "command", "adversary",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}
