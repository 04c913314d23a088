/* scenario.c - load a scenario file: diagnostics, the model's arena, the
 * top-level keys, vars and --var overrides, lookups.
 *
 * The sections live in scenario_services.c, scenario_workload.c and
 * scenario_faults.c; ${...} references are checked in scenario_refs.c once
 * every name is known. */
#include "scenario/scenario.h"
#include "base/params_parse.h"
#include "scenario/scenario_internal.h"
#include "core/target.h"
#include "base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

/* ---- diagnostics ------------------------------------------------------ */

void fl_sc_diag(struct fl_sc_loader *ld, struct fl_pos pos, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fl_diag_add(ld->diag, ld->file, pos.line, pos.col, "%s", msg))
        ld->nomem = 1;
    ld->ndiag++;
}

/* Report in file order; position-less ones (--var) last. Stable. */
static void sort_diags(struct fl_diag *d, size_t from)
{
    for (size_t i = from + 1; i < d->n; i++) {
        struct fl_diag_item x = d->items[i];
        long kx = x.line ? (long)x.line * 100000 + x.col : 0x7fffffffL;
        size_t j = i;
        while (j > from) {
            const struct fl_diag_item *y = &d->items[j - 1];
            long ky = y->line ? (long)y->line * 100000 + y->col : 0x7fffffffL;
            if (ky <= kx)
                break;
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = x;
    }
}

/* ---- arena ------------------------------------------------------------- */

struct fl_arena_block {
    struct fl_arena_block *next;
    size_t used, cap;   /* in units of max_align_t */
    max_align_t data[];
};

static void *arena_alloc(struct fl_arena *a, size_t n)
{
    size_t units = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t);
    if (units == 0)
        units = 1;
    struct fl_arena_block *b = a->head;
    if (!b || b->cap - b->used < units) {
        size_t cap = ARENA_BLOCK / sizeof(max_align_t);
        if (cap < units)
            cap = units;
        b = calloc(1, sizeof *b + cap * sizeof(max_align_t));
        if (!b)
            return NULL;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = &b->data[b->used];
    b->used += units;
    return p;
}

static void arena_free(struct fl_arena *a)
{
    struct fl_arena_block *b = a->head;
    while (b) {
        struct fl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *fl_sc_alloc(struct fl_sc_loader *ld, size_t n)
{
    void *p = arena_alloc(&ld->box->arena, n);
    if (!p)
        ld->nomem = 1;
    return p;
}

char *fl_sc_strndup(struct fl_sc_loader *ld, const char *s, size_t n)
{
    char *p = fl_sc_alloc(ld, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- vars -------------------------------------------------------------- */

static const char *const builtins[] = {"seed", "out", "bindir", "port"};

static void vars_section(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_mapping(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos),
                   "vars: expected a mapping of name: default, like { state: redis }; got %s",
                   fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    if (!fl_sc_count_fits(ld, key_pos, "vars", cnt, FL_SC_MAX_VARS))
        return;
    ld->vars = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->vars);
    if (!ld->vars)
        return;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && ld->nvars < (size_t)cnt) {
        struct fl_kv kv;
        const char *k = fl_sc_key(ld, p, &kv.pos, key_pos);
        if (!k)
            continue;
        if (!fl_sc_valid_name(k, 1)) {
            fl_sc_diag(ld, kv.pos, "var '%s': expected a name made of letters, digits, "
                       "'_', '-', '.'", k);
            continue;
        }
        if (!fl_sc_name_fits(ld, kv.pos, "var", k))
            continue;
        for (size_t b = 0; b < sizeof builtins / sizeof builtins[0]; b++)
            if (strcmp(k, builtins[b]) == 0)
                fl_sc_diag(ld, kv.pos, "var '%s' would hide the builtin ${%s}; rename it", k, k);
        struct fl_sc_field f = {1, fl_sc_val(fy_node_pair_value(p)), kv.pos};
        kv.key = k;
        kv.value = fl_sc_str(ld, &f, k, "a scalar default like redis");
        if (kv.value)
            ld->vars[ld->nvars++] = kv;
    }
}

/* A var named like a service would shadow ${S}: the runner resolves vars
 * first. */
static void vars_vs_services(struct fl_sc_loader *ld)
{
    for (size_t v = 0; v < ld->nvars; v++)
        for (size_t s = 0; s < ld->nservices; s++)
            if (strcmp(ld->vars[v].key, ld->services[s].name) == 0)
                fl_sc_diag(ld, ld->vars[v].pos, "var '%s' has the name of service '%s' and "
                           "would hide ${%s}; rename it", ld->vars[v].key,
                           ld->services[s].name, ld->vars[v].key);
}

static void apply_overrides(struct fl_sc_loader *ld, const struct fl_var_override *ov,
                            size_t nov, struct fl_pos vars_pos)
{
    for (size_t i = 0; i < nov; i++) {
        size_t v;
        for (v = 0; v < ld->nvars; v++)
            if (strcmp(ld->vars[v].key, ov[i].name) == 0)
                break;
        if (v < ld->nvars) {
            const char *val = ov[i].value ? ov[i].value : "";
            ld->vars[v].value = fl_sc_strndup(ld, val, strlen(val));
            continue;
        }
        const char *names[64];
        size_t nn = 0;
        for (v = 0; v < ld->nvars && nn < 64; v++)
            names[nn++] = ld->vars[v].key;
        struct fl_buf b;
        fl_buf_init(&b, 4096);
        fl_join_names(&b, names, nn);
        const char *sug = fl_suggest(ov[i].name, names, nn);
        fl_sc_diag(ld, vars_pos, "--var %s: the scenario declares no var '%s'; %s%s%s%s%s",
                   ov[i].name, ov[i].name, nn ? "declared: " : "it declares no vars",
                   fl_buf_str(&b), sug ? "; did you mean '" : "", sug ? sug : "",
                   sug ? "'?" : "");
        fl_buf_free(&b);
    }
}

/* ---- top level ---------------------------------------------------------- */

/* What the services declared (and the redis: shorthand generated) add up
 * to: at most FL_SC_MAX_SERVICES services, FL_SC_MAX_INSTANCES processes.
 * The generated names are checked here: scenario_redis.c makes them from
 * its name. */
static void services_fit(struct fl_sc_loader *ld, size_t declared, struct fl_pos services_pos,
                         struct fl_pos redis_pos)
{
    /* The generated services come first; only the data service's name is
     * written in the file: the sentinels' is it plus "-sentinel", which
     * fits by the margin in FL_SC_NAME_MAX. */
    if (ld->nservices > declared)
        fl_sc_name_fits(ld, redis_pos, "redis", ld->services[0].name);
    struct fl_pos at = declared ? services_pos : redis_pos;
    fl_sc_count_fits(ld, at, "services", (int)ld->nservices, FL_SC_MAX_SERVICES);
    long total = 0;
    for (size_t i = 0; i < ld->nservices; i++)
        total += ld->services[i].replicas;
    if (total > FL_SC_MAX_INSTANCES)
        fl_sc_diag(ld, at, "services: %ld instances (replicas over every service); at most %d "
                   "processes", total, FL_SC_MAX_INSTANCES);
}


enum {
    K_NAME, K_DESCRIPTION, K_VARS, K_DURATION, K_SETTLE, K_SEED, K_TARGET,
    K_SERVICES, K_REDIS, K_WORKLOAD, K_PROBES, K_FAULTS, K_INVARIANTS, K_ABORT_IF, K_PROXIES,
    K_COUNT
};

static const char *const top_keys[K_COUNT] = {
    [K_NAME] = "name", [K_DESCRIPTION] = "description", [K_VARS] = "vars",
    [K_DURATION] = "duration", [K_SETTLE] = "settle", [K_SEED] = "seed",
    [K_TARGET] = "target", [K_SERVICES] = "services", [K_REDIS] = "redis", [K_WORKLOAD] = "workload",
    [K_PROBES] = "probes", [K_FAULTS] = "faults", [K_INVARIANTS] = "invariants",
    [K_ABORT_IF] = "abort_if", [K_PROXIES] = "proxies",
};

static void seed_key(struct fl_sc_loader *ld, const struct fl_sc_field *f)
{
    static const char expect[] = "an integer from 0 to 18446744073709551615";
    const char *w;
    const char *s = fl_sc_typed(ld, f, "seed", expect, &w);
    if (!s)
        return;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno || *end) {
        fl_sc_bad_value(ld, fl_sc_pos(ld, f->val, f->key_pos), "seed", w, s, "%s", expect);
        return;
    }
    ld->sc->has_seed = 1;
    ld->sc->seed = v;
}

static void top_level(struct fl_sc_loader *ld, struct fy_node *root,
                      const struct fl_var_override *ov, size_t nov)
{
    struct fl_scenario *sc = ld->sc;
    struct fl_pos origin = {ld->file, 1, 1};
    struct fl_sc_field f[K_COUNT];
    if (fl_sc_fields(ld, root, top_keys, K_COUNT, "the scenario", origin, f))
        return;
    struct fl_pos rootpos = fl_sc_pos(ld, root, origin);

    if (!f[K_NAME].present)
        fl_sc_diag(ld, rootpos, "missing required key 'name'; expected a scenario name "
                   "like killed-pod-mid-job");
    sc->name = fl_sc_str(ld, &f[K_NAME], "name", "a scenario name like killed-pod-mid-job");
    if (sc->name && !sc->name[0])
        fl_sc_diag(ld, f[K_NAME].key_pos, "name: expected a scenario name like "
                   "killed-pod-mid-job; got nothing");
    if (sc->name && strlen(sc->name) > FL_SC_SCENARIO_NAME_MAX)
        fl_sc_diag(ld, fl_sc_pos(ld, f[K_NAME].val, f[K_NAME].key_pos), "name: '%.24s...' is "
                   "%zu characters long; at most %d (it names the output folder and the JUnit "
                   "testsuite)", sc->name, strlen(sc->name), FL_SC_SCENARIO_NAME_MAX);
    sc->description = fl_sc_str(ld, &f[K_DESCRIPTION], "description", "one line of text");
    vars_section(ld, f[K_VARS].val, f[K_VARS].key_pos);
    /* Overrides first: typed values (durations, rates, parameters) take
     * the effective values of the vars they use. */
    struct fl_pos vars_pos = f[K_VARS].present ? f[K_VARS].key_pos : (struct fl_pos){ld->file, 0, 0};
    apply_overrides(ld, ov, nov, vars_pos);
    sc->duration_ms = 30000;
    sc->settle_ms = 10000;
    fl_sc_duration_min(ld, &f[K_DURATION], "duration", 1, &sc->duration_ms);
    fl_sc_duration(ld, &f[K_SETTLE], "settle", &sc->settle_ms);
    if (f[K_SEED].present)
        seed_key(ld, &f[K_SEED]);
    fl_sc_target(ld, &f[K_TARGET]);

    size_t declared = 0;
    if (f[K_SERVICES].present)
        fl_sc_services(ld, f[K_SERVICES].val, f[K_SERVICES].key_pos);
    declared = ld->nservices;
    if (f[K_REDIS].present)
        fl_sc_redis(ld, f[K_REDIS].val, f[K_REDIS].key_pos);
    services_fit(ld, declared, f[K_SERVICES].key_pos, f[K_REDIS].key_pos);
    vars_vs_services(ld);
    if (f[K_WORKLOAD].present)
        fl_sc_workloads(ld, f[K_WORKLOAD].val, f[K_WORKLOAD].key_pos);
    if (f[K_PROBES].present)
        fl_sc_probes(ld, f[K_PROBES].val, f[K_PROBES].key_pos);
    if (f[K_PROXIES].present)
        fl_sc_proxies(ld, f[K_PROXIES].val, f[K_PROXIES].key_pos);
    if (f[K_FAULTS].present)
        fl_sc_faults(ld, f[K_FAULTS].val, f[K_FAULTS].key_pos);
    fl_sc_proxy_refs(ld);
    fl_sc_redis_defaults(ld);
    if (f[K_INVARIANTS].present)
        fl_sc_invariants(ld, f[K_INVARIANTS].val, f[K_INVARIANTS].key_pos);
    if (f[K_ABORT_IF].present)
        fl_sc_stops(ld, f[K_ABORT_IF].val, f[K_ABORT_IF].key_pos);
    fl_sc_proxy_invariant_refs(ld);

    fl_sc_check_refs(ld);
}

/* Bytes libfyaml must not see. YAML allows no C0 control character but
 * tab, newline and carriage return, no DEL, and only valid UTF-8 (YAML
 * 1.2, c-printable); scenario files need no directives (%YAML, %TAG).
 * libfyaml 0.7.12 loops forever on a directive line holding a control
 * character or an invalid UTF-8 byte (found by tests/fuzz/fuzz_scenario.c),
 * so all three are refused here first, at their line and column. Returns
 * 0 when the file is clean, 1 with a diagnostic, -1 when it cannot be
 * read (libfyaml then reports it). */
static int refuse_bytes(struct fl_sc_loader *ld, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int line = 1, col = 1, ch, need = 0, bad = 0, seq_col = 1;
    unsigned cp = 0, min = 0;
    const char *why = NULL;
    char msg[160];
    while (!bad && (ch = getc(f)) != EOF) {
        if (need) {                       /* inside a UTF-8 sequence */
            if ((ch & 0xc0) != 0x80) {
                why = "invalid UTF-8 (a sequence cut short)";
                col = seq_col;
                break;
            }
            cp = (cp << 6) | (unsigned)(ch & 0x3f);
            if (--need == 0 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) {
                why = "invalid UTF-8 (an overlong form, a surrogate or past U+10FFFF)";
                col = seq_col;
                break;
            }
            continue;
        }
        if (ch == '\n') {
            line++;
            col = 1;
            continue;
        }
        if (ch == '%' && col == 1) {
            why = "a YAML directive (%...): scenario files take none; remove the line or "
                  "indent it";
            break;
        }
        if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
            snprintf(msg, sizeof msg, "control character 0x%02x: YAML allows only tab, newline "
                     "and carriage return (is this a binary file?)", ch);
            why = msg;
            break;
        }
        if (ch >= 0x80) {
            need = ch >= 0xf0 && ch <= 0xf4 ? 3 : ch >= 0xe0 && ch < 0xf0 ? 2
                   : ch >= 0xc2 && ch < 0xe0 ? 1 : 0;
            if (!need) {
                why = "invalid UTF-8 (a byte that starts no character)";
                break;
            }
            seq_col = col;
            cp = (unsigned)ch & (need == 3 ? 0x07 : need == 2 ? 0x0f : 0x1f);
            min = need == 3 ? 0x10000 : need == 2 ? 0x800 : 0x80;
        }
        col++;
    }
    if (!why && need) {
        why = "invalid UTF-8 (the file ends inside a character)";
        col = seq_col;
    }
    fclose(f);
    if (!why)
        return 0;
    /* A bad UTF-8 sequence is reported where it starts. */
    fl_sc_diag(ld, (struct fl_pos){ld->file, line, col}, "%s", why);
    return 1;
}

/* Parse path with libfyaml, turning its errors into diagnostics. Returns
 * the document or NULL. */
static struct fy_document *parse_yaml(struct fl_sc_loader *ld, const char *path)
{
    if (refuse_bytes(ld, path) > 0)
        return NULL;
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;   /* the library never prints: errors are collected */
    struct fy_diag *fd = fy_diag_create(&dcfg);
    if (!fd) {
        ld->nomem = 1;
        return NULL;
    }
    fy_diag_set_collect_errors(fd, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT, .diag = fd};
    struct fy_document *doc = fy_document_build_from_file(&cfg, path);
    void *it = NULL;
    struct fy_diag_error *e;
    int nerr = 0;
    while ((e = fy_diag_errors_iterate(fd, &it))) {
        if (e->type < FYET_ERROR)
            continue;
        fl_sc_diag(ld, (struct fl_pos){ld->file, e->line, e->column},
                   "YAML syntax error: %s", e->msg ? e->msg : "invalid YAML");
        nerr++;
    }
    if (doc && nerr) {
        fy_document_destroy(doc);
        doc = NULL;
    }
    if (!doc && !nerr)
        fl_sc_diag(ld, (struct fl_pos){ld->file, 1, 1}, "no YAML document in the file; "
                   "expected a mapping with name, services, workload, faults, invariants");
    fy_diag_destroy(fd);
    return doc;
}

static void publish(struct fl_sc_loader *ld)
{
    struct fl_scenario *sc = ld->sc;
    sc->vars = ld->vars;
    sc->nvars = ld->nvars;
    sc->services = ld->services;
    sc->nservices = ld->nservices;
    sc->workloads = ld->workloads;
    sc->nworkloads = ld->nworkloads;
    sc->probes = ld->probes;
    sc->nprobes = ld->nprobes;
    sc->proxies = ld->proxies;
    sc->nproxies = ld->nproxies;
    sc->faults = ld->faults;
    sc->nfaults = ld->nfaults;
    sc->invariants = ld->invariants;
    sc->ninvariants = ld->ninvariants;
    sc->stops = ld->stops;
    sc->nstops = ld->nstops;
}

int fl_scenario_load(const char *path, const struct fl_var_override *ov, size_t nov,
                     struct fl_scenario **out, struct fl_diag *diag)
{
    return fl_scenario_load_target(path, ov, nov, NULL, out, diag);
}

int fl_scenario_load_target(const char *path, const struct fl_var_override *ov, size_t nov,
                            const struct fl_target_override *to, struct fl_scenario **out,
                            struct fl_diag *diag)
{
    *out = NULL;
    size_t first = diag->n;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        if (fl_diag_add(diag, path, 0, 0, "cannot read the scenario: %s", strerror(e)))
            return FL_ENOMEM;
        return FL_EIO;
    }
    fclose(fp);
    struct fl_scenario_box *box = calloc(1, sizeof *box);
    if (!box)
        return FL_ENOMEM;
    struct fl_sc_loader ld = {.box = box, .sc = &box->sc, .diag = diag, .target_ov = to};
    ld.file = fl_sc_strndup(&ld, path, strlen(path));
    if (!ld.file) {
        free(box);
        return FL_ENOMEM;
    }
    box->sc.file = ld.file;
    struct fy_document *doc = parse_yaml(&ld, path);
    if (doc) {
        struct fy_node *root = fl_sc_val(fy_document_root(doc));
        if (!root)
            fl_sc_diag(&ld, (struct fl_pos){ld.file, 1, 1}, "the file is empty; expected a "
                       "mapping with name, services, workload, faults, invariants");
        else
            top_level(&ld, root, ov, nov);
        fy_document_destroy(doc);
    }
    sort_diags(diag, first);
    if (ld.nomem || ld.ndiag) {
        arena_free(&box->arena);
        free(box);
        return ld.nomem ? FL_ENOMEM : FL_ESCENARIO;
    }
    publish(&ld);
    *out = &box->sc;
    return 0;
}

void fl_scenario_free(struct fl_scenario *sc)
{
    if (!sc)
        return;
    /* sc is the first member of its box. */
    struct fl_scenario_box *box = (struct fl_scenario_box *)sc;
    arena_free(&box->arena);
    free(box);
}
