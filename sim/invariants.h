/*
 * sim/invariants.h: the registry safety invariants of shared/DESIGN.md that
 * need the history of commands, judged on a converged cluster:
 * - no loss: a name registered and never unregistered is present while the
 *   processes that registered it live (plain registrations), or while some
 *   node seen holding it still runs (started processes, which are restarted
 *   elsewhere when their node dies); a name whose every successful
 *   registration (by handle) was removed by a successful unregister, with
 *   no register attempted after, is absent while the nodes that took the
 *   unregisters run (deletions are not undone by stale copies or
 *   restarts);
 * - placement: every started process lives on the node the ring of the
 *   converged membership assigns its name to.
 * The history is the world's recorded replies (kept when the scenario
 * expects `no_loss`).
 */
#ifndef SIM_INVARIANTS_H
#define SIM_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "world.h"

struct sim_holders;

/* Queues the first observation at time 0 when the scenario expects
 * no_loss: every check_interval the checker notes which live node
 * (incarnation) holds which started name, since a started name may only be
 * lost once every node that held it has died. */
int sim_observe_schedule(struct sim_world *w);
/* Runs one observation and queues the next. */
void sim_observe_handle(struct sim_world *w, const struct sim_event *ev);
/* Frees the observations (NULL is fine). */
void sim_holders_free(struct sim_holders *h);

/* Notes a registry command as issued to a node (a reply may never come if
 * the node dies, yet the command may take effect): kept with the replies
 * as status "sent" when the scenario expects no_loss. */
void sim_note_command(struct sim_world *w, uint32_t node, const char *op, const char *name);

/* True for the command ops whose replies the no-loss check needs. */
bool sim_reply_changes_registry(const char *op);

/* Judges no loss on the first live node's registry (the converged
 * registries agree). Returns true when it holds; otherwise writes the first
 * offending name and why into `detail`. */
bool sim_check_no_loss(struct sim_world *w, char *detail, size_t size);

/* Judges placement on every live node's registry: each started entry's
 * owner is the node the holder's ring assigns. Writes the first offence. */
bool sim_check_placement(struct sim_world *w, char *detail, size_t size);

#endif
