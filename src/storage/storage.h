/* SPDX-License-Identifier: Apache-2.0 */
/* storage.h - internal file-system helpers of the storage stage. */
#ifndef LAKE_STORAGE_H
#define LAKE_STORAGE_H
#include "lake_common.h"

/* mkdir -p. LAKE_EIO names the folder that could not be made. */
LAKE_NODISCARD lake_status lake_mkdirs(const char *path, lake_error *err);
/* fsync a folder so that renames inside it are durable. */
LAKE_NODISCARD lake_status lake_fsync_dir(const char *dir, lake_error *err);
#endif
