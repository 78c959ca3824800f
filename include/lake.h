/* SPDX-License-Identifier: Apache-2.0 */
/* lake.h - public API of liblake, the engine behind the sparkify CLI.
 * Nothing else is API.
 *
 * Ownership: objects returned through a `**out` parameter belong to the
 * caller and are released with the matching *_free(); pointers returned
 * directly are borrowed from their parent and live as long as it does.
 * No function takes ownership of an argument unless its name says `take`.
 * Objects are not thread-safe: use one per thread. The library never
 * prints, never exits and never aborts on bad data or out of memory. */
#ifndef LAKE_H
#define LAKE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LAKE_API       __attribute__((visibility("default")))
#define LAKE_NODISCARD __attribute__((warn_unused_result))
#else
#define LAKE_API
#define LAKE_NODISCARD
#endif

#define LAKE_VERSION_MAJOR 0
#define LAKE_VERSION_MINOR 4
#define LAKE_VERSION_PATCH 0
#define LAKE_VERSION_STRING "0.4.0"

/* ------------------------------------------------------------------------
 * Status, errors, allocation
 * ---------------------------------------------------------------------- */

/** Status of every fallible call. The numeric values are pinned. */
typedef enum lake_status {
    LAKE_OK = 0,
    LAKE_EINVAL = 1,  /* bad argument or option */
    LAKE_ENOMEM = 2,  /* an allocation failed */
    LAKE_ETOOBIG = 3, /* input exceeded a configured limit */
    LAKE_EPARSE = 4,  /* malformed input data */
    LAKE_EIO = 5,     /* local file error; message has the errno text */
    LAKE_ENET = 6,    /* connect/TLS/timeout */
    LAKE_EREMOTE = 7, /* server said no: S3 error code, SQLSTATE */
    LAKE_EBADDATA = 8 /* records were rejected and fail_on_bad was set */
} lake_status;

/** Details of a failure, owned by the caller. Every `err` parameter may be
 * NULL. `message` reads "<stage>: <what failed>: <detail>", no newline. */
typedef struct lake_error {
    lake_status code;
    int64_t offset;    /* byte offset in the input, or -1 */
    char message[256]; /* NUL-terminated */
} lake_error;

/** Allocation hooks. Every allocation the library makes goes through the
 * allocator given in an options struct, or the C library when it is NULL.
 * `realloc` receives the old size so that counting allocators need no
 * header. `free(ctx, NULL)` must be a no-op. */
typedef struct lake_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} lake_allocator;

/** Return a constant name for @p code, such as "LAKE_ENOMEM". */
LAKE_API const char *lake_status_str(lake_status code);

/** Return the library version, "MAJOR.MINOR.PATCH". */
LAKE_API const char *lake_version(void);

/* ------------------------------------------------------------------------
 * Outputs: byte sinks that publish atomically
 * ---------------------------------------------------------------------- */

/** A byte sink. Bytes appear under the final name only after a successful
 * lake_output_commit(); lake_output_free() of an uncommitted output removes
 * everything it wrote. */
typedef struct lake_output lake_output;

typedef struct lake_output_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator */
    int no_fsync;                /* 0: fsync file and folder on commit */
    int direct;                  /* 1: write straight to the final name
                                    (created exclusively; removed if not
                                    committed): for a private staging
                                    folder published as a whole */
} lake_output_opts;              /* {0} means all defaults */

/** Open a local file output. Bytes go to a temporary file beside @p path
 * ("<path>.tmp-<pid>-<n>"); commit fsyncs it, renames it to @p path and
 * fsyncs the folder. Missing parent folders are created. With
 * opts->direct the bytes go to @p path itself, which must not exist.
 * @param opts may be NULL for defaults.
 * @return LAKE_OK, LAKE_EINVAL, LAKE_ENOMEM or LAKE_EIO. */
LAKE_API LAKE_NODISCARD lake_status
lake_output_open_file(const char *path,
                      const lake_output_opts *opts,
                      lake_output **out,
                      lake_error *err);

/** Append @p n bytes. @return LAKE_OK, LAKE_EIO or LAKE_EINVAL after
 * commit. */
LAKE_API LAKE_NODISCARD lake_status lake_output_write(lake_output *o,
                                                      const void *bytes,
                                                      size_t n,
                                                      lake_error *err);

/** The final name of @p o (a path or URI), for messages. Borrowed. */
LAKE_API const char *lake_output_name(const lake_output *o);

/** Bytes written so far. */
LAKE_API int64_t lake_output_size(const lake_output *o);

/** Make the bytes visible under the final name, durably. After a failure
 * nothing is visible under the final name. */
LAKE_API LAKE_NODISCARD lake_status lake_output_commit(lake_output *o,
                                                       lake_error *err);

/** Release @p o; an uncommitted output is discarded. NULL is a no-op. */
LAKE_API void lake_output_free(lake_output *o);

/** Open an output that keeps its bytes in memory (tests, fuzzers, callers
 * that upload a whole file themselves). @p name is used in messages (NULL:
 * "memory"); commit only marks the bytes complete.
 * @return LAKE_OK or LAKE_ENOMEM. */
LAKE_API LAKE_NODISCARD lake_status
lake_output_open_memory(const char *name,
                        const lake_output_opts *opts,
                        lake_output **out,
                        lake_error *err);

/** The bytes written so far to a memory output, borrowed until the next
 * write or lake_output_free(); NULL (and *len = 0) for other outputs. */
LAKE_API const void *lake_output_memory_bytes(const lake_output *o,
                                              size_t *len);

/* ------------------------------------------------------------------------
 * S3 (src/storage)
 * ---------------------------------------------------------------------- */

/** A connection pool to one S3 endpoint with its signing credentials.
 * Requests are signed with AWS Signature Version 4. Not thread-safe. */
typedef struct lake_s3_client lake_s3_client;

/** How bucket names go into URLs. */
typedef enum lake_s3_addressing {
    LAKE_S3_ADDRESSING_AUTO = 0,   /* virtual-hosted on AWS, else path */
    LAKE_S3_ADDRESSING_PATH = 1,   /* http://endpoint/bucket/key */
    LAKE_S3_ADDRESSING_VIRTUAL = 2 /* http://bucket.endpoint/key */
} lake_s3_addressing;

/** Client options. Credentials are taken from the first source that has
 * them: (1) access_key_id + secret_access_key below; (2) config_file, an
 * INI file with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the
 * lower-case aws_* names) in an [AWS] or [default] section (the course's
 * dl.cfg); (3) the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN; (4) the profile (AWS_PROFILE, else "default") in
 * AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials), then
 * AWS_CONFIG_FILE (default ~/.aws/config, section "profile NAME").
 * With none of them, client creation fails unless `anonymous` is set.
 * Secrets are never copied into messages. */
typedef struct lake_s3_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator */
    const char *endpoint;  /* NULL: AWS_ENDPOINT_URL, else
                              https://s3.<region>.amazonaws.com */
    const char *region;    /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the
                              profile's region, else us-east-1 */
    lake_s3_addressing addressing; /* 0: AUTO */
    const char *access_key_id;     /* NULL: use the chain above */
    const char *secret_access_key;
    const char *session_token;     /* NULL: none (or from the chain) */
    const char *config_file;       /* NULL: none; a dl.cfg-style file */
    const char *profile;           /* NULL: AWS_PROFILE, else default */
    int anonymous;         /* 1: send unsigned requests (public buckets) */
    int max_connections;   /* 0: 16 concurrent requests */
    int max_retries;       /* 0: 4 retries after the first attempt;
                              -1: none */
    int retry_base_ms;     /* 0: 100 ms, doubled per retry, with jitter */
    int timeout_ms;        /* 0: 30 s without progress fails an attempt */
} lake_s3_opts;            /* {0} means all defaults */

/** Create a client. No request is sent.
 * @param opts may be NULL for defaults.
 * @return LAKE_OK, LAKE_EINVAL (bad endpoint, no credentials, unreadable
 *         config file) or LAKE_ENOMEM. */
LAKE_API LAKE_NODISCARD lake_status
lake_s3_client_new(const lake_s3_opts *opts,
                   lake_s3_client **out,
                   lake_error *err);

/** Release @p c and its connections. NULL is a no-op. */
LAKE_API void lake_s3_client_free(lake_s3_client *c);

/** Split "s3://bucket/key/prefix" into its parts.
 * @param bucket receives the bucket (NUL-terminated) if it fits in
 *        @p bucket_size bytes.
 * @param key receives a pointer into @p uri just after "bucket/" (may
 *        point at "").
 * @return LAKE_OK or LAKE_EINVAL when @p uri is not an s3:// URI. */
LAKE_API LAKE_NODISCARD lake_status lake_s3_parse_uri(const char *uri,
                                                      char *bucket,
                                                      size_t bucket_size,
                                                      const char **key,
                                                      lake_error *err);

/** One object of a listing, or one multipart upload. */
typedef struct lake_s3_object {
    char *key;          /* decoded, NUL-terminated, owned by the list */
    char *upload_id;    /* lake_s3_list_uploads() only; else NULL */
    int64_t size_bytes; /* lake_s3_list_objects() only */
} lake_s3_object;

typedef struct lake_s3_object_list {
    lake_s3_object *objects; /* in the server's order (byte order) */
    size_t n_objects;
    int64_t total_bytes;
    const lake_allocator *alloc;
} lake_s3_object_list;

/** List every object whose key starts with @p prefix (ListObjectsV2,
 * recursive, following NextContinuationToken; keys are requested URL
 * encoded and decoded here).
 * @param max_keys page size; 0 means 1000.
 * @return LAKE_OK, LAKE_EREMOTE, LAKE_ENET, LAKE_EPARSE or LAKE_ENOMEM. */
LAKE_API LAKE_NODISCARD lake_status
lake_s3_list_objects(lake_s3_client *c,
                     const char *bucket,
                     const char *prefix,
                     int max_keys,
                     lake_s3_object_list *out,
                     lake_error *err);

/** List the multipart uploads in progress under @p prefix (may be NULL).
 * Each entry has key and upload_id. */
LAKE_API LAKE_NODISCARD lake_status
lake_s3_list_uploads(lake_s3_client *c,
                     const char *bucket,
                     const char *prefix,
                     lake_s3_object_list *out,
                     lake_error *err);

/** Release the entries of @p list. NULL and empty lists are no-ops. */
LAKE_API void lake_s3_object_list_free(lake_s3_object_list *list);

/** Receives one object of lake_s3_get_many(): @p data has @p len bytes
 * followed by at least 64 (LAKE_READ_PADDING) readable zero bytes, and is
 * valid only during the call. Return non-OK (and fill @p err) to stop. */
typedef lake_status (*lake_s3_get_fn)(void *ctx,
                                      size_t index,
                                      const char *data,
                                      size_t len,
                                      lake_error *err);

/** GET @p n_keys objects concurrently on kept-alive connections (up to
 * max_connections at a time) and hand each to @p fn, in completion
 * order, with its index in @p keys. Failed attempts are retried; the
 * first failure that is not retried stops the run.
 * @param max_bytes per object; 0 means 1 GiB. Larger is LAKE_ETOOBIG.
 * @return LAKE_OK, LAKE_EREMOTE (e.g. NoSuchKey), LAKE_ENET,
 *         LAKE_ETOOBIG, LAKE_ENOMEM or the callback's status. */
LAKE_API LAKE_NODISCARD lake_status lake_s3_get_many(lake_s3_client *c,
                                                     const char *bucket,
                                                     const char *const *keys,
                                                     size_t n_keys,
                                                     size_t max_bytes,
                                                     lake_s3_get_fn fn,
                                                     void *ctx,
                                                     lake_error *err);

/** GET one object into a new buffer (padded as for lake_s3_get_many);
 * free it with lake_s3_buffer_free(c, data). */
LAKE_API LAKE_NODISCARD lake_status lake_s3_get_object(lake_s3_client *c,
                                                       const char *bucket,
                                                       const char *key,
                                                       size_t max_bytes,
                                                       char **data,
                                                       size_t *len,
                                                       lake_error *err);

/** Free a buffer returned by lake_s3_get_object(). NULL is a no-op. */
LAKE_API void lake_s3_buffer_free(lake_s3_client *c, char *data);

/** PUT one object in a single request (up to 5 GiB; use an S3 output
 * for large or streamed data). */
LAKE_API LAKE_NODISCARD lake_status lake_s3_put_object(lake_s3_client *c,
                                                       const char *bucket,
                                                       const char *key,
                                                       const void *data,
                                                       size_t len,
                                                       lake_error *err);

/** Delete @p n_keys objects with DeleteObjects (1000 per request, with
 * Content-MD5). Missing keys are not an error; a per-key error is
 * LAKE_EREMOTE naming the first failed key. */
LAKE_API LAKE_NODISCARD lake_status
lake_s3_delete_objects(lake_s3_client *c,
                       const char *bucket,
                       const char *const *keys,
                       size_t n_keys,
                       lake_error *err);

/** Abort one multipart upload (AbortMultipartUpload). */
LAKE_API LAKE_NODISCARD lake_status
lake_s3_abort_upload(lake_s3_client *c,
                     const char *bucket,
                     const char *key,
                     const char *upload_id,
                     lake_error *err);

/** Create @p bucket (CreateBucket); an existing bucket we own is fine. */
LAKE_API LAKE_NODISCARD lake_status lake_s3_create_bucket(lake_s3_client *c,
                                                          const char *bucket,
                                                          lake_error *err);

typedef struct lake_s3_output_opts {
    size_t part_size_bytes; /* 0: 8 MiB; objects up to this size go in
                               one PUT, larger ones in parts of this size
                               (S3 wants >= 5 MiB but for the last) */
    int parallel_parts;     /* 0: 4 parts buffered and sent at once */
} lake_s3_output_opts;      /* {0} means all defaults */

/** Open an output to s3://@p bucket/@p key. Bytes are buffered up to one
 * part; a small object is sent with one PUT on commit, a large one as a
 * multipart upload whose parts go out concurrently. Commit completes the
 * upload; lake_output_free() of an uncommitted output, or any failure,
 * aborts it, so no multipart upload is left behind. The object appears
 * only on a successful commit. @p c must outlive the output.
 * @param opts may be NULL for defaults.
 * @return LAKE_OK, LAKE_EINVAL or LAKE_ENOMEM. */
LAKE_API LAKE_NODISCARD lake_status
lake_output_open_s3(lake_s3_client *c,
                    const char *bucket,
                    const char *key,
                    const lake_s3_output_opts *opts,
                    lake_output **out,
                    lake_error *err);

/* ------------------------------------------------------------------------
 * Parquet writer (src/parquet)
 * ---------------------------------------------------------------------- */

/** A borrowed run of bytes (not NUL-terminated). */
typedef struct lake_strview {
    const char *ptr;
    size_t len;
} lake_strview;

/** Column types of the star schema. */
typedef enum lake_pq_type {
    LAKE_PQ_STRING = 0,      /* BYTE_ARRAY, STRING; values: lake_strview */
    LAKE_PQ_INT32 = 1,       /* INT32; values: int32_t */
    LAKE_PQ_INT64 = 2,       /* INT64; values: int64_t */
    LAKE_PQ_DOUBLE = 3,      /* DOUBLE; values: double */
    LAKE_PQ_TIMESTAMP_US = 4 /* INT64 TIMESTAMP(UTC, MICROS); int64_t */
} lake_pq_type;

/** Page compression. */
typedef enum lake_codec {
    LAKE_CODEC_SNAPPY = 0, /* the default */
    LAKE_CODEC_ZSTD = 1,
    LAKE_CODEC_NONE = 2
} lake_codec;

/** One column of a file's schema. */
typedef struct lake_pq_column_def {
    const char *name;  /* UTF-8; copied by the writer */
    lake_pq_type type;
    int nullable;      /* 0: REQUIRED (a NULL is LAKE_EINVAL); 1: OPTIONAL */
} lake_pq_column_def;

typedef struct lake_pq_writer_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator */
    lake_codec codec;            /* 0: SNAPPY */
    int zstd_level;              /* 0: 1 */
    size_t row_group_bytes;      /* 0: 128 MiB of encoded data per group */
    size_t page_bytes;           /* 0: 1 MiB of encoded values per page
                                    (and 20,000 values at most) */
    size_t dict_max_bytes;       /* 0: 1 MiB; a bigger dictionary falls back
                                    to PLAIN for the rest of the chunk */
    int no_dictionary;           /* 1: PLAIN only */
    size_t n_kv;                 /* extra key-value metadata pairs */
    const char *const *kv_keys;  /* n_kv keys, copied */
    const char *const *kv_values; /* n_kv values, copied */
} lake_pq_writer_opts;           /* {0} means all defaults */

/** One column of a batch: @p n_rows values of the column's C type. */
typedef struct lake_pq_column_data {
    const void *values;   /* int32_t[], int64_t[], double[] or
                             lake_strview[]; a NULL row's slot is ignored */
    const uint8_t *valid; /* NULL: no NULLs; else one byte a row, 0 = NULL */
} lake_pq_column_data;

typedef struct lake_pq_writer lake_pq_writer;

/** Start a Parquet file on @p out (borrowed; it must outlive the writer).
 * The caller commits @p out after lake_pq_writer_close().
 * @return LAKE_OK, LAKE_EINVAL (bad schema or options) or LAKE_ENOMEM. */
LAKE_API LAKE_NODISCARD lake_status
lake_pq_writer_new(lake_output *out,
                   const lake_pq_column_def *columns,
                   size_t n_columns,
                   const lake_pq_writer_opts *opts,
                   lake_pq_writer **w,
                   lake_error *err);

/** Append @p n_rows rows given column by column (@p columns has one entry
 * per schema column). Row groups are flushed to the output as they fill,
 * so memory stays bounded by one row group.
 * @return LAKE_OK, LAKE_EINVAL, LAKE_ENOMEM or the output's error. */
LAKE_API LAKE_NODISCARD lake_status
lake_pq_writer_write(lake_pq_writer *w,
                     const lake_pq_column_data *columns,
                     int64_t n_rows,
                     lake_error *err);

/** Flush the last row group and write the footer. The writer accepts no
 * more rows afterwards. */
LAKE_API LAKE_NODISCARD lake_status lake_pq_writer_close(lake_pq_writer *w,
                                                         lake_error *err);

/** Start a new file on @p out (borrowed, as in lake_pq_writer_new()) with
 * the same schema and options, keeping the writer's memory: dictionaries,
 * buffers and the zstd context. Cheaper than _free() + _new() when a table
 * is split into many small files (partitions). Allowed in any state: an
 * unclosed file is abandoned (the caller discards its output).
 * @return LAKE_OK, or LAKE_EINVAL when @p out is NULL. */
LAKE_API LAKE_NODISCARD lake_status lake_pq_writer_reopen(lake_pq_writer *w,
                                                          lake_output *out,
                                                          lake_error *err);

/** Rows written so far. */
LAKE_API int64_t lake_pq_writer_rows(const lake_pq_writer *w);

/** Release @p w. It does not touch the output. NULL is a no-op. */
LAKE_API void lake_pq_writer_free(lake_pq_writer *w);

/* ------------------------------------------------------------------------
 * Partition folder names (src/model)
 * ---------------------------------------------------------------------- */

/** The longest partition folder name, in bytes, without the NUL. */
#define LAKE_HIVE_PARTITION_NAME_MAX 255

/** Write the Hive partition folder name "<column>=<value>", as the ETL
 * names its folders, into @p out with a NUL after it. Column and
 * value are escaped as Spark's writer escapes them (%XX, upper hex, for
 * 0x01-0x1F, "#%'*\/:=?\\ 0x7F {[]^); an absent or empty value is
 * __HIVE_DEFAULT_PARTITION__. Where Spark would fail or lose data the
 * rules are ours: NUL is %00; "." and ".." are %2E and %2E%2E; the text
 * __HIVE_DEFAULT_PARTITION__ itself is %5F_HIVE_DEFAULT_PARTITION__ (it
 * must not read back as NULL); an escaped value over 200 bytes is cut at a
 * UTF-8 boundary (in invalid UTF-8, at the latest after 3 continuation
 * bytes in a row) and ends with "~" and 16 lowercase hex digits of the
 * SHA-256 of the raw value. A name never holds '/' or NUL and never
 * exceeds LAKE_HIVE_PARTITION_NAME_MAX bytes, so an @p out_cap of 256
 * always suffices. Never allocates; thread-safe.
 * @param column  NUL-terminated, not empty; its escaped form must fit in
 *                37 bytes.
 * @param value   @p value_len bytes, which may include NUL; may be NULL
 *                when @p value_len is 0 or @p present is 0.
 * @param present 0: the value is absent (NULL) whatever @p value holds.
 * @param out_len may be NULL; receives the name's length without the NUL
 *                on LAKE_OK and on LAKE_ETOOBIG (the name needs
 *                *out_len + 1 bytes), 0 on LAKE_EINVAL.
 * @return LAKE_OK; LAKE_ETOOBIG when @p out_cap is too small; LAKE_EINVAL
 *         for a NULL @p out, a NULL, empty or too long @p column, or a
 *         NULL @p value with @p present and a non-zero @p value_len.
 *         On failure a non-NULL @p out holds "" when @p out_cap > 0 and
 *         is untouched when it is 0. */
LAKE_API LAKE_NODISCARD lake_status
lake_hive_partition_name(const char *column,
                         const char *value,
                         size_t value_len,
                         int present,
                         char *out,
                         size_t out_cap,
                         size_t *out_len,
                         lake_error *err);

/* ------------------------------------------------------------------------
 * Arrow export (src/arrow): typed records as Arrow record batches
 * ---------------------------------------------------------------------- */

/* The Arrow C Data and C Stream Interfaces, copied from the Arrow
 * specification (format/CDataInterface, format/CStreamInterface). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE           2
#define ARROW_FLAG_MAP_KEYS_SORTED    4

struct ArrowSchema {
    /* Array type description */
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;

    /* Release callback */
    void (*release)(struct ArrowSchema *);
    /* Opaque producer-specific data */
    void *private_data;
};

struct ArrowArray {
    /* Array data description */
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;

    /* Release callback */
    void (*release)(struct ArrowArray *);
    /* Opaque producer-specific data */
    void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
    /* The stream's type (the same for every array); 0 or an errno code.
     * The schema must be released independently of the stream. */
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    /* The next array; 0 with out->release == NULL at the end, or an errno
     * code. The array must be released independently of the stream. */
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    /* Text of the last error, valid until the next call, or NULL. Only
     * after a call returned non-zero. */
    const char *(*get_last_error)(struct ArrowArrayStream *);
    /* Release the stream's own resources (not the arrays it gave out). */
    void (*release)(struct ArrowArrayStream *);
    /* Opaque producer-specific data */
    void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/** What a file holds. */
typedef enum lake_arrow_kind {
    LAKE_ARROW_SONGS = 0, /* song metadata records */
    LAKE_ARROW_EVENTS = 1 /* app event records */
} lake_arrow_kind;

/** Which rows a stream hands out. */
typedef enum lake_arrow_rows {
    LAKE_ARROW_ROWS_ALL = 0,  /* every record and every reject */
    LAKE_ARROW_ROWS_PLAYS = 1, /* LAKE_ARROW_EVENTS only: the NextSong
                                  records (no rejects, no other pages);
                                  `rec` still counts every record */
    LAKE_ARROW_ROWS_USERS = 2  /* LAKE_ARROW_EVENTS only: every reject,
                                  then of each user_id the record row
                                  latest by (ts, session_id,
                                  item_in_session, rec), in `rec` order:
                                  the rows the users table needs (its
                                  order, within one file) */
} lake_arrow_rows;

typedef struct lake_arrow_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator; it must
                                    outlive the stream and every batch */
    int64_t batch_rows;          /* 0: 32768 rows a batch at most */
    size_t max_bytes;            /* 0: 4 GiB of (decompressed) input;
                                    beyond it LAKE_ETOOBIG */
    int gzip;                    /* 0: gzip when `source` ends in ".gz"
                                    (as the native engine decides);
                                    1: always; -1: never */
    uint64_t columns;            /* 0: every column; else bit i keeps the
                                    kind's column i (the order below) and
                                    the others are neither built nor in
                                    the schema */
    lake_arrow_rows rows;        /* LAKE_ARROW_ROWS_ALL by default */
} lake_arrow_opts;               /* {0} means all defaults */

/** Read the records of one input file held in memory and hand them out as
 * an Arrow C stream of record batches (struct arrays, format "+s"), parsed
 * lazily batch by batch with the same record reader as the native engine.
 *
 * Every row is either a record or a rejected record. Columns, all
 * nullable, in this order:
 * - both kinds start with `source` (utf8, @p source on every row, each
 *   maximal invalid UTF-8 subpart of a file name replaced by U+FFFD) and
 *   `rec` (int64, 0-based index of the record or reject within the file:
 *   with `source`, the input-order key) and end with `line` (int64),
 *   `reason` (utf8) and `raw` (utf8, invalid UTF-8 replaced by U+FFFD as
 *   in _quarantine/), which are NULL on record rows and set on reject rows
 *   (whose other columns are NULL).
 * - LAKE_ARROW_SONGS: song_id, title, artist_id, artist_name,
 *   artist_location (utf8; "" is NULL), duration (double), year (int32;
 *   0 is NULL), artist_latitude, artist_longitude (double).
 * - LAKE_ARROW_EVENTS: ts (int64, epoch ms), start_time (timestamp[us,
 *   UTC], "tsu:UTC"), session_id, item_in_session, user_id (int64), page,
 *   level, first_name, last_name, gender, location, user_agent, song,
 *   artist (utf8; "" is NULL in level ... user_agent), length (double),
 *   songplay_id (int64, lake_songplay rule) and hour, day, week, month,
 *   year, weekday (int32, UTC); the last seven are set on NextSong rows
 *   only. Events without a user feed no table and are left out.
 *
 * @param data  @p len bytes (copied; the caller keeps ownership). May be
 *              NULL when @p len is 0.
 * @param source the file's name for the `source` column and .gz detection
 *              (copied), e.g. "INPUT/log_data/2018/11/x.json"; not NULL.
 * @param opts  may be NULL for defaults.
 * @param out   receives the stream; release it with out->release(). Each
 *              batch is released on its own, before or after the stream.
 * With opts->columns and opts->rows a consumer that needs a few columns
 * or only the plays gets just those: the records are parsed and checked
 * all the same (a record that breaks a rule is still no play), but
 * nothing else is built. LAKE_ARROW_ROWS_USERS holds each user's latest
 * record (its texts of the columns built) until the file's end: memory
 * grows with the users of one file, not with its records.
 *
 * @return LAKE_OK, LAKE_EINVAL (also: a column bit past the kind's
 *         columns, rows unknown or not for the kind), LAKE_ENOMEM,
 *         LAKE_ETOOBIG or LAKE_EPARSE
 *         (corrupt gzip data). Errors during get_next are returned as
 *         errno codes with get_last_error() text; bad records are never
 *         errors, they are reject rows. */
LAKE_API LAKE_NODISCARD lake_status
lake_arrow_read_records(lake_arrow_kind kind,
                        const void *data,
                        size_t len,
                        const char *source,
                        const lake_arrow_opts *opts,
                        struct ArrowArrayStream *out,
                        lake_error *err);

/** Like lake_arrow_read_records() over the local file @p path, read as the
 * native engine reads it (gzip by name).
 * @param source the `source` column's value; NULL means @p path.
 * @return also LAKE_EIO naming the file. */
LAKE_API LAKE_NODISCARD lake_status
lake_arrow_read_file(lake_arrow_kind kind,
                     const char *path,
                     const char *source,
                     const lake_arrow_opts *opts,
                     struct ArrowArrayStream *out,
                     lake_error *err);

/** One parse of the local event file @p path for two consumers: @p plays
 * is lake_arrow_read_file()'s stream with @p opts (opts->rows must be
 * LAKE_ARROW_ROWS_PLAYS), @p users the LAKE_ARROW_ROWS_USERS rows of the
 * same file with the columns @p user_columns (bits as opts->columns; 0:
 * all). Reading @p plays parses the file; @p users hands out its rows once
 * @p plays has reached its end (before that get_next fails with EINVAL).
 * The rejects are kept for @p users meanwhile; once @p plays is at its end
 * the file's bytes are freed. Release both, in any order. The two streams
 * share their state: use them from one thread (or lock around them); a
 * failure of one is the other's too, and get_last_error() of either tells
 * the last error of both.
 * @param opts  not NULL: opts->rows is LAKE_ARROW_ROWS_PLAYS.
 * @return as lake_arrow_read_file(); LAKE_EINVAL for other rows, user
 *         column bits past the columns, or @p plays == @p users. */
LAKE_API LAKE_NODISCARD lake_status
lake_arrow_read_file_split(const char *path,
                           const char *source,
                           const lake_arrow_opts *opts,
                           uint64_t user_columns,
                           struct ArrowArrayStream *plays,
                           struct ArrowArrayStream *users,
                           lake_error *err);

/* @@INGEST@@ (section owned by src/ingest) */

/* ------------------------------------------------------------------------
 * Input files (src/ingest)
 * ---------------------------------------------------------------------- */

/** Receives one file of lake_list_input_files(): @p rel_path is relative
 * to the root, '/'-separated and NUL-terminated, valid only during the
 * call; @p size_bytes is its size on disk (the compressed size of a .gz).
 * @p err is never NULL. Return LAKE_OK to go on; any other status stops
 * the listing and is returned (fill @p err to say why). */
typedef lake_status (*lake_list_fn)(void *ctx,
                                    const char *rel_path,
                                    int64_t size_bytes,
                                    lake_error *err);

/** Hand every input file below the local folder @p root to @p fn, as
 * lake_etl_run() finds them (SPEC "Files"): names ending .json, .jsonl,
 * .json.gz or .jsonl.gz (case-sensitive); files and folders whose names
 * start with '.' or '_' skipped (below the root only); symlinks followed,
 * a folder link back to one of its ancestors and a dangling link skipped;
 * only regular files. The files come sorted by rel_path in unsigned byte
 * order; the whole tree is walked before the first call, so a failing
 * walk calls @p fn never. For callers that list inputs for another
 * engine (the Spark adapter) by the native engine's rules.
 * @param alloc may be NULL for the C library allocator.
 * @return LAKE_OK (also for a folder with no input file); LAKE_EINVAL for
 *         a NULL @p root or @p fn, or a root that is not a folder;
 *         LAKE_EIO naming the path for a missing root or an unreadable
 *         folder; LAKE_ETOOBIG for folders nested deeper than 256;
 *         LAKE_ENOMEM; or the status @p fn returned to stop (its message,
 *         else one naming the file it stopped at). */
LAKE_API LAKE_NODISCARD lake_status
lake_list_input_files(const char *root,
                      const lake_allocator *alloc,
                      lake_list_fn fn,
                      void *ctx,
                      lake_error *err);

/* ------------------------------------------------------------------------
 * ETL engine (src/etl): raw JSON -> the star schema lake, see SPEC.md
 * ---------------------------------------------------------------------- */

/** Tables of the star schema, in the order they are published. */
typedef enum lake_etl_table {
    LAKE_ETL_SONGS = 0,
    LAKE_ETL_ARTISTS = 1,
    LAKE_ETL_USERS = 2,
    LAKE_ETL_TIME = 3,
    LAKE_ETL_SONGPLAYS = 4,
    LAKE_ETL_N_TABLES = 5
} lake_etl_table;

/** Name of a table ("songs", ...); "?" for a bad value. */
LAKE_API const char *lake_etl_table_name(lake_etl_table t);

/** A snapshot handed to the progress callback. */
typedef struct lake_etl_progress {
    const char *phase;      /* "songs", "logs", "write", "publish" */
    int64_t files_done;     /* input files read so far */
    int64_t files_total;    /* input files found */
    int64_t bytes_read;     /* input bytes (on disk) read so far */
    int64_t bytes_total;    /* input bytes (on disk) found */
    double elapsed_s;       /* since lake_etl_run() started */
} lake_etl_progress;

/** Called on the thread that called lake_etl_run(), never from a worker,
 * at most every progress_interval_ms and once at the end of each phase. */
typedef void (*lake_etl_progress_fn)(void *ctx, const lake_etl_progress *p);

typedef struct lake_etl_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator; must be
                                    thread-safe when threads != 1 */
    const char *song_root;       /* folder of song files (required) */
    const char *log_root;        /* folder of event logs (required) */
    const char *lake;            /* output folder, created when missing */
    int threads;                 /* 0: all online cores */
    lake_codec codec;            /* 0: SNAPPY */
    int fail_on_bad;             /* 1: LAKE_EBADDATA when any record was
                                    quarantined (the lake is published) */
    size_t row_group_bytes;      /* 0: the Parquet writer's default */
    size_t bucket_bytes;         /* 0: 48 MiB; target size of one spill
                                    bucket of plays (tests make it small) */
    size_t spill_memory_bytes;   /* 0: 256 MiB; spilled plays are kept in
                                    memory up to this, then go to disk */
    int no_fsync;                /* 1: skip fsync (tests only) */
    lake_etl_progress_fn progress; /* NULL: no progress reports */
    void *progress_ctx;
    int progress_interval_ms;    /* 0: 100 */
    const lake_s3_opts *s3;      /* NULL: the standard credential chain
                                    and endpoint; used for s3:// roots and
                                    lakes (alloc and max_connections are
                                    the engine's) */
} lake_etl_opts;                 /* {0} means all defaults */

#define LAKE_ETL_MAX_REASONS 64

/** Phases of a run, in order, as timed in lake_etl_report.phase_seconds. */
typedef enum lake_etl_phase {
    LAKE_ETL_PHASE_FETCH = 0,  /* copying s3:// inputs to local disk */
    LAKE_ETL_PHASE_LIST,       /* listing the inputs, opening the lake */
    LAKE_ETL_PHASE_SONGS,      /* reading song files, songs and artists */
    LAKE_ETL_PHASE_LOGS,       /* reading event logs: users, plays spilled */
    LAKE_ETL_PHASE_WRITE,      /* the five tables' Parquet files */
    LAKE_ETL_PHASE_QUARANTINE, /* _quarantine/ */
    LAKE_ETL_PHASE_PUBLISH,    /* report, sync, publish, commit */
    LAKE_ETL_PHASE_CLEANUP,    /* removing the staging area, the replaced
                                  tables and the fetched inputs */
    LAKE_ETL_N_PHASES
} lake_etl_phase;

/** "fetch", "list", "songs", "logs", "write", "quarantine", "publish",
 * "cleanup"; NULL when out of range. */
LAKE_API const char *lake_etl_phase_name(lake_etl_phase p);

/** One quarantine reason code and how many records got it. */
typedef struct lake_etl_reason_count {
    char reason[64]; /* e.g. "invalid_json", "missing_field:song_id" */
    int64_t count;
} lake_etl_reason_count;

/** What a run read, wrote and rejected. */
typedef struct lake_etl_report {
    int64_t rows[LAKE_ETL_N_TABLES];  /* rows per table */
    int64_t matched_plays;            /* songplays with a song_id */
    int64_t quarantined;              /* all rejected records */
    size_t n_reasons;                 /* entries used in reasons[] */
    lake_etl_reason_count reasons[LAKE_ETL_MAX_REASONS]; /* by reason,
                                         sorted; extra codes count in
                                         "other" */
    int64_t song_files, log_files;    /* input files read */
    int64_t bytes_read;               /* input bytes on disk */
    int64_t files_written;            /* Parquet files in the lake */
    int threads;                      /* worker threads used */
    double seconds;                   /* wall time of the run */
    double phase_seconds[LAKE_ETL_N_PHASES]; /* wall time of each phase;
                                         they add up to seconds */
} lake_etl_report;

/** Run the ETL: read opts->song_root and opts->log_root, build the five
 * tables and publish them, the quarantine and the report
 * (LAKE/_sparkify_report.json) into opts->lake, one table at a time, each
 * atomically. On failure the previous lake is left as it was and nothing
 * of the run remains.
 * @param report may be NULL; filled on LAKE_OK and LAKE_EBADDATA.
 * @return LAKE_OK, LAKE_EBADDATA (fail_on_bad and records were
 *         quarantined; the lake is published), LAKE_EINVAL, LAKE_ENOMEM,
 *         LAKE_EIO or LAKE_ETOOBIG. */
LAKE_API LAKE_NODISCARD lake_status lake_etl_run(const lake_etl_opts *opts,
                                                 lake_etl_report *report,
                                                 lake_error *err);

/** Write @p r as one JSON object into @p out (the lake's report: its
 * phase_seconds stop before publish, which follows the report's writing,
 * and its seconds is their sum; snprintf rules: at most
 * @p out_size bytes with the NUL; the return value is the length the full
 * text needs, without the NUL). */
LAKE_API size_t lake_etl_report_json(const lake_etl_report *r,
                                     char *out,
                                     size_t out_size);

/* ------------------------------------------------------------------------
 * Generator (src/generate): eventsim-faithful Sparkify input at any scale
 * ---------------------------------------------------------------------- */

/** Options of lake_generate(). `{0}` plus `out_dir` gives a month of
 * November 2018 for 100 users, like the course data. */
typedef struct lake_generate_opts {
    const lake_allocator *alloc; /* NULL: the C library allocator; must be
                                    thread-safe when threads != 1 */
    const char *out_dir;         /* required; must not hold song_data/ or
                                    log_data/ yet; created when missing */
    int64_t n_users;             /* 0: 100 */
    int32_t n_days;              /* 0: 30; one log file per UTC day */
    const char *start_date;      /* "YYYY-MM-DD" (UTC); NULL: 2018-11-01 */
    int64_t catalog_songs;       /* 0: 10,000 songs that users play */
    int64_t song_files;          /* 0: as many as match_rate needs; more
                                    adds songs nobody plays, fewer lowers
                                    the match rate */
    double match_rate;           /* share of plays whose song has a song
                                    file; 0: 0.05 (like the real data);
                                    negative: none */
    uint64_t seed;               /* 0: 42 */
    int threads;                 /* 0: all online cores; the output does
                                    not depend on it */
    int gzip;                    /* 1: write .json.gz files */
    double dirty_rate;           /* 0: clean; else the share of events
                                    (and song files) given a fault */
    /** Called on the calling thread after each day's log file; NULL:
     * none. @p bytes counts every file written so far. */
    void (*progress)(void *ctx, int32_t days_done, int32_t n_days,
                     int64_t bytes);
    void *progress_ctx;
    int64_t n_artists; /* 0: about one artist per two songs users play and
                          one per song nobody plays; else every song is by
                          one of n_artists artists (a skewed draw: some
                          have many songs), its year near the artist's
                          career year (the MSD has ~22 songs an artist) */
} lake_generate_opts;

/** Quarantine reasons the generator can inject (SPEC.md `_quarantine`). */
#define LAKE_GEN_N_REASONS 16

/** What lake_generate() wrote. Every figure is exact. */
typedef struct lake_generate_report {
    int64_t song_files;       /* files below song_data/ */
    int64_t log_files;        /* files below log_data/ */
    int64_t bytes;            /* bytes of all those files (as written) */
    int64_t songs;            /* song records, valid ones only */
    int64_t users;            /* users that ever logged an event */
    int64_t events;           /* lines in the logs, faulty ones included */
    int64_t sessions;         /* sessions started */
    int64_t plays;            /* valid NextSong lines, copies included */
    int64_t songplays;        /* distinct valid NextSong events: what the
                                 songplays table must hold */
    int64_t matched_plays;    /* songplays whose song has a song file */
    int64_t duplicates;       /* exact copies of events injected */
    int64_t faults;           /* records that must be quarantined */
    int64_t reason_counts[LAKE_GEN_N_REASONS]; /* faults per reason */
    double elapsed_s;
} lake_generate_report;

/** The reason code counted in reason_counts[@p i] ("invalid_json",
 * "wrong_type:ts", ...), or NULL past the end. */
LAKE_API const char *lake_generate_reason(int i);

/** Write OUT/song_data/A/B/C/TR….json (one song a file) and
 * OUT/log_data/YYYY/MM/YYYY-MM-DD-events.json (JSON Lines, one file a
 * day), shaped like the real course data, and OUT/_manifest.json telling
 * what was written and injected: the report's figures (song_files,
 * log_files, bytes, songs, active_users, events, sessions,
 * nextsong_events, duplicate_events, expected_songplays,
 * expected_matched_songplays, quarantined) and "quarantine", the count
 * per SPEC reason code, so that an ETL run over OUT can be checked
 * exactly. Each fault maps to one reason; a duplicate is an exact copy of
 * a valid NextSong event placed in the next day's file. Log files and the
 * manifest appear under their names only when complete; song files are
 * written in place. The same options give byte-identical files for any
 * thread count. Memory does not grow with n_days.
 * @param opts   required.
 * @param report may be NULL; filled on success.
 * @return LAKE_OK, LAKE_EINVAL, LAKE_ENOMEM or LAKE_EIO. On failure files
 * already written stay. */
LAKE_API LAKE_NODISCARD lake_status
lake_generate(const lake_generate_opts *opts,
              lake_generate_report *report,
              lake_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LAKE_H */
