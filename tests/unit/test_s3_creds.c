/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_creds.c - the credential chain (options, dl.cfg, environment,
 * profile files) with temporary files and environment variables, client
 * options and s3:// URIs. No request is sent. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "storage/s3_client.h"

static char tmpdir[256];

static void write_file(const char *name, const char *text, char *path,
                       size_t size)
{
    snprintf(path, size, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void clear_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
    setenv("HOME", tmpdir, 1); /* no ~/.aws of the machine */
}

static void test_s3__creds_ini_lookup(void **state)
{
    (void)state;
    const char *ini = "# comment\n[other]\naws_access_key_id = no\n"
                      "[ AWS ]\r\n  AWS_ACCESS_KEY_ID = 'AKIA1'  \r\n"
                      "; x = y\naws_secret_access_key=\"s e c\"\n";
    char v[64];
    assert_true(lake_s3_ini_get(ini, "AWS", "aws_access_key_id", v,
                                sizeof(v)));
    assert_string_equal(v, "AKIA1");
    assert_true(lake_s3_ini_get(ini, "AWS", "AWS_SECRET_ACCESS_KEY", v,
                                sizeof(v)));
    assert_string_equal(v, "s e c");
    assert_false(lake_s3_ini_get(ini, "AWS", "x", v, sizeof(v)));
    assert_false(lake_s3_ini_get(ini, "nope", "aws_access_key_id", v,
                                 sizeof(v)));
    char small[3];
    assert_false(lake_s3_ini_get(ini, "AWS", "aws_access_key_id", small,
                                 sizeof(small)));
}

static void test_s3__creds_chain_order(void **state)
{
    (void)state;
    clear_env();
    lake_s3_creds c;
    lake_error err;
    char dlcfg[512], creds[512], config[512];
    write_file("dl.cfg",
               "[AWS]\nAWS_ACCESS_KEY_ID=AKIADLCFG\n"
               "AWS_SECRET_ACCESS_KEY=secret-dlcfg\n",
               dlcfg, sizeof(dlcfg));
    write_file("credentials",
               "[default]\naws_access_key_id=AKIADEFAULT\n"
               "aws_secret_access_key=secret-default\n"
               "[dev]\naws_access_key_id = AKIADEV\n"
               "aws_secret_access_key = secret-dev\n"
               "aws_session_token = token-dev\n",
               creds, sizeof(creds));
    write_file("config",
               "[profile dev]\nregion = eu-west-1\n"
               "[profile cfgonly]\naws_access_key_id=AKIACFG\n"
               "aws_secret_access_key=secret-cfg\n",
               config, sizeof(config));
    setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
    setenv("AWS_CONFIG_FILE", config, 1);

    /* 4. profile files: default, then AWS_PROFILE with its region */
    lake_s3_opts o = {0};
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIADEFAULT");
    assert_string_equal(c.source, "profile");
    lake_s3_creds_free(NULL, &c);
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIADEV");
    assert_string_equal(c.session_token, "token-dev");
    assert_string_equal(c.region, "eu-west-1");
    lake_s3_creds_free(NULL, &c);
    setenv("AWS_PROFILE", "cfgonly", 1);
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIACFG");
    lake_s3_creds_free(NULL, &c);
    setenv("AWS_PROFILE", "missing", 1);
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message,
                        "s3: credentials: profile missing not found");

    /* 3. the environment beats the profile */
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    setenv("AWS_SESSION_TOKEN", "token-env", 1);
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIAENV");
    assert_string_equal(c.session_token, "token-env");
    assert_string_equal(c.source, "environment");
    lake_s3_creds_free(NULL, &c);

    /* 2. an explicit dl.cfg beats the environment */
    o.config_file = dlcfg;
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIADLCFG");
    assert_string_equal(c.secret_access_key, "secret-dlcfg");
    assert_null(c.session_token);
    lake_s3_creds_free(NULL, &c);

    /* 1. options beat everything; anonymous has no keys */
    o.access_key_id = "AKIAOPT";
    o.secret_access_key = "secret-opt";
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_string_equal(c.access_key_id, "AKIAOPT");
    lake_s3_creds_free(NULL, &c);
    o.anonymous = 1;
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_OK);
    assert_null(c.access_key_id);
    lake_s3_creds_free(NULL, &c);
    clear_env();
}

static void test_s3__creds_errors_name_no_secret(void **state)
{
    (void)state;
    clear_env();
    lake_s3_creds c;
    lake_error err;
    char path[512];
    write_file("half.cfg", "[AWS]\nAWS_ACCESS_KEY_ID=AKIAHALF\n", path,
               sizeof(path));
    lake_s3_opts o = {.config_file = path};
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "half.cfg"));
    assert_null(strstr(err.message, "AKIAHALF"));
    o.config_file = "/no/such/dl.cfg";
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "/no/such/dl.cfg"));
    o.config_file = NULL;
    o.secret_access_key = "topsecret";
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_EINVAL);
    assert_null(strstr(err.message, "topsecret"));
    o.secret_access_key = NULL;
    assert_int_equal(lake_s3_creds_resolve(&o, NULL, &c, &err), LAKE_EINVAL);
    assert_non_null(strstr(err.message, "none found"));
}

/* Runs before any other test makes a client: libcurl is loaded on first
 * use, and a failed load is retried on the next. */
static void test_s3__curl_load_failure(void **state)
{
    (void)state;
    clear_env();
    lake_s3_client *c = NULL;
    lake_error err;
    const lake_s3_opts o = {.anonymous = 1, .endpoint = "http://127.0.0.1:9"};
    setenv("SPARKIFY_LIBCURL", "/nonexistent/libcurl.so.4", 1);
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_ENET);
    assert_null(c);
    assert_non_null(strstr(err.message, "cannot load /nonexistent/libcurl"));
    setenv("SPARKIFY_LIBCURL", "libz.so.1", 1); /* no curl_* in it */
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_ENET);
    assert_non_null(strstr(err.message, "libz.so.1 has no curl_"));
    unsetenv("SPARKIFY_LIBCURL");
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_OK);
    lake_s3_client_free(c);
}

static void test_s3__client_options(void **state)
{
    (void)state;
    clear_env();
    lake_s3_client *c = NULL;
    lake_error err;
    lake_s3_opts o = {.anonymous = 1, .endpoint = "ftp://x"};
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_EINVAL);
    assert_null(c);
    o.endpoint = "http://user:pw@127.0.0.1:1";
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_EINVAL);
    assert_null(strstr(err.message, "pw"));
    o.endpoint = "http://127.0.0.1:9/";
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_OK);
    lake_s3_client_free(c);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
    o.endpoint = NULL;
    assert_int_equal(lake_s3_client_new(&o, &c, &err), LAKE_OK);
    lake_s3_client_free(c);
    clear_env();
    assert_int_equal(lake_s3_client_new(NULL, &c, &err), LAKE_EINVAL);

    char bucket[64];
    const char *key = NULL;
    assert_int_equal(lake_s3_parse_uri("s3://udacity-dend/song_data/A/",
                                       bucket, sizeof(bucket), &key, &err),
                     LAKE_OK);
    assert_string_equal(bucket, "udacity-dend");
    assert_string_equal(key, "song_data/A/");
    assert_int_equal(lake_s3_parse_uri("s3://b", bucket, sizeof(bucket),
                                       &key, &err),
                     LAKE_OK);
    assert_string_equal(key, "");
    assert_int_equal(lake_s3_parse_uri("/tmp/x", bucket, sizeof(bucket),
                                       &key, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_s3_parse_uri("s3:///k", bucket, sizeof(bucket),
                                       &key, &err),
                     LAKE_EINVAL);
}

static void test_s3__client_oom_sweep(void **state)
{
    (void)state;
    clear_env();
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        const lake_s3_opts o = {.alloc = &fa.base,
                                .endpoint = "http://127.0.0.1:9",
                                .access_key_id = "AK",
                                .secret_access_key = "SK",
                                .session_token = "T"};
        lake_s3_client *c = NULL;
        const lake_status rc = lake_s3_client_new(&o, &c, NULL);
        lake_s3_client_free(c);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
}

static int setup(void **state)
{
    (void)state;
    return lake_test_tmpdir_make(tmpdir, sizeof(tmpdir), "s3");
}

static int teardown(void **state)
{
    (void)state;
    return lake_test_tmpdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3__creds_ini_lookup),
        cmocka_unit_test(test_s3__creds_chain_order),
        cmocka_unit_test(test_s3__creds_errors_name_no_secret),
        cmocka_unit_test(test_s3__curl_load_failure),
        cmocka_unit_test(test_s3__client_options),
        cmocka_unit_test(test_s3__client_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
