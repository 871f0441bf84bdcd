/*
 * reports/report.h: a run report directory.  `report_run` re-runs one
 * (scenario, seed) with a trace and samples, then writes beside the trace:
 * index.html (reports/report_html.h), the plots (reports/report_plot.h),
 * trace.perfetto.json (reports/perfetto.h) and summary.json.  Used by
 * `clustersim run --report`, by `fuzz` for every failing seed, and so by CI.
 */
#ifndef REPORTS_REPORT_H
#define REPORTS_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "../drivers/runner.h"

/* How often the report's sampler records sizes: about 400 samples a run,
 * never more often than every millisecond of virtual time. */
cs_time report_sample_interval(const struct scenario *sc);

/* Runs `sc` on `seed` writing the trace to `trace_path` between a header
 * and an end record (docs/trace-format.md); samples sizes when
 * `sample_every` > 0.  Returns 0 and fills res (free with
 * run_result_free), or -1 (file or memory). */
int report_traced_run(const struct scenario *sc, uint64_t seed, const char *trace_path,
                      cs_time sample_every, bool verbose, struct run_result *res);

/* Runs `sc` on `seed` again into the report directory `dir` (created if
 * needed) and writes the whole report; `replay` is the command that re-runs
 * the seed, shown after the command that replays the saved trace
 * (`PROGRAM replay DIR/trace.jsonl`, PROGRAM being replay's first word).
 * Returns 0, or -1 with the reason in err. */
int report_run(const char *dir, const struct scenario *sc, uint64_t seed, const char *replay,
               char *err, size_t err_size);

/* Writes the report of a run already made into `dir` from its trace file
 * (`trace`, which should be DIR/trace.jsonl for the page's links): the
 * plots, the Perfetto export, summary.json (with `replay_trace`, the
 * command on `trace`) and index.html.  The real world's runs use it with
 * the trace they observed.  0, or -1 with err. */
int report_from_trace(const char *dir, const struct scenario *sc, const struct run_result *res,
                      const char *replay, const char *trace, char *err, size_t err_size);

/* Creates `path` and its missing parents; 0 on success. */
int report_make_dirs(const char *path);

#endif
