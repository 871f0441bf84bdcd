/*
 * core/json_text.h: JSON string escaping, the one escaper of the project
 * (the simulator's trace lines, the daemon's control socket answers).
 * Pure text processing: the core itself formats no JSON.
 */
#ifndef CS_JSON_TEXT_H
#define CS_JSON_TEXT_H

#include <stddef.h>

/* Writes `s` as the body of a JSON string (escaped, without the quotes)
 * into buf, NUL-terminated: quotes, backslashes and control characters
 * escaped, valid UTF-8 kept as it is, any other byte written as the code
 * point of the same value (U+0080 to U+00FF), so the result is always
 * valid JSON.  Stops before an escape that would not fit.  Returns the
 * length written. */
size_t cs_json_escape(const char *s, char *buf, size_t size);

#endif
