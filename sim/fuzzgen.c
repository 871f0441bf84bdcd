/*
 * sim/fuzzgen.c: the scenario generator of `clustersim fuzz` (see
 * fuzzgen.h): profiles, the swarm-testing draw of fault kinds, the cluster
 * settings, and the timeline of faults and registry traffic, written as
 * YAML with one timeline item per line in time order.
 */
#include "fuzzgen.h"
#include "../core/strcopy.h"

#include "scenario.h"

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
    {"adversary", "3-8 nodes: handshake attacks from members' addresses during churn and traffic", 3, 8,
     FZ_ADVERSARY | FZ_CRASH | FZ_STOP | FZ_STAGGER | FZ_TRAFFIC, true, 60 * SEC, 30 * SEC, 20 * SEC, true},
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

static const char *const fault_names[] = {"crash", "stop", "rolling", "partition", "clog", "dns",
                                          "datagram", "clock", "traffic", "stagger", "adversary"};

uint32_t fuzz_fault_parse(const char *text)
{
    uint32_t faults = 0;
    for (const char *p = text; p && *p;) {
        size_t len = strcspn(p, ",");
        for (size_t i = 0; i < sizeof fault_names / sizeof fault_names[0]; i++)
            if (strlen(fault_names[i]) == len && !strncmp(p, fault_names[i], len))
                faults |= 1u << i;
        p += len + (p[len] == ',');
    }
    return faults;
}

void fuzz_fault_names(uint32_t faults, char *buf, size_t size)
{
    const char *const *names = fault_names;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof fault_names / sizeof fault_names[0] && used < size; i++)
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

/* A generated timeline item: when, its YAML flow mapping, and the same
 * item as the loader reads it from that mapping. */
struct item {
    int64_t at;
    size_t order;
    char text[768]; /* a partition of 32 nodes lists them all: about 250 characters */
    struct sc_action act;
};

struct gen {
    struct fuzz_entropy *e;
    const struct fuzz_profile *p;
    uint32_t nodes, faults;
    int64_t heal_at;
    struct item *items;
    struct item **sorted; /* the items in timeline order */
    size_t count, cap;
    bool failed;    /* out of memory */
    bool with_text; /* items get their YAML text (the draws are the same without) */
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

/* Adds an item of `kind` at `at` with its text; returns its action (the
 * loader's defaults filled in) for the caller to complete, or NULL past
 * MAX_ITEMS or out of memory. */
static struct sc_action *add_item(struct gen *g, int64_t at, enum sc_action_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static struct sc_action *add_item(struct gen *g, int64_t at, enum sc_action_kind kind, const char *fmt, ...)
{
    if (g->count == MAX_ITEMS || g->failed)
        return NULL;
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 160; /* most seeds: no growing (items are 2 KB) */
        struct item *items = realloc(g->items, cap * sizeof *items);
        if (!items) {
            g->failed = true;
            return NULL;
        }
        g->items = items;
        g->cap = cap;
    }
    struct item *it = &g->items[g->count];
    it->at = at;
    it->order = g->count++;
    it->text[0] = '\0';
    if (g->with_text) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(it->text, sizeof it->text, fmt, ap);
        va_end(ap);
    }
    struct sc_action *a = &it->act;
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->at = at;
    if (kind == SC_ACT_START || kind == SC_ACT_KILL || kind == SC_ACT_STOP || kind == SC_ACT_RESTART) {
        a->grace = CS_SEC(30); /* the loader's defaults */
        a->downtime = CS_SEC(1);
    }
    return a;
}

/* Fills a node set with the nodes of `mask` (bit i: node n<i+1>), in
 * ascending order as format_set writes them. */
static void set_nodes(struct gen *g, struct sc_nodeset *s, uint32_t mask)
{
    size_t count = 0;
    for (uint32_t i = 0; i < 32; i++)
        count += (mask >> i) & 1;
    s->idx = malloc((count ? count : 1) * sizeof *s->idx);
    if (!s->idx) {
        g->failed = true;
        return;
    }
    for (uint32_t i = 0; i < 32; i++)
        if ((mask >> i) & 1)
            s->idx[s->count++] = i;
}

/* The mask of node n<number> (1-based). */
static uint32_t node_bit(uint32_t number)
{
    return 1u << (number - 1);
}

/* "start: all" at `at`. */
static void add_start_all(struct gen *g, int64_t at)
{
    struct sc_action *a = add_item(g, at, SC_ACT_START, "start: all");
    if (a)
        a->nodes.all = true;
}

/* A registry command on node n<node> ("register", "send", ...). */
static void add_command(struct gen *g, int64_t at, const char *op, uint32_t node, const char *name,
                        const char *arg, bool has_value, uint32_t value)
{
    char extra[96] = "";
    if (arg)
        snprintf(extra, sizeof extra, ", arg: %s", arg);
    if (has_value)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ", value: %u", value);
    struct sc_action *a = add_item(g, at, SC_ACT_COMMAND, "%s: {node: n%u, name: %s%s}", op, node, name, extra);
    if (!a)
        return;
    set_nodes(g, &a->nodes, node_bit(node));
    cs_copy_str(a->op, sizeof a->op, op);
    cs_copy_str(a->name, sizeof a->name, name);
    if (arg)
        cs_copy_str(a->arg, sizeof a->arg, arg);
    a->value = value;
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
        add_start_all(g, 0);
        return;
    }
    for (uint32_t i = 1; i <= g->nodes; i++) {
        struct sc_action *a = add_item(g, span_ms(g, 0, 3 * SEC), SC_ACT_START, "start: n%u", i);
        if (a)
            set_nodes(g, &a->nodes, node_bit(i));
    }
}

static void gen_crashes(struct gen *g)
{
    for (uint32_t k = 1 + below(g, 3); k > 0; k--) {
        int64_t at, down;
        window(g, 300 * MS, 6 * SEC, &at, &down);
        uint32_t node = 1 + below(g, g->nodes);
        struct sc_action *a;
        if (chance(g, 25)) {
            a = add_item(g, at, SC_ACT_KILL, "kill: n%u", node); /* back at the heal point */
        } else {
            bool new_address = chance(g, 70);
            a = add_item(g, at, SC_ACT_RESTART, "restart: {nodes: n%u, how: crash, downtime: %lldms, address: %s}",
                         node, (long long)(down / MS), new_address ? "new" : "keep");
            if (a) {
                a->crash = true;
                a->downtime = down;
                a->new_address = new_address;
            }
        }
        if (a)
            set_nodes(g, &a->nodes, node_bit(node));
    }
}

static void gen_stops(struct gen *g)
{
    for (uint32_t k = 1 + below(g, 3); k > 0; k--) {
        int64_t at, down;
        window(g, 500 * MS, 6 * SEC, &at, &down);
        int64_t grace = span_ms(g, 100 * MS, down);
        bool new_address = chance(g, 70); /* (drawn before the node, as always) */
        uint32_t node = 1 + below(g, g->nodes);
        struct sc_action *a = add_item(g, at, SC_ACT_RESTART,
                                       "restart: {nodes: n%u, how: stop, grace: %lldms, downtime: %lldms, address: %s}",
                                       node, (long long)(grace / MS), (long long)(down / MS),
                                       new_address ? "new" : "keep");
        if (a) {
            set_nodes(g, &a->nodes, node_bit(node));
            a->grace = grace;
            a->downtime = down;
            a->new_address = new_address;
        }
    }
}

static void gen_rolling(struct gen *g)
{
    int64_t gap = span_ms(g, 500 * MS, 3 * SEC);
    int64_t at = span_ms(g, 1 * SEC, 5 * SEC);
    for (uint32_t i = 1; i <= g->nodes && at + gap < g->heal_at; i++, at += gap) {
        struct sc_action *a = add_item(g, at, SC_ACT_RESTART,
                                       "restart: {nodes: n%u, how: stop, grace: %lldms, downtime: %lldms, address: new}",
                                       i, (long long)(gap / 2 / MS), (long long)(gap * 3 / 4 / MS));
        if (a) {
            set_nodes(g, &a->nodes, node_bit(i));
            a->grace = gap / 2 / MS * MS;
            a->downtime = gap * 3 / 4 / MS * MS;
            a->new_address = true;
        }
    }
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
        struct sc_action *act;
        if (shape == 1) { /* one-way */
            format_set(all_nodes(g) & ~first, n, b, sizeof b);
            act = add_item(g, at, SC_ACT_PARTITION, "partition: {from: %s, to: %s, oneway: true, for: %lldms}",
                           a, b, (long long)(len / MS));
            if (act) {
                set_nodes(g, &act->nodes, first);
                set_nodes(g, &act->peers, all_nodes(g) & ~first);
                act->oneway = true;
            }
        } else if (shape == 4 && n >= 3) { /* bridge: one node still sees both sides */
            uint32_t bridge = subset(g, 1);
            uint32_t rest = all_nodes(g) & ~bridge, left = subset(g, 1 + below(g, n - 2)) & rest;
            if (!left || left == rest)
                left = rest & (rest - 1) ? rest & ~(rest & (rest - 1)) : rest;
            format_set(left, n, a, sizeof a);
            format_set(rest & ~left, n, b, sizeof b);
            act = add_item(g, at, SC_ACT_PARTITION, "partition: {from: %s, to: %s, for: %lldms}", a, b,
                           (long long)(len / MS));
            if (act) {
                set_nodes(g, &act->nodes, left);
                set_nodes(g, &act->peers, rest & ~left);
            }
        } else {
            act = add_item(g, at, SC_ACT_PARTITION, "partition: {nodes: %s, for: %lldms}", a, (long long)(len / MS));
            if (act)
                set_nodes(g, &act->nodes, first);
        }
        if (act)
            act->duration = len;
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
        bool oneway = chance(g, 50);
        struct sc_action *act = add_item(g, at, SC_ACT_CLOG, "clog: {from: %s, to: %s, oneway: %s, for: %lldms}",
                                         a, b, oneway ? "true" : "false", (long long)(len / MS));
        if (act) {
            set_nodes(g, &act->nodes, from);
            set_nodes(g, &act->peers, all_nodes(g) & ~from);
            act->oneway = oneway;
            act->duration = len;
        }
    }
    if (!chance(g, 50))
        return;
    /* Swizzle-clog: clog a random half one node at a time, unclog in another order. */
    int64_t at, len;
    window(g, 1 * SEC, 6 * SEC, &at, &len);
    uint32_t half = subset(g, g->nodes / 2 ? g->nodes / 2 : 1);
    for (uint32_t i = 0; i < g->nodes; i++)
        if ((half >> i) & 1) {
            int64_t span = span_ms(g, len / 4, len);
            struct sc_action *act = add_item(g, at, SC_ACT_CLOG, "clog: {nodes: n%u, for: %lldms}", i + 1,
                                             (long long)(span / MS));
            if (act) {
                set_nodes(g, &act->nodes, node_bit(i + 1));
                act->duration = span;
            }
        }
}

static void gen_dns_faults(struct gen *g)
{
    static const char *const modes[] = {"servfail", "nxdomain", "timeout"};
    static const enum cs_dns_status codes[] = {CS_DNS_SERVFAIL, CS_DNS_NXDOMAIN, CS_DNS_TIMEOUT};
    for (uint32_t k = below(g, 3); k > 0; k--) {
        int64_t at, len;
        window(g, 500 * MS, 6 * SEC, &at, &len);
        uint32_t mode = below(g, 3);
        struct sc_action *a = add_item(g, at, SC_ACT_DNS_FAIL, "dns_fail: {mode: %s, for: %lldms}", modes[mode],
                                       (long long)(len / MS));
        if (a) {
            a->fail_mode = codes[mode];
            a->duration = len;
        }
    }
}

static void gen_clocks(struct gen *g)
{
    for (uint32_t i = 1; i <= g->nodes; i++)
        if (chance(g, 50)) {
            int ppm = (int)below(g, 200001) - 100000;
            struct sc_action *a = add_item(g, 0, SC_ACT_CLOCK_RATE, "clock_rate: {nodes: n%u, ppm: %d}", i, ppm);
            if (a) {
                set_nodes(g, &a->nodes, node_bit(i));
                a->rate_ppm = ppm;
            }
        }
}

/* Bursts of handshake attacks, each from a member's address against
 * another member, claiming some member's name. */
static void gen_adversary(struct gen *g)
{
    static const char *const attacks[] = {"wrong_proof", "replayed_proof", "hello_flood", "abandon",
                                          "oversized", "loop"};
    for (uint32_t k = 4 + below(g, 40); k > 0; k--) {
        int64_t at = span_ms(g, 300 * MS, g->heal_at - 100 * MS);
        uint32_t host = 1 + below(g, g->nodes), target = 1 + below(g, g->nodes - 1);
        target += target >= host; /* never the host itself */
        uint32_t claim = 1 + below(g, g->nodes), attack = below(g, 6), count = 1 + below(g, 24);
        struct sc_action *a = add_item(g, at, SC_ACT_ADVERSARY,
                                       "adversary: {from: n%u, nodes: [n%u], claim: n%u, attack: %s, "
                                       "connections: %u}", host, target, claim, attacks[attack], count);
        if (!a)
            return;
        a->adv.host = host - 1;
        a->adv.claim_node = (int32_t)claim - 1;
        a->adv.attack = (enum sc_attack)attack;
        a->adv.connections = count;
        set_nodes(g, &a->nodes, node_bit(target));
    }
}

static void gen_traffic(struct gen *g)
{
    uint32_t plain = 2 + below(g, 12), started = 2 + below(g, 12), ops = 10 + below(g, 140);
    for (uint32_t k = 0; k < ops; k++) {
        int64_t at = span_ms(g, 200 * MS, g->heal_at - 100 * MS);
        uint32_t node = 1 + below(g, g->nodes), roll = below(g, 100);
        uint32_t p = below(g, plain), s = below(g, started), grp = below(g, 3);
        /* Where one item draws twice, the later argument is drawn first (as
         * the generator's single calls always did). */
        char name[16], group[16];
        snprintf(group, sizeof group, "g%u", grp);
        if (roll < 25) {
            snprintf(name, sizeof name, "p%u", p);
            add_command(g, at, "register", node, name, NULL, true, below(g, 100));
        } else if (roll < 50) {
            snprintf(name, sizeof name, "s%u", s);
            add_command(g, at, "register_started", node, name, NULL, true, below(g, 100));
        } else if (roll < 80) {
            uint32_t number = chance(g, 50) ? p : s;
            char letter = chance(g, 50) ? 'p' : 's';
            snprintf(name, sizeof name, "%c%u", letter, number);
            if (roll < 60)
                add_command(g, at, "unregister", node, name, NULL, false, 0);
            else if (roll < 70)
                add_command(g, at, chance(g, 70) ? "join" : "leave", node, name, group, false, 0);
            else
                add_command(g, at, "send", node, name, "inc", true, 1);
        } else if (roll < 85) {
            add_command(g, at, "publish", node, group, "inc", true, 1);
        } else if (roll < 95) {
            uint32_t number = chance(g, 50) ? p : s;
            char letter = chance(g, 50) ? 'p' : 's';
            snprintf(name, sizeof name, "%c%u", letter, number);
            add_command(g, at, "whereis", node, name, NULL, false, 0);
        } else {
            snprintf(name, sizeof name, "s%u", s);
            add_command(g, at, "call", node, name, NULL, false, 0);
        }
    }
}

/* Orders pointers to items (sorting the items themselves, two kilobytes
 * each, copied them a few times over). */
static int item_order(const void *a, const void *b)
{
    const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static uint32_t draw_faults(struct gen *g)
{
    uint32_t allowed = g->p->faults;
    if (!g->p->swarm_testing)
        return allowed;
    uint32_t on = allowed & FZ_ADVERSARY; /* its profile always attacks; the rest is swarm-tested */
    allowed &= ~FZ_ADVERSARY;
    while (!(on & ~FZ_ADVERSARY) && allowed)
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

/* Frees an action's node sets. */
static void free_action_sets(struct sc_action *a)
{
    free(a->nodes.idx);
    free(a->peers.idx);
}

/* Draws the whole scenario into `g` and writes the parts of the file
 * before (`head`) and after (`tail`) the timeline items. */
static bool draw_scenario(struct gen *g, const struct fuzz_request *req, FILE *head, FILE *tail)
{
    const struct fuzz_profile *p = req->profile;
    uint32_t lo = req->min_nodes ? req->min_nodes : p->min_nodes;
    uint32_t hi = req->max_nodes ? req->max_nodes : p->max_nodes;
    g->nodes = lo + below(g, hi - lo + 1);
    g->faults = draw_faults(g);
    char kinds[160];
    fuzz_fault_names(g->faults, kinds, sizeof kinds);
    fprintf(head, "# Generated by clustersim fuzz (profile %s, mode %s, seed %llu).\n"
                  "# Fault kinds on: %s.  The timeline is complete: this file replays\n"
                  "# without the generator: clustersim run FILE (add --trace T.jsonl, then\n"
                  "# clustersim replay T.jsonl to read what happened).\n",
            p->name, req->mode == FZ_MODE_SWARM ? "swarm" : "fixed", (unsigned long long)req->seed, kinds);
    fprintf(head, "name: fuzz-%s-%s-%llu\nseed: %llu\n", p->name, req->mode == FZ_MODE_SWARM ? "swarm" : "fixed",
            (unsigned long long)req->seed, (unsigned long long)req->seed);
    write_cluster(head, g, req);
    write_models(head, g);
    gen_starts(g);
    if (g->faults & FZ_CRASH)
        gen_crashes(g);
    if (g->faults & FZ_STOP)
        gen_stops(g);
    if (g->faults & FZ_ROLLING)
        gen_rolling(g);
    if (g->faults & FZ_PARTITION)
        gen_partitions(g);
    if (g->faults & FZ_CLOG)
        gen_clogs(g);
    if (g->faults & FZ_DNS)
        gen_dns_faults(g);
    if (g->faults & FZ_CLOCK)
        gen_clocks(g);
    if (g->faults & FZ_TRAFFIC)
        gen_traffic(g);
    if (g->faults & FZ_ADVERSARY)
        gen_adversary(g);
    add_item(g, g->heal_at, SC_ACT_HEAL, "heal: all");
    add_start_all(g, g->heal_at);
    g->sorted = malloc((g->count ? g->count : 1) * sizeof *g->sorted);
    if (!g->sorted)
        return false;
    for (size_t i = 0; i < g->count; i++)
        g->sorted[i] = &g->items[i];
    qsort(g->sorted, g->count, sizeof *g->sorted, item_order);
    fprintf(tail, "expect:\n  - converged: {within: %llds}\n  - not_stuck: true\n  - no_duplicates: true\n"
                  "  - no_loss: true\n  - placement: true\n",
            (long long)(p->converge_within_ns / SEC));
    fprintf(tail, "limits:\n  duration: %llds\n  check_interval: 250ms\n", (long long)(p->duration_ns / SEC));
    return !g->failed;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    return lines;
}

/* The column of an item's first key on its line "  - {at: <ms>ms, <key>...". */
static int item_key_col(int64_t at)
{
    int digits = 1;
    for (long long ms = (long long)(at / MS); ms >= 10; ms /= 10)
        digits++;
    return (int)strlen("  - {at: ") + digits + (int)strlen("ms, ") + 1;
}

int fuzz_generate_parts(const struct fuzz_request *req, struct fuzz_entropy *e, struct fuzz_scenario *out,
                        struct fuzz_shape *shape, bool with_text)
{
    memset(out, 0, sizeof *out);
    struct gen g = {.e = e, .p = req->profile, .heal_at = req->profile->heal_at_ns, .with_text = with_text};
    char *head = NULL, *tail = NULL;
    size_t head_len = 0, tail_len = 0;
    FILE *hf = open_memstream(&head, &head_len), *tf = hf ? open_memstream(&tail, &tail_len) : NULL;
    bool ok = tf && draw_scenario(&g, req, hf, tf);
    if (hf)
        fclose(hf);
    if (tf)
        fclose(tf);
    /* The file: head, the timeline items one per line, tail. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = ok && with_text ? open_memstream(&text, &len) : NULL;
    out->actions = ok ? malloc((g.count ? g.count : 1) * sizeof *out->actions) : NULL; /* each set below */
    if ((with_text && !f) || !out->actions) {
        if (f)
            fclose(f);
        free(text);
        free(out->actions);
        out->actions = NULL;
        for (size_t i = 0; i < g.count; i++)
            free_action_sets(&g.items[i].act);
        free(g.items);
        free(g.sorted);
        free(head);
        free(tail);
        return -1;
    }
    if (f) {
        fwrite(head, 1, head_len, f);
        fprintf(f, "timeline:\n");
    }
    size_t line = count_lines(head, head_len) + 1; /* the line of "timeline:" */
    for (size_t i = 0; i < g.count; i++) {
        const struct item *it = g.sorted[i];
        if (f)
            fprintf(f, "  - {at: %lldms, %s}\n", (long long)(it->at / MS), it->text);
        out->actions[i] = it->act; /* the node sets move over */
        out->actions[i].pos = (struct sc_pos){(int)(line + 1 + i), item_key_col(it->at)};
    }
    out->action_count = g.count;
    if (f) {
        fwrite(tail, 1, tail_len, f);
        fclose(f);
    }
    /* The same file without its timeline, for loading everything else. */
    char *rest = realloc(head, head_len + tail_len + 1);
    if (rest) {
        memcpy(rest + head_len, tail, tail_len + 1);
        out->rest = rest;
        out->rest_len = head_len + tail_len;
    } else {
        free(head);
    }
    free(tail);
    out->text = text;
    out->len = len;
    if (shape)
        *shape = (struct fuzz_shape){.nodes = g.nodes, .faults = g.faults, .timeline_items = g.count};
    free(g.items);
    free(g.sorted);
    if (!out->rest) {
        fuzz_scenario_free(out);
        return -1;
    }
    return 0;
}

void fuzz_scenario_free(struct fuzz_scenario *s)
{
    for (size_t i = 0; s->actions && i < s->action_count; i++)
        free_action_sets(&s->actions[i]);
    free(s->actions);
    free(s->text);
    free(s->rest);
    memset(s, 0, sizeof *s);
}

char *fuzz_generate(const struct fuzz_request *req, struct fuzz_entropy *e, size_t *len,
                    struct fuzz_shape *shape)
{
    struct fuzz_scenario s;
    if (fuzz_generate_parts(req, e, &s, shape, true) != 0)
        return NULL;
    char *text = s.text;
    *len = s.len;
    s.text = NULL;
    fuzz_scenario_free(&s);
    return text;
}
