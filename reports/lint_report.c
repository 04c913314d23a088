/* lint_report.c - what `faultline lint-images` found, as console lines and
 * as JUnit XML (the shape is described in lint_report.h). Every string from
 * a linted file is sanitized before it is written: the files are input
 * faultline does not control. */
#include "reports/lint_report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "reports/sanitize.h"

#define ATTR_MAX 4096
#define NAME_MAX_BYTES 512
#define TEXT_MAX (64u * 1024 * 1024)

static const char *hint(enum fl_lint_rule r)
{
    switch (r) {
    case FL_LINT_NO_TAG: return "no tag means :latest; pin a digest (NAME@sha256:...)";
    case FL_LINT_LATEST: return ":latest moves with every push; pin a digest";
    case FL_LINT_MUTABLE_TAG: return "a tag can be moved to another image; pin a digest "
                                     "(NAME:TAG@sha256:...)";
    case FL_LINT_UNRESOLVED: return "what will be pulled is not in the file";
    case FL_LINT_INVALID: return "not a valid image reference";
    case FL_LINT_PINNED: return "pinned by digest";
    }
    return "";
}

/* "file:line:col: rule: ref (where; written as ...; from template): detail - hint" */
static int ref_line(struct fl_buf *b, const struct fl_lint *l, const struct fl_lint_ref *r)
{
    int rc = fl_sanitize_append(b, l->files[r->file].path, ATTR_MAX, FL_SAN_ONELINE);
    rc = rc ? rc : fl_buf_addf(b, ":%d:%d: %s: ", r->line, r->col, fl_lint_rule_name(r->rule));
    rc = rc ? rc : fl_sanitize_append(b, r->ref, ATTR_MAX, FL_SAN_ONELINE);
    rc = rc ? rc : fl_buf_adds(b, " (");
    rc = rc ? rc : fl_sanitize_append(b, r->where ? r->where : "?", ATTR_MAX, FL_SAN_ONELINE);
    if (!rc && r->written) {
        rc = fl_buf_adds(b, "; written as ");
        rc = rc ? rc : fl_sanitize_append(b, r->written, ATTR_MAX, FL_SAN_ONELINE);
    }
    if (!rc && r->source) {
        rc = fl_buf_adds(b, "; from ");
        rc = rc ? rc : fl_sanitize_append(b, r->source, ATTR_MAX, FL_SAN_ONELINE);
    }
    rc = rc ? rc : fl_buf_adds(b, ")");
    if (!rc && r->detail) {
        rc = fl_buf_adds(b, ": ");
        rc = rc ? rc : fl_sanitize_append(b, r->detail, ATTR_MAX, FL_SAN_ONELINE);
    }
    if (!rc && r->allowed_by) {
        rc = fl_buf_adds(b, " - allowed by --allow ");
        rc = rc ? rc : fl_sanitize_append(b, r->allowed_by, ATTR_MAX, FL_SAN_ONELINE);
    } else if (!rc) {
        rc = fl_buf_addf(b, " - %s", hint(r->rule));
    }
    return rc;
}

char *fl_lint_text_report(const struct fl_lint *l, int verbose)
{
    struct fl_buf b;
    fl_buf_init(&b, TEXT_MAX);
    int rc = fl_buf_adds(&b, "");
    for (size_t i = 0; i < l->errors.n && !rc; i++) {
        const struct fl_diag_item *d = &l->errors.items[i];
        rc = fl_sanitize_append(&b, d->file, ATTR_MAX, FL_SAN_ONELINE);
        if (!rc && d->line)
            rc = fl_buf_addf(&b, ":%d:%d", d->line, d->col);
        rc = rc ? rc : fl_buf_adds(&b, ": error: ");
        rc = rc ? rc : fl_sanitize_append(&b, d->msg, ATTR_MAX, FL_SAN_ONELINE);
        rc = rc ? rc : fl_buf_adds(&b, "\n");
    }
    for (size_t i = 0; i < l->nrefs && !rc; i++) {
        const struct fl_lint_ref *r = &l->refs[i];
        if (!verbose && (r->rule == FL_LINT_PINNED || r->allowed_by))
            continue;
        rc = ref_line(&b, l, r);
        rc = rc ? rc : fl_buf_adds(&b, "\n");
    }
    if (rc) {
        fl_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* ---- JUnit ------------------------------------------------------------ */

struct xw {
    xmlTextWriterPtr w;
    int bad;
};

static void x_start(struct xw *x, const char *name)
{
    if (!x->bad && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->bad = FL_EIO;
}

static void x_end(struct xw *x)
{
    if (!x->bad && xmlTextWriterEndElement(x->w) < 0)
        x->bad = FL_EIO;
}

static void x_attr(struct xw *x, const char *name, const char *value, unsigned flags)
{
    char *s = fl_sanitize(value, ATTR_MAX, flags);
    if (!s) {
        x->bad = FL_ENOMEM;
        return;
    }
    if (!x->bad && xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
                                               BAD_CAST(*s ? s : "-")) < 0)
        x->bad = FL_EIO;
    free(s);
}

static void x_attr_int(struct xw *x, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    x_attr(x, name, buf, 0);
}

static void x_text(struct xw *x, const char *text)
{
    char *s = fl_sanitize(text, ATTR_MAX, 0);
    if (!s) {
        x->bad = FL_ENOMEM;
        return;
    }
    if (!x->bad && xmlTextWriterWriteString(x->w, BAD_CAST s) < 0)
        x->bad = FL_EIO;
    free(s);
}

static void x_elem_text(struct xw *x, const char *name, const char *text)
{
    x_start(x, name);
    x_text(x, text);
    x_end(x);
}

static void x_case(struct xw *x, const struct fl_lint *l, const struct fl_lint_ref *r,
                   const char *classname)
{
    x_start(x, "testcase");
    x_attr(x, "name", r->where ? r->where : r->ref, FL_SAN_TOKEN);
    x_attr(x, "classname", classname, FL_SAN_TOKEN);
    x_attr(x, "time", "0", 0);
    struct fl_buf b;
    fl_buf_init(&b, 4 * ATTR_MAX);
    if (ref_line(&b, l, r)) {
        x->bad = FL_ENOMEM;
    } else if (r->rule != FL_LINT_PINNED && r->allowed_by) {
        x_elem_text(x, "skipped", fl_buf_str(&b));
    } else if (r->rule != FL_LINT_PINNED) {
        x_start(x, "failure");
        char msg[ATTR_MAX];
        snprintf(msg, sizeof msg, "%s: %s", fl_lint_rule_name(r->rule), r->ref);
        x_attr(x, "message", msg, FL_SAN_ONELINE);
        x_attr(x, "type", fl_lint_rule_name(r->rule), FL_SAN_TOKEN);
        x_text(x, fl_buf_str(&b));
        x_end(x);
    }
    fl_buf_free(&b);
    x_end(x);
}

static void x_suite(struct xw *x, const struct fl_lint *l, size_t fi, const char *host,
                    const char *ts)
{
    const struct fl_lint_file *f = &l->files[fi];
    int failures = 0, skipped = 0;
    for (size_t i = f->first; i < f->first + f->n; i++) {
        const struct fl_lint_ref *r = &l->refs[i];
        failures += r->rule != FL_LINT_PINNED && !r->allowed_by;
        skipped += r->rule != FL_LINT_PINNED && r->allowed_by;
    }
    size_t cn = strlen(f->path) + 16;
    char *classname = malloc(cn);
    if (!classname) {
        x->bad = FL_ENOMEM;
        return;
    }
    snprintf(classname, cn, "lint-images.%s", f->path);
    x_start(x, "testsuite");
    x_attr(x, "name", f->path, FL_SAN_TOKEN);
    x_attr(x, "package", "faultline.lint-images", 0);
    x_attr_int(x, "id", (long long)fi);
    x_attr(x, "timestamp", ts, 0);
    x_attr(x, "hostname", host, FL_SAN_TOKEN);
    x_attr_int(x, "tests", (long long)f->n + f->error);
    x_attr_int(x, "failures", failures);
    x_attr_int(x, "errors", f->error);
    x_attr_int(x, "skipped", skipped);
    x_attr(x, "time", "0", 0);
    x_start(x, "properties");
    x_start(x, "property");
    x_attr(x, "name", "kind", 0);
    x_attr(x, "value", fl_lint_kind_name(f->kind), 0);
    x_end(x);
    x_end(x);
    if (f->error) {
        struct fl_buf b;
        fl_buf_init(&b, 64 * ATTR_MAX);
        int rc = fl_buf_adds(&b, "");
        for (size_t i = 0; i < l->errors.n && !rc; i++) {
            const struct fl_diag_item *d = &l->errors.items[i];
            if (strcmp(d->file, f->path) == 0)
                rc = fl_buf_addf(&b, "%s:%d:%d: %s\n", d->file, d->line, d->col, d->msg);
        }
        x_start(x, "testcase");
        x_attr(x, "name", "parse", 0);
        x_attr(x, "classname", classname, FL_SAN_TOKEN);
        x_attr(x, "time", "0", 0);
        x_start(x, "error");
        x_attr(x, "message", "the file could not be read or parsed", 0);
        x_attr(x, "type", "parse", 0);
        x_text(x, fl_buf_str(&b));
        x_end(x);
        x_end(x);
        fl_buf_free(&b);
    }
    for (size_t i = f->first; i < f->first + f->n; i++)
        x_case(x, l, &l->refs[i], classname);
    x_elem_text(x, "system-out", "");
    x_elem_text(x, "system-err", "");
    x_end(x);
    free(classname);
}

int fl_lint_junit_write(const char *path, const struct fl_lint *l, struct fl_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    struct xw x = {.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL};
    if (!x.w) {
        if (buf)
            xmlBufferFree(buf);
        return fl_error_set(err, FL_ENOMEM, "out of memory writing %s", path);
    }
    char host[256] = "localhost", ts[32] = "1970-01-01T00:00:00";
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    xmlTextWriterSetIndent(x.w, 1);
    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL) < 0)
        x.bad = FL_EIO;
    x_start(&x, "testsuites");
    for (size_t i = 0; i < l->nfiles && !x.bad; i++)
        x_suite(&x, l, i, host, ts);
    x_end(&x);
    if (!x.bad && xmlTextWriterEndDocument(x.w) < 0)
        x.bad = FL_EIO;
    xmlFreeTextWriter(x.w);
    int rc = x.bad;
    if (rc)
        rc = fl_error_set(err, rc, "cannot render the JUnit report %s: %s", path, fl_strerror(rc));
    else
        rc = fl_report_write_file(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf), err);
    xmlBufferFree(buf);
    return rc;
}
