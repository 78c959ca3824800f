/* SPDX-License-Identifier: Apache-2.0 */
/* test_model_song_index.c - the song match: exact keys, the 0.001 s
 * tolerance, tie-breaks, many keys, and an out-of-memory sweep. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "model/model.h"

static lake_strview sv(const char *s)
{
    return (lake_strview){s, strlen(s)};
}

static void add(lake_song_index *idx,
                const char *title,
                const char *artist,
                double duration,
                const char *song_id,
                const char *artist_id)
{
    lake_error err;
    assert_int_equal(lake_song_index_add(idx, sv(title), sv(artist), duration,
                                         sv(song_id), sv(artist_id), &err),
                     LAKE_OK);
}

/* The song_id matched, or "" when nothing matches. */
static const char *match(const lake_song_index *idx,
                         const char *song,
                         const char *artist,
                         double length)
{
    static char out[64];
    lake_strview s = {NULL, 0}, a = {NULL, 0};
    if (!lake_song_index_match(idx, sv(song), sv(artist), length, &s, &a))
        return "";
    assert_true(s.len < sizeof(out));
    memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return out;
}

static lake_song_index *new_index(void)
{
    lake_song_index *idx = NULL;
    lake_error err;
    assert_int_equal(lake_song_index_new(NULL, &idx, &err), LAKE_OK);
    assert_non_null(idx);
    return idx;
}

static void test_model_song_index__empty(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    assert_int_equal(lake_song_index_size(idx), 0);
    assert_string_equal(match(idx, "a", "b", 1.0), "");
    lake_song_index_free(idx);
    lake_song_index_free(NULL);
}

static void test_model_song_index__exact_and_tolerance(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    add(idx, "Intro", "The XX", 128.0, "SOA", "ARX");
    assert_int_equal(lake_song_index_size(idx), 1);
    lake_strview s, a;
    assert_true(lake_song_index_match(idx, sv("Intro"), sv("The XX"), 128.0,
                                      &s, &a));
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "SOA", 3);
    assert_int_equal(a.len, 3);
    assert_memory_equal(a.ptr, "ARX", 3);
    /* Within 0.001 s on both sides, in double arithmetic. */
    assert_string_equal(match(idx, "Intro", "The XX", 128.0009), "SOA");
    assert_string_equal(match(idx, "Intro", "The XX", 127.9991), "SOA");
    assert_string_equal(match(idx, "Intro", "The XX", 128.0005), "SOA");
    /* Just outside. */
    assert_string_equal(match(idx, "Intro", "The XX", 128.0011), "");
    assert_string_equal(match(idx, "Intro", "The XX", 127.9989), "");
    /* No length, or no finite length, matches nothing. */
    assert_string_equal(match(idx, "Intro", "The XX", NAN), "");
    assert_string_equal(match(idx, "Intro", "The XX", INFINITY), "");
    assert_string_equal(match(idx, "Intro", "The XX", -INFINITY), "");
    lake_song_index_free(idx);
}

/* The boundary is fabs(duration - length) <= 0.001 in double arithmetic,
 * inclusive; values checked with Python floats (IEEE doubles alike). */
static void test_model_song_index__boundary_is_inclusive(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    add(idx, "zero", "a", 0.0, "S0", "A0");
    add(idx, "one", "a", 1.0, "S1", "A1");
    /* abs(0.0 - 0.001) == 0.001 exactly: a match. */
    assert_string_equal(match(idx, "zero", "a", 0.001), "S0");
    assert_string_equal(match(idx, "zero", "a", -0.001), "S0");
    /* abs(1.0 - 1.001) = 0.000999999999999889: a match;
     * abs(1.0 - 0.999) = 0.0010000000000000009: none. */
    assert_string_equal(match(idx, "one", "a", 1.001), "S1");
    assert_string_equal(match(idx, "one", "a", 0.999), "");
    lake_song_index_free(idx);
}

static void test_model_song_index__ties(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    /* Smallest difference wins regardless of song_id or input order. */
    add(idx, "Song", "Band", 200.0008, "SOA", "AR1");
    add(idx, "Song", "Band", 200.0002, "SOZ", "AR2");
    add(idx, "Song", "Band", 199.9995, "SOB", "AR3");
    assert_string_equal(match(idx, "Song", "Band", 200.0), "SOZ");
    assert_string_equal(match(idx, "Song", "Band", 200.0008), "SOA");
    assert_string_equal(match(idx, "Song", "Band", 199.9990), "SOB");
    /* Equal differences: the smallest song_id in unsigned byte order. */
    add(idx, "Same", "Band", 100.0, "SOb", "AR4");
    add(idx, "Same", "Band", 100.0, "SO\xc3\xa9", "AR5");
    add(idx, "Same", "Band", 100.0, "SOa", "AR6");
    add(idx, "Same", "Band", 100.0, "SOab", "AR7");
    assert_string_equal(match(idx, "Same", "Band", 100.0), "SOa");
    /* A prefix sorts first. */
    add(idx, "Pre", "Band", 1.0, "SO12", "AR8");
    add(idx, "Pre", "Band", 1.0, "SO1", "AR9");
    assert_string_equal(match(idx, "Pre", "Band", 1.0), "SO1");
    /* Unsigned: 0xC3 sorts after 'z'. */
    add(idx, "Hi", "Band", 1.0, "SO\xc3", "ARA");
    add(idx, "Hi", "Band", 1.0, "SOz", "ARB");
    assert_string_equal(match(idx, "Hi", "Band", 1.0), "SOz");
    assert_int_equal(lake_song_index_size(idx), 11);
    lake_song_index_free(idx);
}

static void test_model_song_index__byte_exact_keys(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    add(idx, "Caf\xc3\xa9", "Bj\xc3\xb6rk", 10.0, "SO1", "AR1");
    add(idx, "", "", 5.0, "SO2", "AR2");
    assert_string_equal(match(idx, "Caf\xc3\xa9", "Bj\xc3\xb6rk", 10.0),
                        "SO1");
    assert_string_equal(match(idx, "caf\xc3\xa9", "Bj\xc3\xb6rk", 10.0), "");
    assert_string_equal(match(idx, "Cafe", "Bjork", 10.0), "");
    assert_string_equal(match(idx, "Caf\xc3\xa9 ", "Bj\xc3\xb6rk", 10.0), "");
    assert_string_equal(match(idx, " Caf\xc3\xa9", "Bj\xc3\xb6rk", 10.0), "");
    assert_string_equal(match(idx, "Caf\xc3\xa9", "BJ\xc3\x96RK", 10.0), "");
    /* Title and artist do not run together. */
    assert_string_equal(match(idx, "Caf\xc3\xa9" "Bj", "\xc3\xb6rk", 10.0),
                        "");
    /* Empty strings are keys like any other, whatever their pointer. */
    assert_string_equal(match(idx, "", "", 5.0), "SO2");
    const lake_strview none = {NULL, 0};
    lake_strview s0, a0;
    assert_true(lake_song_index_match(idx, none, none, 5.0, &s0, &a0));
    assert_int_equal(s0.len, 3);
    assert_memory_equal(s0.ptr, "SO2", 3);
    /* Embedded NUL bytes are compared too. */
    lake_error err;
    assert_int_equal(lake_song_index_add(idx, (lake_strview){"a\0b", 3},
                                         sv("x"), 1.0, sv("SO3"), sv("AR3"),
                                         &err),
                     LAKE_OK);
    lake_strview s, a;
    assert_false(lake_song_index_match(idx, (lake_strview){"a\0c", 3},
                                       sv("x"), 1.0, &s, &a));
    assert_true(lake_song_index_match(idx, (lake_strview){"a\0b", 3},
                                      sv("x"), 1.0, &s, &a));
    lake_song_index_free(idx);
}

/* The index copies the bytes: the caller's buffers may change. */
static void test_model_song_index__copies_bytes(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    char title[] = "Title", artist[] = "Artist", sid[] = "SOX", aid[] = "ARX";
    add(idx, title, artist, 3.0, sid, aid);
    memset(title, '?', 5);
    memset(sid, '?', 3);
    assert_string_equal(match(idx, "Title", "Artist", 3.0), "SOX");
    lake_song_index_free(idx);
}

/* Enough keys to grow the table and the arena many times. */
static void test_model_song_index__many_keys(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    char title[64], artist[64], sid[32], aid[32];
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        snprintf(title, sizeof(title), "title %d", i);
        snprintf(artist, sizeof(artist), "artist %d", i % 977);
        snprintf(sid, sizeof(sid), "SO%08d", i);
        snprintf(aid, sizeof(aid), "AR%05d", i % 977);
        add(idx, title, artist, 100.0 + i % 300, sid, aid);
    }
    /* A 10 kB title goes into a block of its own. */
    char *big = calloc(10001, 1);
    assert_non_null(big);
    memset(big, 'b', 10000);
    add(idx, big, "x", 1.0, "SOBIG", "ARBIG");
    assert_int_equal(lake_song_index_size(idx), (size_t)n + 1);
    for (int i = 0; i < n; i += 7) {
        snprintf(title, sizeof(title), "title %d", i);
        snprintf(artist, sizeof(artist), "artist %d", i % 977);
        snprintf(sid, sizeof(sid), "SO%08d", i);
        assert_string_equal(match(idx, title, artist, 100.0 + i % 300), sid);
        assert_string_equal(match(idx, title, artist, 100.5 + i % 300), "");
        snprintf(artist, sizeof(artist), "artist %d", i % 977 + 1);
        assert_string_equal(match(idx, title, artist, 100.0 + i % 300), "");
    }
    assert_string_equal(match(idx, big, "x", 1.0), "SOBIG");
    free(big);
    lake_song_index_free(idx);
}

/* Concurrent lookups on a finished index need no lock. */
typedef struct reader_arg {
    const lake_song_index *idx;
    int id;
    int n_ok;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    char title[32], sid[32];
    for (int i = 0; i < 20000; i++) {
        const int k = (i * 7 + a->id * 13) % 5000;
        snprintf(title, sizeof(title), "t%d", k);
        snprintf(sid, sizeof(sid), "SO%d", k);
        lake_strview s, ar;
        if (lake_song_index_match(a->idx, sv(title), sv("a"), (double)k, &s,
                                  &ar) &&
            s.len == strlen(sid) && memcmp(s.ptr, sid, s.len) == 0)
            a->n_ok++;
    }
    return NULL;
}

static void test_model_song_index__concurrent_reads(void **state)
{
    (void)state;
    lake_song_index *idx = new_index();
    char title[32], sid[32];
    for (int k = 0; k < 5000; k++) {
        snprintf(title, sizeof(title), "t%d", k);
        snprintf(sid, sizeof(sid), "SO%d", k);
        add(idx, title, "a", (double)k, sid, "AR");
    }
    pthread_t th[4];
    reader_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (reader_arg){idx, t, 0};
        assert_int_equal(pthread_create(&th[t], NULL, reader, &args[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(args[t].n_ok, 20000);
    }
    lake_song_index_free(idx);
}

static void test_model_song_index__oom_sweep(void **state)
{
    (void)state;
    char title[32], sid[32];
    for (int64_t fail = 0;; fail++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, fail);
        lake_song_index *idx = NULL;
        lake_error err;
        lake_status rc = lake_song_index_new(&fa.base, &idx, &err);
        int added = 0;
        /* Enough rows to grow every array and fill two arena blocks. */
        for (int i = 0; rc == LAKE_OK && i < 3000; i++) {
            snprintf(title, sizeof(title), "t%d", i / 2);
            snprintf(sid, sizeof(sid), "SO%d", i);
            char big[10000];
            memset(big, 'a' + i % 26, sizeof(big));
            const lake_strview artist = {big, i % 100 == 0 ? sizeof(big) : 3};
            rc = lake_song_index_add(idx, sv(title), artist, (double)i,
                                     sv(sid), sv("AR"), &err);
            if (rc == LAKE_OK)
                added++;
        }
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            assert_int_equal(lake_song_index_size(idx), 3000);
            assert_string_equal(match(idx, "t1499", "jjj", 2999.0), "SO2999");
            lake_song_index_free(idx);
            assert_int_equal(fa.n_live, 0);
            assert_true(fail > 8); /* every growth path was failed once */
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_int_equal(err.code, LAKE_ENOMEM);
        if (idx) {
            /* A failed add changes nothing; earlier rows still match. */
            assert_int_equal(lake_song_index_size(idx), (size_t)added);
            if (added > 0) {
                snprintf(title, sizeof(title), "t%d", (added - 1) / 2);
                snprintf(sid, sizeof(sid), "SO%d", added - 1);
                const char a = (char)('a' + (added - 1) % 26);
                char artist[4] = {a, a, a, 0};
                if ((added - 1) % 100 != 0)
                    assert_string_equal(
                        match(idx, title, artist, (double)(added - 1)), sid);
            }
        }
        lake_song_index_free(idx);
        assert_int_equal(fa.n_live, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_song_index__empty),
        cmocka_unit_test(test_model_song_index__exact_and_tolerance),
        cmocka_unit_test(test_model_song_index__boundary_is_inclusive),
        cmocka_unit_test(test_model_song_index__ties),
        cmocka_unit_test(test_model_song_index__byte_exact_keys),
        cmocka_unit_test(test_model_song_index__copies_bytes),
        cmocka_unit_test(test_model_song_index__many_keys),
        cmocka_unit_test(test_model_song_index__concurrent_reads),
        cmocka_unit_test(test_model_song_index__oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
