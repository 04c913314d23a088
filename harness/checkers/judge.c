/* judge.c - one invariant's verdict under the rules that hold for every
 * checker (contract in checker.h). */
#include "checkers/checker.h"
#include "base/error.h"

#include <stdlib.h>
#include <string.h>

int fl_judge(const struct fl_checker_type *t, const struct fl_args *args,
             const struct fl_history *h, const struct fl_integrity *in,
             const char *harness_error, struct fl_verdict *out)
{
    memset(out, 0, sizeof *out);
    if (harness_error) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "not checked: the run did not complete (%s)",
                                  harness_error);
    }
    int rc = t->check(h, args, out);
    if (rc) {
        fl_verdict_free(out);
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "checker failed: %s", fl_strerror(rc));
    }
    if (!in || in->complete)
        return 0;
    /* The checker judged what was recorded; with ops missing, neither a
     * pass nor a failure is established. */
    enum fl_validity seen = out->validity;
    char *said = out->summary;
    out->summary = NULL;
    out->validity = FL_UNKNOWN;
    rc = fl_verdict_summary(out, "the history is incomplete (%s); the recorded ops alone give "
                            "%s: %s", in->why, fl_validity_name(seen), said ? said : "");
    free(said);
    return rc;
}
