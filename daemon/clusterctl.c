/*
 * daemon/clusterctl.c: the client of a running clusterd, over its control
 * socket (shims/posix/px_control.h):
 *
 *   clusterctl [-n NODE | -s SOCKET] [--json] [--timeout SECONDS] COMMAND
 *     status | dump                the tracker state dump
 *     members                      the peers this node sees
 *     members GROUP                the processes in a group
 *     register NAME [--counter N]  start a counter here and register it
 *     register-started NAME [--counter N]   the ring owner starts it
 *     unregister NAME | whereis NAME
 *     call NAME increment|value    add 1 to the counter / read it
 *     join GROUP NAME | leave GROUP NAME | publish GROUP MSG
 *     bench register|whereis N [PREFIX] [DEPTH]   pipelined load, prints the rate
 *
 * -n NODE uses clusterd's default socket, in the user's private runtime
 * directory (daemon/control_path.h).  Output is one
 * readable line, or the daemon's JSON with --json.  Exit status: 0 when the
 * daemon answered ok (or already_started), 1 for another answer, 2 for bad
 * usage or no daemon.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control_path.h"
#include "../config/nearest.h"
#include "../config/version.h"
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: clusterctl [-n NODE | -s SOCKET] [--json] [--timeout S] COMMAND [ARGS]\n"
    "  status | members [GROUP] | register NAME [--counter N] | register-started NAME [--counter N]\n"
    "  unregister NAME | whereis NAME | call NAME increment|value\n"
    "  join GROUP NAME | leave GROUP NAME | publish GROUP MSG\n"
    "  bench register|whereis N [PREFIX] [DEPTH]\n"
    "options: -n NODE (its default socket), -s SOCKET, --json (the daemon's JSON), --timeout S (10),\n"
    "         --help, --version\n";

static int usage(const char *why)
{
    fprintf(stderr, "clusterctl: %s (clusterctl --help lists the commands)\n", why);
    return 2;
}

/* "unknown command 'whreis'; did you mean 'whereis'?" */
static int unknown_command(const char *cmd)
{
    static const char *const commands[] = {"status", "dump", "members", "register", "register-started",
                                           "unregister", "whereis", "call", "join", "leave", "publish", "bench"};
    const char *near = cs_nearest(cmd, commands, sizeof commands / sizeof commands[0]);
    char why[200];
    if (near)
        snprintf(why, sizeof why, "unknown command '%.60s' or missing arguments; did you mean '%s'?", cmd, near);
    else
        snprintf(why, sizeof why, "unknown command '%.60s' or missing arguments", cmd);
    return usage(why);
}

/* The request line for the command in argv; NULL when unknown. */
static int build_request(int argc, char **argv, char *out, size_t size)
{
    const char *cmd = argv[0];
    long long counter = 0;
    if (argc >= 4 && !strcmp(argv[2], "--counter"))
        counter = strtoll(argv[3], NULL, 10);
    if (!strcmp(cmd, "status") || !strcmp(cmd, "dump"))
        return snprintf(out, size, "dump\n");
    if (!strcmp(cmd, "members"))
        return argc >= 2 ? snprintf(out, size, "members\t%s\n", argv[1]) : snprintf(out, size, "view\n");
    if ((!strcmp(cmd, "register") || !strcmp(cmd, "register-started")) && argc >= 2)
        return snprintf(out, size, "%s\t%s\t\t%lld\n", cmd[8] ? "register_started" : "register", argv[1], counter);
    if ((!strcmp(cmd, "unregister") || !strcmp(cmd, "whereis")) && argc >= 2)
        return snprintf(out, size, "%s\t%s\n", cmd, argv[1]);
    if (!strcmp(cmd, "call") && argc >= 3 && !strcmp(argv[2], "increment"))
        return snprintf(out, size, "send\t%s\tinc\t1\n", argv[1]);
    if (!strcmp(cmd, "call") && argc >= 3 && !strcmp(argv[2], "value"))
        return snprintf(out, size, "call\t%s\n", argv[1]);
    if ((!strcmp(cmd, "join") || !strcmp(cmd, "leave")) && argc >= 3)
        return snprintf(out, size, "%s\t%s\t%s\n", cmd, argv[2], argv[1]);
    if (!strcmp(cmd, "publish") && argc >= 3)
        return snprintf(out, size, "publish\t%s\t%s\t1\n", argv[1], argv[2]);
    return -1;
}

/* Copies the string value of "key" from a flat JSON object line. */
static void field(const char *json, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(pat);
    if (*p == '"') {
        size_t n = 0;
        for (p++; *p && *p != '"' && n + 1 < size; p++) {
            if (*p == '\\' && p[1])
                p++;
            out[n++] = *p == 'n' && p[-1] == '\\' ? '\n' : *p;
        }
        out[n] = '\0';
    } else {
        size_t n = strcspn(p, ",}\n");
        snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `bench register|whereis N [PREFIX] [DEPTH]`: N pipelined requests on
 * names PREFIX0 .. PREFIX(N-1), at most DEPTH in flight; prints the rate. */
static int bench(int fd, int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "register") && strcmp(argv[1], "whereis")))
        return usage("bench register|whereis N [PREFIX] [DEPTH]");
    long n = atol(argv[2]), depth = argc > 4 ? atol(argv[4]) : 256;
    const char *prefix = argc > 3 ? argv[3] : "bench-";
    if (n <= 0 || depth <= 0)
        return usage("bench: N and DEPTH must be positive");
    static char in[1 << 16];
    size_t in_len = 0;
    long sent = 0, answered = 0, ok = 0;
    double start = now_s();
    while (answered < n) {
        char out[1 << 15];
        size_t out_len = 0;
        while (sent < n && sent - answered < depth && out_len + 200 < sizeof out)
            out_len += (size_t)snprintf(out + out_len, sizeof out - out_len, "%s\t%s%ld\n", argv[1], prefix, sent++);
        for (size_t off = 0; off < out_len;) {
            ssize_t w = write(fd, out + off, out_len - off);
            if (w <= 0)
                return 2;
            off += (size_t)w;
        }
        ssize_t r = read(fd, in + in_len, sizeof in - in_len);
        if (r <= 0) {
            fprintf(stderr, "clusterctl: the daemon closed the connection after %ld answers\n", answered);
            return 1;
        }
        in_len += (size_t)r;
        char *line = in, *nl;
        while ((nl = memchr(line, '\n', in_len - (size_t)(line - in)))) {
            answered++;
            ok += strstr(line, "\"status\":\"ok\"") && strstr(line, "\"status\":\"ok\"") < nl;
            line = nl + 1;
        }
        in_len -= (size_t)(line - in);
        memmove(in, line, in_len);
    }
    double took = now_s() - start;
    printf("bench %s: %ld requests, %ld ok, %.3f s, %.0f requests/s (pipelined, %ld in flight)\n", argv[1], n, ok,
           took, (double)n / took, depth);
    return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *socket_path = NULL, *node = NULL;
    bool json = false;
    int timeout_s = 10;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("clusterctl %s\n", CS_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            socket_path = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            node = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else
            return usage("unknown option or an option without its value");
    }
    if (i >= argc)
        return usage("a command is required");
    char request[1024], path[108];
    bool benching = !strcmp(argv[i], "bench");
    if (!benching && build_request(argc - i, argv + i, request, sizeof request) < 0)
        return unknown_command(argv[i]);
    if (!socket_path) {
        if (!node)
            return usage("-n NODE or -s SOCKET is required");
        char why[256];
        if (control_default_path(node, false, path, sizeof path, why, sizeof why) != 0) {
            fprintf(stderr, "clusterctl: %s\n", why);
            return 2;
        }
        socket_path = path;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "clusterctl: no daemon at %s: %s\n", socket_path, strerror(errno));
        return 2;
    }
    if (benching)
        return bench(fd, argc - i, argv + i);
    if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        fprintf(stderr, "clusterctl: cannot send the request\n");
        return 2;
    }
    static char reply[262144];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (!memchr(reply, '\n', len) && len + 1 < sizeof reply) {
        if (poll(&pfd, 1, timeout_s * 1000) <= 0) {
            fprintf(stderr, "clusterctl: no answer within %d s\n", timeout_s);
            return 1;
        }
        ssize_t r = read(fd, reply + len, sizeof reply - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    reply[len] = '\0';
    if (json) {
        fputs(reply, stdout);
        return strstr(reply, "\"error\"") ? 1 : 0;
    }
    static char text[262144];
    char status[64], owner[160], value[32], error[256];
    field(reply, "error", error, sizeof error);
    if (error[0]) {
        fprintf(stderr, "clusterctl: %s\n", error);
        return 1;
    }
    field(reply, "dump", text, sizeof text);
    if (strstr(reply, "\"dump\"")) {
        printf("%s\n", text);
        return 0;
    }
    if (strstr(reply, "\"view\"")) {
        const char *open = strchr(reply, '['), *close = strrchr(reply, ']');
        printf("%.*s\n", open && close ? (int)(close - open + 1) : 0, open ? open : "");
        return 0;
    }
    field(reply, "status", status, sizeof status);
    field(reply, "owner", owner, sizeof owner);
    field(reply, "value", value, sizeof value);
    printf("%s%s%s (%s)\n", status, owner[0] ? " on " : "", owner, value);
    return !strcmp(status, "ok") || !strcmp(status, "already_started") ? 0 : 1;
}
