/* jsonl.c - the history as JSON lines (the --events format).
 *
 * One object per op, fields always present and always in this order:
 *   {"index":N,"time_us":N,"process":N,"type":"ok","source":"submit",
 *    "f":"poll","key":"j1","value":"pending","error":null}
 * Absent strings are null. fl_history_load_jsonl reads these names back.
 *
 * A hand-written escaper rather than jansson: this runs once per op while
 * the run is live (millions of ops), and it never allocates. Control
 * characters are escaped (\n, \u0001), so they survive the round trip;
 * invalid UTF-8 cannot be represented in JSON at all and becomes U+FFFD.
 */
#include "reports/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reports/sanitize.h"

struct jw {
    FILE *f;
    int bad;
};

static void put(struct jw *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f) != n)
        w->bad = 1;
}

static void puts_lit(struct jw *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A JSON string literal, or null. */
static void put_string(struct jw *w, const char *s)
{
    if (!s) {
        puts_lit(w, "null");
        return;
    }
    put(w, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    const unsigned char *run = p;   /* bytes that go out unchanged */
    while (n > 0) {
        uint32_t cp;
        int k = fl_utf8_decode(p, n, &cp);
        size_t used = k > 0 ? (size_t)k : (size_t)-k;
        const char *esc = NULL;
        char ubuf[8];
        if (k < 0) {
            esc = "\\ufffd";
        } else if (cp == '"') {
            esc = "\\\"";
        } else if (cp == '\\') {
            esc = "\\\\";
        } else if (cp == '\n') {
            esc = "\\n";
        } else if (cp == '\r') {
            esc = "\\r";
        } else if (cp == '\t') {
            esc = "\\t";
        } else if (cp < 0x20 || cp == 0x7F) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", (unsigned)cp);
            esc = ubuf;
        }
        if (esc) {
            put(w, run, (size_t)(p - run));
            puts_lit(w, esc);
            run = p + used;
        }
        p += used;
        n -= used;
    }
    put(w, run, (size_t)(p - run));
    put(w, "\"", 1);
}

int fl_jsonl_write_op(FILE *f, const struct fl_op *op)
{
    if (!f || !op)
        return FL_EINVAL;
    struct jw w = {.f = f};
    char num[128];
    snprintf(num, sizeof num, "{\"index\":%" PRIu64 ",\"time_us\":%" PRId64
             ",\"process\":%" PRId32 ",\"type\":", op->index, op->time_us, op->process);
    puts_lit(&w, num);
    put_string(&w, fl_optype_name(op->type));
    puts_lit(&w, ",\"source\":");
    put_string(&w, op->source);
    puts_lit(&w, ",\"f\":");
    put_string(&w, op->f);
    puts_lit(&w, ",\"key\":");
    put_string(&w, op->key);
    puts_lit(&w, ",\"value\":");
    put_string(&w, op->value);
    puts_lit(&w, ",\"error\":");
    put_string(&w, op->error);
    puts_lit(&w, "}\n");
    return w.bad || ferror(f) ? FL_EIO : 0;
}
