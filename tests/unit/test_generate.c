/* SPDX-License-Identifier: Apache-2.0 */
/* test_generate.c - the generator: RNG streams, JSON spelling, ids,
 * session invariants, faults mapped to reasons, whole runs, OOM sweep. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "generate/generate.h"
#include "ingest/ingest.h"

static char tmpdir[] = "/tmp/test_generate_XXXXXX";

static int rm_entry(const char *p,
                    const struct stat *sb,
                    int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = calloc(1, (size_t)n + LAKE_READ_PADDING + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void test_generate__rng_streams(void **state)
{
    (void)state;
    lake_gen_rng a, b, c;
    lake_gen_rng_seed(&a, 42, 7, 3, 1);
    lake_gen_rng_seed(&b, 42, 7, 3, 1);
    lake_gen_rng_seed(&c, 42, 7, 4, 1);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        const uint64_t x = lake_gen_next(&a);
        assert_true(x == lake_gen_next(&b));
        same_c += x == lake_gen_next(&c);
    }
    assert_int_equal(same_c, 0);
    /* Pinned values: the output format depends on them. */
    lake_gen_rng_seed(&a, 1, 0, 0, 0);
    const uint64_t first = lake_gen_next(&a);
    lake_gen_rng_seed(&b, 1, 0, 0, 0);
    assert_true(first == lake_gen_next(&b));
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        const uint32_t k = lake_gen_below(&a, 10);
        assert_true(k < 10);
        const double u = lake_gen_unif(&a);
        assert_true(u >= 0 && u < 1);
        sum += u;
    }
    assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}

static void test_generate__json_spelling(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    const char bjork[] = "Bj\xc3\xb6rk / \"x\"";
    assert_int_equal(lake_gen_json_log_str(&b, bjork, strlen(bjork)), LAKE_OK);
    assert_int_equal(lake_buf_append_byte(&b, 0), LAKE_OK);
    assert_string_equal(b.data,
                        "\"Bj\\u00c3\\u0083\\u00c2\\u00b6rk \\/ \\\"x\\\"\"");
    b.len = 0;
    const char santa[] = "Santaf\xc3\xa8 / \xe6\x9d\xb1";
    assert_int_equal(lake_gen_json_song_str(&b, santa, strlen(santa)), LAKE_OK);
    assert_int_equal(lake_buf_append_byte(&b, 0), LAKE_OK);
    assert_string_equal(b.data, "\"Santaf\\u00e8 / \\u6771\"");
    const struct {
        int64_t v;
        const char *s;
    } fx[] = {{15333832, "153.33832"}, {15333830, "153.3383"},
              {4000000, "40.0"},       {-8677836, "-86.77836"},
              {5, "0.00005"},          {0, "0.0"}};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(fx); i++) {
        b.len = 0;
        assert_int_equal(lake_gen_fixed5(&b, fx[i].v), LAKE_OK);
        assert_int_equal(lake_buf_append_byte(&b, 0), LAKE_OK);
        assert_string_equal(b.data, fx[i].s);
    }
    lake_buf_reset(&b);
}

static void test_generate__ids_and_dates(void **state)
{
    (void)state;
    char id[19];
    for (uint64_t k = 0; k < 1000; k++) {
        const uint64_t v = lake_gen_mix64(k);
        lake_gen_track_id(v, id);
        assert_int_equal(strlen(id), 18);
        assert_memory_equal(id, "TR", 2);
        for (int i = 2; i < 18; i++)
            assert_true((id[i] >= 'A' && id[i] <= 'Z') ||
                        (id[i] >= '0' && id[i] <= '9'));
        for (int i = 2; i < 5; i++) /* folder letters */
            assert_true(id[i] >= 'A' && id[i] <= 'Z');
        lake_gen_song_id(v, id);
        assert_memory_equal(id, "SO", 2);
        lake_gen_artist_id(v, id);
        assert_memory_equal(id, "AR", 2);
    }
    assert_int_equal(lake_gen_days_from_civil(2018, 11, 1) * 86400000LL,
                     1541030400000LL);
    int64_t y;
    unsigned m, d;
    lake_gen_civil_from_days(17836, &y, &m, &d);
    assert_int_equal(y, 2018);
    assert_int_equal(m, 11);
    assert_int_equal(d, 1);
}

/* A small world: catalogue, users, and every user's events over days. */
typedef struct world_fx {
    lake_gen_catalog cat;
    lake_gen_world w;
    lake_gen_user *users;
    lake_buf frags;
    lake_gen_events ev;
} world_fx;

static void world_init(world_fx *f, uint32_t n_users, double dirty)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(lake_gen_catalog_build(&f->cat, NULL, 7, 500, 0.2, 0, 4, 0,
                                            NULL),
                     LAKE_OK);
    f->w.seed = 7;
    f->w.n_users = n_users;
    f->w.start_ms = 1541030400000LL;
    f->w.ms_offset = 796;
    f->w.dirty_rate = dirty;
    f->w.catalog = &f->cat;
    f->users = calloc(n_users, sizeof(*f->users));
    lake_buf_init(&f->frags, NULL, 0);
    for (uint32_t u = 0; u < n_users; u++)
        assert_int_equal(lake_gen_user_init(&f->w, u, &f->users[u], &f->frags),
                         LAKE_OK);
}

static void world_free(world_fx *f)
{
    lake_gen_catalog_free(&f->cat);
    free(f->users);
    lake_buf_reset(&f->frags);
    lake_gen_events_free(&f->ev);
}

static void test_generate__catalog_match_share(void **state)
{
    (void)state;
    world_fx f;
    world_init(&f, 1, 0);
    /* Written songs carry about 20 % of the play mass, all ASCII. */
    assert_true(f.cat.written_mass > 0.19 && f.cat.written_mass < 0.2011);
    uint32_t written = 0, written_utf8 = 0;
    for (uint32_t s = 0; s < f.cat.n_songs; s++)
        if (f.cat.songs[s].written) {
            written++;
            written_utf8 += !f.cat.songs[s].ascii;
        }
    assert_int_equal(written, f.cat.n_written);
    assert_true(written_utf8 > 0); /* non-ASCII song files exist too */
    assert_int_equal(f.cat.n_spare, 4);
    lake_gen_rng r;
    lake_gen_rng_seed(&r, 1, 2, 3, 4);
    int hits = 0;
    for (int i = 0; i < 20000; i++) {
        const lake_gen_song *s = &f.cat.songs[lake_gen_pick_song(&f.cat, &r)];
        hits += s->written && s->ascii;
    }
    assert_true(hits > 20000 * 0.17 && hits < 20000 * 0.23);
    world_free(&f);
}

/* --artists: every song, played, unplayed or spare, is by one of the given
 * artists, and a known year lies near its artist's career year. */
static void test_generate__catalog_artists(void **state)
{
    (void)state;
    lake_gen_catalog c;
    assert_int_equal(
        lake_gen_catalog_build(&c, NULL, 9, 2000, 0.2, 1500, 6, 40, NULL),
        LAKE_OK);
    assert_int_equal(c.n_artists, 40);
    assert_true(c.careers);
    assert_int_equal(c.n_written, 1500);
    assert_true(c.n_songs > c.n_played); /* songs nobody plays, spares */
    uint32_t per_artist[40] = {0}, unknown = 0, far = 0;
    for (uint32_t s = 0; s < c.n_songs; s++) {
        const lake_gen_song *g = &c.songs[s];
        assert_true(g->artist < 40);
        per_artist[g->artist]++;
        if (!g->year) {
            unknown++;
            continue;
        }
        const int d = (int)g->year - (int)c.artists[g->artist].career;
        assert_true(g->year <= 2010);
        far += d > 9 || d < -9; /* 3 sigma */
    }
    uint32_t used = 0, most = 0;
    for (int a = 0; a < 40; a++) {
        used += per_artist[a] > 0;
        most = per_artist[a] > most ? per_artist[a] : most;
    }
    assert_true(used > 30);                  /* the draw reaches most */
    assert_true(most > 3 * c.n_songs / 40); /* and is skewed */
    assert_true(unknown > c.n_songs / 3 && unknown < c.n_songs * 6 / 10);
    assert_true(far < c.n_songs / 50);
    lake_gen_catalog_free(&c);
    /* 0 keeps the default: one artist per two played songs, and one of
     * its own for each other song. */
    assert_int_equal(
        lake_gen_catalog_build(&c, NULL, 9, 2000, 0.2, 1500, 6, 0, NULL),
        LAKE_OK);
    assert_false(c.careers);
    assert_int_equal(c.n_artists, 2000 / 2 + 1 + 1500 + 6);
    lake_gen_catalog_free(&c);
}

static void test_generate__sort_total_order(void **state)
{
    (void)state;
    world_fx f;
    world_init(&f, 60, 0);
    for (uint32_t u = 0; u < 60; u++)
        assert_int_equal(lake_gen_user_day(&f.w, u, 0, &f.users[u], &f.ev),
                         LAKE_OK);
    const size_t n = f.ev.n;
    assert_true(n > 100);
    lake_gen_event *tmp = calloc(n, sizeof(*tmp));
    lake_gen_rng r;
    lake_gen_rng_seed(&r, 3, 3, 3, 3);
    for (int round = 0; round < 3; round++) {
        /* shuffled, then with a huge span (merge sort), then tiny */
        for (size_t i = n; i > 1; i--) {
            const size_t j = lake_gen_below(&r, (uint32_t)i);
            const lake_gen_event t = f.ev.v[i - 1];
            f.ev.v[i - 1] = f.ev.v[j];
            f.ev.v[j] = t;
        }
        if (round == 1)
            f.ev.v[0].ts += 1LL << 40;
        const size_t m = round == 2 ? 40 : n;
        lake_gen_sort(f.ev.v, tmp, m);
        for (size_t i = 1; i < m; i++)
            assert_true(lake_gen_event_cmp(&f.ev.v[i - 1], &f.ev.v[i]) < 0);
    }
    free(tmp);
    world_free(&f);
}

static void test_generate__session_invariants(void **state)
{
    (void)state;
    world_fx f;
    const uint32_t n_users = 40;
    world_init(&f, n_users, 0);
    int64_t n_events = 0, n_songs = 0, n_upgrades = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        f.ev.n = 0;
        for (int32_t day = 0; day < 20; day++)
            assert_int_equal(lake_gen_user_day(&f.w, u, day, &f.users[u],
                                               &f.ev),
                             LAKE_OK);
        const lake_gen_event *v = f.ev.v;
        for (size_t i = 0; i < f.ev.n; i++) {
            n_events++;
            assert_int_equal(v[i].user, u);
            assert_int_equal(v[i].fault, LAKE_GEN_CLEAN);
            assert_int_equal((v[i].ts % 1000 + 1000) % 1000, 796);
            if (i == 0 || v[i].session != v[i - 1].session) {
                /* sessions start at item 0; ids are unique per user and
                 * increase, so (sessionId, item) is unique */
                assert_int_equal(v[i].item, 0);
                if (i)
                    assert_true(v[i].session > v[i - 1].session);
                assert_int_equal((v[i].session - 1) % n_users, u);
            } else {
                assert_int_equal(v[i].item, v[i - 1].item + 1);
            }
            if (i) {
                assert_true(v[i].ts >= v[i - 1].ts);
                assert_true(lake_gen_event_cmp(&v[i - 1], &v[i]) < 0);
                /* level changes only through the submit pages */
                if (v[i].level != v[i - 1].level) {
                    assert_int_equal(v[i - 1].page,
                                     v[i].level ? LAKE_GEN_SUBMIT_UPGRADE
                                                : LAKE_GEN_SUBMIT_DOWNGRADE);
                    n_upgrades++;
                }
                if (v[i - 1].page == LAKE_GEN_SUBMIT_UPGRADE)
                    assert_int_equal(v[i].level, 1);
                /* a page after a song starts when the song ends */
                if (v[i - 1].page == LAKE_GEN_NEXTSONG &&
                    v[i].session == v[i - 1].session) {
                    const int64_t len_s =
                        f.cat.songs[v[i - 1].song].dur_e5 / 100000;
                    assert_true(v[i].ts == v[i - 1].ts + len_s * 1000);
                }
            }
            if (!v[i].logged_in)
                assert_true(
                    v[i].page == LAKE_GEN_HOME || v[i].page == LAKE_GEN_LOGIN ||
                    v[i].page == LAKE_GEN_ABOUT || v[i].page == LAKE_GEN_HELP);
            if (v[i].page == LAKE_GEN_NEXTSONG) {
                assert_true(v[i].logged_in);
                n_songs++;
            }
            if (v[i].page == LAKE_GEN_ROLL_ADVERT ||
                v[i].page == LAKE_GEN_UPGRADE)
                assert_int_equal(v[i].level, 0);
            if (v[i].page == LAKE_GEN_DOWNGRADE)
                assert_int_equal(v[i].level, 1);
        }
    }
    assert_true(n_events > 1000);
    assert_true(n_songs > n_events * 7 / 10 && n_songs < n_events * 9 / 10);
    assert_true(n_upgrades > 0);
    world_free(&f);
}

static const char *const keys[] = {"artist",    "auth",          "firstName",
                                   "gender",    "itemInSession", "lastName",
                                   "length",    "level",         "location",
                                   "method",    "page",          "registration",
                                   "sessionId", "song",          "status",
                                   "ts",        "userAgent",     "userId"};

/* Every clean line has the 18 keys in the course's order; every faulty
 * one is rejected by the ingest stage with exactly its reason. */
static void test_generate__lines_and_faults(void **state)
{
    (void)state;
    world_fx f;
    world_init(&f, 30, 0.3);
    for (uint32_t u = 0; u < 30; u++)
        for (int32_t day = 0; day < 10; day++)
            assert_int_equal(lake_gen_user_day(&f.w, u, day, &f.users[u],
                                               &f.ev),
                             LAKE_OK);
    lake_record_reader *rr = NULL;
    assert_int_equal(lake_record_reader_new(NULL, &rr, NULL), LAKE_OK);
    lake_buf line;
    lake_buf_init(&line, NULL, 0);
    int64_t seen[LAKE_GEN_N_FAULTS] = {0};
    for (size_t i = 0; i < f.ev.n; i++) {
        const lake_gen_event *ev = &f.ev.v[i];
        line.len = 0;
        assert_int_equal(lake_gen_format_event(&line, &f.w, f.users,
                                               f.frags.data, ev),
                         LAKE_OK);
        assert_int_equal(lake_buf_reserve(&line, LAKE_READ_PADDING + 1),
                         LAKE_OK);
        memset(line.data + line.len, 0, LAKE_READ_PADDING + 1);
        assert_null(memchr(line.data, '\n', line.len));
        const int reason = lake_gen_fault_reason(ev->fault);
        if (reason < 0) {
            const char *p = line.data;
            for (size_t k = 0; k < LAKE_ARRAY_LEN(keys); k++) {
                char key[32];
                snprintf(key, sizeof(key), "\"%s\":", keys[k]);
                const char *q = strstr(p, key);
                assert_non_null(q);
                p = q + strlen(key);
            }
            assert_int_equal(line.data[line.len - 1], '}');
            if (ev->page == LAKE_GEN_NEXTSONG)
                assert_null(strstr(line.data, "\"song\":null"));
            else
                assert_non_null(strstr(line.data, "\"artist\":null"));
        } else {
            seen[ev->fault]++;
        }
        lake_event_rec rec;
        lake_reject rej;
        lake_next next;
        lake_record_reader_reset(rr, LAKE_REC_EVENT, line.data, line.len);
        assert_int_equal(lake_record_reader_next(rr, &rec, &rej, &next, NULL),
                         LAKE_OK);
        if (reason < 0) {
            if (next != LAKE_NEXT_RECORD)
                fail_msg("rejected %s: %.*s", rej.reason, (int)line.len,
                         line.data);
            assert_true(rec.ts == ev->ts);
            assert_true(rec.session_id == ev->session);
            assert_true(rec.item_in_session == ev->item);
            assert_int_equal(rec.has_user, ev->logged_in);
            if (ev->logged_in)
                assert_true(rec.user_id == ev->user + 1);
            if (ev->page == LAKE_GEN_NEXTSONG) {
                const lake_gen_song *s = &f.cat.songs[ev->song];
                assert_true(rec.has_length);
                assert_true(rec.length == s->dur_e5 / 1e5);
                if (s->ascii) {
                    const lake_gen_artist *a = &f.cat.artists[s->artist];
                    assert_int_equal(rec.song.v.len, s->title_len);
                    assert_memory_equal(rec.song.v.ptr,
                                        f.cat.text.data + s->title_off,
                                        s->title_len);
                    assert_int_equal(rec.artist.v.len, a->name_len);
                    assert_memory_equal(rec.artist.v.ptr,
                                        f.cat.text.data + a->name_off,
                                        a->name_len);
                }
            }
        } else {
            if (next != LAKE_NEXT_REJECT ||
                strcmp(rej.reason, lake_generate_reason(reason)) != 0)
                fail_msg("fault %d: want %s, got %s: %.*s", ev->fault,
                         lake_generate_reason(reason),
                         next == LAKE_NEXT_REJECT ? rej.reason : "a record",
                         (int)line.len, line.data);
        }
    }
    for (int k = 1; k < LAKE_GEN_N_FAULTS; k++)
        if (!seen[k])
            fail_msg("fault %d never drawn", k);
    lake_buf_reset(&line);
    lake_record_reader_free(rr);
    world_free(&f);
}

static void test_generate__song_files_parse(void **state)
{
    (void)state;
    world_fx f;
    world_init(&f, 1, 0);
    lake_record_reader *rr = NULL;
    assert_int_equal(lake_record_reader_new(NULL, &rr, NULL), LAKE_OK);
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    for (int fault = 0; fault < LAKE_GEN_N_SONG_FAULTS; fault++) {
        for (uint32_t s = 0; s + 1 < f.cat.n_songs; s += 37) {
            b.len = 0;
            assert_int_equal(lake_gen_format_song(&b, &f.cat, s, fault, s + 1),
                             LAKE_OK);
            assert_int_equal(lake_buf_reserve(&b, LAKE_READ_PADDING + 1),
                             LAKE_OK);
            memset(b.data + b.len, 0, LAKE_READ_PADDING + 1);
            if (fault == 0)
                assert_memory_equal(b.data, "{\"num_songs\": 1, ", 17);
            lake_record_reader_reset(rr, LAKE_REC_SONG, b.data, b.len);
            const int reason = lake_gen_song_fault_reason(fault);
            const int n_rec = fault == LAKE_GEN_SF_PRETTY_PAIR ? 2
                              : reason < 0                     ? 1
                                                               : 0;
            int got = 0, rejected = 0;
            for (;;) {
                lake_song_rec rec;
                lake_reject rej;
                lake_next next;
                assert_int_equal(lake_record_reader_next(rr, &rec, &rej, &next,
                                                         NULL),
                                 LAKE_OK);
                if (next == LAKE_NEXT_END)
                    break;
                if (next == LAKE_NEXT_RECORD) {
                    got++;
                    const uint32_t si = s + (uint32_t)got - 1;
                    assert_true(rec.duration == f.cat.songs[si].dur_e5 / 1e5);
                    assert_int_equal(rec.title.v.len,
                                     f.cat.songs[si].title_len);
                } else {
                    rejected++;
                    assert_string_equal(rej.reason,
                                        lake_generate_reason(reason));
                }
            }
            assert_int_equal(got, n_rec);
            assert_int_equal(rejected, reason < 0 ? 0 : 1);
        }
    }
    lake_buf_reset(&b);
    lake_record_reader_free(rr);
    world_free(&f);
}

static lake_status run_small(const char *out,
                             int threads,
                             int gzip,
                             double dirty,
                             const lake_allocator *alloc,
                             lake_generate_report *r)
{
    lake_generate_opts o = {0};
    const bool tiny = alloc != NULL; /* the OOM sweep runs it many times */
    o.alloc = alloc;
    o.out_dir = out;
    o.n_users = tiny ? 4 : 12;
    o.n_days = tiny ? 2 : 3;
    o.catalog_songs = tiny ? 40 : 300;
    o.match_rate = tiny ? 0.1 : 0.3;
    o.threads = threads;
    o.gzip = gzip;
    o.dirty_rate = dirty;
    o.seed = 5;
    lake_error err;
    return lake_generate(&o, r, &err);
}

static void test_generate__threads_same_bytes(void **state)
{
    (void)state;
    char a[4200], b[4200];
    for (int gz = 0; gz < 2; gz++) {
        snprintf(a, sizeof(a), "%s/t1-%d", tmpdir, gz);
        snprintf(b, sizeof(b), "%s/t3-%d", tmpdir, gz);
        lake_generate_report ra, rb;
        assert_int_equal(run_small(a, 1, gz, 0.05, NULL, &ra), LAKE_OK);
        assert_int_equal(run_small(b, 3, gz, 0.05, NULL, &rb), LAKE_OK);
        assert_true(ra.events > 0);
        assert_true(ra.events == rb.events && ra.bytes == rb.bytes);
        assert_true(ra.log_files == 3);
        assert_true(ra.faults > 0);
        assert_true(ra.plays == ra.songplays + ra.duplicates);
        const char *day[] = {"2018-11-01", "2018-11-02", "2018-11-03"};
        for (int d = 0; d < 3; d++) {
            char pa[4400], pb[4400];
            snprintf(pa, sizeof(pa), "%s/log_data/2018/11/%s-events.json%s", a,
                     day[d], gz ? ".gz" : "");
            snprintf(pb, sizeof(pb), "%s/log_data/2018/11/%s-events.json%s", b,
                     day[d], gz ? ".gz" : "");
            size_t na = 0, nb = 0;
            char *da = slurp(pa, &na), *db = slurp(pb, &nb);
            assert_non_null(da);
            assert_non_null(db);
            assert_int_equal(na, nb);
            assert_memory_equal(da, db, na);
            if (!gz)
                assert_true(na == 0 || da[na - 1] != '\n');
            free(da);
            free(db);
        }
        /* An existing tree is refused. */
        assert_int_equal(run_small(a, 1, gz, 0, NULL, &ra), LAKE_EINVAL);
    }
}

static void test_generate__bad_options(void **state)
{
    (void)state;
    lake_generate_opts o = {0};
    lake_error err;
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    o.out_dir = "/tmp/never-written-by-test-generate";
    o.start_date = "2019-02-29";
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "start date"));
    o.start_date = NULL;
    o.dirty_rate = 1.5;
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    o.dirty_rate = 0;
    o.n_users = -1;
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    o.n_users = 0;
    o.n_artists = -1;
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "artists"));
    o.catalog_songs = 10;
    o.song_files = 5;
    o.n_artists = 16; /* an artist without a song */
    assert_int_equal(lake_generate(&o, NULL, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "artists must be 0 to 15"));
}

static void test_generate__oom_sweep(void **state)
{
    (void)state;
    char out[4200];
    for (int64_t n = 0;; n++) {
        snprintf(out, sizeof(out), "%s/oom", tmpdir);
        rm_rf(out);
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_generate_report r;
        const lake_status rc =
            run_small(out, 1, (int)(n & 1), 0.05, &fa.base, &r);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_true(n > 10);
            assert_true(r.events > 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_true(n < 100000);
    }
    rm_rf(out);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate__rng_streams),
        cmocka_unit_test(test_generate__json_spelling),
        cmocka_unit_test(test_generate__ids_and_dates),
        cmocka_unit_test(test_generate__catalog_match_share),
        cmocka_unit_test(test_generate__catalog_artists),
        cmocka_unit_test(test_generate__sort_total_order),
        cmocka_unit_test(test_generate__session_invariants),
        cmocka_unit_test(test_generate__lines_and_faults),
        cmocka_unit_test(test_generate__song_files_parse),
        cmocka_unit_test(test_generate__threads_same_bytes),
        cmocka_unit_test(test_generate__bad_options),
        cmocka_unit_test(test_generate__oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
