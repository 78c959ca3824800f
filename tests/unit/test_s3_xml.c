/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_xml.c - parsing of S3's XML answers: listings, errors,
 * multipart and delete results, and hostile documents (DTD, entities,
 * deep nesting, huge text) that must be refused. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "storage/s3_xml.h"

static lake_status parse(const char *xml, lake_s3_xml_result *r,
                         lake_error *err)
{
    return lake_s3_xml_parse(xml, strlen(xml), NULL, r, err);
}

static void test_s3__xml_list_objects_v2(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>song%20data/</Prefix><KeyCount>2</KeyCount>"
        "<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
        "<Contents><Key>song%20data/A/a%2Bb.json</Key>"
        "<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>1234</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>song%20data/B/%C3%BC.json</Key><Size>0</Size>"
        "</Contents>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
        "</NextContinuationToken><EncodingType>url</EncodingType>"
        "</ListBucketResult>";
    lake_s3_xml_result r;
    lake_error err;
    assert_int_equal(parse(xml, &r, &err), LAKE_OK);
    assert_string_equal(r.root, "ListBucketResult");
    assert_true(r.is_truncated);
    assert_true(r.url_encoded);
    assert_int_equal(r.n_entries, 2);
    assert_string_equal(r.entries[0].key, "song%20data/A/a%2Bb.json");
    assert_int_equal(r.entries[0].size_bytes, 1234);
    assert_string_equal(r.entries[1].key, "song%20data/B/%C3%BC.json");
    assert_string_equal(r.next_token,
                        "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    lake_s3_xml_result_free(&r);
}

static void test_s3__xml_error(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                      "<Error><Code>NoSuchKey</Code><Message>The specified "
                      "key does not exist.</Message><Key>a &amp; b</Key>"
                      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
    lake_s3_xml_result r;
    assert_int_equal(parse(xml, &r, NULL), LAKE_OK);
    assert_string_equal(r.root, "Error");
    assert_string_equal(r.code, "NoSuchKey");
    assert_string_equal(r.message, "The specified key does not exist.");
    assert_string_equal(r.request_id, "4442587FB7D0A2F9");
    lake_s3_xml_result_free(&r);
}

static void test_s3__xml_multipart_and_uploads(void **state)
{
    (void)state;
    lake_s3_xml_result r;
    assert_int_equal(
        parse("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
              "<UploadId>VXBsb2FkIElE</UploadId>"
              "</InitiateMultipartUploadResult>",
              &r, NULL),
        LAKE_OK);
    assert_string_equal(r.upload_id, "VXBsb2FkIElE");
    lake_s3_xml_result_free(&r);

    assert_int_equal(
        parse("<ListMultipartUploadsResult><Bucket>b</Bucket>"
              "<NextKeyMarker>k2</NextKeyMarker>"
              "<NextUploadIdMarker>u2</NextUploadIdMarker>"
              "<IsTruncated>false</IsTruncated>"
              "<Upload><Key>k1</Key><UploadId>u1</UploadId>"
              "<Initiator><ID>x</ID></Initiator></Upload>"
              "<Upload><Key>k2</Key><UploadId>u2</UploadId></Upload>"
              "</ListMultipartUploadsResult>",
              &r, NULL),
        LAKE_OK);
    assert_int_equal(r.n_entries, 2);
    assert_string_equal(r.entries[1].key, "k2");
    assert_string_equal(r.entries[1].upload_id, "u2");
    assert_null(r.upload_id); /* nested UploadIds are the entries' */
    assert_string_equal(r.next_key_marker, "k2");
    assert_false(r.is_truncated);
    lake_s3_xml_result_free(&r);

    /* CompleteMultipartUpload may answer 200 with an error document. */
    assert_int_equal(parse("<Error><Code>InternalError</Code><Message>We "
                           "encountered an internal error.</Message>"
                           "<RequestId>R1</RequestId></Error>",
                           &r, NULL),
                     LAKE_OK);
    assert_string_equal(r.root, "Error");
    assert_string_equal(r.code, "InternalError");
    lake_s3_xml_result_free(&r);
}

static void test_s3__xml_delete_result(void **state)
{
    (void)state;
    lake_s3_xml_result r;
    assert_int_equal(
        parse("<DeleteResult><Deleted><Key>a</Key></Deleted>"
              "<Error><Key>b</Key><Code>AccessDenied</Code>"
              "<Message>Access Denied</Message></Error>"
              "<Error><Key>c</Key><Code>InternalError</Code></Error>"
              "</DeleteResult>",
              &r, NULL),
        LAKE_OK);
    assert_int_equal(r.n_errors, 2);
    assert_string_equal(r.error_key, "b");
    assert_string_equal(r.code, "AccessDenied");
    lake_s3_xml_result_free(&r);
}

static void test_s3__xml_hostile_refused(void **state)
{
    (void)state;
    const char *hostile[] = {
        /* billion laughs */
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
        "<Error><Code>&lol2;</Code></Error>",
        /* external entity */
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "
        "\"file:///etc/passwd\">]><Error><Code>&xxe;</Code></Error>",
        /* a bare DTD */
        "<!DOCTYPE Error SYSTEM \"http://127.0.0.1:1/x.dtd\"><Error/>",
        /* undefined entity */
        "<Error><Code>&nope;</Code></Error>",
        /* malformed */
        "<ListBucketResult><Contents><Key>a</Contents>",
        "",
        "not xml at all",
        "<ListBucketResult><Contents><Size>12x</Size></Contents>"
        "</ListBucketResult>",
    };
    for (size_t i = 0; i < LAKE_ARRAY_LEN(hostile); i++) {
        lake_s3_xml_result r;
        lake_error err;
        lake_error_clear(&err);
        const lake_status rc = parse(hostile[i], &r, &err);
        assert_int_equal(rc, LAKE_EPARSE);
        assert_non_null(strstr(err.message, "s3: bad XML answer"));
        assert_null(strstr(err.message, "root:")); /* no file content */
        lake_s3_xml_result_free(&r);
    }
}

static void test_s3__xml_limits(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(lake_buf_append_str(&b, "<a>"), LAKE_OK);
    lake_s3_xml_result r;
    lake_error err;
    assert_int_equal(lake_s3_xml_parse(b.data, b.len, NULL, &r, &err),
                     LAKE_ETOOBIG);
    lake_s3_xml_result_free(&r);
    b.len = 0;
    assert_int_equal(lake_buf_append_str(&b, "<Error><Code>"), LAKE_OK);
    for (int i = 0; i < 70000; i++)
        assert_int_equal(lake_buf_append_byte(&b, 'x'), LAKE_OK);
    assert_int_equal(lake_buf_append_str(&b, "</Code></Error>"), LAKE_OK);
    assert_int_equal(lake_s3_xml_parse(b.data, b.len, NULL, &r, &err),
                     LAKE_ETOOBIG);
    lake_s3_xml_result_free(&r);
    lake_buf_reset(&b);
}

static void test_s3__xml_oom_sweep(void **state)
{
    (void)state;
    const char *xml = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                      "<Contents><Key>a</Key><Size>1</Size></Contents>"
                      "<Contents><Key>b</Key><Size>2</Size></Contents>"
                      "<NextContinuationToken>t</NextContinuationToken>"
                      "</ListBucketResult>";
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_s3_xml_result r;
        const lake_status rc =
            lake_s3_xml_parse(xml, strlen(xml), &fa.base, &r, NULL);
        lake_s3_xml_result_free(&r);
        assert_int_equal(fa.n_live, 0);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3__xml_list_objects_v2),
        cmocka_unit_test(test_s3__xml_error),
        cmocka_unit_test(test_s3__xml_multipart_and_uploads),
        cmocka_unit_test(test_s3__xml_delete_result),
        cmocka_unit_test(test_s3__xml_hostile_refused),
        cmocka_unit_test(test_s3__xml_limits),
        cmocka_unit_test(test_s3__xml_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
