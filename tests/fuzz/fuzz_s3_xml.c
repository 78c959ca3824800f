/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_s3_xml.c - libFuzzer target for the S3 XML answer parser
 * (ListObjectsV2, ListMultipartUploads, Error, multipart and delete
 * results) and the URL decoding applied to listed keys. */
#include "fmacros.h"

#include <stdint.h>
#include <string.h>

#include "lake_common.h"
#include "storage/s3_sign.h"
#include "storage/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lake_s3_xml_result r;
    lake_error err;
    if (lake_s3_xml_parse((const char *)data, size, NULL, &r, &err) ==
        LAKE_OK) {
        for (size_t i = 0; i < r.n_entries; i++) {
            if (!r.entries[i].key)
                continue;
            size_t len = strlen(r.entries[i].key);
            if (lake_s3_uri_decode(r.entries[i].key, &len) == LAKE_OK &&
                len > strlen(r.entries[i].key))
                __builtin_trap(); /* decoding never grows a key */
        }
    }
    lake_s3_xml_result_free(&r);
    return 0;
}
