/*
 * drivers/runner.c: builds a world for (scenario, seed), runs it, and judges the
 * expectations from what the checkers saw.
 */
#include "runner.h"

#ifndef CS_CHECK_INTERNAL
#define CS_CHECK_INTERNAL 0 /* the sanitizer build sets it: checks after every event */
#endif

#include "../shims/sim/sim_env.h"
#include "../sim/check.h"
#include "../sim/invariants.h"
#include "../sim/registry_diff.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *sc_expect_name(enum sc_expect_kind kind)
{
    static const char *const names[] = {"converged", "stuck", "not_stuck", "no_duplicates",
                                        "stuck_fraction", "stable", "unstable", "isolated",
                                        "registered", "reply", "duplicates", "no_loss",
                                        "placement", "whereis", "losers_killed"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void judge_converged(const struct run_result *res, const struct sc_expect *e,
                            struct run_expect_result *r)
{
    char within[32], took[32];
    sim_duration_format(e->within, within, sizeof within);
    if (res->last_fault > res->end_time) {
        snprintf(r->detail, sizeof r->detail, "the last fault (at %.3fs) is after the end of the "
                 "run: raise limits.duration", (double)res->last_fault / 1e9);
        return;
    }
    if (!res->converged) {
        snprintf(r->detail, sizeof r->detail, "not converged at the end of the run: %s",
                 res->unconverged);
        return;
    }
    sim_duration_format(res->converged_after, took, sizeof took);
    r->ok = res->converged_after <= e->within;
    snprintf(r->detail, sizeof r->detail, "converged %s after the last fault (limit %s)", took, within);
}

/* converged with a quantile is judged over the seed range by the caller;
 * each seed only reports its time. */
static void note_converged(const struct run_result *res, const struct sc_expect *e, struct run_expect_result *r)
{
    judge_converged(res, e, r);
    r->ok = true;
    r->per_seed = false;
}

static void judge_window(const struct sc_expect *e, const struct sim_window *win,
                         struct run_expect_result *r)
{
    char from[32], to[32];
    sim_duration_format(e->from, from, sizeof from);
    sim_duration_format(e->to, to, sizeof to);
    if (win->checks == 0) {
        snprintf(r->detail, sizeof r->detail, "no check ran in %s..%s (did the run end early?)", from, to);
        return;
    }
    double share = 100.0 * (double)win->converged / (double)win->checks;
    switch (e->kind) {
    case SC_EXP_STABLE:
        r->ok = win->first_miss < 0;
        if (r->ok)
            snprintf(r->detail, sizeof r->detail, "converged at all %zu checks in %s..%s", win->checks,
                     from, to);
        else
            snprintf(r->detail, sizeof r->detail,
                     "not converged at %.3fs; converged at %zu of %zu checks (%.0f%%) in %s..%s",
                     (double)win->first_miss / 1e9, win->converged, win->checks, share, from, to);
        break;
    case SC_EXP_UNSTABLE:
        r->ok = win->first_miss >= 0;
        snprintf(r->detail, sizeof r->detail, "converged at %zu of %zu checks (%.0f%%) in %s..%s",
                 win->converged, win->checks, share, from, to);
        break;
    default:
        r->ok = win->first_hit >= 0;
        if (r->ok)
            snprintf(r->detail, sizeof r->detail, "every live node isolated from %.3fs (%zu of %zu checks)",
                     (double)win->first_hit / 1e9, win->isolated, win->checks);
        else
            snprintf(r->detail, sizeof r->detail, "some node always had peers in %s..%s", from, to);
        break;
    }
}

/* The last reply of a node to an op on a name. */
static const struct sim_reply *last_reply(const struct sim_world *w, const struct sc_expect *e)
{
    for (size_t i = w->reply_count; i-- > 0;) {
        const struct sim_reply *r = &w->replies[i];
        if (r->node == e->node && !strcmp(r->op, e->op) && !strcmp(r->name, e->name))
            return r;
    }
    return NULL;
}

static void judge_reply(const struct sim_world *w, const struct sc_expect *e,
                        struct run_expect_result *r)
{
    const struct sim_reply *got = last_reply(w, e);
    const char *id = w->nodes[e->node].id;
    if (!got) {
        snprintf(r->detail, sizeof r->detail, "%s never answered %s %s", id, e->op, e->name);
        return;
    }
    const char *want_owner = e->owner >= 0 ? w->nodes[e->owner].name : NULL;
    r->ok = !strcmp(got->status, e->status) && (!want_owner || !strcmp(got->owner, want_owner)) &&
            (!e->has_value || got->value == e->value);
    snprintf(r->detail, sizeof r->detail, "%s %s %s at %.3fs -> %s%s%s (%lld)%s", id, e->op, e->name,
             (double)got->at / 1e9, got->status, got->owner[0] ? " on " : "", got->owner,
             (long long)got->value, r->ok ? "" : ", not what was expected");
}

static void judge_registry(struct sim_world *w, size_t i, const struct run_result *res,
                           struct run_expect_result *r)
{
    const struct sc_expect *e = &w->sc->expects[i];
    if (e->kind == SC_EXP_WHEREIS && e->at_count == 0) {
        r->ok = sim_check_whereis(w, e, r->detail, sizeof r->detail);
        return;
    }
    if (e->at_count == 0) {
        struct sim_registry_summary s = {.has_registry = res->has_registry, .agree = res->registries_agree,
                                         .min = res->registry_min, .max = res->registry_max};
        r->ok = sim_registry_verdict(e, &s, r->detail, sizeof r->detail);
        return;
    }
    const struct sim_instant *in = &w->instants[i];
    r->ok = in->judged == e->at_count && in->failed == 0;
    if (in->judged < e->at_count)
        snprintf(r->detail, sizeof r->detail, "judged at %u of %u instants: the run ended first", in->judged,
                 (unsigned)e->at_count);
    else if (in->failed)
        snprintf(r->detail, sizeof r->detail, "%u of %u instants failed; %s", in->failed, (unsigned)e->at_count,
                 in->detail);
    else
        snprintf(r->detail, sizeof r->detail, "at each of %u instants: %s", (unsigned)e->at_count, in->detail);
}

/* No loss and placement are judged on a converged cluster only: elsewhere
 * registries legitimately differ, and `converged` reports that failure. */
static void judge_invariant(struct sim_world *w, const struct sc_expect *e, const struct run_result *res,
                            struct run_expect_result *r)
{
    if (!res->converged) {
        r->ok = true;
        snprintf(r->detail, sizeof r->detail, "%s", "not judged: the cluster did not converge");
        return;
    }
    if (e->kind == SC_EXP_LOSERS_KILLED)
        r->ok = sim_check_losers_killed(w, r->detail, sizeof r->detail);
    else
        r->ok = e->kind == SC_EXP_NO_LOSS ? sim_check_no_loss(w, r->detail, sizeof r->detail)
                                          : sim_check_placement(w, r->detail, sizeof r->detail);
}

/* A run a budget stopped fails, whatever its expectations said: it never
 * reached the end it was written for. */
static void budget_verdict(const struct scenario *sc, const struct sim_world *w, struct run_result *res)
{
    char vt[32], wall[32];
    sim_duration_format(w->now, vt, sizeof vt);
    sim_duration_format(sc->limits.wall, wall, sizeof wall);
    if (w->budget_hit == SIM_BUDGET_EVENTS)
        snprintf(res->budget, sizeof res->budget, "stopped by the event budget: %llu events (limits.max_events) at %s",
                 (unsigned long long)sc->limits.max_events, vt);
    else if (w->budget_hit == SIM_BUDGET_WALL)
        snprintf(res->budget, sizeof res->budget, "stopped by the wall-clock budget: %s (limits.wall) at %s", wall, vt);
    if (res->budget[0])
        res->pass = false;
    if (w->internal_failure[0]) {
        snprintf(res->internal, sizeof res->internal, "internal consistency broken: %s", w->internal_failure);
        res->pass = false;
    }
}

static bool has_adversary(const struct scenario *sc)
{
    for (size_t i = 0; i < sc->action_count; i++)
        if (sc->actions[i].kind == SC_ACT_ADVERSARY)
            return true;
    return false;
}

static void judge(const struct scenario *sc, struct sim_world *w, struct run_result *res)
{
    res->pass = true;
    for (size_t i = 0; i < sc->expect_count && i < RUN_MAX_EXPECT; i++) {
        const struct sc_expect *e = &sc->expects[i];
        struct run_expect_result *r = &res->expects[res->expect_count++];
        r->kind = e->kind;
        r->pos = e->pos;
        r->per_seed = true;
        if (!sc_expect_in_world(e, SC_WORLD_SIM)) {
            r->ok = true;
            snprintf(r->detail, sizeof r->detail, "judged in the real world only");
            continue;
        }
        switch (e->kind) {
        case SC_EXP_CONVERGED:
            if (e->quantile > 0)
                note_converged(res, e, r);
            else
                judge_converged(res, e, r);
            break;
        case SC_EXP_STUCK:
            r->ok = res->stuck;
            if (res->stuck)
                snprintf(r->detail, sizeof r->detail, "stuck, as expected%s%s",
                         res->wait_for[0] ? "; waits: " : "", res->wait_for);
            else
                snprintf(r->detail, sizeof r->detail, "%s", "no node got stuck");
            break;
        case SC_EXP_NOT_STUCK:
            r->ok = !res->stuck;
            snprintf(r->detail, sizeof r->detail, "%s", res->stuck ? "a node got stuck"
                                                                   : "no node got stuck");
            break;
        case SC_EXP_NO_DUPLICATES:
        case SC_EXP_DUPLICATES:
        case SC_EXP_REGISTERED:
        case SC_EXP_WHEREIS:
            judge_registry(w, i, res, r);
            break;
        case SC_EXP_REPLY:
            judge_reply(w, e, r);
            break;
        case SC_EXP_NO_LOSS:
        case SC_EXP_PLACEMENT:
        case SC_EXP_LOSERS_KILLED:
            judge_invariant(w, e, res, r);
            break;
        case SC_EXP_STABLE:
        case SC_EXP_UNSTABLE:
        case SC_EXP_ISOLATED:
            judge_window(e, &res->windows[i], r);
            break;
        case SC_EXP_STUCK_FRACTION:
            r->ok = true;
            r->per_seed = false;
            snprintf(r->detail, sizeof r->detail, "%s", res->stuck ? "stuck" : "not stuck");
            break;
        case SC_EXP_KIND_COUNT:
            break;
        }
        if (r->per_seed && !r->ok)
            res->pass = false;
    }
}

static char *join_lines(const char *const *lines, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(lines[i]);
    char *out = malloc(total);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(out, lines[i]);
    return out;
}

/* The node a stuck node waits for, by the protocol's own account. */
static int waits_on(struct sim_world *w, uint32_t i)
{
    if (!w->proto->waiting_for || !w->nodes[i].instance)
        return -1;
    const char *peer = w->proto->waiting_for(w->nodes[i].instance);
    for (size_t j = 0; peer && j < w->node_count; j++)
        if (sim_node_alive(&w->nodes[j]) && strcmp(w->nodes[j].name, peer) == 0)
            return (int)j;
    return -1;
}

/* Follows the wait-for edges from each stuck node; writes the first cycle
 * found ("n1 -> n2 -> n3 -> n1"), or the longest chain when there is none. */
static void wait_for_graph(struct sim_world *w, const uint32_t *stuck, size_t n, char *out, size_t size)
{
    out[0] = '\0';
    size_t best = 0;
    for (size_t s = 0; s < n; s++) {
        uint32_t path[64];
        size_t len = 0;
        int cur = (int)stuck[s];
        int cycle_at = -1;
        while (cur >= 0 && len < 64) {
            for (size_t k = 0; k < len && cycle_at < 0; k++)
                if (path[k] == (uint32_t)cur)
                    cycle_at = (int)k;
            if (cycle_at >= 0)
                break;
            path[len++] = (uint32_t)cur;
            cur = waits_on(w, (uint32_t)cur);
        }
        if (len < 2 && cycle_at < 0)
            continue;
        size_t from = cycle_at >= 0 ? (size_t)cycle_at : 0;
        if (cycle_at < 0 && (len <= best || best == SIZE_MAX))
            continue;
        size_t used = 0;
        for (size_t k = from; k < len; k++)
            used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
                                     k > from ? " -> " : "", w->nodes[path[k]].id);
        if (cycle_at >= 0) {
            snprintf(out + used, used < size ? size - used : 0, " -> %s", w->nodes[path[from]].id);
            return;
        }
        best = len;
    }
}

static void report_stuck(struct sim_world *w, struct run_result *res)
{
    uint32_t *stuck = malloc((w->node_count ? w->node_count : 1) * sizeof *stuck);
    if (!stuck)
        return;
    size_t n = sim_check_stuck(w, stuck);
    size_t cap = 256 + n * 1200, len = 0;
    char *text = n ? malloc(cap) : NULL;
    for (size_t i = 0; text && i < n; i++) {
        struct sim_node *node = &w->nodes[stuck[i]];
        char dump[1024] = "";
        if (w->proto->dump)
            w->proto->dump(node->instance, dump, sizeof dump);
        len += (size_t)snprintf(text + len, cap - len, "  %s (%s): %s\n", node->id, node->name, dump);
    }
    res->stuck_report = text;
    wait_for_graph(w, stuck, n, res->wait_for, sizeof res->wait_for);
    free(stuck);
    /* The last edge of the wait-for graph (waiter -> waited on), for
     * classifying the deadlock. */
    char head[32] = "", tail[32] = "";
    const char *last = strrchr(res->wait_for, ' ');
    snprintf(tail, sizeof tail, "%s", last ? last + 1 : "");
    for (const char *p = res->wait_for, *next; (next = strstr(p, " -> ")); p = next + 4)
        if (!strcmp(next + 4, tail))
            snprintf(head, sizeof head, "%.*s", (int)(next - p), p);
    for (size_t i = 0; w->proto->dump && i < w->node_count; i++) {
        struct sim_node *node = &w->nodes[i];
        if (!node->instance || !sim_node_alive(node))
            continue;
        if (head[0] && !strcmp(node->id, head))
            w->proto->dump(node->instance, res->wait_head, sizeof res->wait_head);
        if (tail[0] && !strcmp(node->id, tail))
            w->proto->dump(node->instance, res->wait_tail, sizeof res->wait_tail);
    }
}

struct entry_list {
    char *buf;
    size_t size, len, count;
};

static void list_entry(void *ctx, const char *name, const char *owner, bool started, const char *ring_owner)
{
    struct entry_list *l = ctx;
    (void)ring_owner;
    if (l->count++ < 16 && l->len < l->size)
        l->len += (size_t)snprintf(l->buf + l->len, l->size - l->len, "%s%s on %s%s", l->count > 1 ? ", " : "",
                                   name, owner, started ? " (started)" : "");
}

/* The first names of a node's registry, for verbose end states. */
static void list_registry(struct sim_world *w, struct sim_node *n, char *buf, size_t size)
{
    struct entry_list l = {buf, size, 0, 0};
    buf[0] = '\0';
    if (w->proto->registry_each)
        w->proto->registry_each(n->instance, false, list_entry, &l);
    if (l.count > 16 && l.len < size)
        snprintf(buf + l.len, size - l.len, ", ... (%zu names)", l.count);
}

/* Every live node's state dump at the end: into the trace (kind "dump")
 * and, for verbose runs, into the result (with the first names of its
 * registry). */
static void final_dumps(struct sim_world *w, struct run_result *res, bool keep)
{
    if (!w->proto->dump || (!w->trace.on && !keep))
        return;
    size_t cap = w->node_count * 2200 + 1, len = 0;
    char *text = keep ? malloc(cap) : NULL;
    if (text)
        text[0] = '\0';
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!sim_node_alive(n) || !n->instance)
            continue;
        char dump[1024], esc[2100];
        w->proto->dump(n->instance, dump, sizeof dump);
        if (w->trace.on) {
            sim_json_escape(dump, esc, sizeof esc);
            sim_trace_event(&w->trace, w->now, n->id, "dump", "\"state\":\"%s\"", esc);
        }
        if (text && len < cap)
            len += (size_t)snprintf(text + len, cap - len, "  %s: %s\n", n->id, dump);
        char names[1024];
        list_registry(w, n, names, sizeof names);
        if (text && len < cap && names[0])
            len += (size_t)snprintf(text + len, cap - len, "      registry: %s\n", names);
    }
    res->final_dumps = text;
}

static void collect_registries(struct sim_world *w, struct run_result *res)
{
    struct sim_registry_summary s;
    sim_check_registries(w, &s);
    res->has_registry = s.has_registry;
    res->registries_agree = s.agree;
    res->registry_min = s.min;
    res->registry_max = s.max;
    res->digest_drift = s.drift;
}

static void collect(struct sim_world *w, struct run_result *res)
{
    collect_registries(w, res);
    if (res->has_registry && !res->registries_agree)
        res->registry_diff = sim_registry_diff(w, 20);
    res->events = w->stats.events;
    res->end_time = w->now;
    res->stats = w->stats;
    res->trace_hash = w->opt.hash ? w->hash : 0;
    res->trace_lines = w->trace.lines;
    res->last_fault = w->last_fault;
    res->converged = sim_check_converged(w);
    res->converged_after = -1;
    if (res->converged && w->converged_since >= 0)
        res->converged_after = w->converged_since > w->last_fault ? w->converged_since - w->last_fault : 0;
    else if (res->converged)
        res->converged_after = w->now - w->last_fault;
    if (!res->converged)
        sim_check_explain(w, res->unconverged, sizeof res->unconverged);
    for (size_t i = 0; w->windows && i < w->sc->expect_count && i < RUN_MAX_EXPECT; i++)
        res->windows[i] = w->windows[i];
    res->stuck = w->ever_stuck;
    res->stuck_at = w->first_stuck_at;
    if (res->stuck)
        report_stuck(w, res);
}

uint64_t run_counter(const struct run_counters *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return c->items[i].value;
    return 0;
}

static void add_counter(void *ctx, const char *name, uint64_t value)
{
    struct run_counters *c = ctx;
    size_t i = 0;
    while (i < c->count && strcmp(c->items[i].name, name) != 0)
        i++;
    if (i == c->count) {
        if (c->count == RUN_MAX_COUNTERS)
            return; /* (more kinds than a report lists) */
        snprintf(c->items[i].name, sizeof c->items[i].name, "%s", name);
        c->items[i].value = 0;
        c->count++;
    }
    c->items[i].value += value;
}

/* The protocol's counters, summed over the nodes live at the end. */
static void sum_counters(struct sim_world *w, struct run_counters *out)
{
    out->count = 0;
    for (size_t i = 0; w->proto->counters && i < w->node_count; i++)
        if (w->nodes[i].instance)
            w->proto->counters(w->nodes[i].instance, add_counter, out);
}

/* The last events of a failed run, from a run again with the trace
 * recorder on: the same run (the trace changes nothing the hash covers),
 * which it checks. */
static void last_events_again(const struct scenario *sc, const struct sim_options *lean, struct run_result *res)
{
    struct sim_options so = *lean;
    so.trace_ring = true;
    so.verbose = false; /* its log lines were printed once */
    struct sim_world *w = sim_world_new(sc, &so);
    if (!w)
        return;
    sim_world_run(w);
    struct run_result scratch = {0};
    final_dumps(w, &scratch, false); /* the lines a run with a trace file ends with */
    uint64_t hash = so.hash ? w->hash : 0;
    bool timed = res->budget[0] || w->budget_hit == SIM_BUDGET_WALL; /* wall time is not the seed's */
    if (!timed && (hash != res->trace_hash || w->stats.events != res->events)) {
        res->pass = false;
        snprintf(res->internal, sizeof res->internal,
                 "nondeterministic: run again with its trace on, the seed gave %llu events and hash %016llx "
                 "(first %llu events, hash %016llx)",
                 (unsigned long long)w->stats.events, (unsigned long long)hash,
                 (unsigned long long)res->events, (unsigned long long)res->trace_hash);
    }
    const char *lines[SIM_TRACE_RING];
    size_t n = sim_trace_last(&w->trace, lines, 20);
    res->last_events = n ? join_lines(lines, n) : NULL;
    sim_world_free(w);
}

int sim_run_scenario(const struct scenario *sc, const struct run_options *opt, struct run_result *res)
{
    memset(res, 0, sizeof *res);
    res->seed = opt->seed;
    struct sim_options so = {
        .seed = opt->seed, .trace_file = opt->trace_file, .hash = opt->trace_hash,
        .trace_ring = opt->trace_file != NULL, /* the lines are formatted anyway */
        .verbose = opt->verbose, .sample_every = opt->sample_every, .proto = opt->proto, .proto_config = opt->proto_config,
        .bind_env = sim_env_bind, .ring_memo = opt->ring_memo,
        .check_internal = opt->check_internal || CS_CHECK_INTERNAL || has_adversary(sc),
    };
    double start = wall_now();
    struct sim_world *w = sim_world_new(sc, &so);
    if (!w)
        return -1;
    sim_world_run(w);
    res->wall_seconds = wall_now() - start;
    final_dumps(w, res, opt->verbose);
    collect(w, res);
    if (opt->counters)
        sum_counters(w, &res->counters);
    judge(sc, w, res);
    budget_verdict(sc, w, res);
    if (!res->pass || res->stuck) {
        const char *lines[SIM_TRACE_RING];
        size_t n = sim_trace_last(&w->trace, lines, 20);
        res->last_events = n ? join_lines(lines, n) : NULL;
    }
    sim_world_free(w);
    if (!res->pass && !res->last_events && opt->last_events && !opt->trace_file)
        last_events_again(sc, &so, res);
    return 0;
}

void run_result_free(struct run_result *res)
{
    free(res->stuck_report);
    free(res->last_events);
    free(res->final_dumps);
    free(res->registry_diff);
    res->registry_diff = NULL;
    res->stuck_report = NULL;
    res->last_events = NULL;
    res->final_dumps = NULL;
}
