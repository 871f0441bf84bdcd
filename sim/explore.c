/*
 * sim/explore.c: the controlled run of an exhaustive exploration (see
 * explore.h).  At each step the queue is scanned for the events that could
 * happen next; the chosen one is taken out of the heap (its slot is marked
 * SEV_NONE) and dispatched as the normal loop would.  The state hash that
 * prunes repeated states is the sum over nodes of their state dumps and
 * registry digests, plus the multiset of pending events named by endpoints
 * and payload (never by link ids or slots, which differ between paths).
 */
#include "explore.h"

#include "world.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int record(struct sim_explore *ex, uint32_t choice, uint32_t branching)
{
    if (ex->depth == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 64;
        uint32_t *c = realloc(ex->choices, cap * sizeof *c);
        if (!c)
            return -1;
        ex->choices = c;
        uint32_t *b = realloc(ex->branching, cap * sizeof *b);
        if (!b)
            return -1;
        ex->branching = b;
        ex->cap = cap;
    }
    ex->choices[ex->depth] = choice;
    ex->branching[ex->depth] = branching;
    ex->depth++;
    return 0;
}

static uint32_t next_choice(struct sim_explore *ex, uint32_t branching)
{
    uint32_t c = ex->depth < ex->prefix_len ? ex->prefix[ex->depth] : 0;
    if (c >= branching) { /* a stale prefix (the scenario changed): take the first */
        if (!ex->stale_at) {
            ex->stale_at = ex->depth + 1;
            ex->stale_branching = branching;
        }
        c = 0;
    }
    record(ex, c, branching);
    return c;
}

uint64_t sim_explore_choose(struct sim_world *w, uint64_t bound)
{
    struct sim_explore *ex = w->opt.explore;
    if (!ex || bound <= 1)
        return 0;
    return next_choice(ex, bound > UINT32_MAX ? UINT32_MAX : (uint32_t)bound);
}

void sim_explore_free(struct sim_explore *ex)
{
    free(ex->choices);
    free(ex->branching);
    ex->choices = ex->branching = NULL;
    ex->depth = ex->cap = 0;
}

/* ---- which events could come next ---- */

struct candidates {
    struct sim_world *w;
    uint32_t *slots;
    size_t count, cap;
    cs_time first_timed;   /* earliest time among time-bound events */
    cs_time first_due;     /* earliest due time among messages in flight */
    uint64_t pending_hash; /* multiset hash of every offered event */
};

static bool time_bound(enum sim_ev_kind k)
{
    return k == SEV_TIMER || k == SEV_ACTION || k == SEV_STOP_EXPIRED || k == SEV_NODE_UP ||
           k == SEV_DNS_SERVICE || k == SEV_NODE_EXIT;
}

static bool offered(const struct sim_world *w, const struct sim_event *ev)
{
    if (ev->kind == SEV_NONE || ev->kind == SEV_CHECK || ev->kind == SEV_OBSERVE ||
        ev->kind == SEV_SAMPLE)
        return false;
    if (ev->kind != SEV_TIMER)
        return true;
    const struct sim_node *n = &w->nodes[ev->node];
    if (!sim_node_alive(n) || n->incarnation != ev->incarnation || !n->instance)
        return false; /* fires into nothing */
    return !w->proto->timer_can_progress || w->proto->timer_can_progress(n->instance, ev->tag);
}

/* Earliest time among offered time-bound events, and earliest due time of
 * the messages in flight. */
static void scan_first(void *ctx, const struct sim_event *ev)
{
    struct candidates *c = ctx;
    if (!offered(c->w, ev))
        return;
    if (time_bound(ev->kind) && ev->time < c->first_timed)
        c->first_timed = ev->time;
    if (!time_bound(ev->kind) && ev->time < c->first_due)
        c->first_due = ev->time;
}

/* True when another pending event of the same link direction was sent
 * before this one (FIFO: only the head may be delivered). */
struct behind_scan {
    const struct sim_event *ev;
    bool found;
};

static void scan_behind(void *ctx, const struct sim_event *o)
{
    struct behind_scan *s = ctx;
    if ((o->kind == SEV_LINK_MSG || o->kind == SEV_LINK_DOWN) && o->id == s->ev->id &&
        o->aux == s->ev->aux && o->seq < s->ev->seq)
        s->found = true;
}

static bool behind(struct sim_world *w, const struct sim_event *ev)
{
    if (ev->kind != SEV_LINK_MSG && ev->kind != SEV_LINK_DOWN)
        return false;
    struct behind_scan s = {ev, false};
    sim_evq_each(&w->queue, scan_behind, &s);
    return s.found;
}

static uint64_t event_hash(const struct sim_event *ev)
{
    uint64_t parts[5] = {(uint64_t)ev->kind, ev->node, ev->src, ev->tag,
                         ev->kind == SEV_LINK_DOWN ? ev->aux >> 1 : 0};
    uint64_t h = XXH3_64bits(parts, sizeof parts);
    /* A message counts by its kind (first two bytes: frame and message
     * type), not its full bytes, which carry random challenges and clock
     * stamps that differ between otherwise equal paths. */
    if (ev->len && ev->kind != SEV_DNS_ANSWER)
        h ^= XXH3_64bits(sim_event_data(ev), ev->len < 2 ? ev->len : 2) * 0x9e3779b97f4a7c15ULL;
    return h;
}

static void collect(void *ctx, const struct sim_event *ev)
{
    struct candidates *c = ctx;
    if (!offered(c->w, ev))
        return;
    /* Time-bound events go in time order, and never past the due time of a
     * message in flight: delays are bounded by the network model, so a
     * timeout cannot always win against the reply it waits for.  Messages
     * may arrive in any order, earlier than due. */
    if (time_bound(ev->kind) && (ev->time != c->first_timed || ev->time > c->first_due))
        return;
    if (behind(c->w, ev))
        return;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        uint32_t *s = realloc(c->slots, cap * sizeof *s);
        if (!s)
            return;
        c->slots = s;
        c->cap = cap;
    }
    /* The slot of this body: its index in the slab. */
    c->slots[c->count++] = (uint32_t)(ev - c->w->queue.slab);
    c->pending_hash += event_hash(ev);
}

/* Candidates in scheduling order, so choice numbers mean the same thing in
 * every replay of a prefix. */
static void sort_by_seq(struct candidates *c)
{
    for (size_t i = 1; i < c->count; i++) { /* few candidates: insertion sort */
        uint32_t s = c->slots[i];
        size_t j = i;
        while (j > 0 && c->w->queue.slab[c->slots[j - 1]].seq > c->w->queue.slab[s].seq) {
            c->slots[j] = c->slots[j - 1];
            j--;
        }
        c->slots[j] = s;
    }
}

/* Partial-order reduction.  A message (or datagram, or DNS answer) is local
 * to the node it is delivered to: it changes only that node and can only add
 * events elsewhere, never disable or reorder them (links stay FIFO per
 * direction).  Timers are not local in this scheduler: they are offered in
 * time order, so firing one moves the clock and can change which others are
 * offered.  So when only messages are offered, those of different nodes
 * commute and taking the messages of one node (a persistent set) reaches
 * every state where the run can end, stuck ones included; when a timer or a
 * world event (timeline action, connection set-up touching both ends) is
 * offered, everything is offered. */
static bool local_event(enum sim_ev_kind k)
{
    return k == SEV_LINK_MSG || k == SEV_LINK_DOWN || k == SEV_DGRAM || k == SEV_DNS_ANSWER;
}

static void reduce(struct candidates *c)
{
    /* A pending time-bound event may become offered by a delivery (the one
     * whose due time held it back) and blocked again by a message that
     * delivery sends: deliveries do not commute with it, so no reduction. */
    if (c->first_timed != CS_TIME_NEVER)
        return;
    uint32_t node = UINT32_MAX;
    for (size_t i = 0; i < c->count; i++) {
        const struct sim_event *ev = &c->w->queue.slab[c->slots[i]];
        if (!local_event(ev->kind))
            return; /* a world event is enabled: offer everything */
        if (ev->node < node)
            node = ev->node;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->count; i++)
        if (c->w->queue.slab[c->slots[i]].node == node)
            c->slots[k++] = c->slots[i];
    c->count = k;
}

static uint64_t state_hash(struct sim_world *w, uint64_t pending)
{
    uint64_t h = pending * 0xff51afd7ed558ccdULL;
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        uint64_t node[3] = {i, sim_node_alive(n), n->incarnation};
        uint64_t nh = XXH3_64bits(node, sizeof node);
        if (sim_node_alive(n) && n->instance && (w->proto->state_key || w->proto->dump)) {
            char key[4096];
            int len = w->proto->state_key ? w->proto->state_key(n->instance, key, sizeof key)
                                          : w->proto->dump(n->instance, key, sizeof key);
            nh ^= XXH3_64bits(key, len > 0 ? (size_t)len : 0);
        }
        if (sim_node_alive(n) && n->instance && w->proto->registry_digest) {
            size_t count;
            uint64_t sum;
            w->proto->registry_digest(n->instance, &count, &sum);
            nh ^= sum + count;
        }
        h = h * 31 + nh;
    }
    return h;
}

void sim_explore_run(struct sim_world *w)
{
    struct sim_explore *ex = w->opt.explore;
    struct candidates c = {.w = w};
    ex->end = SIM_EXPLORE_LEAF;
    if (ex->from > 0) /* a warm-up in time order (links coming up, say) */
        sim_world_run_until(w, ex->from);
    for (;;) {
        c.count = 0;
        c.pending_hash = 0;
        c.first_timed = CS_TIME_NEVER;
        c.first_due = CS_TIME_NEVER;
        sim_evq_each(&w->queue, scan_first, &c);
        sim_evq_each(&w->queue, collect, &c);
        uint64_t h = state_hash(w, c.pending_hash);
        ex->final_hash = h;
        if (c.count == 0)
            break;
        if (ex->depth >= ex->max_depth) {
            ex->end = SIM_EXPLORE_DEPTH;
            break;
        }
        if (ex->depth >= ex->prefix_len && ex->seen && ex->seen(ex->ctx, h)) {
            ex->end = SIM_EXPLORE_PRUNED;
            break;
        }
        if (ex->reduce)
            reduce(&c);
        sort_by_seq(&c);
        uint32_t pick = next_choice(ex, (uint32_t)c.count);
        struct sim_event *body = &w->queue.slab[c.slots[pick]];
        struct sim_event ev = *body;
        body->kind = SEV_NONE; /* taken out; the heap drops it later */
        body->payload = NULL;
        if (time_bound(ev.kind) && ev.time > w->now)
            w->now = ev.time;
        w->stats.events++;
        ex->steps++;
        sim_dispatch(w, &ev);
        free(ev.payload);
    }
    free(c.slots);
}
