/*
 * scenarios/load_cluster.c: the `cluster.membership` section of a scenario
 * with `protocol: cluster`: the mode (libcluster or fixed), the connection
 * layer's settings (secret, tick and set-up timeouts, white/blacklists), and
 * the topologies with their strategies.  Keys that do not belong to a
 * topology's strategy are errors.
 */
#include "load_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const strategy_names[] = {"static", "kubernetes_dns", "kubernetes_dns_srv",
                                             "dns_poll", "gossip", NULL};

/* Keys each strategy accepts besides name and strategy. */
static const char *const *strategy_keys(enum membership_strategy s)
{
    static const char *const stat[] = {"name", "strategy", "hosts", "polling_interval", NULL};
    static const char *const dns[] = {"name", "strategy", "query", "application_name",
                                      "polling_interval", NULL};
    static const char *const gossip[] = {"name", "strategy", "multicast", "port", "interval", NULL};
    return s == MEM_STATIC ? stat : s == MEM_GOSSIP ? gossip : dns;
}

static bool ld_hosts(struct sc_load *ld, const yaml_node_t *n, struct membership_topology_config *t)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        ld_error(ld, n, "expected a list of node ids or node names in hosts");
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *h = ld_node(ld, *it);
        const char *text = ld_scalar(ld, h, "a node id or name");
        if (!text)
            return false;
        if (t->host_count == MEM_MAX_STATIC) {
            ld_error(ld, h, "expected at most %d hosts", MEM_MAX_STATIC);
            return false;
        }
        int idx = scenario_node_index(ld->sc, text);
        char *out = t->hosts[t->host_count++];
        if (idx >= 0) {
            scenario_node_name(ld->sc, (size_t)idx, &ld->sc->cluster.nodes[idx].addr, out,
                               CS_NODE_NAME_MAX);
        } else if (strchr(text, '@') && strlen(text) < CS_NODE_NAME_MAX) {
            strcpy(out, text);
        } else {
            ld_error(ld, h, "'%s' is neither a declared node id nor a name like app@10.0.0.1", text);
            return false;
        }
    }
    return true;
}

static bool ld_gossip_interval(struct sc_load *ld, const yaml_node_t *n, struct membership_topology_config *t)
{
    static const char *const keys[] = {"min", "max", NULL};
    if (!ld_check_map(ld, n, "interval", keys))
        return false;
    yaml_node_t *v;
    if ((v = ld_get(ld, n, "min")) && !ld_duration(ld, v, false, &t->gossip_min))
        return false;
    if ((v = ld_get(ld, n, "max")) && !ld_duration(ld, v, false, &t->gossip_max))
        return false;
    if (t->gossip_min == 0 || t->gossip_max < t->gossip_min) {
        ld_error(ld, n, "expected 0 < min <= max in a gossip interval");
        return false;
    }
    return true;
}

static bool ld_topology_settings(struct sc_load *ld, const yaml_node_t *n, struct membership_topology_config *t)
{
    yaml_node_t *v;
    if ((v = ld_get(ld, n, "name")) && !ld_token(ld, v, "a topology name", t->name, sizeof t->name))
        return false;
    if ((v = ld_get(ld, n, "query")) && !ld_string(ld, v, t->query, sizeof t->query))
        return false;
    if ((v = ld_get(ld, n, "application_name")) && !ld_string(ld, v, t->app_name, sizeof t->app_name))
        return false;
    if ((v = ld_get(ld, n, "polling_interval"))) {
        if (!ld_duration(ld, v, false, &t->polling_interval))
            return false;
        if (t->polling_interval == 0 && t->strategy != MEM_STATIC) {
            ld_error(ld, v, "expected a positive polling interval");
            return false;
        }
    }
    if ((v = ld_get(ld, n, "hosts")) && !ld_hosts(ld, v, t))
        return false;
    if ((v = ld_get(ld, n, "multicast"))) {
        if (!ld_address(ld, v, &t->multicast))
            return false;
        if (!cs_addr_is_multicast(&t->multicast) || t->multicast.family != 4) {
            ld_error(ld, v, "expected an IPv4 multicast group (224.0.0.0/4)");
            return false;
        }
    }
    uint64_t port;
    if ((v = ld_get(ld, n, "port"))) {
        if (!ld_uint(ld, v, 65535, &port))
            return false;
        t->gossip_port = (uint16_t)port;
    }
    if ((v = ld_get(ld, n, "interval")) && !ld_gossip_interval(ld, v, t))
        return false;
    return true;
}

static bool ld_topology(struct sc_load *ld, const yaml_node_t *n, struct membership_topology_config *t)
{
    if (n->type != YAML_MAPPING_NODE) {
        ld_error(ld, n, "expected a topology (a mapping with a strategy)");
        return false;
    }
    yaml_node_t *sv = ld_get(ld, n, "strategy");
    if (!sv) {
        ld_error(ld, n, "expected 'strategy' in a topology");
        return false;
    }
    int strategy = ld_enum(ld, sv, "a strategy", strategy_names);
    if (strategy < 0)
        return false;
    membership_topology_defaults(t, (enum membership_strategy)strategy);
    snprintf(t->app_name, sizeof t->app_name, "%s", ld->sc->cluster.basename);
    snprintf(t->query, sizeof t->query, "%s", ld->sc->dns.service);
    char section[64];
    snprintf(section, sizeof section, "a %s topology", strategy_names[strategy]);
    if (!ld_check_map(ld, n, section, strategy_keys(t->strategy)))
        return false;
    if (!ld_topology_settings(ld, n, t))
        return false;
    if (t->strategy != MEM_STATIC && t->strategy != MEM_GOSSIP && !t->query[0]) {
        ld_error(ld, n, "expected 'query' (or a dns.service) for a %s topology", strategy_names[strategy]);
        return false;
    }
    if (t->strategy == MEM_STATIC && t->host_count == 0) {
        for (size_t i = 0; i < ld->sc->cluster.node_count && i < MEM_MAX_STATIC; i++)
            scenario_node_name(ld->sc, i, &ld->sc->cluster.nodes[i].addr, t->hosts[t->host_count++],
                               CS_NODE_NAME_MAX);
    }
    return true;
}

static bool ld_patterns(struct sc_load *ld, const yaml_node_t *n, char (*out)[CONN_PATTERN_MAX],
                        size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        ld_error(ld, n, "expected a list of regular expressions");
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *p = ld_node(ld, *it);
        if (*count == CONN_MAX_PATTERNS) {
            ld_error(ld, p, "expected at most %d patterns", CONN_MAX_PATTERNS);
            return false;
        }
        if (!ld_string(ld, p, out[*count], CONN_PATTERN_MAX))
            return false;
        struct conn_config probe;
        conn_config_defaults(&probe);
        memcpy(probe.whitelist[0], out[*count], CONN_PATTERN_MAX);
        probe.whitelist_count = 1;
        size_t bad;
        int rc = conn_config_check(&probe, &bad);
        if (rc == -2) {
            ld_error(ld, p, "expected a pattern that expands to at most %d atoms when compiled (nested "
                     "repetition counts multiply), found '%s'", CONN_PATTERN_COST_MAX, out[*count]);
            return false;
        }
        if (rc != 0) {
            ld_error(ld, p, "expected a POSIX extended regular expression, found '%s'", out[*count]);
            return false;
        }
        (*count)++;
    }
    return true;
}

static bool ld_conn_settings(struct sc_load *ld, const yaml_node_t *n, struct membership_config *m)
{
    yaml_node_t *v;
    if ((v = ld_get(ld, n, "secret")) && !ld_string(ld, v, m->conn.secret, sizeof m->conn.secret))
        return false;
    if ((v = ld_get(ld, n, "tick_timeout"))) {
        if (!ld_duration(ld, v, false, &m->conn.tick_timeout))
            return false;
        if (m->conn.tick_timeout < CS_MSEC(4)) {
            ld_error(ld, v, "expected a tick timeout of at least 4ms");
            return false;
        }
    }
    if ((v = ld_get(ld, n, "setup_timeout"))) {
        if (!ld_duration(ld, v, false, &m->conn.setup_timeout))
            return false;
        if (m->conn.setup_timeout == 0) {
            ld_error(ld, v, "expected a positive set-up timeout");
            return false;
        }
    }
    if ((v = ld_get(ld, n, "whitelist")) &&
        !ld_patterns(ld, v, m->conn.whitelist, &m->conn.whitelist_count))
        return false;
    if ((v = ld_get(ld, n, "blacklist")) &&
        !ld_patterns(ld, v, m->conn.blacklist, &m->conn.blacklist_count))
        return false;
    uint64_t rounds;
    if ((v = ld_get(ld, n, "absent_rounds"))) {
        if (!ld_uint(ld, v, 1000, &rounds))
            return false;
        if (rounds == 0) {
            ld_error(ld, v, "expected at least 1 absent round");
            return false;
        }
        m->absent_rounds = (uint32_t)rounds;
    }
    return true;
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
    for (size_t i = 0; !dns && i < ld->sc->cluster.node_count && i < MEM_MAX_STATIC; i++)
        scenario_node_name(ld->sc, i, &ld->sc->cluster.nodes[i].addr, t->hosts[t->host_count++],
                           CS_NODE_NAME_MAX);
    m->topology_count = 1;
}

static bool ld_topologies(struct sc_load *ld, const yaml_node_t *n, struct membership_config *m)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        ld_error(ld, n, "expected a list of topologies");
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > MEM_MAX_TOPOLOGIES) {
        ld_error(ld, n, "expected between 1 and %d topologies", MEM_MAX_TOPOLOGIES);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (!ld_topology(ld, ld_node(ld, n->data.sequence.items.start[i]), &m->topologies[i]))
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->topologies[i].name, m->topologies[j].name)) {
                ld_error(ld, ld_node(ld, n->data.sequence.items.start[i]),
                         "topology name '%s' is used twice", m->topologies[i].name);
                return false;
            }
        m->topology_count = i + 1;
    }
    return true;
}

bool ld_tracker(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"mode", "sync_nodes_timeout", "anti_entropy_interval",
                                       "retry_interval", "retry_max", "start_delay", "start_jitter",
                                       "static_quorum", "sync_timeout", "batch_window", NULL};
    static const char *const modes[] = {"fixed", "swarm", NULL};
    struct cluster_config *cc = &ld->sc->cluster.cluster;
    cc->tracker = true;
    if (!n || (n->type == YAML_SCALAR_NODE && !strcmp((char *)n->data.scalar.value, "on")))
        return true;
    if (!ld_check_map(ld, n, "cluster.tracker", keys))
        return false;
    struct trk_config *t = &cc->trk;
    yaml_node_t *v;
    if ((v = ld_get(ld, n, "mode"))) {
        int m = ld_enum(ld, v, "a tracker mode", modes);
        if (m < 0)
            return false;
        t->mode = (enum trk_mode)m;
    }
    struct { const char *key; cs_time *dst; bool positive; } durs[] = {
        {"sync_nodes_timeout", &t->sync_nodes_timeout, false},
        {"anti_entropy_interval", &t->anti_entropy_interval, false},
        {"retry_interval", &t->retry_interval, true},
        {"start_delay", &t->start_delay, false},
        {"start_jitter", &t->start_jitter, false},
        {"sync_timeout", &t->sync_timeout, true},
        {"batch_window", &t->batch_window, false},
    };
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        if (!(v = ld_get(ld, n, durs[i].key)))
            continue;
        if (!ld_duration(ld, v, false, durs[i].dst))
            return false;
        if (durs[i].positive && *durs[i].dst == 0) {
            ld_error(ld, v, "expected a positive %s", durs[i].key);
            return false;
        }
    }
    uint64_t u;
    if ((v = ld_get(ld, n, "retry_max"))) {
        if (!ld_uint(ld, v, 255, &u))
            return false;
        t->retry_max = (uint32_t)u;
    }
    if ((v = ld_get(ld, n, "static_quorum"))) {
        if (!ld_uint(ld, v, SC_MAX_NODES, &u))
            return false;
        t->static_quorum = (uint32_t)u;
    }
    return true;
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
    static const char *const keys[] = {"mode", "secret", "tick_timeout", "setup_timeout",
                                       "absent_rounds", "whitelist", "blacklist", "topologies", NULL};
    static const char *const modes[] = {"fixed", "libcluster", NULL};
    struct membership_config *m = &ld->sc->cluster.cluster.mem;
    if (n) {
        if (!ld_check_map(ld, n, "cluster.membership", keys))
            return false;
        yaml_node_t *v;
        if ((v = ld_get(ld, n, "mode"))) {
            int mode = ld_enum(ld, v, "a membership mode", modes);
            if (mode < 0)
                return false;
            m->mode = (enum membership_mode)mode;
        }
        if (!ld_conn_settings(ld, n, m))
            return false;
        if ((v = ld_get(ld, n, "topologies")) && !ld_topologies(ld, v, m))
            return false;
    }
    if (m->topology_count == 0)
        default_topology(ld, m);
    return per_node_overrides(ld);
}
