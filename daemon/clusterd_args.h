/*
 * daemon/clusterd_args.h: clusterd's command line (and environment): the
 * cluster configuration file first, then every flag over it, through the
 * project's option parser (config/cli_opts.h) and its one duration parser.
 */
#ifndef DAEMON_CLUSTERD_ARGS_H
#define DAEMON_CLUSTERD_ARGS_H

#include <stdbool.h>

#include "../core/addr.h"
#include "../core/cluster.h"
#include "../shims/posix/px_node.h"

/* The daemon's replication batch window unless a file or --batch-window
 * says otherwise: 1 ns, so the batch timer is due when the loop next looks
 * at its timers, at the end of the turn that opened the batch.  What one
 * turn made (a read of pipelined registrations, a batch received) leaves
 * as one frame per peer, no later than the turn's own replies; a frame
 * per event sealed and sent on its own costs about twice the CPU
 * (docs/performance.md, 2026-12-07). */
#define CLUSTERD_BATCH_TURN ((cs_time)1)

struct clusterd_args {
    struct cluster_config cfg;
    struct px_options opt;   /* its config points at cfg */
    const char *secret;      /* --secret, --secret-file or CLUSTERD_SECRET; NULL: the file's */
    const char *service;     /* --dns-service */
    cs_time dns_poll;
    long http_port;          /* 0: no HTTP endpoint */
    struct cs_addr http_bind;
    bool has_http_bind;
    char secret_buf[128];
};

/* Fills `a` from argv and the environment (CLUSTERD_NAME,
 * CLUSTERD_SECRET) over the daemon's defaults, then checks what must be
 * given.  Returns 0 to run, 1 after printing --help or --version (exit 0),
 * 2 after printing a refusal. */
int clusterd_parse_args(int argc, char **argv, struct clusterd_args *a);

#endif
