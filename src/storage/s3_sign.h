/* SPDX-License-Identifier: Apache-2.0 */
/* s3_sign.h - AWS Signature Version 4 over OpenSSL: URI encoding, the
 * canonical query and request, the string to sign and the signature. */
#ifndef LAKE_S3_SIGN_H
#define LAKE_S3_SIGN_H
#include "lake_common.h"

#define LAKE_S3_SHA256_HEX_LEN 64 /* hex digits of a SHA-256 */
/* Hex SHA-256 of the empty string, the payload hash of a bodiless
 * request. */
#define LAKE_S3_EMPTY_SHA256                                                  \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LAKE_S3_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* One header to sign. @p name must be lower case; the signer trims the
 * value and collapses runs of spaces. */
typedef struct lake_s3_header {
    const char *name;
    const char *value;
} lake_s3_header;

/* One query parameter, not yet encoded. @p value NULL or "" gives "k=". */
typedef struct lake_s3_param {
    const char *key;
    const char *value;
} lake_s3_param;

typedef struct lake_s3_sign_in {
    const char *method;           /* "GET", "PUT", ... */
    const char *canonical_uri;    /* encoded path, at least "/" */
    const char *canonical_query;  /* from lake_s3_canonical_query; "" */
    const lake_s3_header *headers; /* the headers to sign, any order */
    size_t n_headers;             /* at most LAKE_S3_MAX_SIGNED */
    const char *payload_hash;     /* lower-case hex or UNSIGNED-PAYLOAD */
    const char *amz_date;         /* "YYYYMMDDTHHMMSSZ" */
    const char *region;           /* "us-east-1" */
    const char *service;          /* "s3" */
    const char *access_key_id;
    const char *secret_access_key;
} lake_s3_sign_in;

#define LAKE_S3_MAX_SIGNED 16

/* Append the AWS URI encoding of @p n bytes of @p s to @p out: every byte
 * but A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex); '/' stays when
 * @p keep_slash (object key paths) and is encoded otherwise. */
LAKE_NODISCARD lake_status lake_s3_uri_encode(lake_buf *out,
                                              const char *s,
                                              size_t n,
                                              bool keep_slash);

/* Decode %XX escapes of @p s in place (ListObjectsV2 with
 * encoding-type=url). '+' is kept: S3 encodes a space as %20.
 * LAKE_EPARSE on a malformed escape. */
LAKE_NODISCARD lake_status lake_s3_uri_decode(char *s, size_t *len);

/* Append the canonical query of @p n parameters to @p out: each key and
 * value URI-encoded, sorted by key then value, joined with '&'. The same
 * text is used on the wire. */
LAKE_NODISCARD lake_status lake_s3_canonical_query(const lake_s3_param *p,
                                                   size_t n,
                                                   lake_buf *out);

/* Sign @p in. Fills @p authorization with the Authorization header value;
 * @p canonical_request and @p string_to_sign (either may be NULL) receive
 * the intermediate texts for tests. LAKE_EINVAL on too many headers,
 * LAKE_ENOMEM. The secret key appears in none of the outputs. */
LAKE_NODISCARD lake_status lake_s3_sign(const lake_s3_sign_in *in,
                                        lake_buf *canonical_request,
                                        lake_buf *string_to_sign,
                                        lake_buf *authorization);

/* Lower-case hex SHA-256 of @p n bytes into @p hex (65 bytes with NUL). */
void lake_s3_sha256_hex(const void *p,
                        size_t n,
                        char hex[LAKE_S3_SHA256_HEX_LEN + 1]);

/* Base64 of the MD5 of @p n bytes (Content-MD5), 25 bytes with NUL. */
void lake_s3_md5_base64(const void *p, size_t n, char out[25]);

/* Format @p t (seconds since the epoch, UTC) as "YYYYMMDDTHHMMSSZ". */
void lake_s3_amz_date(int64_t t, char out[17]);
#endif
