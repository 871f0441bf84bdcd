/*
 * sim/trace_format.c: the printf formats of the trace recorder (see
 * trace_format.h): parsed once per format for the binary encoder, and
 * printed again, conversion by conversion, over an encoding's values.
 */
#include "trace_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum lenmod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

/* One conversion specification of a format, parsed. */
struct spec {
    const char *start, *end; /* from the '%' to just past the conversion */
    int stars;               /* '*' widths and precisions: int arguments first */
    bool precision;          /* a precision is given (it bounds a %s) */
    bool plain;              /* no flags, width or precision */
    long digits;             /* that precision, when written in digits (else -1) */
    enum lenmod len;
    char conv;
};

/* Parses the specification at pct (a '%'); false when malformed. */
static bool parse_spec(const char *pct, struct spec *s)
{
    const char *p = pct + 1;
    memset(s, 0, sizeof *s);
    s->start = pct;
    s->digits = -1;
    while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0' || *p == '\'')
        p++;
    if (*p == '*') {
        s->stars++;
        p++;
    }
    while (*p >= '0' && *p <= '9')
        p++;
    s->plain = p == pct + 1 && *p != '.';
    if (*p == '.') {
        p++;
        s->precision = true;
        if (*p == '*') {
            s->stars++;
            p++;
        } else {
            s->digits = 0;
            for (; *p >= '0' && *p <= '9'; p++)
                if (s->digits < 1000000)
                    s->digits = s->digits * 10 + (*p - '0');
        }
    }
    switch (*p) {
    case 'h': s->len = p[1] == 'h' ? (p++, LEN_HH) : LEN_H; p++; break;
    case 'l': s->len = p[1] == 'l' ? (p++, LEN_LL) : LEN_L; p++; break;
    case 'q': s->len = LEN_LL; p++; break;
    case 'L': s->len = LEN_BIG_L; p++; break;
    case 'j': s->len = LEN_J; p++; break;
    case 'z': case 'Z': s->len = LEN_Z; p++; break;
    case 't': s->len = LEN_T; p++; break;
    default: break;
    }
    s->conv = *p;
    if (!*p)
        return false;
    s->end = p + 1;
    return true;
}

#define FMT_CACHE 256

static const unsigned char signed_kind[] = {
    [LEN_NONE] = TRACE_ARG_INT, [LEN_HH] = TRACE_ARG_SCHAR, [LEN_H] = TRACE_ARG_SHORT, [LEN_L] = TRACE_ARG_LONG, [LEN_LL] = TRACE_ARG_LLONG,
    [LEN_J] = TRACE_ARG_INTMAX, [LEN_Z] = TRACE_ARG_SSIZE, [LEN_T] = TRACE_ARG_PTRDIFF, [LEN_BIG_L] = TRACE_ARG_LLONG,
};
static const unsigned char unsigned_kind[] = {
    [LEN_NONE] = TRACE_ARG_UINT, [LEN_HH] = TRACE_ARG_UCHAR, [LEN_H] = TRACE_ARG_USHORT, [LEN_L] = TRACE_ARG_ULONG, [LEN_LL] = TRACE_ARG_ULLONG,
    [LEN_J] = TRACE_ARG_UINTMAX, [LEN_Z] = TRACE_ARG_SIZE, [LEN_T] = TRACE_ARG_SIZE, [LEN_BIG_L] = TRACE_ARG_ULLONG,
};

static bool add_arg(struct trace_fmt *f, enum trace_arg_kind kind, int digits)
{
    if (f->count == TRACE_FMT_ARGS_MAX)
        return false;
    f->kind[f->count] = (unsigned char)kind;
    f->digits[f->count++] = digits;
    return true;
}

/* The argument kinds of one specification; false: no binary form (%n,
 * %m, %ls, %lc, %Lf, ...) or too many arguments. */
static bool compile_spec(struct trace_fmt *f, const struct spec *s)
{
    for (int i = 0; i < s->stars; i++)
        if (!add_arg(f, TRACE_ARG_INT, -1))
            return false;
    switch (s->conv) {
    case '%': return true;
    case 'd': case 'i': return add_arg(f, signed_kind[s->len], -1);
    case 'u': case 'o': case 'x': case 'X': return add_arg(f, unsigned_kind[s->len], -1);
    case 'p': return add_arg(f, TRACE_ARG_PTR, -1);
    case 'c': return s->len == LEN_NONE && add_arg(f, TRACE_ARG_CHAR, -1);
    case 's':
        if (s->len != LEN_NONE)
            return false;
        if (s->precision && s->digits < 0)
            return add_arg(f, TRACE_ARG_STR_STAR, -1);
        return add_arg(f, TRACE_ARG_STR, s->precision ? (int)s->digits : -1);
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
        return s->len != LEN_BIG_L && add_arg(f, TRACE_ARG_DOUBLE, -1);
    default: return false;
    }
}

static void compile_format(struct trace_fmt *f, const char *fmt)
{
    memset(f, 0, sizeof *f);
    f->fmt = fmt;
    f->id = XXH3_64bits(fmt, strlen(fmt));
    f->binary = true;
    struct spec s;
    for (const char *p = strchr(fmt, '%'); p && f->binary; p = strchr(s.end, '%'))
        f->binary = parse_spec(p, &s) && compile_spec(f, &s);
}

const struct trace_fmt *trace_fmt_get(const char *fmt)
{
    static _Thread_local struct trace_fmt cache[FMT_CACHE];
    struct trace_fmt *f = &cache[((uintptr_t)fmt * UINT64_C(0x9E3779B97F4A7C15)) >> 56 & (FMT_CACHE - 1)];
    if (f->fmt != fmt)
        compile_format(f, fmt);
    return f;
}

/* ---- printing again ---- */

/* Appends n bytes as vsnprintf would: `len` counts what would be written. */
static void append(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < size) {
        size_t room = size - *len - 1;
        memcpy(out + *len, s, n < room ? n : room);
    }
    *len += n;
}

size_t trace_decimal(char *d, uint64_t v, bool negative)
{
    char tmp[24];
    size_t k = sizeof tmp;
    if (negative)
        v = -v;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        tmp[--k] = '-';
    memcpy(d, tmp + k, sizeof tmp - k);
    return sizeof tmp - k;
}

/* A plain %d or %u (any length) of a decoded value, as printf writes it. */
static void append_integer(char *out, size_t size, size_t *len, uint64_t v, bool negative)
{
    char digits[24];
    append(out, size, len, digits, trace_decimal(digits, v, negative));
}

/* One conversion again from its decoded values: the specification with
 * its length modifier replaced by the type the value now has. */
static int print_spec(const struct spec *s, struct trace_dec *d, char *out, size_t room)
{
    char spec[64];
    size_t k = 0;
    int star[2] = {0, 0};
    for (int i = 0; i < s->stars; i++)
        star[i] = (int)(int64_t)trace_dec_u64(d);
    for (const char *p = s->start; p < s->end - 1 && k < sizeof spec - 4; p++)
        if (!strchr("hlqLjzZt", *p))
            spec[k++] = *p;
    bool integer = strchr("diuoxX", s->conv) != NULL;
    if (integer) {
        spec[k++] = 'l';
        spec[k++] = 'l';
    }
    spec[k++] = s->conv;
    spec[k] = '\0';
#define PRINT(v)                                                                               \
    (s->stars == 0 ? snprintf(out, room, spec, v)                                              \
                   : s->stars == 1 ? snprintf(out, room, spec, star[0], v) : snprintf(out, room, spec, star[0], star[1], v))
    switch (s->conv) {
    case 'd': case 'i': return PRINT((long long)(int64_t)trace_dec_u64(d));
    case 'u': case 'o': case 'x': case 'X': return PRINT((unsigned long long)trace_dec_u64(d));
    case 'c': return PRINT((int)trace_dec_u64(d));
    case 'p': return PRINT((void *)(uintptr_t)trace_dec_u64(d));
    case 's': return PRINT(trace_dec_str(d));
    default: {
        uint64_t bits = trace_dec_u64(d);
        double v;
        memcpy(&v, &bits, sizeof v);
        return PRINT(v);
    }
    }
#undef PRINT
}

int trace_fmt_print(const char *fmt, struct trace_dec *d, char *out, size_t size)
{
    size_t len = 0;
    const char *p = fmt;
    for (;;) {
        const char *pct = strchr(p, '%');
        append(out, size, &len, p, pct ? (size_t)(pct - p) : strlen(p));
        if (!pct)
            break;
        struct spec s;
        parse_spec(pct, &s);
        if (s.conv == '%') {
            append(out, size, &len, "%", 1);
        } else if (s.plain && (s.conv == 'd' || s.conv == 'i')) { /* the common ones, without snprintf */
            int64_t v = (int64_t)trace_dec_u64(d);
            append_integer(out, size, &len, (uint64_t)v, v < 0);
        } else if (s.plain && s.conv == 'u') {
            append_integer(out, size, &len, trace_dec_u64(d), false);
        } else if (s.plain && s.conv == 's') {
            const char *str = trace_dec_str(d);
            append(out, size, &len, str, strlen(str));
        } else {
            bool room = len + 1 < size;
            len += (size_t)print_spec(&s, d, room ? out + len : NULL, room ? size - len : 0);
        }
        p = s.end;
    }
    if (size)
        out[len < size ? len : size - 1] = '\0';
    return (int)len;
}
