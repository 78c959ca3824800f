/* SPDX-License-Identifier: Apache-2.0 */
/* simdjson_shim.cpp - the record reader's fast path: simdjson 3.0.1 DOM
 * behind an extern "C" interface, built with -fno-exceptions. The shim
 * object comes from the lake allocator; simdjson allocates its own tape
 * and string buffers with new(nothrow) and reports failure as MEMALLOC,
 * which we turn into LAKE_SJ_NOMEM. */
#include "fmacros.h"

#include <charconv>
#include <cstring>
#include <new>
#include <simdjson.h>
#include <system_error>

extern "C" {
#include "lake_common.h"
}
#include "ingest/ingest_json.h"

static_assert(simdjson::SIMDJSON_PADDING <= 64,
              "LAKE_READ_PADDING must cover simdjson's padding");
static_assert(simdjson::DEFAULT_MAX_DEPTH == LAKE_JSON_MAX_DEPTH,
              "the scanner and simdjson must agree on the depth limit");

struct lake_sj {
    const lake_allocator *alloc;
    simdjson::dom::parser parser;
};

extern "C" lake_status lake_sj_new(const lake_allocator *alloc,
                                   lake_sj **out,
                                   lake_error *err)
{
    *out = nullptr;
    alloc = lake_alloc_or_default(alloc);
    void *mem = lake_malloc(alloc, sizeof(lake_sj));
    if (!mem)
        return lake_error_oom(err, "ingest");
    lake_sj *sj = new (mem) lake_sj{alloc, simdjson::dom::parser()};
    *out = sj;
    return LAKE_OK;
}

extern "C" void lake_sj_free(lake_sj *sj)
{
    if (!sj)
        return;
    const lake_allocator *alloc = sj->alloc;
    sj->~lake_sj();
    lake_free(alloc, sj);
}

static void fill_value(simdjson::dom::element v, lake_jval *out)
{
    using simdjson::dom::element_type;
    out->s.ptr = nullptr;
    out->s.len = 0;
    out->num = LAKE_JN_LITERAL;
    switch (v.type()) {
    case element_type::OBJECT:
        out->kind = LAKE_JV_OBJECT;
        break;
    case element_type::ARRAY:
        out->kind = LAKE_JV_ARRAY;
        break;
    case element_type::STRING: {
        std::string_view sv;
        if (v.get_string().get(sv) != simdjson::SUCCESS)
            sv = std::string_view();
        out->kind = LAKE_JV_STRING;
        out->s.ptr = sv.data();
        out->s.len = sv.size();
        break;
    }
    case element_type::INT64:
        out->kind = LAKE_JV_NUMBER;
        out->num = LAKE_JN_INT64;
        if (v.get_int64().get(out->i64) != simdjson::SUCCESS)
            out->i64 = 0;
        out->d = double(out->i64);
        break;
    case element_type::UINT64: {
        uint64_t u = 0;
        if (v.get_uint64().get(u) != simdjson::SUCCESS)
            u = 0;
        out->kind = LAKE_JV_NUMBER;
        out->num = LAKE_JN_UINT64;
        out->d = double(u);
        break;
    }
    case element_type::DOUBLE:
        out->kind = LAKE_JV_NUMBER;
        out->num = LAKE_JN_DOUBLE;
        if (v.get_double().get(out->d) != simdjson::SUCCESS)
            out->d = 0;
        break;
    case element_type::BOOL:
        out->kind = LAKE_JV_BOOL;
        break;
    case element_type::NULL_VALUE:
        out->kind = LAKE_JV_NULL;
        break;
    }
}

extern "C" lake_sj_result lake_sj_parse_object(lake_sj *sj,
                                               const char *p,
                                               size_t n,
                                               lake_jmember_fn fn,
                                               void *ctx)
{
    /* Grow geometrically: simdjson would grow to exactly n each time. */
    const size_t cap = sj->parser.capacity();
    if (n > cap) {
        size_t want = cap < 32768 ? 65536 : cap * 2;
        if (want < n || want > sj->parser.max_capacity())
            want = n;
        const simdjson::error_code ae = sj->parser.allocate(want);
        if (ae == simdjson::MEMALLOC)
            return LAKE_SJ_NOMEM;
        if (ae != simdjson::SUCCESS)
            return LAKE_SJ_FAIL; /* beyond simdjson's capacity */
    }
    simdjson::dom::element root;
    const simdjson::error_code e = sj->parser.parse(p, n, false).get(root);
    if (e == simdjson::MEMALLOC)
        return LAKE_SJ_NOMEM;
    if (e != simdjson::SUCCESS)
        return LAKE_SJ_FAIL;
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS)
        return LAKE_SJ_NOT_OBJECT;
    for (simdjson::dom::key_value_pair kv : obj) {
        lake_jval *slot = fn(ctx, kv.key.data(), kv.key.size());
        if (slot)
            fill_value(kv.value, slot);
    }
    return LAKE_SJ_OK;
}

/* Decimal magnitude of a literal: the power of ten of its leading
 * non-zero digit (saturating). Only its sign matters here. */
static long long magnitude(const char *lit, size_t n)
{
    size_t i = 0;
    if (i < n && lit[i] == '-')
        i++;
    long long pos = 0; /* digits seen before the point, after zeros */
    long long first = 0;
    bool seen = false, frac = false;
    long long frac_zeros = 0;
    for (; i < n && lit[i] != 'e' && lit[i] != 'E'; i++) {
        if (lit[i] == '.') {
            frac = true;
            continue;
        }
        if (!seen && lit[i] == '0') {
            if (frac)
                frac_zeros++;
            continue;
        }
        if (!seen) {
            seen = true;
            first = frac ? -(frac_zeros + 1) : 0;
        }
        if (!frac && pos < 1000000)
            pos++;
    }
    if (!seen)
        return -1000000000; /* zero */
    long long m = frac && first < 0 ? first : pos - 1;
    long long ex = 0;
    bool neg = false;
    if (i < n) {
        i++;
        if (i < n && (lit[i] == '+' || lit[i] == '-'))
            neg = lit[i++] == '-';
        for (; i < n; i++)
            if (ex < 100000000)
                ex = ex * 10 + (lit[i] - '0');
    }
    return m + (neg ? -ex : ex);
}

extern "C" bool lake_json_number_to_double(const char *lit,
                                           size_t n,
                                           double *out)
{
    double d = 0;
    const std::from_chars_result r = std::from_chars(lit, lit + n, d);
    if (r.ec == std::errc()) {
        *out = d;
        return true;
    }
    /* Out of range: overflow (not finite) or underflow to zero. */
    if (magnitude(lit, n) > 0)
        return false;
    *out = (n > 0 && lit[0] == '-') ? -0.0 : 0.0;
    return true;
}
