/*
 * daemon/clusterd.c: the node daemon: the production cluster core
 * (core/cluster.h: connection layer, membership, registry and tracker) on
 * real sockets (shims/posix).  Configured by flags and environment
 * variables for now:
 *
 *   clusterd --name app@10.0.0.7 [--config FILE] [--port 4369] [--secret S | --secret-file F]
 *            [--static app@10.0.0.8,app@10.0.0.9 | --dns-service NAME [--dns-poll 5s]
 *             | --gossip GROUP|default]
 *            [--nameserver IP:PORT] [--tracker fixed|swarm|off]
 *            [--grace 30s] [--log-level debug|info|warn|error] [--control PATH]
 *            [--http-port N] [--http-bind ADDR] (/livez, /healthz, /metrics, /state)
 *            [--sync-nodes-timeout 5s]
 *            [--tick-timeout 60s] [--setup-timeout 7s] [--plaintext]
 *            [--batch-window 10ms]  (fixed mode: replicate in batches)
 *
 * Links are encrypted (ChaCha20-Poly1305, keys from the secret and the
 * handshake's challenges) unless --plaintext is given.
 *
 * --config FILE reads the cluster configuration (membership with its
 * topologies and secret, tracker; deploy/clusterd.yaml is an example, the
 * schema is config/cluster_file.h's); flags override it.
 * CLUSTERD_NAME and CLUSTERD_SECRET stand in for --name and --secret (a
 * Kubernetes pod sets them from the downward API and a Secret).  SIGTERM
 * leaves gracefully: the tracker hands its processes off, the connection
 * layer announces the leave, then the daemon exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/addr.h"
#include "../core/cluster.h"
#include "../config/cluster_file.h"
#include "../shims/posix/px_node.h"
#include "control_path.h"
#include "http.h"

#include <sys/resource.h>

static int usage(const char *why)
{
    fprintf(stderr, "clusterd: %s\nusage: clusterd --name BASENAME@ADDRESS [--config FILE] [--port N] [--secret S | --secret-file F]\n"
                    "                [--static NAME,NAME... | --dns-service NAME [--dns-poll 5s] | --gossip GROUP|default]\n"
                    "                [--nameserver IP:PORT] [--dns-udp-only]\n"
                    "                [--tracker fixed|swarm|off] [--sync-nodes-timeout 5s] [--batch-window 10ms]\n"
                    "                [--tick-timeout 60s] [--setup-timeout 7s] [--grace 30s] [--plaintext]\n"
                    "                [--log-level debug|info|warn|error] [--control PATH] [--http-port N] [--http-bind ADDR]\n", why);
    return 2;
}

static int read_secret(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = '\0';
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return n ? 0 : -1;
}

static int add_static(struct cluster_config *cfg, const char *list)
{
    struct membership_topology_config *t = &cfg->mem.topologies[0];
    membership_topology_defaults(t, MEM_STATIC);
    snprintf(t->name, sizeof t->name, "epmd");
    t->polling_interval = CS_SEC(1); /* retry peers that are not up yet */
    cfg->mem.topology_count = 1;
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (t->host_count == MEM_MAX_STATIC || strlen(name) >= CS_NODE_NAME_MAX)
            return -1;
        snprintf(t->hosts[t->host_count++], CS_NODE_NAME_MAX, "%s", name);
    }
    return 0;
}

/* "30s", "500ms" or "2m" (whole numbers). */
static int parse_duration(const char *text, cs_time *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || v <= 0)
        return -1;
    if (!strcmp(end, "ms"))
        *out = CS_MSEC(v);
    else if (!strcmp(end, "s"))
        *out = CS_SEC(v);
    else if (!strcmp(end, "m"))
        *out = CS_SEC(v * 60);
    else
        return -1;
    return 0;
}

/* Gossip discovery: authenticated multicast heartbeats on the group. */
static int use_gossip(struct cluster_config *cfg, const char *group)
{
    struct membership_topology_config *t = &cfg->mem.topologies[0];
    membership_topology_defaults(t, MEM_GOSSIP);
    snprintf(t->name, sizeof t->name, "gossip");
    if (strcmp(group, "default") != 0 && (cs_addr_parse(group, &t->multicast) != 0 || !cs_addr_is_multicast(&t->multicast)))
        return -1;
    cfg->mem.topology_count = 1;
    return 0;
}

/* Kubernetes DNS discovery: the headless service's A records are the
 * peers, named basename@ip. */
static void use_dns(struct cluster_config *cfg, const char *service, const char *node_name)
{
    struct membership_topology_config *t = &cfg->mem.topologies[0];
    membership_topology_defaults(t, MEM_K8S_DNS);
    snprintf(t->name, sizeof t->name, "k8s");
    snprintf(t->query, sizeof t->query, "%s", service);
    snprintf(t->app_name, sizeof t->app_name, "%.*s", (int)strcspn(node_name, "@"), node_name);
    cfg->mem.topology_count = 1;
}

static int level_of(const char *text)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(text, names[i]))
            return i;
    return -1;
}

/* --config FILE: the cluster configuration (config/cluster_file.h:
 * membership with its topologies and secret, tracker) over the daemon's
 * defaults.  Errors name file:line:column. */
static int load_config(const char *path, struct cluster_config *cfg)
{
    char err[1024];
    if (cluster_file_load(path, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "clusterd: %s\n", err);
        return -1;
    }
    return 0;
}

/* DNS topologies the configuration file left without an application
 * name take the basename of this node's name. */
static void default_app_names(struct cluster_config *cfg, const char *node_name)
{
    for (size_t i = 0; i < cfg->mem.topology_count; i++) {
        struct membership_topology_config *t = &cfg->mem.topologies[i];
        if (!t->app_name[0])
            snprintf(t->app_name, sizeof t->app_name, "%.*s", (int)strcspn(node_name, "@"), node_name);
    }
}

/* Raises the soft limit of open files to the hard one; returns the limit. */
static size_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max > 65536 ? 65536 : rl.rlim_max, rl.rlim_max};
        if (want.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = want.rlim_cur;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 65536 : (size_t)rl.rlim_cur;
}

int main(int argc, char **argv)
{
    struct cluster_config cfg;
    cluster_config_defaults(&cfg);
    cfg.tracker = true;
    trk_config_defaults(&cfg.trk);
    cfg.mem.conn.encrypt = true; /* sealed links (core/conn_seal.c); --plaintext turns it off */
    struct px_options opt = {.proto = &cluster_proto, .config = &cfg, .port = 4369, .grace = CS_SEC(30),
                             .log_level = CS_LOG_INFO, .name = getenv("CLUSTERD_NAME")};
    const char *secret = getenv("CLUSTERD_SECRET");
    const char *service = NULL;
    long http_port = 0;
    struct cs_addr http_bind, *http_bind_at = NULL;
    cs_time dns_poll = CS_SEC(5);
    /* The configuration file first, so that every flag overrides it. */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            if (load_config(argv[i + 1], &cfg) != 0)
                return 2;
            cfg.mem.conn.encrypt = true;
        }
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--plaintext")) { /* for debugging with a packet capture only */
            cfg.mem.conn.encrypt = false;
            continue;
        }
        if (!strcmp(argv[i], "--dns-udp-only")) { /* a truncated answer is used as it is */
            opt.dns_udp_only = true;
            continue;
        }
        if (!v)
            return usage("every option needs a value");
        if (!strcmp(argv[i], "--name")) {
            opt.name = v;
        } else if (!strcmp(argv[i], "--port")) {
            char *end;
            long port = strtol(v, &end, 10);
            if (*end || port < 1 || port > 65535)
                return usage("--port expects 1..65535");
            opt.port = (uint16_t)port;
        } else if (!strcmp(argv[i], "--secret")) {
            secret = v;
        } else if (!strcmp(argv[i], "--secret-file")) {
            static char buf[128];
            if (read_secret(v, buf, sizeof buf) != 0)
                return usage("cannot read a non-empty secret from --secret-file");
            secret = buf;
        } else if (!strcmp(argv[i], "--static")) {
            if (add_static(&cfg, v) != 0)
                return usage("--static: too many or too long names");
        } else if (!strcmp(argv[i], "--tracker")) {
            if (!strcmp(v, "off"))
                cfg.tracker = false;
            else if (!strcmp(v, "fixed") || !strcmp(v, "swarm"))
                cfg.trk.mode = !strcmp(v, "swarm") ? TRK_SWARM : TRK_FIXED;
            else
                return usage("--tracker expects fixed, swarm or off");
        } else if (!strcmp(argv[i], "--grace")) {
            if (parse_duration(v, &opt.grace) != 0)
                return usage("--grace expects a duration such as 30s");
        } else if (!strcmp(argv[i], "--gossip")) {
            if (use_gossip(&cfg, v) != 0)
                return usage("--gossip expects a multicast group address or 'default'");
        } else if (!strcmp(argv[i], "--dns-service")) {
            service = v;
        } else if (!strcmp(argv[i], "--dns-poll")) {
            if (parse_duration(v, &dns_poll) != 0)
                return usage("--dns-poll expects a duration such as 5s");
        } else if (!strcmp(argv[i], "--nameserver")) {
            opt.dns_servers = v;
        } else if (!strcmp(argv[i], "--setup-timeout")) {
            if (parse_duration(v, &cfg.mem.conn.setup_timeout) != 0)
                return usage("--setup-timeout expects a duration such as 7s");
        } else if (!strcmp(argv[i], "--tick-timeout")) {
            if (parse_duration(v, &cfg.mem.conn.tick_timeout) != 0)
                return usage("--tick-timeout expects a duration such as 60s");
        } else if (!strcmp(argv[i], "--sync-nodes-timeout")) {
            if (parse_duration(v, &cfg.trk.sync_nodes_timeout) != 0)
                return usage("--sync-nodes-timeout expects a duration such as 5s");
        } else if (!strcmp(argv[i], "--batch-window")) {
            if (parse_duration(v, &cfg.trk.batch_window) != 0)
                return usage("--batch-window expects a positive duration such as 10ms (without it: one frame per event)");
        } else if (!strcmp(argv[i], "--http-port")) {
            char *end;
            http_port = strtol(v, &end, 10);
            if (*end || http_port < 1 || http_port > 65535)
                return usage("--http-port expects 1..65535");
        } else if (!strcmp(argv[i], "--http-bind")) {
            if (cs_addr_parse(v, &http_bind) != 0)
                return usage("--http-bind expects an IPv4 or IPv6 address such as 127.0.0.1");
            http_bind_at = &http_bind;
        } else if (!strcmp(argv[i], "--control")) {
            opt.control_path = v;
        } else if (!strcmp(argv[i], "--log-level")) {
            if ((opt.log_level = level_of(v)) < 0)
                return usage("--log-level expects debug, info, warn or error");
        } else {
            return usage("unknown option");
        }
        i++;
    }
    if (!opt.name)
        return usage("--name (or CLUSTERD_NAME) is required");
    static char control[108];
    if (!opt.control_path) { /* clusterctl -n NAME finds it here */
        char why[256];
        if (control_default_path(opt.name, true, control, sizeof control, why, sizeof why) != 0) {
            fprintf(stderr, "clusterd: %s (or give --control PATH)\n", why);
            return 1;
        }
        opt.control_path = control;
    }
    if (service) {
        use_dns(&cfg, service, opt.name);
        cfg.mem.topologies[0].polling_interval = dns_poll;
    }
    default_app_names(&cfg, opt.name);
    if (!cfg.mem.topology_count)
        return usage("a discovery is required: --static NAMES, --dns-service NAME or --gossip GROUP");
    if (secret && strlen(secret) >= sizeof cfg.mem.conn.secret)
        return usage("the secret is too long (at most 127 bytes)");
    if (secret) /* else the configuration file's, if any */
        snprintf(cfg.mem.conn.secret, sizeof cfg.mem.conn.secret, "%s", secret);
    cfg.mem.conn.port = opt.port;
    /* Descriptors: take what the hard limit allows, and share it out so
     * that neither unproven peers nor HTTP clients can take them all. */
    size_t fds = raise_fd_limit();
    cfg.mem.conn.max_pending_inbound = fds / 4 < 1024 ? (fds / 4 ? fds / 4 : 1) : 1024;
    unsigned http_limit = fds / 4 < 4096 ? (unsigned)(fds / 4) : 4096;
    char err[512] = "";
    struct px_node *n = px_node_new(&opt, err, sizeof err);
    if (!n) {
        fprintf(stderr, "clusterd: %s\n", err);
        return 1;
    }
    struct clusterd_http *http = NULL;
    if (http_port && !(http = clusterd_http_start(n, http_bind_at, (uint16_t)http_port, http_limit, err, sizeof err))) {
        fprintf(stderr, "clusterd: %s\n", err);
        px_node_free(n);
        return 1;
    }
    int rc = px_node_run(n);
    clusterd_http_stop(http);
    px_node_free(n);
    return rc == 0 ? 0 : 1;
}
