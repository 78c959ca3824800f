/* SPDX-License-Identifier: Apache-2.0 */
/* lake_output.c - dispatch of the lake_output calls to their back end. */
#include "fmacros.h"

#include "lake_output_impl.h"
#include "lake_internal.h"

lake_status lake_output_write(lake_output *o,
                              const void *bytes,
                              size_t n,
                              lake_error *err)
{
    if (o->committed || o->failed)
        return lake_error_set(err, LAKE_EINVAL,
                              "output: write after %s",
                              o->committed ? "commit" : "failure");
    const lake_status rc = o->vt->write(o, bytes, n, err);
    if (rc != LAKE_OK) {
        o->failed = true;
        return rc;
    }
    o->size_bytes += (int64_t)n;
    return LAKE_OK;
}

const char *lake_output_name(const lake_output *o)
{
    return o->name;
}

int64_t lake_output_size(const lake_output *o)
{
    return o->size_bytes;
}

lake_status lake_output_commit(lake_output *o, lake_error *err)
{
    if (o->committed)
        return LAKE_OK;
    if (o->failed)
        return lake_error_set(err, LAKE_EINVAL,
                              "output: commit after a failed write");
    const lake_status rc = o->vt->commit(o, err);
    if (rc == LAKE_OK)
        o->committed = true;
    else
        o->failed = true;
    return rc;
}

void lake_output_free(lake_output *o)
{
    if (o)
        o->vt->destroy(o);
}
