/*
 * daemon/metrics.c: the node's families of /metrics (metrics.h), in the
 * Prometheus conventions: every family has one HELP and one TYPE line,
 * counters end in _total, durations are histograms in seconds, and a
 * dimension (a reason, a direction, a state) is a label:
 *   clusterd_build_info{version,tracker,membership}
 *   the transport: links, frames, refused frames and connections, set-up
 *     timeouts, the handshake time by direction (histogram); control
 *     socket requests refused by reason
 *   the tracker (when it runs): members, state, registrations, syncs
 *     started / completed / abandoned / skipped / under way and their
 *     duration (histogram), handoffs by direction, restarts, conflicts,
 *     kills, remote copies, postponed events, refused messages by reason
 *   the HTTP listener: requests by status code, refused connections
 *   the process: metrics_process.c
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../config/version.h"
#include "../core/conn.h"
#include "../shims/posix/px_control.h"

void metrics_printf(struct metrics_out *o, const char *fmt, ...)
{
    if (o->len >= o->size) {
        o->len = o->size; /* cut: stays cut */
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    o->len += n > 0 ? (size_t)n : 0;
}

void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *help)
{
    metrics_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_u64(struct metrics_out *o, const char *name, uint64_t v)
{
    metrics_printf(o, "%s %llu\n", name, (unsigned long long)v);
}

static double seconds(cs_time t)
{
    return (double)t / 1e9;
}

void metrics_histogram(struct metrics_out *o, const char *name, const char *labels, const cs_time *le, size_t n,
                       const uint64_t *buckets, cs_time sum)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += buckets[i];
        metrics_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, seconds(le[i]),
                       (unsigned long long)count);
    }
    count += buckets[n];
    metrics_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)count);
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    metrics_printf(o, "%s_sum%s%s%s %.9f\n", name, open, labels, close, seconds(sum));
    metrics_printf(o, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)count);
}

struct labelled {
    const char *label;
    uint64_t v;
};

/* A family of one label's values. */
static void by_label(struct metrics_out *o, const char *name, const char *type, const char *help, const char *key,
                     const struct labelled *values, size_t n)
{
    metrics_family(o, name, type, help);
    for (size_t i = 0; i < n; i++)
        metrics_printf(o, "%s{%s=\"%s\"} %llu\n", name, key, values[i].label, (unsigned long long)values[i].v);
}

static void build_info(struct metrics_out *o, const struct cluster_config *cfg, struct membership *m)
{
    const char *tracker = !cfg->tracker ? "off" : cfg->trk.mode == TRK_SWARM ? "swarm" : "fixed";
    metrics_family(o, "clusterd_build_info", "gauge",
                   "Always 1: the version clusterd was built as, and the tracker and membership modes it runs.");
    metrics_printf(o, "clusterd_build_info{version=\"%s\",tracker=\"%s\",membership=\"%s\"} 1\n", CS_VERSION,
                   tracker, membership_mode_name(m));
}

static void transport(struct metrics_out *o, struct px_node *node, struct membership *m)
{
    const struct conn_stats *cs = conn_stats(membership_conn(m));
    const struct px_stats *ps = px_node_stats(node);
    metrics_family(o, "clusterd_links", "gauge", "Peers with an authenticated link up.");
    metrics_u64(o, "clusterd_links", conn_up_count(membership_conn(m)));
    const struct labelled frames[] = {{"in", ps->frames_in}, {"out", ps->frames_out}};
    by_label(o, "clusterd_frames_total", "counter", "Frames received and sent on peer links.", "direction",
             frames, 2);
    const struct labelled rejected[] = {
        {"malformed", cs->malformed},     {"bad_version", cs->bad_version}, {"oversized_name", cs->oversized_name},
        {"wrong_name", cs->wrong_name},   {"auth_failed", cs->auth_failed}, {"not_allowed", cs->not_allowed},
        {"bad_mac", cs->bad_mac},         {"oversized_frame", ps->oversized_frames}};
    by_label(o, "clusterd_rejected_frames_total", "counter", "Frames refused on the peer port, by reason.",
             "reason", rejected, sizeof rejected / sizeof rejected[0]);
    const struct labelled conns[] = {{"accepted", ps->links_accepted}, {"refused", ps->links_refused}};
    by_label(o, "clusterd_inbound_connections_total", "counter",
             "TCP connections to the peer port, accepted or refused (out of file descriptors).", "outcome", conns, 2);
    struct labelled control[PX_CONTROL_REFUSALS];
    for (int why = 0; why < PX_CONTROL_REFUSALS; why++)
        control[why] = (struct labelled){px_control_refusal_name(why), px_node_control_refused(node, why)};
    by_label(o, "clusterd_control_refused_requests_total", "counter",
             "Control socket requests refused, by reason (line_too_long also closed the connection).", "reason",
             control, PX_CONTROL_REFUSALS);
    metrics_family(o, "clusterd_links_unwritten_bytes_peak", "gauge",
                   "The most bytes the peer links held at once that the kernel had not taken yet.");
    metrics_u64(o, "clusterd_links_unwritten_bytes_peak", ps->links_unwritten_peak);
    metrics_family(o, "clusterd_control_pauses_total", "counter",
                   "Times the control socket stopped reading and serving requests because the peer links held "
                   "1 MiB unwritten (until the peers take it).");
    metrics_u64(o, "clusterd_control_pauses_total", ps->control_pauses);
    metrics_family(o, "clusterd_setup_timeouts_total", "counter",
                   "Links closed because their handshake did not finish within the set-up timeout.");
    metrics_u64(o, "clusterd_setup_timeouts_total", cs->setup_timeouts);
    metrics_family(o, "clusterd_link_handshake_seconds", "histogram",
                   "Time from the TCP connect (outbound) or accept (inbound) to the peer proving the secret.");
    metrics_histogram(o, "clusterd_link_handshake_seconds", "direction=\"inbound\"", px_handshake_le,
                      PX_HANDSHAKE_BUCKETS, ps->handshake[PX_INBOUND].buckets, ps->handshake[PX_INBOUND].sum);
    metrics_histogram(o, "clusterd_link_handshake_seconds", "direction=\"outbound\"", px_handshake_le,
                      PX_HANDSHAKE_BUCKETS, ps->handshake[PX_OUTBOUND].buckets, ps->handshake[PX_OUTBOUND].sum);
}

static const char *state_name(enum trk_state s)
{
    static const char *const names[] = {"cluster_wait", "syncing", "awaiting_sync_ack", "tracking"};
    return (unsigned)s < 4 ? names[s] : "?";
}

/* A counter family of one unlabelled sample. */
static void counter(struct metrics_out *o, const char *name, const char *help, uint64_t v)
{
    metrics_family(o, name, "counter", help);
    metrics_u64(o, name, v);
}

static void syncs(struct metrics_out *o, const struct trk_stats *ts)
{
    counter(o, "clusterd_syncs_started_total",
            "Tracker syncs this node began and waits on (swarm: a sync or sync_recv sent; fixed: a snapshot pushed).",
            ts->syncs_started);
    counter(o, "clusterd_syncs_completed_total", "Tracker syncs begun here that completed (the answer merged).",
            ts->syncs_completed);
    counter(o, "clusterd_syncs_abandoned_total",
            "Tracker syncs begun here that ended without completing (the peer left, refused, or answered badly).",
            ts->syncs_abandoned);
    counter(o, "clusterd_syncs_skipped_total",
            "Fixed mode: snapshots not sent because the peer's content digest equals ours.", ts->syncs_skipped);
    metrics_family(o, "clusterd_syncs_in_progress", "gauge", "Tracker syncs begun here and not yet ended.");
    metrics_u64(o, "clusterd_syncs_in_progress", ts->syncs_started - ts->syncs_completed - ts->syncs_abandoned);
    metrics_family(o, "clusterd_sync_duration_seconds", "histogram",
                   "Time from a tracker sync beginning to completing.");
    metrics_histogram(o, "clusterd_sync_duration_seconds", "", trk_sync_le, TRK_SYNC_BUCKETS, ts->sync_buckets,
                      ts->sync_time_sum);
}

static void tracker(struct metrics_out *o, struct tracker *t)
{
    const struct trk_stats *ts = trk_stats(t);
    size_t names = 0;
    uint64_t sum;
    trk_registry_digest(t, &names, &sum);
    metrics_family(o, "clusterd_members", "gauge", "Peers whose tracker this node tracks.");
    metrics_u64(o, "clusterd_members", trk_node_count(t));
    metrics_family(o, "clusterd_tracker_state", "gauge", "1 for the state the tracker is in, 0 for the others.");
    for (int s = TRK_CLUSTER_WAIT; s <= TRK_TRACKING; s++)
        metrics_printf(o, "clusterd_tracker_state{state=\"%s\"} %d\n", state_name((enum trk_state)s),
                       trk_state(t) == (enum trk_state)s);
    metrics_family(o, "clusterd_registrations", "gauge", "Names registered in this node's copy of the registry.");
    metrics_u64(o, "clusterd_registrations", names);
    syncs(o, ts);
    const struct labelled handoffs[] = {{"sent", ts->handoffs_sent}, {"taken", ts->handoffs_taken}};
    by_label(o, "clusterd_handoffs_total", "counter",
             "Processes handed to their ring owner (sent) or handed here and resumed (taken).", "direction",
             handoffs, 2);
    counter(o, "clusterd_restarts_total", "Started processes of departed nodes restarted here.", ts->restarts);
    counter(o, "clusterd_conflicts_total",
            "Name conflicts this node resolved: two processes under one name, the loser told to die.", ts->conflicts);
    counter(o, "clusterd_kills_received_total",
            "Processes of this node killed because a peer resolved a name conflict against them.",
            ts->kills_received);
    counter(o, "clusterd_remote_copies_total",
            "Registry copies from peers merged (replicated events and snapshot entries that differ from ours).",
            ts->tracked_remote);
    counter(o, "clusterd_postponed_events_total", "Swarm mode: events postponed until the next state change.",
            ts->postponed);
    const struct labelled rejected[] = {{"malformed", ts->malformed},       {"unknown_type", ts->unknown_type},
                                        {"bad_clock", ts->bad_clock},       {"name_too_long", ts->name_too_long},
                                        {"not_member", ts->not_member}};
    by_label(o, "clusterd_rejected_messages_total", "counter", "Tracker messages refused, by reason.", "reason",
             rejected, sizeof rejected / sizeof rejected[0]);
}

static void http(struct metrics_out *o, const struct metrics_http_stats *h)
{
    static const int codes[] = METRICS_HTTP_CODES;
    metrics_family(o, "clusterd_http_requests_total", "counter", "HTTP requests answered, by status code.");
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        metrics_printf(o, "clusterd_http_requests_total{code=\"%d\"} %llu\n", codes[i],
                       (unsigned long long)h->by_code[i]);
    counter(o, "clusterd_http_refused_connections_total", "HTTP connections refused at the connection limit.",
            h->refused);
}

size_t metrics_text(struct px_node *node, const struct cluster_config *cfg, const struct metrics_http_stats *h,
                    char *buf, size_t size)
{
    void *inst = px_node_instance(node);
    struct membership *m = cluster_membership(inst);
    struct tracker *t = cluster_tracker(inst);
    struct metrics_out o = {buf, size, 0};
    build_info(&o, cfg, m);
    transport(&o, node, m);
    if (t)
        tracker(&o, t);
    http(&o, h);
    metrics_process(&o);
    return o.len < size ? o.len : 0;
}
