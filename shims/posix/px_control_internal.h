/*
 * shims/posix/px_control_internal.h: the control socket's private state,
 * shared by px_control.c (the socket, its clients, reading and serving
 * request lines, refusals) and px_control_reply.c (requests handed to the
 * protocol, the ring of those it answers later, `many` requests, and the
 * answer lines).
 */
#ifndef SHIMS_POSIX_PX_CONTROL_INTERNAL_H
#define SHIMS_POSIX_PX_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "px_control.h"

#define LINE_MAX_BYTES 4096
/* What one read takes from a client: many pipelined requests a system call. */
#define IN_BYTES (64u << 10)
/* A client with this many answer bytes unread is not read from, and its
 * requests already read wait, until it catches up (backpressure, no growth). */
#define OUT_PAUSE_BYTES (1u << 20)
/* Requests waiting for the protocol's reply, every client together. */
#define PENDING_MAX 65536
/* Names in one `many` request: as many as a line can hold (2 bytes each). */
#define MANY_MAX (LINE_MAX_BYTES / 2)

struct client {
    uint32_t id;
    int fd;
    char *in;                  /* requests read and not yet served (IN_BYTES; freed when empty) */
    size_t in_len;
    char *out;                 /* answers not yet written (flushed once per loop turn) */
    size_t out_len, out_cap;
    uint32_t interest;         /* the epoll events asked for: EPOLLIN and/or EPOLLOUT */
    bool eof;                  /* the client closed its side: answer what it sent, then drop it */
};

/* One name's reply within a `many` request. */
struct many_item {
    char status[24];
    uint64_t handle;           /* 0: none */
};

/* A `many` request some of whose names the protocol answers later: its
 * line is written when the last reply comes. */
struct many {
    struct many *next;         /* the control socket's list of them */
    uint32_t client, count, left;
    char op[16];
    struct many_item items[];
};

/* A request waiting for the protocol's reply: clients may pipeline, and
 * replies go to the oldest request with the same op and name.  `key`
 * hashes both, so a reply compares strings only where it may match;
 * `answered` marks one answered out of order (the oldest and the newest
 * leave the ring at once); `many`, when not NULL, is the `many` request
 * whose name number `index` this is. */
struct pending {
    uint32_t client, key;
    bool answered;
    struct many *many;
    uint32_t index;
    char op[32], name[128];
};

struct px_control {
    int epfd, fd;
    char path[108];
    struct px_control_host host;
    struct client *clients;
    size_t count, cap;
    struct pending *pending;   /* a ring, oldest at pending_head */
    size_t pending_head, pending_count, pending_cap; /* pending_cap: 0 or a power of two */
    struct many *many;         /* `many` requests still waiting for replies */
    struct {                   /* the request being handled: most are answered at once */
        uint32_t client;
        const char *op, *name;
        struct many_item *item; /* where the reply goes within a `many` request, or NULL */
        bool active, answered;
    } current;
    uint32_t next_id;
    uint64_t refused, refused_by[PX_CONTROL_REFUSALS];
    uint64_t strangers;        /* connections from other users, closed at once */
};

/* px_control.c */
/* Queues answer bytes; px_control_flush writes them, many per call. */
void px_control_send(struct client *cl, const char *bytes, size_t len);
/* Answers a refused request with its reason, counted, and logged on the
 * 1st, 2nd, 4th, 8th... time for that reason. */
void px_control_refuse(struct px_control *c, struct client *cl, enum px_control_refusal why);
/* The client with this id, or NULL (it left). */
struct client *px_control_client(struct px_control *c, uint32_t id);

/* px_control_reply.c */
/* Hands one parsed request of client `cl` to the protocol: answered at
 * once, or queued until its reply (refused when PENDING_MAX wait). */
void px_control_command(struct px_control *c, struct client *cl, const struct cs_command *cmd);
/* `many<TAB>OP<TAB>NAME...`: `text` is what follows "many<TAB>" (split in
 * place); refused as bad_many when malformed. */
void px_control_many(struct px_control *c, struct client *cl, char *text);
/* Frees the ring and the `many` requests still waiting. */
void px_control_forget_pending(struct px_control *c);

#endif
