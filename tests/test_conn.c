/*
 * tests/test_conn.c: the connection layer (core/conn.c) on the simulator:
 * the handshake and nodeup on both sides, the secret check (a node with the
 * wrong secret never gets a link, and no frame carries the secret),
 * tick-based failure detection, the simultaneous-connect tie over many
 * seeds, the dialled-name check, white/blacklists, replacement of a
 * restarted peer's stale link, graceful LEAVE, and refused input (bad
 * version, oversized name, unknown frame, truncated frames) that closes
 * only the offending link and is counted.
 */
#include "tests.h"
#include "../core/conn_internal.h"

#include "../core/conn.h"
#include "../core/wire.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CX_NODES 4

struct cx_config {
    struct conn_config base;
    const char *secret_of[CX_NODES]; /* per node index (last octet - 1); NULL: base */
    const char *blacklist_of[CX_NODES];
    int cookie_skew; /* rewrites every message's cookie: 0 keep, 1 none, 2 the next slot's, 3 huge */
};

struct cx_node {
    struct cs_env *env;
    struct conn *conn;
    int ups, downs, fails;
    enum conn_down_reason last_down;
    enum conn_fail_reason last_fail;
    cs_time last_down_at;
    int raw_link_downs;
    int messages;
    char last_message[64];
    int cookie_skew;
    uint32_t last_cookie;  /* the cookie the environment delivered last, before any skew */
};

static void cx_up(void *ctx, const char *peer) { (void)peer; ((struct cx_node *)ctx)->ups++; }
static void cx_down(void *ctx, const char *peer, enum conn_down_reason why)
{
    (void)peer;
    struct cx_node *n = ctx;
    n->downs++;
    n->last_down = why;
    n->last_down_at = n->env->now(n->env);
}
static void cx_message(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    (void)peer;
    (void)slot;
    struct cx_node *n = ctx;
    n->messages++;
    snprintf(n->last_message, sizeof n->last_message, "%.*s", (int)len, (const char *)data);
}
static void cx_fail(void *ctx, const char *peer, enum conn_fail_reason why)
{
    (void)peer;
    ((struct cx_node *)ctx)->fails++;
    ((struct cx_node *)ctx)->last_fail = why;
}

static void *cx_create(struct cs_env *env, const void *config, const char *name)
{
    const struct cx_config *cfg = config;
    struct cx_node *n = calloc(1, sizeof *n);
    struct cs_addr a;
    cs_node_name_addr(name, &a);
    int idx = a.ip[3] - 1;
    struct conn_config cc = cfg->base;
    if (idx >= 0 && idx < CX_NODES && cfg->secret_of[idx])
        snprintf(cc.secret, sizeof cc.secret, "%s", cfg->secret_of[idx]);
    if (idx >= 0 && idx < CX_NODES && cfg->blacklist_of[idx]) {
        snprintf(cc.blacklist[0], sizeof cc.blacklist[0], "%s", cfg->blacklist_of[idx]);
        cc.blacklist_count = 1;
    }
    struct conn_callbacks cb = {.ctx = n, .nodeup = cx_up, .nodedown = cx_down,
                                .connect_failed = cx_fail, .message = cx_message};
    n->env = env;
    n->cookie_skew = cfg->cookie_skew;
    n->conn = conn_new(env, &cc, name, (uint32_t)env->random_u64(env), &cb);
    return n;
}

static void cx_destroy(void *inst)
{
    struct cx_node *n = inst;
    conn_free(n->conn);
    free(n);
}

static void cx_start(void *inst) { conn_start(((struct cx_node *)inst)->conn); }

static void cx_handle(void *inst, const struct cs_event *ev)
{
    struct cx_node *n = inst;
    if (ev->type == CS_EV_LINK_DOWN)
        n->raw_link_downs++; /* counted for every link, raw or not */
    if (ev->type == CS_EV_STOP) {
        conn_shutdown(n->conn, true);
        n->env->stopped(n->env);
        return;
    }
    if (ev->type == CS_EV_LINK_MSG) {
        struct cs_event skewed = *ev;
        n->last_cookie = ev->u.msg.cookie;
        uint32_t skew[] = {ev->u.msg.cookie, 0, ev->u.msg.cookie + 1, UINT32_MAX};
        skewed.u.msg.cookie = skew[n->cookie_skew];
        conn_handle(n->conn, &skewed);
        return;
    }
    conn_handle(n->conn, ev);
}

static bool cx_settled(void *inst) { (void)inst; return true; }
static void cx_view(void *inst, cs_name_sink sink, void *ctx)
{
    conn_each_up(((struct cx_node *)inst)->conn, sink, ctx);
}

static const struct cs_proto cx_proto = {
    .name = "connfx", .create = cx_create, .destroy = cx_destroy, .start = cx_start,
    .handle = cx_handle, .settled = cx_settled, .view = cx_view,
};

static const char *const two_nodes =
    "cluster: {nodes: 2}\n"
    "network: {latency: {dist: uniform, min: 1ms, max: 4ms}, break_detect: 10m, crash_detect: 10m}\n"
    "limits: {duration: 10m}\n";

static struct cx_config cx_defaults(void)
{
    struct cx_config c;
    memset(&c, 0, sizeof c);
    conn_config_defaults(&c.base);
    snprintf(c.base.secret, sizeof c.base.secret, "%s", "cluster-secret");
    c.base.tick_timeout = CS_SEC(4);
    c.base.setup_timeout = CS_SEC(2);
    return c;
}

static struct cx_node *node(struct fx *t, uint32_t i)
{
    return t->w->nodes[i].instance;
}

struct secret_scan {
    const char *secret;
    int frames, leaks;
};

static void scan_payload(void *ctx, const struct sim_event *ev)
{
    struct secret_scan *s = ctx;
    if (ev->kind != SEV_LINK_MSG)
        return;
    s->frames++;
    size_t n = strlen(s->secret);
    const uint8_t *p = sim_event_data(ev);
    for (size_t i = 0; i + n <= ev->len; i++)
        if (memcmp(p + i, s->secret, n) == 0)
            s->leaks++;
}

static void test_handshake_nodeup_both_sides(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    assert_int_equal(conn_connect(node(t, 0)->conn, "app@10.0.0.2"), 0);
    /* Look at every frame in flight during the handshake: none carries the
     * secret. */
    struct secret_scan scan = {"cluster-secret", 0, 0};
    for (cs_time at = CS_USEC(100); at <= CS_MSEC(100); at += CS_USEC(100)) {
        fx_run(t, at);
        sim_evq_each(&t->w->queue, scan_payload, &scan);
    }
    assert_true(scan.frames >= 4);
    assert_int_equal(scan.leaks, 0);
    fx_run(t, CS_SEC(1));
    assert_int_equal(node(t, 0)->ups, 1);
    assert_int_equal(node(t, 1)->ups, 1);
    assert_true(conn_is_up(node(t, 0)->conn, "app@10.0.0.2"));
    assert_true(conn_is_up(node(t, 1)->conn, "app@10.0.0.1"));
    assert_int_equal(conn_up_count(node(t, 0)->conn), 1);
    /* Idle links stay up: ticks keep them alive across many timeouts. */
    fx_run(t, CS_SEC(60));
    assert_int_equal(node(t, 0)->downs, 0);
    assert_int_equal(node(t, 1)->downs, 0);
    assert_true(conn_stats(node(t, 0)->conn)->frames_out > 10);
}

static void test_wrong_secret_never_joins(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    cfg.secret_of[1] = "not-the-secret";
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(3));
    conn_connect(node(t, 1)->conn, "app@10.0.0.1");
    fx_run(t, CS_SEC(6));
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(node(t, i)->ups, 0);
        assert_int_equal(conn_up_count(node(t, i)->conn), 0);
        assert_int_equal(node(t, i)->fails, 1);
        assert_int_equal(node(t, i)->last_fail, CONN_FAIL_AUTH);
        /* Each dialler caught the acceptor's bad proof. */
        assert_int_equal(conn_stats(node(t, i)->conn)->auth_failed, 1);
    }
}

static void test_simultaneous_connect_leaves_one_link(void **state)
{
    for (uint64_t seed = 1; seed <= 30; seed++) {
        struct fx *t = *state;
        struct cx_config cfg = cx_defaults();
        fx_open_proto(t, two_nodes, seed, &cx_proto, &cfg);
        fx_start_all(t);
        conn_connect(node(t, 0)->conn, "app@10.0.0.2");
        conn_connect(node(t, 1)->conn, "app@10.0.0.1");
        fx_run(t, CS_SEC(5));
        for (uint32_t i = 0; i < 2; i++) {
            assert_int_equal(node(t, i)->ups, 1);
            assert_int_equal(node(t, i)->downs, 0);
            assert_int_equal(conn_up_count(node(t, i)->conn), 1);
        }
        /* Exactly one transport link is still open between them. */
        size_t open = 0;
        for (size_t l = 0; l < t->w->net.link_count; l++)
            open += t->w->net.links[l].state == SIM_LINK_UP && t->w->net.links[l].end_open[0] &&
                    t->w->net.links[l].end_open[1];
        assert_int_equal(open, 1);
        /* The greater name's own dial survived. */
        assert_true(conn_stats(node(t, 1)->conn)->simultaneous >= 1);
        fx_teardown(state);
        fx_setup(state);
    }
}

static void test_tick_timeout_detects_silent_peer(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    fx_open_proto(t, two_nodes, 3, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(10));
    assert_int_equal(node(t, 0)->ups, 1);
    /* Cut the path silently: break_detect is 10 minutes, so only ticks can
     * notice; tick timeout 4 s, checked every 1 s. */
    uint32_t a = 0, b = 1;
    sim_net_partition(t->w, &a, 1, &b, 1, false);
    fx_run(t, CS_SEC(20));
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(node(t, i)->downs, 1);
        assert_int_equal(node(t, i)->last_down, CONN_DOWN_TICK_TIMEOUT);
        cs_time at = node(t, i)->last_down_at;
        assert_true(at > CS_SEC(14) - CS_SEC(1) && at <= CS_SEC(10) + CS_SEC(4) + CS_SEC(2));
        assert_int_equal(conn_stats(node(t, i)->conn)->tick_timeouts, 1);
    }
}

static void test_dialled_name_and_blacklist(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    cfg.blacklist_of[1] = "^app@10\\.0\\.0\\.1$";
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "other@10.0.0.2"); /* wrong name */
    fx_run(t, CS_SEC(1));
    assert_int_equal(node(t, 0)->fails, 1);
    assert_int_equal(node(t, 0)->last_fail, CONN_FAIL_REJECTED);
    assert_int_equal(conn_stats(node(t, 1)->conn)->wrong_name, 1);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2"); /* refused by n2's blacklist */
    fx_run(t, CS_SEC(2));
    assert_int_equal(node(t, 0)->fails, 2);
    assert_int_equal(conn_stats(node(t, 1)->conn)->not_allowed, 1);
    assert_int_equal(node(t, 1)->ups, 0);
    /* And n2 refuses to dial a blacklisted name itself. */
    assert_int_equal(conn_connect(node(t, 1)->conn, "app@10.0.0.1"), -1);
}

static void test_restarted_peer_replaces_stale_link(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    cfg.base.tick_timeout = CS_SEC(60);
    fx_open_proto(t, two_nodes, 2, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(1));
    /* n2 is killed; crash_detect is 10 minutes so n1 does not notice. */
    sim_node_kill(t->w, 1);
    sim_node_start(t->w, 1);
    conn_connect(node(t, 1)->conn, "app@10.0.0.1");
    fx_run(t, CS_SEC(2));
    assert_int_equal(node(t, 0)->ups, 2);
    assert_int_equal(node(t, 0)->downs, 1);
    assert_int_equal(node(t, 0)->last_down, CONN_DOWN_REPLACED);
    assert_int_equal(conn_up_count(node(t, 0)->conn), 1);
    assert_int_equal(node(t, 1)->ups, 1);
}

static void test_leave_drops_peer_at_once(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    cfg.base.tick_timeout = CS_SEC(60);
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(1));
    sim_node_stop(t->w, 1, CS_SEC(30));
    fx_run(t, CS_SEC(1) + CS_MSEC(10));
    assert_int_equal(node(t, 0)->downs, 1);
    assert_int_equal(node(t, 0)->last_down, CONN_DOWN_LEAVE);
    assert_int_equal(conn_stats(node(t, 0)->conn)->leaves_received, 1);
}

/* Opens a raw transport link from n1 to n2 (bypassing n1's conn layer) and
 * sends one frame on it once it is up. */
static void send_raw(struct fx *t, const uint8_t *frame, size_t len)
{
    struct cs_env *env = fx_env(t, 0);
    struct cs_addr to = t->w->nodes[1].addr;
    cs_link_id link = env->link_connect(env, &to);
    fx_run(t, t->w->now + CS_MSEC(50));
    assert_int_equal(env->link_send(env, link, frame, len), 0);
    fx_run(t, t->w->now + CS_MSEC(50));
}

static size_t hello(uint8_t *buf, size_t cap, uint16_t version, const char *name, size_t name_len,
                    const char *dialled)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, 1);
    cs_put_u16(&w, version);
    cs_put_u16(&w, (uint16_t)name_len);
    cs_put_bytes(&w, name, name_len);
    cs_put_str(&w, dialled);
    cs_put_u32(&w, 7);
    cs_put_u64(&w, 42);
    return w.len;
}

static void test_bad_input_closes_only_that_link(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2"); /* a good link alongside */
    fx_run(t, CS_SEC(1));
    assert_int_equal(node(t, 1)->ups, 1);
    const struct conn_stats *st = conn_stats(node(t, 1)->conn);
    uint8_t buf[1024];
    char big[600];
    memset(big, 'x', sizeof big);
    big[3] = '@';

    send_raw(t, buf, hello(buf, sizeof buf, 9, "app@10.0.0.1", 12, "app@10.0.0.2"));
    assert_int_equal(st->bad_version, 1);
    send_raw(t, buf, hello(buf, sizeof buf, CONN_PROTOCOL_VERSION, big, sizeof big, "app@10.0.0.2"));
    assert_int_equal(st->oversized_name, 1);
    const uint8_t unknown[] = {0x42, 1, 2, 3};
    send_raw(t, unknown, sizeof unknown);
    assert_int_equal(st->malformed, 1);
    size_t n = hello(buf, sizeof buf, CONN_PROTOCOL_VERSION, "app@10.0.0.1", 12, "app@10.0.0.2");
    send_raw(t, buf, n - 5); /* truncated HELLO */
    assert_int_equal(st->malformed, 2);
    const uint8_t empty[1] = {0};
    send_raw(t, empty, 0);
    assert_int_equal(st->malformed, 3);
    /* Each raw link was closed by n2; the good link is untouched. */
    assert_int_equal(node(t, 0)->raw_link_downs, 5);
    assert_int_equal(node(t, 1)->downs, 0);
    assert_true(conn_is_up(node(t, 1)->conn, "app@10.0.0.1"));
    fx_run(t, CS_SEC(10));
    assert_true(conn_is_up(node(t, 0)->conn, "app@10.0.0.2"));
}

static void test_forged_reply_is_refused(void **state)
{
    /* A dialler that does not know the secret but plays along: a valid
     * HELLO, then a REPLY with a made-up proof. The acceptor must refuse. */
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    struct cs_env *env = fx_env(t, 0);
    struct cs_addr to = t->w->nodes[1].addr;
    cs_link_id link = env->link_connect(env, &to);
    fx_run(t, CS_MSEC(50));
    uint8_t buf[256];
    size_t n = hello(buf, sizeof buf, CONN_PROTOCOL_VERSION, "app@10.0.0.1", 12, "app@10.0.0.2");
    env->link_send(env, link, buf, n);
    fx_run(t, CS_MSEC(100));
    uint8_t reply[1 + CS_AUTH_PROOF_LEN];
    memset(reply, 0xab, sizeof reply);
    reply[0] = 3;
    env->link_send(env, link, reply, sizeof reply);
    fx_run(t, CS_MSEC(200));
    const struct conn_stats *st = conn_stats(node(t, 1)->conn);
    assert_int_equal(st->auth_failed, 1);
    assert_int_equal(node(t, 1)->ups, 0);
    assert_false(conn_is_up(node(t, 1)->conn, "app@10.0.0.1"));
    assert_int_equal(node(t, 0)->raw_link_downs, 1);
}

/* Sealed links: messages arrive intact; a frame that does not open (forged,
 * or plaintext on a sealed link) closes the link with bad_mac counted, and
 * the nodes connect again. */
static void test_sealed_link_refuses_forged_frames(void **state)
{
    struct fx *t = *state;
    struct cx_config cfg = cx_defaults();
    cfg.base.encrypt = true;
    fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
    fx_start_all(t);
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(1));
    assert_true(conn_is_up(node(t, 1)->conn, "app@10.0.0.1"));
    assert_int_equal(conn_send(node(t, 0)->conn, "app@10.0.0.2", (const uint8_t *)"hello", 5), 0);
    fx_run(t, CS_SEC(2));
    assert_int_equal(node(t, 1)->messages, 1);
    assert_string_equal(node(t, 1)->last_message, "hello");
    /* Forge on node 0's side of the up link, bypassing its sealing. */
    struct conn *c0 = node(t, 0)->conn;
    int32_t pi = conn_peer_find(c0, "app@10.0.0.2");
    cs_link_id link = c0->links[c0->peers[pi].up].id;
    const uint8_t forged[] = {CONN_FRAME_SEALED, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    node(t, 0)->env->link_send(node(t, 0)->env, link, forged, sizeof forged);
    fx_run(t, CS_SEC(3));
    const struct conn_stats *st = conn_stats(node(t, 1)->conn);
    assert_int_equal(st->bad_mac, 1);
    assert_int_equal(node(t, 1)->downs, 1);
    assert_int_equal(node(t, 1)->messages, 1);
    /* A plaintext DATA frame on the new sealed link fails the same way. */
    conn_connect(node(t, 0)->conn, "app@10.0.0.2");
    fx_run(t, CS_SEC(5));
    assert_true(conn_is_up(node(t, 0)->conn, "app@10.0.0.2"));
    pi = conn_peer_find(c0, "app@10.0.0.2");
    link = c0->links[c0->peers[pi].up].id;
    const uint8_t plain[] = {CONN_FRAME_DATA, 'x'};
    node(t, 0)->env->link_send(node(t, 0)->env, link, plain, sizeof plain);
    fx_run(t, CS_SEC(6));
    assert_int_equal(st->bad_mac, 2);
    assert_int_equal(node(t, 1)->messages, 1);
}

/* A link's messages come back with the cookie the connection layer gave
 * its end (its slot + 1); a cookie that is missing, names another slot or
 * no slot at all only costs the lookup: the frames still reach their link. */
static void test_cookies_only_save_the_lookup(void **state)
{
    for (int skew = 0; skew <= 3; skew++) {
        struct fx *t = *state;
        struct cx_config cfg = cx_defaults();
        cfg.cookie_skew = skew;
        fx_open_proto(t, two_nodes, 1, &cx_proto, &cfg);
        fx_start_all(t);
        conn_connect(node(t, 0)->conn, "app@10.0.0.2");
        fx_run(t, CS_SEC(1));
        assert_true(conn_is_up(node(t, 1)->conn, "app@10.0.0.1"));
        struct conn *c1 = node(t, 1)->conn;
        int32_t up = c1->peers[conn_peer_find(c1, "app@10.0.0.1")].up;
        assert_int_equal(node(t, 1)->last_cookie, (uint32_t)up + 1);
        assert_int_equal(conn_send(node(t, 0)->conn, "app@10.0.0.2", (const uint8_t *)"hello", 5), 0);
        fx_run(t, CS_SEC(30)); /* ticks both ways: the links stay up */
        assert_int_equal(node(t, 1)->messages, 1);
        assert_string_equal(node(t, 1)->last_message, "hello");
        assert_int_equal(node(t, 0)->downs + node(t, 1)->downs, 0);
        fx_teardown(state); /* a fresh world for the next skew */
        assert_int_equal(fx_setup(state), 0);
    }
}

int test_conn_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_nodeup_both_sides, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret_never_joins, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_connect_leaves_one_link, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tick_timeout_detects_silent_peer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dialled_name_and_blacklist, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restarted_peer_replaces_stale_link, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_leave_drops_peer_at_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_closes_only_that_link, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_forged_reply_is_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sealed_link_refuses_forged_frames, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cookies_only_save_the_lookup, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
