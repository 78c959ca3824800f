/* SPDX-License-Identifier: Apache-2.0 */
/* memory.c - an output that keeps its bytes in memory, for tests, fuzzers
 * and callers that upload or inspect a whole file themselves. */
#include "fmacros.h"

#include <string.h>

#include "lake_output_impl.h"
#include "lake_internal.h"

typedef struct mem_output {
    lake_output base;
    char *name;
    lake_buf bytes;
} mem_output;

static lake_status mem_write(lake_output *o,
                             const void *bytes,
                             size_t n,
                             lake_error *err)
{
    mem_output *m = (mem_output *)o;
    const lake_status rc = lake_buf_append(&m->bytes, bytes, n);
    if (rc != LAKE_OK)
        return lake_error_set(err, rc, "storage: write %s: %s", m->name,
                              rc == LAKE_ENOMEM ? "out of memory"
                                                : "too big");
    return LAKE_OK;
}

static lake_status mem_commit(lake_output *o, lake_error *err)
{
    (void)o;
    (void)err;
    return LAKE_OK;
}

static void mem_destroy(lake_output *o)
{
    mem_output *m = (mem_output *)o;
    lake_buf_reset(&m->bytes);
    lake_free(o->alloc, m->name);
    lake_free(o->alloc, m);
}

static const lake_output_vtable mem_vtable = {mem_write, mem_commit,
                                              mem_destroy};

lake_status lake_output_open_memory(const char *name,
                                    const lake_output_opts *opts,
                                    lake_output **out,
                                    lake_error *err)
{
    *out = NULL;
    const lake_allocator *a = opts ? opts->alloc : NULL;
    mem_output *m = lake_calloc(a, 1, sizeof(*m));
    if (!m)
        return lake_error_oom(err, "storage");
    m->name = lake_strdup(a, name && name[0] ? name : "memory");
    if (!m->name) {
        lake_free(a, m);
        return lake_error_oom(err, "storage");
    }
    m->base.vt = &mem_vtable;
    m->base.alloc = a;
    m->base.name = m->name;
    lake_buf_init(&m->bytes, a, 0);
    *out = &m->base;
    return LAKE_OK;
}

const void *lake_output_memory_bytes(const lake_output *o, size_t *len)
{
    if (!o || o->vt != &mem_vtable) {
        *len = 0;
        return NULL;
    }
    const mem_output *m = (const mem_output *)o;
    *len = m->bytes.len;
    return m->bytes.data;
}
