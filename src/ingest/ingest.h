/* SPDX-License-Identifier: Apache-2.0 */
/* ingest.h - the ingest stage: find input files, read them (gzip, BOM),
 * split them into records and type the records' fields exactly as
 * ../shared/SPEC.md says. Every value handed out is borrowed: views point
 * into the file buffer or the parser and stay valid until the next call on
 * the same object. */
#ifndef LAKE_INGEST_H
#define LAKE_INGEST_H
#include "lake_common.h"

/* ---- discovery ---- */

typedef struct lake_file_entry {
    char *rel_path;     /* relative to the root, '/'-separated, owned */
    int64_t size_bytes; /* on disk (compressed size for .gz) */
} lake_file_entry;

typedef struct lake_file_list {
    lake_file_entry *files; /* sorted by rel_path in unsigned byte order */
    size_t n_files;
    int64_t total_bytes;
    const lake_allocator *alloc;
} lake_file_list;

/* List every input file below @p root, recursively, per SPEC "Files":
 * names ending .json .jsonl .json.gz .jsonl.gz; names starting with '.'
 * or '_' skipped (files and folders). A missing root is LAKE_EIO naming
 * it. Details (ingest_files.c): the root must be a folder (else
 * LAKE_EINVAL); symlinks are followed, a folder link back to an ancestor
 * is skipped; dangling links are skipped; an unreadable folder is LAKE_EIO
 * naming it; folders nested deeper than 256 are LAKE_ETOOBIG. On failure
 * @p out is empty (nothing to free). */
LAKE_NODISCARD lake_status lake_list_files(const char *root,
                                           const lake_allocator *alloc,
                                           lake_file_list *out,
                                           lake_error *err);
void lake_file_list_free(lake_file_list *list);

/* ---- reading ---- */

/* Bytes of one file, decompressed when the name ends in .gz, with at
 * least LAKE_READ_PADDING readable zero bytes after `len` (the parser
 * needs them). A leading UTF-8 BOM is not skipped here: the record
 * reader skips it. */
#define LAKE_READ_PADDING 64
typedef struct lake_file_data {
    char *data;
    size_t len;
    size_t cap;
    const lake_allocator *alloc;
} lake_file_data;

/* Read @p path into @p buf, reusing its memory. @p max_bytes bounds the
 * decompressed size (0: 4 GiB); beyond it LAKE_ETOOBIG. Errors name the
 * file. A name ending in .gz is gunzipped (multi-member allowed); corrupt,
 * truncated or trailing non-gzip bytes are LAKE_EPARSE. Set buf->alloc
 * before the first call (NULL: the C library); on failure buf->len is 0
 * and the memory is kept for reuse. */
LAKE_NODISCARD lake_status lake_read_file(const char *path,
                                          size_t max_bytes,
                                          lake_file_data *buf,
                                          lake_error *err);
void lake_file_data_free(lake_file_data *buf);

/* The same for bytes already in memory (S3 objects, Spark partitions):
 * gunzip the @p n bytes at @p src into @p buf with its padding, with the
 * rules and errors of lake_read_file; @p name (may be NULL) names the
 * input in messages. */
LAKE_NODISCARD lake_status lake_gunzip_bytes(const void *src,
                                             size_t n,
                                             const char *name,
                                             size_t max_bytes,
                                             lake_file_data *buf,
                                             lake_error *err);

/* Copy @p n bytes into @p buf and add the padding the reader needs.
 * LAKE_OK, LAKE_ENOMEM or LAKE_ETOOBIG. */
LAKE_NODISCARD lake_status lake_file_data_set(lake_file_data *buf,
                                              const void *src,
                                              size_t n,
                                              lake_error *err);

/* ---- records ---- */

/* A text value: present (JSON string, or a number kept as its literal
 * text) or absent (missing or null). */
typedef struct lake_text {
    lake_strview v;
    bool present;
} lake_text;

typedef struct lake_song_rec {
    lake_text song_id, title, artist_id, artist_name, artist_location;
    double duration;
    int64_t year; /* 0: unknown; always fits int32 (out_of_range:year) */
    double artist_latitude, artist_longitude;
    bool has_latitude, has_longitude;
} lake_song_rec;

typedef struct lake_event_rec {
    int64_t ts;              /* epoch ms, within [1900, 3000) */
    int64_t session_id, item_in_session;
    bool has_user;           /* false: logged out ("" or null or missing) */
    int64_t user_id;
    lake_text page, level, first_name, last_name, gender, location,
        user_agent, song, artist;
    bool has_length;
    double length;
} lake_event_rec;

typedef enum lake_rec_kind { LAKE_REC_SONG = 0, LAKE_REC_EVENT = 1 } lake_rec_kind;

/* A rejected record, per SPEC "_quarantine/". */
typedef struct lake_reject {
    int64_t line;      /* 1-based line of the record's first byte */
    char reason[64];   /* invalid_json, not_an_object, missing_field:NAME,
                          wrong_type:NAME, out_of_range:NAME */
    lake_strview raw;  /* the record's first line (invalid_json) or the
                          whole record text (other reasons) */
} lake_reject;

typedef enum lake_next {
    LAKE_NEXT_RECORD = 0, /* *song or *event is filled */
    LAKE_NEXT_REJECT = 1, /* *reject is filled */
    LAKE_NEXT_END = 2     /* no more records in this buffer */
} lake_next;

/* One parser per thread; it owns the JSON library's state. */
typedef struct lake_record_reader lake_record_reader;

LAKE_NODISCARD lake_status lake_record_reader_new(const lake_allocator *alloc,
                                                  lake_record_reader **out,
                                                  lake_error *err);
void lake_record_reader_free(lake_record_reader *r);

/* Start reading records of @p kind from @p data (which must have
 * LAKE_READ_PADDING readable bytes after @p len), skipping a BOM. */
void lake_record_reader_reset(lake_record_reader *r,
                              lake_rec_kind kind,
                              const char *data,
                              size_t len);

/* Produce the next record or rejection. @p out points to a lake_song_rec
 * or lake_event_rec per the kind given to reset. Bad data is never an
 * error status: it is LAKE_NEXT_REJECT. Errors are only ENOMEM and the
 * like; after one the reader has not moved, so a call again retries the
 * same record. The exact rules (raw text, line, reason order, numbers)
 * are listed at the top of record_reader.c. */
LAKE_NODISCARD lake_status lake_record_reader_next(lake_record_reader *r,
                                                   void *out,
                                                   lake_reject *reject,
                                                   lake_next *next,
                                                   lake_error *err);
#endif
