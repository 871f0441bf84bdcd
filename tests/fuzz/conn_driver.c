/*
 * tests/fuzz/conn_driver.c: the many-links driver of the connection layer
 * (see conn_driver.h).  The node under test is app@10.0.0.1; the driver's
 * environment records what the node sends on each link, so it can answer
 * as a genuine peer (valid proofs computed from the node's challenges) or
 * as an attacker (zero, replayed or made-up proofs).
 */
#include "conn_driver.h"

#include <stdio.h>
#include <string.h>

#include "../../core/addr.h"
#include "../../core/auth.h"
#include "../../core/conn.h"
#include "../../core/wire.h"
#include "null_env.h"

#define SELF "app@10.0.0.1"
#define M1 0 /* index in names[]: the member up from the start */
#define M2 1 /* the genuine newcomer */
#define M1_SLOT (CD_SLOTS - 1)
#define M2_SLOT (CD_SLOTS - 2)
#define FUZZ_SLOTS (CD_SLOTS - 2)
#define M2_HELLO_STEP 4
#define M2_REPLY_STEP 8

static const char *const names[] = {
    "app@10.0.0.2",  /* m1 */
    "app@10.0.0.3",  /* m2 */
    "app@10.0.0.4",  /* a peer the node knows of (dialled once) */
    "evil@10.6.6.6", /* a name nobody knows */
    SELF,            /* the node's own name */
    "noatsign",      /* not a node name */
};
#define NAME_COUNT (sizeof names / sizeof names[0])

struct cd_slot {
    cs_link_id id;
    bool open, outbound, up_sent;
    int name;                /* outbound: whom the node dialled */
    uint64_t node_challenge; /* the challenge in the node's CHALLENGE (inbound) or HELLO (outbound) */
};

struct driver {
    struct null_env n; /* first: null_env's functions find it through env.impl */
    struct conn *c;
    struct cs_tag_key proof_key;
    struct cd_slot slots[CD_SLOTS];
    uint8_t last_valid_proof[CS_AUTH_PROOF_LEN];
    bool m1_down, m2_hello_sent, hello_decides;
    cs_time m2_hello_at;
    uint64_t evicted_at_m2_hello;
    struct conn_driver_result *out;
};

static struct driver *drv(struct cs_env *env)
{
    return env->impl;
}

static struct cd_slot *slot_of(struct driver *d, cs_link_id id)
{
    for (size_t i = 0; i < CD_SLOTS; i++)
        if (d->slots[i].open && d->slots[i].id == id)
            return &d->slots[i];
    return NULL;
}

/* What the node sends: keep its challenges, so genuine answers can prove. */
static int drv_link_send(struct cs_env *env, cs_link_id link, const void *data, size_t len)
{
    struct cd_slot *s = slot_of(drv(env), link);
    if (!s || len < 1)
        return 0;
    struct cs_reader r;
    cs_reader_init(&r, data, len);
    uint8_t type = cs_get_u8(&r);
    char name[CS_NODE_NAME_MAX];
    if (type == CONN_FRAME_HELLO || type == CONN_FRAME_CHALLENGE) { /* ours, on a dial / as acceptor */
        cs_get_u16(&r);
        cs_get_str(&r, name, sizeof name);
        if (type == CONN_FRAME_HELLO)
            cs_get_str(&r, name, sizeof name);
        cs_get_u32(&r);
        uint64_t challenge = cs_get_u64(&r);
        if (!r.bad)
            s->node_challenge = challenge;
    }
    return 0;
}

static void drv_link_close(struct cs_env *env, cs_link_id link)
{
    struct cd_slot *s = slot_of(drv(env), link);
    if (s)
        s->open = false;
}

static int name_of_addr(const struct cs_addr *a)
{
    for (size_t i = 0; i < NAME_COUNT; i++) {
        struct cs_addr b;
        const char *at = strchr(names[i], '@');
        if (at && cs_addr_parse(at + 1, &b) == 0 && memcmp(a->ip, b.ip, 4) == 0)
            return (int)i;
    }
    return 3;
}

static cs_link_id drv_link_connect(struct cs_env *env, const struct cs_addr *peer)
{
    struct driver *d = drv(env);
    cs_link_id id = ++d->n.next_id;
    for (size_t i = FUZZ_SLOTS; i-- > 0;) /* from the top: inbound tests start at 0 */
        if (!d->slots[i].open) {
            d->slots[i] = (struct cd_slot){.id = id, .open = true, .outbound = true, .name = name_of_addr(peer)};
            break;
        }
    return id;
}

static void on_nodedown(void *ctx, const char *peer, enum conn_down_reason why)
{
    (void)why;
    struct driver *d = ctx;
    if (strcmp(peer, names[M1]) == 0)
        d->m1_down = true;
}

static void deliver(struct driver *d, const struct cs_event *ev)
{
    conn_handle(d->c, ev);
}

static void handle_timer(void *instance, const struct cs_event *ev)
{
    deliver(instance, ev);
}

static void frame(struct driver *d, struct cd_slot *s, const uint8_t *bytes, size_t len)
{
    if (!s->open)
        return;
    struct cs_event ev = {.type = CS_EV_LINK_MSG};
    ev.u.msg.link = s->id;
    ev.u.msg.data = bytes;
    ev.u.msg.len = len;
    deliver(d, &ev);
}

static void open_inbound(struct driver *d, struct cd_slot *s, const char *from_ip)
{
    if (s->open)
        return;
    *s = (struct cd_slot){.id = ++d->n.next_id, .open = true, .name = -1};
    struct cs_event ev = {.type = CS_EV_LINK_UP};
    ev.u.link_up.link = s->id;
    ev.u.link_up.inbound = true;
    cs_addr_parse(from_ip, &ev.u.link_up.peer);
    deliver(d, &ev);
}

static void close_link(struct driver *d, struct cd_slot *s)
{
    if (!s->open)
        return;
    s->open = false;
    struct cs_event ev = {.type = CS_EV_LINK_DOWN};
    ev.u.link_down.link = s->id;
    ev.u.link_down.reason = CS_LINK_CLOSED;
    deliver(d, &ev);
}

static void send_hello(struct driver *d, struct cd_slot *s, const char *name, uint32_t creation)
{
    uint8_t buf[512];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    conn_put_hello(&w, name, SELF, creation, 0x5eed);
    frame(d, s, buf, w.len);
}

static void send_reply(struct driver *d, struct cd_slot *s, const uint8_t proof[CONN_PROOF_LEN])
{
    uint8_t buf[1 + CONN_PROOF_LEN];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    conn_put_reply(&w, proof);
    frame(d, s, buf, w.len);
}

/* A REPLY proving `name` against the node's challenge on this link. */
static void send_valid_reply(struct driver *d, struct cd_slot *s, const char *name)
{
    cs_auth_proof(&d->proof_key, "dial", s->node_challenge, name, SELF, d->last_valid_proof);
    send_reply(d, s, d->last_valid_proof);
}

/* Lets time pass in 100 ms steps; m1 ticks every second, as a live peer does. */
static void pass_time(struct driver *d, unsigned tenths)
{
    for (unsigned i = 0; i < tenths; i++) {
        if ((d->n.now / CS_MSEC(100)) % 10 == 0) {
            const uint8_t tick = CONN_FRAME_TICK;
            frame(d, &d->slots[M1_SLOT], &tick, 1);
        }
        null_env_fire(&d->n, CS_MSEC(100), handle_timer, d);
    }
}

/* The next input byte, or 0 once the input is spent. */
static uint8_t next(const uint8_t **p, const uint8_t *end)
{
    return *p < end ? *(*p)++ : 0;
}

/* kind 0: a zero proof; 1: a valid one, only for a name the fuzzer may
 * play (not m1 or m2; otherwise nothing is sent); 2: the last valid proof
 * replayed. */
static void op_reply(struct driver *d, struct cd_slot *s, unsigned kind)
{
    static const uint8_t zero[CONN_PROOF_LEN];
    if (kind % 3 == 1) {
        if (s->name >= 0 && s->name != M1 && s->name != M2 && !s->outbound)
            send_valid_reply(d, s, names[s->name]);
        return;
    }
    send_reply(d, s, kind % 3 == 2 ? d->last_valid_proof : zero);
}

static void op_challenge(struct driver *d, struct cd_slot *s, unsigned kind)
{
    if (!s->outbound || s->name < 0)
        return;
    const char *peer = names[s->name];
    uint8_t buf[512];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    uint8_t proof[CONN_PROOF_LEN] = {0};
    if (kind % 2 && s->name != M1 && s->name != M2)
        cs_auth_proof(&d->proof_key, "accept", s->node_challenge, peer, SELF, proof);
    conn_put_challenge(&w, peer, 99, 0x77, proof);
    frame(d, s, buf, w.len);
}

static void op_raw(struct driver *d, struct cd_slot *s, const uint8_t **p, const uint8_t *end)
{
    static uint8_t buf[2048];
    size_t len = (size_t)next(p, end) * 8;
    for (size_t i = 0; i < len; i++)
        buf[i] = *p < end ? next(p, end) : (uint8_t)i;
    frame(d, s, buf, len);
}

static void run_op(struct driver *d, const uint8_t **p, const uint8_t *end)
{
    static const char *const sources[] = {"10.0.1.1", "10.0.1.2", "10.0.1.3"};
    unsigned op = next(p, end) % CD_OP_COUNT;
    struct cd_slot *s = &d->slots[next(p, end) % FUZZ_SLOTS];
    switch (op) {
    case CD_OPEN: open_inbound(d, s, sources[next(p, end) % 3]); break;
    case CD_CLOSE: close_link(d, s); break;
    case CD_HELLO: {
        unsigned name = next(p, end) % NAME_COUNT;
        if (s->open && !s->outbound)
            s->name = (int)name; /* what the slot claims, for a valid REPLY */
        send_hello(d, s, names[name], next(p, end));
        break;
    }
    case CD_REPLY: op_reply(d, s, next(p, end)); break;
    case CD_RAW: op_raw(d, s, p, end); break;
    case CD_DIAL: conn_connect(d->c, names[next(p, end) % NAME_COUNT]); break;
    case CD_DIAL_UP:
        if (s->open && s->outbound && !s->up_sent) {
            s->up_sent = true;
            struct cs_event ev = {.type = CS_EV_LINK_UP};
            ev.u.link_up.link = s->id;
            deliver(d, &ev);
        }
        break;
    case CD_CHALLENGE: op_challenge(d, s, next(p, end)); break;
    case CD_ACK: {
        const uint8_t ack = CONN_FRAME_ACK;
        if (s->outbound)
            frame(d, s, &ack, 1);
        break;
    }
    default: pass_time(d, next(p, end) % 40); break;
    }
}

/* The genuine newcomer m2, interleaved with the attacker's steps. */
static void run_m2(struct driver *d, size_t step)
{
    struct cd_slot *s = &d->slots[M2_SLOT];
    if (step == M2_HELLO_STEP) {
        open_inbound(d, s, "10.0.0.3");
        send_hello(d, s, names[M2], 2);
        d->m2_hello_sent = true;
        d->m2_hello_at = d->n.now;
        d->evicted_at_m2_hello = conn_stats(d->c)->pending_evicted;
    } else if (step == M2_REPLY_STEP && d->m2_hello_sent) {
        send_valid_reply(d, s, names[M2]);
        /* Owed: m2 answered within the set-up timeout, and the table of
         * unproven links did not overflow meanwhile (an eviction may pick
         * m2: the stated cost of a flood, after which m2 dials again). */
        bool in_time = d->n.now - d->m2_hello_at < CS_SEC(2) &&
                       conn_stats(d->c)->pending_evicted == d->evicted_at_m2_hello;
        d->out->m2_up = conn_is_up(d->c, names[M2]);
        if (in_time && !d->out->m2_up && d->out->ok && !d->hello_decides) {
            d->out->ok = false;
            snprintf(d->out->why, sizeof d->out->why, "the genuine newcomer %s did not come up", names[M2]);
        }
    }
}

static bool check(struct driver *d)
{
    if (!conn_check(d->c, d->out->why, sizeof d->out->why))
        return false;
    if (d->m1_down || !conn_is_up(d->c, names[M1])) {
        snprintf(d->out->why, sizeof d->out->why, "the up member %s was disturbed", names[M1]);
        return false;
    }
    return true;
}

static bool setup(struct driver *d, bool hello_decides)
{
    null_env_init(&d->n, "10.0.0.1");
    d->n.env.impl = d;
    d->n.env.link_send = drv_link_send;
    d->n.env.link_close = drv_link_close;
    d->n.env.link_connect = drv_link_connect;
    struct conn_config cfg;
    conn_config_defaults(&cfg);
    snprintf(cfg.secret, sizeof cfg.secret, "driver-secret");
    cfg.setup_timeout = CS_SEC(2);
    cfg.tick_timeout = CS_SEC(8);
    cfg.max_pending_inbound = 6;
    cfg.max_pending_per_source = 3;
    cfg.hello_decides = hello_decides;
    d->hello_decides = hello_decides;
    struct conn_callbacks cb = {.ctx = d, .nodedown = on_nodedown};
    d->c = conn_new(&d->n.env, &cfg, SELF, 1, &cb);
    if (!d->c)
        return false;
    struct cs_mac_key key;
    cs_auth_key(cfg.secret, &key);
    cs_auth_tag_key(&key, CS_AUTH_PROOF_PURPOSE, &d->proof_key);
    conn_start(d->c);
    conn_connect(d->c, names[2]); /* a peer record for a name that is not up */
    struct cd_slot *m1 = &d->slots[M1_SLOT];
    open_inbound(d, m1, "10.0.0.2");
    send_hello(d, m1, names[M1], 1);
    send_valid_reply(d, m1, names[M1]);
    return conn_is_up(d->c, names[M1]);
}

void conn_driver_run(const uint8_t *data, size_t size, bool hello_decides, struct conn_driver_result *out)
{
    static struct driver d;
    memset(&d, 0, sizeof d);
    memset(out, 0, sizeof *out);
    out->ok = true;
    d.out = out;
    if (!setup(&d, hello_decides)) {
        out->ok = false;
        snprintf(out->why, sizeof out->why, "the first member never came up");
        conn_free(d.c);
        return;
    }
    const uint8_t *p = data, *end = data + size;
    while (p < end && out->ok) {
        run_m2(&d, out->steps);
        if (out->ok)
            run_op(&d, &p, end);
        out->steps++;
        if (out->ok && !check(&d))
            out->ok = false;
    }
    const struct conn_stats *st = conn_stats(d.c);
    out->auth_failed = st->auth_failed;
    out->pending_evicted = st->pending_evicted;
    out->source_refused = st->source_refused;
    out->oversized_frames = st->oversized_frames;
    conn_free(d.c);
}

size_t conn_driver_issue19_loop(uint8_t *buf, size_t cap, unsigned loops)
{
    static const uint8_t loop[] = {
        CD_OPEN, 0, 0,  CD_HELLO, 0, M1, 5, CD_REPLY, 0, 0,     /* HELLO as m1, zero proof */
        CD_OPEN, 1, 1,  CD_CLOSE, 1,  CD_OPEN, 2, 2, CD_CLOSE, 2, /* two other connections */
        CD_OPEN, 3, 0,  CD_HELLO, 3, M1, 5,  CD_REPLY, 3, 0,     /* HELLO as m1 again */
        CD_CLOSE, 3,
    };
    if (cap < loops * sizeof loop)
        return 0;
    for (unsigned i = 0; i < loops; i++)
        memcpy(buf + i * sizeof loop, loop, sizeof loop);
    return loops * sizeof loop;
}
