/*
 * cli/trace_check.h: `clustersim replay --check`: a recorded trace is
 * first validated against its own format (docs/trace-format.md) and then
 * re-run.  The file must start with a `run` header of a known format,
 * every record must have a time at or after the previous one (never
 * negative) and a node of the recorded scenario, the lines between header
 * and end must hash to the end record's hash and count to its `lines`, and
 * nothing may follow the end.  Only then is the scenario re-run with the
 * recorded seed and its hash compared.
 */
#ifndef CLI_TRACE_CHECK_H
#define CLI_TRACE_CHECK_H

/* Validates and re-runs the trace at `path`; prints the verdict.  Returns
 * 0 when identical, 1 when the re-run differs or the file does not match
 * its own hash, 2 when the file is not a valid trace (message on stderr
 * with path:line). */
int trace_check(const char *path);

#endif
