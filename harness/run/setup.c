/* setup.c - fl_runner_run: set a run up (loop, history, events file,
 * journal, target, injectors, workers), let the phases (phases.c) drive
 * it, then close everything down in order, heal what the journal still
 * holds, and judge the history.
 *
 * Ownership at the end: the target is destroyed inside the loop (or right
 * after it), freed only once the loop has closed, so no callback can reach
 * freed memory. The journal is closed last: a run that could not undo
 * something leaves its journal for `faultline recover`.
 */
#include "run/runner_int.h"
#include "base/proc.h"
#include "core/journal.h"
#include "run/recover.h"
#include "injectors/faketime.h"
#include "proxy/proxy_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* "run-PID-START-N": unique on this machine across runs and reboots of
 * a pid, N counting the scenarios of one faultline process. */
static void make_tag(struct runner *rn)
{
    static unsigned counter;
    uint64_t start = 0;
    fl_proc_start_time((int)getpid(), &start);
    snprintf(rn->run_tag, sizeof rn->run_tag, "run-%d-%llu-%u", (int)getpid(),
             (unsigned long long)start, counter++);
}

static int open_journal(struct runner *rn, struct fl_error *err)
{
    if (!rn->o->state_dir)
        return 0;
    char what[512];
    snprintf(what, sizeof what, "scenario %s (%s)", rn->run.sc->name, rn->run.sc->file);
    struct fl_error e = {0};
    int rc = fl_journal_open(&rn->run.journal, rn->o->state_dir, rn->run_tag, what, &e);
    if (rc)
        fl_error_set(err, rc, "%s (faultline writes down every change before it makes it, "
                     "so that a crash can be healed; choose another folder with --state-dir)",
                     e.msg);
    return rc;
}

static void say_log(void *ud, const char *msg)
{
    struct runner *rn = ud;
    fl_run_log(&rn->run, 0, "%s", msg);
}

/* The run's own final recovery: whatever its journal still holds (a heal
 * that never came, an abort) is undone now that no process is left. */
static void close_journal(struct runner *rn)
{
    struct fl_journal *j = rn->run.journal;
    if (!j)
        return;
    struct fl_error err = {0};
    int rc = fl_recover_file(fl_journal_path(j), 1, say_log, rn, NULL, &err);
    if (rc)
        fl_rn_harness_fail(rn, FL_EINJECT, "%s", err.msg);
    rn->run.journal = NULL;
    fl_journal_close(j, rc == 0);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int open_events(struct runner *rn)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.jsonl", rn->o->outdir);
    rn->events = fopen(path, "w");
    return rn->events ? 0 : FL_EIO;
}

int fl_runner_run(const struct fl_scenario *sc, const struct fl_runner_opts *o,
                  struct fl_result *res)
{
    struct runner *rn = calloc(1, sizeof *rn);
    if (!rn)
        return FL_ENOMEM;
    rn->o = o;
    rn->res = res;
    res->file = sc->file;
    res->name = sc->name;
    res->sc = sc;
    res->target = sc->target ? sc->target->name : "local";
    res->outdir = o->outdir;
    res->started = time(NULL);
    res->seed = o->has_seed ? o->seed : sc->has_seed ? sc->seed
                : ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) % 1000000000ULL;
    fl_rn_reset_interrupted();

    struct fl_run *run = &rn->run;
    run->loop = &rn->loop;
    run->sc = sc;
    run->seed = res->seed;
    fl_rng_seed(&run->rng, res->seed);
    run->outdir = o->outdir;
    run->bindir = o->bindir;
    run->self_exe = o->self_exe;
    run->verbose = o->verbose;
    run->log = fl_rn_log_to_opts;
    run->log_ud = rn;
    run->history = fl_history_new(0);
    if (!run->history || uv_loop_init(&rn->loop)) {
        fl_history_free(run->history);
        free(rn);
        return FL_ENOMEM;
    }
    make_tag(rn);
    run->run_tag = rn->run_tag;
    res->history = run->history;
    if (open_events(rn))
        snprintf(rn->events_error, sizeof rn->events_error, "cannot write %s/events.jsonl: %s",
                 o->outdir, strerror(errno));
    run->t0_us = fl_now_us();
    fl_history_set_sink(run->history, fl_rn_sink, rn);

    uv_timer_init(&rn->loop, &rn->phase_timer);
    uv_timer_init(&rn->loop, &rn->stop_timer);
    uv_timer_init(&rn->loop, &rn->end_timer);
    uv_timer_init(&rn->loop, &rn->progress_timer);
    uv_timer_init(&rn->loop, &rn->watchdog);
    rn->phase_timer.data = rn->stop_timer.data = rn->end_timer.data = rn;
    rn->progress_timer.data = rn->watchdog.data = rn;
    fl_rn_watch_signals(rn);

    rn->nfaults = sc->nfaults;
    rn->faults = calloc(sc->nfaults ? sc->nfaults : 1, sizeof *rn->faults);
    rn->fault_ptrs = calloc(sc->nfaults ? sc->nfaults : 1, sizeof *rn->fault_ptrs);
    for (size_t i = 0; rn->faults && rn->fault_ptrs && i < sc->nfaults; i++) {
        rn->fault_ptrs[i] = &rn->faults[i].fr;
        struct fault_slot *fs = &rn->faults[i];
        fs->rn = rn;
        fs->fr.fault = &sc->faults[i];
        fs->fr.index = (int)i;
        fs->fr.run = run;
        fs->fr.done = fl_rn_fault_done;
        uv_timer_init(&rn->loop, &fs->inject_timer);
        uv_timer_init(&rn->loop, &fs->heal_timer);
        fs->inject_timer.data = fs->heal_timer.data = fs;
    }

    run->faults = rn->fault_ptrs;
    run->nfaults = rn->fault_ptrs ? rn->nfaults : 0;

    fl_rn_set_phase(rn, PH_START);
    fl_run_log(run, 0, "scenario %s (seed %llu), output in %s", sc->name,
               (unsigned long long)res->seed, o->outdir);
    struct fl_error err = {0};
    int rc = !rn->faults || !rn->fault_ptrs ? FL_ENOMEM : fl_rn_stops_init(rn);
    if (rc == 0)
        rc = fl_rn_status_init(rn);
    if (rc == 0)
        rc = open_journal(rn, &err);
    if (rc == 0 && fl_rn_control_open(rn, &err)) {
        fl_run_log(run, 0, "warning: %s", err.msg);
        memset(&err, 0, sizeof err);
    }
    if (rc == 0)
        fl_rn_operator_open(rn);
    if (rc == 0)
        rc = (sc->target ? sc->target : fl_target_find("local"))->create(&run->target, run, &err);
    if (rc == 0) {
        snprintf(res->containment, sizeof res->containment, "%s",
                 run->target->type->containment ? run->target->type->containment(run->target)
                                                : run->target->type->name);
        fl_run_log(run, 0, "target %s, instances contained by %s", run->target->type->name,
                   res->containment);
        rc = fl_faketime_attach(run, &err);
        /* Proxies before the injectors and services: their faults act
         * on them, the services are pointed at ${proxy.NAME}. */
        if (rc == 0)
            rc = fl_proxy_set_start(run, &err);
    }
    if (rc == 0)
        rc = fl_rn_setup_injectors(rn, &err);
    if (rc == 0)
        rc = fl_workers_create(&rn->workers, run, &err);
    if (rc == 0)
        rc = fl_rn_begin(rn);
    if (rc) {
        fl_rn_harness_fail(rn, rc, "%s", err.msg[0] ? err.msg : fl_strerror(rc));
        fl_rn_teardown(rn);
    }
    uv_run(&rn->loop, UV_RUN_DEFAULT);

    /* The loop ended: everything should be stopped. Make sure of it. */
    if (run->target && !run->target->destroyed)
        run->target->type->destroy(run->target, NULL, NULL);
    fl_rn_teardown_injectors(rn);
    fl_rn_control_close(rn);
    fl_rn_status_end(rn);
    fl_rn_operator_close(rn);
    if (!rn->workers_closed && rn->workers)
        fl_workers_close(rn->workers, fl_rn_on_workers_closed, rn);
    uv_walk(&rn->loop, close_walk, NULL);
    uv_run(&rn->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&rn->loop))
        fl_run_log(run, 1, "some libuv handles were still open at the end");
    /* Nothing can call into the target any more: release it. */
    if (run->target)
        run->target->type->free(run->target);
    run->target = NULL;
    close_journal(rn);
    if (rn->events_error[0])
        fl_rn_harness_fail(rn, FL_EIO, "the history is incomplete: %s", rn->events_error);
    if (fl_history_dropped(run->history))
        fl_rn_harness_fail(rn, FL_ENOMEM, "the history is incomplete: %zu operations were "
                           "dropped (memory or the history limit)",
                           fl_history_dropped(run->history));

    for (size_t i = 0; rn->faults && i < rn->nfaults; i++)
        free(rn->faults[i].fr.state);
    free(rn->faults);
    free(rn->fault_ptrs);
    fl_rn_stops_free(rn);
    fl_rn_status_free(rn);
    fl_history_set_sink(run->history, NULL, NULL);
    res->duration_s = (double)fl_run_now(run) / 1e6;
    fl_rn_run_checkers(rn);
    if (rn->events)
        fclose(rn->events);
    if (o->events)
        fflush(o->events);
    free(rn);
    return 0;
}

void fl_result_free(struct fl_result *res)
{
    for (size_t i = 0; i < res->ninv; i++)
        fl_verdict_free(&res->inv[i].verdict);
    free(res->inv);
    fl_history_free((struct fl_history *)res->history);
    memset(res, 0, sizeof *res);
}
