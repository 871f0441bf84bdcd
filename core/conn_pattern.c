/*
 * core/conn_pattern.c: the white/blacklist patterns of the connection
 * layer (POSIX extended regular expressions over node names): checking
 * them, including a bound on what compiling them may cost.  glibc's
 * regcomp copies a subexpression once per count of a bounded repetition,
 * so nested counts multiply: ((a{1,100}){1,100}){1,100} is a million
 * copies, minutes and gigabytes of compilation.  A pattern whose
 * expansion, estimated here before regcomp sees it, exceeds
 * CONN_PATTERN_COST_MAX atoms is refused.
 */
#include "conn_internal.h"

#include <stdlib.h>

/* The count a bounded repetition `{m}`, `{m,}` or `{m,n}` at p stands for
 * (its largest bound, or m + 1 when open), and where it ends. */
static size_t repetition_count(const char *p, const char **end)
{
    char *after;
    unsigned long m = strtoul(p + 1, &after, 10), n = m;
    if (*after == ',') {
        n = after[1] == '}' ? m + 1 : strtoul(after + 1, &after, 10);
        if (after[0] == ',' && after[1] == '}')
            after++;
    }
    while (*after && *after != '}')
        after++;
    *end = *after ? after + 1 : after;
    return n > m ? (n ? n : 1) : (m ? m : 1);
}

/* Skips a bracket expression ([...], [^]...], [[:alpha:]]) starting at p. */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p && *p != ']') {
        if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char close = p[1];
            p += 2;
            while (*p && !(p[0] == close && p[1] == ']'))
                p++;
            if (*p)
                p += 2;
            continue;
        }
        p++;
    }
    return *p ? p + 1 : p;
}

size_t conn_pattern_cost(const char *pattern)
{
    enum { DEPTH = 32 };
    size_t sum[DEPTH + 1] = {0}; /* atoms of each open group so far */
    size_t last[DEPTH + 1] = {0};/* size of the last atom or group at each level */
    int depth = 0;
    for (const char *p = pattern; *p;) {
        size_t atom = 1;
        if (*p == '(') {
            if (depth == DEPTH)
                return SIZE_MAX;
            depth++;
            sum[depth] = last[depth] = 0;
            p++;
            continue;
        }
        if (*p == ')' && depth > 0) {
            atom = sum[depth] ? sum[depth] : 1;
            depth--;
            p++;
        } else if (*p == '{') {
            const char *end;
            size_t count = repetition_count(p, &end);
            size_t grown = last[depth] * count;
            if (count && grown / count != last[depth])
                return SIZE_MAX;
            sum[depth] += grown - last[depth];
            last[depth] = grown;
            p = end;
            continue;
        } else if (*p == '[') {
            p = skip_bracket(p);
        } else if (*p == '\\' && p[1]) {
            p += 2;
        } else {
            p++;
        }
        sum[depth] += atom;
        last[depth] = atom;
        if (sum[depth] > CONN_PATTERN_COST_MAX)
            return sum[depth];
    }
    while (depth > 0) { /* unbalanced: regcomp refuses it anyway */
        sum[depth - 1] += sum[depth];
        depth--;
    }
    return sum[0];
}

size_t conn_patterns_compile(const char (*patterns)[CONN_PATTERN_MAX], size_t count, regex_t *out)
{
    size_t compiled = 0;
    for (size_t i = 0; i < count && i < CONN_MAX_PATTERNS; i++)
        if (conn_pattern_cost(patterns[i]) <= CONN_PATTERN_COST_MAX &&
            regcomp(&out[compiled], patterns[i], REG_EXTENDED | REG_NOSUB) == 0)
            compiled++;
    return compiled;
}

int conn_config_check(const struct conn_config *cfg, size_t *bad)
{
    const char(*lists[2])[CONN_PATTERN_MAX] = {cfg->whitelist, cfg->blacklist};
    size_t counts[2] = {cfg->whitelist_count, cfg->blacklist_count};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            *bad = l * CONN_MAX_PATTERNS + i;
            if (conn_pattern_cost(lists[l][i]) > CONN_PATTERN_COST_MAX)
                return -2;
            regex_t re;
            if (regcomp(&re, lists[l][i], REG_EXTENDED | REG_NOSUB) != 0)
                return -1;
            regfree(&re);
        }
    return 0;
}
