/*
 * reports/report_plot.h: the report's plots, drawn by gnuplot when it is
 * installed: the state timeline of every node, membership and registry
 * sizes over time (whole-number ticks, no line hidden under another:
 * reports/report_series.h), message rates by type; fault windows shaded.
 * Each plot is written as PNG and SVG beside its data files and gnuplot
 * script.
 */
#ifndef REPORTS_REPORT_PLOT_H
#define REPORTS_REPORT_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "report_model.h"

#define REP_PLOT_MAX 4

struct rep_plots {
    bool drawn;                     /* gnuplot ran and every file exists */
    char why_not[256];              /* when not drawn: the reason, for the page */
    size_t count;
    char names[REP_PLOT_MAX][32];   /* base names: "timeline" -> timeline.png/.svg */
    char titles[REP_PLOT_MAX][64];
};

/* The gnuplot program to use: $CLUSTERSIM_GNUPLOT when set ("none" or empty
 * turns plots off), else `gnuplot` from PATH; NULL when there is none. */
const char *rep_gnuplot_path(char *buf, size_t size);

/* Writes the data files and plots.gp into `dir` and runs gnuplot there;
 * fills `out` (drawn or why not).  Returns 0 unless a file cannot be
 * written. */
int rep_plots_draw(const struct rep_model *m, const char *dir, struct rep_plots *out);

/* The colour (#rrggbb) a state is drawn in, on plots and on the page. */
const char *rep_state_color(const char *state);

#endif
