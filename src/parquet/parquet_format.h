/* SPDX-License-Identifier: Apache-2.0 */
/* parquet_format.h - the numbers of apache/parquet-format's parquet.thrift
 * that the writer uses: enum values and the field ids of each struct. */
#ifndef LAKE_PARQUET_FORMAT_H
#define LAKE_PARQUET_FORMAT_H
#include "lake_common.h"
#include "parquet/thrift_compact.h"

#define LAKE_PQ_MAGIC "PAR1"
#define LAKE_PQ_CREATED_BY                                                    \
    "sparkify version " LAKE_VERSION_STRING " (build liblake)"
/* String min/max longer than this are left out of statistics rather than
 * truncated (a truncated bound is no longer exact). */
#define LAKE_PQ_STATS_MAX_BYTES 4096

/* enum Type */
enum {
    LAKE_PQ_T_BOOLEAN = 0,
    LAKE_PQ_T_INT32 = 1,
    LAKE_PQ_T_INT64 = 2,
    LAKE_PQ_T_DOUBLE = 5,
    LAKE_PQ_T_BYTE_ARRAY = 6
};
/* enum ConvertedType */
enum { LAKE_PQ_CT_UTF8 = 0, LAKE_PQ_CT_TIMESTAMP_MICROS = 10 };
/* enum FieldRepetitionType */
enum { LAKE_PQ_REQUIRED = 0, LAKE_PQ_OPTIONAL = 1 };
/* enum Encoding */
enum {
    LAKE_PQ_ENC_PLAIN = 0,
    LAKE_PQ_ENC_RLE = 3,
    LAKE_PQ_ENC_RLE_DICTIONARY = 8
};
/* enum CompressionCodec */
enum {
    LAKE_PQ_CODEC_UNCOMPRESSED = 0,
    LAKE_PQ_CODEC_SNAPPY = 1,
    LAKE_PQ_CODEC_ZSTD = 6
};
/* enum PageType */
enum { LAKE_PQ_PAGE_DATA = 0, LAKE_PQ_PAGE_DICTIONARY = 2 };

/* struct Statistics */
enum {
    LAKE_PQ_STATS_NULL_COUNT = 3,
    LAKE_PQ_STATS_MAX_VALUE = 5,
    LAKE_PQ_STATS_MIN_VALUE = 6,
    LAKE_PQ_STATS_IS_MAX_EXACT = 7,
    LAKE_PQ_STATS_IS_MIN_EXACT = 8
};
/* struct PageHeader, DataPageHeader, DictionaryPageHeader */
enum {
    LAKE_PQ_PH_TYPE = 1,
    LAKE_PQ_PH_UNCOMPRESSED = 2,
    LAKE_PQ_PH_COMPRESSED = 3,
    LAKE_PQ_PH_DATA_HEADER = 5,
    LAKE_PQ_PH_DICT_HEADER = 7,
    LAKE_PQ_DPH_NUM_VALUES = 1,
    LAKE_PQ_DPH_ENCODING = 2,
    LAKE_PQ_DPH_DEF_ENCODING = 3,
    LAKE_PQ_DPH_REP_ENCODING = 4,
    LAKE_PQ_DPH_STATISTICS = 5,
    LAKE_PQ_DICTH_NUM_VALUES = 1,
    LAKE_PQ_DICTH_ENCODING = 2
};
/* struct SchemaElement, LogicalType, TimestampType, TimeUnit */
enum {
    LAKE_PQ_SE_TYPE = 1,
    LAKE_PQ_SE_REPETITION = 3,
    LAKE_PQ_SE_NAME = 4,
    LAKE_PQ_SE_NUM_CHILDREN = 5,
    LAKE_PQ_SE_CONVERTED_TYPE = 6,
    LAKE_PQ_SE_LOGICAL_TYPE = 10,
    LAKE_PQ_LT_STRING = 1,
    LAKE_PQ_LT_TIMESTAMP = 8,
    LAKE_PQ_TS_IS_ADJUSTED_TO_UTC = 1,
    LAKE_PQ_TS_UNIT = 2,
    LAKE_PQ_UNIT_MICROS = 2
};
/* struct ColumnMetaData, ColumnChunk, PageEncodingStats, RowGroup */
enum {
    LAKE_PQ_CMD_TYPE = 1,
    LAKE_PQ_CMD_ENCODINGS = 2,
    LAKE_PQ_CMD_PATH = 3,
    LAKE_PQ_CMD_CODEC = 4,
    LAKE_PQ_CMD_NUM_VALUES = 5,
    LAKE_PQ_CMD_UNCOMPRESSED = 6,
    LAKE_PQ_CMD_COMPRESSED = 7,
    LAKE_PQ_CMD_DATA_PAGE_OFFSET = 9,
    LAKE_PQ_CMD_DICT_PAGE_OFFSET = 11,
    LAKE_PQ_CMD_STATISTICS = 12,
    LAKE_PQ_CMD_ENCODING_STATS = 13,
    LAKE_PQ_CC_FILE_OFFSET = 2,
    LAKE_PQ_CC_META_DATA = 3,
    LAKE_PQ_PES_PAGE_TYPE = 1,
    LAKE_PQ_PES_ENCODING = 2,
    LAKE_PQ_PES_COUNT = 3,
    LAKE_PQ_RG_COLUMNS = 1,
    LAKE_PQ_RG_TOTAL_BYTE_SIZE = 2,
    LAKE_PQ_RG_NUM_ROWS = 3,
    LAKE_PQ_RG_FILE_OFFSET = 5,
    LAKE_PQ_RG_TOTAL_COMPRESSED = 6,
    LAKE_PQ_RG_ORDINAL = 7
};
/* struct FileMetaData, KeyValue */
enum {
    LAKE_PQ_FMD_VERSION = 1,
    LAKE_PQ_FMD_SCHEMA = 2,
    LAKE_PQ_FMD_NUM_ROWS = 3,
    LAKE_PQ_FMD_ROW_GROUPS = 4,
    LAKE_PQ_FMD_KV = 5,
    LAKE_PQ_FMD_CREATED_BY = 6,
    LAKE_PQ_FMD_COLUMN_ORDERS = 7,
    LAKE_PQ_KV_KEY = 1,
    LAKE_PQ_KV_VALUE = 2
};

/* The physical type of a column of type @p t. */
static inline int32_t lake_pq_physical_type(lake_pq_type t)
{
    switch (t) {
    case LAKE_PQ_STRING:
        return LAKE_PQ_T_BYTE_ARRAY;
    case LAKE_PQ_INT32:
        return LAKE_PQ_T_INT32;
    case LAKE_PQ_DOUBLE:
        return LAKE_PQ_T_DOUBLE;
    case LAKE_PQ_INT64:
    case LAKE_PQ_TIMESTAMP_US:
        break;
    }
    return LAKE_PQ_T_INT64;
}

/* The CompressionCodec number of @p c. */
static inline int32_t lake_pq_codec_id(lake_codec c)
{
    switch (c) {
    case LAKE_CODEC_SNAPPY:
        return LAKE_PQ_CODEC_SNAPPY;
    case LAKE_CODEC_ZSTD:
        return LAKE_PQ_CODEC_ZSTD;
    case LAKE_CODEC_NONE:
        break;
    }
    return LAKE_PQ_CODEC_UNCOMPRESSED;
}

/* Serialize the SchemaElement of a leaf column (a list element). STRING
 * carries ConvertedType UTF8 and LogicalType STRING; TIMESTAMP_US carries
 * TIMESTAMP_MICROS and TIMESTAMP(isAdjustedToUTC=true, MICROS). */
void lake_pq_write_schema_element(lake_tc_writer *tc,
                                  const char *name,
                                  lake_pq_type type,
                                  bool nullable);
#endif
