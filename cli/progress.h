/*
 * cli/progress.h: what long work (fuzz, explore, run --seeds, bench) shows
 * while it runs, and how it stops when asked.
 *
 * The status line goes to stderr, so stdout keeps only results.  On a
 * terminal it is redrawn in place at most 4 times a second; elsewhere (CI
 * logs, pipes) a full line is written at most every 10 seconds, and not at
 * all for work that ends sooner.  CLUSTERSIM_PROGRESS=off silences it;
 * CLUSTERSIM_PROGRESS=SECONDS sets the interval (tests use it).
 *
 * SIGINT and SIGTERM set a flag the work polls between units (a seed, a
 * schedule); the command then writes the summary of what it did and exits
 * with 128 + the signal.  A second signal ends the process at once.
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    const char *what;   /* "fuzz", "explore", the scenario's name */
    const char *unit;   /* "seeds", "schedules" */
    uint64_t total;     /* units to do, 0 when unknown */
    double start, last; /* monotonic seconds: the start and the last line */
    double interval;    /* seconds between lines; <= 0: silent */
    bool tty;           /* stderr is a terminal: redraw in place */
    bool drawn;         /* a line is on the terminal now */
};

/* Starts the clock of a piece of work of `total` units (0: unknown). */
void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total);
/* Shows `done` units, the rate, elapsed time, ETA and `detail` (failures by
 * kind, or NULL) when the interval has passed since the last line. */
void progress_update(struct progress *p, uint64_t done, const char *detail);
/* Removes the status line from a terminal (before results are printed). */
void progress_clear(struct progress *p);
/* Seconds since progress_start. */
double progress_elapsed(const struct progress *p);

/* The monotonic clock, in seconds. */
double progress_now(void);

/* Routes SIGINT and SIGTERM to a flag (the first of them); a second signal
 * has its default effect. */
void cli_interrupt_install(void);
/* The signal that asked the work to stop, or 0. */
int cli_interrupted(void);
/* "SIGINT" or "SIGTERM" for the signal that stopped the work, or NULL. */
const char *cli_interrupt_name(void);
/* The exit status of interrupted work: 128 + the signal (130 for SIGINT). */
int cli_interrupt_status(void);

#endif
