/*
 * core/tracker/fixed.h: what the fixed mode's files share.  fixed.c holds
 * the state machine and the mode's table (trk_fixed_mode); fixed_merge.c
 * the replication, placement and departure rules the table points at;
 * fixed_batch.c (declared in internal.h, since shared code asks whether a
 * mode batches) the replication batches.
 */
#ifndef CS_TRACKER_FIXED_H
#define CS_TRACKER_FIXED_H

#include "internal.h"

/* ---- fixed_merge.c: the rules (see mode.h for each operation) ---- */

/* A peer's copy: last writer wins, ties to the larger handle, losers die;
 * a live owner refutes a departure tombstone of its own process. */
void trk_fixed_merge_copy(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we,
                          bool from_sync);
/* An untrack: merged as a tombstone copy. */
void trk_fixed_untrack(struct tracker *t, struct trk_wire_entry *we);
/* A handoff of a name we run: the ring owner's copy wins with a newer version. */
void trk_fixed_handoff_collides(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we);
/* True (and the sender's process told to die) when the name was unregistered since. */
bool trk_fixed_handoff_refused(struct tracker *t, uint32_t from, const struct reg_entry *e,
                               const struct trk_wire_entry *we);
/* True while the node list has changed within placement_settle (arming a
 * look when it will have been still that long), at most 8 settle times in a
 * row so that a list that never settles still moves processes. */
bool trk_fixed_handoff_waits(struct tracker *t);
/* Nothing: the process stays until the new owner's registration replaces it. */
void trk_fixed_handed_off(struct tracker *t, const struct reg_entry *e);
/* A started process of ours off its ring owner: a topology pass after sync_timeout. */
void trk_fixed_watch_placement(struct tracker *t, const char *name);
/* Arms the second look (a topology pass after sync_timeout) unless armed. */
void trk_fixed_arm_second_look(struct tracker *t);
/* True when our registry still holds the process a KILL names. */
bool trk_fixed_kill_is_stale(struct tracker *t, const char *name, uint64_t handle);
/* A copy just taken: a departure tombstone of one of our nodes' processes
 * goes to that node (which refutes it if the process runs); a live entry
 * whose owner is not a node gets a topology pass after sync_timeout (its
 * owner may be gone, or never met). */
void trk_fixed_copy_taken(struct tracker *t, const struct reg_entry *e);
/* Left `nodes`, or never met for sync_timeout. */
bool trk_fixed_owner_gone(struct tracker *t, uint32_t owner);
/* Restart on the ring owner (or at once, for a stale process of ours), or a
 * departure tombstone. */
void trk_fixed_owner_departed(struct tracker *t, struct reg_entry *e, const char *ring);
/* A tombstone with a new write version, broadcast. */
void trk_fixed_unregister(struct tracker *t, struct reg_entry *e);
/* Hand the process to the ring without us, or unregister. */
void trk_fixed_stop_entry(struct tracker *t, struct reg_entry *e);

#endif
