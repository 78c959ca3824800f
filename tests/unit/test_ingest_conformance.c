/* SPDX-License-Identifier: Apache-2.0 */
/* test_ingest_conformance.c - our RFC 8259 conformance suite
 * (tests/data/ingest/conformance/{accept,reject}/\*.json), run through the
 * record reader with both engines (simdjson fast path and our scanner):
 * an accept file gives exactly one outcome that is not invalid_json, both
 * as it is and wrapped as {"v":<text>} (then it must be an object that
 * reached field typing); a reject file's first outcome is invalid_json,
 * as it is and wrapped. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "ingest/ingest_json.h"

typedef struct outcome {
    int n;            /* outcomes before END */
    char first[64];   /* reason of the first, or "RECORD" */
} outcome;

static outcome run(const char *text, size_t n, bool fast)
{
    char *data = calloc(1, n + LAKE_READ_PADDING);
    assert_non_null(data);
    memcpy(data, text, n);
    lake_record_reader *r = NULL;
    lake_error err;
    assert_int_equal(lake_record_reader_new(NULL, &r, &err), LAKE_OK);
    lake_record_reader_set_fast_path(r, fast);
    lake_record_reader_reset(r, LAKE_REC_SONG, data, n);
    outcome o = {0, ""};
    for (;;) {
        lake_song_rec s;
        lake_reject rej;
        lake_next nx;
        assert_int_equal(lake_record_reader_next(r, &s, &rej, &nx, &err),
                         LAKE_OK);
        if (nx == LAKE_NEXT_END)
            break;
        if (o.n++ == 0)
            snprintf(o.first, sizeof(o.first), "%s",
                     nx == LAKE_NEXT_RECORD ? "RECORD" : rej.reason);
        assert_true(o.n < 100000);
    }
    lake_record_reader_free(r);
    free(data);
    return o;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    const long len = ftell(f);
    assert_true(len >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    /* Room for the wrapping {"v":...} too. */
    char *p = malloc((size_t)len + 8);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static int run_dir(const char *which, bool accept)
{
    const char *base = getenv("LAKE_TEST_DATA");
    assert_non_null(base);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/ingest/conformance/%s", base, which);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0, failures = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t n;
        char *text = slurp(path, &n);
        char *wrapped = malloc(n + 8);
        assert_non_null(wrapped);
        memcpy(wrapped, "{\"v\":", 5);
        memcpy(wrapped + 5, text, n);
        wrapped[n + 5] = '}';
        for (int fast = 0; fast < 2; fast++) {
            const outcome plain = run(text, n, fast);
            const outcome wrap = run(wrapped, n + 6, fast);
            bool ok;
            if (accept)
                ok = plain.n == 1 && strcmp(plain.first, "invalid_json") &&
                     wrap.n == 1 &&
                     strcmp(wrap.first, "missing_field:song_id") == 0;
            else
                ok = plain.n >= 1 && strcmp(plain.first, "invalid_json") == 0 &&
                     wrap.n >= 1 && strcmp(wrap.first, "invalid_json") == 0;
            if (!ok) {
                fprintf(stderr,
                        "conformance %s/%s (%s path): plain %d x %s, "
                        "wrapped %d x %s\n",
                        which, e->d_name, fast ? "fast" : "scanner", plain.n,
                        plain.first, wrap.n, wrap.first);
                failures++;
            }
        }
        free(text);
        free(wrapped);
        count++;
    }
    closedir(d);
    assert_int_equal(failures, 0);
    return count;
}

static void test_ingest_conformance__accept(void **state)
{
    (void)state;
    assert_true(run_dir("accept", true) >= 40);
}

static void test_ingest_conformance__reject(void **state)
{
    (void)state;
    assert_true(run_dir("reject", false) >= 60);
}

/* The scanner alone: extents of valid values on a shared line. */
static void test_ingest_conformance__scanner_extents(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int value_len; /* -1: invalid */
    } cases[] = {
        {"{} x", 2},        {"[1,2]]", 5},     {"\"a\"\"b\"", 3},
        {"1 2", 1},         {"1,2", 1},        {"true}", 4},
        {"12abc", -1},      {"truex", -1},     {"-", -1},
        {"\"\\u12\"", -1},  {"{\"a\":1}{", 7}, {"nul", -1},
        {"0.5e-3]", 6},     {"[\"\\\"]\"]", 7},
    };
    for (size_t i = 0; i < LAKE_ARRAY_LEN(cases); i++) {
        const char *t = cases[i].text;
        const char *end = NULL;
        const bool ok = lake_json_scan(t, t + strlen(t), &end);
        if (cases[i].value_len < 0) {
            if (ok)
                fail_msg("%s: accepted", t);
        } else if (!ok || end - t != cases[i].value_len) {
            fail_msg("%s: got %d", t, ok ? (int)(end - t) : -1);
        }
    }
    double d = 1;
    assert_true(lake_json_number_to_double("-1e-400", 7, &d));
    assert_true(d == 0 && 1 / d < 0);
    assert_false(lake_json_number_to_double("0.5e400", 7, &d));
    assert_true(lake_json_number_to_double("0.00001e-320", 12, &d));
    assert_true(d == 0);
    assert_true(lake_json_number_to_double("10e307", 6, &d));
    assert_true(d == 1e308);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_conformance__accept),
        cmocka_unit_test(test_ingest_conformance__reject),
        cmocka_unit_test(test_ingest_conformance__scanner_extents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
