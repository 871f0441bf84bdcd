/*
 * shims/sim/sim_env.c: the simulator binding of struct cs_env.  Every call
 * is traced by the model it lands in; this file only routes.
 */
#include "sim_env.h"

#include "../../sim/explore.h"
#include "../../sim/invariants.h"
#include "../../core/grow.h"
#include "../../core/strcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sim_node *node_of(struct cs_env *env)
{
    return env->impl;
}

static cs_time env_now(struct cs_env *env)
{
    struct sim_node *n = node_of(env);
    return sim_node_clock(n->world, n);
}

static cs_timer_id env_timer_start(struct cs_env *env, cs_time delay, uint64_t tag)
{
    struct sim_node *n = node_of(env);
    return sim_timer_start(n->world, n->index, delay, tag);
}

static void env_timer_cancel(struct cs_env *env, cs_timer_id timer)
{
    sim_timer_cancel(node_of(env)->world, timer);
}

static cs_link_id env_link_connect(struct cs_env *env, const struct cs_addr *peer)
{
    struct sim_node *n = node_of(env);
    return sim_net_connect(n->world, n->index, peer);
}

static int env_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len)
{
    struct sim_node *n = node_of(env);
    return sim_net_send(n->world, n->index, link, data, len);
}

static void env_link_close(struct cs_env *env, cs_link_id link)
{
    struct sim_node *n = node_of(env);
    sim_net_close(n->world, n->index, link);
}

static void env_link_set_cookie(struct cs_env *env, cs_link_id link, uint32_t cookie)
{
    struct sim_node *n = node_of(env);
    sim_net_set_cookie(n->world, n->index, link, cookie);
}

static int env_dgram_send(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len)
{
    struct sim_node *n = node_of(env);
    return sim_net_dgram(n->world, n->index, to, data, len);
}

static int env_dgram_join(struct cs_env *env, const struct cs_addr *group)
{
    struct sim_node *n = node_of(env);
    if (group->family != 4 || !cs_addr_is_multicast(group))
        return -1;
    if (n->group_count == sizeof n->groups / sizeof n->groups[0])
        return -1;
    n->groups[n->group_count++] = (uint32_t)group->ip[0] << 24 | (uint32_t)group->ip[1] << 16 |
                                  (uint32_t)group->ip[2] << 8 | group->ip[3];
    return 0;
}

static cs_query_id env_dns_query(struct cs_env *env, const char *name, enum cs_dns_type type)
{
    struct sim_node *n = node_of(env);
    return sim_dns_query(n->world, n->index, name, type);
}

static uint64_t env_random_u64(struct cs_env *env)
{
    return pcg32_next64(&node_of(env)->rng);
}

static void env_trace(struct cs_env *env, const char *kind, const struct cs_field *fields, size_t count)
{
    struct sim_node *n = node_of(env);
    sim_trace_fields(&n->world->trace, n->world->now, n->id, kind, fields, count);
}

static void env_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct sim_node *n = node_of(env);
    struct sim_world *w = n->world;
    sim_trace_log(&w->trace, w->now, n->id, names[level & 3], line);
    if (w->opt.verbose)
        fprintf(stderr, "%12.6f %-6s %s\n", (double)w->now / 1e9, n->id, line);
}

static void env_reply(struct cs_env *env, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    struct sim_node *n = node_of(env);
    struct sim_world *w = n->world;
    /* Keep only replies some expectation asks about: a benchmark's million
     * registrations would otherwise keep a million replies. */
    bool wanted = false;
    for (size_t i = 0; i < w->sc->expect_count && !wanted; i++) {
        const struct sc_expect *e = &w->sc->expects[i];
        wanted = (e->kind == SC_EXP_REPLY && e->node == n->index && !strcmp(e->op, op) &&
                  !strcmp(e->name, name ? name : "")) ||
                 (e->kind == SC_EXP_NO_LOSS && sim_reply_changes_registry(op));
    }
    if (!wanted)
        return;
    if (cs_grow((void **)&w->replies, &w->reply_cap, w->reply_count + 1, sizeof *w->replies) != 0)
        return;
    struct sim_reply *r = &w->replies[w->reply_count++];
    r->node = n->index;
    r->incarnation = n->incarnation;
    r->at = w->now;
    cs_copy_str(r->op, sizeof r->op, op);
    cs_copy_str(r->name, sizeof r->name, name ? name : "");
    cs_copy_str(r->status, sizeof r->status, status);
    cs_copy_str(r->owner, sizeof r->owner, owner ? owner : "");
    r->value = value;
}

static uint64_t env_choose(struct cs_env *env, uint64_t bound)
{
    struct sim_node *n = node_of(env);
    return sim_explore_choose(n->world, bound);
}

static void env_stopped(struct cs_env *env)
{
    struct sim_node *n = node_of(env);
    sim_node_stopped(n->world, n->index);
}

void sim_env_bind(struct sim_world *w, struct sim_node *node)
{
    struct cs_env *env = &node->env;
    env->impl = node;
    env->trace_enabled = w->trace.on;
    env->log_enabled = w->trace.on || w->opt.verbose;
    env->ring_memo = w->ring_memo;
    env->now = env_now;
    env->timer_start = env_timer_start;
    env->timer_cancel = env_timer_cancel;
    env->link_connect = env_link_connect;
    env->link_send = env_link_send;
    env->link_close = env_link_close;
    env->link_set_cookie = env_link_set_cookie;
    env->dgram_send = env_dgram_send;
    env->dgram_join = env_dgram_join;
    env->dns_query = env_dns_query;
    env->random_u64 = env_random_u64;
    env->trace = env_trace;
    env->log = env_log;
    env->stopped = env_stopped;
    env->reply = env_reply;
    env->choose = w->opt.explore ? env_choose : NULL;
}
