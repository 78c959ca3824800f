/* SPDX-License-Identifier: Apache-2.0 */
/* s3_sign.c - AWS Signature Version 4 (header form) over OpenSSL. We sign
 * ourselves instead of using CURLOPT_AWS_SIGV4, which in libcurl 7.88
 * neither sorts nor encodes the query and path (NOTES.md §3). */
#include "fmacros.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lake_common.h"
#include "s3_sign.h"
#include "lake_internal.h"

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

lake_status lake_s3_uri_encode(lake_buf *out,
                               const char *s,
                               size_t n,
                               bool keep_slash)
{
    LAKE_TRY(lake_buf_reserve(out, n * 3 + 1));
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out->data[out->len++] = (char)c;
            continue;
        }
        out->data[out->len++] = '%';
        out->data[out->len++] = hex_upper[c >> 4];
        out->data[out->len++] = hex_upper[c & 15];
    }
    out->data[out->len] = '\0';
    return LAKE_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

lake_status lake_s3_uri_decode(char *s, size_t *len)
{
    size_t w = 0;
    for (size_t r = 0; r < *len; r++) {
        if (s[r] != '%') {
            s[w++] = s[r];
            continue;
        }
        if (r + 2 >= *len)
            return LAKE_EPARSE;
        const int hi = hex_value(s[r + 1]), lo = hex_value(s[r + 2]);
        if (hi < 0 || lo < 0)
            return LAKE_EPARSE;
        s[w++] = (char)(hi * 16 + lo);
        r += 2;
    }
    *len = w;
    s[w] = '\0';
    return LAKE_OK;
}

/* NUL-terminate @p b without counting the NUL in its length. */
static lake_status terminate(lake_buf *b)
{
    LAKE_TRY(lake_buf_reserve(b, 1));
    b->data[b->len] = '\0';
    return LAKE_OK;
}

/* Compare NUL-terminated strings as unsigned bytes. */
static int byte_cmp(const char *a, const char *b)
{
    return strcmp(a, b); /* strcmp compares as unsigned char (C11 7.24.4) */
}

lake_status lake_s3_canonical_query(const lake_s3_param *p,
                                    size_t n,
                                    lake_buf *out)
{
    /* Encode every key and value into one scratch buffer, then sort
     * offsets; a request has a handful of parameters. */
    enum { MAX_PARAMS = 16 };
    if (n > MAX_PARAMS)
        return LAKE_EINVAL;
    lake_buf scratch;
    lake_buf_init(&scratch, out->alloc, 0);
    size_t key_off[MAX_PARAMS], val_off[MAX_PARAMS], order[MAX_PARAMS];
    lake_status rc = LAKE_OK;
    for (size_t i = 0; i < n; i++) {
        const char *v = p[i].value ? p[i].value : "";
        key_off[i] = scratch.len;
        rc = lake_s3_uri_encode(&scratch, p[i].key, strlen(p[i].key), false);
        if (rc == LAKE_OK)
            rc = lake_buf_append_byte(&scratch, 0);
        val_off[i] = scratch.len;
        if (rc == LAKE_OK)
            rc = lake_s3_uri_encode(&scratch, v, strlen(v), false);
        if (rc == LAKE_OK)
            rc = lake_buf_append_byte(&scratch, 0);
        if (rc != LAKE_OK)
            goto cleanup;
        order[i] = i;
    }
    for (size_t i = 1; i < n; i++) {
        const size_t x = order[i];
        size_t j = i;
        while (j > 0) {
            const size_t y = order[j - 1];
            int c = byte_cmp(scratch.data + key_off[y],
                             scratch.data + key_off[x]);
            if (c == 0)
                c = byte_cmp(scratch.data + val_off[y],
                             scratch.data + val_off[x]);
            if (c <= 0)
                break;
            order[j] = y;
            j--;
        }
        order[j] = x;
    }
    for (size_t i = 0; i < n && rc == LAKE_OK; i++) {
        const size_t k = order[i];
        if (i > 0)
            rc = lake_buf_append_byte(out, '&');
        if (rc == LAKE_OK)
            rc = lake_buf_append_str(out, scratch.data + key_off[k]);
        if (rc == LAKE_OK)
            rc = lake_buf_append_byte(out, '=');
        if (rc == LAKE_OK)
            rc = lake_buf_append_str(out, scratch.data + val_off[k]);
    }
    if (rc == LAKE_OK)
        rc = terminate(out);
cleanup:
    lake_buf_reset(&scratch);
    return rc;
}

static void to_hex(const unsigned char *md, size_t n, char *hex)
{
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = hex_lower[md[i] >> 4];
        hex[2 * i + 1] = hex_lower[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

void lake_s3_sha256_hex(const void *p,
                        size_t n,
                        char hex[LAKE_S3_SHA256_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(p, n, md, &md_len, EVP_sha256(), NULL);
    to_hex(md, 32, hex);
}

void lake_s3_md5_base64(const void *p, size_t n, char out[25])
{
    unsigned char md[16];
    unsigned int md_len = 0;
    EVP_Digest(p, n, md, &md_len, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, 16);
}

void lake_s3_amz_date(int64_t t, char out[17])
{
    const time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void hmac(const void *key,
                 size_t key_len,
                 const char *msg,
                 size_t msg_len,
                 unsigned char out[32])
{
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
         msg_len, out, &n);
}

/* Append @p v trimmed, with inner runs of spaces collapsed to one. */
static lake_status append_trimmed(lake_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        const char c = v[i] == '\t' ? ' ' : v[i];
        if (c == ' ' && space)
            continue;
        space = c == ' ';
        LAKE_TRY(lake_buf_append_byte(b, (uint8_t)c));
    }
    return LAKE_OK;
}

static lake_status sign_texts(const lake_s3_sign_in *in,
                              lake_buf *creq,
                              lake_buf *signed_names,
                              lake_buf *sts)
{
    size_t order[LAKE_S3_MAX_SIGNED];
    const size_t n = in->n_headers;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(in->headers[order[j - 1]].name,
                               in->headers[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    LAKE_TRY(lake_buf_printf(creq, "%s\n%s\n%s\n", in->method,
                             in->canonical_uri, in->canonical_query));
    for (size_t i = 0; i < n; i++) {
        const lake_s3_header *h = &in->headers[order[i]];
        LAKE_TRY(lake_buf_append_str(creq, h->name));
        LAKE_TRY(lake_buf_append_byte(creq, ':'));
        LAKE_TRY(append_trimmed(creq, h->value));
        LAKE_TRY(lake_buf_append_byte(creq, '\n'));
        if (i > 0)
            LAKE_TRY(lake_buf_append_byte(signed_names, ';'));
        LAKE_TRY(lake_buf_append_str(signed_names, h->name));
    }
    LAKE_TRY(terminate(signed_names));
    LAKE_TRY(lake_buf_printf(creq, "\n%s\n%s", signed_names->data,
                             in->payload_hash));
    char creq_hash[LAKE_S3_SHA256_HEX_LEN + 1];
    lake_s3_sha256_hex(creq->data, creq->len, creq_hash);
    return lake_buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/"
                                "aws4_request\n%s",
                           in->amz_date, in->amz_date, in->region,
                           in->service, creq_hash);
}

lake_status lake_s3_sign(const lake_s3_sign_in *in,
                         lake_buf *canonical_request,
                         lake_buf *string_to_sign,
                         lake_buf *authorization)
{
    if (in->n_headers == 0 || in->n_headers > LAKE_S3_MAX_SIGNED ||
        strlen(in->amz_date) != 16)
        return LAKE_EINVAL;
    const lake_allocator *a = authorization->alloc;
    lake_buf creq, names, sts, key;
    lake_buf_init(&creq, a, 0);
    lake_buf_init(&names, a, 0);
    lake_buf_init(&sts, a, 0);
    lake_buf_init(&key, a, 0);
    lake_status rc = sign_texts(in, &creq, &names, &sts);
    if (rc == LAKE_OK)
        rc = lake_buf_printf(&key, "AWS4%s", in->secret_access_key);
    if (rc != LAKE_OK)
        goto cleanup;
    unsigned char k[32];
    hmac(key.data, key.len, in->amz_date, 8, k);
    hmac(k, 32, in->region, strlen(in->region), k);
    hmac(k, 32, in->service, strlen(in->service), k);
    hmac(k, 32, "aws4_request", 12, k);
    unsigned char sig[32];
    hmac(k, 32, sts.data, sts.len, sig);
    char sig_hex[65];
    to_hex(sig, 32, sig_hex);
    rc = lake_buf_printf(authorization,
                         "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/"
                         "aws4_request, SignedHeaders=%s, Signature=%s",
                         in->access_key_id, in->amz_date, in->region,
                         in->service, names.data, sig_hex);
    if (rc == LAKE_OK && canonical_request)
        rc = lake_buf_append(canonical_request, creq.data, creq.len);
    if (rc == LAKE_OK && canonical_request)
        rc = terminate(canonical_request);
    if (rc == LAKE_OK && string_to_sign)
        rc = lake_buf_append(string_to_sign, sts.data, sts.len);
    if (rc == LAKE_OK && string_to_sign)
        rc = terminate(string_to_sign);
    OPENSSL_cleanse(k, sizeof(k));
cleanup:
    if (key.data)
        OPENSSL_cleanse(key.data, key.cap);
    lake_buf_reset(&creq);
    lake_buf_reset(&names);
    lake_buf_reset(&sts);
    lake_buf_reset(&key);
    return rc;
}
