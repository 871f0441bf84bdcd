/* cli/cmd_shrink.c: `clustersim shrink`, the minimal witness of a stuck run.
 *
 * Given a scenario file and a seed on which the run gets stuck, it edits the
 * file's text (so comments and layout survive) and keeps every edit after
 * which the same seed still gets stuck: timeline items are dropped one at a
 * time, the node count is lowered, and finally the run's duration is cut to
 * just past the moment the deadlock was detected.  Edits repeat until none
 * helps.  The result is written as YAML with the seed pinned, so
 * `clustersim run OUT` reproduces the deadlock directly. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../scenarios/loader.h"
#include "../sim/runner.h"
#include "../sim/scenario.h"

struct text {
    char **lines;
    size_t count;
};

/* The candidate being tried: which lines are kept, and overrides. */
struct shrink {
    struct text src;
    bool *keep;
    long nodes;          /* -1: unchanged */
    long duration_ms;    /* -1: unchanged */
    uint64_t seed;
    uint64_t seed_search; /* an edit may move to another seed in 1..this */
    const char *scratch; /* where candidates are written */
    unsigned trials;
    struct run_result last; /* result of the last stuck trial */
};

static int read_lines(const char *path, struct text *t)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        char **grown = realloc(t->lines, (t->count + 1) * sizeof *grown);
        if (!grown)
            break;
        t->lines = grown;
        t->lines[t->count++] = strdup(line);
    }
    free(line);
    fclose(f);
    return 0;
}

static size_t indent_of(const char *line)
{
    size_t i = 0;
    while (line[i] == ' ')
        i++;
    return i;
}

static bool is_blank_or_comment(const char *line)
{
    size_t i = indent_of(line);
    return line[i] == '\0' || line[i] == '\n' || line[i] == '#';
}

/* Index of the top-level key `key:` (at column 1), or -1. */
static long top_level(const struct text *t, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < t->count; i++)
        if (!strncmp(t->lines[i], key, n) && t->lines[i][n] == ':')
            return (long)i;
    return -1;
}

/* First line of the block under top-level line `head` whose trimmed text
 * starts with `key:`; -1 when there is none. */
static long in_block(const struct text *t, long head, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = (size_t)head + 1; head >= 0 && i < t->count; i++) {
        const char *l = t->lines[i];
        if (!is_blank_or_comment(l) && indent_of(l) == 0)
            break;
        if (!strncmp(l + indent_of(l), key, n) && l[indent_of(l) + n] == ':')
            return (long)i;
    }
    return -1;
}

/* The timeline items: their first lines, in `starts`, and the line after the
 * block in *end.  Returns the number of items. */
static size_t timeline_items(const struct text *t, size_t *starts, size_t max, size_t *end)
{
    long head = top_level(t, "timeline");
    size_t count = 0, item_indent = SIZE_MAX;
    *end = t->count;
    for (size_t i = head < 0 ? t->count : (size_t)head + 1; i < t->count; i++) {
        const char *l = t->lines[i];
        if (is_blank_or_comment(l))
            continue;
        if (indent_of(l) == 0 && l[0] != '-') {
            *end = i;
            break;
        }
        if (item_indent == SIZE_MAX && l[indent_of(l)] == '-')
            item_indent = indent_of(l);
        if (indent_of(l) == item_indent && l[item_indent] == '-' && count < max)
            starts[count++] = i;
    }
    return count;
}

/* The line after the block that starts at top-level line `head`. */
static size_t block_end(const struct text *t, size_t head)
{
    for (size_t i = head + 1; i < t->count; i++)
        if (!is_blank_or_comment(t->lines[i]) && indent_of(t->lines[i]) == 0 &&
            t->lines[i][0] != '-')
            return i;
    return t->count;
}

/* Writes the candidate to `path`, with the overrides applied.  Its only
 * expectation is the deadlock itself (`stuck: true`): the original's, such as
 * a stuck fraction over seeds, do not describe a witness. */
static int write_candidate(const struct shrink *s, const char *path, const char *header)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    if (header)
        fputs(header, f);
    long nodes_line = in_block(&s->src, top_level(&s->src, "cluster"), "nodes");
    long dur_line = in_block(&s->src, top_level(&s->src, "limits"), "duration");
    long seed_line = top_level(&s->src, "seed");
    long expect_line = top_level(&s->src, "expect");
    size_t expect_end = expect_line >= 0 ? block_end(&s->src, (size_t)expect_line) : 0;
    if (seed_line < 0)
        fprintf(f, "seed: %llu\n", (unsigned long long)s->seed);
    for (size_t i = 0; i < s->src.count; i++) {
        const char *l = s->src.lines[i];
        if ((long)i == expect_line)
            fputs("expect:\n  - stuck: true\n", f);
        if (!s->keep[i] || (expect_line >= 0 && i >= (size_t)expect_line && i < expect_end))
            continue;
        if ((long)i == seed_line)
            fprintf(f, "seed: %llu\n", (unsigned long long)s->seed);
        else if ((long)i == nodes_line && s->nodes > 0)
            fprintf(f, "%*snodes: %ld\n", (int)indent_of(l), "", s->nodes);
        else if ((long)i == dur_line && s->duration_ms > 0)
            fprintf(f, "%*sduration: %ldms\n", (int)indent_of(l), "", s->duration_ms);
        else
            fputs(l, f);
    }
    if (expect_line < 0)
        fputs("expect:\n  - stuck: true\n", f);
    return fclose(f);
}

/* Runs the loaded candidate on `seed`; true (and the result kept) if stuck. */
static bool stuck_on(struct shrink *s, const struct scenario *sc, uint64_t seed)
{
    s->trials++;
    struct run_options opt = {.seed = seed};
    struct run_result res;
    memset(&res, 0, sizeof res);
    bool stuck = sim_run_scenario(sc, &opt, &res) == 0 && res.stuck;
    if (stuck) {
        run_result_free(&s->last);
        s->last = res;
    } else {
        run_result_free(&res);
    }
    return stuck;
}

/* Writes, loads and runs the candidate; true when it still gets stuck, on
 * the current seed or, failing that, on the first stuck seed of
 * 1..seed_search (which becomes the current seed: an edit such as a node
 * fewer changes every later draw, so the same seed rarely keeps the
 * deadlock). */
static bool still_stuck(struct shrink *s)
{
    if (write_candidate(s, s->scratch, NULL) != 0)
        return false;
    struct scenario sc;
    char err[1024];
    if (scenario_load_file(s->scratch, &sc, err, sizeof err) != 0)
        return false; /* the edit broke the file (a dropped node is still named, say) */
    bool stuck = stuck_on(s, &sc, s->seed);
    for (uint64_t seed = 1; !stuck && seed <= s->seed_search; seed++)
        if (seed != s->seed && stuck_on(s, &sc, seed))
            s->seed = seed, stuck = true;
    scenario_free(&sc);
    return stuck;
}

/* One pass over the timeline items, last first; true when one was dropped. */
static bool drop_items(struct shrink *s)
{
    size_t starts[512], end;
    size_t n = timeline_items(&s->src, starts, 512, &end);
    bool dropped = false;
    for (size_t k = n; k-- > 0;) {
        size_t to = k + 1 < n ? starts[k + 1] : end;
        if (!s->keep[starts[k]])
            continue;
        size_t kept_items = 0;
        for (size_t j = 0; j < n; j++)
            kept_items += s->keep[starts[j]];
        if (kept_items <= 1)
            break; /* an empty timeline starts nothing */
        for (size_t i = starts[k]; i < to; i++)
            s->keep[i] = false;
        if (still_stuck(s)) {
            dropped = true;
            continue;
        }
        for (size_t i = starts[k]; i < to; i++)
            s->keep[i] = true;
    }
    return dropped;
}

/* Lowers the node count while the run stays stuck; true when it moved. */
static bool fewer_nodes(struct shrink *s, long current)
{
    bool moved = false;
    while (current > 2) {
        long before = s->nodes;
        s->nodes = current - 1;
        if (!still_stuck(s)) {
            s->nodes = before;
            break;
        }
        current--;
        moved = true;
    }
    return moved;
}

static int parse(int argc, char **argv, const char **file, const char **out, uint64_t *seed,
                 bool *has_seed, uint64_t *search)
{
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--seed") && v) {
            uint64_t last;
            if (cli_parse_seeds(v, seed, &last) != 0 || last != *seed) {
                fprintf(stderr, "clustersim shrink: --seed expects a number, got '%s'\n", v);
                return -1;
            }
            *has_seed = true;
            i++;
        } else if (!strcmp(argv[i], "--search-seeds") && v) {
            uint64_t last;
            if (cli_parse_seeds(v, search, &last) != 0 || last != *search) {
                fprintf(stderr, "clustersim shrink: --search-seeds expects a number, got '%s'\n", v);
                return -1;
            }
            i++;
        } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && v) {
            *out = v;
            i++;
        } else if (argv[i][0] != '-' && !*file) {
            *file = argv[i];
        } else {
            fprintf(stderr, "clustersim shrink: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!*file) {
        fprintf(stderr, "clustersim shrink: usage: shrink FILE [--seed N] [--search-seeds K] [-o OUT.yaml]\n");
        return -1;
    }
    return 0;
}

int cmd_shrink(int argc, char **argv, const char *self)
{
    const char *file = NULL, *out = "build/shrunk.yaml";
    uint64_t seed = 0;
    bool has_seed = false;
    uint64_t search = 100;
    if (parse(argc, argv, &file, &out, &seed, &has_seed, &search) != 0)
        return 2;
    struct scenario sc;
    if (cli_load_scenario(file, &sc) != 0)
        return 2;
    size_t nodes0 = sc.cluster.node_count;
    cs_time duration0 = sc.limits.duration;
    uint64_t file_seed = sc.seed;
    scenario_free(&sc);
    struct shrink s = {.nodes = -1, .duration_ms = -1, .seed = has_seed ? seed : file_seed};
    if (!strncmp(out, "build/", 6))
        mkdir("build", 0755);
    char scratch[600];
    snprintf(scratch, sizeof scratch, "%s.candidate", out);
    s.scratch = scratch;
    uint64_t search_later = search, start_seed = s.seed;
    if (read_lines(file, &s.src) != 0 || !(s.keep = malloc((s.src.count + 1) * sizeof *s.keep))) {
        fprintf(stderr, "clustersim shrink: cannot read %s\n", file);
        return 2;
    }
    for (size_t i = 0; i < s.src.count; i++)
        s.keep[i] = true;
    int status = 0;
    s.seed_search = 0; /* the starting point is the given seed itself */
    bool stuck_at_start = still_stuck(&s);
    s.seed_search = search_later;
    if (!stuck_at_start) {
        fprintf(stderr, "clustersim shrink: %s does not get stuck on seed %llu: nothing to shrink "
                        "(find a stuck seed with `%s run %s --seeds 1..1000`)\n",
                file, (unsigned long long)s.seed, self, file);
        status = 1;
    } else {
        long nodes = (long)nodes0;
        bool moved = true;
        while (moved) {
            moved = drop_items(&s);
            if (in_block(&s.src, top_level(&s.src, "cluster"), "nodes") >= 0 &&
                fewer_nodes(&s, s.nodes > 0 ? s.nodes : nodes))
                moved = true;
        }
        /* Cut the run to one second past the detection. */
        long cut = (long)(s.last.stuck_at / 1000000) + 1000;
        if (in_block(&s.src, top_level(&s.src, "limits"), "duration") >= 0 &&
            cut < (long)(duration0 / 1000000)) {
            s.duration_ms = cut;
            if (!still_stuck(&s))
                s.duration_ms = -1;
        }
        size_t items_before, items_after = 0, starts[512], end;
        items_before = timeline_items(&s.src, starts, 512, &end);
        for (size_t k = 0; k < items_before; k++)
            items_after += s.keep[starts[k]];
        char header[1024];
        snprintf(header, sizeof header,
                 "# Shrunk by `clustersim shrink %s --seed %llu` in %u trials:\n"
                 "# %zu of %zu timeline items kept, %ld of %zu nodes; on seed %llu still stuck\n"
                 "# at %.3f s with wait-for %s.  Run it with: clustersim run THIS_FILE\n",
                 file, (unsigned long long)start_seed, s.trials, items_after, items_before,
                 s.nodes > 0 ? s.nodes : (long)nodes0, nodes0, (unsigned long long)s.seed, (double)s.last.stuck_at / 1e9,
                 s.last.wait_for[0] ? s.last.wait_for : "(none)");
        if (write_candidate(&s, out, header) != 0) {
            fprintf(stderr, "clustersim shrink: cannot write %s\n", out);
            status = 2;
        } else {
            printf("%s", header);
            printf("written to %s\n", out);
        }
    }
    remove(scratch);
    run_result_free(&s.last);
    for (size_t i = 0; i < s.src.count; i++)
        free(s.src.lines[i]);
    free(s.src.lines);
    free(s.keep);
    return status;
}
