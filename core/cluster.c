/*
 * core/cluster.c: the cluster node: routes every environment event to the
 * layer that owns it, handles graceful stop, and offers the observation
 * functions checkers use (settled, view, dump).
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cluster_node {
    struct cs_env *env;
    struct cluster_config cfg;
    char self[CS_NODE_NAME_MAX];
    struct membership *mem;
    uint64_t commands_ignored;
};

void cluster_config_defaults(struct cluster_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    mem_config_defaults(&cfg->mem);
}

struct membership *cluster_membership(void *instance)
{
    return ((struct cluster_node *)instance)->mem;
}

static void *cluster_create(struct cs_env *env, const void *config, const char *node_name)
{
    struct cluster_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->env = env;
    n->cfg = *(const struct cluster_config *)config;
    snprintf(n->self, sizeof n->self, "%s", node_name);
    struct mem_callbacks cb = {.ctx = n};
    n->mem = mem_new(env, &n->cfg.mem, node_name, &cb);
    if (!n->mem) {
        free(n);
        return NULL;
    }
    return n;
}

static void cluster_destroy(void *instance)
{
    struct cluster_node *n = instance;
    mem_free(n->mem);
    free(n);
}

static void cluster_start(void *instance)
{
    struct cluster_node *n = instance;
    mem_start(n->mem);
}

static void cluster_handle(void *instance, const struct cs_event *ev)
{
    struct cluster_node *n = instance;
    if (ev->type == CS_EV_STOP) {
        mem_stop(n->mem);
        /* Fixed mode leaves at once; libcluster mode keeps polling and
         * reconnecting until the grace period runs out and it is killed. */
        if (n->cfg.mem.mode == MEM_FIXED)
            n->env->stopped(n->env);
        return;
    }
    if (ev->type == CS_EV_COMMAND) {
        n->commands_ignored++;
        cs_logf(n->env, CS_LOG_INFO, "[cluster] no registry yet: ignoring %s", ev->u.command.cmd->op);
        return;
    }
    if (!mem_handle(n->mem, ev) && ev->type == CS_EV_DGRAM)
        cs_logf(n->env, CS_LOG_DEBUG, "[cluster] ignored a datagram of %zu bytes", ev->u.dgram.len);
}

static bool cluster_settled(void *instance)
{
    /* Membership alone has no state to wait for: whether the cluster formed
     * is judged on the views. (A connect attempt in flight is not a reason
     * to call a node unsettled: libcluster retries failing nodes forever.) */
    (void)instance;
    return true;
}

static void cluster_view(void *instance, cs_name_sink sink, void *ctx)
{
    struct cluster_node *n = instance;
    conn_each_up(mem_conn(n->mem), sink, ctx);
}

static void cluster_view_digest(void *instance, size_t *count, uint64_t *sum)
{
    const struct conn *c = mem_conn(((struct cluster_node *)instance)->mem);
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
    const struct mem_stats *st = mem_stats(n->mem);
    struct dump_ctx d = {buf, size, 0};
    d.len = (size_t)snprintf(buf, size, "{:membership, %%{self: :\"%s\", mode: :%s, nodes: [",
                             n->self, n->cfg.mem.mode == MEM_FIXED ? "fixed" : "libcluster");
    if (d.len < size)
        conn_each_up(mem_conn(n->mem), dump_name, &d);
    if (d.len < size)
        d.len += (size_t)snprintf(buf + d.len, size - d.len, "], rounds: %llu, lookups_failed: %llu}}",
                                  (unsigned long long)st->rounds,
                                  (unsigned long long)st->lookups_failed);
    return (int)(d.len < size ? d.len : size - 1);
}

const struct cs_proto cluster_proto = {
    .name = "cluster",
    .create = cluster_create,
    .destroy = cluster_destroy,
    .start = cluster_start,
    .handle = cluster_handle,
    .settled = cluster_settled,
    .view = cluster_view,
    .view_digest = cluster_view_digest,
    .timer_can_progress = NULL,
    .dump = cluster_dump,
};
