/*
 * core/timer_tag.h: the one layout of timer tags.  A protocol stack shares
 * one environment, so every timer it arms carries a 64-bit tag saying whose
 * it is: the module in the top byte (the numbers below, assigned here and
 * nowhere else), the module's own timer kind in the next byte, and 48 bits
 * of argument (an epoch, an index).  A module's handler takes a timer event
 * only when the module byte is its own.
 */
#ifndef CS_TIMER_TAG_H
#define CS_TIMER_TAG_H

#include <stddef.h>
#include <stdint.h>

enum cs_tag_module {
    CS_TAG_CONN = 1, /* the connection layer (core/conn.c) */
    CS_TAG_MEM = 2,  /* membership topologies (core/membership.c) */
    CS_TAG_TRK = 3,  /* the tracker (core/tracker*.c) */
    CS_TAG_PING = 4, /* the ping test protocol (core/ping.c) */
};

/* A tag of `module` for timer `kind` with a 48-bit argument. */
#define CS_TAG(module, kind, arg) \
    (((uint64_t)(module) << 56) | ((uint64_t)(kind) << 48) | ((uint64_t)(arg) & 0xffffffffffffULL))

/* The module, the kind and the argument of a tag. */
#define CS_TAG_MODULE_OF(tag) ((unsigned)((uint64_t)(tag) >> 56))
#define CS_TAG_KIND_OF(tag) ((unsigned)(((uint64_t)(tag) >> 48) & 0xff))
#define CS_TAG_ARG_OF(tag) ((uint64_t)(tag) & 0xffffffffffffULL)

/* The tag's module and timer kind by name ("tracker.cluster_join",
 * "conn.setup"; "module7.kind2" for numbers nobody assigned), as traces
 * show them.  Returns buf. */
const char *cs_tag_name(uint64_t tag, char *buf, size_t size);

#endif
