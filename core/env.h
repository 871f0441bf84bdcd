/*
 * core/env.h: the environment seam.
 *
 * Every contact of core/ with the outside world goes through `struct cs_env`,
 * a table of function pointers handed to a node instance when it is created
 * (in the style of canonical/raft's raft_io).  The simulator binds it to
 * virtual time, a simulated network and simulated DNS (shims/sim/); the node
 * daemon binds it to the wall clock, sockets and a real resolver
 * (shims/posix/).  Whatever the environment has to tell the core arrives as
 * a `struct cs_event` passed to the protocol's handle function (core/proto.h).
 *
 * Nothing in core/ may call time(), clock_gettime(), rand(), getrandom(),
 * socket functions or resolver functions; `make check-core` verifies it on
 * the object files.
 */
#ifndef CS_ENV_H
#define CS_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Time and durations, in nanoseconds. */
typedef int64_t cs_time;
#define CS_NSEC(x) ((cs_time)(x))
#define CS_USEC(x) ((cs_time)(x) * 1000LL)
#define CS_MSEC(x) ((cs_time)(x) * 1000000LL)
#define CS_SEC(x) ((cs_time)(x) * 1000000000LL)
#define CS_TIME_NEVER INT64_MAX

/* An IPv4 or IPv6 address with a port (port 0: the protocol's default). */
struct cs_addr {
    uint8_t family; /* 4 or 6; 0 means "no address" */
    uint8_t ip[16]; /* IPv4 uses the first 4 bytes */
    uint16_t port;
};

/* Handles chosen by the environment; 0 is never a valid handle. */
typedef uint32_t cs_timer_id;
typedef uint32_t cs_link_id;
typedef uint32_t cs_query_id;

enum cs_dns_type { CS_DNS_A = 1, CS_DNS_AAAA = 28, CS_DNS_SRV = 33 };

enum cs_dns_status {
    CS_DNS_OK = 0,
    CS_DNS_NXDOMAIN,
    CS_DNS_SERVFAIL,
    CS_DNS_TIMEOUT,
};

#define CS_DNS_NAME_MAX 254

/* One resource record of an answer. */
struct cs_dns_record {
    enum cs_dns_type type;
    uint32_t ttl_s;
    struct cs_addr addr;            /* A and AAAA */
    char target[CS_DNS_NAME_MAX];   /* SRV target host */
    uint16_t port, priority, weight; /* SRV */
};

/* The outcome of one query.  `truncated` is set when the server had more
 * records than it returned. */
struct cs_dns_answer {
    enum cs_dns_status status;
    bool truncated;
    size_t count;
    const struct cs_dns_record *records;
};

enum cs_link_down_reason {
    CS_LINK_REFUSED = 1, /* nobody listens at the address */
    CS_LINK_TIMEOUT,     /* connection set-up never completed */
    CS_LINK_CLOSED,      /* the peer closed the link */
    CS_LINK_BROKEN,      /* the path broke (partition, crash of the peer) */
};

enum cs_log_level { CS_LOG_DEBUG = 0, CS_LOG_INFO, CS_LOG_WARN, CS_LOG_ERROR };

/* One field of a trace record: a key and a typed value.  The environment
 * encodes records (the simulator as JSON lines, escaping every string), so
 * the core never formats JSON and a name holding quotes or control bytes
 * cannot break a record. */
enum cs_field_type { CS_FIELD_STR = 1, CS_FIELD_INT, CS_FIELD_UINT, CS_FIELD_BOOL };
struct cs_field {
    const char *key;
    enum cs_field_type type;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        bool b;
    } v;
};
#define CS_FSTR(k, x) ((struct cs_field){.key = (k), .type = CS_FIELD_STR, .v.s = (x)})
#define CS_FINT(k, x) ((struct cs_field){.key = (k), .type = CS_FIELD_INT, .v.i = (int64_t)(x)})
#define CS_FUINT(k, x) ((struct cs_field){.key = (k), .type = CS_FIELD_UINT, .v.u = (uint64_t)(x)})
#define CS_FBOOL(k, x) ((struct cs_field){.key = (k), .type = CS_FIELD_BOOL, .v.b = (x)})

/* A command from the harness or an operator, such as a registry operation
 * from a scenario timeline.  Protocols that do not know `op` log and ignore
 * it. */
struct cs_command {
    const char *op;      /* "register", "unregister", "send", ... */
    const char *name;    /* the name the command is about, or NULL */
    const char *arg;     /* a free-form argument, or NULL */
    int64_t value;       /* a numeric argument */
};

enum cs_event_type {
    CS_EV_TIMER = 1,
    CS_EV_LINK_UP,
    CS_EV_LINK_MSG,
    CS_EV_LINK_DOWN,
    CS_EV_DGRAM,
    CS_EV_DNS,
    CS_EV_STOP,
    CS_EV_COMMAND,
};

/* Everything the environment tells a node. Pointers inside are valid only
 * for the duration of the handle call. */
struct cs_event {
    enum cs_event_type type;
    union {
        struct { cs_timer_id id; uint64_t tag; } timer;
        struct { cs_link_id link; bool inbound; struct cs_addr peer; } link_up;
        struct { cs_link_id link; uint32_t cookie; const uint8_t *data; size_t len; } msg;
        struct { cs_link_id link; enum cs_link_down_reason reason; } link_down;
        struct { struct cs_addr from; const uint8_t *data; size_t len; } dgram;
        struct { cs_query_id query; const struct cs_dns_answer *answer; } dns;
        struct { cs_time grace; } stop;
        struct { const struct cs_command *cmd; } command;
    } u;
};

/* The environment a node instance runs in.  `impl` belongs to the binding. */
struct ring_memo;

struct cs_env {
    void *impl;
    /* The node's own address, as peers reach it. */
    struct cs_addr self_addr;
    /* Non-zero when trace events are recorded; lets the core skip formatting. */
    int trace_enabled;
    /* Non-zero when log lines go anywhere: lines of level log_enabled - 1
     * and above (1: every line); lets the core skip formatting. */
    int log_enabled;
    /* Optional: ring point hashes shared by every node the host runs in this
     * thread (core/ring.h; a pure memo, so placement is the same without
     * it); NULL: each node hashes its own. */
    struct ring_memo *ring_memo;

    /* Monotonic time of this node's clock (may drift from other nodes'). */
    cs_time (*now)(struct cs_env *env);
    /* Arms a one-shot timer; CS_EV_TIMER with `tag` arrives after `delay`. */
    cs_timer_id (*timer_start)(struct cs_env *env, cs_time delay, uint64_t tag);
    /* Disarms a timer; a no-op when it already fired or was cancelled. */
    void (*timer_cancel)(struct cs_env *env, cs_timer_id timer);

    /* Opens a reliable FIFO link; CS_EV_LINK_UP or CS_EV_LINK_DOWN follows. */
    cs_link_id (*link_connect)(struct cs_env *env, const struct cs_addr *peer);
    /* Queues one framed message on an established link; 0 or -1 if the link
     * is unknown or already closed. Messages on a link that breaks are lost. */
    int (*link_send)(struct cs_env *env, cs_link_id link, const void *data, size_t len);
    /* Closes a link; the peer gets CS_EV_LINK_DOWN, this side gets nothing. */
    void (*link_close)(struct cs_env *env, cs_link_id link);
    /* Optional: the largest frame the core will accept on a link from now
     * on (small until a handshake proves the peer), so a binding need not
     * buffer more: a longer frame may close the link (CS_EV_LINK_DOWN).
     * NULL: the binding keeps its own limit. */
    void (*link_limit)(struct cs_env *env, cs_link_id link, size_t max_frame);
    /* Optional: a number the core attaches to its end of a link, which every
     * later CS_EV_LINK_MSG of that link carries back (u.msg.cookie) so the
     * core finds its state for the link without a lookup.  Messages carry 0
     * until it is set, and always when this is NULL. */
    void (*link_set_cookie)(struct cs_env *env, cs_link_id link, uint32_t cookie);

    /* Sends a datagram to an address or a multicast group (may be lost,
     * duplicated or reordered). */
    int (*dgram_send)(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len);
    /* Subscribes this node to datagrams sent to a multicast group. */
    int (*dgram_join)(struct cs_env *env, const struct cs_addr *group);

    /* Starts an asynchronous query; CS_EV_DNS with the same id follows. */
    cs_query_id (*dns_query)(struct cs_env *env, const char *name, enum cs_dns_type type);

    /* 64 random bits from the environment's generator. */
    uint64_t (*random_u64)(struct cs_env *env);
    /* Optional: a choice among `bound` alternatives (a protocol decision such
     * as a sync node pick). An exhaustive explorer answers it to enumerate
     * every alternative; NULL means draw it from random_u64. */
    uint64_t (*choose)(struct cs_env *env, uint64_t bound);

    /* Records a structured trace event of `kind` with `count` typed fields
     * (cs_trace builds them); the environment encodes it. */
    void (*trace)(struct cs_env *env, const char *kind, const struct cs_field *fields, size_t count);
    /* Records a log line. */
    void (*log)(struct cs_env *env, enum cs_log_level level, const char *line);
    /* Tells the environment a graceful stop has finished (see CS_EV_STOP). */
    void (*stopped)(struct cs_env *env);
    /* Reports the outcome of a command (CS_EV_COMMAND) to whoever drives the
     * node: a scenario's expectations, an operator's clusterctl. May be NULL. */
    void (*reply)(struct cs_env *env, const char *op, const char *name, const char *status,
                  const char *owner, int64_t value);
};

/* Records a trace event with its fields when tracing is on, for example
 * cs_trace(env, "nodeup", CS_FSTR("peer", name)); the fields are not even
 * built when it is off. */
#define cs_trace(env, kind, ...)                                                        \
    do {                                                                                \
        struct cs_env *trace_env_ = (env);                                              \
        if (trace_env_->trace_enabled && trace_env_->trace) {                           \
            const struct cs_field trace_fields_[] = {__VA_ARGS__};                      \
            trace_env_->trace(trace_env_, (kind), trace_fields_,                        \
                              sizeof trace_fields_ / sizeof trace_fields_[0]);         \
        }                                                                               \
    } while (0)

/* Formats and records a log line. */
void cs_logf(struct cs_env *env, enum cs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A uniformly distributed integer in [0, bound) drawn from env->random_u64
 * without modulo bias; 0 when bound is 0. */
uint64_t cs_random_below(struct cs_env *env, uint64_t bound);

/* A protocol decision among `bound` alternatives (which peer to sync with):
 * env->choose when the environment enumerates them (exploration), else
 * cs_random_below. */
uint64_t cs_choose(struct cs_env *env, uint64_t bound);

#endif
