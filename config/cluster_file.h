/*
 * config/cluster_file.h: reading the cluster configuration (membership with
 * its topologies and connection settings, tracker) from YAML, for both a
 * scenario's cluster section and clusterd's --config file, with
 * file:line:column errors.  Its schema is in scenarios/README.md (the
 * `membership` and `tracker` keys) and deploy/clusterd.yaml.  Functions
 * are prefixed cf_ (cluster file).
 */
#ifndef CS_CLUSTER_FILE_H
#define CS_CLUSTER_FILE_H

#include <stdio.h>

#include "../core/cluster.h"
#include "yaml_reader.h"

/* The largest configuration file clusterd reads. */
#define CLUSTER_FILE_MAX (1 << 20)
/* The largest static quorum a clusterd configuration may ask for. */
#define CLUSTER_FILE_QUORUM_MAX 100000

/* What the caller knows that the file may leave out. */
struct cluster_file_context {
    const char *membership_section; /* as errors name them: "cluster.membership" */
    const char *tracker_section;
    const char *app_name;     /* DNS topologies' default application_name, or NULL */
    const char *query;        /* DNS topologies' default query, or NULL */
    const char *query_source; /* where that default comes from, for the error
                                 when there is none: " (or a dns.service)" */
    /* Resolves a static host that is not a node name (a scenario's node id)
     * into `out`; true when known.  NULL: only node names (app@10.0.0.1). */
    bool (*resolve)(void *ctx, const char *id, char *out, size_t size);
    /* Fills the hosts of a static topology that lists none; NULL: hosts
     * are required. */
    void (*all_hosts)(void *ctx, struct membership_topology_config *t);
    void *ctx;
    uint32_t quorum_max;      /* the largest static_quorum accepted */
};

/* Reads a membership mapping into `m` (whose defaults are set). */
bool cf_membership(struct yaml_reader *rd, const yaml_node_t *n, struct membership_config *m,
                   const struct cluster_file_context *cx);
/* Reads a tracker section into cc->trk and turns the tracker on; `n` may be
 * NULL or "on" (the defaults) or "off" (tracker off). */
bool cf_tracker(struct yaml_reader *rd, const yaml_node_t *n, struct cluster_config *cc,
                const struct cluster_file_context *cx);

/* Reads a clusterd configuration file (top-level keys `membership` and
 * `tracker`) over `cfg`, which holds the daemon's defaults: what the file
 * states replaces them.  0, or -1 with `file:line:column: ...` in err. */
int cluster_file_load(const char *path, struct cluster_config *cfg, char *err, size_t errlen);
/* The same on text in memory; `file` names it in errors. */
int cluster_file_load_string(const char *text, size_t len, const char *file, struct cluster_config *cfg, char *err,
                             size_t errlen);

/* Writes `cfg` as a configuration file that cluster_file_load reads back
 * into the same configuration (config/cluster_file_write.c); 0, or -1 on a
 * write error.  What the file schema does not hold (the listening port,
 * encryption, the pending-handshake limits) is left to clusterd's flags. */
int cluster_file_write(FILE *f, const struct cluster_config *cfg);

#endif
