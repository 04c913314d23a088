/* params.h - parameter tables: data that drives validation, help and docs.
 *
 * Every injector and every checker declares a const table of struct
 * fl_param. The scenario loader turns the raw YAML mapping of a fault or an
 * invariant into a struct fl_args through fl_params_parse(), so validation,
 * `--help` output and docs/scenario-format.md all come from one table.
 */
#ifndef FL_PARAMS_H
#define FL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define FL_MAX_PARAMS 16

/* A position in a scenario file; line and col are 1-based. file is owned by
 * the scenario model. */
struct fl_pos {
    const char *file;
    int line, col;
};

enum fl_ptype {
    FL_PT_STRING,    /* any scalar */
    FL_PT_STRINGS,   /* a scalar or a sequence of scalars */
    FL_PT_INT,       /* integer */
    FL_PT_DURATION,  /* "250ms", "5s", "2m" */
    FL_PT_BOOL,      /* true | false */
    FL_PT_SIGNAL,    /* KILL | SIGKILL | 9 */
    FL_PT_PICK,      /* one | all | N | P% */
    FL_PT_SERVICE,   /* name of a service of the scenario */
    FL_PT_WORKLOAD,  /* name of a workload of the scenario */
    FL_PT_PROBE,     /* name of a probe of the scenario */
    FL_PT_ENUM       /* one of the table's `choices` */
};

/* Bounds a table gets when it states none (lo == hi == 0). A duration of
 * more than a day is a typo in a chaos test, and 1e15 ms overflows the
 * microsecond clocks it is added to; a string of 1024 bytes is far more
 * than any name or value a parameter holds. */
#define FL_PARAM_DURATION_MAX_MS (24ULL * 3600 * 1000)
#define FL_PARAM_INT_MAX 1000000000LL
#define FL_PARAM_STRING_MAX 1024

struct fl_param {
    const char *name;
    enum fl_ptype type;
    int required;
    const char *def;   /* default as it would be written in YAML, or NULL */
    const char *help;  /* one line */
    /* FL_PT_ENUM: the accepted values, NULL-terminated (at most
     * FL_MAX_CHOICES); the parsed value's index is fl_pval.e. */
    const char *const *choices;
    /* Accepted range: INT the value, DURATION milliseconds, STRING and
     * STRINGS the length of each value in bytes. lo is the minimum (0 when
     * not given: a DURATION that must be above 0 says lo = 1); hi the
     * maximum, 0 meaning the type's: INT FL_PARAM_INT_MAX, DURATION
     * FL_PARAM_DURATION_MAX_MS, strings FL_PARAM_STRING_MAX. */
    long long lo, hi;
};

#define FL_MAX_CHOICES 16

enum fl_pick_kind { FL_PICK_ONE, FL_PICK_ALL, FL_PICK_COUNT, FL_PICK_PERCENT };

struct fl_pick {
    enum fl_pick_kind kind;
    int n;  /* count for FL_PICK_COUNT, percent (1..100) for FL_PICK_PERCENT */
};

/* One parsed value. Strings are owned by the scenario model. */
struct fl_pval {
    int set;              /* given in the file or by a default */
    struct fl_pos pos;    /* of the value (of the key for defaults) */
    const char *s;        /* STRING, SERVICE, WORKLOAD, PROBE; first of STRINGS */
    const char *const *list; /* STRINGS */
    size_t nlist;
    long long i;          /* INT */
    uint64_t ms;          /* DURATION */
    int b;                /* BOOL */
    int sig;              /* SIGNAL */
    struct fl_pick pick;  /* PICK */
    int e;                /* ENUM: index into the param's choices */
};

/* Values in table order: args->v[k] belongs to params[k]. */
struct fl_args {
    const struct fl_param *params;
    size_t n;
    struct fl_pval v[FL_MAX_PARAMS];
};

/* The raw form the loader hands to fl_params_parse: a mapping of scalars or
 * sequences of scalars, with positions. */
struct fl_rawparam {
    const char *key;
    struct fl_pos key_pos;
    int is_list;
    const char *scalar;          /* when !is_list */
    const char *const *list;     /* when is_list */
    size_t nlist;
    struct fl_pos val_pos;
    /* The scalar as written in the file when the loader substituted
     * ${var} references into `scalar` (messages show both), else NULL. */
    const char *written;
};

/* Human form of a type for messages and docs ("duration like 250ms, 5s, 2m"). */
const char *fl_ptype_expect(enum fl_ptype t);
/* Short name of a type for tables ("duration"). */
const char *fl_ptype_name(enum fl_ptype t);

/* The type of p as the reference docs show it: the choices of an enum
 * ("`stop` or `client`"), "duration > 0", "string (at most 100 bytes)",
 * else fl_ptype_name. Writes at most len bytes. */
void fl_param_type_doc(const struct fl_param *p, char *buf, size_t len);

/* Index of s in a NULL-terminated list of choices, or -1. */
int fl_choice_index(const char *const *choices, const char *s);
/* Number of choices in a NULL-terminated list (at most FL_MAX_CHOICES
 * are looked at). */
size_t fl_choice_count(const char *const *choices);

/* Parse a pick ("one", "all", "2", "50%"). */
int fl_parse_pick(const char *s, struct fl_pick *out);

/* Build arguments by hand (tests, benchmarks, programs that drive checkers
 * without a scenario file): fl_args_init zeroes a for the table; then
 * fl_args_set marks the parameter called name as given and returns its
 * value to fill, or NULL when the table has no such parameter. */
void fl_args_init(struct fl_args *a, const struct fl_param *params, size_t n);
struct fl_pval *fl_args_set(struct fl_args *a, const char *name);

/* Index of the parameter called name in a table, or -1. */
int fl_param_index(const struct fl_param *params, size_t n, const char *name);

#endif
