/*
 * shims/posix/px_internal.h: the real-socket node's private state, shared by
 * px_node.c (the loop, the environment, signals, the node's life) and
 * px_links.c (TCP links: connect, accept, frames, flushing).
 */
#ifndef SHIMS_POSIX_PX_INTERNAL_H
#define SHIMS_POSIX_PX_INTERNAL_H

#include <sys/socket.h>

#include "../../core/addr.h"
#include "px_control.h"
#include "px_dns.h"
#include "px_node.h"
#include "px_timers.h"

/* Bytes the links may hold unwritten before the control socket pauses. */
#define PX_LINKS_BUSY_BYTES (1u << 20)

enum { KEY_LISTEN = 1, KEY_SIGNAL = 2, KEY_EXTRA = 3, PX_KEY_DGRAM = 4, KEY_LINK_BASE = 16 };

struct px_link {
    cs_link_id id;
    int fd;
    bool connecting;
    struct cs_addr peer;
    uint8_t *rbuf, *wbuf;
    size_t rlen, rcap, wlen, wcap, woff;
    uint32_t max_frame;  /* longer incoming frames close the link (env->link_limit) */
    bool outbound;       /* we dialled it */
    bool proven;         /* the core raised its limit: the peer proved the secret */
    cs_time opened;      /* when connect() was called or the connection accepted */
    uint32_t interest;   /* the epoll events asked for (changed only when they differ) */
    uint32_t cookie;     /* the core's number for the link (env->link_set_cookie) */
};

struct px_node {
    struct px_options opt;
    struct cs_env env;
    void *instance;
    int epfd, listen_fd, sig_fd, dgram_fd;
    bool listen_paused;        /* not even the reserve helped: accepting again at listen_paused_until */
    cs_time listen_paused_until;
    int reserve_fd;            /* /dev/null, given up to refuse a connection when descriptors run out */
    struct px_timers timers;
    struct px_link *links;
    size_t link_count, link_cap;
    size_t link_queued;        /* bytes queued on every link and not yet written */
    bool control_paused;       /* the control socket found the links busy last time it asked */
    cs_link_id next_link;
    struct deferred {
        struct cs_event ev;
        void *owned;           /* freed after delivery (a DNS answer) */
    } *deferred;               /* events caused during a handle call */
    size_t deferred_count, deferred_cap;
    struct px_dns *dns;
    cs_query_id next_query;
    bool stopping, stopped;
    cs_time stop_deadline;
    struct px_stats stats;
    struct px_control *control;
    struct {
        void (*ready)(void *ctx);
        int (*wait_ms)(void *ctx);
        void *ctx;
    } extra;
    char name[CS_NODE_NAME_MAX];
};

/* px_node.c */
struct px_node *px_node_of(struct cs_env *env);
cs_time px_mono_now(void);
void px_plog(struct px_node *n, enum cs_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queues an event caused while the core handles one; `owned` is freed after delivery. */
void px_defer_owned(struct px_node *n, const struct cs_event *ev, void *owned);
void px_defer(struct px_node *n, const struct cs_event *ev);
/* Adds, changes or removes an epoll watch of the node's loop. */
int px_watch(struct px_node *n, int fd, uint32_t events, uint64_t key, int op);
/* Hands an event to the protocol (from the loop only). */
void px_deliver(struct px_node *n, const struct cs_event *ev);
void px_deliver_down(struct px_node *n, cs_link_id id, enum cs_link_down_reason why);

/* px_links.c */
void px_from_sockaddr(const struct sockaddr_storage *ss, struct cs_addr *a);
/* The environment's link functions. */
cs_link_id px_env_link_connect(struct cs_env *env, const struct cs_addr *peer);
int px_env_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len);
void px_env_link_close(struct cs_env *env, cs_link_id link);
void px_env_link_limit(struct cs_env *env, cs_link_id link, size_t max_frame);
void px_env_link_set_cookie(struct cs_env *env, cs_link_id link, uint32_t cookie);
/* Accepts every pending inbound connection. */
void px_accept_links(struct px_node *n);
/* An epoll event on a link. */
void px_on_link_event(struct px_node *n, cs_link_id id, uint32_t events);
/* Writes every link's queued frames (once per turn of the loop). */
void px_links_flush(struct px_node *n);
/* True while the links hold PX_LINKS_BUSY_BYTES or more not yet written:
 * the control socket serves no request then (backpressure: what requests
 * make waits in the kernel's socket buffers, not in ours). */
bool px_links_busy(const struct px_node *n);
/* At exit: writes what the links still hold (a graceful stop's last frames:
 * Swarm's untracks, the fixed mode's handoffs and LEAVE) into their
 * sockets, which the kernel sends before the close; reports nothing. */
void px_links_flush_last(struct px_node *n);
/* Closes a link's socket and forgets it (no event to the core). */
void px_link_forget(struct px_node *n, struct px_link *l);

/* px_dgram.c */
int px_env_dgram_send(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len);
int px_env_dgram_join(struct cs_env *env, const struct cs_addr *group);
/* Delivers every waiting datagram. */
void px_dgram_readable(struct px_node *n);
void px_dgram_close(struct px_node *n);

#endif
