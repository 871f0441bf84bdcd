/*
 * shims/posix/px_node.h: the real-socket binding of the environment seam
 * (core/env.h): one node of a core protocol driven by an epoll loop with the
 * monotonic clock, timers, TCP links carrying length-prefixed frames, and
 * getrandom.  The same core that runs in the simulator runs here unchanged.
 *
 * DNS queries go to c-ares (px_dns.h); datagrams (gossip) to a UDP
 * multicast socket (px_dgram.c).  Files and functions of this binding are
 * prefixed px_ (POSIX).
 */
#ifndef SHIMS_POSIX_PX_NODE_H
#define SHIMS_POSIX_PX_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "../../core/proto.h"

/* Frames longer than this close the link (a counted, logged reason). */
#define PX_FRAME_MAX (16u << 20)
/* A link's frame limit until the core says otherwise (env->link_limit). */
#define PX_HANDSHAKE_READ_MAX 1024u

struct px_node;

struct px_options {
    const struct cs_proto *proto;
    const void *config;        /* the protocol's configuration */
    const char *name;          /* basename@address */
    uint16_t port;             /* the port the node listens on (and dials) */
    cs_time grace;             /* graceful stop budget on SIGTERM */
    int log_level;             /* enum cs_log_level: lines below it are dropped */
    const char *control_path;  /* the control socket (px_control.h), or NULL */
    const char *dns_servers;   /* c-ares CSV "ip:port,..." or NULL for the system's */
    bool dns_udp_only;         /* a truncated UDP answer is used as it is (TC
                                  reported to the core), not retried over TCP */
};

/* Counters of what the transport refused, by reason. */
struct px_stats {
    uint64_t frames_in, frames_out, oversized_frames, links_accepted, links_refused;
};

/* Binds the listening socket and builds the node; NULL with a message in
 * `err` on failure (address in use, bad name). */
struct px_node *px_node_new(const struct px_options *opt, char *err, size_t errlen);

/* Starts the protocol and runs the loop until the node stops (after SIGTERM
 * or SIGINT and a graceful stop, or a second signal); returns 0, or -1 on a
 * fatal loop error. */
int px_node_run(struct px_node *n);

/* Watches an extra file descriptor (an HTTP server's epoll set, say): `ready`
 * runs in the loop when it is readable; `wait_ms`, when not NULL, bounds how
 * long the loop sleeps (-1: no bound).  One extra watcher per node. */
int px_node_watch(struct px_node *n, int fd, void (*ready)(void *ctx), int (*bound_ms)(void *ctx), void *ctx);

/* The protocol instance the node runs (for observers such as /metrics). */
void *px_node_instance(struct px_node *n);

/* True once a graceful stop began. */
bool px_node_stopping(const struct px_node *n);

/* The transport's counters. */
const struct px_stats *px_node_stats(const struct px_node *n);

/* Closes every socket and frees the node and its protocol instance. */
void px_node_free(struct px_node *n);

/* Fills a socket address from an address and port; returns its length. */
socklen_t px_to_sockaddr(const struct cs_addr *a, struct sockaddr_storage *ss);

#endif
