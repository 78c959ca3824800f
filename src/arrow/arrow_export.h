/* SPDX-License-Identifier: Apache-2.0 */
/* arrow_export.h - internals of the Arrow export stage shared with its
 * tests: the column layouts and the in-memory gunzip. */
#ifndef LAKE_ARROW_EXPORT_H
#define LAKE_ARROW_EXPORT_H
#include "lake_common.h"

#include "ingest/ingest.h"

/* Default rows per batch, and the bytes of string data a column may hold
 * before its batch is cut short (int32 offsets need < 2 GiB). */
#define LAKE_ARROW_BATCH_ROWS   32768
#define LAKE_ARROW_BATCH_BYTES  (64u * 1024 * 1024)
#define LAKE_ARROW_MAX_COLUMNS  32

/* Number of columns of a kind's batches (songs 14, events 27). */
size_t lake_arrow_n_columns(lake_arrow_kind kind);

/* Name of column @p i of @p kind, or NULL past the end. */
const char *lake_arrow_column_name(lake_arrow_kind kind, size_t i);

#endif
