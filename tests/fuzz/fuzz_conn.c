/*
 * tests/fuzz/fuzz_conn.c: libFuzzer / AFL++ target for the connection
 * layer with many links at once (tests/fuzz/conn_driver.h): inbound
 * connections, HELLOs, proofs, raw frames, closes and dials in any order,
 * with two genuine members beside the attacker.  The first byte's low bit
 * picks Erlang's handshake order (libcluster mode); the rest is the
 * driver's operations.  A broken consistency rule, a disturbed member or a
 * sanitizer report is a finding.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conn_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct conn_driver_result r;
    conn_driver_run(data + 1, size - 1, data[0] & 1, &r);
    if (!r.ok) {
        fprintf(stderr, "fuzz_conn: step %zu: %s\n", r.steps, r.why);
        abort();
    }
    return 0;
}
