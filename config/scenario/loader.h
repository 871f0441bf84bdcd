/*
 * config/scenario/loader.h: reads a scenario YAML file (schema in
 * scenarios/README.md) into a struct scenario.  Malformed input is rejected
 * before anything runs, with `file:line:column: what was expected`.
 */
#ifndef SC_LOADER_H
#define SC_LOADER_H

#include "../../sim/scenario.h"

/* Loads and validates a scenario file; 0 on success, -1 with a message in
 * `err` (the scenario is then empty). */
int scenario_load_file(const char *path, struct scenario *out, char *err, size_t errlen);
/* The largest scenario file read (recorded entropy may take 2 MiB). */
#define SCENARIO_FILE_MAX (8 << 20)

/* Same as scenario_load_file on text already in memory; `file` names it in
 * error messages. */
int scenario_load_string(const char *text, size_t len, const char *file, struct scenario *out,
                         char *err, size_t errlen);

/* Parses text as a duration with a unit ("250ms", "5s", "2m", "1.5h", or
 * a bare "0"; a leading '-' gives a negative one); 0 on success, -1 when it
 * is not a duration. */
int sc_parse_duration(const char *text, cs_time *out);

#endif
