/* SPDX-License-Identifier: Apache-2.0 */
/* etl_logs.c - the logs phase: read every event file in parallel; keep
 * each user's latest event in a per-worker map (bounded by the number of
 * users); spill NextSong plays in a compact binary form to per-worker
 * spill files, bucketed by (year, month of ts) and a hash of ts, so that
 * memory does not grow with the log volume. */
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

/* Flush a worker's buffered plays to its spill file beyond this (a
 * quarter of a bucket, within these bounds). */
#define SPILL_FLUSH_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define SPILL_FLUSH_MIN_BYTES ((size_t)64 * 1024)

/* ---- user map ---- */

void etl_user_map_init(etl_user_map *m, const lake_allocator *alloc)
{
    etl_vec_init(&m->users, alloc, sizeof(etl_user));
    m->slot = NULL;
    m->n_slots = 0;
    m->alloc = alloc;
}

void etl_user_map_free(etl_user_map *m)
{
    for (size_t i = 0; i < m->users.n; i++)
        lake_free(m->alloc, ETL_VEC_AT(&m->users, etl_user, i).str);
    etl_vec_free(&m->users);
    lake_free(m->alloc, m->slot);
    m->slot = NULL;
    m->n_slots = 0;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static lake_status user_map_grow(etl_user_map *m)
{
    const size_t n = m->n_slots ? m->n_slots * 2 : 64;
    uint32_t *slot = lake_calloc(m->alloc, n, sizeof(*slot));
    if (!slot)
        return LAKE_ENOMEM;
    for (size_t i = 0; i < m->users.n; i++) {
        const etl_user *u = &ETL_VEC_AT(&m->users, etl_user, i);
        size_t h = (size_t)mix64((uint64_t)u->user_id) & (n - 1);
        while (slot[h])
            h = (h + 1) & (n - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    lake_free(m->alloc, m->slot);
    m->slot = slot;
    m->n_slots = n;
    return LAKE_OK;
}

/* The entry of @p user_id; *created says whether it is new (zeroed). */
static lake_status user_map_get(etl_user_map *m,
                                int64_t user_id,
                                etl_user **out,
                                bool *created)
{
    if ((m->users.n + 1) * 2 > m->n_slots)
        LAKE_TRY(user_map_grow(m));
    size_t h = (size_t)mix64((uint64_t)user_id) & (m->n_slots - 1);
    while (m->slot[h]) {
        etl_user *u = &ETL_VEC_AT(&m->users, etl_user, m->slot[h] - 1);
        if (u->user_id == user_id) {
            *out = u;
            *created = false;
            return LAKE_OK;
        }
        h = (h + 1) & (m->n_slots - 1);
    }
    if (m->users.n >= UINT32_MAX - 1)
        return LAKE_ETOOBIG;
    etl_user *u = etl_vec_push(&m->users);
    if (!u)
        return LAKE_ENOMEM;
    memset(u, 0, sizeof(*u));
    u->user_id = user_id;
    m->slot[h] = (uint32_t)m->users.n;
    *out = u;
    *created = true;
    return LAKE_OK;
}

/* Does event a come after event b for the users table? */
static bool user_later(const etl_user *a, const etl_user *b)
{
    if (a->ts != b->ts)
        return a->ts > b->ts;
    if (a->session_id != b->session_id)
        return a->session_id > b->session_id;
    if (a->item != b->item)
        return a->item > b->item;
    if (a->file_idx != b->file_idx)
        return a->file_idx > b->file_idx;
    return a->rec_idx > b->rec_idx;
}

/* Keep @p e as its user's latest event if it is; *out is the user's
 * entry either way. */
static lake_status user_update(etl_worker *w,
                               const lake_event_rec *e,
                               uint32_t file_idx,
                               uint64_t rec_idx,
                               etl_user **out)
{
    etl_user *u;
    bool created;
    LAKE_TRY(user_map_get(&w->users, e->user_id, &u, &created));
    *out = u;
    etl_user cand;
    cand.ts = e->ts;
    cand.session_id = e->session_id;
    cand.item = e->item_in_session;
    cand.file_idx = file_idx;
    cand.rec_idx = rec_idx;
    if (!created && !user_later(&cand, u))
        return LAKE_OK;
    const lake_text *f[4] = {&e->first_name, &e->last_name, &e->gender,
                             &e->level};
    size_t need = 0;
    for (int i = 0; i < 4; i++)
        if (f[i]->present)
            need += f[i]->v.len;
    if (need > UINT32_MAX)
        return LAKE_ETOOBIG;
    if (need > u->cap) {
        char *p = lake_realloc(w->users.alloc, u->str, u->cap, need);
        if (!p)
            return LAKE_ENOMEM;
        u->str = p;
        u->cap = (uint32_t)need;
    }
    u->ts = cand.ts;
    u->session_id = cand.session_id;
    u->item = cand.item;
    u->file_idx = file_idx;
    u->rec_idx = rec_idx;
    u->present = 0;
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        const size_t len = f[i]->present ? f[i]->v.len : 0;
        u->len[i] = (uint32_t)len;
        if (len) {
            memcpy(u->str + off, f[i]->v.ptr, len);
            u->present |= 1u << i;
        }
        off += len;
    }
    return LAKE_OK;
}

/* Fold @p from into @p into; entries of @p from are left empty. */
static lake_status user_map_merge(etl_user_map *into, etl_user_map *from)
{
    for (size_t i = 0; i < from->users.n; i++) {
        etl_user *src = &ETL_VEC_AT(&from->users, etl_user, i);
        etl_user *dst;
        bool created;
        LAKE_TRY(user_map_get(into, src->user_id, &dst, &created));
        if (created || user_later(src, dst)) {
            const etl_user tmp = *dst;
            *dst = *src;
            *src = tmp; /* the loser's memory goes with @p from */
            if (created)
                src->str = NULL;
        }
    }
    return LAKE_OK;
}

/* ---- spill ---- */

/* (year - 1800) * 12 + month - 1 of @p ts_ms, UTC. */
static uint64_t year_month_of(int64_t ts_ms)
{
    lake_time_parts tp;
    lake_time_parts_of(ts_ms, &tp);
    return (uint64_t)(tp.year - 1800) * 12 + (uint64_t)(tp.month - 1);
}

/* The bucket of a worker's next play: (year, month) of @p ts_ms times the
 * hash slots (a power of two) plus a hash of ts. The month is a function
 * of the UTC day, and a log file's events come day by day, so it is
 * worked out again only when the day changes (it cost ~180
 * instructions). */
static uint64_t bucket_key_of_play(etl_worker *w, int64_t ts_ms)
{
    const uint32_t hash_slots = w->ctx->hash_slots;
    if (ts_ms < w->day_lo_ms || ts_ms >= w->day_hi_ms) {
        w->day_lo_ms = etl_day_start_ms(ts_ms);
        w->day_hi_ms = w->day_lo_ms + ETL_MS_PER_DAY;
        w->day_ym = year_month_of(ts_ms);
    }
    const uint64_t h = mix64((uint64_t)ts_ms) & (hash_slots - 1);
    return w->day_ym * hash_slots + h;
}

_Static_assert(sizeof(((etl_user *)0)->dict_hint) ==
                   ETL_PLAY_N_DICT * sizeof(uint32_t),
               "a hint per spilled dictionary string");

/* The spill dictionary id of @p s, string @p i (< ETL_PLAY_N_DICT) of a
 * play of user @p u: the user's hint when it still names these bytes,
 * else etl_strdict_put(), which the hint then remembers. */
static lake_status play_dict_id(etl_worker *w,
                                etl_user *u,
                                int i,
                                lake_strview s,
                                uint32_t *id)
{
    const uint32_t hint = u->dict_hint[i];
    if (hint != 0 && hint <= w->dict.views.n) {
        const lake_strview v = etl_strdict_get(&w->dict, hint - 1);
        if (v.len == s.len && !memcmp(v.ptr, s.ptr, s.len)) {
            *id = hint - 1;
            return LAKE_OK;
        }
    }
    LAKE_TRY(etl_strdict_put(&w->dict, s, id));
    u->dict_hint[i] = *id + 1;
    return LAKE_OK;
}

/* Index of bucket @p key in the worker's bucket list, added if new. */
static lake_status bucket_of(etl_worker *w, uint64_t key, uint32_t *out)
{
    if ((w->bufs.n + 1) * 2 > w->n_buf_slots) {
        const size_t n = w->n_buf_slots ? w->n_buf_slots * 2 : 64;
        uint32_t *slot = lake_calloc(w->bufs.alloc, n, sizeof(*slot));
        if (!slot)
            return LAKE_ENOMEM;
        for (size_t i = 0; i < w->bufs.n; i++) {
            size_t h = (size_t)mix64(
                           ETL_VEC_AT(&w->bufs, etl_bucket_buf, i).key) &
                       (n - 1);
            while (slot[h])
                h = (h + 1) & (n - 1);
            slot[h] = (uint32_t)(i + 1);
        }
        lake_free(w->bufs.alloc, w->buf_slot);
        w->buf_slot = slot;
        w->n_buf_slots = n;
    }
    size_t h = (size_t)mix64(key) & (w->n_buf_slots - 1);
    while (w->buf_slot[h]) {
        const uint32_t i = w->buf_slot[h] - 1;
        if (ETL_VEC_AT(&w->bufs, etl_bucket_buf, i).key == key) {
            *out = i;
            return LAKE_OK;
        }
        h = (h + 1) & (w->n_buf_slots - 1);
    }
    etl_bucket_buf *b = etl_vec_push(&w->bufs);
    if (!b)
        return LAKE_ENOMEM;
    b->key = key;
    b->bytes = 0;
    b->pos = 0;
    w->buf_slot[h] = (uint32_t)w->bufs.n;
    *out = (uint32_t)(w->bufs.n - 1);
    return LAKE_OK;
}

static lake_status write_all(int fd,
                             const char *p,
                             size_t n,
                             int64_t off,
                             lake_error *err)
{
    size_t done = 0;
    while (done < n) {
        const ssize_t k = pwrite(fd, p + done, n - done,
                                 (off_t)(off + (int64_t)done));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return lake_error_errno(err, errno, "etl: write spill file");
        }
        done += (size_t)k;
    }
    return LAKE_OK;
}

/* Group the buffered records by bucket (a counting sort into spill_out),
 * append them to the spill file with one write and note each bucket's
 * extent. Both buffers keep their memory: no page faults after warm-up. */
lake_status etl_spill_flush(etl_worker *w, lake_error *err)
{
    etl_ctx *c = w->ctx;
    if (w->spill_in.len == 0)
        return LAKE_OK;
    etl_bucket_buf *bufs = (etl_bucket_buf *)w->bufs.data;
    const char *in = w->spill_in.data;
    const size_t n_in = w->spill_in.len;
    uint64_t total = 0; /* bufs[].bytes were counted by spill_play */
    for (size_t i = 0; i < w->bufs.n; i++) {
        bufs[i].pos = total;
        total += bufs[i].bytes;
    }
    w->spill_out.len = 0;
    if (lake_buf_reserve(&w->spill_out, (size_t)total) != LAKE_OK)
        return lake_error_oom(err, "etl");
    char *out = w->spill_out.data;
    for (size_t off = 0; off < n_in;) {
        uint32_t pre[2];
        memcpy(pre, in + off, sizeof(pre));
        memcpy(out + bufs[pre[0]].pos, in + off + sizeof(pre), pre[1]);
        bufs[pre[0]].pos += pre[1];
        off += sizeof(pre) + pre[1];
    }
    if (etl_vec_reserve(&w->sext, w->sext.n + w->bufs.n) != LAKE_OK ||
        etl_vec_reserve(&w->chunks, w->chunks.n + 1) != LAKE_OK)
        return lake_error_oom(err, "etl");
    /* Keep the grouped bytes in memory while the budget allows. */
    const int64_t used = atomic_fetch_add(&c->spill_mem_used,
                                          (int64_t)w->spill_out.cap);
    const bool in_memory =
        used + (int64_t)w->spill_out.cap <= c->spill_mem_budget;
    if (!in_memory) {
        atomic_fetch_sub(&c->spill_mem_used, (int64_t)w->spill_out.cap);
        if (w->sfd < 0) {
            char name[64];
            snprintf(name, sizeof(name), "plays-%d.tmp", w->id);
            LAKE_TRY(c->store->ops->scratch(c->store, name, &w->sfd, err));
        }
    }
    for (size_t i = 0; i < w->bufs.n; i++) {
        if (bufs[i].bytes == 0)
            continue;
        etl_extent *e = etl_vec_push(&w->sext); /* reserved above */
        e->key = bufs[i].key;
        e->seq = 0;
        const uint64_t start = bufs[i].pos - bufs[i].bytes;
        e->off = in_memory ? 0 : w->soff + (int64_t)start;
        e->mem = in_memory ? out + start : NULL;
        e->len = bufs[i].bytes;
        e->worker = w->id;
    }
    if (in_memory) {
        char **slot = etl_vec_push(&w->chunks); /* reserved above */
        *slot = lake_buf_take(&w->spill_out, NULL, NULL);
    } else {
        LAKE_TRY(write_all(w->sfd, out, (size_t)total, w->soff, err));
        w->soff += (int64_t)total;
    }
    w->spill_in.len = 0;
    for (size_t i = 0; i < w->bufs.n; i++)
        bufs[i].bytes = 0;
    return LAKE_OK;
}

static lake_status spill_play(etl_worker *w,
                              const lake_event_rec *e,
                              etl_user *u,
                              uint32_t file_idx,
                              uint64_t rec_idx)
{
    uint32_t bucket;
    LAKE_TRY(bucket_of(w, bucket_key_of_play(w, e->ts), &bucket));
    const lake_text *t[ETL_PLAY_N_STR] = {&e->level, &e->location,
                                          &e->user_agent};
    const lake_strview none = {"", 0};
    const lake_strview song = e->song.present ? e->song.v : none;
    const lake_strview artist = e->artist.present ? e->artist.v : none;
    if (song.len > UINT32_MAX / 8 || artist.len > UINT32_MAX / 8)
        return LAKE_ETOOBIG;
    etl_play_hdr h;
    memset(&h, 0, sizeof(h));
    h.ts = e->ts;
    h.user_id = e->user_id;
    h.session_id = e->session_id;
    h.item = e->item_in_session;
    /* SPEC "Song match": a play without a length matches nothing */
    h.song = e->has_length ? lake_song_index_find(w->ctx->index, song,
                                                  artist, e->length)
                           : NULL;
    h.rec_idx = rec_idx;
    h.file_idx = file_idx;
    h.flags = (uint32_t)w->id << ETL_PLAY_WORKER_SHIFT;
    size_t total = sizeof(h);
    for (int i = 0; i < ETL_PLAY_N_STR; i++) {
        const size_t len = t[i]->present ? t[i]->v.len : 0;
        if (len > UINT32_MAX / 8)
            return LAKE_ETOOBIG;
        if (i < ETL_PLAY_N_DICT && len > 0) {
            uint32_t id;
            const lake_status rc = play_dict_id(w, u, i, t[i]->v, &id);
            if (rc == LAKE_OK) {
                h.len[i] = id;
                h.flags |= ETL_PLAY_DICT0 << i;
                continue;
            }
            if (rc != LAKE_ETOOBIG)
                return rc;
        }
        h.len[i] = (uint32_t)len;
        total += len;
    }
    const size_t padded = (total + 7) & ~(size_t)7;
    if (padded > UINT32_MAX)
        return LAKE_ETOOBIG;
    h.size = (uint32_t)padded;
    const uint32_t pre[2] = {bucket, h.size};
    lake_buf *b = &w->spill_in;
    LAKE_TRY(lake_buf_reserve(b, sizeof(pre) + padded));
    char *p = b->data + b->len;
    memcpy(p, pre, sizeof(pre));
    p += sizeof(pre);
    memcpy(p, &h, sizeof(h));
    size_t off = sizeof(h);
    for (int i = 0; i < ETL_PLAY_N_STR; i++) {
        if (h.flags & (ETL_PLAY_DICT0 << i))
            continue;
        if (h.len[i])
            memcpy(p + off, t[i]->v.ptr, h.len[i]);
        off += h.len[i];
    }
    memset(p + off, 0, padded - off);
    b->len += sizeof(pre) + padded;
    ETL_VEC_AT(&w->bufs, etl_bucket_buf, bucket).bytes += padded;
    return LAKE_OK;
}

static lake_status on_event(etl_worker *w,
                            const void *r,
                            uint32_t log_idx,
                            uint64_t rec_idx,
                            const char *path)
{
    const etl_ctx *c = w->ctx;
    const lake_event_rec *rec = r;
    lake_status rc = LAKE_OK;
    etl_user *u = NULL;
    if (rec->has_user)
        rc = user_update(w, rec, log_idx, rec_idx, &u);
    if (rc == LAKE_OK && rec->has_user && rec->page.present &&
        rec->page.v.len == 8 && !memcmp(rec->page.v.ptr, "NextSong", 8)) {
        rc = spill_play(w, rec, u, log_idx, rec_idx);
        if (rc == LAKE_OK && w->spill_in.len >= c->spill_flush_bytes)
            LAKE_TRY(etl_spill_flush(w, &w->err));
    }
    if (rc != LAKE_OK)
        return lake_error_set(&w->err, rc, "etl: keep event of %s: %s", path,
                              rc == LAKE_ENOMEM ? "out of memory"
                                                : "value too big");
    return LAKE_OK;
}

static lake_status read_one(etl_worker *w, uint32_t log_idx)
{
    etl_ctx *c = w->ctx;
    lake_event_rec rec;
    return etl_read_records(w, LAKE_REC_EVENT, c->opts->log_root,
                            c->log_source, &c->log_files.files[log_idx],
                            log_idx, (uint32_t)c->song_files.n_files + log_idx,
                            &rec, on_event);
}

static lake_status logs_task(etl_worker *w)
{
    etl_ctx *c = w->ctx;
    for (;;) {
        if (atomic_load(&c->abort))
            return LAKE_OK;
        const int64_t i = atomic_fetch_add(&c->next_task, 1);
        if (i >= (int64_t)c->log_files.n_files)
            break;
        LAKE_TRY(read_one(w, c->log_order[i]));
    }
    return etl_spill_flush(w, &w->err);
}

typedef struct sized_file {
    int64_t size;
    uint32_t idx;
} sized_file;

static int cmp_file_size(const void *pa, const void *pb)
{
    const sized_file *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The order workers take log files in: biggest first, so that they
 * finish together. Results never depend on it (they are keyed by file
 * index). */
static lake_status order_logs(etl_ctx *c, lake_error *err)
{
    const size_t n = c->log_files.n_files;
    sized_file *tmp = lake_malloc(c->alloc, (n ? n : 1) * sizeof(*tmp));
    c->log_order = lake_malloc(c->alloc, (n ? n : 1) * sizeof(uint32_t));
    if (!tmp || !c->log_order) {
        lake_free(c->alloc, tmp);
        return lake_error_oom(err, "etl");
    }
    for (size_t i = 0; i < n; i++) {
        tmp[i].size = c->log_files.files[i].size_bytes;
        tmp[i].idx = (uint32_t)i;
    }
    if (n > 1)
        qsort(tmp, n, sizeof(*tmp), cmp_file_size);
    for (size_t i = 0; i < n; i++)
        c->log_order[i] = tmp[i].idx;
    lake_free(c->alloc, tmp);
    return LAKE_OK;
}

static int cmp_user(const void *pa, const void *pb)
{
    const etl_user *a = *(etl_user *const *)pa, *b = *(etl_user *const *)pb;
    return a->user_id < b->user_id ? -1 : a->user_id > b->user_id;
}

static int cmp_ext(const void *pa, const void *pb)
{
    const etl_extent *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->worker != b->worker)
        return a->worker < b->worker ? -1 : 1;
    return a->off < b->off ? -1 : a->off > b->off;
}

static int cmp_bucket_size(const void *pa, const void *pb)
{
    const etl_bucket *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

lake_status etl_logs_read(etl_ctx *c, lake_error *err)
{
    /* H slots per (year, month): enough that one bucket holds about
     * bucket_bytes of spilled plays, and, so that the write phase has
     * work for several threads, up to 8 slots while buckets keep at least
     * 4 MiB. Depends on the input only, never on the thread count. */
    const size_t target = c->opts->bucket_bytes ? c->opts->bucket_bytes
                                                : 48u * 1024 * 1024;
    double est = 0;
    for (size_t i = 0; i < c->log_files.n_files; i++) {
        const lake_file_entry *fe = &c->log_files.files[i];
        const size_t n = strlen(fe->rel_path);
        const bool gz = n > 3 && !strcmp(fe->rel_path + n - 3, ".gz");
        est += (double)fe->size_bytes * (gz ? 8.0 : 1.0) * 0.35;
    }
    uint32_t h = 1;
    while (h < (1u << 16) && (double)h * (double)target < est)
        h *= 2;
    while (h < 8 && (double)h * 2 * (4.0 * 1024 * 1024) <= est)
        h *= 2;
    c->hash_slots = h;
    c->spill_flush_bytes = LAKE_MIN(LAKE_MAX(target / 4, SPILL_FLUSH_MIN_BYTES),
                                    SPILL_FLUSH_MAX_BYTES);
    c->spill_mem_budget = c->opts->spill_memory_bytes
                              ? (int64_t)c->opts->spill_memory_bytes
                              : (int64_t)256 * 1024 * 1024;

    LAKE_TRY(order_logs(c, err));
    LAKE_TRY(etl_parallel(c, "logs", logs_task,
                          (int64_t)c->log_files.n_files, err));

    /* users: fold the workers' maps, then sort by user_id */
    for (int t = 0; t < c->n_threads; t++)
        if (user_map_merge(&c->user_all, &c->workers[t].users) != LAKE_OK)
            return lake_error_oom(err, "etl");
    const size_t nu = c->user_all.users.n;
    c->users = lake_malloc(c->alloc, (nu ? nu : 1) * sizeof(*c->users));
    if (!c->users)
        return lake_error_oom(err, "etl");
    for (size_t i = 0; i < nu; i++)
        c->users[i] = &ETL_VEC_AT(&c->user_all.users, etl_user, i);
    c->n_users = nu;
    qsort(c->users, nu, sizeof(*c->users), cmp_user);

    /* buckets: the spill extents of all workers grouped by key */
    size_t total = 0;
    for (int t = 0; t < c->n_threads; t++)
        total += c->workers[t].sext.n;
    if (etl_vec_reserve(&c->all_ext, total) != LAKE_OK)
        return lake_error_oom(err, "etl");
    for (int t = 0; t < c->n_threads; t++) {
        const etl_vec *v = &c->workers[t].sext;
        if (v->n)
            memcpy(c->all_ext.data + c->all_ext.n * sizeof(etl_extent),
                   v->data, v->n * sizeof(etl_extent));
        c->all_ext.n += v->n;
    }
    if (c->all_ext.n > 1)
        qsort(c->all_ext.data, c->all_ext.n, sizeof(etl_extent), cmp_ext);
    for (size_t i = 0; i < c->all_ext.n; i++) {
        const etl_extent *e = &ETL_VEC_AT(&c->all_ext, etl_extent, i);
        etl_bucket *last =
            c->buckets.n ? &ETL_VEC_AT(&c->buckets, etl_bucket,
                                       c->buckets.n - 1)
                         : NULL;
        if (last && last->key == e->key) {
            last->n_ext++;
            continue;
        }
        etl_bucket *b = etl_vec_push(&c->buckets);
        if (!b)
            return lake_error_oom(err, "etl");
        b->key = e->key;
        b->first_ext = i;
        b->n_ext = 1;
        b->bytes = 0;
    }
    for (size_t i = 0; i < c->buckets.n; i++) {
        etl_bucket *b = &ETL_VEC_AT(&c->buckets, etl_bucket, i);
        for (size_t k = 0; k < b->n_ext; k++)
            b->bytes +=
                ETL_VEC_AT(&c->all_ext, etl_extent, b->first_ext + k).len;
    }
    /* Biggest first, so that threads finish together (the order of the
     * work never shows in the output: files are named by bucket key). */
    if (c->buckets.n > 1)
        qsort(c->buckets.data, c->buckets.n, sizeof(etl_bucket),
              cmp_bucket_size);
    return LAKE_OK;
}
