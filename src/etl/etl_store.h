/* SPDX-License-Identifier: Apache-2.0 */
/* etl_store.h - the only door between the ETL engine and the lake's
 * storage, so that another back end (S3) can be plugged in beside the
 * local one (etl_store_local.c).
 *
 * The contract a back end implements:
 *  - open_store() cleans up what killed runs of ours left behind (by name
 *    prefix, never anything else) and starts a private staging area that
 *    readers of the lake never look at (locally LAKE/.sparkify-staging-*);
 *  - create() gives a lake_output for a file of the run, by its path
 *    relative to the lake ("songs/year=1998/.../part-00000.parquet"); the
 *    bytes are staged, not visible;
 *  - scratch() gives a local file descriptor for spill files (read back
 *    with pread; nameless, so gone with the descriptor even after a kill);
 *  - sync() makes every staged byte durable;
 *  - publish() makes one staged top-level entry (a table folder or the
 *    report file) visible in the lake at once, replacing the previous one
 *    atomically: a reader sees the old or the new entry, never a mix;
 *  - commit() makes the publishes durable (once, after the last);
 *  - close() removes the staging area; when the run failed it first puts
 *    back the entries it had published, so the previous lake stays.
 * Input listing and reading go through the ingest stage (lake_list_files,
 * lake_read_file), which is where an S3 input would plug in. */
#ifndef LAKE_ETL_STORE_H
#define LAKE_ETL_STORE_H
#include "lake_common.h"

typedef struct etl_store etl_store;

typedef struct etl_store_ops {
    lake_status (*create)(etl_store *s,
                          const char *rel_path,
                          lake_output **out,
                          lake_error *err);
    lake_status (*scratch)(etl_store *s,
                           const char *name,
                           int *fd,
                           lake_error *err);
    lake_status (*sync)(etl_store *s, lake_error *err);
    lake_status (*publish)(etl_store *s, const char *name, lake_error *err);
    lake_status (*commit)(etl_store *s, lake_error *err);
    /* @p ok: the run succeeded (keep what was published). */
    void (*close)(etl_store *s, bool ok);
} etl_store_ops;

struct etl_store {
    const etl_store_ops *ops;
    const lake_allocator *alloc;
};

/* The local back end: @p lake is a folder, created when missing. */
LAKE_NODISCARD lake_status etl_store_open_local(const char *lake,
                                                const lake_allocator *alloc,
                                                bool fsync,
                                                etl_store **out,
                                                lake_error *err);

/* Tests: make the local store publish as on a file system without
 * RENAME_EXCHANGE (two renames). */
void etl_store_local_no_exchange(etl_store *s);

/* Prefix of the staging folders inside a local lake. */
#define ETL_STAGING_PREFIX ".sparkify-staging-"
#endif
