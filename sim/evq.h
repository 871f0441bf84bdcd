/*
 * sim/evq.h: the simulator's event queue on virtual time, ordered by (time,
 * sequence number): events at the same instant run in the order they were
 * scheduled, never in pointer or slot order.  A radix heap (struct sim_evq)
 * over a slab of event bodies with a free list, so scheduling does not
 * allocate.
 */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include "../core/env.h"

enum sim_ev_kind {
    SEV_NONE = 0,     /* a cancelled event: popped and skipped */
    SEV_TIMER,        /* a node's timer fires */
    SEV_LINK_SETUP,   /* a connection attempt completes (or fails) */
    SEV_LINK_MSG,     /* a message reaches one end of a link */
    SEV_LINK_DOWN,    /* one end learns its link is gone */
    SEV_DGRAM,        /* a datagram reaches a node */
    SEV_DNS_ANSWER,   /* a resolver answer reaches a node */
    SEV_ACTION,       /* a scenario timeline action is due */
    SEV_STOP_EXPIRED, /* a graceful stop ran out of grace: kill */
    SEV_NODE_UP,      /* a restarted node comes back */
    SEV_DNS_SERVICE,  /* a node's service record is published or withdrawn */
    SEV_CHECK,        /* a periodic checker tick */
    SEV_NODE_EXIT,    /* a stopping node finished its shutdown */
    SEV_OBSERVE,      /* the no-loss checker notes who holds which started name */
    SEV_SAMPLE,       /* the report sampler (sim/sampler.h); not counted as an event */
};

#define SIM_EVENT_INLINE 16

struct sim_event {
    cs_time time;
    uint64_t seq;
    enum sim_ev_kind kind;
    uint32_t node;        /* the node the event is delivered to, if any */
    uint32_t src;         /* the node that caused it (message sender), or UINT32_MAX */
    uint32_t incarnation; /* the node incarnation it belongs to */
    uint32_t id;          /* timer, link, query or action id */
    uint32_t aux;         /* kind-specific: link side, reason, ... */
    uint64_t tag;         /* timer tag, or a second kind-specific value */
    void *payload;        /* owned bytes (message, datagram, answer), or NULL */
    size_t len;
    struct cs_addr addr;  /* datagram source, node address, ... */
    /* A link message of at most SIM_EVENT_INLINE bytes (a tick, most
     * tracker requests) travels here, with payload NULL: no allocation. */
    uint8_t inline_data[SIM_EVENT_INLINE];
};

/* The event's bytes: its payload, or its inline data. */
static inline const void *sim_event_data(const struct sim_event *ev)
{
    return ev->payload ? ev->payload : ev->inline_data;
}

/* A queued event's place: its time as an unsigned number (so that unsigned
 * order is time order) and sequence number << 24 | slot. */
struct sim_evq_entry {
    uint64_t utime;
    uint64_t key;
};

struct sim_evq_bucket {
    struct sim_evq_entry *items;
    uint32_t count, capacity;
};

#define SIM_EVQ_BUCKETS 65

/* A radix heap: bucket 0 holds the events at the earliest time (`last`), in
 * sequence order, popped from `head`; bucket b > 0 holds those whose time
 * first differs from `last` in bit b-1.  Virtual time never runs backwards,
 * so an event is pushed once and moves down a few buckets at most: cheaper
 * than a comparison heap at millions of events a second. */
struct sim_evq {
    struct sim_evq_bucket buckets[SIM_EVQ_BUCKETS];
    uint32_t head;      /* next event of bucket 0 */
    uint64_t last;      /* the time (unsigned) of bucket 0 */
    uint64_t nonempty;  /* bit b-1: bucket b > 0 holds events */
    size_t count;
    struct sim_event *slab;
    uint32_t *free_slots;
    size_t slab_capacity, free_count;
    uint64_t next_seq;
};

/* Prepares an empty queue. */
void sim_evq_init(struct sim_evq *q);
/* Frees the queue; payloads still queued are freed with free(). */
void sim_evq_free(struct sim_evq *q);
/* Copies `ev` into the queue at ev->time; fills ev->seq. Returns the slot
 * (a handle for sim_evq_get), or -1 when out of memory. */
int64_t sim_evq_push(struct sim_evq *q, const struct sim_event *ev);
/* Removes the earliest event into *out; false when the queue is empty. */
bool sim_evq_pop(struct sim_evq *q, struct sim_event *out);
/* The earliest event's time, or CS_TIME_NEVER (it may move events between
 * buckets, hence the non-const queue). */
cs_time sim_evq_peek_time(struct sim_evq *q);
/* The queued event in `slot` (valid until it is popped), e.g. to cancel it
 * by setting its kind to SEV_NONE. */
struct sim_event *sim_evq_get(struct sim_evq *q, uint32_t slot);
/* Whether the event pushed into `slot` with sequence number `seq` is still
 * queued (not popped; a cancelled one, of kind SEV_NONE, still is). */
bool sim_evq_queued(const struct sim_evq *q, uint32_t slot, uint64_t seq);
/* The first queued event `match` accepts, in unspecified order (so at most
 * one may match), or NULL; the result may be changed, e.g. cancelled. */
struct sim_event *sim_evq_find(struct sim_evq *q, bool (*match)(void *ctx, const struct sim_event *ev), void *ctx);
/* Calls `fn` on every queued event, in unspecified order (use only for
 * order-independent questions such as counting). */
void sim_evq_each(struct sim_evq *q, void (*fn)(void *ctx, const struct sim_event *ev), void *ctx);

#endif
