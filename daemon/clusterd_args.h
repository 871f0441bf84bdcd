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
