/*
 * tests/test_perfetto.c: the trace consumers of reports/: the Perfetto
 * export (valid JSON, one track per node plus the world, incarnation and
 * tracker-state spans that nest properly, matched flow pairs named by the
 * tracker message type, FIFO matching with drops, fault windows, counters,
 * the flow cap, FILE:LINE errors) and the text sequence chart (lanes,
 * arrows, notes, the node filter and the message limit), on recorded runs
 * of shipped scenarios and on small hand-made traces.
 */
#include "tests.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../reports/perfetto.h"
#include "../reports/sequence.h"
#include "../config/scenario/loader.h"

#define WORLD 1000000L /* the world track's tid (reports/perfetto_internal.h) */
#include "../drivers/runner.h"

/* ---- helpers ---- */

static void temp_path(char *buf, size_t n, const char *what)
{
    snprintf(buf, n, "/tmp/clustersim-test-%s-XXXXXX", what);
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

/* Records a run of `file` with the CLI's header and end lines. */
static void record_run(const char *file, const char *path)
{
    struct scenario sc;
    char err[1024];
    if (scenario_load_file(file, &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,\"scenario\":\"%s\",\"file\":\"%s\",\"seed\":%llu}\n",
            sc.name, file, (unsigned long long)sc.seed);
    struct run_options opt = {.seed = sc.seed, .trace_file = f};
    struct run_result r;
    assert_int_equal(sim_run_scenario(&sc, &opt, &r), 0);
    fprintf(f, "{\"t\":%lld,\"node\":\"-\",\"kind\":\"end\",\"events\":%llu}\n", (long long)r.end_time,
            (unsigned long long)r.events);
    fclose(f);
    run_result_free(&r);
    scenario_free(&sc);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Exports `trace` (with at most `max_flows` flows) and returns the parsed output. */
static json_t *export_json(const char *trace, size_t max_flows)
{
    char out[128], err[512];
    temp_path(out, sizeof out, "pf");
    if (perfetto_export_capped(trace, out, max_flows, err, sizeof err) != 0)
        fail_msg("export failed: %s", err);
    json_error_t jerr;
    json_t *root = json_load_file(out, 0, &jerr);
    if (!root)
        fail_msg("the export is not valid JSON: %s:%d: %s", out, jerr.line, jerr.text);
    remove(out);
    assert_true(json_is_array(json_object_get(root, "traceEvents")));
    assert_string_equal(json_string_value(json_object_get(root, "displayTimeUnit")), "ms");
    return root;
}

static json_t *events(json_t *root)
{
    return json_object_get(root, "traceEvents");
}

static const char *ev_str(json_t *ev, const char *key)
{
    const char *s = json_string_value(json_object_get(ev, key));
    return s ? s : "";
}

static long ev_tid(json_t *ev)
{
    return (long)json_integer_value(json_object_get(ev, "tid"));
}

static int64_t ev_ns(json_t *ev, const char *key)
{
    return llround(json_number_value(json_object_get(ev, key)) * 1000.0);
}

/* How many events have phase `ph`, name `name` (NULL: any) on `tid` (-1: any). */
static size_t count(json_t *root, const char *ph, const char *name, long tid)
{
    size_t i, n = 0;
    json_t *ev;
    json_array_foreach(events(root), i, ev) {
        n += !strcmp(ev_str(ev, "ph"), ph) && (!name || !strcmp(ev_str(ev, "name"), name)) &&
             (tid < 0 || ev_tid(ev) == tid);
    }
    return n;
}

/* The first event matching like count(), or NULL. */
static json_t *find(json_t *root, const char *ph, const char *name, long tid)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events(root), i, ev) {
        if (!strcmp(ev_str(ev, "ph"), ph) && (!name || !strcmp(ev_str(ev, "name"), name)) &&
            (tid < 0 || ev_tid(ev) == tid))
            return ev;
    }
    return NULL;
}

/* The thread_name of `tid`, or NULL. */
static const char *track_name(json_t *root, long tid)
{
    json_t *ev = find(root, "M", "thread_name", tid);
    return ev ? json_string_value(json_object_get(json_object_get(ev, "args"), "name")) : NULL;
}

/* Complete events of each track come in start order and nest properly. */
static void assert_proper_nesting(json_t *root, long tid)
{
    int64_t start[4096], end[4096], last_start = -1;
    size_t depth = 0, i;
    json_t *ev;
    json_array_foreach(events(root), i, ev) {
        if (strcmp(ev_str(ev, "ph"), "X") || ev_tid(ev) != tid)
            continue;
        int64_t s = ev_ns(ev, "ts"), e = s + ev_ns(ev, "dur");
        assert_true(s >= last_start);
        assert_true(e >= s);
        last_start = s;
        while (depth && end[depth - 1] <= s)
            depth--;
        if (depth && e > end[depth - 1])
            fail_msg("tid %ld: %s [%lld, %lld] overlaps its parent [%lld, %lld]", tid, ev_str(ev, "name"),
                     (long long)s, (long long)e, (long long)start[depth - 1], (long long)end[depth - 1]);
        assert_true(depth < 4096);
        start[depth] = s;
        end[depth++] = e;
    }
}

/* Every flow id has one "s" and one "f" (bound to the enclosing slice),
 * with the same name; returns how many flows there are. */
static size_t assert_matched_flows(json_t *root)
{
    size_t i, flows = 0;
    json_t *ev;
    json_array_foreach(events(root), i, ev) {
        if (strcmp(ev_str(ev, "ph"), "s"))
            continue;
        json_int_t id = json_integer_value(json_object_get(ev, "id"));
        size_t j, ends = 0;
        json_t *f;
        json_array_foreach(events(root), j, f) {
            if (json_integer_value(json_object_get(f, "id")) != id || !strchr("sf", ev_str(f, "ph")[0]))
                continue;
            if (!strcmp(ev_str(f, "ph"), "f")) {
                ends++;
                assert_string_equal(ev_str(f, "bp"), "e");
                assert_string_equal(ev_str(f, "name"), ev_str(ev, "name"));
                assert_true(ev_ns(f, "ts") >= ev_ns(ev, "ts"));
            } else {
                assert_true(f == ev);
            }
        }
        assert_int_equal(ends, 1);
        flows++;
    }
    assert_int_equal(count(root, "f", NULL, -1), flows);
    return flows;
}

static json_int_t other_int(json_t *root, const char *key)
{
    json_t *v = json_object_get(json_object_get(root, "otherData"), key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* ---- Perfetto export of recorded runs ---- */

static void test_export_swarm_deadlock(void **state)
{
    (void)state;
    char trace[128];
    temp_path(trace, sizeof trace, "trace");
    record_run("scenarios/deadlock-a-swarm.yaml", trace);
    json_t *root = export_json(trace, PERFETTO_MAX_FLOWS);
    json_t *other = json_object_get(root, "otherData");
    assert_string_equal(json_string_value(json_object_get(other, "scenario")), "deadlock-a-swarm");
    assert_int_equal(json_integer_value(json_object_get(other, "seed")), 1);
    /* three node tracks and the world */
    assert_int_equal(count(root, "M", "thread_name", -1), 4);
    assert_string_equal(track_name(root, WORLD), "world");
    assert_null(track_name(root, 0));
    assert_string_equal(track_name(root, 1), "n1 app@10.0.0.1");
    assert_string_equal(track_name(root, 3), "n3 app@10.0.0.3");
    for (long tid = 1; tid <= 3; tid++) {
        assert_int_equal(count(root, "X", "syncing", tid), 1); /* the stuck state, to the end */
        assert_int_equal(count(root, "X", "cluster_wait", tid), 1);
        assert_int_equal(count(root, "i", "dump", tid), 1);
        assert_proper_nesting(root, tid);
    }
    json_t *sync = find(root, "X", "syncing", 1);
    assert_int_equal(ev_ns(sync, "ts"), 5000000000LL);
    assert_int_equal(ev_ns(sync, "ts") + ev_ns(sync, "dur"), 5100000000LL);
    assert_int_equal(count(root, "i", "stuck", WORLD), 1);
    /* every message is delivered: 3 syncs among link frames and checks */
    size_t flows = assert_matched_flows(root);
    assert_int_equal(flows, other_int(root, "flows"));
    assert_int_equal(other_int(root, "flows_left_out"), 0);
    assert_int_equal(count(root, "s", "sync", -1), 3);
    assert_true(count(root, "s", "check_reply", -1) > 0);
    assert_true(count(root, "s", "link", -1) > 0);
    assert_int_equal(count(root, "X", "sync", -1), 6); /* a slice at each end */
    json_decref(root);
    remove(trace);
}

static void test_export_partition_windows(void **state)
{
    (void)state;
    char trace[128];
    temp_path(trace, sizeof trace, "trace");
    record_run("scenarios/k8s-partition-heal-fixed.yaml", trace);
    json_t *root = export_json(trace, PERFETTO_MAX_FLOWS);
    assert_int_equal(count(root, "M", "thread_name", -1), 6);
    json_t *cut = find(root, "X", "partition", WORLD);
    assert_non_null(cut);
    assert_int_equal(ev_ns(cut, "ts"), 20000000000LL);
    assert_int_equal(ev_ns(cut, "dur"), 30000000000LL); /* from its `until` */
    assert_int_equal(count(root, "i", "heal after partition", WORLD), 1);
    assert_true(other_int(root, "messages_dropped") > 0);
    assert_matched_flows(root);
    assert_proper_nesting(root, WORLD);
    for (long tid = 1; tid <= 5; tid++)
        assert_proper_nesting(root, tid);
    json_decref(root);
    remove(trace);
}

/* ---- Perfetto export of hand-made traces ---- */

static const char *const hand_trace =
    "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,\"scenario\":\"hand\",\"file\":\"hand.yaml\",\"seed\":7}\n"
    "{\"t\":0,\"node\":\"n1\",\"kind\":\"node_start\",\"name\":\"app@10.0.0.1\",\"inc\":1}\n"
    "{\"t\":0,\"node\":\"n2\",\"kind\":\"node_start\",\"name\":\"app@10.0.0.2\",\"inc\":1}\n"
    "{\"t\":1000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"partition\",\"nodes\":[\"n1\"],\"peers\":[\"n2\"],\"until\":5000}\n"
    "{\"t\":1500,\"node\":\"-\",\"kind\":\"action\",\"action\":\"clog\",\"nodes\":[\"n1\"],\"peers\":[]}\n"
    "{\"t\":2000,\"node\":\"n1\",\"kind\":\"tracker_state\",\"from\":\"cluster_wait\",\"to\":\"syncing\"}\n"
    "{\"t\":2000,\"node\":\"n1\",\"kind\":\"trk_send\",\"to\":\"app@10.0.0.2\",\"type\":\"sync\"}\n"
    "{\"t\":2000,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":7,\"to\":\"n2\",\"len\":10,\"at\":3000}\n"
    "{\"t\":2000,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":7,\"to\":\"n2\",\"len\":20,\"at\":3000}\n"
    "{\"t\":2500,\"node\":\"n2\",\"kind\":\"sample\",\"members\":1,\"registry\":4}\n"
    "{\"t\":3000,\"node\":\"n2\",\"kind\":\"msg_drop\",\"link\":7,\"len\":10}\n"
    "{\"t\":3000,\"node\":\"n2\",\"kind\":\"msg_recv\",\"link\":7,\"from\":\"n1\",\"len\":20}\n"
    "{\"t\":3000,\"node\":\"n2\",\"kind\":\"log\",\"level\":\"warn\",\"msg\":\"something odd\"}\n"
    "{\"t\":3000,\"node\":\"n2\",\"kind\":\"log\",\"level\":\"info\",\"msg\":\"routine\"}\n"
    "{\"t\":3500,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":8,\"to\":\"n2\",\"len\":30,\"at\":4500}\n"
    "{\"t\":4000,\"node\":\"n1\",\"kind\":\"node_crash\",\"name\":\"app@10.0.0.1\"}\n"
    "{\"t\":4500,\"node\":\"n2\",\"kind\":\"msg_recv\",\"link\":8,\"from\":\"n1\",\"len\":30}\n"
    "{\"t\":5000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"heal\",\"after\":\"partition\"}\n"
    "{\"t\":6000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"heal\",\"nodes\":[\"n1\",\"n2\"],\"peers\":[]}\n"
    "{\"t\":7000,\"node\":\"n1\",\"kind\":\"node_start\",\"name\":\"app@10.0.0.9\",\"inc\":2}\n"
    "{\"t\":8000,\"node\":\"n2\",\"kind\":\"msg_recv\",\"link\":9,\"from\":\"n1\",\"len\":5}\n"
    "{\"t\":10000,\"node\":\"-\",\"kind\":\"end\",\"events\":17}\n";

static void test_export_hand_made(void **state)
{
    (void)state;
    char trace[128];
    temp_path(trace, sizeof trace, "hand");
    write_text(trace, hand_trace);
    json_t *root = export_json(trace, PERFETTO_MAX_FLOWS);
    assert_int_equal(count(root, "M", "thread_name", -1), 3);
    /* two incarnations of n1, the first ended by the crash; the state too */
    json_t *inc1 = find(root, "X", "app@10.0.0.1 (inc 1)", 1);
    assert_non_null(inc1);
    assert_int_equal(ev_ns(inc1, "dur"), 4000);
    json_t *inc2 = find(root, "X", "app@10.0.0.9 (inc 2)", 1);
    assert_non_null(inc2);
    assert_int_equal(ev_ns(inc2, "ts") + ev_ns(inc2, "dur"), 10000);
    json_t *syncing = find(root, "X", "syncing", 1);
    assert_int_equal(ev_ns(syncing, "ts") + ev_ns(syncing, "dur"), 4000);
    /* the first message on link 7 was dropped, the second (len 20) arrived */
    assert_int_equal(count(root, "s", NULL, -1), 2);
    assert_int_equal(assert_matched_flows(root), 2);
    json_t *recv = find(root, "X", "link", 2);
    assert_non_null(recv);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(recv, "args"), "len")), 20);
    assert_int_equal(count(root, "X", "sync", -1), 0); /* the named one was dropped */
    assert_int_equal(other_int(root, "messages_dropped"), 1);
    assert_int_equal(other_int(root, "unmatched_arrivals"), 1);
    /* fault windows: the partition by its until, the clog by heal-all */
    json_t *cut = find(root, "X", "partition", WORLD);
    assert_int_equal(ev_ns(cut, "ts"), 1000);
    assert_int_equal(ev_ns(cut, "dur"), 4000);
    json_t *clog = find(root, "b", "clog", WORLD);
    assert_non_null(clog); /* it overlaps the partition without nesting in it */
    json_t *clog_end = find(root, "e", "clog", WORLD);
    assert_int_equal(ev_ns(clog_end, "ts"), 6000);
    /* warnings only, counters per node */
    assert_int_equal(count(root, "i", "something odd", 2), 1);
    assert_int_equal(count(root, "i", "routine", -1), 0);
    json_t *c = find(root, "C", "n2", 2);
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "args"), "registry")), 4);
    /* the slice of the message sent just before the crash ends with the node */
    size_t i;
    json_t *ev;
    json_array_foreach(events(root), i, ev) {
        json_t *args = json_object_get(ev, "args");
        if (!strcmp(ev_str(ev, "ph"), "X") && ev_tid(ev) == 1 && json_integer_value(json_object_get(args, "link")) == 8)
            assert_int_equal(ev_ns(ev, "ts") + ev_ns(ev, "dur"), 4000);
    }
    assert_proper_nesting(root, WORLD);
    for (long tid = 1; tid <= 2; tid++)
        assert_proper_nesting(root, tid);
    json_decref(root);
    remove(trace);
}

/* Several messages of one node at one time get slices of their own, each
 * bound to its flow; past the cap, flows are counted, not drawn. */
static void test_export_flow_cap_and_slots(void **state)
{
    (void)state;
    char trace[128];
    temp_path(trace, sizeof trace, "trace");
    record_run("scenarios/deadlock-a-swarm.yaml", trace);
    json_t *all = export_json(trace, PERFETTO_MAX_FLOWS);
    json_int_t total = other_int(all, "flows");
    json_t *root = export_json(trace, 5);
    assert_int_equal(other_int(root, "flows"), 5);
    assert_int_equal(other_int(root, "flows_left_out"), total - 5);
    assert_int_equal(assert_matched_flows(root), 5);
    assert_int_equal(count(root, "X", NULL, -1), count(all, "X", NULL, -1) - 2 * (size_t)(total - 5));
    size_t i;
    json_t *ev;
    json_array_foreach(events(all), i, ev) {
        if (strcmp(ev_str(ev, "ph"), "s") && strcmp(ev_str(ev, "ph"), "f"))
            continue;
        size_t j, hits = 0; /* the flow point lies in exactly one message slice */
        json_t *x;
        json_array_foreach(events(all), j, x) {
            hits += !strcmp(ev_str(x, "ph"), "X") && !strcmp(ev_str(x, "cat"), "msg") &&
                    ev_tid(x) == ev_tid(ev) && ev_ns(x, "ts") <= ev_ns(ev, "ts") &&
                    ev_ns(ev, "ts") < ev_ns(x, "ts") + ev_ns(x, "dur");
        }
        assert_int_equal(hits, 1);
    }
    json_decref(all);
    json_decref(root);
    remove(trace);
}

static void test_export_errors(void **state)
{
    (void)state;
    char trace[128], out[128], err[512], where[160];
    temp_path(trace, sizeof trace, "bad");
    temp_path(out, sizeof out, "out");
    write_text(trace, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\"}\n\n"
                      "{\"t\":1,\"node\":\"n1\",\"kind\":\"node_start\",\"name\":\"a\",\"inc\":1}\n"
                      "{\"t\":2,\"node\":\"n1\",\"kind\":\n");
    assert_int_equal(perfetto_export(trace, out, err, sizeof err), -1);
    snprintf(where, sizeof where, "%s:4: ", trace);
    if (!strstr(err, where))
        fail_msg("expected '%s' in '%s'", where, err);
    assert_int_equal(access(out, F_OK), -1); /* the partial output is gone */
    write_text(trace, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\"}\n[1,2]\n");
    assert_int_equal(perfetto_export(trace, out, err, sizeof err), -1);
    snprintf(where, sizeof where, "%s:2: expected a trace record", trace);
    assert_non_null(strstr(err, where));
    write_text(trace, "{\"t\":0,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":\"x\"}\n");
    assert_int_equal(perfetto_export(trace, out, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: msg_send needs"));
    write_text(trace, "");
    assert_int_equal(perfetto_export(trace, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "no trace records"));
    remove(trace);
    assert_int_equal(perfetto_export(trace, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    remove(out);
}

/* ---- the sequence chart ---- */

/* Prints the chart into a string (caller frees); `rc` gets the result. */
static char *chart(const char *trace, const struct sequence_options *opt, int *rc, char *err, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *rc = sequence_print(trace, f, opt, err, n);
    fclose(f);
    return text;
}

static size_t occurrences(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_sequence_swarm_deadlock(void **state)
{
    (void)state;
    char trace[128], err[512];
    temp_path(trace, sizeof trace, "trace");
    record_run("scenarios/deadlock-a-swarm.yaml", trace);
    struct sequence_options opt = {.to = INT64_MAX};
    int rc;
    char *text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    char header[256];
    sscanf(text, "%255[^\n]", header);
    assert_non_null(strstr(header, "time"));
    char *n1 = strstr(header, "n1"), *n2 = strstr(header, "n2"), *n3 = strstr(header, "n3");
    assert_true(n1 && n2 && n3 && n1 < n2 && n2 < n3);
    assert_non_null(strstr(text, "app@10.0.0.1"));
    /* the three syncs of the cycle n1 -> n2 -> n3 -> n1, two drawn left to right */
    assert_int_equal(occurrences(text, "|--sync--"), 2);
    assert_int_equal(occurrences(text, "|<--sync--"), 1);
    assert_non_null(strstr(text, "   5.000000s  |--sync--"));
    assert_int_equal(occurrences(text, "* [syncing]"), 3);
    assert_int_equal(occurrences(text, "* start inc 1"), 3);
    assert_non_null(strstr(text, "--check_reply"));
    assert_non_null(strstr(text, "-- 27 messages (0 dropped, 0 in flight at the end) between 3 nodes"));
    free(text);
    /* only n2's messages: the syncs it sends and receives */
    opt.node = "n2";
    text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(occurrences(text, "sync--"), 2);
    assert_int_equal(occurrences(text, "* [syncing]"), 1);
    free(text);
    /* a window after the syncs */
    opt = (struct sequence_options){.from = 5001000000LL, .to = INT64_MAX};
    text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_null(strstr(text, "sync"));
    free(text);
    remove(trace);
}

static void test_sequence_limit_and_errors(void **state)
{
    (void)state;
    char trace[128], err[512];
    temp_path(trace, sizeof trace, "trace");
    record_run("scenarios/deadlock-a-swarm.yaml", trace);
    struct sequence_options opt = {.to = INT64_MAX, .limit = 5};
    int rc;
    char *text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, -2);
    assert_string_equal(text, ""); /* nothing drawn */
    assert_non_null(strstr(err, "more than 5 messages"));
    free(text);
    opt.limit = 27;
    text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    size_t drawn = strlen(text);
    free(text);
    /* The output bound: a chart bigger than max_bytes is refused before a
     * byte is written (so a huge trace cannot fill a disk). */
    opt.max_bytes = drawn / 2;
    text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, -2);
    assert_string_equal(text, "");
    assert_non_null(strstr(err, "narrow it with --node, --from, --to"));
    free(text);
    opt.max_bytes = 0;
    write_text(trace, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\"}\nnot json\n");
    text = chart(trace, &opt, &rc, err, sizeof err);
    assert_int_equal(rc, -1);
    char where[160];
    snprintf(where, sizeof where, "%s:2: not JSON", trace);
    assert_non_null(strstr(err, where));
    free(text);
    remove(trace);
}

int test_perfetto_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_swarm_deadlock),
        cmocka_unit_test(test_export_partition_windows),
        cmocka_unit_test(test_export_hand_made),
        cmocka_unit_test(test_export_flow_cap_and_slots),
        cmocka_unit_test(test_export_errors),
        cmocka_unit_test(test_sequence_swarm_deadlock),
        cmocka_unit_test(test_sequence_limit_and_errors),
    };
    return cmocka_run_group_tests_name("perfetto", tests, NULL, NULL);
}
