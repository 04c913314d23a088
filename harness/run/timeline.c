/* runner_faults.c - the fault timeline: inject at `at`, heal after `for`,
 * asynchronous completion (fl_fault_done), and the final heal. Every
 * injection's invoke record is written before the fault is applied: the
 * events file is the journal of what may need healing. */
#include "proxy/proxy_set.h"
#include "run/runner_int.h"
#include "core/journal.h"

#include <stdio.h>

/* ---- faults ---------------------------------------------------------- */

static const char *fault_key(const struct fl_fault_run *fr)
{
    return fr->key[0] ? fr->key : NULL;
}

static void on_heal_timer(uv_timer_t *t);

/* Name the fault in the journal records its operations write. */
static void journal_cause(struct fault_slot *fs, const char *what)
{
    const struct fl_fault *f = fs->fr.fault;
    char cause[256];
    snprintf(cause, sizeof cause, "%s%sfault %d %s at %s:%d:%d", what, what[0] ? " " : "",
             fs->fr.index + 1, f->type->name, f->pos.file, f->pos.line, f->pos.col);
    fl_journal_set_cause(fs->rn->run.journal, cause);
}

static void journal_note(struct fault_slot *fs, const char *what, const char *detail)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%d", fs->fr.index + 1);
    const char *kv[] = {"fault", idx, "type", fs->fr.fault->type->name, "detail",
                        detail ? detail : "", NULL};
    fl_journal_note(fs->rn->run.journal, what, kv);
}

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
    journal_note(fs, "healed", fr->desc);
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
    journal_cause(fs, "heal of");
    int rc = fr->fault->type->revert(fr, &err);
    fl_journal_set_cause(rn->run.journal, NULL);
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
    journal_note(fs, "injected", fr->desc);
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
    if (rn->run.aborting || fl_rn_step_hold(rn, fs))
        return;
    int32_t proc = FL_PROC_FAULT + fr->index;
    const char *name = fr->fault->type->name;
    /* The invoke record is the journal entry: it is written (and streamed
     * to the events file) before the fault is applied. */
    fl_run_record(&rn->run, proc, FL_INVOKE, name, FL_F_FAULT, NULL, NULL, NULL);
    journal_note(fs, "injecting", NULL);
    struct fl_error err = {0};
    fr->in_call = 1;
    fr->early = 0;
    journal_cause(fs, "");
    int rc = fr->fault->type->inject(fr, &err);
    fl_journal_set_cause(rn->run.journal, NULL);
    fr->in_call = 0;
    if (rc == FL_PENDING && fr->early)
        inject_finished(fs, fr->early_status, fr->early_error);
    else if (rc == FL_PENDING)
        fr->pending = FL_PENDING_INJECT;
    else
        inject_finished(fs, rc, err.msg);
}

/* ---- run-scoped setup, teardown, cancel --------------------------------- */

int fl_rn_setup_injectors(struct runner *rn, struct fl_error *err)
{
    for (size_t i = 0; i < rn->nfaults; i++) {
        struct fault_slot *fs = &rn->faults[i];
        const struct fl_injector_type *t = fs->fr.fault->type;
        rn->nsetup = i + 1;
        if (!t->setup)
            continue;
        journal_cause(fs, "setup of");
        int rc = t->setup(&fs->fr, err);
        fl_journal_set_cause(rn->run.journal, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

void fl_rn_teardown_injectors(struct runner *rn)
{
    if (rn->torn_down)
        return;
    rn->torn_down = 1;
    for (size_t i = rn->nsetup; i-- > 0;) {
        struct fault_slot *fs = &rn->faults[i];
        if (fs->fr.fault->type->teardown)
            fs->fr.fault->type->teardown(&fs->fr);
    }
    fl_proxy_set_close(&rn->run);
}

void fl_rn_cancel_pending(struct runner *rn, const char *why)
{
    for (size_t i = 0; i < rn->nfaults; i++) {
        struct fault_slot *fs = &rn->faults[i];
        struct fl_fault_run *fr = &fs->fr;
        uv_timer_stop(&fs->inject_timer);
        uv_timer_stop(&fs->heal_timer);
        if (!fr->pending)
            continue;
        int was = fr->pending;
        fr->pending = 0;
        fr->cancelled = 1;
        if (fr->fault->type->cancel)
            fr->fault->type->cancel(fr);
        /* No callback may come for it any more: fl_fault_done finds
         * nothing pending. */
        fr->done = NULL;
        fl_run_record(&rn->run, FL_PROC_FAULT + fr->index, FL_INFO, fr->fault->type->name,
                      was == FL_PENDING_INJECT ? FL_F_FAULT : FL_F_HEAL, fault_key(fr), NULL,
                      why);
        journal_note(fs, "cancelled", why);
    }
}
