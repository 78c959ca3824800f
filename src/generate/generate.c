/* SPDX-License-Identifier: Apache-2.0 */
/* generate.c - lake_generate(): writes the song files, then the event
 * logs day by day (simulate users in parallel, merge by time, format and
 * compress fixed-size chunks in parallel, write them in order), then the
 * manifest. Output never depends on the thread count. */
#include "fmacros.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lake_common.h"
#include "generate.h"
#include "lake_internal.h"

#define CHUNK_EVENTS 4096
#define MAX_THREADS  64
#define MS_PER_DAY   86400000LL
#define GZIP_LEVEL   1

typedef struct counts {
    int64_t events, plays, songplays, matched, duplicates, faults;
    int64_t bytes, files;
    int64_t reasons[LAKE_GEN_N_REASONS];
} counts;

typedef struct gen gen;

typedef struct worker {
    gen *g;
    int index;
    lake_status rc;
    lake_error err;
    lake_gen_events ev;  /* this worker's users' events of a day */
    lake_gen_event *tmp; /* sort scratch */
    size_t tmp_cap;
    lake_buf *text; /* a formatted chunk (or song file) */
    lake_buf *z;    /* its compressed form */
    lake_buf text_buf, z_buf;
    uint32_t crc; /* CRC-32 of text (gzip) */
    z_stream zs;
    bool zs_ready;
    counts cnt;
} worker;

struct gen {
    const lake_generate_opts *o;
    const lake_allocator *alloc;
    const char *out_dir;
    int threads;
    bool gzip;
    int32_t n_days;
    lake_gen_world world;
    lake_gen_catalog cat;
    lake_gen_user *users;
    _Atomic uint8_t *seen; /* user wrote a valid event with a user */
    lake_buf frags;
    lake_gen_events carry; /* events past the current day */
    lake_gen_events dups_prev, dups_next;
    lake_gen_events file; /* the events of one log file, in order */
    worker *w;
    struct day_writer *dw; /* the log file being written */
    int32_t day;
    /* song phase */
    uint32_t *song_list; /* written songs, then fault files */
    size_t n_song_list;
    size_t n_song_clean;
    int *song_faults; /* fault of fault file k */
    counts total;
};

/* ---- zlib through the lake allocator ---- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return lake_malloc((const lake_allocator *)opaque, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    lake_free((const lake_allocator *)opaque, p);
}

static lake_status worker_zinit(worker *w)
{
    if (w->zs_ready)
        return LAKE_OK;
    memset(&w->zs, 0, sizeof(w->zs));
    w->zs.zalloc = z_alloc;
    w->zs.zfree = z_free;
    w->zs.opaque = (voidpf)(uintptr_t)w->g->alloc;
    const int zrc = deflateInit2(&w->zs, GZIP_LEVEL, Z_DEFLATED, -15, 8,
                                 Z_DEFAULT_STRATEGY);
    if (zrc == Z_MEM_ERROR)
        return lake_error_oom(&w->err, "generate");
    if (zrc != Z_OK)
        return lake_error_set(&w->err, LAKE_EINVAL,
                              "generate: zlib init failed (%d)", zrc);
    w->zs_ready = true;
    return LAKE_OK;
}

/* Raw-deflate @p n bytes into w->z (appended); Z_SYNC_FLUSH leaves the
 * stream open for the next chunk, Z_FINISH closes it. */
static lake_status deflate_into(worker *w, const char *in, size_t n, int flush)
{
    LAKE_TRY(worker_zinit(w));
    if (deflateReset(&w->zs) != Z_OK)
        return lake_error_set(&w->err, LAKE_EINVAL, "generate: zlib reset");
    w->zs.next_in = (Bytef *)(uintptr_t)in;
    w->zs.avail_in = (uInt)n;
    for (;;) {
        const size_t room = deflateBound(&w->zs, (uLong)n) + 64;
        if (lake_buf_reserve(w->z, room) != LAKE_OK)
            return lake_error_oom(&w->err, "generate");
        w->zs.next_out = (Bytef *)(w->z->data + w->z->len);
        w->zs.avail_out = (uInt)(w->z->cap - w->z->len);
        const uInt before = w->zs.avail_out;
        const int zrc = deflate(&w->zs, flush);
        w->z->len += before - w->zs.avail_out;
        if (zrc == Z_STREAM_ERROR)
            return lake_error_set(&w->err, LAKE_EINVAL,
                                  "generate: zlib deflate failed");
        if (w->zs.avail_in == 0 &&
            (flush == Z_FINISH ? zrc == Z_STREAM_END : w->zs.avail_out > 0))
            return LAKE_OK;
    }
}

static const unsigned char gzip_magic[10] = {0x1f, 0x8b, 8, 0, 0,
                                             0,    0,    0, 0, 3};

static void put_le32(unsigned char *p, uint32_t v)
{
    lake_store_u32le(p, v);
}

/* ---- threads ---- */

typedef void (*job_fn)(worker *w);

typedef struct job {
    job_fn fn;
    worker *w;
} job;

static void *job_main(void *arg)
{
    job *j = arg;
    j->fn(j->w);
    return NULL;
}

/* Run @p fn on every worker, in threads when there are several. */
static lake_status run_all(gen *g, job_fn fn, lake_error *err)
{
    pthread_t tid[MAX_THREADS];
    bool started[MAX_THREADS];
    job jobs[MAX_THREADS];
    for (int i = 1; i < g->threads; i++) {
        jobs[i].fn = fn;
        jobs[i].w = &g->w[i];
        started[i] = pthread_create(&tid[i], NULL, job_main, &jobs[i]) == 0;
    }
    fn(&g->w[0]);
    for (int i = 1; i < g->threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            fn(&g->w[i]); /* no thread: do it here; output is the same */
    }
    for (int i = 0; i < g->threads; i++) {
        if (g->w[i].rc != LAKE_OK) {
            if (err)
                *err = g->w[i].err;
            return g->w[i].rc;
        }
    }
    return LAKE_OK;
}

/* ---- output files ---- */

static lake_status write_file(gen *g,
                              const char *path,
                              const void *bytes,
                              size_t n,
                              lake_error *err)
{
    lake_output_opts oo = {0};
    oo.alloc = g->alloc;
    oo.no_fsync = 1;
    lake_output *out = NULL;
    lake_status rc = lake_output_open_file(path, &oo, &out, err);
    if (rc == LAKE_OK)
        rc = lake_output_write(out, bytes, n, err);
    if (rc == LAKE_OK)
        rc = lake_output_commit(out, err);
    lake_output_free(out);
    return rc;
}

/* mkdir -p of the folder part of @p path; only missing folders cost a
 * call, walking up from the deepest one. errno on failure. */
static int make_parents(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    const size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return errno;
    const int e = make_parents(dir);
    if (e)
        return e;
    return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : errno;
}

/* Write a small file straight to its final name: a song file costs
 * open, write and close (lake_output's temporary, rename and folder walk
 * would triple the system calls for thousands of tiny files). */
static lake_status write_small_file(const char *path,
                                    const void *bytes,
                                    size_t n,
                                    lake_error *err)
{
    const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    int fd = open(path, flags, 0666);
    if (fd < 0 && errno == ENOENT) {
        const int e = make_parents(path);
        if (e)
            return lake_error_errno(err, e, "generate: mkdir for %s", path);
        fd = open(path, flags, 0666);
    }
    if (fd < 0)
        return lake_error_errno(err, errno, "generate: create %s", path);
    const char *p = bytes;
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            const int e = errno;
            close(fd);
            return lake_error_errno(err, e, "generate: write %s", path);
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0)
        return lake_error_errno(err, errno, "generate: close %s", path);
    return LAKE_OK;
}

/* ---- song files ---- */

static lake_status song_path(gen *g, uint32_t s, lake_buf *path)
{
    char tr[19];
    lake_gen_track_id(g->cat.songs[s].id, tr);
    path->len = 0;
    return lake_buf_printf(path, "%s/song_data/%c/%c/%c/%s.json%s", g->out_dir,
                           tr[2], tr[3], tr[4], tr, g->gzip ? ".gz" : "");
}

static lake_status one_song_file(worker *w, size_t k, lake_buf *path)
{
    gen *g = w->g;
    const uint32_t s = g->song_list[k];
    const int fault = k < g->n_song_clean ? LAKE_GEN_SF_CLEAN
                                          : g->song_faults[k - g->n_song_clean];
    w->text->len = 0;
    if (song_path(g, s, path) != LAKE_OK ||
        lake_gen_format_song(w->text, &g->cat, s, fault, s + 1) != LAKE_OK)
        return lake_error_oom(&w->err, "generate");
    const char *bytes = w->text->data;
    size_t n = w->text->len;
    if (g->gzip) {
        w->z->len = 0;
        if (lake_buf_append(w->z, gzip_magic, sizeof(gzip_magic)) != LAKE_OK)
            return lake_error_oom(&w->err, "generate");
        LAKE_TRY(deflate_into(w, w->text->data, w->text->len, Z_FINISH));
        unsigned char tr[8];
        put_le32(tr, (uint32_t)crc32(0L, (const Bytef *)w->text->data,
                                     (uInt)w->text->len));
        put_le32(tr + 4, (uint32_t)w->text->len);
        if (lake_buf_append(w->z, tr, 8) != LAKE_OK)
            return lake_error_oom(&w->err, "generate");
        bytes = w->z->data;
        n = w->z->len;
    }
    LAKE_TRY(write_small_file(path->data, bytes, n, &w->err));
    w->cnt.files++;
    w->cnt.bytes += (int64_t)n;
    const int reason = lake_gen_song_fault_reason(fault);
    if (reason >= 0) {
        w->cnt.faults++;
        w->cnt.reasons[reason]++;
    }
    return LAKE_OK;
}

static void song_job(worker *w)
{
    gen *g = w->g;
    lake_buf path;
    lake_buf_init(&path, g->alloc, 0);
    w->rc = LAKE_OK;
    for (size_t k = (size_t)w->index; k < g->n_song_list;
         k += (size_t)g->threads) {
        w->rc = one_song_file(w, k, &path);
        if (w->rc != LAKE_OK)
            break;
    }
    lake_buf_reset(&path);
}

/* Create song_data/X/Y/Z for every song file up front, each folder once,
 * so that writing a song file is open, write, close. */
static lake_status make_song_folders(gen *g, lake_error *err)
{
    enum { N1 = 26, N2 = 26 * 26, N3 = 26 * 26 * 26 };
    lake_status rc = LAKE_OK;
    uint8_t *made = lake_calloc(g->alloc, 1 + N1 + N2 + N3, 1);
    lake_buf path;
    lake_buf_init(&path, g->alloc, 0);
    if (!made)
        return lake_error_oom(err, "generate");
    for (size_t k = 0; rc == LAKE_OK && k < g->n_song_list; k++) {
        char tr[19];
        lake_gen_track_id(g->cat.songs[g->song_list[k]].id, tr);
        const int x = tr[2] - 'A', y = tr[3] - 'A', z = tr[4] - 'A';
        const size_t slot[4] = {0, 1 + (size_t)x, 1 + N1 + (size_t)(x * 26 + y),
                                1 + N1 + N2 + (size_t)((x * 26 + y) * 26 + z)};
        for (int depth = 0; rc == LAKE_OK && depth < 4; depth++) {
            if (made[slot[depth]])
                continue;
            path.len = 0;
            rc = lake_buf_printf(&path, "%s/song_data", g->out_dir);
            for (int i = 0; rc == LAKE_OK && i < depth; i++)
                rc = lake_buf_printf(&path, "/%c", tr[2 + i]);
            if (rc != LAKE_OK) {
                rc = lake_error_oom(err, "generate");
                break;
            }
            const int e = depth == 0 ? make_parents(path.data) : 0;
            if (e || (mkdir(path.data, 0777) != 0 && errno != EEXIST))
                rc = lake_error_errno(err, e ? e : errno, "generate: mkdir %s",
                                      path.data);
            made[slot[depth]] = 1;
        }
    }
    lake_buf_reset(&path);
    lake_free(g->alloc, made);
    return rc;
}

static lake_status write_songs(gen *g, lake_error *err)
{
    const lake_gen_catalog *c = &g->cat;
    const double rate = g->o->dirty_rate;
    size_t n_faults = 0;
    if (rate > 0) {
        n_faults = (size_t)(rate * c->n_written + 0.5);
        if (n_faults < 1)
            n_faults = 1;
        if (n_faults > c->n_spare / 2)
            n_faults = c->n_spare / 2;
    }
    g->song_list = lake_calloc(g->alloc, (size_t)c->n_written + n_faults + 1,
                               sizeof(*g->song_list));
    g->song_faults =
        lake_calloc(g->alloc, n_faults + 1, sizeof(*g->song_faults));
    if (!g->song_list || !g->song_faults)
        return lake_error_oom(err, "generate");
    for (uint32_t s = 0; s < c->n_songs; s++)
        if (c->songs[s].written)
            g->song_list[g->n_song_list++] = s;
    g->n_song_clean = g->n_song_list;
    for (size_t k = 0; k < n_faults; k++) {
        lake_gen_rng r;
        lake_gen_rng_seed(&r, g->world.seed, k, 0, 7);
        /* The first fault file is always the pretty-printed pair. */
        g->song_faults[k] =
            k == 0 ? LAKE_GEN_SF_PRETTY_PAIR
                   : 1 + (int)lake_gen_below(&r, LAKE_GEN_N_SONG_FAULTS - 1);
        g->song_list[g->n_song_list++] = c->spare + 2 * (uint32_t)k;
    }
    LAKE_TRY(make_song_folders(g, err));
    LAKE_TRY(run_all(g, song_job, err));
    for (int i = 0; i < g->threads; i++) {
        counts *wc = &g->w[i].cnt;
        g->total.files += wc->files;
        g->total.bytes += wc->bytes;
        g->total.faults += wc->faults;
        for (int r = 0; r < LAKE_GEN_N_REASONS; r++)
            g->total.reasons[r] += wc->reasons[r];
        memset(wc, 0, sizeof(*wc));
    }
    return LAKE_OK;
}

/* ---- one day of events ---- */

static void sim_job(worker *w)
{
    gen *g = w->g;
    const uint32_t n = g->world.n_users;
    const uint32_t u0 = (uint32_t)((uint64_t)n * w->index / g->threads);
    const uint32_t u1 = (uint32_t)((uint64_t)n * (w->index + 1) / g->threads);
    w->rc = LAKE_OK;
    w->ev.n = 0;
    for (uint32_t u = u0; u < u1; u++) {
        if (lake_gen_user_day(&g->world, u, g->day, &g->users[u], &w->ev) !=
            LAKE_OK) {
            w->rc = lake_error_oom(&w->err, "generate");
            return;
        }
    }
    if (w->tmp_cap < w->ev.n) {
        lake_gen_event *t =
            lake_realloc(g->alloc, w->tmp, w->tmp_cap * sizeof(*t),
                         w->ev.cap * sizeof(*t));
        if (!t) {
            w->rc = lake_error_oom(&w->err, "generate");
            return;
        }
        w->tmp = t;
        w->tmp_cap = w->ev.cap;
    }
    lake_gen_sort(w->ev.v, w->tmp, w->ev.n);
}

static lake_status reserve_events(lake_gen_events *e, size_t n)
{
    if (n <= e->cap)
        return LAKE_OK;
    size_t cap = e->cap ? e->cap : 256;
    while (cap < n)
        cap *= 2;
    lake_gen_event *v =
        lake_realloc(e->alloc, e->v, e->cap * sizeof(*v), cap * sizeof(*v));
    if (!v)
        return LAKE_ENOMEM;
    e->v = v;
    e->cap = cap;
    return LAKE_OK;
}

/* Merge the carried events and the workers' sorted runs into g->file
 * after what it holds. */
static lake_status merge_day(gen *g, lake_error *err)
{
    const lake_gen_events *runs[MAX_THREADS + 1];
    size_t pos[MAX_THREADS + 1];
    int n_runs = 0;
    size_t total = g->file.n;
    runs[n_runs++] = &g->carry;
    total += g->carry.n;
    for (int i = 0; i < g->threads; i++) {
        runs[n_runs++] = &g->w[i].ev;
        total += g->w[i].ev.n;
    }
    if (reserve_events(&g->file, total) != LAKE_OK)
        return lake_error_oom(err, "generate");
    memset(pos, 0, sizeof(pos));
    lake_gen_event *out = g->file.v;
    size_t k = g->file.n;
    for (;;) {
        int best = -1;
        for (int r = 0; r < n_runs; r++) {
            if (pos[r] == runs[r]->n)
                continue;
            if (best < 0 || lake_gen_event_cmp(&runs[r]->v[pos[r]],
                                               &runs[best]->v[pos[best]]) < 0)
                best = r;
        }
        if (best < 0)
            break;
        out[k++] = runs[best]->v[pos[best]++];
    }
    g->file.n = k;
    return LAKE_OK;
}

static void count_event(gen *g, counts *c, const lake_gen_event *ev)
{
    c->events++;
    const int reason = lake_gen_fault_reason(ev->fault);
    if (reason >= 0) {
        c->faults++;
        c->reasons[reason]++;
        return;
    }
    if (ev->logged_in)
        atomic_store_explicit(&g->seen[ev->user], 1, memory_order_relaxed);
    if (ev->page != LAKE_GEN_NEXTSONG)
        return;
    c->plays++;
    if (ev->fault == LAKE_GEN_DUP_COPY) {
        c->duplicates++;
        return;
    }
    c->songplays++;
    const lake_gen_song *song = &g->cat.songs[ev->song];
    if (song->written && song->ascii)
        c->matched++;
}

/* The output of one log file, shared by the workers: chunks are
 * formatted in parallel and appended strictly in chunk order, each by the
 * worker that formatted it, so the write system calls of one chunk overlap
 * the formatting of the next ones. */
typedef struct day_writer {
    pthread_mutex_t mu;
    pthread_cond_t turn;
    size_t claimed; /* chunks handed out */
    size_t next;    /* the chunk whose turn it is */
    size_t n_chunks;
    bool failed; /* stop: rc and err say why */
    lake_status rc;
    lake_error err;
    lake_output *out;
    uint32_t crc; /* gzip: CRC-32 and size of the text so far */
    uint64_t raw;
} day_writer;

/* Format chunk @p c into w->text (and w->z when compressing). */
static lake_status format_chunk(worker *w, size_t c)
{
    gen *g = w->g;
    const size_t i0 = c * CHUNK_EVENTS;
    const size_t i1 = LAKE_MIN(i0 + CHUNK_EVENTS, g->file.n);
    w->text->len = 0;
    for (size_t i = i0; i < i1; i++) {
        if (i > 0 && lake_buf_append_byte(w->text, '\n') != LAKE_OK)
            return lake_error_oom(&w->err, "generate");
        if (lake_gen_format_event(w->text, &g->world, g->users, g->frags.data,
                                  &g->file.v[i]) != LAKE_OK)
            return lake_error_oom(&w->err, "generate");
        count_event(g, &w->cnt, &g->file.v[i]);
    }
    if (g->gzip) {
        w->z->len = 0;
        w->crc = (uint32_t)crc32(0L, (const Bytef *)w->text->data,
                                 (uInt)w->text->len);
        return deflate_into(w, w->text->data, w->text->len, Z_SYNC_FLUSH);
    }
    return LAKE_OK;
}

/* Workers claim chunks in increasing order, format them, and wait for
 * their turn to write each: whichever workers run, every chunk before a
 * claimed one is claimed too, so nobody waits for a worker that never
 * started. The first failure stops everyone. */
static void format_job(worker *w)
{
    gen *g = w->g;
    day_writer *dw = g->dw;
    w->rc = LAKE_OK;
    for (;;) {
        pthread_mutex_lock(&dw->mu);
        const size_t c = dw->claimed++;
        const bool done = c >= dw->n_chunks || dw->failed;
        pthread_mutex_unlock(&dw->mu);
        if (done)
            return;
        const lake_status frc = format_chunk(w, c);
        pthread_mutex_lock(&dw->mu);
        while (dw->next != c && !dw->failed)
            pthread_cond_wait(&dw->turn, &dw->mu);
        if (!dw->failed && frc != LAKE_OK) {
            dw->failed = true;
            dw->rc = frc;
            dw->err = w->err;
        } else if (!dw->failed) {
            const lake_buf *b = g->gzip ? w->z : w->text;
            lake_status rc =
                lake_output_write(dw->out, b->data, b->len, &dw->err);
            if (rc == LAKE_OK && g->gzip) {
                dw->crc = (uint32_t)crc32_combine(dw->crc, w->crc,
                                                  (z_off_t)w->text->len);
                dw->raw += w->text->len;
            }
            if (rc != LAKE_OK) {
                dw->failed = true;
                dw->rc = rc;
            }
        }
        dw->next = c + 1;
        const bool stop = dw->failed;
        pthread_cond_broadcast(&dw->turn);
        pthread_mutex_unlock(&dw->mu);
        if (stop)
            return;
    }
}

static lake_status write_day(gen *g, lake_error *err)
{
    int64_t y;
    unsigned m, d;
    lake_gen_civil_from_days(g->world.start_ms / MS_PER_DAY + g->day, &y, &m,
                             &d);
    char path[4096];
    const int pn = snprintf(path, sizeof(path),
                            "%s/log_data/%04lld/%02u/%04lld-%02u-%02u-events."
                            "json%s",
                            g->out_dir, (long long)y, m, (long long)y, m, d,
                            g->gzip ? ".gz" : "");
    if (pn < 0 || (size_t)pn >= sizeof(path))
        return lake_error_set(err, LAKE_EINVAL, "generate: path too long");
    lake_output_opts oo = {0};
    oo.alloc = g->alloc;
    oo.no_fsync = 1;
    lake_output *out = NULL;
    lake_status rc = lake_output_open_file(path, &oo, &out, err);
    if (rc == LAKE_OK && g->gzip)
        rc = lake_output_write(out, gzip_magic, sizeof(gzip_magic), err);
    day_writer dw;
    memset(&dw, 0, sizeof(dw));
    dw.out = out;
    dw.n_chunks = (g->file.n + CHUNK_EVENTS - 1) / CHUNK_EVENTS;
    if (rc == LAKE_OK) {
        if (pthread_mutex_init(&dw.mu, NULL) != 0)
            rc = lake_error_oom(err, "generate");
        else if (pthread_cond_init(&dw.turn, NULL) != 0) {
            pthread_mutex_destroy(&dw.mu);
            rc = lake_error_oom(err, "generate");
        }
    }
    if (rc == LAKE_OK) {
        g->dw = &dw;
        const lake_status wrc = run_all(g, format_job, err);
        g->dw = NULL;
        pthread_cond_destroy(&dw.turn);
        pthread_mutex_destroy(&dw.mu);
        rc = dw.failed ? dw.rc : wrc;
        if (dw.failed && err)
            *err = dw.err;
    }
    const uint32_t crc = dw.crc;
    const uint64_t raw = dw.raw;
    if (rc == LAKE_OK && g->gzip) {
        unsigned char tail[10] = {0x03, 0x00};
        put_le32(tail + 2, crc);
        put_le32(tail + 6, (uint32_t)raw);
        rc = lake_output_write(out, tail, sizeof(tail), err);
    }
    if (rc == LAKE_OK) {
        g->total.bytes += lake_output_size(out);
        rc = lake_output_commit(out, err);
    }
    lake_output_free(out);
    g->total.files++;
    return rc;
}

static lake_status run_day(gen *g, lake_error *err)
{
    LAKE_TRY(run_all(g, sim_job, err));
    /* The file: yesterday's duplicate copies, then today's events. */
    g->file.n = 0;
    if (reserve_events(&g->file, g->dups_prev.n) != LAKE_OK)
        return lake_error_oom(err, "generate");
    if (g->dups_prev.n)
        memcpy(g->file.v, g->dups_prev.v, g->dups_prev.n * sizeof(*g->file.v));
    g->file.n = g->dups_prev.n;
    const size_t first = g->file.n;
    LAKE_TRY(merge_day(g, err));
    const int64_t day_end =
        g->world.start_ms + (int64_t)(g->day + 1) * MS_PER_DAY;
    size_t lo = first, hi = g->file.n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (g->file.v[mid].ts < day_end)
            lo = mid + 1;
        else
            hi = mid;
    }
    g->carry.n = 0;
    const bool last = g->day + 1 == g->n_days;
    if (!last) {
        if (reserve_events(&g->carry, g->file.n - lo) != LAKE_OK)
            return lake_error_oom(err, "generate");
        if (g->file.n > lo)
            memcpy(g->carry.v, g->file.v + lo,
                   (g->file.n - lo) * sizeof(*g->carry.v));
        g->carry.n = g->file.n - lo;
    }
    g->file.n = lo;
    g->dups_next.n = 0;
    for (size_t i = first; i < lo; i++) {
        if (g->file.v[i].fault != LAKE_GEN_DUP)
            continue;
        lake_gen_event copy = g->file.v[i];
        copy.fault = LAKE_GEN_DUP_COPY;
        if (lake_gen_events_push(&g->dups_next, &copy) != LAKE_OK)
            return lake_error_oom(err, "generate");
    }
    if (last) {
        /* No next file: the copies close this one. */
        if (reserve_events(&g->file, g->file.n + g->dups_next.n) != LAKE_OK)
            return lake_error_oom(err, "generate");
        if (g->dups_next.n)
            memcpy(g->file.v + g->file.n, g->dups_next.v,
                   g->dups_next.n * sizeof(*g->file.v));
        g->file.n += g->dups_next.n;
        g->dups_next.n = 0;
    }
    const lake_gen_events t = g->dups_prev;
    g->dups_prev = g->dups_next;
    g->dups_next = t;
    return write_day(g, err);
}

/* ---- manifest ---- */

static lake_status write_manifest(gen *g,
                                  const lake_generate_report *r,
                                  lake_error *err)
{
    const lake_generate_opts *o = g->o;
    lake_buf b;
    lake_buf_init(&b, g->alloc, 0);
    int64_t y;
    unsigned m, d;
    lake_gen_civil_from_days(g->world.start_ms / MS_PER_DAY, &y, &m, &d);
    char artists[48] = ""; /* only with --artists: default bytes unchanged */
    if (o->n_artists)
        snprintf(artists, sizeof(artists), "  \"artists\": %lld,\n",
                 (long long)o->n_artists);
    lake_status rc = lake_buf_printf(
        &b,
        "{\n  \"generator\": \"sparkify generate %s\",\n"
        "  \"seed\": %llu,\n  \"users\": %u,\n  \"days\": %d,\n"
        "  \"start\": \"%04lld-%02u-%02u\",\n  \"catalog_songs\": %u,\n"
        "%s"
        "  \"gzip\": %s,\n  \"dirty_rate\": %.17g,\n"
        "  \"song_files\": %lld,\n  \"log_files\": %lld,\n"
        "  \"bytes\": %lld,\n  \"songs\": %lld,\n  \"active_users\": %lld,\n"
        "  \"events\": %lld,\n  \"sessions\": %lld,\n"
        "  \"nextsong_events\": %lld,\n  \"duplicate_events\": %lld,\n"
        "  \"expected_songplays\": %lld,\n"
        "  \"expected_matched_songplays\": %lld,\n"
        "  \"quarantined\": %lld,\n  \"quarantine\": {",
        lake_version(), (unsigned long long)g->world.seed, g->world.n_users,
        g->n_days, (long long)y, m, d, g->cat.n_played, artists,
        g->gzip ? "true" : "false", o->dirty_rate > 0 ? o->dirty_rate : 0.0,
        (long long)r->song_files, (long long)r->log_files, (long long)r->bytes,
        (long long)r->songs, (long long)r->users, (long long)r->events,
        (long long)r->sessions, (long long)r->plays, (long long)r->duplicates,
        (long long)r->songplays, (long long)r->matched_plays,
        (long long)r->faults);
    bool first = true;
    for (int i = 0; rc == LAKE_OK && i < LAKE_GEN_N_REASONS; i++) {
        if (!r->reason_counts[i])
            continue;
        rc = lake_buf_printf(&b, "%s\n    \"%s\": %lld", first ? "" : ",",
                             lake_generate_reason(i),
                             (long long)r->reason_counts[i]);
        first = false;
    }
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(&b, first ? "}\n}\n" : "\n  }\n}\n");
    if (rc != LAKE_OK) {
        lake_buf_reset(&b);
        return lake_error_oom(err, "generate");
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/_manifest.json", g->out_dir);
    rc = write_file(g, path, b.data, b.len, err);
    lake_buf_reset(&b);
    return rc;
}

/* ---- entry ---- */

static lake_status parse_date(const char *s, int64_t *out_ms)
{
    unsigned y = 0, m = 0, d = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return LAKE_EINVAL;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return LAKE_EINVAL;
        const unsigned v = (unsigned)(s[i] - '0');
        if (i < 4)
            y = y * 10 + v;
        else if (i < 7)
            m = m * 10 + v;
        else
            d = d * 10 + v;
    }
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return LAKE_EINVAL;
    const int64_t days = lake_gen_days_from_civil(y, m, d);
    int64_t yy;
    unsigned mm, dd;
    lake_gen_civil_from_days(days, &yy, &mm, &dd);
    if (mm != m || dd != d) /* 29 February of a common year */
        return LAKE_EINVAL;
    *out_ms = days * MS_PER_DAY;
    return LAKE_OK;
}

static bool exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static void gen_free(gen *g)
{
    if (g->w) {
        for (int i = 0; i < g->threads; i++) {
            worker *w = &g->w[i];
            lake_gen_events_free(&w->ev);
            lake_free(g->alloc, w->tmp);
            lake_buf_reset(&w->text_buf);
            lake_buf_reset(&w->z_buf);
            if (w->zs_ready)
                deflateEnd(&w->zs);
        }
        lake_free(g->alloc, g->w);
    }
    lake_gen_catalog_free(&g->cat);
    lake_free(g->alloc, g->users);
    lake_free(g->alloc, (void *)(uintptr_t)g->seen);
    lake_buf_reset(&g->frags);
    lake_gen_events_free(&g->carry);
    lake_gen_events_free(&g->dups_prev);
    lake_gen_events_free(&g->dups_next);
    lake_gen_events_free(&g->file);
    lake_free(g->alloc, g->song_list);
    lake_free(g->alloc, g->song_faults);
}

lake_status lake_generate(const lake_generate_opts *o,
                          lake_generate_report *report,
                          lake_error *err)
{
    const int64_t t0 = lake_now_ns();
    lake_error_clear(err);
    if (!o || !o->out_dir || !o->out_dir[0])
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: no output folder given");
    if (strlen(o->out_dir) > 3000)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: output folder name too long");
    const int64_t n_users = o->n_users ? o->n_users : 100;
    const int32_t n_days = o->n_days ? o->n_days : 30;
    const int64_t n_cat = o->catalog_songs ? o->catalog_songs : 10000;
    if (n_users < 1 || n_users > 10000000)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: users must be 1 to 10000000");
    if (n_days < 1 || n_days > 36600)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: days must be 1 to 36600");
    if (n_cat < 1 || n_cat > 10000000)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: catalog must be 1 to 10000000 songs");
    if (o->song_files < 0 || o->song_files > 10000000)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: song files must be 0 to 10000000");
    /* More artists than songs would be artists without a song. */
    if (o->n_artists < 0 || o->n_artists > n_cat + o->song_files)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: artists must be 0 to %lld (the "
                              "catalog plus the song files)",
                              (long long)(n_cat + o->song_files));
    if (!(o->dirty_rate >= 0 && o->dirty_rate <= 1))
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: dirty rate must be in [0, 1]");
    if (o->match_rate != o->match_rate || o->match_rate > 1)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: match rate must be at most 1");
    if (o->threads < 0)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: threads must not be negative");
    int64_t start_ms = 1541030400000LL; /* 2018-11-01 */
    if (o->start_date && parse_date(o->start_date, &start_ms) != LAKE_OK)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: bad start date '%s' (want "
                              "YYYY-MM-DD)",
                              o->start_date);
    if (exists(o->out_dir, "song_data") || exists(o->out_dir, "log_data"))
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: %s already holds song_data or "
                              "log_data; choose a new folder",
                              o->out_dir);

    gen g;
    memset(&g, 0, sizeof(g));
    g.o = o;
    g.alloc = lake_alloc_or_default(o->alloc);
    g.out_dir = o->out_dir;
    g.threads = o->threads ? o->threads : lake_cpu_count();
    if (g.threads > MAX_THREADS)
        g.threads = MAX_THREADS;
    g.gzip = o->gzip != 0;
    g.n_days = n_days;
    g.world.seed = o->seed ? o->seed : 42;
    g.world.n_users = (uint32_t)n_users;
    g.world.start_ms = start_ms;
    g.world.ms_offset = (int32_t)(lake_gen_mix64(g.world.seed) % 1000);
    g.world.dirty_rate = o->dirty_rate;
    g.world.catalog = &g.cat;
    lake_buf_init(&g.frags, g.alloc, UINT32_MAX); /* offsets are 32-bit */
    g.carry.alloc = g.dups_prev.alloc = g.dups_next.alloc = g.file.alloc =
        g.alloc;

    lake_status rc = LAKE_OK;
    const double match = o->match_rate == 0  ? 0.05
                         : o->match_rate < 0 ? 0
                                             : o->match_rate;
    uint32_t n_spare = 0;
    if (o->dirty_rate > 0) {
        const double want = o->dirty_rate * (double)n_cat * match + 2;
        n_spare = 2 * (uint32_t)LAKE_MIN(want, 1000000.0);
    }
    rc = lake_gen_catalog_build(&g.cat, g.alloc, g.world.seed, (uint32_t)n_cat,
                                match, o->song_files, n_spare,
                                (uint32_t)o->n_artists, err);
    if (rc != LAKE_OK)
        goto done;
    g.w = lake_calloc(g.alloc, (size_t)g.threads, sizeof(*g.w));
    g.users = lake_calloc(g.alloc, (size_t)n_users, sizeof(*g.users));
    g.seen = lake_calloc(g.alloc, (size_t)n_users, sizeof(*g.seen));
    if (!g.w || !g.users || !g.seen) {
        rc = lake_error_oom(err, "generate");
        goto done;
    }
    for (int i = 0; i < g.threads; i++) {
        g.w[i].g = &g;
        g.w[i].index = i;
        g.w[i].ev.alloc = g.alloc;
        lake_buf_init(&g.w[i].text_buf, g.alloc, 0);
        lake_buf_init(&g.w[i].z_buf, g.alloc, 0);
        g.w[i].text = &g.w[i].text_buf;
        g.w[i].z = &g.w[i].z_buf;
    }
    for (uint32_t u = 0; u < g.world.n_users; u++) {
        if (lake_gen_user_init(&g.world, u, &g.users[u], &g.frags) != LAKE_OK) {
            rc = lake_error_oom(err, "generate");
            goto done;
        }
    }
    rc = write_songs(&g, err);
    if (rc != LAKE_OK)
        goto done;
    lake_generate_report r;
    memset(&r, 0, sizeof(r));
    r.song_files = g.total.files;
    {
        /* Clean files hold one song each; the pretty pair two. */
        int64_t pretty = 0;
        for (size_t k = g.n_song_clean; k < g.n_song_list; k++)
            pretty +=
                g.song_faults[k - g.n_song_clean] == LAKE_GEN_SF_PRETTY_PAIR;
        r.songs = (int64_t)g.n_song_clean + 2 * pretty;
    }
    for (g.day = 0; g.day < n_days; g.day++) {
        rc = run_day(&g, err);
        if (rc != LAKE_OK)
            goto done;
        if (o->progress)
            o->progress(o->progress_ctx, g.day + 1, n_days, g.total.bytes);
    }
    for (int i = 0; i < g.threads; i++) {
        const counts *wc = &g.w[i].cnt;
        g.total.events += wc->events;
        g.total.plays += wc->plays;
        g.total.songplays += wc->songplays;
        g.total.matched += wc->matched;
        g.total.duplicates += wc->duplicates;
        g.total.faults += wc->faults;
        for (int k = 0; k < LAKE_GEN_N_REASONS; k++)
            g.total.reasons[k] += wc->reasons[k];
    }
    r.log_files = g.total.files - r.song_files;
    r.bytes = g.total.bytes;
    for (uint32_t u = 0; u < g.world.n_users; u++) {
        r.users += atomic_load(&g.seen[u]);
        r.sessions += g.users[u].n_sessions;
    }
    r.events = g.total.events;
    r.plays = g.total.plays;
    r.songplays = g.total.songplays;
    r.matched_plays = g.total.matched;
    r.duplicates = g.total.duplicates;
    r.faults = g.total.faults;
    memcpy(r.reason_counts, g.total.reasons, sizeof(r.reason_counts));
    rc = write_manifest(&g, &r, err);
    if (rc != LAKE_OK)
        goto done;
    r.elapsed_s = (double)(lake_now_ns() - t0) / 1e9;
    if (report)
        *report = r;
done:
    gen_free(&g);
    return rc;
}
