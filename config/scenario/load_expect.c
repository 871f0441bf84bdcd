/*
 * config/scenario/load_expect.c: the `expect` section of a scenario file:
 * one expectation per list entry, each checked at the end of the run, over
 * a window (stable, unstable, isolated), at given instants (`at` on the
 * registry expectations) or over the seed range (stuck_fraction).
 */
#include "load_util.h"

#include <stdlib.h>
#include <string.h>

/* {step: N, after: T}: T after the (first occurrence of the) N-th
 * timeline entry, counted from 1 in the order the file lists them. */
static bool ld_step_instant(struct sc_load *ld, const yaml_node_t *n, cs_time *out)
{
    static const char *const keys[] = {"step", "after", NULL};
    if (!yr_check_map(&ld->rd, n, "an instant", keys))
        return false;
    yaml_node_t *sv = yr_get(&ld->rd, n, "step"), *av = yr_get(&ld->rd, n, "after");
    if (!sv) {
        yr_error(&ld->rd, n, "expected 'step' (a timeline entry, counted from 1) in an instant");
        return false;
    }
    uint64_t step;
    cs_time after = 0;
    if (!yr_uint(&ld->rd, sv, UINT32_MAX, &step) || (av && !yr_duration(&ld->rd, av, false, &after)))
        return false;
    if (step < 1 || step > ld->sc->action_count) {
        yr_error(&ld->rd, sv, "expected a timeline entry between 1 and %zu", ld->sc->action_count);
        return false;
    }
    *out = ld->sc->actions[step - 1].at + after;
    return true;
}

static bool ld_instant(struct sc_load *ld, const yaml_node_t *n, struct sc_expect *e)
{
    if (e->at_count == SC_EXPECT_AT_MAX) {
        yr_error(&ld->rd, n, "expected at most %d instants in 'at'", SC_EXPECT_AT_MAX);
        return false;
    }
    cs_time t;
    if (n->type == YAML_MAPPING_NODE) {
        if (!ld_step_instant(ld, n, &t))
            return false;
    } else if (!yr_duration(&ld->rd, n, false, &t)) {
        return false;
    }
    if (t > ld->sc->limits.duration) {
        yr_error(&ld->rd, n, "this instant comes after the run limit (limits.duration)");
        return false;
    }
    e->at[e->at_count++] = t;
    return true;
}

/* `at`: an instant or a list of them (NULL: none), at which a registry
 * expectation is judged instead of at the end of the run. */
static bool ld_at(struct sc_load *ld, const yaml_node_t *v, struct sc_expect *e)
{
    if (!v)
        return true;
    if (v->type != YAML_SEQUENCE_NODE)
        return ld_instant(ld, v, e);
    if (v->data.sequence.items.top == v->data.sequence.items.start) {
        yr_error(&ld->rd, v, "expected at least one instant in 'at'");
        return false;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        if (!ld_instant(ld, yr_node(&ld->rd, *it), e))
            return false;
    return true;
}

static bool ld_flag_true(struct sc_load *ld, const yaml_node_t *v, const char *key)
{
    bool b;
    if (!yr_bool(&ld->rd, v, &b))
        return false;
    if (!b)
        yr_error(&ld->rd, v, "expected '%s: true' (leave the expectation out instead of false)", key);
    return b;
}

static bool ld_window(struct sc_load *ld, const yaml_node_t *v, const char *key, struct sc_expect *e)
{
    static const char *const wk[] = {"from", "to", NULL};
    if (!yr_check_map(&ld->rd, v, key, wk))
        return false;
    yaml_node_t *from = yr_get(&ld->rd, v, "from"), *to = yr_get(&ld->rd, v, "to");
    if (!from || !to) {
        yr_error(&ld->rd, v, "expected 'from' and 'to' in %s", key);
        return false;
    }
    if (!yr_duration(&ld->rd, from, false, &e->from) || !yr_duration(&ld->rd, to, false, &e->to))
        return false;
    if (e->to < e->from) {
        yr_error(&ld->rd, to, "expected 'to' at or after 'from'");
        return false;
    }
    if (e->to > ld->sc->limits.duration) {
        yr_error(&ld->rd, to, "this window ends after the run limit (limits.duration)");
        return false;
    }
    return true;
}

/* converged: T, or {within: T, quantile: q, excluding: nodes}. */
static bool ld_converged(struct sc_load *ld, const yaml_node_t *v, struct sc_expect *e)
{
    e->kind = SC_EXP_CONVERGED;
    if (v->type == YAML_SCALAR_NODE)
        return yr_duration(&ld->rd, v, false, &e->within);
    static const char *const ck[] = {"within", "quantile", "excluding", NULL};
    if (!yr_check_map(&ld->rd, v, "converged", ck))
        return false;
    yaml_node_t *w = yr_get(&ld->rd, v, "within"), *x = yr_get(&ld->rd, v, "excluding");
    yaml_node_t *q = yr_get(&ld->rd, v, "quantile");
    if (!w) {
        yr_error(&ld->rd, v, "expected 'within' in converged");
        return false;
    }
    if (!yr_duration(&ld->rd, w, false, &e->within))
        return false;
    if (q && !ld_probability(ld, q, &e->quantile))
        return false;
    if (q && e->quantile <= 0) {
        yr_error(&ld->rd, q, "expected a quantile above 0 (such as 0.95)");
        return false;
    }
    if (!x)
        return true;
    if (ld->sc->excluded_count) {
        yr_error(&ld->rd, x, "'excluding' may be given only once per scenario");
        return false;
    }
    struct sc_nodeset set = {0};
    bool ok = ld_nodeset(ld, x, &set);
    if (ok && (set.all || set.random_count)) {
        yr_error(&ld->rd, x, "expected node ids to exclude");
        ok = false;
    }
    ld->sc->excluded = set.idx;
    ld->sc->excluded_count = set.count;
    return ok;
}

/* An expectation's `owner`: a declared node id, into e->owner. */
static bool ld_owner(struct sc_load *ld, const yaml_node_t *x, struct sc_expect *e)
{
    const char *id = yr_scalar(&ld->rd, x, "a node id");
    if (!id)
        return false;
    if ((e->owner = scenario_node_index(ld->sc, id)) < 0) {
        yr_error(&ld->rd, x, "node '%s' is not declared in cluster.nodes", id);
        return false;
    }
    return true;
}

/* reply: {node, op, name, status, owner?, value?} */
static bool ld_reply(struct sc_load *ld, const yaml_node_t *v, struct sc_expect *e)
{
    static const char *const rk[] = {"node", "op", "name", "status", "owner", "value", NULL};
    if (!yr_check_map(&ld->rd, v, "reply", rk))
        return false;
    const char *need[] = {"node", "op", "name", "status"};
    for (size_t i = 0; i < 4; i++)
        if (!yr_get(&ld->rd, v, need[i])) {
            yr_error(&ld->rd, v, "expected '%s' in reply", need[i]);
            return false;
        }
    struct sc_nodeset set = {0};
    bool ok = ld_nodeset(ld, yr_get(&ld->rd, v, "node"), &set);
    if (ok && set.count != 1) {
        yr_error(&ld->rd, yr_get(&ld->rd, v, "node"), "expected one node id");
        ok = false;
    }
    e->node = ok ? set.idx[0] : 0;
    free(set.idx);
    if (!ok || !yr_string(&ld->rd, yr_get(&ld->rd, v, "op"), e->op, sizeof e->op) ||
        !yr_string(&ld->rd, yr_get(&ld->rd, v, "name"), e->name, sizeof e->name) ||
        !yr_string(&ld->rd, yr_get(&ld->rd, v, "status"), e->status, sizeof e->status))
        return false;
    e->owner = -1;
    yaml_node_t *x;
    if ((x = yr_get(&ld->rd, v, "owner")) && !ld_owner(ld, x, e))
        return false;
    if ((x = yr_get(&ld->rd, v, "value"))) {
        double d;
        if (!yr_number(&ld->rd, x, &d))
            return false;
        e->has_value = true;
        e->value = (int64_t)d;
    }
    return true;
}

/* whereis: {name, owner?, at?} */
static bool ld_whereis(struct sc_load *ld, const yaml_node_t *v, struct sc_expect *e)
{
    static const char *const wk[] = {"name", "owner", "at", NULL};
    e->kind = SC_EXP_WHEREIS;
    e->owner = -1;
    if (!yr_check_map(&ld->rd, v, "whereis", wk) || !ld_at(ld, yr_get(&ld->rd, v, "at"), e))
        return false;
    yaml_node_t *x = yr_get(&ld->rd, v, "name");
    if (!x) {
        yr_error(&ld->rd, v, "expected 'name' in whereis");
        return false;
    }
    if (!yr_string(&ld->rd, x, e->name, sizeof e->name))
        return false;
    if ((x = yr_get(&ld->rd, v, "owner")) && !ld_owner(ld, x, e))
        return false;
    return true;
}

static bool has_registry(const struct scenario *sc)
{
    return sc->cluster.protocol == SC_PROTO_CLUSTER && sc->cluster.cluster.tracker;
}

static bool ld_expect(struct sc_load *ld, const yaml_node_t *n, struct sc_expect *e)
{
    static const char *const keys[] = {"converged", "stuck", "not_stuck", "no_duplicates",
                                       "stuck_fraction", "stable", "unstable", "isolated",
                                       "registered", "reply", "duplicates", "no_loss", "placement", "whereis",
                                       "losers_killed", "worlds", NULL};
    if (!yr_check_map(&ld->rd, n, "an expectation", keys))
        return false;
    yaml_node_t *worlds = yr_get(&ld->rd, n, "worlds");
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1 + (worlds != NULL)) {
        yr_error(&ld->rd, n, "expected exactly one expectation per list entry (and `worlds` to narrow where it "
                 "is judged)");
        return false;
    }
    if (worlds) {
        e->worlds_pos = ld_pos(worlds);
        if (!ld_world_list(ld, worlds, &e->worlds))
            return false;
    }
    yaml_node_pair_t *p = n->data.mapping.pairs.start;
    if (!strcmp((const char *)yr_node(&ld->rd, p->key)->data.scalar.value, "worlds"))
        p++;
    const char *key = (const char *)yr_node(&ld->rd, p->key)->data.scalar.value;
    yaml_node_t *v = yr_node(&ld->rd, p->value);
    e->pos = ld_pos(yr_node(&ld->rd, p->key));
    if (!strcmp(key, "converged"))
        return ld_converged(ld, v, e);
    bool needs_registry = !strcmp(key, "registered") || !strcmp(key, "reply") ||
                          !strcmp(key, "no_loss") || !strcmp(key, "placement") || !strcmp(key, "whereis") ||
                          !strcmp(key, "losers_killed");
    if (needs_registry && !has_registry(ld->sc)) {
        yr_error(&ld->rd, v, "%s needs a registry: protocol cluster with a tracker section", key);
        return false;
    }
    if (!strcmp(key, "registered")) {
        e->kind = SC_EXP_REGISTERED;
        if (v->type == YAML_SCALAR_NODE) {
            bool ok = yr_uint(&ld->rd, v, UINT32_MAX, &e->count);
            e->count_max = e->count;
            return ok;
        }
        static const char *const rk[] = {"min", "max", "at", NULL};
        if (!yr_check_map(&ld->rd, v, "registered", rk) || !ld_at(ld, yr_get(&ld->rd, v, "at"), e))
            return false;
        yaml_node_t *mn = yr_get(&ld->rd, v, "min"), *mx = yr_get(&ld->rd, v, "max");
        e->count = 0;
        e->count_max = UINT32_MAX;
        if ((mn && !yr_uint(&ld->rd, mn, UINT32_MAX, &e->count)) ||
            (mx && !yr_uint(&ld->rd, mx, UINT32_MAX, &e->count_max)))
            return false;
        if (e->count > e->count_max) {
            yr_error(&ld->rd, v, "expected min <= max in registered");
            return false;
        }
        return true;
    }
    if (!strcmp(key, "whereis"))
        return ld_whereis(ld, v, e);
    if (!strcmp(key, "reply")) {
        e->kind = SC_EXP_REPLY;
        return ld_reply(ld, v, e);
    }
    if (!strcmp(key, "stable") || !strcmp(key, "unstable") || !strcmp(key, "isolated")) {
        e->kind = !strcmp(key, "stable") ? SC_EXP_STABLE
                  : !strcmp(key, "unstable") ? SC_EXP_UNSTABLE : SC_EXP_ISOLATED;
        return ld_window(ld, v, key, e);
    }
    if (!strcmp(key, "stuck_fraction")) {
        static const char *const fk[] = {"min", "max", NULL};
        e->kind = SC_EXP_STUCK_FRACTION;
        if (!yr_check_map(&ld->rd, v, "stuck_fraction", fk))
            return false;
        yaml_node_t *mn = yr_get(&ld->rd, v, "min"), *mx = yr_get(&ld->rd, v, "max");
        e->min = 0;
        e->max = 1;
        if ((mn && !ld_probability(ld, mn, &e->min)) || (mx && !ld_probability(ld, mx, &e->max)))
            return false;
        if (e->min > e->max) {
            yr_error(&ld->rd, v, "expected min <= max in stuck_fraction");
            return false;
        }
        return true;
    }
    if (!strcmp(key, "no_loss") || !strcmp(key, "placement") || !strcmp(key, "losers_killed")) {
        e->kind = !strcmp(key, "no_loss") ? SC_EXP_NO_LOSS : !strcmp(key, "placement") ? SC_EXP_PLACEMENT
                                                                                       : SC_EXP_LOSERS_KILLED;
        return ld_flag_true(ld, v, key);
    }
    e->kind = !strcmp(key, "stuck") ? SC_EXP_STUCK
              : !strcmp(key, "not_stuck") ? SC_EXP_NOT_STUCK
              : !strcmp(key, "duplicates") ? SC_EXP_DUPLICATES : SC_EXP_NO_DUPLICATES;
    if ((e->kind == SC_EXP_NO_DUPLICATES || e->kind == SC_EXP_DUPLICATES) && !has_registry(ld->sc)) {
        yr_error(&ld->rd, v, "no_duplicates needs a protocol with a registry; '%s' has none",
                 ld->sc->cluster.protocol == SC_PROTO_PING ? "ping" : "cluster (membership only)");
        return false;
    }
    if ((e->kind == SC_EXP_NO_DUPLICATES || e->kind == SC_EXP_DUPLICATES) && v->type == YAML_MAPPING_NODE) {
        static const char *const dk[] = {"at", NULL};
        if (!yr_check_map(&ld->rd, v, key, dk))
            return false;
        if (!yr_get(&ld->rd, v, "at")) {
            yr_error(&ld->rd, v, "expected 'at' in %s (or write '%s: true')", key, key);
            return false;
        }
        return ld_at(ld, yr_get(&ld->rd, v, "at"), e);
    }
    return ld_flag_true(ld, v, key);
}

bool ld_expectations(struct sc_load *ld, const yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(&ld->rd, n, "expected a list of expectations");
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    ld->sc->expects = calloc(count ? count : 1, sizeof *ld->sc->expects);
    if (!ld->sc->expects)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (!ld_expect(ld, yr_node(&ld->rd, n->data.sequence.items.start[i]), &ld->sc->expects[i]))
            return false;
        ld->sc->expect_count = i + 1;
    }
    return true;
}
