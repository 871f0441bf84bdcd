/*
 * shims/posix/px_links.c: the real-socket node's TCP links: non-blocking
 * connects, accepts, 4-byte big-endian length-prefixed frames (longer than
 * the link's limit closes the link, counted: PX_HANDSHAKE_READ_MAX until
 * the core raises it through env->link_limit once the peer is proven, so
 * an unauthenticated connection never makes us buffer more than a few KiB),
 * write queues flushed on EPOLLOUT, and link-down events when a peer closes
 * or the path breaks.
 */
#define _GNU_SOURCE
#include "px_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../../core/grow.h"

static struct px_link *link_find(struct px_node *n, cs_link_id id)
{
    for (size_t i = 0; i < n->link_count; i++)
        if (n->links[i].id == id)
            return &n->links[i];
    return NULL;
}

void px_link_forget(struct px_node *n, struct px_link *l)
{
    epoll_ctl(n->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    free(l->rbuf);
    free(l->wbuf);
    n->link_queued -= l->wlen - l->woff;
    *l = n->links[--n->link_count];
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
    l->outbound = connecting;
    l->opened = px_mono_now();
    l->max_frame = PX_HANDSHAKE_READ_MAX;
    l->interest = connecting ? EPOLLOUT : EPOLLIN;
    if (px_watch(n, fd, l->interest, KEY_LINK_BASE + (uint64_t)l->id, EPOLL_CTL_ADD) != 0) {
        n->link_count--;
        return NULL;
    }
    return l;
}

socklen_t px_to_sockaddr(const struct cs_addr *a, struct sockaddr_storage *ss)
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

void px_from_sockaddr(const struct sockaddr_storage *ss, struct cs_addr *a)
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
    px_defer(n, &ev);
}

cs_link_id px_env_link_connect(struct cs_env *env, const struct cs_addr *peer)
{
    struct px_node *n = px_node_of(env);
    struct cs_addr to = *peer;
    if (!to.port)
        to.port = n->opt.port;
    struct sockaddr_storage ss;
    socklen_t len = px_to_sockaddr(&to, &ss);
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
        px_link_forget(n, l);
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
        n->link_queued -= (size_t)w;
    }
    if (l->woff == l->wlen)
        l->woff = l->wlen = 0;
    uint32_t want = EPOLLIN | (l->wlen ? EPOLLOUT : 0);
    if (!l->connecting && want != l->interest &&
        px_watch(n, l->fd, want, KEY_LINK_BASE + (uint64_t)l->id, EPOLL_CTL_MOD) == 0)
        l->interest = want;
    return true;
}

int px_env_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len)
{
    struct px_node *n = px_node_of(env);
    struct px_link *l = link_find(n, link);
    if (!l || len > PX_FRAME_MAX)
        return -1;
    if (l->woff && l->wlen + 4 + len > l->wcap) { /* what was written makes room first */
        memmove(l->wbuf, l->wbuf + l->woff, l->wlen - l->woff);
        l->wlen -= l->woff;
        l->woff = 0;
    }
    if (cs_grow((void **)&l->wbuf, &l->wcap, l->wlen + 4 + len, 1) != 0)
        return -1;
    uint32_t be = htonl((uint32_t)len);
    memcpy(l->wbuf + l->wlen, &be, 4);
    memcpy(l->wbuf + l->wlen + 4, data, len);
    l->wlen += 4 + len;
    n->link_queued += 4 + len;
    if (n->link_queued > n->stats.links_unwritten_peak)
        n->stats.links_unwritten_peak = n->link_queued;
    n->stats.frames_out++;
    /* Written at the end of the loop's turn (px_links_flush), so the frames
     * one event causes go out in one system call; a large queue goes now. */
    if (!l->connecting && l->wlen - l->woff >= (256u << 10) && !flush(n, l)) {
        cs_link_id id = l->id;
        px_link_forget(n, l);
        defer_down(n, id, CS_LINK_BROKEN);
    }
    return 0;
}

bool px_links_busy(const struct px_node *n)
{
    return n->link_queued >= PX_LINKS_BUSY_BYTES;
}

void px_links_flush(struct px_node *n)
{
    for (size_t i = 0; i < n->link_count;) {
        struct px_link *l = &n->links[i];
        if (l->connecting || l->wlen == l->woff || flush(n, l)) {
            i++;
            continue;
        }
        cs_link_id id = l->id;
        px_link_forget(n, l); /* the slot now holds another link: look at i again */
        px_deliver_down(n, id, CS_LINK_BROKEN);
    }
}

void px_links_flush_last(struct px_node *n)
{
    for (size_t i = 0; i < n->link_count; i++) {
        struct px_link *l = &n->links[i];
        if (!l->connecting && l->wlen > l->woff)
            flush(n, l); /* what does not fit the socket now is lost, as at any exit */
    }
}

void px_env_link_close(struct cs_env *env, cs_link_id link)
{
    struct px_node *n = px_node_of(env);
    struct px_link *l = link_find(n, link);
    if (!l)
        return;
    if (l->wlen > l->woff) { /* a last frame (LEAVE) goes out before the close */
        send(l->fd, l->wbuf + l->woff, l->wlen - l->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    px_link_forget(n, l);
}

const cs_time px_handshake_le[PX_HANDSHAKE_BUCKETS] = {
    CS_USEC(500), CS_MSEC(1),   CS_USEC(2500), CS_MSEC(5),   CS_MSEC(10),   CS_MSEC(25), CS_MSEC(50),
    CS_MSEC(100), CS_MSEC(250), CS_MSEC(500), CS_MSEC(1000), CS_MSEC(2500), CS_SEC(5),   CS_SEC(10),
};

static void observe(struct px_histogram *h, cs_time took)
{
    size_t b = 0;
    while (b < PX_HANDSHAKE_BUCKETS && took > px_handshake_le[b])
        b++;
    h->buckets[b]++;
    h->sum += took;
}

/* The core raises a link's limit above the handshake's once the peer is
 * proven (core/README.md): the handshake ends there. */
void px_env_link_limit(struct cs_env *env, cs_link_id link, size_t max_frame)
{
    struct px_node *n = px_node_of(env);
    struct px_link *l = link_find(n, link);
    if (!l)
        return;
    l->max_frame = max_frame < PX_FRAME_MAX ? (uint32_t)max_frame : PX_FRAME_MAX;
    if (!l->proven && max_frame > PX_HANDSHAKE_READ_MAX) {
        l->proven = true;
        observe(&n->stats.handshake[l->outbound ? PX_OUTBOUND : PX_INBOUND], px_mono_now() - l->opened);
    }
}

void px_env_link_set_cookie(struct cs_env *env, cs_link_id link, uint32_t cookie)
{
    struct px_link *l = link_find(px_node_of(env), link);
    if (l)
        l->cookie = cookie;
}

/* Out of descriptors: accept the waiting connection on the reserve one and
 * close it at once, so the listener stops being readable (a failing
 * accept would wake the loop forever). False when even that failed. */
static bool refuse_one(struct px_node *n)
{
    if (n->reserve_fd < 0)
        return false;
    close(n->reserve_fd);
    int fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    n->stats.links_refused++;
    if (!(n->stats.links_refused & (n->stats.links_refused - 1)))
        px_plog(n, CS_LOG_WARN, "out of file descriptors: refused a connection (%llu so far)",
                (unsigned long long)n->stats.links_refused);
    return fd >= 0;
}

void px_accept_links(struct px_node *n)
{
    for (int taken = 0; taken < 256; taken++) { /* then let other sockets have a turn */
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(n->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            if (refuse_one(n))
                continue;
            /* Not even that: stop listening for 100 ms rather than spin. */
            epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->listen_fd, NULL);
            n->listen_paused = true;
            n->listen_paused_until = px_mono_now() + CS_MSEC(100);
            return;
        }
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct cs_addr peer;
        px_from_sockaddr(&ss, &peer);
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
        px_deliver(n, &ev);
    }
}

static void link_connected(struct px_node *n, struct px_link *l)
{
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    cs_link_id id = l->id;
    if (error) {
        px_link_forget(n, l);
        px_deliver_down(n, id, CS_LINK_REFUSED);
        return;
    }
    l->connecting = false;
    struct cs_event ev = {.type = CS_EV_LINK_UP};
    ev.u.link_up.link = id;
    ev.u.link_up.inbound = false;
    ev.u.link_up.peer = l->peer;
    if (!flush(n, l)) { /* frames queued while connecting */
        px_link_forget(n, l);
        defer_down(n, id, CS_LINK_BROKEN);
    }
    px_deliver(n, &ev);
}

/* Takes every whole frame out of the read buffer; false when the link went
 * (an oversized frame, or the core closed it).  The frames are handed to
 * the core where they lie: the buffer is detached from the link while
 * they are delivered (the core may close the link, which would free it),
 * and what is left (less than a frame) moves to its front once at the
 * end, not after every frame. */
static bool take_frames(struct px_node *n, cs_link_id id)
{
    struct px_link *l = link_find(n, id);
    if (!l)
        return false;
    uint8_t *buf = l->rbuf;
    size_t len = l->rlen, cap = l->rcap, off = 0;
    l->rbuf = NULL;
    l->rlen = l->rcap = 0;
    bool alive = true;
    while (len - off >= 4) {
        uint32_t be;
        memcpy(&be, buf + off, 4);
        uint32_t flen = ntohl(be);
        if (flen > l->max_frame) {
            n->stats.oversized_frames++;
            if (!(n->stats.oversized_frames & (n->stats.oversized_frames - 1)))
                px_plog(n, CS_LOG_WARN, "closing a link: a frame of %u bytes (limit %u; %llu so far)", flen,
                        l->max_frame, (unsigned long long)n->stats.oversized_frames);
            px_link_forget(n, l);
            px_deliver_down(n, id, CS_LINK_BROKEN);
            alive = false;
            break;
        }
        if (len - off - 4 < (size_t)flen)
            break;
        n->stats.frames_in++;
        struct cs_event ev = {.type = CS_EV_LINK_MSG};
        ev.u.msg.link = id;
        ev.u.msg.cookie = l->cookie;
        ev.u.msg.data = buf + off + 4;
        ev.u.msg.len = flen;
        off += 4 + (size_t)flen;
        px_deliver(n, &ev);
        if (!(l = link_find(n, id))) { /* the core closed it */
            alive = false;
            break;
        }
    }
    if (!alive) {
        free(buf);
        return false;
    }
    if (off) {
        memmove(buf, buf + off, len - off);
        len -= off;
    }
    l->rbuf = buf;
    l->rlen = len;
    l->rcap = cap;
    return true;
}

static void link_readable(struct px_node *n, struct px_link *l)
{
    cs_link_id id = l->id;
    for (;;) {
        l = link_find(n, id);
        if (!l)
            return;
        /* Read no further ahead than one frame of the link's limit: what
         * waits here is less than one frame (whole ones were taken). */
        size_t ahead = l->max_frame + 4 < 65536 ? l->max_frame + 4 : 65536;
        if (cs_grow((void **)&l->rbuf, &l->rcap, l->rlen + ahead, 1) != 0)
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
                px_link_forget(n, l);
            px_deliver_down(n, id, why);
            return;
        }
        l->rlen += (size_t)r;
        if (!take_frames(n, id))
            return;
    }
}

void px_on_link_event(struct px_node *n, cs_link_id id, uint32_t events)
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
            px_link_forget(n, l);
            px_deliver_down(n, id, CS_LINK_BROKEN);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        link_readable(n, l);
}
