/*
 * cli/trace_check.h: `clustersim replay --check`: a recorded trace is
 * first validated against its own format (docs/trace-format.md) and then
 * re-run.  The file must start with a `run` header of a known format,
 * every record must have a time at or after the previous one (never
 * negative) and a node of the recorded scenario, the lines between header
 * and end must count to the end record's `lines`, and nothing may follow
 * the end.  Only then is the scenario re-run with the recorded seed: its
 * hash (taken from the events' binary form, docs/simulation.md) must be
 * the end record's, and the lines it writes (hashed, never kept) the
 * file's, byte for byte.
 */
#ifndef CLI_TRACE_CHECK_H
#define CLI_TRACE_CHECK_H

/* Validates and re-runs the trace at `path`; prints the verdict.  Returns
 * 0 when identical, 1 when the re-run's hash differs or the file's lines
 * are not the re-run's (edited), 2 when the file is not a valid trace
 * (message on stderr with path:line). */
int trace_check(const char *path);

#endif
