/*
 * sim/check.c: convergence and stuck detection.  Views are compared as
 * order-independent sums of XXH3 name hashes, so a check costs one hash per
 * view entry and never depends on container order.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static bool needs_checks(const struct sim_world *w)
{
    const struct scenario *sc = w->sc;
    return sc->expect_count > 0 || sc->limits.stop_when_settled;
}

int sim_check_schedule(struct sim_world *w)
{
    if (!needs_checks(w))
        return 0;
    struct sim_event ev = {.time = w->last_fault, .kind = SEV_CHECK, .node = UINT32_MAX,
                           .src = UINT32_MAX};
    return sim_schedule(w, &ev) < 0 ? -1 : 0;
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

/* Returns the first node that disagrees, or -1 when converged. */
static int first_unconverged(struct sim_world *w, bool *unsettled)
{
    uint64_t total = 0;
    size_t live_count = 0;
    for (size_t i = 0; i < w->node_count; i++)
        if (live(&w->nodes[i])) {
            total += XXH3_64bits(w->nodes[i].name, strlen(w->nodes[i].name));
            live_count++;
        }
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!live(n))
            continue;
        if (!w->proto->settled(n->instance)) {
            *unsettled = true;
            return (int)i;
        }
        struct view_sum v = {0, 0};
        w->proto->view(n->instance, view_add, &v);
        if (v.count != live_count - 1 || v.sum != total - XXH3_64bits(n->name, strlen(n->name))) {
            *unsettled = false;
            return (int)i;
        }
    }
    return -1;
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
    struct view_sum v = {0, 0};
    w->proto->view(w->nodes[i].instance, view_add, &v);
    size_t live_count = 0;
    for (size_t j = 0; j < w->node_count; j++)
        live_count += live(&w->nodes[j]);
    if (unsettled)
        snprintf(buf, size, "%s (%s) is not settled", w->nodes[i].id, w->nodes[i].name);
    else
        snprintf(buf, size, "%s (%s) sees %zu peers, %zu other nodes are live", w->nodes[i].id,
                 w->nodes[i].name, v.count, live_count - 1);
}

struct pending_scan {
    struct sim_world *w;
    uint8_t *busy;
};

static void mark_pending(void *ctx, const struct sim_event *ev)
{
    struct pending_scan *s = ctx;
    struct sim_world *w = s->w;
    switch (ev->kind) {
    case SEV_TIMER: {
        const struct sim_node *n = &w->nodes[ev->node];
        if (n->incarnation != ev->incarnation || !n->instance)
            return;
        if (!w->proto->timer_can_progress || w->proto->timer_can_progress(n->instance, ev->tag))
            s->busy[ev->node] = 1;
        return;
    }
    case SEV_LINK_MSG:
    case SEV_DGRAM:
        if (ev->src < w->node_count)
            s->busy[ev->src] = 1;
        /* fall through */
    case SEV_LINK_SETUP:
    case SEV_LINK_DOWN:
    case SEV_DNS_ANSWER:
    case SEV_STOP_EXPIRED:
    case SEV_NODE_UP:
    case SEV_NODE_EXIT:
        if (ev->node < w->node_count)
            s->busy[ev->node] = 1;
        return;
    default:
        return;
    }
}

size_t sim_check_stuck(struct sim_world *w, uint32_t *out)
{
    uint8_t *busy = calloc(w->node_count ? w->node_count : 1, 1);
    if (!busy)
        return 0;
    struct pending_scan scan = {w, busy};
    sim_evq_each(&w->queue, mark_pending, &scan);
    size_t n = 0;
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *node = &w->nodes[i];
        if (live(node) && !busy[i] && !w->proto->settled(node->instance))
            out[n++] = (uint32_t)i;
    }
    free(busy);
    return n;
}

static void look(struct sim_world *w)
{
    if (sim_check_converged(w)) {
        if (w->converged_since < 0)
            w->converged_since = w->now;
        if (w->sc->limits.stop_when_settled && w->actions_pending == 0)
            w->stop_requested = true;
        return;
    }
    w->converged_since = -1;
    if (w->actions_pending > 0 || w->ever_stuck)
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

void sim_check_handle(struct sim_world *w, const struct sim_event *ev)
{
    (void)ev;
    look(w);
    cs_time next = w->now + w->sc->limits.check_interval;
    if (!w->stop_requested && next <= w->sc->limits.duration) {
        struct sim_event again = {.time = next, .kind = SEV_CHECK, .node = UINT32_MAX,
                                  .src = UINT32_MAX};
        sim_schedule(w, &again);
    }
}

void sim_check_finish(struct sim_world *w)
{
    if (needs_checks(w) && w->now >= w->last_fault)
        look(w);
}
