/* SPDX-License-Identifier: Apache-2.0 */
/* etl_songs.c - the songs phase: read every song file in parallel, keep
 * valid records in the workers' arenas, then pick the last record per
 * song_id and per artist_id (input order) and build the song match index. */
#include "fmacros.h"

#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "etl/etl_internal.h"
#include "lake_internal.h"

static int sv_cmp(lake_strview a, lake_strview b)
{
    const size_t n = a.len < b.len ? a.len : b.len;
    const int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r != 0)
        return r;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int order_cmp(const etl_song *a, const etl_song *b)
{
    if (a->file_idx != b->file_idx)
        return a->file_idx < b->file_idx ? -1 : 1;
    if (a->rec_idx != b->rec_idx)
        return a->rec_idx < b->rec_idx ? -1 : 1;
    return 0;
}

static int cmp_by_song(const void *pa, const void *pb)
{
    const etl_song *a = *(etl_song *const *)pa, *b = *(etl_song *const *)pb;
    const int r = sv_cmp(a->song_id, b->song_id);
    return r ? r : order_cmp(a, b);
}

static int cmp_by_artist(const void *pa, const void *pb)
{
    const etl_song *a = *(etl_song *const *)pa, *b = *(etl_song *const *)pb;
    const int r = sv_cmp(a->artist_id, b->artist_id);
    return r ? r : order_cmp(a, b);
}

/* Partition order: year (unknown first), artist_id, then song_id. */
static int cmp_by_partition(const void *pa, const void *pb)
{
    const etl_song *a = *(etl_song *const *)pa, *b = *(etl_song *const *)pb;
    if (a->year != b->year) {
        if (a->year == 0 || b->year == 0)
            return a->year == 0 ? -1 : 1;
        return a->year < b->year ? -1 : 1;
    }
    const int r = sv_cmp(a->artist_id, b->artist_id);
    return r ? r : sv_cmp(a->song_id, b->song_id);
}

static lake_status copy_text(etl_worker *w,
                             const lake_text *t,
                             lake_strview *out)
{
    out->len = t->present ? t->v.len : 0;
    out->ptr = etl_arena_dup(&w->arena, t->v.ptr, out->len);
    return out->ptr ? LAKE_OK : LAKE_ENOMEM;
}

static lake_status keep_song(etl_worker *w,
                             const lake_song_rec *r,
                             uint32_t file_idx,
                             uint64_t rec_idx)
{
    etl_song *s = etl_vec_push(&w->songs);
    if (!s)
        return LAKE_ENOMEM;
    s->file_idx = file_idx;
    s->rec_idx = rec_idx;
    s->duration = r->duration;
    s->year = r->year;
    s->has_location = r->artist_location.present &&
                      r->artist_location.v.len > 0;
    s->has_latitude = r->has_latitude;
    s->has_longitude = r->has_longitude;
    s->latitude = r->artist_latitude;
    s->longitude = r->artist_longitude;
    LAKE_TRY(copy_text(w, &r->song_id, &s->song_id));
    LAKE_TRY(copy_text(w, &r->title, &s->title));
    LAKE_TRY(copy_text(w, &r->artist_id, &s->artist_id));
    LAKE_TRY(copy_text(w, &r->artist_name, &s->artist_name));
    LAKE_TRY(copy_text(w, &r->artist_location, &s->location));
    return LAKE_OK;
}

static lake_status on_song(etl_worker *w,
                           const void *rec,
                           uint32_t file_idx,
                           uint64_t rec_idx,
                           const char *path)
{
    if (keep_song(w, rec, file_idx, rec_idx) != LAKE_OK)
        return lake_error_set(&w->err, LAKE_ENOMEM,
                              "etl: out of memory keeping songs of %s", path);
    return LAKE_OK;
}

static lake_status read_one(etl_worker *w, uint32_t file_idx)
{
    etl_ctx *c = w->ctx;
    lake_song_rec rec;
    return etl_read_records(w, LAKE_REC_SONG, c->opts->song_root,
                            c->song_source, &c->song_files.files[file_idx],
                            file_idx, file_idx, &rec, on_song);
}

static lake_status songs_task(etl_worker *w)
{
    etl_ctx *c = w->ctx;
    for (;;) {
        if (atomic_load(&c->abort))
            return LAKE_OK;
        const int64_t i = atomic_fetch_add(&c->next_task, 1);
        if (i >= (int64_t)c->song_files.n_files)
            return LAKE_OK;
        LAKE_TRY(read_one(w, (uint32_t)i));
    }
}

lake_status etl_songs_read(etl_ctx *c, lake_error *err)
{
    LAKE_TRY(etl_parallel(c, "songs", songs_task,
                          (int64_t)c->song_files.n_files, err));
    size_t total = 0;
    for (int t = 0; t < c->n_threads; t++)
        total += c->workers[t].songs.n;
    etl_song **all = lake_malloc(c->alloc, (total ? total : 1) *
                                               sizeof(*all));
    c->songs = lake_malloc(c->alloc, (total ? total : 1) * sizeof(*all));
    c->artists = lake_malloc(c->alloc, (total ? total : 1) * sizeof(*all));
    c->song_runs = lake_malloc(c->alloc, (total + 1) * sizeof(size_t));
    if (!all || !c->songs || !c->artists || !c->song_runs) {
        lake_free(c->alloc, all);
        return lake_error_oom(err, "etl");
    }
    size_t k = 0;
    for (int t = 0; t < c->n_threads; t++) {
        etl_vec *v = &c->workers[t].songs;
        for (size_t i = 0; i < v->n; i++)
            all[k++] = &ETL_VEC_AT(v, etl_song, i);
    }
    /* songs: the last record per song_id */
    qsort(all, total, sizeof(*all), cmp_by_song);
    c->n_songs = 0;
    for (size_t i = 0; i < total; i++)
        if (i + 1 == total || sv_cmp(all[i]->song_id, all[i + 1]->song_id))
            c->songs[c->n_songs++] = all[i];
    /* artists: the last song record per artist_id */
    qsort(all, total, sizeof(*all), cmp_by_artist);
    c->n_artists = 0;
    for (size_t i = 0; i < total; i++)
        if (i + 1 == total ||
            sv_cmp(all[i]->artist_id, all[i + 1]->artist_id))
            c->artists[c->n_artists++] = all[i];
    lake_free(c->alloc, all);
    /* partitions of the songs table: runs of (year, artist_id) */
    qsort(c->songs, c->n_songs, sizeof(*c->songs), cmp_by_partition);
    c->n_song_runs = 0;
    for (size_t i = 0; i < c->n_songs; i++) {
        if (i == 0 || c->songs[i]->year != c->songs[i - 1]->year ||
            sv_cmp(c->songs[i]->artist_id, c->songs[i - 1]->artist_id))
            c->song_runs[c->n_song_runs++] = i;
    }
    c->song_runs[c->n_song_runs] = c->n_songs;
    LAKE_TRY(lake_song_index_new(c->alloc, &c->index, err));
    for (size_t i = 0; i < c->n_songs; i++) {
        const etl_song *s = c->songs[i];
        LAKE_TRY(lake_song_index_add(c->index, s->title, s->artist_name,
                                     s->duration, s->song_id, s->artist_id,
                                     err));
    }
    return LAKE_OK;
}
