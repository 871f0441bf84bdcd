/*
 * real/judge.c: the verdicts of a real-world run, from the probes (see
 * observe.c), the command replies and a last round of questions to the
 * live daemons (whereis), into the same run_result a simulated run fills,
 * so that the command line, JUnit and reports treat both worlds alike.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/check.h"

static int node_by_name(const struct rr_run *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->nodes[i].d.pid > 0 && !strcmp(r->nodes[i].d.name, name))
            return (int)i;
    return -1;
}

/* The wait-for chain among stuck nodes ("n1 -> n2 -> n1"), and the dumps of
 * the last waiter and the node it waits on (the mechanism classifier reads
 * them, cli/shrinker.h). */
static void wait_for(const struct rr_run *r, struct run_result *res)
{
    for (size_t s = 0; s < r->n; s++) {
        size_t path[64], len = 0;
        int cur = (int)s, cycle = -1;
        while (cur >= 0 && len < 64 && r->nodes[cur].probe.ok && strcmp(r->nodes[cur].probe.tracker, "tracking")) {
            for (size_t k = 0; k < len && cycle < 0; k++)
                if (path[k] == (size_t)cur)
                    cycle = (int)k;
            if (cycle >= 0)
                break;
            path[len++] = (size_t)cur;
            cur = node_by_name(r, r->nodes[cur].probe.waiting_for);
        }
        if (len < 2)
            continue;
        size_t from = cycle >= 0 ? (size_t)cycle : 0, used = 0;
        for (size_t k = from; k < len; k++)
            used += (size_t)snprintf(res->wait_for + used, used < sizeof res->wait_for ? sizeof res->wait_for - used : 0,
                                     "%s%s", k > from ? " -> " : "", r->sc->cluster.nodes[path[k]].id);
        if (cycle >= 0)
            snprintf(res->wait_for + used, used < sizeof res->wait_for ? sizeof res->wait_for - used : 0, " -> %s",
                     r->sc->cluster.nodes[path[from]].id);
        const struct rdm_probe *head = &r->nodes[path[len - 1]].probe;
        int tail = node_by_name(r, head->waiting_for);
        snprintf(res->wait_head, sizeof res->wait_head, "%s", head->dump ? head->dump : "");
        if (tail >= 0 && r->nodes[tail].probe.dump)
            snprintf(res->wait_tail, sizeof res->wait_tail, "%s", r->nodes[tail].probe.dump);
        if (cycle >= 0)
            return;
    }
}

static void stuck_report(const struct rr_run *r, struct run_result *res)
{
    size_t cap = 1, used = 0;
    for (size_t i = 0; i < r->n; i++)
        cap += 200 + (r->nodes[i].probe.dump ? strlen(r->nodes[i].probe.dump) : 0);
    char *out = malloc(cap);
    for (size_t i = 0; out && i < r->n; i++) {
        const struct rr_node *n = &r->nodes[i];
        if (n->up && n->probe.ok && n->probe.tracker[0] && strcmp(n->probe.tracker, "tracking"))
            used += (size_t)snprintf(out + used, cap - used, "  %s (%s): %s\n", r->sc->cluster.nodes[i].id,
                                     n->d.name, n->probe.dump ? n->probe.dump : "");
    }
    if (out && used == 0) {
        free(out);
        out = NULL;
    }
    res->stuck_report = out;
}

static void judge_converged(const struct rr_run *r, const struct run_result *res, const struct sc_expect *e,
                            struct run_expect_result *x)
{
    if (!res->converged) {
        snprintf(x->detail, sizeof x->detail, "not converged at the end of the run: %s", r->unconverged);
        return;
    }
    x->ok = res->converged_after <= e->within;
    snprintf(x->detail, sizeof x->detail, "converged %.3fs after the last fault (limit %.3fs)",
             (double)res->converged_after / 1e9, (double)e->within / 1e9);
    if (e->quantile > 0) {
        x->ok = true;
        x->per_seed = false;
    }
}

/* Every live counted node answers whereis NAME with one same owner. */
static void judge_whereis(const struct rr_run *r, const struct sc_expect *e, struct run_expect_result *x)
{
    char first[128] = "", req[200];
    snprintf(req, sizeof req, "whereis\t%s\n", e->name);
    size_t asked = 0;
    x->ok = true;
    for (size_t i = 0; i < r->n && x->ok; i++) {
        if (!r->nodes[i].up || excluded_node(r, i))
            continue;
        char *line = rdm_ask(r->nodes[i].d.sock, req);
        json_t *o = line ? json_loads(line, 0, NULL) : NULL;
        const char *owner = json_string_value(json_object_get(o, "owner"));
        const char *status = json_string_value(json_object_get(o, "status"));
        if (!status || strcmp(status, "ok") || !owner) {
            x->ok = false;
            snprintf(x->detail, sizeof x->detail, "%s answers whereis %s: %s", r->sc->cluster.nodes[i].id, e->name,
                     status ? status : "nothing");
        } else if (asked++ == 0) {
            snprintf(first, sizeof first, "%s", owner);
        } else if (strcmp(first, owner)) {
            x->ok = false;
            snprintf(x->detail, sizeof x->detail, "owners differ: %s and %s", first, owner);
        }
        json_decref(o);
        free(line);
    }
    if (x->ok && e->owner >= 0 && strcmp(first, r->nodes[e->owner].d.name)) {
        x->ok = false;
        snprintf(x->detail, sizeof x->detail, "every node says %s, not %s", first, r->nodes[e->owner].d.name);
    } else if (x->ok) {
        snprintf(x->detail, sizeof x->detail, "%zu live nodes agree: %s is on %s", asked, e->name, first);
    }
}

static void judge_reply(const struct rr_run *r, const struct sc_expect *e, struct run_expect_result *x)
{
    const struct rdm_reply *got = NULL;
    for (size_t i = r->reply_count; i-- > 0 && !got;)
        if (r->replies[i].node == e->node && !strcmp(r->replies[i].op, e->op) && !strcmp(r->replies[i].name, e->name))
            got = &r->replies[i];
    const char *id = r->sc->cluster.nodes[e->node].id;
    if (!got) {
        snprintf(x->detail, sizeof x->detail, "%s never answered %s %s", id, e->op, e->name);
        return;
    }
    const char *want_owner = e->owner >= 0 ? r->nodes[e->owner].d.name : NULL;
    x->ok = !strcmp(got->status, e->status) && (!want_owner || !strcmp(got->owner, want_owner)) &&
            (!e->has_value || got->value == e->value);
    snprintf(x->detail, sizeof x->detail, "%s %s %s at %.3fs -> %s%s%s (%lld)%s", id, e->op, e->name,
             (double)got->at / 1e9, got->status, got->owner[0] ? " on " : "", got->owner, (long long)got->value,
             x->ok ? "" : ", not what was expected");
}

static void judge_window(const struct sc_expect *e, const struct sim_window *w, struct run_expect_result *x)
{
    if (w->checks == 0) {
        snprintf(x->detail, sizeof x->detail, "no probe ran in %.3fs..%.3fs", (double)e->from / 1e9,
                 (double)e->to / 1e9);
        return;
    }
    if (e->kind == SC_EXP_STABLE)
        x->ok = w->first_miss < 0;
    else if (e->kind == SC_EXP_UNSTABLE)
        x->ok = w->first_miss >= 0;
    else
        x->ok = w->first_hit >= 0;
    snprintf(x->detail, sizeof x->detail, "converged at %zu of %zu probes, every node isolated at %zu", w->converged,
             w->checks, w->isolated);
}

static void judge_one(struct rr_run *r, size_t i, const struct run_result *res, struct run_expect_result *x)
{
    const struct sc_expect *e = &r->sc->expects[i];
    struct sim_registry_summary s;
    switch (e->kind) {
    case SC_EXP_CONVERGED: judge_converged(r, res, e, x); break;
    case SC_EXP_STUCK:
        x->ok = res->stuck;
        snprintf(x->detail, sizeof x->detail, "%s%s%s", res->stuck ? "stuck, as expected" : "no node got stuck",
                 res->wait_for[0] ? "; waits: " : "", res->wait_for);
        break;
    case SC_EXP_NOT_STUCK:
        x->ok = !res->stuck;
        snprintf(x->detail, sizeof x->detail, "%s", res->stuck ? "a node got stuck" : "no node got stuck");
        break;
    case SC_EXP_NO_DUPLICATES:
    case SC_EXP_DUPLICATES:
    case SC_EXP_REGISTERED:
        if (e->at_count) {
            const struct rr_instant *in = &r->instants[i];
            x->ok = in->judged == e->at_count && in->failed == 0;
            snprintf(x->detail, sizeof x->detail, "judged at %u of %u instants, %u failed: %s", in->judged,
                     (unsigned)e->at_count, in->failed, in->detail);
        } else {
            struct sim_registry_summary *sp = &s;
            memset(sp, 0, sizeof *sp);
            sp->has_registry = res->has_registry;
            sp->agree = res->registries_agree;
            sp->min = res->registry_min;
            sp->max = res->registry_max;
            x->ok = sim_registry_verdict(e, sp, x->detail, sizeof x->detail);
        }
        break;
    case SC_EXP_WHEREIS: judge_whereis(r, e, x); break;
    case SC_EXP_REPLY: judge_reply(r, e, x); break;
    case SC_EXP_STABLE:
    case SC_EXP_UNSTABLE:
    case SC_EXP_ISOLATED: judge_window(e, &r->windows[i], x); break;
    case SC_EXP_STUCK_FRACTION:
        x->ok = true;
        x->per_seed = false;
        snprintf(x->detail, sizeof x->detail, "%s", res->stuck ? "stuck" : "not stuck");
        break;
    default:
        snprintf(x->detail, sizeof x->detail, "%s", "not judged in the real world");
        break;
    }
}

void rr_judge(struct rr_run *r, struct run_result *res)
{
    res->events = r->probes;
    res->converged = r->converged;
    res->converged_after = r->converged && r->converged_since >= 0
                               ? (r->converged_since > r->last_fault ? r->converged_since - r->last_fault : 0)
                               : -1;
    snprintf(res->unconverged, sizeof res->unconverged, "%s", r->unconverged);
    res->stuck = r->ever_stuck;
    res->stuck_at = r->first_stuck_at;
    struct sim_registry_summary s;
    rr_registries(r, &s);
    res->has_registry = s.has_registry;
    res->registries_agree = s.agree;
    res->registry_min = s.min;
    res->registry_max = s.max;
    if (res->stuck) {
        wait_for(r, res);
        stuck_report(r, res);
    }
    res->pass = true;
    for (size_t i = 0; i < r->sc->expect_count && i < RUN_MAX_EXPECT; i++) {
        struct run_expect_result *x = &res->expects[res->expect_count++];
        x->kind = r->sc->expects[i].kind;
        x->pos = r->sc->expects[i].pos;
        x->per_seed = true;
        if (!sc_expect_in_world(&r->sc->expects[i], SC_WORLD_REAL)) {
            x->ok = true;
            snprintf(x->detail, sizeof x->detail, "judged in the simulator only");
            continue;
        }
        judge_one(r, i, res, x);
        if (x->per_seed && !x->ok)
            res->pass = false;
    }
}
