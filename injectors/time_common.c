/* time_common.c - see time_common.h. */
#include "injectors/time_common.h"
#include "injectors/faketime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_time_setup(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_faketime_check_service(fr, fr->fault->args.v[FL_TP_SERVICE].s, err);
}

int fl_time_pick(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_time_state *st = fr->state;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        st->fr = fr;
        fr->state = st;
    }
    st->n = fl_inj_pick(fr, FL_TP_SERVICE, FL_TP_PICK, NULL, st->in, err);
    if (st->n == 0)
        return FL_EINJECT;
    for (size_t i = 0; i < st->n; i++) {
        st->pid[i] = st->in[i]->pid;
        int loaded = fl_faketime_loaded(st->pid[i]);
        if (loaded == 0)
            return fl_error_set(err, FL_EINJECT, "%s (pid %d) has no libfaketime mapped (see "
                                "/proc/%d/maps): its clock cannot be controlled; a statically "
                                "linked program or a Go program reads the time without libc "
                                "and ignores LD_PRELOAD", st->in[i]->id, st->pid[i], st->pid[i]);
        if (loaded < 0)
            return fl_error_set(err, FL_EINJECT, "cannot read /proc/%d/maps of %s: %s",
                                st->pid[i], st->in[i]->id, strerror(-loaded));
    }
    return 0;
}

int64_t fl_time_delta(const struct fl_fault_run *fr)
{
    const struct fl_pval *v = fr->fault->args.v;
    int64_t ms = (int64_t)v[FL_TP_BY].ms;
    return v[FL_TP_DIRECTION].e == 1 ? -ms : ms;
}

int fl_time_apply(struct fl_fault_run *fr, int64_t delta_ms, struct fl_error *err)
{
    struct fl_time_state *st = fr->state;
    for (size_t i = 0; st && i < st->n; i++) {
        int rc = fl_faketime_shift(fr->run, st->in[i], delta_ms, NULL, err);
        if (rc)
            return rc;
        st->applied[i] += delta_ms;
    }
    return 0;
}

int fl_time_restore(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_time_state *st = fr->state;
    for (size_t i = 0; st && i < st->n; i++) {
        if (!st->applied[i])
            continue;
        int rc = fl_faketime_shift(fr->run, st->in[i], -st->applied[i], NULL, err);
        if (rc)
            return rc;
        st->applied[i] = 0;
    }
    return 0;
}

void fl_time_desc_instances(struct fl_fault_run *fr)
{
    struct fl_time_state *st = fr->state;
    for (size_t i = 0; st && i < st->n; i++) {
        fl_inj_add_key(fr, st->in[i]);
        fl_inj_descf(fr, "%s%s (pid %d)", i ? ", " : "", st->in[i]->id, st->pid[i]);
    }
}
