/*
 * real/exec.h: running the tools the real world drives (ip, tc, nft,
 * dnsmasq, clusterd): a command to completion with its output kept, or a
 * long-lived child with its output in a log file that dies with us
 * (PR_SET_PDEATHSIG), so that not even a SIGKILL of clustersim leaves a
 * daemon behind.  Functions are prefixed rx_.
 */
#ifndef REAL_EXEC_H
#define REAL_EXEC_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

/* Runs argv (NULL-terminated) to completion; its stdout and stderr go to
 * `out` (may be NULL).  Returns the exit status, or -1 when it could not run. */
int rx_run(char *const argv[], char *out, size_t size);

/* The same with a command line split on spaces (every word is ours: names,
 * addresses, numbers; never user text).  printf-style. */
int rx_runf(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Starts argv in the background, stdout and stderr appended to `log`; the
 * child gets SIGKILL when clustersim dies.  Its PID, or -1. */
pid_t rx_spawn(char *const argv[], const char *log);

/* Sends `sig` to a child we started and, when `wait_ms` > 0, waits up to
 * that long for it to exit (then kills it).  Reaps it. */
void rx_stop(pid_t pid, int sig, int wait_ms);

/* Waits up to wait_ms for a child we started to exit (then kills it);
 * its exit status, or -1 when it was killed or could not be waited for. */
int rx_wait(pid_t pid, int wait_ms);

/* True when the child has exited (reaped). */
bool rx_exited(pid_t pid);

#endif
