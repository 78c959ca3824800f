/* SPDX-License-Identifier: Apache-2.0 */
/* test_tmpdir.h - the scratch folder of a unit-test binary: made by its
 * cmocka group setup, removed with everything in it by the teardown. */
#ifndef LAKE_TEST_TMPDIR_H
#define LAKE_TEST_TMPDIR_H
#include <stdio.h>
#include <stdlib.h>

/* Make /tmp/lake-test-<name>-XXXXXX in @p dir. 0, or -1 on failure. */
static inline int lake_test_tmpdir_make(char *dir,
                                        size_t size,
                                        const char *name)
{
    snprintf(dir, size, "/tmp/lake-test-%s-XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Remove @p dir and everything below it, even read-only folders. */
static inline int lake_test_tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}
#endif
