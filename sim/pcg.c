/*
 * sim/pcg.c: PCG32 after M. E. O'Neill's minimal C implementation, written
 * from the published algorithm: LCG multiplier 6364136223846793005, XSH-RR
 * output.  Stream derivation mixes (seed, purpose, index) with SplitMix64.
 */
#include "pcg.h"

#define PCG_MULTIPLIER 6364136223846793005ULL

void pcg32_seed(struct pcg32 *rng, uint64_t initstate, uint64_t initseq)
{
    rng->bytes = NULL;
    rng->state = 0;
    rng->inc = (initseq << 1) | 1;
    pcg32_next(rng);
    rng->state += initstate;
    pcg32_next(rng);
}

static uint32_t bytes_next(struct pcg_bytes *b)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(b->pos < b->len ? b->data[b->pos++] : 0) << (8 * i);
    return v;
}

uint32_t pcg32_next(struct pcg32 *rng)
{
    if (rng->bytes && rng->bytes->pos < rng->bytes->len)
        return bytes_next(rng->bytes);
    uint64_t old = rng->state;
    rng->state = old * PCG_MULTIPLIER + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint64_t pcg32_next64(struct pcg32 *rng)
{
    uint64_t hi = pcg32_next(rng);
    return (hi << 32) | pcg32_next(rng);
}

uint32_t pcg32_below(struct pcg32 *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Rejection below threshold = 2^32 mod bound, which is under bound: a
     * draw at or above bound is kept without computing it (one division
     * instead of two, the same numbers). */
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= bound || r >= (0u - bound) % bound)
            return r % bound;
    }
}

uint64_t pcg32_below64(struct pcg32 *rng, uint64_t bound)
{
    if (bound <= UINT32_MAX)
        return pcg32_below(rng, (uint32_t)bound);
    for (;;) { /* (as above) */
        uint64_t r = pcg32_next64(rng);
        if (r >= bound || r >= (0 - bound) % bound)
            return r % bound;
    }
}

double pcg32_unit(struct pcg32 *rng)
{
    return (double)(pcg32_next64(rng) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void pcg32_stream(struct pcg32 *rng, uint64_t seed, enum pcg_purpose purpose, uint64_t index)
{
    uint64_t key = splitmix64(seed ^ splitmix64(((uint64_t)purpose << 48) ^ index));
    pcg32_seed(rng, splitmix64(key), key ^ ((uint64_t)purpose << 56) ^ index);
}
