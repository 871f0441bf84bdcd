/*
 * real/dns_front.c: the truncating DNS front (dns_front.h).
 */
#define _GNU_SOURCE
#include "dns_front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HEADER 12
#define MAX_RECORDS 512
#define TYPE_A 1
#define TYPE_AAAA 28

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* The offset just past the name at `at`, or 0 when it runs off the end. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t at)
{
    while (at < len) {
        uint8_t b = msg[at];
        if ((b & 0xC0) == 0xC0)
            return at + 2 <= len ? at + 2 : 0;
        if (b & 0xC0)
            return 0; /* reserved label types */
        at += 1 + (size_t)b;
        if (b == 0)
            return at <= len ? at : 0;
    }
    return 0;
}

/* The offset just past the question section, or 0. */
static size_t question_end(const uint8_t *msg, size_t len)
{
    if (len < HEADER)
        return 0;
    size_t at = HEADER;
    for (uint16_t q = get16(msg + 4); q > 0; q--) {
        at = skip_name(msg, len, at);
        if (!at || at + 4 > len)
            return 0;
        at += 4;
    }
    return at;
}

/* True when the record at `at` may move: an A or AAAA record whose owner
 * name is a single pointer into the question. */
static bool movable(const uint8_t *msg, size_t at, size_t question_end_at)
{
    if ((msg[at] & 0xC0) != 0xC0)
        return false;
    size_t target = (size_t)(get16(msg + at) & 0x3FFF);
    uint16_t type = get16(msg + at + 2);
    return target < question_end_at && (type == TYPE_A || type == TYPE_AAAA);
}

size_t rdf_cut(uint8_t *msg, size_t len, size_t max_answers, uint32_t draw)
{
    size_t qend = question_end(msg, len);
    size_t count = qend ? get16(msg + 6) : 0;
    if (!qend || count <= max_answers || count > MAX_RECORDS)
        return len;
    size_t start[MAX_RECORDS], end[MAX_RECORDS], at = qend;
    bool rotate = true;
    for (size_t i = 0; i < count; i++) {
        size_t name_end = skip_name(msg, len, at);
        if (!name_end || name_end + 10 > len)
            return len;
        size_t next = name_end + 10 + get16(msg + name_end + 8);
        if (next > len)
            return len;
        rotate = rotate && movable(msg, at, qend);
        start[i] = at;
        end[i] = next;
        at = next;
    }
    uint8_t *out = malloc(len);
    if (!out)
        return len;
    size_t first = rotate ? draw % count : 0, out_len = qend;
    memcpy(out, msg, qend);
    for (size_t k = 0; k < max_answers; k++) {
        size_t i = (first + k) % count;
        memcpy(out + out_len, msg + start[i], end[i] - start[i]);
        out_len += end[i] - start[i];
    }
    put16(out + 2, get16(out + 2) | 0x0200); /* TC */
    put16(out + 6, (uint16_t)max_answers);
    put16(out + 8, 0);
    put16(out + 10, 0);
    memcpy(msg, out, out_len);
    free(out);
    return out_len;
}

/* Turns the query in msg into a SERVFAIL answer; returns its length. */
static size_t servfail(uint8_t *msg, size_t len)
{
    size_t qend = question_end(msg, len);
    size_t out_len = qend ? qend : HEADER;
    uint16_t flags = get16(msg + 2);
    put16(msg + 2, (uint16_t)(0x8000 | (flags & 0x7900) | 0x0080 | 2)); /* QR, opcode, RD, RA, rcode 2 */
    if (!qend)
        put16(msg + 4, 0);
    put16(msg + 6, 0);
    put16(msg + 8, 0);
    put16(msg + 10, 0);
    return out_len;
}

/* Forwards one query and waits up to a second for dnsmasq's answer with the
 * same id; the answer's length, or 0 (refused or no answer). */
static size_t forward(int upstream, const uint8_t *query, size_t len, uint8_t *answer, size_t size)
{
    if (send(upstream, query, len, 0) < 0)
        return 0;
    for (;;) {
        ssize_t r = recv(upstream, answer, size, 0);
        if (r < 0)
            return 0; /* ECONNREFUSED (stopped) or the timeout */
        if ((size_t)r >= HEADER && get16(answer) == get16(query))
            return (size_t)r;
    }
}

static int bind_udp(const char *ip, uint16_t port, bool connect_to)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect_to ? connect(fd, (struct sockaddr *)&a, sizeof a) : bind(fd, (struct sockaddr *)&a, sizeof a);
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void serve(const char *listen_ip, uint16_t upstream_port, size_t max_answers)
{
    int fd = bind_udp(listen_ip, 53, false), upstream = bind_udp("127.0.0.1", upstream_port, true);
    if (fd < 0 || upstream < 0) {
        fprintf(stderr, "dns front: cannot bind %s:53 or reach 127.0.0.1:%u: %s\n", listen_ip, upstream_port,
                strerror(errno));
        _exit(1);
    }
    struct timeval second = {1, 0};
    setsockopt(upstream, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second);
    static uint8_t query[4096], answer[65536];
    for (;;) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t r = recvfrom(fd, query, sizeof query, 0, (struct sockaddr *)&from, &from_len);
        if (r < HEADER)
            continue;
        size_t n = forward(upstream, query, (size_t)r, answer, sizeof answer);
        uint32_t draw = 0;
        if (getrandom(&draw, sizeof draw, 0) != sizeof draw)
            draw = (uint32_t)random();
        if (n)
            n = rdf_cut(answer, n, max_answers, draw);
        else
            n = servfail(memcpy(answer, query, (size_t)r), (size_t)r);
        sendto(fd, answer, n, 0, (struct sockaddr *)&from, from_len);
    }
}

pid_t rdf_start(const char *ns, const char *listen_ip, uint16_t upstream_port, size_t max_answers)
{
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    pid_t parent = getpid(), pid = fork();
    if (pid != 0)
        return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (getppid() != parent)
        _exit(127);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "dns front: cannot enter %s: %s\n", path, strerror(errno));
        _exit(1);
    }
    close(nsfd);
    serve(listen_ip, upstream_port, max_answers);
    _exit(0);
}
