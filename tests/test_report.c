/*
 * tests/test_report.c: the run report's model of a trace
 * (reports/report_model.h), read from small hand-written traces: node
 * states from lifecycle and tracker records (the first tracker state
 * reaching back to the node's start), a crash, fault windows from `until`
 * and from a heal-everything, message counts by type (tracker types from
 * `trk_send`, "link" otherwise, "gossip" for datagrams) in the right time
 * buckets, samples, the stuck record and the last dump; and bad traces
 * refused with FILE:LINE.  Then the size plots' lines (reports/report_series.h):
 * whole-number tick steps, identical series merged under one key naming
 * every node, coinciding ones moved apart; the replay commands
 * (reports/report_replay.h) and the page's replay section for a simulated
 * and a real run, with the version beside the trace hash.
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/version.h"
#include "../reports/report_html.h"
#include "../reports/report_model.h"
#include "../reports/report_replay.h"
#include "../reports/report_series.h"

static const char trace_text[] =
    "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,\"scenario\":\"hand\",\"file\":\"hand.yaml\",\"seed\":7}\n"
    "{\"t\":0,\"node\":\"n2\",\"kind\":\"node_start\",\"name\":\"app@10.0.0.2\",\"inc\":1}\n"
    "{\"t\":0,\"node\":\"n1\",\"kind\":\"node_start\",\"name\":\"app@10.0.0.1\",\"inc\":1}\n"
    "{\"t\":1000,\"node\":\"n1\",\"kind\":\"trk_send\",\"to\":\"app@10.0.0.2\",\"type\":\"sync\"}\n"
    "{\"t\":1000,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":1,\"to\":\"n2\",\"len\":9,\"at\":2000}\n"
    "{\"t\":1000,\"node\":\"n1\",\"kind\":\"msg_send\",\"link\":1,\"to\":\"n2\",\"len\":4,\"at\":2000}\n"
    "{\"t\":1500,\"node\":\"n2\",\"kind\":\"dgram_send\",\"to\":\"group\",\"len\":30}\n"
    "{\"t\":2000,\"node\":\"n2\",\"kind\":\"msg_recv\",\"link\":1,\"from\":\"n1\",\"len\":9}\n"
    "{\"t\":2000,\"node\":\"n2\",\"kind\":\"msg_recv\",\"link\":1,\"from\":\"n1\",\"len\":4}\n"
    "{\"t\":3000,\"node\":\"n1\",\"kind\":\"tracker_state\",\"from\":\"cluster_wait\",\"to\":\"syncing\"}\n"
    "{\"t\":4000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"partition\",\"nodes\":[\"n1\"],\"peers\":[\"n2\"],\"until\":6000}\n"
    "{\"t\":4500,\"node\":\"-\",\"kind\":\"action\",\"action\":\"clog\",\"nodes\":[\"n2\"],\"peers\":[\"n1\"]}\n"
    "{\"t\":5000,\"node\":\"n1\",\"kind\":\"sample\",\"members\":1,\"registry\":12}\n"
    "{\"t\":7000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"heal\",\"nodes\":[],\"peers\":[]}\n"
    "{\"t\":8000,\"node\":\"-\",\"kind\":\"action\",\"action\":\"kill\",\"nodes\":[\"n2\"],\"peers\":[]}\n"
    "{\"t\":8000,\"node\":\"n2\",\"kind\":\"node_crash\",\"name\":\"app@10.0.0.2\"}\n"
    "{\"t\":9000,\"node\":\"-\",\"kind\":\"stuck\",\"nodes\":1}\n"
    "{\"t\":9000,\"node\":\"n1\",\"kind\":\"dump\",\"state\":\"{:syncing, ...}\"}\n"
    "{\"t\":9000,\"node\":\"n1\",\"kind\":\"log\",\"level\":\"warn\",\"msg\":\"x\"}\n"
    "{\"t\":10000,\"node\":\"-\",\"kind\":\"end\",\"events\":42,\"lines\":19,\"hash\":\"00ff\"}\n";

static void write_temp(char *path, size_t size, const char *text)
{
    snprintf(path, size, "/tmp/clustersim-test-report-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const struct rep_msg_type *type_named(const struct rep_model *m, const char *name)
{
    for (size_t i = 0; i < m->type_count; i++)
        if (!strcmp(m->types[i].name, name))
            return &m->types[i];
    return NULL;
}

static void test_report_model_reads_a_trace(void **state)
{
    (void)state;
    char path[64], err[256] = "";
    write_temp(path, sizeof path, trace_text);
    struct rep_model m;
    assert_int_equal(rep_model_load(path, &m, err, sizeof err), 0);
    unlink(path);
    assert_string_equal(m.scenario, "hand");
    assert_int_equal(m.seed, 7);
    assert_int_equal(m.end, 10000);
    assert_int_equal(m.events, 42);
    assert_int_equal(m.node_count, 2);
    const struct rep_node *n1 = &m.nodes[0], *n2 = &m.nodes[1];
    assert_string_equal(n1->id, "n1"); /* natural order, not trace order */
    assert_string_equal(n1->name, "app@10.0.0.1");
    /* n1: cluster_wait from its start (the first tracker record says so), then syncing. */
    assert_int_equal(n1->span_count, 2);
    assert_string_equal(n1->spans[0].state, "cluster_wait");
    assert_int_equal(n1->spans[0].from, 0);
    assert_int_equal(n1->spans[0].to, 3000);
    assert_string_equal(n1->spans[1].state, "syncing");
    assert_int_equal(n1->spans[1].to, 10000);
    /* n2: up, then down at the crash. */
    assert_int_equal(n2->span_count, 2);
    assert_string_equal(n2->spans[0].state, "up");
    assert_string_equal(n2->spans[1].state, "down");
    assert_int_equal(n2->spans[1].from, 8000);
    /* Messages: one sync (typed by trk_send), one link frame, one datagram. */
    assert_non_null(type_named(&m, "sync"));
    assert_int_equal(type_named(&m, "sync")->total, 1);
    assert_int_equal(type_named(&m, "link")->total, 1);
    assert_int_equal(type_named(&m, "gossip")->total, 1);
    assert_int_equal(type_named(&m, "sync")->buckets[1000 / m.bucket_width], 1);
    /* Faults: the partition until 6000, the clog until the heal at 7000,
     * the heal and the kill as instants. */
    assert_int_equal(m.fault_count, 4);
    assert_string_equal(m.faults[0].what, "partition n1");
    assert_int_equal(m.faults[0].from, 4000);
    assert_int_equal(m.faults[0].to, 6000);
    assert_string_equal(m.faults[1].what, "clog n2");
    assert_int_equal(m.faults[1].to, 7000);
    assert_int_equal(m.faults[2].from, m.faults[2].to);
    assert_string_equal(m.faults[3].what, "kill n2");
    /* Samples, stuck, dump, warnings. */
    assert_int_equal(n1->sample_count, 1);
    assert_int_equal(n1->samples[0].members, 1);
    assert_int_equal(n1->samples[0].registry, 12);
    assert_int_equal(m.stuck_at, 9000);
    assert_int_equal(m.stuck_nodes, 1);
    assert_string_equal(n1->last_dump, "{:syncing, ...}");
    assert_int_equal(m.warnings, 1);
    rep_model_free(&m);
}

static void test_report_model_refuses_bad_traces(void **state)
{
    (void)state;
    char path[64], err[256] = "";
    struct rep_model m;
    write_temp(path, sizeof path, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"scenario\":\"x\"}\nnot json\n");
    assert_int_equal(rep_model_load(path, &m, err, sizeof err), -1);
    char expect[96];
    snprintf(expect, sizeof expect, "%s:2", path);
    assert_non_null(strstr(err, expect));
    unlink(path);
    write_temp(path, sizeof path, "{\"t\":0,\"node\":\"n1\",\"kind\":\"node_start\",\"name\":\"a@b\"}\n");
    assert_int_equal(rep_model_load(path, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "no run header"));
    unlink(path);
    assert_int_equal(rep_model_load("/nonexistent/trace.jsonl", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/trace.jsonl"));
}

/* A model of three nodes sampled at 1000, 2000, 3000 and 4000 (members
 * only): n1 and n2 take `a`, n3 takes `b`. */
static void sized_model(const long a[4], const long b[4], struct rep_model *m)
{
    char text[4096], path[64], err[256] = "";
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,\"scenario\":\"s\","
                                  "\"file\":\"s.yaml\",\"seed\":1}\n");
    for (int k = 0; k < 4; k++)
        for (int n = 1; n <= 3; n++)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "{\"t\":%d,\"node\":\"n%d\",\"kind\":\"sample\",\"members\":%ld,\"registry\":0}\n",
                                    1000 * (k + 1), n, n < 3 ? a[k] : b[k]);
    snprintf(text + len, sizeof text - len, "{\"t\":5000,\"node\":\"-\",\"kind\":\"end\",\"events\":1,"
                                            "\"lines\":1,\"hash\":\"00\"}\n");
    write_temp(path, sizeof path, text);
    assert_int_equal(rep_model_load(path, m, err, sizeof err), 0);
    unlink(path);
}

static void test_report_tick_steps_are_whole(void **state)
{
    (void)state;
    const long top[] = {0, 1, 3, 8, 9, 16, 17, 40, 41, 80, 81, 1101};
    const long step[] = {1, 1, 1, 1, 2, 2, 5, 5, 10, 10, 20, 200};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        assert_int_equal(rep_tick_step(top[i]), step[i]);
}

static void test_report_series_merge_and_dodge(void **state)
{
    (void)state;
    struct rep_model m;
    struct rep_series_plan p;
    /* n3 leaves the others at 3000 (a partition) after sharing 0 and 2. */
    sized_model((const long[]){0, 2, 2, 2}, (const long[]){0, 2, 1, 1}, &m);
    rep_series_plan(&m, REP_SIZE_MEMBERS, &p);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.lines[0].label, "n1, n2");
    assert_int_equal(p.lines[0].nodes, 2);
    assert_string_equal(p.lines[1].label, "n3");
    assert_int_equal(p.lines[1].node, 2);
    assert_true(p.dodged);
    assert_true(p.lines[0].offset > 0 && p.lines[1].offset < 0); /* the first of the key highest */
    assert_true(p.lines[0].offset - p.lines[1].offset <= 0.4);
    assert_true(p.y_min < p.lines[1].offset); /* a line at 0 stays above the axis */
    assert_int_equal(p.top, 2);
    assert_int_equal(p.tick, 1);
    assert_int_equal(p.y_max, 3);
    /* Registry sizes: all 0, one line naming every node, nothing to move. */
    rep_series_plan(&m, REP_SIZE_REGISTRY, &p);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.lines[0].label, "n1, n2, n3");
    assert_false(p.dodged);
    assert_true(p.lines[0].offset == 0);
    rep_model_free(&m);
    /* Distinct lines that never share a value over a stretch stay exact. */
    sized_model((const long[]){0, 2, 2, 2}, (const long[]){1, 1, 0, 1}, &m);
    rep_series_plan(&m, REP_SIZE_MEMBERS, &p);
    assert_int_equal(p.count, 2);
    assert_false(p.dodged);
    assert_true(p.lines[0].offset == 0 && p.lines[1].offset == 0);
    /* Touching at an instant is not coinciding: n1 is 2 over [2000, 4000),
     * n3 over [1000, 2000) only. */
    assert_false(rep_series_coincide(&m.nodes[0], &m.nodes[2], REP_SIZE_MEMBERS));
    assert_true(rep_series_coincide(&m.nodes[0], &m.nodes[1], REP_SIZE_MEMBERS));
    rep_model_free(&m);
}

static void test_report_series_long_keys_wrap(void **state)
{
    (void)state;
    char text[2048], path[64], err[256] = "";
    size_t len = (size_t)snprintf(text, sizeof text, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,"
                                                     "\"scenario\":\"s\",\"file\":\"s.yaml\",\"seed\":1}\n");
    for (int n = 1; n <= 7; n++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "{\"t\":10,\"node\":\"n%d\",\"kind\":\"sample\",\"members\":6}\n", n);
    write_temp(path, sizeof path, text);
    struct rep_model m;
    assert_int_equal(rep_model_load(path, &m, err, sizeof err), 0);
    unlink(path);
    struct rep_series_plan p;
    rep_series_plan(&m, REP_SIZE_MEMBERS, &p);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.lines[0].nodes, 7);
    assert_string_equal(p.lines[0].label, "n1, n2, n3, n4, n5,\nn6, n7");
    rep_model_free(&m);
}

static void test_report_replay_commands(void **state)
{
    (void)state;
    char buf[512];
    rep_trace_replay("bin/clustersim run x.yaml --seed 3 --trace x-3.jsonl", "build/r//x/seed-3/trace.jsonl", buf,
                     sizeof buf);
    assert_string_equal(buf, "bin/clustersim replay build/r/x/seed-3/trace.jsonl");
    rep_trace_replay(NULL, "out dir/it's/trace.jsonl", buf, sizeof buf);
    assert_string_equal(buf, "clustersim replay 'out dir/it'\\''s/trace.jsonl'");
    rep_command_program("/opt/cs/clustersim\trun", buf, sizeof buf);
    assert_string_equal(buf, "/opt/cs/clustersim");
}

/* The page of the hand trace (`real` marks it observed), in a string. */
static char *page_of(bool real, const char *rerun)
{
    char path[64], err[256] = "", text[4096];
    const char *world = ",\"world\":\"real\"";
    snprintf(text, sizeof text, "%s", trace_text);
    if (real) { /* the header marked as the real world's */
        char *brace = strchr(text, '}');
        memmove(brace + strlen(world), brace, strlen(brace) + 1);
        memcpy(brace, world, strlen(world));
    }
    write_temp(path, sizeof path, text);
    struct rep_model m;
    assert_int_equal(rep_model_load(path, &m, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(m.real, real);
    static struct scenario sc;
    snprintf(sc.name, sizeof sc.name, "hand");
    snprintf(sc.path, sizeof sc.path, "hand.yaml");
    struct run_result res;
    memset(&res, 0, sizeof res);
    struct rep_plots plots = {.why_not = "plots skipped"};
    struct rep_page page = {.sc = &sc, .res = &res, .replay = rerun, .trace = "rep/hand/seed-7/trace.jsonl",
                            .model = &m, .plots = &plots};
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_non_null(f);
    rep_html_write(f, &page);
    fclose(f);
    rep_model_free(&m);
    return out;
}

static void test_report_page_replays_the_saved_trace(void **state)
{
    (void)state;
    char *sim = page_of(false, "bin/clustersim run hand.yaml --seed 7");
    assert_non_null(strstr(sim, "<pre id=\"replay\">bin/clustersim replay rep/hand/seed-7/trace.jsonl</pre>"));
    assert_non_null(strstr(sim, "<pre id=\"rerun\">bin/clustersim run hand.yaml --seed 7</pre>"));
    assert_true(strstr(sim, "id=\"replay\"") < strstr(sim, "id=\"rerun\"")); /* the saved trace first */
    assert_null(strstr(sim, "refuses"));
    char version[64];
    snprintf(version, sizeof version, "clustersim <span id=\"version\">%s</span>", CS_VERSION);
    assert_non_null(strstr(sim, version));
    free(sim);
    char *real = page_of(true, "bin/clustersim run --real hand.yaml --trials 1");
    assert_non_null(strstr(real, "<code>bin/clustersim replay --check</code> refuses it"));
    assert_non_null(strstr(real, "<pre id=\"replay\">bin/clustersim replay rep/hand/seed-7/trace.jsonl</pre>"));
    assert_non_null(strstr(real, "<pre id=\"rerun\">bin/clustersim run --real hand.yaml --trials 1</pre>"));
    free(real);
}

int test_report_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_model_reads_a_trace),
        cmocka_unit_test(test_report_model_refuses_bad_traces),
        cmocka_unit_test(test_report_tick_steps_are_whole),
        cmocka_unit_test(test_report_series_merge_and_dodge),
        cmocka_unit_test(test_report_series_long_keys_wrap),
        cmocka_unit_test(test_report_replay_commands),
        cmocka_unit_test(test_report_page_replays_the_saved_trace),
    };
    return cmocka_run_group_tests_name("report model", tests, NULL, NULL);
}
