/* cli/shrinker.c: reduces a failing scenario to a minimal one that fails
 * the same way (see shrinker.h).
 *
 * It edits the file's text (so comments and layout survive) and keeps every
 * edit after which the run still fails the goal: timeline items are dropped
 * one at a time, the node count is lowered, single-line settings of the
 * network, DNS and tracker are dropped (back to their defaults), fault
 * windows are halved, and finally the run's duration is cut to just past
 * the failure.  Edits repeat until none helps.  The result is written as
 * YAML with the seed pinned. */
#include "shrinker.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"
#include "../sim/scenario.h"

struct text {
    char **lines;
    size_t count;
};

/* The candidate being tried: which lines are kept, and overrides. */
struct shrink {
    const struct shrink_spec *spec;
    struct text src;
    bool *keep;
    long nodes;          /* -1: unchanged */
    long duration_ms;    /* -1: unchanged */
    uint64_t seed;
    uint64_t seed_search; /* an edit may move to another seed in 1..this */
    char scratch[600];   /* where candidates are written */
    unsigned trials;
    struct run_result last; /* result of the last failing trial */
    enum deadlock_class deadlock; /* stuck goals: the witness's class, kept */
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

static bool in_expect_block(const struct shrink *s, size_t i, long expect_line, size_t expect_end)
{
    (void)s;
    return expect_line >= 0 && i >= (size_t)expect_line && i < expect_end;
}

/* Writes the candidate to `path`, with the overrides applied.  A witness's
 * only expectation is the deadlock itself (`stuck: true`): the original's,
 * such as a stuck fraction over seeds, do not describe it.  Otherwise the
 * file's expectations stay, so the result fails as the original did. */
static int write_candidate(const struct shrink *s, const char *path, const char *header)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    if (header)
        fputs(header, f);
    bool witness = s->spec->witness;
    long nodes_line = in_block(&s->src, top_level(&s->src, "cluster"), "nodes");
    long dur_line = in_block(&s->src, top_level(&s->src, "limits"), "duration");
    long seed_line = top_level(&s->src, "seed");
    long expect_line = witness ? top_level(&s->src, "expect") : -1;
    size_t expect_end = expect_line >= 0 ? block_end(&s->src, (size_t)expect_line) : 0;
    if (seed_line < 0)
        fprintf(f, "seed: %llu\n", (unsigned long long)s->seed);
    for (size_t i = 0; i < s->src.count; i++) {
        const char *l = s->src.lines[i];
        if ((long)i == expect_line)
            fputs("expect:\n  - stuck: true\n", f);
        if (!s->keep[i] || in_expect_block(s, i, expect_line, expect_end))
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
    if (witness && top_level(&s->src, "expect") < 0)
        fputs("expect:\n  - stuck: true\n", f);
    return fclose(f);
}

const char *deadlock_class_name(enum deadlock_class d)
{
    static const char *const names[DL_COUNT] = {"-", "A", "B", "C", "M3a", "M3b", "other"};
    return (unsigned)d < DL_COUNT ? names[d] : "?";
}

enum deadlock_class deadlock_class_of(const struct run_result *res)
{
    const char *w = res->wait_for;
    if (!res->stuck)
        return DL_NONE;
    if (!*w)
        return DL_OTHER;
    size_t arrows = 0;
    for (const char *p = strstr(w, " -> "); p; p = strstr(p + 4, " -> "))
        arrows++;
    const char *last = strrchr(w, ' ');
    last = last ? last + 1 : w;
    size_t first_len = strcspn(w, " ");
    if (strlen(last) == first_len && !strncmp(w, last, first_len))
        return arrows >= 3 ? DL_A : DL_B;
    char needle[64];
    snprintf(needle, sizeof needle, "  %s (", last);
    if ((res->stuck_report && strstr(res->stuck_report, needle)) || !res->wait_tail[0])
        return DL_OTHER; /* the chain ends at a stuck node */
    if (!strncmp(res->wait_head, "{:awaiting_sync_ack", 19))
        return DL_M3B;
    /* Does the waited-on tracker still hold the waiter's parked request?
     * The waiter's name is the `self:` of its dump. */
    const char *self = strstr(res->wait_head, "self: :\"");
    const char *pending = strstr(res->wait_tail, "pending_sync_reqs: [");
    if (self && pending) {
        char who[160];
        snprintf(who, sizeof who, "#PID<%.*s.", (int)strcspn(self + 8, "\""), self + 8);
        const char *end = strchr(pending, ']');
        const char *hit = strstr(pending, who);
        if (hit && end && hit < end)
            return DL_C;
    }
    return DL_M3A;
}

/* True when a run fails the goal: stuck in the class of the first witness,
 * or the goal expectation failing. */
static bool goal_failed(const struct shrink *s, const struct run_result *res)
{
    const struct shrink_spec *spec = s->spec;
    if (spec->goal_stuck)
        return res->stuck && (s->deadlock == DL_NONE || deadlock_class_of(res) == s->deadlock);
    /* The goal must be the most telling failure, in the order the fuzzer
     * names failures: a run that got stuck instead fails differently. */
    static const enum sc_expect_kind order[] = {SC_EXP_NOT_STUCK, SC_EXP_NO_DUPLICATES, SC_EXP_NO_LOSS,
                                                SC_EXP_PLACEMENT, SC_EXP_CONVERGED};
    if (res->stuck)
        return false;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < res->expect_count; i++)
            if (res->expects[i].kind == order[k] && res->expects[i].per_seed && !res->expects[i].ok)
                return order[k] == spec->goal_kind;
    for (size_t i = 0; i < res->expect_count; i++) /* another kind of expectation */
        if (res->expects[i].kind == spec->goal_kind && res->expects[i].per_seed && !res->expects[i].ok)
            return true;
    return false;
}

/* Runs the loaded candidate on `seed`; true (and the result kept) when it
 * fails the goal. */
static bool fails_on(struct shrink *s, const struct scenario *sc, uint64_t seed)
{
    s->trials++;
    struct run_options opt = {.seed = seed};
    struct run_result res;
    memset(&res, 0, sizeof res);
    bool failed = sim_run_scenario(sc, &opt, &res) == 0 && goal_failed(s, &res);
    if (failed) {
        run_result_free(&s->last);
        s->last = res;
    } else {
        run_result_free(&res);
    }
    return failed;
}

static bool out_of_trials(const struct shrink *s)
{
    return s->spec->max_trials && s->trials >= s->spec->max_trials;
}

/* Writes, loads and runs the candidate; true when it still fails, on the
 * current seed or, failing that, on the first failing seed of
 * 1..seed_search (which becomes the current seed: an edit such as a node
 * fewer changes every later draw, so the same seed rarely keeps a race). */
static bool still_fails(struct shrink *s)
{
    if (out_of_trials(s) || write_candidate(s, s->scratch, NULL) != 0)
        return false;
    struct scenario sc;
    char err[1024];
    if (scenario_load_file(s->scratch, &sc, err, sizeof err) != 0)
        return false; /* the edit broke the file (a dropped node is still named, say) */
    bool failed = fails_on(s, &sc, s->seed);
    for (uint64_t seed = 1; !failed && seed <= s->seed_search && !out_of_trials(s); seed++)
        if (seed != s->seed && fails_on(s, &sc, seed))
            s->seed = seed, failed = true;
    scenario_free(&sc);
    return failed;
}

/* One pass over the timeline items, last first; true when one was dropped. */
static bool drop_items(struct shrink *s)
{
    size_t starts[1024], end;
    size_t n = timeline_items(&s->src, starts, 1024, &end);
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
        if (still_fails(s)) {
            dropped = true;
            continue;
        }
        for (size_t i = starts[k]; i < to; i++)
            s->keep[i] = true;
    }
    return dropped;
}

/* Lowers the node count while the run still fails; true when it moved. */
static bool fewer_nodes(struct shrink *s, long current)
{
    bool moved = false;
    while (current > 2) {
        long before = s->nodes;
        s->nodes = current - 1;
        if (!still_fails(s)) {
            s->nodes = before;
            break;
        }
        current--;
        moved = true;
    }
    return moved;
}

/* Rewrites the node ids of a timeline line for the removal of node `gone`:
 * ids above it move down by one.  Returns false when the line names `gone`
 * (the item goes with the node). */
static bool renumber_line(char **line, long gone)
{
    char *in = *line, *out = malloc(strlen(in) + 1);
    if (!out)
        return false;
    size_t o = 0;
    bool names_gone = false;
    for (size_t i = 0; in[i];) {
        bool token = in[i] == 'n' && isdigit((unsigned char)in[i + 1]) &&
                     (i == 0 || !isalnum((unsigned char)in[i - 1]));
        if (!token) {
            out[o++] = in[i++];
            continue;
        }
        char *end;
        long id = strtol(in + i + 1, &end, 10);
        if (isalnum((unsigned char)*end) || *end == '_') { /* not an id: n1x */
            out[o++] = in[i++];
            continue;
        }
        names_gone |= id == gone;
        o += (size_t)sprintf(out + o, "n%ld", id > gone ? id - 1 : id);
        i = (size_t)(end - in);
    }
    out[o] = '\0';
    free(*line);
    *line = out;
    return !names_gone;
}

/* Removes node `gone` (1-based) from a cluster of `count` nodes: items
 * naming it go, higher ids move down.  Keeps the edit when the run still
 * fails. */
static bool remove_node(struct shrink *s, long gone, long count)
{
    size_t starts[1024], end;
    size_t n = timeline_items(&s->src, starts, 1024, &end);
    char **saved = malloc(s->src.count * sizeof *saved);
    bool *saved_keep = malloc(s->src.count * sizeof *saved_keep);
    if (!saved || !saved_keep) {
        free(saved);
        free(saved_keep);
        return false;
    }
    for (size_t i = 0; i < s->src.count; i++) {
        saved[i] = strdup(s->src.lines[i]);
        saved_keep[i] = s->keep[i];
    }
    for (size_t k = 0; k < n; k++) {
        size_t to = k + 1 < n ? starts[k + 1] : end;
        bool item_stays = true;
        for (size_t i = starts[k]; i < to; i++)
            if (s->keep[i] && !renumber_line(&s->src.lines[i], gone))
                item_stays = false;
        for (size_t i = starts[k]; i < to && !item_stays; i++)
            s->keep[i] = false;
    }
    long before = s->nodes;
    s->nodes = count - 1;
    bool ok = still_fails(s);
    for (size_t i = 0; i < s->src.count; i++) {
        if (ok) {
            free(saved[i]);
            continue;
        }
        free(s->src.lines[i]);
        s->src.lines[i] = saved[i];
        s->keep[i] = saved_keep[i];
    }
    if (!ok)
        s->nodes = before;
    free(saved);
    free(saved_keep);
    return ok;
}

/* Tries removing each node, highest id first; true when one went. */
static bool remove_nodes(struct shrink *s, long count)
{
    bool moved = false;
    for (long gone = count; gone >= 1 && count > 2 && !out_of_trials(s); gone--)
        if (remove_node(s, gone, count)) {
            count--;
            moved = true;
        }
    return moved;
}

/* A one-line setting that may go back to its default: `key: value` under
 * network, dns or the tracker, other than the ones that define the run. */
static bool droppable_setting(const struct text *t, size_t i)
{
    static const char *const keep[] = {"mode:", "service:", "name:", "strategy:", NULL};
    const char *l = t->lines[i];
    size_t ind = indent_of(l);
    if (ind == 0 || l[ind] == '-' || !strstr(l, ": ") || is_blank_or_comment(l))
        return false;
    for (size_t k = 0; keep[k]; k++)
        if (!strncmp(l + ind, keep[k], strlen(keep[k])))
            return false;
    if (i + 1 < t->count && indent_of(t->lines[i + 1]) > ind && !is_blank_or_comment(t->lines[i + 1]))
        return false; /* a parent key */
    const char *value = strstr(l, ": ") + 2;
    return *value && *value != '\n';
}

/* Drops the droppable settings between head + 1 and the end of its block;
 * true when one went. */
static bool drop_settings_under(struct shrink *s, long head)
{
    if (head < 0)
        return false;
    bool dropped = false;
    size_t ind = indent_of(s->src.lines[head]);
    for (size_t i = (size_t)head + 1; i < s->src.count; i++) {
        if (!is_blank_or_comment(s->src.lines[i]) && indent_of(s->src.lines[i]) <= ind)
            break;
        if (!s->keep[i] || !droppable_setting(&s->src, i))
            continue;
        s->keep[i] = false;
        if (still_fails(s))
            dropped = true;
        else
            s->keep[i] = true;
    }
    return dropped;
}

/* Drops single settings of the network, dns and tracker blocks (back to
 * their defaults); true when one went. */
static bool drop_settings(struct shrink *s)
{
    bool dropped = drop_settings_under(s, top_level(&s->src, "network"));
    dropped |= drop_settings_under(s, top_level(&s->src, "dns"));
    dropped |= drop_settings_under(s, in_block(&s->src, top_level(&s->src, "cluster"), "tracker"));
    return dropped;
}

/* Halves the first `for:` or `downtime:` duration in milliseconds of a
 * timeline line; false when it has none (or it is already short). */
static bool halve_window(char **line)
{
    static const char *const keys[] = {"for: ", "downtime: "};
    for (size_t k = 0; k < 2; k++) {
        char *at = strstr(*line, keys[k]);
        if (!at)
            continue;
        char *num = at + strlen(keys[k]), *end;
        long ms = strtol(num, &end, 10);
        if (strncmp(end, "ms", 2) != 0 || ms < 20)
            continue;
        char *out = malloc(strlen(*line) + 24);
        if (!out)
            return false;
        sprintf(out, "%.*s%ldms%s", (int)(num - *line), *line, ms / 2, end + 2);
        free(*line);
        *line = out;
        return true;
    }
    return false;
}

/* Tries halving every fault window of the kept timeline; true when one
 * shortened. */
static bool shorter_faults(struct shrink *s)
{
    size_t starts[1024], end;
    size_t n = timeline_items(&s->src, starts, 1024, &end);
    bool moved = false;
    for (size_t k = 0; k < n; k++) {
        size_t i = starts[k];
        if (!s->keep[i])
            continue;
        char *before = strdup(s->src.lines[i]);
        if (!before)
            break;
        if (halve_window(&s->src.lines[i]) && still_fails(s)) {
            moved = true;
            free(before);
            continue;
        }
        free(s->src.lines[i]);
        s->src.lines[i] = before;
    }
    return moved;
}

static size_t kept_items(const struct shrink *s, size_t *total)
{
    size_t starts[1024], end, kept = 0;
    *total = timeline_items(&s->src, starts, 1024, &end);
    for (size_t k = 0; k < *total; k++)
        kept += s->keep[starts[k]];
    return kept;
}

static void describe(struct shrink *s, struct shrink_outcome *out)
{
    out->trials = s->trials;
    out->items_after = kept_items(s, &out->items_before);
    out->nodes_after = s->nodes > 0 ? s->nodes : out->nodes_before;
    out->seed = s->seed;
    out->failed_at = (double)s->last.stuck_at / 1e9;
    snprintf(out->wait_for, sizeof out->wait_for, "%s", s->last.wait_for);
    out->deadlock = deadlock_class_of(&s->last);
    for (size_t i = 0; i < s->last.expect_count; i++)
        if (!s->last.expects[i].ok && s->last.expects[i].per_seed &&
            (s->spec->goal_stuck || s->last.expects[i].kind == s->spec->goal_kind)) {
            snprintf(out->detail, sizeof out->detail, "%s: %s", sc_expect_name(s->last.expects[i].kind),
                     s->last.expects[i].detail);
            break;
        }
}

static void shrink_loop(struct shrink *s, long nodes0, cs_time duration0)
{
    bool moved = true;
    while (moved && !out_of_trials(s)) {
        moved = drop_items(s);
        if (in_block(&s->src, top_level(&s->src, "cluster"), "nodes") >= 0 &&
            (fewer_nodes(s, s->nodes > 0 ? s->nodes : nodes0) ||
             remove_nodes(s, s->nodes > 0 ? s->nodes : nodes0)))
            moved = true;
        moved |= drop_settings(s);
        moved |= shorter_faults(s);
    }
    /* Cut the run to a little past the failure: the deadlock's detection,
     * or the last fault plus the time the expectations allow. */
    long cut = s->spec->goal_stuck ? (long)(s->last.stuck_at / 1000000) + 1000 : -1;
    if (cut > 0 && in_block(&s->src, top_level(&s->src, "limits"), "duration") >= 0 &&
        cut < (long)(duration0 / 1000000)) {
        s->duration_ms = cut;
        if (!still_fails(s))
            s->duration_ms = -1;
    }
}

int shrink_scenario(const struct shrink_spec *spec, struct shrink_outcome *out)
{
    memset(out, 0, sizeof *out);
    struct scenario sc;
    char err[1024];
    if (scenario_load_file(spec->in_path, &sc, err, sizeof err) != 0)
        return 2;
    long nodes0 = (long)sc.cluster.node_count;
    cs_time duration0 = sc.limits.duration;
    scenario_free(&sc);
    struct shrink s = {.spec = spec, .nodes = -1, .duration_ms = -1, .seed = spec->seed};
    snprintf(s.scratch, sizeof s.scratch, "%s.candidate", spec->out_path);
    if (read_lines(spec->in_path, &s.src) != 0 || !(s.keep = malloc((s.src.count + 1) * sizeof *s.keep)))
        return 2;
    for (size_t i = 0; i < s.src.count; i++)
        s.keep[i] = true;
    out->nodes_before = nodes0;
    int status = 0;
    out->reproduced = still_fails(&s); /* the given seed itself: seed_search is 0 */
    if (out->reproduced && spec->goal_stuck)
        s.deadlock = deadlock_class_of(&s.last); /* shrinking must not trade C for A */
    if (!out->reproduced) {
        status = 1;
    } else {
        s.seed_search = spec->search_seeds;
        shrink_loop(&s, nodes0, duration0);
        describe(&s, out);
        char header[1400];
        snprintf(header, sizeof header,
                 "# Shrunk by `%s` in %u trials:\n"
                 "# %zu of %zu timeline items kept, %ld of %ld nodes; on seed %llu it still fails:\n"
                 "#   %s%s%s\n# Run it with: clustersim run THIS_FILE\n",
                 spec->command ? spec->command : "clustersim shrink", s.trials, out->items_after,
                 out->items_before, out->nodes_after, nodes0, (unsigned long long)s.seed,
                 spec->goal_stuck ? (out->wait_for[0] ? out->wait_for : "stuck") : out->detail,
                 spec->goal_stuck ? ", deadlock class " : "", spec->goal_stuck ? deadlock_class_name(out->deadlock) : "");
        if (write_candidate(&s, spec->out_path, header) != 0)
            status = 2;
    }
    remove(s.scratch);
    run_result_free(&s.last);
    for (size_t i = 0; i < s.src.count; i++)
        free(s.src.lines[i]);
    free(s.src.lines);
    free(s.keep);
    return status;
}
