/* SPDX-License-Identifier: Apache-2.0 */
/* s3_creds.c - the credential chain: options, a dl.cfg-style file, the
 * environment, then the shared credentials and config files of a profile
 * (NOTES.md §6: never on the command line, never in logs). */
#include "fmacros.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lake_common.h"
#include "s3_client.h"
#include "lake_internal.h"

#define MAX_INI_BYTES (1024 * 1024)
#define VALUE_BYTES   2048

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *b, const char *e)
{
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    return e;
}

bool lake_s3_ini_get(const char *ini,
                     const char *section,
                     const char *key,
                     char *value,
                     size_t value_size)
{
    bool in_section = false;
    const size_t sec_len = strlen(section), key_len = strlen(key);
    const char *line = ini;
    while (*line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *p = skip_space(line, end);
        const char *e = trim_end(p, end);
        if (p < e && *p == '[') {
            const char *q = e - 1;
            in_section = false;
            if (*q == ']') {
                const char *s = skip_space(p + 1, q);
                const char *se = trim_end(s, q);
                in_section = (size_t)(se - s) == sec_len &&
                             strncmp(s, section, sec_len) == 0;
            }
        } else if (in_section && p < e && *p != '#' && *p != ';') {
            const char *eq = memchr(p, '=', (size_t)(e - p));
            if (eq) {
                const char *ke = trim_end(p, eq);
                if ((size_t)(ke - p) == key_len &&
                    strncasecmp(p, key, key_len) == 0) {
                    const char *v = skip_space(eq + 1, e);
                    const char *ve = e;
                    if (ve - v >= 2 && (*v == '"' || *v == '\'') &&
                        ve[-1] == *v) {
                        v++;
                        ve--;
                    }
                    const size_t n = (size_t)(ve - v);
                    if (n + 1 > value_size)
                        return false;
                    memcpy(value, v, n);
                    value[n] = '\0';
                    return true;
                }
            }
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

/* Read a whole small file. A missing file gives *text = NULL and OK. */
static lake_status read_small_file(const lake_allocator *a,
                                   const char *path,
                                   bool must_exist,
                                   char **text,
                                   lake_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return LAKE_OK;
        return lake_error_set(err, LAKE_EINVAL, "s3: cannot read %s: %s",
                              path, strerror(errno));
    }
    lake_buf b;
    lake_buf_init(&b, a, MAX_INI_BYTES);
    lake_status rc = LAKE_OK;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = lake_buf_append(&b, chunk, n);
        if (rc != LAKE_OK)
            break;
    }
    if (rc == LAKE_OK && ferror(f))
        rc = LAKE_EIO;
    if (rc == LAKE_OK)
        rc = lake_buf_append_byte(&b, 0);
    fclose(f);
    if (rc != LAKE_OK) {
        lake_buf_reset(&b);
        if (rc == LAKE_ENOMEM)
            return lake_error_oom(err, "s3");
        return lake_error_set(err, LAKE_EINVAL, "s3: cannot read %s: %s",
                              path, rc == LAKE_ETOOBIG ? "too big" : "error");
    }
    size_t len, cap;
    *text = lake_buf_take(&b, &len, &cap);
    return LAKE_OK;
}

static lake_status dup_into(const lake_allocator *a,
                            char **dst,
                            const char *s,
                            lake_error *err)
{
    if (!s || !s[0])
        return LAKE_OK;
    *dst = lake_strdup(a, s);
    return *dst ? LAKE_OK : lake_error_oom(err, "s3");
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

/* Take key id, secret and token from @p section of @p ini, trying the
 * upper-case names (dl.cfg) and the lower-case ones (AWS files). */
static lake_status from_ini(const lake_allocator *a,
                            const char *ini,
                            const char *section,
                            lake_s3_creds *out,
                            bool *found,
                            lake_error *err)
{
    char id[VALUE_BYTES], secret[VALUE_BYTES], token[VALUE_BYTES];
    char region[128];
    *found = false;
    if (lake_s3_ini_get(ini, section, "aws_access_key_id", id, sizeof(id)) &&
        lake_s3_ini_get(ini, section, "aws_secret_access_key", secret,
                        sizeof(secret))) {
        *found = true;
        LAKE_TRY(dup_into(a, &out->access_key_id, id, err));
        LAKE_TRY(dup_into(a, &out->secret_access_key, secret, err));
        if (lake_s3_ini_get(ini, section, "aws_session_token", token,
                            sizeof(token)))
            LAKE_TRY(dup_into(a, &out->session_token, token, err));
    }
    if (!out->region &&
        lake_s3_ini_get(ini, section, "region", region, sizeof(region)))
        LAKE_TRY(dup_into(a, &out->region, region, err));
    return LAKE_OK;
}

static lake_status from_profile_files(const lake_allocator *a,
                                      const char *profile,
                                      lake_s3_creds *out,
                                      bool *found,
                                      lake_error *err)
{
    const char *home = env("HOME");
    char path[4096];
    char section[300];
    char *ini = NULL;
    lake_status rc = LAKE_OK;
    *found = false;
    const char *creds_file = env("AWS_SHARED_CREDENTIALS_FILE");
    if (!creds_file && home) {
        snprintf(path, sizeof(path), "%s/.aws/credentials", home);
        creds_file = path;
    }
    if (creds_file) {
        rc = read_small_file(a, creds_file, false, &ini, err);
        if (rc == LAKE_OK && ini)
            rc = from_ini(a, ini, profile, out, found, err);
        lake_free(a, ini);
        ini = NULL;
        if (rc != LAKE_OK)
            return rc;
    }
    const char *config_file = env("AWS_CONFIG_FILE");
    if (!config_file && home) {
        snprintf(path, sizeof(path), "%s/.aws/config", home);
        config_file = path;
    }
    if (!config_file)
        return LAKE_OK;
    rc = read_small_file(a, config_file, false, &ini, err);
    if (rc != LAKE_OK || !ini)
        return rc;
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile);
    if (*found) {
        /* Only the region is wanted from the config file. */
        char region[128];
        if (!out->region &&
            lake_s3_ini_get(ini, section, "region", region, sizeof(region)))
            rc = dup_into(a, &out->region, region, err);
    } else {
        rc = from_ini(a, ini, section, out, found, err);
    }
    lake_free(a, ini);
    return rc;
}

void lake_s3_creds_free(const lake_allocator *a, lake_s3_creds *c)
{
    if (c->secret_access_key)
        memset(c->secret_access_key, 0, strlen(c->secret_access_key));
    lake_free(a, c->access_key_id);
    lake_free(a, c->secret_access_key);
    lake_free(a, c->session_token);
    lake_free(a, c->region);
    memset(c, 0, sizeof(*c));
}

static lake_status resolve(const lake_s3_opts *o,
                           const lake_allocator *a,
                           lake_s3_creds *out,
                           lake_error *err)
{
    bool found = false;
    if (o->anonymous) {
        out->source = "anonymous";
        return LAKE_OK;
    }
    if (o->access_key_id || o->secret_access_key) {
        if (!o->access_key_id || !o->secret_access_key)
            return lake_error_set(err, LAKE_EINVAL,
                                  "s3: credentials: access key id and "
                                  "secret access key go together");
        out->source = "options";
        LAKE_TRY(dup_into(a, &out->access_key_id, o->access_key_id, err));
        LAKE_TRY(
            dup_into(a, &out->secret_access_key, o->secret_access_key, err));
        return dup_into(a, &out->session_token, o->session_token, err);
    }
    if (o->config_file) {
        char *ini = NULL;
        LAKE_TRY(read_small_file(a, o->config_file, true, &ini, err));
        lake_status rc = from_ini(a, ini, "AWS", out, &found, err);
        if (rc == LAKE_OK && !found)
            rc = from_ini(a, ini, "default", out, &found, err);
        lake_free(a, ini);
        LAKE_TRY(rc);
        if (!found)
            return lake_error_set(err, LAKE_EINVAL,
                                  "s3: credentials: %s has no "
                                  "AWS_ACCESS_KEY_ID and "
                                  "AWS_SECRET_ACCESS_KEY in [AWS]",
                                  o->config_file);
        out->source = "config file";
        return LAKE_OK;
    }
    const char *id = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
        out->source = "environment";
        LAKE_TRY(dup_into(a, &out->access_key_id, id, err));
        LAKE_TRY(dup_into(a, &out->secret_access_key, secret, err));
        return dup_into(a, &out->session_token, env("AWS_SESSION_TOKEN"),
                        err);
    }
    const char *profile = o->profile ? o->profile : env("AWS_PROFILE");
    LAKE_TRY(from_profile_files(a, profile ? profile : "default", out,
                                &found, err));
    if (found) {
        out->source = "profile";
        return LAKE_OK;
    }
    if (profile)
        return lake_error_set(err, LAKE_EINVAL,
                              "s3: credentials: profile %s not found",
                              profile);
    return lake_error_set(err, LAKE_EINVAL,
                          "s3: credentials: none found (options, config "
                          "file, AWS_ACCESS_KEY_ID, profile); set "
                          "anonymous for public buckets");
}

lake_status lake_s3_creds_resolve(const lake_s3_opts *opts,
                                  const lake_allocator *a,
                                  lake_s3_creds *out,
                                  lake_error *err)
{
    memset(out, 0, sizeof(*out));
    const lake_status rc = resolve(opts, a, out, err);
    if (rc != LAKE_OK)
        lake_s3_creds_free(a, out);
    return rc;
}
