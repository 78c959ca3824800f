/* SPDX-License-Identifier: Apache-2.0 */
/* ingest_files.c - find the input files below a root and read one file
 * into memory (gzip decompressed, zero padding after the bytes).
 *
 * Rules beyond SPEC "Files" (decided here):
 * - The root must be a folder (a symlink to one is fine); a missing root
 *   or one that cannot be opened is LAKE_EIO naming it, a root that is not
 *   a folder is LAKE_EINVAL.
 * - Symlinks are followed, to files and to folders. A folder whose
 *   (device, inode) is one of its own ancestors on the walk is skipped, so a
 *   link loop cannot recurse forever; a folder reached twice by different
 *   non-looping links is listed under both paths.
 * - Only regular files are listed (after following links). An entry that
 *   vanishes or dangles (ENOENT at stat) is skipped; any other stat, open
 *   or read error of the walk is LAKE_EIO naming the path.
 * - Extension match is case-sensitive: ".JSON" is not listed.
 * - A name ending in ".gz" is gzip: one or more members back to back
 *   (multi-member, as `cat a.gz b.gz` makes). Bytes after a member that
 *   are not another member, a truncated member or a bad CRC are
 *   LAKE_EPARSE naming the file; the file is never skipped silently. */
#include "fmacros.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "lake_internal.h"

#define GZ_IN_CHUNK      (256 * 1024)
#define DEFAULT_MAX_READ ((size_t)4 << 30)

/* ---- discovery ---- */

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct walker {
    const lake_allocator *alloc;
    lake_file_list *out;
    size_t cap;
    lake_buf rel;      /* current relative folder path, NUL-terminated */
    const char *root;
    dir_id chain[256]; /* ancestors of the current folder */
    size_t depth;
    lake_error *err;
} walker;

static bool has_input_ext(const char *name, size_t n)
{
    static const char *const exts[] = {".json", ".jsonl", ".json.gz",
                                       ".jsonl.gz"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(exts); i++) {
        const size_t e = strlen(exts[i]);
        if (n > e && memcmp(name + n - e, exts[i], e) == 0)
            return true;
    }
    return false;
}

static lake_status add_file(walker *w, const char *rel, int64_t size)
{
    lake_file_list *l = w->out;
    if (l->n_files == w->cap) {
        const size_t ncap = w->cap ? w->cap * 2 : 64;
        lake_file_entry *nf =
            lake_realloc(w->alloc, l->files, w->cap * sizeof(*nf),
                         ncap * sizeof(*nf));
        if (!nf)
            return lake_error_oom(w->err, "ingest");
        l->files = nf;
        w->cap = ncap;
    }
    char *copy = lake_strdup(w->alloc, rel);
    if (!copy)
        return lake_error_oom(w->err, "ingest");
    l->files[l->n_files].rel_path = copy;
    l->files[l->n_files].size_bytes = size;
    l->n_files++;
    l->total_bytes += size;
    return LAKE_OK;
}

static lake_status walk_dir(walker *w, int dfd);

/* Visit entry @p name of the folder open as @p dfd, whose relative path
 * is w->rel (without trailing '/'). */
static lake_status visit(walker *w, int dfd, const char *name)
{
    const size_t base_len = w->rel.len;
    lake_status rc = LAKE_OK;
    if (base_len > 0)
        rc = lake_buf_append_byte(&w->rel, '/');
    if (rc == LAKE_OK)
        rc = lake_buf_append(&w->rel, name, strlen(name) + 1);
    if (rc != LAKE_OK) {
        w->rel.len = base_len;
        return lake_error_oom(w->err, "ingest");
    }
    w->rel.len--; /* keep the NUL out of len */
    struct stat st;
    if (fstatat(dfd, name, &st, 0) != 0) {
        if (errno != ENOENT)
            rc = lake_error_errno(w->err, errno, "ingest: stat %s/%s",
                                  w->root, w->rel.data);
    } else if (S_ISREG(st.st_mode)) {
        if (has_input_ext(name, strlen(name)))
            rc = add_file(w, w->rel.data, (int64_t)st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
        bool loop = false;
        for (size_t i = 0; i < w->depth; i++)
            if (w->chain[i].dev == st.st_dev && w->chain[i].ino == st.st_ino)
                loop = true;
        if (!loop && w->depth >= LAKE_ARRAY_LEN(w->chain)) {
            rc = lake_error_set(w->err, LAKE_ETOOBIG,
                                "ingest: list files: folders nested deeper "
                                "than %zu: %s/%s",
                                LAKE_ARRAY_LEN(w->chain), w->root,
                                w->rel.data);
        } else if (!loop) {
            const int fd =
                openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                rc = lake_error_errno(w->err, errno,
                                      "ingest: open folder %s/%s", w->root,
                                      w->rel.data);
            } else {
                w->chain[w->depth].dev = st.st_dev;
                w->chain[w->depth].ino = st.st_ino;
                w->depth++;
                rc = walk_dir(w, fd); /* closes fd */
                w->depth--;
            }
        }
    }
    w->rel.len = base_len;
    w->rel.data[base_len] = '\0';
    return rc;
}

static lake_status walk_dir(walker *w, int dfd)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        const int e = errno;
        close(dfd);
        return lake_error_errno(w->err, e, "ingest: open folder %s/%s",
                                w->root, w->rel.data);
    }
    lake_status rc = LAKE_OK;
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                rc = lake_error_errno(w->err, errno,
                                      "ingest: read folder %s/%s", w->root,
                                      w->rel.data);
            break;
        }
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue; /* also skips "." and ".." */
        rc = visit(w, dirfd(d), e->d_name);
        if (rc != LAKE_OK)
            break;
    }
    closedir(d);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    const lake_file_entry *x = a, *y = b;
    return strcmp(x->rel_path, y->rel_path);
}

lake_status lake_list_files(const char *root,
                            const lake_allocator *alloc,
                            lake_file_list *out,
                            lake_error *err)
{
    memset(out, 0, sizeof(*out));
    out->alloc = lake_alloc_or_default(alloc);
    walker *w = lake_calloc(out->alloc, 1, sizeof(*w));
    if (!w)
        return lake_error_oom(err, "ingest");
    w->alloc = out->alloc;
    w->out = out;
    w->root = root;
    w->err = err;
    lake_buf_init(&w->rel, out->alloc, 0);
    lake_status rc = LAKE_OK;
    struct stat st;
    int fd = -1;
    if (stat(root, &st) != 0) {
        rc = lake_error_errno(err, errno, "ingest: list files: %s", root);
        goto cleanup;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = lake_error_set(err, LAKE_EINVAL,
                            "ingest: list files: %s: not a folder", root);
        goto cleanup;
    }
    rc = lake_buf_append_byte(&w->rel, '\0');
    if (rc != LAKE_OK) {
        rc = lake_error_oom(err, "ingest");
        goto cleanup;
    }
    w->rel.len = 0;
    fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = lake_error_errno(err, errno, "ingest: list files: %s", root);
        goto cleanup;
    }
    w->chain[0].dev = st.st_dev;
    w->chain[0].ino = st.st_ino;
    w->depth = 1;
    rc = walk_dir(w, fd);
    if (rc == LAKE_OK && out->n_files > 1)
        qsort(out->files, out->n_files, sizeof(out->files[0]), cmp_entry);

cleanup:
    lake_buf_reset(&w->rel);
    lake_free(out->alloc, w);
    if (rc != LAKE_OK) {
        lake_file_list_free(out);
        out->alloc = lake_alloc_or_default(alloc);
    }
    return rc;
}

void lake_file_list_free(lake_file_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n_files; i++)
        lake_free(list->alloc, list->files[i].rel_path);
    lake_free(list->alloc, list->files);
    list->files = NULL;
    list->n_files = 0;
    list->total_bytes = 0;
}

lake_status lake_list_input_files(const char *root,
                                  const lake_allocator *alloc,
                                  lake_list_fn fn,
                                  void *ctx,
                                  lake_error *err)
{
    if (!root || !fn)
        return lake_error_set(err, LAKE_EINVAL,
                              "ingest: list files: NULL %s",
                              !root ? "root" : "callback");
    lake_file_list l;
    LAKE_TRY(lake_list_files(root, alloc, &l, err));
    lake_status rc = LAKE_OK;
    for (size_t i = 0; i < l.n_files && rc == LAKE_OK; i++) {
        /* The callback always gets an error to fill, even when the
         * caller passed none. */
        lake_error cb_err;
        lake_error_clear(&cb_err);
        rc = fn(ctx, l.files[i].rel_path, l.files[i].size_bytes, &cb_err);
        if (rc == LAKE_OK)
            continue;
        if (cb_err.message[0] == '\0')
            lake_error_set(&cb_err, rc,
                           "ingest: list files: %s: stopped by the "
                           "callback at %s",
                           root, l.files[i].rel_path);
        cb_err.code = rc;
        if (err)
            *err = cb_err;
    }
    lake_file_list_free(&l);
    return rc;
}

/* ---- reading ---- */

/* Make room for @p need bytes plus the padding. */
static lake_status ensure_cap(lake_file_data *buf,
                              size_t need,
                              const char *path,
                              lake_error *err)
{
    if (need > SIZE_MAX - LAKE_READ_PADDING)
        return lake_error_set(err, LAKE_ETOOBIG, "ingest: read %s: too big",
                              path);
    need += LAKE_READ_PADDING;
    if (buf->cap >= need)
        return LAKE_OK;
    char *p = lake_realloc(buf->alloc, buf->data, buf->cap, need);
    if (!p)
        return lake_error_oom(err, "ingest");
    buf->data = p;
    buf->cap = need;
    return LAKE_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static lake_status read_plain(int fd,
                              const struct stat *st,
                              const char *path,
                              size_t max_bytes,
                              lake_file_data *buf,
                              lake_error *err)
{
    size_t want = st->st_size > 0 ? (size_t)st->st_size : 0;
    if (want > max_bytes)
        return lake_error_set(err, LAKE_ETOOBIG,
                              "ingest: read %s: %zu bytes, limit %zu", path,
                              want, max_bytes);
    /* One byte more than the size: the read that finds the end then
     * needs no bigger buffer (growing it copied the whole file). */
    LAKE_TRY(ensure_cap(buf, want < 4096 ? 4096 : want + 1, path, err));
    for (;;) {
        if (buf->len == buf->cap - LAKE_READ_PADDING) {
            if (buf->len >= max_bytes)
                return lake_error_set(err, LAKE_ETOOBIG,
                                      "ingest: read %s: over %zu bytes",
                                      path, max_bytes);
            size_t grow = buf->len < max_bytes / 2 ? buf->len * 2 : max_bytes;
            LAKE_TRY(ensure_cap(buf, grow, path, err));
        }
        const size_t room = buf->cap - LAKE_READ_PADDING - buf->len;
        const ssize_t n = read(fd, buf->data + buf->len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lake_error_errno(err, errno, "ingest: read %s", path);
        }
        if (n == 0)
            return LAKE_OK;
        buf->len += (size_t)n;
    }
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return lake_calloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    lake_free(opaque, p);
}

/* Gunzip from @p fd, or when it is -1 from the @p mem_len bytes at
 * @p mem, into @p buf. @p size_hint is the compressed size, if known. */
static lake_status read_gzip(int fd,
                             const unsigned char *mem,
                             size_t mem_len,
                             size_t size_hint,
                             const char *path,
                             size_t max_bytes,
                             lake_file_data *buf,
                             lake_error *err)
{
    lake_status rc = LAKE_OK;
    unsigned char *in = NULL;
    if (fd >= 0) {
        in = lake_malloc(buf->alloc, GZ_IN_CHUNK);
        if (!in)
            return lake_error_oom(err, "ingest");
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    zs.opaque = (voidpf)(uintptr_t)buf->alloc;
    bool z_open = false;
    const int zrc = inflateInit2(&zs, 15 + 16);
    if (zrc != Z_OK) {
        rc = zrc == Z_MEM_ERROR ? lake_error_oom(err, "ingest")
                                : lake_error_set(err, LAKE_EPARSE,
                                                 "ingest: gunzip %s: init",
                                                 path);
        goto cleanup;
    }
    z_open = true;
    size_t guess = size_hint < SIZE_MAX / 8 ? size_hint * 4 : SIZE_MAX / 8;
    if (guess < 65536)
        guess = 65536;
    if (guess > max_bytes)
        guess = max_bytes;
    rc = ensure_cap(buf, guess, path, err);
    if (rc != LAKE_OK)
        goto cleanup;
    bool eof = false, member_done = false, any_input = false;
    for (;;) {
        if (zs.avail_in == 0 && !eof) {
            ssize_t n;
            if (fd < 0) {
                n = (ssize_t)LAKE_MIN(mem_len, (size_t)1 << 30);
                zs.next_in = (Bytef *)(uintptr_t)mem;
                mem += n;
                mem_len -= (size_t)n;
            } else {
                do {
                    n = read(fd, in, GZ_IN_CHUNK);
                } while (n < 0 && errno == EINTR);
                if (n < 0) {
                    rc = lake_error_errno(err, errno, "ingest: read %s",
                                          path);
                    goto cleanup;
                }
                zs.next_in = in;
            }
            if (n == 0)
                eof = true;
            else
                any_input = true;
            zs.avail_in = (uInt)n;
        }
        if (zs.avail_in == 0 && eof) {
            if (!any_input || !member_done)
                rc = lake_error_set(err, LAKE_EPARSE,
                                    "ingest: gunzip %s: %s at byte %zu",
                                    path,
                                    any_input ? "truncated gzip data"
                                              : "empty file, not gzip",
                                    (size_t)zs.total_in);
            goto cleanup;
        }
        if (member_done) {
            /* More bytes after a complete member: the next member. */
            if (inflateReset(&zs) != Z_OK) {
                rc = lake_error_set(err, LAKE_EPARSE,
                                    "ingest: gunzip %s: reset", path);
                goto cleanup;
            }
            member_done = false;
        }
        /* Room for one byte over the limit tells "over" from "exactly". */
        if (buf->len == buf->cap - LAKE_READ_PADDING) {
            size_t grow =
                buf->len < max_bytes / 2 ? buf->len * 2 : max_bytes + 1;
            rc = ensure_cap(buf, grow, path, err);
            if (rc != LAKE_OK)
                goto cleanup;
        }
        size_t room = buf->cap - LAKE_READ_PADDING - buf->len;
        if (room > max_bytes + 1 - buf->len)
            room = max_bytes + 1 - buf->len;
        if (room > (1u << 30))
            room = 1u << 30;
        zs.next_out = (Bytef *)buf->data + buf->len;
        zs.avail_out = (uInt)room;
        const int r = inflate(&zs, Z_NO_FLUSH);
        buf->len += room - zs.avail_out;
        if (buf->len > max_bytes) {
            rc = lake_error_set(err, LAKE_ETOOBIG,
                                "ingest: gunzip %s: over %zu bytes", path,
                                max_bytes);
            goto cleanup;
        }
        if (r == Z_STREAM_END) {
            member_done = true;
        } else if (r == Z_MEM_ERROR) {
            rc = lake_error_oom(err, "ingest");
            goto cleanup;
        } else if (r == Z_BUF_ERROR) {
            /* No progress possible: needs more input or more room; both
             * are handled by the loop. */
            if (zs.avail_in != 0 && zs.avail_out != 0)
                goto corrupt;
        } else if (r != Z_OK) {
            goto corrupt;
        }
    }
corrupt:
    rc = lake_error_set(err, LAKE_EPARSE,
                        "ingest: gunzip %s: corrupt gzip data at byte %zu: "
                        "%s",
                        path, (size_t)zs.total_in,
                        zs.msg ? zs.msg : "bad data");
cleanup:
    if (z_open)
        inflateEnd(&zs);
    lake_free(buf->alloc, in);
    return rc;
}

static size_t clamp_max(size_t max_bytes);

lake_status lake_read_file(const char *path,
                           size_t max_bytes,
                           lake_file_data *buf,
                           lake_error *err)
{
    buf->alloc = lake_alloc_or_default(buf->alloc);
    buf->len = 0;
    max_bytes = clamp_max(max_bytes);
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return lake_error_errno(err, errno, "ingest: open %s", path);
    struct stat st;
    lake_status rc;
    if (fstat(fd, &st) != 0)
        rc = lake_error_errno(err, errno, "ingest: stat %s", path);
    else if (S_ISDIR(st.st_mode))
        rc = lake_error_set(err, LAKE_EIO, "ingest: read %s: is a folder",
                            path);
    else if (ends_with(path, ".gz"))
        rc = read_gzip(fd, NULL, 0, st.st_size > 0 ? (size_t)st.st_size : 0,
                       path, max_bytes, buf, err);
    else
        rc = read_plain(fd, &st, path, max_bytes, buf, err);
    close(fd);
    if (rc != LAKE_OK) {
        buf->len = 0;
        return rc;
    }
    if (buf->data == NULL) /* an empty file still gets its padding */
        LAKE_TRY(ensure_cap(buf, 0, path, err));
    memset(buf->data + buf->len, 0, LAKE_READ_PADDING);
    return LAKE_OK;
}

static size_t clamp_max(size_t max_bytes)
{
    if (max_bytes == 0)
        max_bytes = DEFAULT_MAX_READ;
    return max_bytes > SIZE_MAX / 4 ? SIZE_MAX / 4 : max_bytes;
}

lake_status lake_gunzip_bytes(const void *src,
                              size_t n,
                              const char *name,
                              size_t max_bytes,
                              lake_file_data *buf,
                              lake_error *err)
{
    buf->alloc = lake_alloc_or_default(buf->alloc);
    buf->len = 0;
    const lake_status rc = read_gzip(-1, src, n, n, name ? name : "(bytes)",
                                     clamp_max(max_bytes), buf, err);
    if (rc != LAKE_OK) {
        buf->len = 0;
        return rc;
    }
    memset(buf->data + buf->len, 0, LAKE_READ_PADDING);
    return LAKE_OK;
}

lake_status lake_file_data_set(lake_file_data *buf,
                               const void *src,
                               size_t n,
                               lake_error *err)
{
    buf->alloc = lake_alloc_or_default(buf->alloc);
    buf->len = 0;
    LAKE_TRY(ensure_cap(buf, n, "(bytes)", err));
    if (n)
        memcpy(buf->data, src, n);
    buf->len = n;
    memset(buf->data + n, 0, LAKE_READ_PADDING);
    return LAKE_OK;
}

void lake_file_data_free(lake_file_data *buf)
{
    if (!buf)
        return;
    lake_free(buf->alloc, buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
