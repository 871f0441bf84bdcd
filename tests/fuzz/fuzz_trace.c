/*
 * tests/fuzz/fuzz_trace.c: libFuzzer / AFL++ target for the trace
 * consumers: any bytes, taken as a trace file, go through the report model
 * (reports/report_model.h), the Perfetto export (reports/perfetto.h) and
 * the sequence chart (reports/sequence.h).  Each either succeeds or refuses
 * with a message; never a crash, a leak or undefined behaviour.  Seed
 * corpus: traces of shipped scenarios (scripts/fuzz.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "../../reports/perfetto.h"
#include "../../reports/report_model.h"
#include "../../reports/sequence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void paths(char *in, char *out, size_t size)
{
    snprintf(in, size, "/tmp/fuzz-trace-%ld.jsonl", (long)getpid());
    snprintf(out, size, "/tmp/fuzz-trace-%ld.perfetto.json", (long)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[64], out[64], err[1024];
    paths(in, out, sizeof in);
    FILE *f = fopen(in, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct rep_model m;
    err[0] = '\0';
    if (rep_model_load(in, &m, err, sizeof err) == 0)
        rep_model_free(&m);
    else if (!err[0])
        __builtin_trap(); /* a refusal must say why */
    err[0] = '\0';
    if (perfetto_export_capped(in, out, 1000, err, sizeof err) != 0 && !err[0])
        __builtin_trap();
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        struct sequence_options opt = {.node = NULL, .from = 0, .to = INT64_MAX, .limit = 500};
        err[0] = '\0';
        if (sequence_print(in, sink, &opt, err, sizeof err) == -1 && !err[0])
            __builtin_trap();
        fclose(sink);
    }
    unlink(out);
    unlink(in);
    return 0;
}
