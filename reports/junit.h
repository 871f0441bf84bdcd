/*
 * reports/junit.h: JUnit XML for any CI: one <testsuite> per scenario file,
 * one <testcase> per (scenario, seed), with the failed expectations, the
 * last events and the replay command in the failure body.
 */
#ifndef REPORTS_JUNIT_H
#define REPORTS_JUNIT_H

#include "../drivers/runner.h"

struct junit_writer;

/* Starts a report to be written to `path` on junit_close; NULL on failure. */
struct junit_writer *junit_open(const char *path);
/* Opens a suite for one scenario file. */
void junit_begin_suite(struct junit_writer *j, const struct scenario *sc);
/* Adds one run as a test case; `replay` is the command that reproduces it
 * and `report` the path of its run report (index.html) or NULL.  A failing
 * case carries both in its failure body and as testcase properties, and
 * with a report also the command that replays the trace saved beside it
 * (property `replay_trace`). */
void junit_add_case(struct junit_writer *j, const struct scenario *sc, const struct run_result *r,
                    const char *replay, const char *report);
/* Adds a failing case that is not a single run (a seed-range expectation). */
void junit_add_aggregate(struct junit_writer *j, const struct scenario *sc, const char *name,
                         bool ok, const char *detail);
/* Closes the current suite. */
void junit_end_suite(struct junit_writer *j);
/* Writes the file and frees the writer; 0 on success. */
int junit_close(struct junit_writer *j);

#endif
