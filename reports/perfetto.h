/*
 * reports/perfetto.h: turning a recorded trace (docs/trace-format.md) into
 * a Chrome trace event / Perfetto JSON file that opens in ui.perfetto.dev:
 * one process per run, one track per node (incarnations, tracker states,
 * messages with flow arrows between sender and receiver, warnings, state
 * dumps, sample counters) and a "world" track (timeline actions and fault
 * windows).
 */
#ifndef REPORTS_PERFETTO_H
#define REPORTS_PERFETTO_H

#include <stddef.h>

/* How many message flows an export draws at most; the rest are counted in
 * otherData.flows_left_out. */
#define PERFETTO_MAX_FLOWS 200000

/* Reads the trace at `trace_path` and writes the Perfetto JSON file
 * `out_path`; 0 on success, -1 with a message in `err` ("FILE:LINE: reason"
 * for a line that is not a trace record; the partial output is removed). */
int perfetto_export(const char *trace_path, const char *out_path, char *err, size_t err_size);

/* perfetto_export drawing at most `max_flows` message flows (and their
 * message slices). */
int perfetto_export_capped(const char *trace_path, const char *out_path, size_t max_flows,
                           char *err, size_t err_size);

#endif
