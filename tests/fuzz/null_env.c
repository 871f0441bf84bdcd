/*
 * tests/fuzz/null_env.c: the fuzz targets' environment (see null_env.h).
 */
#include "null_env.h"

#include <string.h>

#include "../../core/addr.h"

static struct null_env *of(struct cs_env *env)
{
    return env->impl;
}

static cs_time env_now(struct cs_env *env)
{
    return of(env)->now;
}

static cs_timer_id env_timer_start(struct cs_env *env, cs_time delay, uint64_t tag)
{
    struct null_env *n = of(env);
    cs_timer_id id = ++n->next_id;
    if (n->timer_count < NULL_ENV_TIMERS)
        n->timers[n->timer_count++] = (struct null_timer){id, tag, n->now + delay};
    return id;
}

static void env_timer_cancel(struct cs_env *env, cs_timer_id timer)
{
    struct null_env *n = of(env);
    for (size_t i = 0; i < n->timer_count; i++)
        if (n->timers[i].id == timer) {
            n->timers[i] = n->timers[--n->timer_count];
            return;
        }
}

static cs_link_id env_link_connect(struct cs_env *env, const struct cs_addr *peer)
{
    (void)peer;
    return ++of(env)->next_id;
}

static int env_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len)
{
    (void)env, (void)link, (void)data, (void)len;
    return 0;
}

static void env_link_close(struct cs_env *env, cs_link_id link)
{
    (void)env, (void)link;
}

static int env_dgram_send(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len)
{
    (void)env, (void)to, (void)data, (void)len;
    return 0;
}

static int env_dgram_join(struct cs_env *env, const struct cs_addr *group)
{
    (void)env, (void)group;
    return 0;
}

static cs_query_id env_dns_query(struct cs_env *env, const char *name, enum cs_dns_type type)
{
    (void)name, (void)type;
    return ++of(env)->next_id;
}

static uint64_t env_random(struct cs_env *env)
{
    struct null_env *n = of(env);
    n->random_state = n->random_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return n->random_state;
}

static void env_stopped(struct cs_env *env)
{
    (void)env;
}

void null_env_init(struct null_env *n, const char *self)
{
    memset(n, 0, sizeof *n);
    n->env.impl = n;
    cs_addr_parse(self, &n->env.self_addr);
    n->env.now = env_now;
    n->env.timer_start = env_timer_start;
    n->env.timer_cancel = env_timer_cancel;
    n->env.link_connect = env_link_connect;
    n->env.link_send = env_link_send;
    n->env.link_close = env_link_close;
    n->env.dgram_send = env_dgram_send;
    n->env.dgram_join = env_dgram_join;
    n->env.dns_query = env_dns_query;
    n->env.random_u64 = env_random;
    n->env.stopped = env_stopped;
    n->now = 1000000000;
}

size_t null_env_fire(struct null_env *n, cs_time advance, void (*handle)(void *instance, const struct cs_event *ev),
                     void *instance)
{
    cs_time until = n->now + advance;
    size_t fired = 0;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n->timer_count; i++)
            if (n->timers[i].at <= until && (best == SIZE_MAX || n->timers[i].at < n->timers[best].at))
                best = i;
        if (best == SIZE_MAX || fired > 256)
            break;
        struct cs_event ev = {.type = CS_EV_TIMER};
        ev.u.timer.id = n->timers[best].id;
        ev.u.timer.tag = n->timers[best].tag;
        if (n->timers[best].at > n->now)
            n->now = n->timers[best].at;
        n->timers[best] = n->timers[--n->timer_count];
        handle(instance, &ev);
        fired++;
    }
    n->now = until;
    return fired;
}
