/*
 * daemon/metrics_process.c: the standard process_* families of /metrics
 * (metrics.h), named as Prometheus' client libraries name them: memory
 * from /proc/self/stat, CPU time from getrusage, descriptors from
 * /proc/self/fd and getrlimit, the start time from /proc/self/stat and
 * the boot time in /proc/stat.
 */
#define _GNU_SOURCE
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* From /proc/self/stat: the start time in clock ticks after boot, the
 * virtual size in bytes and the resident set in pages; false when it
 * cannot be read. */
static bool read_stat(unsigned long long *start_ticks, unsigned long long *vsize, long long *rss_pages)
{
    char text[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return false;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return false;
    /* After ") ": state (field 3) ... starttime (22), vsize (23), rss (24). */
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    return sscanf(p, "%llu %llu %lld", start_ticks, vsize, rss_pages) == 3;
}

/* The boot time (seconds since the epoch) from /proc/stat's btime line. */
static bool boot_time(unsigned long long *btime)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "btime %llu", btime) == 1;
    fclose(f);
    return found;
}

/* Descriptors open in this process, the one reading the list left out;
 * -1 when it cannot be read. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long count = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            count++;
    closedir(d);
    return count - 1;
}

static void gauge(struct metrics_out *o, const char *name, const char *help, int decimals, double v)
{
    metrics_family(o, name, "gauge", help);
    metrics_printf(o, "%s %.*f\n", name, decimals, v);
}

void metrics_process(struct metrics_out *o)
{
    unsigned long long start_ticks, vsize, btime;
    long long rss_pages;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (read_stat(&start_ticks, &vsize, &rss_pages) && page > 0) {
        gauge(o, "process_resident_memory_bytes", "Resident memory size in bytes.", 0,
              (double)rss_pages * (double)page);
        gauge(o, "process_virtual_memory_bytes", "Virtual memory size in bytes.", 0, (double)vsize);
        if (ticks > 0 && boot_time(&btime))
            gauge(o, "process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.",
                  2, (double)btime + (double)start_ticks / (double)ticks);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                     ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
        metrics_family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        metrics_printf(o, "process_cpu_seconds_total %.6f\n", cpu);
    }
    long fds = open_fds();
    if (fds >= 0)
        gauge(o, "process_open_fds", "Number of open file descriptors.", 0, (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        gauge(o, "process_max_fds", "Maximum number of open file descriptors.", 0, (double)rl.rlim_cur);
}
