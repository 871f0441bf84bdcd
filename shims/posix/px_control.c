/*
 * shims/posix/px_control.c: the control socket (see px_control.h).
 */
#define _GNU_SOURCE
#include "px_control.h"

#include "../../core/json_text.h"
#include "px_internal.h"
#include "px_status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/un.h>

#include "../../core/grow.h"

#define LINE_MAX_BYTES 4096
/* What one read takes from a client: many pipelined requests a system call. */
#define IN_BYTES (64u << 10)
/* A client with this many answer bytes unread is not read from, and its
 * requests already read wait, until it catches up (backpressure, no growth). */
#define OUT_PAUSE_BYTES (1u << 20)
#define PENDING_MAX 65536

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

/* A request waiting for the protocol's reply: clients may pipeline, and
 * replies go to the oldest request with the same op and name.  `key`
 * hashes both, so a reply compares strings only where it may match;
 * `answered` marks one answered out of order (the oldest and the newest
 * leave the ring at once). */
struct pending {
    uint32_t client, key;
    bool answered;
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
    struct {                   /* the request being handled: most are answered at once */
        uint32_t client;
        const char *op, *name;
        bool active, answered;
    } current;
    uint32_t next_id;
    uint64_t refused, refused_by[PX_CONTROL_REFUSALS];
    uint64_t strangers;        /* connections from other users, closed at once */
};

/* Queues answer bytes; px_control_flush writes them, many per call. */
static void send_bytes(struct client *cl, const char *bytes, size_t len)
{
    if (cs_grow((void **)&cl->out, &cl->out_cap, cl->out_len + len, 1) != 0)
        return;
    memcpy(cl->out + cl->out_len, bytes, len);
    cl->out_len += len;
}

/* Queues an answer line. */
static void send_line(struct client *cl, const char *line)
{
    send_bytes(cl, line, strlen(line));
}

/* Asks epoll for writability while answers wait (so they go out as soon as
 * the client reads, with no other event needed), and stops reading a client
 * that has not read OUT_PAUSE_BYTES of answers, or that closed its side. */
static void update_interest(struct px_control *c, struct client *cl)
{
    uint32_t want = (cl->out_len < OUT_PAUSE_BYTES && !cl->eof ? EPOLLIN : 0) | (cl->out_len ? EPOLLOUT : 0);
    if (want == cl->interest)
        return;
    struct epoll_event ev = {.events = want, .data.u64 = PX_CONTROL_KEY_BASE + cl->id};
    if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
        cl->interest = want;
}

/* Writes what the client can take now; false when its socket broke. */
static bool write_out(struct client *cl)
{
    size_t off = 0;
    while (off < cl->out_len) {
        ssize_t w = send(cl->fd, cl->out + off, cl->out_len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break; /* a client that does not read: the rest waits for EPOLLOUT */
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    if (off) {
        memmove(cl->out, cl->out + off, cl->out_len - off);
        cl->out_len -= off;
    }
    return true;
}

static void drop_client(struct px_control *c, size_t i)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->clients[i].fd, NULL);
    close(c->clients[i].fd);
    free(c->clients[i].in);
    free(c->clients[i].out);
    c->clients[i] = c->clients[--c->count];
}

static bool has_line(const struct client *cl)
{
    return cl->in_len && memchr(cl->in, '\n', cl->in_len);
}

static bool serve_lines(struct px_control *c, size_t i);

/* Writes a client's answers, serves the requests it left waiting once it
 * has read enough, and lets a client that closed its side go once all is
 * answered; false when the client was dropped (its slot holds another). */
static bool flush_client(struct px_control *c, size_t i)
{
    struct client *cl = &c->clients[i];
    if (!write_out(cl)) {
        drop_client(c, i);
        return false;
    }
    if (cl->out_len < OUT_PAUSE_BYTES && has_line(cl) && !serve_lines(c, i))
        return false;
    cl = &c->clients[i];
    if (cl->eof && !cl->out_len && !has_line(cl)) {
        drop_client(c, i);
        return false;
    }
    update_interest(c, cl);
    return true;
}

void px_control_flush(struct px_control *c)
{
    for (size_t i = 0; c && i < c->count;)
        if (flush_client(c, i))
            i++;
}

/* A leftover socket of ours (a daemon that died) may go; anything else at
 * the path (another user's socket, a file, a link) is refused, not removed. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s exists and is not a socket of this user: refusing to replace it", path);
        return -1;
    }
    unlink(path);
    return 0;
}

/* Only this user (or root) may drive the daemon. */
static bool peer_allowed(struct px_control *c, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
        (cred.uid == geteuid() || cred.uid == 0))
        return true;
    c->strangers++;
    return false;
}

struct px_control *px_control_new(int epfd, const char *path, const struct px_control_host *host, char *err,
                                  size_t errlen)
{
    struct px_control *c = calloc(1, sizeof *c);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!c || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "the control socket path is too long: %s", path);
        free(c);
        return NULL;
    }
    c->epfd = epfd;
    c->host = *host;
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (clear_stale(path, err, errlen) != 0) {
        free(c);
        return NULL;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = PX_CONTROL_KEY_BASE};
    mode_t old_mask = umask(0177); /* the socket is born 0600, whatever the caller's umask */
    int bound = c->fd >= 0 ? bind(c->fd, (struct sockaddr *)&sa, sizeof sa) : -1;
    umask(old_mask);
    if (c->fd < 0 || bound != 0 || chmod(path, 0600) != 0 || listen(c->fd, 16) != 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        snprintf(err, errlen, "cannot listen on the control socket %s: %s", path, strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

static void accept_clients(struct px_control *c)
{
    for (;;) {
        int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (!peer_allowed(c, fd)) {
            close(fd);
            continue;
        }
        if (cs_grow((void **)&c->clients, &c->cap, c->count + 1, sizeof *c->clients) != 0) {
            close(fd);
            continue;
        }
        struct client *cl = &c->clients[c->count];
        memset(cl, 0, sizeof *cl);
        cl->fd = fd;
        cl->id = ++c->next_id;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = PX_CONTROL_KEY_BASE + cl->id};
        cl->interest = EPOLLIN;
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        c->count++;
    }
}

const char *px_control_refusal_name(enum px_control_refusal why)
{
    static const char *const names[PX_CONTROL_REFUSALS] = {"malformed", "line_too_long", "too_many_in_flight"};
    return (unsigned)why < PX_CONTROL_REFUSALS ? names[why] : "?";
}

/* Answers a refused request with its reason (the loop writes it), counted,
 * and logged on the 1st, 2nd, 4th, 8th... time for that reason. */
static void refuse(struct px_control *c, struct client *cl, enum px_control_refusal why)
{
    static const char *const answers[PX_CONTROL_REFUSALS] = {
        "malformed request: expected OP<TAB>NAME<TAB>ARG<TAB>VALUE",
        "request line too long",
        "too many requests in flight",
    };
    char line[256];
    c->refused++;
    uint64_t count = ++c->refused_by[why];
    if (!(count & (count - 1)))
        px_plog(c->host.ctx, CS_LOG_WARN, "control socket: refused a request: %s (%llu so far)",
                px_control_refusal_name(why), (unsigned long long)count);
    snprintf(line, sizeof line, "{\"error\":\"%s\"}\n", answers[why]);
    send_line(cl, line);
}

/* Sends {"KEY":JSON} and frees json (NULL: out of memory, an error line). */
static void answer_json(struct client *cl, const char *key, char *json)
{
    char *out = json ? malloc(strlen(json) + strlen(key) + 8) : NULL;
    if (out) {
        sprintf(out, "{\"%s\":%s}\n", key, json);
        send_line(cl, out);
    } else {
        send_line(cl, "{\"error\":\"out of memory\"}\n");
    }
    free(out);
    free(json);
}

/* Splits "op\tname\targ\tvalue"; false when malformed. */
static bool parse(char *line, struct cs_command *cmd, char **fields)
{
    size_t n = 0;
    for (char *p = line; n < 4;) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    if (n == 4 && strchr(fields[3], '\t'))
        return false;
    for (size_t i = n; i < 4; i++)
        fields[i] = "";
    char *end;
    errno = 0;
    long long value = fields[3][0] ? strtoll(fields[3], &end, 10) : 0;
    if (!fields[0][0] || strlen(fields[0]) >= 32 || strlen(fields[1]) >= 128 || strlen(fields[2]) >= 256 ||
        (fields[3][0] && (*end || errno)))
        return false;
    *cmd = (struct cs_command){.op = fields[0], .name = fields[1][0] ? fields[1] : NULL,
                               .arg = fields[2][0] ? fields[2] : NULL, .value = value};
    return true;
}

/* FNV-1a of op and name: where a reply may match. */
static uint32_t pending_key(const char *op, const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)op; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* Room for one more waiting request (the ring doubles when full); false
 * when PENDING_MAX requests wait or memory ran out. */
static bool pending_reserve(struct px_control *c)
{
    if (c->pending_count >= PENDING_MAX)
        return false;
    if (c->pending_count == c->pending_cap) {
        size_t cap = c->pending_cap ? c->pending_cap * 2 : 64;
        struct pending *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return false;
        for (size_t k = 0; k < c->pending_count; k++)
            ring[k] = c->pending[(c->pending_head + k) & (c->pending_cap - 1)];
        free(c->pending);
        c->pending = ring;
        c->pending_cap = cap;
        c->pending_head = 0;
    }
    return true;
}

/* Queues a request the protocol did not answer at once (after
 * pending_reserve); op and name fit (parse checked their lengths). */
static void pending_push(struct px_control *c, uint32_t client, const char *op, const char *name)
{
    struct pending *p = &c->pending[(c->pending_head + c->pending_count++) & (c->pending_cap - 1)];
    p->client = client;
    p->answered = false;
    p->key = pending_key(op, name);
    memcpy(p->op, op, strlen(op) + 1);
    memcpy(p->name, name, strlen(name) + 1);
}

/* The oldest unanswered request for op and name, or NULL. */
static struct pending *pending_find(struct px_control *c, const char *op, const char *name)
{
    if (!c->pending_count)
        return NULL;
    uint32_t key = pending_key(op, name);
    for (size_t k = 0; k < c->pending_count; k++) {
        struct pending *p = &c->pending[(c->pending_head + k) & (c->pending_cap - 1)];
        if (!p->answered && p->key == key && !strcmp(p->op, op) && !strcmp(p->name, name))
            return p;
    }
    return NULL;
}

/* Marks a request answered; answered ones at either end of the ring leave. */
static void pending_answered(struct px_control *c, struct pending *p)
{
    p->answered = true;
    size_t mask = c->pending_cap - 1;
    while (c->pending_count && c->pending[c->pending_head].answered) {
        c->pending_head = (c->pending_head + 1) & mask;
        c->pending_count--;
    }
    while (c->pending_count && c->pending[(c->pending_head + c->pending_count - 1) & mask].answered)
        c->pending_count--;
}

static void request(struct px_control *c, size_t i, char *line)
{
    struct client *cl = &c->clients[i];
    struct cs_command cmd;
    char *fields[4];
    if (!parse(line, &cmd, fields)) {
        refuse(c, cl, PX_CONTROL_MALFORMED);
        return;
    }
    static char big[65536], esc[131072];
    if (!strcmp(cmd.op, "dump") || !strcmp(cmd.op, "view")) {
        bool dump = !strcmp(cmd.op, "dump");
        int n = dump ? c->host.dump(c->host.ctx, big, sizeof big) : c->host.view(c->host.ctx, big, sizeof big);
        if (n < 0)
            big[0] = '\0';
        if (dump)
            cs_json_escape(big, esc, sizeof esc);
        char *out = malloc(strlen(dump ? esc : big) + 32);
        if (!out)
            return;
        sprintf(out, dump ? "{\"dump\":\"%s\"}\n" : "{\"view\":[%s]}\n", dump ? esc : big);
        send_line(cl, out);
        free(out);
        return;
    }
    if (!strcmp(cmd.op, "state") || !strcmp(cmd.op, "peers")) {
        /* the host is the node (px_control.h) */
        answer_json(cl, cmd.op, !strcmp(cmd.op, "state") ? px_status_state(c->host.ctx) : px_status_peers(c->host.ctx));
        return;
    }
    if (!strcmp(cmd.op, "probe") && c->host.probe) {
        static char probe[160000];
        int n = c->host.probe(c->host.ctx, probe, sizeof probe - 16);
        char *out = malloc((n > 0 ? (size_t)n : 2) + 16);
        if (!out)
            return;
        sprintf(out, "{\"probe\":%s}\n", n > 0 ? probe : "{}");
        send_line(cl, out);
        free(out);
        return;
    }
    if (!pending_reserve(c)) {
        refuse(c, cl, PX_CONTROL_TOO_MANY_IN_FLIGHT);
        return;
    }
    const char *name = cmd.name ? cmd.name : "";
    c->current.client = cl->id;
    c->current.op = cmd.op;
    c->current.name = name;
    c->current.active = true;
    c->current.answered = false;
    c->host.command(c->host.ctx, &cmd); /* may answer at once, through px_control_reply */
    c->current.active = false;
    if (!c->current.answered)
        pending_push(c, c->current.client, cmd.op, name); /* answered later */
}

/* Serves the whole request lines a client sent, until its unread answers
 * reach OUT_PAUSE_BYTES (the rest waits for px_control_flush); what is
 * left, part of a line, moves to the buffer's front.  A line of
 * LINE_MAX_BYTES or more is refused and the client dropped: false then. */
static bool serve_lines(struct px_control *c, size_t i)
{
    struct client *cl = &c->clients[i];
    size_t off = 0;
    while (cl->out_len < OUT_PAUSE_BYTES) {
        char *line = cl->in + off;
        size_t left = cl->in_len - off;
        char *nl = left ? memchr(line, '\n', left < LINE_MAX_BYTES ? left : LINE_MAX_BYTES) : NULL;
        if (!nl) {
            if (left < LINE_MAX_BYTES)
                break;
            refuse(c, cl, PX_CONTROL_LINE_TOO_LONG);
            write_out(cl);
            drop_client(c, i);
            return false;
        }
        *nl = '\0';
        off += (size_t)(nl - line) + 1;
        request(c, i, line);
        cl = &c->clients[i];
    }
    if (off == cl->in_len) {
        free(cl->in);
        cl->in = NULL;
        cl->in_len = 0;
    } else if (off) {
        memmove(cl->in, cl->in + off, cl->in_len - off);
        cl->in_len -= off;
    }
    return true;
}

/* Reads what a client sent (up to IN_BYTES waiting) and serves it. */
static void client_readable(struct px_control *c, uint32_t id)
{
    for (size_t i = 0; i < c->count; i++) {
        if (c->clients[i].id != id)
            continue;
        struct client *cl = &c->clients[i];
        if (!cl->eof && cl->in_len < IN_BYTES) {
            if (!cl->in && !(cl->in = malloc(IN_BYTES)))
                return;
            ssize_t r = recv(cl->fd, cl->in + cl->in_len, IN_BYTES - cl->in_len, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (r < 0) {
                drop_client(c, i);
                return;
            }
            if (r == 0)
                cl->eof = true; /* answered, then dropped, by px_control_flush */
            cl->in_len += (size_t)r;
        }
        serve_lines(c, i);
        return;
    }
}

void px_control_event(struct px_control *c, uint64_t key, uint32_t events)
{
    if (key == PX_CONTROL_KEY_BASE)
        accept_clients(c);
    else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        client_readable(c, (uint32_t)(key - PX_CONTROL_KEY_BASE));
    /* EPOLLOUT alone: the loop's px_control_flush writes what waits */
    px_control_flush(c);
}

/* The ops whose reply carries a process's handle in its value. */
static bool answers_with_handle(const char *op)
{
    return !strcmp(op, "register") || !strcmp(op, "register_started") || !strcmp(op, "whereis") ||
           !strcmp(op, "unregister");
}

/* Appends s as a JSON string's content: copied when it is printable ASCII
 * with no quote or backslash (names almost always are), else escaped
 * (core/json_text.h).  `room` must hold 6 bytes a byte of s, plus 8. */
static char *put_json_text(char *o, const char *s, size_t room)
{
    const char *p = s;
    while ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\')
        p++;
    if (!*p) {
        memcpy(o, s, (size_t)(p - s));
        return o + (p - s);
    }
    return o + cs_json_escape(s, o, room);
}

/* Appends the decimal digits of v (two at a time). */
static char *put_u64(char *o, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char digits[20];
    size_t n = sizeof digits;
    while (v >= 100) {
        memcpy(digits + (n -= 2), pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(digits + (n -= 2), pairs + 2 * v, 2);
    else
        digits[--n] = (char)('0' + v);
    memcpy(o, digits + n, sizeof digits - n);
    return o + (sizeof digits - n);
}

static char *put_lit(char *o, const char *lit)
{
    size_t n = strlen(lit);
    memcpy(o, lit, n);
    return o + n;
}

void px_control_reply(struct px_control *c, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    /* The oldest request waiting for this op and name: one queued before,
     * else the one being handled. */
    struct pending *p = pending_find(c, op, name ? name : "");
    uint32_t id;
    if (p) {
        id = p->client;
        pending_answered(c, p);
    } else if (c->current.active && !c->current.answered && !strcmp(c->current.op, op) &&
               !strcmp(c->current.name, name ? name : "")) {
        id = c->current.client;
        c->current.answered = true;
    } else {
        return;
    }
    struct client *cl = NULL;
    for (size_t k = 0; k < c->count && !cl; k++)
        if (c->clients[k].id == id)
            cl = &c->clients[k];
    if (!cl)
        return; /* the client left meanwhile */
    name = name ? name : "";
    owner = owner ? owner : "";
    size_t lo = strlen(op), ln = strlen(name), ls = strlen(status), lw = strlen(owner);
    size_t need = 6 * (lo + ln + ls + lw) + 4 * 8 + 128;
    if (cs_grow((void **)&cl->out, &cl->out_cap, cl->out_len + need, 1) != 0)
        return;
    char *start = cl->out + cl->out_len, *o = start;
    o = put_lit(o, "{\"op\":\"");
    o = put_json_text(o, op, 6 * lo + 8);
    o = put_lit(o, "\",\"name\":\"");
    o = put_json_text(o, name, 6 * ln + 8);
    o = put_lit(o, "\",\"status\":\"");
    o = put_json_text(o, status, 6 * ls + 8);
    o = put_lit(o, "\",\"owner\":\"");
    o = put_json_text(o, owner, 6 * lw + 8);
    o = put_lit(o, "\",\"value\":");
    if (value < 0) {
        *o++ = '-';
        o = put_u64(o, 0 - (uint64_t)value);
    } else {
        o = put_u64(o, (uint64_t)value);
    }
    if (value && answers_with_handle(op)) {
        o = put_lit(o, ",\"handle\":\"");
        o = put_u64(o, (uint64_t)value);
        *o++ = '"';
    }
    o = put_lit(o, "}\n");
    cl->out_len += (size_t)(o - start);
}

uint64_t px_control_strangers(const struct px_control *c)
{
    return c->strangers;
}

uint64_t px_control_refused(const struct px_control *c)
{
    return c->refused;
}

uint64_t px_control_refused_by(const struct px_control *c, enum px_control_refusal why)
{
    return (unsigned)why < PX_CONTROL_REFUSALS ? c->refused_by[why] : 0;
}

void px_control_free(struct px_control *c)
{
    if (!c)
        return;
    while (c->count)
        drop_client(c, 0);
    free(c->clients);
    free(c->pending);
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    unlink(c->path);
    free(c);
}
