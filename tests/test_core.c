/*
 * tests/test_core.c: pure pieces of core/: address parsing and formatting,
 * node names, the id map, unbiased bounded randomness through the seam, and
 * the ping fixture's handling of bad frames, driven by a fake environment
 * that records what the protocol asks of it.
 */
#include "tests.h"

#include "../core/addr.h"
#include "../core/idmap.h"
#include "../core/wire.h"
#include "../core/ping.h"
#include "../core/timer_tag.h"
#include "../core/json_text.h"

#include <stdio.h>
#include <string.h>

static void check_roundtrip(const char *text, const char *canonical)
{
    struct cs_addr a;
    char buf[CS_ADDR_STRLEN];
    assert_int_equal(cs_addr_parse(text, &a), 0);
    cs_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, canonical);
}

static void test_addr_parse_format(void **state)
{
    (void)state;
    check_roundtrip("10.0.0.1", "10.0.0.1");
    check_roundtrip("255.255.255.255", "255.255.255.255");
    check_roundtrip("fd00::1", "fd00::1");
    check_roundtrip("::", "::");
    check_roundtrip("::1", "::1");
    check_roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    check_roundtrip("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    check_roundtrip("fe80:0:0:0:0:0:0:0", "fe80::");
    struct cs_addr a;
    const char *bad[] = {"", "10.0.0", "10.0.0.256", "10.0.0.1.2", "1.2.3.x", "1::2::3",
                         "12345::", "1:2:3:4:5:6:7:8:9", "10.0.0.01234", "-1.0.0.0", "1:2:3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cs_addr_parse(bad[i], &a), -1);
}

/* IPv4 text is written without printf: it must behave as snprintf does,
 * return value and truncation included, for every buffer size. */
static void test_addr_format_ipv4_like_snprintf(void **state)
{
    (void)state;
    const uint8_t octets[] = {0, 1, 9, 10, 42, 99, 100, 109, 200, 255};
    size_t n = sizeof octets;
    for (size_t i = 0; i < n * n * n * n; i++) {
        struct cs_addr a = {.family = 4};
        for (int k = 0, rest = (int)i; k < 4; k++, rest /= (int)n)
            a.ip[k] = octets[rest % (int)n];
        char want[32];
        int want_len = snprintf(want, sizeof want, "%u.%u.%u.%u", a.ip[0], a.ip[1], a.ip[2], a.ip[3]);
        for (size_t size = 0; size <= 17; size++) {
            char got[20], ref[20];
            memset(got, '#', sizeof got);
            memset(ref, '#', sizeof ref);
            int got_len = cs_addr_format(&a, size ? got : NULL, size);
            if (size)
                snprintf(ref, size, "%s", want);
            assert_int_equal(got_len, want_len);
            assert_memory_equal(got, ref, sizeof got); /* nothing past the limit */
        }
    }
}

static void test_addr_compare_multicast_names(void **state)
{
    (void)state;
    struct cs_addr a, b, m;
    cs_addr_parse("10.0.0.1", &a);
    cs_addr_parse("10.0.0.2", &b);
    cs_addr_parse("233.252.1.32", &m);
    assert_true(cs_addr_compare(&a, &b) < 0);
    assert_int_equal(cs_addr_compare(&a, &a), 0);
    assert_true(cs_addr_is_multicast(&m));
    assert_false(cs_addr_is_multicast(&a));
    char name[CS_NODE_NAME_MAX];
    assert_int_equal(cs_node_name("app", &a, name, sizeof name), 0);
    assert_string_equal(name, "app@10.0.0.1");
    struct cs_addr back;
    assert_int_equal(cs_node_name_addr(name, &back), 0);
    assert_int_equal(cs_addr_compare(&back, &a), 0);
    assert_int_equal(cs_node_name_addr("app", &back), -1);
    assert_int_equal(cs_node_name_addr("@10.0.0.1", &back), -1);
    assert_int_equal(cs_node_name_addr("app@host", &back), -1);
    assert_int_equal(cs_node_name("app", &a, name, 8), -1);
}

static void test_idmap(void **state)
{
    (void)state;
    struct cs_idmap m;
    cs_idmap_init(&m);
    assert_int_equal(cs_idmap_get(&m, 5), -1);
    for (uint32_t k = 1; k <= 5000; k++)
        assert_int_equal(cs_idmap_put(&m, k * 7919u, (int32_t)k), 0);
    for (uint32_t k = 1; k <= 5000; k++)
        assert_int_equal(cs_idmap_get(&m, k * 7919u), (int32_t)k);
    for (uint32_t k = 1; k <= 5000; k += 2)
        cs_idmap_del(&m, k * 7919u);
    for (uint32_t k = 1; k <= 5000; k++)
        assert_int_equal(cs_idmap_get(&m, k * 7919u), k % 2 ? -1 : (int32_t)k);
    assert_int_equal(m.count, 2500);
    /* Churn: many insert/delete cycles must not grow the table without end. */
    for (uint32_t round = 0; round < 100; round++)
        for (uint32_t k = 1; k <= 100; k++) {
            cs_idmap_put(&m, 1000000 + round * 100 + k, 1);
            cs_idmap_del(&m, 1000000 + round * 100 + k);
        }
    assert_true(m.capacity <= 16384);
    cs_idmap_put(&m, 2 * 7919u, 77); /* overwrite */
    assert_int_equal(cs_idmap_get(&m, 2 * 7919u), 77);
    cs_idmap_free(&m);
}

/* Deletions shift entries back instead of leaving tombstones: a model
 * check of random puts, deletes and lookups over few keys (long probe runs
 * that wrap around a small table) against a plain array. */
static void test_idmap_model(void **state)
{
    (void)state;
    enum { KEYS = 48 };
    int32_t model[KEYS + 1];
    for (int k = 0; k <= KEYS; k++)
        model[k] = -1;
    struct cs_idmap m;
    cs_idmap_init(&m);
    uint64_t x = 88172645463325252ULL;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t key = 1 + (uint32_t)(x % KEYS);
        if ((x >> 32) % 3 == 0) {
            cs_idmap_del(&m, key);
            model[key] = -1;
        } else if ((x >> 32) % 3 == 1) {
            assert_int_equal(cs_idmap_put(&m, key, (int32_t)(x >> 40 & 0xffff)), 0);
            model[key] = (int32_t)(x >> 40 & 0xffff);
        }
        size_t live = 0;
        for (uint32_t k = 1; k <= KEYS; k++) {
            assert_int_equal(cs_idmap_get(&m, k), model[k]);
            live += model[k] >= 0;
        }
        assert_int_equal(m.count, live);
    }
    assert_true(m.capacity <= 128);
    cs_idmap_free(&m);
}

/* ---- a fake environment that records calls ---- */

struct fake_env {
    struct cs_env env;
    uint64_t counter;
    int sends, closes, connects, timers, logs, dgrams;
    cs_link_id last_closed;
    uint8_t last_sent[64];
    size_t last_sent_len;
    char last_log[256];
};

static struct fake_env *fake(struct cs_env *e) { return (struct fake_env *)e; }
static cs_time fk_now(struct cs_env *e) { (void)e; return CS_SEC(1); }
static cs_timer_id fk_timer(struct cs_env *e, cs_time d, uint64_t t)
{
    (void)d; (void)t;
    return (cs_timer_id)++fake(e)->timers;
}
static void fk_cancel(struct cs_env *e, cs_timer_id t) { (void)e; (void)t; }
static cs_link_id fk_connect(struct cs_env *e, const struct cs_addr *p)
{
    (void)p;
    return (cs_link_id)(100 + ++fake(e)->connects);
}
static int fk_send(struct cs_env *e, cs_link_id l, const void *d, size_t n)
{
    (void)l;
    struct fake_env *f = fake(e);
    f->sends++;
    f->last_sent_len = n < sizeof f->last_sent ? n : sizeof f->last_sent;
    memcpy(f->last_sent, d, f->last_sent_len);
    return 0;
}
static void fk_close(struct cs_env *e, cs_link_id l) { fake(e)->closes++; fake(e)->last_closed = l; }
static int fk_dgram(struct cs_env *e, const struct cs_addr *a, const void *d, size_t n)
{
    (void)a; (void)d; (void)n;
    fake(e)->dgrams++;
    return 0;
}
static uint64_t fk_random(struct cs_env *e) { return fake(e)->counter++ * 0x9e3779b97f4a7c15ULL; }
static void fk_log(struct cs_env *e, enum cs_log_level l, const char *line)
{
    (void)l;
    fake(e)->logs++;
    snprintf(fake(e)->last_log, sizeof fake(e)->last_log, "%s", line);
}

static void fake_init(struct fake_env *f)
{
    memset(f, 0, sizeof *f);
    f->env.now = fk_now;
    f->env.timer_start = fk_timer;
    f->env.timer_cancel = fk_cancel;
    f->env.link_connect = fk_connect;
    f->env.link_send = fk_send;
    f->env.link_close = fk_close;
    f->env.dgram_send = fk_dgram;
    f->env.random_u64 = fk_random;
    f->env.log = fk_log;
    f->env.log_enabled = 1;
    cs_addr_parse("10.0.0.1", &f->env.self_addr);
}

/* log_enabled is a threshold: 0 keeps nothing, 1 every line, 1 + level
 * the lines of that level and above (the daemon's --log-level), so the
 * core formats no line the environment would drop. */
static void test_log_threshold(void **state)
{
    (void)state;
    struct fake_env f;
    fake_init(&f);
    cs_logf(&f.env, CS_LOG_DEBUG, "debug %d", 1);
    assert_int_equal(f.logs, 1);
    assert_string_equal(f.last_log, "debug 1");
    f.env.log_enabled = 1 + CS_LOG_WARN;
    cs_logf(&f.env, CS_LOG_INFO, "info %d", 2);
    assert_int_equal(f.logs, 1);
    cs_logf(&f.env, CS_LOG_WARN, "warn %d", 3);
    cs_logf(&f.env, CS_LOG_ERROR, "error %d", 4);
    assert_int_equal(f.logs, 3);
    assert_string_equal(f.last_log, "error 4");
    f.env.log_enabled = 0;
    cs_logf(&f.env, CS_LOG_ERROR, "error %d", 5);
    assert_int_equal(f.logs, 3);
}

/* Wire strings: every length up to 70 reads back whole (bytes 1..255, so
 * every byte value sits in every lane of the eight-byte steps), and a NUL
 * at any position of any of them makes the reader bad with an empty
 * result; a string that does not fit the output is refused too. */
static void test_wire_strings(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 70; len++) {
        uint8_t buf[128];
        char text[80], out[80];
        for (size_t i = 0; i < len; i++)
            text[i] = (char)(1 + (i * 37 + len * 11) % 255);
        text[len] = '\0';
        struct cs_writer w;
        cs_writer_init(&w, buf, sizeof buf);
        cs_put_u16(&w, (uint16_t)len);
        cs_put_bytes(&w, text, len);
        struct cs_reader r;
        cs_reader_init(&r, buf, w.len);
        cs_get_str(&r, out, sizeof out);
        assert_true(cs_reader_done(&r));
        assert_memory_equal(out, text, len + 1);
        cs_reader_init(&r, buf, w.len);
        cs_get_str(&r, out, len); /* no room for the NUL */
        assert_true(r.bad);
        for (size_t at = 0; at < len; at++) {
            uint8_t saved = buf[2 + at];
            buf[2 + at] = 0;
            cs_reader_init(&r, buf, w.len);
            cs_get_str(&r, out, sizeof out);
            assert_true(r.bad);
            assert_int_equal(out[0], '\0');
            buf[2 + at] = saved;
        }
    }
}

static void test_random_below_range(void **state)
{
    (void)state;
    struct fake_env f;
    fake_init(&f);
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t r = cs_random_below(&f.env, 7);
        assert_true(r < 7);
        seen[r]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 0);
    assert_int_equal(cs_random_below(&f.env, 0), 0);
}

static void deliver_msg(void *inst, cs_link_id link, const uint8_t *d, size_t n)
{
    struct cs_event ev = {.type = CS_EV_LINK_MSG};
    ev.u.msg.link = link;
    ev.u.msg.data = d;
    ev.u.msg.len = n;
    ping_proto.handle(inst, &ev);
}

static void test_ping_rejects_bad_frames(void **state)
{
    (void)state;
    struct fake_env f;
    fake_init(&f);
    struct cs_addr peer;
    cs_addr_parse("10.0.0.2", &peer);
    struct ping_config cfg;
    ping_config_defaults(&cfg);
    cfg.static_peers = &peer;
    cfg.static_count = 1;
    void *p = ping_proto.create(&f.env, &cfg, "app@10.0.0.1");
    assert_non_null(p);
    ping_proto.start(p);
    assert_int_equal(f.connects, 1);
    struct cs_event up = {.type = CS_EV_LINK_UP};
    up.u.link_up.link = 50;
    up.u.link_up.inbound = true;
    up.u.link_up.peer = peer;
    ping_proto.handle(p, &up);
    assert_int_equal(f.sends, 1); /* HELLO */
    assert_int_equal(f.last_sent[0], 1);

    const uint8_t empty[1] = {0};
    const uint8_t unknown[9] = {0x7f};
    const uint8_t short_ping[3] = {2, 0, 0};
    const uint8_t bad_hello_len[4] = {1, 200, 'a', 'b'};
    const uint8_t hello_no_at[6] = {1, 4, 'n', 'o', 'a', 't'};
    struct { const uint8_t *d; size_t n; } bad[] = {
        {empty, 0}, {unknown, 9}, {short_ping, 3}, {bad_hello_len, 4}, {hello_no_at, 6},
    };
    struct ping_stats st;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        deliver_msg(p, 50, bad[i].d, bad[i].n);
        ping_get_stats(p, &st);
        assert_int_equal(st.malformed, i + 1);
        assert_int_equal(f.closes, (int)i + 1);
        assert_int_equal(f.last_closed, 50);
        assert_non_null(strstr(f.last_log, "malformed"));
    }
    /* A good PING is answered with a PONG carrying the same sequence. */
    const uint8_t ping[9] = {2, 9, 8, 7, 6, 5, 4, 3, 2};
    int before = f.sends;
    deliver_msg(p, 51, ping, sizeof ping);
    assert_int_equal(f.sends, before + 1);
    assert_int_equal(f.last_sent[0], 3);
    assert_memory_equal(f.last_sent + 1, ping + 1, 8);
    ping_proto.destroy(p);
}

/* The one JSON escaper: every output is valid JSON, valid UTF-8 passes
 * through, other bytes become U+0080..U+00FF, nothing is cut mid-escape. */
static void test_json_escape(void **state)
{
    (void)state;
    char out[64];
    cs_json_escape("a\"b\\c\td\x01" "e\n", out, sizeof out);
    assert_string_equal(out, "a\\\"b\\\\c\\u0009d\\u0001e\\n");
    cs_json_escape("caf\xc3\xa9 \xe2\x98\x83", out, sizeof out); /* valid UTF-8 kept */
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x98\x83");
    cs_json_escape("x\xff\xc3(\xc0\xaf\xed\xa0\x80", out, sizeof out); /* invalid, overlong, surrogate */
    assert_string_equal(out, "x\\u00ff\\u00c3(\\u00c0\\u00af\\u00ed\\u00a0\\u0080");
    char tiny[10];
    size_t n = cs_json_escape("\x01\x02\x03", tiny, sizeof tiny); /* room for one escape only */
    assert_int_equal(n, 6);
    assert_string_equal(tiny, "\\u0001");
}

static void test_ping_settles_on_pong(void **state)
{
    (void)state;
    struct fake_env f;
    fake_init(&f);
    struct cs_addr peer;
    cs_addr_parse("10.0.0.2", &peer);
    struct ping_config cfg;
    ping_config_defaults(&cfg);
    cfg.static_peers = &peer;
    cfg.static_count = 1;
    void *p = ping_proto.create(&f.env, &cfg, "app@10.0.0.1");
    ping_proto.start(p);
    assert_false(ping_proto.settled(p)); /* discovered, not answering yet */
    cs_link_id link = 101;               /* the fake's first connect */
    struct cs_event up = {.type = CS_EV_LINK_UP};
    up.u.link_up.link = link;
    up.u.link_up.peer = peer;
    ping_proto.handle(p, &up);
    const uint8_t hello[] = {1, 12, 'a', 'p', 'p', '@', '1', '0', '.', '0', '.', '0', '.', '2'};
    deliver_msg(p, link, hello, sizeof hello);
    struct cs_event tick = {.type = CS_EV_TIMER};
    tick.u.timer.tag = CS_TAG(CS_TAG_PING, 2, 0); /* ping tick */
    ping_proto.handle(p, &tick);
    assert_int_equal(f.last_sent[0], 2);
    uint8_t pong[9];
    memcpy(pong, f.last_sent, 9);
    pong[0] = 3;
    deliver_msg(p, link, pong, 9);
    assert_true(ping_proto.settled(p));
    struct ping_stats st;
    ping_get_stats(p, &st);
    assert_int_equal(st.pongs_received, 1);
    /* The link going down takes the peer out of the view. */
    struct cs_event down = {.type = CS_EV_LINK_DOWN};
    down.u.link_down.link = link;
    down.u.link_down.reason = CS_LINK_BROKEN;
    ping_proto.handle(p, &down);
    assert_false(ping_proto.settled(p));
    ping_proto.destroy(p);
}

int test_core_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_format),
        cmocka_unit_test(test_addr_format_ipv4_like_snprintf),
        cmocka_unit_test(test_addr_compare_multicast_names),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_idmap_model),
        cmocka_unit_test(test_wire_strings),
        cmocka_unit_test(test_log_threshold),
        cmocka_unit_test(test_random_below_range),
        cmocka_unit_test(test_ping_rejects_bad_frames),
        cmocka_unit_test(test_ping_settles_on_pong),
        cmocka_unit_test(test_json_escape),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
