/*
 * daemon/clusterctl_io.h: clusterctl's side of the control socket
 * (shims/posix/px_control.h): connect, one request and its answer line,
 * and the pipelined load of `clusterctl bench`.
 */
#ifndef DAEMON_CLUSTERCTL_IO_H
#define DAEMON_CLUSTERCTL_IO_H

#include <stddef.h>

/* Connects to the control socket at `path`; the descriptor, or -1 with
 * the reason in err. */
int ctl_connect(const char *path, char *err, size_t errlen);

/* Sends one request line (ending in a newline) and reads the answer line;
 * returns it without its newline, malloc'd, or NULL with the reason in err
 * (no answer within timeout_s seconds, the daemon closed the connection). */
char *ctl_exchange(int fd, const char *request, double timeout_s, char *err, size_t errlen);

/* What a bench run measured. */
struct ctl_bench {
    long requests, ok;
    double seconds;
};

/* `bench`: n requests `op PREFIXi` (i = 0 .. n-1) with at most depth in
 * flight; `many` > 1 sends them `many` names a line (`many<TAB>op<TAB>
 * PREFIXi<TAB>...`, fewer where the 4 KiB line limit comes first).  0 with
 * the counts in out, or -1 with the reason in err. */
int ctl_bench(int fd, const char *op, long n, const char *prefix, long depth, long many, struct ctl_bench *out,
              char *err, size_t errlen);

#endif
