/*
 * config/nearest.h: "did you mean": the valid word nearest to a mistyped
 * one, for option names, subcommands and scenario keys alike.
 */
#ifndef CONFIG_NEAREST_H
#define CONFIG_NEAREST_H

#include <stddef.h>

/* The candidate nearest to `word`: the one at the smallest edit distance
 * (insertions, deletions, substitutions and swaps of neighbours), if that
 * distance is at most max(1, length / 3); else the only candidate that
 * `word` is a prefix of; else NULL.  `candidates` may end early at a NULL
 * entry. */
const char *cs_nearest(const char *word, const char *const *candidates, size_t count);

#endif
