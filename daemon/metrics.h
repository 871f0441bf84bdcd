/*
 * daemon/metrics.h: clusterd's /metrics in the Prometheus text exposition
 * format (version 0.0.4): the writer every family goes through (a HELP
 * and a TYPE line, then its samples), the node's families (metrics.c) and
 * the standard process_* families (metrics_process.c).
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/cluster.h"
#include "../shims/posix/px_node.h"

/* Text being written into a fixed buffer; `len` may pass `size` (the text
 * was cut: metrics_text tells). */
struct metrics_out {
    char *buf;
    size_t size, len;
};

/* Appends printf-style text. */
void metrics_printf(struct metrics_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts a family: its HELP and TYPE lines ("counter", "gauge", "histogram"). */
void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *help);
/* One unlabelled sample of an integer value. */
void metrics_u64(struct metrics_out *o, const char *name, uint64_t v);
/* The samples of one histogram series: `labels` (`direction="in"`, or ""
 * for none) on every sample, cumulative _bucket lines for the `n` upper
 * bounds `le` (nanoseconds, written in seconds) and +Inf, then _sum
 * (seconds) and _count.  `buckets` holds n + 1 counts, not cumulative
 * (the last: over every bound). */
void metrics_histogram(struct metrics_out *o, const char *name, const char *labels, const cs_time *le, size_t n,
                       const uint64_t *buckets, cs_time sum);

/* What the node's families need besides the node: the configuration it
 * runs (for clusterd_build_info) and the HTTP listener's own counters. */
struct metrics_http_stats {
    uint64_t by_code[5];   /* requests answered 200, 400, 404, 405, 503 (METRICS_HTTP_CODES) */
    uint64_t refused;      /* connections refused at the limit */
};
#define METRICS_HTTP_CODES {200, 400, 404, 405, 503}

/* Writes every family of the node (build info, links, handshakes, tracker,
 * HTTP) and of the process into buf; returns the length, or 0 when the
 * text does not fit in `size` (never a cut exposition). */
size_t metrics_text(struct px_node *node, const struct cluster_config *cfg, const struct metrics_http_stats *http,
                    char *buf, size_t size);

/* metrics_process.c: process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_cpu_seconds_total and process_start_time_seconds, read from
 * /proc/self and getrusage / getrlimit; a value that cannot be read is
 * left out (its family too). */
void metrics_process(struct metrics_out *o);

#endif
