/*
 * shims/posix/px_status.h: what a clusterd node says about itself, as JSON,
 * for the control socket's `state` and `peers` requests (px_control.h):
 * built from the cluster's observation functions (core/cluster.h,
 * core/tracker.h, core/conn.h), never by reading the state dump's text.
 *
 * state: {"node", "stopping", "settled", "membership": {"mode"},
 *         "links": {"up", "handshaking"}, "frames": {"in", "out"},
 *         "tracker": null (--tracker off) or {"mode", "state", "running",
 *           "clock", "nodes": [...], "pending_sync_reqs": [...],
 *           "sync_node": null or a name, "ring": [...], "registered",
 *           "registry_digest" (16 hex digits), "counters": {...}}}
 * peers: [{"name", "link": "up" | "connecting" | "down", "tracker": bool}]
 *        (the peers with a link up and those the tracker counts as nodes).
 * A node running another protocol than the cluster says
 * {"node", "stopping", "settled", "view": [...]} and lists its view as
 * peers with "link": "up", "tracker": false.
 */
#ifndef SHIMS_POSIX_PX_STATUS_H
#define SHIMS_POSIX_PX_STATUS_H

struct px_node;

/* The node's state as one JSON object on one line (malloc'd: the caller
 * frees it); NULL when out of memory. */
char *px_status_state(struct px_node *n);
/* Its peers as one JSON array on one line (malloc'd); NULL when out of memory. */
char *px_status_peers(struct px_node *n);

#endif
