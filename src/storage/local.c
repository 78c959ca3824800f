/* SPDX-License-Identifier: Apache-2.0 */
/* local.c - local-file outputs that appear under their final name only
 * when complete: write a temporary file beside the target, fsync it,
 * rename it into place, fsync the folder. An fsync failure aborts the
 * commit and is never retried (a retried fsync can report success for
 * lost data). */
#include "fmacros.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_output_impl.h"
#include "storage.h"
#include "lake_internal.h"

#define WRITE_BUF_BYTES (64 * 1024)

typedef struct file_output {
    lake_output base;
    int fd;
    bool fsync;
    char *path;     /* final name */
    char *tmp_path; /* where the bytes go until commit; NULL when direct */
    bool fd_opened; /* the file was created: remove it unless committed */
    size_t buf_len;
    char *buf;      /* WRITE_BUF_BYTES, allocated by the first write */
} file_output;

static atomic_uint_fast64_t tmp_counter;

/* mkdir @p path (NUL-terminated, modifiable), making missing parents:
 * one mkdir when the parent exists, which is the common case of a run
 * that opens a new partition folder per file. */
static lake_status mkdirs_in_place(char *path, lake_error *err)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return LAKE_OK;
    if (errno != ENOENT)
        return lake_error_errno(err, errno, "storage: mkdir %s", path);
    char *slash = strrchr(path, '/');
    while (slash && slash > path && slash[-1] == '/')
        slash--;
    if (!slash || slash == path)
        return lake_error_errno(err, ENOENT, "storage: mkdir %s", path);
    *slash = '\0';
    const lake_status rc = mkdirs_in_place(path, err);
    *slash = '/';
    LAKE_TRY(rc);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return lake_error_errno(err, errno, "storage: mkdir %s", path);
    return LAKE_OK;
}

lake_status lake_mkdirs(const char *path, lake_error *err)
{
    char tmp[4096];
    const size_t len = strlen(path);
    if (len == 0)
        return LAKE_OK;
    if (len >= sizeof(tmp))
        return lake_error_set(err, LAKE_EINVAL, "storage: path too long: %s",
                              path);
    memcpy(tmp, path, len + 1);
    return mkdirs_in_place(tmp, err);
}

lake_status lake_fsync_dir(const char *dir, lake_error *err)
{
    const int fd = open(dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return lake_error_errno(err, errno, "storage: open folder %s", dir);
    if (fsync(fd) != 0 && errno != EINVAL) {
        const int e = errno;
        close(fd);
        return lake_error_errno(err, e, "storage: fsync folder %s", dir);
    }
    close(fd);
    return LAKE_OK;
}

/* Copy the folder part of @p path into @p dir ("" for none). */
static void dirname_of(const char *path, char *dir, size_t dir_size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (slash == path)
        n = 1;
    if (n >= dir_size)
        n = dir_size - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
}

static lake_status flush_buf(file_output *f, lake_error *err)
{
    size_t off = 0;
    while (off < f->buf_len) {
        const ssize_t w = write(f->fd, f->buf + off, f->buf_len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return lake_error_errno(err, errno, "storage: write %s",
                                    f->path);
        }
        off += (size_t)w;
    }
    f->buf_len = 0;
    return LAKE_OK;
}

static lake_status file_write(lake_output *o,
                              const void *bytes,
                              size_t n,
                              lake_error *err)
{
    file_output *f = (file_output *)o;
    const char *p = bytes;
    if (!f->buf) {
        f->buf = lake_malloc(o->alloc, WRITE_BUF_BYTES);
        if (!f->buf)
            return lake_error_oom(err, "storage");
    }
    while (n > 0) {
        if (f->buf_len == WRITE_BUF_BYTES)
            LAKE_TRY(flush_buf(f, err));
        const size_t room = WRITE_BUF_BYTES - f->buf_len;
        const size_t k = n < room ? n : room;
        memcpy(f->buf + f->buf_len, p, k);
        f->buf_len += k;
        p += k;
        n -= k;
    }
    return LAKE_OK;
}

static lake_status file_commit(lake_output *o, lake_error *err)
{
    file_output *f = (file_output *)o;
    LAKE_TRY(flush_buf(f, err));
    if (f->fsync && fsync(f->fd) != 0)
        return lake_error_errno(err, errno, "storage: fsync %s", f->path);
    const int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0)
        return lake_error_errno(err, errno, "storage: close %s", f->path);
    /* Direct outputs are already under their final name. */
    if (f->tmp_path && rename(f->tmp_path, f->path) != 0)
        return lake_error_errno(err, errno, "storage: rename to %s",
                                f->path);
    if (f->fsync) {
        char dir[4096];
        dirname_of(f->path, dir, sizeof(dir));
        LAKE_TRY(lake_fsync_dir(dir, err));
    }
    return LAKE_OK;
}

static void file_destroy(lake_output *o)
{
    file_output *f = (file_output *)o;
    if (f->fd >= 0)
        close(f->fd);
    if (!o->committed && f->fd_opened)
        unlink(f->tmp_path ? f->tmp_path : f->path);
    lake_free(o->alloc, f->buf);
    lake_free(o->alloc, f->path);
    lake_free(o->alloc, f->tmp_path);
    lake_free(o->alloc, f);
}

static const lake_output_vtable file_vtable = {file_write, file_commit,
                                               file_destroy};

lake_status lake_output_open_file(const char *path,
                                  const lake_output_opts *opts,
                                  lake_output **out,
                                  lake_error *err)
{
    static const lake_output_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!path || !path[0])
        return lake_error_set(err, LAKE_EINVAL, "storage: empty path");
    const lake_allocator *a = opts->alloc;
    file_output *f = lake_calloc(a, 1, sizeof(*f));
    if (!f)
        return lake_error_oom(err, "storage");
    f->base.vt = &file_vtable;
    f->base.alloc = a;
    f->fd = -1;
    f->fsync = !opts->no_fsync;
    lake_status rc = LAKE_OK;
    char dir[4096];
    f->path = lake_strdup(a, path);
    if (!f->path) {
        rc = lake_error_oom(err, "storage");
        goto fail;
    }
    f->base.name = f->path;
    if (!opts->direct) {
        const size_t tmp_size = strlen(path) + 64;
        f->tmp_path = lake_malloc(a, tmp_size);
        if (!f->tmp_path) {
            rc = lake_error_oom(err, "storage");
            goto fail;
        }
        snprintf(f->tmp_path, tmp_size, "%s.tmp-%ld-%llu", path,
                 (long)getpid(),
                 (unsigned long long)atomic_fetch_add(&tmp_counter, 1));
    }
    dirname_of(path, dir, sizeof(dir));
    rc = lake_mkdirs(dir, err);
    if (rc != LAKE_OK)
        goto fail;
    const char *target = f->tmp_path ? f->tmp_path : f->path;
    f->fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC |
                             (opts->direct ? O_EXCL : O_TRUNC),
                 0666);
    if (f->fd < 0) {
        rc = lake_error_errno(err, errno, "storage: create %s", target);
        goto fail;
    }
    f->fd_opened = true;
    *out = &f->base;
    return LAKE_OK;
fail:
    file_destroy(&f->base);
    return rc;
}
