/*
 * daemon/http.c: clusterd's HTTP listener (libmicrohttpd in its external
 * epoll mode, run from the node's own loop, so the core stays
 * single-threaded):
 *   /livez    200 "ok" whenever the node's loop runs (the liveness probe:
 *             it reads no state, so it costs nothing and cannot time out)
 *   /healthz  200 "ok" once the tracker is tracking (the readiness probe),
 *             503 before and while leaving
 *   /metrics  Prometheus text: members, links, tracker state,
 *             registrations, syncs, handoffs, restarts, conflicts, rejected
 *             frames and messages by reason, transport counters
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
#include "../core/conn.h"

#define PER_IP_LIMIT 32
#define IDLE_TIMEOUT_S 5
#define REQUEST_MEMORY (16 * 1024)

struct clusterd_http {
    struct MHD_Daemon *mhd;
    struct px_node *node;
    uint64_t requests, bad_requests, refused;
    unsigned open, limit;
};

static const char *state_name(enum trk_state s)
{
    static const char *const names[] = {"cluster_wait", "syncing", "awaiting_sync_ack", "tracking"};
    return (unsigned)s < 4 ? names[s] : "?";
}

static size_t put(char *buf, size_t size, size_t used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t size, size_t used, const char *fmt, ...)
{
    if (used >= size)
        return used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
    return n > 0 ? used + (size_t)n : used;
}

static size_t metrics(struct clusterd_http *h, char *buf, size_t size)
{
    void *inst = px_node_instance(h->node);
    struct tracker *t = cluster_tracker(inst);
    struct membership *m = cluster_membership(inst);
    const struct conn_stats *cs = conn_stats(membership_conn(m));
    const struct px_stats *ps = px_node_stats(h->node);
    size_t u = 0;
    u = put(buf, size, u, "# HELP clusterd_links Peers with an authenticated link up.\n# TYPE clusterd_links gauge\n"
                          "clusterd_links %zu\n", conn_up_count(membership_conn(m)));
    u = put(buf, size, u, "# HELP clusterd_rejected_frames_total Frames refused on the peer port, by reason.\n"
                          "# TYPE clusterd_rejected_frames_total counter\n");
    const struct { const char *reason; uint64_t v; } rej[] = {
        {"malformed", cs->malformed}, {"bad_version", cs->bad_version}, {"oversized_name", cs->oversized_name},
        {"wrong_name", cs->wrong_name}, {"auth_failed", cs->auth_failed}, {"not_allowed", cs->not_allowed},
        {"bad_mac", cs->bad_mac},
        {"oversized_frame", ps->oversized_frames}};
    for (size_t i = 0; i < sizeof rej / sizeof rej[0]; i++)
        u = put(buf, size, u, "clusterd_rejected_frames_total{reason=\"%s\"} %llu\n", rej[i].reason,
                (unsigned long long)rej[i].v);
    u = put(buf, size, u, "# HELP clusterd_setup_timeouts_total Links closed because their handshake did not finish.\n"
                          "# TYPE clusterd_setup_timeouts_total counter\nclusterd_setup_timeouts_total %llu\n",
            (unsigned long long)cs->setup_timeouts);
    u = put(buf, size, u, "# TYPE clusterd_frames_total counter\nclusterd_frames_total{direction=\"in\"} %llu\n"
                          "clusterd_frames_total{direction=\"out\"} %llu\n",
            (unsigned long long)ps->frames_in, (unsigned long long)ps->frames_out);
    if (!t)
        return u;
    const struct trk_stats *ts = trk_stats(t);
    size_t names = 0;
    uint64_t sum;
    trk_registry_digest(t, &names, &sum);
    u = put(buf, size, u, "# HELP clusterd_members Peers whose tracker this node tracks.\n# TYPE clusterd_members gauge\n"
                          "clusterd_members %zu\n", trk_node_count(t));
    u = put(buf, size, u, "# TYPE clusterd_tracker_state gauge\n");
    for (int s = TRK_CLUSTER_WAIT; s <= TRK_TRACKING; s++)
        u = put(buf, size, u, "clusterd_tracker_state{state=\"%s\"} %d\n", state_name((enum trk_state)s),
                trk_state(t) == (enum trk_state)s);
    u = put(buf, size, u, "# TYPE clusterd_registrations gauge\nclusterd_registrations %zu\n", names);
    const struct { const char *name; uint64_t v; } counters[] = {
        {"syncs_started", ts->syncs_started}, {"syncs_completed", ts->syncs_completed},
        {"handoffs", ts->handoffs}, {"restarts", ts->restarts}, {"conflicts", ts->conflicts}};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        u = put(buf, size, u, "# TYPE clusterd_%s_total counter\nclusterd_%s_total %llu\n", counters[i].name,
                counters[i].name, (unsigned long long)counters[i].v);
    u = put(buf, size, u, "# HELP clusterd_rejected_messages_total Tracker messages refused, by reason.\n"
                          "# TYPE clusterd_rejected_messages_total counter\n");
    const struct { const char *reason; uint64_t v; } trej[] = {
        {"malformed", ts->malformed}, {"unknown_type", ts->unknown_type}, {"bad_clock", ts->bad_clock},
        {"name_too_long", ts->name_too_long}, {"not_member", ts->not_member}};
    for (size_t i = 0; i < sizeof trej / sizeof trej[0]; i++)
        u = put(buf, size, u, "clusterd_rejected_messages_total{reason=\"%s\"} %llu\n", trej[i].reason,
                (unsigned long long)trej[i].v);
    u = put(buf, size, u, "# TYPE clusterd_http_requests_total counter\nclusterd_http_requests_total %llu\n",
            (unsigned long long)h->requests);
    return u;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type, const char *body,
                               size_t len)
{
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
    h->requests++;
    if (*upload_size) { /* no request has a body */
        h->bad_requests++;
        return respond(c, 400, "text/plain", "no body expected\n", 17);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        h->bad_requests++;
        return respond(c, 405, "text/plain", "only GET\n", 9);
    }
    static char body[65536];
    void *inst = px_node_instance(h->node);
    struct tracker *t = cluster_tracker(inst);
    if (!strcmp(url, "/livez"))
        return respond(c, 200, "text/plain", "ok\n", 3);
    if (!strcmp(url, "/healthz")) {
        bool ready = !px_node_stopping(h->node) && (!t || trk_state(t) == TRK_TRACKING);
        return ready ? respond(c, 200, "text/plain", "ok\n", 3)
                     : respond(c, 503, "text/plain", "not tracking yet\n", 17);
    }
    if (!strcmp(url, "/metrics")) {
        size_t n = metrics(h, body, sizeof body);
        return respond(c, 200, "text/plain; version=0.0.4", body, n < sizeof body ? n : sizeof body - 1);
    }
    if (!strcmp(url, "/state")) {
        int n = cluster_proto.dump(inst, body, sizeof body - 1);
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof body - 1)
            n = (int)sizeof body - 2;
        body[n++] = '\n';
        return respond(c, 200, "text/plain", body, (size_t)n);
    }
    h->bad_requests++;
    static const char not_found[] = "not found: try /livez, /healthz, /metrics or /state\n";
    return respond(c, 404, "text/plain", not_found, sizeof not_found - 1);
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
    h->refused++;
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

struct clusterd_http *clusterd_http_start(struct px_node *node, const struct cs_addr *bind_addr, uint16_t port,
                                          unsigned limit, char *err, size_t errlen)
{
    struct clusterd_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->node = node;
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
