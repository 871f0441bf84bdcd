/*
 * tests/test_cluster_file.c: clusterd's configuration file
 * (config/cluster_file.c): the shipped example loads into the settings it
 * states, what the file leaves out keeps the daemon's defaults, and what
 * only a scenario may say (node ids as hosts, a query from dns.service, a
 * scenario's sections) is refused with file:line:column.
 */
#include "tests.h"

#include "../config/cluster_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The daemon's defaults, as clusterd sets them before reading --config. */
static void daemon_defaults(struct cluster_config *cfg)
{
    cluster_config_defaults(cfg);
    cfg->tracker = true;
    trk_config_defaults(&cfg->trk);
    cfg->mem.conn.encrypt = true;
}

static void load_ok(const char *yaml, struct cluster_config *cfg)
{
    char err[512] = "";
    daemon_defaults(cfg);
    int rc = cluster_file_load_string(yaml, strlen(yaml), "c.yaml", cfg, err, sizeof err);
    if (rc != 0)
        print_error("unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
}

static void load_fails(const char *yaml, const char *want)
{
    struct cluster_config cfg;
    char err[512] = "";
    daemon_defaults(&cfg);
    assert_int_equal(cluster_file_load_string(yaml, strlen(yaml), "bad.yaml", &cfg, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static void test_the_shipped_example_loads(void **state)
{
    (void)state;
    struct cluster_config cfg;
    daemon_defaults(&cfg);
    char err[512] = "";
    int rc = cluster_file_load("deploy/clusterd.yaml", &cfg, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.mem.mode, MEM_FIXED);
    assert_int_equal(cfg.mem.conn.tick_timeout, CS_SEC(15));
    assert_int_equal(cfg.mem.topology_count, 1);
    const struct membership_topology_config *t = &cfg.mem.topologies[0];
    assert_int_equal(t->strategy, MEM_K8S_DNS);
    assert_string_equal(t->name, "k8s");
    assert_string_equal(t->query, "clusterd-headless.default.svc.cluster.local");
    assert_string_equal(t->app_name, ""); /* clusterd takes its own basename */
    assert_int_equal(t->polling_interval, CS_SEC(5));
    assert_true(cfg.tracker);
    assert_int_equal(cfg.trk.mode, TRK_FIXED);
    assert_int_equal(cfg.trk.sync_nodes_timeout, CS_SEC(5));
}

static void test_what_the_file_leaves_out_keeps_the_defaults(void **state)
{
    (void)state;
    struct cluster_config cfg;
    load_ok("membership:\n"
            "  mode: libcluster\n"
            "  secret: s3\n"
            "  topologies:\n"
            "    - {strategy: static, hosts: [app@10.0.0.1, app@10.0.0.2]}\n"
            "tracker: {mode: swarm, batch_window: 20ms}\n",
            &cfg);
    struct cluster_config def;
    daemon_defaults(&def);
    assert_int_equal(cfg.mem.mode, MEM_LIBCLUSTER);
    assert_string_equal(cfg.mem.conn.secret, "s3");
    assert_true(cfg.mem.conn.encrypt);
    assert_int_equal(cfg.mem.conn.tick_timeout, def.mem.conn.tick_timeout);
    assert_int_equal(cfg.mem.conn.setup_timeout, def.mem.conn.setup_timeout);
    assert_int_equal(cfg.mem.topologies[0].host_count, 2);
    assert_string_equal(cfg.mem.topologies[0].hosts[1], "app@10.0.0.2");
    assert_int_equal(cfg.trk.mode, TRK_SWARM);
    assert_int_equal(cfg.trk.batch_window, CS_MSEC(20));
    assert_int_equal(cfg.trk.sync_nodes_timeout, def.trk.sync_nodes_timeout);
    assert_int_equal(cfg.trk.retry_max, def.trk.retry_max);

    load_ok("tracker: off\n", &cfg);
    assert_false(cfg.tracker);
    assert_int_equal(cfg.mem.topology_count, 0); /* the flags must give one */
    load_ok("tracker: on\n", &cfg);
    assert_true(cfg.tracker);
}

static void test_scenario_only_settings_are_refused(void **state)
{
    (void)state;
    load_fails("cluster:\n  nodes: 3\n",
               "bad.yaml:1:1: unknown key 'cluster' in a clusterd configuration (expected one of: "
               "membership, tracker)");
    load_fails("membership:\n  topologies:\n    - {strategy: static, hosts: [n1]}\n",
               "bad.yaml:3:34: expected a node name like app@10.0.0.1, found 'n1'");
    load_fails("membership:\n  topologies:\n    - {strategy: kubernetes_dns}\n",
               "bad.yaml:3:7: expected 'query' for a kubernetes_dns topology");
    load_fails("membership:\n  topologies:\n    - {strategy: static}\n",
               "bad.yaml:3:7: expected 'hosts' (node names) for a static topology");
    load_fails("membership:\n  nodes: 3\n",
               "bad.yaml:2:3: unknown key 'nodes' in membership (expected one of: mode, secret, tick_timeout, "
               "setup_timeout, absent_rounds, whitelist, blacklist, topologies)");
    load_fails("tracker:\n  static_quorum: 100001\n",
               "bad.yaml:2:18: expected a whole number up to 100000, found '100001'");
}

static void test_hostile_files_are_refused_before_loading(void **state)
{
    (void)state;
    load_fails("membership: &a {mode: fixed}\ntracker: *a\n",
               "bad.yaml:2:10: expected no alias (*name): write the value out");
    load_fails("", "bad.yaml:1:1: expected a clusterd configuration (membership, tracker), found an empty document");
    struct cluster_config cfg;
    char err[512] = "";
    assert_int_equal(cluster_file_load("/nonexistent/clusterd.yaml", &cfg, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/clusterd.yaml: cannot open the configuration file");
    assert_int_equal(cluster_file_load("/dev/zero", &cfg, err, sizeof err), -1);
    assert_string_equal(err, "/dev/zero:1:1: expected a configuration file of at most 1 MiB");
}

/* Writes cfg to a string (cluster_file_write). */
static char *written(const struct cluster_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(cluster_file_write(f, cfg), 0);
    fclose(f);
    return text;
}

/* A scenario's cluster section (every strategy, lists, quotes and
 * backslashes in strings, durations below a millisecond), written and read
 * back: the same configuration, so the same file again. */
static void test_a_written_configuration_reads_back_the_same(void **state)
{
    (void)state;
    const char *yaml =
        "membership:\n  mode: libcluster\n  secret: 'a \"quoted\" \\\\ secret'\n  tick_timeout: 4500us\n"
        "  setup_timeout: 3s\n  absent_rounds: 5\n  whitelist: ['^app@10\\.0\\..*$']\n  blacklist: [remsh.*]\n"
        "  topologies:\n"
        "    - {name: s, strategy: static, hosts: [app@10.0.0.1, app@10.0.0.2], start_delay: 3s}\n"
        "    - {name: k, strategy: kubernetes_dns, query: app.default.svc, application_name: app,\n"
        "       polling_interval: 250ms}\n"
        "    - {name: g, strategy: gossip, multicast: 233.252.1.40, port: 45000, interval: {min: 1ms, max: 2s}}\n"
        "tracker:\n  mode: swarm\n  sync_nodes_timeout: 1s\n  start_delay: 195ms\n  start_jitter: 7us\n"
        "  retry_max: 3\n  static_quorum: 2\n  batch_window: 10ms\n";
    struct cluster_config cfg, back;
    load_ok(yaml, &cfg);
    char *first = written(&cfg);
    load_ok(first, &back);
    char *second = written(&back);
    assert_string_equal(first, second);
    assert_string_equal(back.mem.conn.secret, "a \"quoted\" \\\\ secret");
    assert_string_equal(back.mem.conn.whitelist[0], "^app@10\\.0\\..*$");
    assert_int_equal(back.mem.conn.tick_timeout, CS_USEC(4500));
    assert_int_equal(back.mem.topology_count, 3);
    assert_int_equal(back.mem.topologies[0].host_count, 2);
    assert_string_equal(back.mem.topologies[0].hosts[1], "app@10.0.0.2");
    assert_int_equal(back.mem.topologies[0].start_delay, CS_SEC(3));
    assert_string_equal(back.mem.topologies[1].query, "app.default.svc");
    assert_int_equal(back.mem.topologies[1].polling_interval, CS_MSEC(250));
    assert_int_equal(back.mem.topologies[2].gossip_port, 45000);
    assert_int_equal(back.mem.topologies[2].gossip_min, CS_MSEC(1));
    assert_int_equal(back.trk.mode, TRK_SWARM);
    assert_int_equal(back.trk.start_jitter, CS_USEC(7));
    assert_int_equal(back.trk.static_quorum, 2);
    free(first);
    free(second);
    cfg.tracker = false;
    char *off = written(&cfg);
    load_ok(off, &back);
    assert_false(back.tracker);
    free(off);
}

int test_cluster_file_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_shipped_example_loads),
        cmocka_unit_test(test_what_the_file_leaves_out_keeps_the_defaults),
        cmocka_unit_test(test_scenario_only_settings_are_refused),
        cmocka_unit_test(test_hostile_files_are_refused_before_loading),
        cmocka_unit_test(test_a_written_configuration_reads_back_the_same),
    };
    return cmocka_run_group_tests_name("cluster_file", tests, NULL, NULL);
}
