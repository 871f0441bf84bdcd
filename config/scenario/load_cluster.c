/*
 * config/scenario/load_cluster.c: a scenario's `cluster.membership` and
 * `cluster.tracker` sections (protocol cluster), read by the cluster
 * configuration reader (config/cluster_file.h) with what only a scenario
 * knows: node ids as static hosts, the headless service and the basename
 * as DNS defaults, a default topology, and per-node secrets.
 */
#include "load_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A static host given as a declared node id. */
static bool resolve_node_id(void *ctx, const char *id, char *out, size_t size)
{
    struct scenario *sc = ctx;
    int idx = scenario_node_index(sc, id);
    if (idx < 0)
        return false;
    scenario_node_name(sc, (size_t)idx, &sc->cluster.nodes[idx].addr, out, size);
    return true;
}

/* A static topology without hosts lists every declared node. */
static void every_node(void *ctx, struct membership_topology_config *t)
{
    struct scenario *sc = ctx;
    for (size_t i = 0; i < sc->cluster.node_count && i < MEM_MAX_STATIC; i++)
        scenario_node_name(sc, i, &sc->cluster.nodes[i].addr, t->hosts[t->host_count++], CS_NODE_NAME_MAX);
}

static struct cluster_file_context scenario_context(struct scenario *sc)
{
    return (struct cluster_file_context){
        .membership_section = "cluster.membership",
        .tracker_section = "cluster.tracker",
        .app_name = sc->cluster.basename,
        .query = sc->dns.service,
        .query_source = " (or a dns.service)",
        .resolve = resolve_node_id,
        .all_hosts = every_node,
        .ctx = sc,
        .quorum_max = SC_MAX_NODES,
    };
}

/* Without topologies: the headless service if there is one, else every
 * declared node as a static list. */
static void default_topology(struct sc_load *ld, struct membership_config *m)
{
    struct membership_topology_config *t = &m->topologies[0];
    bool dns = ld->sc->dns.service[0] != '\0';
    membership_topology_defaults(t, dns ? MEM_K8S_DNS : MEM_STATIC);
    snprintf(t->app_name, sizeof t->app_name, "%s", ld->sc->cluster.basename);
    snprintf(t->query, sizeof t->query, "%s", ld->sc->dns.service);
    if (!dns)
        every_node(ld->sc, t);
    m->topology_count = 1;
}

bool ld_tracker(struct sc_load *ld, const yaml_node_t *n)
{
    struct cluster_file_context cx = scenario_context(ld->sc);
    return cf_tracker(&ld->rd, n, &ld->sc->cluster.cluster, &cx);
}

/* Nodes with their own secret get their own copy of the configuration. */
static bool per_node_overrides(struct sc_load *ld)
{
    struct sc_cluster *cl = &ld->sc->cluster;
    bool any = false;
    for (size_t i = 0; i < cl->node_count; i++)
        any |= cl->nodes[i].has_secret;
    if (!any)
        return true;
    cl->node_cluster = calloc(cl->node_count, sizeof *cl->node_cluster);
    if (!cl->node_cluster)
        return false;
    for (size_t i = 0; i < cl->node_count; i++) {
        cl->node_cluster[i] = cl->cluster;
        if (cl->nodes[i].has_secret)
            snprintf(cl->node_cluster[i].mem.conn.secret, sizeof cl->node_cluster[i].mem.conn.secret,
                     "%s", cl->nodes[i].secret);
    }
    return true;
}

bool ld_membership(struct sc_load *ld, const yaml_node_t *n)
{
    struct membership_config *m = &ld->sc->cluster.cluster.mem;
    struct cluster_file_context cx = scenario_context(ld->sc);
    if (n && !cf_membership(&ld->rd, n, m, &cx))
        return false;
    if (m->topology_count == 0)
        default_topology(ld, m);
    return per_node_overrides(ld);
}
