/*
 * core/tracker/mode.h: what differs between the tracker's two modes, as one
 * table of operations.  The shared files (tracker.c, merge.c, commands.c,
 * snapshot.c, digest.c) never ask which mode runs: where the modes part
 * ways they call through t->mode, which trk_new sets once from cfg.mode
 * (tracker.c, trk_mode_of: the only place that reads it).
 *
 * - swarm.c: Swarm 3.4's state machine and replication rules, bugs
 *   included (docs/swarm-model.md).
 * - fixed.c, fixed_merge.c, fixed_batch.c: the fixed mode's state machine,
 *   its last-writer-wins rules with tombstones, and replication batches.
 *
 * Every function is required (no NULL entries): where a mode does nothing,
 * its file says so and why, so each mode reads on its own.
 */
#ifndef CS_TRACKER_MODE_H
#define CS_TRACKER_MODE_H

#include "internal.h"

struct trk_mode_ops {
    const char *name; /* "swarm" or "fixed", as logs and dumps write it */

    /* Properties of the data model. */
    bool keeps_tombstones;  /* deletions stay as tombstones and travel in
                               snapshots; else entries are removed and a
                               tombstone a peer sends is ignored */
    bool content_digest;    /* keeps the registry's content digest
                               (digest.c) and sends it in check replies */
    bool batches;           /* replicated events may travel in batch frames
                               (cfg.batch_window > 0) */
    bool checks_cross;      /* a running tracker's check carries its content
                               digest, and a peer's check that crosses ours
                               (ours unanswered) is taken as its answer
                               (tracker.c, "the remote check") */

    /* The state machine: one event (message, nodeup, nodedown, timer,
     * command), already past the shared frame (tracker.c's deliver). */
    void (*event)(struct tracker *t, const struct trk_event *ev);
    /* The peer answered our check: its tracker runs.  `digest` is the
     * content digest its answer carried, or NULL. */
    void (*node_checked)(struct tracker *t, uint32_t peer, const struct trk_content_digest *digest);
    /* Whether a due tracker timer of this kind can change anything in the
     * current state (the explorer skips those that cannot). */
    bool (*timer_can_progress)(const struct tracker *t, unsigned kind);

    /* Replication (merge.c decodes and checks; the mode decides). */
    /* A peer's copy `we` of a name we hold as `e`. */
    void (*merge_copy)(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we, bool from_sync);
    /* A replicated untrack. */
    void (*untrack)(struct tracker *t, struct trk_wire_entry *we);
    /* A handoff of a name we already run under another handle (`e`, ours):
     * ours stays; the mode may make it win everywhere. */
    void (*handoff_collides)(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we);
    /* True when a handoff must be refused (our copy `e`, may be NULL,
     * outranks it); the mode tells the sender. */
    bool (*handoff_refused)(struct tracker *t, uint32_t from, const struct reg_entry *e,
                            const struct trk_wire_entry *we);
    /* True when a started process of ours whose ring owner is another node
     * must stay here for now (the mode arms what looks again); NULL: never. */
    bool (*handoff_waits)(struct tracker *t);
    /* We just sent our process `e` to its new owner. */
    void (*handed_off)(struct tracker *t, const struct reg_entry *e);
    /* `name` is a started process of ours: see that it ends on its ring
     * owner even if no topology change comes. */
    void (*watch_placement)(struct tracker *t, const char *name);
    /* True when a KILL for our process `handle` under `name` was decided
     * on a copy we have replaced since. */
    bool (*kill_is_stale)(struct tracker *t, const char *name, uint64_t handle);
    /* A peer's copy of `e` was just taken (trk_copy_in); NULL: nothing. */
    void (*copy_taken)(struct tracker *t, const struct reg_entry *e);

    /* Topology passes (merge.c's reconsider). */
    /* Whether the owner (a name index, not self) of an entry is gone. */
    bool (*owner_gone)(struct tracker *t, uint32_t owner);
    /* The owner of `e` is gone (or `e` is a stale process of an earlier
     * incarnation of ours); `ring` is the name's ring owner (may be NULL). */
    void (*owner_departed)(struct tracker *t, struct reg_entry *e, const char *ring);

    /* Registry operations. */
    /* Unregisters `e`, owned here or elsewhere, and tells the peers. */
    void (*unregister)(struct tracker *t, struct reg_entry *e);
    /* A graceful stop: what becomes of our live entry `e`. */
    void (*stop_entry)(struct tracker *t, struct reg_entry *e);
};

extern const struct trk_mode_ops trk_swarm_mode;
extern const struct trk_mode_ops trk_fixed_mode;

#endif
