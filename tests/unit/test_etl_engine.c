/* SPDX-License-Identifier: Apache-2.0 */
/* test_etl_engine.c - lake_etl_run() on the fixtures of tests/data/etl:
 * counts, quarantine, partition layout, determinism across threads,
 * reruns, failures that leave the previous lake, the OOM sweep. Values
 * inside the Parquet files are checked by python/tests/test_etl_e2e.py. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_common.h"

static char tmpdir[256];
static char basic_songs[512], basic_logs[512];
static char small_songs[512], small_logs[512];
static char tiny_songs[512], tiny_logs[512];

static void data_path(char *out, size_t size, const char *rel)
{
    const char *root = getenv("LAKE_TEST_DATA");
    snprintf(out, size, "%s/etl/%s", root ? root : "tests/data", rel);
}

static void lake_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static lake_etl_opts basic_opts(const char *lake, int threads)
{
    lake_etl_opts o;
    memset(&o, 0, sizeof(o));
    o.song_root = basic_songs;
    o.log_root = basic_logs;
    o.lake = lake;
    o.threads = threads;
    o.no_fsync = 1;
    return o;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool existsf(const char *fmt, ...) LAKE_PRINTF(1, 2);
static bool existsf(const char *fmt, ...)
{
    char p[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof(p), fmt, ap);
    va_end(ap);
    return exists(p);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return p;
}

/* A listing of a tree: "relpath size\n" per file, sorted, with the
 * report left out (it holds timings). With contents when @p bytes. */
static void listing(const char *root, const char *rel, lake_buf *out,
                    bool bytes)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        char sub[4096], full[8200];
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
                 names[i]);
        snprintf(full, sizeof(full), "%s/%s", root, sub);
        struct stat st;
        assert_int_equal(lstat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            assert_int_equal(lake_buf_printf(out, "%s/\n", sub), LAKE_OK);
            listing(root, sub, out, bytes);
        } else if (strcmp(sub, "_sparkify_report.json") != 0) {
            assert_int_equal(lake_buf_printf(out, "%s %lld\n", sub,
                                             (long long)st.st_size),
                             LAKE_OK);
            if (bytes) {
                size_t len;
                char *p = slurp(full, &len);
                assert_int_equal(lake_buf_append(out, p, len), LAKE_OK);
                free(p);
            }
        }
        free(names[i]);
    }
    free(names);
}

static char *snapshot(const char *lake)
{
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    listing(lake, "", &b, true);
    assert_int_equal(lake_buf_append_byte(&b, 0), LAKE_OK);
    return lake_buf_take(&b, NULL, NULL);
}

static int64_t reason_count(const lake_etl_report *r, const char *reason)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        if (!strcmp(r->reasons[i].reason, reason))
            return r->reasons[i].count;
    return 0;
}

static void run_ok(const lake_etl_opts *o, lake_etl_report *r)
{
    lake_error err;
    const lake_status rc = lake_etl_run(o, r, &err);
    if (rc != LAKE_OK)
        fail_msg("lake_etl_run: %s", err.message);
}

/* No staging folder is left in @p lake. */
static void assert_no_staging(const char *lake)
{
    DIR *d = opendir(lake);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        assert_null(strstr(e->d_name, ".sparkify-staging-"));
    closedir(d);
}

/* ---- the rules, through the report and the layout ---- */

static void test_etl_engine__basic_counts(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "basic");
    const lake_etl_opts o = basic_opts(lake, 2);
    lake_etl_report r;
    run_ok(&o, &r);
    /* songs: S1 (twice, last wins), S2 S0 S9 S8 S7, S3 (BOM), S4 (gzip),
     * 9 hostile artist ids; skipped files give nothing */
    assert_int_equal(r.rows[LAKE_ETL_SONGS], 17);
    assert_int_equal(r.rows[LAKE_ETL_ARTISTS], 13);
    /* users 10..15: the logged-out events add none */
    assert_int_equal(r.rows[LAKE_ETL_USERS], 6);
    /* plays: the duplicate in b.json.gz is dropped (first wins) */
    assert_int_equal(r.rows[LAKE_ETL_SONGPLAYS], 6);
    /* two plays of 1969 share a start_time */
    assert_int_equal(r.rows[LAKE_ETL_TIME], 5);
    assert_int_equal(r.matched_plays, 2);
    assert_int_equal(r.quarantined, 6);
    assert_int_equal(r.n_reasons, 6);
    assert_int_equal(reason_count(&r, "invalid_json"), 1);
    assert_int_equal(reason_count(&r, "not_an_object"), 1);
    assert_int_equal(reason_count(&r, "missing_field:song_id"), 1);
    assert_int_equal(reason_count(&r, "wrong_type:duration"), 1);
    assert_int_equal(reason_count(&r, "missing_field:userId"), 1);
    assert_int_equal(reason_count(&r, "out_of_range:ts"), 1);
    /* reasons are sorted */
    for (size_t i = 1; i < r.n_reasons; i++)
        assert_true(strcmp(r.reasons[i - 1].reason, r.reasons[i].reason) <
                    0);
    /* files: A/1 A/2 B/bom B/multi B/z.gz C/bad C/h0..h8; 3 log files */
    assert_int_equal(r.song_files, 15);
    assert_int_equal(r.log_files, 3);
    assert_int_equal(r.threads, 2);
    assert_true(r.bytes_read > 0);
    assert_no_staging(lake);
}

static void test_etl_engine__layout(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "layout");
    const lake_etl_opts o = basic_opts(lake, 1);
    lake_etl_report r;
    run_ok(&o, &r);
    static const char *const tables[] = {"songs", "artists", "users", "time",
                                         "songplays", "_quarantine"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(tables); i++)
        assert_true(existsf("%s/%s/_SUCCESS", lake, tables[i]));
    assert_true(existsf("%s/_sparkify_report.json", lake));
    assert_true(existsf("%s/artists/part-00000.parquet", lake));
    assert_true(existsf("%s/users/part-00000.parquet", lake));
    assert_true(existsf("%s/songs/year=2001/artist_id=AR1/part-00000.parquet",
                        lake));
    /* year 0 is NULL: the default partition */
    assert_true(existsf("%s/songs/year=__HIVE_DEFAULT_PARTITION__/"
                        "artist_id=AR2/part-00000.parquet",
                        lake));
    assert_true(existsf("%s/songs/year=1999/artist_id=AR2/part-00000.parquet",
                        lake));
    assert_true(existsf("%s/songplays/year=2018/month=11/part-00000.parquet",
                        lake));
    assert_true(existsf("%s/songplays/year=2018/month=12/part-00000.parquet",
                        lake));
    assert_true(existsf("%s/songplays/year=1969/month=12/part-00000.parquet",
                        lake));
    assert_true(existsf("%s/time/year=1969/month=12/part-00000.parquet",
                        lake));
    /* no partition column inside a path other than as a folder name */
    assert_false(existsf("%s/songs/year=2000", lake)); /* S1 of 2000 lost */
}

static void test_etl_engine__hostile_partitions(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "hostile");
    const lake_etl_opts o = basic_opts(lake, 2);
    lake_etl_report r;
    run_ok(&o, &r);
    const char *y = "songs/year=1990";
    assert_true(existsf("%s/%s/artist_id=..%%2Fx/part-00000.parquet", lake,
                        y));
    assert_true(existsf("%s/%s/artist_id=a%%2Fb/part-00000.parquet", lake, y));
    assert_true(existsf("%s/%s/artist_id=%%2E/part-00000.parquet", lake, y));
    assert_true(
        existsf("%s/%s/artist_id=%%2E%%2E/part-00000.parquet", lake, y));
    assert_true(existsf("%s/%s/artist_id=x%%00y/part-00000.parquet", lake, y));
    assert_true(existsf("%s/%s/artist_id=%%252E/part-00000.parquet", lake, y));
    assert_true(existsf("%s/%s/artist_id=k%%3Dv/part-00000.parquet", lake, y));
    /* nothing escaped the table: songs/ holds only year=... folders and
     * _SUCCESS, year=1990/ only artist_id=... folders of <= 255 bytes,
     * each with one file */
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", lake, y);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            assert_true(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."));
        else {
            assert_memory_equal(e->d_name, "artist_id=", 10);
            assert_true(strlen(e->d_name) <= 255);
            assert_true(existsf("%s/%s/part-00000.parquet", path, e->d_name));
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 9);
    snprintf(path, sizeof(path), "%s/songs", lake);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        assert_true(e->d_name[0] == '.' || !strcmp(e->d_name, "_SUCCESS") ||
                    !strncmp(e->d_name, "year=", 5));
    closedir(d);
    assert_false(existsf("%s/x", lake));
    assert_false(existsf("%s/songs/x", lake));
    assert_false(existsf("%s/songs/year=1990/x", lake));
}

static void test_etl_engine__quarantine_contents(void **state)
{
    (void)state;
    char lake[512], qpath[600];
    lake_path(lake, sizeof(lake), "quarantine");
    const lake_etl_opts o = basic_opts(lake, 2);
    lake_etl_report r;
    run_ok(&o, &r);
    snprintf(qpath, sizeof(qpath), "%s/_quarantine/part-00000.jsonl", lake);
    char *q = slurp(qpath, NULL);
    assert_non_null(q);
    char bad[600], logs_a[600];
    snprintf(bad, sizeof(bad), "%s/C/bad.jsonl", basic_songs);
    snprintf(logs_a, sizeof(logs_a), "%s/2018/11/a.json", basic_logs);
    char expect[4096];
    /* input order: song files first, then logs; line numbers 1-based;
     * invalid UTF-8 (\xff\xfe) became two U+FFFD */
    snprintf(expect, sizeof(expect),
             "{\"source\":\"%s\",\"line\":1,\"reason\":\"invalid_json\","
             "\"raw\":\"{\\\"song_id\\\": \\\"X1\\\", \\\"title\\\": "
             "\\\"\xEF\xBF\xBD\xEF\xBF\xBD broken\"}\n"
             "{\"source\":\"%s\",\"line\":2,\"reason\":\"not_an_object\","
             "\"raw\":\"[1, 2]\"}\n",
             bad, bad);
    assert_memory_equal(q, expect, strlen(expect));
    int lines = 0;
    for (const char *p = q; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 6);
    snprintf(expect, sizeof(expect),
             "{\"source\":\"%s\",\"line\":7,\"reason\":\"missing_field:userId"
             "\",\"raw\":\"{\\\"artist\\\":\\\"112\\\"",
             logs_a);
    assert_non_null(strstr(q, expect));
    snprintf(expect, sizeof(expect),
             "{\"source\":\"%s\",\"line\":9,\"reason\":\"out_of_range:ts\"",
             logs_a);
    assert_non_null(strstr(q, expect));
    free(q);
}

static void test_etl_engine__threads_identical_bytes(void **state)
{
    (void)state;
    char l1[512], l2[512], l3[512];
    lake_path(l1, sizeof(l1), "t1");
    lake_path(l2, sizeof(l2), "t2");
    lake_path(l3, sizeof(l3), "t3");
    lake_etl_opts o = basic_opts(l1, 1);
    lake_etl_report r;
    run_ok(&o, &r);
    o = basic_opts(l2, 2);
    run_ok(&o, &r);
    o = basic_opts(l3, 3);
    o.bucket_bytes = 1; /* many hash slots: still the same plays */
    o.spill_memory_bytes = 1; /* and every spill on disk */
    lake_etl_report r3;
    run_ok(&o, &r3);
    char *s1 = snapshot(l1), *s2 = snapshot(l2);
    assert_string_equal(s1, s2);
    /* spilled to disk rather than kept in memory: the same bytes */
    char l4[512];
    lake_path(l4, sizeof(l4), "t4");
    o = basic_opts(l4, 2);
    o.spill_memory_bytes = 1;
    run_ok(&o, &r);
    char *s4 = snapshot(l4);
    assert_string_equal(s1, s4);
    free(s4);
    /* a rerun into the same lake gives the same bytes too */
    o = basic_opts(l2, 2);
    run_ok(&o, &r);
    char *s2b = snapshot(l2);
    assert_string_equal(s1, s2b);
    assert_int_equal(r3.rows[LAKE_ETL_SONGPLAYS], r.rows[LAKE_ETL_SONGPLAYS]);
    assert_int_equal(r3.rows[LAKE_ETL_TIME], r.rows[LAKE_ETL_TIME]);
    assert_int_equal(r3.matched_plays, r.matched_plays);
    free(s1);
    free(s2);
    free(s2b);
}

static void test_etl_engine__rerun_replaces_lake(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "rerun");
    lake_etl_opts o = basic_opts(lake, 2);
    lake_etl_report r;
    run_ok(&o, &r);
    assert_true(existsf("%s/songs/year=2001/artist_id=AR1", lake));
    assert_true(existsf("%s/_quarantine/part-00000.jsonl", lake));
    o.song_root = small_songs;
    o.log_root = small_logs;
    run_ok(&o, &r);
    assert_int_equal(r.rows[LAKE_ETL_SONGS], 1);
    assert_int_equal(r.quarantined, 0);
    /* the old partitions and the old quarantine are gone */
    assert_false(existsf("%s/songs/year=2001", lake));
    assert_true(existsf("%s/songs/year=2020/artist_id=ARX/part-00000.parquet",
                        lake));
    assert_false(existsf("%s/_quarantine/part-00000.jsonl", lake));
    assert_true(existsf("%s/_quarantine/_SUCCESS", lake));
    assert_false(existsf("%s/songplays/year=1969", lake));
    assert_no_staging(lake);
}

static void test_etl_engine__failure_leaves_previous_lake(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "failure");
    lake_etl_opts o = basic_opts(lake, 2);
    lake_etl_report r;
    run_ok(&o, &r);
    char *before = snapshot(lake);
    /* a missing log root: EIO naming it, nothing touched */
    o.log_root = "/nonexistent/logs";
    lake_error err;
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "/nonexistent/logs"));
    char *after = snapshot(lake);
    assert_string_equal(before, after);
    free(after);
    /* a log root that is a file: fails after staging began */
    char file[600];
    snprintf(file, sizeof(file), "%s/2018/11/a.json", basic_logs);
    o.log_root = file;
    const lake_status rc = lake_etl_run(&o, &r, &err);
    assert_int_not_equal(rc, LAKE_OK);
    after = snapshot(lake);
    assert_string_equal(before, after);
    assert_no_staging(lake);
    free(after);
    free(before);
}

static void test_etl_engine__cleans_leftover_staging(void **state)
{
    (void)state;
    char lake[512], p[700];
    lake_path(lake, sizeof(lake), "leftover");
    assert_int_equal(mkdir(lake, 0777), 0);
    /* a killed run's folder (no such pid), and folders that are not ours */
    snprintf(p, sizeof(p), "%s/.sparkify-staging-999999999-1", lake);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof(p), "%s/.sparkify-staging-999999999-1/songs", lake);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof(p), "%s/.other", lake);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof(p), "%s/.sparkify-stagingX", lake);
    assert_int_equal(mkdir(p, 0777), 0);
    const lake_etl_opts o = basic_opts(lake, 1);
    lake_etl_report r;
    run_ok(&o, &r);
    assert_false(existsf("%s/.sparkify-staging-999999999-1", lake));
    assert_true(existsf("%s/.other", lake));
    assert_true(existsf("%s/.sparkify-stagingX", lake));
}

static void test_etl_engine__fail_on_bad(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "failonbad");
    lake_etl_opts o = basic_opts(lake, 2);
    o.fail_on_bad = 1;
    lake_etl_report r;
    lake_error err;
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EBADDATA);
    assert_non_null(strstr(err.message, "6 records quarantined"));
    assert_int_equal(r.quarantined, 6);
    /* published anyway */
    assert_true(existsf("%s/songplays/_SUCCESS", lake));
    /* clean input: OK */
    char lake2[512];
    lake_path(lake2, sizeof(lake2), "failonbad2");
    o.lake = lake2;
    o.song_root = small_songs;
    o.log_root = small_logs;
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_OK);
}

static void test_etl_engine__bad_options(void **state)
{
    (void)state;
    lake_error err;
    lake_etl_report r;
    assert_int_equal(lake_etl_run(NULL, &r, &err), LAKE_EINVAL);
    lake_etl_opts o = basic_opts("/tmp/never-made", 1);
    o.song_root = NULL;
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "song root"));
    o = basic_opts("/tmp/never-made", 1);
    o.log_root = "";
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EINVAL);
    o = basic_opts(NULL, 1);
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EINVAL);
    o = basic_opts("/tmp/never-made", -1);
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EINVAL);
    o = basic_opts("/tmp/never-made", 1);
    o.codec = (lake_codec)9;
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EINVAL);
    assert_false(exists("/tmp/never-made"));
    /* a lake that cannot be made */
    o = basic_opts("/proc/no/such/lake", 1);
    assert_int_equal(lake_etl_run(&o, &r, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "/proc/no"));
}

typedef struct progress_log {
    int calls;
    int64_t last_files;
    bool saw_logs, saw_publish;
} progress_log;

static void on_progress(void *ctx, const lake_etl_progress *p)
{
    progress_log *l = ctx;
    l->calls++;
    assert_true(p->files_done >= l->last_files);
    assert_true(p->files_done <= p->files_total);
    l->last_files = p->files_done;
    if (!strcmp(p->phase, "logs"))
        l->saw_logs = true;
    if (!strcmp(p->phase, "publish"))
        l->saw_publish = true;
}

static void test_etl_engine__progress(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "progress");
    lake_etl_opts o = basic_opts(lake, 2);
    progress_log log = {0, 0, false, false};
    o.progress = on_progress;
    o.progress_ctx = &log;
    lake_etl_report r;
    run_ok(&o, &r);
    assert_true(log.calls >= 3); /* at least once per phase */
    assert_true(log.saw_logs);
    assert_true(log.saw_publish);
    assert_int_equal(log.last_files, 18);
}

static void test_etl_engine__report_json(void **state)
{
    (void)state;
    lake_etl_report r;
    memset(&r, 0, sizeof(r));
    r.rows[LAKE_ETL_SONGS] = 71;
    r.matched_plays = 1;
    r.quarantined = 3;
    r.n_reasons = 1;
    snprintf(r.reasons[0].reason, sizeof(r.reasons[0].reason), "a\"b");
    r.reasons[0].count = 3;
    r.threads = 2;
    const size_t n = lake_etl_report_json(&r, NULL, 0);
    char *buf = malloc(n + 1);
    assert_int_equal(lake_etl_report_json(&r, buf, n + 1), n);
    assert_int_equal(strlen(buf), n);
    assert_non_null(strstr(buf, "\"rows\":{\"songs\":71,\"artists\":0,"));
    assert_non_null(strstr(buf, "\"matched_plays\":1,\"quarantined\":3,"));
    assert_non_null(strstr(buf, "\"quarantined_by_reason\":{\"a\\\"b\":3}"));
    /* truncation keeps a terminated string and reports the full length */
    char small[10];
    assert_int_equal(lake_etl_report_json(&r, small, sizeof(small)), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    free(buf);
    /* the report written into the lake is the same JSON */
    char lake[512], path[600];
    lake_path(lake, sizeof(lake), "report");
    const lake_etl_opts o = basic_opts(lake, 1);
    run_ok(&o, &r);
    snprintf(path, sizeof(path), "%s/_sparkify_report.json", lake);
    char *text = slurp(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"rows\":{\"songs\":17,\"artists\":13,"
                                 "\"users\":6,\"time\":5,\"songplays\":6}"));
    assert_non_null(strstr(text, "\"quarantined\":6,"));
    /* every phase but publish (timed after the report is written) */
    assert_non_null(strstr(text, "\"phase_seconds\":{\"fetch\":"));
    assert_non_null(strstr(text, ",\"quarantine\":"));
    assert_null(strstr(text, "\"publish\""));
    free(text);
    /* the phases cover the run: their sum is its wall time */
    double sum = 0;
    for (int p = 0; p < LAKE_ETL_N_PHASES; p++) {
        assert_true(r.phase_seconds[p] >= 0);
        sum += r.phase_seconds[p];
    }
    assert_true(r.phase_seconds[LAKE_ETL_PHASE_PUBLISH] > 0);
    assert_true(fabs(sum - r.seconds) <= 1e-9 * (1 + r.seconds));
    assert_string_equal(lake_etl_phase_name(LAKE_ETL_PHASE_LOGS), "logs");
    assert_null(lake_etl_phase_name(LAKE_ETL_N_PHASES));
    assert_string_equal(lake_etl_table_name(LAKE_ETL_TIME), "time");
    assert_string_equal(lake_etl_table_name(LAKE_ETL_N_TABLES), "?");
}

static void test_etl_engine__empty_input(void **state)
{
    (void)state;
    char lake[512], songs[600], logs[600];
    lake_path(lake, sizeof(lake), "empty");
    snprintf(songs, sizeof(songs), "%s/empty-songs", tmpdir);
    snprintf(logs, sizeof(logs), "%s/empty-logs", tmpdir);
    assert_int_equal(mkdir(songs, 0777), 0);
    assert_int_equal(mkdir(logs, 0777), 0);
    lake_etl_opts o = basic_opts(lake, 0);
    o.song_root = songs;
    o.log_root = logs;
    lake_etl_report r;
    run_ok(&o, &r);
    for (int t = 0; t < LAKE_ETL_N_TABLES; t++)
        assert_int_equal(r.rows[t], 0);
    assert_true(existsf("%s/songplays/_SUCCESS", lake));
    assert_true(existsf("%s/users/part-00000.parquet", lake));
    assert_true(r.threads >= 1);
}

/* ---- bounded memory ---- */

/* An allocator that tracks the peak of live bytes. */
typedef struct peak_alloc {
    lake_allocator base;
    _Atomic int64_t live, peak;
} peak_alloc;

static void peak_note(peak_alloc *pa, int64_t delta)
{
    const int64_t now = atomic_fetch_add(&pa->live, delta) + delta;
    int64_t p = atomic_load(&pa->peak);
    while (now > p && !atomic_compare_exchange_weak(&pa->peak, &p, now))
        ;
}

static void *peak_malloc(void *ctx, size_t size)
{
    size_t *p = malloc(size + 16);
    if (!p)
        return NULL;
    p[0] = size;
    peak_note(ctx, (int64_t)size);
    return p + 2;
}

static void *peak_realloc(void *ctx, void *ptr, size_t old, size_t size)
{
    (void)old;
    size_t *b = (size_t *)ptr - 2;
    const size_t was = b[0];
    size_t *p = realloc(b, size + 16);
    if (!p)
        return NULL;
    p[0] = size;
    peak_note(ctx, (int64_t)size - (int64_t)was);
    return p + 2;
}

static void peak_free(void *ctx, void *ptr)
{
    if (!ptr)
        return;
    size_t *b = (size_t *)ptr - 2;
    peak_note(ctx, -(int64_t)b[0]);
    free(b);
}

/* @p days files of @p per_day NextSong events of 40 users. */
static void write_logs(const char *dir, int days, int per_day)
{
    assert_int_equal(mkdir(dir, 0777), 0);
    for (int d = 0; d < days; d++) {
        char path[700];
        snprintf(path, sizeof(path), "%s/2018-11-%02d-events.json", dir,
                 d + 1);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int k = 0; k < per_day; k++)
            fprintf(f,
                    "{\"artist\":\"Artist %d\",\"firstName\":\"A\","
                    "\"itemInSession\":%d,\"lastName\":\"B\","
                    "\"length\":%d.5,\"level\":\"free\","
                    "\"location\":\"Town %d\",\"page\":\"NextSong\","
                    "\"sessionId\":%d,\"song\":\"Song %d\","
                    "\"ts\":%lld,\"userAgent\":\"Mozilla/5.0 (X11; "
                    "Linux x86_64) Gecko Firefox\",\"userId\":\"%d\"}\n",
                    k % 97, k % 50, 100 + k % 300, k % 40, d * 1000 + k / 50,
                    k % 300, 1541030400000LL + d * 86400000LL + k * 1000LL,
                    k % 40 + 1);
        fclose(f);
    }
}

static int64_t peak_of_run(const char *logs, const char *lake)
{
    peak_alloc pa;
    pa.base.malloc = peak_malloc;
    pa.base.realloc = peak_realloc;
    pa.base.free = peak_free;
    pa.base.ctx = &pa;
    atomic_init(&pa.live, 0);
    atomic_init(&pa.peak, 0);
    lake_etl_opts o = basic_opts(lake, 2);
    o.song_root = small_songs;
    o.log_root = logs;
    o.alloc = &pa.base;
    o.bucket_bytes = 256 * 1024;
    o.spill_memory_bytes = 1024 * 1024;
    lake_etl_report r;
    run_ok(&o, &r);
    assert_int_equal(atomic_load(&pa.live), 0);
    return atomic_load(&pa.peak);
}

/* Peak memory stays flat when the log volume doubles (more days of the
 * same users): it is bounded by buckets, buffers and dimensions. */
static void test_etl_engine__memory_flat_as_logs_double(void **state)
{
    (void)state;
    char l1[512], l2[512], k1[512], k2[512];
    snprintf(l1, sizeof(l1), "%s/logs-8", tmpdir);
    snprintf(l2, sizeof(l2), "%s/logs-16", tmpdir);
    lake_path(k1, sizeof(k1), "mem8");
    lake_path(k2, sizeof(k2), "mem16");
    write_logs(l1, 8, 4000);
    write_logs(l2, 16, 4000);
    const int64_t p1 = peak_of_run(l1, k1);
    const int64_t p2 = peak_of_run(l2, k2);
    print_message("peak live bytes: %lld for 8 days, %lld for 16 days\n",
                  (long long)p1, (long long)p2);
    assert_true(p2 <= p1 + p1 / 10);
}

/* OOM sweep: fail allocation N for every N until the run succeeds. Each
 * failure is LAKE_ENOMEM, leaks nothing and leaves the previous lake. */
static void test_etl_engine__oom_sweep(void **state)
{
    (void)state;
    char lake[512];
    lake_path(lake, sizeof(lake), "oom");
    lake_etl_opts o = basic_opts(lake, 1);
    o.song_root = tiny_songs;
    o.log_root = tiny_logs;
    lake_etl_report r;
    run_ok(&o, &r);
    assert_int_equal(r.rows[LAKE_ETL_SONGPLAYS], 1);
    assert_int_equal(r.matched_plays, 1);
    assert_int_equal(r.quarantined, 2);
    char *before = snapshot(lake);
    int64_t n = 0;
    for (;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        o.alloc = &fa.base;
        lake_error err;
        const lake_status rc = lake_etl_run(&o, &r, &err);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            break;
        }
        if (rc != LAKE_ENOMEM)
            fail_msg("allocation %lld: %s: %s", (long long)n,
                     lake_status_str(rc), err.message);
        char *after = snapshot(lake);
        assert_string_equal(before, after);
        free(after);
        assert_no_staging(lake);
    }
    assert_true(n > 50);
    char *after = snapshot(lake);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

static int setup(void **state)
{
    (void)state;
    if (lake_test_tmpdir_make(tmpdir, sizeof(tmpdir), "etl") != 0)
        return -1;
    data_path(basic_songs, sizeof(basic_songs), "basic/song_data");
    data_path(basic_logs, sizeof(basic_logs), "basic/log_data");
    data_path(small_songs, sizeof(small_songs), "small/song_data");
    data_path(small_logs, sizeof(small_logs), "small/log_data");
    data_path(tiny_songs, sizeof(tiny_songs), "tiny/song_data");
    data_path(tiny_logs, sizeof(tiny_logs), "tiny/log_data");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lake_test_tmpdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etl_engine__basic_counts),
        cmocka_unit_test(test_etl_engine__layout),
        cmocka_unit_test(test_etl_engine__hostile_partitions),
        cmocka_unit_test(test_etl_engine__quarantine_contents),
        cmocka_unit_test(test_etl_engine__threads_identical_bytes),
        cmocka_unit_test(test_etl_engine__rerun_replaces_lake),
        cmocka_unit_test(test_etl_engine__failure_leaves_previous_lake),
        cmocka_unit_test(test_etl_engine__cleans_leftover_staging),
        cmocka_unit_test(test_etl_engine__fail_on_bad),
        cmocka_unit_test(test_etl_engine__bad_options),
        cmocka_unit_test(test_etl_engine__progress),
        cmocka_unit_test(test_etl_engine__report_json),
        cmocka_unit_test(test_etl_engine__empty_input),
        cmocka_unit_test(test_etl_engine__memory_flat_as_logs_double),
        cmocka_unit_test(test_etl_engine__oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
