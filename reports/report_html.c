/*
 * reports/report_html.c: writes index.html for one run.  Everything the
 * page needs is inline except the plot images and the linked files, which
 * sit beside it in the report directory.
 */
#include "report_html.h"

#include <string.h>

#include "../config/version.h"
#include "../sim/dist.h"
#include "report_replay.h"

void rep_html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *dur(cs_time t, char *buf, size_t size)
{
    sim_duration_format(t, buf, size);
    return buf;
}

void rep_mode_text(const struct scenario *sc, char *buf, size_t size)
{
    const struct sc_cluster *c = &sc->cluster;
    if (c->protocol == SC_PROTO_PING) {
        snprintf(buf, size, "ping (test protocol)");
        return;
    }
    snprintf(buf, size, "cluster: membership %s%s%s", c->cluster.mem.mode == MEM_LIBCLUSTER ? "libcluster" : "fixed",
             c->cluster.tracker ? ", tracker " : "",
             c->cluster.tracker ? (c->cluster.trk.mode == TRK_SWARM ? "swarm" : "fixed") : "");
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}"
    "h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;"
    "text-align:left;vertical-align:top}th{background:#f5f5f5}"
    "pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;overflow-x:auto;white-space:pre-wrap}"
    ".pass{background:#1a7f37;color:#fff;padding:2px 8px;border-radius:4px}"
    ".fail{background:#cf222e;color:#fff;padding:2px 8px;border-radius:4px}"
    ".ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.note{color:#666}"
    ".strip{position:relative;height:18px;background:#fafafa;border:1px solid #ddd;margin:2px 0}"
    ".strip div{position:absolute;top:0;height:18px}.fault{position:absolute;top:0;height:100%;"
    "background:rgba(220,60,60,.18)}.lane{display:grid;grid-template-columns:60px 1fr;gap:6px;"
    "align-items:center}.legend span{display:inline-block;padding:0 6px;margin-right:6px}"
    "img{max-width:100%;border:1px solid #eee}p code{white-space:nowrap}";

static void head(FILE *f, const struct rep_page *p)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"generator\" content=\"clustersim %s\">\n<title>", CS_VERSION);
    rep_html_escape(f, p->sc->name);
    const char *run = p->model->real ? "trial" : "seed";
    fprintf(f, " %s %llu: %s</title>\n<style>%s</style>\n</head>\n<body>\n", run,
            (unsigned long long)p->res->seed, p->res->pass ? "PASS" : "FAIL", style);
    fprintf(f, "<h1><span class=\"%s\">%s</span> ", p->res->pass ? "pass" : "fail",
            p->res->pass ? "PASS" : "FAIL");
    rep_html_escape(f, p->sc->name);
    fprintf(f, " &middot; %s %llu%s</h1>\n", run, (unsigned long long)p->res->seed,
            p->model->real ? " (real world: real daemons, observed at every probe)" : "");
}

void rep_outcome_text(const struct run_result *r, char *buf, size_t size)
{
    char a[32];
    if (r->internal[0])
        snprintf(buf, size, "%s", r->internal);
    else if (r->budget[0])
        snprintf(buf, size, "%s", r->budget);
    else if (r->stuck)
        snprintf(buf, size, "stuck at %s (virtual time)", dur(r->stuck_at, a, sizeof a));
    else if (r->converged_after >= 0)
        snprintf(buf, size, "converged %s after the last fault", dur(r->converged_after, a, sizeof a));
    else
        snprintf(buf, size, "not converged%s%s", r->unconverged[0] ? ": " : "", r->unconverged);
}

static void summary(FILE *f, const struct rep_page *p)
{
    const struct run_result *r = p->res;
    char mode[128], out[400], a[32];
    rep_mode_text(p->sc, mode, sizeof mode);
    rep_outcome_text(r, out, sizeof out);
    fprintf(f, "<h2>Summary</h2>\n<table id=\"summary\">\n<tr><th>scenario</th><td>");
    rep_html_escape(f, p->sc->name);
    fprintf(f, " (<code>");
    rep_html_escape(f, p->sc->path);
    fprintf(f, "</code>)</td></tr>\n<tr><th>seed</th><td>%llu</td></tr>\n<tr><th>mode</th><td>",
            (unsigned long long)r->seed);
    rep_html_escape(f, mode);
    fprintf(f, "</td></tr>\n<tr><th>nodes</th><td>%zu</td></tr>\n", p->sc->cluster.node_count);
    fprintf(f, "<tr><th>outcome</th><td>");
    rep_html_escape(f, out);
    fprintf(f, "</td></tr>\n<tr><th>virtual time</th><td>%s</td></tr>\n", dur(r->end_time, a, sizeof a));
    /* The hash is this build's: a later version may hash the same run differently. */
    fprintf(f, "<tr><th>events</th><td>%llu (trace hash <code>%016llx</code>, clustersim "
               "<span id=\"version\">%s</span>)</td></tr>\n",
            (unsigned long long)r->events, (unsigned long long)r->trace_hash, CS_VERSION);
    if (r->has_registry)
        fprintf(f, "<tr><th>registries</th><td>%zu..%zu names per live node, %s</td></tr>\n",
                r->registry_min, r->registry_max, r->registries_agree ? "all agree" : "they DISAGREE");
    fprintf(f, "</table>\n");
}

static void command(FILE *f, const char *id, const char *text)
{
    fprintf(f, "<pre id=\"%s\">", id);
    rep_html_escape(f, text);
    fprintf(f, "</pre>\n");
}

/* The saved trace first (it is this very run), the re-run second. */
static void replay_section(FILE *f, const struct rep_page *p)
{
    char replay[2048], program[512];
    rep_trace_replay(p->replay, p->trace, replay, sizeof replay);
    rep_command_program(p->replay, program, sizeof program);
    fprintf(f, "<h2>Replay</h2>\n");
    if (p->model->real) {
        fprintf(f, "<p>This trace was observed on real daemons: it has no seed, so <code>");
        rep_html_escape(f, program);
        fprintf(f, " replay --check</code> refuses it (there is no run to repeat and compare). "
                   "What is possible: read the saved trace, record by record (filter with "
                   "<code>--node</code>, <code>--kind</code>, <code>--from</code>, <code>--to</code>; "
                   "<code>--sequence</code> draws a message chart, <code>--perfetto OUT.json</code> "
                   "writes it for ui.perfetto.dev):</p>\n");
        command(f, "replay", replay);
        fprintf(f, "<p>or run the scenario again on real daemons (a new trial, not this run):</p>\n");
        command(f, "rerun", p->replay);
        return;
    }
    fprintf(f, "<p>Replay this run&rsquo;s trace, saved beside this page (prints every record; filter "
               "with <code>--node</code>, <code>--kind</code>, <code>--from</code>, <code>--to</code>; "
               "<code>--sequence</code> draws a message chart, <code>--perfetto OUT.json</code> writes "
               "it for ui.perfetto.dev):</p>\n");
    command(f, "replay", replay);
    fprintf(f, "<p>Re-run the seed (simulates the run again and writes a new trace with the same "
               "hash on the same version):</p>\n");
    command(f, "rerun", p->replay);
}

static void expectations(FILE *f, const struct rep_page *p)
{
    const struct run_result *r = p->res;
    fprintf(f, "<h2>Expectations</h2>\n<table id=\"expectations\">\n"
               "<tr><th>where</th><th>expectation</th><th>verdict</th><th>detail</th></tr>\n");
    for (size_t i = 0; i < r->expect_count; i++) {
        const struct run_expect_result *e = &r->expects[i];
        fprintf(f, "<tr><td>");
        rep_html_escape(f, p->sc->path);
        fprintf(f, ":%d:%d</td><td>%s</td><td class=\"%s\">%s</td><td>", e->pos.line, e->pos.col,
                sc_expect_name(e->kind), !e->per_seed ? "note" : e->ok ? "ok" : "bad",
                !e->per_seed ? "over seeds" : e->ok ? "holds" : "FAILED");
        rep_html_escape(f, e->detail);
        fprintf(f, "</td></tr>\n");
    }
    if (!r->expect_count)
        fprintf(f, "<tr><td colspan=\"4\" class=\"note\">the scenario states no expectation</td></tr>\n");
    fprintf(f, "</table>\n");
}

static void registry_section(FILE *f, const struct rep_page *p)
{
    if (!p->res->registry_diff)
        return;
    fprintf(f, "<h2>Registries disagree</h2>\n<p>The names the live nodes disagree on at the end, with "
               "each node's owner (<code>-</code>: the node does not hold the name):</p>\n"
               "<pre id=\"registry-diff\">");
    rep_html_escape(f, p->res->registry_diff);
    fprintf(f, "</pre>\n");
}

static void stuck_section(FILE *f, const struct rep_page *p)
{
    const struct run_result *r = p->res;
    if (!r->stuck && !r->wait_for[0])
        return;
    fprintf(f, "<h2>Stuck: the wait-for cycle</h2>\n");
    if (r->wait_for[0]) {
        fprintf(f, "<p>Each node waits on the next; none can make progress:</p>\n<pre id=\"wait-for\">");
        rep_html_escape(f, r->wait_for);
        fprintf(f, "</pre>\n");
    } else {
        fprintf(f, "<p class=\"note\">stuck, but no wait-for cycle was found among the stuck nodes</p>\n");
    }
    if (r->wait_head[0]) {
        fprintf(f, "<p>The last waiter in the cycle:</p>\n<pre>");
        rep_html_escape(f, r->wait_head);
        fprintf(f, "</pre>\n<p>The node it waits on:</p>\n<pre>");
        rep_html_escape(f, r->wait_tail);
        fprintf(f, "</pre>\n");
    }
    if (r->stuck_report) {
        fprintf(f, "<p>State dumps of the stuck nodes:</p>\n<pre id=\"dumps\">");
        rep_html_escape(f, r->stuck_report);
        fprintf(f, "</pre>\n");
    }
}

/* The HTML state strip: one bar per node, no plot needed. */
static void strip(FILE *f, const struct rep_model *m)
{
    double end = m->end > 0 ? (double)m->end : 1;
    fprintf(f, "<h2>Node states at a glance</h2>\n<div class=\"legend\">");
    const char *states[] = {"tracking", "syncing", "awaiting_sync_ack", "cluster_wait", "up", "stopping", "down"};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        fprintf(f, "<span style=\"background:%s\">%s</span>", rep_state_color(states[i]), states[i]);
    fprintf(f, "<span class=\"fault\" style=\"position:static\">fault window</span></div>\n");
    for (size_t i = 0; i < m->node_count; i++) {
        const struct rep_node *n = &m->nodes[i];
        fprintf(f, "<div class=\"lane\"><code>%s</code><div class=\"strip\">", n->id);
        for (size_t s = 0; s < n->span_count; s++) {
            const struct rep_span *sp = &n->spans[s];
            char a[32], b[32];
            fprintf(f, "<div style=\"left:%.3f%%;width:%.3f%%;background:%s\" title=\"%s %s..%s\"></div>",
                    100.0 * (double)sp->from / end, 100.0 * (double)(sp->to - sp->from) / end,
                    rep_state_color(sp->state), sp->state, dur(sp->from, a, sizeof a), dur(sp->to, b, sizeof b));
        }
        for (size_t k = 0; k < m->fault_count; k++)
            if (m->faults[k].to > m->faults[k].from)
                fprintf(f, "<div class=\"fault\" style=\"left:%.3f%%;width:%.3f%%\"></div>",
                        100.0 * (double)m->faults[k].from / end,
                        100.0 * (double)(m->faults[k].to - m->faults[k].from) / end);
        fprintf(f, "</div></div>\n");
    }
}

static void plots(FILE *f, const struct rep_plots *pl)
{
    fprintf(f, "<h2>Plots</h2>\n");
    if (!pl->drawn) {
        fprintf(f, "<p class=\"note\" id=\"plots-skipped\">");
        rep_html_escape(f, pl->why_not);
        fprintf(f, "</p>\n");
        return;
    }
    for (size_t i = 0; i < pl->count; i++)
        fprintf(f, "<figure><img src=\"%s.png\" alt=\"%s\"><figcaption>%s (<a href=\"%s.svg\">SVG</a>)"
                   "</figcaption></figure>\n", pl->names[i], pl->titles[i], pl->titles[i], pl->names[i]);
}

static void messages(FILE *f, const struct rep_model *m)
{
    fprintf(f, "<h2>Messages by type</h2>\n<table id=\"messages\"><tr><th>type</th><th>sent</th>"
               "<th>peak rate (per second of virtual time)</th></tr>\n");
    double width = (double)m->bucket_width / 1e9;
    for (size_t k = 0; k < m->type_count; k++) {
        uint64_t peak = 0;
        for (size_t b = 0; b < REP_BUCKETS; b++)
            peak = m->types[k].buckets[b] > peak ? m->types[k].buckets[b] : peak;
        fprintf(f, "<tr><td>%s</td><td>%llu</td><td>%.0f</td></tr>\n", m->types[k].name,
                (unsigned long long)m->types[k].total, (double)peak / width);
    }
    fprintf(f, "</table>\n");
}

static void faults(FILE *f, const struct rep_model *m)
{
    fprintf(f, "<h2>Faults</h2>\n");
    if (!m->fault_count) {
        fprintf(f, "<p class=\"note\">no fault in this run</p>\n");
        return;
    }
    fprintf(f, "<table id=\"faults\"><tr><th>from</th><th>to</th><th>what</th></tr>\n");
    for (size_t i = 0; i < m->fault_count; i++) {
        char a[32], b[32];
        fprintf(f, "<tr><td>%s</td><td>%s</td><td>", dur(m->faults[i].from, a, sizeof a),
                m->faults[i].to > m->faults[i].from ? dur(m->faults[i].to, b, sizeof b) : "(instant)");
        rep_html_escape(f, m->faults[i].what);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void node_table(FILE *f, const struct rep_model *m)
{
    fprintf(f, "<h2>Nodes</h2>\n<table id=\"nodes\"><tr><th>node</th><th>name</th><th>states (from)</th>"
               "<th>last sample</th><th>last state dump</th></tr>\n");
    for (size_t i = 0; i < m->node_count; i++) {
        const struct rep_node *n = &m->nodes[i];
        fprintf(f, "<tr><td>%s</td><td>", n->id);
        rep_html_escape(f, n->name);
        fprintf(f, "</td><td>");
        for (size_t s = 0; s < n->span_count && s < 40; s++) {
            char a[32];
            fprintf(f, "%s%s@%s", s ? ", " : "", n->spans[s].state, dur(n->spans[s].from, a, sizeof a));
        }
        fprintf(f, "%s</td><td>", n->span_count > 40 ? ", ..." : "");
        if (n->sample_count) {
            const struct rep_sample *s = &n->samples[n->sample_count - 1];
            fprintf(f, "%ld members", s->members);
            if (s->registry >= 0)
                fprintf(f, ", %ld names", s->registry);
        }
        fprintf(f, "</td><td><code>");
        rep_html_escape(f, n->last_dump);
        fprintf(f, "</code></td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

static const char script[] =
    "<script>\n"
    "/* Marks the body for automated checks once every image decoded and no\n"
    "   script error happened (loaded), or with the errors. */\n"
    "(function(){var errors=[];window.addEventListener('error',function(e){errors.push(e.message||"
    "(e.target&&e.target.src)||'error');},true);\n"
    "window.addEventListener('load',function(){var imgs=document.images;for(var i=0;i<imgs.length;"
    "i++){if(!imgs[i].complete||imgs[i].naturalWidth===0)errors.push('image '+imgs[i].getAttribute"
    "('src')+' did not load');}\ndocument.body.setAttribute('data-report',errors.length?'errors: '+"
    "errors.join('; '):'loaded');var s=document.getElementById('load-status');if(s)s.textContent="
    "document.body.getAttribute('data-report');});})();\n</script>\n";

void rep_html_write(FILE *f, const struct rep_page *p)
{
    head(f, p);
    summary(f, p);
    replay_section(f, p);
    expectations(f, p);
    stuck_section(f, p);
    registry_section(f, p);
    strip(f, p->model);
    plots(f, p->plots);
    messages(f, p->model);
    faults(f, p->model);
    node_table(f, p->model);
    if (p->res->last_events) {
        fprintf(f, "<h2>Last events</h2>\n<pre>");
        rep_html_escape(f, p->res->last_events);
        fprintf(f, "</pre>\n");
    }
    fprintf(f, "<h2>Files</h2>\n<ul>\n");
    for (size_t i = 0; i < 8 && p->files[i]; i++)
        fprintf(f, "<li><a href=\"%s\">%s</a></li>\n", p->files[i], p->files[i]);
    fprintf(f, "</ul>\n<p class=\"note\">Open <code>trace.perfetto.json</code> in "
               "<a href=\"https://ui.perfetto.dev\">ui.perfetto.dev</a> for a zoomable view with message "
               "arrows. Written by clustersim %s. Page status: <span id=\"load-status\">loading</span></p>\n"
               "%s</body></html>\n",
            CS_VERSION, script);
}
