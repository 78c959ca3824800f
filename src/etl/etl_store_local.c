/* SPDX-License-Identifier: Apache-2.0 */
/* etl_store_local.c - the local-disk back end of etl_store.h: stage the
 * run in LAKE/.sparkify-staging-<pid>-<ns>/, make it durable with one
 * syncfs, publish each table with renameat2(RENAME_EXCHANGE), then fsync
 * the lake folder once. */
#define _GNU_SOURCE 1 /* renameat2, RENAME_EXCHANGE, syncfs */
#include "fmacros.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_common.h"
#include "storage/storage.h"
#include "etl/etl_store.h"
#include "lake_internal.h"

#define MAX_PUBLISHED 16

typedef struct published {
    char name[64];
    bool exchanged;  /* else renamed: nothing was there before */
    bool by_renames; /* exchanged with two renames (no RENAME_EXCHANGE) */
} published;

typedef struct local_store {
    etl_store base;
    char *lake;      /* as given */
    char *staging;   /* LAKE/.sparkify-staging-... */
    char *stage_name; /* .sparkify-staging-... */
    int lake_fd, stage_fd;
    bool fsync;
    published pub[MAX_PUBLISHED];
    size_t n_pub;
    bool no_exchange; /* tests: act as if RENAME_EXCHANGE were missing */
} local_store;

/* Staged files are written under their final name inside the private
 * staging folder (no temporary name, no fsync each: local_sync makes the
 * whole run durable at once). */
static lake_status local_create(etl_store *s,
                                const char *rel_path,
                                lake_output **out,
                                lake_error *err)
{
    local_store *ls = (local_store *)s;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", ls->staging, rel_path) >=
        (int)sizeof(path))
        return lake_error_set(err, LAKE_EINVAL, "etl: path too long: %s/%s",
                              ls->staging, rel_path);
    const lake_output_opts opts = {
        .alloc = s->alloc, .no_fsync = 1, .direct = 1};
    return lake_output_open_file(path, &opts, out, err);
}

static lake_status local_scratch(etl_store *s,
                                 const char *name,
                                 int *fd,
                                 lake_error *err)
{
    local_store *ls = (local_store *)s;
    *fd = openat(ls->stage_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0600);
    if (*fd < 0)
        return lake_error_errno(err, errno, "etl: create %s/%s",
                                ls->staging, name);
    /* Nameless from now on: gone with the descriptor, even after SIGKILL,
     * and never fsynced with the staged files. */
    unlinkat(ls->stage_fd, name, 0);
    return LAKE_OK;
}

static lake_status local_sync(etl_store *s, lake_error *err)
{
    local_store *ls = (local_store *)s;
    /* One syncfs beats an fsync per file and folder, even for an empty
     * run: those are ~17 fsyncs of ~0.3 ms each (measured: empty run
     * 7.6-9.6 ms with them, 4.9-5.5 ms with syncfs, and 13.7 vs 11.3 ms
     * beside a process writing 2 GB files), ~13,700 for S3-shaped input.
     * syncfs also waits for other processes' dirty pages on the same
     * file system: the price of the one call. */
    if (ls->fsync && syncfs(ls->stage_fd) != 0)
        return lake_error_errno(err, errno, "etl: syncfs %s", ls->staging);
    return LAKE_OK;
}

/* After the last publish: the renames are durable with their folder. */
static lake_status local_commit(etl_store *s, lake_error *err)
{
    local_store *ls = (local_store *)s;
    if (ls->fsync && fsync(ls->lake_fd) != 0 && errno != EINVAL)
        return lake_error_errno(err, errno, "etl: fsync folder %s", ls->lake);
    return LAKE_OK;
}

static lake_status local_publish(etl_store *s,
                                 const char *name,
                                 lake_error *err)
{
    local_store *ls = (local_store *)s;
    char from[4096];
    if (ls->n_pub == MAX_PUBLISHED || strlen(name) >= sizeof(ls->pub[0].name))
        return lake_error_set(err, LAKE_EINVAL, "etl: publish %s: too many",
                              name);
    snprintf(from, sizeof(from), "%s/%s", ls->stage_name, name);
    published *p = &ls->pub[ls->n_pub];
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->by_renames = false;
    int ex = -1;
    if (ls->no_exchange)
        errno = EINVAL;
    else
        ex = renameat2(ls->lake_fd, from, ls->lake_fd, name, RENAME_EXCHANGE);
    if (ex == 0) {
        p->exchanged = true;
    } else if (errno == ENOENT ||
               (errno == EINVAL && faccessat(ls->lake_fd, name, F_OK,
                                             AT_SYMLINK_NOFOLLOW) != 0)) {
        if (renameat2(ls->lake_fd, from, ls->lake_fd, name,
                      RENAME_NOREPLACE) != 0 &&
            renameat(ls->lake_fd, from, ls->lake_fd, name) != 0)
            return lake_error_errno(err, errno, "etl: publish %s/%s",
                                    ls->lake, name);
        p->exchanged = false;
    } else if (errno == EINVAL) {
        /* No RENAME_EXCHANGE on this file system: move the old entry
         * aside, then the new one in. A reader may miss the table for a
         * moment but never sees a mix; the old one ends where an
         * exchange would have put it. */
        char aside[4096];
        snprintf(aside, sizeof(aside), "%s/%s.old", ls->stage_name, name);
        if (renameat(ls->lake_fd, name, ls->lake_fd, aside) != 0)
            return lake_error_errno(err, errno, "etl: publish %s/%s",
                                    ls->lake, name);
        if (renameat(ls->lake_fd, from, ls->lake_fd, name) != 0) {
            const int e = errno;
            renameat(ls->lake_fd, aside, ls->lake_fd, name);
            return lake_error_errno(err, e, "etl: publish %s/%s", ls->lake,
                                    name);
        }
        renameat(ls->lake_fd, aside, ls->lake_fd, from);
        p->exchanged = true;
        p->by_renames = true;
    } else {
        return lake_error_errno(err, errno, "etl: publish %s/%s", ls->lake,
                                name);
    }
    ls->n_pub++;
    return LAKE_OK;
}

static int rm_entry(const char *path,
                    const struct stat *st,
                    int type,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void local_close(etl_store *s, bool ok)
{
    local_store *ls = (local_store *)s;
    if (!ok) {
        /* Put the previous lake back, newest first. */
        char to[4096];
        while (ls->n_pub > 0) {
            const published *p = &ls->pub[--ls->n_pub];
            snprintf(to, sizeof(to), "%s/%s", ls->stage_name, p->name);
            if (p->by_renames) {
                char aside[4096];
                snprintf(aside, sizeof(aside), "%s/%s.new", ls->stage_name,
                         p->name);
                if (renameat(ls->lake_fd, p->name, ls->lake_fd, aside) == 0)
                    renameat(ls->lake_fd, to, ls->lake_fd, p->name);
            } else if (p->exchanged)
                renameat2(ls->lake_fd, to, ls->lake_fd, p->name,
                          RENAME_EXCHANGE);
            else
                renameat(ls->lake_fd, p->name, ls->lake_fd, to);
        }
        if (ls->fsync && ls->lake_fd >= 0)
            fsync(ls->lake_fd);
    }
    if (ls->stage_fd >= 0)
        close(ls->stage_fd);
    if (ls->staging)
        remove_tree(ls->staging);
    if (ls->lake_fd >= 0)
        close(ls->lake_fd);
    lake_free(s->alloc, ls->lake);
    lake_free(s->alloc, ls->staging);
    lake_free(s->alloc, ls->stage_name);
    lake_free(s->alloc, ls);
}

static const etl_store_ops local_ops = {local_create, local_scratch,
                                        local_sync, local_publish,
                                        local_commit, local_close};

/* Remove staging folders of runs that are gone (killed or crashed). A
 * folder of a live process other than us is left alone. */
static void clean_leftovers(local_store *ls)
{
    const int fd = dup(ls->lake_fd);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    const size_t plen = strlen(ETL_STAGING_PREFIX);
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ETL_STAGING_PREFIX, plen) != 0)
            continue;
        char *end = NULL;
        const long pid = strtol(e->d_name + plen, &end, 10);
        if (end == e->d_name + plen || *end != '-')
            continue;
        if (pid > 0 && pid != (long)getpid() &&
            (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* a live run owns it */
        snprintf(path, sizeof(path), "%s/%s", ls->lake, e->d_name);
        remove_tree(path);
    }
    closedir(d);
}

lake_status etl_store_open_local(const char *lake,
                                 const lake_allocator *alloc,
                                 bool fsync,
                                 etl_store **out,
                                 lake_error *err)
{
    *out = NULL;
    local_store *ls = lake_malloc(alloc, sizeof(*ls));
    if (!ls)
        return lake_error_oom(err, "etl");
    memset(ls, 0, sizeof(*ls));
    ls->base.ops = &local_ops;
    ls->base.alloc = alloc;
    ls->lake_fd = -1;
    ls->stage_fd = -1;
    ls->fsync = fsync;
    lake_status rc = LAKE_OK;
    char name[128];
    snprintf(name, sizeof(name), "%s%ld-%lld", ETL_STAGING_PREFIX,
             (long)getpid(), (long long)lake_now_ns());
    ls->lake = lake_strdup(alloc, lake);
    ls->stage_name = lake_strdup(alloc, name);
    const size_t n = strlen(lake) + strlen(name) + 2;
    char *staging = lake_malloc(alloc, n);
    if (!ls->lake || !ls->stage_name || !staging) {
        lake_free(alloc, staging);
        rc = lake_error_oom(err, "etl");
        goto fail;
    }
    snprintf(staging, n, "%s/%s", lake, name);
    rc = lake_mkdirs(lake, err);
    if (rc != LAKE_OK) {
        lake_free(alloc, staging);
        goto fail;
    }
    ls->lake_fd = open(lake, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->lake_fd < 0) {
        lake_free(alloc, staging);
        rc = lake_error_errno(err, errno, "etl: open lake %s", lake);
        goto fail;
    }
    clean_leftovers(ls);
    if (mkdir(staging, 0777) != 0) {
        rc = lake_error_errno(err, errno, "etl: mkdir %s", staging);
        lake_free(alloc, staging);
        goto fail;
    }
    ls->staging = staging;
    ls->stage_fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->stage_fd < 0) {
        rc = lake_error_errno(err, errno, "etl: open %s", staging);
        goto fail;
    }
    *out = &ls->base;
    return LAKE_OK;
fail:
    local_close(&ls->base, false);
    return rc;
}

void etl_store_local_no_exchange(etl_store *s)
{
    ((local_store *)s)->no_exchange = true;
}
