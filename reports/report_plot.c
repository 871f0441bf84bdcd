/*
 * reports/report_plot.c: gnuplot data files, one script (plots.gp) and the
 * gnuplot run that turns them into PNG (pngcairo) and SVG.  The script is
 * kept in the report so a plot can be re-drawn or restyled by hand.
 */
#include "report_plot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_series.h"

#define MAX_MARKS 200 /* fault windows and instants drawn per plot */

static const struct {
    const char *state, *color;
} colors[] = {
    {"tracking", "#66c2a5"}, {"syncing", "#fc8d62"},  {"awaiting_sync_ack", "#e78ac3"},
    {"cluster_wait", "#ffd92f"}, {"up", "#8da0cb"}, {"stopping", "#a6761d"}, {"down", "#e0e0e0"},
};

const char *rep_state_color(const char *state)
{
    for (size_t i = 0; i < sizeof colors / sizeof *colors; i++)
        if (!strcmp(colors[i].state, state))
            return colors[i].color;
    return "#b3b3b3";
}

const char *rep_gnuplot_path(char *buf, size_t size)
{
    const char *env = getenv("CLUSTERSIM_GNUPLOT");
    if (env)
        return env[0] && strcmp(env, "none") != 0 ? env : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(buf, size, "%.*s/gnuplot", (int)len, path);
        if (len && access(buf, X_OK) == 0)
            return buf;
        path += len + (path[len] == ':');
    }
    return NULL;
}

static double secs(cs_time t)
{
    return (double)t / 1e9;
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fopen(path, "w");
}

static void write_states(const struct rep_model *m, FILE *f)
{
    for (size_t i = 0; i < m->node_count; i++)
        for (size_t s = 0; s < m->nodes[i].span_count; s++) {
            const struct rep_span *sp = &m->nodes[i].spans[s];
            unsigned rgb = (unsigned)strtoul(rep_state_color(sp->state) + 1, NULL, 16);
            fprintf(f, "%.9f %zu %.9f 0.35 %u\n", (secs(sp->from) + secs(sp->to)) / 2, i + 1,
                    (secs(sp->to) - secs(sp->from)) / 2, rgb);
        }
}

/* A registry plot is worth drawing when a tracker ran (a tracker state was
 * recorded) or some node held names; a membership-only run has neither. */
static bool has_registry(const struct rep_model *m)
{
    bool sampled = false, tracker = false;
    for (size_t i = 0; i < m->node_count; i++) {
        for (size_t s = 0; s < m->nodes[i].sample_count; s++) {
            sampled |= m->nodes[i].samples[s].registry >= 0;
            tracker |= m->nodes[i].samples[s].registry > 0;
        }
        for (size_t s = 0; s < m->nodes[i].span_count; s++)
            tracker |= strcmp(m->nodes[i].spans[s].state, "up") && strcmp(m->nodes[i].spans[s].state, "down") &&
                       strcmp(m->nodes[i].spans[s].state, "stopping");
    }
    return sampled && tracker;
}

static size_t sample_total(const struct rep_model *m)
{
    size_t total = 0;
    for (size_t i = 0; i < m->node_count; i++)
        total += m->nodes[i].sample_count;
    return total;
}

/* One block per node ("index i" in gnuplot): time, members, registry. */
static void write_sizes(const struct rep_model *m, FILE *f)
{
    for (size_t i = 0; i < m->node_count; i++) {
        const struct rep_node *n = &m->nodes[i];
        fprintf(f, "# %s\n", n->id);
        for (size_t s = 0; s < n->sample_count; s++)
            fprintf(f, "%.9f %ld %ld\n", secs(n->samples[s].t), n->samples[s].members,
                    n->samples[s].registry);
        if (!n->sample_count)
            fprintf(f, "NaN NaN NaN\n");
        fprintf(f, "\n\n");
    }
}

static int by_time(const void *a, const void *b)
{
    cs_time x = ((const struct rep_sample *)a)->t, y = ((const struct rep_sample *)b)->t;
    return x < y ? -1 : x > y;
}

/* For large clusters: per sample time, the least and most members and
 * names over the live nodes (the sampler samples every node at once). */
static void write_size_range(const struct rep_model *m, FILE *f)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < m->node_count; i++)
        total += m->nodes[i].sample_count;
    struct rep_sample *all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return;
    for (size_t i = 0; i < m->node_count; i++)
        for (size_t s = 0; s < m->nodes[i].sample_count; s++)
            all[k++] = m->nodes[i].samples[s];
    qsort(all, total, sizeof *all, by_time);
    for (size_t a = 0; a < total;) {
        long lo_m = all[a].members, hi_m = lo_m, lo_r = all[a].registry, hi_r = lo_r;
        size_t b = a;
        for (; b < total && all[b].t == all[a].t; b++) {
            lo_m = all[b].members < lo_m ? all[b].members : lo_m;
            hi_m = all[b].members > hi_m ? all[b].members : hi_m;
            lo_r = all[b].registry < lo_r ? all[b].registry : lo_r;
            hi_r = all[b].registry > hi_r ? all[b].registry : hi_r;
        }
        fprintf(f, "%.9f %ld %ld %ld %ld\n", secs(all[a].t), lo_m, hi_m, lo_r, hi_r);
        a = b;
    }
    free(all);
}

static void write_messages(const struct rep_model *m, FILE *f)
{
    fprintf(f, "time");
    for (size_t k = 0; k < m->type_count; k++)
        fprintf(f, " %s", m->types[k].name);
    fprintf(f, "\n");
    double width = secs(m->bucket_width);
    for (size_t b = 0; b < REP_BUCKETS; b++) {
        fprintf(f, "%.9f", ((double)b + 0.5) * width);
        for (size_t k = 0; k < m->type_count; k++)
            fprintf(f, " %.3f", (double)m->types[k].buckets[b] / width);
        fprintf(f, "\n");
    }
}

/* Shaded fault windows and dashed lines at instant faults. */
static void write_marks(const struct rep_model *m, FILE *f)
{
    fprintf(f, "unset object\nunset arrow\n");
    for (size_t i = 0; i < m->fault_count && i < MAX_MARKS; i++) {
        const struct rep_fault *x = &m->faults[i];
        if (x->to > x->from)
            fprintf(f, "set object %zu rect from %.9f, graph 0 to %.9f, graph 1 behind "
                       "fc rgb \"#f4b6b6\" fs solid 0.35 noborder\n",
                    i + 1, secs(x->from), secs(x->to));
        else
            fprintf(f, "set arrow %zu from %.9f, graph 0 to %.9f, graph 1 nohead lc rgb \"#c00000\" "
                       "dt 2\n", i + 1, secs(x->from), secs(x->from));
    }
    if (m->stuck_at >= 0)
        fprintf(f, "set arrow from %.9f, graph 0 to %.9f, graph 1 nohead lc rgb \"#000000\" lw 2\n",
                secs(m->stuck_at), secs(m->stuck_at));
}

static void write_timeline_plot(const struct rep_model *m, FILE *f)
{
    fprintf(f, "set output \"timeline.\".ext\nset title \"node states over %s time "
               "(shaded: fault windows; dashed: kills, stops, restarts; black: stuck)\"\n",
            m->real ? "real" : "virtual");
    fprintf(f, "set yrange [%zu.6:0.4]\nset ytics (", m->node_count);
    for (size_t i = 0; i < m->node_count; i++)
        fprintf(f, "%s\"%s\" %zu", i ? ", " : "", m->nodes[i].id, i + 1);
    fprintf(f, ")\nset key outside right top\nplot \"states.dat\" using 1:2:3:4:5 with boxxyerror "
               "fs solid 0.9 noborder lc rgb variable notitle");
    for (size_t c = 0; c < sizeof colors / sizeof *colors; c++)
        fprintf(f, ", NaN with boxes fs solid lc rgb \"%s\" title \"%s\"", colors[c].color,
                colors[c].state);
    fprintf(f, "\nset yrange [*:*]\nset ytics auto\n");
}

/* `s` inside a gnuplot double-quoted string (a line break as \n). */
static void gp_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* Integer sizes: whole-number ticks; one line per distinct series
 * (reports/report_series.h), or a least..most band over many nodes. */
static void write_size_plot(const struct rep_model *m, FILE *f, const char *name, enum rep_size size,
                            const char *title)
{
    struct rep_series_plan p;
    rep_series_plan(m, size, &p);
    bool band = m->node_count > REP_SERIES_MAX;
    bool merged = !band && p.count < m->node_count, dodged = !band && p.dodged;
    /* A second title line says how to read merged and moved lines. */
    const char *note = "";
    if (merged && dodged)
        note = "\\n(nodes with identical sizes share a line; lines that would coincide are drawn a few "
               "pixels apart, the first of the key highest)";
    else if (merged)
        note = "\\n(nodes with identical sizes share a line)";
    else if (dodged)
        note = "\\n(lines that would coincide are drawn a few pixels apart, the first of the key highest)";
    fprintf(f, "set output \"%s.\".ext\nset title \"%s%s\"\nset key outside right top\n"
               "set yrange [%.6f:%ld]\nset ytics 0, %ld\nset format y \"%%.0f\"\nplot ",
            name, title, note, p.y_min, p.y_max, p.tick);
    int column = size == REP_SIZE_MEMBERS ? 2 : 3;
    if (band) {
        int lo = size == REP_SIZE_MEMBERS ? 2 : 4;
        fprintf(f, "\"sizes-range.dat\" using 1:%d:%d with filledcurves fs transparent solid 0.3 "
                   "lc rgb \"#4c72b0\" title \"range over the %zu nodes\", \"\" using 1:%d with steps lw 1 "
                   "lc rgb \"#c44e52\" title \"least\", \"\" using 1:%d with steps lw 1 lc rgb \"#4c72b0\" "
                   "title \"most\"\n", lo, lo + 1, m->node_count, lo, lo + 1);
    } else {
        for (size_t l = 0; l < p.count; l++) {
            fprintf(f, "%s\"sizes.dat\" index %zu using 1:($%d%+.6f) with steps lw 1.5 title ", l ? ", " : "",
                    p.lines[l].node, column, p.lines[l].offset);
            gp_string(f, p.lines[l].label);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "set yrange [*:*]\nset ytics auto\nset format y\n");
}

static void write_script(const struct rep_model *m, FILE *f, struct rep_plots *out)
{
    int height = 140 + 28 * (int)(m->node_count < 40 ? m->node_count : 40);
    fprintf(f, "# Draws this report's plots: cd here && gnuplot plots.gp\n"
               "set xlabel \"%s time (s)\"\nset xrange [0:%.9f]\nset grid xtics ytics\n",
            m->real ? "real" : "virtual", secs(m->end));
    fprintf(f, "do for [ext in \"png svg\"] {\n");
    fprintf(f, "if (ext eq \"png\") { set terminal pngcairo noenhanced size 1100,%d font \",9\" } "
               "else { set terminal svg noenhanced size 1100,%d dynamic font \",9\" }\n", height, height);
    write_marks(m, f);
    write_timeline_plot(m, f);
    snprintf(out->names[out->count], sizeof out->names[0], "timeline");
    snprintf(out->titles[out->count++], sizeof out->titles[0], "Node states");
    fprintf(f, "if (ext eq \"png\") { set terminal pngcairo noenhanced size 1100,360 font \",9\" } "
               "else { set terminal svg noenhanced size 1100,360 dynamic font \",9\" }\n");
    if (sample_total(m)) {
        write_size_plot(m, f, "members", REP_SIZE_MEMBERS, "membership size (connected peers) per node");
        snprintf(out->names[out->count], sizeof out->names[0], "members");
        snprintf(out->titles[out->count++], sizeof out->titles[0], "Membership size");
    }
    if (has_registry(m)) {
        write_size_plot(m, f, "registry", REP_SIZE_REGISTRY, "registry size (names) per node");
        snprintf(out->names[out->count], sizeof out->names[0], "registry");
        snprintf(out->titles[out->count++], sizeof out->titles[0], "Registry size");
    }
    if (m->type_count) {
        fprintf(f, "set output \"messages.\".ext\nset title \"messages sent per second of virtual "
                   "time, by type\"\nset key outside right top\n"
                   "plot for [c=2:%zu] \"messages.dat\" using 1:c with lines lw 1.5 title columnheader(c)\n",
                m->type_count + 1);
        snprintf(out->names[out->count], sizeof out->names[0], "messages");
        snprintf(out->titles[out->count++], sizeof out->titles[0], "Message rates");
    }
    fprintf(f, "set output\n}\n");
}

/* Runs `gnuplot plots.gp` inside dir, output in gnuplot.log; exit status. */
static int run_gnuplot(const char *gnuplot, const char *dir)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp(gnuplot, gnuplot, "plots.gp", (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool outputs_exist(const char *dir, const struct rep_plots *p)
{
    for (size_t i = 0; i < p->count; i++)
        for (int k = 0; k < 2; k++) {
            char path[1200];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s.%s", dir, p->names[i], k ? "svg" : "png");
            if (stat(path, &st) != 0 || st.st_size == 0)
                return false;
        }
    return true;
}

static int write_file(const char *dir, const char *name, const struct rep_model *m,
                      void (*fn)(const struct rep_model *, FILE *))
{
    FILE *f = open_in(dir, name);
    if (!f)
        return -1;
    fn(m, f);
    return fclose(f) == 0 ? 0 : -1;
}

int rep_plots_draw(const struct rep_model *m, const char *dir, struct rep_plots *out)
{
    memset(out, 0, sizeof *out);
    if (write_file(dir, "states.dat", m, write_states) != 0 ||
        write_file(dir, "sizes.dat", m, write_sizes) != 0 ||
        write_file(dir, "sizes-range.dat", m, write_size_range) != 0 ||
        write_file(dir, "messages.dat", m, write_messages) != 0)
        return -1;
    FILE *f = open_in(dir, "plots.gp");
    if (!f)
        return -1;
    write_script(m, f, out);
    if (fclose(f) != 0)
        return -1;
    char buf[1024];
    const char *gnuplot = rep_gnuplot_path(buf, sizeof buf);
    if (!gnuplot) {
        snprintf(out->why_not, sizeof out->why_not,
                 "plots skipped: gnuplot is not installed (apt-get install gnuplot-nox); the data "
                 "files and plots.gp are here to draw them later");
        return 0;
    }
    int status = run_gnuplot(gnuplot, dir);
    out->drawn = status == 0 && outputs_exist(dir, out);
    if (!out->drawn)
        snprintf(out->why_not, sizeof out->why_not,
                 "plots skipped: %s exited with status %d (see gnuplot.log)", gnuplot, status);
    return 0;
}
