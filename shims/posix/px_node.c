/*
 * shims/posix/px_node.c: the real-socket node (see px_node.h): the epoll
 * loop, TCP links with 4-byte big-endian length-prefixed frames, timers, the
 * clock, getrandom, logging, and the graceful stop on SIGTERM.  Events the
 * core causes while it handles one (a refused connect, a DNS answer) are
 * queued and delivered by the loop, never re-entrantly.
 */
#define _GNU_SOURCE
#include "px_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/addr.h"
#include "../../core/grow.h"
#include "px_control.h"
#include "px_dns.h"
#include "px_timers.h"

enum { KEY_LISTEN = 1, KEY_SIGNAL = 2, KEY_EXTRA = 3, KEY_LINK_BASE = 16 };

struct px_link {
    cs_link_id id;
    int fd;
    bool connecting;
    struct cs_addr peer;
    uint8_t *rbuf, *wbuf;
    size_t rlen, rcap, wlen, wcap, woff;
};

struct px_node {
    struct px_options opt;
    struct cs_env env;
    void *instance;
    int epfd, listen_fd, sig_fd;
    struct px_timers timers;
    struct px_link *links;
    size_t link_count, link_cap;
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

static struct px_node *node_of(struct cs_env *env)
{
    return env->impl;
}

static cs_time mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (cs_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void plog(struct px_node *n, enum cs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void env_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    plog(node_of(env), level, "%s", line);
}

static void plog(struct px_node *n, enum cs_log_level level, const char *fmt, ...)
{
    if ((int)level < n->opt.log_level)
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] [%s] %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level & 3], n->name, line);
}

static void defer_owned(struct px_node *n, const struct cs_event *ev, void *owned)
{
    if (cs_grow((void **)&n->deferred, &n->deferred_cap, n->deferred_count + 1, sizeof *n->deferred) == 0)
        n->deferred[n->deferred_count++] = (struct deferred){*ev, owned};
    else
        free(owned);
}

static void defer(struct px_node *n, const struct cs_event *ev)
{
    defer_owned(n, ev, NULL);
}

static struct px_link *link_find(struct px_node *n, cs_link_id id)
{
    for (size_t i = 0; i < n->link_count; i++)
        if (n->links[i].id == id)
            return &n->links[i];
    return NULL;
}

static void link_forget(struct px_node *n, struct px_link *l)
{
    epoll_ctl(n->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    free(l->rbuf);
    free(l->wbuf);
    *l = n->links[--n->link_count];
}

static int watch(struct px_node *n, int fd, uint32_t events, uint64_t key, int op)
{
    struct epoll_event ev = {.events = events, .data.u64 = key};
    return epoll_ctl(n->epfd, op, fd, &ev);
}

static struct px_link *link_add(struct px_node *n, int fd, const struct cs_addr *peer, bool connecting)
{
    if (cs_grow((void **)&n->links, &n->link_cap, n->link_count + 1, sizeof *n->links) != 0)
        return NULL;
    struct px_link *l = &n->links[n->link_count++];
    memset(l, 0, sizeof *l);
    l->id = ++n->next_link;
    l->fd = fd;
    l->peer = *peer;
    l->connecting = connecting;
    if (watch(n, fd, connecting ? EPOLLOUT : EPOLLIN, KEY_LINK_BASE + (uint64_t)l->id, EPOLL_CTL_ADD) != 0) {
        n->link_count--;
        return NULL;
    }
    return l;
}

static socklen_t to_sockaddr(const struct cs_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->ip, 16);
        s6->sin6_port = htons(a->port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    memcpy(&s4->sin_addr, a->ip, 4);
    s4->sin_port = htons(a->port);
    return sizeof *s4;
}

static void from_sockaddr(const struct sockaddr_storage *ss, struct cs_addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        memcpy(a->ip, &s6->sin6_addr, 16);
        a->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->family = 4;
        memcpy(a->ip, &s4->sin_addr, 4);
        a->port = ntohs(s4->sin_port);
    }
}

static void defer_down(struct px_node *n, cs_link_id id, enum cs_link_down_reason why)
{
    struct cs_event ev = {.type = CS_EV_LINK_DOWN};
    ev.u.link_down.link = id;
    ev.u.link_down.reason = why;
    defer(n, &ev);
}

static cs_link_id env_link_connect(struct cs_env *env, const struct cs_addr *peer)
{
    struct px_node *n = node_of(env);
    struct cs_addr to = *peer;
    if (!to.port)
        to.port = n->opt.port;
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(&to, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    struct px_link *l = link_add(n, fd, &to, true);
    if (!l) {
        close(fd);
        return 0;
    }
    if (rc != 0 && errno != EINPROGRESS) { /* refused at once: tell the core from the loop */
        cs_link_id id = l->id;
        link_forget(n, l);
        defer_down(n, id, CS_LINK_REFUSED);
        return id;
    }
    return l->id;
}

/* Writes what is queued; false when the link broke. */
static bool flush(struct px_node *n, struct px_link *l)
{
    while (l->woff < l->wlen) {
        ssize_t w = send(l->fd, l->wbuf + l->woff, l->wlen - l->woff, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0)
            return false;
        l->woff += (size_t)w;
    }
    if (l->woff == l->wlen)
        l->woff = l->wlen = 0;
    if (!l->connecting)
        watch(n, l->fd, EPOLLIN | (l->wlen ? EPOLLOUT : 0), KEY_LINK_BASE + (uint64_t)l->id, EPOLL_CTL_MOD);
    return true;
}

static int env_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len)
{
    struct px_node *n = node_of(env);
    struct px_link *l = link_find(n, link);
    if (!l || len > PX_FRAME_MAX)
        return -1;
    if (cs_grow((void **)&l->wbuf, &l->wcap, l->wlen + 4 + len, 1) != 0)
        return -1;
    uint32_t be = htonl((uint32_t)len);
    memcpy(l->wbuf + l->wlen, &be, 4);
    memcpy(l->wbuf + l->wlen + 4, data, len);
    l->wlen += 4 + len;
    n->stats.frames_out++;
    if (!l->connecting && !flush(n, l)) {
        cs_link_id id = l->id;
        link_forget(n, l);
        defer_down(n, id, CS_LINK_BROKEN);
    }
    return 0;
}

static void env_link_close(struct cs_env *env, cs_link_id link)
{
    struct px_node *n = node_of(env);
    struct px_link *l = link_find(n, link);
    if (!l)
        return;
    if (l->wlen > l->woff) { /* a last frame (LEAVE) goes out before the close */
        send(l->fd, l->wbuf + l->woff, l->wlen - l->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    link_forget(n, l);
}

static int env_dgram_send(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len)
{
    (void)env, (void)to, (void)data, (void)len;
    return -1; /* not bound yet */
}

static int env_dgram_join(struct cs_env *env, const struct cs_addr *group)
{
    (void)env, (void)group;
    return -1;
}

static cs_query_id env_dns_query(struct cs_env *env, const char *name, enum cs_dns_type type)
{
    struct px_node *n = node_of(env);
    cs_query_id id = ++n->next_query;
    if (!id)
        id = ++n->next_query;
    px_dns_query(n->dns, id, name, type);
    return id;
}

/* An answer from c-ares: copied, and delivered by the loop. */
static void dns_done(void *ctx, cs_query_id id, const struct cs_dns_answer *answer)
{
    struct px_node *n = ctx;
    struct {
        struct cs_dns_answer a;
        struct cs_dns_record r[];
    } *copy = malloc(sizeof *copy + answer->count * sizeof copy->r[0]);
    if (!copy)
        return;
    copy->a = *answer;
    memcpy(copy->r, answer->records, answer->count * sizeof copy->r[0]);
    copy->a.records = copy->r;
    struct cs_event ev = {.type = CS_EV_DNS};
    ev.u.dns.query = id;
    ev.u.dns.answer = &copy->a;
    defer_owned(n, &ev, copy);
}

static cs_time env_now(struct cs_env *env)
{
    (void)env;
    return mono_now();
}

static cs_timer_id env_timer_start(struct cs_env *env, cs_time delay, uint64_t tag)
{
    return px_timers_add(&node_of(env)->timers, mono_now() + (delay > 0 ? delay : 0), tag);
}

static void env_timer_cancel(struct cs_env *env, cs_timer_id timer)
{
    px_timers_cancel(&node_of(env)->timers, timer);
}

static uint64_t env_random(struct cs_env *env)
{
    (void)env;
    uint64_t v = 0;
    while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        ;
    return v;
}

static void env_trace(struct cs_env *env, const char *kind, const char *fields)
{
    (void)env, (void)kind, (void)fields;
}

static void env_stopped(struct cs_env *env)
{
    node_of(env)->stopped = true;
}

static void env_reply(struct cs_env *env, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    struct px_node *n = node_of(env);
    plog(n, CS_LOG_DEBUG, "reply %s %s -> %s %s (%lld)", op, name ? name : "", status, owner ? owner : "",
         (long long)value);
    if (n->control)
        px_control_reply(n->control, op, name, status, owner, value);
}

static void bind_env(struct px_node *n)
{
    struct cs_env *e = &n->env;
    e->impl = n;
    e->log_enabled = 1;
    e->now = env_now;
    e->timer_start = env_timer_start;
    e->timer_cancel = env_timer_cancel;
    e->link_connect = env_link_connect;
    e->link_send = env_link_send;
    e->link_close = env_link_close;
    e->dgram_send = env_dgram_send;
    e->dgram_join = env_dgram_join;
    e->dns_query = env_dns_query;
    e->random_u64 = env_random;
    e->trace = env_trace;
    e->log = env_log;
    e->stopped = env_stopped;
    e->reply = env_reply;
}

static int open_listener(struct px_node *n, char *err, size_t errlen)
{
    struct cs_addr self = n->env.self_addr;
    self.port = n->opt.port;
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(&self, &ss);
    n->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (n->listen_fd >= 0)
        setsockopt(n->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (n->listen_fd < 0 || bind(n->listen_fd, (struct sockaddr *)&ss, len) != 0 || listen(n->listen_fd, 128) != 0) {
        char text[CS_ADDR_STRLEN];
        cs_addr_format(&self, text, sizeof text);
        snprintf(err, errlen, "cannot listen on %s port %u: %s", text, n->opt.port, strerror(errno));
        return -1;
    }
    return watch(n, n->listen_fd, EPOLLIN, KEY_LISTEN, EPOLL_CTL_ADD);
}

static int open_signals(struct px_node *n)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    n->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return n->sig_fd < 0 ? -1 : watch(n, n->sig_fd, EPOLLIN, KEY_SIGNAL, EPOLL_CTL_ADD);
}

static void control_command(void *ctx, const struct cs_command *cmd)
{
    struct px_node *n = ctx;
    struct cs_event ev = {.type = CS_EV_COMMAND};
    ev.u.command.cmd = cmd;
    n->opt.proto->handle(n->instance, &ev);
}

static int control_dump(void *ctx, char *buf, size_t size)
{
    struct px_node *n = ctx;
    return n->opt.proto->dump ? n->opt.proto->dump(n->instance, buf, size) : snprintf(buf, size, "%s", "");
}

struct view_buf {
    char *buf;
    size_t size, len;
};

static void view_name(void *ctx, const char *name)
{
    struct view_buf *v = ctx;
    if (v->len < v->size)
        v->len += (size_t)snprintf(v->buf + v->len, v->size - v->len, "%s\"%s\"", v->len ? "," : "", name);
}

static int control_view(void *ctx, char *buf, size_t size)
{
    struct px_node *n = ctx;
    struct view_buf v = {buf, size, 0};
    buf[0] = '\0';
    n->opt.proto->view(n->instance, view_name, &v);
    return (int)(v.len < size ? v.len : size - 1);
}

struct px_node *px_node_new(const struct px_options *opt, char *err, size_t errlen)
{
    struct px_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->opt = *opt;
    n->listen_fd = n->sig_fd = -1;
    snprintf(n->name, sizeof n->name, "%s", opt->name);
    px_timers_init(&n->timers);
    bind_env(n);
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (cs_node_name_addr(opt->name, &n->env.self_addr) != 0) {
        snprintf(err, errlen, "'%s' is not a node name of the form basename@address", opt->name);
        px_node_free(n);
        return NULL;
    }
    if (n->epfd < 0 || open_listener(n, err, errlen) != 0 || open_signals(n) != 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
        px_node_free(n);
        return NULL;
    }
    n->instance = opt->proto->create(&n->env, opt->config, opt->name);
    if (!n->instance) {
        snprintf(err, errlen, "the protocol could not be created (bad configuration or out of memory)");
        px_node_free(n);
        return NULL;
    }
    if (!(n->dns = px_dns_new(n->epfd, opt->dns_servers, dns_done, n, err, errlen))) {
        px_node_free(n);
        return NULL;
    }
    struct px_control_host host = {n, control_command, control_dump, control_view};
    if (opt->control_path && !(n->control = px_control_new(n->epfd, opt->control_path, &host, err, errlen))) {
        px_node_free(n);
        return NULL;
    }
    return n;
}

/* ---- the loop ---- */

static void deliver(struct px_node *n, const struct cs_event *ev)
{
    n->opt.proto->handle(n->instance, ev);
}

/* Tells the core a link went, from the loop (not from inside a core call). */
static void deliver_down(struct px_node *n, cs_link_id id, enum cs_link_down_reason why)
{
    struct cs_event ev = {.type = CS_EV_LINK_DOWN};
    ev.u.link_down.link = id;
    ev.u.link_down.reason = why;
    deliver(n, &ev);
}

static void accept_links(struct px_node *n)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(n->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct cs_addr peer;
        from_sockaddr(&ss, &peer);
        struct px_link *l = link_add(n, fd, &peer, false);
        if (!l) {
            close(fd);
            n->stats.links_refused++;
            continue;
        }
        n->stats.links_accepted++;
        struct cs_event ev = {.type = CS_EV_LINK_UP};
        ev.u.link_up.link = l->id;
        ev.u.link_up.inbound = true;
        ev.u.link_up.peer = peer;
        deliver(n, &ev);
    }
}

static void link_connected(struct px_node *n, struct px_link *l)
{
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    cs_link_id id = l->id;
    if (error) {
        link_forget(n, l);
        deliver_down(n, id, CS_LINK_REFUSED);
        return;
    }
    l->connecting = false;
    struct cs_event ev = {.type = CS_EV_LINK_UP};
    ev.u.link_up.link = id;
    ev.u.link_up.inbound = false;
    ev.u.link_up.peer = l->peer;
    if (!flush(n, l)) { /* frames queued while connecting */
        link_forget(n, l);
        defer_down(n, id, CS_LINK_BROKEN);
    }
    deliver(n, &ev);
}

/* Takes every whole frame out of the read buffer; false when the link went
 * (an oversized frame, or the core closed it). */
static bool take_frames(struct px_node *n, cs_link_id id)
{
    for (;;) {
        struct px_link *l = link_find(n, id);
        if (!l)
            return false;
        if (l->rlen < 4)
            return true;
        uint32_t be;
        memcpy(&be, l->rbuf, 4);
        uint32_t len = ntohl(be);
        if (len > PX_FRAME_MAX) {
            n->stats.oversized_frames++;
            plog(n, CS_LOG_WARN, "closing a link: a frame of %u bytes (limit %u)", len, PX_FRAME_MAX);
            link_forget(n, l);
            deliver_down(n, id, CS_LINK_BROKEN);
            return false;
        }
        if (l->rlen < 4 + (size_t)len)
            return true;
        uint8_t *frame = malloc(len ? len : 1); /* the core may close the link while it reads */
        if (!frame)
            return true;
        memcpy(frame, l->rbuf + 4, len);
        memmove(l->rbuf, l->rbuf + 4 + len, l->rlen - 4 - len);
        l->rlen -= 4 + len;
        n->stats.frames_in++;
        struct cs_event ev = {.type = CS_EV_LINK_MSG};
        ev.u.msg.link = id;
        ev.u.msg.data = frame;
        ev.u.msg.len = len;
        deliver(n, &ev);
        free(frame);
    }
}

static void link_readable(struct px_node *n, struct px_link *l)
{
    cs_link_id id = l->id;
    for (;;) {
        l = link_find(n, id);
        if (!l)
            return;
        if (cs_grow((void **)&l->rbuf, &l->rcap, l->rlen + 65536, 1) != 0)
            return;
        ssize_t r = recv(l->fd, l->rbuf + l->rlen, l->rcap - l->rlen, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            enum cs_link_down_reason why = r == 0 ? CS_LINK_CLOSED : CS_LINK_BROKEN;
            take_frames(n, id);
            if ((l = link_find(n, id)))
                link_forget(n, l);
            deliver_down(n, id, why);
            return;
        }
        l->rlen += (size_t)r;
        if (!take_frames(n, id))
            return;
    }
}

static void on_link_event(struct px_node *n, cs_link_id id, uint32_t events)
{
    struct px_link *l = link_find(n, id);
    if (!l)
        return;
    if (l->connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            link_connected(n, l);
        return;
    }
    if (events & EPOLLOUT) {
        if (!flush(n, l)) {
            link_forget(n, l);
            deliver_down(n, id, CS_LINK_BROKEN);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        link_readable(n, l);
}

static void on_signal(struct px_node *n)
{
    struct signalfd_siginfo info;
    while (read(n->sig_fd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (n->stopping) {
            plog(n, CS_LOG_WARN, "second signal: exiting at once");
            n->stopped = true;
            return;
        }
        plog(n, CS_LOG_INFO, "signal %u: leaving gracefully (at most %lld ms)", info.ssi_signo,
             (long long)(n->opt.grace / 1000000));
        n->stopping = true;
        n->stop_deadline = mono_now() + n->opt.grace;
        struct cs_event ev = {.type = CS_EV_STOP};
        ev.u.stop.grace = n->opt.grace;
        deliver(n, &ev);
    }
}

static void run_deferred(struct px_node *n)
{
    while (n->deferred_count && !n->stopped) {
        struct deferred d = n->deferred[0];
        memmove(n->deferred, n->deferred + 1, --n->deferred_count * sizeof *n->deferred);
        deliver(n, &d.ev);
        free(d.owned);
    }
}

static int wait_ms(struct px_node *n)
{
    if (n->deferred_count)
        return 0;
    cs_time next = px_timers_next(&n->timers);
    if (n->stopping && (next < 0 || n->stop_deadline < next))
        next = n->stop_deadline;
    int dns = px_dns_wait_ms(n->dns);
    int extra = n->extra.wait_ms ? n->extra.wait_ms(n->extra.ctx) : -1;
    if (extra >= 0 && (dns < 0 || extra < dns))
        dns = extra;
    int ms = 1000;
    if (next >= 0) {
        cs_time left = next - mono_now();
        ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    return dns >= 0 && dns < ms ? dns : ms;
}

int px_node_run(struct px_node *n)
{
    n->opt.proto->start(n->instance);
    plog(n, CS_LOG_INFO, "listening on port %u", n->opt.port);
    while (!n->stopped) {
        run_deferred(n);
        struct epoll_event evs[64];
        int count = epoll_wait(n->epfd, evs, 64, wait_ms(n));
        if (count < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < count && !n->stopped; i++) {
            uint64_t key = evs[i].data.u64;
            if (key == KEY_LISTEN)
                accept_links(n);
            else if (key == KEY_SIGNAL)
                on_signal(n);
            else if (key == KEY_EXTRA && n->extra.ready)
                n->extra.ready(n->extra.ctx);
            else if (key >= PX_DNS_KEY_BASE)
                px_dns_event(n->dns, key, evs[i].events);
            else if (key >= PX_CONTROL_KEY_BASE && n->control)
                px_control_event(n->control, key, evs[i].events);
            else
                on_link_event(n, (cs_link_id)(key - KEY_LINK_BASE), evs[i].events);
        }
        px_dns_timeouts(n->dns);
        struct px_timer t;
        cs_time now = mono_now();
        while (!n->stopped && px_timers_pop_due(&n->timers, now, &t)) {
            struct cs_event ev = {.type = CS_EV_TIMER};
            ev.u.timer.id = t.id;
            ev.u.timer.tag = t.tag;
            deliver(n, &ev);
        }
        if (n->stopping && !n->stopped && mono_now() >= n->stop_deadline) {
            plog(n, CS_LOG_WARN, "the graceful stop ran out of time: exiting");
            n->stopped = true;
        }
    }
    plog(n, CS_LOG_INFO, "stopped");
    return 0;
}

int px_node_watch(struct px_node *n, int fd, void (*ready)(void *ctx), int (*bound_ms)(void *ctx), void *ctx)
{
    n->extra.ready = ready;
    n->extra.wait_ms = bound_ms;
    n->extra.ctx = ctx;
    return watch(n, fd, EPOLLIN, KEY_EXTRA, EPOLL_CTL_ADD);
}

void *px_node_instance(struct px_node *n)
{
    return n->instance;
}

bool px_node_stopping(const struct px_node *n)
{
    return n->stopping;
}

const struct px_stats *px_node_stats(const struct px_node *n)
{
    return &n->stats;
}

void px_node_free(struct px_node *n)
{
    if (!n)
        return;
    px_control_free(n->control);
    if (n->instance)
        n->opt.proto->destroy(n->instance);
    while (n->link_count)
        link_forget(n, &n->links[0]);
    free(n->links);
    for (size_t i = 0; i < n->deferred_count; i++)
        free(n->deferred[i].owned);
    free(n->deferred);
    px_dns_free(n->dns);
    px_timers_free(&n->timers);
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    if (n->sig_fd >= 0)
        close(n->sig_fd);
    if (n->epfd >= 0)
        close(n->epfd);
    free(n);
}
