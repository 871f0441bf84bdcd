/*
 * shims/posix/px_status.c: the node's state and peers as JSON (see
 * px_status.h), with jansson.
 */
#include "px_status.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../core/cluster.h"
#include "../../core/conn.h"
#include "px_internal.h"

static void add_name(void *ctx, const char *name)
{
    json_array_append_new(ctx, json_string(name));
}

static json_t *names(void (*each)(const struct tracker *, void (*)(void *, const char *), void *),
                     const struct tracker *t)
{
    json_t *a = json_array();
    if (a)
        each(t, add_name, a);
    return a;
}

static json_t *counters(const struct trk_stats *s)
{
    return json_pack("{sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI}", "syncs_started", (json_int_t)s->syncs_started,
                     "syncs_completed", (json_int_t)s->syncs_completed, "syncs_abandoned",
                     (json_int_t)s->syncs_abandoned, "syncs_skipped", (json_int_t)s->syncs_skipped, "restarts",
                     (json_int_t)s->restarts, "handoffs_sent", (json_int_t)s->handoffs_sent, "handoffs_taken",
                     (json_int_t)s->handoffs_taken, "conflicts", (json_int_t)s->conflicts, "kills_received",
                     (json_int_t)s->kills_received, "tracked_remote", (json_int_t)s->tracked_remote, "postponed",
                     (json_int_t)s->postponed, "malformed", (json_int_t)s->malformed, "unknown_type",
                     (json_int_t)s->unknown_type, "bad_clock", (json_int_t)s->bad_clock, "not_member",
                     (json_int_t)s->not_member);
}

static json_t *tracker_state(const struct tracker *t)
{
    if (!t)
        return json_null();
    char clock[256], digest[20];
    trk_clock_text(t, clock, sizeof clock);
    size_t count = 0;
    uint64_t sum = 0;
    trk_registry_digest(t, &count, &sum);
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)sum);
    const char *sync = trk_sync_node(t);
    return json_pack("{ss ss sb ss so so so so sI ss so}", "mode", trk_mode_name(t), "state",
                     trk_state_name(trk_state(t)), "running", trk_running(t), "clock", clock, "nodes",
                     names(trk_each_node, t), "pending_sync_reqs", names(trk_each_pending, t), "sync_node",
                     sync ? json_string(sync) : json_null(), "ring", names(trk_each_ring_node, t), "registered",
                     (json_int_t)count, "registry_digest", digest, "counters", counters(trk_stats(t)));
}

/* Any protocol: what the shim's observation functions give. */
static json_t *generic_state(struct px_node *n)
{
    json_t *view = json_array();
    if (view)
        n->opt.proto->view(n->instance, add_name, view);
    return json_pack("{ss sb sb so}", "node", n->name, "stopping", n->stopping, "settled",
                     n->opt.proto->settled(n->instance), "view", view);
}

static char *dump_line(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

char *px_status_state(struct px_node *n)
{
    if (n->opt.proto != &cluster_proto)
        return dump_line(generic_state(n));
    struct membership *m = cluster_membership(n->instance);
    const struct conn *c = membership_conn(m);
    return dump_line(json_pack(
        "{ss sb sb s{ss} s{sI sI} s{sI sI} so}", "node", n->name, "stopping", n->stopping, "settled",
        n->opt.proto->settled(n->instance), "membership", "mode", membership_mode_name(m), "links", "up",
        (json_int_t)conn_up_count(c), "handshaking", (json_int_t)conn_pending_count(c), "frames", "in",
        (json_int_t)n->stats.frames_in, "out", (json_int_t)n->stats.frames_out, "tracker",
        tracker_state(cluster_tracker(n->instance))));
}

struct peers_ctx {
    json_t *list;
    const struct conn *conn;
    bool tracker;
};

/* Adds a peer once; a second sighting may only mark it a tracker node. */
static void add_peer(void *ctx, const char *name)
{
    struct peers_ctx *p = ctx;
    size_t i;
    json_t *e;
    json_array_foreach(p->list, i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "name")), name)) {
            if (p->tracker)
                json_object_set_new(e, "tracker", json_true());
            return;
        }
    }
    const char *link = !p->conn || conn_is_up(p->conn, name) ? "up"
                       : conn_is_connecting(p->conn, name) ? "connecting" : "down";
    json_array_append_new(p->list, json_pack("{ss ss sb}", "name", name, "link", link, "tracker", p->tracker));
}

char *px_status_peers(struct px_node *n)
{
    struct peers_ctx p = {json_array(), NULL, false};
    if (!p.list)
        return NULL;
    if (n->opt.proto != &cluster_proto) {
        n->opt.proto->view(n->instance, add_peer, &p);
        return dump_line(p.list);
    }
    p.conn = membership_conn(cluster_membership(n->instance));
    conn_each_up(p.conn, add_peer, &p);
    const struct tracker *t = cluster_tracker(n->instance);
    p.tracker = true;
    if (t)
        trk_each_node(t, add_peer, &p);
    return dump_line(p.list);
}
