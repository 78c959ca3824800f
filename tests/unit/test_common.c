/* SPDX-License-Identifier: Apache-2.0 */
/* test_common.c - allocation hooks, errors, buffers and file outputs. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_common.h"

static void test_common__status_names(void **state)
{
    (void)state;
    assert_string_equal(lake_status_str(LAKE_OK), "LAKE_OK");
    assert_string_equal(lake_status_str(LAKE_ENOMEM), "LAKE_ENOMEM");
    assert_string_equal(lake_status_str(LAKE_EBADDATA), "LAKE_EBADDATA");
    assert_string_equal(lake_status_str((lake_status)99), "LAKE_E?");
    assert_string_equal(lake_version(), LAKE_VERSION_STRING);
    char parts[32];
    snprintf(parts, sizeof(parts), "%d.%d.%d", LAKE_VERSION_MAJOR,
             LAKE_VERSION_MINOR, LAKE_VERSION_PATCH);
    assert_string_equal(parts, LAKE_VERSION_STRING);
}

static void test_common__error_format(void **state)
{
    (void)state;
    lake_error err;
    assert_int_equal(lake_error_set(&err, LAKE_EPARSE, "json: bad %s\nx",
                                    "byte"),
                     LAKE_EPARSE);
    assert_int_equal(err.code, LAKE_EPARSE);
    assert_string_equal(err.message, "json: bad byte x");
    assert_int_equal(lake_error_errno(&err, ENOENT, "storage: open %s", "f"),
                     LAKE_EIO);
    assert_string_equal(err.message,
                        "storage: open f: No such file or directory");
    /* NULL error pointers are allowed everywhere. */
    assert_int_equal(lake_error_set(NULL, LAKE_EIO, "x"), LAKE_EIO);
    lake_error_clear(&err);
    assert_int_equal(err.code, LAKE_OK);
    assert_string_equal(err.message, "");
}

static void test_common__buf_grows_and_caps(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 100);
    for (int i = 0; i < 10; i++)
        assert_int_equal(lake_buf_append(&b, "0123456789", 10), LAKE_OK);
    assert_int_equal(b.len, 100);
    assert_int_equal(lake_buf_append_byte(&b, 'x'), LAKE_ETOOBIG);
    assert_int_equal(b.len, 100);
    size_t len, cap;
    char *p = lake_buf_take(&b, &len, &cap);
    assert_int_equal(len, 100);
    assert_memory_equal(p + 90, "0123456789", 10);
    assert_null(b.data);
    lake_free(NULL, p);
    assert_int_equal(lake_buf_printf(&b, "%d-%s", 42, "x"), LAKE_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "42-x", 4);
    lake_buf_reset(&b);
}

static void test_common__failing_alloc_counts(void **state)
{
    (void)state;
    lake_failing_alloc fa;
    lake_failing_alloc_init(&fa, 1);
    void *a = lake_malloc(&fa.base, 10);
    void *b = lake_malloc(&fa.base, 10);
    assert_non_null(a);
    assert_null(b);
    assert_int_equal(fa.n_live, 1);
    lake_free(&fa.base, a);
    assert_int_equal(fa.n_live, 0);
    assert_int_equal(fa.n_failed, 1);
}

static void test_common__buf_oom(void **state)
{
    (void)state;
    lake_failing_alloc fa;
    lake_failing_alloc_init(&fa, 0);
    lake_buf b;
    lake_buf_init(&b, &fa.base, 0);
    assert_int_equal(lake_buf_append(&b, "x", 1), LAKE_ENOMEM);
    assert_int_equal(b.len, 0);
    lake_buf_reset(&b);
    assert_int_equal(fa.n_live, 0);
}

static void check_repair(const char *in, size_t n, const char *want)
{
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_buf_append_utf8_repaired(&b, in, n), LAKE_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    lake_buf_reset(&b);
}

/* Expected strings are what Python's bytes.decode("utf-8", "replace")
 * gives: one U+FFFD per maximal invalid subpart. */
static void test_common__utf8_repair(void **state)
{
    (void)state;
    check_repair("plain", 5, "plain");
    check_repair("Bj\xC3\xB6rk \xF0\x9F\x8E\xB5", 11,
                 "Bj\xC3\xB6rk \xF0\x9F\x8E\xB5");
    check_repair("a\xC0\x80" "b", 4, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
    check_repair("\xED\xA0\x80", 3,
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    check_repair("x\xE2\x82", 3, "x\xEF\xBF\xBD");     /* truncated */
    check_repair("\xF4\x90\x80\x80", 4,               /* > U+10FFFF */
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    check_repair("\xE2\x82x", 3, "\xEF\xBF\xBDx");
    size_t bad = 0;
    assert_int_equal(lake_utf8_seq((const uint8_t *)"\xE2\x82\xAC", 3, &bad),
                     3);
    assert_int_equal(lake_utf8_seq((const uint8_t *)"\xFF", 1, &bad), 0);
    assert_int_equal(bad, 1);
}

static char tmpdir[256];

static void read_file(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    const size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_common__file_output_commit(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/a/b/c.txt", tmpdir);
    lake_output *o = NULL;
    lake_error err;
    assert_int_equal(lake_output_open_file(path, NULL, &o, &err), LAKE_OK);
    assert_int_equal(lake_output_write(o, "hello", 5, &err), LAKE_OK);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); /* not visible before commit */
    assert_int_equal(lake_output_commit(o, &err), LAKE_OK);
    assert_int_equal(lake_output_size(o), 5);
    assert_int_equal(lake_output_write(o, "x", 1, &err), LAKE_EINVAL);
    lake_output_free(o);
    char buf[64];
    read_file(path, buf, sizeof(buf));
    assert_string_equal(buf, "hello");
}

static void test_common__file_output_abort_leaves_nothing(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/abort/x.bin", tmpdir);
    lake_output *o = NULL;
    assert_int_equal(lake_output_open_file(path, NULL, &o, NULL), LAKE_OK);
    assert_int_equal(lake_output_write(o, "partial", 7, NULL), LAKE_OK);
    lake_output_free(o);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s/abort)\"", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_common__file_output_bad_path(void **state)
{
    (void)state;
    lake_output *o = NULL;
    lake_error err;
    assert_int_equal(
        lake_output_open_file("/proc/no/such/dir/x", NULL, &o, &err),
        LAKE_EIO);
    assert_null(o);
    assert_non_null(strstr(err.message, "/proc/no"));
    assert_int_equal(lake_output_open_file("", NULL, &o, &err), LAKE_EINVAL);
}

static void test_common__file_output_oom_sweep(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/oom.bin", tmpdir);
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        const lake_output_opts opts = {.alloc = &fa.base, .no_fsync = 1};
        lake_output *o = NULL;
        const lake_status rc = lake_output_open_file(path, &opts, &o, NULL);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            lake_output_free(o);
            assert_int_equal(fa.n_live, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_null(o);
        assert_int_equal(fa.n_live, 0);
    }
}

static int setup(void **state)
{
    (void)state;
    return lake_test_tmpdir_make(tmpdir, sizeof(tmpdir), "common");
}

static int teardown(void **state)
{
    (void)state;
    return lake_test_tmpdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common__status_names),
        cmocka_unit_test(test_common__error_format),
        cmocka_unit_test(test_common__buf_grows_and_caps),
        cmocka_unit_test(test_common__failing_alloc_counts),
        cmocka_unit_test(test_common__buf_oom),
        cmocka_unit_test(test_common__utf8_repair),
        cmocka_unit_test(test_common__file_output_commit),
        cmocka_unit_test(test_common__file_output_abort_leaves_nothing),
        cmocka_unit_test(test_common__file_output_bad_path),
        cmocka_unit_test(test_common__file_output_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
