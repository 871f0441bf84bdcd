/*
 * sim/check_registry.c: the checks of the registry across the cluster: how
 * many names each live node holds and whether they all hold the same
 * registry (nodes left out by `excluding` are not counted, as convergence
 * leaves them out), and the registry expectations judged at given instants
 * (`at`) rather than at the end of the run.
 */
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_check_registries(struct sim_world *w, struct sim_registry_summary *out)
{
    *out = (struct sim_registry_summary){0};
    if (!w->proto->registry_digest)
        return;
    out->has_registry = out->agree = true;
    out->min = SIZE_MAX;
    bool first = true;
    uint64_t sum0 = 0;
    size_t count0 = 0;
    for (size_t i = 0; i < w->node_count; i++) {
        if (w->nodes[i].state != SIM_NODE_UP || (w->excluded && w->excluded[i]))
            continue;
        size_t count, full_count;
        uint64_t sum, full_sum;
        w->proto->registry_digest(w->nodes[i].instance, &count, &sum);
        if (w->proto->registry_digest_full) {
            w->proto->registry_digest_full(w->nodes[i].instance, &full_count, &full_sum);
            out->drift |= full_count != count || full_sum != sum;
        }
        if (first) {
            sum0 = sum;
            count0 = count;
            first = false;
        } else if (sum != sum0 || count != count0) {
            out->agree = false;
        }
        out->min = count < out->min ? count : out->min;
        out->max = count > out->max ? count : out->max;
    }
    if (first)
        out->min = 0;
}

bool sim_registry_verdict(const struct sc_expect *e, const struct sim_registry_summary *s, char *detail,
                          size_t size)
{
    if (!s->has_registry) {
        snprintf(detail, size, "%s", "this protocol has no registry to check");
        return false;
    }
    if (e->kind == SC_EXP_NO_DUPLICATES || e->kind == SC_EXP_DUPLICATES) {
        bool ok = s->agree == (e->kind == SC_EXP_NO_DUPLICATES);
        snprintf(detail, size, "%s (%zu..%zu names per live node)",
                 s->agree ? "every live node holds the same owner for every name"
                          : "live nodes disagree on owners (duplicates or missing names)",
                 s->min, s->max);
        return ok;
    }
    bool ok = s->min >= e->count && s->max <= e->count_max;
    if (e->count == e->count_max)
        snprintf(detail, size, "live nodes hold %zu..%zu names, expected %llu", s->min, s->max,
                 (unsigned long long)e->count);
    else
        snprintf(detail, size, "live nodes hold %zu..%zu names, expected %llu..%llu", s->min, s->max,
                 (unsigned long long)e->count, (unsigned long long)e->count_max);
    return ok;
}

struct find_name {
    const char *name;
    bool found;
    char owner[CS_NODE_NAME_MAX];
};

static void find_entry(void *ctx, const char *name, const char *owner, bool started, const char *ring_owner)
{
    struct find_name *f = ctx;
    (void)started, (void)ring_owner;
    if (!f->found && strcmp(name, f->name) == 0) {
        f->found = true;
        snprintf(f->owner, sizeof f->owner, "%s", owner);
    }
}

bool sim_check_whereis(struct sim_world *w, const struct sc_expect *e, char *detail, size_t size)
{
    if (!w->proto->registry_each) {
        snprintf(detail, size, "%s", "this protocol has no registry to check");
        return false;
    }
    char owner[CS_NODE_NAME_MAX] = "";
    const char *first = NULL;
    for (size_t i = 0; i < w->node_count; i++) {
        if (w->nodes[i].state != SIM_NODE_UP || (w->excluded && w->excluded[i]))
            continue;
        struct find_name f = {.name = e->name};
        w->proto->registry_each(w->nodes[i].instance, false, find_entry, &f);
        if (!f.found) {
            snprintf(detail, size, "%s holds no %s", w->nodes[i].id, e->name);
            return false;
        }
        if (!first) {
            first = w->nodes[i].id;
            snprintf(owner, sizeof owner, "%s", f.owner);
        } else if (strcmp(owner, f.owner) != 0) {
            snprintf(detail, size, "%s says %s is on %s, %s says %s", first, e->name, owner, w->nodes[i].id,
                     f.owner);
            return false;
        }
    }
    if (!first) {
        snprintf(detail, size, "no live node to ask about %s", e->name);
        return false;
    }
    if (e->owner >= 0 && strcmp(owner, w->nodes[e->owner].name) != 0) {
        snprintf(detail, size, "every live node says %s is on %s, expected %s (%s)", e->name, owner,
                 w->nodes[e->owner].id, w->nodes[e->owner].name);
        return false;
    }
    snprintf(detail, size, "every live node says %s is on %s", e->name, owner);
    return true;
}

bool sim_check_losers_killed(struct sim_world *w, char *detail, size_t size)
{
    if (!w->proto->stray_processes) {
        snprintf(detail, size, "%s", "this protocol runs no processes to check");
        return false;
    }
    size_t total = 0;
    char first[160] = "";
    for (size_t i = 0; i < w->node_count; i++) {
        if (w->nodes[i].state != SIM_NODE_UP || (w->excluded && w->excluded[i]))
            continue;
        char name[128];
        size_t n = w->proto->stray_processes(w->nodes[i].instance, name, sizeof name);
        if (n && !total)
            snprintf(first, sizeof first, "%s still runs %s", w->nodes[i].id, name);
        total += n;
    }
    if (total)
        snprintf(detail, size, "%zu processes outlived the names they lost (%s, which its registry gives to "
                 "no process or another)", total, first);
    else
        snprintf(detail, size, "%s", "every running process holds its name: each conflict's loser was killed");
    return total == 0;
}

void sim_check_instant(struct sim_world *w, size_t i)
{
    const struct sc_expect *e = &w->sc->expects[i];
    struct sim_instant *in = &w->instants[i];
    struct sim_registry_summary s;
    char detail[sizeof in->detail - 32];
    bool ok;
    if (e->kind == SC_EXP_WHEREIS) {
        ok = sim_check_whereis(w, e, detail, sizeof detail);
    } else {
        sim_check_registries(w, &s);
        ok = sim_registry_verdict(e, &s, detail, sizeof detail);
    }
    in->judged++;
    if (ok && in->failed == 0) /* keep the first failure's words */
        snprintf(in->detail, sizeof in->detail, "%s", detail);
    if (!ok && in->failed++ == 0) {
        char at[32];
        sim_duration_format(w->now, at, sizeof at);
        snprintf(in->detail, sizeof in->detail, "at %s: %s", at, detail);
    }
}

bool sim_instants_pending(const struct sim_world *w)
{
    for (size_t i = 0; i < w->sc->expect_count; i++)
        for (size_t k = 0; k < w->sc->expects[i].at_count; k++)
            if (w->sc->expects[i].at[k] > w->now)
                return true;
    return false;
}
