/*
 * sim/check.c: convergence and stuck detection.  Views are compared as
 * order-independent sums of XXH3 name hashes, so a check costs one hash per
 * view entry and never depends on container order.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

static bool needs_checks(const struct sim_world *w)
{
    const struct scenario *sc = w->sc;
    return sc->expect_count > 0 || sc->limits.stop_when_settled;
}

static bool is_window(enum sc_expect_kind k)
{
    return k == SC_EXP_STABLE || k == SC_EXP_UNSTABLE || k == SC_EXP_ISOLATED;
}

/* CHECK_FIRST re-queues itself as the first periodic check at the same
 * instant: scheduled at that moment, it runs after every event already
 * queued for it (a restarted pod coming back at the last fault). */
enum { CHECK_PERIODIC = 0, CHECK_ONCE = 1, CHECK_FIRST = 2, CHECK_AT = 3 /* + expectation index */ };

static int schedule_check(struct sim_world *w, cs_time at, uint32_t once)
{
    struct sim_event ev = {.time = at, .kind = SEV_CHECK, .node = UINT32_MAX, .src = UINT32_MAX,
                           .aux = once};
    return sim_schedule(w, &ev) < 0 ? -1 : 0;
}

int sim_check_schedule(struct sim_world *w)
{
    const struct scenario *sc = w->sc;
    if (!needs_checks(w))
        return 0;
    w->excluded = calloc(w->node_count ? w->node_count : 1, sizeof *w->excluded);
    w->windows = calloc(sc->expect_count ? sc->expect_count : 1, sizeof *w->windows);
    w->instants = calloc(sc->expect_count ? sc->expect_count : 1, sizeof *w->instants);
    if (!w->excluded || !w->windows || !w->instants)
        return -1;
    for (size_t i = 0; i < sc->excluded_count; i++)
        w->excluded[sc->excluded[i]] = true;
    cs_time first = w->last_fault;
    for (size_t i = 0; i < sc->expect_count; i++) {
        const struct sc_expect *e = &sc->expects[i];
        w->windows[i].first_miss = w->windows[i].first_hit = -1;
        for (size_t k = 0; k < e->at_count; k++)
            if (schedule_check(w, e->at[k], CHECK_AT + (uint32_t)i) != 0)
                return -1;
        if (!is_window(e->kind))
            continue;
        /* A window shorter than the check interval still gets looked at. */
        if (schedule_check(w, e->from, CHECK_ONCE) != 0 || schedule_check(w, e->to, CHECK_ONCE) != 0)
            return -1;
        if (e->from < first)
            first = e->from;
    }
    return schedule_check(w, first, CHECK_FIRST);
}

struct view_sum {
    uint64_t sum;
    size_t count;
};

static void view_add(void *ctx, const char *name)
{
    struct view_sum *v = ctx;
    v->sum += XXH3_64bits(name, strlen(name));
    v->count++;
}

static bool live(const struct sim_node *n)
{
    return n->state == SIM_NODE_UP;
}

static bool included(const struct sim_world *w, size_t i)
{
    return !w->excluded || !w->excluded[i];
}

static struct view_sum view_of(struct sim_world *w, struct sim_node *n)
{
    struct view_sum v = {0, 0};
    if (w->proto->view_digest)
        w->proto->view_digest(n->instance, &v.count, &v.sum);
    else
        w->proto->view(n->instance, view_add, &v);
    return v;
}

size_t sim_check_view_size(struct sim_world *w, struct sim_node *n)
{
    return view_of(w, n).count;
}

/* Agreement of registries (protocols that have one): the first live
 * included node whose registry differs from the first one's, or -1. */
static int registries_disagree(struct sim_world *w)
{
    if (!w->proto->registry_digest)
        return -1;
    bool first = true;
    size_t count0 = 0;
    uint64_t sum0 = 0;
    for (size_t i = 0; i < w->node_count; i++) {
        if (!live(&w->nodes[i]) || !included(w, i))
            continue;
        size_t count;
        uint64_t sum;
        w->proto->registry_digest(w->nodes[i].instance, &count, &sum);
        if (first) {
            count0 = count;
            sum0 = sum;
            first = false;
        } else if (count != count0 || sum != sum0) {
            return (int)i;
        }
    }
    return -1;
}

/* Returns the first node that disagrees, or -1 when converged: every live
 * included node settled and seeing exactly the other live included nodes,
 * every live excluded node seeing no one. */
static int first_unconverged(struct sim_world *w, bool *unsettled)
{
    uint64_t total = 0;
    size_t live_count = 0;
    for (size_t i = 0; i < w->node_count; i++)
        if (live(&w->nodes[i]) && included(w, i)) {
            total += w->nodes[i].name_hash;
            live_count++;
        }
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!live(n))
            continue;
        struct view_sum v = view_of(w, n);
        *unsettled = false;
        if (!included(w, i)) {
            if (v.count != 0)
                return (int)i;
            continue;
        }
        if (!w->proto->settled(n->instance)) {
            *unsettled = true;
            return (int)i;
        }
        if (v.count != live_count - 1 || v.sum != total - n->name_hash)
            return (int)i;
    }
    return registries_disagree(w);
}

/* True when no live node sees any peer. */
static bool all_isolated(struct sim_world *w)
{
    for (size_t i = 0; i < w->node_count; i++)
        if (live(&w->nodes[i]) && view_of(w, &w->nodes[i]).count != 0)
            return false;
    return true;
}

bool sim_check_converged(struct sim_world *w)
{
    bool unsettled;
    return first_unconverged(w, &unsettled) < 0;
}

void sim_check_explain(struct sim_world *w, char *buf, size_t size)
{
    bool unsettled = false;
    int i = first_unconverged(w, &unsettled);
    if (i < 0) {
        buf[0] = '\0';
        return;
    }
    struct view_sum v = view_of(w, &w->nodes[i]);
    size_t live_count = 0;
    for (size_t j = 0; j < w->node_count; j++)
        live_count += live(&w->nodes[j]) && included(w, j);
    size_t reg_count = 0;
    uint64_t reg_sum = 0;
    if (w->proto->registry_digest)
        w->proto->registry_digest(w->nodes[i].instance, &reg_count, &reg_sum);
    if (!included(w, (size_t)i))
        snprintf(buf, size, "%s (%s) is excluded but sees %zu peers", w->nodes[i].id,
                 w->nodes[i].name, v.count);
    else if (!unsettled && v.count == live_count - 1 && w->proto->registry_digest)
        snprintf(buf, size, "%s (%s) holds a registry of %zu names that differs from the others'",
                 w->nodes[i].id, w->nodes[i].name, reg_count);
    else if (unsettled)
        snprintf(buf, size, "%s (%s) is not settled", w->nodes[i].id, w->nodes[i].name);
    else
        snprintf(buf, size, "%s (%s) sees %zu peers, %zu other nodes are live", w->nodes[i].id,
                 w->nodes[i].name, v.count, live_count - 1);
}

/* Whether a queued event can still move a live node: a timer it would act
 * on, a message to or from it, a link or DNS event for it. */
static bool moves_live_node(void *ctx, const struct sim_event *ev)
{
    struct sim_world *w = ctx;
    uint32_t a = UINT32_MAX, b = UINT32_MAX; /* the nodes it keeps busy */
    switch (ev->kind) {
    case SEV_TIMER: {
        const struct sim_node *n = &w->nodes[ev->node];
        if (n->incarnation != ev->incarnation || !n->instance)
            return false;
        if (!w->proto->timer_can_progress || w->proto->timer_can_progress(n->instance, ev->tag))
            a = ev->node;
        break;
    }
    case SEV_LINK_MSG:
        if (w->proto->message_can_progress && ev->node < w->node_count &&
            w->nodes[ev->node].instance &&
            !w->proto->message_can_progress(w->nodes[ev->node].instance, sim_event_data(ev), ev->len))
            return false; /* a keep-alive cannot move either end */
        /* fall through */
    case SEV_DGRAM:
        if (ev->src < w->node_count)
            b = ev->src;
        /* fall through */
    case SEV_LINK_SETUP:
        if (!sim_net_setup_may_succeed(w, ev))
            break;
        /* fall through */
    case SEV_LINK_DOWN:
    case SEV_DNS_ANSWER:
    case SEV_STOP_EXPIRED:
    case SEV_NODE_UP:
    case SEV_NODE_EXIT:
        if (ev->node < w->node_count)
            a = ev->node;
        break;
    default:
        return false;
    }
    return (a != UINT32_MAX && live(&w->nodes[a])) || (b != UINT32_MAX && live(&w->nodes[b]));
}

size_t sim_check_stuck(struct sim_world *w, uint32_t *out)
{
    /* Stuck is a property of the whole cluster: while any live node still
     * has something that can move it (a timer it would act on, a message to
     * or from it), it may yet message a waiting node, so nobody is stuck.
     * Keep-alive ticks and membership polls do not count (the protocol says
     * so through timer_can_progress / message_can_progress).  The queue is
     * searched until the first such event, unless the one found last time
     * is still queued and still one (either way the answer is "not stuck"). */
    if (sim_evq_queued(&w->queue, w->mover_slot, w->mover_seq) &&
        moves_live_node(w, sim_evq_get(&w->queue, w->mover_slot)))
        return 0; /* the mover found last time still is one */
    const struct sim_event *mover = sim_evq_find(&w->queue, moves_live_node, w);
    if (mover) {
        w->mover_slot = (uint32_t)(mover - w->queue.slab);
        w->mover_seq = mover->seq;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *node = &w->nodes[i];
        if (live(node) && !w->proto->settled(node->instance))
            out[n++] = (uint32_t)i;
    }
    return n;
}

/* Feeds one observation to the window expectations open now. */
static void watch_windows(struct sim_world *w, bool converged)
{
    bool isolated_known = false, isolated = false;
    for (size_t i = 0; i < w->sc->expect_count; i++) {
        const struct sc_expect *e = &w->sc->expects[i];
        struct sim_window *win = &w->windows[i];
        if (!is_window(e->kind) || w->now < e->from || w->now > e->to)
            continue;
        if (!isolated_known) {
            isolated = all_isolated(w);
            isolated_known = true;
        }
        win->checks++;
        win->converged += converged;
        win->isolated += isolated;
        if (!converged && win->first_miss < 0)
            win->first_miss = w->now;
        if (isolated && win->first_hit < 0)
            win->first_hit = w->now;
    }
}

static void look_for_stuck(struct sim_world *w)
{
    if (w->actions_pending > 0 || w->ever_stuck || w->now < w->last_fault)
        return;
    uint32_t *stuck = malloc((w->node_count ? w->node_count : 1) * sizeof *stuck);
    if (!stuck)
        return;
    size_t n = sim_check_stuck(w, stuck);
    if (n > 0) {
        w->ever_stuck = true;
        w->first_stuck_at = w->now;
        sim_trace_event(&w->trace, w->now, NULL, "stuck", "\"nodes\":%zu", n);
        if (w->sc->limits.stop_when_settled)
            w->stop_requested = true;
    }
    free(stuck);
}

static bool windows_open(const struct sim_world *w)
{
    for (size_t i = 0; i < w->sc->expect_count; i++)
        if (is_window(w->sc->expects[i].kind) && w->now <= w->sc->expects[i].to)
            return true;
    return sim_instants_pending(w);
}

/* Some live node holds work back for a timer of its own (proto work_held). */
static bool work_held(const struct sim_world *w)
{
    for (size_t i = 0; w->proto->work_held && i < w->node_count; i++)
        if (live(&w->nodes[i]) && w->proto->work_held(w->nodes[i].instance))
            return true;
    return false;
}

static void look(struct sim_world *w)
{
    w->checks++;
    bool converged = sim_check_converged(w);
    watch_windows(w, converged);
    if (!converged) {
        w->converged_since = -1;
        look_for_stuck(w);
        return;
    }
    if (w->converged_since < 0)
        w->converged_since = w->now;
    if (w->sc->limits.stop_when_settled && w->actions_pending == 0 && w->now >= w->last_fault &&
        !windows_open(w) && !work_held(w))
        w->stop_requested = true;
}

void sim_check_handle(struct sim_world *w, const struct sim_event *ev)
{
    if (ev->aux == CHECK_FIRST) {
        schedule_check(w, w->now, CHECK_PERIODIC);
        return;
    }
    if (ev->aux >= CHECK_AT) {
        sim_check_instant(w, ev->aux - CHECK_AT);
        return;
    }
    look(w);
    if (ev->aux == CHECK_ONCE)
        return;
    cs_time next = w->now + w->sc->limits.check_interval;
    if (!w->stop_requested && next <= w->sc->limits.duration)
        schedule_check(w, next, CHECK_PERIODIC);
}

void sim_check_finish(struct sim_world *w)
{
    if (needs_checks(w) && w->now >= w->last_fault)
        look(w);
}
