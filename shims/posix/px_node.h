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

/* How log lines are written on stderr: text, the libcluster/Swarm-style
 * lines ("TIME [level] [node] [component] message"), or one JSON object a
 * line ({"ts","level","node","component","msg"}). */
enum px_log_format { PX_LOG_TEXT = 0, PX_LOG_JSON };

struct px_options {
    const struct cs_proto *proto;
    const void *config;        /* the protocol's configuration */
    const char *name;          /* basename@address */
    uint16_t port;             /* the port the node listens on (and dials) */
    cs_time grace;             /* graceful stop budget on SIGTERM */
    int log_level;             /* enum cs_log_level: lines below it are dropped */
    enum px_log_format log_format;
    const char *control_path;  /* the control socket (px_control.h), or NULL */
    const char *dns_servers;   /* c-ares CSV "ip:port,..." or NULL for the system's */
    bool dns_udp_only;         /* a truncated UDP answer is used as it is (TC
                                  reported to the core), not retried over TCP */
};

/* The upper bounds of the handshake histogram's buckets (0.5 ms to 10 s,
 * as Prometheus' `le`); PX_HANDSHAKE_BUCKETS of them, ascending. */
#define PX_HANDSHAKE_BUCKETS 14
extern const cs_time px_handshake_le[PX_HANDSHAKE_BUCKETS];

/* A latency histogram: buckets[i] counts readings of at most le[i] and
 * more than the bound before it (not cumulative), the last one those over
 * every bound; sum is their total. */
struct px_histogram {
    uint64_t buckets[PX_HANDSHAKE_BUCKETS + 1];
    cs_time sum;
};

enum { PX_INBOUND = 0, PX_OUTBOUND = 1 };

/* The transport's counters: frames, what it refused, and how long links
 * took from the TCP connect (outbound) or accept (inbound) to the core
 * proving the peer (it raises the link's frame limit then), by direction. */
struct px_stats {
    uint64_t frames_in, frames_out, oversized_frames, links_accepted, links_refused;
    uint64_t links_unwritten_peak; /* the most bytes every link together held unwritten */
    uint64_t control_pauses;       /* times the control socket stopped serving: links busy */
    struct px_histogram handshake[2]; /* [PX_INBOUND], [PX_OUTBOUND] */
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

/* Control-socket requests refused so far for one reason (an enum
 * px_control_refusal of px_control.h); 0 without a control socket. */
uint64_t px_node_control_refused(const struct px_node *n, int why);

/* Closes every socket and frees the node and its protocol instance. */
void px_node_free(struct px_node *n);

/* Writes one log line on stderr in `format`, stamped with the wall clock
 * (UTC, milliseconds); a line that starts with "[component] " (the core's
 * lines do) gives the JSON form its component, others are "clusterd". */
void px_log_line(enum px_log_format format, enum cs_log_level level, const char *node, const char *line);

/* Fills a socket address from an address and port; returns its length. */
socklen_t px_to_sockaddr(const struct cs_addr *a, struct sockaddr_storage *ss);

#endif
