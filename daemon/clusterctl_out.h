/*
 * daemon/clusterctl_out.h: what clusterctl prints for the daemon's answer
 * line (shims/posix/px_control.h): a readable line, or with --json one JSON
 * object (an array for `members`) with typed fields:
 *
 *   register, register-started, whereis, unregister
 *       {"result", "name", "node", "handle"}
 *   call NAME value      {"result", "name", "node", "value"}
 *   call NAME increment  {"result", "name", "node"}
 *   join, leave          {"result", "group", "name", "node"}
 *   members GROUP        {"result", "group", "count"}
 *   publish              {"result", "group", "delivered"}
 *   members              [{"name", "link", "tracker"}, ...]
 *   status               the daemon's state object (shims/posix/px_status.h)
 *   bench                {"result", "op", "requests", "ok", "seconds", "rate", "depth"}
 *   any failure          {"result": "error", "error": "..."}
 *
 * "result" is the daemon's status word (ok, already_started, not_found,
 * not_running, no_node_available, timeout, error, ...).  "node" is the
 * owner's node name, null when there is none.  "handle" is a string of the
 * handle's unsigned decimal value (null when there is none): handles use
 * all 64 bits, and a JSON number above 2^53 is rounded by JavaScript and by
 * jq before 1.7, which would silently name another process.
 */
#ifndef DAEMON_CLUSTERCTL_OUT_H
#define DAEMON_CLUSTERCTL_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "clusterctl_io.h"

/* How a command's answer reads. */
enum ctl_kind {
    CTL_STATE,       /* status: the state object (json) or the dump (text) */
    CTL_PEERS,       /* members */
    CTL_PROCESS,     /* register, register-started, whereis, unregister */
    CTL_VALUE,       /* call NAME value */
    CTL_SEND,        /* call NAME increment */
    CTL_GROUP_CHANGE, /* join, leave */
    CTL_GROUP_COUNT, /* members GROUP */
    CTL_PUBLISH,     /* publish */
};

/* Prints the answer line of a command of that kind on stdout (text or
 * JSON); `group` is the command's group operand (join, leave), or NULL.
 * Returns the exit status: 0 for ok and already_started, 1 otherwise. */
int ctl_print_answer(enum ctl_kind kind, const char *answer, const char *group, bool json);

/* Prints a failure that left no answer: the reason on stderr, or with
 * json {"result":"error","error":why} on stdout. */
void ctl_print_failure(const char *why, bool json);

/* Prints what a bench run measured; 0 when every request was answered ok. */
int ctl_print_bench(const char *op, long depth, long many, const struct ctl_bench *b, bool json);

#endif
