/* SPDX-License-Identifier: Apache-2.0 */
/* model_ids.c - stable songplay ids: SHA-256 over "u|s|i|ts" (SPEC). */
#include "fmacros.h"

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP,
 * but EVP allocates a context and fetches the algorithm by name: it is
 * fallible and 2-7x slower (measured: 61 ns here against 112 ns with a
 * prefetched EVP_MD and 419 ns for the SHA256() one-shot). An id is
 * computed once per play, so we keep the block API. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include "lake_common.h"
#include "model/model.h"
#include "model/model_sha256.h"
#include "lake_internal.h"

void lake_model_sha256(const void *p, size_t n,
                       uint8_t out[LAKE_SHA256_BYTES])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Write @p v in decimal so that it ends just before @p end; return its
 * first byte. Two digits per division, written backwards, so the text is
 * built from its end without measuring each number first. INT64_MIN works
 * because the magnitude is taken as unsigned. */
static char *put_i64_before(char *end, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        const size_t pair = (size_t)(u % 100) * 2;
        u /= 100;
        *--end = digit_pairs[pair + 1];
        *--end = digit_pairs[pair];
    }
    if (u >= 10) {
        *--end = digit_pairs[u * 2 + 1];
        *--end = digit_pairs[u * 2];
    } else {
        *--end = (char)('0' + u);
    }
    if (v < 0)
        *--end = '-';
    return end;
}

int64_t lake_songplay_id(int64_t user_id,
                         int64_t session_id,
                         int64_t item_in_session,
                         int64_t ts_ms)
{
    char text[4 * 20 + 3]; /* "u|s|i|ts", each at most 20 bytes */
    char *const end = text + sizeof(text);
    char *p = put_i64_before(end, ts_ms);
    *--p = '|';
    p = put_i64_before(p, item_in_session);
    *--p = '|';
    p = put_i64_before(p, session_id);
    *--p = '|';
    p = put_i64_before(p, user_id);
    const size_t n = (size_t)(end - p);

    uint8_t md[LAKE_SHA256_BYTES];
    lake_model_sha256(p, n, md);
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | md[i];
    return (int64_t)(id & INT64_MAX);
}
