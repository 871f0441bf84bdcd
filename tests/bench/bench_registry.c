/*
 * tests/bench/bench_registry.c: the in-process benchmark of the registry's
 * C API on one node: registers N counters (default 1,000,000) through the
 * tracker's command path, then times whereis lookups through trk_lookup
 * (the C API's read path), and reports the process's peak memory.  Last,
 * the floor under the simulated registry benchmark: N names inserted into
 * ten bare registry tables, interleaved as replication would (no tracker,
 * no messages, no simulator).  A measurement, not a test: it prints
 * figures and exits 0 (1 if a lookup missed).
 *   build/plain/bench-registry [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../core/registry.h"
#include "../../core/tracker.h"
#include "../fuzz/null_env.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int host_send(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    (void)ctx, (void)peer, (void)slot, (void)data, (void)len;
    return 0;
}

static void handle(void *t, const struct cs_event *ev)
{
    trk_handle(t, ev);
}

/* Times `lookups` trk_lookup calls cycling over `set` names drawn from the
 * n registered ones by a multiplicative walk; prints the rate and returns
 * how many were found. */
static size_t time_lookups(struct tracker *t, size_t n, size_t set, size_t lookups, const char *what)
{
    char (*names)[24] = malloc(set * sizeof *names);
    if (!names)
        return 0;
    for (size_t i = 0; i < set; i++)
        snprintf(names[i], sizeof names[i], "proc-%zu", (size_t)((i * 2654435761u) % n));
    size_t found = 0;
    double t0 = now_s();
    for (size_t i = 0; i < lookups; i++) {
        uint64_t handle;
        found += trk_lookup(t, names[i % set], NULL, &handle);
    }
    double t1 = now_s();
    printf("whereis through the C API (trk_lookup), %s: %.1f M lookups/s (%zu lookups, %zu found, %.2f s)\n",
           what, (double)lookups / (t1 - t0) / 1e6, lookups, found, t1 - t0);
    /* The same lookups through trk_lookup_many, 64 names a call. */
    const char *batch[64];
    uint64_t handles[64];
    size_t found_many = 0;
    double t2 = now_s();
    for (size_t i = 0; i < lookups; i += 64) {
        size_t k = lookups - i < 64 ? lookups - i : 64;
        for (size_t j = 0; j < k; j++)
            batch[j] = names[(i + j) % set];
        found_many += trk_lookup_many(t, batch, k, NULL, handles);
    }
    double t3 = now_s();
    printf("whereis through the C API (trk_lookup_many, 64 a call), %s: %.1f M lookups/s (%zu lookups, %zu found, "
           "%.2f s)\n", what, (double)lookups / (t3 - t2) / 1e6, lookups, found_many, t3 - t2);
    free(names);
    return found == found_many ? found : 0;
}

/* Inserts n names into REPLICAS bare tables, each name into every table
 * in turn (the order replication produces), and prints the rate. */
#define REPLICAS 10
static void time_bare_tables(size_t n)
{
    struct registry *r = malloc(REPLICAS * sizeof *r);
    if (!r)
        return;
    for (int i = 0; i < REPLICAS; i++)
        registry_init(&r[i]);
    char name[32];
    double t0 = now_s();
    for (size_t k = 0; k < n; k++) {
        snprintf(name, sizeof name, "n%zu-%zu", k % REPLICAS + 1, k / REPLICAS);
        for (int i = 0; i < REPLICAS; i++) {
            bool created;
            struct reg_entry *e = registry_put(&r[i], name, &created);
            if (e)
                e->handle = 1;
        }
    }
    double t1 = now_s();
    printf("registry tables alone, %d copies of %zu names: %.0f registrations/s replicated %d ways "
           "(%.2f s, %.0f ns an insert)\n",
           REPLICAS, n, (double)n / (t1 - t0), REPLICAS, t1 - t0, (t1 - t0) / ((double)n * REPLICAS) * 1e9);
    for (int i = 0; i < REPLICAS; i++)
        registry_free(&r[i]);
    free(r);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    struct null_env env;
    null_env_init(&env, "10.0.0.1");
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    struct trk_host host = {.send = host_send};
    struct tracker *t = trk_new(&env.env, &cfg, "app@10.0.0.1", 1, &host);
    trk_start(t);
    null_env_fire(&env, CS_SEC(10), handle, t); /* alone: cluster_wait, then tracking */
    char name[32];
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "proc-%zu", i);
        struct cs_command cmd = {.op = "register", .name = name, .value = 0};
        trk_command(t, &cmd);
    }
    double t1 = now_s();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("registry, one node, %zu counters: %.0f registrations/s through the command path (%.2f s)\n", n,
           (double)n / (t1 - t0), t1 - t0);
    /* Lookups in a scrambled order (a multiplicative walk), names prepared
     * up front so the loop times the lookup alone: first a 64 K-name hot
     * set, then every name once. */
    size_t lookups = n < 10000000 ? 10000000 : n;
    size_t found = time_lookups(t, n, 65536, lookups, "a scrambled 64 K-name working set");
    found += time_lookups(t, n, n, n, "every name once, scrambled");
    lookups += n;
    printf("peak memory with %zu names: %.1f MiB (maxrss of this process)\n", n, (double)ru.ru_maxrss / 1024.0);
    trk_free(t);
    time_bare_tables(n);
    return found == lookups ? 0 : 1;
}
