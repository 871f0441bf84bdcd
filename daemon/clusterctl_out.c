/*
 * daemon/clusterctl_out.c: clusterctl's output (see clusterctl_out.h), with
 * jansson.
 */
#include "clusterctl_out.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void emit(json_t *j)
{
    if (!j)
        j = json_pack("{ss ss}", "result", "error", "error", "out of memory");
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

/* A command-line operand as a JSON string: bytes that are not UTF-8 read
 * as Latin-1, as the daemon's escaper reads them (core/json_text.h). */
static json_t *operand(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char out[2 * 256 + 1];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 2 < sizeof out; p++) {
        if (*p < 0x80) {
            out[n++] = (char)*p;
        } else {
            out[n++] = (char)(0xC0 | *p >> 6);
            out[n++] = (char)(0x80 | (*p & 0x3F));
        }
    }
    out[n] = '\0';
    return json_string(out);
}

void ctl_print_failure(const char *why, bool json)
{
    if (json)
        emit(json_pack("{ss ss}", "result", "error", "error", why));
    else
        fprintf(stderr, "clusterctl: %s\n", why);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A string, or null when empty. */
static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* The handle of a process answer: the daemon's "handle" (the unsigned
 * decimal value), or, from a daemon that sends only "value", its 64 bits;
 * "" when there is none. */
static void handle_of(const json_t *o, char *out, size_t size)
{
    const char *h = json_string_value(json_object_get(o, "handle"));
    json_int_t v = json_integer_value(json_object_get(o, "value"));
    if (h)
        snprintf(out, size, "%s", h);
    else if (v)
        snprintf(out, size, "%" PRIu64, (uint64_t)v);
    else
        out[0] = '\0';
}

/* The JSON object of a command's answer. */
static json_t *command_json(enum ctl_kind kind, const json_t *a, const char *group)
{
    const char *result = str(a, "status"), *name = str(a, "name"), *owner = str(a, "owner");
    json_int_t value = json_integer_value(json_object_get(a, "value"));
    char handle[32];
    switch (kind) {
    case CTL_PROCESS:
        handle_of(a, handle, sizeof handle);
        return json_pack("{ss ss so so}", "result", result, "name", name, "node", str_or_null(owner), "handle",
                         str_or_null(handle));
    case CTL_VALUE:
        return json_pack("{ss ss so so}", "result", result, "name", name, "node", str_or_null(owner), "value",
                         strcmp(result, "ok") ? json_null() : json_integer(value));
    case CTL_SEND: return json_pack("{ss ss so}", "result", result, "name", name, "node", str_or_null(owner));
    case CTL_GROUP_CHANGE:
        return json_pack("{ss so ss so}", "result", result, "group", operand(group ? group : ""), "name", name,
                         "node", str_or_null(owner));
    case CTL_GROUP_COUNT: return json_pack("{ss ss sI}", "result", result, "group", name, "count", value);
    case CTL_PUBLISH: return json_pack("{ss ss sI}", "result", result, "group", name, "delivered", value);
    default: return json_pack("{ss ss}", "result", result, "name", name);
    }
}

/* The readable line of a command's answer: "ok on app@10.0.0.1 (42)". */
static void command_text(enum ctl_kind kind, const json_t *a)
{
    const char *result = str(a, "status"), *owner = str(a, "owner");
    json_int_t value = json_integer_value(json_object_get(a, "value"));
    char handle[32];
    printf("%s%s%s", result, owner[0] ? " on " : "", owner);
    bool ok = !strcmp(result, "ok") || !strcmp(result, "already_started");
    if (kind == CTL_PROCESS && (handle_of(a, handle, sizeof handle), handle[0]))
        printf(" (%s)", handle);
    else if (kind == CTL_VALUE && ok)
        printf(" (%lld)", (long long)value);
    else if (kind == CTL_GROUP_COUNT && ok)
        printf(" (%lld member%s)", (long long)value, value == 1 ? "" : "s");
    else if (kind == CTL_PUBLISH && ok)
        printf(" (sent to %lld member%s)", (long long)value, value == 1 ? "" : "s");
    putchar('\n');
}

static void peers_text(const json_t *peers)
{
    size_t i;
    const json_t *p;
    if (!json_array_size(peers))
        printf("(no peers)\n");
    json_array_foreach(peers, i, p)
        printf("%-24s link %-11s%s\n", str(p, "name"), str(p, "link"),
               json_is_true(json_object_get(p, "tracker")) ? "tracker" : "no tracker");
}

int ctl_print_answer(enum ctl_kind kind, const char *answer, const char *group, bool json)
{
    json_error_t jerr;
    json_t *a = json_loads(answer, 0, &jerr);
    int rc = 1;
    const json_t *inner = NULL;
    if (!json_is_object(a)) {
        char why[300];
        snprintf(why, sizeof why, "the daemon's answer is not a JSON object: %.200s", answer);
        ctl_print_failure(why, json);
    } else if (json_object_get(a, "error")) {
        ctl_print_failure(str(a, "error"), json);
    } else if (kind == CTL_STATE && (inner = json_object_get(a, json ? "state" : "dump"))) {
        if (json)
            emit(json_incref((json_t *)inner));
        else
            printf("%s\n", json_string_value(inner));
        rc = 0;
    } else if (kind == CTL_PEERS && json_is_array(inner = json_object_get(a, "peers"))) {
        if (json)
            emit(json_incref((json_t *)inner));
        else
            peers_text(inner);
        rc = 0;
    } else if (json_is_string(json_object_get(a, "status"))) {
        const char *result = str(a, "status");
        if (json)
            emit(command_json(kind, a, group));
        else
            command_text(kind, a);
        rc = !strcmp(result, "ok") || !strcmp(result, "already_started") ? 0 : 1;
    } else {
        ctl_print_failure("the daemon's answer has none of the expected fields", json);
    }
    json_decref(a);
    return rc;
}

int ctl_print_bench(const char *op, long depth, long many, const struct ctl_bench *b, bool json)
{
    double rate = b->seconds > 0 ? (double)b->requests / b->seconds : 0;
    if (json)
        emit(json_pack("{ss ss sI sI sf sf sI sI}", "result", b->ok == b->requests ? "ok" : "partial", "op", op,
                       "requests", (json_int_t)b->requests, "ok", (json_int_t)b->ok, "seconds", b->seconds, "rate",
                       rate, "depth", (json_int_t)depth, "many", (json_int_t)many));
    else if (many > 1)
        printf("bench %s: %ld requests, %ld ok, %.3f s, %.0f requests/s (pipelined, %ld in flight, up to %ld a "
               "line)\n", op, b->requests, b->ok, b->seconds, rate, depth, many);
    else
        printf("bench %s: %ld requests, %ld ok, %.3f s, %.0f requests/s (pipelined, %ld in flight)\n", op,
               b->requests, b->ok, b->seconds, rate, depth);
    return b->ok == b->requests ? 0 : 1;
}
