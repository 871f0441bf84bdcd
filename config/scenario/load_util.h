/*
 * config/scenario/load_util.h: what the scenario loader's files share: the
 * loading context (a YAML reader, config/yaml_reader.h, and the scenario
 * being filled), the scenario's own scalar types (clock rates,
 * probabilities, distributions, node sets) and the section parsers.  Its
 * functions are prefixed ld_ (scenario loader).
 */
#ifndef SC_LOAD_UTIL_H
#define SC_LOAD_UTIL_H

#include "../cluster_file.h"
#include "../yaml_reader.h"
#include "loader.h"

struct sc_load {
    struct yaml_reader rd; /* the document, the file name and the first error */
    struct scenario *sc;
};

/* Position of a node (1-based line and column; 0 0 for NULL). */
struct sc_pos ld_pos(const yaml_node_t *n);

/* The scenario's own scalar types; each returns false and records an
 * error on bad input (the others: config/yaml_reader.h). */
bool ld_probability(struct sc_load *ld, const yaml_node_t *n, double *out);
/* A clock rate error in parts per million, within LD_PPM_MIN..LD_PPM_MAX
 * (beyond them timers of a slow clock step by nanoseconds, or a fast one's
 * delays overflow); `what` names the key in the error. */
#define LD_PPM_MIN -900000.0
#define LD_PPM_MAX 1000000.0
bool ld_ppm(struct sc_load *ld, const yaml_node_t *n, const char *what, double *out);
/* The shortest repeat interval of a timeline entry (`every`; a benchmark
 * registers every 100us), and the shortest check interval. */
#define LD_EVERY_MIN CS_USEC(1)
#define LD_CHECK_INTERVAL_MIN CS_MSEC(1)
bool ld_dist(struct sc_load *ld, const yaml_node_t *n, struct sim_dist *out);
/* A node set: "all", a node id, a list of ids, or {random: k}. Node ids must
 * be declared in cluster.nodes. */
bool ld_nodeset(struct sc_load *ld, const yaml_node_t *n, struct sc_nodeset *out);

/* Section parsers shared between loader.c and load_timeline.c. */
/* The `timeline` list (needs cluster.nodes and limits loaded first). */
bool ld_timeline(struct sc_load *ld, const yaml_node_t *n);
/* The `expect` list. */
bool ld_expectations(struct sc_load *ld, const yaml_node_t *n);
/* The `membership` section of protocol cluster (load_cluster.c); `n` may be
 * NULL for all defaults.  Runs after cluster.nodes and dns are loaded. */
bool ld_membership(struct sc_load *ld, const yaml_node_t *n);
/* The `tracker` section of protocol cluster (load_cluster.c): turns the
 * registry/tracker on; `n` NULL or "on" for the defaults. */
bool ld_tracker(struct sc_load *ld, const yaml_node_t *n);
/* The `worlds` key (load_worlds.c). */
bool ld_worlds(struct sc_load *ld, const yaml_node_t *n);
/* Reads `sim`, `real` or a list of them into SC_WORLD_* bits. */
bool ld_world_list(struct sc_load *ld, const yaml_node_t *n, unsigned *worlds);
/* After the whole file: refuses, at its position, what the real world
 * cannot perform when the scenario asks for the real world. */
bool ld_check_worlds(struct sc_load *ld);
/* One DNS record {name, type, address | target + port, ttl}. */
bool ld_dns_record(struct sc_load *ld, const yaml_node_t *n, struct sc_dns_entry *out);

#endif
