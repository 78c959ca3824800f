/* SPDX-License-Identifier: Apache-2.0 */
/* lake_error.c - status names and the caller-owned error record. */
#include "fmacros.h"

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "lake_internal.h"

const char *lake_status_str(lake_status code)
{
    switch (code) {
    case LAKE_OK:
        return "LAKE_OK";
    case LAKE_EINVAL:
        return "LAKE_EINVAL";
    case LAKE_ENOMEM:
        return "LAKE_ENOMEM";
    case LAKE_ETOOBIG:
        return "LAKE_ETOOBIG";
    case LAKE_EPARSE:
        return "LAKE_EPARSE";
    case LAKE_EIO:
        return "LAKE_EIO";
    case LAKE_ENET:
        return "LAKE_ENET";
    case LAKE_EREMOTE:
        return "LAKE_EREMOTE";
    case LAKE_EBADDATA:
        return "LAKE_EBADDATA";
    }
    return "LAKE_E?";
}

const char *lake_version(void)
{
    return LAKE_VERSION_STRING;
}

lake_status lake_error_setv(lake_error *err,
                            lake_status code,
                            const char *fmt,
                            va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->offset = -1;
    const int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    if (n < 0)
        err->message[0] = '\0';
    /* Never a newline inside: a message is one line of a log. */
    for (char *p = err->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

lake_status lake_error_set(lake_error *err,
                           lake_status code,
                           const char *fmt,
                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    lake_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

lake_status lake_error_errno(lake_error *err,
                             int errnum,
                             const char *fmt,
                             ...)
{
    if (!err)
        return LAKE_EIO;
    va_list ap;
    va_start(ap, fmt);
    lake_error_setv(err, LAKE_EIO, fmt, ap);
    va_end(ap);
    const size_t len = strlen(err->message);
    char ebuf[128];
    const char *msg = ebuf;
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    msg = strerror_r(errnum, ebuf, sizeof(ebuf));
#else
    if (strerror_r(errnum, ebuf, sizeof(ebuf)) != 0)
        snprintf(ebuf, sizeof(ebuf), "errno %d", errnum);
#endif
    snprintf(err->message + len, sizeof(err->message) - len, ": %s", msg);
    return LAKE_EIO;
}

void lake_error_clear(lake_error *err)
{
    if (!err)
        return;
    err->code = LAKE_OK;
    err->offset = -1;
    err->message[0] = '\0';
}

lake_status lake_error_oom(lake_error *err, const char *stage)
{
    return lake_error_set(err, LAKE_ENOMEM, "%s: out of memory", stage);
}
