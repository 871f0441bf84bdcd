/*
 * tests/test_fuzz.c: the fuzzer's pieces: the scenario generator (valid,
 * deterministic, faults over before the heal point, byte-driven entropy),
 * the no-loss and placement invariants (each caught failing on a Swarm-mode
 * run and holding in fixed mode), deadlock classes, the worker result line
 * and merging of shard summaries.
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/fuzz.h"
#include "../cli/shrinker.h"
#include "../config/scenario/loader.h"
#include "../sim/fuzzgen.h"
#include "../drivers/runner.h"
#include "../sim/scenario.h"

static char *generate(const char *profile, enum fuzz_mode mode, uint64_t seed, size_t *len,
                      struct fuzz_shape *shape)
{
    struct fuzz_request req = {.profile = fuzz_profile_find(profile), .mode = mode, .seed = seed};
    assert_non_null(req.profile);
    struct fuzz_entropy e;
    fuzz_entropy_seed(&e, seed);
    char *text = fuzz_generate(&req, &e, len, shape);
    assert_non_null(text);
    return text;
}

/* Every profile's scenarios load, and the last fault is the heal point:
 * no fault window outlasts it, so convergence is judged after healing. */
static void test_generated_scenarios_load(void **state)
{
    (void)state;
    static const char *const names[] = {"default", "join-storm", "churn", "partitions", "sync-faults"};
    for (size_t p = 0; p < sizeof names / sizeof names[0]; p++) {
        const struct fuzz_profile *prof = fuzz_profile_find(names[p]);
        for (uint64_t seed = 1; seed <= 150; seed++) {
            size_t len;
            struct fuzz_shape shape;
            char *text = generate(names[p], seed % 2 ? FZ_MODE_FIXED : FZ_MODE_SWARM, seed, &len, &shape);
            struct scenario sc;
            char err[1024];
            if (scenario_load_string(text, len, "generated.yaml", &sc, err, sizeof err) != 0)
                fail_msg("profile %s seed %llu does not load: %s\n%s", names[p], (unsigned long long)seed, err, text);
            assert_true(shape.nodes >= prof->min_nodes && shape.nodes <= prof->max_nodes);
            assert_int_equal(sc.cluster.node_count, shape.nodes);
            assert_int_equal(scenario_last_fault(&sc), prof->heal_at_ns);
            assert_int_equal(sc.limits.duration, prof->duration_ns);
            scenario_free(&sc);
            free(text);
        }
    }
}

static void assert_same_nodeset(const struct sc_nodeset *a, const struct sc_nodeset *b)
{
    assert_int_equal(a->all, b->all);
    assert_int_equal(a->random_count, b->random_count);
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        assert_int_equal(a->idx[i], b->idx[i]);
}

/* Every field the loader sets, compared one by one (a struct compare would
 * read padding). */
static void assert_same_action(const struct sc_action *a, const struct sc_action *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->at, b->at);
    assert_int_equal(a->every, b->every);
    assert_int_equal(a->until, b->until);
    assert_int_equal(a->pos.line, b->pos.line);
    assert_int_equal(a->pos.col, b->pos.col);
    assert_same_nodeset(&a->nodes, &b->nodes);
    assert_same_nodeset(&a->peers, &b->peers);
    assert_int_equal(a->oneway, b->oneway);
    assert_int_equal(a->duration, b->duration);
    assert_int_equal(a->grace, b->grace);
    assert_int_equal(a->downtime, b->downtime);
    assert_int_equal(a->new_address, b->new_address);
    assert_int_equal(a->crash, b->crash);
    assert_int_equal(a->fail_mode, b->fail_mode);
    assert_int_equal(a->jump, b->jump);
    assert_true(a->rate_ppm == b->rate_ppm);
    assert_string_equal(a->op, b->op);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->arg, b->arg);
    assert_int_equal(a->value, b->value);
}

/* The split form of a generated scenario (the file without its timeline,
 * plus the timeline as built by the generator) is the scenario of the
 * complete file: every action equal, field by field, in every profile, both
 * modes, 3 to 32 nodes. */
static void test_generated_parts_match_the_file(void **state)
{
    (void)state;
    static const char *const names[] = {"default", "join-storm", "churn", "partitions", "sync-faults"};
    for (size_t p = 0; p < sizeof names / sizeof names[0]; p++)
        for (uint64_t seed = 1; seed <= 200; seed++) {
            struct fuzz_request req = {.profile = fuzz_profile_find(names[p]),
                                       .mode = seed % 2 ? FZ_MODE_FIXED : FZ_MODE_SWARM, .seed = seed,
                                       .min_nodes = seed % 5 == 0 ? 32 : 0,
                                       .max_nodes = seed % 5 == 0 ? 32 : 0};
            struct fuzz_entropy e;
            fuzz_entropy_seed(&e, seed);
            struct fuzz_scenario parts;
            assert_int_equal(fuzz_generate_parts(&req, &e, &parts, NULL, true), 0);
            struct scenario whole, rest;
            char err[1024];
            if (scenario_load_string(parts.text, parts.len, "whole.yaml", &whole, err, sizeof err) != 0 ||
                scenario_load_string(parts.rest, parts.rest_len, "rest.yaml", &rest, err, sizeof err) != 0)
                fail_msg("profile %s seed %llu: %s", names[p], (unsigned long long)seed, err);
            assert_int_equal(rest.action_count, 0);
            assert_int_equal(parts.action_count, whole.action_count);
            assert_true(whole.action_count > 2);
            for (size_t i = 0; i < whole.action_count; i++)
                assert_same_action(&parts.actions[i], &whole.actions[i]);
            assert_int_equal(rest.cluster.node_count, whole.cluster.node_count);
            assert_int_equal(rest.limits.duration, whole.limits.duration);
            assert_int_equal(rest.expect_count, whole.expect_count);
            scenario_free(&whole);
            scenario_free(&rest);
            fuzz_scenario_free(&parts);
        }
}

/* A seed generated without its text (as a fuzz run does until the seed
 * fails) draws the same scenario: the same rest, the same actions with
 * the same file positions, the same shape. */
static void test_generated_parts_without_text(void **state)
{
    (void)state;
    static const char *const names[] = {"default", "churn", "partitions"};
    for (size_t p = 0; p < sizeof names / sizeof names[0]; p++)
        for (uint64_t seed = 1; seed <= 100; seed++) {
            struct fuzz_request req = {.profile = fuzz_profile_find(names[p]),
                                       .mode = seed % 2 ? FZ_MODE_FIXED : FZ_MODE_SWARM, .seed = seed};
            struct fuzz_entropy e1, e2;
            fuzz_entropy_seed(&e1, seed);
            fuzz_entropy_seed(&e2, seed);
            struct fuzz_scenario with, without;
            struct fuzz_shape s1, s2;
            assert_int_equal(fuzz_generate_parts(&req, &e1, &with, &s1, true), 0);
            assert_int_equal(fuzz_generate_parts(&req, &e2, &without, &s2, false), 0);
            assert_non_null(with.text);
            assert_null(without.text);
            assert_int_equal(with.rest_len, without.rest_len);
            assert_memory_equal(with.rest, without.rest, with.rest_len);
            assert_int_equal(with.action_count, without.action_count);
            for (size_t i = 0; i < with.action_count; i++)
                assert_same_action(&with.actions[i], &without.actions[i]);
            assert_memory_equal(&s1, &s2, sizeof s1);
            fuzz_scenario_free(&with);
            fuzz_scenario_free(&without);
        }
}

/* The largest clusters --nodes allows (32): node lists of partitions and
 * clogs run long, and every item must still be whole YAML (items were once
 * cut at 200 characters). */
static void test_generated_large_clusters_load(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 120; seed++) {
        struct fuzz_request req = {.profile = fuzz_profile_find(seed % 3 ? "default" : "partitions"),
                                   .mode = FZ_MODE_FIXED, .min_nodes = 32, .max_nodes = 32, .seed = seed};
        struct fuzz_entropy e;
        fuzz_entropy_seed(&e, seed);
        size_t len;
        struct fuzz_shape shape;
        char *text = fuzz_generate(&req, &e, &len, &shape);
        assert_non_null(text);
        struct scenario sc;
        char err[1024];
        if (scenario_load_string(text, len, "generated.yaml", &sc, err, sizeof err) != 0)
            fail_msg("32 nodes, seed %llu does not load: %s", (unsigned long long)seed, err);
        assert_int_equal(sc.cluster.node_count, 32);
        scenario_free(&sc);
        free(text);
    }
}

static void test_generation_is_deterministic(void **state)
{
    (void)state;
    size_t a_len, b_len, c_len;
    char *a = generate("default", FZ_MODE_FIXED, 42, &a_len, NULL);
    char *b = generate("default", FZ_MODE_FIXED, 42, &b_len, NULL);
    char *c = generate("default", FZ_MODE_FIXED, 43, &c_len, NULL);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    assert_true(a_len != c_len || memcmp(a, c, a_len) != 0);
    free(a);
    free(b);
    free(c);
}

/* Swarm testing: over many seeds each fault kind is sometimes on and
 * sometimes off. */
static void test_swarm_testing_varies_fault_kinds(void **state)
{
    (void)state;
    uint32_t on = 0, off = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        size_t len;
        struct fuzz_shape shape;
        free(generate("default", FZ_MODE_FIXED, seed, &len, &shape));
        on |= shape.faults;
        off |= ~shape.faults & FZ_ALL;
    }
    assert_int_equal(on, FZ_ALL);
    assert_int_equal(off, FZ_ALL);
}

/* Input bytes instead of PCG: the same bytes give the same file, every
 * input (even none) gives a valid one. */
static void test_byte_entropy(void **state)
{
    (void)state;
    const struct fuzz_request req = {.profile = fuzz_profile_find("default"), .seed = 1};
    uint8_t bytes[512];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof bytes; n += 64) {
        struct fuzz_entropy e1, e2;
        fuzz_entropy_bytes(&e1, bytes, n);
        fuzz_entropy_bytes(&e2, bytes, n);
        size_t l1, l2;
        char *t1 = fuzz_generate(&req, &e1, &l1, NULL), *t2 = fuzz_generate(&req, &e2, &l2, NULL);
        assert_int_equal(l1, l2);
        assert_memory_equal(t1, t2, l1);
        struct scenario sc;
        char err[1024];
        if (scenario_load_string(t1, l1, "bytes.yaml", &sc, err, sizeof err) != 0)
            fail_msg("%zu input bytes: %s", n, err);
        scenario_free(&sc);
        free(t1);
        free(t2);
    }
}

/* Runs a file with extra expectations appended to its expect list; returns
 * whether expectation `kind` held. */
static bool holds(const char *path, const char *extra, enum sc_expect_kind kind, char *detail, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *expect = strstr(text, "\nexpect:\n");
    assert_non_null(expect);
    char patched[70000];
    snprintf(patched, sizeof patched, "%.*s\nexpect:\n%s%s", (int)(expect - text), text, extra, expect + 9);
    struct scenario sc;
    char err[1024];
    if (scenario_load_string(patched, strlen(patched), path, &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct run_options opt = {.seed = sc.seed};
    struct run_result res;
    assert_int_equal(sim_run_scenario(&sc, &opt, &res), 0);
    bool ok = false, seen = false;
    for (size_t i = 0; i < res.expect_count; i++)
        if (res.expects[i].kind == kind) {
            ok = res.expects[i].ok;
            seen = true;
            snprintf(detail, size, "%s", res.expects[i].detail);
        }
    assert_true(seen);
    run_result_free(&res);
    scenario_free(&sc);
    return ok;
}

/* Swarm's graceful stop loses the stopped node's started processes (the
 * reference says so); fixed mode loses nothing.  no_loss must tell them
 * apart. */
static void test_no_loss_catches_graceful_stop_loss(void **state)
{
    (void)state;
    char detail[256];
    assert_false(holds("scenarios/registry-1000-stop-swarm.yaml", "  - no_loss: true\n", SC_EXP_NO_LOSS,
                       detail, sizeof detail));
    assert_non_null(strstr(detail, "never unregistered"));
    assert_true(holds("scenarios/registry-1000-stop-fixed.yaml", "  - no_loss: true\n", SC_EXP_NO_LOSS,
                      detail, sizeof detail));
    assert_non_null(strstr(detail, "none lost"));
}

/* A Swarm tracker that joined by syncing never rehomes a process started
 * while it was alone (found by the fuzzer, join-storm seed 1); fixed mode
 * hands it to its ring owner. */
static void test_placement_catches_misplaced_process(void **state)
{
    (void)state;
    static const char *const yaml =
        "seed: 8\ncluster:\n  nodes: 2\n  protocol: cluster\n  membership:\n    secret: s\n"
        "    topologies:\n      - {strategy: kubernetes_dns, polling_interval: 1614ms}\n"
        "  tracker:\n    mode: %s\n    sync_nodes_timeout: 288ms\n"
        "dns:\n  service: {name: app-headless.default.svc.cluster.local, ready_delay: 848ms, removal_delay: 1530ms}\n"
        "timeline:\n  - {at: 0ms, start: all}\n  - {at: 328ms, register_started: {node: n2, name: s7, value: 67}}\n"
        "expect:\n  - placement: true\nlimits:\n  duration: 30s\n  check_interval: 250ms\n";
    const char *modes[] = {"swarm", "fixed"};
    for (int m = 0; m < 2; m++) {
        char text[2048];
        snprintf(text, sizeof text, yaml, modes[m]);
        FILE *f = fopen("build/test-placement.yaml", "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        char detail[256];
        bool ok = holds("build/test-placement.yaml", "", SC_EXP_PLACEMENT, detail, sizeof detail);
        if (m == 0) {
            assert_false(ok);
            assert_non_null(strstr(detail, "ring assigns it to"));
        } else {
            assert_true(ok);
        }
    }
}

static enum deadlock_class class_of(const char *path)
{
    struct scenario sc;
    char err[1024];
    assert_int_equal(scenario_load_file(path, &sc, err, sizeof err), 0);
    struct run_options opt = {.seed = sc.seed};
    struct run_result res;
    assert_int_equal(sim_run_scenario(&sc, &opt, &res), 0);
    enum deadlock_class d = deadlock_class_of(&res);
    run_result_free(&res);
    scenario_free(&sc);
    return d;
}

static void test_deadlock_classes(void **state)
{
    (void)state;
    assert_int_equal(class_of("scenarios/deadlock-a-swarm.yaml"), DL_A);
    assert_int_equal(class_of("scenarios/deadlock-b-swarm.yaml"), DL_B);
    assert_int_equal(class_of("scenarios/deadlock-c-swarm.yaml"), DL_C);
    assert_int_equal(class_of("tests/regressions/swarm-stale-parked-request-m3b.yaml"), DL_M3B);
    assert_int_equal(class_of("scenarios/deadlock-a-fixed.yaml"), DL_NONE);
    assert_string_equal(deadlock_class_name(DL_C), "C");
}

static void test_result_line_roundtrip(void **state)
{
    (void)state;
    struct fuzz_seed_result r = {.seed = 123456789012ULL, .pass = false, .invariant = FI_STUCK,
                                 .deadlock = DL_B, .nodes = 7, .faults = FZ_CRASH | FZ_DNS,
                                 .events = 98765, .virtual_seconds = 60, .wall_seconds = 0.25,
                                 .shrunk_nodes = 3, .shrunk_items = 2};
    snprintf(r.detail, sizeof r.detail, "a node\tgot stuck\nhere");
    snprintf(r.file, sizeof r.file, "out/failures/seed-1.yaml");
    snprintf(r.report, sizeof r.report, "out/failures/seed-1.report/index.html");
    char line[4096];
    fuzz_result_encode(&r, line, sizeof line);
    assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1); /* one line */
    struct fuzz_seed_result back;
    assert_int_equal(fuzz_result_decode(line, &back), 0);
    assert_true(back.seed == r.seed && back.invariant == FI_STUCK && back.deadlock == DL_B);
    assert_int_equal(back.nodes, 7);
    assert_int_equal(back.faults, r.faults);
    assert_int_equal(back.events, 98765);
    assert_string_equal(back.detail, "a node got stuck here");
    assert_string_equal(back.file, r.file);
    assert_string_equal(back.shrunk, "");
    assert_string_equal(back.report, r.report);
    assert_int_equal(fuzz_result_decode("R\t1\t0\t99\t0\t3\t0\t1\t1\t1\t0\t0\t-\t-\t-\n", &back), -1);
    assert_int_equal(fuzz_result_decode("garbage", &back), -1);
}

static void test_summary_merge(void **state)
{
    (void)state;
    struct fuzz_summary a = {0}, b = {0};
    snprintf(a.profile, sizeof a.profile, "default");
    snprintf(a.mode, sizeof a.mode, "fixed");
    b = a;
    struct fuzz_seed_result pass = {.seed = 1, .pass = true, .events = 10};
    struct fuzz_seed_result stuck = {.seed = 2, .invariant = FI_STUCK, .deadlock = DL_A, .events = 5};
    struct fuzz_seed_result loss = {.seed = 3, .invariant = FI_LOSS, .events = 7};
    fuzz_summary_add(&a, &pass);
    fuzz_summary_add(&a, &stuck);
    fuzz_summary_add(&b, &loss);
    assert_int_equal(fuzz_summary_write(&a, "build/test-fuzz-a.json"), 0);
    assert_int_equal(fuzz_summary_write(&b, "build/test-fuzz-b.json"), 0);
    struct fuzz_summary m = {0};
    char err[512];
    assert_int_equal(fuzz_summary_merge_file(&m, "build/test-fuzz-a.json", err, sizeof err), 0);
    assert_int_equal(fuzz_summary_merge_file(&m, "build/test-fuzz-b.json", err, sizeof err), 0);
    assert_int_equal(m.seeds, 3);
    assert_int_equal(m.passed, 1);
    assert_int_equal(m.events, 22);
    assert_int_equal(m.by_invariant[FI_STUCK], 1);
    assert_int_equal(m.by_invariant[FI_LOSS], 1);
    assert_int_equal(m.deadlocks[DL_A], 1);
    assert_int_equal(m.failure_count, 2);
    /* A summary of another mode does not merge. */
    snprintf(b.mode, sizeof b.mode, "swarm");
    assert_int_equal(fuzz_summary_write(&b, "build/test-fuzz-c.json"), 0);
    assert_int_equal(fuzz_summary_merge_file(&m, "build/test-fuzz-c.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "mode"));
    fuzz_summary_free(&a);
    fuzz_summary_free(&b);
    fuzz_summary_free(&m);
}

int test_fuzz_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_scenarios_load),
        cmocka_unit_test(test_generated_large_clusters_load),
        cmocka_unit_test(test_generated_parts_match_the_file),
        cmocka_unit_test(test_generated_parts_without_text),
        cmocka_unit_test(test_generation_is_deterministic),
        cmocka_unit_test(test_swarm_testing_varies_fault_kinds),
        cmocka_unit_test(test_byte_entropy),
        cmocka_unit_test(test_no_loss_catches_graceful_stop_loss),
        cmocka_unit_test(test_placement_catches_misplaced_process),
        cmocka_unit_test(test_deadlock_classes),
        cmocka_unit_test(test_result_line_roundtrip),
        cmocka_unit_test(test_summary_merge),
    };
    return cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
}
