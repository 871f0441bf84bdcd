/*
 * reports/junit.c: builds the XML in memory (suites need their counts in
 * their opening tag) and writes it at the end.
 */
#include "junit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_replay.h"

struct strbuf {
    char *data;
    size_t len, cap;
};

struct junit_writer {
    char *path;
    struct strbuf out, suite;
    size_t suite_tests, suite_failures, total_tests, total_failures;
    double suite_time, total_time;
    char suite_name[160];
};

static void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)need + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return;
        b->data = d;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

/* Appends `s` escaped for XML text and attributes. */
static void sb_xml(struct strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '&': sb_printf(b, "&amp;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                sb_printf(b, "?");
            else
                sb_printf(b, "%c", *s);
        }
    }
}

struct junit_writer *junit_open(const char *path)
{
    struct junit_writer *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return NULL;
    }
    return j;
}

void junit_begin_suite(struct junit_writer *j, const struct scenario *sc)
{
    j->suite.len = 0;
    j->suite_tests = j->suite_failures = 0;
    j->suite_time = 0;
    snprintf(j->suite_name, sizeof j->suite_name, "%s", sc->name);
}

static void case_open(struct junit_writer *j, const char *classname, const char *name, double secs)
{
    sb_printf(&j->suite, "    <testcase classname=\"");
    sb_xml(&j->suite, classname);
    sb_printf(&j->suite, "\" name=\"");
    sb_xml(&j->suite, name);
    sb_printf(&j->suite, "\" time=\"%.6f\">\n", secs);
    j->suite_tests++;
    j->suite_time += secs;
}

static void property(struct junit_writer *j, const char *name, const char *value)
{
    sb_printf(&j->suite, "        <property name=\"%s\" value=\"", name);
    sb_xml(&j->suite, value);
    sb_printf(&j->suite, "\"/>\n");
}

/* The command that replays the trace saved beside the report's index.html. */
static void trace_replay(const char *replay, const char *report, char *buf, size_t size)
{
    const char *slash = strrchr(report, '/');
    char trace[1400];
    snprintf(trace, sizeof trace, "%.*strace.jsonl", slash ? (int)(slash - report + 1) : 0, report);
    rep_trace_replay(replay, trace, buf, size);
}

void junit_add_case(struct junit_writer *j, const struct scenario *sc, const struct run_result *r,
                    const char *replay, const char *report)
{
    char name[64], replay_trace[2048] = "";
    if (report)
        trace_replay(replay, report, replay_trace, sizeof replay_trace);
    snprintf(name, sizeof name, "seed=%llu", (unsigned long long)r->seed);
    case_open(j, sc->name, name, r->wall_seconds);
    if (!r->pass) {
        j->suite_failures++;
        sb_printf(&j->suite, "      <properties>\n");
        property(j, "replay", replay);
        if (report) {
            property(j, "report", report);
            property(j, "replay_trace", replay_trace);
        }
        sb_printf(&j->suite, "      </properties>\n");
        sb_printf(&j->suite, "      <failure message=\"");
        for (size_t i = 0; i < r->expect_count; i++)
            if (r->expects[i].per_seed && !r->expects[i].ok) {
                sb_xml(&j->suite, sc_expect_name(r->expects[i].kind));
                sb_printf(&j->suite, ": ");
                sb_xml(&j->suite, r->expects[i].detail);
                sb_printf(&j->suite, "; ");
            }
        sb_printf(&j->suite, "\">");
        for (size_t i = 0; i < r->expect_count; i++) {
            const struct run_expect_result *e = &r->expects[i];
            sb_printf(&j->suite, "%s:%d:%d: %s %s: ", sc->path, e->pos.line, e->pos.col,
                      sc_expect_name(e->kind), e->ok ? "holds" : "FAILED");
            sb_xml(&j->suite, e->detail);
            sb_printf(&j->suite, "\n");
        }
        if (r->stuck_report) {
            sb_printf(&j->suite, "stuck nodes:\n");
            sb_xml(&j->suite, r->stuck_report);
        }
        if (r->registry_diff) {
            sb_printf(&j->suite, "registries disagree on:\n");
            sb_xml(&j->suite, r->registry_diff);
        }
        if (r->last_events) {
            sb_printf(&j->suite, "last events:\n");
            sb_xml(&j->suite, r->last_events);
        }
        sb_printf(&j->suite, "replay: ");
        sb_xml(&j->suite, replay);
        if (report) {
            sb_printf(&j->suite, "\nreport: ");
            sb_xml(&j->suite, report);
            sb_printf(&j->suite, "\nreplay the report's trace: ");
            sb_xml(&j->suite, replay_trace);
        }
        sb_printf(&j->suite, "\n</failure>\n");
    }
    sb_printf(&j->suite, "    </testcase>\n");
}

void junit_add_aggregate(struct junit_writer *j, const struct scenario *sc, const char *name,
                         bool ok, const char *detail)
{
    case_open(j, sc->name, name, 0);
    if (!ok) {
        j->suite_failures++;
        sb_printf(&j->suite, "      <failure message=\"");
        sb_xml(&j->suite, detail);
        sb_printf(&j->suite, "\"/>\n");
    } else {
        sb_printf(&j->suite, "      <system-out>");
        sb_xml(&j->suite, detail);
        sb_printf(&j->suite, "</system-out>\n");
    }
    sb_printf(&j->suite, "    </testcase>\n");
}

void junit_end_suite(struct junit_writer *j)
{
    sb_printf(&j->out, "  <testsuite name=\"");
    sb_xml(&j->out, j->suite_name);
    sb_printf(&j->out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.6f\">\n",
              j->suite_tests, j->suite_failures, j->suite_time);
    if (j->suite.len)
        sb_printf(&j->out, "%s", j->suite.data);
    sb_printf(&j->out, "  </testsuite>\n");
    j->total_tests += j->suite_tests;
    j->total_failures += j->suite_failures;
    j->total_time += j->suite_time;
}

int junit_close(struct junit_writer *j)
{
    int rc = -1;
    FILE *f = fopen(j->path, "w");
    if (f) {
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        fprintf(f, "<testsuites name=\"clustersim\" tests=\"%zu\" failures=\"%zu\" time=\"%.6f\">\n",
                j->total_tests, j->total_failures, j->total_time);
        if (j->out.len)
            fwrite(j->out.data, 1, j->out.len, f);
        fprintf(f, "</testsuites>\n");
        rc = fclose(f) == 0 ? 0 : -1;
    }
    free(j->out.data);
    free(j->suite.data);
    free(j->path);
    free(j);
    return rc;
}
