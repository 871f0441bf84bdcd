/*
 * tests/test_scenarios.c: every shipped scenario (every .yaml file in scenarios/) loads,
 * meets its expectations on its default seed, and replays event for event
 * (same hash and event count on a second run, the first with a trace file,
 * so the core's tracing and logging change nothing); different seeds of a
 * scenario with random latency give different traces.  Running them here
 * also puts the whole simulated path under the sanitizer build, and every
 * node's internal consistency check (cs_proto.check) after every event.
 */
#include "tests.h"

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>

static void run_file(const char *path)
{
    struct scenario sc;
    char err[1024];
    if (scenario_load_file(path, &sc, err, sizeof err) != 0) {
        print_error("%s\n", err);
        fail();
    }
    /* twice: with a trace file (the core traces and logs) and without */
    FILE *trace = tmpfile();
    assert_non_null(trace);
    struct run_options opt = {.seed = sc.seed, .trace_hash = true, .check_internal = true, .trace_file = trace};
    struct run_result a, b;
    assert_int_equal(sim_run_scenario(&sc, &opt, &a), 0);
    opt.trace_file = NULL;
    assert_int_equal(sim_run_scenario(&sc, &opt, &b), 0);
    fclose(trace);
    if (!a.pass) {
        for (size_t i = 0; i < a.expect_count; i++)
            print_error("%s: %s: %s\n", path, sc_expect_name(a.expects[i].kind), a.expects[i].detail);
    }
    assert_true(a.pass);
    assert_false(a.digest_drift); /* kept registry digests match a full recount */
    assert_true(a.events > 0);
    assert_true(a.trace_hash == b.trace_hash);
    assert_true(a.events == b.events);
    assert_true(a.trace_lines > 0 && b.trace_lines == 0);
    run_result_free(&a);
    run_result_free(&b);
    scenario_free(&sc);
}

static void test_every_shipped_scenario(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("scenarios/*.yaml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 1);
    for (size_t i = 0; i < g.gl_pathc; i++)
        run_file(g.gl_pathv[i]);
    globfree(&g);
}

/* The swarm pod deletion with its expectations turned around: 1,000 names
 * at both instants (Swarm lost the stopped pod's share), and a wrong-secret
 * node excluded: each expectation judged `at` fails at the first instant
 * it does not hold and says so; the excluded node's empty registry counts
 * neither for `registered` nor against agreement. */
static void run_text(const char *yaml, struct run_result *res)
{
    struct scenario sc;
    test_load(yaml, &sc);
    struct run_options opt = {.seed = 1};
    assert_int_equal(sim_run_scenario(&sc, &opt, res), 0);
    scenario_free(&sc);
}

static const char *const deletion =
    "cluster:\n"
    "  nodes: [n1, n2, n3, {id: n4, secret: wrong}]\n"
    "  protocol: cluster\n"
    "  membership: {mode: libcluster, secret: s, topologies: [{strategy: static, polling_interval: 1s}]}\n"
    "  tracker: {mode: swarm}\n"
    "timeline:\n"
    "  - {at: 0s, start: all}\n"
    "  - {at: 10s, every: 10ms, until: 10990ms, register_started: {node: n1, name: \"p-{n}\", value: 0}}\n"
    "  - {at: 20s, stop: n3}\n"
    "expect:\n"
    "  - registered: {min: 100, max: 100, at: [15s, 21s, 25s]}\n"
    "  - no_duplicates: {at: [15s, 25s]}\n"
    "  - converged: {within: 5s, excluding: [n4]}\n"
    "  - whereis: {name: p-1, at: [15s]}\n"
    "  - whereis: {name: p-1, owner: n4, at: 15s}\n"
    "  - whereis: {name: nobody}\n"
    "limits: {duration: 30s, stop_when_settled: true}\n";

static void test_expectations_at_instants(void **state)
{
    (void)state;
    struct run_result r;
    run_text(deletion, &r);
    assert_int_equal(r.expect_count, 6);
    assert_false(r.pass);
    /* 100 names at 15 s; fewer after n3's deletion at 20 s */
    assert_false(r.expects[0].ok);
    assert_non_null(strstr(r.expects[0].detail, "2 of 3 instants failed; at 21s: live nodes hold "));
    assert_non_null(strstr(r.expects[0].detail, ", expected 100"));
    /* the excluded n4 holds nothing, yet n1 and n2 agree at both instants */
    assert_true(r.expects[1].ok);
    assert_non_null(strstr(r.expects[1].detail, "at each of 2 instants: every live node holds the same"));
    assert_true(r.expects[2].ok);
    /* whereis: the live nodes agree on p-1's owner at 15 s, which is not
     * n4; nobody holds a name never registered */
    assert_true(r.expects[3].ok);
    assert_non_null(strstr(r.expects[3].detail, "every live node says p-1 is on app@10.0.0."));
    assert_false(r.expects[4].ok);
    assert_non_null(strstr(r.expects[4].detail, ", expected n4 (app@10.0.0.4)"));
    assert_false(r.expects[5].ok);
    assert_string_equal(r.expects[5].detail, "n1 holds no nobody");
    /* stop_when_settled waited for the last instant */
    assert_true(r.end_time >= CS_SEC(25));
    run_result_free(&r);
}

/* Pods that boot one by one (`start: {boot}`) and a static strategy whose
 * first round waits (`start_delay`): nobody is linked before the first
 * round, the run's last fault is the last boot, and the cluster forms
 * after it. */
static void test_boot_and_first_round_delay(void **state)
{
    (void)state;
    struct run_result r;
    run_text("cluster:\n"
             "  nodes: 3\n"
             "  protocol: cluster\n"
             "  membership: {mode: libcluster, topologies: [{strategy: static, polling_interval: 1s, start_delay: 3s}]}\n"
             "timeline:\n"
             "  - {at: 0s, start: {nodes: all, boot: {dist: uniform, min: 100ms, max: 2s}}}\n"
             "expect:\n"
             "  - isolated: {from: 2100ms, to: 3050ms}\n"
             "  - converged: {within: 3s}\n"
             "limits: {duration: 20s}\n",
             &r);
    for (size_t i = 0; i < r.expect_count; i++)
        if (!r.expects[i].ok)
            print_error("%s: %s\n", sc_expect_name(r.expects[i].kind), r.expects[i].detail);
    assert_true(r.pass);
    assert_true(r.last_fault >= CS_MSEC(100) && r.last_fault <= CS_SEC(2));
    assert_true(r.converged);
    run_result_free(&r);
}

/* A run that spends a budget stops and fails, saying which budget; a
 * passing expectation does not rescue it. */
static void test_budgets_stop_and_fail_a_run(void **state)
{
    (void)state;
    static const char *const yaml[] = {
        "cluster: {nodes: 3}\nlimits: {duration: 10m, max_events: 500}\nexpect:\n  - converged: {within: 9m}\n",
        "cluster: {nodes: 500}\nlimits: {duration: 6000m, wall: 100ms}\nexpect:\n  - converged: {within: 9m}\n",
    };
    static const char *const want[] = {"stopped by the event budget: 500 events", "stopped by the wall-clock budget"};
    for (int i = 0; i < 2; i++) {
        struct scenario sc;
        test_load(yaml[i], &sc);
        struct run_options opt = {.seed = 1};
        struct run_result r;
        assert_int_equal(sim_run_scenario(&sc, &opt, &r), 0);
        assert_false(r.pass);
        assert_non_null(strstr(r.budget, want[i]));
        run_result_free(&r);
        scenario_free(&sc);
    }
}

static void test_seeds_change_the_trace(void **state)
{
    (void)state;
    struct scenario sc;
    char err[1024];
    assert_int_equal(scenario_load_file("scenarios/ping-dns-3.yaml", &sc, err, sizeof err), 0);
    uint64_t hashes[5];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct run_options opt = {.seed = seed, .trace_hash = true};
        struct run_result r;
        assert_int_equal(sim_run_scenario(&sc, &opt, &r), 0);
        hashes[seed - 1] = r.trace_hash;
        run_result_free(&r);
    }
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_true(hashes[i] != hashes[j]);
    scenario_free(&sc);
}

int test_scenarios_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shipped_scenario),
        cmocka_unit_test(test_expectations_at_instants),
        cmocka_unit_test(test_boot_and_first_round_delay),
        cmocka_unit_test(test_seeds_change_the_trace),
        cmocka_unit_test(test_budgets_stop_and_fail_a_run),
    };
    return cmocka_run_group_tests_name("scenarios", tests, NULL, NULL);
}
