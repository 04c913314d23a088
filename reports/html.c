/* html.c - the HTML report: one self-contained file beside the JUnit.
 *
 * The page is static text (reports/html/page.css and page.js, built into
 * the binary) plus one JSON document with what to show (html_data.c) in a
 * <script type="application/json"> element. It loads nothing from the
 * network: a report attached to a CI run or mailed after a game day opens
 * anywhere, offline. Untrusted strings reach the page only as JSON data
 * that the script puts into the DOM with textContent; every '<' in the
 * document is written as \u003c, so no value can close the data element
 * or open a comment inside it.
 */
#include "reports/html_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html_page.h"

static int put_json(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '<' ? fputs("\\u003c", f) < 0 : fputc(*p, f) == EOF)
            return -1;
    }
    return 0;
}

int fl_html_write(const char *path, const struct fl_result *const *results, size_t n,
                  struct fl_error *err)
{
    json_t *runs = json_array();
    for (size_t i = 0; runs && i < n; i++) {
        json_t *r = fl_html_run_json(results[i]);
        if (!r || json_array_append_new(runs, r)) {
            json_decref(runs);
            runs = NULL;
        }
    }
    json_t *root = runs ? json_pack("{s:s, s:o}", "version", FL_VERSION, "runs", runs) : NULL;
    char *data = root ? json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH)
                      : NULL;
    json_decref(root);
    if (!data)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        free(data);
        return fl_error_set(err, FL_EIO, "cannot write %s: %s", path, strerror(e));
    }
    char when[64] = "";
    time_t now = n && results[0]->started ? results[0]->started : time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>faultline report</title>\n<style>\n%s</style>\n</head>\n<body>\n"
            "<header><h1>faultline report</h1><p id=\"fl-summary\">%s</p>"
            "<p class=\"fl-file\">faultline %s, run started %s</p></header>\n"
            "<noscript>This report draws its timeline and charts with JavaScript; the "
            "verdicts are also in the JUnit file beside it.</noscript>\n"
            "<main id=\"fl-runs\"></main>\n<script type=\"application/json\" id=\"fl-data\">",
            fl_page_css, "", FL_VERSION, when);
    put_json(f, data);
    fprintf(f, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", fl_page_js);
    free(data);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return fl_error_set(err, FL_EIO, "writing %s failed: %s", path, strerror(errno));
    return 0;
}
