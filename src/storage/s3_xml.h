/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml.h - the S3 response bodies we read (ListObjectsV2, Error,
 * multipart and DeleteObjects results), parsed with expat. Documents with
 * a DTD or entity declarations are refused. */
#ifndef LAKE_S3_XML_H
#define LAKE_S3_XML_H
#include "lake_common.h"

/* One <Contents> of ListObjectsV2 or <Upload> of ListMultipartUploads. */
typedef struct lake_s3_xml_entry {
    char *key;          /* as sent (still URL-encoded with encoding-type) */
    char *upload_id;    /* <Upload> only, else NULL */
    int64_t size_bytes; /* <Contents> only */
    bool is_prefix;     /* a <CommonPrefixes><Prefix>: key is the prefix */
} lake_s3_xml_entry;

typedef struct lake_s3_xml_result {
    const lake_allocator *alloc;
    char root[48];         /* name of the document element */
    char code[64];         /* <Error><Code>, or the first DeleteResult error */
    char message[128];     /* <Error><Message> */
    char request_id[80];   /* <Error><RequestId> */
    char error_key[128];   /* key of the first DeleteResult error */
    bool is_truncated;     /* <IsTruncated>true</IsTruncated> */
    bool url_encoded;      /* <EncodingType>url</EncodingType> */
    char *next_token;      /* NextContinuationToken */
    char *next_key_marker; /* ListMultipartUploads */
    char *next_upload_id_marker;
    char *upload_id;       /* InitiateMultipartUploadResult */
    lake_s3_xml_entry *entries;
    size_t n_entries;
    size_t cap_entries;
    size_t n_errors;       /* <Error> elements inside <DeleteResult> */
} lake_s3_xml_result;

/* Parse @p len bytes into @p out (initialised here; free it with
 * lake_s3_xml_result_free even on failure). LAKE_EPARSE for malformed XML,
 * a DTD or an entity declaration, LAKE_ETOOBIG for text over 64 KiB or
 * nesting over 16 levels, LAKE_ENOMEM. */
LAKE_NODISCARD lake_status lake_s3_xml_parse(const char *data,
                                             size_t len,
                                             const lake_allocator *alloc,
                                             lake_s3_xml_result *out,
                                             lake_error *err);
void lake_s3_xml_result_free(lake_s3_xml_result *r);
#endif
