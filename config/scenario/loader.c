/*
 * config/scenario/loader.c: the scenario loader on libyaml's document API: the
 * top level, the cluster (nodes and protocol settings), the network and DNS
 * models and the run limits.  The timeline and expectations are in
 * load_timeline.c.  The schema is documented in scenarios/README.md.
 */
#include "loader.h"

#include "load_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ld_node_spec(struct sc_load *ld, const yaml_node_t *n, struct sc_node *out)
{
    static const char *const keys[] = {"id", "address", "clock", "secret", NULL};
    if (n->type == YAML_SCALAR_NODE)
        return yr_token(&ld->rd, n, "a node id", out->id, sizeof out->id);
    if (!yr_check_map(&ld->rd, n, "a node", keys))
        return false;
    yaml_node_t *v = yr_get(&ld->rd, n, "id");
    if (!v) {
        yr_error(&ld->rd, n, "expected 'id' in a node");
        return false;
    }
    if (!yr_token(&ld->rd, v, "a node id", out->id, sizeof out->id))
        return false;
    if ((v = yr_get(&ld->rd, n, "address")) && !yr_address(&ld->rd, v, &out->addr))
        return false;
    if ((v = yr_get(&ld->rd, n, "secret"))) {
        if (!yr_string(&ld->rd, v, out->secret, sizeof out->secret))
            return false;
        out->has_secret = true;
    }
    if ((v = yr_get(&ld->rd, n, "clock"))) {
        static const char *const ckeys[] = {"drift_ppm", "offset", NULL};
        if (!yr_check_map(&ld->rd, v, "clock", ckeys))
            return false;
        yaml_node_t *c;
        if ((c = yr_get(&ld->rd, v, "drift_ppm"))) {
            if (!ld_ppm(ld, c, "drift_ppm", &out->drift_ppm))
                return false;
        }
        if ((c = yr_get(&ld->rd, v, "offset")) && !yr_duration(&ld->rd, c, true, &out->clock_offset))
            return false;
    }
    return true;
}

static bool ld_nodes(struct sc_load *ld, const yaml_node_t *n)
{
    struct sc_cluster *cl = &ld->sc->cluster;
    if (n->type == YAML_SCALAR_NODE) {
        uint64_t count;
        if (!yr_uint(&ld->rd, n, SC_MAX_NODES, &count))
            return false;
        if (count == 0) {
            yr_error(&ld->rd, n, "expected at least one node");
            return false;
        }
        cl->nodes = calloc(count, sizeof *cl->nodes);
        if (!cl->nodes)
            return false;
        cl->node_count = count;
        for (size_t i = 0; i < count; i++) {
            snprintf(cl->nodes[i].id, sizeof cl->nodes[i].id, "n%zu", i + 1);
            cl->nodes[i].pos = ld_pos(n);
        }
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(&ld->rd, n, "expected a node count or a list of nodes");
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > SC_MAX_NODES) {
        yr_error(&ld->rd, n, "expected between 1 and %d nodes", SC_MAX_NODES);
        return false;
    }
    cl->nodes = calloc(count, sizeof *cl->nodes);
    if (!cl->nodes)
        return false;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yr_node(&ld->rd, n->data.sequence.items.start[i]);
        if (!ld_node_spec(ld, item, &cl->nodes[i]))
            return false;
        cl->nodes[i].pos = ld_pos(item);
        cl->node_count = i + 1;
        if (strcmp(cl->nodes[i].id, "all") == 0) {
            yr_error(&ld->rd, item, "'all' is reserved for the set of every node; pick another id");
            return false;
        }
        if (scenario_node_index(ld->sc, cl->nodes[i].id) != (int)i) {
            yr_error(&ld->rd, item, "node id '%s' is declared twice", cl->nodes[i].id);
            return false;
        }
    }
    return true;
}

static bool ld_ping(struct sc_load *ld, const yaml_node_t *n, yaml_node_t **peers_out)
{
    static const char *const keys[] = {"discovery", "dns_name", "peers", "poll_interval",
                                       "ping_interval", "peer_timeout", "datagrams", NULL};
    struct ping_config *p = &ld->sc->cluster.ping;
    if (!yr_check_map(&ld->rd, n, "cluster.ping", keys))
        return false;
    static const char *const modes[] = {"static", "dns", NULL};
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, n, "discovery"))) {
        int m = yr_enum(&ld->rd, v, "a discovery mode", modes);
        if (m < 0)
            return false;
        p->discovery = (enum ping_discovery)m;
    }
    if ((v = yr_get(&ld->rd, n, "dns_name")) && !yr_token(&ld->rd, v, "a DNS name", p->dns_name, sizeof p->dns_name))
        return false;
    if (p->discovery == PING_DISCOVER_DNS && !p->dns_name[0] && !ld->sc->dns.service[0]) {
        yr_error(&ld->rd, n, "expected 'dns_name' (or a dns.service) with dns discovery");
        return false;
    }
    struct { const char *key; cs_time *dst; } durs[] = {
        {"poll_interval", &p->poll_interval}, {"ping_interval", &p->ping_interval},
        {"peer_timeout", &p->peer_timeout},
    };
    for (size_t i = 0; i < 3; i++) {
        if ((v = yr_get(&ld->rd, n, durs[i].key))) {
            if (!yr_duration(&ld->rd, v, false, durs[i].dst))
                return false;
            if (*durs[i].dst == 0 && i < 2) {
                yr_error(&ld->rd, v, "expected a positive interval");
                return false;
            }
        }
    }
    if ((v = yr_get(&ld->rd, n, "datagrams")) && !yr_bool(&ld->rd, v, &p->datagrams))
        return false;
    *peers_out = yr_get(&ld->rd, n, "peers");
    return true;
}

/* Static peers: an explicit address list, or every node's first address. */
static bool ld_ping_peers(struct sc_load *ld, const yaml_node_t *peers)
{
    struct sc_cluster *cl = &ld->sc->cluster;
    if (peers && peers->type != YAML_SEQUENCE_NODE) {
        yr_error(&ld->rd, peers, "expected a list of addresses");
        return false;
    }
    size_t count = peers ? (size_t)(peers->data.sequence.items.top - peers->data.sequence.items.start)
                         : cl->node_count;
    cl->ping_static = calloc(count ? count : 1, sizeof *cl->ping_static);
    if (!cl->ping_static)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (peers) {
            if (!yr_address(&ld->rd, yr_node(&ld->rd, peers->data.sequence.items.start[i]), &cl->ping_static[i]))
                return false;
        } else {
            cl->ping_static[i] = cl->nodes[i].addr;
        }
    }
    cl->ping.static_peers = cl->ping_static;
    cl->ping.static_count = count;
    return true;
}

static bool ld_cluster(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"basename", "nodes", "address_pool", "protocol", "ping",
                                       "naming", "membership", "tracker", NULL};
    struct sc_cluster *cl = &ld->sc->cluster;
    if (!yr_check_map(&ld->rd, n, "cluster", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, n, "basename"))) {
        if (!yr_token(&ld->rd, v, "a basename", cl->basename, sizeof cl->basename))
            return false;
        if (!cl->basename[0] || strchr(cl->basename, '@')) {
            yr_error(&ld->rd, v, "expected a basename without '@'");
            return false;
        }
    }
    if ((v = yr_get(&ld->rd, n, "address_pool")) && !yr_address(&ld->rd, v, &cl->pool))
        return false;
    if (!(v = yr_get(&ld->rd, n, "nodes"))) {
        yr_error(&ld->rd, n, "expected 'nodes' (a count or a list) in cluster");
        return false;
    }
    if (!ld_nodes(ld, v))
        return false;
    if (scenario_assign_addresses(ld->sc) != 0) {
        yr_error(&ld->rd, v, "two nodes share an address, or the address pool is exhausted");
        return false;
    }
    static const char *const protocols[] = {"ping", "cluster", NULL};
    if ((v = yr_get(&ld->rd, n, "protocol"))) {
        int p = yr_enum(&ld->rd, v, "a protocol", protocols);
        if (p < 0)
            return false;
        cl->protocol = (enum sc_protocol)p;
    }
    static const char *const namings[] = {"ip", "hostname", NULL};
    if ((v = yr_get(&ld->rd, n, "naming"))) {
        int k = yr_enum(&ld->rd, v, "a naming scheme", namings);
        if (k < 0)
            return false;
        cl->naming = (enum sc_naming)k;
        if (cl->naming == SC_NAMING_HOSTNAME && !ld->sc->dns.service[0]) {
            yr_error(&ld->rd, v, "naming: hostname needs a dns.service (hosts are <id>.<service>)");
            return false;
        }
    }
    if ((v = yr_get(&ld->rd, n, "membership"))) {
        if (cl->protocol != SC_PROTO_CLUSTER) {
            yr_error(&ld->rd, v, "'membership' needs 'protocol: cluster'");
            return false;
        }
        if (!ld_membership(ld, v))
            return false;
    } else if (cl->protocol == SC_PROTO_CLUSTER && !ld_membership(ld, NULL)) {
        return false;
    }
    if ((v = yr_get(&ld->rd, n, "tracker"))) {
        if (cl->protocol != SC_PROTO_CLUSTER) {
            yr_error(&ld->rd, v, "'tracker' needs 'protocol: cluster'");
            return false;
        }
        if (!ld_tracker(ld, v))
            return false;
        /* per-node copies were made by ld_membership: refresh them */
        for (size_t i = 0; cl->node_cluster && i < cl->node_count; i++) {
            cl->node_cluster[i].tracker = cl->cluster.tracker;
            cl->node_cluster[i].trk = cl->cluster.trk;
        }
    }
    yaml_node_t *peers = NULL;
    if ((v = yr_get(&ld->rd, n, "ping")) && !ld_ping(ld, v, &peers))
        return false;
    if (cl->ping.discovery == PING_DISCOVER_DNS && !cl->ping.dns_name[0])
        snprintf(cl->ping.dns_name, sizeof cl->ping.dns_name, "%s", ld->sc->dns.service);
    return ld_ping_peers(ld, peers);
}

static bool ld_datagrams(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"latency", "loss", "duplicate", "reorder", "reorder_delay", NULL};
    struct sc_network *net = &ld->sc->net;
    if (!yr_check_map(&ld->rd, n, "network.datagrams", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, n, "latency")) && !ld_dist(ld, v, &net->dgram_latency))
        return false;
    if ((v = yr_get(&ld->rd, n, "loss")) && !ld_probability(ld, v, &net->dgram_loss))
        return false;
    if ((v = yr_get(&ld->rd, n, "duplicate")) && !ld_probability(ld, v, &net->dgram_duplicate))
        return false;
    if ((v = yr_get(&ld->rd, n, "reorder")) && !ld_probability(ld, v, &net->dgram_reorder))
        return false;
    if ((v = yr_get(&ld->rd, n, "reorder_delay")) && !ld_dist(ld, v, &net->reorder_delay))
        return false;
    return true;
}

static bool ld_network(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"latency", "connect_time", "break_detect", "crash_detect",
                                       "connect_timeout", "datagrams", NULL};
    struct sc_network *net = &ld->sc->net;
    if (!yr_check_map(&ld->rd, n, "network", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, n, "latency")) && !ld_dist(ld, v, &net->latency))
        return false;
    if ((v = yr_get(&ld->rd, n, "connect_time")) && !ld_dist(ld, v, &net->connect_time))
        return false;
    if ((v = yr_get(&ld->rd, n, "break_detect")) && !yr_duration(&ld->rd, v, false, &net->break_detect))
        return false;
    if ((v = yr_get(&ld->rd, n, "crash_detect")) && !yr_duration(&ld->rd, v, false, &net->crash_detect))
        return false;
    if ((v = yr_get(&ld->rd, n, "connect_timeout")) && !yr_duration(&ld->rd, v, false, &net->connect_timeout))
        return false;
    if ((v = yr_get(&ld->rd, n, "datagrams")) && !ld_datagrams(ld, v))
        return false;
    return true;
}

/* A TTL: a duration, kept in whole seconds (DNS TTLs are 32-bit seconds). */
static bool ld_ttl(struct sc_load *ld, const yaml_node_t *n, uint32_t *out)
{
    cs_time ttl;
    if (!yr_duration(&ld->rd, n, false, &ttl))
        return false;
    if (ttl / CS_SEC(1) > (cs_time)UINT32_MAX) {
        yr_error(&ld->rd, n, "expected a TTL of at most 4294967295s, found '%s'",
                 (const char *)n->data.scalar.value);
        return false;
    }
    *out = (uint32_t)(ttl / CS_SEC(1));
    return true;
}

/* A DNS record: {name, type, address | target+port, ttl}. */
bool ld_dns_record(struct sc_load *ld, const yaml_node_t *n, struct sc_dns_entry *out)
{
    static const char *const keys[] = {"name", "type", "address", "target", "port",
                                       "priority", "weight", "ttl", NULL};
    static const char *const types[] = {"A", "AAAA", "SRV", NULL};
    if (!yr_check_map(&ld->rd, n, "a DNS record", keys))
        return false;
    memset(out, 0, sizeof *out);
    yaml_node_t *v = yr_get(&ld->rd, n, "name");
    if (!v) {
        yr_error(&ld->rd, n, "expected 'name' in a DNS record");
        return false;
    }
    if (!yr_token(&ld->rd, v, "a DNS name", out->name, sizeof out->name))
        return false;
    int t = 0;
    if ((v = yr_get(&ld->rd, n, "type")) && (t = yr_enum(&ld->rd, v, "a record type", types)) < 0)
        return false;
    static const enum cs_dns_type codes[] = {CS_DNS_A, CS_DNS_AAAA, CS_DNS_SRV};
    out->rec.type = codes[t];
    uint64_t u;
    if ((v = yr_get(&ld->rd, n, "ttl"))) {
        if (!ld_ttl(ld, v, &out->rec.ttl_s))
            return false;
    } else {
        out->rec.ttl_s = ld->sc->dns.ttl_s;
    }
    if (out->rec.type == CS_DNS_SRV) {
        if (!(v = yr_get(&ld->rd, n, "target"))) {
            yr_error(&ld->rd, n, "expected 'target' in an SRV record");
            return false;
        }
        if (!yr_token(&ld->rd, v, "a DNS name", out->rec.target, sizeof out->rec.target))
            return false;
        struct { const char *key; uint16_t *dst; } nums[] = {
            {"port", &out->rec.port}, {"priority", &out->rec.priority}, {"weight", &out->rec.weight}};
        for (size_t i = 0; i < 3; i++) {
            if ((v = yr_get(&ld->rd, n, nums[i].key))) {
                if (!yr_uint(&ld->rd, v, 65535, &u))
                    return false;
                *nums[i].dst = (uint16_t)u;
            }
        }
        return true;
    }
    if (!(v = yr_get(&ld->rd, n, "address"))) {
        yr_error(&ld->rd, n, "expected 'address' in an %s record", types[t]);
        return false;
    }
    if (!yr_address(&ld->rd, v, &out->rec.addr))
        return false;
    if ((out->rec.type == CS_DNS_A) != (out->rec.addr.family == 4)) {
        yr_error(&ld->rd, v, "expected an %s address for a %s record", t == 0 ? "IPv4" : "IPv6", types[t]);
        return false;
    }
    return true;
}

static bool ld_service(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"name", "ready_delay", "removal_delay", "srv", "port", NULL};
    struct sc_dns *dns = &ld->sc->dns;
    if (n->type == YAML_SCALAR_NODE)
        return yr_string(&ld->rd, n, dns->service, sizeof dns->service);
    if (!yr_check_map(&ld->rd, n, "dns.service", keys))
        return false;
    yaml_node_t *v = yr_get(&ld->rd, n, "name");
    if (!v) {
        yr_error(&ld->rd, n, "expected 'name' in dns.service");
        return false;
    }
    if (!yr_token(&ld->rd, v, "a DNS name", dns->service, sizeof dns->service))
        return false;
    if ((v = yr_get(&ld->rd, n, "ready_delay")) && !ld_dist(ld, v, &dns->ready_delay))
        return false;
    if ((v = yr_get(&ld->rd, n, "removal_delay")) && !ld_dist(ld, v, &dns->removal_delay))
        return false;
    if ((v = yr_get(&ld->rd, n, "srv")) && !yr_bool(&ld->rd, v, &dns->service_srv))
        return false;
    uint64_t port;
    if ((v = yr_get(&ld->rd, n, "port"))) {
        if (!yr_uint(&ld->rd, v, 65535, &port))
            return false;
        dns->service_port = (uint16_t)port;
    }
    return true;
}

static bool ld_dns(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"latency", "propagation", "ttl", "max_answers", "timeout",
                                       "service", "zone", NULL};
    struct sc_dns *dns = &ld->sc->dns;
    if (!yr_check_map(&ld->rd, n, "dns", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, n, "latency")) && !ld_dist(ld, v, &dns->latency))
        return false;
    if ((v = yr_get(&ld->rd, n, "propagation")) && !ld_dist(ld, v, &dns->propagation))
        return false;
    if ((v = yr_get(&ld->rd, n, "ttl")) && !ld_ttl(ld, v, &dns->ttl_s))
        return false;
    uint64_t u;
    if ((v = yr_get(&ld->rd, n, "max_answers"))) {
        if (!yr_uint(&ld->rd, v, 100000, &u))
            return false;
        dns->max_answers = (size_t)u;
    }
    if ((v = yr_get(&ld->rd, n, "timeout")) && !yr_duration(&ld->rd, v, false, &dns->timeout))
        return false;
    if ((v = yr_get(&ld->rd, n, "service")) && !ld_service(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, n, "zone"))) {
        if (v->type != YAML_SEQUENCE_NODE) {
            yr_error(&ld->rd, v, "expected a list of DNS records in dns.zone");
            return false;
        }
        size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        dns->zone = calloc(count ? count : 1, sizeof *dns->zone);
        if (!dns->zone)
            return false;
        for (size_t i = 0; i < count; i++) {
            if (!ld_dns_record(ld, yr_node(&ld->rd, v->data.sequence.items.start[i]), &dns->zone[i]))
                return false;
            dns->zone_count = i + 1;
        }
    }
    return true;
}

/* limits.KEY, when present: a duration of at least `min`, else `what` is expected. */
static bool limit_duration(struct sc_load *ld, const yaml_node_t *n, const char *key, cs_time min, const char *what,
                           cs_time *out)
{
    yaml_node_t *v = yr_get(&ld->rd, n, key);
    if (!v)
        return true;
    if (!yr_duration(&ld->rd, v, false, out))
        return false;
    if (*out < min) {
        yr_error(&ld->rd, v, "expected %s", what);
        return false;
    }
    return true;
}

static bool ld_limits(struct sc_load *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"duration", "max_events", "wall", "check_interval",
                                       "stop_when_settled", NULL};
    struct sc_limits *lim = &ld->sc->limits;
    if (!yr_check_map(&ld->rd, n, "limits", keys))
        return false;
    yaml_node_t *v;
    if (!limit_duration(ld, n, "duration", 1, "a positive run duration", &lim->duration) ||
        !limit_duration(ld, n, "wall", 1, "a positive wall-clock budget (every run has one)", &lim->wall) ||
        !limit_duration(ld, n, "check_interval", LD_CHECK_INTERVAL_MIN, "a check interval of at least 1ms",
                        &lim->check_interval))
        return false;
    if ((v = yr_get(&ld->rd, n, "max_events"))) {
        if (!yr_uint(&ld->rd, v, UINT64_MAX, &lim->max_events))
            return false;
        if (lim->max_events == 0) {
            yr_error(&ld->rd, v, "expected a positive event budget (every run has one)");
            return false;
        }
    }
    if ((v = yr_get(&ld->rd, n, "stop_when_settled")) && !yr_bool(&ld->rd, v, &lim->stop_when_settled))
        return false;
    return true;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* `entropy: "0a1b..."`: recorded draws in lower-case hex (what the
 * coverage-guided fuzzer writes), at most 1 MiB of bytes. */
static bool ld_entropy(struct sc_load *ld, const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE) {
        yr_error(&ld->rd, v, "expected entropy as a string of hex digits");
        return false;
    }
    const char *hex = (const char *)v->data.scalar.value;
    size_t n = v->data.scalar.length;
    if (n % 2 || n > 2u << 20) {
        yr_error(&ld->rd, v, "expected an even number of hex digits (at most 2097152) in entropy");
        return false;
    }
    uint8_t *bytes = malloc(n / 2 + 1);
    if (!bytes)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            yr_error(&ld->rd, v, "expected lower-case hex digits in entropy, found '%c'", hi < 0 ? hex[i] : hex[i + 1]);
            return false;
        }
        bytes[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    free(ld->sc->entropy);
    ld->sc->entropy = bytes;
    ld->sc->entropy_len = n / 2;
    return true;
}

static bool ld_top(struct sc_load *ld, const yaml_node_t *root)
{
    static const char *const keys[] = {"name", "description", "seed", "entropy", "worlds", "cluster",
                                       "network", "dns", "timeline", "expect", "limits", NULL};
    struct scenario *sc = ld->sc;
    if (!yr_check_map(&ld->rd, root, "the scenario", keys))
        return false;
    yaml_node_t *v;
    if ((v = yr_get(&ld->rd, root, "name")) && !yr_token(&ld->rd, v, "a scenario name", sc->name, sizeof sc->name))
        return false;
    if ((v = yr_get(&ld->rd, root, "description")) &&
        !yr_string(&ld->rd, v, sc->description, sizeof sc->description))
        return false;
    if ((v = yr_get(&ld->rd, root, "seed")) && !yr_uint(&ld->rd, v, UINT64_MAX, &sc->seed))
        return false;
    if ((v = yr_get(&ld->rd, root, "entropy")) && !ld_entropy(ld, v))
        return false;
    /* Order matters: limits bound the timeline, DNS feeds the cluster's
     * defaults, the cluster declares the node ids the timeline names. */
    if ((v = yr_get(&ld->rd, root, "limits")) && !ld_limits(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, root, "network")) && !ld_network(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, root, "dns")) && !ld_dns(ld, v))
        return false;
    if (!(v = yr_get(&ld->rd, root, "cluster"))) {
        yr_error(&ld->rd, root, "expected a 'cluster' section");
        return false;
    }
    if (!ld_cluster(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, root, "timeline")) && !ld_timeline(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, root, "expect")) && !ld_expectations(ld, v))
        return false;
    if ((v = yr_get(&ld->rd, root, "worlds")) && !ld_worlds(ld, v))
        return false;
    return ld_check_worlds(ld);
}

static void default_name(struct scenario *sc, const char *file)
{
    if (sc->name[0])
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    snprintf(sc->name, sizeof sc->name, "%s", base);
    char *dot = strrchr(sc->name, '.');
    if (dot && dot != sc->name)
        *dot = '\0';
}

int scenario_load_string(const char *text, size_t len, const char *file, struct scenario *out,
                         char *err, size_t errlen)
{
    struct sc_load ld = {.sc = out};
    scenario_defaults(out);
    snprintf(out->path, sizeof out->path, "%s", file);
    yaml_node_t *root = yr_open(&ld.rd, text, len, file, "a scenario mapping", err, errlen);
    if (root) {
        ld_top(&ld, root);
        if (!ld.rd.failed && out->cluster.node_count == 0)
            yr_error(&ld.rd, root, "expected at least one node");
    }
    yr_close(&ld.rd);
    if (ld.rd.failed) {
        scenario_free(out);
        return -1;
    }
    default_name(out, file);
    return 0;
}

int scenario_load_file(const char *path, struct scenario *out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (yr_read_file(path, SCENARIO_FILE_MAX, "scenario file", &text, &len, err, errlen) != 0)
        return -1;
    int rc = scenario_load_string(text, len, path, out, err, errlen);
    free(text);
    return rc;
}
