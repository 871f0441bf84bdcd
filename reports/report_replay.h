/*
 * reports/report_replay.h: the commands a run report offers to see its run
 * again.  First `PROGRAM replay DIR/trace.jsonl` on the trace saved in the
 * report directory, written as the user would type it (the program and the
 * report directory as they were given on the command line, quoted for a
 * POSIX shell when needed); then the command that re-runs the seed, which
 * the caller (cli/cmd_run.c, cli/fuzz_seed.c) passes in and whose first
 * word names the program.
 */
#ifndef REPORTS_REPORT_REPLAY_H
#define REPORTS_REPORT_REPLAY_H

#include <stddef.h>

/* The first word of `command` ("bin/clustersim" of "bin/clustersim run
 * ..."), or "clustersim" when `command` is NULL or starts with a blank. */
void rep_command_program(const char *command, char *buf, size_t size);

/* `path` with repeated slashes collapsed, in single quotes when it holds a
 * byte other than letters, digits and _ . / @ % + = : , - (a quote inside
 * is written '\''), so that a shell passes it as one word unchanged. */
void rep_shell_path(const char *path, char *buf, size_t size);

/* "PROGRAM replay TRACE": the command that reads the saved trace `trace`,
 * with PROGRAM taken from the re-run command `rerun`. */
void rep_trace_replay(const char *rerun, const char *trace, char *buf, size_t size);

#endif
