/* SPDX-License-Identifier: Apache-2.0 */
/* etl_write.c - the write phase: every table's Parquet files, made in
 * parallel from one task list: play buckets (load, sort, first-wins
 * de-duplication, song match, songplays and time files), then artists,
 * users and the songs partitions. Rows inside a file are sorted by key,
 * and file names depend only on the data, so the bytes are the same for
 * any number of threads. */
#include "fmacros.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "etl/etl_internal.h"
#include "etl/etl_spill.h"
#include "lake_internal.h"

#define SONG_RUNS_PER_TASK 32

static const lake_pq_column_def songplays_cols[] = {
    {"songplay_id", LAKE_PQ_INT64, 0},
    {"start_time", LAKE_PQ_TIMESTAMP_US, 0},
    {"user_id", LAKE_PQ_INT64, 0},
    {"level", LAKE_PQ_STRING, 1},
    {"song_id", LAKE_PQ_STRING, 1},
    {"artist_id", LAKE_PQ_STRING, 1},
    {"session_id", LAKE_PQ_INT64, 0},
    {"location", LAKE_PQ_STRING, 1},
    {"user_agent", LAKE_PQ_STRING, 1},
};

static const lake_pq_column_def time_cols[] = {
    {"start_time", LAKE_PQ_TIMESTAMP_US, 0},
    {"hour", LAKE_PQ_INT32, 0},
    {"day", LAKE_PQ_INT32, 0},
    {"week", LAKE_PQ_INT32, 0},
    {"weekday", LAKE_PQ_INT32, 0},
};

static const lake_pq_column_def songs_cols[] = {
    {"song_id", LAKE_PQ_STRING, 0},
    {"title", LAKE_PQ_STRING, 0},
    {"duration", LAKE_PQ_DOUBLE, 0},
};

static const lake_pq_column_def artists_cols[] = {
    {"artist_id", LAKE_PQ_STRING, 0},
    {"name", LAKE_PQ_STRING, 0},
    {"location", LAKE_PQ_STRING, 1},
    {"latitude", LAKE_PQ_DOUBLE, 1},
    {"longitude", LAKE_PQ_DOUBLE, 1},
};

static const lake_pq_column_def users_cols[] = {
    {"user_id", LAKE_PQ_INT64, 0},
    {"first_name", LAKE_PQ_STRING, 1},
    {"last_name", LAKE_PQ_STRING, 1},
    {"gender", LAKE_PQ_STRING, 1},
    {"level", LAKE_PQ_STRING, 1},
};

lake_status etl_write_parquet(etl_ctx *c,
                              const char *rel_path,
                              const lake_pq_column_def *defs,
                              size_t n_defs,
                              const lake_pq_column_data *cols,
                              int64_t n_rows,
                              lake_pq_writer **reuse,
                              lake_error *err)
{
    lake_output *out = NULL;
    lake_pq_writer *pw = reuse ? *reuse : NULL;
    lake_pq_writer_opts po;
    memset(&po, 0, sizeof(po));
    po.alloc = c->alloc;
    po.codec = c->opts->codec;
    po.row_group_bytes = c->opts->row_group_bytes;
    lake_status rc = c->store->ops->create(c->store, rel_path, &out, err);
    if (rc != LAKE_OK)
        goto cleanup;
    if (pw) {
        rc = lake_pq_writer_reopen(pw, out, err);
    } else {
        rc = lake_pq_writer_new(out, defs, n_defs, &po, &pw, err);
        if (rc == LAKE_OK && reuse)
            *reuse = pw;
    }
    if (rc == LAKE_OK && n_rows > 0)
        rc = lake_pq_writer_write(pw, cols, n_rows, err);
    if (rc == LAKE_OK)
        rc = lake_pq_writer_close(pw, err);
    if (rc == LAKE_OK)
        rc = lake_output_commit(out, err);
    if (rc == LAKE_OK)
        atomic_fetch_add(&c->files_written, 1);
cleanup:
    if (!reuse)
        lake_pq_writer_free(pw);
    lake_output_free(out);
    return rc;
}

/* ---- plays ---- */

static int cmp_play(const void *pa, const void *pb)
{
    const play_ref *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->user_id != b->user_id)
        return a->user_id < b->user_id ? -1 : 1;
    if (a->session_id != b->session_id)
        return a->session_id < b->session_id ? -1 : 1;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    if (a->file_idx != b->file_idx)
        return a->file_idx < b->file_idx ? -1 : 1;
    return a->rec_idx < b->rec_idx ? -1 : a->rec_idx > b->rec_idx;
}

/* Merge sorted @p a (na) and @p b (nb) into @p out. */
static void merge_plays(const play_ref *a,
                        size_t na,
                        const play_ref *b,
                        size_t nb,
                        play_ref *out)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (cmp_play(&b[j], &a[i]) < 0)
            *out++ = b[j++];
        else
            *out++ = a[i++];
    }
    if (i < na)
        memcpy(out, a + i, (na - i) * sizeof(*a));
    if (j < nb)
        memcpy(out, b + j, (nb - j) * sizeof(*b));
}

/* Runs a bucket's plays may arrive in, and moves spent on putting plays
 * of equal ts in order (per play), before sort_plays() leaves them to
 * qsort. */
#define SORT_MAX_RUNS  256
#define SORT_MAX_MOVES 8

/* Sort @p n plays by cmp_play (a total order: the result is the same
 * whatever the algorithm). A bucket's plays arrive as a few runs in ts
 * order (a log file is in time order, and the plays of each file are
 * spilled in file order), so the runs are found, plays of equal ts put in
 * order inside them by insertion, and the runs merged: a few passes where
 * qsort took log2(n). @p tmp has room for @p n. */
static void sort_plays(play_ref *a, play_ref *tmp, size_t n)
{
    size_t bound[SORT_MAX_RUNS + 1]; /* run k is [bound[k], bound[k + 1]) */
    size_t k = 0, moves = 0;
    bound[0] = 0;
    for (size_t i = 1; i < n; i++) {
        if (a[i].ts < a[i - 1].ts) {
            if (++k == SORT_MAX_RUNS) {
                qsort(a, n, sizeof(*a), cmp_play);
                return;
            }
            bound[k] = i;
        } else if (cmp_play(&a[i - 1], &a[i]) > 0) {
            const play_ref x = a[i];
            size_t j = i;
            while (j > bound[k] && cmp_play(&a[j - 1], &x) > 0) {
                a[j] = a[j - 1];
                j--;
                moves++;
            }
            a[j] = x;
            if (moves > SORT_MAX_MOVES * n) {
                qsort(a, n, sizeof(*a), cmp_play);
                return;
            }
        }
    }
    bound[++k] = n;
    play_ref *src = a, *dst = tmp;
    while (k > 1) {
        size_t nk = 0;
        for (size_t r = 0; r < k; r += 2) {
            const size_t lo = bound[r], mid = bound[r + 1];
            const size_t hi = r + 2 <= k ? bound[r + 2] : mid;
            merge_plays(src + lo, mid - lo, src + mid, hi - mid, dst + lo);
            bound[nk++] = lo;
        }
        bound[nk] = n;
        k = nk;
        play_ref *const t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(*a));
}

static bool same_play(const play_ref *a, const play_ref *b)
{
    return a->ts == b->ts && a->user_id == b->user_id &&
           a->session_id == b->session_id && a->item == b->item;
}

/* "<table>/year=Y/month=M/part-NNNNN.parquet" into @p b. */
static lake_status ym_path(lake_buf *b,
                           const char *table,
                           int32_t year,
                           int32_t month,
                           uint32_t part)
{
    char num[16];
    b->len = 0;
    LAKE_TRY(lake_buf_printf(b, "%s/", table));
    snprintf(num, sizeof(num), "%d", (int)year);
    LAKE_TRY(lake_partition_name("year", (lake_strview){num, strlen(num)},
                                 true, b));
    LAKE_TRY(lake_buf_append_byte(b, '/'));
    snprintf(num, sizeof(num), "%d", (int)month);
    LAKE_TRY(lake_partition_name("month", (lake_strview){num, strlen(num)},
                                 true, b));
    return lake_buf_printf(b, "/part-%05u.parquet", (unsigned)part);
}

static lake_status load_bucket(etl_worker *w,
                               const etl_bucket *bk,
                               lake_error *err)
{
    etl_ctx *c = w->ctx;
    uint64_t total = 0;
    for (size_t i = 0; i < bk->n_ext; i++)
        total += ETL_VEC_AT(&c->all_ext, etl_extent, bk->first_ext + i).len;
    if (total / 8 > UINT32_MAX)
        return lake_error_set(err, LAKE_ETOOBIG,
                              "etl: play bucket too big: %llu bytes",
                              (unsigned long long)total);
    w->scratch.len = 0;
    if (lake_buf_reserve(&w->scratch, (size_t)total) != LAKE_OK)
        return lake_error_oom(err, "etl");
    for (size_t i = 0; i < bk->n_ext; i++) {
        const etl_extent *e =
            &ETL_VEC_AT(&c->all_ext, etl_extent, bk->first_ext + i);
        if (e->mem) {
            memcpy(w->scratch.data + w->scratch.len, e->mem, e->len);
            w->scratch.len += e->len;
            continue;
        }
        const int fd = c->workers[e->worker].sfd;
        size_t done = 0;
        while (done < e->len) {
            const ssize_t k =
                pread(fd, w->scratch.data + w->scratch.len, e->len - done,
                      (off_t)(e->off + (int64_t)done));
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                return lake_error_errno(err, k < 0 ? errno : EIO,
                                        "etl: read spill file");
            }
            done += (size_t)k;
            w->scratch.len += (size_t)k;
        }
    }
    w->refs.n = 0;
    size_t off = 0;
    while (off < w->scratch.len) {
        etl_play_hdr h;
        memcpy(&h, w->scratch.data + off, sizeof(h));
        play_ref *r = etl_vec_push(&w->refs);
        if (!r)
            return lake_error_oom(err, "etl");
        r->ts = h.ts;
        r->user_id = h.user_id;
        r->session_id = h.session_id;
        r->item = h.item;
        r->rec_idx = h.rec_idx;
        r->file_idx = h.file_idx;
        r->off = (uint32_t)(off / 8);
        off += h.size;
    }
    return LAKE_OK;
}

/* A string of a spilled play; NULL (valid 0) when absent or empty. */
static uint8_t play_str(const etl_ctx *c,
                        const char *rec,
                        const etl_play_hdr *h,
                        int i,
                        lake_strview *out)
{
    if (h->flags & (ETL_PLAY_DICT0 << i)) {
        const etl_worker *w = &c->workers[h->flags >> ETL_PLAY_WORKER_SHIFT];
        *out = etl_strdict_get(&w->dict, h->len[i]);
        return 1;
    }
    size_t off = sizeof(*h);
    for (int k = 0; k < i; k++)
        if (!(h->flags & (ETL_PLAY_DICT0 << k)))
            off += h->len[k];
    out->ptr = rec + off;
    out->len = h->len[i];
    return h->len[i] > 0;
}

static lake_status write_bucket(etl_worker *w, const etl_bucket *bk)
{
    etl_ctx *c = w->ctx;
    lake_error *err = &w->err;
    LAKE_TRY(load_bucket(w, bk, err));
    play_ref *refs = (play_ref *)w->refs.data;
    const size_t n_all = w->refs.n;
    if (etl_vec_reserve(&w->refs_tmp, n_all) != LAKE_OK)
        return lake_error_oom(err, "etl");
    sort_plays(refs, (play_ref *)w->refs_tmp.data, n_all);
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++)
        if (n == 0 || !same_play(&refs[n - 1], &refs[i]))
            refs[n++] = refs[i];
    size_t n_time = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || refs[i].ts != refs[i - 1].ts)
            n_time++;

    /* one block for every column of both files */
    const size_t per_play = 4 * sizeof(int64_t) + 5 * sizeof(lake_strview) +
                            4 * sizeof(uint8_t);
    const size_t per_time = sizeof(int64_t) + 4 * sizeof(int32_t);
    const size_t bytes = n * per_play + n_time * per_time + 64;
    w->cols.len = 0;
    if (lake_buf_reserve(&w->cols, bytes) != LAKE_OK)
        return lake_error_oom(err, "etl");
    char *p = w->cols.data;
#define TAKE(type, name, count)                                               \
    type *name = (type *)(void *)p;                                           \
    p += sizeof(type) * (count)
    TAKE(int64_t, spid, n);
    TAKE(int64_t, start, n);
    TAKE(int64_t, uid, n);
    TAKE(int64_t, sid, n);
    TAKE(lake_strview, level, n);
    TAKE(lake_strview, song_id, n);
    TAKE(lake_strview, artist_id, n);
    TAKE(lake_strview, location, n);
    TAKE(lake_strview, agent, n);
    TAKE(int64_t, t_start, n_time);
    TAKE(int32_t, t_hour, n_time);
    TAKE(int32_t, t_day, n_time);
    TAKE(int32_t, t_week, n_time);
    TAKE(int32_t, t_wday, n_time);
    TAKE(uint8_t, v_level, n);
    TAKE(uint8_t, v_match, n);
    TAKE(uint8_t, v_location, n);
    TAKE(uint8_t, v_agent, n);
#undef TAKE
    int64_t matched = 0;
    size_t k = 0;
    /* the time parts of the UTC day [day_lo, day_lo + 1 day) */
    int64_t day_lo = 0;
    lake_time_parts day_tp;
    memset(&day_tp, 0, sizeof(day_tp));
    for (size_t i = 0; i < n; i++) {
        const play_ref *r = &refs[i];
        const char *rec = w->scratch.data + (size_t)r->off * 8;
        etl_play_hdr h;
        memcpy(&h, rec, sizeof(h));
        spid[i] = lake_songplay_id(h.user_id, h.session_id, h.item, h.ts);
        start[i] = h.ts * 1000;
        uid[i] = h.user_id;
        sid[i] = h.session_id;
        v_level[i] = play_str(c, rec, &h, ETL_PLAY_STR_LEVEL, &level[i]);
        v_location[i] =
            play_str(c, rec, &h, ETL_PLAY_STR_LOCATION, &location[i]);
        v_agent[i] =
            play_str(c, rec, &h, ETL_PLAY_STR_USER_AGENT, &agent[i]);
        v_match[i] = 0;
        song_id[i] = (lake_strview){"", 0};
        artist_id[i] = (lake_strview){"", 0};
        if (h.song) {
            lake_song_row_ids(h.song, &song_id[i], &artist_id[i]);
            v_match[i] = 1;
            matched++;
        }
        if (i == 0 || r->ts != refs[i - 1].ts) {
            if (k == 0 || r->ts < day_lo ||
                r->ts - day_lo >= ETL_MS_PER_DAY) {
                lake_time_parts_of(r->ts, &day_tp);
                day_lo = etl_day_start_ms(r->ts);
            }
            t_start[k] = r->ts * 1000;
            t_hour[k] = (int32_t)((r->ts - day_lo) / 3600000);
            t_day[k] = day_tp.day;
            t_week[k] = day_tp.week;
            t_wday[k] = day_tp.weekday;
            k++;
        }
    }
    const lake_pq_column_data plays[] = {
        {spid, NULL},          {start, NULL},        {uid, NULL},
        {level, v_level},      {song_id, v_match},   {artist_id, v_match},
        {sid, NULL},           {location, v_location}, {agent, v_agent},
    };
    const lake_pq_column_data times[] = {
        {t_start, NULL}, {t_hour, NULL}, {t_day, NULL},
        {t_week, NULL},  {t_wday, NULL},
    };
    const uint64_t ym = bk->key / c->hash_slots;
    const uint32_t part = (uint32_t)(bk->key % c->hash_slots);
    const int32_t year = (int32_t)(ym / 12) + 1800;
    const int32_t month = (int32_t)(ym % 12) + 1;
    lake_status rc = ym_path(&w->path, "songplays", year, month, part);
    if (rc != LAKE_OK) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    rc = etl_write_parquet(c, w->path.data, songplays_cols,
                           LAKE_ARRAY_LEN(songplays_cols), plays,
                           (int64_t)n, &w->plays_writer, err);
    if (rc != LAKE_OK)
        goto cleanup;
    rc = ym_path(&w->path, "time", year, month, part);
    if (rc != LAKE_OK) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    rc = etl_write_parquet(c, w->path.data, time_cols,
                           LAKE_ARRAY_LEN(time_cols), times,
                           (int64_t)n_time, &w->time_writer, err);
    if (rc != LAKE_OK)
        goto cleanup;
    atomic_fetch_add(&c->rows_plays, (int64_t)n);
    atomic_fetch_add(&c->rows_time, (int64_t)n_time);
    atomic_fetch_add(&c->matched, matched);
cleanup:
    return rc;
}

/* ---- dimensions ---- */

static lake_status write_artists(etl_worker *w)
{
    etl_ctx *c = w->ctx;
    const size_t n = c->n_artists;
    const size_t bytes =
        n * (3 * sizeof(lake_strview) + 2 * sizeof(double) + 3) + 64;
    char *block = lake_malloc(c->alloc, bytes);
    if (!block)
        return lake_error_oom(&w->err, "etl");
    lake_strview *id = (lake_strview *)(void *)block;
    lake_strview *name = id + n;
    lake_strview *loc = name + n;
    double *lat = (double *)(void *)(loc + n);
    double *lon = lat + n;
    uint8_t *v_loc = (uint8_t *)(lon + n);
    uint8_t *v_lat = v_loc + n;
    uint8_t *v_lon = v_lat + n;
    for (size_t i = 0; i < n; i++) {
        const etl_song *s = c->artists[i];
        id[i] = s->artist_id;
        name[i] = s->artist_name;
        loc[i] = s->location;
        v_loc[i] = s->has_location;
        lat[i] = s->has_latitude ? s->latitude : 0;
        lon[i] = s->has_longitude ? s->longitude : 0;
        v_lat[i] = s->has_latitude;
        v_lon[i] = s->has_longitude;
    }
    const lake_pq_column_data cols[] = {
        {id, NULL}, {name, NULL}, {loc, v_loc}, {lat, v_lat}, {lon, v_lon},
    };
    const lake_status rc = etl_write_parquet(
        c, "artists/part-00000.parquet", artists_cols,
        LAKE_ARRAY_LEN(artists_cols), cols, (int64_t)n, NULL, &w->err);
    lake_free(c->alloc, block);
    return rc;
}

static lake_status write_users(etl_worker *w)
{
    etl_ctx *c = w->ctx;
    const size_t n = c->n_users;
    const size_t bytes =
        n * (sizeof(int64_t) + 4 * sizeof(lake_strview) + 4) + 64;
    char *block = lake_malloc(c->alloc, bytes);
    if (!block)
        return lake_error_oom(&w->err, "etl");
    int64_t *id = (int64_t *)(void *)block;
    lake_strview *str[4];
    str[0] = (lake_strview *)(void *)(id + n);
    for (int f = 1; f < 4; f++)
        str[f] = str[f - 1] + n;
    uint8_t *valid[4];
    valid[0] = (uint8_t *)(str[3] + n);
    for (int f = 1; f < 4; f++)
        valid[f] = valid[f - 1] + n;
    for (size_t i = 0; i < n; i++) {
        const etl_user *u = c->users[i];
        id[i] = u->user_id;
        size_t off = 0;
        for (int f = 0; f < 4; f++) {
            str[f][i] = (lake_strview){u->str ? u->str + off : "", u->len[f]};
            valid[f][i] = (u->present >> f) & 1;
            off += u->len[f];
        }
    }
    /* users_cols order: first_name, last_name, gender, level */
    const lake_pq_column_data cols[] = {
        {id, NULL},
        {str[0], valid[0]},
        {str[1], valid[1]},
        {str[2], valid[2]},
        {str[3], valid[3]},
    };
    const lake_status rc = etl_write_parquet(
        c, "users/part-00000.parquet", users_cols, LAKE_ARRAY_LEN(users_cols),
        cols, (int64_t)n, NULL, &w->err);
    lake_free(c->alloc, block);
    return rc;
}

static lake_status write_song_run(etl_worker *w, size_t run)
{
    etl_ctx *c = w->ctx;
    const size_t first = c->song_runs[run];
    const size_t n = c->song_runs[run + 1] - first;
    const etl_song *s0 = c->songs[first];
    lake_buf *b = &w->path;
    b->len = 0;
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)s0->year);
    lake_status rc = lake_buf_append_str(b, "songs/");
    if (rc == LAKE_OK)
        rc = lake_partition_name("year", (lake_strview){num, strlen(num)},
                                 s0->year != 0, b);
    if (rc == LAKE_OK)
        rc = lake_buf_append_byte(b, '/');
    if (rc == LAKE_OK)
        rc = lake_partition_name("artist_id", s0->artist_id, true, b);
    if (rc == LAKE_OK)
        rc = lake_buf_append(b, "/part-00000.parquet", 20); /* with NUL */
    if (rc != LAKE_OK)
        return lake_error_oom(&w->err, "etl");
    const size_t bytes = n * (2 * sizeof(lake_strview) + sizeof(double));
    char *block = lake_malloc(c->alloc, bytes);
    if (!block)
        return lake_error_oom(&w->err, "etl");
    lake_strview *id = (lake_strview *)(void *)block;
    lake_strview *title = id + n;
    double *dur = (double *)(void *)(title + n);
    for (size_t i = 0; i < n; i++) {
        const etl_song *s = c->songs[first + i];
        id[i] = s->song_id;
        title[i] = s->title;
        dur[i] = s->duration;
    }
    const lake_pq_column_data cols[] = {{id, NULL}, {title, NULL},
                                        {dur, NULL}};
    rc = etl_write_parquet(c, b->data, songs_cols, LAKE_ARRAY_LEN(songs_cols),
                           cols, (int64_t)n, &w->songs_writer, &w->err);
    lake_free(c->alloc, block);
    return rc;
}

/* One task per play bucket, artists, users, then groups of song runs. */
static int64_t write_task_count(const etl_ctx *c)
{
    const int64_t n_song_tasks =
        ((int64_t)c->n_song_runs + SONG_RUNS_PER_TASK - 1) /
        SONG_RUNS_PER_TASK;
    return (int64_t)c->buckets.n + 2 + n_song_tasks;
}

static lake_status write_task(etl_worker *w)
{
    etl_ctx *c = w->ctx;
    const int64_t nb = (int64_t)c->buckets.n;
    const int64_t n_tasks = write_task_count(c);
    for (;;) {
        if (atomic_load(&c->abort))
            return LAKE_OK;
        const int64_t t = atomic_fetch_add(&c->next_task, 1);
        if (t >= n_tasks)
            return LAKE_OK;
        if (t < nb) {
            LAKE_TRY(write_bucket(
                w, &ETL_VEC_AT(&c->buckets, etl_bucket, (size_t)t)));
        } else if (t == nb) {
            LAKE_TRY(write_artists(w));
        } else if (t == nb + 1) {
            LAKE_TRY(write_users(w));
        } else {
            const size_t first = (size_t)(t - nb - 2) * SONG_RUNS_PER_TASK;
            for (size_t r = first;
                 r < first + SONG_RUNS_PER_TASK && r < c->n_song_runs; r++)
                LAKE_TRY(write_song_run(w, r));
        }
    }
}

lake_status etl_tables_write(etl_ctx *c, lake_error *err)
{
    LAKE_TRY(etl_parallel(c, "write", write_task,
                          write_task_count(c), err));
    /* _SUCCESS last, when each table is complete */
    for (int t = 0; t < LAKE_ETL_N_TABLES; t++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "%s/_SUCCESS",
                 lake_etl_table_name((lake_etl_table)t));
        lake_output *out = NULL;
        lake_status rc = c->store->ops->create(c->store, rel, &out, err);
        if (rc == LAKE_OK)
            rc = lake_output_commit(out, err);
        lake_output_free(out);
        if (rc != LAKE_OK)
            return rc;
    }
    return LAKE_OK;
}
