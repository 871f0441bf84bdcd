/*
 * tests/fuzz/fuzz_loader.c: libFuzzer / AFL++ target for the scenario
 * loader: any bytes either load or are refused with a message; never a
 * crash, a leak or undefined behaviour.  Seed corpus: scenarios/ and
 * scenarios/invalid/.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../config/scenario/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario sc;
    char err[1024];
    if (scenario_load_string((const char *)data, size, "fuzz.yaml", &sc, err, sizeof err) == 0)
        scenario_free(&sc);
    else if (!err[0])
        __builtin_trap(); /* a refusal must say why */
    return 0;
}
