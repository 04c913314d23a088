#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

struct fl_args fl_t_args(const char *checker)
{
    const struct fl_checker_type *t = fl_checker_find(checker);
    assert_non_null(t);
    struct fl_args a;
    fl_args_init(&a, t->params, t->nparams);
    return a;
}

struct fl_pval *fl_t_arg(struct fl_args *a, const char *name)
{
    struct fl_pval *v = fl_args_set(a, name);
    if (!v)
        fail_msg("no parameter %s", name);
    return v;
}

void fl_t_arg_s(struct fl_args *a, const char *name, const char *s)
{
    fl_t_arg(a, name)->s = s;
}

void fl_t_arg_list(struct fl_args *a, const char *name, const char *const *l, size_t n)
{
    struct fl_pval *v = fl_t_arg(a, name);
    v->list = l;
    v->nlist = n;
    v->s = l[0];
}

void fl_t_arg_ms(struct fl_args *a, const char *name, uint64_t ms)
{
    fl_t_arg(a, name)->ms = ms;
}

void fl_t_arg_b(struct fl_args *a, const char *name, int b)
{
    fl_t_arg(a, name)->b = b;
}

struct fl_verdict fl_t_check(const struct fl_checker_type *t, const struct fl_history *h,
                             const struct fl_args *a)
{
    struct fl_verdict v;
    memset(&v, 0, sizeof v);
    assert_int_equal(t->check(h, a, &v), 0);
    assert_non_null(v.summary);
    return v;
}

struct fl_verdict fl_t_run(const char *checker, const struct fl_history *h,
                           const struct fl_args *a)
{
    const struct fl_checker_type *t = fl_checker_find(checker);
    assert_non_null(t);
    return fl_t_check(t, h, a);
}

void fl_t_has(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay ? hay : "(null)", needle);
}

const struct fl_cex *fl_t_cex_for(const struct fl_verdict *v, const char *key)
{
    for (size_t i = 0; i < v->ncex; i++)
        if (strcmp(v->cex[i].key, key) == 0)
            return &v->cex[i];
    fail_msg("no counterexample for %s (summary: %s)", key, v->summary);
    return NULL;
}

int fl_t_cex_has_op(const struct fl_cex *c, size_t idx)
{
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i] == idx)
            return 1;
    return 0;
}

void fl_t_ops_sorted(const struct fl_cex *c)
{
    for (size_t i = 1; i < c->nops; i++)
        assert_true(c->ops[i - 1] < c->ops[i]);
}

void fl_t_dump(const struct fl_history *h)
{
    if (!getenv("FL_TEST_DUMP"))
        return;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        fprintf(stderr, "%8lld %10d %-6s %-8s %-7s %-8s %-12.60s %s\n", (long long)op->time_us,
                op->process, fl_optype_name(op->type), op->source, op->f,
                op->key ? op->key : "-", op->value ? op->value : "-",
                op->error ? op->error : "");
    }
}
