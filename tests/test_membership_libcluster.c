/*
 * tests/test_membership_libcluster.c: libcluster's weaknesses next to the
 * fixed mode (group "membership-libcluster"), on the harness of
 * membership_harness.h: a DNS outage, truncated answers, double polling,
 * serial connects behind a hanging one, and no LEAVE on graceful stop.
 */
#include "tests.h"
#include "membership_harness.h"

/* ---- 3. libcluster's weaknesses next to the fixed mode ---- */

/* A SERVFAIL outage: libcluster reads it as "no nodes" and disconnects
 * everyone; fixed mode keeps its view.  Both recover once DNS is back. */
static void test_dns_outage(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4, .zone = true};
        open_world(t, &o, 1);
        start_all(t);
        fx_run(t, CS_SEC(5));
        assert_true(full_mesh(t));
        assert_int_equal(st(t, 0)->lookups_failed, 0);
        sim_dns_outage(t->w, CS_DNS_SERVFAIL, CS_SEC(5));
        bool always_full = true, ever_empty = false;
        for (cs_time at = CS_SEC(5); at < CS_SEC(10); at += CS_MSEC(50)) {
            fx_run(t, at);
            always_full &= full_mesh(t);
            bool empty = true;
            for (uint32_t i = 0; i < 4; i++)
                empty &= view(t, i) == 0;
            ever_empty |= empty;
        }
        for (uint32_t i = 0; i < 4; i++) {
            /* Every round of the 5 s outage failed: 5 rounds, twice as many
             * with libcluster's two chains. */
            assert_int_equal(st(t, i)->lookups_failed, mode == 1 ? 10 : 5);
            if (mode == 1) {
                assert_int_equal(view(t, i), 0);
                assert_true(st(t, i)->disconnects >= 3);
            } else {
                assert_int_equal(st(t, i)->disconnects, 0);
            }
        }
        if (mode == 1) {
            assert_true(ever_empty);
            assert_false(always_full);
        } else {
            assert_true(always_full);
        }
        fx_run(t, CS_SEC(10) + ROUND_PERIOD + CS_MSEC(50));
        assert_true(full_mesh(t));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* Answers capped at 2 records for 6 pods: libcluster prunes whatever the
 * window left out and reconnects it later, forever; fixed mode never
 * prunes on a truncated answer and keeps a full mesh.  absent_rounds is 1
 * so that a single prune on a truncated answer would show. */
static void test_truncated_answers(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 6, .zone = true, .dns = "  max_answers: 2\n",
                         .membership = "    absent_rounds: 1\n"};
        open_world(t, &o, 1);
        start_all(t);
        size_t samples = 0, full = 0;
        for (cs_time at = CS_SEC(10); at <= CS_SEC(30); at += CS_MSEC(100)) {
            fx_run(t, at);
            samples++;
            full += full_mesh(t);
        }
        uint64_t disconnects = 0;
        for (uint32_t i = 0; i < 6; i++) {
            assert_true(st(t, i)->truncated_answers > 0);
            assert_int_equal(st(t, i)->lookups_failed, 0);
            disconnects += st(t, i)->disconnects;
            if (mode == 0)
                assert_int_equal(st(t, i)->disconnects, 0);
        }
        if (mode == 0) {
            assert_int_equal(full, samples);
        } else {
            assert_true(disconnects > 0);
            assert_true(full < samples / 2);
        }
        mt_teardown(state);
        mt_setup(state);
    }
}

/* Rounds per interval: libcluster's kubernetes_dns and kubernetes_dns_srv
 * run two polling chains, dns_poll one; fixed mode one each. */
static void test_polling_rounds_per_interval(void **state)
{
    static const char *const topologies[] = {
        K8S_TOPOLOGY,
        "{name: srv, strategy: kubernetes_dns_srv, query: srv.local, polling_interval: 1s}",
        "{name: poll, strategy: dns_poll, query: svc.local, polling_interval: 1s}",
    };
    /* SRV records whose targets are the pods' addresses (dialled as such). */
    const char *srv_zone = "    - {name: srv.local, type: SRV, target: 10.0.0.1, port: 4369}\n"
                           "    - {name: srv.local, type: SRV, target: 10.0.0.2, port: 4369}\n"
                           "    - {name: srv.local, type: SRV, target: 10.0.0.3, port: 4369}\n";
    const cs_time span = CS_MSEC(10500);
    /* One chain: rounds at k * (interval + 1 ms) for k = 0 .. 10. */
    const uint64_t one_chain = (uint64_t)(span / ROUND_PERIOD) + 1;
    assert_int_equal(one_chain, 11);
    for (int mode = 0; mode < 2; mode++)
        for (int s = 0; s < 3; s++) {
            struct fx *t = *state;
            struct yopt o = {.mode = modes[mode], .nodes = 3, .zone = true, .topology = topologies[s],
                             .zone_extra = srv_zone};
            open_world(t, &o, 1);
            start_all(t);
            fx_run(t, span);
            assert_true(full_mesh(t));
            bool two_chains = mode == 1 && s != 2;
            for (uint32_t i = 0; i < 3; i++) {
                uint64_t r = st(t, i)->rounds;
                if (two_chains)
                    assert_true(r >= 2 * one_chain - 1 && r <= 2 * one_chain);
                else
                    assert_int_equal(r, one_chain);
            }
            mt_teardown(state);
            mt_setup(state);
        }
}

/* ---- 4. serial connects ---- */

/* n1 discovers n2 first, but n2 is partitioned away: its connect hangs
 * until the 2 s set-up timeout.  libcluster connects serially, so the
 * healthy n3 and n4 (passive: only n1 can link them) wait behind it;
 * fixed mode links them at once. */
static void test_serial_connect_waits_for_hanging_one(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 4,
                         .zone_extra = "    - {name: svc.local, address: 10.0.0.2}\n"
                                       "    - {name: svc.local, address: 10.0.0.3}\n"
                                       "    - {name: svc.local, address: 10.0.0.4}\n"
                                       "    - {name: svc.local, address: 10.0.0.1}\n"};
        open_world(t, &o, 1);
        for (uint32_t i = 1; i < 4; i++)
            make_passive(t, i);
        uint32_t a = 1, rest[] = {0, 2, 3};
        sim_net_partition(t->w, &a, 1, rest, 3, false);
        start_all(t);
        cs_time up3 = run_until_sees(t, 0, 2, true, CS_SEC(5));
        cs_time up4 = run_until_sees(t, 0, 3, true, CS_SEC(5));
        assert_true(up3 > 0 && up4 > 0);
        const struct conn_stats *cst = conn_stats(membership_conn(mem(t, 0)));
        char fail2[256], conn3[256], conn4[256];
        logline(fail2, sizeof fail2, "k8s", "unable to connect to", "app@10.0.0.2");
        logline(conn3, sizeof conn3, "k8s", "connected to", "app@10.0.0.3");
        logline(conn4, sizeof conn4, "k8s", "connected to", "app@10.0.0.4");
        if (mode == 1) {
            /* After the hanging connect gave up, in discovery order. */
            assert_true(up3 >= SETUP_TIMEOUT && up3 <= SETUP_TIMEOUT + CS_MSEC(20));
            assert_true(up4 > up3 && up4 <= SETUP_TIMEOUT + CS_MSEC(40));
            assert_true(log_index(0, fail2) >= 0);
            assert_true(log_index(0, fail2) < log_index(0, conn3));
            assert_true(log_index(0, conn3) < log_index(0, conn4));
        } else {
            assert_true(up3 <= CS_MSEC(20) && up4 <= CS_MSEC(20));
            assert_int_equal(cst->setup_timeouts, 0);
            fx_run(t, SETUP_TIMEOUT + CS_MSEC(20));
            assert_true(log_index(0, conn3) < log_index(0, fail2));
            assert_true(log_index(0, conn4) < log_index(0, fail2));
        }
        assert_true(cst->setup_timeouts >= 1);
        assert_false(sees(t, 0, 1));
        mt_teardown(state);
        mt_setup(state);
    }
}

/* ---- 5. graceful stop ---- */

/* A graceful stop is a BEAM node's init:stop(): the membership polls and
 * dials no more and the VM exits at once, so the peers drop the node in
 * both modes.  Fixed mode announces LEAVE first; libcluster mode announces
 * nothing: its peers learn when the connections close.  Neither comes
 * back (a libcluster node no longer lingers, polling and reconnecting,
 * until its grace period runs out). */
static void test_graceful_stop(void **state)
{
    const cs_time grace = CS_SEC(5), stop_at = CS_SEC(1);
    for (int mode = 0; mode < 2; mode++) {
        struct fx *t = *state;
        struct yopt o = {.mode = modes[mode], .nodes = 3,
                         .topology = "{name: epmd, strategy: static}"};
        open_world(t, &o, 1);
        start_all(t);
        fx_run(t, stop_at);
        assert_true(full_mesh(t));
        sim_node_stop(t->w, 2, grace);
        fx_run(t, stop_at + CS_MSEC(5));
        assert_int_equal(t->w->nodes[2].state, SIM_NODE_DOWN);
        for (uint32_t i = 0; i < 2; i++) {
            assert_false(sees(t, i, 2));
            assert_int_equal(view(t, i), 1);
            assert_int_equal(conn_stats(membership_conn(mem(t, i)))->leaves_received, mode == 0 ? 1 : 0);
        }
        fx_run(t, stop_at + 2 * grace);
        for (uint32_t i = 0; i < 2; i++)
            assert_false(sees(t, i, 2));
        mt_teardown(state);
        mt_setup(state);
    }
}

int test_membership_libcluster_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dns_outage, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_answers, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_polling_rounds_per_interval, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_serial_connect_waits_for_hanging_one, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop, mt_setup, mt_teardown),
    };
    return cmocka_run_group_tests_name("membership-libcluster", tests, NULL, NULL);
}
