/*
 * daemon/control_path.c: the control socket's default, private location
 * (see control_path.h).
 */
#define _GNU_SOURCE
#include "control_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void runtime_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/')
        snprintf(out, size, "%s/clusterd", xdg);
    else if (geteuid() == 0)
        snprintf(out, size, "/run/clusterd");
    else
        snprintf(out, size, "/tmp/clusterd-%u", (unsigned)geteuid());
}

int control_default_path(const char *name, bool create, char *out, size_t size, char *err, size_t errlen)
{
    char dir[96];
    runtime_dir(dir, sizeof dir);
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(err, errlen, "%s is not a private directory of this user (owner %u, mode %03o): refusing it",
                 dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if ((size_t)snprintf(out, size, "%s/%s.sock", dir, name) >= size) {
        snprintf(err, errlen, "the control socket path for %s is too long", name);
        return -1;
    }
    return 0;
}
