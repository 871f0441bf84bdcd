/*
 * daemon/clusterd.c: the node daemon: the production cluster core
 * (core/cluster.h: connection layer, membership, registry and tracker) on
 * real sockets (shims/posix).  Its options (daemon/clusterd_args.c;
 * `clusterd --help` lists them) and environment:
 *
 *   clusterd --name app@10.0.0.7 [--config FILE] [--port 4369] [--secret S | --secret-file F]
 *            [--static app@10.0.0.8,app@10.0.0.9 | --dns-service NAME [--dns-poll 5s]
 *             | --gossip GROUP|default] [--tracker fixed|swarm|off] [--http-port N] ...
 *
 * Links are encrypted (ChaCha20-Poly1305, keys from the secret and the
 * handshake's challenges) unless --plaintext is given.  Log lines go to
 * stderr, as text or (--log-format json) one JSON object a line; once the
 * arguments are taken, a fatal error is such a line too.
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
#include "clusterd_args.h"
#include "../shims/posix/px_node.h"
#include "control_path.h"
#include "http.h"

#include <sodium.h>
#include <sys/resource.h>

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
    static struct clusterd_args args; /* args.opt points into it: never copied */
    /* Before any other libsodium call (the secret's key is derived while
     * the arguments are read): it picks the SIMD ChaCha20 and Poly1305
     * code for this CPU, without which every frame is sealed and opened by
     * the portable code, about 4 times slower a byte on a 20 KB batch
     * frame (docs/performance.md, 2026-12-07). */
    if (sodium_init() < 0) {
        fprintf(stderr, "clusterd: libsodium cannot be initialised\n");
        return 1;
    }
    int parsed = clusterd_parse_args(argc, argv, &args);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;
    struct px_options opt = args.opt;
    struct cluster_config *cfg = &args.cfg;
    static char control[108];
    if (!opt.control_path) { /* clusterctl -n NAME finds it here */
        char why[256];
        if (control_default_path(opt.name, true, control, sizeof control, why, sizeof why) != 0) {
            char line[400];
            snprintf(line, sizeof line, "%s (or give --control PATH)", why);
            px_log_line(opt.log_format, CS_LOG_ERROR, opt.name, line);
            return 1;
        }
        opt.control_path = control;
    }
    /* Descriptors: take what the hard limit allows, and share it out so
     * that neither unproven peers nor HTTP clients can take them all. */
    size_t fds = raise_fd_limit();
    cfg->mem.conn.max_pending_inbound = fds / 4 < 1024 ? (fds / 4 ? fds / 4 : 1) : 1024;
    unsigned http_limit = fds / 4 < 4096 ? (unsigned)(fds / 4) : 4096;
    char err[512] = "";
    struct px_node *n = px_node_new(&opt, err, sizeof err);
    if (!n) {
        px_log_line(opt.log_format, CS_LOG_ERROR, opt.name, err);
        return 1;
    }
    struct clusterd_http *http = NULL;
    if (args.http_port && !(http = clusterd_http_start(n, cfg, args.has_http_bind ? &args.http_bind : NULL,
                                                      (uint16_t)args.http_port, http_limit, err, sizeof err))) {
        px_log_line(opt.log_format, CS_LOG_ERROR, opt.name, err);
        px_node_free(n);
        return 1;
    }
    int rc = px_node_run(n);
    clusterd_http_stop(http);
    px_node_free(n);
    return rc == 0 ? 0 : 1;
}
