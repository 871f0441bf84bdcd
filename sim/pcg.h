/*
 * sim/pcg.h: the simulator's only source of randomness, O'Neill's PCG32
 * (PCG-XSH-RR, 64-bit state, 64-bit stream selector), plus stream splitting:
 * each purpose (network, DNS, faults, each node) draws from its own stream
 * derived from the run seed, so adding a draw in one place never shifts the
 * draws of another.
 */
#ifndef SIM_PCG_H
#define SIM_PCG_H

#include <stddef.h>
#include <stdint.h>

/* Recorded entropy: draws taken from bytes (a coverage-guided fuzzer's
 * input, or a scenario's `entropy:`) instead of the generator; once the
 * bytes are used up each stream goes on with its own PCG sequence (never a
 * constant, which would spin rejection loops forever).  Every stream of a
 * run shares one cursor. */
struct pcg_bytes {
    const uint8_t *data;
    size_t len, pos;
};

struct pcg32 {
    uint64_t state;
    uint64_t inc; /* always odd */
    struct pcg_bytes *bytes; /* when set, draws come from here instead */
};

/* Seeds exactly as the reference pcg32_srandom_r(initstate, initseq). */
void pcg32_seed(struct pcg32 *rng, uint64_t initstate, uint64_t initseq);

/* The next 32 random bits (the reference pcg32_random_r). */
uint32_t pcg32_next(struct pcg32 *rng);

/* The next 64 random bits: two 32-bit draws, high word first. */
uint64_t pcg32_next64(struct pcg32 *rng);

/* A uniform integer in [0, bound), without modulo bias, consuming draws
 * exactly as the reference pcg32_boundedrand_r. */
uint32_t pcg32_below(struct pcg32 *rng, uint32_t bound);

/* A uniform integer in [0, bound) for 64-bit bounds (rejection sampling). */
uint64_t pcg32_below64(struct pcg32 *rng, uint64_t bound);

/* A uniform double in [0, 1) with 53 random bits. */
double pcg32_unit(struct pcg32 *rng);

/* Purposes of the derived streams. */
enum pcg_purpose {
    PCG_STREAM_NETWORK = 1,
    PCG_STREAM_DATAGRAM,
    PCG_STREAM_DNS,
    PCG_STREAM_FAULTS,
    PCG_STREAM_NODE,     /* index = node index */
    PCG_STREAM_SCHEDULE, /* timeline choices such as "random node" */
    PCG_STREAM_GENERATOR, /* clustersim fuzz: the scenario generator */
};

/* Seeds `rng` as the stream for (seed, purpose, index): the state and the
 * stream selector both depend on all three, so streams never overlap in
 * practice and a purpose's draws do not depend on any other's. */
void pcg32_stream(struct pcg32 *rng, uint64_t seed, enum pcg_purpose purpose, uint64_t index);

#endif
