/*
 * shims/posix/px_control.c: the control socket (see px_control.h).
 */
#define _GNU_SOURCE
#include "px_control.h"

#include "../../core/json_text.h"
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
/* A client with this many answer bytes unread is not read from until it
 * catches up (its requests wait in the kernel: backpressure, no growth). */
#define OUT_PAUSE_BYTES (1u << 20)

struct client {
    uint32_t id;
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t len;
    char *out;                 /* answers not yet written (flushed once per loop turn) */
    size_t out_len, out_cap;
    uint32_t interest;         /* the epoll events asked for: EPOLLIN and/or EPOLLOUT */
};

/* A request waiting for the protocol's reply: clients may pipeline, and
 * replies go to the oldest request with the same op and name. */
struct pending {
    uint32_t client;
    char op[32], name[128];
};

struct px_control {
    int epfd, fd;
    char path[108];
    struct px_control_host host;
    struct client *clients;
    size_t count, cap;
    struct pending *pending;   /* oldest first */
    size_t pending_count, pending_cap;
    uint32_t next_id;
    uint64_t refused;
    uint64_t strangers;        /* connections from other users, closed at once */
};


/* Queues an answer line; px_control_flush writes them, many per call. */
static void send_line(struct client *cl, const char *line)
{
    size_t len = strlen(line);
    if (cs_grow((void **)&cl->out, &cl->out_cap, cl->out_len + len, 1) != 0)
        return;
    memcpy(cl->out + cl->out_len, line, len);
    cl->out_len += len;
}

/* Asks epoll for writability while answers wait (so they go out as soon as
 * the client reads, with no other event needed), and stops reading a client
 * that has not read OUT_PAUSE_BYTES of answers. */
static void update_interest(struct px_control *c, struct client *cl)
{
    uint32_t want = (cl->out_len < OUT_PAUSE_BYTES ? EPOLLIN : 0) | (cl->out_len ? EPOLLOUT : 0);
    if (want == cl->interest)
        return;
    struct epoll_event ev = {.events = want, .data.u64 = PX_CONTROL_KEY_BASE + cl->id};
    if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
        cl->interest = want;
}

void px_control_flush(struct px_control *c)
{
    for (size_t i = 0; c && i < c->count; i++) {
        struct client *cl = &c->clients[i];
        size_t off = 0;
        while (off < cl->out_len) {
            ssize_t w = send(cl->fd, cl->out + off, cl->out_len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break; /* a client that does not read: the rest waits for EPOLLOUT */
            off += (size_t)w;
        }
        if (off) {
            memmove(cl->out, cl->out + off, cl->out_len - off);
            cl->out_len -= off;
        }
        update_interest(c, cl);
    }
}

static void drop_client(struct px_control *c, size_t i)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->clients[i].fd, NULL);
    close(c->clients[i].fd);
    free(c->clients[i].out);
    c->clients[i] = c->clients[--c->count];
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

static void refuse(struct px_control *c, struct client *cl, const char *why)
{
    char line[256];
    c->refused++;
    snprintf(line, sizeof line, "{\"error\":\"%s\"}\n", why);
    send_line(cl, line);
    px_control_flush(c);
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

static void request(struct px_control *c, size_t i, char *line)
{
    struct client *cl = &c->clients[i];
    struct cs_command cmd;
    char *fields[4];
    if (!parse(line, &cmd, fields)) {
        refuse(c, cl, "malformed request: expected OP<TAB>NAME<TAB>ARG<TAB>VALUE");
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
    if (c->pending_count >= 65536 ||
        cs_grow((void **)&c->pending, &c->pending_cap, c->pending_count + 1, sizeof *c->pending) != 0) {
        refuse(c, cl, "too many requests in flight");
        return;
    }
    struct pending *p = &c->pending[c->pending_count++];
    p->client = cl->id;
    snprintf(p->op, sizeof p->op, "%s", cmd.op);
    snprintf(p->name, sizeof p->name, "%s", cmd.name ? cmd.name : "");
    c->host.command(c->host.ctx, &cmd); /* may answer at once, through px_control_reply */
}

static void client_readable(struct px_control *c, uint32_t id)
{
    for (size_t i = 0; i < c->count; i++) {
        if (c->clients[i].id != id)
            continue;
        struct client *cl = &c->clients[i];
        ssize_t r = recv(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len, 0);
        if (r <= 0) {
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            drop_client(c, i);
            return;
        }
        cl->len += (size_t)r;
        char *nl;
        while ((cl = &c->clients[i])->len && (nl = memchr(cl->buf, '\n', cl->len))) {
            char line[LINE_MAX_BYTES];
            size_t n = (size_t)(nl - cl->buf);
            memcpy(line, cl->buf, n);
            line[n] = '\0';
            memmove(cl->buf, nl + 1, cl->len - n - 1);
            cl->len -= n + 1;
            request(c, i, line);
        }
        if (c->clients[i].len == sizeof c->clients[i].buf) {
            refuse(c, &c->clients[i], "request line too long");
            drop_client(c, i);
        }
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

void px_control_reply(struct px_control *c, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    size_t i = 0;
    while (i < c->pending_count && (strcmp(c->pending[i].op, op) || strcmp(c->pending[i].name, name ? name : "")))
        i++;
    if (i == c->pending_count)
        return;
    uint32_t id = c->pending[i].client;
    memmove(&c->pending[i], &c->pending[i + 1], (c->pending_count - i - 1) * sizeof *c->pending);
    c->pending_count--;
    struct client *cl = NULL;
    for (size_t k = 0; k < c->count && !cl; k++)
        if (c->clients[k].id == id)
            cl = &c->clients[k];
    if (!cl)
        return; /* the client left meanwhile */
    char e_name[300], e_owner[300], handle[48] = "", line[1024];
    cs_json_escape(name ? name : "", e_name, sizeof e_name);
    cs_json_escape(owner ? owner : "", e_owner, sizeof e_owner);
    if (value && answers_with_handle(op))
        snprintf(handle, sizeof handle, ",\"handle\":\"%" PRIu64 "\"", (uint64_t)value);
    snprintf(line, sizeof line,
             "{\"op\":\"%s\",\"name\":\"%s\",\"status\":\"%s\",\"owner\":\"%s\",\"value\":%" PRId64 "%s}\n", op,
             e_name, status, e_owner, value, handle);
    send_line(cl, line);
}

uint64_t px_control_strangers(const struct px_control *c)
{
    return c->strangers;
}

uint64_t px_control_refused(const struct px_control *c)
{
    return c->refused;
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
