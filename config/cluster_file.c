/*
 * config/cluster_file.c: the cluster configuration as a file states it:
 * the membership (mode, the connection layer's settings: secret, tick and
 * set-up timeouts, white/blacklists; the topologies with their strategies)
 * and the tracker.  Scenarios read their `cluster.membership` and
 * `cluster.tracker` sections with it, and clusterd its --config file.  Keys
 * that do not belong to a topology's strategy are errors.  No simulator
 * type enters: what only a scenario knows (node ids, the headless
 * service) comes in through struct cluster_file_context.
 */
#include "cluster_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const strategy_names[] = {"static", "kubernetes_dns", "kubernetes_dns_srv",
                                             "dns_poll", "gossip", NULL};

/* Keys each strategy accepts besides name and strategy. */
static const char *const *strategy_keys(enum membership_strategy s)
{
    static const char *const stat[] = {"name", "strategy", "hosts", "polling_interval", "start_delay", NULL};
    static const char *const dns[] = {"name", "strategy", "query", "application_name",
                                      "polling_interval", "start_delay", NULL};
    static const char *const gossip[] = {"name", "strategy", "multicast", "port", "interval", NULL};
    return s == MEM_STATIC ? stat : s == MEM_GOSSIP ? gossip : dns;
}

static bool cf_hosts(struct yaml_reader *rd, const yaml_node_t *n, struct membership_topology_config *t,
                     const struct cluster_file_context *cx)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(rd, n, "expected a list of %s in hosts", cx->resolve ? "node ids or node names" : "node names");
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *h = yr_node(rd, *it);
        const char *text = yr_scalar(rd, h, cx->resolve ? "a node id or name" : "a node name");
        if (!text)
            return false;
        if (t->host_count == MEM_MAX_STATIC) {
            yr_error(rd, h, "expected at most %d hosts", MEM_MAX_STATIC);
            return false;
        }
        char *out = t->hosts[t->host_count++];
        if (cx->resolve && cx->resolve(cx->ctx, text, out, CS_NODE_NAME_MAX))
            continue;
        if (strchr(text, '@') && strlen(text) < CS_NODE_NAME_MAX) {
            strcpy(out, text);
        } else if (cx->resolve) {
            yr_error(rd, h, "'%s' is neither a declared node id nor a name like app@10.0.0.1", text);
            return false;
        } else {
            yr_error(rd, h, "expected a node name like app@10.0.0.1, found '%s'", text);
            return false;
        }
    }
    return true;
}

static bool cf_gossip_interval(struct yaml_reader *rd, const yaml_node_t *n, struct membership_topology_config *t)
{
    static const char *const keys[] = {"min", "max", NULL};
    if (!yr_check_map(rd, n, "interval", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(rd, n, "min")) && !yr_duration(rd, v, false, &t->gossip_min))
        return false;
    if ((v = yr_get(rd, n, "max")) && !yr_duration(rd, v, false, &t->gossip_max))
        return false;
    if (t->gossip_min == 0 || t->gossip_max < t->gossip_min) {
        yr_error(rd, n, "expected 0 < min <= max in a gossip interval");
        return false;
    }
    return true;
}

static bool cf_topology_settings(struct yaml_reader *rd, const yaml_node_t *n, struct membership_topology_config *t,
                                 const struct cluster_file_context *cx)
{
    yaml_node_t *v;
    if ((v = yr_get(rd, n, "name")) && !yr_token(rd, v, "a topology name", t->name, sizeof t->name))
        return false;
    if ((v = yr_get(rd, n, "query")) && !yr_string(rd, v, t->query, sizeof t->query))
        return false;
    if ((v = yr_get(rd, n, "application_name")) && !yr_string(rd, v, t->app_name, sizeof t->app_name))
        return false;
    if ((v = yr_get(rd, n, "polling_interval"))) {
        if (!yr_duration(rd, v, false, &t->polling_interval))
            return false;
        if (t->polling_interval == 0 && t->strategy != MEM_STATIC) {
            yr_error(rd, v, "expected a positive polling interval");
            return false;
        }
    }
    if ((v = yr_get(rd, n, "start_delay")) && !yr_duration(rd, v, false, &t->start_delay))
        return false;
    if ((v = yr_get(rd, n, "hosts")) && !cf_hosts(rd, v, t, cx))
        return false;
    if ((v = yr_get(rd, n, "multicast"))) {
        if (!yr_address(rd, v, &t->multicast))
            return false;
        if (!cs_addr_is_multicast(&t->multicast) || t->multicast.family != 4) {
            yr_error(rd, v, "expected an IPv4 multicast group (224.0.0.0/4)");
            return false;
        }
    }
    uint64_t port;
    if ((v = yr_get(rd, n, "port"))) {
        if (!yr_uint(rd, v, 65535, &port))
            return false;
        t->gossip_port = (uint16_t)port;
    }
    if ((v = yr_get(rd, n, "interval")) && !cf_gossip_interval(rd, v, t))
        return false;
    return true;
}

static bool cf_topology(struct yaml_reader *rd, const yaml_node_t *n, struct membership_topology_config *t,
                        const struct cluster_file_context *cx)
{
    if (n->type != YAML_MAPPING_NODE) {
        yr_error(rd, n, "expected a topology (a mapping with a strategy)");
        return false;
    }
    yaml_node_t *sv = yr_get(rd, n, "strategy");
    if (!sv) {
        yr_error(rd, n, "expected 'strategy' in a topology");
        return false;
    }
    int strategy = yr_enum(rd, sv, "a strategy", strategy_names);
    if (strategy < 0)
        return false;
    membership_topology_defaults(t, (enum membership_strategy)strategy);
    snprintf(t->app_name, sizeof t->app_name, "%s", cx->app_name ? cx->app_name : "");
    snprintf(t->query, sizeof t->query, "%s", cx->query ? cx->query : "");
    char section[64];
    snprintf(section, sizeof section, "a %s topology", strategy_names[strategy]);
    if (!yr_check_map(rd, n, section, strategy_keys(t->strategy)))
        return false;
    if (!cf_topology_settings(rd, n, t, cx))
        return false;
    if (t->strategy != MEM_STATIC && t->strategy != MEM_GOSSIP && !t->query[0]) {
        yr_error(rd, n, "expected 'query'%s for a %s topology", cx->query_source ? cx->query_source : "",
                 strategy_names[strategy]);
        return false;
    }
    if (t->strategy == MEM_STATIC && t->host_count == 0) {
        if (!cx->all_hosts) {
            yr_error(rd, n, "expected 'hosts' (node names) for a static topology");
            return false;
        }
        cx->all_hosts(cx->ctx, t);
    }
    return true;
}

static bool cf_patterns(struct yaml_reader *rd, const yaml_node_t *n, char (*out)[CONN_PATTERN_MAX],
                        size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(rd, n, "expected a list of regular expressions");
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *p = yr_node(rd, *it);
        if (*count == CONN_MAX_PATTERNS) {
            yr_error(rd, p, "expected at most %d patterns", CONN_MAX_PATTERNS);
            return false;
        }
        if (!yr_string(rd, p, out[*count], CONN_PATTERN_MAX))
            return false;
        struct conn_config probe;
        conn_config_defaults(&probe);
        memcpy(probe.whitelist[0], out[*count], CONN_PATTERN_MAX);
        probe.whitelist_count = 1;
        size_t bad;
        int rc = conn_config_check(&probe, &bad);
        if (rc == -2) {
            yr_error(rd, p, "expected a pattern that expands to at most %d atoms when compiled (nested "
                     "repetition counts multiply), found '%s'", CONN_PATTERN_COST_MAX, out[*count]);
            return false;
        }
        if (rc != 0) {
            yr_error(rd, p, "expected a POSIX extended regular expression, found '%s'", out[*count]);
            return false;
        }
        (*count)++;
    }
    return true;
}

static bool cf_conn_settings(struct yaml_reader *rd, const yaml_node_t *n, struct membership_config *m)
{
    yaml_node_t *v;
    if ((v = yr_get(rd, n, "secret")) && !yr_string(rd, v, m->conn.secret, sizeof m->conn.secret))
        return false;
    if ((v = yr_get(rd, n, "tick_timeout"))) {
        if (!yr_duration(rd, v, false, &m->conn.tick_timeout))
            return false;
        if (m->conn.tick_timeout < CS_MSEC(4)) {
            yr_error(rd, v, "expected a tick timeout of at least 4ms");
            return false;
        }
    }
    if ((v = yr_get(rd, n, "setup_timeout"))) {
        if (!yr_duration(rd, v, false, &m->conn.setup_timeout))
            return false;
        if (m->conn.setup_timeout == 0) {
            yr_error(rd, v, "expected a positive set-up timeout");
            return false;
        }
    }
    if ((v = yr_get(rd, n, "whitelist")) &&
        !cf_patterns(rd, v, m->conn.whitelist, &m->conn.whitelist_count))
        return false;
    if ((v = yr_get(rd, n, "blacklist")) &&
        !cf_patterns(rd, v, m->conn.blacklist, &m->conn.blacklist_count))
        return false;
    uint64_t rounds;
    if ((v = yr_get(rd, n, "absent_rounds"))) {
        if (!yr_uint(rd, v, 1000, &rounds))
            return false;
        if (rounds == 0) {
            yr_error(rd, v, "expected at least 1 absent round");
            return false;
        }
        m->absent_rounds = (uint32_t)rounds;
    }
    return true;
}

static bool cf_topologies(struct yaml_reader *rd, const yaml_node_t *n, struct membership_config *m,
                          const struct cluster_file_context *cx)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(rd, n, "expected a list of topologies");
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > MEM_MAX_TOPOLOGIES) {
        yr_error(rd, n, "expected between 1 and %d topologies", MEM_MAX_TOPOLOGIES);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (!cf_topology(rd, yr_node(rd, n->data.sequence.items.start[i]), &m->topologies[i], cx))
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->topologies[i].name, m->topologies[j].name)) {
                yr_error(rd, yr_node(rd, n->data.sequence.items.start[i]),
                         "topology name '%s' is used twice", m->topologies[i].name);
                return false;
            }
        m->topology_count = i + 1;
    }
    return true;
}

bool cf_tracker(struct yaml_reader *rd, const yaml_node_t *n, struct cluster_config *cc,
                const struct cluster_file_context *cx)
{
    static const char *const keys[] = {"mode", "sync_nodes_timeout", "anti_entropy_interval",
                                       "retry_interval", "retry_max", "start_delay", "start_jitter",
                                       "static_quorum", "sync_timeout", "batch_window", "placement_settle", "pull_timeout", NULL};
    static const char *const modes[] = {"fixed", "swarm", NULL};
    cc->tracker = true;
    if (!n || (n->type == YAML_SCALAR_NODE && !strcmp((char *)n->data.scalar.value, "on")))
        return true;
    if (n->type == YAML_SCALAR_NODE && !strcmp((char *)n->data.scalar.value, "off")) {
        cc->tracker = false;
        return true;
    }
    if (!yr_check_map(rd, n, cx->tracker_section, keys))
        return false;
    struct trk_config *t = &cc->trk;
    yaml_node_t *v;
    if ((v = yr_get(rd, n, "mode"))) {
        int m = yr_enum(rd, v, "a tracker mode", modes);
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
        {"placement_settle", &t->placement_settle, false},
        {"pull_timeout", &t->pull_timeout, true},
    };
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        if (!(v = yr_get(rd, n, durs[i].key)))
            continue;
        if (!yr_duration(rd, v, false, durs[i].dst))
            return false;
        if (durs[i].positive && *durs[i].dst == 0) {
            yr_error(rd, v, "expected a positive %s", durs[i].key);
            return false;
        }
    }
    uint64_t u;
    if ((v = yr_get(rd, n, "retry_max"))) {
        if (!yr_uint(rd, v, 255, &u))
            return false;
        t->retry_max = (uint32_t)u;
    }
    if ((v = yr_get(rd, n, "static_quorum"))) {
        if (!yr_uint(rd, v, cx->quorum_max, &u))
            return false;
        t->static_quorum = (uint32_t)u;
    }
    return true;
}

bool cf_membership(struct yaml_reader *rd, const yaml_node_t *n, struct membership_config *m,
                   const struct cluster_file_context *cx)
{
    static const char *const keys[] = {"mode", "secret", "tick_timeout", "setup_timeout",
                                       "absent_rounds", "whitelist", "blacklist", "topologies", NULL};
    static const char *const modes[] = {"fixed", "libcluster", NULL};
    if (!yr_check_map(rd, n, cx->membership_section, keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(rd, n, "mode"))) {
        int mode = yr_enum(rd, v, "a membership mode", modes);
        if (mode < 0)
            return false;
        m->mode = (enum membership_mode)mode;
    }
    if (!cf_conn_settings(rd, n, m))
        return false;
    if ((v = yr_get(rd, n, "topologies")) && !cf_topologies(rd, v, m, cx))
        return false;
    return true;
}

/* ---- a clusterd configuration file ---- */

int cluster_file_load_string(const char *text, size_t len, const char *file, struct cluster_config *cfg, char *err,
                             size_t errlen)
{
    static const char *const keys[] = {"membership", "tracker", NULL};
    struct yaml_reader rd;
    yaml_node_t *root = yr_open(&rd, text, len, file, "a clusterd configuration (membership, tracker)", err, errlen);
    struct cluster_file_context cx = {.membership_section = "membership", .tracker_section = "tracker",
                                      .quorum_max = CLUSTER_FILE_QUORUM_MAX};
    yaml_node_t *v;
    if (root && yr_check_map(&rd, root, "a clusterd configuration", keys)) {
        if ((v = yr_get(&rd, root, "membership")))
            cf_membership(&rd, v, &cfg->mem, &cx);
        if (!rd.failed && (v = yr_get(&rd, root, "tracker")))
            cf_tracker(&rd, v, cfg, &cx);
    }
    yr_close(&rd);
    return rd.failed ? -1 : 0;
}

int cluster_file_load(const char *path, struct cluster_config *cfg, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (yr_read_file(path, CLUSTER_FILE_MAX, "configuration file", &text, &len, err, errlen) != 0)
        return -1;
    int rc = cluster_file_load_string(text, len, path, cfg, err, errlen);
    free(text);
    return rc;
}
