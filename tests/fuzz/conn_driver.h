/*
 * tests/fuzz/conn_driver.h: drives one node's connection layer with many
 * links at once from a byte string, as an attacker and as genuine peers
 * would: inbound connections from a few source addresses, HELLOs claiming
 * members' (and other) names, REPLYs with zero, replayed or valid proofs,
 * raw frames, closes in any order, our own dials answered or refused, and
 * time passing.  Two genuine members run beside the attacker: m1 is up
 * from the start (its link must never go down), m2 dials in the middle of
 * the input and must come up (its handshake must not be disturbed).
 * After every step the layer's own consistency check (conn_check) must
 * hold.  Used by the libFuzzer target fuzz_conn and by the unit tests
 * (tests/test_conn_hostile.c), which replay a seed corpus through it.
 */
#ifndef TESTS_FUZZ_CONN_DRIVER_H
#define TESTS_FUZZ_CONN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Operations, one byte each (taken modulo CD_OP_COUNT), then arguments. */
enum cd_op {
    CD_OPEN = 0,   /* slot, source: a new inbound transport link */
    CD_CLOSE,      /* slot: the transport goes down */
    CD_HELLO,      /* slot, name, creation: a HELLO claiming a name */
    CD_REPLY,      /* slot, kind: 0 zero proof, 1 valid proof, 2 replayed proof */
    CD_RAW,        /* slot, len, bytes: any frame */
    CD_DIAL,       /* name: the node dials that name */
    CD_DIAL_UP,    /* slot: the node's dial on that slot connects */
    CD_CHALLENGE,  /* slot, kind: answers the node's HELLO (0 bad proof, 1 valid) */
    CD_ACK,        /* slot: ACK on a dial */
    CD_TIME,       /* tenths of a second to let pass (timers fire) */
    CD_OP_COUNT
};

#define CD_SLOTS 16

struct conn_driver_result {
    bool ok;               /* every rule held */
    char why[256];         /* the first rule broken */
    size_t steps;          /* operations run */
    bool m2_up;            /* the genuine newcomer came up */
    uint64_t auth_failed, pending_evicted, source_refused, oversized_frames;
};

/* Runs the bytes against a fresh node (cluster secret known to the driver
 * and the genuine members only).  `hello_decides` selects Erlang's order
 * (libcluster mode), where m2's handshake may be disturbed by design: then
 * only consistency and m1's link are required. */
void conn_driver_run(const uint8_t *data, size_t size, bool hello_decides, struct conn_driver_result *out);

/* Writes the issue-19 loop (HELLO as a member, a REPLY of 16 zero bytes,
 * two other connections opened and closed, HELLO as the same member again)
 * repeated `loops` times, into buf; returns its length (0 if cap is too small). */
size_t conn_driver_issue19_loop(uint8_t *buf, size_t cap, unsigned loops);

#endif
