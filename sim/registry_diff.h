/*
 * sim/registry_diff.h: when the live nodes' registries disagree, the names
 * they disagree on with every live node's owner for each: what a failed
 * no_duplicates run shows on the console, in JUnit and in its report.
 */
#ifndef SIM_REGISTRY_DIFF_H
#define SIM_REGISTRY_DIFF_H

#include <stddef.h>

#include "world.h"

/* Text lines "  NAME: n1 OWNER, n2 -, ..." (sorted by name) for at most
 * max_names disagreeing names, then a count of the rest; NULL when the
 * protocol has no registry, the registries agree, or memory runs out.
 * Skipped (with a line saying so) above 200,000 distinct names.  The caller
 * frees it. */
char *sim_registry_diff(struct sim_world *w, size_t max_names);

#endif
