/* SPDX-License-Identifier: Apache-2.0 */
/* s3_tool.c - a command-line driver of the S3 client for the integration
 * tests and the benchmark. Endpoint and credentials come from the usual
 * AWS_* environment; S3_TOOL_CONNS, S3_TOOL_RETRIES, S3_TOOL_TIMEOUT_MS and
 * S3_TOOL_RETRY_BASE_MS tune the client. Errors go to stderr as
 * "s3_tool: <status>: <message>" with exit status 1. */
#include "fmacros.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lake_common.h"
#include "storage/s3_client.h"

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? (int)strtol(v, NULL, 10) : fallback;
}

static int env_int_str(const char *v)
{
    return (int)strtol(v, NULL, 10);
}

static int fail(lake_status rc, const lake_error *err)
{
    fprintf(stderr, "s3_tool: %s: %s\n", lake_status_str(rc), err->message);
    return 1;
}

static lake_status read_all(const char *path, lake_buf *b, lake_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return lake_error_set(err, LAKE_EIO, "s3_tool: open %s", path);
    char chunk[65536];
    size_t n;
    lake_status rc = LAKE_OK;
    while (rc == LAKE_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = lake_buf_append(b, chunk, n);
    if (f != stdin)
        fclose(f);
    return rc;
}

typedef struct get_stats {
    size_t n;
    int64_t bytes;
    uint64_t checksum; /* sum over objects of FNV-1a(data) * (index + 1) */
    bool bad_padding;
} get_stats;

static lake_status on_object(void *ctx,
                             size_t index,
                             const char *data,
                             size_t len,
                             lake_error *err)
{
    (void)err;
    get_stats *s = ctx;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
    for (size_t i = 0; i < 64; i++)
        if (data[len + i] != 0)
            s->bad_padding = true;
    s->checksum += h * (uint64_t)(index + 1);
    s->bytes += (int64_t)len;
    s->n++;
    return LAKE_OK;
}

typedef struct put_many {
    const char *bucket;
    char **keys;
    size_t n;
    size_t next;
    const char *body;
    size_t body_len;
} put_many;

static lake_status put_next(void *ctx,
                            lake_s3_req *req,
                            bool *more,
                            lake_error *err)
{
    (void)err;
    put_many *p = ctx;
    *more = p->next < p->n;
    if (!*more)
        return LAKE_OK;
    req->method = "PUT";
    req->bucket = p->bucket;
    req->key = p->keys[p->next++];
    req->body = p->body;
    req->body_len = p->body_len;
    return LAKE_OK;
}

static lake_status put_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    (void)ctx;
    (void)req;
    (void)err;
    return LAKE_OK;
}

/* putmany BUCKET PREFIX N BYTES: N objects PREFIX<dir>/<i>.json of about
 * BYTES each, spread over folders like song_data/A/B/C/. */
static lake_status cmd_putmany(lake_s3_client *c,
                               char **argv,
                               lake_error *err)
{
    const size_t n = (size_t)strtoull(argv[2], NULL, 10);
    const size_t bytes = (size_t)strtoull(argv[3], NULL, 10);
    put_many p = {argv[0], NULL, n, 0, NULL, bytes};
    lake_buf body;
    lake_buf_init(&body, NULL, 0);
    lake_status rc = LAKE_OK;
    p.keys = calloc(n ? n : 1, sizeof(char *));
    if (!p.keys)
        return LAKE_ENOMEM;
    for (size_t i = 0; i < bytes && rc == LAKE_OK; i++)
        rc = lake_buf_append_byte(&body, (uint8_t)(i + 1 == bytes
                                                        ? '\n'
                                                        : 'a' + i % 26));
    for (size_t i = 0; i < n && rc == LAKE_OK; i++) {
        char key[512];
        snprintf(key, sizeof(key), "%s%c/%c/%c/TR%06zu.json", argv[1],
                 'A' + (int)(i % 26), 'A' + (int)(i / 26 % 26),
                 'A' + (int)(i / 676 % 26), i);
        p.keys[i] = lake_strdup(NULL, key);
        if (!p.keys[i])
            rc = LAKE_ENOMEM;
    }
    p.body = body.data ? body.data : "";
    if (rc == LAKE_OK) {
        const lake_s3_batch b = {put_next, put_done, &p, 0};
        rc = lake_s3_run(c, &b, err);
    }
    for (size_t i = 0; i < n; i++)
        free(p.keys[i]);
    free(p.keys);
    lake_buf_reset(&body);
    return rc;
}

/* putdir BUCKET PREFIX DIR: every regular file below DIR, concurrently,
 * as PREFIX<relative path>. */
typedef struct dir_files {
    lake_buf names; /* NUL-separated relative paths */
    size_t n;
} dir_files;

static lake_status walk(const char *root, const char *rel, dir_files *d)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    DIR *dir = opendir(path);
    if (!dir)
        return LAKE_EIO;
    const struct dirent *e;
    lake_status rc = LAKE_OK;
    while (rc == LAKE_OK && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
                 e->d_name);
        char full[8200];
        snprintf(full, sizeof(full), "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            rc = LAKE_EIO;
        else if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, d);
        else if (S_ISREG(st.st_mode)) {
            rc = lake_buf_append(&d->names, sub, strlen(sub) + 1);
            d->n++;
        }
    }
    closedir(dir);
    return rc;
}

typedef struct put_dir {
    const char *bucket;
    const char *root;
    char **keys;
    char **rels;
    lake_buf *bodies;
    size_t n, next;
} put_dir;

static lake_status putdir_next(void *ctx,
                               lake_s3_req *req,
                               bool *more,
                               lake_error *err)
{
    put_dir *p = ctx;
    *more = p->next < p->n;
    if (!*more)
        return LAKE_OK;
    const size_t i = p->next++;
    char path[8200];
    snprintf(path, sizeof(path), "%s/%s", p->root, p->rels[i]);
    lake_buf_init(&p->bodies[i], NULL, 0);
    LAKE_TRY(read_all(path, &p->bodies[i], err));
    req->method = "PUT";
    req->bucket = p->bucket;
    req->key = p->keys[i];
    req->index = i;
    req->body = p->bodies[i].data ? p->bodies[i].data : "";
    req->body_len = p->bodies[i].len;
    return LAKE_OK;
}

static lake_status putdir_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    (void)err;
    put_dir *p = ctx;
    lake_buf_reset(&p->bodies[req->index]);
    return LAKE_OK;
}

static lake_status cmd_putdir(lake_s3_client *c, char **argv,
                              lake_error *err)
{
    dir_files d = {0};
    lake_buf_init(&d.names, NULL, 0);
    lake_status rc = walk(argv[2], "", &d);
    if (rc != LAKE_OK) {
        lake_buf_reset(&d.names);
        return lake_error_set(err, rc, "s3_tool: cannot walk %s", argv[2]);
    }
    put_dir p = {argv[0], argv[2], calloc(d.n + 1, sizeof(char *)),
                 calloc(d.n + 1, sizeof(char *)),
                 calloc(d.n + 1, sizeof(lake_buf)), d.n, 0};
    const char *name = d.names.data;
    for (size_t i = 0; p.keys && p.rels && i < d.n; i++) {
        char key[4096];
        snprintf(key, sizeof(key), "%s%s", argv[1], name);
        p.keys[i] = lake_strdup(NULL, key);
        p.rels[i] = (char *)(uintptr_t)name;
        name += strlen(name) + 1;
    }
    if (!p.keys || !p.rels || !p.bodies)
        rc = LAKE_ENOMEM;
    if (rc == LAKE_OK) {
        const lake_s3_batch b = {putdir_next, putdir_done, &p, 0};
        rc = lake_s3_run(c, &b, err);
    }
    for (size_t i = 0; p.keys && i < d.n; i++)
        free(p.keys[i]);
    for (size_t i = 0; p.bodies && i < d.n; i++)
        lake_buf_reset(&p.bodies[i]);
    free(p.keys);
    free(p.rels);
    free(p.bodies);
    lake_buf_reset(&d.names);
    if (rc == LAKE_OK)
        printf("put %zu files\n", d.n);
    return rc;
}

static lake_status cmd_getall(lake_s3_client *c,
                              const char *bucket,
                              const char *prefix,
                              lake_error *err)
{
    lake_s3_object_list list;
    const int64_t t0 = lake_now_ns();
    LAKE_TRY(lake_s3_list_objects(c, bucket, prefix, 0, &list, err));
    const int64_t t1 = lake_now_ns();
    const char **keys = calloc(list.n_objects + 1, sizeof(char *));
    if (!keys) {
        lake_s3_object_list_free(&list);
        return LAKE_ENOMEM;
    }
    for (size_t i = 0; i < list.n_objects; i++)
        keys[i] = list.objects[i].key;
    get_stats st = {0};
    const lake_status rc = lake_s3_get_many(c, bucket, keys, list.n_objects,
                                            0, on_object, &st, err);
    const int64_t t2 = lake_now_ns();
    if (rc == LAKE_OK) {
        const double list_s = (double)(t1 - t0) / 1e9;
        const double get_s = (double)(t2 - t1) / 1e9;
        printf("objects %zu bytes %lld list_s %.3f get_s %.3f total_s %.3f "
               "objects_per_s %.0f checksum %016llx padding %s\n",
               st.n, (long long)st.bytes, list_s, get_s, list_s + get_s,
               get_s > 0 ? (double)st.n / get_s : 0.0,
               (unsigned long long)st.checksum,
               st.bad_padding ? "BAD" : "ok");
    }
    free(keys);
    lake_s3_object_list_free(&list);
    return rc;
}

static lake_status run(lake_s3_client *c, int argc, char **argv,
                       lake_error *err)
{
    const char *cmd = argv[1];
    lake_status rc = LAKE_OK;
    if (strcmp(cmd, "mb") == 0 && argc == 3)
        return lake_s3_create_bucket(c, argv[2], err);
    if (strcmp(cmd, "ls") == 0 && argc >= 4) {
        lake_s3_object_list l;
        LAKE_TRY(lake_s3_list_objects(c, argv[2], argv[3],
                                      argc > 4 ? env_int_str(argv[4]) : 0, &l,
                                      err));
        for (size_t i = 0; i < l.n_objects; i++)
            printf("%lld\t%s\n", (long long)l.objects[i].size_bytes,
                   l.objects[i].key);
        lake_s3_object_list_free(&l);
        return LAKE_OK;
    }
    if (strcmp(cmd, "uploads") == 0 && argc >= 3) {
        lake_s3_object_list l;
        LAKE_TRY(lake_s3_list_uploads(c, argv[2], argc > 3 ? argv[3] : NULL,
                                      &l, err));
        for (size_t i = 0; i < l.n_objects; i++)
            printf("%s\t%s\n", l.objects[i].key, l.objects[i].upload_id);
        lake_s3_object_list_free(&l);
        return LAKE_OK;
    }
    if (strcmp(cmd, "get") == 0 && argc == 4) {
        char *data;
        size_t len;
        LAKE_TRY(lake_s3_get_object(c, argv[2], argv[3], 0, &data, &len,
                                    err));
        fwrite(data, 1, len, stdout);
        lake_s3_buffer_free(c, data);
        return LAKE_OK;
    }
    if (strcmp(cmd, "put") == 0 && argc == 5) {
        lake_buf b;
        lake_buf_init(&b, NULL, 0);
        rc = read_all(argv[4], &b, err);
        if (rc == LAKE_OK)
            rc = lake_s3_put_object(c, argv[2], argv[3],
                                    b.data ? b.data : "", b.len, err);
        lake_buf_reset(&b);
        return rc;
    }
    if (strcmp(cmd, "write") == 0 && argc >= 6) {
        /* write BUCKET KEY FILE PART_SIZE [abort|chunk=N] */
        lake_buf b;
        lake_buf_init(&b, NULL, 0);
        rc = read_all(argv[4], &b, err);
        const lake_s3_output_opts o = {
            .part_size_bytes = (size_t)strtoull(argv[5], NULL, 10),
            .parallel_parts = env_int("S3_TOOL_PARALLEL_PARTS", 0)};
        lake_output *out = NULL;
        if (rc == LAKE_OK)
            rc = lake_output_open_s3(c, argv[2], argv[3], &o, &out, err);
        const bool abort_it = argc > 6 && strcmp(argv[6], "abort") == 0;
        for (size_t off = 0; rc == LAKE_OK && off < b.len; off += 100000)
            rc = lake_output_write(out, b.data + off,
                                   LAKE_MIN(100000, b.len - off), err);
        if (rc == LAKE_OK && !abort_it)
            rc = lake_output_commit(out, err);
        lake_output_free(out);
        lake_buf_reset(&b);
        return rc;
    }
    if (strcmp(cmd, "rm") == 0 && argc >= 4)
        return lake_s3_delete_objects(c, argv[2], (const char *const *)argv + 3,
                                      (size_t)(argc - 3), err);
    if (strcmp(cmd, "rmprefix") == 0 && argc == 4) {
        lake_s3_object_list l;
        LAKE_TRY(lake_s3_list_objects(c, argv[2], argv[3], 0, &l, err));
        const char **keys = calloc(l.n_objects + 1, sizeof(char *));
        if (!keys)
            rc = LAKE_ENOMEM;
        for (size_t i = 0; keys && i < l.n_objects; i++)
            keys[i] = l.objects[i].key;
        if (rc == LAKE_OK)
            rc = lake_s3_delete_objects(c, argv[2], keys, l.n_objects, err);
        free(keys);
        lake_s3_object_list_free(&l);
        return rc;
    }
    if (strcmp(cmd, "abort") == 0 && argc == 5)
        return lake_s3_abort_upload(c, argv[2], argv[3], argv[4], err);
    if (strcmp(cmd, "putmany") == 0 && argc == 6)
        return cmd_putmany(c, argv + 2, err);
    if (strcmp(cmd, "putdir") == 0 && argc == 5)
        return cmd_putdir(c, argv + 2, err);
    if (strcmp(cmd, "getall") == 0 && argc == 4)
        return cmd_getall(c, argv[2], argv[3], err);
    return lake_error_set(err, LAKE_EINVAL, "s3_tool: bad usage");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: s3_tool mb|ls|uploads|get|put|write|rm|rmprefix|"
                "abort|putmany|putdir|getall ARGS\n");
        return 2;
    }
    const lake_s3_opts opts = {
        .max_connections = env_int("S3_TOOL_CONNS", 0),
        .max_retries = env_int("S3_TOOL_RETRIES", 0),
        .timeout_ms = env_int("S3_TOOL_TIMEOUT_MS", 0),
        .retry_base_ms = env_int("S3_TOOL_RETRY_BASE_MS", 0),
        .config_file = getenv("S3_TOOL_CONFIG_FILE"),
        .anonymous = env_int("S3_TOOL_ANONYMOUS", 0),
    };
    lake_error err;
    lake_error_clear(&err);
    lake_s3_client *c = NULL;
    lake_status rc = lake_s3_client_new(&opts, &c, &err);
    if (rc == LAKE_OK)
        rc = run(c, argc, argv, &err);
    lake_s3_client_free(c);
    if (rc != LAKE_OK)
        return fail(rc, &err);
    return 0;
}
