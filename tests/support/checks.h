/* checks.h - cmocka helpers for checker tests: arguments built by name,
 * running a checker, and looking into its verdict. They fail the current
 * test (cmocka's fail_msg) on misuse. Include after <cmocka.h>. */
#ifndef FL_TEST_CHECKS_H
#define FL_TEST_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "checkers/checker.h"
#include "history/history.h"

/* Seconds to history microseconds. */
#define FL_T_S(x) ((int64_t)((x) * 1000000.0 + 0.5))

/* Zeroed arguments for the checker called name (which must exist). */
struct fl_args fl_t_args(const char *checker);
/* Mark a parameter as given and return its value (fails on a bad name). */
struct fl_pval *fl_t_arg(struct fl_args *a, const char *name);
void fl_t_arg_s(struct fl_args *a, const char *name, const char *s);
void fl_t_arg_list(struct fl_args *a, const char *name, const char *const *l, size_t n);
void fl_t_arg_ms(struct fl_args *a, const char *name, uint64_t ms);
void fl_t_arg_b(struct fl_args *a, const char *name, int b);

/* Run a checker (it must return 0 and write a summary). */
struct fl_verdict fl_t_check(const struct fl_checker_type *t, const struct fl_history *h,
                             const struct fl_args *a);
/* The same for the checker called name. */
struct fl_verdict fl_t_run(const char *checker, const struct fl_history *h,
                           const struct fl_args *a);
/* Fail unless hay contains needle. */
void fl_t_has(const char *hay, const char *needle);
/* The counterexample for key (fails when there is none). */
const struct fl_cex *fl_t_cex_for(const struct fl_verdict *v, const char *key);
int fl_t_cex_has_op(const struct fl_cex *c, size_t idx);
/* Fail unless a counterexample's ops are in history order. */
void fl_t_ops_sorted(const struct fl_cex *c);

/* FL_TEST_DUMP=1 prints the history to stderr, one op a line (for
 * debugging a failed test); otherwise nothing. */
void fl_t_dump(const struct fl_history *h);

#endif
