/*
 * reports/report_replay.c: the replay commands of a run report (see
 * report_replay.h).
 */
#include "report_replay.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void rep_command_program(const char *command, char *buf, size_t size)
{
    size_t len = command ? strcspn(command, " \t") : 0;
    if (len)
        snprintf(buf, size, "%.*s", (int)len, command);
    else
        snprintf(buf, size, "clustersim");
}

static bool plain_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("_./@%+=:,-", c));
}

/* Appends c to buf at *len when it fits (the result stays terminated). */
static void put(char *buf, size_t size, size_t *len, char c)
{
    if (*len + 1 < size) {
        buf[(*len)++] = c;
        buf[*len] = '\0';
    }
}

void rep_shell_path(const char *path, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    bool quote = !path[0];
    for (const char *p = path; *p; p++)
        quote |= !plain_byte(*p);
    size_t len = 0;
    if (quote)
        put(buf, size, &len, '\'');
    for (const char *p = path; *p; p++) {
        if (*p == '/' && p > path && p[-1] == '/')
            continue;
        if (*p == '\'') {
            for (const char *q = "'\\''"; *q; q++)
                put(buf, size, &len, *q);
            continue;
        }
        put(buf, size, &len, *p);
    }
    if (quote)
        put(buf, size, &len, '\'');
}

void rep_trace_replay(const char *rerun, const char *trace, char *buf, size_t size)
{
    char program[512], path[1400];
    rep_command_program(rerun, program, sizeof program);
    rep_shell_path(trace, path, sizeof path);
    snprintf(buf, size, "%s replay %s", program, path);
}
