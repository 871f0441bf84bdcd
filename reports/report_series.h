/*
 * reports/report_series.h: how the size plots (membership and registry
 * sizes, whole numbers) draw one step line per node so that no line hides
 * another, and the whole-number ticks of their y axis.
 *
 * Nodes whose series are identical (same sample times, same values) share
 * one line whose key names them all ("n1, n2, n3"): a reader sees at once
 * that they agree, and reads exact values off it.  When distinct lines still
 * coincide over a stretch (n3 cut off in a partition, equal to the others
 * before and after), every line is moved a few pixels off its value, the
 * first line of the key highest, and the plot says so: the lines stay
 * readable against the integer grid and each stays visible where they
 * overlap.  Dashes or widths would leave a line on top of another hard to
 * tell apart, so neither is used.
 */
#ifndef REPORTS_REPORT_SERIES_H
#define REPORTS_REPORT_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "report_model.h"

#define REP_SERIES_MAX 16   /* more nodes: the plot draws a least..most band instead */
#define REP_PLOT_AREA_PX 270 /* height of a size plot's drawing area (360 px images) */
#define REP_DODGE_PX 3.0    /* distance between lines that would coincide */

enum rep_size { REP_SIZE_MEMBERS, REP_SIZE_REGISTRY };

/* One line: the nodes drawn by it and where it is drawn. */
struct rep_series_line {
    size_t node;                   /* index of its first node in the model: the data drawn */
    size_t nodes;                  /* how many nodes share it */
    char label[REP_SERIES_MAX * (REP_LABEL + 2)]; /* "n1, n2, n3", a line break every few ids */
    double offset;                 /* added to the values when drawn, in y units */
};

struct rep_series_plan {
    long top;                      /* largest value of any node */
    long tick;                     /* y tick step: a whole number >= 1 */
    long y_max;                    /* top of the y range: a multiple of tick above top */
    double y_min;                  /* bottom of the y range: a little below 0 */
    bool dodged;                   /* lines moved apart (they coincided somewhere) */
    size_t count;
    struct rep_series_line lines[REP_SERIES_MAX];
};

/* The tick step for a y axis from 0 to `top`: 1, 2, 5, 10, 20, 50, ...,
 * the least giving at most 8 steps. */
long rep_tick_step(long top);

/* Plans the plot of `size` for the model's nodes (at most REP_SERIES_MAX of
 * them are given lines; with more, only the axis fields are meaningful). */
void rep_series_plan(const struct rep_model *m, enum rep_size size, struct rep_series_plan *out);

/* Whether two nodes' step lines share a stretch of time at the same value. */
bool rep_series_coincide(const struct rep_node *a, const struct rep_node *b, enum rep_size size);

#endif
