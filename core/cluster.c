/*
 * core/cluster.c: the cluster node: routes every environment event to the
 * layer that owns it (connection layer, membership, tracker), handles
 * graceful stop, and offers the observation functions checkers use
 * (settled, view, registry digest, dump).
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cluster_dump(void *instance, char *buf, size_t size);

struct cluster_node {
    struct cs_env *env;
    const struct cluster_config *cfg; /* the host's; it outlives the node */
    char self[CS_NODE_NAME_MAX];
    struct membership *mem;
    struct tracker *trk;
    uint64_t commands_ignored;
};

void cluster_config_defaults(struct cluster_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    membership_config_defaults(&cfg->mem);
    trk_config_defaults(&cfg->trk);
}

struct membership *cluster_membership(void *instance)
{
    return ((struct cluster_node *)instance)->mem;
}

struct tracker *cluster_tracker(void *instance)
{
    return ((struct cluster_node *)instance)->trk;
}

static void on_nodeup(void *ctx, const char *peer)
{
    struct cluster_node *n = ctx;
    if (n->trk)
        trk_nodeup(n->trk, peer);
}

static void on_nodedown(void *ctx, const char *peer, enum conn_down_reason why)
{
    struct cluster_node *n = ctx;
    (void)why;
    if (n->trk)
        trk_nodedown(n->trk, peer);
}

static void on_message(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    struct cluster_node *n = ctx;
    if (n->trk)
        trk_message_from(n->trk, peer, slot, data, len);
}

static void each_connected(void *ctx, void (*fn)(void *fctx, const char *peer), void *fctx)
{
    struct cluster_node *n = ctx;
    conn_each_up(membership_conn(n->mem), fn, fctx);
}

static int trk_send_to(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    struct cluster_node *n = ctx;
    if (slot >= 0)
        return conn_send_slot(membership_conn(n->mem), slot, data, len);
    return conn_send(membership_conn(n->mem), peer, data, len);
}

static void *cluster_create(struct cs_env *env, const void *config, const char *node_name)
{
    struct cluster_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->env = env;
    n->cfg = config;
    snprintf(n->self, sizeof n->self, "%s", node_name);
    struct membership_callbacks cb = {.ctx = n, .nodeup = on_nodeup, .nodedown = on_nodedown,
                               .message = on_message};
    n->mem = membership_new(env, &n->cfg->mem, node_name, &cb);
    if (n->mem && n->cfg->tracker) {
        struct trk_host host = {.ctx = n, .send = trk_send_to, .each_peer = each_connected};
        n->trk = trk_new(env, &n->cfg->trk, node_name, (uint32_t)env->random_u64(env), &host);
    }
    if (!n->mem || (n->cfg->tracker && !n->trk)) {
        membership_free(n->mem);
        free(n);
        return NULL;
    }
    return n;
}

static void cluster_destroy(void *instance)
{
    struct cluster_node *n = instance;
    trk_free(n->trk);
    membership_free(n->mem);
    free(n);
}

static void cluster_start(void *instance)
{
    struct cluster_node *n = instance;
    membership_start(n->mem);
    if (n->trk)
        trk_start(n->trk);
}

static void cluster_handle(void *instance, const struct cs_event *ev)
{
    struct cluster_node *n = instance;
    if (ev->type == CS_EV_STOP) {
        /* SIGTERM: the BEAM's init:stop() stops the applications in the
         * reverse of their start order, and the VM exits once they have
         * stopped.  The user's processes go first while the tracker still
         * runs (Swarm sees them exit and broadcasts their untracks; the
         * fixed tracker hands them off), then the tracker, then the
         * membership (libcluster stops polling and dialling; the fixed
         * mode also announces LEAVE); then the VM exits and its links
         * close, behind everything already sent. */
        if (n->trk)
            trk_stop(n->trk);
        membership_stop(n->mem);
        n->env->stopped(n->env);
        return;
    }
    if (ev->type == CS_EV_COMMAND) {
        if (n->trk) {
            trk_command(n->trk, ev->u.command.cmd);
            return;
        }
        n->commands_ignored++;
        cs_logf(n->env, CS_LOG_INFO, "[cluster] no registry: ignoring %s", ev->u.command.cmd->op);
        return;
    }
    if (n->trk && trk_handle(n->trk, ev))
        return;
    if (!membership_handle(n->mem, ev) && ev->type == CS_EV_DGRAM)
        cs_logf(n->env, CS_LOG_DEBUG, "[cluster] ignored a datagram of %zu bytes", ev->u.dgram.len);
}

static bool cluster_settled(void *instance)
{
    /* Membership alone has no state to wait for: whether the cluster formed
     * is judged on the views. (A connect attempt in flight is not a reason
     * to call a node unsettled: libcluster retries failing nodes forever.)
     * With the tracker, a node is settled once its tracker is tracking. */
    struct cluster_node *n = instance;
    return !n->trk || (trk_running(n->trk) && trk_state(n->trk) == TRK_TRACKING);
}

static bool cluster_work_held(void *instance)
{
    struct cluster_node *n = instance;
    return n->trk && trk_placement_held(n->trk);
}

static void cluster_counters(void *instance, void (*fn)(void *ctx, const char *name, uint64_t value), void *ctx)
{
    struct cluster_node *n = instance;
    if (!n->trk)
        return;
    const struct trk_stats *s = trk_stats(n->trk);
    char name[48];
    for (unsigned type = 0; type < TRK_SENT_TYPES; type++) {
        const char *type_name = trk_message_type_name(type);
        if (type_name && s->sent[type]) {
            snprintf(name, sizeof name, "sent_%s", type_name);
            fn(ctx, name, s->sent[type]);
        }
    }
    fn(ctx, "handoffs_sent", s->handoffs_sent);
    fn(ctx, "snapshot_entries", s->snapshot_entries);
    fn(ctx, "scoped_answer_entries", s->scoped_answer_entries);
    fn(ctx, "full_pulls", s->full_pulls);
    fn(ctx, "pulls_with_writes", s->pulls_with_writes);
    fn(ctx, "pulls_forgone", s->pulls_forgone);
    fn(ctx, "checks_crossed", s->checks_crossed);
    fn(ctx, "departure_offers", s->departure_offers);
    fn(ctx, "restarts", s->restarts);
    fn(ctx, "conflicts", s->conflicts);
}

static void cluster_view(void *instance, cs_name_sink sink, void *ctx)
{
    struct cluster_node *n = instance;
    if (n->trk)
        trk_each_node(n->trk, sink, ctx);
    else
        conn_each_up(membership_conn(n->mem), sink, ctx);
}

static void cluster_registry_digest(void *instance, size_t *count, uint64_t *sum)
{
    struct cluster_node *n = instance;
    *count = 0;
    *sum = 0;
    if (n->trk)
        trk_registry_digest(n->trk, count, sum);
}

static void cluster_registry_digest_full(void *instance, size_t *count, uint64_t *sum)
{
    struct cluster_node *n = instance;
    *count = 0;
    *sum = 0;
    if (n->trk)
        trk_registry_digest_full(n->trk, count, sum);
}

static void cluster_registry_each(void *instance, bool with_ring_owner, cs_entry_sink fn, void *ctx)
{
    struct cluster_node *n = instance;
    if (n->trk)
        trk_each_entry(n->trk, with_ring_owner, fn, ctx);
}

static size_t cluster_stray_processes(void *instance, char *first, size_t size)
{
    struct cluster_node *n = instance;
    return n->trk ? trk_stray_processes(n->trk, first, size) : 0;
}

static uint64_t cluster_registry_epoch(void *instance)
{
    struct cluster_node *n = instance;
    return n->trk ? trk_registry_epoch(n->trk) : 0;
}

static const char *cluster_waiting_for(void *instance)
{
    struct cluster_node *n = instance;
    return n->trk ? trk_waiting_for(n->trk) : NULL;
}

static int cluster_state_key(void *instance, char *buf, size_t size)
{
    struct cluster_node *n = instance;
    if (n->trk)
        return trk_state_key(n->trk, buf, size);
    return cluster_dump(instance, buf, size);
}

static bool cluster_message_can_progress(void *instance, const uint8_t *data, size_t len)
{
    (void)instance;
    return !conn_frame_is_tick(data, len);
}

static bool cluster_timer_can_progress(void *instance, uint64_t tag)
{
    struct cluster_node *n = instance;
    if (!n->trk)
        return true;
    /* The connection layer's ticks and membership polls keep running in a
     * deadlocked cluster without ever moving a tracker on. */
    if (CS_TAG_MODULE_OF(tag) == CS_TAG_CONN || CS_TAG_MODULE_OF(tag) == CS_TAG_MEM)
        return false;
    return trk_timer_can_progress(n->trk, tag);
}

static void cluster_view_digest(void *instance, size_t *count, uint64_t *sum)
{
    struct cluster_node *n = instance;
    if (n->trk) {
        *count = 0;
        *sum = 0;
        trk_nodes_digest(n->trk, count, sum);
        return;
    }
    const struct conn *c = membership_conn(n->mem);
    *count = conn_up_count(c);
    *sum = conn_up_digest(c);
}

struct dump_ctx {
    char *buf;
    size_t size, len;
};

static void dump_name(void *ctx, const char *name)
{
    struct dump_ctx *d = ctx;
    if (d->len < d->size)
        d->len += (size_t)snprintf(d->buf + d->len, d->size - d->len, "%s:\"%s\"",
                                   d->buf[d->len - 1] == '[' ? "" : ", ", name);
}

static int cluster_dump(void *instance, char *buf, size_t size)
{
    struct cluster_node *n = instance;
    if (n->trk)
        return trk_dump(n->trk, buf, size);
    const struct membership_stats *st = membership_stats(n->mem);
    struct dump_ctx d = {buf, size, 0};
    d.len = (size_t)snprintf(buf, size, "{:membership, %%{self: :\"%s\", mode: :%s, nodes: [",
                             n->self, membership_mode_name(n->mem));
    if (d.len < size)
        conn_each_up(membership_conn(n->mem), dump_name, &d);
    if (d.len < size)
        d.len += (size_t)snprintf(buf + d.len, size - d.len, "], rounds: %llu, lookups_failed: %llu}}",
                                  (unsigned long long)st->rounds,
                                  (unsigned long long)st->lookups_failed);
    return (int)(d.len < size ? d.len : size - 1);
}

static bool cluster_check(void *instance, char *why, size_t size)
{
    struct cluster_node *n = instance;
    return conn_check(membership_conn(n->mem), why, size) && (!n->trk || trk_check(n->trk, why, size));
}

const struct cs_proto cluster_proto = {
    .name = "cluster",
    .create = cluster_create,
    .destroy = cluster_destroy,
    .start = cluster_start,
    .handle = cluster_handle,
    .settled = cluster_settled,
    .work_held = cluster_work_held,
    .counters = cluster_counters,
    .view = cluster_view,
    .view_digest = cluster_view_digest,
    .timer_can_progress = cluster_timer_can_progress,
    .registry_digest = cluster_registry_digest,
    .registry_digest_full = cluster_registry_digest_full,
    .registry_each = cluster_registry_each,
    .stray_processes = cluster_stray_processes,
    .registry_epoch = cluster_registry_epoch,
    .message_can_progress = cluster_message_can_progress,
    .waiting_for = cluster_waiting_for,
    .state_key = cluster_state_key,
    .dump = cluster_dump,
    .check = cluster_check,
};
