/*
 * config/nearest.c: the nearest valid word (nearest.h).
 */
#include "nearest.h"

#include <string.h>

#define LONGEST 64

/* Optimal string alignment distance (Levenshtein with swaps of
 * neighbours); words longer than LONGEST count as far. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > LONGEST || m > LONGEST)
        return (size_t)-1;
    size_t d[LONGEST + 1][LONGEST + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cs_nearest(const char *word, const char *const *candidates, size_t count)
{
    size_t len = strlen(word), limit = len / 3 > 1 ? len / 3 : 1, best = (size_t)-1;
    const char *nearest = NULL, *prefixed = NULL;
    size_t prefixes = 0;
    for (size_t i = 0; i < count && candidates[i]; i++) {
        size_t dist = distance(word, candidates[i]);
        if (dist < best) {
            best = dist;
            nearest = candidates[i];
        }
        if (len > 0 && !strncmp(candidates[i], word, len)) {
            prefixes++;
            prefixed = candidates[i];
        }
    }
    if (nearest && best <= limit)
        return nearest;
    return prefixes == 1 ? prefixed : NULL;
}
