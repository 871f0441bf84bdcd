/*
 * sim/invariants.c: the no-loss and placement invariants (see
 * invariants.h).  The history of each name is folded from the recorded
 * replies in one pass; the registry is read through the protocol's
 * registry_each hook.
 */
#include "invariants.h"
#include "../core/strcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grow.h"
#include "../core/strmap.h"

/* A set of started names, bit i for name index i (the index's order). */
struct name_bits {
    uint64_t *words;
    size_t count;
};

/* The started names one node was seen holding in its current incarnation
 * (only that one matters: the check asks whether a node that held the
 * name still runs the same incarnation, and incarnations only grow). */
struct node_held {
    uint32_t incarnation;
    bool valid;
    struct name_bits names;
};

/* The started names one registry content holds, within one observation:
 * nodes whose registry digests are equal hold the same live entries, so
 * one walk serves them all. */
struct content_names {
    size_t count;
    uint64_t sum;
    struct name_bits names;
};

struct sim_holders {
    struct cs_strmap index; /* started name -> its index */
    size_t name_count;
    struct node_held *nodes; /* by node index */
    size_t node_cap;
    struct content_names *round; /* this observation's distinct registries */
    size_t round_count, round_cap;
};

/* Room in `b` for `words` words (the new ones zero). */
static int bits_room(struct name_bits *b, size_t words)
{
    size_t old = b->count;
    if (words <= old)
        return 0;
    if (cs_grow((void **)&b->words, &b->count, words, sizeof *b->words) != 0)
        return -1;
    memset(b->words + old, 0, (b->count - old) * sizeof *b->words);
    return 0;
}

static int bits_set(struct name_bits *b, size_t i)
{
    if (bits_room(b, i / 64 + 1) != 0)
        return -1;
    b->words[i / 64] |= 1ULL << (i % 64);
    return 0;
}

static bool bits_has(const struct name_bits *b, size_t i)
{
    return i / 64 < b->count && (b->words[i / 64] >> (i % 64)) & 1;
}

static int bits_or(struct name_bits *into, const struct name_bits *from)
{
    if (bits_room(into, from->count) != 0)
        return -1;
    for (size_t w = 0; w < from->count; w++)
        into->words[w] |= from->words[w];
    return 0;
}

static bool expects_no_loss(const struct sim_world *w)
{
    for (size_t i = 0; i < w->sc->expect_count; i++)
        if (w->sc->expects[i].kind == SC_EXP_NO_LOSS)
            return true;
    return false;
}

static int schedule_observe(struct sim_world *w, cs_time at)
{
    struct sim_event ev = {.time = at, .kind = SEV_OBSERVE, .node = UINT32_MAX, .src = UINT32_MAX};
    return sim_schedule(w, &ev) < 0 ? -1 : 0;
}

int sim_observe_schedule(struct sim_world *w)
{
    if (!expects_no_loss(w) || !w->proto->registry_each)
        return 0;
    w->holders = calloc(1, sizeof *w->holders);
    if (!w->holders)
        return -1;
    cs_strmap_init(&w->holders->index);
    return schedule_observe(w, 0);
}

struct observe_ctx {
    struct sim_holders *h;
    struct name_bits *into;
};

static void note_holder(void *ctx, const char *name, const char *owner, bool started, const char *ring_owner)
{
    (void)owner, (void)ring_owner;
    struct observe_ctx *c = ctx;
    if (!started)
        return;
    struct sim_holders *h = c->h;
    int32_t i = cs_strmap_get(&h->index, name);
    if (i < 0) {
        if (cs_strmap_put(&h->index, name, (int32_t)h->name_count) != 0)
            return;
        i = (int32_t)h->name_count++;
    }
    bits_set(c->into, (size_t)i);
}

/* The started names of node n's registry, from this observation's walk of
 * an equal registry, or walked now. */
static const struct name_bits *current_names(struct sim_world *w, struct sim_node *n)
{
    struct sim_holders *h = w->holders;
    size_t count = 0;
    uint64_t sum = 0;
    bool by_digest = w->proto->registry_digest != NULL;
    if (by_digest) {
        w->proto->registry_digest(n->instance, &count, &sum);
        for (size_t i = 0; i < h->round_count; i++)
            if (h->round[i].count == count && h->round[i].sum == sum)
                return &h->round[i].names;
    }
    if (cs_grow((void **)&h->round, &h->round_cap, h->round_count + 1, sizeof *h->round) != 0)
        return NULL;
    struct content_names *c = &h->round[h->round_count];
    *c = (struct content_names){count, sum, {NULL, 0}};
    struct observe_ctx ctx = {h, &c->names};
    w->proto->registry_each(n->instance, false, note_holder, &ctx);
    h->round_count++; /* (found again by the nodes after it when by_digest) */
    return &c->names;
}

static void round_free(struct sim_holders *h)
{
    for (size_t i = 0; i < h->round_count; i++)
        free(h->round[i].names.words);
    h->round_count = 0;
}

void sim_observe_handle(struct sim_world *w, const struct sim_event *ev)
{
    (void)ev;
    struct sim_holders *h = w->holders;
    size_t old_cap = h->node_cap;
    if (cs_grow((void **)&h->nodes, &h->node_cap, w->node_count, sizeof *h->nodes) == 0) {
        memset(h->nodes + old_cap, 0, (h->node_cap - old_cap) * sizeof *h->nodes);
        for (size_t i = 0; i < w->node_count; i++) {
            struct sim_node *n = &w->nodes[i];
            if (n->state != SIM_NODE_UP || !n->instance)
                continue;
            /* The same listing as at the last look adds no holder. */
            uint64_t epoch = w->proto->registry_epoch ? w->proto->registry_epoch(n->instance) : 0;
            if (w->proto->registry_epoch && n->observed && n->observed_incarnation == n->incarnation &&
                n->observed_epoch == epoch)
                continue;
            struct node_held *held = &h->nodes[i];
            if (!held->valid || held->incarnation != n->incarnation) { /* a new incarnation holds nothing yet */
                if (held->names.count)
                    memset(held->names.words, 0, held->names.count * sizeof *held->names.words);
                held->valid = true;
                held->incarnation = n->incarnation;
            }
            const struct name_bits *now = current_names(w, n);
            if (!now || bits_or(&held->names, now) != 0)
                continue; /* (out of memory: not observed, looked at again next time) */
            n->observed = true;
            n->observed_incarnation = n->incarnation;
            n->observed_epoch = epoch;
        }
        round_free(h);
    }
    schedule_observe(w, w->now + w->sc->limits.check_interval);
}

void sim_holders_free(struct sim_holders *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->node_cap; i++)
        free(h->nodes[i].names.words);
    free(h->nodes);
    round_free(h);
    free(h->round);
    cs_strmap_free(&h->index);
    free(h);
}

/* True when a node seen holding the started name still runs the same
 * incarnation (so the name had a survivor to keep it). */
static bool holder_survives(const struct sim_world *w, const char *name)
{
    if (!w->holders)
        return false;
    int32_t i = cs_strmap_get(&w->holders->index, name);
    if (i < 0)
        return false;
    for (size_t k = 0; k < w->node_count && k < w->holders->node_cap; k++) {
        const struct sim_node *n = &w->nodes[k];
        const struct node_held *held = &w->holders->nodes[k];
        if (n->state == SIM_NODE_UP && held->valid && held->incarnation == n->incarnation &&
            bits_has(&held->names, (size_t)i))
            return true;
    }
    return false;
}

void sim_note_command(struct sim_world *w, uint32_t node, const char *op, const char *name)
{
    if (!w->holders || !sim_reply_changes_registry(op))
        return;
    if (cs_grow((void **)&w->replies, &w->reply_cap, w->reply_count + 1, sizeof *w->replies) != 0)
        return;
    struct sim_reply *r = &w->replies[w->reply_count++];
    memset(r, 0, sizeof *r);
    r->node = node;
    r->incarnation = w->nodes[node].incarnation;
    r->at = w->now;
    cs_copy_str(r->op, sizeof r->op, op);
    cs_copy_str(r->name, sizeof r->name, name ? name : "");
    snprintf(r->status, sizeof r->status, "sent");
}

bool sim_reply_changes_registry(const char *op)
{
    return !strcmp(op, "register") || !strcmp(op, "register_started") || !strcmp(op, "unregister");
}

#define HANDLES_MAX 16

/* What the replies say about one name. */
struct name_history {
    const char *name;
    bool unregister_seen;      /* some unregister was answered (any status) */
    cs_time last_unregister_ok; /* -1: none */
    cs_time last_register;     /* last register reply of any status, -1: none */
    int64_t registered[HANDLES_MAX];   /* handles of ok register / register_started */
    int64_t unregistered[HANDLES_MAX]; /* handles removed by an ok unregister whose node
                                          still runs (it kept the deletion) */
    uint8_t registered_count, unregistered_count;
    bool too_many;             /* more handles than kept: not judged */
    bool started_ok;           /* some register_started answered ok */
    bool registrant_gone;      /* a plain registrant is no longer the same live process */
    bool registered_ok;        /* some plain register answered ok */
    bool held_by_survivor;     /* started: a node that held it still runs */
    /* Registers issued and not (yet) answered, by the requesting node and
     * incarnation: one never answered may take effect at any later time. */
    uint64_t asked[HANDLES_MAX];
    uint8_t asked_count[HANDLES_MAX], asked_slots;
};

struct histories {
    struct name_history *items;
    size_t count, cap;
    struct cs_strmap index;
};

static struct name_history *history_of(struct histories *h, const char *name)
{
    int32_t i = cs_strmap_get(&h->index, name);
    if (i >= 0)
        return &h->items[i];
    if (cs_grow((void **)&h->items, &h->cap, h->count + 1, sizeof *h->items) != 0 ||
        cs_strmap_put(&h->index, name, (int32_t)h->count) != 0)
        return NULL;
    struct name_history *n = &h->items[h->count++];
    *n = (struct name_history){.name = name, .last_unregister_ok = -1, .last_register = -1};
    return n;
}

static bool same_process_lives(const struct sim_world *w, const struct sim_reply *r)
{
    const struct sim_node *n = &w->nodes[r->node];
    return n->state == SIM_NODE_UP && n->incarnation == r->incarnation;
}

static void add_handle(int64_t *set, uint8_t *count, int64_t handle, bool *overflow)
{
    for (uint8_t i = 0; i < *count; i++)
        if (set[i] == handle)
            return;
    if (*count == HANDLES_MAX)
        *overflow = true;
    else
        set[(*count)++] = handle;
}

/* True when every registered handle was removed by a kept unregister. */
static bool all_unregistered(const struct name_history *n)
{
    for (uint8_t i = 0; i < n->registered_count; i++) {
        bool removed = false;
        for (uint8_t j = 0; j < n->unregistered_count && !removed; j++)
            removed = n->unregistered[j] == n->registered[i];
        if (!removed)
            return false;
    }
    return n->registered_count > 0;
}

/* Counts an issued (+1) or answered (-1) register of the requester. */
static void note_asked(struct name_history *n, const struct sim_reply *r, int delta)
{
    uint64_t who = (uint64_t)r->node << 32 | r->incarnation;
    for (uint8_t i = 0; i < n->asked_slots; i++)
        if (n->asked[i] == who) {
            if (delta > 0 || n->asked_count[i] > 0)
                n->asked_count[i] = (uint8_t)(n->asked_count[i] + delta);
            return;
        }
    if (delta < 0)
        return;
    if (n->asked_slots == HANDLES_MAX) {
        n->too_many = true;
        return;
    }
    n->asked[n->asked_slots] = who;
    n->asked_count[n->asked_slots++] = 1;
}

/* True when some register was issued and never answered: its outcome is
 * unknown, so it may have taken effect after every unregister. */
static bool register_unanswered(const struct name_history *n)
{
    for (uint8_t i = 0; i < n->asked_slots; i++)
        if (n->asked_count[i])
            return true;
    return false;
}

static int fold_replies(const struct sim_world *w, struct histories *h)
{
    for (size_t i = 0; i < w->reply_count; i++) {
        const struct sim_reply *r = &w->replies[i];
        if (!sim_reply_changes_registry(r->op))
            continue;
        struct name_history *n = history_of(h, r->name);
        if (!n)
            return -1;
        bool ok = !strcmp(r->status, "ok");
        if (!strcmp(r->status, "sent")) { /* issued: may take effect unanswered */
            if (!strcmp(r->op, "unregister")) {
                n->unregister_seen = true;
            } else {
                note_asked(n, r, +1);
                if (r->at > n->last_register)
                    n->last_register = r->at;
            }
            continue;
        }
        if (!strcmp(r->op, "unregister")) {
            n->unregister_seen = true;
            if (ok) {
                n->last_unregister_ok = r->at;
                if (same_process_lives(w, r))
                    add_handle(n->unregistered, &n->unregistered_count, r->value, &n->too_many);
            }
            continue;
        }
        n->last_register = r->at;
        note_asked(n, r, -1);
        if (ok)
            add_handle(n->registered, &n->registered_count, r->value, &n->too_many);
        if (ok && !strcmp(r->op, "register_started"))
            n->started_ok = true;
        if (ok && !strcmp(r->op, "register")) {
            n->registered_ok = true;
            if (!same_process_lives(w, r))
                n->registrant_gone = true;
        }
    }
    return 0;
}

static void collect_name(void *ctx, const char *name, const char *owner, bool started,
                         const char *ring_owner)
{
    (void)owner, (void)started, (void)ring_owner;
    cs_strmap_put(ctx, name, 1);
}

static const struct sim_node *first_live(const struct sim_world *w)
{
    for (size_t i = 0; i < w->node_count; i++)
        if (w->nodes[i].state == SIM_NODE_UP && w->nodes[i].instance)
            return &w->nodes[i];
    return NULL;
}

/* Why the name's presence is wrong, or NULL. */
static const char *judge_name(const struct name_history *n, bool present)
{
    if (!n->unregister_seen) {
        if (!present && n->started_ok && n->held_by_survivor)
            return "was started through register_started, never unregistered, held by a node that "
                   "still runs, but is gone";
        if (!present && n->registered_ok && !n->registrant_gone)
            return "was registered by processes that still live and never unregistered, but is gone";
        return NULL;
    }
    /* Absent only when every registration of the name was removed by an
     * unregister: one that removed the copy on its side of a partition
     * says nothing of a concurrent registration on the other side.  And an
     * unregister counts only while the node that took it still runs: one
     * that died before telling anyone took the deletion with it (as a
     * registration dies with its only holder). */
    if (present && !n->too_many && n->last_unregister_ok >= 0 && n->last_register < n->last_unregister_ok &&
        !register_unanswered(n) && all_unregistered(n))
        return "had every registration unregistered (ok), with no register after, but is back";
    return NULL;
}

bool sim_check_no_loss(struct sim_world *w, char *detail, size_t size)
{
    detail[0] = '\0';
    const struct sim_node *ref = first_live(w);
    if (!ref || !w->proto->registry_each)
        return true;
    struct histories h = {0};
    struct cs_strmap present;
    cs_strmap_init(&h.index);
    cs_strmap_init(&present);
    bool ok = fold_replies(w, &h) == 0;
    if (!ok)
        snprintf(detail, size, "out of memory while folding the replies");
    w->proto->registry_each(ref->instance, false, collect_name, &present);
    for (size_t i = 0; ok && i < h.count; i++) {
        h.items[i].held_by_survivor = holder_survives(w, h.items[i].name);
        const char *why = judge_name(&h.items[i], cs_strmap_get(&present, h.items[i].name) >= 0);
        if (why) {
            snprintf(detail, size, "'%s' %s (registry of %s)", h.items[i].name, why, ref->id);
            ok = false;
        }
    }
    if (ok)
        snprintf(detail, size, "%zu names with a history judged on %s: none lost or resurrected",
                 h.count, ref->id);
    free(h.items);
    cs_strmap_free(&h.index);
    cs_strmap_free(&present);
    return ok;
}

struct placement_ctx {
    const struct sim_node *holder;
    char *detail;
    size_t size;
    bool ok;
    size_t started;
};

static void check_placement(void *ctx, const char *name, const char *owner, bool started,
                            const char *ring_owner)
{
    struct placement_ctx *c = ctx;
    if (!started || !c->ok)
        return;
    c->started++;
    if (ring_owner && strcmp(owner, ring_owner) != 0) {
        snprintf(c->detail, c->size, "started process '%s' lives on %s but %s's ring assigns it to %s",
                 name, owner, c->holder->id, ring_owner);
        c->ok = false;
    }
}

bool sim_check_placement(struct sim_world *w, char *detail, size_t size)
{
    detail[0] = '\0';
    struct placement_ctx c = {.detail = detail, .size = size, .ok = true};
    for (size_t i = 0; w->proto->registry_each && c.ok && i < w->node_count; i++) {
        if (w->nodes[i].state != SIM_NODE_UP || !w->nodes[i].instance)
            continue;
        c.holder = &w->nodes[i];
        w->proto->registry_each(w->nodes[i].instance, true, check_placement, &c);
    }
    if (c.ok)
        snprintf(detail, size, "%zu started entries (summed over live nodes) on their ring owners",
                 c.started);
    return c.ok;
}
