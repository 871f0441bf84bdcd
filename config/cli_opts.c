/*
 * config/cli_opts.c: the command-line option parser (cli_opts.h).
 */
#define _GNU_SOURCE
#include "cli_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"

#define MAX_OPTS 64
#define KEY_HELP (-2)

void cli_usage(const struct cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: %s %s\n\n%s\n\noptions:\n", cmd->prog, cmd->synopsis, cmd->about);
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
        char left[64];
        char letter[8] = "";
        if (o->letter)
            snprintf(letter, sizeof letter, "-%c, ", o->letter);
        snprintf(left, sizeof left, "%s--%s%s%s", letter, o->name, o->value ? " " : "", o->value ? o->value : "");
        fprintf(out, "  %-24s %s\n", left, o->help);
    }
    fprintf(out, "  %-24s %s\n", "--help", "print this help and exit");
}

int cli_refuse(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cmd->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (%s --help lists the options)\n", cmd->prog);
    va_end(ap);
    return -1;
}

int cli_bad_value(const struct cli_cmd *cmd, const char *name, const char *expected, const char *value)
{
    fprintf(stderr, "%s: --%s expects %s, got '%s'\n", cmd->prog, name, expected, value ? value : "");
    return -1;
}

/* "unknown option '--sede'; did you mean '--seed'?" */
static int unknown(const struct cli_cmd *cmd, const char *text)
{
    const char *names[MAX_OPTS + 1];
    size_t n = 0;
    for (const struct cli_opt *o = cmd->opts; o && o->name && n < MAX_OPTS; o++)
        names[n++] = o->name;
    names[n++] = "help";
    char word[128];
    const char *start = text;
    while (*start == '-')
        start++;
    snprintf(word, sizeof word, "%.*s", (int)strcspn(start, "="), start);
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
        if (!strcmp(o->name, word) && !o->value)
            return cli_refuse(cmd, "--%s takes no value ('%s')", o->name, text);
    const char *near = text[0] == '-' && text[1] == '-' ? cs_nearest(word, names, n) : NULL;
    if (near)
        return cli_refuse(cmd, "unknown option '%s'; did you mean '--%s'?", text, near);
    return cli_refuse(cmd, "unknown option '%s'", text);
}

static const struct cli_opt *find(const struct cli_cmd *cmd, int key)
{
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
        if (o->key == key)
            return o;
    return NULL;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_on_opt on_opt, cli_on_arg on_arg, void *ctx)
{
    struct option longs[MAX_OPTS + 2];
    size_t n = 0;
    for (const struct cli_opt *o = cmd->opts; o && o->name && n < MAX_OPTS; o++)
        longs[n++] = (struct option){o->name, o->value ? required_argument : no_argument, NULL, o->key};
    longs[n++] = (struct option){"help", no_argument, NULL, KEY_HELP};
    longs[n] = (struct option){0};
    /* getopt wants the program's name first. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args)
        return -1;
    args[0] = (char *)cmd->prog;
    memcpy(args + 1, argv, (size_t)argc * sizeof *argv);
    char shorts[2 * MAX_OPTS + 3] = "-:"; /* "-": operands in order; ":": a missing value is ':' */
    size_t len = 2;
    for (const struct cli_opt *o = cmd->opts; o && o->name && len + 2 < sizeof shorts; o++)
        if (o->letter) {
            shorts[len++] = o->letter;
            if (o->value)
                shorts[len++] = ':';
        }
    shorts[len] = '\0';
    optind = 0; /* a full re-initialisation (glibc) */
    opterr = 0;
    int rc = 0;
    for (;;) {
        int key = getopt_long(argc + 1, args, shorts, longs, NULL);
        for (const struct cli_opt *o = cmd->opts; key > 0 && key < CLI_KEY_FIRST && o && o->name; o++)
            if (o->letter && key == o->letter && key != ':' && key != '?')
                key = o->key;
        if (key == -1)
            break;
        if (key == KEY_HELP) {
            cli_usage(cmd, stdout);
            rc = 1;
        } else if (key == 1) {
            rc = on_arg(ctx, optarg);
        } else if (key == ':') {
            const struct cli_opt *o = find(cmd, optopt);
            for (const struct cli_opt *s = cmd->opts; !o && s && s->name; s++)
                if (s->letter && s->letter == optopt)
                    o = s;
            rc = o ? cli_refuse(cmd, "--%s needs a value (%s)", o->name, o->value)
                   : cli_refuse(cmd, "'%s' needs a value", args[optind - 1]);
        } else if (key == '?') {
            rc = unknown(cmd, args[optind - 1]);
        } else {
            rc = on_opt(ctx, key, optarg);
        }
        if (rc != 0)
            break;
    }
    free(args);
    return rc;
}
