/* SPDX-License-Identifier: Apache-2.0 */
/* etl_input_s3.c - s3:// inputs of the ETL: list the prefix, GET the
 * input files concurrently on kept-alive connections and write them into
 * a private local folder that the engine then reads like any input. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fmacros.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "storage/s3_client.h"
#include "storage/storage.h"
#include "etl/etl_s3.h"
#include "lake_internal.h"

lake_s3_opts etl_s3_client_opts(const lake_s3_opts *base,
                                const lake_allocator *alloc,
                                int max_connections)
{
    lake_s3_opts o = {0};
    if (base)
        o = *base;
    o.alloc = alloc;
    o.max_connections = max_connections;
    return o;
}

bool etl_is_s3(const char *path)
{
    return path && strncmp(path, "s3://", 5) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The SPEC "Files" rule on a relative key. */
static bool is_input(const char *rel)
{
    if (!(ends_with(rel, ".json") || ends_with(rel, ".jsonl") ||
          ends_with(rel, ".json.gz") || ends_with(rel, ".jsonl.gz")))
        return false;
    for (const char *p = rel; *p;) {
        if (*p == '.' || *p == '_')
            return false;
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        p = slash + 1;
    }
    /* No empty, "." or ".." segment can reach the local folder. */
    return strstr(rel, "//") == NULL && rel[0] != '/';
}

typedef struct fetch_ctx {
    const char *dir;
    const char *const *rel; /* relative names, by index */
    lake_buf path;
} fetch_ctx;

static lake_status write_one(void *ctx,
                             size_t index,
                             const char *data,
                             size_t len,
                             lake_error *err)
{
    fetch_ctx *f = ctx;
    f->path.len = 0;
    if (lake_buf_printf(&f->path, "%s/%s", f->dir, f->rel[index]) !=
        LAKE_OK)
        return lake_error_oom(err, "etl");
    char *slash = strrchr(f->path.data, '/');
    *slash = '\0';
    LAKE_TRY(lake_mkdirs(f->path.data, err));
    *slash = '/';
    const int fd = open(f->path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        0600);
    if (fd < 0)
        return lake_error_errno(err, errno, "etl: create %s", f->path.data);
    size_t off = 0;
    while (off < len) {
        const ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            const int e = errno;
            close(fd);
            return lake_error_errno(err, e, "etl: write %s", f->path.data);
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return lake_error_errno(err, errno, "etl: close %s", f->path.data);
    return LAKE_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void etl_s3_input_free(const lake_allocator *alloc, char *local_dir)
{
    if (!local_dir)
        return;
    nftw(local_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    lake_free(alloc, local_dir);
}

lake_status etl_s3_fetch_input(const char *uri,
                               const lake_s3_opts *s3,
                               const lake_allocator *alloc,
                               char **local_dir,
                               lake_error *err)
{
    *local_dir = NULL;
    char bucket[256];
    const char *key = NULL;
    LAKE_TRY(lake_s3_parse_uri(uri, bucket, sizeof(bucket), &key, err));
    lake_buf prefix;
    lake_buf_init(&prefix, alloc, 0);
    lake_s3_client *c = NULL;
    lake_s3_object_list list = {0};
    const char **keys = NULL, **rel = NULL;
    char *dir = NULL;
    fetch_ctx f = {0};
    lake_buf_init(&f.path, alloc, 0);
    lake_status rc = lake_buf_append_str(&prefix, key);
    if (rc == LAKE_OK && prefix.len > 0 && prefix.data[prefix.len - 1] != '/')
        rc = lake_buf_append_byte(&prefix, '/');
    if (rc == LAKE_OK)
        rc = lake_buf_append_byte(&prefix, 0);
    if (rc != LAKE_OK) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    const lake_s3_opts opts = etl_s3_client_opts(s3, alloc, 0);
    rc = lake_s3_client_new(&opts, &c, err);
    if (rc == LAKE_OK)
        rc = lake_s3_list_objects(c, bucket, prefix.data, 0, &list, err);
    if (rc != LAKE_OK)
        goto cleanup;
    keys = lake_calloc(alloc, list.n_objects + 1, sizeof(char *));
    rel = lake_calloc(alloc, list.n_objects + 1, sizeof(char *));
    const char *tmp = getenv("TMPDIR");
    char templ[4096];
    snprintf(templ, sizeof(templ), "%s/sparkify-s3-input-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    dir = lake_strdup(alloc, templ);
    if (!keys || !rel || !dir) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    if (!mkdtemp(dir)) {
        rc = lake_error_errno(err, errno, "etl: mkdtemp %s", templ);
        lake_free(alloc, dir);
        dir = NULL;
        goto cleanup;
    }
    size_t n = 0;
    const size_t skip = prefix.len - 1;
    for (size_t i = 0; i < list.n_objects; i++) {
        const char *k = list.objects[i].key;
        if (strncmp(k, prefix.data, skip) != 0 || !is_input(k + skip))
            continue;
        keys[n] = k;
        rel[n] = k + skip;
        n++;
    }
    f.dir = dir;
    f.rel = rel;
    rc = lake_s3_get_many(c, bucket, keys, n, 0, write_one, &f, err);
    if (rc == LAKE_OK) {
        *local_dir = dir;
        dir = NULL;
    }
cleanup:
    etl_s3_input_free(alloc, dir);
    lake_buf_reset(&f.path);
    lake_free(alloc, keys);
    lake_free(alloc, rel);
    lake_s3_object_list_free(&list);
    lake_s3_client_free(c);
    lake_buf_reset(&prefix);
    return rc;
}

lake_status etl_s3_localize(lake_etl_opts *o,
                            char **song_dir,
                            char **log_dir,
                            lake_error *err)
{
    *song_dir = *log_dir = NULL;
    if (etl_is_s3(o->song_root)) {
        LAKE_TRY(
            etl_s3_fetch_input(o->song_root, o->s3, o->alloc, song_dir, err));
        o->song_root = *song_dir;
    }
    if (etl_is_s3(o->log_root)) {
        LAKE_TRY(
            etl_s3_fetch_input(o->log_root, o->s3, o->alloc, log_dir, err));
        o->log_root = *log_dir;
    }
    return LAKE_OK;
}
