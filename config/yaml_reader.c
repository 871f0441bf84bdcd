/*
 * config/yaml_reader.c: reading a YAML configuration file safely: the
 * file with a size cap, the shape guard (yaml_guard.c), libyaml's document,
 * error reporting as `file:line:column: what was expected`, and parsers
 * for scalar types (durations with units, numbers, integers, booleans,
 * strings, tokens, addresses, enumerations).
 */
#include "yaml_reader.h"

#include "nearest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yr_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int yr_column(const yaml_node_t *n)
{
    return (int)n->start_mark.column + 1;
}

static void record(struct yaml_reader *rd, int line, int col, const char *fmt, va_list ap)
{
    if (rd->failed)
        return;
    rd->failed = true;
    int len = line > 0 ? snprintf(rd->err, rd->errlen, "%s:%d:%d: ", rd->file, line, col)
                       : snprintf(rd->err, rd->errlen, "%s: ", rd->file);
    if (len < 0 || (size_t)len >= rd->errlen)
        return;
    vsnprintf(rd->err + len, rd->errlen - (size_t)len, fmt, ap);
}

void yr_error(struct yaml_reader *rd, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(rd, n ? yr_line(n) : 0, n ? yr_column(n) : 0, fmt, ap);
    va_end(ap);
}

void yr_error_at(struct yaml_reader *rd, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(rd, line, col, fmt, ap);
    va_end(ap);
}

yaml_node_t *yr_node(struct yaml_reader *rd, int id)
{
    return yaml_document_get_node(&rd->doc, id);
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

const char *yr_scalar(struct yaml_reader *rd, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        yr_error(rd, n, "expected %s, found %s", what, type_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

bool yr_check_map(struct yaml_reader *rd, const yaml_node_t *n, const char *section,
                  const char *const *allowed)
{
    if (n->type != YAML_MAPPING_NODE) {
        yr_error(rd, n, "expected a mapping for %s, found %s", section, type_name(n));
        return false;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yr_node(rd, p->key);
        const char *key = yr_scalar(rd, k, "a key");
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
            size_t count = 0;
            while (allowed[count])
                count++;
            const char *near = cs_nearest(key, allowed, count);
            if (near)
                yr_error(rd, k, "unknown key '%s' in %s; did you mean '%s'? (expected one of: %s)", key, section,
                         near, list);
            else
                yr_error(rd, k, "unknown key '%s' in %s (expected one of: %s)", key, section, list);
            return false;
        }
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yr_node(rd, q->key);
            if (qk->type == YAML_SCALAR_NODE && strcmp((char *)qk->data.scalar.value, key) == 0) {
                yr_error(rd, k, "duplicate key '%s' in %s", key, section);
                return false;
            }
        }
    }
    return true;
}

yaml_node_t *yr_get(struct yaml_reader *rd, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yr_node(rd, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yr_node(rd, p->value);
    }
    return NULL;
}

int yr_parse_duration(const char *text, cs_time *out)
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

bool yr_duration(struct yaml_reader *rd, const yaml_node_t *n, bool allow_negative, cs_time *out)
{
    const char *s = yr_scalar(rd, n, "a duration such as 250ms, 5s or 2m");
    if (!s)
        return false;
    cs_time v;
    if (yr_parse_duration(s, &v) != 0) {
        yr_error(rd, n, "expected a duration with a unit (ns, us, ms, s, m, h) such as 250ms, 5s "
                        "or 2m, found '%s'", s);
        return false;
    }
    if (v < 0 && !allow_negative) {
        yr_error(rd, n, "expected a non-negative duration, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool yr_number(struct yaml_reader *rd, const yaml_node_t *n, double *out)
{
    const char *s = yr_scalar(rd, n, "a number");
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        yr_error(rd, n, "expected a number, found '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

bool yr_uint(struct yaml_reader *rd, const yaml_node_t *n, uint64_t max, uint64_t *out)
{
    const char *s = yr_scalar(rd, n, "a whole number");
    if (!s)
        return false;
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+') {
        yr_error(rd, n, "expected a non-negative whole number, found '%s'", s);
        return false;
    }
    if (!(*s >= '0' && *s <= '9')) { /* strtoull would skip spaces and accept " -1" */
        yr_error(rd, n, "expected a whole number, found '%s'", s);
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        yr_error(rd, n, "expected a whole number, found '%s'", s);
        return false;
    }
    if (v > max) {
        yr_error(rd, n, "expected a whole number up to %llu, found '%s'", (unsigned long long)max, s);
        return false;
    }
    *out = v;
    return true;
}

bool yr_bool(struct yaml_reader *rd, const yaml_node_t *n, bool *out)
{
    const char *s = yr_scalar(rd, n, "true or false");
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
    yr_error(rd, n, "expected true or false, found '%s'", s);
    return false;
}

bool yr_string(struct yaml_reader *rd, const yaml_node_t *n, char *buf, size_t size)
{
    const char *s = yr_scalar(rd, n, "a string");
    if (!s)
        return false;
    if (strlen(s) >= size) {
        yr_error(rd, n, "expected a string of at most %zu characters", size - 1);
        return false;
    }
    strcpy(buf, s);
    return true;
}

bool yr_token(struct yaml_reader *rd, const yaml_node_t *n, const char *what, char *buf, size_t size)
{
    if (!yr_string(rd, n, buf, size))
        return false;
    for (const char *p = buf; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_.-:@", *p))) {
            yr_error(rd, n, "expected %s of letters, digits and _ . - : @, found '%s'", what, buf);
            return false;
        }
    if (!buf[0]) {
        yr_error(rd, n, "expected %s, found an empty string", what);
        return false;
    }
    return true;
}

bool yr_address(struct yaml_reader *rd, const yaml_node_t *n, struct cs_addr *out)
{
    const char *s = yr_scalar(rd, n, "an IP address");
    if (!s)
        return false;
    if (cs_addr_parse(s, out) != 0) {
        yr_error(rd, n, "expected an IPv4 or IPv6 address such as 10.0.0.1, found '%s'", s);
        return false;
    }
    return true;
}

int yr_enum(struct yaml_reader *rd, const yaml_node_t *n, const char *what, const char *const *names)
{
    const char *s = yr_scalar(rd, n, what);
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
    yr_error(rd, n, "expected %s (one of: %s), found '%s'", what, list, s);
    return -1;
}

int yr_read_file(const char *path, size_t max, const char *what, char **text, size_t *len, char *err,
                 size_t errlen)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the %s", path, what);
        return -1;
    }
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    bool too_big = false;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > max) { /* /dev/zero, a log by mistake: stop reading */
            too_big = true;
            break;
        }
        if (n == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    bool read_error = ferror(f);
    fclose(f);
    if (!buf || read_error || too_big) {
        free(buf);
        if (too_big)
            snprintf(err, errlen, "%s:1:1: expected a %s of at most %zu MiB", path, what, max >> 20);
        else
            snprintf(err, errlen, "%s: cannot read the %s", path, what);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

yaml_node_t *yr_open(struct yaml_reader *rd, const char *text, size_t len, const char *file, const char *expected,
                     char *err, size_t errlen)
{
    memset(rd, 0, sizeof *rd);
    rd->file = file;
    rd->err = err;
    rd->errlen = errlen;
    if (yr_guard_text(text, len, file, err, errlen) != 0) {
        rd->failed = true;
        return NULL;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &rd->doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: invalid YAML: %s%s%s", file, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        rd->failed = true;
        return NULL;
    }
    yaml_parser_delete(&parser);
    rd->loaded = true;
    yaml_node_t *root = yaml_document_get_root_node(&rd->doc);
    if (!root) {
        snprintf(err, errlen, "%s:1:1: expected %s, found an empty document", file, expected);
        rd->failed = true;
    }
    return root;
}

void yr_close(struct yaml_reader *rd)
{
    if (rd->loaded)
        yaml_document_delete(&rd->doc);
    rd->loaded = false;
}
