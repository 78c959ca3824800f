/* SPDX-License-Identifier: Apache-2.0 */
/* etl_store_s3.c - the S3 back end of etl_store.h. S3 has no rename, so a
 * run publishes like this (docs/S3.md):
 *  - every data file goes straight to its final key with the run id in
 *    its name (part-00000-<run>.parquet): never the name of another run's
 *    file, and invisible to no one once committed;
 *  - a table's _SUCCESS and the top-level files (_sparkify_report.json)
 *    are held in memory and PUT at publish, after every data file of the
 *    table is complete;
 *  - then the previous runs' files of that table are deleted;
 *  - a failed run deletes the data files it wrote for tables it had not
 *    published; tables already published stay at the new run. */
#include "fmacros.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lake_common.h"
#include "lake_output_impl.h"
#include "storage/s3_client.h"
#include "etl/etl_s3.h"
#include "lake_internal.h"

typedef struct held_file {
    char *rel;  /* relative to the lake */
    lake_buf bytes;
} held_file;

typedef struct s3_store {
    etl_store base;
    char bucket[256];
    char *prefix;       /* "" or "lake/" */
    char run_id[40];    /* 20261203T084512Z-12345-1a2b */
    lake_s3_client *c;  /* main thread only: publish and close */
    lake_s3_opts s3;    /* the caller's client options (borrowed strings) */
    pthread_mutex_t mu; /* guards the lists below (workers create) */
    held_file *held;
    size_t n_held, cap_held;
    char **written;     /* keys of data files this run committed */
    size_t n_written, cap_written;
    char published[16][64];
    size_t n_published;
    /* One client per worker thread, kept for the run so that its
     * connections stay alive from file to file (a client is not
     * thread-safe; a thread's outputs use it one call at a time). */
    struct {
        pthread_t tid;
        lake_s3_client *c;
    } clients[64];
    size_t n_clients;
} s3_store;

/* ---- outputs held in memory until publish ---- */

typedef struct held_output {
    lake_output base;
    s3_store *store;
    char *rel;
    char *name; /* "s3://bucket/prefix/rel" */
    lake_buf bytes;
} held_output;

static lake_status held_write(lake_output *o,
                              const void *bytes,
                              size_t n,
                              lake_error *err)
{
    held_output *h = (held_output *)o;
    if (lake_buf_append(&h->bytes, bytes, n) != LAKE_OK)
        return lake_error_oom(err, "etl");
    return LAKE_OK;
}

static lake_status held_commit(lake_output *o, lake_error *err)
{
    held_output *h = (held_output *)o;
    s3_store *s = h->store;
    lake_status rc = LAKE_OK;
    pthread_mutex_lock(&s->mu);
    if (s->n_held == s->cap_held) {
        const size_t cap = s->cap_held ? s->cap_held * 2 : 16;
        held_file *p = lake_realloc(s->base.alloc, s->held,
                                    s->cap_held * sizeof(*p),
                                    cap * sizeof(*p));
        if (p) {
            s->held = p;
            s->cap_held = cap;
        }
    }
    if (s->n_held < s->cap_held) {
        held_file *f = &s->held[s->n_held++];
        f->rel = h->rel;
        f->bytes = h->bytes;
        h->rel = NULL;
        lake_buf_init(&h->bytes, s->base.alloc, 0);
    } else {
        rc = lake_error_oom(err, "etl");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void held_destroy(lake_output *o)
{
    held_output *h = (held_output *)o;
    lake_buf_reset(&h->bytes);
    lake_free(o->alloc, h->rel);
    lake_free(o->alloc, h->name);
    lake_free(o->alloc, h);
}

static const lake_output_vtable held_vtable = {held_write, held_commit,
                                               held_destroy};

/* ---- the store ---- */

/* "part-00000.parquet" -> "part-00000-<run>.parquet" under the prefix. */
static lake_status data_key(const s3_store *s,
                            const char *rel,
                            lake_buf *key)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    const char *dot = strchr(base, '.');
    const size_t stem = dot ? (size_t)(dot - rel) : strlen(rel);
    return lake_buf_printf(key, "%s%.*s-%s%s", s->prefix, (int)stem, rel,
                           s->run_id, dot ? dot : "");
}

static bool is_held(const char *rel)
{
    const char *base = strrchr(rel, '/');
    return !base || strcmp(base + 1, "_SUCCESS") == 0;
}

/* The calling thread's client, created on first use. */
static lake_status thread_client(s3_store *s,
                                 lake_s3_client **out,
                                 lake_error *err)
{
    const pthread_t self = pthread_self();
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_clients && !*out; i++)
        if (pthread_equal(s->clients[i].tid, self))
            *out = s->clients[i].c;
    pthread_mutex_unlock(&s->mu);
    if (*out)
        return LAKE_OK;
    const lake_s3_opts opts = etl_s3_client_opts(&s->s3, s->base.alloc, 4);
    LAKE_TRY(lake_s3_client_new(&opts, out, err));
    pthread_mutex_lock(&s->mu);
    const bool room = s->n_clients < LAKE_ARRAY_LEN(s->clients);
    if (room) {
        s->clients[s->n_clients].tid = self;
        s->clients[s->n_clients].c = *out;
        s->n_clients++;
    }
    pthread_mutex_unlock(&s->mu);
    if (!room) {
        lake_s3_client_free(*out);
        *out = NULL;
        return lake_error_set(err, LAKE_ETOOBIG,
                              "etl: over %zu threads writing to S3",
                              LAKE_ARRAY_LEN(s->clients));
    }
    return LAKE_OK;
}

static lake_status s3_create(etl_store *st,
                             const char *rel,
                             lake_output **out,
                             lake_error *err)
{
    s3_store *s = (s3_store *)st;
    const lake_allocator *a = st->alloc;
    *out = NULL;
    lake_buf key;
    lake_buf_init(&key, a, 0);
    if (is_held(rel)) {
        held_output *h = lake_calloc(a, 1, sizeof(*h));
        if (!h)
            return lake_error_oom(err, "etl");
        h->base.vt = &held_vtable;
        h->base.alloc = a;
        h->store = s;
        h->rel = lake_strdup(a, rel);
        lake_buf_init(&h->bytes, a, 0);
        const lake_status rc =
            lake_buf_printf(&key, "s3://%s/%s%s", s->bucket, s->prefix, rel);
        size_t len, cap;
        h->name = rc == LAKE_OK ? lake_buf_take(&key, &len, &cap) : NULL;
        h->base.name = h->name;
        if (!h->rel || !h->name) {
            held_destroy(&h->base);
            return lake_error_oom(err, "etl");
        }
        *out = &h->base;
        return LAKE_OK;
    }
    if (data_key(s, rel, &key) != LAKE_OK)
        return lake_error_oom(err, "etl");
    lake_s3_client *c = NULL;
    lake_status rc = thread_client(s, &c, err);
    if (rc == LAKE_OK)
        rc = lake_output_open_s3(c, s->bucket, key.data, NULL, out, err);
    char *k = NULL;
    if (rc == LAKE_OK) {
        size_t len, cap;
        k = lake_buf_take(&key, &len, &cap);
        pthread_mutex_lock(&s->mu);
        if (s->n_written == s->cap_written) {
            const size_t ncap = s->cap_written ? s->cap_written * 2 : 256;
            char **p = lake_realloc(a, s->written,
                                    s->cap_written * sizeof(*p),
                                    ncap * sizeof(*p));
            if (p) {
                s->written = p;
                s->cap_written = ncap;
            }
        }
        if (s->n_written < s->cap_written) {
            s->written[s->n_written++] = k;
            k = NULL;
        } else {
            rc = lake_error_oom(err, "etl");
        }
        pthread_mutex_unlock(&s->mu);
    }
    lake_free(a, k);
    lake_buf_reset(&key);
    if (rc != LAKE_OK) {
        lake_output_free(*out);
        *out = NULL;
    }
    return rc;
}

static lake_status s3_scratch(etl_store *st,
                              const char *name,
                              int *fd,
                              lake_error *err)
{
    (void)st;
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/sparkify-%s-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp", name);
    *fd = mkstemp(path);
    if (*fd < 0)
        return lake_error_errno(err, errno, "etl: create %s", path);
    unlink(path); /* nameless: gone with the descriptor */
    return LAKE_OK;
}

static lake_status s3_sync(etl_store *st, lake_error *err)
{
    (void)st;
    (void)err;
    return LAKE_OK; /* a committed S3 object is durable */
}

/* Whether @p key, under the table's folder, belongs to this run. */
static bool of_this_run(const s3_store *s, const char *key)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    if (strcmp(base, "_SUCCESS") == 0)
        return true;
    return strstr(base, s->run_id) != NULL;
}

static lake_status put_held(s3_store *s,
                            const held_file *f,
                            lake_buf *key,
                            lake_error *err)
{
    key->len = 0;
    if (lake_buf_printf(key, "%s%s", s->prefix, f->rel) != LAKE_OK)
        return lake_error_oom(err, "etl");
    return lake_s3_put_object(s->c, s->bucket, key->data,
                              f->bytes.data ? f->bytes.data : "",
                              f->bytes.len, err);
}

static lake_status s3_publish(etl_store *st, const char *name,
                              lake_error *err)
{
    s3_store *s = (s3_store *)st;
    const size_t n = strlen(name);
    lake_buf key;
    lake_buf_init(&key, st->alloc, 0);
    lake_s3_object_list old = {0};
    const char **doomed = NULL;
    lake_status rc = LAKE_OK;
    /* 1. The table's _SUCCESS (or the top-level file itself). */
    for (size_t i = 0; i < s->n_held && rc == LAKE_OK; i++) {
        const held_file *f = &s->held[i];
        if (strcmp(f->rel, name) == 0 ||
            (strncmp(f->rel, name, n) == 0 && f->rel[n] == '/'))
            rc = put_held(s, f, &key, err);
    }
    if (rc == LAKE_OK && s->n_published < LAKE_ARRAY_LEN(s->published))
        snprintf(s->published[s->n_published++], sizeof(s->published[0]),
                 "%s", name);
    if (rc != LAKE_OK || strchr(name, '.') != NULL)
        goto cleanup; /* a file: nothing older to remove */
    /* 2. Only now, the previous runs' files of the table. */
    key.len = 0;
    if (lake_buf_printf(&key, "%s%s/", s->prefix, name) != LAKE_OK) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    rc = lake_s3_list_objects(s->c, s->bucket, key.data, 0, &old, err);
    if (rc != LAKE_OK)
        goto cleanup;
    doomed = lake_calloc(st->alloc, old.n_objects + 1, sizeof(char *));
    if (!doomed) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    size_t n_doomed = 0;
    for (size_t i = 0; i < old.n_objects; i++)
        if (!of_this_run(s, old.objects[i].key))
            doomed[n_doomed++] = old.objects[i].key;
    rc = lake_s3_delete_objects(s->c, s->bucket, doomed, n_doomed, err);
cleanup:
    lake_free(st->alloc, doomed);
    lake_s3_object_list_free(&old);
    lake_buf_reset(&key);
    return rc;
}

static bool was_published(const s3_store *s, const char *key)
{
    const char *rel = key + strlen(s->prefix);
    for (size_t i = 0; i < s->n_published; i++) {
        const size_t n = strlen(s->published[i]);
        if (strncmp(rel, s->published[i], n) == 0 && rel[n] == '/')
            return true;
    }
    return false;
}

static void s3_close(etl_store *st, bool ok)
{
    s3_store *s = (s3_store *)st;
    const lake_allocator *a = st->alloc;
    if (!ok && s->c && s->n_written > 0) {
        const char **doomed = lake_calloc(a, s->n_written, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; doomed && i < s->n_written; i++)
            if (!was_published(s, s->written[i]))
                doomed[n++] = s->written[i];
        lake_error ignored;
        if (doomed &&
            lake_s3_delete_objects(s->c, s->bucket, doomed, n, &ignored) !=
                LAKE_OK) {
            /* Best effort: the names carry the run id, and the next run
             * of the same tables deletes them at publish. */
        }
        lake_free(a, doomed);
    }
    for (size_t i = 0; i < s->n_held; i++) {
        lake_free(a, s->held[i].rel);
        lake_buf_reset(&s->held[i].bytes);
    }
    lake_free(a, s->held);
    for (size_t i = 0; i < s->n_written; i++)
        lake_free(a, s->written[i]);
    lake_free(a, s->written);
    lake_s3_client_free(s->c);
    for (size_t i = 0; i < s->n_clients; i++)
        lake_s3_client_free(s->clients[i].c);
    lake_free(a, s->prefix);
    pthread_mutex_destroy(&s->mu);
    lake_free(a, s);
}

/* Each publish is a completed PUT: nothing is left to make durable. */
static lake_status s3_commit(etl_store *st, lake_error *err)
{
    (void)st;
    (void)err;
    return LAKE_OK;
}

static const etl_store_ops s3_ops = {s3_create, s3_scratch, s3_sync,
                                     s3_publish, s3_commit, s3_close};

lake_status etl_store_open_s3(const char *uri,
                              const lake_s3_opts *s3,
                              const lake_allocator *alloc,
                              etl_store **out,
                              lake_error *err)
{
    *out = NULL;
    s3_store *s = lake_calloc(alloc, 1, sizeof(*s));
    if (!s)
        return lake_error_oom(err, "etl");
    if (s3)
        s->s3 = *s3;
    s->base.ops = &s3_ops;
    s->base.alloc = alloc;
    pthread_mutex_init(&s->mu, NULL);
    const char *key = NULL;
    lake_status rc = lake_s3_parse_uri(uri, s->bucket, sizeof(s->bucket),
                                       &key, err);
    size_t n = rc == LAKE_OK ? strlen(key) : 0;
    if (rc == LAKE_OK) {
        s->prefix = lake_malloc(alloc, n + 2);
        if (!s->prefix) {
            rc = lake_error_oom(err, "etl");
        } else {
            memcpy(s->prefix, key, n);
            if (n > 0 && key[n - 1] != '/')
                s->prefix[n++] = '/';
            s->prefix[n] = '\0';
        }
    }
    if (rc == LAKE_OK) {
        char date[17];
        lake_s3_amz_date((int64_t)time(NULL), date);
        snprintf(s->run_id, sizeof(s->run_id), "%s-%ld-%04x", date,
                 (long)getpid(), (unsigned)(lake_now_ns() & 0xffff));
        const lake_s3_opts opts = etl_s3_client_opts(&s->s3, alloc, 0);
        rc = lake_s3_client_new(&opts, &s->c, err);
    }
    if (rc != LAKE_OK) {
        s3_close(&s->base, true);
        return rc;
    }
    *out = &s->base;
    return LAKE_OK;
}
