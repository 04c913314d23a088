/* prom.c - see prom.h. */
#include "base/prom.h"

#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

int fl_prom_lookup(const char *text, size_t len, const char *want, struct fl_buf *out,
                   struct fl_error *err)
{
    size_t wl = strlen(want);
    size_t i = 0;
    while (text && i < len) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        i += ll + 1;
        while (ll && (line[ll - 1] == '\r' || blank(line[ll - 1])))
            ll--;
        size_t s = 0;
        while (s < ll && blank(line[s]))
            s++;
        if (s >= ll || line[s] == '#')
            continue;
        /* The series: up to the first blank outside braces. */
        size_t e = s;
        int inb = 0;
        while (e < ll && (inb || !blank(line[e]))) {
            if (line[e] == '{')
                inb = 1;
            else if (line[e] == '}')
                inb = 0;
            e++;
        }
        if (e - s != wl || memcmp(line + s, want, wl) != 0)
            continue;
        while (e < ll && blank(line[e]))
            e++;
        size_t v = e;
        while (e < ll && !blank(line[e]))
            e++;   /* an optional timestamp follows: ignored */
        if (e == v)
            continue;
        if (fl_buf_addf(out, "%.*s", (int)(e - v), line + v))
            return fl_error_set(err, FL_ENOMEM, "value too long");
        return 0;
    }
    return fl_error_set(err, FL_ENOTFOUND, "metric %s not on the page", want);
}
