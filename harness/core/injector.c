/* injector.c - the injector side of asynchronous completion (injector.h). */
#include "core/injector.h"

#include <stdio.h>

void fl_fault_done(struct fl_fault_run *fr, int status, const char *error)
{
    if (fr->in_call) {
        /* Completed before inject/revert even returned: keep the outcome
         * for the caller, which finishes it once it sees FL_PENDING. */
        fr->early = 1;
        fr->early_status = status;
        snprintf(fr->early_error, sizeof fr->early_error, "%s", error ? error : "");
        return;
    }
    if (fr->done)
        fr->done(fr, status, error ? error : "");
}
