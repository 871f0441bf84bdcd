/*
 * daemon/clusterctl_io.c: the control socket from clusterctl's side (see
 * clusterctl_io.h).
 */
#include "clusterctl_io.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* An answer longer than this is refused (a state of some 100,000 peers). */
#define ANSWER_MAX (64u << 20)

int ctl_connect(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "the socket path is too long: %s", path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "no daemon at %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0 && errno != EINTR)
            return -1;
        off += w > 0 ? (size_t)w : 0;
    }
    return 0;
}

char *ctl_exchange(int fd, const char *request, double timeout_s, char *err, size_t errlen)
{
    if (write_all(fd, request, strlen(request)) != 0) {
        snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap), *nl = NULL;
    double deadline = now_s() + timeout_s;
    while (buf && !(nl = memchr(buf, '\n', len))) {
        double left = deadline - now_s();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0) {
            snprintf(err, errlen, "no answer within %g s", timeout_s);
            break;
        }
        if (len + 1 == cap) {
            char *more = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
            if (!more) {
                snprintf(err, errlen, "the answer is longer than %u bytes", ANSWER_MAX);
                break;
            }
            buf = more;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r <= 0) {
            snprintf(err, errlen, "the daemon closed the connection without answering");
            break;
        }
        len += (size_t)r;
    }
    if (!nl) {
        if (!buf)
            snprintf(err, errlen, "out of memory");
        free(buf);
        return NULL;
    }
    *nl = '\0';
    return buf;
}

/* Appends i's digits at o; the new end. */
static char *put_index(char *o, long i)
{
    char digits[20];
    size_t d = sizeof digits;
    do
        digits[--d] = (char)('0' + i % 10);
    while ((i /= 10));
    memcpy(o, digits + d, sizeof digits - d);
    return o + (sizeof digits - d);
}

/* A number after `key` in an answer line, or -1. */
static long field_number(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int ctl_bench(int fd, const char *op, long n, const char *prefix, long depth, long many, struct ctl_bench *out,
              char *err, size_t errlen)
{
    static char in[1 << 16];
    size_t in_len = 0;
    long sent = 0, answered = 0, ok = 0;
    /* A line is "OP<TAB>PREFIXi", or "many<TAB>OP" and up to `many` times
     * "<TAB>PREFIXi", kept under the daemon's 4 KiB line limit. */
    char head[512];
    int head_len = snprintf(head, sizeof head, many > 1 ? "many\t%s" : "%s", op);
    size_t prefix_len = strlen(prefix);
    if (head_len < 0 || (size_t)head_len >= sizeof head || prefix_len > 255) {
        snprintf(err, errlen, "the operation and prefix are too long");
        return -1;
    }
    size_t name_max = prefix_len + 21;
    double start = now_s();
    while (answered < n) {
        char req[1 << 15];
        char *o = req;
        while (sent < n && sent - answered < depth && (size_t)(o - req) + head_len + 4096 < sizeof req) {
            char *line = o;
            memcpy(o, head, (size_t)head_len);
            o += head_len;
            for (long k = 0; k < many && sent < n && sent - answered < depth && (o - line) + name_max < 4000;
                 k++) {
                *o++ = '\t';
                memcpy(o, prefix, prefix_len);
                o = put_index(o + prefix_len, sent++);
            }
            *o++ = '\n';
        }
        size_t req_len = (size_t)(o - req);
        if (write_all(fd, req, req_len) != 0) {
            snprintf(err, errlen, "cannot send: %s", strerror(errno));
            return -1;
        }
        ssize_t r = read(fd, in + in_len, sizeof in - in_len);
        if (r <= 0) {
            snprintf(err, errlen, "the daemon closed the connection after %ld answers", answered);
            return -1;
        }
        in_len += (size_t)r;
        char *line = in, *nl;
        while ((nl = memchr(line, '\n', in_len - (size_t)(line - in)))) {
            *nl = '\0';
            if (many > 1) {
                long count = field_number(line, "\"count\":"), k = field_number(line, "\"ok\":");
                if (count < 1 || k < 0) {
                    snprintf(err, errlen, "the daemon answered: %.200s", line);
                    return -1;
                }
                answered += count;
                ok += k;
            } else {
                answered++;
                ok += strstr(line, "\"status\":\"ok\"") != NULL;
            }
            line = nl + 1;
        }
        in_len -= (size_t)(line - in);
        memmove(in, line, in_len);
    }
    *out = (struct ctl_bench){n, ok, now_s() - start};
    return 0;
}
