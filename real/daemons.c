/*
 * real/daemons.c: clusterd processes and their control sockets for the
 * real world (daemons.h).
 */
#define _GNU_SOURCE
#include "daemons.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"

int rdm_start(struct rdm_node *n, const char *clusterd, const char *ns, char *const extra[])
{
    char *argv[40];
    size_t c = 0;
    const char *fixed[] = {"ip", "netns", "exec", ns, clusterd, "--name", n->name, "--config", n->config,
                           "--control", n->sock, NULL};
    for (size_t i = 0; fixed[i]; i++)
        argv[c++] = (char *)fixed[i];
    for (size_t i = 0; extra && extra[i] && c < 39; i++)
        argv[c++] = extra[i];
    argv[c] = NULL;
    unlink(n->sock);
    n->pid = rx_spawn(argv, n->log);
    n->cmd_fd = -1;
    n->rlen = 0;
    return n->pid > 0 ? 0 : -1;
}

static int connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (fd < 0 || strlen(path) >= sizeof sa.sun_path) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends `req` and reads one reply line into a malloc'd string (1 s deadline). */
char *rdm_ask(const char *path, const char *req)
{
    int fd = connect_to(path);
    if (fd < 0)
        return NULL;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            break;
        if (len + 1 == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (memchr(buf + len - (size_t)r, '\n', (size_t)r)) {
            buf[len] = '\0';
            close(fd);
            return buf;
        }
    }
    free(buf);
    close(fd);
    return NULL;
}

/* "{:syncing, ..." -> "syncing" */
static void tracker_of(const char *dump, char *out, size_t size)
{
    out[0] = '\0';
    if (dump && dump[0] == '{' && dump[1] == ':') {
        size_t n = strcspn(dump + 2, ", }");
        snprintf(out, size, "%.*s", (int)n, dump + 2);
    }
}

void rdm_probe(struct rdm_node *n, struct rdm_probe *out)
{
    memset(out, 0, sizeof *out);
    char *line = rdm_ask(n->sock, "probe\n");
    json_t *root = line ? json_loads(line, 0, NULL) : NULL;
    json_t *p = root ? json_object_get(root, "probe") : NULL;
    free(line);
    if (!json_is_object(p)) {
        json_decref(root);
        return;
    }
    out->ok = true;
    out->stopping = json_is_true(json_object_get(p, "stopping"));
    out->settled = json_is_true(json_object_get(p, "settled"));
    json_t *view = json_object_get(p, "view"), *v;
    size_t i;
    json_array_foreach(view, i, v) if (out->view_count < RDM_VIEW_MAX && json_is_string(v))
        snprintf(out->view[out->view_count++], CS_NODE_NAME_MAX, "%s", json_string_value(v));
    json_t *reg = json_object_get(p, "registry");
    out->reg_count = (size_t)json_integer_value(json_object_get(reg, "count"));
    const char *digest = json_string_value(json_object_get(reg, "digest"));
    out->reg_digest = digest ? strtoull(digest, NULL, 16) : 0;
    out->frames_in = (uint64_t)json_integer_value(json_object_get(p, "frames_in"));
    out->frames_out = (uint64_t)json_integer_value(json_object_get(p, "frames_out"));
    const char *s = json_string_value(json_object_get(p, "state_key"));
    snprintf(out->state_key, sizeof out->state_key, "%s", s ? s : "");
    s = json_string_value(json_object_get(p, "waiting_for"));
    snprintf(out->waiting_for, sizeof out->waiting_for, "%s", s ? s : "");
    s = json_string_value(json_object_get(p, "dump"));
    out->dump = s ? strdup(s) : NULL;
    tracker_of(out->dump, out->tracker, sizeof out->tracker);
    json_decref(root);
}

void rdm_probe_free(struct rdm_probe *p)
{
    free(p->dump);
    p->dump = NULL;
}

bool rdm_wait_ready(struct rdm_node *n, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        if (rx_exited(n->pid))
            return false;
        char *line = rdm_ask(n->sock, "view\n");
        if (line) {
            free(line);
            return true;
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return false;
}

int rdm_command(struct rdm_node *n, const char *op, const char *name, const char *arg, int64_t value)
{
    if (n->cmd_fd < 0) {
        n->cmd_fd = connect_to(n->sock);
        if (n->cmd_fd < 0)
            return -1;
        fcntl(n->cmd_fd, F_SETFL, O_NONBLOCK);
        n->rlen = 0;
    }
    char line[600];
    int len = snprintf(line, sizeof line, "%s\t%s\t%s\t%lld\n", op, name ? name : "", arg ? arg : "",
                       (long long)value);
    if (len <= 0 || (size_t)len >= sizeof line)
        return -1;
    /* Commands are small; a full socket buffer means the daemon is gone. */
    for (int tries = 0; tries < 100; tries++) {
        ssize_t w = send(n->cmd_fd, line, (size_t)len, MSG_NOSIGNAL);
        if (w == len)
            return 0;
        if (w < 0 && errno != EAGAIN)
            break;
        struct pollfd p = {n->cmd_fd, POLLOUT, 0};
        poll(&p, 1, 10);
    }
    close(n->cmd_fd);
    n->cmd_fd = -1;
    return -1;
}

static void parse_reply(const char *line, size_t i, cs_time now, struct rdm_reply *r)
{
    memset(r, 0, sizeof *r);
    r->at = now;
    r->node = i;
    json_t *o = json_loads(line, 0, NULL);
    const char *s;
    if ((s = json_string_value(json_object_get(o, "op"))))
        snprintf(r->op, sizeof r->op, "%s", s);
    if ((s = json_string_value(json_object_get(o, "name"))))
        snprintf(r->name, sizeof r->name, "%s", s);
    if ((s = json_string_value(json_object_get(o, "status"))))
        snprintf(r->status, sizeof r->status, "%s", s);
    else if ((s = json_string_value(json_object_get(o, "error"))))
        snprintf(r->status, sizeof r->status, "error");
    if ((s = json_string_value(json_object_get(o, "owner"))))
        snprintf(r->owner, sizeof r->owner, "%s", s);
    r->value = json_integer_value(json_object_get(o, "value"));
    json_decref(o);
}

void rdm_replies(struct rdm_node *n, size_t i, cs_time now, void (*fn)(void *ctx, const struct rdm_reply *r),
                 void *ctx)
{
    while (n->cmd_fd >= 0) {
        ssize_t r = recv(n->cmd_fd, n->rbuf + n->rlen, sizeof n->rbuf - n->rlen - 1, 0);
        if (r <= 0) {
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            close(n->cmd_fd);
            n->cmd_fd = -1;
            return;
        }
        n->rlen += (size_t)r;
        char *nl;
        while ((nl = memchr(n->rbuf, '\n', n->rlen))) {
            *nl = '\0';
            struct rdm_reply rep;
            parse_reply(n->rbuf, i, now, &rep);
            fn(ctx, &rep);
            size_t used = (size_t)(nl - n->rbuf) + 1;
            memmove(n->rbuf, nl + 1, n->rlen - used);
            n->rlen -= used;
        }
        if (n->rlen == sizeof n->rbuf - 1)
            n->rlen = 0; /* a line longer than any reply: drop it */
    }
}

void rdm_signal(struct rdm_node *n, int sig)
{
    if (n->pid > 0)
        kill(n->pid, sig);
}

bool rdm_reap(struct rdm_node *n)
{
    if (n->pid <= 0)
        return true;
    if (!rx_exited(n->pid))
        return false;
    n->pid = 0;
    if (n->cmd_fd >= 0)
        close(n->cmd_fd);
    n->cmd_fd = -1;
    return true;
}
