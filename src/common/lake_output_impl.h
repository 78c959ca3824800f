/* SPDX-License-Identifier: Apache-2.0 */
/* lake_output_impl.h - the vtable behind lake_output, for the storage
 * back ends (local files, S3) that implement it. */
#ifndef LAKE_OUTPUT_IMPL_H
#define LAKE_OUTPUT_IMPL_H
#include "lake_common.h"

typedef struct lake_output_vtable {
    lake_status (*write)(lake_output *o,
                         const void *bytes,
                         size_t n,
                         lake_error *err);
    lake_status (*commit)(lake_output *o, lake_error *err);
    /* Discard uncommitted bytes (if any) and release @p o. */
    void (*destroy)(lake_output *o);
} lake_output_vtable;

/* Every back end embeds this as its first member. */
struct lake_output {
    const lake_output_vtable *vt;
    const lake_allocator *alloc;
    const char *name;   /* final path or URI, owned by the back end */
    int64_t size_bytes; /* bytes accepted by write */
    bool committed;
    bool failed; /* a write failed: commit is refused */
};
#endif
