/* SPDX-License-Identifier: Apache-2.0 */
/* test_ingest_files.c - finding input files (order, skipping rules,
 * extensions, symlinks, errors) and reading them (gzip, padding, limits,
 * errors), with OOM sweeps for both; the public lake_list_input_files()
 * (the same listing through a callback, callback aborts, NULL args). */
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
#include <zlib.h>

#include "lake_common.h"
#include "ingest/ingest.h"

static char tmpdir[256];

static void path_of(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", tmpdir, rel);
}

static void mkdir_p(const char *rel)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", tmpdir, rel);
    assert_int_equal(system(cmd), 0);
}

static void write_bytes(const char *rel, const void *p, size_t n)
{
    char path[1024];
    path_of(path, sizeof(path), rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *rel, const char *text)
{
    write_bytes(rel, text, strlen(text));
}

/* gzip @p text into one member appended to @p out (at *n). */
static void gzip_member(const char *text, unsigned char *out, size_t *n,
                        size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
                                  Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)strlen(text);
    zs.next_out = out + *n;
    zs.avail_out = (uInt)(cap - *n);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *n += zs.total_out;
    deflateEnd(&zs);
}

/* Render a listing as "path size\n..." */
static char *render(const lake_file_list *l)
{
    static char out[4096];
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n_files; i++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\n",
                              l->files[i].rel_path);
    return out;
}

static void test_ingest_files__list_order_and_skips(void **state)
{
    (void)state;
    mkdir_p("t1/a/b/c");
    mkdir_p("t1/B");
    mkdir_p("t1/.hidden");
    mkdir_p("t1/_tmp");
    mkdir_p("t1/empty/deeper");
    mkdir_p("t1/x.json"); /* a folder named like a file: walked */
    write_text("t1/z.json", "{}");
    write_text("t1/a/b/c/deep.jsonl", "{}");
    write_text("t1/a/b.json", "{}");
    write_text("t1/a.json", "{}");
    write_text("t1/B/\xc3\xa9.json", "{}");
    write_text("t1/B/_SUCCESS", "");
    write_text("t1/B/.crc.json", "{}");
    write_text("t1/B/_part.json", "{}");
    write_text("t1/.hidden/h.json", "{}");
    write_text("t1/_tmp/t.json", "{}");
    write_text("t1/x.json/in.json.gz", "x");
    write_text("t1/x.json/in.jsonl.gz", "x");
    write_text("t1/other.txt", "{}");
    write_text("t1/upper.JSON", "{}");
    write_text("t1/gz.gz", "{}");
    write_text("t1/json", "{}");
    write_text("t1/.json", "{}");
    write_text("t1/a-b.json", "{}");
    char root[512];
    path_of(root, sizeof(root), "t1");
    lake_file_list l;
    lake_error err;
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_OK);
    /* Unsigned byte order of the whole relative path: 'B' < 'a' < 'z',
     * "a-b.json" < "a.json" < "a/..." ('-' < '.' < '/'), 0xC3 last. */
    assert_string_equal(render(&l), "B/\xc3\xa9.json\n"
                                    "a-b.json\n"
                                    "a.json\n"
                                    "a/b.json\n"
                                    "a/b/c/deep.jsonl\n"
                                    "x.json/in.json.gz\n"
                                    "x.json/in.jsonl.gz\n"
                                    "z.json\n");
    assert_int_equal(l.n_files, 8);
    assert_int_equal(l.total_bytes, 2 * 6 + 1 + 1);
    assert_int_equal(l.files[5].size_bytes, 1);
    lake_file_list_free(&l);
    lake_file_list_free(&l); /* idempotent */
    lake_file_list_free(NULL);
}

static void test_ingest_files__list_empty_and_errors(void **state)
{
    (void)state;
    mkdir_p("t2/empty/sub");
    char root[512];
    path_of(root, sizeof(root), "t2");
    lake_file_list l;
    lake_error err;
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_OK);
    assert_int_equal(l.n_files, 0);
    assert_null(l.files);
    lake_file_list_free(&l);

    path_of(root, sizeof(root), "no/such/root");
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "ingest: list files: "));
    assert_non_null(strstr(err.message, "no/such/root"));
    assert_non_null(strstr(err.message, "No such file"));
    assert_int_equal(l.n_files, 0);

    /* Only names below the root are filtered: a root named _x works. */
    mkdir_p("t2/_root/.h");
    write_text("t2/_root/a.json", "{}");
    write_text("t2/_root/.h/b.json", "{}");
    path_of(root, sizeof(root), "t2/_root");
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_OK);
    assert_string_equal(render(&l), "a.json\n");
    lake_file_list_free(&l);

    write_text("t2/file.json", "{}");
    path_of(root, sizeof(root), "t2/file.json");
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "not a folder"));

    /* An unreadable sub-folder is an error naming it (unless root). */
    if (geteuid() != 0) {
        mkdir_p("t2/locked");
        char p[512];
        path_of(p, sizeof(p), "t2/locked");
        assert_int_equal(chmod(p, 0), 0);
        path_of(root, sizeof(root), "t2");
        assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_EIO);
        assert_non_null(strstr(err.message, "locked"));
        assert_int_equal(chmod(p, 0700), 0);
    }
}

static void test_ingest_files__list_symlinks(void **state)
{
    (void)state;
    mkdir_p("t3/real/sub");
    write_text("t3/real/sub/f.json", "{}");
    char target[512], link[512], root[512];
    /* A loop back to an ancestor is skipped; a link to a file and to a
     * sibling folder are followed; a dangling link is skipped. */
    path_of(target, sizeof(target), "t3");
    path_of(link, sizeof(link), "t3/real/sub/loop");
    assert_int_equal(symlink(target, link), 0);
    path_of(target, sizeof(target), "t3/real/sub/f.json");
    path_of(link, sizeof(link), "t3/flink.json");
    assert_int_equal(symlink(target, link), 0);
    path_of(target, sizeof(target), "t3/real/sub");
    path_of(link, sizeof(link), "t3/dlink");
    assert_int_equal(symlink(target, link), 0);
    path_of(link, sizeof(link), "t3/dangling.json");
    assert_int_equal(symlink("/nonexistent/x.json", link), 0);
    path_of(root, sizeof(root), "t3");
    lake_file_list l;
    lake_error err;
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_OK);
    assert_string_equal(render(&l), "dlink/f.json\n"
                                    "flink.json\n"
                                    "real/sub/f.json\n");
    lake_file_list_free(&l);
}

static void test_ingest_files__list_too_deep(void **state)
{
    (void)state;
    char rel[2048] = "t5";
    size_t n = 2;
    for (int i = 0; i < 300; i++) {
        memcpy(rel + n, "/d", 3);
        n += 2;
    }
    mkdir_p(rel);
    char root[512];
    path_of(root, sizeof(root), "t5");
    lake_file_list l;
    lake_error err;
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_ETOOBIG);
    assert_non_null(strstr(err.message, "deeper than 256"));
    assert_int_equal(l.n_files, 0);
}

static void test_ingest_files__list_oom_sweep(void **state)
{
    (void)state;
    mkdir_p("t4/a/b");
    for (int i = 0; i < 70; i++) { /* more than one growth of the array */
        char rel[64];
        snprintf(rel, sizeof(rel), "t4/a/b/f%02d.json", i);
        write_text(rel, "{}");
    }
    char root[512];
    path_of(root, sizeof(root), "t4");
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_file_list l;
        lake_error err;
        const lake_status rc = lake_list_files(root, &fa.base, &l, &err);
        if (rc == LAKE_OK) {
            assert_int_equal(l.n_files, 70);
            assert_string_equal(l.files[69].rel_path, "a/b/f69.json");
            lake_file_list_free(&l);
            assert_int_equal(fa.n_live, 0);
            assert_true(n > 70);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_int_equal(l.n_files, 0);
        assert_null(l.files);
        assert_int_equal(fa.n_live, 0);
    }
}

static void test_ingest_files__read_plain_and_padding(void **state)
{
    (void)state;
    write_text("r1.json", "\xEF\xBB\xBF{\"a\":1}");
    write_bytes("r1-empty.json", "", 0);
    char path[512];
    path_of(path, sizeof(path), "r1.json");
    lake_file_data d = {0};
    lake_error err;
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 10);
    assert_memory_equal(d.data, "\xEF\xBB\xBF{\"a\":1}", 10);
    assert_true(d.cap >= d.len + LAKE_READ_PADDING);
    for (size_t i = 0; i < LAKE_READ_PADDING; i++)
        assert_int_equal(d.data[d.len + i], 0);
    /* Reuse: a smaller file after a bigger one keeps the memory. */
    char *const before = d.data;
    path_of(path, sizeof(path), "r1-empty.json");
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 0);
    assert_ptr_equal(d.data, before);
    assert_int_equal(d.data[0], 0);
    lake_file_data_free(&d);
    /* An empty file into a fresh buffer still has its padding. */
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_non_null(d.data);
    assert_true(d.cap >= LAKE_READ_PADDING);
    lake_file_data_free(&d);
    lake_file_data_free(&d);
    lake_file_data_free(NULL);
    /* A file read into a fresh buffer: one allocation of its size, one
     * byte and the padding (the read that finds the end needs no bigger
     * buffer, which would copy the file). */
    static char text[100000];
    memset(text, 'x', sizeof(text));
    write_bytes("r1-big.json", text, sizeof(text));
    path_of(path, sizeof(path), "r1-big.json");
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_int_equal(d.len, sizeof(text));
    assert_int_equal(d.cap, sizeof(text) + 1 + LAKE_READ_PADDING);
    lake_file_data_free(&d);
}

static void test_ingest_files__read_errors(void **state)
{
    (void)state;
    char path[512];
    lake_file_data d = {0};
    lake_error err;
    path_of(path, sizeof(path), "missing.json");
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "ingest: open "));
    assert_non_null(strstr(err.message, "missing.json"));
    path_of(path, sizeof(path), "");
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "is a folder"));
    /* The size limit. */
    write_text("big.json", "0123456789");
    path_of(path, sizeof(path), "big.json");
    assert_int_equal(lake_read_file(path, 9, &d, &err), LAKE_ETOOBIG);
    assert_non_null(strstr(err.message, "big.json"));
    assert_int_equal(d.len, 0);
    assert_int_equal(lake_read_file(path, 10, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 10);
    /* The same at a size past the first 4 KiB buffer: a file of exactly
     * the limit is read (it was refused when the buffer had to grow to
     * find its end). */
    static char text[5000];
    memset(text, 'y', sizeof(text));
    write_bytes("big5000.json", text, sizeof(text));
    path_of(path, sizeof(path), "big5000.json");
    assert_int_equal(lake_read_file(path, 5000, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 5000);
    assert_int_equal(lake_read_file(path, 4999, &d, &err), LAKE_ETOOBIG);
    lake_file_data_free(&d);
}

static void test_ingest_files__read_gzip(void **state)
{
    (void)state;
    unsigned char gz[65536];
    size_t n = 0;
    gzip_member("{\"a\":1}\n", gz, &n, sizeof(gz));
    gzip_member("{\"b\":2}", gz, &n, sizeof(gz));
    write_bytes("m.json.gz", gz, n);
    char path[512];
    path_of(path, sizeof(path), "m.json.gz");
    lake_file_data d = {0};
    lake_error err;
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 15);
    assert_memory_equal(d.data, "{\"a\":1}\n{\"b\":2}", 15);
    for (size_t i = 0; i < LAKE_READ_PADDING; i++)
        assert_int_equal(d.data[d.len + i], 0);
    /* The limit applies to the decompressed size. */
    assert_int_equal(lake_read_file(path, 14, &d, &err), LAKE_ETOOBIG);
    assert_non_null(strstr(err.message, "m.json.gz"));
    assert_int_equal(lake_read_file(path, 15, &d, &err), LAKE_OK);
    assert_int_equal(d.len, 15);
    /* A big member that needs the output buffer to grow several times. */
    char *big = malloc(1 << 20);
    assert_non_null(big);
    uint32_t x = 12345; /* random letters: several input chunks */
    for (size_t i = 0; i < (1 << 20) - 1; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (char)('a' + (x >> 16) % 26);
    }
    big[(1 << 20) - 1] = '\0';
    unsigned char *bgz = malloc(1 << 21);
    assert_non_null(bgz);
    size_t bn = 0;
    gzip_member(big, bgz, &bn, 1 << 21);
    write_bytes("big.json.gz", bgz, bn);
    path_of(path, sizeof(path), "big.json.gz");
    assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_OK);
    assert_true(bn > 256 * 1024);
    assert_int_equal(d.len, (1 << 20) - 1);
    assert_memory_equal(d.data, big, (1 << 20) - 1);
    free(big);
    free(bgz);
    lake_file_data_free(&d);
}

static void test_ingest_files__read_corrupt_gzip(void **state)
{
    (void)state;
    unsigned char gz[4096];
    size_t n = 0;
    gzip_member("{\"a\":1}\n{\"b\":2}\n", gz, &n, sizeof(gz));
    static const struct {
        const char *name;
        const char *want;
    } cases[] = {
        {"trunc.json.gz", "truncated"},
        {"crc.json.gz", "corrupt gzip"},
        {"trail.json.gz", "corrupt gzip"},
        {"plain.json.gz", "corrupt gzip"},
        {"empty.json.gz", "empty file"},
    };
    write_bytes("trunc.json.gz", gz, n - 5);
    unsigned char bad[4096];
    memcpy(bad, gz, n);
    bad[n - 6] ^= 0xFF; /* the CRC-32 */
    write_bytes("crc.json.gz", bad, n);
    memcpy(bad + n, "junk", 4);
    memcpy(bad, gz, n);
    write_bytes("trail.json.gz", bad, n + 4);
    write_text("plain.json.gz", "{\"a\":1}\n");
    write_bytes("empty.json.gz", "", 0);
    for (size_t i = 0; i < LAKE_ARRAY_LEN(cases); i++) {
        char path[512];
        path_of(path, sizeof(path), cases[i].name);
        lake_file_data d = {0};
        lake_error err;
        assert_int_equal(lake_read_file(path, 0, &d, &err), LAKE_EPARSE);
        if (!strstr(err.message, cases[i].want) ||
            !strstr(err.message, cases[i].name))
            fail_msg("%s: %s", cases[i].name, err.message);
        assert_int_equal(d.len, 0);
        lake_file_data_free(&d);
    }
}

static void test_ingest_files__bytes_in_memory(void **state)
{
    (void)state;
    unsigned char gz[4096];
    size_t n = 0;
    gzip_member("{\"a\":1}\n", gz, &n, sizeof(gz));
    gzip_member("{\"b\":2}", gz, &n, sizeof(gz));
    lake_file_data d = {0};
    lake_error err;
    assert_int_equal(lake_gunzip_bytes(gz, n, "s3://b/k.json.gz", 0, &d, &err),
                     LAKE_OK);
    assert_int_equal(d.len, 15);
    assert_memory_equal(d.data, "{\"a\":1}\n{\"b\":2}", 15);
    for (size_t i = 0; i < LAKE_READ_PADDING; i++)
        assert_int_equal(d.data[d.len + i], 0);
    assert_int_equal(lake_gunzip_bytes(gz, n - 4, "s3://b/k.json.gz", 0, &d,
                                       &err),
                     LAKE_EPARSE);
    assert_non_null(strstr(err.message, "s3://b/k.json.gz"));
    assert_non_null(strstr(err.message, "truncated"));
    assert_int_equal(d.len, 0);
    assert_int_equal(lake_gunzip_bytes("{}", 2, NULL, 0, &d, &err),
                     LAKE_EPARSE);
    assert_non_null(strstr(err.message, "(bytes)"));
    assert_int_equal(lake_gunzip_bytes(gz, n, NULL, 10, &d, &err),
                     LAKE_ETOOBIG);
    assert_int_equal(lake_gunzip_bytes(gz, 0, NULL, 0, &d, &err),
                     LAKE_EPARSE);
    assert_non_null(strstr(err.message, "empty"));
    assert_int_equal(lake_file_data_set(&d, "{\"c\":3}", 7, &err), LAKE_OK);
    assert_int_equal(d.len, 7);
    assert_memory_equal(d.data, "{\"c\":3}", 7);
    assert_int_equal(d.data[7], 0);
    assert_int_equal(lake_file_data_set(&d, NULL, 0, &err), LAKE_OK);
    assert_int_equal(d.len, 0);
    lake_file_data_free(&d);
    /* OOM sweeps of both. */
    for (int k = 0; k < 2; k++) {
        for (int64_t i = 0;; i++) {
            lake_failing_alloc fa;
            lake_failing_alloc_init(&fa, i);
            lake_file_data e = {0};
            e.alloc = &fa.base;
            const lake_status rc =
                k == 0 ? lake_gunzip_bytes(gz, n, NULL, 0, &e, &err)
                       : lake_file_data_set(&e, "abc", 3, &err);
            lake_file_data_free(&e);
            assert_int_equal(fa.n_live, 0);
            if (rc == LAKE_OK)
                break;
            assert_int_equal(rc, LAKE_ENOMEM);
        }
    }
}

static void test_ingest_files__read_io_error(void **state)
{
    (void)state;
    /* Reading /proc/self/mem from offset 0 fails with EIO. */
    lake_file_data d = {0};
    lake_error err;
    if (lake_read_file("/proc/self/mem", 0, &d, &err) == LAKE_OK) {
        lake_file_data_free(&d);
        skip();
        return;
    }
    assert_int_equal(err.code, LAKE_EIO);
    assert_non_null(strstr(err.message, "ingest: read /proc/self/mem"));
    char link[512];
    path_of(link, sizeof(link), "mem.json.gz");
    assert_int_equal(symlink("/proc/self/mem", link), 0);
    assert_int_equal(lake_read_file(link, 0, &d, &err), LAKE_EIO);
    assert_non_null(strstr(err.message, "mem.json.gz"));
    lake_file_data_free(&d);
}

static void test_ingest_files__read_oom_sweep(void **state)
{
    (void)state;
    unsigned char gz[4096];
    size_t n = 0;
    gzip_member("{\"a\":1}\n", gz, &n, sizeof(gz));
    write_bytes("oom.json.gz", gz, n);
    write_text("oom.json", "{\"a\":1}\n");
    static const char *const names[] = {"oom.json", "oom.json.gz"};
    for (size_t k = 0; k < LAKE_ARRAY_LEN(names); k++) {
        char path[512];
        path_of(path, sizeof(path), names[k]);
        for (int64_t i = 0;; i++) {
            lake_failing_alloc fa;
            lake_failing_alloc_init(&fa, i);
            lake_file_data d = {0};
            d.alloc = &fa.base;
            lake_error err;
            const lake_status rc = lake_read_file(path, 0, &d, &err);
            if (rc == LAKE_OK) {
                assert_int_equal(d.len, 8);
                lake_file_data_free(&d);
                assert_int_equal(fa.n_live, 0);
                break;
            }
            assert_int_equal(rc, LAKE_ENOMEM);
            lake_file_data_free(&d);
            assert_int_equal(fa.n_live, 0);
        }
    }
}

/* ---- lake_list_input_files(), the public listing by callback ---- */

/* What the callback saw: "path size\n" per file, and when to stop. */
typedef struct seen {
    char text[4096];
    size_t len;
    int calls;
    int stop_at;          /* 1-based call that returns stop_rc; 0: never */
    lake_status stop_rc;
    const char *stop_msg; /* NULL: leave err untouched */
} seen;

static lake_status on_file(void *ctx,
                           const char *rel_path,
                           int64_t size_bytes,
                           lake_error *err)
{
    seen *s = ctx;
    assert_non_null(err); /* always an error to fill */
    s->calls++;
    s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
                               "%s %lld\n", rel_path,
                               (long long)size_bytes);
    if (s->calls == s->stop_at) {
        if (s->stop_msg)
            return lake_error_set(err, s->stop_rc, "%s", s->stop_msg);
        return s->stop_rc;
    }
    return LAKE_OK;
}

static void test_ingest_files__public_list(void **state)
{
    (void)state;
    mkdir_p("p1/a/b");
    mkdir_p("p1/_skip");
    mkdir_p("p1/.hid");
    write_text("p1/z.json.gz", "xyz");
    write_text("p1/a/b/c.jsonl", "{}");
    write_text("p1/a.json", "{\"a\":1}");
    write_text("p1/_skip/s.json", "{}");
    write_text("p1/.hid/h.json", "{}");
    write_text("p1/a/.h.json", "{}");
    write_text("p1/a/notes.txt", "{}");
    char target[512], link[512], root[512];
    path_of(target, sizeof(target), "p1/a/b");
    path_of(link, sizeof(link), "p1/blink");
    assert_int_equal(symlink(target, link), 0);
    path_of(root, sizeof(root), "p1");
    seen s = {0};
    lake_error err;
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &s, &err),
                     LAKE_OK);
    assert_string_equal(s.text, "a.json 7\n"
                                "a/b/c.jsonl 2\n"
                                "blink/c.jsonl 2\n"
                                "z.json.gz 3\n");
    /* The same files, in the same order, as the internal listing. */
    lake_file_list l;
    assert_int_equal(lake_list_files(root, NULL, &l, &err), LAKE_OK);
    assert_int_equal(l.n_files, (size_t)s.calls);
    lake_file_list_free(&l);
    /* err may be NULL; an empty folder is no call and LAKE_OK. */
    mkdir_p("p1e/sub");
    path_of(root, sizeof(root), "p1e");
    seen e = {0};
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &e, NULL),
                     LAKE_OK);
    assert_int_equal(e.calls, 0);
}

static void test_ingest_files__public_list_errors(void **state)
{
    (void)state;
    char root[512];
    seen s = {0};
    lake_error err;
    assert_int_equal(lake_list_input_files(NULL, NULL, on_file, &s, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message, "ingest: list files: NULL root");
    path_of(root, sizeof(root), "");
    assert_int_equal(lake_list_input_files(root, NULL, NULL, &s, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message, "ingest: list files: NULL callback");
    assert_int_equal(lake_list_input_files(NULL, NULL, NULL, NULL, NULL),
                     LAKE_EINVAL);

    path_of(root, sizeof(root), "no/such/root");
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &s, &err),
                     LAKE_EIO);
    assert_int_equal(err.code, LAKE_EIO);
    assert_non_null(strstr(err.message, "ingest: list files: "));
    assert_non_null(strstr(err.message, "no/such/root"));
    assert_non_null(strstr(err.message, "No such file"));

    write_text("p2-file.json", "{}");
    path_of(root, sizeof(root), "p2-file.json");
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &s, &err),
                     LAKE_EINVAL);
    assert_non_null(strstr(err.message, "not a folder"));
    assert_int_equal(s.calls, 0); /* a failed walk calls nobody */

    /* Too deep: no call either, even for the files found before. */
    char rel[2048] = "p2deep";
    size_t n = strlen(rel);
    write_text("p2deep.json", "{}");
    for (int i = 0; i < 300; i++) {
        memcpy(rel + n, "/d", 3);
        n += 2;
    }
    mkdir_p(rel);
    mkdir_p("p2deep/a");
    write_text("p2deep/a/first.json", "{}");
    path_of(root, sizeof(root), "p2deep");
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &s, &err),
                     LAKE_ETOOBIG);
    assert_int_equal(s.calls, 0);
}

static void test_ingest_files__public_list_callback_stops(void **state)
{
    (void)state;
    mkdir_p("p3");
    write_text("p3/a.json", "{}");
    write_text("p3/b.json", "{}");
    write_text("p3/c.json", "{}");
    char root[512];
    path_of(root, sizeof(root), "p3");
    lake_error err;
    /* A status with the callback's message: returned as it is, and the
     * files after the one it stopped at are not handed out. */
    seen s = {.stop_at = 2, .stop_rc = LAKE_EREMOTE,
              .stop_msg = "test: full: no room"};
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &s, &err),
                     LAKE_EREMOTE);
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.text, "a.json 2\nb.json 2\n");
    assert_int_equal(err.code, LAKE_EREMOTE);
    assert_string_equal(err.message, "test: full: no room");
    /* A bare status: a message naming the root and the file. */
    seen b = {.stop_at = 1, .stop_rc = LAKE_ENOMEM};
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &b, &err),
                     LAKE_ENOMEM);
    assert_int_equal(b.calls, 1);
    assert_int_equal(err.code, LAKE_ENOMEM);
    assert_non_null(strstr(err.message, "ingest: list files: "));
    assert_non_null(strstr(err.message, "stopped by the callback at a.json"));
    assert_non_null(strstr(err.message, "p3"));
    /* The callback's code wins over the one it wrote into err. */
    seen w = {.stop_at = 3, .stop_rc = LAKE_EINVAL, .stop_msg = "x: y: z"};
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &w, &err),
                     LAKE_EINVAL);
    assert_int_equal(err.code, LAKE_EINVAL);
    /* No err from the caller: the status alone. */
    seen q = {.stop_at = 1, .stop_rc = LAKE_EIO, .stop_msg = "q: r: s"};
    assert_int_equal(lake_list_input_files(root, NULL, on_file, &q, NULL),
                     LAKE_EIO);
    assert_int_equal(q.calls, 1);
}

static void test_ingest_files__public_list_oom_sweep(void **state)
{
    (void)state;
    mkdir_p("p4/a");
    for (int i = 0; i < 70; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "p4/a/f%02d.json", i);
        write_text(rel, "{}");
    }
    char root[512];
    path_of(root, sizeof(root), "p4");
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        seen s = {0};
        lake_error err;
        const lake_status rc =
            lake_list_input_files(root, &fa.base, on_file, &s, &err);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(s.calls, 70);
            assert_true(n > 70);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_int_equal(err.code, LAKE_ENOMEM);
        assert_int_equal(s.calls, 0);
    }
}

static int setup(void **state)
{
    (void)state;
    return lake_test_tmpdir_make(tmpdir, sizeof(tmpdir), "ingest");
}

static int teardown(void **state)
{
    (void)state;
    return lake_test_tmpdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_files__list_order_and_skips),
        cmocka_unit_test(test_ingest_files__list_empty_and_errors),
        cmocka_unit_test(test_ingest_files__list_symlinks),
        cmocka_unit_test(test_ingest_files__list_too_deep),
        cmocka_unit_test(test_ingest_files__list_oom_sweep),
        cmocka_unit_test(test_ingest_files__read_plain_and_padding),
        cmocka_unit_test(test_ingest_files__read_errors),
        cmocka_unit_test(test_ingest_files__read_gzip),
        cmocka_unit_test(test_ingest_files__read_corrupt_gzip),
        cmocka_unit_test(test_ingest_files__bytes_in_memory),
        cmocka_unit_test(test_ingest_files__read_io_error),
        cmocka_unit_test(test_ingest_files__read_oom_sweep),
        cmocka_unit_test(test_ingest_files__public_list),
        cmocka_unit_test(test_ingest_files__public_list_errors),
        cmocka_unit_test(test_ingest_files__public_list_callback_stops),
        cmocka_unit_test(test_ingest_files__public_list_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
