/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_gunzip.c - lake_gunzip_bytes on arbitrary bytes: never crashes,
 * leaks nothing, answers only OK/EPARSE/ETOOBIG, keeps the padding, and
 * agrees with itself under a tight size limit (the first byte picks it). */
#include "fmacros.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gunzip: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const size_t limit = (size_t)data[0] * 16 + 1;
    lake_failing_alloc fa;
    lake_failing_alloc_init(&fa, -1);
    lake_file_data a = {0}, b = {0};
    a.alloc = &fa.base;
    b.alloc = &fa.base;
    lake_error err;
    const lake_status ra =
        lake_gunzip_bytes(data + 1, size - 1, "fuzz", 64 << 20, &a, &err);
    check(ra == LAKE_OK || ra == LAKE_EPARSE || ra == LAKE_ETOOBIG,
          "unexpected status");
    if (ra == LAKE_OK) {
        for (size_t i = 0; i < LAKE_READ_PADDING; i++)
            check(a.data[a.len + i] == 0, "padding");
        const lake_status rb =
            lake_gunzip_bytes(data + 1, size - 1, "fuzz", limit, &b, &err);
        if (a.len <= limit) {
            check(rb == LAKE_OK, "limit changed the answer");
            check(b.len == a.len && memcmp(a.data, b.data, a.len) == 0,
                  "limit changed the bytes");
        } else {
            check(rb == LAKE_ETOOBIG, "limit not enforced");
        }
    } else {
        check(a.len == 0, "len after failure");
    }
    lake_file_data_free(&a);
    lake_file_data_free(&b);
    check(fa.n_live == 0, "leak");
    return 0;
}
