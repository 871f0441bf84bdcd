/*
 * reports/report_index.c: DIR/index.html, the page a CI artifact link
 * should point at: a table of every run, failing runs first.
 */
#include "report_index.h"
#include "report_html.h"

#include "../config/version.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* `path` without the leading "dir/", for links that survive moving DIR. */
static const char *relative(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

static void row(FILE *f, const char *dir, const json_t *run)
{
    const char *result = json_string_value(json_object_get(run, "result"));
    const char *report = json_string_value(json_object_get(run, "report"));
    const char *summary = json_string_value(json_object_get(run, "summary"));
    bool failed = result && !strcmp(result, "fail");
    fprintf(f, "<tr><td class=\"%s\">%s</td><td>", failed ? "bad" : "ok", failed ? "FAIL" : "pass");
    rep_html_escape(f, json_string_value(json_object_get(run, "scenario")));
    fprintf(f, "</td><td>%lld</td><td>", (long long)json_integer_value(json_object_get(run, "seed")));
    rep_html_escape(f, json_string_value(json_object_get(run, "outcome")));
    fprintf(f, "</td><td>");
    rep_html_escape(f, json_string_value(json_object_get(run, "failed")));
    fprintf(f, "</td><td>");
    if (report) {
        fprintf(f, "<a href=\"");
        rep_html_escape(f, relative(dir, report));
        fprintf(f, "\">report</a> ");
    }
    if (summary) {
        fprintf(f, "<a href=\"");
        rep_html_escape(f, relative(dir, summary));
        fprintf(f, "\">json</a>");
    }
    fprintf(f, "</td></tr>\n");
}

int report_index_write(const char *dir, const json_t *summary)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    long long passed = json_integer_value(json_object_get(summary, "passed"));
    long long failed = json_integer_value(json_object_get(summary, "failed"));
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<title>clustersim: %lld failed, %lld passed</title>\n<style>"
               "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}"
               "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}"
               "th{background:#f5f5f5}.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}"
               "</style></head>\n<body>\n<h1>clustersim runs: %lld failed, %lld passed</h1>\n"
               "<p>Written by clustersim <span id=\"version\">%s</span>.</p>\n"
               "<table id=\"runs\"><tr><th>verdict</th><th>scenario</th><th>seed</th><th>outcome</th>"
               "<th>failed expectations</th><th>files</th></tr>\n",
            failed, passed, failed, passed, CS_VERSION);
    const json_t *runs = json_object_get(summary, "runs");
    for (int pass = 0; pass < 2; pass++) { /* failures first */
        size_t i;
        const json_t *run;
        json_array_foreach(runs, i, run) {
            const char *result = json_string_value(json_object_get(run, "result"));
            if ((result && !strcmp(result, "fail")) == (pass == 0))
                row(f, dir, run);
        }
    }
    fprintf(f, "</table>\n</body></html>\n");
    return fclose(f);
}
