/* SPDX-License-Identifier: Apache-2.0 */
/* gen_model.c - the generator's model of Sparkify: a song catalogue with
 * Zipf-like popularity, users with fixed attributes, and eventsim-like
 * sessions (page transitions, song timing, daily and weekly cycles). */
#include "fmacros.h"

#include <math.h>
#include <string.h>

#include "lake_common.h"
#include "generate.h"
#include "lake_internal.h"

/* Stream purposes: the third key of lake_gen_rng_seed(). */
enum {
    PURPOSE_USER = 1,
    PURPOSE_DAY = 2,
    PURPOSE_FAULT = 3,
    PURPOSE_SONG = 4,
    PURPOSE_ARTIST = 5,
    PURPOSE_PICK = 6
};

#define MS_PER_DAY  86400000LL
#define MS_PER_HOUR 3600000LL
#define ZIPF_S      0.7
#define MAX_ITEMS   600

const lake_gen_page_info lake_gen_pages[LAKE_GEN_N_PAGES] = {
    [LAKE_GEN_NEXTSONG] = {"NextSong", "PUT", 200},
    [LAKE_GEN_HOME] = {"Home", "GET", 200},
    [LAKE_GEN_LOGIN] = {"Login", "PUT", 307},
    [LAKE_GEN_LOGOUT] = {"Logout", "PUT", 307},
    [LAKE_GEN_SETTINGS] = {"Settings", "GET", 200},
    [LAKE_GEN_SAVE_SETTINGS] = {"Save Settings", "PUT", 307},
    [LAKE_GEN_HELP] = {"Help", "GET", 200},
    [LAKE_GEN_ABOUT] = {"About", "GET", 200},
    [LAKE_GEN_ADD_PLAYLIST] = {"Add to Playlist", "PUT", 200},
    [LAKE_GEN_THUMBS_UP] = {"Thumbs Up", "PUT", 307},
    [LAKE_GEN_THUMBS_DOWN] = {"Thumbs Down", "PUT", 307},
    [LAKE_GEN_ADD_FRIEND] = {"Add Friend", "PUT", 307},
    [LAKE_GEN_ROLL_ADVERT] = {"Roll Advert", "GET", 200},
    [LAKE_GEN_UPGRADE] = {"Upgrade", "GET", 200},
    [LAKE_GEN_SUBMIT_UPGRADE] = {"Submit Upgrade", "PUT", 307},
    [LAKE_GEN_DOWNGRADE] = {"Downgrade", "GET", 200},
    [LAKE_GEN_SUBMIT_DOWNGRADE] = {"Submit Downgrade", "PUT", 307},
    [LAKE_GEN_ERROR] = {"Error", "GET", 404},
};

/* Relative activity per UTC hour: a trough around 03:00, a peak in the
 * afternoon (US evening), the shape of the course logs. */
static const double hour_weight[24] = {19, 16, 13, 12, 17, 21, 22, 24,
                                       30, 35, 38, 38, 41, 48, 56, 60,
                                       57, 55, 43, 38, 32, 25, 22, 20};

/* Monday = 0 ... Sunday = 6: quieter weekends. */
static const double weekday_weight[7] = {1.0, 1.0, 1.1, 1.0, 1.05, 0.5, 0.4};

double lake_gen_normal(lake_gen_rng *r)
{
    double u1 = lake_gen_unif(r);
    const double u2 = lake_gen_unif(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static const char *pick(const lake_gen_words *w, lake_gen_rng *r)
{
    return w->w[lake_gen_below(r, w->n)];
}

/* ---- dates (Howard Hinnant's civil calendar algorithms) ---- */

int64_t lake_gen_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void lake_gen_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ---- ids ---- */

/* 5 letters then 11 hex digits: an injective image of the 64-bit id, so
 * distinct ids never collide. */
static void encode_id(const char *prefix, uint64_t id, char out[19])
{
    static const char hex[] = "0123456789ABCDEF";
    out[0] = prefix[0];
    out[1] = prefix[1];
    uint64_t v = id;
    for (int i = 0; i < 5; i++) {
        out[2 + i] = (char)('A' + (int)(v % 26));
        v /= 26;
    }
    for (int i = 0; i < 11; i++) {
        out[17 - i] = hex[v & 15];
        v >>= 4;
    }
    out[18] = '\0';
}

void lake_gen_track_id(uint64_t id, char out[19])
{
    encode_id("TR", id, out);
}

void lake_gen_song_id(uint64_t id, char out[19])
{
    encode_id("SO", lake_gen_mix64(id ^ 0x534f534f534f534fULL), out);
}

void lake_gen_artist_id(uint64_t id, char out[19])
{
    encode_id("AR", id, out);
}

/* ---- events vector ---- */

lake_status lake_gen_events_push(lake_gen_events *e, const lake_gen_event *ev)
{
    if (e->n == e->cap) {
        const size_t cap = e->cap ? e->cap * 2 : 256;
        lake_gen_event *v =
            lake_realloc(e->alloc, e->v, e->cap * sizeof(*v), cap * sizeof(*v));
        if (!v)
            return LAKE_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = *ev;
    return LAKE_OK;
}

void lake_gen_events_free(lake_gen_events *e)
{
    lake_free(e->alloc, e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

/* ---- sort: natural bottom-up merge sort (input is mostly runs) ---- */

static void merge_runs(const lake_gen_event *a,
                       size_t na,
                       const lake_gen_event *b,
                       size_t nb,
                       lake_gen_event *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (lake_gen_event_cmp(&b[j], &a[i]) < 0)
            out[k++] = b[j++];
        else
            out[k++] = a[i++];
    }
    if (na > i)
        memcpy(out + k, a + i, (na - i) * sizeof(*a));
    k += na - i;
    if (nb > j)
        memcpy(out + k, b + j, (nb - j) * sizeof(*b));
}

static void merge_sort(lake_gen_event *v, lake_gen_event *tmp, size_t n)
{
    lake_gen_event *src = v, *dst = tmp;
    for (;;) {
        size_t i = 0, n_runs = 0;
        while (i < n) {
            size_t j = i + 1;
            while (j < n && lake_gen_event_cmp(&src[j - 1], &src[j]) <= 0)
                j++;
            size_t k = j;
            if (k < n) {
                k++;
                while (k < n && lake_gen_event_cmp(&src[k - 1], &src[k]) <= 0)
                    k++;
            }
            merge_runs(src + i, j - i, src + j, k - j, dst + i);
            n_runs++;
            i = k;
        }
        lake_gen_event *t = src;
        src = dst;
        dst = t;
        if (n_runs <= 1)
            break;
    }
    if (src != v && n)
        memcpy(v, src, n * sizeof(*v));
}

/* LSD radix sort on ts in three 11-bit passes (stable), then equal ts
 * put in (sessionId, itemInSession) order: the total order, whatever the
 * input order. A span over 2^33 ms falls back to the merge sort. */
void lake_gen_sort(lake_gen_event *v, lake_gen_event *tmp, size_t n)
{
    if (n < 2)
        return;
    int64_t lo = v[0].ts, hi = v[0].ts;
    for (size_t i = 1; i < n; i++) {
        lo = v[i].ts < lo ? v[i].ts : lo;
        hi = v[i].ts > hi ? v[i].ts : hi;
    }
    if (hi - lo >= (1LL << 33) || n < 64) {
        merge_sort(v, tmp, n);
        return;
    }
    static const int shift[3] = {0, 11, 22};
    size_t count[3][2048];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        const uint64_t k = (uint64_t)(v[i].ts - lo);
        for (int p = 0; p < 3; p++)
            count[p][(k >> shift[p]) & 2047]++;
    }
    lake_gen_event *src = v, *dst = tmp;
    for (int p = 0; p < 3; p++) {
        size_t sum = 0;
        for (int b = 0; b < 2048; b++) {
            const size_t c = count[p][b];
            count[p][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            const uint64_t k = (uint64_t)(src[i].ts - lo);
            dst[count[p][(k >> shift[p]) & 2047]++] = src[i];
        }
        lake_gen_event *t = src;
        src = dst;
        dst = t;
    }
    memcpy(v, src, n * sizeof(*v)); /* three passes: src is tmp */
    for (size_t i = 1; i < n; i++) {
        if (v[i].ts != v[i - 1].ts)
            continue;
        /* insertion into the run of equal ts */
        const lake_gen_event e = v[i];
        size_t j = i;
        while (j > 0 && lake_gen_event_cmp(&e, &v[j - 1]) < 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
}

/* ---- catalogue ---- */

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* Append a word to @p b with a separating space. */
static lake_status add_word(lake_buf *b, size_t start, const char *w)
{
    if (b->len > start)
        LAKE_TRY(lake_buf_append_byte(b, ' '));
    return lake_buf_append_str(b, w);
}

static lake_status make_artist_name(lake_buf *b, lake_gen_rng *r)
{
    const size_t start = b->len;
    const uint32_t form = lake_gen_below(r, 10);
    const bool accent = lake_gen_unif(r) < 0.06;
    if (form < 4) { /* a person */
        const bool f = lake_gen_unif(r) < 0.45;
        LAKE_TRY(add_word(b, start,
                          accent ? pick(&lake_gen_artist_accented, r)
                          : f    ? pick(&lake_gen_first_f, r)
                                 : pick(&lake_gen_first_m, r)));
        LAKE_TRY(add_word(b, start, pick(&lake_gen_last, r)));
        if (form == 0)
            LAKE_TRY(lake_buf_append_str(b, lake_gen_unif(r) < 0.5
                                                ? " & The "
                                                : " and the "));
        if (form == 0)
            LAKE_TRY(lake_buf_append_str(b, pick(&lake_gen_artist_words, r)));
    } else if (form < 8) { /* a band */
        LAKE_TRY(add_word(b, start, "The"));
        if (accent)
            LAKE_TRY(add_word(b, start, pick(&lake_gen_artist_accented, r)));
        else
            LAKE_TRY(add_word(b, start, pick(&lake_gen_artist_words, r)));
        LAKE_TRY(add_word(b, start, pick(&lake_gen_artist_words, r)));
        if (form == 7) { /* "The" is often dropped */
            memmove(b->data + start, b->data + start + 4, b->len - start - 4);
            b->len -= 4;
        }
    } else if (form == 8) { /* a DJ or MC */
        LAKE_TRY(add_word(b, start, lake_gen_unif(r) < 0.5 ? "DJ" : "MC"));
        LAKE_TRY(add_word(b, start,
                          accent ? pick(&lake_gen_artist_accented, r)
                                 : pick(&lake_gen_title_words, r)));
    } else { /* one word */
        LAKE_TRY(add_word(b, start,
                          accent ? pick(&lake_gen_artist_accented, r)
                                 : pick(&lake_gen_artist_words, r)));
    }
    return LAKE_OK;
}

static lake_status make_title(lake_buf *b, lake_gen_rng *r)
{
    const size_t start = b->len;
    const uint32_t n = 1 + lake_gen_below(r, 4);
    for (uint32_t i = 0; i < n; i++) {
        const bool accent = lake_gen_unif(r) < 0.02;
        LAKE_TRY(add_word(b, start,
                          accent ? pick(&lake_gen_title_accented, r)
                                 : pick(&lake_gen_title_words, r)));
    }
    if (lake_gen_unif(r) < 0.15)
        LAKE_TRY(lake_buf_append_str(b, pick(&lake_gen_title_suffix, r)));
    return LAKE_OK;
}

static lake_status make_place(lake_buf *b, lake_gen_rng *r, bool metro)
{
    const uint32_t n_cities = metro ? 1 + lake_gen_below(r, 3) : 1;
    for (uint32_t i = 0; i < n_cities; i++) {
        if (i)
            LAKE_TRY(lake_buf_append_byte(b, '-'));
        LAKE_TRY(lake_buf_append_str(b, pick(&lake_gen_cities, r)));
    }
    LAKE_TRY(lake_buf_append_str(b, ", "));
    if (!metro && lake_gen_unif(r) < 0.25)
        return lake_buf_append_str(b, pick(&lake_gen_countries, r));
    const char *st = pick(&lake_gen_states, r);
    if (!metro && strchr(st, '-'))
        st = "TX";
    return lake_buf_append_str(b, st);
}

static lake_status build_artist(lake_gen_catalog *c, uint64_t seed, uint32_t i)
{
    lake_gen_rng r;
    lake_gen_rng_seed(&r, seed, i, 0, PURPOSE_ARTIST);
    lake_gen_artist *a = &c->artists[i];
    a->id = lake_gen_mix64(seed * 31 + i + 0x4152ULL);
    a->name_off = (uint32_t)c->text.len;
    LAKE_TRY(make_artist_name(&c->text, &r));
    a->name_len = (uint32_t)(c->text.len - a->name_off);
    a->loc_off = (uint32_t)c->text.len;
    if (lake_gen_unif(&r) >= 0.45)
        LAKE_TRY(make_place(&c->text, &r, false));
    a->loc_len = (uint32_t)(c->text.len - a->loc_off);
    a->has_coords = a->loc_len > 0 && lake_gen_unif(&r) < 0.63;
    if (a->has_coords) {
        a->lat_e5 = (int32_t)(2500000 + lake_gen_below(&r, 2500000));
        a->lon_e5 = -(int32_t)(7000000 + lake_gen_below(&r, 5300000));
    }
    /* Drawn last: the fields above do not depend on it. */
    a->career = (uint16_t)(2008 - (int)fabs(14 * lake_gen_normal(&r)));
    return LAKE_OK;
}

/* Log fragments of a song: artist JSON, length text, title JSON. */
static lake_status build_song_frags(lake_gen_catalog *c, lake_gen_song *s)
{
    const lake_gen_artist *a = &c->artists[s->artist];
    const size_t off = c->text.len;
    s->log_off = (uint32_t)off;
    /* The text blob may move while appending: copy from offsets. */
    LAKE_TRY(
        lake_buf_reserve(&c->text, 13 * (a->name_len + s->title_len) + 64));
    LAKE_TRY(lake_gen_json_log_str(&c->text, c->text.data + a->name_off,
                                   a->name_len));
    s->log_artist_len = (uint16_t)(c->text.len - off);
    LAKE_TRY(lake_gen_fixed5(&c->text, s->dur_e5));
    s->log_length_len = (uint16_t)(c->text.len - off - s->log_artist_len);
    LAKE_TRY(lake_gen_json_log_str(&c->text, c->text.data + s->title_off,
                                   s->title_len));
    s->log_title_len =
        (uint16_t)(c->text.len - off - s->log_artist_len - s->log_length_len);
    return LAKE_OK;
}

static lake_status build_song(lake_gen_catalog *c,
                              uint64_t seed,
                              uint32_t i,
                              uint32_t artist)
{
    lake_gen_rng r;
    lake_gen_rng_seed(&r, seed, i, 0, PURPOSE_SONG);
    lake_gen_song *s = &c->songs[i];
    memset(s, 0, sizeof(*s));
    s->id = lake_gen_mix64(seed * 17 + i + 0x5452ULL);
    s->artist = artist;
    s->title_off = (uint32_t)c->text.len;
    LAKE_TRY(make_title(&c->text, &r));
    s->title_len = (uint32_t)(c->text.len - s->title_off);
    double d = exp(5.45 + 0.35 * lake_gen_normal(&r));
    d = d < 20 ? 20 + d : d > 1800 ? 1800 : d;
    s->dur_e5 = (uint32_t)(d * 1e5);
    const lake_gen_artist *a = &c->artists[artist];
    if (!c->careers)
        s->year = lake_gen_unif(&r) < 0.45
                      ? 0
                      : (uint16_t)(2009 - (int)fabs(12 * lake_gen_normal(&r)));
    else if (lake_gen_unif(&r) < 0.45)
        s->year = 0; /* MSD: ~45 % of songs have no year */
    else {
        /* A career of about a decade around its centre, up to 2010. */
        const int y = a->career + (int)lround(3 * lake_gen_normal(&r));
        s->year = (uint16_t)(y > 2010 ? 2010 : y);
    }
    s->ascii = is_ascii(c->text.data + a->name_off, a->name_len) &&
               is_ascii(c->text.data + s->title_off, s->title_len);
    return build_song_frags(c, s);
}

uint32_t lake_gen_pick_song(const lake_gen_catalog *c, lake_gen_rng *r)
{
    const uint64_t x = lake_gen_next(r);
    const uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)c->n_played) >> 32);
    const double u = (double)(x & 0xFFFFFFFFu) * 0x1.0p-32;
    return u < c->alias_p[i] ? i : c->alias_i[i];
}

/* Vose's alias method over the popularity weights; @p work holds 2n. */
static void build_alias(lake_gen_catalog *c, uint32_t *work)
{
    const uint32_t n = c->n_played;
    const double total = c->cdf[n - 1];
    uint32_t *small = work, *large = work + n;
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double p = c->cdf[i] - (i ? c->cdf[i - 1] : 0.0);
        c->alias_p[i] = p * n / total;
        c->alias_i[i] = i;
        if (c->alias_p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        const uint32_t s = small[--ns], l = large[nl - 1];
        c->alias_i[s] = l;
        c->alias_p[l] -= 1.0 - c->alias_p[s];
        if (c->alias_p[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl)
        c->alias_p[large[--nl]] = 1.0;
    while (ns)
        c->alias_p[small[--ns]] = 1.0;
}

void lake_gen_catalog_free(lake_gen_catalog *c)
{
    lake_free(c->alloc, c->artists);
    lake_free(c->alloc, c->songs);
    lake_free(c->alloc, c->cdf);
    lake_free(c->alloc, c->alias_p);
    lake_free(c->alloc, c->alias_i);
    lake_buf_reset(&c->text);
    c->artists = NULL;
    c->songs = NULL;
    c->cdf = NULL;
    c->alias_p = NULL;
    c->alias_i = NULL;
}

/* The artist of the @p k-th song nobody plays: a new one by default (its
 * index follows the played catalogue's), else the same skewed draw as for
 * played songs over the @p n_artists artists. */
static uint32_t extra_artist(lake_gen_rng *r,
                             uint32_t n_artists,
                             uint32_t n_art_played,
                             uint32_t k)
{
    if (!n_artists)
        return n_art_played + k;
    const double u = lake_gen_unif(r);
    return (uint32_t)(u * u * n_artists);
}

lake_status lake_gen_catalog_build(lake_gen_catalog *c,
                                   const lake_allocator *alloc,
                                   uint64_t seed,
                                   uint32_t n_played,
                                   double match_rate,
                                   int64_t song_files,
                                   uint32_t n_spare,
                                   uint32_t n_artists,
                                   lake_error *err)
{
    memset(c, 0, sizeof(*c));
    c->alloc = alloc;
    lake_buf_init(&c->text, alloc, UINT32_MAX);
    lake_status rc = LAKE_OK;
    uint32_t *perm = NULL;
    if (n_played == 0)
        n_played = 1;
    /* Songs nobody plays fill up song_files beyond the matched ones; the
     * count is only known after the selection, so allow for all. */
    const uint64_t extra_max =
        (song_files > 0 ? (uint64_t)song_files : 0) + n_spare;
    if ((uint64_t)n_played + extra_max > UINT32_MAX / 2)
        return lake_error_set(err, LAKE_EINVAL,
                              "generate: catalogue too large");
    /* Default: MSD artists have ~1.1 songs in a random sample, but a
     * played catalogue concentrates on fewer: 2 songs an artist on
     * average, and each song nobody plays has an artist of its own. With
     * @p n_artists, every song is by one of those. */
    const uint32_t n_art_played = n_artists ? n_artists : n_played / 2 + 1;
    const uint32_t n_art =
        n_artists ? n_artists : n_art_played + (uint32_t)extra_max;
    c->careers = n_artists != 0;
    c->artists = lake_calloc(alloc, n_art, sizeof(*c->artists));
    c->songs =
        lake_calloc(alloc, (size_t)n_played + extra_max, sizeof(*c->songs));
    c->cdf = lake_calloc(alloc, n_played, sizeof(*c->cdf));
    perm = lake_calloc(alloc, 2 * (size_t)n_played, sizeof(*perm));
    c->alias_p = lake_calloc(alloc, n_played, sizeof(*c->alias_p));
    c->alias_i = lake_calloc(alloc, n_played, sizeof(*c->alias_i));
    if (!c->artists || !c->songs || !c->cdf || !perm || !c->alias_p ||
        !c->alias_i)
        goto oom;
    c->n_artists = n_art;
    for (uint32_t i = 0; i < n_art_played; i++)
        if (build_artist(c, seed, i) != LAKE_OK)
            goto oom;
    lake_gen_rng r;
    lake_gen_rng_seed(&r, seed, 0, 0, PURPOSE_PICK);
    double total = 0;
    for (uint32_t i = 0; i < n_played; i++) {
        /* Artists by a skewed draw: some have many songs. */
        const double u = lake_gen_unif(&r);
        const uint32_t artist = (uint32_t)(u * u * n_art_played);
        if (build_song(c, seed, i, artist) != LAKE_OK)
            goto oom;
        total += pow((double)i + 1.0, -ZIPF_S);
        c->cdf[i] = total;
    }
    c->n_played = n_played;
    c->n_songs = n_played;
    build_alias(c, perm);
    for (uint32_t i = 0; i < n_played; i++)
        perm[i] = i;
    /* Choose written songs in random order until the play mass of those
     * whose log text matches exactly (ASCII) reaches match_rate. */
    for (uint32_t i = n_played; i > 1; i--) {
        const uint32_t j = lake_gen_below(&r, i);
        const uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    const double target = match_rate * total;
    double mass = 0;
    uint64_t budget = song_files > 0 ? (uint64_t)song_files : UINT64_MAX;
    for (uint32_t k = 0; k < n_played && c->n_written < budget; k++) {
        lake_gen_song *s = &c->songs[perm[k]];
        const double p =
            c->cdf[perm[k]] - (perm[k] ? c->cdf[perm[k] - 1] : 0.0);
        if (!s->ascii) {
            /* Written like any song, but a log spells its text
             * double-encoded, so its plays never match (as in the course
             * data): they do not count towards match_rate. */
            if (lake_gen_unif(&r) < match_rate) {
                s->written = true;
                c->n_written++;
            }
            continue;
        }
        if (mass + p > target * 1.0005 + 1e-12)
            continue;
        s->written = true;
        mass += p;
        c->n_written++;
    }
    c->written_mass = total > 0 ? mass / total : 0;
    /* Songs nobody plays. */
    while (c->n_written < budget && budget != UINT64_MAX) {
        const uint32_t i = c->n_songs;
        const uint32_t art =
            extra_artist(&r, n_artists, n_art_played, i - n_played);
        if ((!n_artists && build_artist(c, seed, art) != LAKE_OK) ||
            build_song(c, seed, i, art) != LAKE_OK)
            goto oom;
        c->songs[i].written = true;
        c->n_songs++;
        c->n_written++;
    }
    c->spare = c->n_songs;
    for (uint32_t k = 0; k < n_spare; k++) {
        const uint32_t i = c->n_songs;
        const uint32_t art =
            extra_artist(&r, n_artists, n_art_played, i - n_played);
        if ((!n_artists && build_artist(c, seed, art) != LAKE_OK) ||
            build_song(c, seed, i, art) != LAKE_OK)
            goto oom;
        c->n_songs++;
    }
    c->n_spare = n_spare;
    goto done;
oom:
    rc = lake_error_oom(err, "generate");
    lake_gen_catalog_free(c);
done:
    lake_free(alloc, perm);
    return rc;
}

/* ---- users ---- */

lake_status lake_gen_user_init(const lake_gen_world *w,
                               uint32_t u,
                               lake_gen_user *user,
                               lake_buf *frags)
{
    lake_gen_rng r;
    lake_gen_rng_seed(&r, w->seed, u, 0, PURPOSE_USER);
    memset(user, 0, sizeof(*user));
    const bool female = lake_gen_unif(&r) < 0.58;
    const char *first =
        female ? pick(&lake_gen_first_f, &r) : pick(&lake_gen_first_m, &r);
    const char *last = pick(&lake_gen_last, &r);
    const char *agent = pick(&lake_gen_agents, &r);
    /* Registered up to ~3 months before the first day. */
    int64_t reg = w->start_ms - 3600000LL -
                  (int64_t)(lake_gen_unif(&r) * 90.0 * MS_PER_DAY);
    reg = reg - (reg % 1000 + 1000) % 1000 + w->ms_offset; /* like ts */
    user->level = lake_gen_unif(&r) < 0.45 ? 1 : 0;
    user->logged_in = lake_gen_unif(&r) < 0.85;
    /* Heavy-tailed activity: a few users make most of the events. */
    user->sessions_per_day =
        exp(-1.55 + 1.0 * lake_gen_normal(&r)) * (user->level ? 1.6 : 1.0);
    if (user->sessions_per_day > 8)
        user->sessions_per_day = 8;

    lake_buf place;
    lake_buf_init(&place, frags->alloc, 0);
    lake_status rc = make_place(&place, &r, true);
    if (rc != LAKE_OK)
        goto done;
    user->frag_off = (uint32_t)frags->len;
    size_t mark = frags->len;
    /* 0: "firstName":..,"gender":..,"itemInSession": */
    rc = lake_buf_append_str(frags, "\"firstName\":");
    if (rc == LAKE_OK)
        rc = lake_gen_json_log_str(frags, first, strlen(first));
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags,
                                 female
                                     ? ",\"gender\":\"F\",\"itemInSession\":"
                                     : ",\"gender\":\"M\",\"itemInSession\":");
    user->frag_len[0] = (uint16_t)(frags->len - mark);
    mark = frags->len;
    /* 1: ,"lastName":..,"length": */
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags, ",\"lastName\":");
    if (rc == LAKE_OK)
        rc = lake_gen_json_log_str(frags, last, strlen(last));
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags, ",\"length\":");
    user->frag_len[1] = (uint16_t)(frags->len - mark);
    mark = frags->len;
    /* 2: "location":..,"method":" */
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags, "\"location\":");
    if (rc == LAKE_OK)
        rc = lake_gen_json_log_str(frags, place.data, place.len);
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags, ",\"method\":\"");
    user->frag_len[2] = (uint16_t)(frags->len - mark);
    mark = frags->len;
    /* 3: "registration":1540919166796.0,"sessionId": */
    if (rc == LAKE_OK)
        rc = lake_buf_printf(frags, "\"registration\":%lld.0,\"sessionId\":",
                             (long long)reg);
    user->frag_len[3] = (uint16_t)(frags->len - mark);
    mark = frags->len;
    /* 4: "userAgent":..,"userId":"N"} */
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(frags, "\"userAgent\":");
    if (rc == LAKE_OK) {
        if (strchr(agent, ',')) {
            /* Quoted like a CSV field, as the course logs have it. */
            lake_buf q;
            lake_buf_init(&q, frags->alloc, 0);
            rc = lake_buf_append_byte(&q, '"');
            if (rc == LAKE_OK)
                rc = lake_buf_append_str(&q, agent);
            if (rc == LAKE_OK)
                rc = lake_buf_append_byte(&q, '"');
            if (rc == LAKE_OK)
                rc = lake_gen_json_log_str(frags, q.data, q.len);
            lake_buf_reset(&q);
        } else {
            rc = lake_gen_json_log_str(frags, agent, strlen(agent));
        }
    }
    if (rc == LAKE_OK)
        rc = lake_buf_printf(frags, ",\"userId\":\"%u\"}", u + 1);
    user->frag_len[4] = (uint16_t)(frags->len - mark);
done:
    lake_buf_reset(&place);
    return rc;
}

/* ---- sessions ---- */

typedef struct sim {
    const lake_gen_world *w;
    lake_gen_user *user;
    uint32_t u;
    lake_gen_rng r;  /* behaviour */
    lake_gen_rng fr; /* faults */
    lake_gen_events *out;
    int64_t ts;
    int64_t session;
    int32_t item;
} sim;

/* Draw a fault for an event (or none). */
static uint8_t draw_fault(sim *s, uint8_t page, bool logged_in)
{
    if (s->w->dirty_rate <= 0 || lake_gen_unif(&s->fr) >= s->w->dirty_rate)
        return LAKE_GEN_CLEAN;
    const bool song = page == LAKE_GEN_NEXTSONG;
    for (;;) {
        /* Duplicates are a third of the faults, like re-delivered data. */
        if (song && lake_gen_unif(&s->fr) < 0.3)
            return LAKE_GEN_DUP;
        const uint32_t f = 1 + lake_gen_below(&s->fr, LAKE_GEN_N_FAULTS - 1);
        const bool needs_song = f == LAKE_GEN_F_LENGTH_STRING ||
                                f == LAKE_GEN_F_NO_SONG ||
                                f == LAKE_GEN_F_NO_USER;
        if (needs_song && !song)
            continue;
        if (f == LAKE_GEN_F_LATIN1 && !logged_in)
            continue; /* needs a name to mangle */
        return (uint8_t)f;
    }
}

static lake_status emit(sim *s, uint8_t page, uint32_t song)
{
    lake_gen_event ev;
    ev.ts = s->ts;
    ev.session = s->session;
    ev.item = s->item++;
    ev.user = s->u;
    ev.song = song;
    ev.page = page;
    ev.level = s->user->level;
    ev.logged_in = s->user->logged_in;
    ev.fault = draw_fault(s, page, s->user->logged_in);
    if (s->user->logged_in)
        s->user->active = true;
    return lake_gen_events_push(s->out, &ev);
}

/* Seconds before the next page after a non-song page. */
static int64_t think_ms(sim *s)
{
    const double u = lake_gen_unif(&s->r);
    if (u < 0.18)
        return 1000 * (int64_t)lake_gen_below(&s->r, 2);
    return 1000 * (int64_t)(1 + 110.0 * -log(1.0 - lake_gen_unif(&s->r)));
}

/* Next page of a logged-in user after @p prev. */
static uint8_t next_page(sim *s, uint8_t prev)
{
    const bool paid = s->user->level == 1;
    double u = lake_gen_unif(&s->r);
    switch (prev) {
    case LAKE_GEN_UPGRADE:
        if (u < 0.3)
            return LAKE_GEN_SUBMIT_UPGRADE;
        break;
    case LAKE_GEN_DOWNGRADE:
        if (u < 0.04)
            return LAKE_GEN_SUBMIT_DOWNGRADE;
        break;
    case LAKE_GEN_SETTINGS:
        if (u < 0.2)
            return LAKE_GEN_SAVE_SETTINGS;
        break;
    case LAKE_GEN_ROLL_ADVERT:
    case LAKE_GEN_HOME:
        if (u < 0.75)
            return LAKE_GEN_NEXTSONG;
        break;
    default:
        break;
    }
    static const struct {
        uint8_t page;
        double free_w, paid_w;
    } tr[] = {
        {LAKE_GEN_NEXTSONG, 87.0, 91.0},  {LAKE_GEN_HOME, 3.2, 3.0},
        {LAKE_GEN_THUMBS_UP, 3.6, 4.6},   {LAKE_GEN_ADD_PLAYLIST, 1.8, 2.4},
        {LAKE_GEN_ADD_FRIEND, 1.3, 1.5},  {LAKE_GEN_THUMBS_DOWN, 0.9, 0.9},
        {LAKE_GEN_ROLL_ADVERT, 4.5, 0.0}, {LAKE_GEN_SETTINGS, 0.5, 0.5},
        {LAKE_GEN_HELP, 0.5, 0.5},        {LAKE_GEN_ABOUT, 0.3, 0.3},
        {LAKE_GEN_UPGRADE, 0.9, 0.0},     {LAKE_GEN_DOWNGRADE, 0.0, 0.8},
        {LAKE_GEN_LOGOUT, 1.5, 1.5},      {LAKE_GEN_ERROR, 0.1, 0.1},
    };
    double total = 0;
    for (size_t i = 0; i < LAKE_ARRAY_LEN(tr); i++)
        total += paid ? tr[i].paid_w : tr[i].free_w;
    u = lake_gen_unif(&s->r) * total;
    for (size_t i = 0; i < LAKE_ARRAY_LEN(tr); i++) {
        u -= paid ? tr[i].paid_w : tr[i].free_w;
        if (u < 0)
            return tr[i].page;
    }
    return LAKE_GEN_NEXTSONG;
}

/* One session from s->ts: logged-out pages and a login when the user is
 * logged out, then pages until the session ends (after a song, or at a
 * logout). The next song starts int(length) s after the previous one. */
static lake_status run_session(sim *s)
{
    lake_gen_user *user = s->user;
    const lake_gen_catalog *c = s->w->catalog;
    s->session = user->n_sessions * (int64_t)s->w->n_users + s->u + 1;
    user->n_sessions++;
    s->item = 0;
    /* A per-session appetite: many short sessions, some long ones. */
    const double p_end = lake_gen_unif(&s->r) < 0.55 ? 0.5 : 0.065;
    if (!user->logged_in) {
        if (lake_gen_unif(&s->r) < 0.8) {
            LAKE_TRY(emit(s, LAKE_GEN_HOME, 0));
            s->ts += think_ms(s);
        }
        if (lake_gen_unif(&s->r) < 0.15) { /* reading before logging in */
            LAKE_TRY(emit(s,
                          lake_gen_unif(&s->r) < 0.6 ? LAKE_GEN_ABOUT
                                                     : LAKE_GEN_HELP,
                          0));
            s->ts += think_ms(s);
        }
        LAKE_TRY(emit(s, LAKE_GEN_LOGIN, 0));
        s->ts += 1000 * (int64_t)(1 + lake_gen_below(&s->r, 180));
        user->logged_in = true;
        LAKE_TRY(emit(s, LAKE_GEN_HOME, 0));
        s->ts += think_ms(s);
    } else if (lake_gen_unif(&s->r) < 0.55) {
        LAKE_TRY(emit(s, LAKE_GEN_HOME, 0));
        /* The first song often starts in the same second. */
        if (lake_gen_unif(&s->r) >= 0.5)
            s->ts += think_ms(s);
    }
    uint8_t page = LAKE_GEN_NEXTSONG;
    while (s->item < MAX_ITEMS) {
        if (page == LAKE_GEN_NEXTSONG) {
            const uint32_t song = lake_gen_pick_song(c, &s->r);
            LAKE_TRY(emit(s, LAKE_GEN_NEXTSONG, song));
            s->ts += 1000 * (int64_t)(c->songs[song].dur_e5 / 100000);
            if (lake_gen_unif(&s->r) < p_end)
                return LAKE_OK;
        } else if (page == LAKE_GEN_LOGOUT) {
            LAKE_TRY(emit(s, LAKE_GEN_LOGOUT, 0));
            user->logged_in = false;
            if (lake_gen_unif(&s->r) < 0.85) {
                s->ts += think_ms(s);
                LAKE_TRY(emit(s, LAKE_GEN_HOME, 0));
            }
            s->ts += 1000;
            return LAKE_OK;
        } else {
            LAKE_TRY(emit(s, page, 0));
            if (page == LAKE_GEN_SUBMIT_UPGRADE)
                user->level = 1;
            else if (page == LAKE_GEN_SUBMIT_DOWNGRADE)
                user->level = 0;
            s->ts += think_ms(s);
        }
        page = next_page(s, page);
    }
    return LAKE_OK;
}

lake_status lake_gen_user_day(const lake_gen_world *w,
                              uint32_t u,
                              int32_t day,
                              lake_gen_user *user,
                              lake_gen_events *out)
{
    sim s;
    memset(&s, 0, sizeof(s));
    s.w = w;
    s.user = user;
    s.u = u;
    s.out = out;
    lake_gen_rng_seed(&s.r, w->seed, u, (uint64_t)day, PURPOSE_DAY);
    lake_gen_rng_seed(&s.fr, w->seed, u, (uint64_t)day, PURPOSE_FAULT);
    const int64_t day_ms = w->start_ms + (int64_t)day * MS_PER_DAY;
    const int64_t days = day_ms / MS_PER_DAY;
    const int weekday = (int)(((days % 7) + 7 + 3) % 7); /* 1970: Thu */
    /* Poisson number of sessions by inversion. */
    const double lambda = user->sessions_per_day * weekday_weight[weekday];
    const double l = exp(-lambda);
    double p = lake_gen_unif(&s.r);
    int n = 0;
    while (p > l && n < 48) {
        p *= lake_gen_unif(&s.r);
        n++;
    }
    int64_t starts[48];
    double total = 0;
    for (int h = 0; h < 24; h++)
        total += hour_weight[h];
    for (int i = 0; i < n; i++) {
        double x = lake_gen_unif(&s.r) * total;
        int h = 0;
        while (h < 23 && x >= hour_weight[h]) {
            x -= hour_weight[h];
            h++;
        }
        starts[i] = day_ms + h * MS_PER_HOUR +
                    (int64_t)(lake_gen_unif(&s.r) * MS_PER_HOUR);
    }
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && starts[j] < starts[j - 1]; j--) {
            const int64_t t = starts[j];
            starts[j] = starts[j - 1];
            starts[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        int64_t t = starts[i];
        if (t < user->busy_until_ms)
            t = user->busy_until_ms + 60000 +
                (int64_t)(lake_gen_unif(&s.r) * 1800000.0);
        if (t >= day_ms + MS_PER_DAY)
            break;
        s.ts = t - t % 1000 + w->ms_offset;
        LAKE_TRY(run_session(&s));
        user->busy_until_ms = s.ts;
    }
    return LAKE_OK;
}
