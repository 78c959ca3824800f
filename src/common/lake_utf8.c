/* SPDX-License-Identifier: Apache-2.0 */
/* lake_utf8.c - UTF-8 validation with the replacement rule every output of
 * rejected text uses (the quarantine, the Arrow export): each maximal
 * invalid subpart becomes one U+FFFD, as Python's "replace" does. */
#include "fmacros.h"

#include "lake_common.h"
#include "lake_internal.h"

size_t lake_utf8_seq(const uint8_t *s, size_t n, size_t *bad)
{
    const uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n) {
            *bad = i;
            return 0;
        }
        const uint8_t l = i == 1 ? lo : 0x80;
        const uint8_t h = i == 1 ? hi : 0xBF;
        if (s[i] < l || s[i] > h) {
            *bad = i;
            return 0;
        }
    }
    return len;
}

lake_status lake_buf_append_utf8_repaired(lake_buf *b, const char *str,
                                          size_t n)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        size_t j = i, bad = 0, k = 0;
        while (j < n && (k = lake_utf8_seq(s + j, n - j, &bad)) != 0)
            j += k;
        LAKE_TRY(lake_buf_append(b, s + i, j - i));
        if (j == n)
            break;
        LAKE_TRY(lake_buf_append(b, "\xEF\xBF\xBD", 3));
        i = j + bad;
    }
    return LAKE_OK;
}
