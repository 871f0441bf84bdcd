/*
 * shims/posix/px_control.c: the control socket (see px_control.h): the
 * listening socket, its clients, reading and serving request lines, the
 * answers the shim gives itself (dump, view, state, peers, probe) and
 * refusals; requests for the protocol and their answers are
 * px_control_reply.c's.
 */
#define _GNU_SOURCE
#include "px_control_internal.h"

#include "../../core/json_text.h"
#include "px_internal.h"
#include "px_status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/un.h>

#include "../../core/grow.h"

void px_control_send(struct client *cl, const char *bytes, size_t len)
{
    if (cs_grow((void **)&cl->out, &cl->out_cap, cl->out_len + len, 1) != 0)
        return;
    memcpy(cl->out + cl->out_len, bytes, len);
    cl->out_len += len;
}

/* Queues an answer line. */
static void send_line(struct client *cl, const char *line)
{
    px_control_send(cl, line, strlen(line));
}

/* The host cannot keep up with what requests make: none is read or served. */
static bool host_busy(const struct px_control *c)
{
    return c->host.busy && c->host.busy(c->host.ctx);
}

/* Asks epoll for writability while answers wait (so they go out as soon as
 * the client reads, with no other event needed), and stops reading a client
 * that has not read OUT_PAUSE_BYTES of answers, or that closed its side,
 * and every client while the host is busy. */
static void update_interest(struct px_control *c, struct client *cl, bool busy)
{
    uint32_t want =
        (cl->out_len < OUT_PAUSE_BYTES && !cl->eof && !busy ? EPOLLIN : 0) | (cl->out_len ? EPOLLOUT : 0);
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

struct client *px_control_client(struct px_control *c, uint32_t id)
{
    for (size_t k = 0; k < c->count; k++)
        if (c->clients[k].id == id)
            return &c->clients[k];
    return NULL;
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
    if (cl->out_len < OUT_PAUSE_BYTES && has_line(cl) && !host_busy(c) && !serve_lines(c, i))
        return false;
    cl = &c->clients[i];
    if (cl->eof && !cl->out_len && !has_line(cl)) {
        drop_client(c, i);
        return false;
    }
    update_interest(c, cl, host_busy(c));
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
    static const char *const names[PX_CONTROL_REFUSALS] = {"malformed", "line_too_long", "too_many_in_flight",
                                                            "bad_many"};
    return (unsigned)why < PX_CONTROL_REFUSALS ? names[why] : "?";
}

void px_control_refuse(struct px_control *c, struct client *cl, enum px_control_refusal why)
{
    static const char *const answers[PX_CONTROL_REFUSALS] = {
        "malformed request: expected OP<TAB>NAME<TAB>ARG<TAB>VALUE",
        "request line too long",
        "too many requests in flight",
        "malformed many request: expected many<TAB>register|whereis|unregister<TAB>NAME[<TAB>NAME...], "
        "names of 1 to 127 bytes",
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

static void request(struct px_control *c, size_t i, char *line)
{
    struct client *cl = &c->clients[i];
    if (!strncmp(line, "many", 4) && (line[4] == '\t' || !line[4])) {
        px_control_many(c, cl, line + 4 + (line[4] == '\t'));
        return;
    }
    struct cs_command cmd;
    char *fields[4];
    if (!parse(line, &cmd, fields)) {
        px_control_refuse(c, cl, PX_CONTROL_MALFORMED);
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
    px_control_command(c, cl, &cmd);
}

/* Serves the whole request lines a client sent, until its unread answers
 * reach OUT_PAUSE_BYTES or the host is busy (the rest waits for
 * px_control_flush); what is left, part of a line, moves to the buffer's
 * front.  A line of LINE_MAX_BYTES or more is refused and the client
 * dropped: false then. */
static bool serve_lines(struct px_control *c, size_t i)
{
    struct client *cl = &c->clients[i];
    size_t off = 0;
    while (cl->out_len < OUT_PAUSE_BYTES && !host_busy(c)) {
        char *line = cl->in + off;
        size_t left = cl->in_len - off;
        char *nl = left ? memchr(line, '\n', left < LINE_MAX_BYTES ? left : LINE_MAX_BYTES) : NULL;
        if (!nl) {
            if (left < LINE_MAX_BYTES)
                break;
            px_control_refuse(c, cl, PX_CONTROL_LINE_TOO_LONG);
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
    px_control_forget_pending(c);
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    unlink(c->path);
    free(c);
}
