/* SPDX-License-Identifier: Apache-2.0 */
/* s3_client.c - the S3 client: endpoint and addressing, a request engine
 * over one curl multi handle (kept-alive connections, N requests in
 * flight, bounded retries with exponential backoff and jitter), and the
 * object operations built on it. Requests are signed by s3_sign.c. */
#include "fmacros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lake_common.h"
#include "s3_client.h"
#include "s3_curl.h"
#include "s3_sign.h"
#include "s3_xml.h"
#include "lake_internal.h"

#define DEFAULT_MAX_CONNECTIONS 16
#define DEFAULT_MAX_RETRIES     4
#define DEFAULT_RETRY_BASE_MS   100
#define MAX_RETRY_DELAY_MS      5000
#define DEFAULT_TIMEOUT_MS      30000
#define DEFAULT_RESPONSE_BYTES  (16u << 20)
#define DELETE_BATCH            1000

struct lake_s3_client {
    const lake_allocator *alloc;
    char *scheme;   /* "http" or "https" */
    char *host;     /* host[:port] of the endpoint, as sent in Host */
    char *region;
    bool virtual_hosted;
    lake_s3_creds creds;
    int max_connections;
    int max_retries;
    int retry_base_ms;
    int timeout_ms;
    uint64_t rng; /* xorshift state for jitter */
    const s3_curl *cu; /* libcurl, loaded on first use */
    CURLM *multi;
    CURL **easy; /* max_connections handles, created on first use */
};

enum { REQ_FREE = 0, REQ_READY, REQ_ACTIVE };

const lake_allocator *lake_s3_client_alloc(const lake_s3_client *c)
{
    return c->alloc;
}

/* ---- client ---- */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

/* Split @p endpoint ("http://host:port[/]") into scheme and host. */
static lake_status parse_endpoint(lake_s3_client *c,
                                  const char *endpoint,
                                  lake_error *err)
{
    const char *sep = strstr(endpoint, "://");
    if (!sep)
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: bad endpoint %s: no scheme", endpoint);
    const size_t scheme_len = (size_t)(sep - endpoint);
    if (!((scheme_len == 4 && strncasecmp(endpoint, "http", 4) == 0) ||
          (scheme_len == 5 && strncasecmp(endpoint, "https", 5) == 0)))
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: bad endpoint %s: not http(s)", endpoint);
    const char *host = sep + 3;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0 || host[host_len] == '?' || host[host_len] == '#' ||
        (host[host_len] == '/' && host[host_len + 1] != '\0'))
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: bad endpoint %s: want scheme://host[:port]",
                              endpoint);
    if (memchr(host, '@', host_len))
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: bad endpoint: user info is not allowed");
    c->scheme = lake_strndup(c->alloc, endpoint, scheme_len);
    c->host = lake_strndup(c->alloc, host, host_len);
    if (!c->scheme || !c->host)
        return lake_error_oom(err, "s3");
    for (char *p = c->scheme; *p; p++)
        *p = (char)(*p | 0x20);
    return LAKE_OK;
}

static lake_status client_init(lake_s3_client *c,
                               const lake_s3_opts *o,
                               lake_error *err)
{
    LAKE_TRY(lake_s3_creds_resolve(o, c->alloc, &c->creds, err));
    const char *region = o->region;
    if (!region)
        region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", NULL));
    if (!region)
        region = c->creds.region ? c->creds.region : "us-east-1";
    c->region = lake_strdup(c->alloc, region);
    if (!c->region)
        return lake_error_oom(err, "s3");
    const char *endpoint = o->endpoint ? o->endpoint
                                       : env_or("AWS_ENDPOINT_URL", NULL);
    char aws[160];
    if (!endpoint) {
        snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com", region);
        endpoint = aws;
    }
    LAKE_TRY(parse_endpoint(c, endpoint, err));
    c->virtual_hosted = o->addressing == LAKE_S3_ADDRESSING_VIRTUAL ||
                        (o->addressing == LAKE_S3_ADDRESSING_AUTO &&
                         endpoint == aws);
    c->max_connections = o->max_connections > 0 ? o->max_connections
                                                : DEFAULT_MAX_CONNECTIONS;
    c->max_retries = o->max_retries > 0    ? o->max_retries
                     : o->max_retries < 0 ? 0
                                           : DEFAULT_MAX_RETRIES;
    c->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms
                                            : DEFAULT_RETRY_BASE_MS;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->rng = (uint64_t)lake_now_ns() ^ (uint64_t)(uintptr_t)c;
    c->rng |= 1;
    c->easy = lake_calloc(c->alloc, (size_t)c->max_connections,
                          sizeof(CURL *));
    if (!c->easy)
        return lake_error_oom(err, "s3");
    LAKE_TRY(s3_curl_load(&c->cu, err)); /* also curl_global_init */
    c->multi = c->cu->multi_init();
    if (!c->multi)
        return lake_error_oom(err, "s3");
    c->cu->multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)c->max_connections);
    c->cu->multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
                      (long)c->max_connections);
    return LAKE_OK;
}

lake_status lake_s3_client_new(const lake_s3_opts *opts,
                               lake_s3_client **out,
                               lake_error *err)
{
    static const lake_s3_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    const lake_allocator *a = opts->alloc;
    lake_s3_client *c = lake_calloc(a, 1, sizeof(*c));
    if (!c)
        return lake_error_oom(err, "s3");
    c->alloc = a;
    const lake_status rc = client_init(c, opts, err);
    if (rc != LAKE_OK) {
        lake_s3_client_free(c);
        return rc;
    }
    *out = c;
    return LAKE_OK;
}

void lake_s3_client_free(lake_s3_client *c)
{
    if (!c)
        return;
    if (c->easy) {
        for (int i = 0; i < c->max_connections; i++)
            if (c->easy[i])
                c->cu->easy_cleanup(c->easy[i]);
        lake_free(c->alloc, c->easy);
    }
    if (c->multi)
        c->cu->multi_cleanup(c->multi);
    lake_s3_creds_free(c->alloc, &c->creds);
    lake_free(c->alloc, c->scheme);
    lake_free(c->alloc, c->host);
    lake_free(c->alloc, c->region);
    lake_free(c->alloc, c);
}

lake_status lake_s3_parse_uri(const char *uri,
                              char *bucket,
                              size_t bucket_size,
                              const char **key,
                              lake_error *err)
{
    if (!uri || strncmp(uri, "s3://", 5) != 0)
        return lake_error_set(err, LAKE_EINVAL, "s3: not an s3:// URI: %s",
                              uri ? uri : "(null)");
    const char *b = uri + 5;
    const size_t n = strcspn(b, "/");
    if (n == 0 || n >= bucket_size)
        return lake_error_set(err, LAKE_EINVAL, "s3: bad bucket in %s", uri);
    memcpy(bucket, b, n);
    bucket[n] = '\0';
    *key = b[n] == '/' ? b + n + 1 : b + n;
    return LAKE_OK;
}

/* ---- requests ---- */

void lake_s3_req_init(lake_s3_client *c, lake_s3_req *req)
{
    memset(req, 0, sizeof(*req));
    lake_buf_init(&req->resp, c->alloc, 0);
}

void lake_s3_req_release(lake_s3_req *req)
{
    lake_buf_reset(&req->resp);
    if (req->headers) {
        s3_curl_loaded()->slist_free_all(req->headers); /* made by it */
        req->headers = NULL;
    }
}

static uint64_t next_rand(lake_s3_client *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

/* Delay before retry number @p attempt (1-based): base * 2^(attempt-1),
 * capped, with "equal jitter" (half fixed, half random). */
static int64_t backoff_ns(lake_s3_client *c, int attempt)
{
    int64_t ms = c->retry_base_ms;
    for (int i = 1; i < attempt && ms < MAX_RETRY_DELAY_MS; i++)
        ms *= 2;
    ms = LAKE_MIN(ms, MAX_RETRY_DELAY_MS);
    const int64_t half = ms / 2;
    const int64_t jitter =
        half > 0 ? (int64_t)(next_rand(c) % (uint64_t)(half + 1)) : 0;
    return (half + jitter) * 1000000;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    lake_s3_req *req = ud;
    const size_t bytes = size * n;
    const size_t cap = req->max_bytes ? req->max_bytes
                                      : DEFAULT_RESPONSE_BYTES;
    if (bytes > cap - LAKE_MIN(cap, req->resp.len)) {
        req->too_big = true;
        return 0;
    }
    if (req->resp.len == 0 && req->content_length > 0 &&
        req->content_length <= cap) {
        if (lake_buf_reserve(&req->resp,
                             req->content_length + LAKE_S3_PADDING) !=
            LAKE_OK)
            return 0;
    }
    if (lake_buf_append(&req->resp, p, bytes) != LAKE_OK)
        return 0;
    return bytes;
}

/* Copy header value @p v (n bytes, CRLF-terminated) into @p dst. */
static void copy_header_value(char *dst, size_t size, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
                     v[n - 1] == ' '))
        n--;
    n = LAKE_MIN(n, size - 1);
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name,
                      size_t *value_at)
{
    const size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    *value_at = k + 1;
    return true;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    lake_s3_req *req = ud;
    const size_t len = size * n;
    size_t at = 0;
    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        req->etag[0] = '\0';
        req->request_id[0] = '\0';
        req->content_length = 0;
    } else if (header_is(line, len, "etag", &at)) {
        copy_header_value(req->etag, sizeof(req->etag), line + at, len - at);
    } else if (header_is(line, len, "x-amz-request-id", &at)) {
        copy_header_value(req->request_id, sizeof(req->request_id),
                          line + at, len - at);
    } else if (header_is(line, len, "content-length", &at)) {
        char v[32];
        copy_header_value(v, sizeof(v), line + at, len - at);
        req->content_length = (size_t)strtoull(v, NULL, 10);
    }
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    lake_s3_req *req = ud;
    const size_t k = LAKE_MIN(size * n, req->body_len - req->body_off);
    if (k > 0)
        memcpy(p, req->body + req->body_off, k);
    req->body_off += k;
    return k;
}

/* Append the encoded resource path of @p req ("/bucket/key" or "/key"). */
static lake_status append_path(const lake_s3_client *c,
                               const lake_s3_req *req,
                               lake_buf *b)
{
    if (req->bucket && !c->virtual_hosted) {
        LAKE_TRY(lake_buf_append_byte(b, '/'));
        LAKE_TRY(lake_s3_uri_encode(b, req->bucket, strlen(req->bucket),
                                    false));
    }
    LAKE_TRY(lake_buf_append_byte(b, '/'));
    if (req->key)
        LAKE_TRY(lake_s3_uri_encode(b, req->key, strlen(req->key), true));
    return lake_buf_append_byte(b, 0);
}

/* Build URL, headers and signature of @p req into its easy handle. */
static lake_status prepare(lake_s3_client *c,
                           lake_s3_req *req,
                           CURL *easy,
                           lake_error *err)
{
    lake_buf path, query, url, auth, line;
    lake_buf_init(&path, c->alloc, 0);
    lake_buf_init(&query, c->alloc, 0);
    lake_buf_init(&url, c->alloc, 0);
    lake_buf_init(&auth, c->alloc, 0);
    lake_buf_init(&line, c->alloc, 0);
    char host[512], date[17], payload[LAKE_S3_SHA256_HEX_LEN + 1], md5[25];
    lake_status rc = LAKE_OK;
    if (req->bucket && c->virtual_hosted)
        snprintf(host, sizeof(host), "%s.%s", req->bucket, c->host);
    else
        snprintf(host, sizeof(host), "%s", c->host);
    lake_s3_amz_date((int64_t)time(NULL), date);
    lake_s3_sha256_hex(req->body ? req->body : "", req->body_len, payload);
    if (req->content_md5)
        lake_s3_md5_base64(req->body ? req->body : "", req->body_len, md5);
    rc = append_path(c, req, &path);
    if (rc == LAKE_OK)
        rc = lake_s3_canonical_query(req->params, req->n_params, &query);
    if (rc == LAKE_OK)
        rc = lake_buf_printf(&url, "%s://%s%s%s%s", c->scheme, host,
                             path.data, req->n_params ? "?" : "",
                             req->n_params ? query.data : "");
    if (rc != LAKE_OK)
        goto cleanup;
    lake_s3_header h[6];
    size_t nh = 0;
    h[nh++] = (lake_s3_header){"host", host};
    h[nh++] = (lake_s3_header){"x-amz-content-sha256", payload};
    h[nh++] = (lake_s3_header){"x-amz-date", date};
    if (req->content_md5)
        h[nh++] = (lake_s3_header){"content-md5", md5};
    if (c->creds.session_token)
        h[nh++] = (lake_s3_header){"x-amz-security-token",
                                   c->creds.session_token};
    if (c->creds.access_key_id) {
        const lake_s3_sign_in in = {
            .method = req->method,
            .canonical_uri = path.data,
            .canonical_query = req->n_params ? query.data : "",
            .headers = h,
            .n_headers = nh,
            .payload_hash = payload,
            .amz_date = date,
            .region = c->region,
            .service = "s3",
            .access_key_id = c->creds.access_key_id,
            .secret_access_key = c->creds.secret_access_key,
        };
        rc = lake_s3_sign(&in, NULL, NULL, &auth);
        if (rc != LAKE_OK)
            goto cleanup;
    }
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < nh && rc == LAKE_OK; i++) {
        line.len = 0;
        rc = lake_buf_printf(&line, "%s: %s", h[i].name, h[i].value);
        struct curl_slist *l2 = rc == LAKE_OK
                                    ? c->cu->slist_append(list, line.data)
                                    : NULL;
        if (!l2)
            rc = LAKE_ENOMEM;
        else
            list = l2;
    }
    static const char *const extra[] = {"Expect:", "Accept:",
                                        "Content-Type:"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(extra) && rc == LAKE_OK; i++) {
        struct curl_slist *l2 = c->cu->slist_append(list, extra[i]);
        if (!l2)
            rc = LAKE_ENOMEM;
        else
            list = l2;
    }
    if (rc == LAKE_OK && auth.len) {
        line.len = 0;
        rc = lake_buf_printf(&line, "Authorization: %s", auth.data);
        struct curl_slist *l2 =
            rc == LAKE_OK ? c->cu->slist_append(list, line.data) : NULL;
        if (!l2)
            rc = LAKE_ENOMEM;
        else
            list = l2;
    }
    if (rc != LAKE_OK) {
        c->cu->slist_free_all(list);
        goto cleanup;
    }
    req->headers = list;
    c->cu->easy_reset(easy);
    c->cu->easy_setopt(easy, CURLOPT_URL, url.data);
    c->cu->easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    c->cu->easy_setopt(easy, CURLOPT_PRIVATE, req);
    c->cu->easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    c->cu->easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    c->cu->easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    c->cu->easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    c->cu->easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    c->cu->easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                     (long)LAKE_MAX(1, c->timeout_ms / 1000));
    c->cu->easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    c->cu->easy_setopt(easy, CURLOPT_WRITEDATA, req);
    c->cu->easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    c->cu->easy_setopt(easy, CURLOPT_HEADERDATA, req);
    c->cu->easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(req->method, "PUT") == 0) {
        c->cu->easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        c->cu->easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
        c->cu->easy_setopt(easy, CURLOPT_READDATA, req);
        c->cu->easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "POST") == 0) {
        c->cu->easy_setopt(easy, CURLOPT_POST, 1L);
        c->cu->easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        c->cu->easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        c->cu->easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
cleanup:
    if (auth.data)
        memset(auth.data, 0, auth.cap);
    if (line.data)
        memset(line.data, 0, line.cap);
    lake_buf_reset(&path);
    lake_buf_reset(&query);
    lake_buf_reset(&url);
    lake_buf_reset(&auth);
    lake_buf_reset(&line);
    if (rc == LAKE_ENOMEM)
        return lake_error_oom(err, "s3");
    if (rc != LAKE_OK)
        return lake_error_set(err, rc, "s3: cannot build request for %s",
                              req->key ? req->key : "bucket");
    return LAKE_OK;
}

/* ---- the engine ---- */

static lake_status easy_for(lake_s3_client *c, int i, CURL **out,
                            lake_error *err)
{
    if (!c->easy[i]) {
        c->easy[i] = c->cu->easy_init();
        if (!c->easy[i])
            return lake_error_oom(err, "s3");
    }
    *out = c->easy[i];
    return LAKE_OK;
}

static bool retryable_code(const char *code)
{
    static const char *const codes[] = {
        "InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout",
        "RequestTimeTooSkewed", "OperationAborted"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(codes); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* "s3://bucket/key" or "s3://bucket" into @p out for messages. */
static void describe_target(const lake_s3_req *req, char *out, size_t size)
{
    if (!req->bucket)
        snprintf(out, size, "s3 service");
    else if (!req->key)
        snprintf(out, size, "s3://%s", req->bucket);
    else
        snprintf(out, size, "s3://%s/%s", req->bucket, req->key);
}

/* Classify a finished attempt. Returns LAKE_OK for success; otherwise a
 * status with *retry telling whether another attempt may help, and the
 * message written to @p err. */
static lake_status classify(lake_s3_client *c,
                            lake_s3_req *req,
                            CURLcode cc,
                            bool *retry,
                            lake_error *err)
{
    char target[200];
    describe_target(req, target, sizeof(target));
    *retry = false;
    if (cc != CURLE_OK) {
        if (req->too_big)
            return lake_error_set(err, LAKE_ETOOBIG,
                                  "s3: %s %s: answer over %zu bytes",
                                  req->method, target,
                                  req->max_bytes ? req->max_bytes
                                                 : DEFAULT_RESPONSE_BYTES);
        if (cc == CURLE_OUT_OF_MEMORY)
            return lake_error_oom(err, "s3");
        *retry = true;
        return lake_error_set(err, LAKE_ENET, "s3: %s %s: %s (curl %d)",
                              req->method, target, c->cu->easy_strerror(cc),
                              (int)cc);
    }
    const long st = req->http_status;
    bool body_error = false;
    if (st >= 200 && st < 300 && !req->error_in_body)
        return LAKE_OK;
    lake_s3_xml_result x;
    memset(&x, 0, sizeof(x));
    if (req->resp.len > 0) {
        lake_error xerr;
        if (lake_s3_xml_parse(req->resp.data, req->resp.len, c->alloc, &x,
                              &xerr) == LAKE_OK)
            body_error = strcmp(x.root, "Error") == 0;
    }
    if (st >= 200 && st < 300 && !body_error) {
        lake_s3_xml_result_free(&x);
        return LAKE_OK;
    }
    const char *rid = x.request_id[0] ? x.request_id : req->request_id;
    *retry = (st >= 500 && st != 501) || st == 429 ||
             retryable_code(x.code); /* 501: not implemented, for good */
    lake_error_set(err, LAKE_EREMOTE,
                   "s3: %s %s: HTTP %ld %s%s%s (request id %s)", req->method,
                   target, st, x.code[0] ? x.code : "(no code)",
                   x.message[0] ? ": " : "", x.message,
                   rid[0] ? rid : "none");
    lake_s3_xml_result_free(&x);
    return LAKE_EREMOTE;
}

static void append_attempts(lake_error *err, int attempts)
{
    if (!err || attempts <= 1)
        return;
    const size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof(err->message) - n,
             " after %d attempts", attempts);
}

static lake_status finish(lake_s3_client *c,
                          const lake_s3_batch *b,
                          lake_s3_req *req,
                          CURLcode cc,
                          lake_error *err)
{
    c->cu->easy_getinfo((CURL *)req->easy, CURLINFO_RESPONSE_CODE,
                      &req->http_status);
    c->cu->slist_free_all(req->headers);
    req->headers = NULL;
    req->easy = NULL;
    bool retry = false;
    lake_error attempt_err;
    lake_error_clear(&attempt_err);
    const lake_status rc = classify(c, req, cc, &retry, &attempt_err);
    if (rc == LAKE_OK) {
        if (req->pad) {
            if (lake_buf_reserve(&req->resp, LAKE_S3_PADDING) != LAKE_OK)
                return lake_error_oom(err, "s3");
            memset(req->resp.data + req->resp.len, 0, LAKE_S3_PADDING);
        }
        req->state = REQ_FREE;
        return b->done(b->ctx, req, err);
    }
    if (retry && req->attempts <= c->max_retries) {
        req->state = REQ_READY;
        req->not_before_ns = lake_now_ns() + backoff_ns(c, req->attempts);
        req->resp.len = 0;
        req->too_big = false;
        req->body_off = 0;
        return LAKE_OK;
    }
    if (err)
        *err = attempt_err;
    append_attempts(err, req->attempts);
    return rc;
}

lake_status lake_s3_run(lake_s3_client *c,
                        const lake_s3_batch *b,
                        lake_error *err)
{
    const int n = b->max_parallel > 0
                      ? LAKE_MIN(b->max_parallel, c->max_connections)
                      : c->max_connections;
    lake_s3_req *slots = lake_calloc(c->alloc, (size_t)n, sizeof(*slots));
    if (!slots)
        return lake_error_oom(err, "s3");
    lake_status rc = LAKE_OK;
    bool more = true;
    int active = 0;
    for (;;) {
        more = true; /* a source may have new work after a completion */
        for (int i = 0; i < n && more && rc == LAKE_OK; i++) {
            if (slots[i].state != REQ_FREE)
                continue;
            lake_s3_req_release(&slots[i]);
            lake_s3_req_init(c, &slots[i]);
            rc = b->next(b->ctx, &slots[i], &more, err);
            if (rc == LAKE_OK && more)
                slots[i].state = REQ_READY;
        }
        if (rc != LAKE_OK)
            break;
        const int64_t now = lake_now_ns();
        int64_t next_due = INT64_MAX;
        int waiting = 0;
        for (int i = 0; i < n && rc == LAKE_OK; i++) {
            lake_s3_req *req = &slots[i];
            if (req->state != REQ_READY)
                continue;
            if (req->not_before_ns > now) {
                next_due = LAKE_MIN(next_due, req->not_before_ns);
                waiting++;
                continue;
            }
            CURL *easy = NULL;
            rc = easy_for(c, i, &easy, err);
            if (rc == LAKE_OK)
                rc = prepare(c, req, easy, err);
            if (rc != LAKE_OK)
                break;
            req->easy = easy;
            req->attempts++;
            if (c->cu->multi_add_handle(c->multi, easy) != CURLM_OK) {
                rc = lake_error_oom(err, "s3");
                break;
            }
            req->state = REQ_ACTIVE;
            active++;
        }
        if (rc != LAKE_OK || (active == 0 && waiting == 0 && !more))
            break;
        int running = 0;
        if (c->cu->multi_perform(c->multi, &running) != CURLM_OK) {
            rc = lake_error_set(err, LAKE_ENET, "s3: curl_multi_perform");
            break;
        }
        int queued = 0, n_done = 0;
        const CURLMsg *m;
        while (rc == LAKE_OK &&
               (m = c->cu->multi_info_read(c->multi, &queued)) != NULL) {
            n_done++;
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *easy = m->easy_handle;
            const CURLcode cc = m->data.result;
            lake_s3_req *req = NULL;
            c->cu->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
            c->cu->multi_remove_handle(c->multi, easy);
            active--;
            rc = finish(c, b, req, cc, err);
        }
        if (rc != LAKE_OK)
            break;
        if (n_done > 0)
            continue; /* refill the freed slots before waiting */
        long wait_ms = 1000;
        if (next_due != INT64_MAX)
            wait_ms = (long)LAKE_MAX(0, LAKE_MIN(1000, (next_due - now) /
                                                             1000000));
        if (active == 0 && waiting > 0 && wait_ms > 0) {
            const struct timespec ts = {wait_ms / 1000,
                                        (wait_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        } else if (active > 0) {
            c->cu->multi_poll(c->multi, NULL, 0, (int)wait_ms, NULL);
        }
    }
    for (int i = 0; i < n; i++) {
        if (slots[i].state == REQ_ACTIVE && slots[i].easy)
            c->cu->multi_remove_handle(c->multi, (CURL *)slots[i].easy);
        lake_s3_req_release(&slots[i]);
    }
    lake_free(c->alloc, slots);
    return rc;
}

typedef struct one_ctx {
    lake_s3_req *req;
    bool given;
} one_ctx;

static lake_status one_next(void *ctx,
                            lake_s3_req *req,
                            bool *more,
                            lake_error *err)
{
    (void)err;
    one_ctx *o = ctx;
    if (o->given) {
        *more = false;
        return LAKE_OK;
    }
    o->given = true;
    lake_buf resp = req->resp;
    *req = *o->req;
    req->resp = resp;
    req->headers = NULL;
    req->easy = NULL;
    req->state = REQ_FREE;
    *more = true;
    return LAKE_OK;
}

static lake_status one_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    (void)err;
    one_ctx *o = ctx;
    lake_buf_reset(&o->req->resp);
    o->req->resp = req->resp;
    lake_buf_init(&req->resp, o->req->resp.alloc, 0);
    o->req->http_status = req->http_status;
    o->req->attempts = req->attempts;
    memcpy(o->req->etag, req->etag, sizeof(req->etag));
    memcpy(o->req->request_id, req->request_id, sizeof(req->request_id));
    return LAKE_OK;
}

lake_status lake_s3_run_one(lake_s3_client *c,
                            lake_s3_req *req,
                            lake_error *err)
{
    one_ctx o = {req, false};
    const lake_s3_batch b = {one_next, one_done, &o, 1};
    return lake_s3_run(c, &b, err);
}

/* ---- operations ---- */

static lake_status list_append(lake_s3_object_list *out,
                               size_t *cap,
                               lake_s3_xml_entry *e,
                               bool decode,
                               lake_error *err)
{
    if (!e->key)
        return lake_error_set(err, LAKE_EPARSE, "s3: listing entry "
                                                "without <Key>");
    if (decode) {
        size_t len = strlen(e->key);
        if (lake_s3_uri_decode(e->key, &len) != LAKE_OK)
            return lake_error_set(err, LAKE_EPARSE,
                                  "s3: listing: bad URL encoding in key");
    }
    if (out->n_objects == *cap) {
        const size_t ncap = *cap ? *cap * 2 : 256;
        lake_s3_object *p = lake_realloc(out->alloc, out->objects,
                                         *cap * sizeof(*p), ncap * sizeof(*p));
        if (!p)
            return lake_error_oom(err, "s3");
        out->objects = p;
        *cap = ncap;
    }
    lake_s3_object *o = &out->objects[out->n_objects++];
    o->key = e->key; /* taken from the XML result */
    o->upload_id = e->upload_id;
    o->size_bytes = e->size_bytes;
    e->key = NULL;
    e->upload_id = NULL;
    out->total_bytes += o->size_bytes;
    return LAKE_OK;
}

static lake_status parse_answer(lake_s3_client *c,
                                lake_s3_req *req,
                                lake_s3_xml_result *x,
                                lake_error *err)
{
    char target[200];
    describe_target(req, target, sizeof(target));
    lake_error xerr;
    const lake_status rc = lake_s3_xml_parse(req->resp.data, req->resp.len,
                                             c->alloc, x, &xerr);
    if (rc == LAKE_ENOMEM)
        return lake_error_oom(err, "s3");
    if (rc != LAKE_OK)
        return lake_error_set(err, rc, "s3: %s %s: %s", req->method, target,
                              xerr.message + (strncmp(xerr.message, "s3: ",
                                                      4) == 0
                                                  ? 4
                                                  : 0));
    return LAKE_OK;
}

/* Whether @p token, URL-decoded, is @p key: a server that encoded its
 * key-based token (AWS tokens are opaque and never look like this). */
static bool token_is_last_key(const char *token, const char *key)
{
    char buf[2048];
    size_t len = strlen(token);
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, token, len + 1);
    return lake_s3_uri_decode(buf, &len) == LAKE_OK && strcmp(buf, key) == 0;
}

/* ListMultipartUploads, following NextKeyMarker / NextUploadIdMarker. */
static lake_status list_upload_pages(lake_s3_client *c,
                                     const char *bucket,
                                     const char *prefix,
                                     lake_s3_object_list *out,
                                     lake_error *err)
{
    memset(out, 0, sizeof(*out));
    out->alloc = c->alloc;
    size_t cap = 0;
    char *marker = NULL, *id_marker = NULL;
    lake_status rc = LAKE_OK;
    lake_s3_req req;
    lake_s3_xml_result x;
    memset(&x, 0, sizeof(x));
    lake_s3_req_init(c, &req);
    for (;;) {
        lake_s3_req_release(&req);
        lake_s3_req_init(c, &req);
        req.method = "GET";
        req.bucket = bucket;
        size_t np = 0;
        req.params[np++] = (lake_s3_param){"uploads", ""};
        if (marker)
            req.params[np++] = (lake_s3_param){"key-marker", marker};
        if (id_marker)
            req.params[np++] = (lake_s3_param){"upload-id-marker", id_marker};
        if (prefix && prefix[0])
            req.params[np++] = (lake_s3_param){"prefix", prefix};
        req.n_params = np;
        rc = lake_s3_run_one(c, &req, err);
        if (rc == LAKE_OK)
            rc = parse_answer(c, &req, &x, err);
        for (size_t i = 0; rc == LAKE_OK && i < x.n_entries; i++)
            rc = list_append(out, &cap, &x.entries[i], false, err);
        if (rc != LAKE_OK)
            break;
        lake_free(c->alloc, marker);
        lake_free(c->alloc, id_marker);
        marker = x.next_key_marker;
        id_marker = x.next_upload_id_marker;
        x.next_key_marker = x.next_upload_id_marker = NULL;
        const bool truncated = x.is_truncated;
        lake_s3_xml_result_free(&x);
        if (!truncated)
            break;
        if (!marker) {
            rc = lake_error_set(err, LAKE_EPARSE,
                                "s3: listing uploads of s3://%s: truncated "
                                "page without a marker",
                                bucket);
            break;
        }
    }
    lake_s3_xml_result_free(&x);
    lake_s3_req_release(&req);
    lake_free(c->alloc, marker);
    lake_free(c->alloc, id_marker);
    if (rc != LAKE_OK)
        lake_s3_object_list_free(out);
    return rc;
}

/* ---- parallel listing ----
 * A flat ListObjectsV2 is a chain of pages, one round trip each. We first
 * list one level with delimiter '/', then list every common prefix found
 * there, recursively and concurrently on the engine's connections, and
 * sort the union. The pages of one prefix still follow each other.
 *
 * Keys and prefixes must advance from page to page. Some servers
 * (s3proxy 4) URL-encode a key-based NextContinuationToken under
 * encoding-type=url, which would restart the next page too early
 * (duplicates) or too late (skipped keys); then we page with
 * start-after=<last entry> (after a prefix: the prefix followed by
 * U+10FFFF, past every key under it). A page that brings nothing past the
 * last entry also switches to start-after, and fails if even that does
 * not advance, so a listing never loops. */

#define PAST_PREFIX "\xf4\x8f\xbf\xbf" /* U+10FFFF, the last code point */

typedef struct list_job {
    char *prefix;   /* owned */
    char *token;    /* owned; NULL before the first page */
    char *last_key;    /* owned: the last key taken, or NULL */
    char *last_prefix; /* owned: the last common prefix taken, or NULL */
    char *resume;      /* owned: start-after value: the greater of
                          last_key and last_prefix + PAST_PREFIX */
    bool start_after;
    bool in_flight;
    bool done;
} list_job;

typedef struct list_state {
    lake_s3_client *c;
    const char *bucket;
    const char *delimiter; /* "/" in the first phase, else NULL */
    char max_keys_text[16];
    list_job *jobs;
    size_t n_jobs;
    size_t cap_jobs;
    lake_s3_object_list *out;
    size_t cap_out;
    char **prefixes; /* common prefixes found (first phase) */
    size_t n_prefixes;
    size_t cap_prefixes;
} list_state;

static lake_status add_job(list_state *st, const char *prefix,
                           lake_error *err)
{
    if (st->n_jobs == st->cap_jobs) {
        const size_t cap = st->cap_jobs ? st->cap_jobs * 2 : 32;
        list_job *j = lake_realloc(st->c->alloc, st->jobs,
                                   st->cap_jobs * sizeof(*j),
                                   cap * sizeof(*j));
        if (!j)
            return lake_error_oom(err, "s3");
        st->jobs = j;
        st->cap_jobs = cap;
    }
    list_job *j = &st->jobs[st->n_jobs];
    memset(j, 0, sizeof(*j));
    j->prefix = lake_strdup(st->c->alloc, prefix ? prefix : "");
    if (!j->prefix)
        return lake_error_oom(err, "s3");
    st->n_jobs++;
    return LAKE_OK;
}

static void free_jobs(list_state *st)
{
    for (size_t i = 0; i < st->n_jobs; i++) {
        lake_free(st->c->alloc, st->jobs[i].prefix);
        lake_free(st->c->alloc, st->jobs[i].token);
        lake_free(st->c->alloc, st->jobs[i].last_key);
        lake_free(st->c->alloc, st->jobs[i].last_prefix);
        lake_free(st->c->alloc, st->jobs[i].resume);
    }
    lake_free(st->c->alloc, st->jobs);
    st->jobs = NULL;
    st->n_jobs = st->cap_jobs = 0;
}

static lake_status list_next(void *ctx,
                             lake_s3_req *req,
                             bool *more,
                             lake_error *err)
{
    (void)err;
    list_state *st = ctx;
    *more = false;
    for (size_t i = 0; i < st->n_jobs; i++) {
        list_job *j = &st->jobs[i];
        if (j->done || j->in_flight)
            continue;
        j->in_flight = true;
        *more = true;
        req->method = "GET";
        req->bucket = st->bucket;
        req->index = i;
        size_t np = 0;
        req->params[np++] = (lake_s3_param){"list-type", "2"};
        req->params[np++] = (lake_s3_param){"encoding-type", "url"};
        req->params[np++] = (lake_s3_param){"max-keys", st->max_keys_text};
        if (j->prefix[0])
            req->params[np++] = (lake_s3_param){"prefix", j->prefix};
        if (st->delimiter)
            req->params[np++] = (lake_s3_param){"delimiter", st->delimiter};
        if (j->start_after && j->resume)
            req->params[np++] = (lake_s3_param){"start-after", j->resume};
        else if (j->token)
            req->params[np++] =
                (lake_s3_param){"continuation-token", j->token};
        req->n_params = np;
        return LAKE_OK;
    }
    return LAKE_OK;
}

/* Remember @p raw as the job's last key or last prefix, and where a
 * start-after would resume: past both. Contents and CommonPrefixes come
 * as two sorted runs, so each kind is compared with its own last. */
static lake_status set_last(list_state *st,
                            list_job *j,
                            const char *raw,
                            bool is_prefix,
                            lake_error *err)
{
    const lake_allocator *a = st->c->alloc;
    char **last = is_prefix ? &j->last_prefix : &j->last_key;
    lake_free(a, *last);
    *last = lake_strdup(a, raw);
    if (!*last)
        return lake_error_oom(err, "s3");
    const size_t nk = j->last_key ? strlen(j->last_key) : 0;
    const size_t np = j->last_prefix ? strlen(j->last_prefix) : 0;
    lake_free(a, j->resume);
    j->resume = lake_malloc(a, LAKE_MAX(nk, np + 4) + 1);
    if (!j->resume)
        return lake_error_oom(err, "s3");
    j->resume[0] = '\0';
    if (j->last_prefix) {
        memcpy(j->resume, j->last_prefix, np);
        memcpy(j->resume + np, PAST_PREFIX, 5);
    }
    if (j->last_key && strcmp(j->last_key, j->resume) > 0)
        memcpy(j->resume, j->last_key, nk + 1);
    return LAKE_OK;
}

static lake_status keep_prefix(list_state *st,
                               list_job *j,
                               lake_s3_xml_entry *e,
                               bool decode,
                               bool *kept,
                               lake_error *err)
{
    size_t len = strlen(e->key);
    *kept = false;
    if (decode && lake_s3_uri_decode(e->key, &len) != LAKE_OK)
        return lake_error_set(err, LAKE_EPARSE,
                              "s3: listing: bad URL encoding in a prefix");
    if (j->last_prefix && strcmp(e->key, j->last_prefix) <= 0)
        return LAKE_OK; /* seen already */
    LAKE_TRY(set_last(st, j, e->key, true, err));
    *kept = true;
    if (st->n_prefixes == st->cap_prefixes) {
        const size_t cap = st->cap_prefixes ? st->cap_prefixes * 2 : 32;
        char **p = lake_realloc(st->c->alloc, st->prefixes,
                                st->cap_prefixes * sizeof(*p),
                                cap * sizeof(*p));
        if (!p)
            return lake_error_oom(err, "s3");
        st->prefixes = p;
        st->cap_prefixes = cap;
    }
    st->prefixes[st->n_prefixes++] = e->key;
    e->key = NULL;
    return LAKE_OK;
}

static lake_status list_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    list_state *st = ctx;
    list_job *j = &st->jobs[req->index];
    lake_s3_object_list *out = st->out;
    lake_s3_xml_result x;
    memset(&x, 0, sizeof(x));
    j->in_flight = false;
    lake_status rc = parse_answer(st->c, req, &x, err);
    size_t n_new = 0, n_entries = 0;
    for (size_t i = 0; rc == LAKE_OK && i < x.n_entries; i++) {
        lake_s3_xml_entry *e = &x.entries[i];
        n_entries++;
        if (e->is_prefix) {
            bool kept = false;
            rc = keep_prefix(st, j, e, x.url_encoded, &kept, err);
            n_new += kept;
            continue;
        }
        if (!e->key) {
            rc = lake_error_set(err, LAKE_EPARSE,
                                "s3: listing entry without <Key>");
            break;
        }
        size_t len = strlen(e->key);
        if (x.url_encoded && lake_s3_uri_decode(e->key, &len) != LAKE_OK) {
            rc = lake_error_set(err, LAKE_EPARSE,
                                "s3: listing: bad URL encoding in key");
            break;
        }
        if (j->last_key && strcmp(e->key, j->last_key) <= 0)
            continue; /* seen already: the page did not advance */
        const size_t before = out->n_objects;
        rc = list_append(out, &st->cap_out, e, false, err);
        if (rc != LAKE_OK || out->n_objects == before)
            continue;
        n_new++;
        rc = set_last(st, j, out->objects[out->n_objects - 1].key, false,
                      err);
    }
    if (rc == LAKE_OK) {
        lake_free(st->c->alloc, j->token);
        j->token = x.next_token;
        x.next_token = NULL;
        if (!x.is_truncated) {
            j->done = true;
        } else if (n_new < n_entries) {
            if (j->start_after || n_new == 0 || !j->resume)
                rc = lake_error_set(err, LAKE_EREMOTE,
                                    "s3: listing s3://%s/%s: the server's "
                                    "pages do not advance",
                                    st->bucket, j->prefix);
            j->start_after = true;
        } else if (j->token && x.url_encoded &&
                   ((j->last_key && token_is_last_key(j->token, j->last_key)) ||
                    (j->last_prefix &&
                     token_is_last_key(j->token, j->last_prefix)))) {
            j->start_after = true;
        } else if (!j->token && !j->start_after) {
            rc = lake_error_set(err, LAKE_EPARSE,
                                "s3: listing s3://%s/%s: truncated page "
                                "without a continuation token",
                                st->bucket, j->prefix);
        }
    }
    lake_s3_xml_result_free(&x);
    return rc;
}

static int cmp_objects(const void *a, const void *b)
{
    return strcmp(((const lake_s3_object *)a)->key,
                  ((const lake_s3_object *)b)->key);
}

lake_status lake_s3_list_objects(lake_s3_client *c,
                                 const char *bucket,
                                 const char *prefix,
                                 int max_keys,
                                 lake_s3_object_list *out,
                                 lake_error *err)
{
    memset(out, 0, sizeof(*out));
    out->alloc = c->alloc;
    list_state st;
    memset(&st, 0, sizeof(st));
    st.c = c;
    st.bucket = bucket;
    st.out = out;
    snprintf(st.max_keys_text, sizeof(st.max_keys_text), "%d",
             max_keys > 0 ? max_keys : 1000);
    const lake_s3_batch b = {list_next, list_done, &st, 0};
    /* Phase 1: one level, to find the sub-prefixes. */
    st.delimiter = "/";
    lake_status rc = add_job(&st, prefix, err);
    if (rc == LAKE_OK)
        rc = lake_s3_run(c, &b, err);
    free_jobs(&st);
    /* Phase 2: every sub-prefix in full, concurrently. */
    st.delimiter = NULL;
    for (size_t i = 0; rc == LAKE_OK && i < st.n_prefixes; i++)
        rc = add_job(&st, st.prefixes[i], err);
    if (rc == LAKE_OK && st.n_jobs > 0)
        rc = lake_s3_run(c, &b, err);
    free_jobs(&st);
    for (size_t i = 0; i < st.n_prefixes; i++)
        lake_free(c->alloc, st.prefixes[i]);
    lake_free(c->alloc, st.prefixes);
    if (rc == LAKE_OK && out->n_objects > 1)
        qsort(out->objects, out->n_objects, sizeof(*out->objects),
              cmp_objects);
    if (rc != LAKE_OK)
        lake_s3_object_list_free(out);
    return rc;
}

lake_status lake_s3_list_uploads(lake_s3_client *c,
                                 const char *bucket,
                                 const char *prefix,
                                 lake_s3_object_list *out,
                                 lake_error *err)
{
    return list_upload_pages(c, bucket, prefix, out, err);
}

void lake_s3_object_list_free(lake_s3_object_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n_objects; i++) {
        lake_free(list->alloc, list->objects[i].key);
        lake_free(list->alloc, list->objects[i].upload_id);
    }
    lake_free(list->alloc, list->objects);
    list->objects = NULL;
    list->n_objects = 0;
    list->total_bytes = 0;
}

typedef struct get_ctx {
    const char *bucket;
    const char *const *keys;
    size_t n_keys;
    size_t next;
    size_t max_bytes;
    lake_s3_get_fn fn;
    void *ctx;
} get_ctx;

static lake_status get_next(void *ctx,
                            lake_s3_req *req,
                            bool *more,
                            lake_error *err)
{
    (void)err;
    get_ctx *g = ctx;
    *more = g->next < g->n_keys;
    if (!*more)
        return LAKE_OK;
    req->method = "GET";
    req->bucket = g->bucket;
    req->key = g->keys[g->next];
    req->index = g->next++;
    req->pad = true;
    req->max_bytes = g->max_bytes;
    return LAKE_OK;
}

static lake_status get_done(void *ctx, lake_s3_req *req, lake_error *err)
{
    get_ctx *g = ctx;
    const lake_status rc =
        g->fn(g->ctx, req->index, req->resp.data ? req->resp.data : "",
              req->resp.len, err);
    lake_buf_reset(&req->resp);
    return rc;
}

lake_status lake_s3_get_many(lake_s3_client *c,
                             const char *bucket,
                             const char *const *keys,
                             size_t n_keys,
                             size_t max_bytes,
                             lake_s3_get_fn fn,
                             void *ctx,
                             lake_error *err)
{
    get_ctx g = {bucket, keys, n_keys, 0,
                 max_bytes ? max_bytes : (size_t)1 << 30, fn, ctx};
    const lake_s3_batch b = {get_next, get_done, &g, 0};
    return lake_s3_run(c, &b, err);
}

lake_status lake_s3_get_object(lake_s3_client *c,
                               const char *bucket,
                               const char *key,
                               size_t max_bytes,
                               char **data,
                               size_t *len,
                               lake_error *err)
{
    *data = NULL;
    *len = 0;
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "GET";
    req.bucket = bucket;
    req.key = key;
    req.pad = true;
    req.max_bytes = max_bytes ? max_bytes : (size_t)1 << 30;
    const lake_status rc = lake_s3_run_one(c, &req, err);
    if (rc == LAKE_OK) {
        if (!req.resp.data && lake_buf_reserve(&req.resp, LAKE_S3_PADDING)
                                  != LAKE_OK) {
            lake_s3_req_release(&req);
            return lake_error_oom(err, "s3");
        }
        memset(req.resp.data + req.resp.len, 0,
               LAKE_MIN(LAKE_S3_PADDING, req.resp.cap - req.resp.len));
        size_t cap;
        *data = lake_buf_take(&req.resp, len, &cap);
    }
    lake_s3_req_release(&req);
    return rc;
}

void lake_s3_buffer_free(lake_s3_client *c, char *data)
{
    if (c)
        lake_free(c->alloc, data);
}

lake_status lake_s3_put_object(lake_s3_client *c,
                               const char *bucket,
                               const char *key,
                               const void *data,
                               size_t len,
                               lake_error *err)
{
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "PUT";
    req.bucket = bucket;
    req.key = key;
    req.body = data;
    req.body_len = len;
    const lake_status rc = lake_s3_run_one(c, &req, err);
    lake_s3_req_release(&req);
    return rc;
}

lake_status lake_s3_create_bucket(lake_s3_client *c,
                                  const char *bucket,
                                  lake_error *err)
{
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "PUT";
    req.bucket = bucket;
    lake_buf body;
    lake_buf_init(&body, c->alloc, 0);
    if (strcmp(c->region, "us-east-1") != 0) {
        if (lake_buf_printf(&body,
                            "<CreateBucketConfiguration><LocationConstraint>"
                            "%s</LocationConstraint>"
                            "</CreateBucketConfiguration>",
                            c->region) != LAKE_OK)
            return lake_error_oom(err, "s3");
        req.body = body.data;
        req.body_len = body.len;
    }
    lake_status rc = lake_s3_run_one(c, &req, err);
    if (rc == LAKE_EREMOTE && err &&
        strstr(err->message, "BucketAlreadyOwnedByYou"))
        rc = LAKE_OK;
    lake_s3_req_release(&req);
    lake_buf_reset(&body);
    return rc;
}

lake_status lake_s3_abort_upload(lake_s3_client *c,
                                 const char *bucket,
                                 const char *key,
                                 const char *upload_id,
                                 lake_error *err)
{
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "DELETE";
    req.bucket = bucket;
    req.key = key;
    req.params[0] = (lake_s3_param){"uploadId", upload_id};
    req.n_params = 1;
    const lake_status rc = lake_s3_run_one(c, &req, err);
    lake_s3_req_release(&req);
    return rc;
}

lake_status lake_s3_start_upload(lake_s3_client *c,
                                 const char *bucket,
                                 const char *key,
                                 char **upload_id,
                                 lake_error *err)
{
    *upload_id = NULL;
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "POST";
    req.bucket = bucket;
    req.key = key;
    req.params[0] = (lake_s3_param){"uploads", ""};
    req.n_params = 1;
    lake_s3_xml_result x;
    memset(&x, 0, sizeof(x));
    lake_status rc = lake_s3_run_one(c, &req, err);
    if (rc == LAKE_OK)
        rc = parse_answer(c, &req, &x, err);
    if (rc == LAKE_OK && (!x.upload_id || !x.upload_id[0]))
        rc = lake_error_set(err, LAKE_EPARSE,
                            "s3: POST s3://%s/%s?uploads: no UploadId in "
                            "the answer",
                            bucket, key);
    if (rc == LAKE_OK) {
        *upload_id = x.upload_id;
        x.upload_id = NULL;
    }
    lake_s3_xml_result_free(&x);
    lake_s3_req_release(&req);
    return rc;
}

/* Append @p s with the five XML special characters escaped. */
static lake_status append_xml_text(lake_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            LAKE_TRY(lake_buf_append_str(b, "&amp;"));
            break;
        case '<':
            LAKE_TRY(lake_buf_append_str(b, "&lt;"));
            break;
        case '>':
            LAKE_TRY(lake_buf_append_str(b, "&gt;"));
            break;
        case '"':
            LAKE_TRY(lake_buf_append_str(b, "&quot;"));
            break;
        case '\'':
            LAKE_TRY(lake_buf_append_str(b, "&apos;"));
            break;
        default:
            LAKE_TRY(lake_buf_append_byte(b, (uint8_t)*s));
        }
    }
    return LAKE_OK;
}

static lake_status delete_batch(lake_s3_client *c,
                                const char *bucket,
                                const char *const *keys,
                                size_t n,
                                lake_error *err)
{
    lake_buf body;
    lake_buf_init(&body, c->alloc, 0);
    lake_status rc = lake_buf_append_str(
        &body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<Quiet>true</Quiet>");
    for (size_t i = 0; i < n && rc == LAKE_OK; i++) {
        rc = lake_buf_append_str(&body, "<Object><Key>");
        if (rc == LAKE_OK)
            rc = append_xml_text(&body, keys[i]);
        if (rc == LAKE_OK)
            rc = lake_buf_append_str(&body, "</Key></Object>");
    }
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(&body, "</Delete>");
    if (rc != LAKE_OK) {
        lake_buf_reset(&body);
        return lake_error_oom(err, "s3");
    }
    lake_s3_req req;
    lake_s3_req_init(c, &req);
    req.method = "POST";
    req.bucket = bucket;
    req.params[0] = (lake_s3_param){"delete", ""};
    req.n_params = 1;
    req.body = body.data;
    req.body_len = body.len;
    req.content_md5 = true;
    req.error_in_body = true;
    lake_s3_xml_result x;
    memset(&x, 0, sizeof(x));
    rc = lake_s3_run_one(c, &req, err);
    if (rc == LAKE_OK && req.resp.len > 0)
        rc = parse_answer(c, &req, &x, err);
    if (rc == LAKE_OK && x.n_errors > 0)
        rc = lake_error_set(err, LAKE_EREMOTE,
                            "s3: DeleteObjects s3://%s: %zu keys failed, "
                            "first %s: %s %s (request id %s)",
                            bucket, x.n_errors, x.error_key, x.code,
                            x.message, req.request_id);
    lake_s3_xml_result_free(&x);
    lake_s3_req_release(&req);
    lake_buf_reset(&body);
    return rc;
}

lake_status lake_s3_delete_objects(lake_s3_client *c,
                                   const char *bucket,
                                   const char *const *keys,
                                   size_t n_keys,
                                   lake_error *err)
{
    for (size_t i = 0; i < n_keys; i += DELETE_BATCH)
        LAKE_TRY(delete_batch(c, bucket, keys + i,
                              LAKE_MIN(DELETE_BATCH, n_keys - i), err));
    return LAKE_OK;
}
