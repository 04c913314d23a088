/* scenario_internal.h - shared by the scenario loader's files
 * (scenario.c, scenario_yaml.c, scenario_typed.c, scenario_services.c,
 * scenario_workload.c, scenario_faults.c, scenario_refs.c). Not a public
 * contract.
 *
 * The loader walks the libfyaml document once, section by section, and
 * fills mutable arrays that become the model's const arrays. Every string
 * and array lives in one arena owned by the model, so fl_scenario_free()
 * frees everything at once. Templates are only recorded while walking and
 * checked at the end (scenario_refs.c), when every name is known.
 */
#ifndef FL_SCENARIO_INTERNAL_H
#define FL_SCENARIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libfyaml.h>

#include "core/model.h"
#include "scenario/scenario.h"

/* Limits every scenario is held to, refused at load time with the range
 * (docs/scenario-format.md, "Limits"). Each is far beyond what a real
 * scenario needs and below what would break faultline or the machine. */
/* Service, workload, probe, var and capture names: an instance id is
 * "NAME.N" in a char[64] (N < 256), and the redis: shorthand appends
 * "-sentinel" to its name: 48 + 9 + 4 + 1 <= 64. */
#define FL_SC_NAME_MAX 48
/* The scenario's name becomes its output folder (cut at 127 bytes) and
 * the JUnit testsuite name. */
#define FL_SC_SCENARIO_NAME_MAX 100
#define FL_SC_MAX_VARS 256
#define FL_SC_MAX_SERVICES 64
/* Processes over all services: each is a real process of this machine. */
#define FL_SC_MAX_INSTANCES 1024
#define FL_SC_MAX_WORKLOADS 64
#define FL_SC_MAX_PROBES 128
#define FL_SC_MAX_FAULTS 1024
#define FL_SC_MAX_INVARIANTS 256
/* Durations: a chaos run of more than a day is a typo, and 1e15 ms (what
 * fl_parse_duration takes) overflows the microsecond clocks. */
#define FL_SC_DURATION_MAX_MS FL_PARAM_DURATION_MAX_MS
/* Rates: below one operation an hour nothing happens in a day-long run;
 * the slowest ones overflowed the schedule (k / rate) into an endless run.
 * One loop issues some 30k HTTP requests a second: a million is already
 * far past what it can do (what it cannot issue in time it skips and
 * records, workload.c). */
#define FL_SC_RATE_MIN (1.0 / 3600.0)
#define FL_SC_RATE_MAX 1000000.0
/* Operations one workload may schedule (rate x its window): each is two
 * history records, and the history holds 50,000,000. */
#define FL_SC_MAX_OPS 10000000.0
/* In-flight requests of one workload: each is a socket. */
#define FL_SC_MAX_CONCURRENCY 10000

struct fl_arena_block;

struct fl_arena {
    struct fl_arena_block *head;
};

/* The model and its memory; sc is first so a model pointer is a box
 * pointer. */
struct fl_scenario_box {
    struct fl_scenario sc;
    struct fl_arena arena;
};

/* Where a scalar's value starts (after the quote for a quoted scalar), and
 * whether a byte offset into the value maps to the same column offset in
 * the file (single line, no escapes). */
struct fl_sc_spos {
    struct fl_pos pos;
    int exact;
};

/* What a template may refer to. */
enum fl_sc_scope {
    FL_SC_SERVICE,  /* port, vars, builtins, services */
    FL_SC_REQUEST,  /* vars, builtins, services */
    FL_SC_FOLLOW    /* as REQUEST plus the workload's captures */
};

struct fl_sc_tpl {
    struct fl_sc_tpl *next;
    const char *s;
    struct fl_sc_spos at;
    enum fl_sc_scope scope;
    size_t owner;   /* workload index for FL_SC_FOLLOW */
};

/* One key of a mapping as found by fl_sc_fields(). */
struct fl_sc_field {
    int present;
    struct fy_node *val;     /* NULL for an empty value ("key:") */
    struct fl_pos key_pos;
};

struct fl_sc_loader {
    struct fl_scenario_box *box;
    struct fl_scenario *sc;
    const char *file;        /* the model's copy of the path */
    struct fl_diag *diag;
    int nomem;
    int ndiag;               /* diagnostics added by this load */
    struct fl_sc_tpl *tpl_head, *tpl_tail;

    struct fl_kv *vars;
    size_t nvars;
    struct fl_service *services;
    size_t nservices;
    struct fl_workload *workloads;
    size_t nworkloads;
    struct fl_probe *probes;
    size_t nprobes;
    struct fl_fault *faults;
    size_t nfaults;
    struct fl_proxy_decl *proxies;
    size_t nproxies;
    struct fl_invariant *invariants;
    size_t ninvariants;
    struct fl_stop *stops;
    size_t nstops;
    /* The redis: shorthand (scenario_redis.c), all NULL without one: its
     * data service, its sentinel service (NULL with sentinels: 0) and the
     * master name they monitor. */
    const char *redis_name, *redis_sentinels, *redis_master;
    const struct fl_target_override *target_ov;   /* command line, or NULL */
};

/* Memory (scenario.c). Zeroed, aligned; NULL sets ld->nomem. */
void *fl_sc_alloc(struct fl_sc_loader *ld, size_t n);
char *fl_sc_strndup(struct fl_sc_loader *ld, const char *s, size_t n);

/* Diagnostics (scenario.c): append one at pos (file from the loader). */
void fl_sc_diag(struct fl_sc_loader *ld, struct fl_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* YAML helpers (scenario_yaml.c). */
/* n, or NULL when n is an empty value or a YAML null (~, null): every
 * section treats those as "nothing given". */
struct fy_node *fl_sc_val(struct fy_node *n);
struct fl_pos fl_sc_pos(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos fallback);
struct fl_sc_spos fl_sc_scalar_pos(struct fl_sc_loader *ld, struct fy_node *n,
                                   struct fl_pos fallback);
/* "'text'", "a list", "a mapping" or "nothing", for "got ..." messages. */
const char *fl_sc_got(struct fl_sc_loader *ld, struct fy_node *n);
/* Split mapping n into the allowed keys (out[i] for keys[i]). Unknown keys
 * get a diagnostic naming ctx ("service 'api'") with the allowed keys and a
 * did-you-mean. Returns 0, or -1 (with a diagnostic at fallback) when n is
 * not a mapping. */
int fl_sc_fields(struct fl_sc_loader *ld, struct fy_node *n, const char *const *keys,
                 size_t nkeys, const char *ctx, struct fl_pos fallback, struct fl_sc_field *out);
/* The key of a mapping pair as an arena string, or NULL (diagnostic) when
 * the key is not a scalar. */
const char *fl_sc_key(struct fl_sc_loader *ld, struct fy_node_pair *p, struct fl_pos *pos,
                      struct fl_pos fallback);
/* A scalar value as an arena string; NULL (diagnostic "key: expected
 * <expect>; got ...") when f holds a list or a mapping. An empty value is
 * "". */
const char *fl_sc_str(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                      const char *expect);
/* As fl_sc_str, and records the string as a template of scope/owner. */
const char *fl_sc_tpl(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                      const char *expect, enum fl_sc_scope scope, size_t owner);
void fl_sc_add_tpl(struct fl_sc_loader *ld, const char *s, struct fl_sc_spos at,
                   enum fl_sc_scope scope, size_t owner);
/* Typed values and limits (scenario_typed.c). */
/* The scalar of a typed key (a duration, a number, a choice) with its
 * ${var} references substituted: typed values are resolved at load time,
 * where only vars (with their --var overrides) are known. NULL after a
 * diagnostic (not a scalar, a reference that is no var). *written is the
 * text as written when something was substituted, else NULL: messages
 * show both (fl_sc_bad_value). */
const char *fl_sc_typed(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                        const char *expect, const char **written);
/* Substitute vars into s, the value of key at pos; an arena string, or
 * NULL after a diagnostic. */
const char *fl_sc_subst_vars(struct fl_sc_loader *ld, const char *s, const char *key,
                             struct fl_pos pos);
/* "key: expected <what>; got 'value'", or "key: '${x}' = 'value':
 * expected <what>" when written (the text before substitution) is set. */
void fl_sc_bad_value(struct fl_sc_loader *ld, struct fl_pos pos, const char *key,
                     const char *written, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Typed scalars: leave *out unchanged (the default) when f is absent;
 * return -1 after a diagnostic. Durations are at most
 * FL_SC_DURATION_MAX_MS; fl_sc_duration_min also at least min_ms (1: above
 * 0). */
int fl_sc_duration(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                   uint64_t *out);
int fl_sc_duration_min(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                       uint64_t min_ms, uint64_t *out);
int fl_sc_int(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
              long long lo, long long hi, long long *out);
/* A key whose value is one of choices (NULL-terminated): its index in
 * *out ("expected one of: a, b; got 'x'; did you mean 'y'?" otherwise).
 * Leaves *out unchanged when f is absent; returns 0, or -1 after a
 * diagnostic. */
int fl_sc_choice(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                 const char *const *choices, int *out);
/* A name declared in the file (kind "service", "workload", ...): at most
 * FL_SC_NAME_MAX bytes. Returns 1, or 0 after a diagnostic at pos. */
int fl_sc_name_fits(struct fl_sc_loader *ld, struct fl_pos pos, const char *kind,
                    const char *name);
/* A section with more than max items: a diagnostic at pos, returns 0;
 * else 1. */
int fl_sc_count_fits(struct fl_sc_loader *ld, struct fl_pos pos, const char *section, int count,
                     int max);
/* More YAML helpers (scenario_yaml.c). */
/* A sequence of scalars as a NULL-terminated arena array (templates of
 * scope/owner when tpl is set). A single scalar is accepted when
 * allow_scalar. Returns the array or NULL after a diagnostic; empty lists
 * are diagnosed. */
const char *const *fl_sc_strlist(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                                 const char *key, const char *expect, int allow_scalar,
                                 int tpl, enum fl_sc_scope scope, size_t owner, size_t *n);
/* A mapping of NAME: template (env, headers) into *out and *nout. what names
 * the key in messages, example shows the expected form; key_ok (may be
 * NULL) validates each name, key_expect says what it wants. Returns 0, or
 * -1 after a diagnostic. */
int fl_sc_kv_map(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *what,
                 const char *example, int (*key_ok)(const char *), const char *key_expect,
                 enum fl_sc_scope scope, size_t owner, const struct fl_kv **out, size_t *nout);
/* ok_status: an int or a list of ints in 100..599. */
int fl_sc_status_list(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                      const int **out, size_t *n);
/* A JSON Pointer: "" or starting with "/". */
const char *fl_sc_pointer(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key);
/* Names of services, workloads, captures and vars: [A-Za-z0-9_-]+ (vars
 * may also hold '.'). Returns 1 when valid. */
int fl_sc_valid_name(const char *s, int allow_dot);

/* Sections. */
/* target: a name (local) or {kind: compose, project: NAME}, then the
 * command line's override (scenario_target.c). */
void fl_sc_target(struct fl_sc_loader *ld, const struct fl_sc_field *f);
void fl_sc_services(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
/* The redis: shorthand (scenario_redis.c): appends generated services. */
void fl_sc_redis(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
/* After the faults (scenario_redis.c): a fault on the shorthand's services
 * whose injector has a `master` or `sentinels` parameter left out gets the
 * shorthand's. */
void fl_sc_redis_defaults(struct fl_sc_loader *ld);
void fl_sc_workloads(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
void fl_sc_probes(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
void fl_sc_faults(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
/* proxies: (scenario_proxies.c); fl_sc_proxy_refs after the faults checks
 * that every fault's `proxy` parameter names one of the right protocol. */
void fl_sc_proxies(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
void fl_sc_proxy_refs(struct fl_sc_loader *ld);
void fl_sc_proxy_invariant_refs(struct fl_sc_loader *ld);
void fl_sc_invariants(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
void fl_sc_stops(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos);
/* Check every recorded template (after all sections). */
void fl_sc_check_refs(struct fl_sc_loader *ld);

#endif
