/*
 * config/yaml_reader.h: reading a YAML configuration file (a scenario, a
 * clusterd configuration) as hostile input: bounded size, a shape guard
 * before libyaml builds the document, and every error as
 * `file:line:column: what was expected`.  Functions are prefixed yr_ (YAML
 * reader); each takes the reader, records the first error in it and
 * returns false (or NULL, or -1) on bad input.
 */
#ifndef CS_YAML_READER_H
#define CS_YAML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "../core/addr.h"
#include "../core/env.h"

struct yaml_reader {
    yaml_document_t doc;
    bool loaded;      /* doc holds a document (yr_close frees it) */
    const char *file; /* named in errors */
    char *err;
    size_t errlen;
    bool failed;      /* an error was recorded (only the first is kept) */
};

/* Reads a whole file of at most `max` bytes into a malloc'd buffer; 0, or
 * -1 with an error naming the file as `what` ("scenario file"). */
int yr_read_file(const char *path, size_t max, const char *what, char **text, size_t *len, char *err,
                 size_t errlen);

/* Checks the text's shape on libyaml's events before it is loaded
 * (yaml_guard.c): nesting depth, one document, no tags, no aliases, no NUL
 * in strings.  0, or -1 with `file:line:column: ...` in err. */
int yr_guard_text(const char *text, size_t len, const char *file, char *err, size_t errlen);

/* Guards and parses `text`; the root node, or NULL with the error in err
 * (`expected` names what an empty document lacks: "a scenario mapping").
 * Call yr_close afterwards in every case. */
yaml_node_t *yr_open(struct yaml_reader *rd, const char *text, size_t len, const char *file, const char *expected,
                     char *err, size_t errlen);
/* Frees the document. */
void yr_close(struct yaml_reader *rd);

/* Records the first error, located at node `n` (or nowhere if NULL). */
void yr_error(struct yaml_reader *rd, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the first error, located at a line and column kept from an
 * earlier node (0 0: nowhere). */
void yr_error_at(struct yaml_reader *rd, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A node's 1-based line and column. */
int yr_line(const yaml_node_t *n);
int yr_column(const yaml_node_t *n);

/* Resolves a node id of the document. */
yaml_node_t *yr_node(struct yaml_reader *rd, int id);
/* The scalar text of a node, or NULL (with an error naming `what`) when the
 * node is not a scalar. */
const char *yr_scalar(struct yaml_reader *rd, const yaml_node_t *n, const char *what);
/* Checks that `n` is a mapping whose keys are all in `allowed` (a NULL-ended
 * list); reports wrong types, unknown and duplicate keys. */
bool yr_check_map(struct yaml_reader *rd, const yaml_node_t *n, const char *section, const char *const *allowed);
/* The value of `key` in mapping `n`, or NULL. */
yaml_node_t *yr_get(struct yaml_reader *rd, const yaml_node_t *n, const char *key);

/* Parses text as a duration with a unit ("250ms", "5s", "2m", "1.5h", or
 * a bare "0"; a leading '-' gives a negative one); 0, or -1 when it is not
 * a duration. */
int yr_parse_duration(const char *text, cs_time *out);

/* Scalar parsers. */
bool yr_duration(struct yaml_reader *rd, const yaml_node_t *n, bool allow_negative, cs_time *out);
bool yr_number(struct yaml_reader *rd, const yaml_node_t *n, double *out);
bool yr_uint(struct yaml_reader *rd, const yaml_node_t *n, uint64_t max, uint64_t *out);
/* true/yes/on or false/no/off. */
bool yr_bool(struct yaml_reader *rd, const yaml_node_t *n, bool *out);
/* A string shorter than `size`. */
bool yr_string(struct yaml_reader *rd, const yaml_node_t *n, char *buf, size_t size);
/* A string that names something in traces, reports and file names (a node
 * id, a basename, a DNS name, a scenario's name): letters, digits and
 * _ . - : @ only, so no output needs to escape it. */
bool yr_token(struct yaml_reader *rd, const yaml_node_t *n, const char *what, char *buf, size_t size);
bool yr_address(struct yaml_reader *rd, const yaml_node_t *n, struct cs_addr *out);
/* One of `names` (NULL-ended); returns its index or -1 with an error. */
int yr_enum(struct yaml_reader *rd, const yaml_node_t *n, const char *what, const char *const *names);

#endif
