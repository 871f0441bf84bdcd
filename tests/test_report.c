/*
 * tests/test_report.c: the run report's model of a trace
 * (reports/report_model.h), read from small hand-written traces: node
 * states from lifecycle and tracker records (the first tracker state
 * reaching back to the node's start), a crash, fault windows from `until`
 * and from a heal-everything, message counts by type (tracker types from
 * `trk_send`, "link" otherwise, "gossip" for datagrams) in the right time
 * buckets, samples, the stuck record and the last dump; and bad traces
 * refused with FILE:LINE.
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../reports/report_model.h"

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

int test_report_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_model_reads_a_trace),
        cmocka_unit_test(test_report_model_refuses_bad_traces),
    };
    return cmocka_run_group_tests_name("report model", tests, NULL, NULL);
}
