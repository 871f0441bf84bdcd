/*
 * sim/net.h: the network model.  Links are reliable and FIFO per direction
 * while they live, with sampled latency and connection set-up time; a
 * partition cuts them and each end learns it after a detection delay; a
 * clog holds messages of an ordered pair until a given time.  Datagrams
 * may be lost, duplicated or reordered.  Partitions may be one-way.
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "../core/env.h"

struct sim_world;
struct sim_event;

enum sim_link_state { SIM_LINK_CONNECTING = 0, SIM_LINK_UP, SIM_LINK_DEAD };

struct sim_link {
    uint32_t end_node[2];    /* 0: the initiator, 1: the acceptor */
    uint32_t end_inc[2];     /* node incarnations at each end */
    bool end_open[2];        /* the end has not closed nor learnt of a close */
    enum sim_link_state state;
    bool broken;             /* cut by a partition or a crash: data is lost */
    cs_time last_delivery[2];/* FIFO: the latest scheduled delivery per direction */
    uint32_t live_pos;       /* position in net.live, while not dead */
    uint32_t end_cookie[2];  /* what each end's node set (cs_env.link_set_cookie) */
};

struct sim_clog {
    uint32_t from, to;
    cs_time until;
};

struct sim_net {
    struct sim_link *links;  /* link id = index + 1 */
    size_t link_count, link_capacity;
    uint32_t *live;          /* ids of links not yet dead */
    size_t live_count, live_capacity;
    uint8_t *blocked;        /* node_count x node_count: partitions cutting from -> to */
    size_t partitions_active;
    struct sim_clog *clogs;
    size_t clog_count, clog_capacity;
};

/* Allocates the model for `node_count` nodes; -1 when out of memory. */
int sim_net_init(struct sim_net *net, size_t node_count);
/* Frees the model. */
void sim_net_free(struct sim_net *net);

/* Opens a link from `node` to `peer` (see cs_env.link_connect). */
cs_link_id sim_net_connect(struct sim_world *w, uint32_t node, const struct cs_addr *peer);

/* For a pending link set-up event: false when it can only fail (the address
 * is free, or the node there has died since), so it cannot bring a peer up. */
bool sim_net_setup_may_succeed(struct sim_world *w, const struct sim_event *ev);
/* Sends a message on a link from `node` (see cs_env.link_send). */
int sim_net_send(struct sim_world *w, uint32_t node, cs_link_id link, const void *data, size_t len);
/* Sets `node`'s cookie for its end of a link (see cs_env.link_set_cookie). */
void sim_net_set_cookie(struct sim_world *w, uint32_t node, cs_link_id link, uint32_t cookie);
/* Closes `node`'s end of a link (see cs_env.link_close). */
void sim_net_close(struct sim_world *w, uint32_t node, cs_link_id link);
/* Sends a datagram (see cs_env.dgram_send). */
int sim_net_dgram(struct sim_world *w, uint32_t node, const struct cs_addr *to, const void *data,
                  size_t len);

/* Handles the network's own queued events (set-up, message, link down,
 * datagram). */
void sim_net_handle(struct sim_world *w, const struct sim_event *ev);

/* Breaks every link of a node that has just died (crash or exit); peers
 * learn after `detect` (or after in-flight data, whichever is later). */
void sim_net_node_gone(struct sim_world *w, uint32_t node, cs_time detect,
                       enum cs_link_down_reason reason);

/* Cuts traffic from every node in `a` to every node in `b` (and back unless
 * oneway); links between them break. */
void sim_net_partition(struct sim_world *w, const uint32_t *a, size_t na, const uint32_t *b,
                       size_t nb, bool oneway);
/* Removes the one partition that sim_net_partition made with the same
 * arguments (a timed partition healing by itself); others stay. */
void sim_net_unpartition(struct sim_world *w, const uint32_t *a, size_t na, const uint32_t *b,
                         size_t nb, bool oneway);
/* Removes every partition. */
void sim_net_heal(struct sim_world *w);
/* Holds messages from `from` to `to` until `until`. */
void sim_net_clog(struct sim_world *w, uint32_t from, uint32_t to, cs_time until);

/* True when traffic from -> to is cut. */
bool sim_net_blocked(const struct sim_world *w, uint32_t from, uint32_t to);

#endif
