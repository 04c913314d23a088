/* lint_report.h - reports of `faultline lint-images` (harness/lint). */
#ifndef FL_LINT_REPORT_H
#define FL_LINT_REPORT_H

#include "base/error.h"
#include "lint/lint.h"

/* JUnit XML: one testsuite per file read (named by its path), one
 * testcase per image reference (named by where it is: "service api",
 * "Deployment web: container app", "FROM (stage build)"), which fails
 * with the rule as type when the reference is a finding, is skipped when
 * an --allow pattern exempts it, and passes when it is pinned. A file that
 * could not be read or parsed has one testcase "parse" with an error.
 * Validates against the Ant strict and the Jenkins schemas. Returns 0 or
 * FL_EIO / FL_ENOMEM with err set. */
int fl_lint_junit_write(const char *path, const struct fl_lint *l, struct fl_error *err);

/* One line per finding (and per error) for the console:
 * "deploy/web.yaml:21:16: mutable-tag: nginx:1.25 (Deployment web: container
 * app) ..." Sanitized: file contents never reach the terminal raw.
 * verbose: pinned and allowed references too. Caller frees. NULL when out
 * of memory. */
char *fl_lint_text_report(const struct fl_lint *l, int verbose);

#endif
