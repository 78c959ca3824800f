/* SPDX-License-Identifier: Apache-2.0 */
/* s3_output.c - lake_output on S3: bytes are buffered up to one part; a
 * small object is one PUT at commit, a large one a multipart upload whose
 * parts go out `parallel_parts` at a time. Any failure, and freeing an
 * uncommitted output, aborts the upload so that none is left behind
 * (incomplete uploads are invisible but billed, NOTES.md §3). */
#include "fmacros.h"

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "lake_output_impl.h"
#include "s3_client.h"
#include "s3_xml.h"
#include "lake_internal.h"

#define DEFAULT_PART_BYTES     (8u << 20)
#define DEFAULT_PARALLEL_PARTS 4
#define MAX_PARTS              10000

typedef struct part_tag {
    char etag[96];
} part_tag;

typedef struct s3_output {
    lake_output base;
    lake_s3_client *client;
    char *bucket;
    char *key;
    char *name; /* "s3://bucket/key" */
    size_t part_size;
    int parallel;
    char *upload_id;  /* NULL until the first part goes out */
    lake_buf *parts;  /* `parallel` full parts waiting to be sent */
    int n_pending;
    int n_sent;       /* parts already uploaded */
    part_tag *tags;   /* ETags of the uploaded parts, by number - 1 */
    size_t cap_tags;
    bool owns_client; /* free the client with the output */
} s3_output;

static lake_status abort_upload(s3_output *s)
{
    if (!s->upload_id)
        return LAKE_OK;
    lake_error ignored;
    const lake_status rc = lake_s3_abort_upload(s->client, s->bucket,
                                                s->key, s->upload_id,
                                                &ignored);
    lake_free(s->base.alloc, s->upload_id);
    s->upload_id = NULL;
    return rc;
}

typedef struct part_batch {
    s3_output *s;
    int next;
} part_batch;

static lake_status part_next(void *ctx,
                             lake_s3_req *req,
                             bool *more,
                             lake_error *err)
{
    (void)err;
    part_batch *pb = ctx;
    s3_output *s = pb->s;
    *more = pb->next < s->n_pending;
    if (!*more)
        return LAKE_OK;
    const int i = pb->next++;
    const int number = s->n_sent + i + 1;
    snprintf(req->scratch, sizeof(req->scratch), "%d", number);
    req->method = "PUT";
    req->bucket = s->bucket;
    req->key = s->key;
    req->params[0] = (lake_s3_param){"partNumber", req->scratch};
    req->params[1] = (lake_s3_param){"uploadId", s->upload_id};
    req->n_params = 2;
    req->body = s->parts[i].data;
    req->body_len = s->parts[i].len;
    req->index = (size_t)(number - 1);
    return LAKE_OK;
}

static lake_status part_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    part_batch *pb = ctx;
    s3_output *s = pb->s;
    if (!req->etag[0])
        return lake_error_set(err, LAKE_EPARSE,
                              "s3: upload part %zu of %s: no ETag in the "
                              "answer (request id %s)",
                              req->index + 1, s->name,
                              req->request_id[0] ? req->request_id : "none");
    memcpy(s->tags[req->index].etag, req->etag, sizeof(req->etag));
    return LAKE_OK;
}

/* Send the pending parts, starting the multipart upload if needed. */
static lake_status flush_parts(s3_output *s, lake_error *err)
{
    if (s->n_pending == 0)
        return LAKE_OK;
    if (s->n_sent + s->n_pending > MAX_PARTS)
        return lake_error_set(err, LAKE_ETOOBIG,
                              "s3: upload %s: over %d parts; raise "
                              "part_size_bytes",
                              s->name, MAX_PARTS);
    if (!s->upload_id)
        LAKE_TRY(lake_s3_start_upload(s->client, s->bucket, s->key,
                                      &s->upload_id, err));
    const size_t need = (size_t)(s->n_sent + s->n_pending);
    if (need > s->cap_tags) {
        const size_t cap = LAKE_MAX(need, s->cap_tags * 2);
        part_tag *t = lake_realloc(s->base.alloc, s->tags,
                                   s->cap_tags * sizeof(*t),
                                   cap * sizeof(*t));
        if (!t)
            return lake_error_oom(err, "s3");
        s->tags = t;
        s->cap_tags = cap;
    }
    part_batch pb = {s, 0};
    const lake_s3_batch b = {part_next, part_done, &pb, s->parallel};
    LAKE_TRY(lake_s3_run(s->client, &b, err));
    s->n_sent += s->n_pending;
    for (int i = 0; i < s->n_pending; i++)
        s->parts[i].len = 0;
    s->n_pending = 0;
    return LAKE_OK;
}

static lake_status s3_write_impl(s3_output *s,
                                 const char *p,
                                 size_t n,
                                 lake_error *err)
{
    while (n > 0) {
        lake_buf *cur = &s->parts[s->n_pending];
        /* The buffer grows with the data: a small file costs its size. */
        const size_t k = LAKE_MIN(n, s->part_size - cur->len);
        if (lake_buf_append(cur, p, k) != LAKE_OK)
            return lake_error_oom(err, "s3");
        p += k;
        n -= k;
        if (cur->len < s->part_size)
            continue;
        s->n_pending++;
        if (s->n_pending == s->parallel)
            LAKE_TRY(flush_parts(s, err));
    }
    return LAKE_OK;
}

static lake_status s3_write(lake_output *o,
                            const void *bytes,
                            size_t n,
                            lake_error *err)
{
    s3_output *s = (s3_output *)o;
    const lake_status rc = s3_write_impl(s, bytes, n, err);
    if (rc != LAKE_OK)
        abort_upload(s);
    return rc;
}

static lake_status complete(s3_output *s, lake_error *err)
{
    lake_buf body;
    lake_buf_init(&body, s->base.alloc, 0);
    lake_status rc = lake_buf_append_str(&body, "<CompleteMultipartUpload>");
    for (int i = 0; i < s->n_sent && rc == LAKE_OK; i++)
        rc = lake_buf_printf(&body,
                             "<Part><PartNumber>%d</PartNumber>"
                             "<ETag>%s</ETag></Part>",
                             i + 1, s->tags[i].etag);
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(&body, "</CompleteMultipartUpload>");
    if (rc != LAKE_OK) {
        lake_buf_reset(&body);
        return lake_error_oom(err, "s3");
    }
    lake_s3_req req;
    lake_s3_req_init(s->client, &req);
    req.method = "POST";
    req.bucket = s->bucket;
    req.key = s->key;
    req.params[0] = (lake_s3_param){"uploadId", s->upload_id};
    req.n_params = 1;
    req.body = body.data;
    req.body_len = body.len;
    req.error_in_body = true; /* 200 with <Error> is a failure */
    rc = lake_s3_run_one(s->client, &req, err);
    lake_s3_req_release(&req);
    lake_buf_reset(&body);
    return rc;
}

static lake_status s3_commit_impl(s3_output *s, lake_error *err)
{
    lake_buf *cur = &s->parts[s->n_pending];
    if (!s->upload_id && s->n_pending == 0)
        return lake_s3_put_object(s->client, s->bucket, s->key,
                                  cur->data ? cur->data : "", cur->len, err);
    if (cur->len > 0)
        s->n_pending++;
    LAKE_TRY(flush_parts(s, err));
    LAKE_TRY(complete(s, err));
    lake_free(s->base.alloc, s->upload_id);
    s->upload_id = NULL;
    return LAKE_OK;
}

static lake_status s3_commit(lake_output *o, lake_error *err)
{
    s3_output *s = (s3_output *)o;
    const lake_status rc = s3_commit_impl(s, err);
    if (rc != LAKE_OK)
        abort_upload(s);
    return rc;
}

static void s3_destroy(lake_output *o)
{
    s3_output *s = (s3_output *)o;
    const lake_allocator *a = o->alloc;
    if (!o->committed)
        abort_upload(s);
    if (s->parts) {
        for (int i = 0; i <= s->parallel; i++)
            lake_buf_reset(&s->parts[i]);
        lake_free(a, s->parts);
    }
    lake_free(a, s->tags);
    lake_free(a, s->upload_id);
    lake_free(a, s->bucket);
    lake_free(a, s->key);
    lake_free(a, s->name);
    if (s->owns_client)
        lake_s3_client_free(s->client);
    lake_free(a, s);
}

static const lake_output_vtable s3_vtable = {s3_write, s3_commit,
                                             s3_destroy};

lake_status lake_output_open_s3(lake_s3_client *c,
                                const char *bucket,
                                const char *key,
                                const lake_s3_output_opts *opts,
                                lake_output **out,
                                lake_error *err)
{
    static const lake_s3_output_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!c || !bucket || !bucket[0] || !key || !key[0])
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: output needs a bucket and a key");
    const lake_allocator *a = lake_s3_client_alloc(c);
    s3_output *s = lake_calloc(a, 1, sizeof(*s));
    if (!s)
        return lake_error_oom(err, "s3");
    s->base.vt = &s3_vtable;
    s->base.alloc = a;
    s->client = c;
    s->part_size = opts->part_size_bytes ? opts->part_size_bytes
                                         : DEFAULT_PART_BYTES;
    s->parallel = opts->parallel_parts > 0 ? opts->parallel_parts
                                           : DEFAULT_PARALLEL_PARTS;
    s->bucket = lake_strdup(a, bucket);
    s->key = lake_strdup(a, key);
    const size_t name_len = strlen(bucket) + strlen(key) + 7;
    s->name = lake_malloc(a, name_len);
    /* One extra buffer: the part being filled while `parallel` wait. */
    s->parts = lake_calloc(a, (size_t)s->parallel + 1, sizeof(lake_buf));
    if (!s->bucket || !s->key || !s->name || !s->parts) {
        s3_destroy(&s->base);
        return lake_error_oom(err, "s3");
    }
    for (int i = 0; i <= s->parallel; i++)
        lake_buf_init(&s->parts[i], a, 0);
    snprintf(s->name, name_len, "s3://%s/%s", bucket, key);
    s->base.name = s->name;
    *out = &s->base;
    return LAKE_OK;
}

lake_status lake_output_open_s3_take(lake_s3_client *c,
                                     const char *bucket,
                                     const char *key,
                                     const lake_s3_output_opts *opts,
                                     lake_output **out,
                                     lake_error *err)
{
    const lake_status rc = lake_output_open_s3(c, bucket, key, opts, out,
                                               err);
    if (rc != LAKE_OK) {
        lake_s3_client_free(c);
        return rc;
    }
    ((s3_output *)*out)->owns_client = true;
    return LAKE_OK;
}
