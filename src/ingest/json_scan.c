/* SPDX-License-Identifier: Apache-2.0 */
/* json_scan.c - our own RFC 8259 validator and object walker: the
 * reference that decides where a record ends and whether it is valid when
 * the simdjson fast path cannot (several values on a line, pretty-printed
 * records, numbers beyond simdjson's range, malformed text). Iterative,
 * bounds-checked on every byte, no allocation. */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "ingest/ingest_json.h"
#include "lake_internal.h"

typedef const unsigned char *cptr;

static bool is_ws(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static cptr skip_ws(cptr p, cptr end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

static int hex_val(unsigned c)
{
    if (c - '0' < 10u)
        return (int)(c - '0');
    c |= 0x20u;
    if (c - 'a' < 6u)
        return (int)(c - 'a' + 10);
    return -1;
}

/* Read 4 hex digits at @p p (bounds-checked). */
static bool hex4(cptr p, cptr end, unsigned *out)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        const int h = hex_val(p[i]);
        if (h < 0)
            return false;
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return true;
}

/* Length of the valid UTF-8 multi-byte sequence at @p p, or 0. */
static size_t utf8_len(cptr p, cptr end)
{
    const unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
    return n;
}

/* @p p is just past the opening quote. Returns just past the closing
 * quote, or NULL; *escaped tells whether a backslash was seen. */
static cptr scan_string(cptr p, cptr end, bool *escaped)
{
    while (p < end) {
        const unsigned c = *p;
        if (c == '"')
            return p + 1;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            p++;
            continue;
        }
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            const size_t n = utf8_len(p, end);
            if (n == 0)
                return NULL;
            p += n;
            continue;
        }
        /* a backslash */
        *escaped = true;
        if (++p >= end)
            return NULL;
        switch (*p) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p++;
            break;
        case 'u': {
            unsigned cp, lo;
            if (!hex4(p + 1, end, &cp))
                return NULL;
            p += 5;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return NULL; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                    !hex4(p + 2, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return NULL; /* lone high surrogate */
                p += 6;
            }
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

static cptr scan_number(cptr p, cptr end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    return p;
}

static cptr scan_literal(cptr p, cptr end)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(lits); i++) {
        const size_t n = strlen(lits[i]);
        if ((size_t)(end - p) >= n && memcmp(p, lits[i], n) == 0)
            return p + n;
    }
    return NULL;
}

static bool is_delim(unsigned c)
{
    return is_ws(c) || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == ',' || c == ':' || c == '"';
}

bool lake_json_scan(const char *begin, const char *end_, const char **vend)
{
    cptr p = (cptr)begin, end = (cptr)end_, tok = p;
    unsigned char is_obj[LAKE_JSON_MAX_DEPTH];
    size_t depth = 0;
    bool esc = false;

value:
    if (p >= end)
        goto fail;
    tok = p;
    switch (*p) {
    case '{':
    case '[':
        if (depth == LAKE_JSON_MAX_DEPTH)
            goto fail;
        is_obj[depth++] = *p == '{';
        p = skip_ws(p + 1, end);
        if (p < end && *p == (is_obj[depth - 1] ? '}' : ']')) {
            p++;
            depth--;
            goto after_value;
        }
        if (is_obj[depth - 1])
            goto key;
        goto value;
    case '"':
        p = scan_string(p + 1, end, &esc);
        if (!p)
            goto fail_tok;
        goto after_value;
    case 't':
    case 'f':
    case 'n':
        p = scan_literal(p, end);
        break;
    default:
        p = scan_number(p, end);
        break;
    }
    if (!p)
        goto fail_tok;
    if (depth == 0 && p < end && !is_delim(*p))
        goto fail;

after_value:
    if (depth == 0) {
        *vend = (const char *)p;
        return true;
    }
    p = skip_ws(p, end);
    if (p >= end)
        goto fail;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (is_obj[depth - 1])
            goto key;
        goto value;
    }
    if (*p == (is_obj[depth - 1] ? '}' : ']')) {
        p++;
        depth--;
        goto after_value;
    }
    goto fail;

key:
    if (p >= end || *p != '"')
        goto fail;
    tok = p;
    p = scan_string(p + 1, end, &esc);
    if (!p)
        goto fail_tok;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        goto fail;
    p = skip_ws(p + 1, end);
    goto value;

fail_tok: /* a bad token: it started at tok, on the line of the error */
    p = tok;
fail:
    *vend = (const char *)(p < end ? p : end);
    return false;
}

/* ---- walking a validated object ---- */

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* @p *pp is at the opening quote of a valid string. Returns its unescaped
 * view (into the source when it has no escape, else into *scratch). */
static lake_strview read_string(cptr *pp, cptr end, char **scratch)
{
    cptr p = *pp + 1;
    bool esc = false;
    const cptr q = scan_string(p, end, &esc);
    lake_strview v;
    *pp = q;
    if (!esc) {
        v.ptr = (const char *)p;
        v.len = (size_t)(q - 1 - p);
        return v;
    }
    char *o = *scratch;
    v.ptr = o;
    while (p < q - 1) {
        if (*p != '\\') {
            *o++ = (char)*p++;
            continue;
        }
        p++;
        unsigned cp = 0, lo = 0;
        switch (*p) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u':
            (void)hex4(p + 1, end, &cp);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                (void)hex4(p + 3, end, &lo);
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o = put_utf8(o, cp);
            break;
        default: /* " \ / */
            *o++ = (char)*p;
            break;
        }
        p++;
    }
    v.len = (size_t)(o - v.ptr);
    *scratch = o;
    return v;
}

/* Skip the valid container at @p p. */
static cptr skip_container(cptr p, cptr end)
{
    size_t depth = 0;
    while (p < end) {
        const unsigned c = *p++;
        if (c == '"') {
            bool esc = false;
            p = scan_string(p, end, &esc);
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                break;
        }
    }
    return p;
}

void lake_json_walk_object(const char *begin,
                           const char *end_,
                           char *scratch,
                           lake_jmember_fn fn,
                           void *ctx)
{
    cptr p = (cptr)begin, end = (cptr)end_;
    p = skip_ws(p + 1, end);
    if (*p == '}')
        return;
    for (;;) {
        const lake_strview key = read_string(&p, end, &scratch);
        p = skip_ws(p, end);
        p = skip_ws(p + 1, end); /* the colon */
        lake_jval *slot = fn(ctx, key.ptr, key.len);
        lake_jval v;
        if (!slot)
            slot = &v;
        slot->num = LAKE_JN_LITERAL;
        slot->s.ptr = NULL;
        slot->s.len = 0;
        switch (*p) {
        case '"':
            slot->kind = LAKE_JV_STRING;
            slot->s = read_string(&p, end, &scratch);
            break;
        case '{':
        case '[':
            slot->kind = *p == '{' ? LAKE_JV_OBJECT : LAKE_JV_ARRAY;
            p = skip_container(p, end);
            break;
        case 't':
        case 'f':
            slot->kind = LAKE_JV_BOOL;
            p += *p == 't' ? 4 : 5;
            break;
        case 'n':
            slot->kind = LAKE_JV_NULL;
            p += 4;
            break;
        default: {
            const cptr q = scan_number(p, end);
            slot->kind = LAKE_JV_NUMBER;
            slot->s.ptr = (const char *)p;
            slot->s.len = (size_t)(q - p);
            p = q;
            break;
        }
        }
        p = skip_ws(p, end);
        if (*p != ',')
            return;
        p = skip_ws(p + 1, end);
    }
}
