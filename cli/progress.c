/*
 * cli/progress.c: the status line of long work and its interruption by
 * SIGINT / SIGTERM (see progress.h for what is shown where).
 */
#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TTY_INTERVAL 0.25
#define LOG_INTERVAL 10.0

static volatile sig_atomic_t stop_signal;

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total)
{
    *p = (struct progress){.what = what, .unit = unit, .total = total, .tty = isatty(STDERR_FILENO) == 1};
    p->start = p->last = progress_now();
    p->interval = p->tty ? TTY_INTERVAL : LOG_INTERVAL;
    const char *env = getenv("CLUSTERSIM_PROGRESS");
    if (env && !strcmp(env, "off"))
        p->interval = 0;
    else if (env && *env) {
        char *end;
        double s = strtod(env, &end);
        if (*end == '\0' && s > 0)
            p->interval = s;
    }
}

double progress_elapsed(const struct progress *p)
{
    return progress_now() - p->start;
}

/* h:mm:ss, or m:ss under an hour. */
static void clock_text(double seconds, char *buf, size_t size)
{
    unsigned long s = seconds < 0 ? 0 : (unsigned long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

void progress_update(struct progress *p, uint64_t done, const char *detail)
{
    double now = progress_now();
    if (p->interval <= 0 || now - p->last < p->interval)
        return;
    p->last = now;
    double elapsed = now - p->start, rate = elapsed > 0 ? (double)done / elapsed : 0;
    char line[512], took[32], eta[32] = "";
    clock_text(elapsed, took, sizeof took);
    if (p->total) {
        char left[24];
        clock_text(rate > 0 ? (double)(p->total - (done < p->total ? done : p->total)) / rate : 0, left, sizeof left);
        snprintf(eta, sizeof eta, ", ETA %s", rate > 0 ? left : "?");
        snprintf(line, sizeof line, "%s: %llu/%llu %s (%.1f %%), %.0f/s%s%s, %s elapsed%s", p->what,
                     (unsigned long long)done, (unsigned long long)p->total, p->unit,
                     100.0 * (double)done / (double)p->total, rate, detail ? ", " : "", detail ? detail : "",
                     took, eta);
    } else {
        snprintf(line, sizeof line, "%s: %llu %s, %.0f/s%s%s, %s elapsed", p->what, (unsigned long long)done,
                     p->unit, rate, detail ? ", " : "", detail ? detail : "", took);
    }
    if (p->tty) {
        /* \r and erase to the end of the line: one line redrawn in place */
        fprintf(stderr, "\r%s\033[K", line);
        p->drawn = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

void progress_clear(struct progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        p->drawn = false;
    }
}

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    /* a second signal has its usual effect: the user insists */
    signal(sig, SIG_DFL);
    signal(sig == SIGINT ? SIGTERM : SIGINT, SIG_DFL);
}

void cli_interrupt_install(void)
{
    /* SA_RESTART: a write to a blocked stdout goes on; poll() still returns EINTR */
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted(void)
{
    return stop_signal;
}

const char *cli_interrupt_name(void)
{
    return stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" : NULL;
}

int cli_interrupt_status(void)
{
    return stop_signal ? 128 + stop_signal : 0;
}
