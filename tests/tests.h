/*
 * tests/tests.h: the unit test binary's groups.  Each tests/test_*.c file
 * defines one `int test_<area>_run(void)` that runs its cmocka group and
 * returns the number of failures; unit_main.c calls them all.
 */
#ifndef TESTS_H
#define TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int test_pcg_run(void);
int test_evq_run(void);
int test_itc_run(void);
int test_ring_run(void);
int test_strmap_run(void);
int test_refmap_run(void);
/* Key i of the map tests (test_strmap.c): a shared prefix cut to a length
 * that cycles through 0..40, then the index, so keys of equal length
 * differ only near their end. */
void map_test_key(int i, char *buf, size_t size);
int test_auth_run(void);
int test_registry_run(void);
int test_core_run(void);
int test_loader_run(void);
int test_cluster_file_run(void);
int test_dns_front_run(void);
int test_net_run(void);
int test_dns_run(void);
int test_world_run(void);
int test_trace_run(void);
int test_scenarios_run(void);
int test_conn_run(void);
int test_conn_hostile_run(void);
int test_membership_discovery_run(void);
int test_membership_libcluster_run(void);
int test_membership_gossip_run(void);
int test_membership_answer_run(void);
int test_tracker_swarm_run(void);
int test_tracker_swarm_events_run(void);
int test_tracker_fixed_run(void);
int test_tracker_pull_run(void);
int test_tracker_epoch_run(void);
int test_tracker_digest_run(void);
int test_tracker_batch_run(void);
int test_tracker_input_run(void);
int test_fuzz_run(void);
int test_perfetto_run(void);
int test_report_run(void);

/* Loads a scenario from YAML text or fails the test with the loader's
 * message (tests/helpers.c). */
struct scenario;
void test_load(const char *yaml, struct scenario *out);

#endif
