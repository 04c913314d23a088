/* workload_pace.c - when each operation of a workload goes out.
 *
 * Open loop: operation k is due at start + k/rate, whatever the server's
 * latency (workload.c issues it). A driver issues what is due in batches
 * and sleeps on its timer until the next operation when it is ahead.
 *
 * A driver that falls behind (the machine stalled, or the rate is more
 * than one loop can issue) catches up one batch at a time and yields to
 * the loop between two batches through an idle handle: libuv 1.44 runs a
 * 0 ms timer re-armed from its own callback again in the same pass, which
 * starved every other timer, a fault's included (at 500000/s, a fault due
 * at 200 ms fired at 338 ms). What it cannot work off is not issued late
 * for ever: operations due more than WL_LAG_MAX_US ago, beyond the newest
 * WL_LAG_KEEP, are skipped, and each catch-up that skips records one info
 * "skipped" record with their count as value (history.h). A skipped
 * operation was never sent: no invoke, no key, nothing a checker counts as
 * accepted.
 */
#include "workload/workload_impl.h"

#include <math.h>
#include <stdio.h>

void wl_pace_stop(struct wl_driver *d)
{
    d->running = 0;
    uv_timer_stop(&d->timer);
    uv_idle_stop(&d->idle);
}

/* When operation k is due, on the run clock. */
static int64_t op_due(const struct wl_driver *d, uint64_t k)
{
    return d->start_us + (int64_t)((double)k * 1e6 / d->m->rate);
}

/* The first operation due at or after t (t >= start). */
static uint64_t op_at(const struct wl_driver *d, int64_t t)
{
    double k = ceil((double)(t - d->start_us) * d->m->rate / 1e6);
    return k > 0 ? (uint64_t)k : 0;
}

/* Skip what is due more than WL_LAG_MAX_US ago, keeping the newest
 * WL_LAG_KEEP overdue operations: one record with the count. */
static void skip_lagging(struct wl_driver *d, int64_t now)
{
    int64_t due = op_due(d, d->k);
    if (now - due <= WL_LAG_MAX_US)
        return;
    uint64_t to = op_at(d, now - WL_LAG_MAX_US);
    uint64_t keep_from = op_at(d, now);
    keep_from = keep_from > WL_LAG_KEEP ? keep_from - WL_LAG_KEEP : 0;
    if (keep_from < to)
        to = keep_from;
    if (d->stop_us != INT64_MAX) {
        uint64_t last = op_at(d, d->stop_us);   /* operations before stop */
        if (to > last)
            to = last;
    }
    if (to <= d->k)
        return;
    struct fl_workers *w = d->w;
    uint64_t n = to - d->k;
    d->k = to;
    d->skipped += n;
    w->skipped += n;
    char count[32], why[160], lag[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)n);
    fl_format_duration((uint64_t)((now - due) / 1000), lag, sizeof lag);
    snprintf(why, sizeof why, "not issued: the workload was %s behind its schedule (more "
             "than the loop could issue)", lag);
    fl_run_record(w->run, w->next_process++, FL_INFO, d->m->name, FL_F_SKIPPED, NULL, count,
                  why);
}

static void on_tick(uv_timer_t *t);
static void on_idle(uv_idle_t *h);

/* Issue what is due now, one batch at most; then wait for the next
 * operation (timer, at least 1 ms ahead) or, still behind, go on from the
 * idle handle once the loop has run everything else that is ready. */
static void pace(struct wl_driver *d)
{
    struct fl_workers *w = d->w;
    int64_t now = fl_run_now(w->run);
    skip_lagging(d, now);
    int64_t budget_end = fl_now_us() + WL_BATCH_US;
    for (size_t n = 0; d->running; n++) {
        int64_t due = op_due(d, d->k);
        if (due >= d->stop_us || w->run->aborting || w->closing) {
            wl_pace_stop(d);
            return;
        }
        if (due > now) {
            uv_idle_stop(&d->idle);
            /* libuv timers have millisecond resolution: round up so the
             * tick is never early by more than the loop's own slack. */
            uv_timer_start(&d->timer, on_tick, (uint64_t)((due - now + 999) / 1000), 0);
            return;
        }
        if (n >= WL_BATCH_MAX || (n % 16 == 15 && fl_now_us() >= budget_end)) {
            uv_timer_stop(&d->timer);
            uv_idle_start(&d->idle, on_idle);
            return;
        }
        d->k++;
        wl_issue(d);
    }
}

static void on_tick(uv_timer_t *t)
{
    pace(t->data);
}

static void on_idle(uv_idle_t *h)
{
    pace(h->data);
}

void wl_pace_init(struct wl_driver *d)
{
    uv_loop_t *loop = d->w->run->loop;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_idle_init(loop, &d->idle);
    d->idle.data = d;
}

void wl_pace_start(struct wl_driver *d)
{
    uv_timer_start(&d->timer, on_tick, d->m->start_ms, 0);
}
