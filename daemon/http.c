/*
 * daemon/http.c: clusterd's HTTP listener (libmicrohttpd in its external
 * epoll mode, run from the node's own loop, so the core stays
 * single-threaded):
 *   /livez    200 "ok" whenever the node's loop runs (the liveness probe:
 *             it reads no state, so it costs nothing and cannot time out)
 *   /healthz  200 "ok" once the tracker is tracking (the readiness probe),
 *             503 before and while leaving
 *   /metrics  Prometheus text (daemon/metrics.c: the build, links and
 *             handshakes, the tracker's state, syncs and counters, HTTP,
 *             the process)
 *   /state    the tracker state dump, in the shape Swarm users know
 * Other paths get 404; other methods 405.
 *
 * Hostile clients: at most `limit` connections at once and PER_IP_LIMIT
 * from one address (more are refused at accept, counted), each closed
 * after IDLE_TIMEOUT_S without traffic; a request line or headers that do
 * not fit REQUEST_MEMORY are answered 414 or 431 by libmicrohttpd.  The
 * global limit is enforced here, one below libmicrohttpd's own: in this
 * external-epoll mode libmicrohttpd 0.9.75 stops accepting for good once
 * it reaches its own limit (seen: 64 idle connections, then no answer).
 */
#include "http.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/addr.h"
#include "../core/cluster.h"
#include "metrics.h"

#define PER_IP_LIMIT 32
#define IDLE_TIMEOUT_S 5
#define REQUEST_MEMORY (16 * 1024)

struct clusterd_http {
    struct MHD_Daemon *mhd;
    struct px_node *node;
    const struct cluster_config *cfg;
    struct metrics_http_stats stats;
    unsigned open, limit;
};

/* Answers and counts the answer by its status code. */
static enum MHD_Result respond(struct clusterd_http *h, struct MHD_Connection *c, unsigned code, const char *type,
                               const char *body, size_t len)
{
    static const int codes[] = METRICS_HTTP_CODES;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if ((unsigned)codes[i] == code)
            h->stats.by_code[i]++;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)state;
    struct clusterd_http *h = cls;
    if (*upload_size) { /* no request has a body */
        return respond(h, c, 400, "text/plain", "no body expected\n", 17);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return respond(h, c, 405, "text/plain", "only GET\n", 9);
    }
    static char body[65536];
    void *inst = px_node_instance(h->node);
    struct tracker *t = cluster_tracker(inst);
    if (!strcmp(url, "/livez"))
        return respond(h, c, 200, "text/plain", "ok\n", 3);
    if (!strcmp(url, "/healthz")) {
        bool ready = !px_node_stopping(h->node) && (!t || trk_state(t) == TRK_TRACKING);
        return ready ? respond(h, c, 200, "text/plain", "ok\n", 3)
                     : respond(h, c, 503, "text/plain", "not tracking yet\n", 17);
    }
    if (!strcmp(url, "/metrics")) {
        size_t n = metrics_text(h->node, h->cfg, &h->stats, body, sizeof body);
        static const char too_big[] = "the metrics do not fit the answer's buffer\n";
        return n ? respond(h, c, 200, "text/plain; version=0.0.4", body, n)
                 : respond(h, c, 503, "text/plain", too_big, sizeof too_big - 1);
    }
    if (!strcmp(url, "/state")) {
        int n = cluster_proto.dump(inst, body, sizeof body - 1);
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof body - 1)
            n = (int)sizeof body - 2;
        body[n++] = '\n';
        return respond(h, c, 200, "text/plain", body, (size_t)n);
    }
    static const char not_found[] = "not found: try /livez, /healthz, /metrics or /state\n";
    return respond(h, c, 404, "text/plain", not_found, sizeof not_found - 1);
}

static void ready(void *ctx)
{
    MHD_run(((struct clusterd_http *)ctx)->mhd);
}

static int wait_ms(void *ctx)
{
    MHD_UNSIGNED_LONG_LONG ms;
    return MHD_get_timeout(((struct clusterd_http *)ctx)->mhd, &ms) == MHD_YES ? (int)(ms > 60000 ? 60000 : ms) : -1;
}

/* Refuses a connection when the global limit is reached. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)addr, (void)len;
    struct clusterd_http *h = cls;
    if (h->open < h->limit)
        return MHD_YES;
    h->stats.refused++;
    return MHD_NO;
}

static void count_connections(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    (void)c, (void)socket_context;
    struct clusterd_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        h->open++;
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && h->open > 0)
        h->open--;
}

struct clusterd_http *clusterd_http_start(struct px_node *node, const struct cluster_config *cfg,
                                          const struct cs_addr *bind_addr, uint16_t port, unsigned limit, char *err,
                                          size_t errlen)
{
    struct clusterd_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->node = node;
    h->cfg = cfg;
    h->limit = limit < 8 ? 8 : limit;
    struct cs_addr where = bind_addr ? *bind_addr : (struct cs_addr){.family = 4};
    where.port = port;
    struct sockaddr_storage ss;
    px_to_sockaddr(&where, &ss);
    unsigned flags = MHD_USE_EPOLL | (where.family == 6 ? MHD_USE_IPv6 : 0);
    h->mhd = MHD_start_daemon(flags, port, accept_policy, h, handle, h,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                              MHD_OPTION_CONNECTION_LIMIT, h->limit + 1,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
                              MHD_OPTION_NOTIFY_CONNECTION, count_connections, h, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = h->mhd ? MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info || px_node_watch(node, info->epoll_fd, ready, wait_ms, h) != 0) {
        char text[CS_ADDR_STRLEN];
        cs_addr_format(&where, text, sizeof text);
        snprintf(err, errlen, "cannot serve HTTP on %s port %u", text, port);
        clusterd_http_stop(h);
        return NULL;
    }
    return h;
}

void clusterd_http_stop(struct clusterd_http *h)
{
    if (!h)
        return;
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    free(h);
}
