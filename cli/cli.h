/*
 * cli/cli.h: the subcommands of the `clustersim` harness and the helpers
 * they share (argument parsing of seeds and durations).
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>

/* `clustersim run FILE... [options]`; returns the exit status. */
int cmd_run(int argc, char **argv, const char *self);
/* `clustersim replay TRACE [filters] [--check]`. */
int cmd_replay(int argc, char **argv, const char *self);
/* `clustersim explore FILE [--max-depth N] [--budget RUNS] [--out DIR]`, or
 * `--replay SCHEDULE` to re-run a stuck schedule it wrote. */
int cmd_explore(int argc, char **argv, const char *self);
/* `clustersim shrink FILE [--seed N] [-o OUT]`: drops timeline items and
 * nodes while the seed still gets stuck, and writes the smaller scenario. */
int cmd_shrink(int argc, char **argv, const char *self);
/* `clustersim fuzz [options]` or `fuzz --merge OUT FILES...`. */
int cmd_fuzz(int argc, char **argv, const char *self);
/* `clustersim bench [FILE] [options]`. */
int cmd_bench(int argc, char **argv, const char *self);
/* `clustersim agree FILE... [--seeds A..B] [--trials N]`: each scenario
 * marked for both worlds, simulated and real, side by side. */
int cmd_agree(int argc, char **argv, const char *self);

/* The real world's paths: the clusterd beside `self` unless *clusterd is
 * set, and the absolute directory of run files (build/real). */
void cli_real_paths(const char *self, const char **clusterd, const char **real_dir);

/* Parses a positive whole number (a count of trials, runs, steps); 0 on success. */
int cli_parse_count(const char *text, uint64_t *out);
/* Parses "N" or "A..B" (inclusive); 0 on success. */
int cli_parse_seeds(const char *text, uint64_t *first, uint64_t *last);
struct scenario;
/* Loads a scenario file; on failure prints the file:line:column error on
 * stderr and returns -1. */
int cli_load_scenario(const char *path, struct scenario *sc);

/* The Wilson score interval at 95 % for k successes in n trials. */
void cli_wilson(uint64_t k, uint64_t n, double *lo, double *hi);

#endif
