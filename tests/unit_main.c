/*
 * tests/unit_main.c: runs every cmocka group of the unit test binary; the
 * exit status is the total number of failed tests.
 */
#include "tests.h"

#include <stdio.h>

int main(void)
{
    /* cmocka writes progress to stderr and summaries to stdout: keep them in
     * order when both go to one pipe, so the closing lines come last. */
    setvbuf(stdout, NULL, _IONBF, 0);
    int failed = 0;
    failed += test_pcg_run();
    failed += test_evq_run();
    failed += test_itc_run();
    failed += test_ring_run();
    failed += test_strmap_run();
    failed += test_refmap_run();
    failed += test_auth_run();
    failed += test_registry_run();
    failed += test_core_run();
    failed += test_loader_run();
    failed += test_cluster_file_run();
    failed += test_dns_front_run();
    failed += test_net_run();
    failed += test_dns_run();
    failed += test_world_run();
    failed += test_trace_run();
    failed += test_conn_run();
    failed += test_conn_hostile_run();
    failed += test_membership_discovery_run();
    failed += test_membership_libcluster_run();
    failed += test_membership_gossip_run();
    failed += test_membership_answer_run();
    failed += test_tracker_swarm_run();
    failed += test_tracker_swarm_events_run();
    failed += test_tracker_fixed_run();
    failed += test_tracker_pull_run();
    failed += test_tracker_epoch_run();
    failed += test_tracker_digest_run();
    failed += test_tracker_batch_run();
    failed += test_tracker_input_run();
    failed += test_fuzz_run();
    failed += test_perfetto_run();
    failed += test_report_run();
    failed += test_scenarios_run();
    return failed;
}
