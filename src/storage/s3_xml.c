/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml.c - a small event-driven reader of S3's XML answers over expat:
 * it tracks the element path and hands each leaf's text to one routine
 * that knows the few elements we need. A DOCTYPE or entity declaration
 * stops the parse: S3 never sends them, so they are an attack. */
#include "fmacros.h"

#include <string.h>

#include <expat.h>

#include "lake_common.h"
#include "s3_xml.h"
#include "lake_internal.h"

#define MAX_DEPTH      16
#define MAX_TEXT_BYTES (64 * 1024)

typedef struct xml_state {
    XML_Parser parser;
    lake_s3_xml_result *r;
    char names[MAX_DEPTH][48];   /* copies, as expat's are transient */
    int depth;
    lake_buf text;
    lake_status rc;    /* first failure */
    const char *why;   /* its reason */
} xml_state;

static void fail(xml_state *s, lake_status rc, const char *why)
{
    if (s->rc == LAKE_OK) {
        s->rc = rc;
        s->why = why;
    }
    XML_StopParser(s->parser, XML_FALSE);
}

static void copy_text(char *dst, size_t size, const lake_buf *t)
{
    const size_t n = LAKE_MIN(t->len, size - 1);
    if (n > 0)
        memcpy(dst, t->data, n);
    dst[n] = '\0';
}

static bool is(const xml_state *s, int level, const char *name)
{
    return s->depth > level && strcmp(s->names[level], name) == 0;
}

static lake_s3_xml_entry *last_entry(xml_state *s)
{
    return s->r->n_entries ? &s->r->entries[s->r->n_entries - 1] : NULL;
}

static void set_str(xml_state *s, char **dst)
{
    lake_free(s->r->alloc, *dst);
    *dst = lake_strndup(s->r->alloc, s->text.len ? s->text.data : "",
                        s->text.len);
    if (!*dst)
        fail(s, LAKE_ENOMEM, "out of memory");
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **attrs)
{
    (void)attrs;
    xml_state *s = ud;
    if (s->depth >= MAX_DEPTH) {
        fail(s, LAKE_ETOOBIG, "nesting too deep");
        return;
    }
    const size_t n = strlen(name);
    const size_t k = LAKE_MIN(n, sizeof(s->names[0]) - 1);
    memcpy(s->names[s->depth], name, k);
    s->names[s->depth][k] = '\0';
    s->depth++;
    s->text.len = 0;
    lake_s3_xml_result *r = s->r;
    if (s->depth == 1)
        memcpy(r->root, s->names[0], k + 1);
    const bool entry = s->depth == 2 &&
                       (is(s, 1, "Contents") || is(s, 1, "Upload") ||
                        is(s, 1, "CommonPrefixes"));
    if (!entry)
        return;
    if (r->n_entries == r->cap_entries) {
        const size_t cap = r->cap_entries ? r->cap_entries * 2 : 64;
        lake_s3_xml_entry *e =
            lake_realloc(r->alloc, r->entries, r->cap_entries * sizeof(*e),
                         cap * sizeof(*e));
        if (!e) {
            fail(s, LAKE_ENOMEM, "out of memory");
            return;
        }
        r->entries = e;
        r->cap_entries = cap;
    }
    memset(&r->entries[r->n_entries++], 0, sizeof(lake_s3_xml_entry));
}

static int64_t parse_size(const lake_buf *t, bool *ok)
{
    int64_t v = 0;
    *ok = t->len > 0 && t->len <= 18;
    for (size_t i = 0; i < t->len && *ok; i++) {
        if (t->data[i] < '0' || t->data[i] > '9')
            *ok = false;
        else
            v = v * 10 + (t->data[i] - '0');
    }
    return v;
}

/* A leaf element ended: its text is in s->text. */
static void on_leaf(xml_state *s)
{
    lake_s3_xml_result *r = s->r;
    const char *leaf = s->names[s->depth - 1];
    if (s->depth == 2) {
        if (strcmp(r->root, "Error") == 0) {
            if (strcmp(leaf, "Code") == 0)
                copy_text(r->code, sizeof(r->code), &s->text);
            else if (strcmp(leaf, "Message") == 0)
                copy_text(r->message, sizeof(r->message), &s->text);
            else if (strcmp(leaf, "RequestId") == 0)
                copy_text(r->request_id, sizeof(r->request_id), &s->text);
        } else if (strcmp(leaf, "IsTruncated") == 0) {
            r->is_truncated = s->text.len == 4 &&
                              memcmp(s->text.data, "true", 4) == 0;
        } else if (strcmp(leaf, "EncodingType") == 0) {
            r->url_encoded = s->text.len == 3 &&
                             memcmp(s->text.data, "url", 3) == 0;
        } else if (strcmp(leaf, "NextContinuationToken") == 0) {
            set_str(s, &r->next_token);
        } else if (strcmp(leaf, "NextKeyMarker") == 0) {
            set_str(s, &r->next_key_marker);
        } else if (strcmp(leaf, "NextUploadIdMarker") == 0) {
            set_str(s, &r->next_upload_id_marker);
        } else if (strcmp(leaf, "UploadId") == 0) {
            set_str(s, &r->upload_id);
        }
        return;
    }
    if (s->depth != 3)
        return;
    if (is(s, 1, "CommonPrefixes")) {
        lake_s3_xml_entry *e = last_entry(s);
        if (strcmp(leaf, "Prefix") == 0) {
            set_str(s, &e->key);
            e->is_prefix = true;
        }
    } else if (is(s, 1, "Contents") || is(s, 1, "Upload")) {
        lake_s3_xml_entry *e = last_entry(s);
        if (strcmp(leaf, "Key") == 0) {
            set_str(s, &e->key);
        } else if (strcmp(leaf, "UploadId") == 0 && is(s, 1, "Upload")) {
            set_str(s, &e->upload_id);
        } else if (strcmp(leaf, "Size") == 0) {
            bool ok;
            e->size_bytes = parse_size(&s->text, &ok);
            if (!ok)
                fail(s, LAKE_EPARSE, "bad <Size>");
        }
    } else if (is(s, 1, "Error") && strcmp(r->root, "DeleteResult") == 0) {
        if (r->n_errors != 0)
            return; /* keep the first error's details */
        if (strcmp(leaf, "Code") == 0)
            copy_text(r->code, sizeof(r->code), &s->text);
        else if (strcmp(leaf, "Key") == 0)
            copy_text(r->error_key, sizeof(r->error_key), &s->text);
        else if (strcmp(leaf, "Message") == 0)
            copy_text(r->message, sizeof(r->message), &s->text);
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    xml_state *s = ud;
    if (s->rc != LAKE_OK || s->depth == 0)
        return;
    if (s->depth == 2 && strcmp(s->r->root, "DeleteResult") == 0 &&
        is(s, 1, "Error"))
        s->r->n_errors++; /* counted on close: details come first */
    on_leaf(s);
    s->depth--;
    s->text.len = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *t, int n)
{
    xml_state *s = ud;
    if (s->rc != LAKE_OK)
        return;
    const lake_status rc = lake_buf_append(&s->text, t, (size_t)n);
    if (rc != LAKE_OK)
        fail(s, rc, rc == LAKE_ENOMEM ? "out of memory" : "text too long");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud, LAKE_EPARSE, "DTD refused");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len,
                              const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(ud, LAKE_EPARSE, "entity declaration refused");
}

lake_status lake_s3_xml_parse(const char *data,
                              size_t len,
                              const lake_allocator *alloc,
                              lake_s3_xml_result *out,
                              lake_error *err)
{
    memset(out, 0, sizeof(*out));
    out->alloc = alloc;
    if (len > INT32_MAX)
        return lake_error_set(err, LAKE_ETOOBIG, "s3: XML answer too big");
    xml_state s;
    memset(&s, 0, sizeof(s));
    s.r = out;
    lake_buf_init(&s.text, alloc, MAX_TEXT_BYTES);
    s.parser = XML_ParserCreate("UTF-8");
    if (!s.parser)
        return lake_error_oom(err, "s3");
    XML_SetUserData(s.parser, &s);
    XML_SetElementHandler(s.parser, on_start, on_end);
    XML_SetCharacterDataHandler(s.parser, on_text);
    XML_SetStartDoctypeDeclHandler(s.parser, on_doctype);
    XML_SetEntityDeclHandler(s.parser, on_entity);
    XML_SetParamEntityParsing(s.parser, XML_PARAM_ENTITY_PARSING_NEVER);
    const enum XML_Status st =
        XML_Parse(s.parser, data, (int)len, XML_TRUE);
    lake_status rc = s.rc;
    if (rc == LAKE_OK && st != XML_STATUS_OK) {
        const enum XML_Error e = XML_GetErrorCode(s.parser);
        rc = e == XML_ERROR_NO_MEMORY ? LAKE_ENOMEM : LAKE_EPARSE;
        lake_error_set(err, rc, "s3: bad XML answer: %s at byte %ld",
                       XML_ErrorString(e),
                       (long)XML_GetCurrentByteIndex(s.parser));
    } else if (rc == LAKE_OK && out->root[0] == '\0') {
        rc = lake_error_set(err, LAKE_EPARSE, "s3: bad XML answer: empty");
    } else if (rc != LAKE_OK) {
        lake_error_set(err, rc, "s3: bad XML answer: %s at byte %ld", s.why,
                       (long)XML_GetCurrentByteIndex(s.parser));
    }
    if (err && rc != LAKE_OK)
        err->offset = XML_GetCurrentByteIndex(s.parser);
    XML_ParserFree(s.parser);
    lake_buf_reset(&s.text);
    return rc;
}

void lake_s3_xml_result_free(lake_s3_xml_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_entries; i++) {
        lake_free(r->alloc, r->entries[i].key);
        lake_free(r->alloc, r->entries[i].upload_id);
    }
    lake_free(r->alloc, r->entries);
    lake_free(r->alloc, r->next_token);
    lake_free(r->alloc, r->next_key_marker);
    lake_free(r->alloc, r->next_upload_id_marker);
    lake_free(r->alloc, r->upload_id);
    memset(r, 0, sizeof(*r));
}
