/*
 * daemon/clusterd_args.c: clusterd's command line (clusterd_args.h).
 */
#include "clusterd_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/cli_opts.h"
#include "../config/cluster_file.h"
#include "../config/version.h"
#include "../config/yaml_reader.h"

enum {
    OPT_NAME = CLI_KEY_FIRST, OPT_CONFIG, OPT_PORT, OPT_SECRET, OPT_SECRET_FILE, OPT_STATIC, OPT_DNS_SERVICE,
    OPT_DNS_POLL, OPT_GOSSIP, OPT_NAMESERVER, OPT_DNS_UDP_ONLY, OPT_TRACKER, OPT_SYNC_NODES_TIMEOUT,
    OPT_BATCH_WINDOW, OPT_TICK_TIMEOUT, OPT_SETUP_TIMEOUT, OPT_GRACE, OPT_PLAINTEXT, OPT_LOG_LEVEL, OPT_LOG_FORMAT, OPT_CONTROL,
    OPT_HTTP_PORT, OPT_HTTP_BIND, OPT_VERSION,
};

static const struct cli_opt clusterd_opts[] = {
    {"name", "BASENAME@ADDRESS", "this node's name (or CLUSTERD_NAME)", OPT_NAME, 0},
    {"config", "FILE", "the cluster configuration (deploy/clusterd.yaml); flags override it", OPT_CONFIG, 0},
    {"port", "N", "the peer port (4369)", OPT_PORT, 0},
    {"secret", "S", "the cluster's shared secret (or CLUSTERD_SECRET)", OPT_SECRET, 0},
    {"secret-file", "FILE", "read the secret from a file (a mounted Kubernetes Secret)", OPT_SECRET_FILE, 0},
    {"static", "NAME,NAME...", "discovery: a fixed list of peers", OPT_STATIC, 0},
    {"dns-service", "NAME", "discovery: a headless service's A records", OPT_DNS_SERVICE, 0},
    {"dns-poll", "T", "how often the service is looked up (5s)", OPT_DNS_POLL, 0},
    {"gossip", "GROUP|default", "discovery: authenticated UDP multicast heartbeats", OPT_GOSSIP, 0},
    {"nameserver", "IP:PORT", "the DNS server (default: the system's)", OPT_NAMESERVER, 0},
    {"dns-udp-only", NULL, "use a truncated DNS answer as it came (no retry over TCP)", OPT_DNS_UDP_ONLY, 0},
    {"tracker", "fixed|swarm|off", "the registry's tracker mode (fixed)", OPT_TRACKER, 0},
    {"sync-nodes-timeout", "T", "how long the tracker waits for the cluster to form (5s)",
     OPT_SYNC_NODES_TIMEOUT, 0},
    {"batch-window", "T",
     "fixed mode: replicate in batches gathered for T; 0: what one tracker event brings about (default: what one "
     "turn of the event loop made, one batch per peer)",
     OPT_BATCH_WINDOW, 0},
    {"tick-timeout", "T", "a silent peer is down after T (60s)", OPT_TICK_TIMEOUT, 0},
    {"setup-timeout", "T", "a handshake must finish within T (7s)", OPT_SETUP_TIMEOUT, 0},
    {"grace", "T", "SIGTERM: how long a graceful leave may take (30s)", OPT_GRACE, 0},
    {"plaintext", NULL, "unencrypted links (debugging with a packet capture only)", OPT_PLAINTEXT, 0},
    {"log-level", "debug|info|warn|error", "the least level logged (info)", OPT_LOG_LEVEL, 0},
    {"log-format", "text|json", "log lines on stderr as text (default) or one JSON object a line", OPT_LOG_FORMAT,
     0},
    {"control", "PATH", "the control socket (default: per name, which clusterctl -n finds)", OPT_CONTROL, 0},
    {"http-port", "N", "serve /livez, /healthz, /metrics and /state on this port", OPT_HTTP_PORT, 0},
    {"http-bind", "ADDR", "the HTTP endpoint's address (default: every address)", OPT_HTTP_BIND, 0},
    {"version", NULL, "print the version and exit", OPT_VERSION, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd clusterd_cmd = {
    "clusterd", "--name BASENAME@ADDRESS [--config FILE] [options]",
    "The node daemon: the cluster core (membership, registry, tracker) on real sockets.  A\n"
    "discovery is required (--static, --dns-service, --gossip, or the file's topologies).  SIGTERM\n"
    "leaves gracefully: processes are handed off, the leave is announced, then it exits.",
    clusterd_opts,
};

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

/* Gossip discovery: authenticated multicast heartbeats on the group. */
static int use_gossip(struct cluster_config *cfg, const char *group)
{
    struct membership_topology_config *t = &cfg->mem.topologies[0];
    membership_topology_defaults(t, MEM_GOSSIP);
    snprintf(t->name, sizeof t->name, "gossip");
    if (strcmp(group, "default") != 0 &&
        (cs_addr_parse(group, &t->multicast) != 0 || !cs_addr_is_multicast(&t->multicast)))
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

/* A duration option: the project's one parser (as in files), positive. */
static int duration(const char *name, const char *v, cs_time *out)
{
    cs_time t;
    if (yr_parse_duration(v, &t) != 0 || t <= 0)
        return cli_bad_value(&clusterd_cmd, name, "a positive duration such as 1.5s, 500ms or 2m", v);
    *out = t;
    return 0;
}

/* --batch-window: a duration, 0 included (a frame per event). */
static int window(const char *name, const char *v, cs_time *out)
{
    cs_time t;
    if (yr_parse_duration(v, &t) != 0 || t < 0)
        return cli_bad_value(&clusterd_cmd, name, "a duration such as 5ms, or 0 for a frame per event", v);
    *out = t;
    return 0;
}

static int port_value(const char *name, const char *v, long *out)
{
    char *end;
    long p = strtol(v, &end, 10);
    if (!*v || *end || p < 1 || p > 65535)
        return cli_bad_value(&clusterd_cmd, name, "a port 1..65535", v);
    *out = p;
    return 0;
}

static int settings_opt(struct clusterd_args *a, int key, const char *v)
{
    struct cluster_config *cfg = &a->cfg;
    switch (key) {
    case OPT_TRACKER:
        if (!strcmp(v, "off"))
            cfg->tracker = false;
        else if (!strcmp(v, "fixed") || !strcmp(v, "swarm"))
            cfg->trk.mode = !strcmp(v, "swarm") ? TRK_SWARM : TRK_FIXED;
        else
            return cli_bad_value(&clusterd_cmd, "tracker", "fixed, swarm or off", v);
        return 0;
    case OPT_SYNC_NODES_TIMEOUT: return duration("sync-nodes-timeout", v, &cfg->trk.sync_nodes_timeout);
    case OPT_BATCH_WINDOW: return window("batch-window", v, &cfg->trk.batch_window);
    case OPT_TICK_TIMEOUT: return duration("tick-timeout", v, &cfg->mem.conn.tick_timeout);
    case OPT_SETUP_TIMEOUT: return duration("setup-timeout", v, &cfg->mem.conn.setup_timeout);
    case OPT_GRACE: return duration("grace", v, &a->opt.grace);
    case OPT_PLAINTEXT: cfg->mem.conn.encrypt = false; return 0;
    case OPT_LOG_LEVEL:
        if ((a->opt.log_level = level_of(v)) < 0)
            return cli_bad_value(&clusterd_cmd, "log-level", "debug, info, warn or error", v);
        return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
            return cli_bad_value(&clusterd_cmd, "log-format", "text or json", v);
        a->opt.log_format = !strcmp(v, "json") ? PX_LOG_JSON : PX_LOG_TEXT;
        return 0;
    case OPT_CONTROL: a->opt.control_path = v; return 0;
    case OPT_HTTP_PORT: return port_value("http-port", v, &a->http_port);
    case OPT_HTTP_BIND:
        if (cs_addr_parse(v, &a->http_bind) != 0)
            return cli_bad_value(&clusterd_cmd, "http-bind", "an IPv4 or IPv6 address such as 127.0.0.1", v);
        a->has_http_bind = true;
        return 0;
    default: return -1;
    }
}

static int clusterd_opt(void *ctx, int key, const char *v)
{
    struct clusterd_args *a = ctx;
    long port;
    switch (key) {
    case OPT_CONFIG: return 0; /* read before the flags */
    case OPT_VERSION: printf("clusterd %s\n", CS_VERSION); return 1;
    case OPT_NAME: a->opt.name = v; return 0;
    case OPT_PORT:
        if (port_value("port", v, &port) != 0)
            return -1;
        a->opt.port = (uint16_t)port;
        return 0;
    case OPT_SECRET: a->secret = v; return 0;
    case OPT_SECRET_FILE:
        if (read_secret(v, a->secret_buf, sizeof a->secret_buf) != 0)
            return cli_bad_value(&clusterd_cmd, "secret-file", "a readable file holding a non-empty secret", v);
        a->secret = a->secret_buf;
        return 0;
    case OPT_STATIC:
        return add_static(&a->cfg, v) == 0 ? 0
                                           : cli_bad_value(&clusterd_cmd, "static", "at most 64 node names", v);
    case OPT_DNS_SERVICE: a->service = v; return 0;
    case OPT_DNS_POLL: return duration("dns-poll", v, &a->dns_poll);
    case OPT_GOSSIP:
        return use_gossip(&a->cfg, v) == 0
                   ? 0
                   : cli_bad_value(&clusterd_cmd, "gossip", "a multicast group address or 'default'", v);
    case OPT_NAMESERVER: a->opt.dns_servers = v; return 0;
    case OPT_DNS_UDP_ONLY: a->opt.dns_udp_only = true; return 0;
    default: return settings_opt(a, key, v);
    }
}

static int clusterd_operand(void *ctx, const char *arg)
{
    (void)ctx;
    return cli_refuse(&clusterd_cmd, "unexpected argument '%s' (clusterd takes options only)", arg);
}

/* --config FILE (or --config=FILE) before any flag: the file sets the
 * cluster configuration and the flags override it.  0, or 2. */
static int read_config_first(int argc, char **argv, struct cluster_config *cfg)
{
    for (int i = 0; i < argc; i++) {
        const char *path = !strcmp(argv[i], "--config") && i + 1 < argc ? argv[i + 1]
                           : !strncmp(argv[i], "--config=", 9)        ? argv[i] + 9
                                                                       : NULL;
        if (!path)
            continue;
        char err[1024];
        if (cluster_file_load(path, cfg, err, sizeof err) != 0) {
            fprintf(stderr, "clusterd: %s\n", err);
            return 2;
        }
        cfg->mem.conn.encrypt = true;
    }
    return 0;
}

int clusterd_parse_args(int argc, char **argv, struct clusterd_args *a)
{
    memset(a, 0, sizeof *a);
    cluster_config_defaults(&a->cfg);
    a->cfg.tracker = true;
    trk_config_defaults(&a->cfg.trk);
    a->cfg.trk.batch_window = CLUSTERD_BATCH_TURN;
    a->cfg.mem.conn.encrypt = true; /* sealed links (core/conn_seal.c); --plaintext turns it off */
    a->opt = (struct px_options){.proto = &cluster_proto, .config = &a->cfg, .port = 4369, .grace = CS_SEC(30),
                                 .log_level = CS_LOG_INFO, .name = getenv("CLUSTERD_NAME")};
    a->secret = getenv("CLUSTERD_SECRET");
    a->dns_poll = CS_SEC(5);
    if (read_config_first(argc - 1, argv + 1, &a->cfg) != 0)
        return 2;
    int rc = cli_parse(&clusterd_cmd, argc - 1, argv + 1, clusterd_opt, clusterd_operand, a);
    if (rc != 0)
        return rc > 0 ? 1 : 2;
    if (!a->opt.name) {
        cli_refuse(&clusterd_cmd, "--name (or CLUSTERD_NAME) is required");
        return 2;
    }
    if (a->service) {
        use_dns(&a->cfg, a->service, a->opt.name);
        a->cfg.mem.topologies[0].polling_interval = a->dns_poll;
    }
    default_app_names(&a->cfg, a->opt.name);
    if (!a->cfg.mem.topology_count) {
        cli_refuse(&clusterd_cmd, "a discovery is required: --static NAMES, --dns-service NAME, --gossip GROUP or "
                                  "a --config file's topologies");
        return 2;
    }
    if (a->secret && strlen(a->secret) >= sizeof a->cfg.mem.conn.secret) {
        cli_refuse(&clusterd_cmd, "the secret is too long (at most 127 bytes)");
        return 2;
    }
    if (a->secret) /* else the configuration file's, if any */
        snprintf(a->cfg.mem.conn.secret, sizeof a->cfg.mem.conn.secret, "%s", a->secret);
    a->cfg.mem.conn.port = a->opt.port;
    return 0;
}
