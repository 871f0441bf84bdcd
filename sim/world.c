/*
 * sim/world.c: the run loop on virtual time and the node lifecycle (start,
 * crash, graceful stop with a grace period, restart on the same or a new
 * address), node clocks and node timers.  Network, DNS, timeline and
 * checkers live in their own files and are called from the dispatcher here.
 *
 * The run's budgets (limits.max_events, limits.wall) end a runaway run and
 * say so (w->budget_hit).  The wall-clock budget is the simulated path's
 * only reading of real time: it is looked at every 65,536 events and
 * changes nothing unless it stops the run.
 */
#include "world.h"

#include "../core/ring.h"
#include "../core/timer_tag.h"
#include "adversary.h"
#include "check.h"
#include "explore.h"
#include "invariants.h"
#include "sampler.h"
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

static uint32_t addr_key(const struct cs_addr *a)
{
    uint32_t h = 2166136261u; /* FNV-1a over family and ip; 0 is reserved */
    h = (h ^ a->family) * 16777619u;
    for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
        h = (h ^ a->ip[i]) * 16777619u;
    return h ? h : 1;
}

static void assign_address(struct sim_world *w, struct sim_node *n, const struct cs_addr *addr)
{
    n->addr = *addr;
    scenario_node_name(w->sc, n->index, addr, n->name, sizeof n->name);
    n->name_hash = XXH3_64bits(n->name, strlen(n->name));
}

static bool address_in_use(void *ctx, const struct cs_addr *a)
{
    struct sim_world *w = ctx;
    for (size_t i = 0; i < w->node_count; i++)
        if (cs_addr_compare(&w->nodes[i].addr, a) == 0)
            return true;
    return false;
}

/* A replaced pod gets an address no node holds or held at the start. */
static void take_new_address(struct sim_world *w, struct sim_node *n)
{
    struct cs_addr a;
    if (scenario_pool_address(w->sc, &w->next_address, address_in_use, w, &a) == 0)
        assign_address(w, n, &a);
}

struct sim_world *sim_world_new(const struct scenario *sc, const struct sim_options *opt)
{
    struct sim_world *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->sc = sc;
    w->opt = *opt;
    w->proto = opt->proto ? opt->proto
               : sc->cluster.protocol == SC_PROTO_CLUSTER ? &cluster_proto : &ping_proto;
    w->proto_config = opt->proto ? opt->proto_config : NULL; /* NULL: per node, from the scenario */
    sim_evq_init(&w->queue);
    cs_idmap_init(&w->addr_index);
    w->owns_ring_memo = !opt->ring_memo;
    w->ring_memo = opt->ring_memo ? opt->ring_memo : ring_memo_new(0); /* NULL: each node hashes its own */
    w->converged_since = -1;
    w->first_stuck_at = -1;
    w->mover_seq = UINT64_MAX;
    pcg32_stream(&w->rng_network, opt->seed, PCG_STREAM_NETWORK, 0);
    pcg32_stream(&w->rng_dgram, opt->seed, PCG_STREAM_DATAGRAM, 0);
    pcg32_stream(&w->rng_dns, opt->seed, PCG_STREAM_DNS, 0);
    pcg32_stream(&w->rng_faults, opt->seed, PCG_STREAM_FAULTS, 0);
    pcg32_stream(&w->rng_schedule, opt->seed, PCG_STREAM_SCHEDULE, 0);
    if (sc->entropy_len) { /* recorded entropy drives every choice instead */
        w->entropy = (struct pcg_bytes){.data = sc->entropy, .len = sc->entropy_len};
        w->rng_network.bytes = w->rng_dgram.bytes = w->rng_dns.bytes = &w->entropy;
        w->rng_faults.bytes = w->rng_schedule.bytes = &w->entropy;
    }
    w->node_count = sc->cluster.node_count;
    w->nodes = calloc(w->node_count ? w->node_count : 1, sizeof *w->nodes);
    if (!w->nodes || sim_net_init(&w->net, w->node_count) != 0 ||
        sim_trace_init(&w->trace, opt->trace_file, opt->trace_ring) != 0 || sim_dns_init(w) != 0) {
        sim_world_free(w);
        return NULL;
    }
    w->next_address = sc->cluster.pool_next;
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        const struct sc_node *spec = &sc->cluster.nodes[i];
        n->index = (uint32_t)i;
        n->id = spec->id;
        n->world = w;
        n->stop_slot = -1;
        n->drift_ppm = spec->drift_ppm;
        n->local_base = spec->clock_offset;
        assign_address(w, n, &spec->addr); /* the loader assigned every address */
    }
    w->last_fault = scenario_last_fault(sc);
    if (sim_timeline_schedule(w) != 0 || sim_check_schedule(w) != 0 || sim_observe_schedule(w) != 0 ||
        sim_sampler_schedule(w) != 0) {
        sim_world_free(w);
        return NULL;
    }
    return w;
}

void sim_world_free(struct sim_world *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->node_count; i++)
        if (w->nodes[i].instance)
            w->proto->destroy(w->nodes[i].instance);
    sim_adversary_free(w);
    sim_evq_free(&w->queue);
    cs_idmap_free(&w->addr_index);
    sim_net_free(&w->net);
    sim_dns_free(&w->dns, w->node_count);
    sim_trace_free(&w->trace);
    free(w->nodes);
    free(w->excluded);
    free(w->replies);
    free(w->windows);
    free(w->instants);
    sim_holders_free(w->holders);
    if (w->owns_ring_memo)
        ring_memo_free(w->ring_memo);
    free(w);
}

int64_t sim_schedule(struct sim_world *w, const struct sim_event *ev)
{
    int64_t slot = sim_evq_push(&w->queue, ev);
    if (w->queue.count > w->stats.peak_queue)
        w->stats.peak_queue = w->queue.count;
    return slot;
}

bool sim_node_alive(const struct sim_node *n)
{
    return n->state == SIM_NODE_UP || n->state == SIM_NODE_STOPPING;
}

struct sim_node *sim_node_at(struct sim_world *w, const struct cs_addr *addr)
{
    int32_t idx = cs_idmap_get(&w->addr_index, addr_key(addr));
    if (idx >= 0 && cs_addr_compare(&w->nodes[idx].addr, addr) == 0 &&
        sim_node_alive(&w->nodes[idx]))
        return &w->nodes[idx];
    for (size_t i = 0; i < w->node_count; i++) /* hash collision: look everywhere */
        if (sim_node_alive(&w->nodes[i]) && cs_addr_compare(&w->nodes[i].addr, addr) == 0)
            return &w->nodes[i];
    return NULL;
}

/* The protocol's own consistency check after an event (sim_options.check_internal):
 * the first failure stops the run and fails it. */
static void check_internal(struct sim_world *w, struct sim_node *n)
{
    char why[256];
    if (!n->instance || w->proto->check(n->instance, why, sizeof why))
        return;
    char at[32];
    sim_duration_format(w->now, at, sizeof at);
    snprintf(w->internal_failure, sizeof w->internal_failure, "node %s at %s: %s", n->id, at, why);
    const struct cs_field field = CS_FSTR("why", why);
    sim_trace_fields(&w->trace, w->now, n->id, "internal_failure", &field, 1);
    w->stop_requested = true;
}

/* Delivery when an adversary runs or checks are on (kept out of the
 * common path, which inlines into every caller). */
__attribute__((noinline)) static void deliver_watched(struct sim_world *w, struct sim_node *n,
                                                      const struct cs_event *ev)
{
    if (w->adversary && sim_adversary_event(w, n->index, ev))
        return;
    w->proto->handle(n->instance, ev);
    if (w->opt.check_internal && w->proto->check && !w->internal_failure[0])
        check_internal(w, n);
}

bool sim_deliver(struct sim_world *w, uint32_t node, uint32_t incarnation, const struct cs_event *ev)
{
    struct sim_node *n = &w->nodes[node];
    if (!sim_node_alive(n) || n->incarnation != incarnation || !n->instance)
        return false;
    n->events_handled++;
    if (__builtin_expect(w->adversary != NULL || w->opt.check_internal, 0))
        deliver_watched(w, n, ev);
    else
        w->proto->handle(n->instance, ev);
    return true;
}

/* ---- clocks ---- */

/* The node's clock reading at virtual time t (not before its last rebase). */
static cs_time clock_at(const struct sim_node *n, cs_time t)
{
    cs_time d = t - n->virt_base;
    if (n->drift_ppm == 0.0) /* most nodes: no floating point on every now() */
        return n->local_base + d;
    return n->local_base + d + (cs_time)((double)d * n->drift_ppm * 1e-6);
}

cs_time sim_node_clock(const struct sim_world *w, const struct sim_node *n)
{
    return clock_at(n, w->now);
}

cs_time sim_node_delay_to_virtual(const struct sim_node *n, cs_time delay)
{
    if (n->drift_ppm == 0.0 || delay <= 0)
        return delay < 0 ? 0 : delay;
    return (cs_time)((double)delay / (1.0 + n->drift_ppm * 1e-6) + 0.5);
}

static void clock_rebase(struct sim_world *w, struct sim_node *n)
{
    n->local_base = sim_node_clock(w, n);
    n->virt_base = w->now;
}

void sim_node_clock_jump(struct sim_world *w, uint32_t node, cs_time delta)
{
    struct sim_node *n = &w->nodes[node];
    clock_rebase(w, n);
    n->local_base += delta;
    sim_trace_event(&w->trace, w->now, n->id, "clock_jump", "\"by\":%lld", (long long)delta);
}

void sim_node_clock_rate(struct sim_world *w, uint32_t node, double ppm)
{
    struct sim_node *n = &w->nodes[node];
    clock_rebase(w, n);
    n->drift_ppm = ppm;
    sim_trace_event(&w->trace, w->now, n->id, "clock_rate", "\"ppm\":%.3f", ppm);
}

/* ---- timers ---- */

/* The first virtual instant at which the node's clock has advanced by
 * `delay`: rounding must never make a timer fire early on its own clock. */
static cs_time timer_expiry(const struct sim_world *w, const struct sim_node *n, cs_time delay)
{
    cs_time start = clock_at(n, w->now);
    cs_time t = w->now + sim_node_delay_to_virtual(n, delay);
    while (t > w->now && clock_at(n, t - 1) - start >= delay)
        t--;
    while (clock_at(n, t) - start < delay)
        t++;
    return t;
}

#define TAG_NAME_MAX 48

/* The tag's name as traces show it (cs_tag_name), remembered per module
 * and kind, which are all it depends on; buf (TAG_NAME_MAX bytes) holds a
 * name outside the remembered range. */
static const char *tag_name(uint64_t tag, char *buf)
{
    static _Thread_local char names[8][32][TAG_NAME_MAX];
    unsigned module = CS_TAG_MODULE_OF(tag), kind = CS_TAG_KIND_OF(tag);
    if (module >= 8 || kind >= 32)
        return cs_tag_name(tag, buf, TAG_NAME_MAX);
    char *name = names[module][kind];
    if (!name[0])
        cs_tag_name(CS_TAG(module, kind, 0), name, TAG_NAME_MAX);
    return name;
}

cs_timer_id sim_timer_start(struct sim_world *w, uint32_t node, cs_time delay, uint64_t tag)
{
    struct sim_node *n = &w->nodes[node];
    cs_timer_id id = ++w->next_timer_id;
    struct sim_event ev = {
        .time = timer_expiry(w, n, delay),
        .kind = SEV_TIMER, .node = node, .src = node, .incarnation = n->incarnation,
        .id = id, .tag = tag,
    };
    if (sim_schedule(w, &ev) < 0)
        return 0;
    if (w->trace.on) {
        char name[TAG_NAME_MAX];
        sim_trace_event(&w->trace, w->now, n->id, "timer_set", "\"timer\":%u,\"tag\":\"%s\",\"arg\":%llu,\"at\":%lld",
                        id, tag_name(tag, name), (unsigned long long)CS_TAG_ARG_OF(tag),
                        (long long)ev.time);
    }
    return id;
}

static bool is_timer(void *ctx, const struct sim_event *ev)
{
    return ev->kind == SEV_TIMER && ev->id == *(const cs_timer_id *)ctx;
}

/* Cancels a pending timer by finding it in the queue: no protocol of ours
 * cancels timers on a hot path, so the queue keeps no index of them (one
 * per timer started cost a map insert and delete each). */
void sim_timer_cancel(struct sim_world *w, cs_timer_id timer)
{
    struct sim_event *ev = sim_evq_find(&w->queue, is_timer, &timer);
    if (!ev)
        return; /* fired, cancelled already, or never started */
    sim_trace_event(&w->trace, w->now, w->nodes[ev->node].id, "timer_cancel", "\"timer\":%u", timer);
    ev->kind = SEV_NONE;
}

static void fire_timer(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (!sim_node_alive(n) || n->incarnation != ev->incarnation)
        return;
    w->stats.timers_fired++;
    if (w->trace.on) {
        char name[TAG_NAME_MAX];
        sim_trace_event(&w->trace, w->now, n->id, "timer_fire", "\"timer\":%u,\"tag\":\"%s\",\"arg\":%llu",
                        ev->id, tag_name(ev->tag, name), (unsigned long long)CS_TAG_ARG_OF(ev->tag));
    }
    struct cs_event ce = {.type = CS_EV_TIMER};
    ce.u.timer.id = ev->id;
    ce.u.timer.tag = ev->tag;
    sim_deliver(w, ev->node, ev->incarnation, &ce);
}

/* ---- lifecycle ---- */

static void service_record(struct sim_world *w, struct sim_node *n, bool add, cs_time delay)
{
    if (!w->sc->dns.service[0])
        return;
    struct sim_event ev = {.time = w->now + delay, .kind = SEV_DNS_SERVICE, .node = n->index,
                           .src = UINT32_MAX, .incarnation = n->incarnation, .aux = add,
                           .addr = n->addr};
    sim_schedule(w, &ev);
}

void sim_node_start(struct sim_world *w, uint32_t node)
{
    struct sim_node *n = &w->nodes[node];
    if (sim_node_alive(n))
        return;
    n->incarnation++;
    n->state = SIM_NODE_UP;
    n->started_at = w->now;
    n->group_count = 0;
    pcg32_stream(&n->rng, w->opt.seed, PCG_STREAM_NODE, (uint64_t)node << 32 | n->incarnation);
    if (w->entropy.len)
        n->rng.bytes = &w->entropy;
    cs_idmap_put(&w->addr_index, addr_key(&n->addr), (int32_t)node);
    memset(&n->env, 0, sizeof n->env);
    if (w->opt.bind_env)
        w->opt.bind_env(w, n);
    n->env.self_addr = n->addr;
    sim_trace_event(&w->trace, w->now, n->id, "node_start", "\"name\":\"%s\",\"inc\":%u", n->name,
                    n->incarnation);
    const void *config = w->proto_config ? w->proto_config : scenario_node_config(w->sc, n->index);
    n->instance = w->proto->create(&n->env, config, n->name);
    if (!n->instance) {
        n->state = SIM_NODE_DOWN;
        return;
    }
    cs_time ready = sim_dist_sample(&w->sc->dns.ready_delay, &w->rng_dns);
    n->ready_at = w->now + ready;
    service_record(w, n, true, ready);
    w->proto->start(n->instance);
}

/* Takes a node out of the world: its instance is destroyed, its links
 * break, its address is released. */
static void node_exit(struct sim_world *w, struct sim_node *n, cs_time detect,
                      enum cs_link_down_reason reason)
{
    if (n->stop_slot >= 0) {
        sim_evq_get(&w->queue, (uint32_t)n->stop_slot)->kind = SEV_NONE;
        n->stop_slot = -1;
    }
    bool was_stopping = n->state == SIM_NODE_STOPPING;
    n->state = SIM_NODE_DOWN;
    w->proto->destroy(n->instance);
    n->instance = NULL;
    sim_net_node_gone(w, n->index, detect, reason);
    sim_dns_flush_cache(w, n->index);
    if (!was_stopping) /* a stopping pod was already withdrawn */
        service_record(w, n, false, sim_dist_sample(&w->sc->dns.removal_delay, &w->rng_dns));
}

void sim_node_kill(struct sim_world *w, uint32_t node)
{
    struct sim_node *n = &w->nodes[node];
    if (!sim_node_alive(n))
        return;
    sim_trace_event(&w->trace, w->now, n->id, "node_crash", "\"name\":\"%s\"", n->name);
    node_exit(w, n, w->sc->net.crash_detect, CS_LINK_BROKEN);
}

void sim_node_stop(struct sim_world *w, uint32_t node, cs_time grace)
{
    struct sim_node *n = &w->nodes[node];
    if (n->state != SIM_NODE_UP)
        return;
    n->state = SIM_NODE_STOPPING;
    sim_trace_event(&w->trace, w->now, n->id, "node_stop", "\"grace\":%lld", (long long)grace);
    service_record(w, n, false, sim_dist_sample(&w->sc->dns.removal_delay, &w->rng_dns));
    struct sim_event ev = {.time = w->now + grace, .kind = SEV_STOP_EXPIRED, .node = node,
                           .src = UINT32_MAX, .incarnation = n->incarnation};
    n->stop_slot = sim_schedule(w, &ev);
    struct cs_event ce = {.type = CS_EV_STOP};
    ce.u.stop.grace = grace;
    sim_deliver(w, node, n->incarnation, &ce);
}

void sim_node_stopped(struct sim_world *w, uint32_t node)
{
    /* Called from inside the instance's handler: exit once it returned. */
    struct sim_event ev = {.time = w->now, .kind = SEV_NODE_EXIT, .node = node, .src = UINT32_MAX,
                           .incarnation = w->nodes[node].incarnation};
    sim_schedule(w, &ev);
}

static void node_exit_now(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (n->state != SIM_NODE_STOPPING || n->incarnation != ev->incarnation)
        return;
    sim_trace_event(&w->trace, w->now, n->id, "node_exit", "%s", "");
    /* A process exiting closes its sockets: peers see an orderly close. */
    node_exit(w, n, 0, CS_LINK_CLOSED);
}

void sim_node_restart(struct sim_world *w, uint32_t node, cs_time downtime, bool new_address,
                      bool crash, cs_time grace)
{
    struct sim_node *n = &w->nodes[node];
    if (crash)
        sim_node_kill(w, node);
    else
        sim_node_stop(w, node, grace < downtime ? grace : downtime);
    struct sim_event ev = {.time = w->now + downtime, .kind = SEV_NODE_UP, .node = node,
                           .src = UINT32_MAX, .aux = new_address};
    sim_schedule(w, &ev);
    if (ev.time > w->last_fault) /* a pod's drawn boot made it come back later */
        w->last_fault = ev.time;
    (void)n;
}

/* SEV_NODE_UP's aux: how the node comes up. */
enum { NODE_UP_NEW_ADDRESS = 1, NODE_UP_BOOT = 2 };

void sim_node_boot(struct sim_world *w, uint32_t node, cs_time after)
{
    struct sim_event ev = {.time = w->now + after, .kind = SEV_NODE_UP, .node = node, .src = UINT32_MAX,
                           .aux = NODE_UP_BOOT};
    if (sim_schedule(w, &ev) < 0)
        return;
    /* Part of the timeline: a check waits for it, and it is the last fault
     * when it comes last. */
    w->actions_pending++;
    if (ev.time > w->last_fault)
        w->last_fault = ev.time;
}

static void node_come_back(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (ev->aux == NODE_UP_BOOT) { /* a delayed start: only a pod that is still down */
        w->actions_pending--;
        if (!sim_node_alive(n))
            sim_node_start(w, ev->node);
        return;
    }
    if (sim_node_alive(n)) /* still shutting down when the pod is replaced */
        sim_node_kill(w, ev->node);
    if (ev->aux == NODE_UP_NEW_ADDRESS) {
        struct cs_addr old = n->addr;
        if (cs_idmap_get(&w->addr_index, addr_key(&old)) == (int32_t)n->index)
            cs_idmap_del(&w->addr_index, addr_key(&old));
        take_new_address(w, n);
        char a[CS_ADDR_STRLEN], b[CS_ADDR_STRLEN];
        cs_addr_format(&old, a, sizeof a);
        cs_addr_format(&n->addr, b, sizeof b);
        sim_trace_event(&w->trace, w->now, n->id, "node_readdress", "\"from\":\"%s\",\"to\":\"%s\"",
                        a, b);
    }
    sim_node_start(w, ev->node);
}

/* Whether a queued publication or withdrawal of a pod's record still
 * applies: a pod that died or began stopping before it was ready is never
 * published, and a withdrawal leaves alone the record of a successor that
 * came back on the same address and is already published. */
static bool service_change_applies(const struct sim_world *w, const struct sim_event *ev)
{
    const struct sim_node *n = &w->nodes[ev->node];
    if (ev->aux)
        return n->state == SIM_NODE_UP && n->incarnation == ev->incarnation;
    bool successor = sim_node_alive(n) && n->incarnation != ev->incarnation &&
                     cs_addr_compare(&n->addr, &ev->addr) == 0;
    return !(successor && n->ready_at < w->now);
}

static void dns_service_change(struct sim_world *w, const struct sim_event *ev)
{
    if (!service_change_applies(w, ev))
        return;
    const struct sc_dns *d = &w->sc->dns;
    struct cs_dns_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = ev->addr.family == 6 ? CS_DNS_AAAA : CS_DNS_A;
    rec.ttl_s = d->ttl_s;
    rec.addr = ev->addr;
    void (*change)(struct sim_world *, const char *, const struct cs_dns_record *) =
        ev->aux ? sim_dns_add : sim_dns_remove;
    change(w, d->service, &rec);
    if (!d->service_srv)
        return;
    /* A StatefulSet pod: <id>.<service> resolves to it, and the service's
     * SRV records name that host. */
    char host[CS_DNS_NAME_MAX];
    snprintf(host, sizeof host, "%s.%s", w->nodes[ev->node].id, d->service);
    change(w, host, &rec);
    const struct sim_node *n = &w->nodes[ev->node];
    if (!ev->aux && sim_node_alive(n) && n->incarnation != ev->incarnation &&
        n->ready_at < w->now)
        return; /* the replacement pod already holds this host's SRV record */
    struct cs_dns_record srv;
    memset(&srv, 0, sizeof srv);
    srv.type = CS_DNS_SRV;
    srv.ttl_s = d->ttl_s;
    srv.port = d->service_port;
    snprintf(srv.target, sizeof srv.target, "%s", host);
    change(w, d->service, &srv);
}

/* ---- the loop ---- */

/* Little-endian whatever the host: the same run hashes the same
 * everywhere. */
static inline void put_le64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Folds one event into the run's hash (docs/simulation.md, "The
 * determinism hash"): its time, kind, nodes, incarnation, id, aux, tag and
 * length, its address when it has one, and the bytes a link message or a
 * datagram carries.  Sample events are left out: only --report adds them. */
static void hash_event(struct sim_world *w, const struct sim_event *ev)
{
    if (ev->kind == SEV_SAMPLE)
        return;
    unsigned char head[48 + 19];
    size_t len = 48;
    put_le64(head, (uint64_t)ev->time);
    put_le64(head + 8, (uint64_t)ev->kind | (uint64_t)ev->aux << 32);
    put_le64(head + 16, ev->node | (uint64_t)ev->src << 32);
    put_le64(head + 24, ev->incarnation | (uint64_t)ev->id << 32);
    put_le64(head + 32, ev->tag);
    put_le64(head + 40, (uint64_t)ev->len);
    if (ev->addr.family) {
        head[48] = ev->addr.family;
        memcpy(head + 49, ev->addr.ip, 16);
        head[65] = (unsigned char)(ev->addr.port & 0xff);
        head[66] = (unsigned char)(ev->addr.port >> 8);
        len += 19;
    }
    uint64_t h = XXH3_64bits_withSeed(head, len, w->hash);
    if (ev->kind == SEV_LINK_MSG || ev->kind == SEV_DGRAM)
        h = XXH3_64bits_withSeed(sim_event_data(ev), ev->len, h);
    w->hash = h;
}

void sim_dispatch(struct sim_world *w, const struct sim_event *ev)
{
    if (w->opt.hash)
        hash_event(w, ev);
    switch (ev->kind) {
    case SEV_NONE:
        break;
    case SEV_TIMER:
        fire_timer(w, ev);
        break;
    case SEV_LINK_SETUP:
    case SEV_LINK_MSG:
    case SEV_LINK_DOWN:
    case SEV_DGRAM:
        sim_net_handle(w, ev);
        break;
    case SEV_DNS_ANSWER:
        sim_dns_handle(w, ev);
        break;
    case SEV_ACTION:
        sim_timeline_handle(w, ev);
        break;
    case SEV_STOP_EXPIRED:
        w->nodes[ev->node].stop_slot = -1;
        if (w->nodes[ev->node].state == SIM_NODE_STOPPING &&
            w->nodes[ev->node].incarnation == ev->incarnation) {
            sim_trace_event(&w->trace, w->now, w->nodes[ev->node].id, "grace_expired", "%s", "");
            sim_node_kill(w, ev->node);
        }
        break;
    case SEV_NODE_UP:
        node_come_back(w, ev);
        break;
    case SEV_DNS_SERVICE:
        dns_service_change(w, ev);
        break;
    case SEV_CHECK:
        sim_check_handle(w, ev);
        break;
    case SEV_OBSERVE:
        sim_observe_handle(w, ev);
        break;
    case SEV_SAMPLE:
        sim_sampler_handle(w, ev);
        break;
    case SEV_NODE_EXIT:
        node_exit_now(w, ev);
        break;
    }
}

static cs_time monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return CS_SEC(ts.tv_sec) + ts.tv_nsec;
}

/* True (and the run stopped, the budget named) when a budget is spent;
 * the run loop asks every 65,536 events and when the event budget is due. */
static bool budget_spent(struct sim_world *w)
{
    uint64_t max_events = w->sc->limits.max_events;
    if (max_events && w->stats.events >= max_events)
        w->budget_hit = SIM_BUDGET_EVENTS;
    else if ((w->stats.events & 0xffff) == 0 && w->sc->limits.wall > 0) {
        cs_time now = monotonic_now();
        if (w->wall_started == 0)
            w->wall_started = now;
        else if (now - w->wall_started > w->sc->limits.wall)
            w->budget_hit = SIM_BUDGET_WALL;
    }
    if (w->budget_hit)
        w->stop_requested = true;
    return w->budget_hit != SIM_BUDGET_NONE;
}

void sim_world_run_until(struct sim_world *w, cs_time t)
{
    struct sim_event ev;
    if (w->wall_started == 0)
        w->wall_started = monotonic_now();
    uint64_t max_events = w->sc->limits.max_events;
    while (!w->stop_requested && sim_evq_peek_time(&w->queue) <= t) {
        if (((w->stats.events & 0xffff) == 0 || w->stats.events >= max_events) && budget_spent(w))
            break;
        sim_evq_pop(&w->queue, &ev);
        w->now = ev.time;
        if (ev.kind != SEV_SAMPLE)
            w->stats.events++;
        sim_dispatch(w, &ev);
        free(ev.payload);
    }
    if (!w->stop_requested && w->now < t)
        w->now = t;
}

uint64_t sim_world_run(struct sim_world *w)
{
    if (w->opt.explore) {
        sim_explore_run(w);
        return w->stats.events;
    }
    sim_world_run_until(w, w->sc->limits.duration);
    sim_check_finish(w);
    return w->stats.events;
}
