/*
 * daemon/control_path.h: where clusterd's control socket lives by default,
 * shared by clusterd and clusterctl: a private runtime directory of the
 * user ($XDG_RUNTIME_DIR/clusterd, /run/clusterd for root, else
 * /tmp/clusterd-UID), which must be a real directory owned by the user
 * and closed to everyone else, so no other user can squat the path.
 */
#ifndef DAEMON_CONTROL_PATH_H
#define DAEMON_CONTROL_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the default socket path of node `name` into out; with `create`,
 * makes the directory (mode 0700) when it is missing.  -1 with the reason
 * in err when the directory is unsafe (not ours, open to others, a link)
 * or the path does not fit. */
int control_default_path(const char *name, bool create, char *out, size_t size, char *err, size_t errlen);

#endif
