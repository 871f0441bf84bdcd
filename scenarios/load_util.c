/*
 * scenarios/load_util.c: error reporting and scalar parsing for the loader.
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
        p.line = (int)n->start_mark.line + 1;
        p.col = (int)n->start_mark.column + 1;
    }
    return p;
}

void ld_error(struct sc_load *ld, const yaml_node_t *n, const char *fmt, ...)
{
    if (ld->failed)
        return;
    ld->failed = true;
    struct sc_pos p = ld_pos(n);
    int len = p.line ? snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->file, p.line, p.col)
                     : snprintf(ld->err, ld->errlen, "%s: ", ld->file);
    if (len < 0 || (size_t)len >= ld->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + len, ld->errlen - (size_t)len, fmt, ap);
    va_end(ap);
}

yaml_node_t *ld_node(struct sc_load *ld, int id)
{
    return yaml_document_get_node(&ld->doc, id);
}

static const char *type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

const char *ld_scalar(struct sc_load *ld, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        ld_error(ld, n, "expected %s, found %s", what, type_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

bool ld_check_map(struct sc_load *ld, const yaml_node_t *n, const char *section,
                  const char *const *allowed)
{
    if (n->type != YAML_MAPPING_NODE) {
        ld_error(ld, n, "expected a mapping for %s, found %s", section, type_name(n));
        return false;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ld_node(ld, p->key);
        const char *key = ld_scalar(ld, k, "a key");
        if (!key)
            return false;
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            char list[512];
            size_t len = 0;
            list[0] = '\0';
            for (const char *const *a = allowed; *a && len + 40 < sizeof list; a++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                        a == allowed ? "" : ", ", *a);
            ld_error(ld, k, "unknown key '%s' in %s (expected one of: %s)", key, section, list);
            return false;
        }
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = ld_node(ld, q->key);
            if (qk->type == YAML_SCALAR_NODE && strcmp((char *)qk->data.scalar.value, key) == 0) {
                ld_error(ld, k, "duplicate key '%s' in %s", key, section);
                return false;
            }
        }
    }
    return true;
}

yaml_node_t *ld_get(struct sc_load *ld, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ld_node(ld, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return ld_node(ld, p->value);
    }
    return NULL;
}

int sc_parse_duration(const char *text, cs_time *out)
{
    static const struct { const char *unit; double ns; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    const char *s = text;
    bool negative = false;
    if (*s == '-' || *s == '+')
        negative = *s++ == '-';
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return -1; /* strtod would read a hexadecimal number */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return -1;
    if (*end == '\0') {
        if (v != 0)
            return -1; /* a bare number other than 0 has no unit */
        *out = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double ns = v * units[i].ns;
            if (ns > 9.2e18)
                return -1;
            *out = (cs_time)llround(ns) * (negative ? -1 : 1);
            return 0;
        }
    }
    return -1;
}

bool ld_duration(struct sc_load *ld, const yaml_node_t *n, bool allow_negative, cs_time *out)
{
    const char *s = ld_scalar(ld, n, "a duration such as 250ms, 5s or 2m");
    if (!s)
        return false;
    cs_time v;
    if (sc_parse_duration(s, &v) != 0) {
        ld_error(ld, n, "expected a duration with a unit (ns, us, ms, s, m, h) such as 250ms, 5s "
                        "or 2m, found '%s'", s);
        return false;
    }
    if (v < 0 && !allow_negative) {
        ld_error(ld, n, "expected a non-negative duration, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool ld_number(struct sc_load *ld, const yaml_node_t *n, double *out)
{
    const char *s = ld_scalar(ld, n, "a number");
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        ld_error(ld, n, "expected a number, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool ld_ppm(struct sc_load *ld, const yaml_node_t *n, const char *what, double *out)
{
    if (!ld_number(ld, n, out))
        return false;
    if (*out < LD_PPM_MIN || *out > LD_PPM_MAX) {
        ld_error(ld, n, "expected %s between %.0f and %.0f (a clock at 0.1x to 2x speed; real clocks err by "
                 "tens of ppm), found %.12g", what, LD_PPM_MIN, LD_PPM_MAX, *out);
        return false;
    }
    return true;
}

bool ld_probability(struct sc_load *ld, const yaml_node_t *n, double *out)
{
    const char *s = ld_scalar(ld, n, "a probability between 0 and 1");
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    bool percent = *end == '%' && end[1] == '\0';
    if (errno || end == s || (*end && !percent) || !isfinite(v)) {
        ld_error(ld, n, "expected a probability such as 0.1 or 10%%, found '%s'", s);
        return false;
    }
    if (percent)
        v /= 100;
    if (v < 0 || v > 1) {
        ld_error(ld, n, "expected a probability between 0 and 1, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool ld_uint(struct sc_load *ld, const yaml_node_t *n, uint64_t max, uint64_t *out)
{
    const char *s = ld_scalar(ld, n, "a whole number");
    if (!s)
        return false;
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+') {
        ld_error(ld, n, "expected a non-negative whole number, found '%s'", s);
        return false;
    }
    if (!(*s >= '0' && *s <= '9')) { /* strtoull would skip spaces and accept " -1" */
        ld_error(ld, n, "expected a whole number, found '%s'", s);
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        ld_error(ld, n, "expected a whole number, found '%s'", s);
        return false;
    }
    if (v > max) {
        ld_error(ld, n, "expected a whole number up to %llu, found '%s'", (unsigned long long)max, s);
        return false;
    }
    *out = v;
    return true;
}

bool ld_bool(struct sc_load *ld, const yaml_node_t *n, bool *out)
{
    const char *s = ld_scalar(ld, n, "true or false");
    if (!s)
        return false;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = false;
        return true;
    }
    ld_error(ld, n, "expected true or false, found '%s'", s);
    return false;
}

bool ld_string(struct sc_load *ld, const yaml_node_t *n, char *buf, size_t size)
{
    const char *s = ld_scalar(ld, n, "a string");
    if (!s)
        return false;
    if (strlen(s) >= size) {
        ld_error(ld, n, "expected a string of at most %zu characters", size - 1);
        return false;
    }
    strcpy(buf, s);
    return true;
}

bool ld_token(struct sc_load *ld, const yaml_node_t *n, const char *what, char *buf, size_t size)
{
    if (!ld_string(ld, n, buf, size))
        return false;
    for (const char *p = buf; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_.-:@", *p))) {
            ld_error(ld, n, "expected %s of letters, digits and _ . - : @, found '%s'", what, buf);
            return false;
        }
    if (!buf[0]) {
        ld_error(ld, n, "expected %s, found an empty string", what);
        return false;
    }
    return true;
}

bool ld_address(struct sc_load *ld, const yaml_node_t *n, struct cs_addr *out)
{
    const char *s = ld_scalar(ld, n, "an IP address");
    if (!s)
        return false;
    if (cs_addr_parse(s, out) != 0) {
        ld_error(ld, n, "expected an IPv4 or IPv6 address such as 10.0.0.1, found '%s'", s);
        return false;
    }
    return true;
}

int ld_enum(struct sc_load *ld, const yaml_node_t *n, const char *what, const char *const *names)
{
    const char *s = ld_scalar(ld, n, what);
    if (!s)
        return -1;
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; names[i] && len + 40 < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    ld_error(ld, n, "expected %s (one of: %s), found '%s'", what, list, s);
    return -1;
}

bool ld_dist(struct sc_load *ld, const yaml_node_t *n, struct sim_dist *out)
{
    if (n->type == YAML_SCALAR_NODE) {
        cs_time v;
        if (!ld_duration(ld, n, false, &v))
            return false;
        *out = sim_dist_fixed(v);
        return true;
    }
    static const char *const keys[] = {"dist", "value", "min", "max", "mean", NULL};
    if (!ld_check_map(ld, n, "a distribution", keys))
        return false;
    static const char *const kinds[] = {"fixed", "uniform", "exponential", NULL};
    yaml_node_t *k = ld_get(ld, n, "dist");
    if (!k) {
        ld_error(ld, n, "expected 'dist: fixed|uniform|exponential' in a distribution");
        return false;
    }
    int kind = ld_enum(ld, k, "a distribution", kinds);
    if (kind < 0)
        return false;
    const char *need[3][2] = {{"value", NULL}, {"min", "max"}, {"min", "mean"}};
    static const char *const articles[] = {"a", "a", "an"};
    cs_time v[2] = {0, 0};
    for (size_t i = 1; keys[i]; i++) { /* keys of another kind are mistakes */
        bool used = !strcmp(keys[i], need[kind][0]) || (need[kind][1] && !strcmp(keys[i], need[kind][1]));
        yaml_node_t *extra = ld_get(ld, n, keys[i]);
        if (extra && !used) {
            ld_error(ld, extra, "'%s' does not belong in %s %s distribution", keys[i],
                     articles[kind], kinds[kind]);
            return false;
        }
    }
    for (int i = 0; i < 2 && need[kind][i]; i++) {
        yaml_node_t *vn = ld_get(ld, n, need[kind][i]);
        if (!vn) {
            ld_error(ld, n, "expected '%s' in %s %s distribution", need[kind][i], articles[kind],
                     kinds[kind]);
            return false;
        }
        if (!ld_duration(ld, vn, false, &v[i]))
            return false;
    }
    if (kind == SIM_DIST_UNIFORM && v[1] < v[0]) {
        ld_error(ld, n, "expected max >= min in a uniform distribution");
        return false;
    }
    out->kind = (enum sim_dist_kind)kind;
    out->a = v[0];
    out->b = kind == SIM_DIST_FIXED ? v[0] : v[1];
    return true;
}

static bool nodeset_add(struct sc_load *ld, const yaml_node_t *n, struct sc_nodeset *out)
{
    const char *id = ld_scalar(ld, n, "a node id");
    if (!id)
        return false;
    int idx = scenario_node_index(ld->sc, id);
    if (idx < 0) {
        ld_error(ld, n, "node '%s' is not declared in cluster.nodes", id);
        return false;
    }
    uint32_t *grown = realloc(out->idx, (out->count + 1) * sizeof *grown);
    if (!grown) {
        ld_error(ld, n, "out of memory");
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
            if (!nodeset_add(ld, ld_node(ld, *it), out))
                return false;
        if (out->count == 0) {
            ld_error(ld, n, "expected at least one node id in the list");
            return false;
        }
        return true;
    }
    static const char *const keys[] = {"random", NULL};
    if (!ld_check_map(ld, n, "a node set", keys))
        return false;
    yaml_node_t *r = ld_get(ld, n, "random");
    uint64_t k;
    if (!r) {
        ld_error(ld, n, "expected 'all', a node id, a list of ids or {random: k}");
        return false;
    }
    if (!ld_uint(ld, r, 1000000, &k))
        return false;
    if (k == 0) {
        ld_error(ld, r, "expected at least 1 random node");
        return false;
    }
    out->random_count = (size_t)k;
    return true;
}
