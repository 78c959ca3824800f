/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_sign.c - SigV4 against AWS's published vectors (the signing test
 * suite kept in awslabs/aws-c-auth, and the S3 GET-object example of the
 * S3 API reference), URI encoding and the canonical query. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "storage/s3_sign.h"

#define SUITE_KEY_ID "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE   "20150830T123600Z"
#define SUITE_HOST   "example.amazonaws.com"
#define SUITE_SCOPE  "20150830/us-east-1/service/aws4_request"

/* Sign a suite request (GET, headers host + x-amz-date [+ token]) and
 * return the signature part of the Authorization value. */
static void sign_suite(const char *uri,
                       const lake_s3_param *params,
                       size_t n_params,
                       const char *token,
                       lake_buf *creq,
                       lake_buf *sts,
                       lake_buf *auth)
{
    lake_buf q;
    lake_buf_init(&q, NULL, 0);
    lake_buf path;
    lake_buf_init(&path, NULL, 0);
    assert_int_equal(lake_s3_uri_encode(&path, uri, strlen(uri), true),
                     LAKE_OK);
    assert_int_equal(lake_s3_canonical_query(params, n_params, &q), LAKE_OK);
    lake_s3_header h[3] = {{"x-amz-date", SUITE_DATE},
                           {"host", SUITE_HOST},
                           {"x-amz-security-token", token}};
    const lake_s3_sign_in in = {
        .method = "GET",
        .canonical_uri = path.data,
        .canonical_query = q.data ? q.data : "",
        .headers = h,
        .n_headers = token ? 3 : 2,
        .payload_hash = LAKE_S3_EMPTY_SHA256,
        .amz_date = SUITE_DATE,
        .region = "us-east-1",
        .service = "service",
        .access_key_id = SUITE_KEY_ID,
        .secret_access_key = SUITE_SECRET,
    };
    assert_int_equal(lake_s3_sign(&in, creq, sts, auth), LAKE_OK);
    lake_buf_reset(&q);
    lake_buf_reset(&path);
}

static void expect_auth(const lake_buf *auth,
                        const char *signed_headers,
                        const char *signature)
{
    char want[400];
    snprintf(want, sizeof(want),
             "AWS4-HMAC-SHA256 Credential=" SUITE_KEY_ID "/" SUITE_SCOPE
             ", SignedHeaders=%s, Signature=%s",
             signed_headers, signature);
    assert_string_equal(auth->data, want);
}

static void test_s3__sign_get_vanilla(void **state)
{
    (void)state;
    lake_buf creq, sts, auth;
    lake_buf_init(&creq, NULL, 0);
    lake_buf_init(&sts, NULL, 0);
    lake_buf_init(&auth, NULL, 0);
    sign_suite("/", NULL, 0, NULL, &creq, &sts, &auth);
    assert_string_equal(creq.data, "GET\n/\n\n"
                                   "host:example.amazonaws.com\n"
                                   "x-amz-date:20150830T123600Z\n\n"
                                   "host;x-amz-date\n" LAKE_S3_EMPTY_SHA256);
    assert_string_equal(sts.data,
                        "AWS4-HMAC-SHA256\n" SUITE_DATE "\n" SUITE_SCOPE
                        "\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129"
                        "b6e1c25292927e63");
    expect_auth(&auth, "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d"
                "763fbf31");
    lake_buf_reset(&creq);
    lake_buf_reset(&sts);
    lake_buf_reset(&auth);
}

static void test_s3__sign_query_order_key_case(void **state)
{
    (void)state;
    const lake_s3_param p[] = {{"Param2", "value2"}, {"Param1", "value1"}};
    lake_buf creq, auth;
    lake_buf_init(&creq, NULL, 0);
    lake_buf_init(&auth, NULL, 0);
    sign_suite("/", p, 2, NULL, &creq, NULL, &auth);
    assert_non_null(strstr(creq.data, "\n/\nParam1=value1&Param2=value2\n"));
    expect_auth(&auth, "host;x-amz-date",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94c"
                "df2500");
    lake_buf_reset(&creq);
    lake_buf_reset(&auth);
}

static void test_s3__sign_utf8_path(void **state)
{
    (void)state;
    lake_buf creq, auth;
    lake_buf_init(&creq, NULL, 0);
    lake_buf_init(&auth, NULL, 0);
    sign_suite("/\xe1\x88\xb4", NULL, 0, NULL, &creq, NULL, &auth);
    assert_non_null(strstr(creq.data, "GET\n/%E1%88%B4\n\n"));
    expect_auth(&auth, "host;x-amz-date",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141"
                "be5d85");
    lake_buf_reset(&creq);
    lake_buf_reset(&auth);
}

static void test_s3__sign_space_unnormalized(void **state)
{
    (void)state;
    lake_buf creq, auth;
    lake_buf_init(&creq, NULL, 0);
    lake_buf_init(&auth, NULL, 0);
    sign_suite("/example space/", NULL, 0, NULL, &creq, NULL, &auth);
    assert_non_null(strstr(creq.data, "GET\n/example%20space/\n\n"));
    expect_auth(&auth, "host;x-amz-date",
                "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1"
                "366741");
    lake_buf_reset(&creq);
    lake_buf_reset(&auth);
}

static void test_s3__sign_session_token(void **state)
{
    (void)state;
    lake_buf auth;
    lake_buf_init(&auth, NULL, 0);
    sign_suite("/", NULL, 0,
               "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf"
               "194267",
               NULL, NULL, &auth);
    expect_auth(&auth, "host;x-amz-date;x-amz-security-token",
                "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f"
                "74e7f8");
    lake_buf_reset(&auth);
}

/* The S3 API reference's GET-object example (header-based auth). */
static void test_s3__sign_s3_get_object_example(void **state)
{
    (void)state;
    const lake_s3_header h[] = {
        {"host", "examplebucket.s3.amazonaws.com"},
        {"range", "bytes=0-9"},
        {"x-amz-content-sha256", LAKE_S3_EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
    };
    const lake_s3_sign_in in = {
        .method = "GET",
        .canonical_uri = "/test.txt",
        .canonical_query = "",
        .headers = h,
        .n_headers = 4,
        .payload_hash = LAKE_S3_EMPTY_SHA256,
        .amz_date = "20130524T000000Z",
        .region = "us-east-1",
        .service = "s3",
        .access_key_id = "AKIAIOSFODNN7EXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    lake_buf sts, auth;
    lake_buf_init(&sts, NULL, 0);
    lake_buf_init(&auth, NULL, 0);
    assert_int_equal(lake_s3_sign(&in, NULL, &sts, &auth), LAKE_OK);
    assert_string_equal(sts.data,
                        "AWS4-HMAC-SHA256\n20130524T000000Z\n"
                        "20130524/us-east-1/s3/aws4_request\n"
                        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2d"
                        "c43964946972");
    assert_string_equal(
        auth.data,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
        "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
        "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd3"
        "5b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    assert_null(strstr(auth.data, "EXAMPLEKEY"));
    lake_buf_reset(&sts);
    lake_buf_reset(&auth);
}

static void test_s3__uri_encode_rules(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    const char *key = "song_data/A b+c%d~e.f-g_h/\xc3\xbc=?&*";
    assert_int_equal(lake_s3_uri_encode(&b, key, strlen(key), true),
                     LAKE_OK);
    assert_string_equal(b.data,
                        "song_data/A%20b%2Bc%25d~e.f-g_h/%C3%BC%3D%3F%26%2A");
    b.len = 0;
    assert_int_equal(lake_s3_uri_encode(&b, "a/b", 3, false), LAKE_OK);
    assert_string_equal(b.data, "a%2Fb");
    lake_buf_reset(&b);

    char enc[] = "a%20b%2Bc+%C3%BC";
    size_t len = strlen(enc);
    assert_int_equal(lake_s3_uri_decode(enc, &len), LAKE_OK);
    assert_string_equal(enc, "a b+c+\xc3\xbc");
    char bad[] = "abc%2";
    len = strlen(bad);
    assert_int_equal(lake_s3_uri_decode(bad, &len), LAKE_EPARSE);
    char bad2[] = "%zz";
    len = strlen(bad2);
    assert_int_equal(lake_s3_uri_decode(bad2, &len), LAKE_EPARSE);
}

static void test_s3__canonical_query_sorted_and_encoded(void **state)
{
    (void)state;
    const lake_s3_param p[] = {{"prefix", "song data/A+B"},
                               {"list-type", "2"},
                               {"continuation-token", "1/x=="},
                               {"uploads", NULL},
                               {"a", "2"},
                               {"a", "1"},
                               {"a1", "0"}};
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_s3_canonical_query(p, LAKE_ARRAY_LEN(p), &b),
                     LAKE_OK);
    assert_string_equal(b.data, "a=1&a=2&a1=0&continuation-token=1%2Fx%3D%3D&"
                                "list-type=2&prefix=song%20data%2FA%2BB&"
                                "uploads=");
    lake_buf_reset(&b);
}

static void test_s3__sign_oom_sweep(void **state)
{
    (void)state;
    const lake_s3_header h[] = {{"host", "h"}, {"x-amz-date", SUITE_DATE}};
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        const lake_s3_sign_in in = {"GET", "/", "", h, 2,
                                    LAKE_S3_EMPTY_SHA256, SUITE_DATE,
                                    "us-east-1", "s3", "AK", "SK"};
        lake_buf creq, sts, auth;
        lake_buf_init(&creq, &fa.base, 0);
        lake_buf_init(&sts, &fa.base, 0);
        lake_buf_init(&auth, &fa.base, 0);
        const lake_status rc = lake_s3_sign(&in, &creq, &sts, &auth);
        lake_buf_reset(&creq);
        lake_buf_reset(&sts);
        lake_buf_reset(&auth);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
}

static void test_s3__md5_and_date(void **state)
{
    (void)state;
    char md5[25], date[17];
    lake_s3_md5_base64("", 0, md5);
    assert_string_equal(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    lake_s3_amz_date(1440938160, date);
    assert_string_equal(date, SUITE_DATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3__sign_get_vanilla),
        cmocka_unit_test(test_s3__sign_query_order_key_case),
        cmocka_unit_test(test_s3__sign_utf8_path),
        cmocka_unit_test(test_s3__sign_space_unnormalized),
        cmocka_unit_test(test_s3__sign_session_token),
        cmocka_unit_test(test_s3__sign_s3_get_object_example),
        cmocka_unit_test(test_s3__uri_encode_rules),
        cmocka_unit_test(test_s3__canonical_query_sorted_and_encoded),
        cmocka_unit_test(test_s3__sign_oom_sweep),
        cmocka_unit_test(test_s3__md5_and_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
