/* SPDX-License-Identifier: Apache-2.0 */
/* test_model_ids.c - songplay ids against hand-computed SHA-256 vectors. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "model/model.h"

/* The SPEC vector. */
static void test_model_ids__spec_vector(void **state)
{
    (void)state;
    assert_int_equal(lake_songplay_id(15, 818, 5, INT64_C(1542837407796)),
                     INT64_C(345691552365851248));
}

/* Expected values computed by hand, e.g.
 *   printf '%s' '1|2|3|4' | sha256sum  -> 8e96dc5e83d405a5...
 *   0x8e96dc5e83d405a5 & 0x7fffffffffffffff = 1051269861534336421 */
static void test_model_ids__hand_vectors(void **state)
{
    (void)state;
    /* 8e96dc5e83d405a5 -> top bit cleared */
    assert_int_equal(lake_songplay_id(1, 2, 3, 4),
                     INT64_C(1051269861534336421));
    /* 7ae0599afb0f4e0d (top bit already clear) */
    assert_int_equal(lake_songplay_id(0, 0, 0, 0),
                     INT64_C(8854175389582315021));
    /* "-1|-2|-3|-4": dd378bf67989c8d7 -> 0x5d378bf67989c8d7 */
    assert_int_equal(lake_songplay_id(-1, -2, -3, -4),
                     INT64_C(6716991259963672791));
    /* "9223372036854775807|-9223372036854775808|0|-1": a2ee6b2ca9c55777 */
    assert_int_equal(lake_songplay_id(INT64_MAX, INT64_MIN, 0, -1),
                     INT64_C(2517067081317701495));
    /* "26|583|0|1541207073796": addccf8ebf910083 */
    assert_int_equal(lake_songplay_id(26, 583, 0, INT64_C(1541207073796)),
                     INT64_C(3304744438589358211));
}

/* Reference: snprintf + EVP one-shot over many values, including every
 * digit count and sign. */
static int64_t reference_id(int64_t u, int64_t s, int64_t i, int64_t t)
{
    char text[128];
    const int n = snprintf(text, sizeof(text), "%lld|%lld|%lld|%lld",
                           (long long)u, (long long)s, (long long)i,
                           (long long)t);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_int_equal(
        EVP_Digest(text, (size_t)n, md, &md_len, EVP_sha256(), NULL), 1);
    uint64_t id = 0;
    for (int k = 0; k < 8; k++)
        id = id << 8 | md[k];
    return (int64_t)(id & INT64_MAX);
}

static void test_model_ids__matches_reference(void **state)
{
    (void)state;
    int64_t values[64];
    size_t n = 0;
    values[n++] = 0;
    values[n++] = INT64_MIN;
    values[n++] = INT64_MAX;
    for (int64_t p = 1; n + 2 <= LAKE_ARRAY_LEN(values) && p <= INT64_MAX / 10;
         p *= 10) {
        values[n++] = p + 7;
        values[n++] = -(p * 9 + 3);
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b += 3) {
            const int64_t u = values[a], s = values[b];
            const int64_t i = values[(a + b) % n], t = values[(a * 7 + b) % n];
            assert_int_equal(lake_songplay_id(u, s, i, t),
                             reference_id(u, s, i, t));
        }
}

static void test_model_ids__never_negative_and_distinct(void **state)
{
    (void)state;
    int64_t prev = -1;
    for (int64_t item = 0; item < 2000; item++) {
        const int64_t id =
            lake_songplay_id(15, 818, item, INT64_C(1542837407796));
        assert_true(id >= 0);
        assert_true(id != prev);
        prev = id;
    }
    /* Field order matters: "1|2|3|4" is not "4|3|2|1". */
    assert_int_not_equal(lake_songplay_id(1, 2, 3, 4),
                         lake_songplay_id(4, 3, 2, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_ids__spec_vector),
        cmocka_unit_test(test_model_ids__hand_vectors),
        cmocka_unit_test(test_model_ids__matches_reference),
        cmocka_unit_test(test_model_ids__never_negative_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
