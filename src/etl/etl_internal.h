/* SPDX-License-Identifier: Apache-2.0 */
/* etl_internal.h - what the files of the ETL engine share: the arena, the
 * run context with its worker threads, and the phases' entry points. */
#ifndef LAKE_ETL_INTERNAL_H
#define LAKE_ETL_INTERNAL_H
#include "lake_common.h"

#include <pthread.h>
#include <stdatomic.h>

#include "ingest/ingest.h"
#include "model/model.h"
#include "etl/etl_store.h"

/* ---- arena: bump allocation in big blocks, freed all at once ---- */

typedef struct etl_arena_block etl_arena_block;
typedef struct etl_arena {
    const lake_allocator *alloc;
    etl_arena_block *head;
    size_t used, cap; /* of head */
} etl_arena;

void etl_arena_init(etl_arena *a, const lake_allocator *alloc);
void etl_arena_free(etl_arena *a);
/* Copy @p n bytes (8-aligned); NULL on OOM. n == 0 gives a valid pointer. */
char *etl_arena_dup(etl_arena *a, const char *p, size_t n);

/* ---- a growable array of fixed-size items ---- */

typedef struct etl_vec {
    char *data;
    size_t n, cap, item;
    const lake_allocator *alloc;
} etl_vec;

void etl_vec_init(etl_vec *v, const lake_allocator *alloc, size_t item);
void etl_vec_free(etl_vec *v);
/* Room for one more item; returns it (uninitialised) or NULL on OOM. */
void *etl_vec_push(etl_vec *v);
LAKE_NODISCARD lake_status etl_vec_reserve(etl_vec *v, size_t n);
#define ETL_VEC_AT(v, type, i) (((type *)(v)->data)[i])

/* ---- a dictionary of short strings (ids from 0, bytes in an arena) ---- */

typedef struct etl_strdict {
    etl_arena arena;
    etl_vec views;    /* lake_strview by id */
    uint32_t *slot;   /* 1 + id, 0 = empty */
    size_t n_slots;   /* power of two */
    size_t bytes;     /* of all strings */
    size_t max_bytes; /* no new entries beyond */
} etl_strdict;

void etl_strdict_init(etl_strdict *d,
                      const lake_allocator *alloc,
                      size_t max_bytes);
void etl_strdict_free(etl_strdict *d);
/* The id of @p s, added when new. LAKE_ETOOBIG (and no id) when the
 * dictionary is full: the caller keeps the bytes itself; LAKE_ENOMEM. */
LAKE_NODISCARD lake_status etl_strdict_put(etl_strdict *d,
                                           lake_strview s,
                                           uint32_t *id);
static inline lake_strview etl_strdict_get(const etl_strdict *d, uint32_t id)
{
    return ((const lake_strview *)(const void *)d->views.data)[id];
}

/* ---- records kept between phases ---- */

/* A valid song record, strings copied into the worker's arena. */
typedef struct etl_song {
    lake_strview song_id, title, artist_id, artist_name, location;
    double duration, latitude, longitude;
    int64_t year;
    uint64_t rec_idx;
    uint32_t file_idx;
    bool has_location, has_latitude, has_longitude;
} etl_song;

/* The latest event of one user (SPEC "users"). */
typedef struct etl_user {
    int64_t user_id, ts, session_id, item;
    uint64_t rec_idx;
    uint32_t file_idx;
    uint32_t len[4];  /* first_name, last_name, gender, level */
    uint32_t present; /* bit i: field i present and non-empty */
    uint32_t cap;
    char *str;        /* the four fields back to back */
    /* 1 + the spill dictionary id of this user's last level, location
     * and user agent (0: none): a user's next play usually repeats them,
     * so one comparison replaces a hash and a probe. A hint only, checked
     * against the dictionary's bytes before use. */
    uint32_t dict_hint[3];
} etl_user;

typedef struct etl_user_map {
    etl_vec users;  /* etl_user */
    uint32_t *slot; /* 1 + index into users, 0 = empty */
    size_t n_slots; /* power of two */
    const lake_allocator *alloc;
} etl_user_map;

/* Where a piece of a spill or quarantine file lies. */
typedef struct etl_extent {
    uint64_t key;  /* bucket key, or file index for the quarantine */
    uint64_t seq;  /* order among pieces with the same key */
    int64_t off;
    uint64_t len;
    int worker;
    const char *mem; /* spill kept in memory: the bytes; NULL: on disk */
} etl_extent;

/* A bucket a worker has spilled to: its key and, during a flush, the
 * bytes it has in the worker's buffer and where they go. */
typedef struct etl_bucket_buf {
    uint64_t key;
    uint64_t bytes, pos;
} etl_bucket_buf;

/* One worker thread's state, kept across phases. */
typedef struct etl_worker {
    struct etl_ctx *ctx;
    int id;
    lake_status rc;
    lake_error err;
    lake_record_reader *reader;
    lake_file_data data;
    lake_buf path;
    lake_buf source;        /* the file as the user named it */
    etl_arena arena;
    etl_vec songs;          /* etl_song */
    etl_user_map users;
    /* quarantine lines of this worker, on disk by file */
    lake_buf qbuf;
    uint32_t qkey;          /* quarantine key of the file being read */
    int qfd;
    int64_t qoff;
    etl_vec qext;           /* etl_extent */
    lake_etl_reason_count reasons[LAKE_ETL_MAX_REASONS];
    size_t n_reasons;
    int64_t quarantined;
    /* spilled plays */
    etl_strdict dict;       /* level, location, user_agent of plays */
    lake_buf spill_in;      /* [u32 bucket, u32 size] record, ... */
    lake_buf spill_out;     /* the same records grouped by bucket */
    etl_vec bufs;           /* etl_bucket_buf */
    uint32_t *buf_slot;     /* 1 + index into bufs */
    size_t n_buf_slots;
    int sfd;
    int64_t soff;
    etl_vec sext;           /* etl_extent */
    etl_vec chunks;         /* char *: spill buffers kept in memory */
    /* the UTC day [day_lo_ms, day_hi_ms) of the last play's bucket key
     * and its (year, month) number; empty at first */
    int64_t day_lo_ms, day_hi_ms;
    uint64_t day_ym;
    /* scratch of the write phase */
    lake_buf scratch;
    lake_pq_writer *songs_writer; /* reused across song partition files */
    /* reused across play buckets: their big dictionaries and page
     * buffers are allocated (and page-faulted) once per worker */
    lake_pq_writer *plays_writer, *time_writer;
    lake_buf cols;          /* column arrays of the file being written */
    etl_vec refs;
    etl_vec refs_tmp;       /* the merge sort's other half of refs */
} etl_worker;

/* A bucket of plays: one (year, month, hash slot). */
typedef struct etl_bucket {
    uint64_t key;
    size_t first_ext, n_ext; /* into ctx->all_ext */
    uint64_t bytes;          /* spilled bytes of its plays */
} etl_bucket;

typedef struct etl_ctx {
    const lake_etl_opts *opts;
    const lake_allocator *alloc;
    /* The roots as the caller gave them (s3:// URIs stay URIs), for the
     * quarantine's "source"; opts has the roots actually read. */
    const char *song_source, *log_source;
    int n_threads;
    int64_t t0_ns;
    int64_t phase_ns; /* end of the last timed phase */
    etl_store *store;
    lake_file_list song_files, log_files;
    etl_worker *workers;
    /* the current parallel phase */
    const char *phase;
    atomic_int_fast64_t next_task;
    atomic_int_fast64_t files_done, bytes_read;
    atomic_int abort;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
    /* songs phase results */
    etl_song **songs;        /* the songs table, partition order */
    size_t n_songs;
    etl_song **artists;      /* the artists table, artist_id order */
    size_t n_artists;
    size_t *song_runs;       /* start of each (year, artist_id) run */
    size_t n_song_runs;
    lake_song_index *index;
    /* logs phase */
    uint32_t *log_order;     /* log file indices, biggest first */
    uint32_t hash_slots;     /* H: hash slots per (year, month) */
    size_t spill_flush_bytes; /* a worker flushes its plays beyond */
    /* Spilled plays stay in memory up to this many bytes in all, then go
     * to the spill files: small inputs do no spill I/O, and memory stays
     * bounded for any volume. */
    int64_t spill_mem_budget;
    atomic_int_fast64_t spill_mem_used;
    etl_user **users;        /* the users table, user_id order */
    size_t n_users;
    etl_user_map user_all;
    etl_vec all_ext;         /* spill extents of all workers, by key */
    etl_vec buckets;         /* etl_bucket */
    /* counters of the write phase */
    atomic_int_fast64_t rows_time, rows_plays, matched, files_written;
} etl_ctx;

/* Run @p fn on min(threads, @p n_tasks) worker threads (none when there
 * is no task) and wait, reporting progress. The first failing worker's
 * status and error are returned. */
typedef lake_status (*etl_task_fn)(etl_worker *w);
LAKE_NODISCARD lake_status etl_parallel(etl_ctx *c,
                                        const char *phase,
                                        etl_task_fn fn,
                                        int64_t n_tasks,
                                        lake_error *err);

/* Enter @p phase and report progress (caller's thread only). */
void etl_progress(etl_ctx *c, const char *phase);

/* Prefix @p err's message with the file and record it is about:
 * "etl: <path> record <n>: <message>". Returns @p rc. */
lake_status etl_wrap_error(lake_error *err,
                           lake_status rc,
                           const char *path,
                           uint64_t record);

/* The quarantine source of a file: "<source root>/<rel>", which is
 * @p path itself unless the input was fetched (S3). */
const char *etl_source_name(etl_worker *w,
                            const char *source_root,
                            const char *read_root,
                            const char *path,
                            const char *rel);

/* What a phase does with one valid record of file @p file_idx: @p rec is a
 * lake_song_rec or lake_event_rec, @p rec_idx its index in the file,
 * @p path the file read. On failure it fills w->err. */
typedef lake_status (*etl_record_fn)(etl_worker *w,
                                     const void *rec,
                                     uint32_t file_idx,
                                     uint64_t rec_idx,
                                     const char *path);

/* Read file @p fe (below @p read_root; quarantine sources below
 * @p source_root) and run its records of @p kind through @p on_record,
 * rejects into the quarantine under key @p qkey; then count the file as
 * done. @p rec is the caller's record of that kind, reused. */
LAKE_NODISCARD lake_status etl_read_records(etl_worker *w,
                                            lake_rec_kind kind,
                                            const char *read_root,
                                            const char *source_root,
                                            const lake_file_entry *fe,
                                            uint32_t file_idx,
                                            uint32_t qkey,
                                            void *rec,
                                            etl_record_fn on_record);

/* Build "<root>/<rel>" in @p out (NUL-terminated). */
LAKE_NODISCARD lake_status etl_join_path(lake_buf *out,
                                         const char *root,
                                         const char *rel);

/* ---- quarantine (etl_quarantine.c) ---- */

/* Append @p n bytes as the body of a JSON string (no quotes): escapes per
 * RFC 8259, invalid UTF-8 replaced by U+FFFD (one per maximal subpart, as
 * Python's "replace" does). */
LAKE_NODISCARD lake_status etl_json_escape(lake_buf *b,
                                           const char *s,
                                           size_t n);
/* Record one rejected record of file @p file_idx (source path @p source)
 * in the worker's quarantine. */
LAKE_NODISCARD lake_status etl_quarantine_add(etl_worker *w,
                                              const char *source,
                                              const lake_reject *rej,
                                              lake_error *err);
/* Record a rejection that the engine (not ingest) decided. */
LAKE_NODISCARD lake_status etl_quarantine_reason(etl_worker *w,
                                                 const char *source,
                                                 int64_t line,
                                                 const char *reason,
                                                 lake_strview raw,
                                                 lake_error *err);
/* Move the worker's buffered lines of file @p file_idx to its file. */
LAKE_NODISCARD lake_status etl_quarantine_flush(etl_worker *w,
                                                uint32_t file_idx,
                                                lake_error *err);
/* Write _quarantine/ (lines in input order) and count reasons into
 * @p report. */
LAKE_NODISCARD lake_status etl_quarantine_write(etl_ctx *c,
                                                lake_etl_report *report,
                                                lake_error *err);

/* ---- phases ---- */

LAKE_NODISCARD lake_status etl_songs_read(etl_ctx *c, lake_error *err);
LAKE_NODISCARD lake_status etl_logs_read(etl_ctx *c, lake_error *err);
/* Write every table's files in parallel (plays buckets, song partitions,
 * artists, users). */
LAKE_NODISCARD lake_status etl_tables_write(etl_ctx *c, lake_error *err);

/* ---- user map (etl_logs.c) ---- */
void etl_user_map_init(etl_user_map *m, const lake_allocator *alloc);
void etl_user_map_free(etl_user_map *m);

/* ---- Parquet helpers (etl_write.c) ---- */
/* Write one Parquet file of @p n_rows rows at @p rel_path of the store.
 * With @p reuse, *reuse is a writer of the same schema kept between files
 * (created on first use, owned by the caller): many small files then cost
 * no writer setup each. */
LAKE_NODISCARD lake_status etl_write_parquet(etl_ctx *c,
                                             const char *rel_path,
                                             const lake_pq_column_def *defs,
                                             size_t n_defs,
                                             const lake_pq_column_data *cols,
                                             int64_t n_rows,
                                             lake_pq_writer **reuse,
                                             lake_error *err);
#endif
