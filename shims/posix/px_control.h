/*
 * shims/posix/px_control.h: the control socket of a real-socket node: a
 * Unix stream socket where clients (clusterctl) send one request per line,
 * tab-separated `OP NAME ARG VALUE` (empty fields allowed), and get one JSON
 * line back.  Answered at once by the shim, each under its op's key:
 *   dump   {"dump": "<the protocol's state dump, text>"}
 *   view   {"view": ["<peer>", ...]}
 *   state  {"state": {...}}   the node's state, structured (px_status.h)
 *   peers  {"peers": [{"name", "link", "tracker"}, ...]}   (px_status.h)
 *   probe  {"probe": {...}}   what the real world's checkers poll
 * Every other op becomes a command (CS_EV_COMMAND) whose reply
 * (env->reply) goes to the oldest request waiting for that op and name:
 *   {"op", "name", "status", "owner", "value"[, "handle"]}
 * where "value" is the reply's int64 as the core gives it (a counter's
 * value, a member count; for the ops that answer with a process, register,
 * register_started, whereis and unregister, the handle's 64 bits read as
 * signed, as real/daemons.c reads them), and "handle", on those four ops when a
 * process was found, is the handle as a string of its unsigned decimal
 * value: handles use all 64 bits (the node's creation in the high half),
 * beyond the 2^53 that JSON readers such as JavaScript or jq hold exactly.
 * One line may carry many names for one of register, whereis, unregister:
 *   many<TAB>OP<TAB>NAME[<TAB>NAME...]     (names of 1 to 127 bytes)
 * each name is a request of its own, in order (as OP<TAB>NAME lines would
 * be), and one line answers them all once every reply came:
 *   {"many": OP, "count": N, "ok": K, "replies": [[STATUS, HANDLE], ...]}
 * in the names' order, HANDLE as above or "" when there is none.  At most
 * 64 such requests wait for late replies at a time.
 * Clients may pipeline: requests are read 64 KiB at a time and answered
 * in order of their replies; a client with 1 MiB of answers unread is not
 * served until it reads, and no client is while the host is busy
 * (px_control_host.busy: the node's links hold too much unwritten).  A client that closes its sending side gets the
 * answers to what it sent, then the end of the stream.  Refused requests
 * get {"error": ...}, are counted by reason (px_control_refused_by, in
 * /metrics) and logged on the 1st, 2nd, 4th, 8th... of each reason; a line
 * of LINE_MAX_BYTES (4 KiB) or more also closes the connection. */
#ifndef SHIMS_POSIX_PX_CONTROL_H
#define SHIMS_POSIX_PX_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/env.h"

#define PX_CONTROL_KEY_BASE (1ULL << 40) /* epoll keys at or above belong here */

struct px_control;

/* What the control socket needs from the node that hosts it. */
struct px_control_host {
    void *ctx;
    /* Feeds a command to the protocol. */
    void (*command)(void *ctx, const struct cs_command *cmd);
    /* Writes the protocol's state dump; its length. */
    int (*dump)(void *ctx, char *buf, size_t size);
    /* Writes the view (peer names) as a JSON array body; its length. */
    int (*view)(void *ctx, char *buf, size_t size);
    /* Writes the node's probe (a JSON object: name, view, settled, state
     * key, registry count and digest, what it waits for, frame counters,
     * the dump) for the real world's checkers; its length. */
    int (*probe)(void *ctx, char *buf, size_t size);
    /* Optional: true while the node cannot send what requests make as fast
     * as they come (its links hold too much unwritten); no request is read
     * or served until it is false again (checked every line and every loop
     * turn). */
    bool (*busy)(void *ctx);
};
/* The state and peers requests are answered by px_status.h from the node
 * itself: ctx must be the hosting struct px_node (px_node_new's). */

/* Listens at `path` (an old socket file there is replaced) and registers
 * with the epoll set; NULL with a message on failure. */
struct px_control *px_control_new(int epfd, const char *path, const struct px_control_host *host, char *err,
                                  size_t errlen);
/* Handles an epoll event whose key is >= PX_CONTROL_KEY_BASE. */
void px_control_event(struct px_control *c, uint64_t key, uint32_t events);
/* A command reply from the protocol: answers the oldest request waiting
 * for that op and name. */
void px_control_reply(struct px_control *c, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value);
/* Writes the queued answers (the node's loop calls it once per turn). */
void px_control_flush(struct px_control *c);
/* Connections refused because another user (not root) made them. */
uint64_t px_control_strangers(const struct px_control *c);
/* Why a request was refused. */
enum px_control_refusal {
    PX_CONTROL_MALFORMED,          /* not OP<TAB>NAME<TAB>ARG<TAB>VALUE within the field sizes */
    PX_CONTROL_LINE_TOO_LONG,      /* 4 KiB without a newline: the connection is closed */
    PX_CONTROL_TOO_MANY_IN_FLIGHT, /* 65,536 requests (or 64 `many` requests) already wait for the protocol */
    PX_CONTROL_BAD_MANY,           /* a `many` request with another op, no name, or a name empty or too long */
    PX_CONTROL_REFUSALS
};
/* The reason's name in metrics and logs ("malformed", "line_too_long",
 * "too_many_in_flight", "bad_many"). */
const char *px_control_refusal_name(enum px_control_refusal why);
/* Requests refused so far, in all. */
uint64_t px_control_refused(const struct px_control *c);
/* Requests refused so far for one reason. */
uint64_t px_control_refused_by(const struct px_control *c, enum px_control_refusal why);
/* Closes the socket and its clients, removes the socket file. */
void px_control_free(struct px_control *c);

#endif
