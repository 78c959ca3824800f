/* SPDX-License-Identifier: Apache-2.0 */
/* s3_curl.h - libcurl, loaded on first use.
 *
 * libcurl and the ~30 shared libraries it pulls in (TLS, Kerberos, LDAP,
 * SSH, IDN, ...) cost ~7 ms at every process start, which is most of the
 * start-to-exit time of a local run that never talks to S3. So liblake
 * does not link libcurl: the first S3 client dlopen()s libcurl.so.4 and
 * takes the functions it uses from it. Only the S3 client uses this. */
#ifndef LAKE_S3_CURL_H
#define LAKE_S3_CURL_H

#include <curl/curl.h>

#include "lake.h"

typedef struct s3_curl {
    CURLcode (*global_init)(long flags); /* called by s3_curl_load() */
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *extra,
                            unsigned int n_extra, int timeout_ms, int *ret);
    CURLMsg *(*multi_info_read)(CURLM *m, int *queued);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} s3_curl;

/* Sets *out to the loaded table (curl_global_init done), or fails with
 * LAKE_ENET when libcurl is missing or older than 7.85 (the message names
 * the library tried). Loads once
 * per process; a failed load is tried again on the next call.
 * Thread-safe. The environment variable SPARKIFY_LIBCURL names another
 * library file (tests). */
lake_status s3_curl_load(const s3_curl **out, lake_error *err);

/* The table after a successful s3_curl_load(), else NULL. */
const s3_curl *s3_curl_loaded(void);

#endif
