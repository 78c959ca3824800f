/* SPDX-License-Identifier: Apache-2.0 */
/* s3_curl.c - dlopen() libcurl on first use (see s3_curl.h for why). */
#define _GNU_SOURCE 1 /* secure_getenv */
#include "fmacros.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "s3_curl.h"
#include "lake_internal.h"

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static s3_curl api;
static const s3_curl *loaded; /* &api once complete; under load_lock */

/* ISO C forbids converting void * to a function pointer; POSIX requires
 * dlsym's result to allow it. Copying the bytes says so without a cast. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "function pointers are as wide as data pointers");
#define LOAD(field, symbol)                                                  \
    do {                                                                     \
        void *sym_ = dlsym(h, symbol);                                       \
        if (!sym_) {                                                         \
            missing = symbol;                                                \
            goto fail;                                                       \
        }                                                                    \
        memcpy(&t.field, &sym_, sizeof(sym_));                               \
    } while (0)

/* CURLOPT_PROTOCOLS_STR came with 7.85.0; Debian 12 has 7.88.1. */
#define MIN_VERSION_NUM 0x075500
#define MIN_VERSION     "7.85.0"

static lake_status load_locked(lake_error *err)
{
    /* Not from the environment of a set-user-ID process. */
    const char *env = secure_getenv("SPARKIFY_LIBCURL");
    const char *name = env && *env ? env : "libcurl.so.4";
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return lake_error_set(err, LAKE_ENET,
                              "s3: cannot load %s (install libcurl4: S3 "
                              "needs it): %s",
                              name, why ? why : "not found");
    }
    s3_curl t;
    const char *missing = NULL;
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_reset, "curl_easy_reset");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(multi_init, "curl_multi_init");
    LOAD(multi_cleanup, "curl_multi_cleanup");
    LOAD(multi_setopt, "curl_multi_setopt");
    LOAD(multi_add_handle, "curl_multi_add_handle");
    LOAD(multi_remove_handle, "curl_multi_remove_handle");
    LOAD(multi_perform, "curl_multi_perform");
    LOAD(multi_poll, "curl_multi_poll"); /* 7.66 */
    LOAD(multi_info_read, "curl_multi_info_read");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    curl_version_info_data *(*version_info)(CURLversion);
    {
        void *sym = dlsym(h, "curl_version_info");
        if (!sym) {
            missing = "curl_version_info";
            goto fail;
        }
        memcpy(&version_info, &sym, sizeof(sym));
    }
    const curl_version_info_data *v = version_info(CURLVERSION_NOW);
    if (!v || v->version_num < MIN_VERSION_NUM) {
        dlclose(h);
        return lake_error_set(err, LAKE_ENET,
                              "s3: %s is libcurl %s; S3 needs >= " MIN_VERSION,
                              name, v && v->version ? v->version : "?");
    }
    /* Once per process, before any handle (thread-safe since 7.84). */
    if (t.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dlclose(h);
        return lake_error_set(err, LAKE_ENET, "s3: curl_global_init failed");
    }
    api = t;
    loaded = &api; /* never dlclose()d: handles may outlive any client */
    return LAKE_OK;
fail:
    dlclose(h);
    return lake_error_set(err, LAKE_ENET,
                          "s3: %s has no %s (S3 needs libcurl >= " MIN_VERSION
                          ")",
                          name, missing);
}

lake_status s3_curl_load(const s3_curl **out, lake_error *err)
{
    pthread_mutex_lock(&load_lock);
    const lake_status rc = loaded ? LAKE_OK : load_locked(err);
    *out = loaded;
    pthread_mutex_unlock(&load_lock);
    return rc;
}

const s3_curl *s3_curl_loaded(void)
{
    pthread_mutex_lock(&load_lock);
    const s3_curl *t = loaded;
    pthread_mutex_unlock(&load_lock);
    return t;
}
