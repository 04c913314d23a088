/* html_data.c - what the HTML report shows, as one JSON document.
 *
 * The page (html.c) embeds this document and draws it: the timeline with
 * faults as bands, workload throughput, error rate and latency
 * percentiles over time, probe states per replica, violations where they
 * happened, and the notes. Everything here is bounded whatever the size
 * of the history: workload series are bucketed (at most HTML_BUCKETS per
 * run), probe samples merge into runs of one state, and every list has a
 * ceiling past which it says how much it left out.
 */
#include "reports/html_int.h"

#include <stdlib.h>
#include <string.h>

#include "reports/sanitize.h"

#define HTML_BUCKETS 300
#define HTML_MAX_WORKLOADS 32
#define HTML_MAX_FAULTS 5000
#define HTML_MAX_EVENTS 2000
#define HTML_MAX_PROBES 64
#define HTML_MAX_SEGS 2000
#define HTML_MAX_NOTES 1000
#define HTML_STR_MAX 1024
#define HTML_MAX_PROC 4000000     /* workload chains whose latency is tracked */

json_t *fl_html_str(const char *s)
{
    if (!s)
        return json_null();
    char *t = fl_sanitize(s, HTML_STR_MAX, FL_SAN_ONELINE);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j ? j : json_string("?");
}

static double secs(int64_t us)
{
    return (double)us / 1e6;
}

static int is_workload(const struct fl_op *op)
{
    return op->process >= 0 && op->process < FL_PROC_PROBE;
}

/* ---- faults: a band from the injection to its heal ------------------ */

static json_t *faults_json(const struct fl_history *h)
{
    /* One pass: an injection opens a band for its fault process, the next
     * heal of that process closes it. A band never closed stayed until
     * the end (or is an instant fault such as a kill, drawn as a line). */
    struct open_band {
        int32_t process;
        json_t *band;
    } open[256];
    const size_t max_open = sizeof open / sizeof open[0];
    size_t nopen = 0, n = fl_history_len(h);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        int fault = strcmp(op->f, FL_F_FAULT) == 0, heal = strcmp(op->f, FL_F_HEAL) == 0;
        if ((!fault && !heal) || op->type == FL_INVOKE)
            continue;
        size_t k = 0;
        while (k < nopen && open[k].process != op->process)
            k++;
        if (k < nopen) {
            if (heal && op->type == FL_OK)
                json_object_set_new(open[k].band, "t1", json_real(secs(op->time_us)));
            open[k] = open[--nopen];
        }
        if (heal || json_array_size(arr) >= HTML_MAX_FAULTS)
            continue;
        json_t *band = json_pack("{s:o, s:o, s:o, s:s, s:f, s:n}", "type", fl_html_str(op->source),
                                 "key", fl_html_str(op->key), "desc",
                                 fl_html_str(op->value ? op->value : op->error), "result",
                                 fl_optype_name(op->type), "t0", secs(op->time_us), "t1");
        if (!band)
            continue;
        json_array_append_new(arr, band);
        if (op->type == FL_OK && nopen < max_open)
            open[nopen++] = (struct open_band){op->process, band};
    }
    return arr;
}

/* Instance and phase events, harness failures: lines on the timeline. */
static json_t *events_json(const struct fl_history *h)
{
    json_t *arr = json_array();
    size_t n = fl_history_len(h);
    for (size_t i = 0; arr && i < n && json_array_size(arr) < HTML_MAX_EVENTS; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        const char *kind = NULL;
        if (strcmp(op->f, FL_F_INSTANCE) == 0)
            kind = "instance";
        else if (strcmp(op->f, FL_F_PHASE) == 0)
            kind = "phase";
        else if (strcmp(op->f, FL_F_HARNESS) == 0)
            kind = "harness";
        else if (strcmp(op->f, FL_F_STOP) == 0)
            kind = "stop";
        if (!kind)
            continue;
        json_array_append_new(arr, json_pack("{s:s, s:f, s:o, s:o}", "kind", kind, "t",
                                             secs(op->time_us), "key", fl_html_str(op->key),
                                             "value",
                                             fl_html_str(op->value ? op->value : op->error)));
    }
    return arr;
}

/* ---- workloads: completions per bucket, latency percentiles --------- */

struct lat {
    uint32_t bucket;
    double ms;
};

struct wl {
    const char *name;          /* interned in the history */
    uint64_t *ok, *fail, *info;
    struct lat *lat;
    size_t nlat, caplat;
};

static int cmp_lat(const void *a, const void *b)
{
    const struct lat *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return x->ms < y->ms ? -1 : x->ms > y->ms;
}

static struct wl *wl_find(struct wl *w, size_t *nw, const char *name, size_t nb)
{
    for (size_t i = 0; i < *nw; i++)
        if (w[i].name == name)
            return &w[i];
    if (*nw >= HTML_MAX_WORKLOADS)
        return NULL;
    struct wl *x = &w[(*nw)++];
    x->name = name;
    x->ok = calloc(nb, sizeof *x->ok);
    x->fail = calloc(nb, sizeof *x->fail);
    x->info = calloc(nb, sizeof *x->info);
    return x->ok && x->fail && x->info ? x : NULL;
}

static void wl_add_lat(struct wl *w, uint32_t b, double ms)
{
    if (w->nlat == w->caplat) {
        size_t cap = w->caplat ? w->caplat * 2 : 1024;
        struct lat *p = realloc(w->lat, cap * sizeof *p);
        if (!p)
            return;
        w->lat = p;
        w->caplat = cap;
    }
    w->lat[w->nlat++] = (struct lat){b, ms};
}

/* Nearest rank: the smallest sample with at least p of them at or below. */
static double pct(const struct lat *l, size_t n, double p)
{
    double r = p * (double)n;
    size_t i = (size_t)r;
    if ((double)i < r)
        i++;
    return l[i >= 1 ? (i <= n ? i - 1 : n - 1) : 0].ms;
}

static json_t *wl_json(struct wl *w, size_t nb, double width)
{
    if (w->nlat)
        qsort(w->lat, w->nlat, sizeof *w->lat, cmp_lat);
    json_t *b = json_array();
    size_t li = 0;
    for (size_t i = 0; b && i < nb; i++) {
        size_t from = li;
        while (li < w->nlat && w->lat[li].bucket == i)
            li++;
        json_t *o = json_pack("{s:f, s:I, s:I, s:I}", "t", (double)i * width, "ok",
                              (json_int_t)w->ok[i], "fail", (json_int_t)w->fail[i], "info",
                              (json_int_t)w->info[i]);
        if (o && li > from) {
            json_object_set_new(o, "p50", json_real(pct(w->lat + from, li - from, 0.50)));
            json_object_set_new(o, "p99", json_real(pct(w->lat + from, li - from, 0.99)));
        }
        json_array_append_new(b, o);
    }
    return json_pack("{s:o, s:o}", "name", fl_html_str(w->name), "buckets", b ? b : json_array());
}

static json_t *workloads_json(const struct fl_history *h, double t_end, double *width)
{
    size_t nb = HTML_BUCKETS;
    double wdt = t_end / (double)nb;
    if (wdt < 1.0) {
        wdt = 1.0;
        nb = (size_t)t_end + 1;
    }
    *width = wdt;
    struct wl w[HTML_MAX_WORKLOADS];
    size_t nw = 0;
    memset(w, 0, sizeof w);
    /* Invoke time per workload chain: a completion's latency is its time
     * minus its chain's last invoke (a chain has one op in flight). */
    size_t n = fl_history_len(h), nproc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (is_workload(op) && (size_t)op->process + 1 > nproc)
            nproc = (size_t)op->process + 1;
    }
    int64_t *inv = nproc && nproc <= HTML_MAX_PROC ? malloc(nproc * sizeof *inv) : NULL;
    for (size_t i = 0; inv && i < nproc; i++)
        inv[i] = -1;
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (!is_workload(op) || strcmp(op->f, FL_F_SKIPPED) == 0)
            continue;
        if (op->type == FL_INVOKE) {
            if (inv)
                inv[op->process] = op->time_us;
            continue;
        }
        struct wl *x = wl_find(w, &nw, op->source, nb);
        if (!x)
            continue;
        double t = secs(op->time_us);
        size_t b = t <= 0 ? 0 : (size_t)(t / wdt);
        if (b >= nb)
            b = nb - 1;
        if (op->type == FL_OK)
            x->ok[b]++;
        else if (op->type == FL_FAIL)
            x->fail[b]++;
        else
            x->info[b]++;
        if (inv && inv[op->process] >= 0 && op->type == FL_OK) {
            wl_add_lat(x, (uint32_t)b, (double)(op->time_us - inv[op->process]) / 1000.0);
            inv[op->process] = -1;
        }
    }
    free(inv);
    json_t *arr = json_array();
    for (size_t i = 0; i < nw; i++) {
        if (arr)
            json_array_append_new(arr, wl_json(&w[i], nb, wdt));
        free(w[i].ok);
        free(w[i].fail);
        free(w[i].info);
        free(w[i].lat);
    }
    return arr;
}

/* ---- probes: runs of one state per probe and replica ---------------- */

/* Green: answered with a value that is not an HTTP error. Red: failed,
 * timed out, or an HTTP status of 400 or more. What a checker counts as
 * healthy may be stricter; the page shows what was answered. */
static const char *probe_state(const struct fl_op *op)
{
    if (op->type != FL_OK)
        return "bad";
    const char *v = op->value ? op->value : "";
    if (strlen(v) == 3 && v[0] >= '4' && v[0] <= '5' && v[1] >= '0' && v[1] <= '9' &&
        v[2] >= '0' && v[2] <= '9')
        return "bad";
    if (strncmp(v, FL_VALUE_HTTP_PREFIX, strlen(FL_VALUE_HTTP_PREFIX)) == 0)
        return "bad";
    return "ok";
}

struct series {
    const char *source, *key;     /* interned */
    json_t *segs;
    json_t *last;                 /* the open segment */
    const char *last_state, *last_value;
};

static json_t *probes_json(const struct fl_history *h, double t_end)
{
    struct series s[HTML_MAX_PROBES];
    size_t ns = 0, n = fl_history_len(h);
    memset(s, 0, sizeof s);
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_PROBE) != 0 || op->type == FL_INVOKE)
            continue;
        struct series *x = NULL;
        for (size_t k = 0; k < ns && !x; k++)
            if (s[k].source == op->source && s[k].key == op->key)
                x = &s[k];
        if (!x && ns < HTML_MAX_PROBES) {
            x = &s[ns++];
            x->source = op->source;
            x->key = op->key;
            x->segs = json_array();
        }
        if (!x || !x->segs)
            continue;
        const char *st = probe_state(op);
        double t = secs(op->time_us);
        const char *val = op->value ? op->value : op->error;
        if (x->last)
            json_object_set_new(x->last, "t1", json_real(t));
        if (x->last && x->last_state == st && x->last_value && val &&
            strcmp(x->last_value, val) == 0)
            continue;
        if (json_array_size(x->segs) >= HTML_MAX_SEGS)
            continue;
        x->last = json_pack("{s:f, s:f, s:s, s:o}", "t0", t, "t1", t, "state", st, "value",
                            fl_html_str(val));
        x->last_state = st;
        x->last_value = val;
        json_array_append_new(x->segs, x->last);
    }
    json_t *arr = json_array();
    for (size_t k = 0; k < ns; k++) {
        if (s[k].last)
            json_object_set_new(s[k].last, "t1", json_real(t_end));
        json_t *o = json_pack("{s:o, s:o, s:o}", "name", fl_html_str(s[k].source), "key",
                              fl_html_str(s[k].key), "segs", s[k].segs);
        if (arr && o)
            json_array_append_new(arr, o);
        else
            json_decref(o);
    }
    return arr;
}

/* ---- verdicts and notes --------------------------------------------- */

static json_t *invariants_json(const struct fl_result *r, const struct fl_history *h)
{
    json_t *arr = json_array();
    size_t n = h ? fl_history_len(h) : 0;
    for (size_t i = 0; arr && i < r->ninv; i++) {
        const struct fl_inv_result *ir = &r->inv[i];
        const struct fl_invariant *inv = ir->inv;
        const char *label = inv && inv->label && *inv->label ? inv->label
                            : inv && inv->type ? inv->type->name : "invariant";
        json_t *cex = json_array();
        for (size_t c = 0; cex && c < ir->verdict.ncex; c++) {
            const struct fl_cex *x = &ir->verdict.cex[c];
            json_t *t = json_null();
            /* Where it happened: the first of its ops (they are in history
             * order). */
            if (x->nops && x->ops[0] < n)
                t = json_real(secs(fl_history_get(h, x->ops[0])->time_us));
            json_array_append_new(cex, json_pack("{s:o, s:o, s:o}", "key", fl_html_str(x->key),
                                                 "why", fl_html_str(x->why), "t", t));
        }
        json_array_append_new(
            arr, json_pack("{s:o, s:s, s:o, s:I, s:o}", "label", fl_html_str(label), "validity",
                           fl_validity_name(ir->verdict.validity), "summary",
                           fl_html_str(ir->verdict.summary), "ncex_total",
                           (json_int_t)ir->verdict.ncex_total, "cex", cex ? cex : json_array()));
    }
    return arr;
}

static json_t *notes_json(const struct fl_history *h)
{
    json_t *arr = json_array();
    size_t n = fl_history_len(h);
    for (size_t i = 0; arr && i < n && json_array_size(arr) < HTML_MAX_NOTES; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_NOTE) == 0)
            json_array_append_new(arr, json_pack("{s:f, s:o}", "t", secs(op->time_us), "text",
                                                 fl_html_str(op->value)));
    }
    return arr;
}

const char *fl_html_status(const struct fl_result *r)
{
    if (!r->sc || r->harness_status)
        return "ERROR";
    enum fl_validity all = FL_VALID;
    for (size_t i = 0; i < r->ninv; i++)
        all = fl_validity_combine(all, r->inv[i].verdict.validity);
    return all == FL_INVALID ? "FAIL" : all == FL_UNKNOWN ? "UNKNOWN" : "PASS";
}

json_t *fl_html_run_json(const struct fl_result *r)
{
    const struct fl_history *h = r->history;
    double t_end = r->duration_s > 0 ? r->duration_s : 0;
    size_t n = h ? fl_history_len(h) : 0;
    if (n && secs(fl_history_get(h, n - 1)->time_us) > t_end)
        t_end = secs(fl_history_get(h, n - 1)->time_us);
    if (t_end <= 0)
        t_end = 1;
    json_t *o = json_pack("{s:o, s:o, s:I, s:s, s:f, s:f, s:o, s:o}", "name",
                          fl_html_str(r->name), "file", fl_html_str(r->file), "seed",
                          (json_int_t)r->seed, "status", fl_html_status(r), "duration_s",
                          r->duration_s, "t_end", t_end, "harness_error",
                          fl_html_str(r->harness_status || !r->sc ? r->harness_error : NULL),
                          "invariants", invariants_json(r, h));
    if (!o || !h)
        return o;
    double width = 1;
    json_object_set_new(o, "faults", faults_json(h));
    json_object_set_new(o, "events", events_json(h));
    json_object_set_new(o, "workloads", workloads_json(h, t_end, &width));
    json_object_set_new(o, "bucket_s", json_real(width));
    json_object_set_new(o, "probes", probes_json(h, t_end));
    json_object_set_new(o, "notes", notes_json(h));
    return o;
}
