/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_output.c - S3 outputs and the request engine without a server:
 * argument checks, an OOM sweep of opening and freeing an output, and
 * connection failures on a closed loopback port (retried, then reported
 * with the target and the attempt count). */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lake_common.h"
#include "storage/s3_client.h"

/* A loopback port with nothing listening: bind, read the port, close. */
static int closed_port(void)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static lake_s3_client *client_for(int port, const lake_allocator *alloc)
{
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
    const lake_s3_opts o = {.alloc = alloc,
                            .endpoint = endpoint,
                            .access_key_id = "AKIDEXAMPLE",
                            .secret_access_key = "canary-secret-xyz",
                            .max_retries = 2,
                            .retry_base_ms = 1,
                            .timeout_ms = 2000};
    lake_s3_client *c = NULL;
    assert_int_equal(lake_s3_client_new(&o, &c, NULL), LAKE_OK);
    return c;
}

static void test_s3__output_bad_arguments(void **state)
{
    (void)state;
    lake_s3_client *c = client_for(closed_port(), NULL);
    lake_output *o = NULL;
    lake_error err;
    assert_int_equal(lake_output_open_s3(c, "", "k", NULL, &o, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_output_open_s3(c, "b", NULL, NULL, &o, &err),
                     LAKE_EINVAL);
    assert_null(o);
    lake_s3_client_free(c);
}

static void test_s3__output_oom_sweep(void **state)
{
    (void)state;
    const int port = closed_port();
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_s3_client *c = NULL;
        char endpoint[64];
        snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
        const lake_s3_opts opts = {.alloc = &fa.base,
                                   .endpoint = endpoint,
                                   .access_key_id = "AK",
                                   .secret_access_key = "SK"};
        lake_status rc = lake_s3_client_new(&opts, &c, NULL);
        lake_output *o = NULL;
        if (rc == LAKE_OK)
            rc = lake_output_open_s3(c, "bucket", "a/key.parquet", NULL, &o,
                                     NULL);
        /* Small writes stay in the part buffer: no request is sent. */
        if (rc == LAKE_OK)
            rc = lake_output_write(o, "0123456789", 10, NULL);
        if (rc == LAKE_OK)
            assert_string_equal(lake_output_name(o),
                                "s3://bucket/a/key.parquet");
        lake_output_free(o);
        lake_s3_client_free(c);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
}

static void test_s3__connection_refused_is_retried_then_reported(
    void **state)
{
    (void)state;
    lake_s3_client *c = client_for(closed_port(), NULL);
    lake_error err;
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(lake_s3_get_object(c, "bucket", "dir/x y.json", 0,
                                        &data, &len, &err),
                     LAKE_ENET);
    assert_null(data);
    assert_non_null(strstr(err.message, "s3: GET s3://bucket/dir/x y.json: "));
    assert_non_null(strstr(err.message, "after 3 attempts"));
    assert_null(strstr(err.message, "canary-secret-xyz"));
    /* A commit that must upload fails the same way; the output refuses
     * more bytes afterwards. */
    lake_output *o = NULL;
    assert_int_equal(lake_output_open_s3(c, "bucket", "k", NULL, &o, &err),
                     LAKE_OK);
    assert_int_equal(lake_output_write(o, "x", 1, &err), LAKE_OK);
    assert_int_equal(lake_output_commit(o, &err), LAKE_ENET);
    assert_non_null(strstr(err.message, "PUT s3://bucket/k"));
    assert_int_equal(lake_output_write(o, "x", 1, &err), LAKE_EINVAL);
    lake_output_free(o);
    lake_s3_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3__output_bad_arguments),
        cmocka_unit_test(test_s3__output_oom_sweep),
        cmocka_unit_test(test_s3__connection_refused_is_retried_then_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
