/*
 * reports/report_html.h: the run report page (index.html): verdict,
 * replay command, expectations, the wait-for cycle and state dumps of a
 * stuck run, the plots (or why they were skipped), a state strip and
 * tables that need no plot, message totals, fault windows, last events and
 * links to the files beside it.  The replay section names the saved trace
 * first (reports/report_replay.h) and the re-run second; the summary shows
 * the trace hash with the clustersim version (CS_VERSION) that wrote it.
 * One self-contained file: inline style, a few lines of script that only
 * mark the page as loaded for tests.
 */
#ifndef REPORTS_REPORT_HTML_H
#define REPORTS_REPORT_HTML_H

#include <stdio.h>

#include "../drivers/runner.h"
#include "report_model.h"
#include "report_plot.h"

/* What the page shows besides the model. */
struct rep_page {
    const struct scenario *sc;
    const struct run_result *res;
    const char *replay;          /* the command that re-runs the seed (or, for the real
                                    world, runs the scenario again) */
    const char *trace;           /* the trace saved in the report, as the user would type
                                    its path (DIR/trace.jsonl) */
    const struct rep_model *model;
    const struct rep_plots *plots;
    const char *files[8];        /* files of the report to link to, NULL-ended */
};

/* Writes the page to `out`. */
void rep_html_write(FILE *out, const struct rep_page *page);

/* Writes `s` with <, >, & and " escaped for HTML text and attributes. */
void rep_html_escape(FILE *f, const char *s);

/* The run's outcome in words ("stuck at 7s (virtual time)"). */
void rep_outcome_text(const struct run_result *r, char *buf, size_t size);

/* The run's mode in words ("cluster, tracker swarm, membership fixed"). */
void rep_mode_text(const struct scenario *sc, char *buf, size_t size);

#endif
