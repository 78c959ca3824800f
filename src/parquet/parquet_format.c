/* SPDX-License-Identifier: Apache-2.0 */
/* parquet_format.c - serializers of the small parquet.thrift structs that
 * depend only on the schema. */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "parquet/parquet_format.h"
#include "lake_internal.h"

void lake_pq_write_schema_element(lake_tc_writer *tc,
                                  const char *name,
                                  lake_pq_type type,
                                  bool nullable)
{
    lake_tc_struct_begin(tc);
    lake_tc_field_i32(tc, LAKE_PQ_SE_TYPE, lake_pq_physical_type(type));
    lake_tc_field_i32(tc, LAKE_PQ_SE_REPETITION,
                      nullable ? LAKE_PQ_OPTIONAL : LAKE_PQ_REQUIRED);
    lake_tc_field_string(tc, LAKE_PQ_SE_NAME, name);
    if (type == LAKE_PQ_STRING) {
        lake_tc_field_i32(tc, LAKE_PQ_SE_CONVERTED_TYPE, LAKE_PQ_CT_UTF8);
        lake_tc_field_struct(tc, LAKE_PQ_SE_LOGICAL_TYPE);
        lake_tc_field_struct(tc, LAKE_PQ_LT_STRING);
        lake_tc_struct_end(tc); /* StringType {} */
        lake_tc_struct_end(tc); /* LogicalType */
    } else if (type == LAKE_PQ_TIMESTAMP_US) {
        lake_tc_field_i32(tc, LAKE_PQ_SE_CONVERTED_TYPE,
                          LAKE_PQ_CT_TIMESTAMP_MICROS);
        lake_tc_field_struct(tc, LAKE_PQ_SE_LOGICAL_TYPE);
        lake_tc_field_struct(tc, LAKE_PQ_LT_TIMESTAMP);
        lake_tc_field_bool(tc, LAKE_PQ_TS_IS_ADJUSTED_TO_UTC, true);
        lake_tc_field_struct(tc, LAKE_PQ_TS_UNIT);
        lake_tc_field_struct(tc, LAKE_PQ_UNIT_MICROS);
        lake_tc_struct_end(tc); /* MicroSeconds {} */
        lake_tc_struct_end(tc); /* TimeUnit */
        lake_tc_struct_end(tc); /* TimestampType */
        lake_tc_struct_end(tc); /* LogicalType */
    }
    lake_tc_struct_end(tc);
}
