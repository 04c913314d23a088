/* runner_faults.c - the fault timeline: inject at `at`, heal after `for`,
 * asynchronous completion (fl_fault_done), and the final heal. Every
 * injection's invoke record is written before the fault is applied: the
 * events file is the journal of what may need healing. */
#include "run/runner_int.h"

#include <stdio.h>

/* ---- faults ---------------------------------------------------------- */

static const char *fault_key(const struct fl_fault_run *fr)
{
    return fr->key[0] ? fr->key : NULL;
}

static void on_heal_timer(uv_timer_t *t);

/* A heal finished (synchronously or through fl_fault_done). */
static void heal_finished(struct fault_slot *fs, int status, const char *error)
{
    struct runner *rn = fs->rn;
    struct fl_fault_run *fr = &fs->fr;
    const char *name = fr->fault->type->name;
    int32_t proc = FL_PROC_FAULT + fr->index;
    if (status) {
        fl_run_record(&rn->run, proc, FL_FAIL, name, FL_F_HEAL, fault_key(fr), NULL, error);
        fl_rn_harness_fail(rn, FL_EINJECT, "heal of %s (fault %d at %s:%d) failed: %s", name,
                           fr->index + 1, fr->fault->pos.file, fr->fault->pos.line, error);
        return;
    }
    fr->healed = 1;
    fl_run_record(&rn->run, proc, FL_OK, name, FL_F_HEAL, fault_key(fr), fr->desc, NULL);
}

static void do_heal(struct fault_slot *fs)
{
    struct runner *rn = fs->rn;
    struct fl_fault_run *fr = &fs->fr;
    if (fr->pending == FL_PENDING_INJECT) {
        fr->heal_requested = 1;     /* healed as soon as the injection ends */
        return;
    }
    if (!fr->injected || fr->healed || fr->pending || !fr->fault->type->revert)
        return;
    int32_t proc = FL_PROC_FAULT + fr->index;
    const char *name = fr->fault->type->name;
    fl_run_record(&rn->run, proc, FL_INVOKE, name, FL_F_HEAL, fault_key(fr), NULL, NULL);
    struct fl_error err = {0};
    fr->in_call = 1;
    fr->early = 0;
    int rc = fr->fault->type->revert(fr, &err);
    fr->in_call = 0;
    if (rc == FL_PENDING && fr->early)
        heal_finished(fs, fr->early_status, fr->early_error);
    else if (rc == FL_PENDING)
        fr->pending = FL_PENDING_HEAL;
    else
        heal_finished(fs, rc, err.msg);
}

void fl_rn_heal_all(struct runner *rn)
{
    for (size_t i = 0; i < rn->nfaults; i++) {
        uv_timer_stop(&rn->faults[i].inject_timer);
        uv_timer_stop(&rn->faults[i].heal_timer);
        do_heal(&rn->faults[i]);
    }
}

size_t fl_rn_faults_pending(const struct runner *rn)
{
    size_t n = 0;
    for (size_t i = 0; i < rn->nfaults; i++)
        n += rn->faults[i].fr.pending != 0;
    return n;
}

/* An injection finished (synchronously or through fl_fault_done). */
static void inject_finished(struct fault_slot *fs, int status, const char *error)
{
    struct runner *rn = fs->rn;
    struct fl_fault_run *fr = &fs->fr;
    const char *name = fr->fault->type->name;
    int32_t proc = FL_PROC_FAULT + fr->index;
    fr->injected = 1; /* even on failure: revert must undo a partial injection */
    if (status) {
        fl_run_record(&rn->run, proc, FL_FAIL, name, FL_F_FAULT, fault_key(fr), NULL, error);
        fl_rn_harness_fail(rn, FL_EINJECT, "injection %s (%s:%d:%d) failed: %s", name,
                           fr->fault->pos.file, fr->fault->pos.line, fr->fault->pos.col, error);
        fl_rn_abort(rn);
        return;
    }
    fl_run_record(&rn->run, proc, FL_OK, name, FL_F_FAULT, fault_key(fr), fr->desc, NULL);
    if (fr->heal_requested || rn->run.aborting)
        do_heal(fs);
    else if (fr->fault->for_ms && fr->fault->type->revert)
        uv_timer_start(&fs->heal_timer, on_heal_timer, fr->fault->for_ms, 0);
}

/* fr->done: an injection or a heal that returned FL_PENDING has ended. */
void fl_rn_fault_done(struct fl_fault_run *fr, int status, const char *error)
{
    struct fault_slot *fs = (struct fault_slot *)fr; /* fr is the first member */
    int was = fr->pending;
    fr->pending = 0;
    if (was == FL_PENDING_INJECT)
        inject_finished(fs, status, error);
    else if (was == FL_PENDING_HEAL)
        heal_finished(fs, status, error);
}

static void on_heal_timer(uv_timer_t *t)
{
    struct fault_slot *fs = t->data;
    do_heal(fs);
    if (fs->rn->res->harness_status)
        fl_rn_abort(fs->rn);
}

void fl_rn_on_inject_timer(uv_timer_t *t)
{
    struct fault_slot *fs = t->data;
    struct runner *rn = fs->rn;
    struct fl_fault_run *fr = &fs->fr;
    if (rn->run.aborting)
        return;
    int32_t proc = FL_PROC_FAULT + fr->index;
    const char *name = fr->fault->type->name;
    /* The invoke record is the journal entry: it is written (and streamed
     * to the events file) before the fault is applied. */
    fl_run_record(&rn->run, proc, FL_INVOKE, name, FL_F_FAULT, NULL, NULL, NULL);
    struct fl_error err = {0};
    fr->in_call = 1;
    fr->early = 0;
    int rc = fr->fault->type->inject(fr, &err);
    fr->in_call = 0;
    if (rc == FL_PENDING && fr->early)
        inject_finished(fs, fr->early_status, fr->early_error);
    else if (rc == FL_PENDING)
        fr->pending = FL_PENDING_INJECT;
    else
        inject_finished(fs, rc, err.msg);
}

