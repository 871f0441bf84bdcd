/*
 * reports/summary.h: the JSON summary of runs (with jansson): one object per
 * run (verdicts, timings, counters, trace hash) and one document per
 * invocation that lists every scenario with its seeds.
 */
#ifndef REPORTS_SUMMARY_H
#define REPORTS_SUMMARY_H

#include <jansson.h>

#include "../drivers/runner.h"

/* The JSON object describing one run (new reference), with the clustersim
 * version (`version`) whose trace hash it records. */
json_t *summary_run_json(const struct scenario *sc, const struct run_result *r, const char *replay);

/* Writes `doc` to `path`, indented; 0 on success. */
int summary_write(const char *path, json_t *doc);

#endif
