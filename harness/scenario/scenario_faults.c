/* scenario_faults.c - the faults: and invariants: sections. Both are lists
 * of one-key mappings whose key names a type from a registry and whose value
 * is checked against that type's parameter table (fl_params_parse). */
#include "scenario/scenario_internal.h"
#include "checkers/checker.h"
#include "injectors/registry.h"
#include "core/stop.h"
#include "core/target.h"
#include "base/params_parse.h"
#include "base/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list parameter with the vars of each item substituted; NULL after a
 * diagnostic. */
static const char *const *subst_list(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                                     const char *key, size_t *n)
{
    const char *const *l = fl_sc_strlist(ld, f, key, "a list of scalars", 0, 0, FL_SC_REQUEST, 0,
                                         n);
    if (!l)
        return NULL;
    const char **out = fl_sc_alloc(ld, (*n + 1) * sizeof *out);
    if (!out)
        return NULL;
    struct fl_pos pos = fl_sc_pos(ld, f->val, f->key_pos);
    for (size_t i = 0; i < *n; i++)
        if (!(out[i] = fl_sc_subst_vars(ld, l[i], key, pos)))
            return NULL;
    return out;
}

/* Turn a mapping of scalars / lists of scalars into raw parameters in the
 * arena, with their vars substituted. Returns 0, or -1 after a diagnostic
 * when n is not a mapping. */
static int raw_params(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos fallback,
                      const char *ctx, struct fl_rawparam **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    if (!fy_node_is_mapping(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, fallback), "%s: expected a mapping of parameters "
                   "like { service: api }; got %s", ctx, fl_sc_got(ld, n));
        return -1;
    }
    int cnt = fy_node_mapping_item_count(n);
    struct fl_rawparam *raw = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *raw);
    if (!raw)
        return -1;
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && k < (size_t)cnt) {
        struct fl_rawparam *r = &raw[k];
        r->key = fl_sc_key(ld, p, &r->key_pos, fallback);
        if (!r->key)
            continue;
        struct fl_sc_field f = {1, fl_sc_val(fy_node_pair_value(p)), r->key_pos};
        r->val_pos = fl_sc_pos(ld, f.val, r->key_pos);
        if (f.val && fy_node_is_sequence(f.val)) {
            r->is_list = 1;
            if (fy_node_sequence_item_count(f.val) == 0) {
                r->list = NULL;    /* fl_params_parse reports the empty list */
            } else {
                r->list = subst_list(ld, &f, r->key, &r->nlist);
                if (!r->list)
                    continue;
            }
        } else {
            /* Parameters are values, not templates: their vars are
             * substituted now, and fl_params_parse checks the result. */
            r->scalar = fl_sc_typed(ld, &f, r->key, "a scalar or a list of scalars", &r->written);
            if (!r->scalar)
                continue;
        }
        k++;
    }
    *out = raw;
    *nout = k;
    return 0;
}

/* The scenario's names for SERVICE / WORKLOAD / PROBE parameters. */
static void collect_names(struct fl_sc_loader *ld, struct fl_params_names *nm)
{
    const char **s = fl_sc_alloc(ld, (ld->nservices + 1) * sizeof *s);
    const char **w = fl_sc_alloc(ld, (ld->nworkloads + 1) * sizeof *w);
    const char **p = fl_sc_alloc(ld, (ld->nprobes + 1) * sizeof *p);
    memset(nm, 0, sizeof *nm);
    if (!s || !w || !p)
        return;
    for (size_t i = 0; i < ld->nservices; i++)
        s[nm->nservices++] = ld->services[i].name;
    for (size_t i = 0; i < ld->nworkloads; i++) {
        const char *name = ld->workloads[i].name;
        size_t j = 0;
        while (name && j < nm->nworkloads && strcmp(w[j], name) != 0)
            j++;
        if (name && j == nm->nworkloads)   /* duplicates are reported apart */
            w[nm->nworkloads++] = name;
    }
    for (size_t i = 0; i < ld->nprobes; i++)
        p[nm->nprobes++] = ld->probes[i].name;
    nm->services = s;
    nm->workloads = w;
    nm->probes = p;
}

static void parse_args(struct fl_sc_loader *ld, const struct fl_param *params, size_t n,
                       struct fy_node *val, struct fl_pos key_pos, const char *ctx,
                       const struct fl_params_names *names, struct fl_args *args,
                       const struct fl_rawparam **rawp, size_t *nrawp)
{
    struct fl_rawparam *raw;
    size_t nraw;
    if (rawp)
        *rawp = NULL, *nrawp = 0;
    if (raw_params(ld, val, key_pos, ctx, &raw, &nraw))
        return;
    size_t before = ld->diag->n;
    int rc = fl_params_parse(params, n, raw, nraw, ctx, key_pos, names, args, ld->diag);
    ld->ndiag += (int)(ld->diag->n - before);
    if (rc == FL_ENOMEM)
        ld->nomem = 1;
    else if (rc == FL_EINVAL)
        fl_sc_diag(ld, key_pos, "%s: its parameter table is too large (a bug in faultline)", ctx);
    if (rawp)
        *rawp = raw, *nrawp = nraw;
}

/* ---- faults ------------------------------------------------------------- */

/* The service a fault acts on: its "service" parameter, or NULL. */
static const char *fault_service(const struct fl_fault *ft)
{
    int i = fl_param_index(ft->args.params, ft->args.n, "service");
    if (i < 0 || ft->args.params[i].type != FL_PT_SERVICE || !ft->args.v[i].set)
        return NULL;
    return ft->args.v[i].s;
}

/* "unknown injector 'x'; expected one of: <known>; did you mean 'y'?" where
 * the suggestion may also come from extra (a misspelt "for" is not an
 * injector). */
static void unknown_type(struct fl_sc_loader *ld, struct fl_pos pos, const char *kind,
                         const char *name, const char *const *known, size_t n,
                         const char *const *extra, size_t nextra)
{
    const char *cands[80];
    size_t nc = 0;
    for (size_t i = 0; i < nextra && nc < 80; i++)
        cands[nc++] = extra[i];
    for (size_t i = 0; i < n && nc < 80; i++)
        cands[nc++] = known[i];
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    fl_join_names(&b, known, n);
    const char *sug = fl_suggest(name, cands, nc);
    fl_sc_diag(ld, pos, "unknown %s '%s'; expected one of: %s%s%s%s", kind, name,
               fl_buf_str(&b), sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    fl_buf_free(&b);
}

static size_t injector_names(const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; fl_injectors[i] && n < max; i++)
        out[n++] = fl_injectors[i]->name;
    return n;
}

/* An instant fault has no heal: a stop signal (STOP, TSTP, TTIN, TTOU)
 * would freeze the process with nothing to resume it. */
static void no_stop_signal(struct fl_sc_loader *ld, const struct fl_fault *ft)
{
    if (ft->type->wants_duration)
        return;
    for (size_t i = 0; i < ft->args.n; i++) {
        const struct fl_pval *v = &ft->args.v[i];
        if (ft->args.params[i].type != FL_PT_SIGNAL || !v->set)
            continue;
        int sig = v->sig;
        if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
            continue;
        fl_sc_diag(ld, v->pos, "%s: %s stops the process, and %s is an instant fault: nothing "
                   "would ever resume it; to freeze instances for a while use process.pause "
                   "with for:, like { at: 5s, for: 3s, process.pause: { service: %s } }",
                   ft->args.params[i].name, v->s ? v->s : "the signal", ft->type->name,
                   fault_service(ft) ? fault_service(ft) : "api");
    }
}

/* A pick count the service cannot satisfy: "pick: 5" of 3 replicas would
 * quietly act on 3. */
static void pick_fits(struct fl_sc_loader *ld, const struct fl_fault *ft)
{
    const char *svc = fault_service(ft);
    if (!svc)
        return;
    const struct fl_service *s = NULL;
    for (size_t i = 0; i < ld->nservices && !s; i++)
        if (strcmp(ld->services[i].name, svc) == 0)
            s = &ld->services[i];
    for (size_t i = 0; s && i < ft->args.n; i++) {
        const struct fl_pval *v = &ft->args.v[i];
        if (ft->args.params[i].type != FL_PT_PICK || !v->set || v->pick.kind != FL_PICK_COUNT ||
            v->pick.n <= s->replicas)
            continue;
        fl_sc_diag(ld, v->pos, "%s: %d instances, but service '%s' has %d replica%s; use a "
                   "count up to %d, all, or a percentage", ft->args.params[i].name, v->pick.n,
                   s->name, s->replicas, s->replicas == 1 ? "" : "s", s->replicas);
    }
}

static void one_fault(struct fl_sc_loader *ld, struct fl_fault *ft, struct fy_node *n,
                      struct fl_pos fallback, const struct fl_params_names *names)
{
    ft->pos = fl_sc_pos(ld, n, fallback);
    const char *known[64];
    size_t nknown = injector_names(known, 64);
    if (!n || !fy_node_is_mapping(n)) {
        fl_sc_diag(ld, ft->pos, "fault: expected a mapping like { at: 5s, process.kill: "
                   "{ service: api } }; got %s", fl_sc_got(ld, n));
        return;
    }
    struct fl_sc_field at = {0}, dur = {0}, inj = {0};
    const char *inj_name = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fl_pos kp;
        const char *k = fl_sc_key(ld, p, &kp, ft->pos);
        if (!k)
            continue;
        struct fl_sc_field f = {1, fl_sc_val(fy_node_pair_value(p)), kp};
        if (strcmp(k, "at") == 0) {
            at = f;
        } else if (strcmp(k, "for") == 0) {
            dur = f;
        } else if (inj_name) {
            fl_sc_diag(ld, kp, "fault names two injectors, '%s' and '%s'; write one fault "
                       "per injector", inj_name, k);
        } else if (!(ft->type = fl_injector_find(k))) {
            static const char *const fault_keys[] = {"at", "for"};
            unknown_type(ld, kp, "injector", k, known, nknown, fault_keys, 2);
            inj_name = k;
        } else {
            inj_name = k;
            inj = f;
        }
    }
    if (!at.present)
        fl_sc_diag(ld, ft->pos, "fault: missing required key 'at'; expected a duration "
                   "like 5s (when the fault starts)");
    fl_sc_duration(ld, &at, "at", &ft->at_ms);
    fl_sc_duration_min(ld, &dur, "for", 1, &ft->for_ms);
    if (!inj_name) {
        struct fl_buf b;
        fl_buf_init(&b, 4096);
        fl_join_names(&b, known, nknown);
        fl_sc_diag(ld, ft->pos, "fault: missing the injector; expected one key naming it, "
                   "one of: %s", fl_buf_str(&b));
        fl_buf_free(&b);
    }
    if (!ft->type)
        return;
    if (dur.present && !ft->type->wants_duration)
        fl_sc_diag(ld, dur.key_pos, "for: %s is an instant fault and takes no 'for'; "
                   "remove it", ft->type->name);
    if (!dur.present && ft->type->wants_duration)
        fl_sc_diag(ld, inj.key_pos, "%s needs 'for': how long the fault lasts before it "
                   "heals, like for: 6s", ft->type->name);
    /* Checked against the chosen target now, not at injection time. */
    const struct fl_target_type *tt = ld->sc->target ? ld->sc->target : fl_target_find("local");
    unsigned missing = tt ? ft->type->needs & ~tt->ops : 0;
    if (missing) {
        char ops[160];
        fl_target_ops_names(missing, ops, sizeof ops);
        fl_sc_diag(ld, inj.key_pos, "%s needs operations target '%s' does not have: %s",
                   ft->type->name, tt->name, ops);
    }
    char ctx[128];
    snprintf(ctx, sizeof ctx, "fault %s", ft->type->name);
    size_t before = ld->diag->n;
    parse_args(ld, ft->type->params, ft->type->nparams, inj.val, inj.key_pos, ctx, names,
               &ft->args, NULL, NULL);
    if (ld->diag->n == before) {
        no_stop_signal(ld, ft);
        pick_fits(ld, ft);
    }
}

void fl_sc_faults(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_sequence(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "faults: expected a list like - { at: 5s, "
                   "process.kill: { service: api } }; got %s", fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_sequence_item_count(n);
    fl_sc_count_fits(ld, key_pos, "faults", cnt, FL_SC_MAX_FAULTS);
    ld->faults = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->faults);
    if (!ld->faults)
        return;
    struct fl_params_names names;
    collect_names(ld, &names);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) && ld->nfaults < (size_t)cnt)
        one_fault(ld, &ld->faults[ld->nfaults++], fl_sc_val(item), key_pos, &names);
    /* Stable insertion sort by start time: faults at the same time keep
     * the file's order, so a replay runs them in the same order. */
    for (size_t i = 1; i < ld->nfaults; i++) {
        struct fl_fault x = ld->faults[i];
        size_t j = i;
        for (; j > 0 && ld->faults[j - 1].at_ms > x.at_ms; j--)
            ld->faults[j] = ld->faults[j - 1];
        ld->faults[j] = x;
    }
}

/* ---- invariants ---------------------------------------------------------- */

/* "lifecycle(submit)": the checker and its first parameter as written. */
static const char *base_label(struct fl_sc_loader *ld, const struct fl_checker_type *t,
                              const struct fl_rawparam *raw, size_t nraw)
{
    struct fl_buf b;
    fl_buf_init(&b, 1024);
    fl_buf_adds(&b, t->name);
    const char *first = t->nparams ? t->params[0].name : NULL;
    const struct fl_rawparam *r = NULL;
    for (size_t i = 0; first && i < nraw; i++)
        if (strcmp(raw[i].key, first) == 0)
            r = &raw[i];
    if (r && !r->is_list)
        fl_buf_addf(&b, "(%s)", r->scalar);
    else if (r && r->nlist) {
        fl_buf_adds(&b, "(");
        fl_join_names(&b, r->list, r->nlist);
        fl_buf_adds(&b, ")");
    } else if (first && t->params[0].def)
        fl_buf_addf(&b, "(%s)", t->params[0].def);
    char *s = fl_sc_strndup(ld, fl_buf_str(&b), b.len);
    fl_buf_free(&b);
    return s;
}

static void one_invariant(struct fl_sc_loader *ld, struct fl_invariant *iv, struct fy_node *n,
                          struct fl_pos fallback, const struct fl_params_names *names)
{
    iv->pos = fl_sc_pos(ld, n, fallback);
    const char *known[64];
    size_t nknown = 0;
    for (size_t i = 0; fl_checkers[i] && nknown < 64; i++)
        known[nknown++] = fl_checkers[i]->name;
    if (!n || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1) {
        struct fl_buf b;
        fl_buf_init(&b, 4096);
        fl_join_names(&b, known, nknown);
        fl_sc_diag(ld, iv->pos, "invariant: expected a mapping with exactly one key naming "
                   "a checker (%s), like - lifecycle: { workload: submit, ... }; got %s",
                   fl_buf_str(&b), n && fy_node_is_mapping(n) ?
                   "a mapping with several keys" : fl_sc_got(ld, n));
        fl_buf_free(&b);
        return;
    }
    void *it = NULL;
    struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
    struct fl_pos kp;
    const char *k = fl_sc_key(ld, p, &kp, iv->pos);
    if (!k)
        return;
    iv->type = fl_checker_find(k);
    if (!iv->type) {
        unknown_type(ld, kp, "checker", k, known, nknown, NULL, 0);
        return;
    }
    char ctx[128];
    snprintf(ctx, sizeof ctx, "invariant %s", k);
    const struct fl_rawparam *raw;
    size_t nraw;
    parse_args(ld, iv->type->params, iv->type->nparams, fl_sc_val(fy_node_pair_value(p)), kp, ctx, names,
               &iv->args, &raw, &nraw);
    iv->label = base_label(ld, iv->type, raw, nraw);
}

void fl_sc_invariants(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_sequence(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "invariants: expected a list like - "
                   "lifecycle: { workload: submit, terminal: [complete], within: 30s }; got %s",
                   fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_sequence_item_count(n);
    fl_sc_count_fits(ld, key_pos, "invariants", cnt, FL_SC_MAX_INVARIANTS);
    ld->invariants = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->invariants);
    const char **base = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *base);
    if (!ld->invariants || !base)
        return;
    struct fl_params_names names;
    collect_names(ld, &names);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) && ld->ninvariants < (size_t)cnt) {
        size_t i = ld->ninvariants++;
        struct fl_invariant *iv = &ld->invariants[i];
        one_invariant(ld, iv, fl_sc_val(item), key_pos, &names);
        base[i] = iv->label;
        if (!iv->label)
            continue;
        /* Labels name JUnit test cases: repeat ones get "#2", "#3". */
        size_t same = 0;
        for (size_t j = 0; j < i; j++)
            if (base[j] && strcmp(base[j], base[i]) == 0)
                same++;
        if (same) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s#%zu", base[i], same + 1);
            iv->label = fl_sc_strndup(ld, buf, strlen(buf));
        }
    }
}

/* ---- abort_if ----------------------------------------------------------- */

/* One stop condition: a mapping checked against fl_stop_params, plus what
 * the table cannot say (a comparison needs its value, a number for above
 * and below). */
static void one_stop(struct fl_sc_loader *ld, struct fl_stop *st, struct fy_node *item,
                     struct fl_pos key_pos, const struct fl_params_names *names, size_t idx)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "abort_if[%zu]", idx + 1);
    st->pos = fl_sc_pos(ld, item, key_pos);
    if (!item || !fy_node_is_mapping(item)) {
        fl_sc_diag(ld, st->pos, "%s: expected a mapping like { probe: health, condition: "
                   "unhealthy, for: 5s }; got %s", ctx, fl_sc_got(ld, item));
        return;
    }
    size_t before = ld->diag->n;
    parse_args(ld, fl_stop_params, FL_STOP_NPARAMS, item, st->pos, ctx, names, &st->args, NULL,
               NULL);
    if (ld->diag->n != before)
        return;
    const struct fl_pval *v = st->args.v;
    enum fl_stop_cond c = (enum fl_stop_cond)v[FL_STOP_CONDITION].e;
    const char *cname = fl_stop_params[FL_STOP_CONDITION].choices[c];
    if (c != FL_STOP_UNHEALTHY && !v[FL_STOP_VALUE].set) {
        fl_sc_diag(ld, st->pos, "%s: condition %s needs a value to compare with", ctx, cname);
        return;
    }
    if ((c == FL_STOP_ABOVE || c == FL_STOP_BELOW)) {
        char *end;
        strtod(v[FL_STOP_VALUE].s, &end);
        if (!*v[FL_STOP_VALUE].s || *end) {
            fl_sc_diag(ld, v[FL_STOP_VALUE].pos, "%s: condition %s compares numbers; '%s' is "
                       "not one", ctx, cname, v[FL_STOP_VALUE].s);
            return;
        }
    }
    char label[256], dur[32] = "";
    if (v[FL_STOP_FOR].ms) {
        char d[24];
        fl_format_duration(v[FL_STOP_FOR].ms, d, sizeof d);
        snprintf(dur, sizeof dur, " for %s", d);
    }
    snprintf(label, sizeof label, "%s (%s %s%s%s%s)", ctx, v[FL_STOP_PROBE].s, cname,
             c == FL_STOP_UNHEALTHY ? "" : " ", c == FL_STOP_UNHEALTHY ? "" : v[FL_STOP_VALUE].s,
             dur);
    st->label = fl_sc_strndup(ld, label, strlen(label));
}

void fl_sc_stops(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_sequence(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "abort_if: expected a list like - { probe: "
                   "health, condition: unhealthy, for: 5s }; got %s", fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_sequence_item_count(n);
    fl_sc_count_fits(ld, key_pos, "abort_if", cnt, FL_SC_MAX_INVARIANTS);
    ld->stops = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->stops);
    if (!ld->stops)
        return;
    struct fl_params_names names;
    collect_names(ld, &names);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) && ld->nstops < (size_t)cnt) {
        size_t i = ld->nstops++;
        one_stop(ld, &ld->stops[i], fl_sc_val(item), key_pos, &names, i);
    }
}
