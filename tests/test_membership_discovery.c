/*
 * tests/test_membership_discovery.c: how the membership layer discovers and
 * links nodes, in both modes (group "membership-discovery"), on the harness
 * of membership_harness.h: the reconciliation rule (every discovered node
 * not connected is connected, failed connects are retried next round,
 * vanished nodes leave at the next round in libcluster mode and after
 * absent_rounds complete answers in fixed mode), and the DNS answer parsing
 * of each strategy (kubernetes_dns, kubernetes_dns_srv, dns_poll) and the
 * static list.
 */
#include "tests.h"
#include "membership_harness.h"

#include <string.h>

/* ---- 1. the reconciliation rule ---- */

/* A node in DNS that is not running yet: every round retries it (one
 * refused connect per round), and it is connected at the first round after
 * it starts.  It is passive, so only the others' retries can link it. */
static void test_failed_connect_retried_each_round(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 1);
        make_passive(t, 3);
        for (uint32_t i = 0; i < 3; i++)
            start(t, i);
        cs_time t_start = CS_MSEC(3500);
        fx_run(t, t_start);
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(view(t, i), 2);
            /* Each round tried n4 once and failed once (refused: nothing
             * listens there). */
            assert_true(discovered(t, i, "app@10.0.0.4"));
            assert_int_equal(st(t, i)->connect_failures, st(t, i)->rounds);
        }
        uint64_t r0 = st(t, 0)->rounds;
        if (mode == 0)
            assert_int_equal(r0, 4); /* at 0, 1.001, 2.002, 3.003 s */
        else
            assert_true(r0 >= 7 && r0 <= 8); /* two chains */
        char line[256];
        logline(line, sizeof line, "k8s", "unable to connect to", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        /* No failure is reported for the running nodes, although they dial
         * each other at once in the first round. */
        size_t failures = 0;
        for (size_t k = 0; k < caps.count; k++)
            if (strstr(caps.v[k].text, "unable to connect to")) {
                assert_string_equal(caps.v[k].text, line);
                failures++;
            }
        assert_int_equal(failures, st(t, 0)->rounds + st(t, 1)->rounds + st(t, 2)->rounds);

        start(t, 3);
        cs_time up = run_until_sees(t, 0, 3, true, t_start + CS_SEC(3));
        assert_true(up > t_start);
        assert_true(up <= t_start + ROUND_PERIOD + CS_MSEC(20));
        /* ... and at the first round after the start. */
        assert_true(st(t, 0)->rounds - r0 >= 1 && st(t, 0)->rounds - r0 <= (mode == 0 ? 1u : 2u));
        logline(line, sizeof line, "k8s", "connected to", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        fx_run(t, t_start + ROUND_PERIOD + CS_MSEC(50));
        assert_int_equal(view(t, 3), 3);
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* libcluster issue #148: every discovered node not connected is connected,
 * not only the newly discovered ones.  A known node whose link dropped (it
 * crashed and came back at once on the same address) is linked again at
 * the next round although the answer did not change. */
static void test_known_node_reconnected_after_link_loss(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 2);
        make_passive(t, 3);
        start_all(t);
        fx_run(t, CS_MSEC(2500));
        assert_true(full_mesh(t));
        sim_node_kill(t->w, 3);
        start(t, 3);
        fx_run(t, CS_MSEC(2510)); /* crash_detect 1 ms: the old links are gone */
        assert_int_equal(view(t, 3), 0);
        for (uint32_t i = 0; i < 3; i++) {
            assert_false(sees(t, i, 3));
            assert_true(discovered(t, i, "app@10.0.0.4"));
        }
        fx_run(t, CS_MSEC(2500) + ROUND_PERIOD + CS_MSEC(20));
        assert_int_equal(view(t, 3), 3);
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* A node withdrawn from a complete answer: libcluster drops it at the next
 * round; fixed mode after `absent_rounds` (here 3) consecutive complete
 * answers without it, and not at all when it comes back before. */
static void test_vanished_node_leaves_per_mode(void **state)
{
    struct cs_dns_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = CS_DNS_A;
    rec.addr = fx_addr("10.0.0.4");
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true,
                         .membership = "    absent_rounds: 3\n"};
        open_world(t, &o, 3);
        make_passive(t, 3);
        start_all(t);
        cs_time removed = CS_MSEC(5500);
        fx_run(t, removed);
        assert_true(full_mesh(t));
        sim_dns_remove(t->w, "svc.local", &rec);
        uint64_t r0 = st(t, 0)->rounds;
        cs_time down = run_until_sees(t, 0, 3, false, removed + CS_SEC(10));
        assert_true(down > removed);
        if (mode == 1) {
            assert_true(down <= removed + ROUND_PERIOD + CS_MSEC(10));
        } else {
            assert_int_equal(st(t, 0)->rounds - r0, 3);
            assert_true(down > removed + 2 * ROUND_PERIOD);
            assert_true(down <= removed + 3 * ROUND_PERIOD + CS_MSEC(10));
        }
        assert_int_equal(st(t, 0)->disconnects, 1);
        assert_false(discovered(t, 0, "app@10.0.0.4"));
        char line[256];
        logline(line, sizeof line, "k8s", "disconnected from", "app@10.0.0.4");
        assert_true(log_index(0, line) >= 0);
        fx_run(t, removed + 4 * ROUND_PERIOD);
        assert_int_equal(view(t, 3), 0);
        mt_teardown(state);
        mt_setup(state);
    }

    /* Fixed mode: two absences, then the record is back: nobody leaves. */
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 4, .zone = true, .membership = "    absent_rounds: 3\n"};
    open_world(t, &o, 3);
    make_passive(t, 3);
    start_all(t);
    fx_run(t, CS_MSEC(5500));
    sim_dns_remove(t->w, "svc.local", &rec);
    fx_run(t, CS_MSEC(5500) + 2 * ROUND_PERIOD); /* two complete answers without n4 */
    sim_dns_add(t->w, "svc.local", &rec);
    for (cs_time at = t->w->now; at <= CS_SEC(15); at += CS_MSEC(100)) {
        fx_run(t, at);
        assert_true(full_mesh(t));
    }
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(st(t, i)->disconnects, 0);
    /* The absence count restarted: a second removal takes three rounds again. */
    sim_dns_remove(t->w, "svc.local", &rec);
    cs_time removed = t->w->now;
    cs_time down = run_until_sees(t, 0, 3, false, removed + CS_SEC(10));
    assert_true(down > removed + 2 * ROUND_PERIOD);
}

/* ---- 2. DNS answer parsing per strategy ---- */

/* kubernetes_dns: A records -> <application_name>@<ip>. */
static void test_k8s_dns_names_app_at_ip(void **state)
{
    struct fx *t = *state;
    /* application_name differs from the nodes' basename: the names are
     * built from it, and the peers refuse them (wrong dialled name). */
    struct yopt o = {.mode = "fixed", .nodes = 3, .zone = true,
                     .topology = "{name: k8s, strategy: kubernetes_dns, query: svc.local, "
                                 "polling_interval: 1s, application_name: web}"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3));
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(discovered_count(t, i), 3);
        assert_true(discovered(t, i, "web@10.0.0.1"));
        assert_true(discovered(t, i, "web@10.0.0.2"));
        assert_true(discovered(t, i, "web@10.0.0.3"));
        assert_false(discovered(t, i, "app@10.0.0.2"));
        assert_int_equal(view(t, i), 0);
        assert_true(conn_stats(membership_conn(mem(t, i)))->wrong_name > 0);
    }
    mt_teardown(state);
    mt_setup(state);

    /* The same with the nodes named web@<ip>: a full mesh of those names. */
    t = *state;
    o.cluster = "  basename: web\n";
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(3));
    assert_true(full_mesh(t));
    assert_string_equal(name(t, 1), "web@10.0.0.2");
    assert_true(conn_is_up(membership_conn(mem(t, 0)), "web@10.0.0.2"));
    assert_true(conn_is_up(membership_conn(mem(t, 0)), "web@10.0.0.3"));
    assert_int_equal(st(t, 0)->connect_failures, 0);
}

/* kubernetes_dns_srv on a StatefulSet: pods are app@<id>.<service>; the
 * service has an SRV record per pod; names are app@<target> with a
 * trailing dot stripped, and the conn layer resolves the target. */
static void test_k8s_dns_srv_names_app_at_target(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {
            .mode = modes[mode], .nodes = 3,
            .cluster = "  naming: hostname\n",
            .topology = "{name: srv, strategy: kubernetes_dns_srv, polling_interval: 1s}",
            .dns = "  service: {name: svc.local, srv: true, port: 4369}\n",
            /* A target with a trailing dot for a real pod (the same node as
             * the service's own record once stripped) and one for no pod. */
            .zone_extra = "    - {name: svc.local, type: SRV, target: n3.svc.local., port: 4369}\n"
                          "    - {name: svc.local, type: SRV, target: ghost.svc.local., port: 4369}\n",
        };
        open_world(t, &o, 1);
        start_all(t);
        assert_string_equal(name(t, 0), "app@n1.svc.local");
        fx_run(t, CS_SEC(4));
        assert_true(full_mesh(t));
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(discovered_count(t, i), 4);
            assert_true(discovered(t, i, "app@n1.svc.local"));
            assert_true(discovered(t, i, "app@n2.svc.local"));
            assert_true(discovered(t, i, "app@n3.svc.local"));
            assert_true(discovered(t, i, "app@ghost.svc.local"));
            assert_false(discovered(t, i, "app@n3.svc.local."));
            /* ghost.svc.local has no A record: every round fails to resolve it. */
            assert_true(st(t, i)->connect_failures > 0);
        }
        assert_true(conn_is_up(membership_conn(mem(t, 0)), "app@n2.svc.local"));
        assert_true(conn_is_up(membership_conn(mem(t, 0)), "app@n3.svc.local"));
        assert_false(conn_is_up(membership_conn(mem(t, 0)), "app@ghost.svc.local"));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* dns_poll: both the A and the AAAA records of the query. */
static void test_dns_poll_collects_a_and_aaaa(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {
            .mode = modes[mode],
            .nodes_yaml = "[n1, n2, {id: n3, address: 'fd00::3'}]",
            .topology = "{name: poll, strategy: dns_poll, query: poll.local, polling_interval: 1s}",
            .zone_extra = "    - {name: poll.local, address: 10.0.0.1}\n"
                          "    - {name: poll.local, address: 10.0.0.2}\n"
                          "    - {name: poll.local, type: AAAA, address: 'fd00::3'}\n",
        };
        open_world(t, &o, 1);
        start_all(t);
        assert_string_equal(name(t, 2), "app@fd00::3");
        fx_run(t, CS_MSEC(2500));
        assert_true(full_mesh(t));
        uint64_t rounds = 0;
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(discovered_count(t, i), 3);
            assert_true(discovered(t, i, "app@10.0.0.1"));
            assert_true(discovered(t, i, "app@10.0.0.2"));
            assert_true(discovered(t, i, "app@fd00::3"));
            assert_int_equal(st(t, i)->rounds, 3); /* one chain in both modes */
            rounds += st(t, i)->rounds;
        }
        assert_true(conn_is_up(membership_conn(mem(t, 0)), "app@fd00::3"));
        /* One A and one AAAA query per round, nothing else. */
        assert_int_equal(t->w->stats.dns_queries, 2 * rounds);
        mt_teardown(state);
        mt_setup(state);
    }
}

/* static: the listed hosts, and only them; retried only with an interval. */
static void test_static_connects_listed_hosts(void **state)
{
    struct fx *t = *state;
    struct yopt o = {.mode = "fixed", .nodes = 4,
                     .topology = "{name: epmd, strategy: static, hosts: [n1, n2]}"};
    open_world(t, &o, 1);
    start_all(t);
    fx_run(t, CS_SEC(2));
    /* n1-n2, and n3 and n4 each to n1 and n2; n3 and n4 never meet. */
    assert_int_equal(view(t, 0), 3);
    assert_int_equal(view(t, 1), 3);
    assert_int_equal(view(t, 2), 2);
    assert_int_equal(view(t, 3), 2);
    assert_true(sees(t, 2, 0) && sees(t, 2, 1) && !sees(t, 2, 3));
    assert_true(sees(t, 3, 0) && sees(t, 3, 1) && !sees(t, 3, 2));
    assert_int_equal(st(t, 2)->rounds, 1); /* no interval: one round */
    mt_teardown(state);
    mt_setup(state);

    /* n2 starts late.  It dials only n1 itself, so n3 links to it only by
     * retrying: with polling_interval at its next round, without never. */
    for (int retry = 0; retry < 2; retry++) {
        t = *state;
        o.nodes = 3;
        o.topology = retry ? "{name: epmd, strategy: static, hosts: [n1, n2], polling_interval: 1s}"
                           : "{name: epmd, strategy: static, hosts: [n1, n2]}";
        open_world(t, &o, 1);
        start(t, 0);
        start(t, 2);
        fx_run(t, CS_MSEC(2500));
        assert_int_equal(st(t, 2)->connect_failures, retry ? 3 : 1);
        start(t, 1);
        cs_time up = run_until_sees(t, 2, 1, true, CS_SEC(10));
        if (retry) {
            assert_true(up > CS_MSEC(2500) && up <= CS_MSEC(3000) + CS_MSEC(20));
        } else {
            assert_int_equal(up, -1);
            assert_int_equal(st(t, 2)->connect_failures, 1);
        }
        assert_true(sees(t, 1, 0));
        mt_teardown(state);
        mt_setup(state);
    }
}

int test_membership_discovery_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_connect_retried_each_round, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_known_node_reconnected_after_link_loss, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_vanished_node_leaves_per_mode, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_k8s_dns_names_app_at_ip, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_k8s_dns_srv_names_app_at_target, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_dns_poll_collects_a_and_aaaa, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_static_connects_listed_hosts, mt_setup, mt_teardown),
    };
    return cmocka_run_group_tests_name("membership-discovery", tests, NULL, NULL);
}
