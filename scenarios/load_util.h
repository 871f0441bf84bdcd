/*
 * scenarios/load_util.h: shared machinery of the scenario loader: the
 * loading context over a libyaml document, error reporting as
 * `file:line:column: what was expected`, and parsers for the scalar types of
 * the schema (durations with units, probabilities, integers, booleans,
 * addresses, distributions, node sets).
 */
#ifndef SC_LOAD_UTIL_H
#define SC_LOAD_UTIL_H

#include <yaml.h>

#include "loader.h"

struct sc_load {
    yaml_document_t doc;
    const char *file;
    char *err;
    size_t errlen;
    bool failed;
    struct scenario *sc;
};

/* Checks the file's shape on libyaml's events before it is loaded
 * (scenarios/load_guard.c): nesting depth, one document, no tags, no
 * aliases, no NUL in strings.  0, or -1 with `file:line:column: ...` in err. */
int ld_guard_text(const char *text, size_t len, const char *file, char *err, size_t errlen);

/* Records the first error, located at node `n` (or nowhere if NULL). */
void ld_error(struct sc_load *ld, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Position of a node (1-based line and column). */
struct sc_pos ld_pos(const yaml_node_t *n);

/* The scalar text of a node, or NULL (with an error naming `what`) when the
 * node is not a scalar. */
const char *ld_scalar(struct sc_load *ld, const yaml_node_t *n, const char *what);

/* Checks that `n` is a mapping whose keys are all in `allowed` (a NULL-ended
 * list); reports wrong types, unknown and duplicate keys. */
bool ld_check_map(struct sc_load *ld, const yaml_node_t *n, const char *section,
                  const char *const *allowed);

/* The value of `key` in mapping `n`, or NULL. */
yaml_node_t *ld_get(struct sc_load *ld, const yaml_node_t *n, const char *key);

/* Resolves a node id of the document. */
yaml_node_t *ld_node(struct sc_load *ld, int id);

/* Scalar parsers: each returns false and records an error on bad input. */
bool ld_duration(struct sc_load *ld, const yaml_node_t *n, bool allow_negative, cs_time *out);
bool ld_probability(struct sc_load *ld, const yaml_node_t *n, double *out);
bool ld_number(struct sc_load *ld, const yaml_node_t *n, double *out);
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
bool ld_uint(struct sc_load *ld, const yaml_node_t *n, uint64_t max, uint64_t *out);
bool ld_bool(struct sc_load *ld, const yaml_node_t *n, bool *out);
bool ld_string(struct sc_load *ld, const yaml_node_t *n, char *buf, size_t size);
/* A string that names something in traces, reports and file names (a node
 * id, a basename, a DNS name, the scenario's name): letters, digits and
 * _ . - : @ only, so no output needs to escape it. */
bool ld_token(struct sc_load *ld, const yaml_node_t *n, const char *what, char *buf, size_t size);
bool ld_address(struct sc_load *ld, const yaml_node_t *n, struct cs_addr *out);
bool ld_dist(struct sc_load *ld, const yaml_node_t *n, struct sim_dist *out);
/* One of `names` (NULL-ended); returns its index or -1 with an error. */
int ld_enum(struct sc_load *ld, const yaml_node_t *n, const char *what, const char *const *names);

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
/* One DNS record {name, type, address | target + port, ttl}. */
bool ld_dns_record(struct sc_load *ld, const yaml_node_t *n, struct sc_dns_entry *out);

#endif
