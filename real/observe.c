/*
 * real/observe.c: what the real world sees of a run: every poll interval
 * each daemon is probed; the cluster is converged when every live counted
 * node is settled and sees exactly the other live counted nodes (excluded
 * ones see no one) and their registries agree (the simulator's rule,
 * sim/check.c); a live node is stuck when its tracker is not `tracking`
 * and its state key has not moved for the quiet time.  At the end the
 * expectations are judged into a run_result.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../sim/check.h"
#include "../core/grow.h"

bool excluded_node(const struct rr_run *r, size_t i)
{
    for (size_t k = 0; k < r->sc->excluded_count; k++)
        if (r->sc->excluded[k] == i)
            return true;
    return false;
}

static bool has_tracker(const struct rr_run *r)
{
    const struct cluster_config *cfg = scenario_node_config(r->sc, 0);
    return cfg->tracker;
}

static bool sees(const struct rdm_probe *p, const char *name)
{
    for (size_t k = 0; k < p->view_count; k++)
        if (!strcmp(p->view[k], name))
            return true;
    return false;
}

/* The registry summary of the live counted nodes (for the verdicts). */
void rr_registries(const struct rr_run *r, struct sim_registry_summary *s)
{
    memset(s, 0, sizeof *s);
    s->has_registry = has_tracker(r);
    s->agree = true;
    bool first = true;
    size_t count0 = 0;
    uint64_t digest0 = 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct rr_node *n = &r->nodes[i];
        if (!n->up || excluded_node(r, i) || !n->probe.ok)
            continue;
        if (first) {
            count0 = s->min = s->max = n->probe.reg_count;
            digest0 = n->probe.reg_digest;
            first = false;
            continue;
        }
        if (n->probe.reg_count != count0 || n->probe.reg_digest != digest0)
            s->agree = false;
        if (n->probe.reg_count < s->min)
            s->min = n->probe.reg_count;
        if (n->probe.reg_count > s->max)
            s->max = n->probe.reg_count;
    }
}

/* Writes why the cluster is not converged into r->unconverged ("" when it is). */
static bool converged_now(struct rr_run *r)
{
    size_t live = 0;
    for (size_t i = 0; i < r->n; i++)
        live += r->nodes[i].up && !excluded_node(r, i);
    for (size_t i = 0; i < r->n; i++) {
        const struct rr_node *n = &r->nodes[i];
        const char *id = r->sc->cluster.nodes[i].id;
        if (!n->up)
            continue;
        if (!n->probe.ok) {
            snprintf(r->unconverged, sizeof r->unconverged, "%s (%s) does not answer its control socket", id,
                     n->d.name);
            return false;
        }
        if (excluded_node(r, i)) {
            if (n->probe.view_count) {
                snprintf(r->unconverged, sizeof r->unconverged, "%s (%s) is excluded but sees %zu peers", id,
                         n->d.name, n->probe.view_count);
                return false;
            }
            continue;
        }
        bool all = n->probe.settled && n->probe.view_count == live - 1;
        for (size_t j = 0; all && j < r->n; j++)
            if (j != i && r->nodes[j].up && !excluded_node(r, j))
                all = sees(&n->probe, r->nodes[j].d.name);
        if (!all) {
            snprintf(r->unconverged, sizeof r->unconverged, "%s (%s) %s and sees %zu of the %zu other live nodes",
                     id, n->d.name, n->probe.settled ? "is settled" : "is not settled", n->probe.view_count,
                     live - 1);
            return false;
        }
    }
    struct sim_registry_summary s;
    rr_registries(r, &s);
    if (s.has_registry && !s.agree) {
        snprintf(r->unconverged, sizeof r->unconverged, "the live nodes' registries differ (%zu to %zu names)",
                 s.min, s.max);
        return false;
    }
    r->unconverged[0] = '\0';
    return true;
}

static bool all_isolated(const struct rr_run *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->nodes[i].up && r->nodes[i].probe.ok && r->nodes[i].probe.view_count)
            return false;
    return true;
}

static void windows(struct rr_run *r)
{
    bool isolated = all_isolated(r);
    for (size_t i = 0; i < r->sc->expect_count && i < RUN_MAX_EXPECT; i++) {
        const struct sc_expect *e = &r->sc->expects[i];
        struct sim_window *w = &r->windows[i];
        if ((e->kind != SC_EXP_STABLE && e->kind != SC_EXP_UNSTABLE && e->kind != SC_EXP_ISOLATED) ||
            r->now < e->from || r->now > e->to)
            continue;
        if (w->checks == 0)
            w->first_miss = w->first_hit = -1;
        w->checks++;
        w->converged += r->converged;
        w->isolated += isolated;
        if (!r->converged && w->first_miss < 0)
            w->first_miss = r->now;
        if (isolated && w->first_hit < 0)
            w->first_hit = r->now;
    }
}

/* Registry expectations with `at`: judged at the first probe after each instant. */
static void instants(struct rr_run *r)
{
    struct sim_registry_summary s;
    rr_registries(r, &s);
    for (size_t i = 0; i < r->sc->expect_count && i < RUN_MAX_EXPECT; i++) {
        const struct sc_expect *e = &r->sc->expects[i];
        struct rr_instant *in = &r->instants[i];
        while (in->judged < e->at_count && e->at[in->judged] <= r->now) {
            char detail[256];
            bool ok = sim_registry_verdict(e, &s, detail, sizeof detail);
            if (!ok && !in->failed)
                snprintf(in->detail, sizeof in->detail, "at %.3fs: %s", (double)e->at[in->judged] / 1e9, detail);
            else if (ok && !in->failed)
                snprintf(in->detail, sizeof in->detail, "%s", detail);
            in->failed += !ok;
            in->judged++;
        }
    }
}

static void stuck(struct rr_run *r)
{
    bool before = r->ever_stuck;
    size_t count = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct rr_node *n = &r->nodes[i];
        if (!n->up || !n->probe.ok || !n->probe.tracker[0])
            continue;
        char key[600];
        snprintf(key, sizeof key, "%s|%s", n->probe.tracker, n->probe.state_key);
        if (strcmp(key, n->last_key)) {
            snprintf(n->last_key, sizeof n->last_key, "%s", key);
            n->last_change = r->now;
        }
        bool quiet = strcmp(n->probe.tracker, "tracking") && r->now - n->last_change >= r->opt.quiet;
        count += quiet;
        if (quiet && !r->ever_stuck) {
            r->ever_stuck = true;
            r->first_stuck_at = r->now;
        }
    }
    if (r->ever_stuck && !before)
        rt_stuck(r, count);
}

void rr_observe(struct rr_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct rr_node *n = &r->nodes[i];
        char previous[sizeof n->probe.tracker];
        snprintf(previous, sizeof previous, "%s", n->probe.ok ? n->probe.tracker : "");
        rdm_probe_free(&n->probe);
        if (n->d.pid > 0)
            rdm_probe(&n->d, &n->probe);
        else
            memset(&n->probe, 0, sizeof n->probe);
        if (!((const struct cluster_config *)scenario_node_config(r->sc, i))->tracker)
            n->probe.tracker[0] = '\0'; /* the dump is membership's: no tracker state to read */
        if (n->d.pid > 0)
            rt_probe(r, i, previous);
    }
    r->probes++;
    r->converged = converged_now(r);
    if (!r->converged)
        r->converged_since = -1;
    else if (r->converged_since < 0)
        r->converged_since = r->now;
    windows(r);
    instants(r);
    stuck(r);
}

bool rr_settled(const struct rr_run *r, bool events_left)
{
    bool pending = false;
    for (size_t k = 0; k < r->ev_count && !pending; k++)
        pending = r->ev[k].kind == RR_KILL_LATE ? r->nodes[r->ev[k].node].stopping
                  : r->ev[k].kind == RR_BREAK   ? r->net.cut_count > 0 /* moot once healed */
                                                : true;
    (void)events_left;
    if (pending || r->now < r->last_fault)
        return false;
    return r->converged || r->ever_stuck;
}

void rr_note_reply(void *ctx, const struct rdm_reply *rep)
{
    struct rr_run *r = ctx;
    if (cs_grow((void **)&r->replies, &r->reply_cap, r->reply_count + 1, sizeof *r->replies) != 0)
        return;
    r->replies[r->reply_count++] = *rep;
}
