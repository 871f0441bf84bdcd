/*
 * reports/report_index.h: the entry page of a report directory
 * (DIR/index.html): every run of one `clustersim run --report DIR`
 * invocation, failures first, each with its verdict, outcome, failed
 * expectations and a link to its run report when it has one; and the
 * clustersim version that wrote it.
 */
#ifndef REPORTS_REPORT_INDEX_H
#define REPORTS_REPORT_INDEX_H

#include <jansson.h>

/* Writes DIR/index.html from the invocation's summary document ({"runs":
 * [{scenario, seed, result, outcome, failed, summary, report?}], "passed",
 * "failed"}); links are made relative to dir.  0 on success. */
int report_index_write(const char *dir, const json_t *summary);

#endif
