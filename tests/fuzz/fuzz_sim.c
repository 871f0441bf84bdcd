/*
 * tests/fuzz/fuzz_sim.c: the coverage-guided fuzz target of the simulator.
 * The input bytes, instead of PCG, drive every choice: the generator draws
 * the scenario (nodes, fault kinds, fault times, registry traffic) from the
 * first bytes, and the rest become the run's recorded entropy (`entropy:`),
 * from which the simulator draws every latency, loss, DNS rotation and the
 * nodes' random numbers.  The fixed tracker must hold every expectation; a
 * run that breaks one is written as a self-contained scenario YAML (with its
 * entropy, so `clustersim run FILE` replays it exactly) under
 * $FUZZ_SIM_OUT (default build/fuzz-sim), and the target aborts so the
 * fuzzer keeps the input.  FUZZ_SIM_DUMP=FILE writes each input's scenario
 * there before running it (to turn a saved timeout into a scenario).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../config/scenario/loader.h"
#include "../../sim/fuzzgen.h"
#include "../../drivers/runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The generated YAML with the unread bytes appended as `entropy:`. */
static char *scenario_text(const uint8_t *data, size_t size, size_t *len)
{
    struct fuzz_request req = {.profile = fuzz_profile_find("default"), .mode = FZ_MODE_FIXED,
                               .min_nodes = 3, .max_nodes = 6, .seed = 1};
    struct fuzz_entropy e;
    fuzz_entropy_bytes(&e, data, size);
    size_t yaml_len;
    char *yaml = fuzz_generate(&req, &e, &yaml_len, NULL);
    if (!yaml)
        return NULL;
    size_t rest = e.pos < size ? size - e.pos : 0;
    char *text = malloc(yaml_len + 2 * rest + 32);
    if (!text) {
        free(yaml);
        return NULL;
    }
    memcpy(text, yaml, yaml_len);
    size_t at = yaml_len + (size_t)sprintf(text + yaml_len, "entropy: \"");
    for (size_t i = 0; i < rest; i++)
        at += (size_t)sprintf(text + at, "%02x", data[e.pos + i]);
    at += (size_t)sprintf(text + at, "\"\n");
    free(yaml);
    *len = at;
    return text;
}

static void keep_failure(const char *text, size_t len, const struct run_result *res)
{
    const char *dir = getenv("FUZZ_SIM_OUT") ? getenv("FUZZ_SIM_OUT") : "build/fuzz-sim";
    char path[600];
    snprintf(path, sizeof path, "%s/fail-%016llx.yaml", dir, (unsigned long long)XXH3_64bits(text, len));
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
    for (size_t i = 0; i < res->expect_count; i++)
        if (!res->expects[i].ok && res->expects[i].per_seed)
            fprintf(stderr, "fuzz_sim: %s failed: %s (scenario written to %s)\n",
                    sc_expect_name(res->expects[i].kind), res->expects[i].detail, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    char *text = scenario_text(data, size, &len);
    if (!text)
        return 0;
    const char *dump = getenv("FUZZ_SIM_DUMP"); /* write the scenario (to replay a timeout) */
    FILE *f = dump ? fopen(dump, "w") : NULL;
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
    struct scenario sc;
    char err[1024];
    if (scenario_load_string(text, len, "fuzz-sim.yaml", &sc, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_sim: the generator wrote a scenario that does not load: %s\n", err);
        abort();
    }
    struct run_options opt = {.seed = 1};
    struct run_result res;
    if (sim_run_scenario(&sc, &opt, &res) == 0) {
        if (!res.pass) {
            keep_failure(text, len, &res);
            abort();
        }
        run_result_free(&res);
    }
    scenario_free(&sc);
    free(text);
    return 0;
}
