/* sanitize.c - UTF-8 repair, control-character removal and length caps for
 * every string that goes into a report (see sanitize.h). */
#include "reports/sanitize.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int fl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v;
    /* The allowed range of the second byte excludes overlong forms,
     * surrogates and values past U+10FFFF (RFC 3629, Unicode table 3-7). */
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return -1;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -i;
        unsigned char b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
            return -i;
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return len;
}

/* Whether a code point must not reach a report as is. */
static int is_unwanted(uint32_t cp, unsigned flags)
{
    if (cp == '\t' || cp == '\n' || cp == '\r')
        return 0;
    if (cp == 0xFFFE || cp == 0xFFFF)   /* not XML characters at all */
        return 1;
    if (flags & FL_SAN_KEEP_CTRL)
        return 0;
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

struct san {
    struct fl_buf *b;
    size_t start;       /* b->len when we began */
    size_t max;         /* 0: unlimited */
    size_t limit;       /* the cut must leave room for the note */
    size_t cut;         /* output length at the last boundary <= limit */
    int over;           /* the output passed max */
    int pending_space;  /* TOKEN: a collapsed space waits for a next char */
};

/* Emit one complete character (or U+FFFD). Returns 0, 1 once the output
 * passed max (stop), or FL_ENOMEM. */
static int emit(struct san *st, const void *p, size_t n)
{
    size_t out = st->b->len - st->start;
    if (st->max && out + n > st->max) {
        st->over = 1;
        return 1;
    }
    if (fl_buf_add(st->b, p, n))
        return FL_ENOMEM;
    if (!st->max || out + n <= st->limit)
        st->cut = out + n;
    return 0;
}

static int emit_char(struct san *st, const void *p, size_t n, int space, unsigned flags)
{
    if (flags & FL_SAN_TOKEN) {
        if (space) {
            st->pending_space = st->b->len > st->start;
            return 0;
        }
        if (st->pending_space) {
            st->pending_space = 0;
            int rc = emit(st, " ", 1);
            if (rc)
                return rc;
        }
    } else if (space && (flags & FL_SAN_ONELINE)) {
        return emit(st, " ", 1);
    }
    return emit(st, p, n);
}

int fl_sanitize_append(struct fl_buf *b, const char *s, size_t max, unsigned flags)
{
    if (flags & FL_SAN_TOKEN)
        flags |= FL_SAN_ONELINE;
    size_t note = strlen(FL_SAN_TRUNCATED);
    struct san st = {
        .b = b, .start = b->len, .max = max,
        .limit = max > note ? max - note : max,
    };
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    int rc = 0;
    while (n > 0 && rc == 0) {
        uint32_t cp = 0;
        int k = fl_utf8_decode(p, n, &cp);
        size_t used = k > 0 ? (size_t)k : (size_t)-k;
        if (k < 0 || is_unwanted(cp, flags)) {
            rc = emit_char(&st, FL_SAN_REPLACEMENT, 3, 0, flags);
        } else {
            int space = cp == ' ' || ((flags & FL_SAN_ONELINE) &&
                                      (cp == '\t' || cp == '\n' || cp == '\r'));
            rc = emit_char(&st, p, used, space, flags);
        }
        p += used;
        n -= used;
    }
    if (rc < 0)
        return rc;
    if (st.over) {
        b->len = st.start + st.cut;
        if (b->p)
            b->p[b->len] = '\0';
        if (max > note)
            return fl_buf_add(b, FL_SAN_TRUNCATED, note);
    }
    return 0;
}

char *fl_sanitize(const char *s, size_t max, unsigned flags)
{
    struct fl_buf b;
    /* Each input byte yields at most 3 output bytes (one U+FFFD). */
    size_t in = s ? strlen(s) : 0;
    size_t ceiling = (max ? max : in * 3) + 64;
    fl_buf_init(&b, ceiling);
    if (fl_sanitize_append(&b, s, max, flags) || fl_buf_add(&b, "", 0)) {
        fl_buf_free(&b);
        return NULL;
    }
    return b.p;
}
