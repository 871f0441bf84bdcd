/*
 * sim/fuzzgen.c: the scenario generator of `clustersim fuzz` (see
 * fuzzgen.h): profiles, the swarm-testing draw of fault kinds, the cluster
 * settings, and the timeline of faults and registry traffic, written as
 * YAML with one timeline item per line in time order.
 */
#include "fuzzgen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL
#define SEC 1000000000LL
#define MAX_ITEMS 1024

static const struct fuzz_profile profiles[] = {
    {"default", "3-16 nodes, every fault kind, each seed turns each kind on or off", 3, 16, FZ_ALL,
     true, 60 * SEC, 30 * SEC, 20 * SEC, true},
    {"join-storm", "3 pods start together with registry traffic; no faults (the syncing deadlock)",
     3, 3, FZ_TRAFFIC, false, 30 * SEC, 3 * SEC, 20 * SEC, false},
    {"churn", "3-8 nodes: crashes, graceful stops, rolling restarts, staggered starts", 3, 8,
     FZ_CRASH | FZ_STOP | FZ_ROLLING | FZ_STAGGER | FZ_TRAFFIC, true, 60 * SEC, 30 * SEC, 20 * SEC, true},
    {"partitions", "3-8 nodes: partitions of every shape, clogs and swizzle-clogs", 3, 8,
     FZ_PARTITION | FZ_CLOG | FZ_TRAFFIC, true, 60 * SEC, 30 * SEC, 20 * SEC, true},
    {"sync-faults", "3-4 nodes: clogs and crashes while trackers sync, few tracker retries", 3, 4,
     FZ_CLOG | FZ_CRASH | FZ_STAGGER | FZ_TRAFFIC, true, 30 * SEC, 8 * SEC, 20 * SEC, false},
};

const struct fuzz_profile *fuzz_profile_find(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (!strcmp(profiles[i].name, name))
            return &profiles[i];
    return NULL;
}

void fuzz_profile_list(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0] && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "  %-12s %s\n", profiles[i].name,
                                 profiles[i].summary);
}

void fuzz_fault_names(uint32_t faults, char *buf, size_t size)
{
    static const char *const names[] = {"crash", "stop", "rolling", "partition", "clog",
                                        "dns", "datagram", "clock", "traffic", "stagger"};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used < size; i++)
        if (faults & (1u << i))
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i]);
    if (!used)
        snprintf(buf, size, "none");
}

void fuzz_entropy_seed(struct fuzz_entropy *e, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    pcg32_stream(&e->pcg, seed, PCG_STREAM_GENERATOR, 0);
}

void fuzz_entropy_bytes(struct fuzz_entropy *e, const uint8_t *bytes, size_t len)
{
    memset(e, 0, sizeof *e);
    e->bytes = bytes;
    e->len = len;
}

uint32_t fuzz_below(struct fuzz_entropy *e, uint32_t bound)
{
    if (bound <= 1)
        return 0;
    if (!e->bytes)
        return pcg32_below(&e->pcg, bound);
    uint32_t v = 0;
    for (uint32_t span = bound - 1; span; span >>= 8)
        v = v << 8 | (e->pos < e->len ? e->bytes[e->pos++] : 0);
    return v % bound;
}

/* A generated timeline item: when, and its YAML flow mapping. */
struct item {
    int64_t at;
    size_t order;
    char text[768]; /* a partition of 32 nodes lists them all: about 250 characters */
};

struct gen {
    struct fuzz_entropy *e;
    const struct fuzz_profile *p;
    uint32_t nodes, faults;
    int64_t heal_at;
    struct item *items;
    size_t count;
};

static uint32_t below(struct gen *g, uint32_t bound)
{
    return fuzz_below(g->e, bound);
}

static bool chance(struct gen *g, uint32_t percent)
{
    return below(g, 100) < percent;
}

/* A duration in [lo, hi] in whole milliseconds. */
static int64_t span_ms(struct gen *g, int64_t lo, int64_t hi)
{
    return (lo / MS + below(g, (uint32_t)((hi - lo) / MS + 1))) * MS;
}

static void add_item(struct gen *g, int64_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_item(struct gen *g, int64_t at, const char *fmt, ...)
{
    if (g->count == MAX_ITEMS)
        return;
    struct item *it = &g->items[g->count];
    it->at = at;
    it->order = g->count++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->text, sizeof it->text, fmt, ap);
    va_end(ap);
}

/* Writes a node set as "[n1, n4]" (or "n3" for one node). */
static void format_set(uint32_t mask, uint32_t nodes, char *buf, size_t size)
{
    size_t used = 0, count = 0;
    for (uint32_t i = 0; i < nodes; i++)
        count += (mask >> i) & 1;
    if (count != 1)
        used += (size_t)snprintf(buf, size, "[");
    bool first = true;
    for (uint32_t i = 0; i < nodes && used < size; i++) {
        if (!((mask >> i) & 1))
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%sn%u", first ? "" : ", ", i + 1);
        first = false;
    }
    if (count != 1 && used < size)
        snprintf(buf + used, size - used, "]");
}

/* A random subset of `k` nodes: each pick is an index among the nodes not
 * yet chosen, so it ends even when the entropy has run dry (all zeros). */
static uint32_t subset(struct gen *g, uint32_t k)
{
    uint32_t mask = 0;
    for (uint32_t chosen = 0; chosen < k && chosen < g->nodes; chosen++) {
        uint32_t skip = below(g, g->nodes - chosen);
        for (uint32_t i = 0; i < g->nodes; i++)
            if (!((mask >> i) & 1) && skip-- == 0) {
                mask |= 1u << i;
                break;
            }
    }
    return mask;
}

static uint32_t all_nodes(const struct gen *g)
{
    return g->nodes >= 32 ? UINT32_MAX : (1u << g->nodes) - 1;
}

/* A fault window [at, at + len] inside [500ms, heal_at - 100ms]. */
static void window(struct gen *g, int64_t min_len, int64_t max_len, int64_t *at, int64_t *len)
{
    int64_t last = g->heal_at - 100 * MS;
    *len = span_ms(g, min_len, max_len);
    if (*len > last - 500 * MS)
        *len = last - 500 * MS;
    *at = span_ms(g, 500 * MS, last - *len);
}

static void gen_starts(struct gen *g)
{
    if (!(g->faults & FZ_STAGGER)) {
        add_item(g, 0, "start: all");
        return;
    }
    for (uint32_t i = 1; i <= g->nodes; i++)
        add_item(g, span_ms(g, 0, 3 * SEC), "start: n%u", i);
}

static void gen_crashes(struct gen *g)
{
    for (uint32_t k = 1 + below(g, 3); k > 0; k--) {
        int64_t at, down;
        window(g, 300 * MS, 6 * SEC, &at, &down);
        uint32_t node = 1 + below(g, g->nodes);
        if (chance(g, 25))
            add_item(g, at, "kill: n%u", node); /* back at the heal point */
        else
            add_item(g, at, "restart: {nodes: n%u, how: crash, downtime: %lldms, address: %s}", node,
                     (long long)(down / MS), chance(g, 70) ? "new" : "keep");
    }
}

static void gen_stops(struct gen *g)
{
    for (uint32_t k = 1 + below(g, 3); k > 0; k--) {
        int64_t at, down;
        window(g, 500 * MS, 6 * SEC, &at, &down);
        int64_t grace = span_ms(g, 100 * MS, down);
        add_item(g, at, "restart: {nodes: n%u, how: stop, grace: %lldms, downtime: %lldms, address: %s}",
                 1 + below(g, g->nodes), (long long)(grace / MS), (long long)(down / MS),
                 chance(g, 70) ? "new" : "keep");
    }
}

static void gen_rolling(struct gen *g)
{
    int64_t gap = span_ms(g, 500 * MS, 3 * SEC);
    int64_t at = span_ms(g, 1 * SEC, 5 * SEC);
    for (uint32_t i = 1; i <= g->nodes && at + gap < g->heal_at; i++, at += gap)
        add_item(g, at, "restart: {nodes: n%u, how: stop, grace: %lldms, downtime: %lldms, address: new}",
                 i, (long long)(gap / 2 / MS), (long long)(gap * 3 / 4 / MS));
}

static void gen_partitions(struct gen *g)
{
    char a[160], b[160];
    for (uint32_t k = 1 + below(g, 3); k > 0; k--) {
        int64_t at, len;
        window(g, 300 * MS, 8 * SEC, &at, &len);
        uint32_t shape = below(g, 5), n = g->nodes;
        uint32_t first = subset(g, shape == 2 ? 1 : 1 + below(g, n - 1));
        format_set(first, n, a, sizeof a);
        if (shape == 3) { /* majority / minority: the first set is the smaller side */
            first = subset(g, 1 + below(g, (n - 1) / 2 > 0 ? (n - 1) / 2 : 1));
            format_set(first, n, a, sizeof a);
        }
        if (shape == 1) { /* one-way */
            format_set(all_nodes(g) & ~first, n, b, sizeof b);
            add_item(g, at, "partition: {from: %s, to: %s, oneway: true, for: %lldms}", a, b,
                     (long long)(len / MS));
        } else if (shape == 4 && n >= 3) { /* bridge: one node still sees both sides */
            uint32_t bridge = subset(g, 1);
            uint32_t rest = all_nodes(g) & ~bridge, left = subset(g, 1 + below(g, n - 2)) & rest;
            if (!left || left == rest)
                left = rest & (rest - 1) ? rest & ~(rest & (rest - 1)) : rest;
            format_set(left, n, a, sizeof a);
            format_set(rest & ~left, n, b, sizeof b);
            add_item(g, at, "partition: {from: %s, to: %s, for: %lldms}", a, b, (long long)(len / MS));
        } else {
            add_item(g, at, "partition: {nodes: %s, for: %lldms}", a, (long long)(len / MS));
        }
    }
}

static void gen_clogs(struct gen *g)
{
    char a[160], b[160];
    for (uint32_t k = 1 + below(g, 2); k > 0; k--) {
        int64_t at, len;
        window(g, 200 * MS, 5 * SEC, &at, &len);
        uint32_t from = subset(g, 1 + below(g, g->nodes - 1));
        format_set(from, g->nodes, a, sizeof a);
        format_set(all_nodes(g) & ~from, g->nodes, b, sizeof b);
        add_item(g, at, "clog: {from: %s, to: %s, oneway: %s, for: %lldms}", a, b,
                 chance(g, 50) ? "true" : "false", (long long)(len / MS));
    }
    if (!chance(g, 50))
        return;
    /* Swizzle-clog: clog a random half one node at a time, unclog in another order. */
    int64_t at, len;
    window(g, 1 * SEC, 6 * SEC, &at, &len);
    uint32_t half = subset(g, g->nodes / 2 ? g->nodes / 2 : 1);
    for (uint32_t i = 0; i < g->nodes; i++)
        if ((half >> i) & 1)
            add_item(g, at, "clog: {nodes: n%u, for: %lldms}", i + 1,
                     (long long)(span_ms(g, len / 4, len) / MS));
}

static void gen_dns_faults(struct gen *g)
{
    static const char *const modes[] = {"servfail", "nxdomain", "timeout"};
    for (uint32_t k = below(g, 3); k > 0; k--) {
        int64_t at, len;
        window(g, 500 * MS, 6 * SEC, &at, &len);
        add_item(g, at, "dns_fail: {mode: %s, for: %lldms}", modes[below(g, 3)], (long long)(len / MS));
    }
}

static void gen_clocks(struct gen *g)
{
    for (uint32_t i = 1; i <= g->nodes; i++)
        if (chance(g, 50))
            add_item(g, 0, "clock_rate: {nodes: n%u, ppm: %d}", i, (int)below(g, 200001) - 100000);
}

static void gen_traffic(struct gen *g)
{
    uint32_t plain = 2 + below(g, 12), started = 2 + below(g, 12), ops = 10 + below(g, 140);
    for (uint32_t k = 0; k < ops; k++) {
        int64_t at = span_ms(g, 200 * MS, g->heal_at - 100 * MS);
        uint32_t node = 1 + below(g, g->nodes), roll = below(g, 100);
        uint32_t p = below(g, plain), s = below(g, started), grp = below(g, 3);
        if (roll < 25)
            add_item(g, at, "register: {node: n%u, name: p%u, value: %u}", node, p, below(g, 100));
        else if (roll < 50)
            add_item(g, at, "register_started: {node: n%u, name: s%u, value: %u}", node, s, below(g, 100));
        else if (roll < 60)
            add_item(g, at, "unregister: {node: n%u, name: %c%u}", node, chance(g, 50) ? 'p' : 's',
                     chance(g, 50) ? p : s);
        else if (roll < 70)
            add_item(g, at, "%s: {node: n%u, name: %c%u, arg: g%u}", chance(g, 70) ? "join" : "leave",
                     node, chance(g, 50) ? 'p' : 's', chance(g, 50) ? p : s, grp);
        else if (roll < 80)
            add_item(g, at, "send: {node: n%u, name: %c%u, arg: inc, value: 1}", node,
                     chance(g, 50) ? 'p' : 's', chance(g, 50) ? p : s);
        else if (roll < 85)
            add_item(g, at, "publish: {node: n%u, name: g%u, arg: inc, value: 1}", node, grp);
        else if (roll < 95)
            add_item(g, at, "whereis: {node: n%u, name: %c%u}", node, chance(g, 50) ? 'p' : 's',
                     chance(g, 50) ? p : s);
        else
            add_item(g, at, "call: {node: n%u, name: s%u}", node, s);
    }
}

static int item_order(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static uint32_t draw_faults(struct gen *g)
{
    uint32_t allowed = g->p->faults;
    if (!g->p->swarm_testing)
        return allowed;
    uint32_t on = 0;
    while (!on && allowed)
        for (uint32_t bit = 1; bit <= FZ_ALL; bit <<= 1)
            if ((allowed & bit) && chance(g, 50))
                on |= bit;
    return on;
}

/* Swarm testing of timings: failure detection from 2 s to 8 s (so some
 * partitions and clogs heal before anyone notices, others are noticed
 * early), gossip at this profile's 200 ms..1 s or at libcluster's default
 * 1..5 s. */
static void draw_timings(struct gen *g, unsigned *tick_s, const char **gossip)
{
    static const unsigned ticks[] = {2, 4, 8};
    *tick_s = 4;
    *gossip = "{min: 200ms, max: 1s}";
    if (!g->p->draw_timings)
        return;
    *tick_s = ticks[below(g, 3)];
    if (chance(g, 50))
        *gossip = "{min: 1s, max: 5s}";
}

static void write_cluster(FILE *f, struct gen *g, const struct fuzz_request *req)
{
    static const char *const retry[] = {"0", "1", "3", "10"};
    unsigned tick_s;
    const char *gossip;
    draw_timings(g, &tick_s, &gossip);
    fprintf(f, "cluster:\n  basename: app\n  nodes: %u\n  protocol: cluster\n", g->nodes);
    fprintf(f, "  membership:\n    mode: fixed\n    secret: fuzz-secret\n");
    fprintf(f, "    tick_timeout: %us\n    setup_timeout: 2s\n    topologies:\n", tick_s);
    if (g->faults & FZ_DATAGRAM)
        fprintf(f, "      - {strategy: gossip, interval: %s}\n", gossip);
    else
        fprintf(f, "      - {strategy: kubernetes_dns, polling_interval: %lldms}\n",
                (long long)(span_ms(g, 500 * MS, 2 * SEC) / MS));
    fprintf(f, "  tracker:\n    mode: %s\n", req->mode == FZ_MODE_SWARM ? "swarm" : "fixed");
    fprintf(f, "    sync_nodes_timeout: %lldms\n", (long long)(span_ms(g, 0, 3 * SEC) / MS));
    fprintf(f, "    anti_entropy_interval: 10s\n    retry_interval: %lldms\n    retry_max: %s\n",
            (long long)(span_ms(g, 100 * MS, 1 * SEC) / MS), retry[below(g, 4)]);
    fprintf(f, "    start_delay: %lldms\n    start_jitter: %lldms\n    sync_timeout: 2s\n",
            (long long)(span_ms(g, 0, 1 * SEC) / MS), (long long)(span_ms(g, 0, 2 * SEC) / MS));
    /* Fixed mode: half of the seeds batch replication, 1..100 ms windows. */
    if (g->p->draw_timings && req->mode != FZ_MODE_SWARM && chance(g, 50))
        fprintf(f, "    batch_window: %lldms\n", (long long)(span_ms(g, 1 * MS, 100 * MS) / MS));
}

/* DNS truncation for half of the seeds: at least a third of the pods per
 * answer (a UDP answer holds about 30 A records; answers of one record out
 * of sixteen pods need more polling rounds than the convergence bound
 * allows, which is a property of the setting, not of the protocol). */
static unsigned truncation(struct gen *g)
{
    if (!chance(g, 50))
        return 0;
    uint32_t least = g->nodes / 3 > 2 ? g->nodes / 3 : 2;
    return least >= g->nodes ? g->nodes : least + below(g, g->nodes - least);
}

static void write_models(FILE *f, struct gen *g)
{
    int64_t lat_min = span_ms(g, 0, 2 * MS) + 100000, lat_max = lat_min + span_ms(g, 0, 20 * MS);
    fprintf(f, "network:\n  latency: {dist: uniform, min: %lldus, max: %lldus}\n",
            (long long)(lat_min / 1000), (long long)(lat_max / 1000));
    fprintf(f, "  connect_time: {dist: uniform, min: 1ms, max: %lldms}\n",
            (long long)(span_ms(g, 1 * MS, 30 * MS) / MS));
    fprintf(f, "  break_detect: %lldms\n  crash_detect: %lldms\n  connect_timeout: 2s\n",
            (long long)(span_ms(g, 500 * MS, 3 * SEC) / MS), (long long)(span_ms(g, 1 * MS, 500 * MS) / MS));
    if (g->faults & FZ_DATAGRAM)
        fprintf(f, "  datagrams: {loss: %u%%, duplicate: %u%%, reorder: %u%%}\n", below(g, 31),
                below(g, 21), below(g, 21));
    bool dns = (g->faults & FZ_DNS) != 0;
    fprintf(f, "dns:\n  service: {name: app-headless.default.svc.cluster.local, ready_delay: %lldms, "
               "removal_delay: %lldms}\n",
            (long long)(span_ms(g, 0, 1 * SEC) / MS), (long long)(span_ms(g, 0, 2 * SEC) / MS));
    if (dns)
        fprintf(f, "  latency: {dist: exponential, min: 1ms, mean: %lldms}\n  propagation: %lldms\n"
                   "  ttl: %us\n  max_answers: %u\n  timeout: 1s\n",
                (long long)(span_ms(g, 1 * MS, 300 * MS) / MS), (long long)(span_ms(g, 0, 2 * SEC) / MS),
                below(g, 3), truncation(g));
}

char *fuzz_generate(const struct fuzz_request *req, struct fuzz_entropy *e, size_t *len,
                    struct fuzz_shape *shape)
{
    const struct fuzz_profile *p = req->profile;
    uint32_t lo = req->min_nodes ? req->min_nodes : p->min_nodes;
    uint32_t hi = req->max_nodes ? req->max_nodes : p->max_nodes;
    struct gen g = {.e = e, .p = p, .heal_at = p->heal_at_ns};
    g.items = malloc(MAX_ITEMS * sizeof *g.items);
    char *text = NULL;
    size_t size = 0;
    FILE *f = g.items ? open_memstream(&text, &size) : NULL;
    if (!f) {
        free(g.items);
        return NULL;
    }
    g.nodes = lo + below(&g, hi - lo + 1);
    g.faults = draw_faults(&g);
    char kinds[160];
    fuzz_fault_names(g.faults, kinds, sizeof kinds);
    fprintf(f, "# Generated by clustersim fuzz (profile %s, mode %s, seed %llu).\n"
               "# Fault kinds on: %s.  The timeline is complete: this file replays\n"
               "# without the generator (clustersim run FILE, clustersim replay FILE).\n",
            p->name, req->mode == FZ_MODE_SWARM ? "swarm" : "fixed", (unsigned long long)req->seed, kinds);
    fprintf(f, "name: fuzz-%s-%s-%llu\nseed: %llu\n", p->name, req->mode == FZ_MODE_SWARM ? "swarm" : "fixed",
            (unsigned long long)req->seed, (unsigned long long)req->seed);
    write_cluster(f, &g, req);
    write_models(f, &g);
    gen_starts(&g);
    if (g.faults & FZ_CRASH)
        gen_crashes(&g);
    if (g.faults & FZ_STOP)
        gen_stops(&g);
    if (g.faults & FZ_ROLLING)
        gen_rolling(&g);
    if (g.faults & FZ_PARTITION)
        gen_partitions(&g);
    if (g.faults & FZ_CLOG)
        gen_clogs(&g);
    if (g.faults & FZ_DNS)
        gen_dns_faults(&g);
    if (g.faults & FZ_CLOCK)
        gen_clocks(&g);
    if (g.faults & FZ_TRAFFIC)
        gen_traffic(&g);
    add_item(&g, g.heal_at, "heal: all");
    add_item(&g, g.heal_at, "start: all");
    qsort(g.items, g.count, sizeof *g.items, item_order);
    fprintf(f, "timeline:\n");
    for (size_t i = 0; i < g.count; i++)
        fprintf(f, "  - {at: %lldms, %s}\n", (long long)(g.items[i].at / MS), g.items[i].text);
    fprintf(f, "expect:\n  - converged: {within: %llds}\n  - not_stuck: true\n  - no_duplicates: true\n"
               "  - no_loss: true\n  - placement: true\n",
            (long long)(p->converge_within_ns / SEC));
    fprintf(f, "limits:\n  duration: %llds\n  check_interval: 250ms\n", (long long)(p->duration_ns / SEC));
    fclose(f);
    if (shape)
        *shape = (struct fuzz_shape){.nodes = g.nodes, .faults = g.faults, .timeline_items = g.count};
    free(g.items);
    *len = size;
    return text;
}
