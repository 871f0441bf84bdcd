/*
 * config/scenario/load_util.c: the scenario loader's own scalar types
 * (clock rates, probabilities, delay distributions, node sets) on top of
 * the YAML reader (config/yaml_reader.h).
 */
#include "load_util.h"

#include <ctype.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sc_pos ld_pos(const yaml_node_t *n)
{
    struct sc_pos p = {0, 0};
    if (n) {
        p.line = yr_line(n);
        p.col = yr_column(n);
    }
    return p;
}

int sc_parse_duration(const char *text, cs_time *out)
{
    return yr_parse_duration(text, out);
}

bool ld_ppm(struct sc_load *ld, const yaml_node_t *n, const char *what, double *out)
{
    if (!yr_number(&ld->rd, n, out))
        return false;
    if (*out < LD_PPM_MIN || *out > LD_PPM_MAX) {
        yr_error(&ld->rd, n, "expected %s between %.0f and %.0f (a clock at 0.1x to 2x speed; real clocks err by "
                 "tens of ppm), found %.12g", what, LD_PPM_MIN, LD_PPM_MAX, *out);
        return false;
    }
    return true;
}

bool ld_probability(struct sc_load *ld, const yaml_node_t *n, double *out)
{
    const char *s = yr_scalar(&ld->rd, n, "a probability between 0 and 1");
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    bool percent = *end == '%' && end[1] == '\0';
    if (errno || end == s || (*end && !percent) || !isfinite(v)) {
        yr_error(&ld->rd, n, "expected a probability such as 0.1 or 10%%, found '%s'", s);
        return false;
    }
    if (percent)
        v /= 100;
    if (v < 0 || v > 1) {
        yr_error(&ld->rd, n, "expected a probability between 0 and 1, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool ld_dist(struct sc_load *ld, const yaml_node_t *n, struct sim_dist *out)
{
    if (n->type == YAML_SCALAR_NODE) {
        cs_time v;
        if (!yr_duration(&ld->rd, n, false, &v))
            return false;
        *out = sim_dist_fixed(v);
        return true;
    }
    static const char *const keys[] = {"dist", "value", "min", "max", "mean", NULL};
    if (!yr_check_map(&ld->rd, n, "a distribution", keys))
        return false;
    static const char *const kinds[] = {"fixed", "uniform", "exponential", NULL};
    yaml_node_t *k = yr_get(&ld->rd, n, "dist");
    if (!k) {
        yr_error(&ld->rd, n, "expected 'dist: fixed|uniform|exponential' in a distribution");
        return false;
    }
    int kind = yr_enum(&ld->rd, k, "a distribution", kinds);
    if (kind < 0)
        return false;
    const char *need[3][2] = {{"value", NULL}, {"min", "max"}, {"min", "mean"}};
    static const char *const articles[] = {"a", "a", "an"};
    cs_time v[2] = {0, 0};
    for (size_t i = 1; keys[i]; i++) { /* keys of another kind are mistakes */
        bool used = !strcmp(keys[i], need[kind][0]) || (need[kind][1] && !strcmp(keys[i], need[kind][1]));
        yaml_node_t *extra = yr_get(&ld->rd, n, keys[i]);
        if (extra && !used) {
            yr_error(&ld->rd, extra, "'%s' does not belong in %s %s distribution", keys[i],
                     articles[kind], kinds[kind]);
            return false;
        }
    }
    for (int i = 0; i < 2 && need[kind][i]; i++) {
        yaml_node_t *vn = yr_get(&ld->rd, n, need[kind][i]);
        if (!vn) {
            yr_error(&ld->rd, n, "expected '%s' in %s %s distribution", need[kind][i], articles[kind],
                     kinds[kind]);
            return false;
        }
        if (!yr_duration(&ld->rd, vn, false, &v[i]))
            return false;
    }
    if (kind == SIM_DIST_UNIFORM && v[1] < v[0]) {
        yr_error(&ld->rd, n, "expected max >= min in a uniform distribution");
        return false;
    }
    out->kind = (enum sim_dist_kind)kind;
    out->a = v[0];
    out->b = kind == SIM_DIST_FIXED ? v[0] : v[1];
    return true;
}

static bool nodeset_add(struct sc_load *ld, const yaml_node_t *n, struct sc_nodeset *out)
{
    const char *id = yr_scalar(&ld->rd, n, "a node id");
    if (!id)
        return false;
    int idx = scenario_node_index(ld->sc, id);
    if (idx < 0) {
        yr_error(&ld->rd, n, "node '%s' is not declared in cluster.nodes", id);
        return false;
    }
    uint32_t *grown = realloc(out->idx, (out->count + 1) * sizeof *grown);
    if (!grown) {
        yr_error(&ld->rd, n, "out of memory");
        return false;
    }
    out->idx = grown;
    out->idx[out->count++] = (uint32_t)idx;
    return true;
}

bool ld_nodeset(struct sc_load *ld, const yaml_node_t *n, struct sc_nodeset *out)
{
    if (n->type == YAML_SCALAR_NODE && strcmp((char *)n->data.scalar.value, "all") == 0) {
        out->all = true;
        return true;
    }
    if (n->type == YAML_SCALAR_NODE)
        return nodeset_add(ld, n, out);
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
            if (!nodeset_add(ld, yr_node(&ld->rd, *it), out))
                return false;
        if (out->count == 0) {
            yr_error(&ld->rd, n, "expected at least one node id in the list");
            return false;
        }
        return true;
    }
    static const char *const keys[] = {"random", NULL};
    if (!yr_check_map(&ld->rd, n, "a node set", keys))
        return false;
    yaml_node_t *r = yr_get(&ld->rd, n, "random");
    uint64_t k;
    if (!r) {
        yr_error(&ld->rd, n, "expected 'all', a node id, a list of ids or {random: k}");
        return false;
    }
    if (!yr_uint(&ld->rd, r, 1000000, &k))
        return false;
    if (k == 0) {
        yr_error(&ld->rd, r, "expected at least 1 random node");
        return false;
    }
    out->random_count = (size_t)k;
    return true;
}
