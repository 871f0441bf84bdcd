/*
 * tests/test_trace.c: the trace recorder (sim/trace.c) and the determinism
 * hash of whole runs (sim/world.c).  The recorder: with no sink it is off
 * and its macro evaluates nothing; the ring of last lines, alone or beside
 * a file, gives exactly the lines the file holds (after it wrapped, with
 * cut and unusual records).  The hash is of the simulator's events, not of
 * the trace: whole runs hash alike on the same scenario and seed with or
 * without a trace file (the core then traces and logs, which must change
 * nothing), differently when one event differs (a timer's tag, one byte of
 * a datagram, the seed), and alike when only a trace field differs (which
 * `replay --check` catches by comparing lines).  A failed run asked for its
 * last events gets the lines a trace file of it ends with.
 */
#include "tests.h"

#include "../config/scenario/loader.h"
#include "../core/json_text.h"
#include "../core/proto.h"
#include "../core/timer_tag.h"
#include "../drivers/runner.h"
#include "../sim/trace.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- one sequence of records, and its variants ---- */

#define LONG_LEN 3000 /* spills out of a slot; its line is cut */
#define EDGE_LEN 1370 /* its encoding fits a slot, its line is cut */

static char long_text[LONG_LEN + 1], long_text2[LONG_LEN + 1], edge_text[EDGE_LEN + 1];

static void texts_init(void)
{
    memset(long_text, 'a', LONG_LEN);
    memcpy(long_text2, long_text, sizeof long_text);
    long_text2[LONG_LEN - 1] = 'b'; /* differs past the line's cut */
    memset(edge_text, 'e', EDGE_LEN);
}

/* Variant 0 is the base; variant k changes exactly one thing. */
#define V(k, base, other) (variant == (k) ? (other) : (base))
enum { VARIANTS = 36 };

static void feed_one(struct sim_trace *t, int variant, int which)
{
    switch (which) {
    case 0:
        if (variant == 8) /* the same values under another key */
            sim_trace_event(t, 10, "n1", "msg_send", "\"link\":%u,\"to\":\"%s\",\"len\":%zu,\"AT\":%lld", 3u, "n2",
                            (size_t)43, 2000000LL);
        else
            sim_trace_event(t, V(1, 10, 11), V(2, "n1", "n3"), V(3, "msg_send", "msg_recv"),
                            "\"link\":%u,\"to\":\"%s\",\"len\":%zu,\"at\":%lld", V(4, 3u, 4u), V(5, "n2", "n3"),
                            V(6, (size_t)43, (size_t)44), V(7, 2000000LL, 2000001LL));
        break;
    case 1:
        sim_trace_event(t, 12, V(9, NULL, "n2"), "dns_outage", "\"mode\":\"%s\",\"until\":%lld",
                        V(10, "servfail", "timeout"), V(11, -5LL, -6LL));
        break;
    case 2: sim_trace_event(t, 13, "n2", "clock_rate", "\"ppm\":%.3f", V(12, 12.5, 12.6)); break;
    case 3:
        sim_trace_event(t, 14, "n2", "odd", "\"w\":\"%-6s|%5d|%x|%c|%hhu|%.2s|%.*s|%%\"", V(13, "ab", "ac"),
                        V(14, -42, -43), V(15, 255u, 254u), V(16, 'z', 'y'), V(17, 300, 301), V(18, "hello", "hallo"),
                        V(19, 3, 4), V(20, "world", "wOrld"));
        break;
    case 4: {
        const struct cs_field f[] = {
            V(25, CS_FSTR("name", V(21, "a\"b", "a\"c")), CS_FSTR("nome", "a\"b")),
            CS_FINT("i", V(22, -1, -2)),
            V(35, CS_FUINT("u", V(23, 7, 8)), CS_FINT("u", 7)),
            CS_FBOOL("b", V(24, true, false)),
        };
        sim_trace_fields(t, 15, "n3", "nodeup", f, 4);
        break;
    }
    case 5: sim_trace_log(t, 16, "n3", V(26, "info", "warn"), V(27, "[x] started", "[x] stopped")); break;
    case 6: sim_trace_event(t, 17, "n1", "dump", "\"state\":\"%s\"", V(28, long_text, long_text2)); break;
    case 7:
        if (variant != 31) /* dropped */
            sim_trace_event(t, 18, "n1", "node_exit", "%s", V(29, "", "\"x\":1"));
        break;
    case 8: {
        const struct cs_field f[] = {CS_FSTR("long", V(30, long_text, long_text2))};
        sim_trace_fields(t, 19, "n1", "long", f, 1);
        break;
    }
    case 9: sim_trace_event(t, 20, "n2", "edge", "\"s\":\"%s\"", V(32, edge_text, "short")); break;
    case 10: sim_trace_event(t, 21, "n2", "wide", "\"w\":\"%ls\"", V(33, L"wide", L"wade")); break;
    case 11: sim_trace_event(t, 22, "n2", "ptr", "\"p\":\"%p\",\"g\":%g", (void *)0, V(34, 1e-9, 2e-9)); break;
    default: break;
    }
}

#define RECORDS 12

static void feed(struct sim_trace *t, int variant)
{
    for (int i = 0; i < RECORDS; i++)
        feed_one(t, variant, i);
}

static int evaluated;

static int bump(void)
{
    return ++evaluated;
}

static void test_recorder_off_without_sinks(void **state)
{
    (void)state;
    texts_init();
    struct sim_trace t;
    assert_int_equal(sim_trace_init(&t, NULL, false), 0);
    assert_false(t.on);
    feed(&t, 0);
    evaluated = 0;
    sim_trace_event(&t, 1, "n1", "x", "\"v\":%d", bump());
    assert_int_equal(evaluated, 0); /* the arguments are not even evaluated */
    assert_int_equal(t.lines, 0);
    const char *out[4];
    assert_int_equal(sim_trace_last(&t, out, 4), 0);
    sim_trace_free(&t);
}

/* Every line of a file, in order. */
static char **read_lines(FILE *f, size_t *count)
{
    rewind(f);
    char **lines = NULL, buf[4096];
    *count = 0;
    while (fgets(buf, sizeof buf, f)) {
        lines = realloc(lines, (*count + 1) * sizeof *lines);
        assert_non_null(lines);
        lines[(*count)++] = strdup(buf);
    }
    return lines;
}

/* The ring's lines are the file's last lines, whatever the ring holds. */
static void check_last(struct sim_trace *t, FILE *f, size_t max)
{
    fflush(f);
    size_t count;
    char **lines = read_lines(f, &count);
    const char *out[SIM_TRACE_RING];
    size_t n = sim_trace_last(t, out, max);
    size_t want = count < max ? count : max;
    if (want > SIM_TRACE_RING)
        want = SIM_TRACE_RING;
    assert_int_equal(n, want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(out[i], lines[count - n + i]);
    for (size_t i = 0; i < count; i++)
        free(lines[i]);
    free(lines);
}

static void test_last_lines_are_the_file_lines(void **state)
{
    (void)state;
    texts_init();
    FILE *f = tmpfile();
    assert_non_null(f);
    struct sim_trace t;
    assert_int_equal(sim_trace_init(&t, f, true), 0);
    const char *none[4];
    assert_int_equal(sim_trace_last(&t, none, 4), 0);
    feed_one(&t, 0, 0);
    check_last(&t, f, 20); /* fewer lines than asked */
    for (int round = 0; round < 60; round++) /* the ring and its bytes wrap many times */
        for (int k = 0; k < VARIANTS; k += 7)
            feed(&t, k);
    for (int i = 0; i < 100; i++)
        sim_trace_event(&t, 100 + i, "n1", "timer_set", "\"timer\":%u,\"tag\":\"%s\",\"arg\":%llu,\"at\":%lld",
                        (unsigned)i, "conn.tick", (unsigned long long)i * 977, -(long long)i * 1000003);
    check_last(&t, f, 20);
    for (int i = 0; i < RECORDS; i++) /* the odd ones last */
        feed_one(&t, 0, i);
    check_last(&t, f, SIM_TRACE_RING);
    const char *out[SIM_TRACE_RING];
    assert_int_equal(sim_trace_last(&t, out, SIM_TRACE_RING), SIM_TRACE_RING);
    assert_true(strstr(out[SIM_TRACE_RING - 3], "\"cut\":true") != NULL); /* the edge record */
    sim_trace_free(&t);
    fclose(f);
}

/* The ring alone keeps the lines a file alone gets. */
static void test_ring_alone_keeps_the_file_lines(void **state)
{
    (void)state;
    texts_init();
    FILE *f = tmpfile();
    assert_non_null(f);
    struct sim_trace file_only, ring_only;
    assert_int_equal(sim_trace_init(&file_only, f, false), 0);
    assert_int_equal(sim_trace_init(&ring_only, NULL, true), 0);
    for (int k = 0; k < VARIANTS; k += 5) {
        feed(&file_only, k);
        feed(&ring_only, k);
    }
    assert_int_equal(file_only.lines, ring_only.lines);
    check_last(&ring_only, f, SIM_TRACE_RING);
    sim_trace_free(&file_only);
    sim_trace_free(&ring_only);
    fclose(f);
}

/* ---- escaping ---- */

/* sim_json_escape is cs_json_escape, faster on plain bytes: the same text
 * and length for strings of every kind of byte (plain, quotes, controls,
 * DEL, valid and invalid UTF-8), at every buffer size, so that the cut
 * lands before, inside and after each kind of escape. */
static void test_escape_is_cs_json_escape(void **state)
{
    (void)state;
    static const char *const pieces[] = {"abc", "\"", "\\", "\n", "\t", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xe0\x80\x80", " ", "~", "{:x, y}",
                                         "0123456789abcdefghij", "abcdefg"};
    const size_t kinds = sizeof pieces / sizeof pieces[0];
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 3000; round++) {
        char s[200] = "";
        size_t len = 0;
        for (int k = 0; k < 12; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *piece = pieces[x % kinds];
            if (len + strlen(piece) + 1 > sizeof s)
                break;
            memcpy(s + len, piece, strlen(piece) + 1);
            len += strlen(piece);
        }
        for (size_t size = 0; size < 100; size++) {
            char want[120], got[120];
            memset(want, 'W', sizeof want);
            memset(got, 'W', sizeof got);
            size_t wn = cs_json_escape(s, want, size), gn = sim_json_escape(s, got, size);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, sizeof want); /* the same bytes written, the rest untouched */
        }
    }
}

/* ---- whole runs ---- */

/* A protocol whose only events are a timer (its tag's argument `arg`), a
 * one-byte datagram to itself when it fires (`byte`), and one typed trace
 * field `field`: two runs differing in one of them differ in that one
 * value. */
struct probe_config {
    uint64_t arg, field;
    unsigned char byte;
};

struct probe {
    struct cs_env *env;
    const struct probe_config *cfg;
};

static void *probe_create(struct cs_env *env, const void *config, const char *name)
{
    (void)name;
    struct probe *p = calloc(1, sizeof *p);
    if (p) {
        p->env = env;
        p->cfg = config;
    }
    return p;
}

static void probe_destroy(void *instance)
{
    free(instance);
}

static void probe_start(void *instance)
{
    struct probe *p = instance;
    p->env->timer_start(p->env, CS_MSEC(5), CS_TAG(CS_TAG_PING, 1, p->cfg->arg));
    cs_trace(p->env, "probe", CS_FUINT("v", p->cfg->field), CS_FSTR("what", "a probe"));
}

static void probe_handle(void *instance, const struct cs_event *ev)
{
    struct probe *p = instance;
    if (ev->type == CS_EV_TIMER) {
        cs_logf(p->env, CS_LOG_INFO, "fired %llu", (unsigned long long)CS_TAG_ARG_OF(ev->u.timer.tag));
        p->env->dgram_send(p->env, &p->env->self_addr, &p->cfg->byte, 1);
    }
}

static bool probe_settled(void *instance)
{
    (void)instance;
    return true;
}

static void probe_view(void *instance, cs_name_sink sink, void *ctx)
{
    (void)instance;
    (void)sink;
    (void)ctx;
}

static int probe_dump(void *instance, char *buf, size_t size)
{
    (void)instance;
    return snprintf(buf, size, "{:probe}");
}

static const struct cs_proto probe_proto = {
    .name = "probe", .create = probe_create, .destroy = probe_destroy, .start = probe_start,
    .handle = probe_handle, .settled = probe_settled, .view = probe_view, .dump = probe_dump,
};

#define PROBE_YAML "cluster: {nodes: 2}\ntimeline: [{at: 0s, start: all}]\nlimits: {duration: 1s}\n"

static uint64_t probe_run(const struct scenario *sc, const struct probe_config *cfg, FILE *file)
{
    struct run_options o = {.seed = 1, .trace_hash = true, .trace_file = file, .proto = &probe_proto,
                            .proto_config = cfg};
    struct run_result r;
    assert_int_equal(sim_run_scenario(sc, &o, &r), 0);
    uint64_t h = r.trace_hash;
    assert_int_equal(r.stats.dgrams_delivered, 2); /* each node's datagram to itself */
    assert_true(file ? r.trace_lines > 6 : r.trace_lines == 0);
    run_result_free(&r);
    return h;
}

/* How many lines two files differ in (they must have as many). */
static size_t lines_differing(FILE *a, FILE *b, const char *must_hold)
{
    size_t na, nb, differ = 0;
    char **la = read_lines(a, &na), **lb = read_lines(b, &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (strcmp(la[i], lb[i]) != 0) {
            differ++;
            assert_non_null(strstr(la[i], must_hold));
        }
        free(la[i]);
        free(lb[i]);
    }
    free(la);
    free(lb);
    return differ;
}

static void test_runs_differing_in_one_field(void **state)
{
    (void)state;
    struct scenario sc;
    test_load(PROBE_YAML, &sc);
    const struct probe_config base = {.arg = 1, .field = 1, .byte = 'a'}, field = {.arg = 1, .field = 2, .byte = 'a'},
                              arg = {.arg = 2, .field = 1, .byte = 'a'}, byte = {.arg = 1, .field = 1, .byte = 'b'};
    FILE *fa = tmpfile(), *fb = tmpfile(), *fc = tmpfile();
    assert_true(fa && fb && fc);
    uint64_t h = probe_run(&sc, &base, NULL);
    assert_true(h != 0);
    assert_true(h == probe_run(&sc, &base, NULL));
    assert_true(h == probe_run(&sc, &base, fa)); /* with a trace file: the same hash */
    /* the timer's argument: its timer_set and timer_fire lines and the log
     * of it firing differ, and the timer event itself: the hash */
    uint64_t ha = probe_run(&sc, &arg, fc);
    assert_int_equal(lines_differing(fa, fc, "\"n"), 6);
    assert_true(ha != h);
    /* one byte of a datagram: no line shows it, the hash does */
    uint64_t hb = probe_run(&sc, &byte, NULL);
    assert_true(hb != h);
    assert_true(hb != ha);
    /* a trace field alone: one line per node differs, no event does, so
     * the hash is the same (replay --check compares the lines) */
    uint64_t hf = probe_run(&sc, &field, fb);
    assert_int_equal(lines_differing(fa, fb, "\"kind\":\"probe\""), 2);
    assert_true(hf == h);
    scenario_free(&sc);
    fclose(fa);
    fclose(fb);
    fclose(fc);
}

#define PING_YAML                                                                                  \
    "cluster:\n"                                                                                   \
    "  nodes: 3\n"                                                                                 \
    "  ping: {ping_interval: 200ms}\n"                                                             \
    "network:\n"                                                                                   \
    "  latency: {dist: uniform, min: 1ms, max: 9ms}\n"                                            \
    "  datagrams: {loss: 0.2, latency: {dist: uniform, min: 1ms, max: 4ms}}\n"                    \
    "timeline:\n"                                                                                  \
    "  - {at: 0s, start: all}\n"                                                                   \
    "  - {at: 2s, restart: {nodes: n2, how: crash, address: new}}\n"                               \
    "limits: {duration: 4s}\n"

static void test_runs_hash_alike_with_and_without_a_file(void **state)
{
    (void)state;
    struct scenario sc;
    test_load(PING_YAML, &sc);
    uint64_t h[4];
    for (int i = 0; i < 4; i++) {
        FILE *f = i == 1 ? tmpfile() : NULL;
        struct run_options o = {.seed = i == 3 ? 8 : 7, .trace_hash = true, .trace_file = f};
        struct run_result r;
        assert_int_equal(sim_run_scenario(&sc, &o, &r), 0);
        h[i] = r.trace_hash;
        assert_true(f ? r.trace_lines > 500 : r.trace_lines == 0);
        run_result_free(&r);
        if (f)
            fclose(f);
    }
    scenario_free(&sc);
    assert_true(h[0] != 0);
    assert_true(h[0] == h[1]);
    assert_true(h[0] == h[2]);
    assert_true(h[0] != h[3]);
}

/* A ping cluster expected to get stuck, which it never does: it fails. */
#define FAILING_YAML PING_YAML "expect: [{stuck: true}]\n"

/* A failed run asked for its last events gets them without a trace file
 * (a run again with the recorder on), and they are the lines a trace file
 * of the same seed ends with; not asked, it has none. */
static void test_failed_run_has_its_last_events(void **state)
{
    (void)state;
    struct scenario sc;
    test_load(FAILING_YAML, &sc);
    FILE *f = tmpfile();
    assert_non_null(f);
    struct run_result with_file, asked, not_asked;
    struct run_options o = {.seed = 7, .trace_hash = true, .trace_file = f};
    assert_int_equal(sim_run_scenario(&sc, &o, &with_file), 0);
    o.trace_file = NULL;
    o.last_events = true;
    assert_int_equal(sim_run_scenario(&sc, &o, &asked), 0);
    o.last_events = false;
    assert_int_equal(sim_run_scenario(&sc, &o, &not_asked), 0);
    assert_false(with_file.pass);
    assert_false(asked.pass);
    assert_string_equal(asked.internal, ""); /* the run again gave the same hash */
    assert_non_null(with_file.last_events);
    assert_non_null(asked.last_events);
    assert_string_equal(asked.last_events, with_file.last_events);
    assert_null(not_asked.last_events);
    size_t count;
    char **lines = read_lines(f, &count);
    assert_true(count > 20);
    assert_non_null(strstr(asked.last_events, lines[count - 1]));
    assert_true(strlen(asked.last_events) >= strlen(lines[count - 1]));
    for (size_t i = 0; i < count; i++)
        free(lines[i]);
    free(lines);
    run_result_free(&with_file);
    run_result_free(&asked);
    run_result_free(&not_asked);
    scenario_free(&sc);
    fclose(f);
}

int test_trace_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_is_cs_json_escape),
        cmocka_unit_test(test_recorder_off_without_sinks),
        cmocka_unit_test(test_last_lines_are_the_file_lines),
        cmocka_unit_test(test_ring_alone_keeps_the_file_lines),
        cmocka_unit_test(test_runs_differing_in_one_field),
        cmocka_unit_test(test_runs_hash_alike_with_and_without_a_file),
        cmocka_unit_test(test_failed_run_has_its_last_events),
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
