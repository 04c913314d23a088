/* junit.c - JUnit XML for CI (Jenkins, GitLab, GitHub reporters).
 *
 * Shape, chosen so the file validates against BOTH the strict Ant schema
 * and the Jenkins (dtkit junit-4) schema in tests/data/junit/:
 *
 *   <testsuites>                          no attributes: the Ant schema
 *                                         allows none here (reporters sum
 *                                         the suites themselves)
 *     <testsuite name package id timestamp hostname tests failures errors
 *                skipped time>            one per scenario (result)
 *       <properties> seed, target, target.containment, faultline.version, scenario.file,
 *                    var.NAME..., output.dir </properties>
 *       <testcase name=label classname="faultline.<scenario>" time>
 *         nothing (valid) | <failure> (invalid) | <error> (unknown)
 *       </testcase>
 *       <system-out> the fault timeline </system-out>
 *       <system-err> the harness error, or empty </system-err>
 *
 * When the harness could not finish the run (harness_status != 0) the suite
 * gets a first testcase "harness" carrying the harness error, and every
 * invariant is still listed, as an error "not checked: the run did not
 * complete". Listing them (rather than omitting them) keeps each test's
 * identity stable across builds: Jenkins and GitLab then show the
 * invariant as errored in that build instead of as a test that vanished
 * and reappeared, which would reset its history. When the scenario did not
 * load (sc == NULL) the suite, named after the file, has one testcase
 * "load" with the error.
 *
 * Every string from the model or the history is sanitized (sanitize.h)
 * before it reaches the writer: libxml2's text writer escapes markup
 * characters but passes control characters and invalid UTF-8 through,
 * which would make the whole report unparseable. No CDATA is used, so
 * "]]>" is just escaped text.
 */
#include "reports/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "reports/sanitize.h"

#define ATTR_MAX (4 * 1024)        /* message attributes */
#define NAME_MAX_BYTES 512         /* names, classnames, properties */
#define BODY_MAX (64 * 1024)       /* failure / error bodies */
#define BODY_CEX 10                /* counterexamples detailed in a body */
#define BODY_OPS 40                /* ops listed per counterexample */
#define OUT_MAX (FL_TIMELINE_MAX + 4096)

/* The writer plus a sticky failure flag, so the emitting code reads as a
 * straight sequence and the result is checked once per suite. */
struct xw {
    xmlTextWriterPtr w;
    int bad;
};

struct counts {
    int tests, failures, errors;
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

/* An attribute whose value is trusted (numbers, fixed text). */
static void x_attr_raw(struct xw *x, const char *name, const char *value)
{
    if (!x->bad && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->bad = FL_EIO;
}

/* An attribute from untrusted text; fallback replaces an empty result
 * where the schema needs a non-empty token. */
static void x_attr(struct xw *x, const char *name, const char *value, size_t max,
                   unsigned flags, const char *fallback)
{
    char *s = fl_sanitize(value, max, flags);
    if (!s) {
        x->bad = FL_ENOMEM;
        return;
    }
    x_attr_raw(x, name, (!*s && fallback) ? fallback : s);
    free(s);
}

static void x_text(struct xw *x, const char *text, size_t max)
{
    char *s = fl_sanitize(text, max, 0);
    if (!s) {
        x->bad = FL_ENOMEM;
        return;
    }
    if (!x->bad && xmlTextWriterWriteString(x->w, BAD_CAST s) < 0)
        x->bad = FL_EIO;
    free(s);
}

static void x_attr_int(struct xw *x, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    x_attr_raw(x, name, buf);
}

/* xs:decimal: no exponent, no NaN or infinity, and never negative. */
static void x_attr_seconds(struct xw *x, const char *name, double s)
{
    char buf[64];
    if (!isfinite(s) || s < 0)
        s = 0;
    if (s > 1e12)
        s = 1e12;
    snprintf(buf, sizeof buf, "%.3f", s);
    x_attr_raw(x, name, buf);
}

static void x_property(struct xw *x, const char *name, const char *value)
{
    if (!value)
        return;
    x_start(x, "property");
    x_attr(x, "name", name, NAME_MAX_BYTES, FL_SAN_TOKEN, "property");
    x_attr(x, "value", value, ATTR_MAX, 0, NULL);
    x_end(x);
}

/* A failure or error element with its body. */
static void x_problem(struct xw *x, const char *elem, const char *message,
                      const char *type, const char *body)
{
    x_start(x, elem);
    x_attr(x, "message", message, ATTR_MAX, 0, NULL);
    x_attr(x, "type", type, NAME_MAX_BYTES, FL_SAN_TOKEN, "unknown");
    if (body && *body)
        x_text(x, body, BODY_MAX);
    x_end(x);
}

static const char *suite_name(const struct fl_result *r)
{
    if (r->name && *r->name)
        return r->name;
    return r->file && *r->file ? r->file : "scenario";
}

static void suite_counts(const struct fl_result *r, struct counts *c)
{
    memset(c, 0, sizeof *c);
    if (!r->sc) {
        c->tests = c->errors = 1;
        return;
    }
    if (r->harness_status) {
        c->tests = c->errors = (int)r->ninv + 1;
        return;
    }
    c->tests = (int)r->ninv;
    for (size_t i = 0; i < r->ninv; i++) {
        if (r->inv[i].verdict.validity == FL_INVALID)
            c->failures++;
        else if (r->inv[i].verdict.validity == FL_UNKNOWN)
            c->errors++;
    }
}

/* ---- bodies --------------------------------------------------------------- */

/* The counterexamples of a verdict, with their ops, into b. Stops quietly
 * at b's ceiling: the caller's final sanitize pass adds the note. */
static int add_cex(struct fl_buf *b, const struct fl_verdict *v,
                   const struct fl_history *h)
{
    size_t shown = v->ncex < BODY_CEX ? v->ncex : BODY_CEX;
    size_t total = v->ncex_total > v->ncex ? v->ncex_total : v->ncex;
    int rc = 0;
    if (total)
        rc = fl_buf_addf(b, "\n%zu counterexample%s, the first %zu:\n", total,
                         total == 1 ? "" : "s", shown);
    for (size_t i = 0; i < shown && !rc; i++) {
        const struct fl_cex *c = &v->cex[i];
        rc = fl_buf_adds(b, "\n");
        if (!rc)
            rc = fl_sanitize_append(b, c->key ? c->key : "-", ATTR_MAX, FL_SAN_ONELINE);
        if (!rc && c->why)
            rc = fl_buf_adds(b, ": ");
        if (!rc && c->why)
            rc = fl_sanitize_append(b, c->why, ATTR_MAX, FL_SAN_ONELINE);
        if (!rc)
            rc = fl_buf_adds(b, "\n");
        size_t nops = c->nops < BODY_OPS ? c->nops : BODY_OPS;
        for (size_t k = 0; k < nops && !rc; k++) {
            const struct fl_op *op = NULL;
            if (h && c->ops[k] < fl_history_len(h))
                op = fl_history_get(h, c->ops[k]);
            rc = fl_buf_adds(b, "  ");
            if (!rc && op)
                rc = fl_report_op_line(b, op);
            else if (!rc)
                rc = fl_buf_addf(b, "#%zu (not in the history)", c->ops[k]);
            if (!rc)
                rc = fl_buf_adds(b, "\n");
        }
        if (!rc && c->nops > nops)
            rc = fl_buf_addf(b, "  ... %zu more ops\n", c->nops - nops);
    }
    if (!rc && total > shown)
        rc = fl_buf_addf(b, "\n... %zu more counterexample%s not shown here\n",
                         total - shown, total - shown == 1 ? "" : "s");
    return rc;
}

/* The body of an invariant's failure or error: summary, counterexamples.
 * Caller frees; NULL when out of memory. */
static char *verdict_body(const struct fl_inv_result *ir, const struct fl_history *h,
                          const char *lead)
{
    struct fl_buf b;
    fl_buf_init(&b, BODY_MAX + 4096);
    int rc = 0;
    if (lead)
        rc = fl_buf_addf(&b, "%s\n", lead);
    if (!rc && ir->verdict.summary)
        rc = fl_sanitize_append(&b, ir->verdict.summary, ATTR_MAX, 0);
    if (!rc && ir->inv && ir->inv->pos.file)
        rc = fl_buf_adds(&b, "\ninvariant at ");
    if (!rc && ir->inv && ir->inv->pos.file) {
        rc = fl_sanitize_append(&b, ir->inv->pos.file, NAME_MAX_BYTES, FL_SAN_ONELINE);
        if (!rc)
            rc = fl_buf_addf(&b, ":%d:%d", ir->inv->pos.line, ir->inv->pos.col);
    }
    if (!rc)
        rc = add_cex(&b, &ir->verdict, h);
    /* Past BODY_MAX the buffer hit its own ceiling: the body is merely
     * long, and the pass below cuts it with a note. Below, it was malloc. */
    if (rc == FL_ENOMEM && b.len > BODY_MAX)
        rc = 0;
    char *out = rc ? NULL : fl_sanitize(fl_buf_str(&b), BODY_MAX, 0);
    fl_buf_free(&b);
    return out;
}

/* ---- testcases ------------------------------------------------------------ */

static void x_testcase_start(struct xw *x, const char *name, const char *classname,
                             double time_s)
{
    x_start(x, "testcase");
    x_attr(x, "name", name, NAME_MAX_BYTES, FL_SAN_TOKEN, "unnamed");
    x_attr_raw(x, "classname", classname);
    x_attr_seconds(x, "time", time_s);
}

static void x_invariant(struct xw *x, const struct fl_result *r,
                        const struct fl_inv_result *ir, const char *classname)
{
    const struct fl_invariant *inv = ir->inv;
    const char *checker = inv && inv->type && inv->type->name ? inv->type->name : "invariant";
    const char *label = inv && inv->label && *inv->label ? inv->label : checker;
    x_testcase_start(x, label, classname, ir->time_s);
    const struct fl_verdict *v = &ir->verdict;
    char *body = NULL;
    if (r->harness_status) {
        body = verdict_body(ir, r->history, "the harness stopped before the run "
                            "completed; the checker's note:");
        if (body)
            x_problem(x, "error", "not checked: the run did not complete", "harness", body);
    } else if (v->validity == FL_INVALID) {
        body = verdict_body(ir, r->history, NULL);
        if (body)
            x_problem(x, "failure", v->summary ? v->summary : "invariant violated",
                      checker, body);
    } else if (v->validity == FL_UNKNOWN) {
        body = verdict_body(ir, r->history, NULL);
        char msg[ATTR_MAX];
        snprintf(msg, sizeof msg, "verdict unknown: %s", v->summary ? v->summary : "");
        if (body)
            x_problem(x, "error", msg, "unknown", body);
    }
    if (!body && (r->harness_status || v->validity != FL_VALID))
        x->bad = FL_ENOMEM;
    free(body);
    x_end(x);
}

static void x_harness_case(struct xw *x, const struct fl_result *r, const char *classname)
{
    char body[1024];
    const char *msg = r->harness_error[0] ? r->harness_error : fl_strerror(r->harness_status);
    snprintf(body, sizeof body, "the harness could not complete the run (%s):\n%s",
             fl_strerror(r->harness_status), msg);
    x_testcase_start(x, "harness", classname, r->duration_s);
    x_problem(x, "error", msg, "harness", body);
    x_end(x);
}

static void x_load_case(struct xw *x, const struct fl_result *r, const char *classname)
{
    const char *msg = r->harness_error[0] ? r->harness_error : "the scenario file did not load";
    char body[1024];
    snprintf(body, sizeof body, "%s\nscenario file: %s", msg, r->file ? r->file : "?");
    x_testcase_start(x, "load", classname, 0);
    x_problem(x, "error", msg, "load", body);
    x_end(x);
}

/* ---- suites --------------------------------------------------------------- */

static void x_properties(struct xw *x, const struct fl_result *r)
{
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
    x_start(x, "properties");
    if (r->sc)          /* a file that did not load was never run */
        x_property(x, "seed", seed);
    x_property(x, "target", r->target);
    if (r->containment[0])
        x_property(x, "target.containment", r->containment);
    x_property(x, "faultline.version", FL_VERSION);
    x_property(x, "scenario.file", r->file ? r->file : r->sc ? r->sc->file : NULL);
    for (size_t i = 0; r->sc && i < r->sc->nvars; i++) {
        const struct fl_kv *kv = &r->sc->vars[i];
        size_t n = strlen(kv->key ? kv->key : "") + 5;
        char *name = malloc(n);
        if (!name) {
            x->bad = FL_ENOMEM;
            break;
        }
        snprintf(name, n, "var.%s", kv->key ? kv->key : "");
        x_property(x, name, kv->value ? kv->value : "");
        free(name);
    }
    x_property(x, "output.dir", r->outdir);
    x_end(x);
}

static void x_suite_attrs(struct xw *x, const struct fl_result *r, size_t id,
                          const char *name, const char *host)
{
    struct counts c;
    suite_counts(r, &c);
    char ts[32] = "1970-01-01T00:00:00";
    struct tm tm;
    time_t t = r->started;
    if (gmtime_r(&t, &tm))
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    x_attr_raw(x, "name", name);
    x_attr_raw(x, "package", "faultline");
    x_attr_int(x, "id", (long long)id);
    x_attr_raw(x, "timestamp", ts);
    x_attr_raw(x, "hostname", host);
    x_attr_int(x, "tests", c.tests);
    x_attr_int(x, "failures", c.failures);
    x_attr_int(x, "errors", c.errors);
    x_attr_raw(x, "skipped", "0");
    x_attr_seconds(x, "time", r->duration_s);
}

static void x_suite(struct xw *x, const struct fl_result *r, size_t id, const char *host)
{
    char *name = fl_sanitize(suite_name(r), NAME_MAX_BYTES, FL_SAN_TOKEN);
    size_t n = name ? strlen(name) + 32 : 0;
    char *classname = name ? malloc(n) : NULL;
    if (!classname) {
        free(name);
        x->bad = FL_ENOMEM;
        return;
    }
    if (!*name) {
        free(name);
        name = fl_strdup("scenario");
    }
    snprintf(classname, n, "faultline.%s", name ? name : "scenario");
    x_start(x, "testsuite");
    x_suite_attrs(x, r, id, name ? name : "scenario", host);
    x_properties(x, r);
    if (!r->sc) {
        x_load_case(x, r, classname);
    } else {
        if (r->harness_status)
            x_harness_case(x, r, classname);
        for (size_t i = 0; i < r->ninv; i++)
            x_invariant(x, r, &r->inv[i], classname);
    }
    char *timeline = r->sc ? fl_timeline_text(r->history) : NULL;
    if (r->sc && !timeline)
        x->bad = FL_ENOMEM;
    x_start(x, "system-out");
    x_text(x, timeline ? timeline : "", OUT_MAX);
    x_end(x);
    x_start(x, "system-err");
    x_text(x, r->harness_status || !r->sc ? r->harness_error : "", ATTR_MAX);
    x_end(x);
    x_end(x);
    free(timeline);
    free(name);
    free(classname);
}

/* ---- the document and the file ------------------------------------------- */

static void hostname(char *buf, size_t len)
{
    char raw[256];
    if (gethostname(raw, sizeof raw) != 0)
        raw[0] = '\0';
    raw[sizeof raw - 1] = '\0';
    char *s = fl_sanitize(raw, len - 1, FL_SAN_TOKEN);
    snprintf(buf, len, "%s", s && *s ? s : "localhost");
    free(s);
}

static int render(xmlBufferPtr buf, const struct fl_result *const *results, size_t n)
{
    struct xw x = {.w = xmlNewTextWriterMemory(buf, 0)};
    if (!x.w)
        return FL_ENOMEM;
    char host[256];
    hostname(host, sizeof host);
    xmlTextWriterSetIndent(x.w, 1);
    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL) < 0)
        x.bad = FL_EIO;
    x_start(&x, "testsuites");
    size_t id = 0;      /* Ant: ids count from 0 without gaps */
    for (size_t i = 0; i < n && !x.bad; i++)
        if (results[i])
            x_suite(&x, results[i], id++, host);
    x_end(&x);
    if (!x.bad && xmlTextWriterEndDocument(x.w) < 0)
        x.bad = FL_EIO;
    xmlFreeTextWriter(x.w);   /* flushes into buf */
    return x.bad;
}

/* Write data to path. A regular file is replaced atomically (temporary
 * file + rename), so a CI job never reads half a report; anything else
 * (/dev/stdout, a pipe) is written directly. */
int fl_report_write_file(const char *path, const void *data, size_t len, struct fl_error *err)
{
    struct stat st;
    int direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
    char tmp[4096];
    if (!direct && snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return fl_error_set(err, FL_EIO, "%s: path too long", path);
    const char *target = direct ? path : tmp;
    FILE *f = fopen(target, "w");
    if (!f)
        return fl_error_set(err, FL_EIO, "cannot write %s: %s", target, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (ok && !direct && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        int e = errno;
        if (!direct)
            unlink(tmp);
        return fl_error_set(err, FL_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int fl_junit_write(const char *path, const struct fl_result *const *results,
                   size_t n, struct fl_error *err)
{
    if (!path || (n && !results))
        return fl_error_set(err, FL_EINVAL, "fl_junit_write: no path or results");
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return fl_error_set(err, FL_ENOMEM, "out of memory writing %s", path);
    int rc = render(buf, results, n);
    if (rc)
        rc = fl_error_set(err, rc, "cannot render the JUnit report %s: %s", path,
                          fl_strerror(rc));
    else
        rc = fl_report_write_file(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf),
                                  err);
    xmlBufferFree(buf);
    return rc;
}
