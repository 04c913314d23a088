/* verdicts.c - a run's verdicts as a JSON file beside its events, and back.
 *
 * events.jsonl is what happened; verdicts.json is what faultline concluded
 * from it (each invariant's validity, summary and counterexamples, the
 * scenario's name, file and vars, the seed, the harness error). With both,
 * `faultline report` renders the JUnit and HTML reports of an old run
 * again without the scenario or the system: the reports of a run that is
 * gone stay reproducible.
 *
 *   {"format": "faultline-verdicts/1",
 *    "scenario": {"name": ..., "file": ..., "vars": {"profile": "buggy"}},
 *    "seed": 7, "target": "local", "containment": "...", "started": 1796...,
 *    "duration_s": 32.2, "harness_status": 0, "harness_error": "",
 *    "outdir": "faultline-out/killed-pod-mid-job",
 *    "invariants": [{"label": "lifecycle(submit)", "checker": "lifecycle",
 *                    "pos": {"file": ..., "line": 30, "col": 5},
 *                    "validity": "invalid", "summary": ..., "time_s": 0.01,
 *                    "ncex_total": 16,
 *                    "cex": [{"key": ..., "why": ..., "ops": [12, 40]}]}]}
 */
#include "reports/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "reports/sanitize.h"

#define VERDICTS_FORMAT "faultline-verdicts/1"
#define VERDICTS_MAX_INV 4096

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* jansson refuses invalid UTF-8, and a status text from the system under
 * test may hold anything: such bytes become U+FFFD, the rest is kept. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *t = fl_sanitize(s, 0, FL_SAN_KEEP_CTRL);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j ? j : json_string("?");
}

static json_t *cex_json(const struct fl_cex *c)
{
    json_t *ops = json_array();
    for (size_t i = 0; ops && i < c->nops; i++)
        json_array_append_new(ops, json_integer((json_int_t)c->ops[i]));
    return json_pack("{s:o, s:o, s:o}", "key", jstr(c->key), "why", jstr(c->why), "ops",
                     ops ? ops : json_array());
}

static json_t *inv_json(const struct fl_inv_result *ir)
{
    const struct fl_invariant *inv = ir->inv;
    const struct fl_verdict *v = &ir->verdict;
    json_t *cex = json_array();
    for (size_t i = 0; cex && i < v->ncex; i++)
        json_array_append_new(cex, cex_json(&v->cex[i]));
    json_t *pos = inv && inv->pos.file
                      ? json_pack("{s:o, s:i, s:i}", "file", jstr(inv->pos.file), "line",
                                  inv->pos.line, "col", inv->pos.col)
                      : json_null();
    return json_pack("{s:o, s:o, s:o, s:s, s:o, s:f, s:I, s:o}", "label",
                     jstr(inv ? inv->label : NULL), "checker",
                     jstr(inv && inv->type ? inv->type->name : NULL), "pos", pos, "validity",
                     fl_validity_name(v->validity), "summary", jstr(v->summary), "time_s",
                     ir->time_s, "ncex_total", (json_int_t)v->ncex_total, "cex",
                     cex ? cex : json_array());
}

int fl_verdicts_write(const char *path, const struct fl_result *r, struct fl_error *err)
{
    json_t *vars = json_object();
    for (size_t i = 0; vars && r->sc && i < r->sc->nvars; i++)
        json_object_set_new(vars, r->sc->vars[i].key, jstr(r->sc->vars[i].value));
    json_t *invs = json_array();
    for (size_t i = 0; invs && i < r->ninv; i++)
        json_array_append_new(invs, inv_json(&r->inv[i]));
    json_t *root = json_pack(
        "{s:s, s:{s:o, s:o, s:o}, s:I, s:o, s:o, s:I, s:f, s:i, s:o, s:o, s:o}", "format",
        VERDICTS_FORMAT, "scenario", "name", jstr(r->name), "file", jstr(r->file), "vars",
        vars ? vars : json_object(), "seed", (json_int_t)r->seed, "target", str_or_null(r->target),
        "containment", jstr(r->containment), "started", (json_int_t)r->started, "duration_s",
        r->duration_s, "harness_status", r->harness_status, "harness_error",
        jstr(r->harness_error), "outdir", jstr(r->outdir), "invariants",
        invs ? invs : json_array());
    if (!root)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", path);
    int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (rc)
        return fl_error_set(err, FL_EIO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* ---- loading -------------------------------------------------------- */

struct fl_loaded_run {
    json_t *root;                   /* every string below points into it */
    struct fl_scenario sc;
    struct fl_kv *vars;
    struct fl_invariant *invs;
    struct fl_result res;
};

static const char *get_s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static enum fl_validity validity_of(const char *s, int *ok)
{
    *ok = 1;
    if (s && strcmp(s, "valid") == 0)
        return FL_VALID;
    if (s && strcmp(s, "invalid") == 0)
        return FL_INVALID;
    if (s && strcmp(s, "unknown") == 0)
        return FL_UNKNOWN;
    *ok = 0;
    return FL_UNKNOWN;
}

static int load_cex(struct fl_verdict *v, json_t *arr, size_t nops_max)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        if (i >= FL_MAX_CEX)
            break;
        json_t *ops = json_object_get(c, "ops");
        size_t n = json_array_size(ops);
        size_t *idx = n ? calloc(n, sizeof *idx) : NULL;
        if (n && !idx)
            return FL_ENOMEM;
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            json_int_t x = json_integer_value(json_array_get(ops, j));
            if (json_is_integer(json_array_get(ops, j)) && x >= 0 && (size_t)x < nops_max)
                idx[k++] = (size_t)x;
        }
        int rc = fl_verdict_add_cex(v, get_s(c, "key") ? get_s(c, "key") : "",
                                    get_s(c, "why") ? get_s(c, "why") : "", idx, k);
        free(idx);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_inv(struct fl_loaded_run *lr, size_t i, json_t *j, size_t nops,
                    const char *path, struct fl_error *err)
{
    struct fl_invariant *inv = &lr->invs[i];
    struct fl_inv_result *ir = &lr->res.inv[i];
    int ok;
    if (!json_is_object(j))
        return fl_error_set(err, FL_EINVAL, "%s: invariant %zu is not an object", path, i + 1);
    inv->label = get_s(j, "label");
    inv->type = get_s(j, "checker") ? fl_checker_find(get_s(j, "checker")) : NULL;
    json_t *pos = json_object_get(j, "pos");
    inv->pos.file = get_s(pos, "file");
    inv->pos.line = (int)json_integer_value(json_object_get(pos, "line"));
    inv->pos.col = (int)json_integer_value(json_object_get(pos, "col"));
    ir->inv = inv;
    ir->time_s = json_number_value(json_object_get(j, "time_s"));
    ir->verdict.validity = validity_of(get_s(j, "validity"), &ok);
    if (!ok)
        return fl_error_set(err, FL_EINVAL, "%s: invariant %zu: validity must be valid, "
                            "invalid or unknown", path, i + 1);
    if (fl_verdict_summary(&ir->verdict, "%s", get_s(j, "summary") ? get_s(j, "summary") : ""))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (load_cex(&ir->verdict, json_object_get(j, "cex"), nops))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    json_int_t total = json_integer_value(json_object_get(j, "ncex_total"));
    if (total > (json_int_t)ir->verdict.ncex)
        ir->verdict.ncex_total = (size_t)total;
    return 0;
}

static int load_vars(struct fl_loaded_run *lr, json_t *vars)
{
    size_t n = json_object_size(vars), k = 0;
    if (!n)
        return 0;
    lr->vars = calloc(n, sizeof *lr->vars);
    if (!lr->vars)
        return FL_ENOMEM;
    const char *key;
    json_t *val;
    json_object_foreach(vars, key, val) {
        if (!json_is_string(val))
            continue;
        lr->vars[k].key = key;
        lr->vars[k].value = json_string_value(val);
        k++;
    }
    lr->sc.vars = lr->vars;
    lr->sc.nvars = k;
    return 0;
}

int fl_verdicts_load(const char *path, struct fl_history *h, struct fl_loaded_run **out,
                     struct fl_error *err)
{
    json_error_t je;
    *out = NULL;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fl_error_set(err, errno == ENOENT && je.line <= 0 ? FL_EIO : FL_EINVAL,
                            "%s:%d:%d: %s", path, je.line, je.column, je.text);
    struct fl_loaded_run *lr = calloc(1, sizeof *lr);
    if (!lr) {
        json_decref(root);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    lr->root = root;
    *out = lr;
    const char *fmt = get_s(root, "format");
    json_t *scj = json_object_get(root, "scenario");
    json_t *invs = json_object_get(root, "invariants");
    if (!fmt || strcmp(fmt, VERDICTS_FORMAT) != 0 || !json_is_object(scj) ||
        !json_is_array(invs) || json_array_size(invs) > VERDICTS_MAX_INV)
        return fl_error_set(err, FL_EINVAL, "%s: not a faultline verdicts file (format %s)",
                            path, VERDICTS_FORMAT);
    lr->sc.name = get_s(scj, "name");
    lr->sc.file = get_s(scj, "file");
    if (!lr->sc.name || load_vars(lr, json_object_get(scj, "vars")))
        return fl_error_set(err, FL_EINVAL, "%s: the scenario has no name", path);
    struct fl_result *r = &lr->res;
    r->sc = &lr->sc;
    r->name = lr->sc.name;
    r->file = lr->sc.file;
    r->history = h;
    r->seed = (uint64_t)json_integer_value(json_object_get(root, "seed"));
    r->target = get_s(root, "target");
    r->outdir = get_s(root, "outdir");
    snprintf(r->containment, sizeof r->containment, "%s",
             get_s(root, "containment") ? get_s(root, "containment") : "");
    r->started = (time_t)json_integer_value(json_object_get(root, "started"));
    r->duration_s = json_number_value(json_object_get(root, "duration_s"));
    r->harness_status = (int)json_integer_value(json_object_get(root, "harness_status"));
    snprintf(r->harness_error, sizeof r->harness_error, "%s",
             get_s(root, "harness_error") ? get_s(root, "harness_error") : "");
    r->ninv = json_array_size(invs);
    lr->invs = r->ninv ? calloc(r->ninv, sizeof *lr->invs) : NULL;
    r->inv = r->ninv ? calloc(r->ninv, sizeof *r->inv) : NULL;
    if (r->ninv && (!lr->invs || !r->inv))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    size_t nops = h ? fl_history_len(h) : 0;
    for (size_t i = 0; i < r->ninv; i++) {
        int rc = load_inv(lr, i, json_array_get(invs, i), nops, path, err);
        if (rc)
            return rc;
    }
    return 0;
}

const struct fl_result *fl_loaded_run_result(const struct fl_loaded_run *lr)
{
    return &lr->res;
}

void fl_loaded_run_free(struct fl_loaded_run *lr)
{
    if (!lr)
        return;
    for (size_t i = 0; lr->res.inv && i < lr->res.ninv; i++)
        fl_verdict_free(&lr->res.inv[i].verdict);
    free(lr->res.inv);
    free(lr->invs);
    free(lr->vars);
    json_decref(lr->root);
    free(lr);
}
