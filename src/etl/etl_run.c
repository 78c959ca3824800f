/* SPDX-License-Identifier: Apache-2.0 */
/* etl_run.c - lake_etl_run(): list the inputs, run the phases (songs,
 * logs, write), then write the quarantine and the report and publish every
 * table of the staging area into the lake; plus the report as JSON. */
#include "fmacros.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "etl/etl_internal.h"
#include "etl/etl_spill.h"
#include "etl/etl_s3.h"
#include "lake_internal.h"

#define MAX_THREADS 256

const char *lake_etl_table_name(lake_etl_table t)
{
    switch (t) {
    case LAKE_ETL_SONGS:
        return "songs";
    case LAKE_ETL_ARTISTS:
        return "artists";
    case LAKE_ETL_USERS:
        return "users";
    case LAKE_ETL_TIME:
        return "time";
    case LAKE_ETL_SONGPLAYS:
        return "songplays";
    case LAKE_ETL_N_TABLES:
        break;
    }
    return "?";
}

/* ---- report as JSON ---- */

typedef struct jout {
    char *p;
    size_t size, len;
} jout;

static void jprintf(jout *o, const char *fmt, ...) LAKE_PRINTF(2, 3);
static void jprintf(jout *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->len < o->size ? o->p + o->len : NULL;
    const size_t room = o->len < o->size ? o->size - o->len : 0;
    const int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void jstring(jout *o, const char *s)
{
    jprintf(o, "\"");
    for (; *s; s++) {
        const unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            jprintf(o, "\\%c", ch);
        else if (ch < 0x20)
            jprintf(o, "\\u%04x", ch);
        else
            jprintf(o, "%c", ch);
    }
    jprintf(o, "\"");
}

size_t lake_etl_report_json(const lake_etl_report *r,
                            char *out,
                            size_t out_size)
{
    jout o = {out, out_size, 0};
    if (out && out_size)
        out[0] = '\0';
    jprintf(&o, "{\"version\":\"%s\",\"rows\":{", LAKE_VERSION_STRING);
    for (int t = 0; t < LAKE_ETL_N_TABLES; t++)
        jprintf(&o, "%s\"%s\":%lld", t ? "," : "",
                lake_etl_table_name((lake_etl_table)t),
                (long long)r->rows[t]);
    jprintf(&o, "},\"matched_plays\":%lld,\"quarantined\":%lld,"
                "\"quarantined_by_reason\":{",
            (long long)r->matched_plays, (long long)r->quarantined);
    for (size_t i = 0; i < r->n_reasons && i < LAKE_ETL_MAX_REASONS; i++) {
        if (i)
            jprintf(&o, ",");
        jstring(&o, r->reasons[i].reason);
        jprintf(&o, ":%lld", (long long)r->reasons[i].count);
    }
    jprintf(&o,
            "},\"song_files\":%lld,\"log_files\":%lld,\"bytes_read\":%lld,"
            "\"files_written\":%lld,\"threads\":%d,\"seconds\":%.6f,"
            "\"phase_seconds\":{",
            (long long)r->song_files, (long long)r->log_files,
            (long long)r->bytes_read, (long long)r->files_written,
            r->threads, r->seconds);
    /* the phases up to the report's writing into the lake */
    for (int p = 0; p < LAKE_ETL_PHASE_PUBLISH; p++)
        jprintf(&o, "%s\"%s\":%.6f", p ? "," : "",
                lake_etl_phase_name((lake_etl_phase)p), r->phase_seconds[p]);
    jprintf(&o, "}}\n");
    return o.len;
}

/* ---- the run ---- */

static lake_status check_opts(const lake_etl_opts *o, lake_error *err)
{
    if (!o)
        return lake_error_set(err, LAKE_EINVAL, "etl: options: NULL");
    if (!o->song_root || !o->song_root[0])
        return lake_error_set(err, LAKE_EINVAL, "etl: options: no song root");
    if (!o->log_root || !o->log_root[0])
        return lake_error_set(err, LAKE_EINVAL, "etl: options: no log root");
    if (!o->lake || !o->lake[0])
        return lake_error_set(err, LAKE_EINVAL, "etl: options: no lake");
    if (o->threads < 0 || o->threads > MAX_THREADS)
        return lake_error_set(err, LAKE_EINVAL,
                              "etl: options: threads must be 0..%d: %d",
                              MAX_THREADS, o->threads);
    if (o->codec != LAKE_CODEC_SNAPPY && o->codec != LAKE_CODEC_ZSTD &&
        o->codec != LAKE_CODEC_NONE)
        return lake_error_set(err, LAKE_EINVAL,
                              "etl: options: unknown codec %d",
                              (int)o->codec);
    return LAKE_OK;
}

static lake_status workers_new(etl_ctx *c, lake_error *err)
{
    c->workers = lake_calloc(c->alloc, (size_t)c->n_threads,
                             sizeof(*c->workers));
    if (!c->workers)
        return lake_error_oom(err, "etl");
    for (int i = 0; i < c->n_threads; i++) {
        etl_worker *w = &c->workers[i];
        w->ctx = c;
        w->id = i;
        w->qfd = -1;
        w->sfd = -1;
        w->data.alloc = c->alloc;
        lake_buf_init(&w->path, c->alloc, 0);
        lake_buf_init(&w->source, c->alloc, 0);
        lake_buf_init(&w->qbuf, c->alloc, 0);
        lake_buf_init(&w->scratch, c->alloc, 0);
        lake_buf_init(&w->cols, c->alloc, 0);
        etl_strdict_init(&w->dict, c->alloc, ETL_PLAY_DICT_MAX_BYTES);
        lake_buf_init(&w->spill_in, c->alloc, 0);
        lake_buf_init(&w->spill_out, c->alloc, 0);
        etl_arena_init(&w->arena, c->alloc);
        etl_vec_init(&w->songs, c->alloc, sizeof(etl_song));
        etl_user_map_init(&w->users, c->alloc);
        etl_vec_init(&w->qext, c->alloc, sizeof(etl_extent));
        etl_vec_init(&w->bufs, c->alloc, sizeof(etl_bucket_buf));
        etl_vec_init(&w->sext, c->alloc, sizeof(etl_extent));
        etl_vec_init(&w->chunks, c->alloc, sizeof(char *));
        etl_vec_init(&w->refs, c->alloc, sizeof(play_ref));
        etl_vec_init(&w->refs_tmp, c->alloc, sizeof(play_ref));
    }
    for (int i = 0; i < c->n_threads; i++)
        LAKE_TRY(lake_record_reader_new(c->alloc, &c->workers[i].reader,
                                        err));
    return LAKE_OK;
}

static void workers_free(etl_ctx *c)
{
    if (!c->workers)
        return;
    for (int i = 0; i < c->n_threads; i++) {
        etl_worker *w = &c->workers[i];
        lake_record_reader_free(w->reader);
        lake_file_data_free(&w->data);
        lake_buf_reset(&w->path);
        lake_buf_reset(&w->source);
        lake_buf_reset(&w->qbuf);
        lake_buf_reset(&w->scratch);
        lake_pq_writer_free(w->songs_writer);
        lake_pq_writer_free(w->plays_writer);
        lake_pq_writer_free(w->time_writer);
        lake_buf_reset(&w->cols);
        etl_arena_free(&w->arena);
        etl_vec_free(&w->songs);
        etl_user_map_free(&w->users);
        etl_vec_free(&w->qext);
        etl_strdict_free(&w->dict);
        lake_buf_reset(&w->spill_in);
        lake_buf_reset(&w->spill_out);
        etl_vec_free(&w->bufs);
        lake_free(c->alloc, w->buf_slot);
        etl_vec_free(&w->sext);
        for (size_t k = 0; k < w->chunks.n; k++)
            lake_free(c->alloc, ETL_VEC_AT(&w->chunks, char *, k));
        etl_vec_free(&w->chunks);
        etl_vec_free(&w->refs);
        etl_vec_free(&w->refs_tmp);
        if (w->qfd >= 0)
            close(w->qfd);
        if (w->sfd >= 0)
            close(w->sfd);
    }
    lake_free(c->alloc, c->workers);
    c->workers = NULL;
}

static void ctx_free(etl_ctx *c)
{
    workers_free(c);
    lake_free(c->alloc, c->songs);
    lake_free(c->alloc, c->artists);
    lake_free(c->alloc, c->song_runs);
    lake_free(c->alloc, c->users);
    lake_free(c->alloc, c->log_order);
    etl_user_map_free(&c->user_all);
    etl_vec_free(&c->all_ext);
    etl_vec_free(&c->buckets);
    lake_song_index_free(c->index);
    lake_file_list_free(&c->song_files);
    lake_file_list_free(&c->log_files);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static lake_status write_report(etl_ctx *c,
                                const lake_etl_report *r,
                                lake_error *err)
{
    const size_t n = lake_etl_report_json(r, NULL, 0);
    char *text = lake_malloc(c->alloc, n + 1);
    if (!text)
        return lake_error_oom(err, "etl");
    lake_etl_report_json(r, text, n + 1);
    lake_output *out = NULL;
    lake_status rc =
        c->store->ops->create(c->store, "_sparkify_report.json", &out, err);
    if (rc == LAKE_OK)
        rc = lake_output_write(out, text, n, err);
    if (rc == LAKE_OK)
        rc = lake_output_commit(out, err);
    lake_output_free(out);
    lake_free(c->alloc, text);
    return rc;
}

static void fill_report(etl_ctx *c, lake_etl_report *r)
{
    r->rows[LAKE_ETL_SONGS] = (int64_t)c->n_songs;
    r->rows[LAKE_ETL_ARTISTS] = (int64_t)c->n_artists;
    r->rows[LAKE_ETL_USERS] = (int64_t)c->n_users;
    r->rows[LAKE_ETL_TIME] = atomic_load(&c->rows_time);
    r->rows[LAKE_ETL_SONGPLAYS] = atomic_load(&c->rows_plays);
    r->matched_plays = atomic_load(&c->matched);
    r->song_files = (int64_t)c->song_files.n_files;
    r->log_files = (int64_t)c->log_files.n_files;
    r->bytes_read = c->song_files.total_bytes + c->log_files.total_bytes;
    r->files_written = atomic_load(&c->files_written);
    r->threads = c->n_threads;
    r->seconds = (double)(c->phase_ns - c->t0_ns) / 1e9; /* the phases' */
}

const char *lake_etl_phase_name(lake_etl_phase p)
{
    static const char *const names[LAKE_ETL_N_PHASES] = {
        "fetch", "list",       "songs",   "logs",
        "write", "quarantine", "publish", "cleanup"};
    return (unsigned)p < LAKE_ETL_N_PHASES ? names[p] : NULL;
}

/* End phase @p p: its seconds are the time since the previous end. */
static void phase_done(etl_ctx *c, lake_etl_report *r, lake_etl_phase p)
{
    const int64_t t = lake_now_ns();
    r->phase_seconds[p] = (double)(t - c->phase_ns) / 1e9;
    c->phase_ns = t;
}

static lake_status run(etl_ctx *c, lake_etl_report *r, lake_error *err)
{
    const lake_etl_opts *o = c->opts;
    LAKE_TRY(lake_list_files(o->song_root, c->alloc, &c->song_files, err));
    LAKE_TRY(lake_list_files(o->log_root, c->alloc, &c->log_files, err));
    if (c->song_files.n_files + c->log_files.n_files >= UINT32_MAX)
        return lake_error_set(err, LAKE_ETOOBIG, "etl: too many input files");
    if (etl_is_s3(o->lake))
        LAKE_TRY(etl_store_open_s3(o->lake, o->s3, c->alloc, &c->store, err));
    else
        LAKE_TRY(etl_store_open_local(o->lake, c->alloc, !o->no_fsync,
                                      &c->store, err));
    LAKE_TRY(workers_new(c, err));
    phase_done(c, r, LAKE_ETL_PHASE_LIST);
    LAKE_TRY(etl_songs_read(c, err));
    phase_done(c, r, LAKE_ETL_PHASE_SONGS);
    LAKE_TRY(etl_logs_read(c, err));
    phase_done(c, r, LAKE_ETL_PHASE_LOGS);
    LAKE_TRY(etl_tables_write(c, err));
    phase_done(c, r, LAKE_ETL_PHASE_WRITE);
    LAKE_TRY(etl_quarantine_write(c, r, err));
    phase_done(c, r, LAKE_ETL_PHASE_QUARANTINE);
    fill_report(c, r);
    LAKE_TRY(write_report(c, r, err));
    etl_progress(c, "publish");
    LAKE_TRY(c->store->ops->sync(c->store, err));
    for (int t = 0; t < LAKE_ETL_N_TABLES; t++)
        LAKE_TRY(c->store->ops->publish(
            c->store, lake_etl_table_name((lake_etl_table)t), err));
    LAKE_TRY(c->store->ops->publish(c->store, "_quarantine", err));
    LAKE_TRY(c->store->ops->publish(c->store, "_sparkify_report.json", err));
    LAKE_TRY(c->store->ops->commit(c->store, err));
    phase_done(c, r, LAKE_ETL_PHASE_PUBLISH);
    return LAKE_OK;
}

lake_status lake_etl_run(const lake_etl_opts *opts,
                         lake_etl_report *report,
                         lake_error *err)
{
    LAKE_TRY(check_opts(opts, err));
    lake_etl_report local;
    lake_etl_report *r = report ? report : &local;
    memset(r, 0, sizeof(*r));
    etl_ctx c;
    memset(&c, 0, sizeof(c));
    c.opts = opts;
    c.alloc = opts->alloc;
    c.t0_ns = lake_now_ns();
    c.n_threads = opts->threads ? opts->threads : lake_cpu_count();
    if (c.n_threads > MAX_THREADS)
        c.n_threads = MAX_THREADS;
    c.song_files.alloc = c.alloc;
    c.log_files.alloc = c.alloc;
    etl_user_map_init(&c.user_all, c.alloc);
    etl_vec_init(&c.all_ext, c.alloc, sizeof(etl_extent));
    etl_vec_init(&c.buckets, c.alloc, sizeof(etl_bucket));
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.song_source = opts->song_root;
    c.log_source = opts->log_root;
    lake_etl_opts local_opts = *opts; /* s3:// inputs: local copies */
    char *song_dir = NULL, *log_dir = NULL;
    c.opts = &local_opts;
    c.phase_ns = c.t0_ns;
    lake_status rc = etl_s3_localize(&local_opts, &song_dir, &log_dir, err);
    if (rc == LAKE_OK) {
        phase_done(&c, r, LAKE_ETL_PHASE_FETCH);
        rc = run(&c, r, err);
    }
    etl_s3_input_free(c.alloc, song_dir);
    etl_s3_input_free(c.alloc, log_dir);
    /* Spill files go first (they may be big), then the staging area. */
    workers_free(&c);
    if (c.store)
        c.store->ops->close(c.store, rc == LAKE_OK);
    ctx_free(&c);
    if (rc != LAKE_OK) {
        memset(r, 0, sizeof(*r));
        return rc;
    }
    phase_done(&c, r, LAKE_ETL_PHASE_CLEANUP);
    r->seconds = (double)(c.phase_ns - c.t0_ns) / 1e9;
    if (opts->fail_on_bad && r->quarantined > 0)
        return lake_error_set(err, LAKE_EBADDATA,
                              "etl: %lld records quarantined: see %s/"
                              "_quarantine",
                              (long long)r->quarantined, opts->lake);
    return LAKE_OK;
}
