/*
 * tests/helpers.c: small helpers shared by the test groups.
 */
#include "tests.h"

#include "../config/scenario/loader.h"

#include <stdio.h>
#include <string.h>

void test_load(const char *yaml, struct scenario *out)
{
    char err[1024];
    if (scenario_load_string(yaml, strlen(yaml), "test.yaml", out, err, sizeof err) != 0) {
        print_error("scenario did not load: %s\n", err);
        fail();
    }
}
