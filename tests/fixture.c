/*
 * tests/fixture.c: the recording fixture protocol and the small driver
 * helpers shared by the net, dns and world test groups (see fixture.h).
 */
#include "tests.h"

#include "fixture.h"

#include "../config/scenario/loader.h"

#include <stdlib.h>
#include <string.h>

struct fx_inst {
    struct cs_env *env;
    struct fx_config *cfg;
    struct sim_node *node;
};

static void *fx_create(struct cs_env *env, const void *config, const char *node_name)
{
    (void)node_name;
    struct fx_inst *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->env = env;
    f->cfg = (struct fx_config *)config;
    f->node = env->impl; /* the sim shim binds impl to the node */
    return f;
}

static void fx_destroy(void *instance)
{
    free(instance);
}

static void fx_start(void *instance)
{
    (void)instance;
}

static struct fx_event *log_append(struct fx_inst *f)
{
    struct fx_log *log = &f->cfg->logs[f->node->index];
    if (log->count == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        struct fx_event *ev = realloc(log->ev, cap * sizeof *ev);
        if (!ev)
            abort();
        log->ev = ev;
        log->cap = cap;
    }
    struct fx_event *e = &log->ev[log->count++];
    memset(e, 0, sizeof *e);
    return e;
}

static uint32_t read_seq(const uint8_t *d, size_t len)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4 && i < len; i++)
        v |= (uint32_t)d[i] << (8 * i);
    return v;
}

static void record_dns(struct fx_event *e, const struct cs_event *ev)
{
    const struct cs_dns_answer *a = ev->u.dns.answer;
    e->id = ev->u.dns.query;
    e->status = a->status;
    e->truncated = a->truncated;
    e->count = a->count;
    for (size_t i = 0; i < a->count && i < FX_MAX_RECORDS; i++)
        e->records[i] = a->records[i].addr;
}

static void record(struct fx_inst *f, const struct cs_event *ev)
{
    struct fx_event *e = log_append(f);
    e->type = ev->type;
    e->order = f->cfg->next_order++;
    e->at = f->node->world->now;
    e->local = f->env->now(f->env);
    e->incarnation = f->node->incarnation;
    switch (ev->type) {
    case CS_EV_TIMER:
        e->id = ev->u.timer.id;
        e->tag = ev->u.timer.tag;
        break;
    case CS_EV_LINK_UP:
        e->id = ev->u.link_up.link;
        e->inbound = ev->u.link_up.inbound;
        e->addr = ev->u.link_up.peer;
        break;
    case CS_EV_LINK_MSG:
        e->id = ev->u.msg.link;
        e->len = ev->u.msg.len;
        e->seq = read_seq(ev->u.msg.data, ev->u.msg.len);
        break;
    case CS_EV_LINK_DOWN:
        e->id = ev->u.link_down.link;
        e->reason = ev->u.link_down.reason;
        break;
    case CS_EV_DGRAM:
        e->addr = ev->u.dgram.from;
        e->len = ev->u.dgram.len;
        e->seq = read_seq(ev->u.dgram.data, ev->u.dgram.len);
        break;
    case CS_EV_DNS:
        record_dns(e, ev);
        break;
    case CS_EV_STOP:
        e->grace = ev->u.stop.grace;
        break;
    case CS_EV_COMMAND:
        break;
    }
}

static void react(struct fx_inst *f, const struct cs_event *ev)
{
    struct fx_config *c = f->cfg;
    if (ev->type == CS_EV_STOP && c->on_stop == FX_STOP_AT_ONCE)
        f->env->stopped(f->env);
    else if (ev->type == CS_EV_STOP && c->on_stop == FX_STOP_DELAYED)
        f->env->timer_start(f->env, c->stop_delay, FX_TAG_STOP);
    else if (ev->type == CS_EV_TIMER && ev->u.timer.tag == FX_TAG_STOP)
        f->env->stopped(f->env);
    else if (ev->type == CS_EV_LINK_UP && ev->u.link_up.inbound && c->connect_back) {
        size_t n = c->connect_back;
        c->connect_back = 0; /* once: the links it opens must not cascade */
        for (size_t i = 0; i < n; i++) {
            cs_link_id id = f->env->link_connect(f->env, &ev->u.link_up.peer);
            if (c->opened)
                c->opened[c->opened_count++] = id;
        }
    }
}

static void fx_handle(void *instance, const struct cs_event *ev)
{
    struct fx_inst *f = instance;
    record(f, ev);
    react(f, ev);
}

static bool fx_settled(void *instance)
{
    struct fx_inst *f = instance;
    return !f->cfg->never_settled;
}

static void fx_view(void *instance, cs_name_sink sink, void *ctx)
{
    (void)instance;
    (void)sink;
    (void)ctx;
}

static bool fx_timer_can_progress(void *instance, uint64_t tag)
{
    struct fx_inst *f = instance;
    return f->cfg->idle_tag == 0 || tag != f->cfg->idle_tag;
}

static int fx_dump(void *instance, char *buf, size_t size)
{
    struct fx_inst *f = instance;
    return snprintf(buf, size, "{:fixture, %s}", f->node->name);
}

const struct cs_proto fx_proto = {
    .name = "fixture",
    .create = fx_create,
    .destroy = fx_destroy,
    .start = fx_start,
    .handle = fx_handle,
    .settled = fx_settled,
    .view = fx_view,
    .timer_can_progress = fx_timer_can_progress,
    .dump = fx_dump,
};

int fx_setup(void **state)
{
    struct fx *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    *state = t;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *t = *state;
    if (!t)
        return 0;
    sim_world_free(t->w);
    if (t->loaded)
        scenario_free(&t->sc);
    for (size_t i = 0; i < FX_MAX_NODES; i++)
        free(t->cfg.logs[i].ev);
    free(t->cfg.opened);
    free(t);
    *state = NULL;
    return 0;
}

void fx_open_proto(struct fx *t, const char *yaml, uint64_t seed, const struct cs_proto *proto,
                   const void *proto_config)
{
    test_load(yaml, &t->sc);
    t->loaded = true;
    assert_true(t->sc.cluster.node_count <= FX_MAX_NODES);
    struct sim_options o = {.seed = seed, .hash = true, .trace_ring = true, .proto = proto,
                            .proto_config = proto_config, .bind_env = sim_env_bind};
    t->w = sim_world_new(&t->sc, &o);
    assert_non_null(t->w);
}

void fx_open(struct fx *t, const char *yaml, uint64_t seed)
{
    fx_open_proto(t, yaml, seed, &fx_proto, &t->cfg);
}

void fx_start_all(struct fx *t)
{
    for (uint32_t i = 0; i < t->w->node_count; i++)
        sim_node_start(t->w, i);
}

void fx_run(struct fx *t, cs_time until)
{
    sim_world_run_until(t->w, until);
    assert_int_equal(t->w->now, until);
}

struct cs_env *fx_env(struct fx *t, uint32_t node)
{
    assert_true(sim_node_alive(&t->w->nodes[node]));
    return &t->w->nodes[node].env;
}

cs_link_id fx_connect(struct fx *t, uint32_t from, uint32_t to)
{
    struct cs_env *env = fx_env(t, from);
    cs_link_id id = env->link_connect(env, &t->w->nodes[to].addr);
    assert_int_not_equal(id, 0);
    return id;
}

static void put_seq(uint8_t *buf, uint32_t seq)
{
    for (int i = 0; i < 4; i++)
        buf[i] = (uint8_t)(seq >> (8 * i));
}

int fx_send(struct fx *t, uint32_t from, cs_link_id link, uint32_t seq)
{
    uint8_t buf[4];
    put_seq(buf, seq);
    struct cs_env *env = fx_env(t, from);
    return env->link_send(env, link, buf, sizeof buf);
}

int fx_dgram_to(struct fx *t, uint32_t from, const struct cs_addr *to, uint32_t seq)
{
    uint8_t buf[4];
    put_seq(buf, seq);
    struct cs_env *env = fx_env(t, from);
    return env->dgram_send(env, to, buf, sizeof buf);
}

int fx_dgram(struct fx *t, uint32_t from, uint32_t to, uint32_t seq)
{
    return fx_dgram_to(t, from, &t->w->nodes[to].addr, seq);
}

cs_query_id fx_query(struct fx *t, uint32_t node, const char *name, enum cs_dns_type type)
{
    struct cs_env *env = fx_env(t, node);
    cs_query_id q = env->dns_query(env, name, type);
    assert_int_not_equal(q, 0);
    return q;
}

const struct fx_log *fx_log_of(struct fx *t, uint32_t node)
{
    return &t->cfg.logs[node];
}

size_t fx_count(struct fx *t, uint32_t node, enum cs_event_type type)
{
    const struct fx_log *log = fx_log_of(t, node);
    size_t n = 0;
    for (size_t i = 0; i < log->count; i++)
        n += log->ev[i].type == type;
    return n;
}

const struct fx_event *fx_nth(struct fx *t, uint32_t node, enum cs_event_type type, size_t n)
{
    const struct fx_log *log = fx_log_of(t, node);
    for (size_t i = 0; i < log->count; i++)
        if (log->ev[i].type == type && n-- == 0)
            return &log->ev[i];
    return NULL;
}

const struct fx_event *fx_find(struct fx *t, uint32_t node, enum cs_event_type type, uint32_t id)
{
    const struct fx_log *log = fx_log_of(t, node);
    for (size_t i = 0; i < log->count; i++)
        if (log->ev[i].type == type && log->ev[i].id == id)
            return &log->ev[i];
    return NULL;
}

struct cs_addr fx_addr(const char *text)
{
    struct cs_addr a;
    assert_int_equal(cs_addr_parse(text, &a), 0);
    return a;
}
