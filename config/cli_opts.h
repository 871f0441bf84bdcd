/*
 * config/cli_opts.h: one option parser for every command of clustersim,
 * clusterd and clusterctl, on getopt_long: `--opt value` and
 * `--opt=value` both work, `--help` prints
 * the command's usage and exits 0, and every refusal has one wording that
 * names the option and what was expected, with "did you mean" for a
 * mistyped option.  Functions are prefixed cli_opt / cli_.
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_opt {
    const char *name;  /* long name without "--" */
    const char *value; /* what its value looks like ("N", "A..B", "FILE"), or NULL: a flag */
    const char *help;  /* one line */
    int key;           /* handed to the callback: CLI_KEY_FIRST and up */
    char letter;       /* a short form (-o), or 0 */
};

#define CLI_KEY_FIRST 256 /* below: getopt's own return values */

struct cli_cmd {
    const char *prog;     /* "clustersim run" */
    const char *synopsis; /* what follows the program name: "FILE... [options]" */
    const char *about;    /* a paragraph saying what the command does */
    const struct cli_opt *opts; /* ends with {NULL} */
};

/* Called for each option; `value` is NULL for a flag.  Returns 0, -1
 * after cli_bad_value (or its own message) to stop with exit status 2, or
 * 1 to stop with exit status 0 (it printed what was asked: --version). */
typedef int (*cli_on_opt)(void *ctx, int key, const char *value);
/* Called for each operand (argument that is not an option); 0, -1 (a
 * refusal: exit 2), or 1 to stop parsing there and have cli_parse return
 * 1 (clusterctl stops at its command word and parses the rest itself). */
typedef int (*cli_on_arg)(void *ctx, const char *arg);

/* Parses argv[0..argc) (the arguments after the command's name).  Returns
 * 0 when every option and operand was taken, 1 after printing the usage
 * for --help (the caller exits 0), -1 after printing a refusal (exit 2). */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_on_opt on_opt, cli_on_arg on_arg, void *ctx);

/* Prints the command's usage: synopsis, about, each option with its value
 * and help. */
void cli_usage(const struct cli_cmd *cmd, FILE *out);

/* Prints "PROG: --NAME expects EXPECTED, got 'VALUE'" on stderr and returns -1. */
int cli_bad_value(const struct cli_cmd *cmd, const char *name, const char *expected, const char *value);

/* Prints "PROG: MESSAGE (PROG --help lists the options)" on stderr and
 * returns -1 (printf-style). */
int cli_refuse(const struct cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
