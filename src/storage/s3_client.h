/* SPDX-License-Identifier: Apache-2.0 */
/* s3_client.h - internals of the S3 client shared by its files: the
 * credential chain, the request engine (curl multi, retries) and the
 * request record that callers fill. */
#ifndef LAKE_S3_CLIENT_H
#define LAKE_S3_CLIENT_H
#include "lake_common.h"
#include "storage/s3_sign.h"

#define LAKE_S3_PADDING 64 /* readable zero bytes after a GET body; equals
                              LAKE_READ_PADDING of the ingest stage */

/* ---- credentials ---- */

typedef struct lake_s3_creds {
    char *access_key_id;     /* NULL when anonymous */
    char *secret_access_key; /* never printed */
    char *session_token;     /* NULL: none */
    char *region;            /* from a profile, or NULL */
    const char *source;      /* "options", "config file", "environment",
                                "profile", "anonymous" (static text) */
} lake_s3_creds;

/* Resolve credentials per the chain documented at lake_s3_opts. Errors
 * name the file or variable, never a secret. */
LAKE_NODISCARD lake_status lake_s3_creds_resolve(const lake_s3_opts *opts,
                                                 const lake_allocator *a,
                                                 lake_s3_creds *out,
                                                 lake_error *err);
void lake_s3_creds_free(const lake_allocator *a, lake_s3_creds *c);

/* Look @p key up (case-insensitive) in @p section of INI text @p ini;
 * copies the value, unquoted and trimmed, into @p value. Returns false
 * when absent or too long. Exposed for tests. */
bool lake_s3_ini_get(const char *ini,
                     const char *section,
                     const char *key,
                     char *value,
                     size_t value_size);

/* ---- requests ---- */

#define LAKE_S3_MAX_PARAMS 6

typedef struct lake_s3_req {
    /* Filled by the caller. Strings are borrowed and must outlive the
     * request. */
    const char *method;         /* "GET", "PUT", "POST", "DELETE" */
    const char *bucket;         /* NULL: service-level request */
    const char *key;            /* NULL: bucket-level request */
    lake_s3_param params[LAKE_S3_MAX_PARAMS];
    size_t n_params;
    const char *body;           /* request body, or NULL */
    size_t body_len;
    bool content_md5;           /* send Content-MD5 of the body */
    bool error_in_body;         /* a 200 answer may carry <Error> */
    bool pad;                   /* keep LAKE_S3_PADDING zero bytes after
                                   the response body */
    size_t max_bytes;           /* response body cap; 0: 16 MiB */
    size_t index;               /* caller's tag */
    char scratch[48];           /* caller's storage for a param value */

    /* Filled by the engine. */
    lake_buf resp;              /* response body (the caller may take) */
    long http_status;
    char etag[96];              /* ETag header, quotes kept */
    char request_id[80];        /* x-amz-request-id header */
    int attempts;

    /* Engine state. */
    void *easy;
    struct curl_slist *headers;
    size_t body_off;
    int64_t not_before_ns;
    int state;
    bool too_big;
    size_t content_length;
} lake_s3_req;

/* A stream of requests for lake_s3_run: @p next fills a zeroed @p req or
 * sets *more = false; @p done gets each successful request (its response
 * in req->resp). Either may fail the run. */
typedef struct lake_s3_batch {
    lake_status (*next)(void *ctx,
                        lake_s3_req *req,
                        bool *more,
                        lake_error *err);
    lake_status (*done)(void *ctx, lake_s3_req *req, lake_error *err);
    void *ctx;
    int max_parallel; /* 0: the client's max_connections */
} lake_s3_batch;

/* Run every request of @p b, up to max_parallel at once, retrying
 * retryable failures with backoff. Stops at the first failure that is not
 * retried and reports it ("s3: GET s3://b/k: HTTP 404 NoSuchKey ..."). */
LAKE_NODISCARD lake_status lake_s3_run(lake_s3_client *c,
                                       const lake_s3_batch *b,
                                       lake_error *err);

/* Run one request; its response stays in @p req for the caller, who
 * calls lake_s3_req_release(). */
LAKE_NODISCARD lake_status lake_s3_run_one(lake_s3_client *c,
                                           lake_s3_req *req,
                                           lake_error *err);
/* Prepare @p req (zeroed, response buffer bound to the client). */
void lake_s3_req_init(lake_s3_client *c, lake_s3_req *req);
void lake_s3_req_release(lake_s3_req *req);

/* The client's allocator. */
const lake_allocator *lake_s3_client_alloc(const lake_s3_client *c);

/* lake_output_open_s3() that takes @p c: the output frees the client
 * (also on failure), so that each thread's output has its own client. */
LAKE_NODISCARD lake_status
lake_output_open_s3_take(lake_s3_client *c,
                         const char *bucket,
                         const char *key,
                         const lake_s3_output_opts *opts,
                         lake_output **out,
                         lake_error *err);

/* Upload parts etc. for the output (s3_output.c). */
LAKE_NODISCARD lake_status lake_s3_start_upload(lake_s3_client *c,
                                                const char *bucket,
                                                const char *key,
                                                char **upload_id,
                                                lake_error *err);
#endif
