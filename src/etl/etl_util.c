/* SPDX-License-Identifier: Apache-2.0 */
/* etl_util.c - the engine's plumbing: arena, vectors, paths and the
 * worker threads that run each phase while the caller's thread reports
 * progress. */
#include "fmacros.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "etl/etl_internal.h"
#include "lake_internal.h"

#define ARENA_BLOCK_BYTES (1024 * 1024)

struct etl_arena_block {
    etl_arena_block *next;
    size_t cap;
    /* data follows, 16-aligned */
};

#define BLOCK_HDR ((sizeof(etl_arena_block) + 15) & ~(size_t)15)

void etl_arena_init(etl_arena *a, const lake_allocator *alloc)
{
    a->alloc = alloc;
    a->head = NULL;
    a->used = 0;
    a->cap = 0;
}

void etl_arena_free(etl_arena *a)
{
    etl_arena_block *b = a->head;
    while (b) {
        etl_arena_block *next = b->next;
        lake_free(a->alloc, b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
    a->cap = 0;
}

char *etl_arena_dup(etl_arena *a, const char *p, size_t n)
{
    const size_t need = (n + 7) & ~(size_t)7;
    if (need < n)
        return NULL;
    if (!a->head || a->cap - a->used < need) {
        size_t cap = ARENA_BLOCK_BYTES;
        if (need > cap)
            cap = need;
        etl_arena_block *b = lake_malloc(a->alloc, BLOCK_HDR + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->cap = cap;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    char *dst = (char *)a->head + BLOCK_HDR + a->used;
    if (n)
        memcpy(dst, p, n);
    a->used += need;
    return dst;
}

void etl_strdict_init(etl_strdict *d,
                      const lake_allocator *alloc,
                      size_t max_bytes)
{
    etl_arena_init(&d->arena, alloc);
    etl_vec_init(&d->views, alloc, sizeof(lake_strview));
    d->slot = NULL;
    d->n_slots = 0;
    d->bytes = 0;
    d->max_bytes = max_bytes;
}

void etl_strdict_free(etl_strdict *d)
{
    lake_free(d->views.alloc, d->slot);
    d->slot = NULL;
    d->n_slots = 0;
    etl_vec_free(&d->views);
    etl_arena_free(&d->arena);
}

static uint64_t hash_str(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    if (n)
        memcpy(&k, p, n);
    h = (h ^ k) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

lake_status etl_strdict_put(etl_strdict *d, lake_strview s, uint32_t *id)
{
    if ((d->views.n + 1) * 2 > d->n_slots) {
        if (d->views.n >= UINT32_MAX / 4)
            return LAKE_ETOOBIG;
        const size_t n = d->n_slots ? d->n_slots * 2 : 256;
        uint32_t *slot = lake_calloc(d->views.alloc, n, sizeof(*slot));
        if (!slot)
            return LAKE_ENOMEM;
        const lake_strview *v = (const lake_strview *)(void *)d->views.data;
        for (size_t i = 0; i < d->views.n; i++) {
            size_t h = (size_t)hash_str(v[i].ptr, v[i].len) & (n - 1);
            while (slot[h])
                h = (h + 1) & (n - 1);
            slot[h] = (uint32_t)(i + 1);
        }
        lake_free(d->views.alloc, d->slot);
        d->slot = slot;
        d->n_slots = n;
    }
    size_t h = (size_t)hash_str(s.ptr, s.len) & (d->n_slots - 1);
    const lake_strview *v = (const lake_strview *)(void *)d->views.data;
    while (d->slot[h]) {
        const lake_strview *e = &v[d->slot[h] - 1];
        if (e->len == s.len && !memcmp(e->ptr, s.ptr, s.len)) {
            *id = d->slot[h] - 1;
            return LAKE_OK;
        }
        h = (h + 1) & (d->n_slots - 1);
    }
    if (d->bytes + s.len > d->max_bytes)
        return LAKE_ETOOBIG;
    lake_strview *e = etl_vec_push(&d->views);
    if (!e)
        return LAKE_ENOMEM;
    e->ptr = etl_arena_dup(&d->arena, s.ptr, s.len);
    if (!e->ptr) {
        d->views.n--;
        return LAKE_ENOMEM;
    }
    e->len = s.len;
    d->bytes += s.len;
    d->slot[h] = (uint32_t)d->views.n;
    *id = (uint32_t)(d->views.n - 1);
    return LAKE_OK;
}

void etl_vec_init(etl_vec *v, const lake_allocator *alloc, size_t item)
{
    v->data = NULL;
    v->n = 0;
    v->cap = 0;
    v->item = item;
    v->alloc = alloc;
}

void etl_vec_free(etl_vec *v)
{
    lake_free(v->alloc, v->data);
    v->data = NULL;
    v->n = 0;
    v->cap = 0;
}

lake_status etl_vec_reserve(etl_vec *v, size_t n)
{
    if (n <= v->cap)
        return LAKE_OK;
    size_t cap = v->cap ? v->cap : 16;
    while (cap < n)
        cap *= 2;
    if (cap > SIZE_MAX / v->item)
        return LAKE_ENOMEM;
    char *p = lake_realloc(v->alloc, v->data, v->cap * v->item,
                           cap * v->item);
    if (!p)
        return LAKE_ENOMEM;
    v->data = p;
    v->cap = cap;
    return LAKE_OK;
}

void *etl_vec_push(etl_vec *v)
{
    if (v->n == v->cap && etl_vec_reserve(v, v->n + 1) != LAKE_OK)
        return NULL;
    return v->data + v->item * v->n++;
}

lake_status etl_join_path(lake_buf *out, const char *root, const char *rel)
{
    out->len = 0;
    size_t rlen = strlen(root);
    while (rlen > 1 && root[rlen - 1] == '/')
        rlen--;
    LAKE_TRY(lake_buf_append(out, root, rlen));
    if (rlen == 0 || root[rlen - 1] != '/')
        LAKE_TRY(lake_buf_append_byte(out, '/'));
    LAKE_TRY(lake_buf_append(out, rel, strlen(rel) + 1));
    out->len--; /* the NUL is kept but not counted */
    return LAKE_OK;
}

lake_status etl_wrap_error(lake_error *err,
                           lake_status rc,
                           const char *path,
                           uint64_t record)
{
    if (!err)
        return rc;
    char inner[sizeof(err->message)];
    memcpy(inner, err->message, sizeof(inner));
    return lake_error_set(err, rc, "etl: %s record %llu: %s", path,
                          (unsigned long long)record + 1, inner);
}

const char *etl_source_name(etl_worker *w,
                            const char *source_root,
                            const char *read_root,
                            const char *path,
                            const char *rel)
{
    if (!source_root || source_root == read_root ||
        !strcmp(source_root, read_root))
        return path;
    if (etl_join_path(&w->source, source_root, rel) != LAKE_OK)
        return path; /* out of memory: the local name still locates it */
    return w->source.data;
}

/* ---- threads ---- */

typedef struct thread_arg {
    etl_worker *w;
    etl_task_fn fn;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *ta = p;
    etl_worker *w = ta->w;
    etl_ctx *c = w->ctx;
    lake_error_clear(&w->err);
    w->rc = ta->fn(w);
    if (w->rc != LAKE_OK)
        atomic_store(&c->abort, 1);
    pthread_mutex_lock(&c->mu);
    c->running--;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void report_progress(etl_ctx *c)
{
    const lake_etl_opts *o = c->opts;
    if (!o->progress)
        return;
    lake_etl_progress p;
    p.phase = c->phase;
    p.files_done = atomic_load(&c->files_done);
    p.files_total = (int64_t)(c->song_files.n_files + c->log_files.n_files);
    p.bytes_read = atomic_load(&c->bytes_read);
    p.bytes_total = c->song_files.total_bytes + c->log_files.total_bytes;
    p.elapsed_s = (double)(lake_now_ns() - c->t0_ns) / 1e9;
    o->progress(o->progress_ctx, &p);
}

void etl_progress(etl_ctx *c, const char *phase)
{
    c->phase = phase;
    report_progress(c);
}

lake_status etl_parallel(etl_ctx *c,
                         const char *phase,
                         etl_task_fn fn,
                         int64_t n_tasks,
                         lake_error *err)
{
    enum { MAX_THREADS = 256 };
    pthread_t tids[MAX_THREADS];
    thread_arg args[MAX_THREADS];
    int n = c->n_threads < MAX_THREADS ? c->n_threads : MAX_THREADS;
    if (n_tasks < n)
        n = n_tasks > 0 ? (int)n_tasks : 0;
    c->phase = phase;
    atomic_store(&c->next_task, 0);
    int started = 0;
    int create_err = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < n; i++) {
        args[i].w = &c->workers[i];
        args[i].fn = fn;
        c->workers[i].rc = LAKE_OK;
        c->running++;
        const int e = pthread_create(&tids[i], NULL, thread_main, &args[i]);
        if (e != 0) {
            c->running--;
            create_err = e;
            atomic_store(&c->abort, 1);
            break;
        }
        started++;
    }
    const int interval_ms =
        c->opts->progress_interval_ms > 0 ? c->opts->progress_interval_ms
                                          : 100;
    while (c->running > 0) {
        if (!c->opts->progress) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)interval_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&c->mu);
            report_progress(c);
            pthread_mutex_lock(&c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    report_progress(c);
    for (int i = 0; i < started; i++) {
        if (c->workers[i].rc != LAKE_OK) {
            if (err)
                *err = c->workers[i].err;
            return c->workers[i].rc;
        }
    }
    if (create_err)
        return lake_error_set(err, LAKE_ENOMEM,
                              "etl: start worker thread: %s",
                              strerror(create_err));
    return LAKE_OK;
}

lake_status etl_read_records(etl_worker *w,
                             lake_rec_kind kind,
                             const char *read_root,
                             const char *source_root,
                             const lake_file_entry *fe,
                             uint32_t file_idx,
                             uint32_t qkey,
                             void *rec,
                             etl_record_fn on_record)
{
    etl_ctx *c = w->ctx;
    if (etl_join_path(&w->path, read_root, fe->rel_path) != LAKE_OK)
        return lake_error_oom(&w->err, "etl");
    const char *path = w->path.data;
    w->qkey = qkey;
    LAKE_TRY(lake_read_file(path, 0, &w->data, &w->err));
    lake_record_reader_reset(w->reader, kind, w->data.data, w->data.len);
    lake_reject rej;
    for (uint64_t i = 0;; i++) {
        lake_next next;
        const lake_status rrc =
            lake_record_reader_next(w->reader, rec, &rej, &next, &w->err);
        if (rrc != LAKE_OK)
            return etl_wrap_error(&w->err, rrc, path, i);
        if (next == LAKE_NEXT_END)
            break;
        if (next == LAKE_NEXT_REJECT) {
            LAKE_TRY(etl_quarantine_add(
                w, etl_source_name(w, source_root, read_root, path,
                                   fe->rel_path),
                &rej, &w->err));
            continue;
        }
        LAKE_TRY(on_record(w, rec, file_idx, i, path));
    }
    LAKE_TRY(etl_quarantine_flush(w, qkey, &w->err));
    atomic_fetch_add(&c->files_done, 1);
    atomic_fetch_add(&c->bytes_read, fe->size_bytes);
    return LAKE_OK;
}
