/*
 * core/cluster.h: the production cluster node as one protocol (core/proto.h):
 * the connection layer and membership (core/membership.h) today, the
 * registry and tracker next.  This is what the simulator runs for scenarios
 * with `protocol: cluster` and what the node daemon will run.
 */
#ifndef CS_CLUSTER_H
#define CS_CLUSTER_H

#include "membership.h"
#include "proto.h"
#include "tracker.h"

struct cluster_config {
    struct membership_config mem;
    bool tracker;            /* run the registry/tracker on top of membership */
    struct trk_config trk;
};

/* The protocol's operations. */
extern const struct cs_proto cluster_proto;

/* Defaults: fixed membership mode without topologies. */
void cluster_config_defaults(struct cluster_config *cfg);

/* The membership of a node created by cluster_proto.create (tests). */
struct membership *cluster_membership(void *instance);
/* Its tracker, or NULL when the tracker is off. */
struct tracker *cluster_tracker(void *instance);

#endif
