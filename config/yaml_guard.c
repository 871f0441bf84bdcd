/*
 * config/yaml_guard.c: the shape of a YAML file checked before it is
 * loaded, on libyaml's event stream, so hostile input costs time linear
 * in its size and gets a clear file:line:column error: nesting deeper than
 * YR_MAX_DEPTH (a real scenario nests about 6 deep; libyaml's document
 * loader is quadratic in depth), more than one document (a second one would
 * be ignored), explicit tags such as !!binary (ignored otherwise), aliases
 * (an alias of an alias multiplies what the loader walks), and strings
 * holding a NUL byte (they would be cut short).
 */
#include "yaml_reader.h"

#include <stdio.h>
#include <string.h>

#define YR_MAX_DEPTH 64

static int guard_fail(const char *file, const yaml_mark_t *m, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s:%zu:%zu: %s", file, m->line + 1, m->column + 1, what);
    return -1;
}

/* The event's own complaint, if any; 0 when it is acceptable. */
static int check_event(const yaml_event_t *ev, const char *file, int *depth, int *documents, char *err,
                       size_t errlen)
{
    const yaml_mark_t *at = &ev->start_mark;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1)
            return guard_fail(file, at, err, errlen,
                              "expected one YAML document, found a second one ('---'): one scenario per file");
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        const yaml_char_t *tag = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
                                                                        : ev->data.mapping_start.tag;
        if (tag && !(ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.implicit
                                                            : ev->data.mapping_start.implicit))
            return guard_fail(file, at, err, errlen, "expected no YAML tag (such as !!map): tags are not supported");
        if (++*depth > YR_MAX_DEPTH) {
            char what[96];
            snprintf(what, sizeof what, "expected nesting at most %d deep (a scenario needs about 6)", YR_MAX_DEPTH);
            return guard_fail(file, at, err, errlen, what);
        }
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        --*depth;
        return 0;
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.tag && !ev->data.scalar.plain_implicit && !ev->data.scalar.quoted_implicit)
            return guard_fail(file, at, err, errlen,
                              "expected no YAML tag (such as !!binary or !!str): tags are not supported");
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
            return guard_fail(file, at, err, errlen, "expected a string without a NUL character");
        return 0;
    case YAML_ALIAS_EVENT:
        return guard_fail(file, at, err, errlen, "expected no alias (*name): write the value out");
    default:
        return 0;
    }
}

int yr_guard_text(const char *text, size_t len, const char *file, char *err, size_t errlen)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, documents = 0, rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* a syntax error: the loader reports it with its position */
        rc = check_event(&ev, file, &depth, &documents, err, errlen);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}
