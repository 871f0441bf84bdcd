/*
 * cli/cmd_replay.c: `clustersim replay`: prints a recorded trace (JSON
 * lines, docs/trace-format.md) readably, with filters by node, kind and time
 * window; `--check` validates the trace and re-runs the scenario and seed
 * named in its header (cli/trace_check.h);
 * `--sequence` draws the messages as a text sequence chart
 * (reports/sequence.h) and `--perfetto OUT.json` exports the trace for
 * ui.perfetto.dev (reports/perfetto.h).
 */
#include "cli.h"

#include "../reports/perfetto.h"
#include "../reports/sequence.h"
#include "../config/scenario/loader.h"
#include "../drivers/runner.h"
#include "trace_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay_cli {
    const char *path, *node, *kind, *perfetto;
    cs_time from, to;
    bool check, sequence, limit_given;
    size_t limit;
};

/* Checks the combinations of options; 0 when they make sense together. */
static int check_modes(const struct replay_cli *c)
{
    const char *why = NULL;
    if (c->check && (c->sequence || c->perfetto))
        why = "--check cannot be combined with --sequence or --perfetto";
    else if (c->sequence && c->kind)
        why = "--kind does not apply to --sequence (use --node, --from, --to)";
    else if (c->limit_given && !c->sequence)
        why = "--limit applies to --sequence only";
    if (why)
        fprintf(stderr, "clustersim replay: %s\n", why);
    return why ? -1 : 0;
}

static int parse_limit(struct replay_cli *c, const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-' || n == 0) {
        fprintf(stderr, "clustersim replay: --limit expects a positive number of messages\n");
        return -1;
    }
    c->limit = (size_t)n;
    c->limit_given = true;
    return 0;
}

static int parse_args(struct replay_cli *c, int argc, char **argv)
{
    c->from = 0;
    c->to = CS_TIME_NEVER;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        if (!strcmp(a, "--node") && v) {
            c->node = argv[++i];
        } else if (!strcmp(a, "--kind") && v) {
            c->kind = argv[++i];
        } else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && v) {
            cs_time t;
            if (sc_parse_duration(argv[++i], &t) != 0 || t < 0) {
                fprintf(stderr, "clustersim replay: %s expects a duration such as 5s\n", a);
                return -1;
            }
            *(!strcmp(a, "--from") ? &c->from : &c->to) = t;
        } else if (!strcmp(a, "--check")) {
            c->check = true;
        } else if (!strcmp(a, "--sequence")) {
            c->sequence = true;
        } else if (!strcmp(a, "--limit") && v) {
            if (parse_limit(c, argv[++i]) != 0)
                return -1;
        } else if (!strcmp(a, "--perfetto") && v) {
            c->perfetto = argv[++i];
        } else if (a[0] == '-' || c->path) {
            fprintf(stderr, "clustersim replay: unexpected argument '%s'\n", a);
            return -1;
        } else {
            c->path = a;
        }
    }
    if (!c->path) {
        fprintf(stderr, "clustersim replay: no trace file given\n");
        return -1;
    }
    return check_modes(c);
}

static void print_value(json_t *v)
{
    if (json_is_string(v)) {
        printf("%s", json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s", s ? s : "?");
        free(s);
    }
}

static void print_line(json_t *o)
{
    json_int_t t = json_integer_value(json_object_get(o, "t"));
    printf("%14.6fs  %-8s %-14s", (double)t / 1e9, json_string_value(json_object_get(o, "node")),
           json_string_value(json_object_get(o, "kind")));
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "t") || !strcmp(key, "node") || !strcmp(key, "kind"))
            continue;
        printf(" %s=", key);
        print_value(v);
    }
    printf("\n");
}

/* --perfetto and --sequence, in that order; 0 when both went well. */
static int export_views(const struct replay_cli *c)
{
    char err[1024];
    if (c->perfetto) {
        if (perfetto_export(c->path, c->perfetto, err, sizeof err) != 0) {
            fprintf(stderr, "clustersim replay: %s\n", err);
            return 2;
        }
        printf("perfetto: wrote %s (open it in https://ui.perfetto.dev)\n", c->perfetto);
    }
    if (c->sequence) {
        struct sequence_options opt = {.node = c->node, .from = c->from, .to = c->to, .limit = c->limit};
        if (sequence_print(c->path, stdout, &opt, err, sizeof err) != 0) {
            fprintf(stderr, "clustersim replay: %s\n", err);
            return 2;
        }
    }
    return 0;
}

int cmd_replay(int argc, char **argv, const char *self)
{
    (void)self;
    struct replay_cli c = {0};
    if (parse_args(&c, argc, argv) != 0)
        return 2;
    if (c.perfetto || c.sequence)
        return export_views(&c);
    if (c.check)
        return trace_check(c.path);
    FILE *f = fopen(c.path, "r");
    if (!f) {
        fprintf(stderr, "clustersim replay: cannot open %s\n", c.path);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, shown = 0;
    int status = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!json_is_object(o) || !json_is_integer(json_object_get(o, "t")) ||
            !json_is_string(json_object_get(o, "kind")) || !json_is_string(json_object_get(o, "node"))) {
            fprintf(stderr, "%s:%zu:%d: expected a trace record {\"t\":..,\"node\":..,\"kind\":..}%s%s\n",
                    c.path, lineno, o ? 1 : jerr.column, o ? "" : ": ", o ? "" : jerr.text);
            json_decref(o);
            status = 2;
            break;
        }
        const char *kind = json_string_value(json_object_get(o, "kind"));
        json_int_t t = json_integer_value(json_object_get(o, "t"));
        bool keep = t >= c.from && t <= c.to &&
                    (!c.node || !strcmp(c.node, json_string_value(json_object_get(o, "node")))) &&
                    (!c.kind || !strcmp(c.kind, kind));
        if (keep) {
            print_line(o);
            shown++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (status == 0)
        printf("-- %zu of %zu records shown\n", shown, lineno);
    return status;
}
