/* SPDX-License-Identifier: Apache-2.0 */
/* etl_s3.h - S3 for the ETL engine: an etl_store back end that publishes
 * a lake under s3://bucket/prefix/, and the staging of s3:// inputs into a
 * local folder the engine reads as usual. Credentials and endpoint come
 * from the standard chain (environment, profile; see lake_s3_opts). */
#ifndef LAKE_ETL_S3_H
#define LAKE_ETL_S3_H
#include "lake_common.h"

#include "etl/etl_store.h"

/* Client options of the ETL: the caller's @p base (NULL: the standard
 * chain and endpoint) with the engine's allocator and @p max_connections
 * (0: the client's default). */
lake_s3_opts etl_s3_client_opts(const lake_s3_opts *base,
                                const lake_allocator *alloc,
                                int max_connections);

/* Whether @p path is an s3:// URI. */
bool etl_is_s3(const char *path);

/* The S3 back end of etl_store.h for @p uri ("s3://bucket/prefix/").
 * S3 has no rename: data files get unique names (the run id), a table's
 * _SUCCESS is written when all its files are complete, and the previous
 * run's files of that table are deleted only after that (docs/S3.md). */
LAKE_NODISCARD lake_status etl_store_open_s3(const char *uri,
                                             const lake_s3_opts *s3,
                                             const lake_allocator *alloc,
                                             etl_store **out,
                                             lake_error *err);

/* Download every input file under @p uri (the SPEC's names: .json,
 * .jsonl, .json.gz, .jsonl.gz; no '.' or '_' component) into a new
 * local folder, concurrently, and return its path in @p local_dir (free
 * with etl_s3_input_free, which also removes the folder). */
LAKE_NODISCARD lake_status etl_s3_fetch_input(const char *uri,
                                              const lake_s3_opts *s3,
                                              const lake_allocator *alloc,
                                              char **local_dir,
                                              lake_error *err);
void etl_s3_input_free(const lake_allocator *alloc, char *local_dir);

/* Replace s3:// roots of @p o by local copies (etl_s3_fetch_input); the
 * caller frees *song_dir and *log_dir (NULL when the root was local). */
LAKE_NODISCARD lake_status etl_s3_localize(lake_etl_opts *o,
                                           char **song_dir,
                                           char **log_dir,
                                           lake_error *err);
#endif
