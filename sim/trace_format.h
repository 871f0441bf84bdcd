/*
 * sim/trace_format.h: the printf formats of the trace recorder, internal
 * to sim/trace.c: what its binary encoder takes from a format's arguments
 * (each format compiled once and cached), and a format printed again over
 * the values an encoding holds, for the ring of last events.
 */
#ifndef SIM_TRACE_FORMAT_H
#define SIM_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum trace_arg_kind {
    TRACE_ARG_INT, TRACE_ARG_SCHAR, TRACE_ARG_SHORT, TRACE_ARG_LONG, TRACE_ARG_LLONG, TRACE_ARG_INTMAX,
    TRACE_ARG_SSIZE, TRACE_ARG_PTRDIFF, TRACE_ARG_UINT, TRACE_ARG_UCHAR, TRACE_ARG_USHORT, TRACE_ARG_ULONG,
    TRACE_ARG_ULLONG, TRACE_ARG_UINTMAX, TRACE_ARG_SIZE, TRACE_ARG_CHAR, TRACE_ARG_PTR, TRACE_ARG_DOUBLE,
    TRACE_ARG_STR, TRACE_ARG_STR_STAR, /* a %s whose precision was the last star */
};

#define TRACE_FMT_ARGS_MAX 16

/* A format compiled: what the encoder takes from the arguments, in order
 * ('*' widths and precisions as TRACE_ARG_INT before their conversion's). */
struct trace_fmt {
    const char *fmt;
    uint64_t id;  /* XXH3 of the format's text: its keys and punctuation */
    bool binary;  /* every conversion has a binary form (else: hash the line) */
    unsigned char count;
    unsigned char kind[TRACE_FMT_ARGS_MAX];
    int digits[TRACE_FMT_ARGS_MAX]; /* a %s's precision, or -1 */
};

/* Writes v (negated first when `negative`: v holds a negative value's
 * two's complement) in decimal, as %lld or %llu would, into d (room for 21
 * bytes, no NUL); returns the length. */
size_t trace_decimal(char *d, uint64_t v, bool negative);

/* The compiled form of `fmt`, which must be a string literal: it is cached
 * by address, per thread. */
const struct trace_fmt *trace_fmt_get(const char *fmt);

/* Reads an encoding: 8-byte little-endian integers, NUL-terminated strings. */
struct trace_dec {
    const unsigned char *b;
    size_t n;
};

static inline uint64_t trace_dec_u64(struct trace_dec *d)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)d->b[d->n + (size_t)i] << (8 * i);
    d->n += 8;
    return v;
}

static inline const char *trace_dec_str(struct trace_dec *d)
{
    const char *s = (const char *)d->b + d->n;
    d->n += strlen(s) + 1;
    return s;
}

/* vsnprintf(out, size, fmt, ...) over the values d reads, each as the
 * encoder wrote its argument (trace_fmt_get's kinds): the same text and the
 * same length returned as for the original arguments. */
int trace_fmt_print(const char *fmt, struct trace_dec *d, char *out, size_t size);

#endif
