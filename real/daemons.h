/*
 * real/daemons.h: the real world's nodes: one clusterd per node, started
 * in its namespace with a configuration file written from the scenario,
 * stopped with SIGTERM (graceful, within its grace period) or SIGKILL, and
 * reached through its control socket: probes (the node's view, settled
 * flag, tracker state, registry digest, counters) and registry commands
 * whose replies arrive in their own time.  Functions are prefixed rdm_.
 */
#ifndef REAL_DAEMONS_H
#define REAL_DAEMONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/addr.h"
#include "../core/env.h"

#define RDM_VIEW_MAX 64

/* What one probe saw. */
struct rdm_probe {
    bool ok;                 /* the node answered */
    bool stopping, settled;
    char tracker[24];        /* "tracking", "syncing", ... or "" (no tracker) */
    size_t view_count;
    char view[RDM_VIEW_MAX][CS_NODE_NAME_MAX];
    size_t reg_count;
    uint64_t reg_digest;
    uint64_t frames_in, frames_out;
    char state_key[512];
    char waiting_for[CS_NODE_NAME_MAX];
    char *dump;              /* malloc'd, or NULL */
};

/* A command's reply as the daemon sent it. */
struct rdm_reply {
    cs_time at;              /* since the run started */
    size_t node;
    char op[24], name[128], status[32], owner[128];
    int64_t value;
};

struct rdm_node {
    char name[CS_NODE_NAME_MAX];
    char sock[512], log[512], config[512];
    pid_t pid;
    int cmd_fd;              /* the command connection, or -1 */
    char rbuf[8192];
    size_t rlen;
};

/* Starts clusterd for node `n` in namespace `ns`; argv extras (grace,
 * secret, nameserver) come as a NULL-terminated list.  0 or -1. */
int rdm_start(struct rdm_node *n, const char *clusterd, const char *ns, char *const extra[]);

/* Waits up to `ms` for the control socket to answer a probe. */
bool rdm_wait_ready(struct rdm_node *n, int ms);

/* Sends one request line on a fresh connection to the socket at `path` and
 * returns the reply line (malloc'd), or NULL after a 1 s deadline. */
char *rdm_ask(const char *path, const char *req);

/* Probes a node (a fresh connection, a 1 s deadline). */
void rdm_probe(struct rdm_node *n, struct rdm_probe *out);
void rdm_probe_free(struct rdm_probe *p);

/* Sends a command on the node's command connection; the reply comes later
 * through rdm_replies.  -1 when the node cannot be reached. */
int rdm_command(struct rdm_node *n, const char *op, const char *name, const char *arg, int64_t value);

/* Reads the replies that have arrived on node i's command connection,
 * calling `fn` for each. */
void rdm_replies(struct rdm_node *n, size_t i, cs_time now, void (*fn)(void *ctx, const struct rdm_reply *r),
                 void *ctx);

/* Signals the node (SIGTERM: graceful stop; SIGKILL: crash) without
 * waiting; rdm_reap collects it once it has exited. */
void rdm_signal(struct rdm_node *n, int sig);
/* True (and the node forgotten) once its process has exited. */
bool rdm_reap(struct rdm_node *n);

#endif
