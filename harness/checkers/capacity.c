/* capacity.c - ready instances of a service stay >= min; or, with
 * `surfaced: PROBE`, whenever they do not, the system says so.
 *
 * Readiness comes from the target's instance events (history.h: source
 * "target", f "instance", key "SERVICE.N"): an instance is ready from its
 * "ready after ..." (ok) until it exits ("exited with status N", "killed
 * by SIG..."), fails its check ("not ready after ...") or starts a new
 * incarnation ("started pid N"). Nothing else changes it: a frozen instance
 * still counts, as a pod does until a readiness probe fails it.
 *
 * The judged window runs from the "steady" phase (every service was ready
 * and the probes had their steady state) to the "teardown" phase, when the
 * services are stopped on purpose; without phases (a hand-written history)
 * from the first moment min instances were ready to the last op.
 *
 * An episode of low capacity starts when ready < min and ends only once
 * ready has stayed >= min for `grace`: a replica that comes back and dies
 * again at once (flapping) does not reset it. An episode that lasts longer
 * than grace (first to last moment below) is
 *
 *   without surfaced   a violation: capacity drained;
 *   with surfaced      checked against the probe: every sample taken while
 *                      ready < min, from grace after the episode started,
 *                      must report degraded (a failed sample: an error
 *                      status, or nobody answering; or an ok one recording
 *                      anything but `expect`). One healthy
 *                      sample there is a violation (the loss was hidden);
 *                      no sample that says either way (none taken, or only
 *                      timeouts) leaves the episode unknown.
 *
 * An episode no longer than grace is a harmless dip, unless it was still
 * below min when the window ended: then whether it would have lasted is
 * not known (unknown, "still below min when judging ended").
 *
 * No instance event for the service at all, or an empty window: unknown.
 * Without a steady phase, a service that never had min ready instances is
 * unknown too: the run may have ended before it was meant to be ready.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_SERVICE, C_MIN, C_GRACE, C_SURFACED, C_EXPECT };

static const struct fl_param params[] = {
    [C_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose ready instances are counted"},
    [C_MIN] = {"min", FL_PT_INT, 1, NULL, "ready instances the service must keep", .lo = 1},
    [C_GRACE] = {"grace", FL_PT_DURATION, 0, "5s", "how long capacity may stay below min (a restart) or, with surfaced, how long the system may take to report it"},
    [C_SURFACED] = {"surfaced", FL_PT_PROBE, 0, NULL, "probe through which the system reports itself degraded: then low capacity is fine as long as every sample says so"},
    [C_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "with surfaced: value a healthy sample records (default: any ok sample is healthy); anything else, or a failed sample, reports degraded"},
};

#define INST_MAX 4096

/* The ready count after op `op` at time t. */
struct step {
    int64_t t;
    int count;
    size_t op;
};

struct episode {
    int64_t start, end;      /* first and last moment below min */
    int lowest;
    size_t *ops;             /* the instance events of the episode */
    size_t nops, cap;
};

struct cap {
    const struct fl_history *h;
    const char *service;
    size_t slen;
    int min;
    int64_t grace;
    struct step *steps;
    size_t nsteps, cap_steps;
    size_t events;           /* instance events of the service seen */
    int64_t ws, we;          /* the judged window */
    int has_window;
    int sorted;              /* steps in time order */
};

/* 1: the event makes the instance ready, 0: not ready, -1: no change. */
static int transition(const struct fl_op *op)
{
    const char *v = op->value;
    if (!v)
        return -1;
    if (op->type == FL_OK && strncmp(v, "ready", 5) == 0)
        return 1;
    if (op->type == FL_OK && strncmp(v, "started", 7) == 0)
        return 0;
    if (op->type == FL_INFO && (strncmp(v, "exited", 6) == 0 || strncmp(v, "killed by", 9) == 0 ||
                                strncmp(v, "not ready", 9) == 0))
        return 0;
    return -1;
}

static int ours(const struct cap *c, const char *key)
{
    if (!key || strncmp(key, c->service, c->slen) != 0 || key[c->slen] != '.')
        return 0;
    const char *p = key + c->slen + 1;
    if (!*p)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* The window from the runner's phases, and the ready count over time. */
static int scan(struct cap *c)
{
    struct fl_pmap seen;          /* key pointer -> instance slot + 1, 0: not ours */
    int ready[INST_MAX] = {0};
    size_t ninst = 0;
    int count = 0;
    int64_t steady = -1, teardown = -1, last = 0;
    if (fl_pmap_init(&seen, 16))
        return FL_ENOMEM;
    size_t len = fl_history_len(c->h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(c->h, i);
        if (op->time_us > last)
            last = op->time_us;
        if (strcmp(op->f, FL_F_PHASE) == 0 && strcmp(op->source, FL_SOURCE_RUNNER) == 0 &&
            op->value) {
            if (steady < 0 && strcmp(op->value, "steady") == 0)
                steady = op->time_us;
            if (teardown < 0 && strcmp(op->value, "teardown") == 0)
                teardown = op->time_us;
            continue;
        }
        if (strcmp(op->f, FL_F_INSTANCE) != 0 || !op->key)
            continue;
        int added = 0;
        size_t *slot = fl_pmap_put(&seen, (uintptr_t)op->key, 0, &added);
        if (!slot) {
            fl_pmap_free(&seen);
            return FL_ENOMEM;
        }
        if (added && ours(c, op->key) && ninst < INST_MAX)
            *slot = ++ninst;
        if (*slot == 0)
            continue;
        c->events++;
        int to = transition(op);
        int *r = &ready[*slot - 1];
        if (to < 0 || to == *r)
            continue;
        count += to ? 1 : -1;
        *r = to;
        if (fl_grow((void **)&c->steps, &c->cap_steps, c->nsteps + 1, sizeof *c->steps)) {
            fl_pmap_free(&seen);
            return FL_ENOMEM;
        }
        c->steps[c->nsteps++] = (struct step){op->time_us, count, i};
    }
    fl_pmap_free(&seen);
    c->sorted = 1;
    for (size_t k = 1; k < c->nsteps; k++)
        c->sorted = c->sorted && c->steps[k - 1].t <= c->steps[k].t;
    c->we = teardown >= 0 ? teardown : last;
    if (steady >= 0) {
        c->ws = steady;
        c->has_window = c->we > c->ws;
        return 0;
    }
    for (size_t k = 0; k < c->nsteps; k++) {
        if (c->steps[k].count >= c->min) {
            c->ws = c->steps[k].t;
            c->has_window = c->we > c->ws;
            return 0;
        }
    }
    c->ws = -1;
    return 0;
}

/* Ready count at time t: after the last step at or before t (steps are
 * in history order, which a live run records in time order; a loaded file
 * out of order is searched linearly). */
static int count_at(const struct cap *c, int64_t t)
{
    if (!c->sorted) {
        int n = 0;
        for (size_t k = 0; k < c->nsteps && c->steps[k].t <= t; k++)
            n = c->steps[k].count;
        return n;
    }
    size_t lo = 0, hi = c->nsteps;      /* first step after t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->steps[mid].t <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? c->steps[lo - 1].count : 0;
}

static int ep_add_op(struct episode *e, size_t op)
{
    if (fl_grow((void **)&e->ops, &e->cap, e->nops + 1, sizeof *e->ops))
        return FL_ENOMEM;
    e->ops[e->nops++] = op;
    return 0;
}

/* Episodes of ready < min inside the window, merged across gaps shorter
 * than grace. *out is malloc'ed. */
static int episodes(const struct cap *c, struct episode **out, size_t *nout)
{
    struct episode *ep = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    int count = 0;
    size_t cur_op = SIZE_MAX;        /* the step that set count */
    for (size_t k = 0; k <= c->nsteps && !rc; k++) {
        /* segment [a, b) with `count`, set by cur_op */
        int64_t a = k == 0 ? c->ws : c->steps[k - 1].t;
        int64_t b = k < c->nsteps ? c->steps[k].t : c->we;
        if (a < c->ws)
            a = c->ws;
        if (b > c->we)
            b = c->we;
        if (b > a && count < c->min) {
            struct episode *e = n ? &ep[n - 1] : NULL;
            if (!e || a - e->end >= c->grace) {
                rc = fl_grow((void **)&ep, &cap, n + 1, sizeof *ep);
                if (rc)
                    break;
                e = &ep[n++];
                memset(e, 0, sizeof *e);
                e->start = a;
                e->lowest = count;
            }
            e->end = b;
            if (count < e->lowest)
                e->lowest = count;
            if (cur_op != SIZE_MAX && (e->nops == 0 || e->ops[e->nops - 1] != cur_op))
                rc = ep_add_op(e, cur_op);
        } else if (b > a && n && cur_op != SIZE_MAX && ep[n - 1].end == a) {
            rc = ep_add_op(&ep[n - 1], cur_op);     /* the event that restored it */
        }
        if (k < c->nsteps) {
            count = c->steps[k].count;
            cur_op = c->steps[k].op;
        }
    }
    *out = ep;
    *nout = n;
    return rc;
}

static void free_episodes(struct episode *ep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ep[i].ops);
    free(ep);
}

/* Surfaced mode: what the probe said during episode e. */
struct said {
    size_t healthy, degraded, unknown;
    size_t first_healthy, last_healthy;
};

static void judge_samples(const struct cap *c, const struct episode *e, const size_t *samples,
                          size_t ns, const char *expect, struct said *s)
{
    memset(s, 0, sizeof *s);
    s->first_healthy = s->last_healthy = SIZE_MAX;
    for (size_t j = 0; j < ns; j++) {
        const struct fl_op *op = fl_history_get(c->h, samples[j]);
        if (op->time_us < e->start + c->grace || op->time_us >= e->end)
            continue;
        if (count_at(c, op->time_us) >= c->min)
            continue;      /* back up for a moment inside a flapping episode */
        if (op->type == FL_OK && expect && !op->value) {
            s->unknown++;         /* it answered without the field: says nothing */
        } else if (op->type == FL_OK && (!expect || strcmp(op->value, expect) == 0)) {
            s->healthy++;
            if (s->first_healthy == SIZE_MAX)
                s->first_healthy = samples[j];
            s->last_healthy = samples[j];
        } else if (op->type == FL_OK || op->type == FL_FAIL) {
            s->degraded++;
        } else {
            s->unknown++;
        }
    }
}

static int add_cex(struct fl_verdict *out, const struct cap *c, const struct episode *e,
                   const char *why, size_t extra1, size_t extra2)
{
    size_t ops[FL_CEX_OPS + 2], n = fl_keep_ends(e->ops, e->nops, ops, FL_CEX_OPS);
    if (extra1 != SIZE_MAX)
        ops[n++] = extra1;
    if (extra2 != SIZE_MAX && extra2 != extra1)
        ops[n++] = extra2;
    /* history order */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && ops[k - 1] > ops[k]; k--) {
            size_t t = ops[k];
            ops[k] = ops[k - 1];
            ops[k - 1] = t;
        }
    return fl_verdict_add_cex(out, c->service, why, ops, n);
}

/* What the episodes came to. */
struct tally {
    size_t bad, unknown, short_, surfaced, nsaid;
    size_t cut;              /* short, but still below min when the window ended */
    int lowest;
    char grace[32];
};

/* Judge one episode longer than grace: count it into t, report it in out
 * unless the probe surfaced it. Returns 0 or FL_ENOMEM. */
static int judge_episode(const struct cap *c, const struct episode *e, const char *probe,
                         const char *expect, const size_t *samples, size_t ns,
                         struct tally *t, struct fl_verdict *out)
{
    char t0[32], t1[32], why[1024], span[320];
    fl_fmt_time(t0, sizeof t0, e->start);
    fl_fmt_time(t1, sizeof t1, e->end);
    snprintf(span, sizeof span, "from %s to %s%s (%.1fs, grace %s), as low as %d of min %d",
             t0, t1, e->end >= c->we ? " (still below when judging ended)" : "",
             (double)(e->end - e->start) / 1e6, t->grace, e->lowest, c->min);
    if (!probe) {
        t->bad++;
        snprintf(why, sizeof why, "ready capacity below min %s", span);
        return add_cex(out, c, e, why, SIZE_MAX, SIZE_MAX);
    }
    struct said s;
    judge_samples(c, e, samples, ns, expect, &s);
    if (s.healthy) {
        t->bad++;
        char th[32];
        fl_fmt_time(th, sizeof th, fl_history_get(c->h, s.first_healthy)->time_us);
        snprintf(why, sizeof why, "ready capacity below min %s, yet %s reported healthy "
                 "(%zu of %zu samples while low, first at %s): the loss was hidden", span,
                 probe, s.healthy, s.healthy + s.degraded + s.unknown, th);
        return add_cex(out, c, e, why, s.first_healthy, s.last_healthy);
    }
    if (s.degraded) {
        t->surfaced++;
        t->nsaid += s.degraded;
        return 0;
    }
    t->unknown++;
    snprintf(why, sizeof why, "ready capacity below min %s, and %s %s while it was low: "
             "nobody can tell whether the loss was surfaced", span, probe,
             s.unknown ? "gave only answers that say neither (timeouts, no recorded field)"
                       : "took no sample");
    return add_cex(out, c, e, why, SIZE_MAX, SIZE_MAX);
}

/* An episode no longer than grace that the end of the window cut off:
 * counted and reported as unknown. Returns 0 or FL_ENOMEM. */
static int judge_cut(const struct cap *c, const struct episode *e, struct tally *t,
                     struct fl_verdict *out)
{
    char t0[32], why[256];
    fl_fmt_time(t0, sizeof t0, e->start);
    snprintf(why, sizeof why, "still below min when judging ended: from %s (%.1fs, grace %s), "
             "as low as %d of min %d", t0, (double)(e->end - e->start) / 1e6, t->grace,
             e->lowest, c->min);
    t->cut++;
    return add_cex(out, c, e, why, SIZE_MAX, SIZE_MAX);
}

static int summarize(const struct cap *c, const char *probe, const struct tally *t,
                     struct fl_verdict *out)
{
    size_t longer = t->bad + t->unknown + t->surfaced;
    const char *svc = c->service, *gr = t->grace;
    if (t->bad) {
        out->validity = FL_INVALID;
        if (probe)
            return fl_verdict_summary(out, "%s had fewer than %d ready instances for longer "
                                      "than %s %zu time%s while %s said it was healthy", svc,
                                      c->min, gr, t->bad, t->bad == 1 ? "" : "s", probe);
        return fl_verdict_summary(out, "%s had fewer than %d ready instances for longer than "
                                  "%s, %zu time%s (as low as %d)", svc, c->min, gr, t->bad,
                                  t->bad == 1 ? "" : "s", t->lowest);
    }
    if (t->cut) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s was still below min %d ready instances when judging "
                                  "ended, for less than %s: whether it recovered in time is "
                                  "not known", svc, c->min, gr);
    }
    if (t->unknown) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s had fewer than %d ready instances %zu time%s and %s "
                                  "gave no answer either way while it was low", svc, c->min,
                                  t->unknown, t->unknown == 1 ? "" : "s", probe);
    }
    out->validity = FL_VALID;
    if (longer)
        return fl_verdict_summary(out, "%s fell below %d ready instances %zu time%s (as low "
                                  "as %d), and %s reported it degraded every time (%zu "
                                  "sample%s)", svc, c->min, longer, longer == 1 ? "" : "s",
                                  t->lowest, probe, t->nsaid, t->nsaid == 1 ? "" : "s");
    return fl_verdict_summary(out, "%s kept %d or more ready instances (lowest %d; %zu dip%s "
                              "no longer than %s)", svc, c->min, t->lowest, t->short_,
                              t->short_ == 1 ? "" : "s", gr);
}

/* The verdict when there is nothing to count episodes in (returns 0 or
 * FL_ENOMEM); 1 when there is something to judge. */
static int nothing_to_judge(const struct cap *c, struct fl_verdict *out)
{
    if (c->events == 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "no instance event of service %s in the history: its "
                                  "capacity cannot be judged", c->service);
    }
    if (c->ws < 0) {
        /* only without a steady phase (with one, the window starts there):
         * the run may have ended before the service was meant to be up */
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s never had %d ready instance%s, and the history has "
                                  "no steady phase: its capacity cannot be judged", c->service,
                                  c->min, c->min == 1 ? "" : "s");
    }
    if (!c->has_window) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "the judged window (steady phase to teardown) is empty");
    }
    return 1;
}

static int check(const struct fl_history *h, const struct fl_args *a, struct fl_verdict *out)
{
    struct cap c = {.h = h, .service = a->v[C_SERVICE].s, .min = (int)a->v[C_MIN].i,
                    .grace = fl_duration_us(a->v[C_GRACE].ms)};
    c.slen = strlen(c.service);
    const char *probe = a->v[C_SURFACED].set ? a->v[C_SURFACED].s : NULL;
    const char *expect = a->v[C_EXPECT].set ? a->v[C_EXPECT].s : NULL;
    struct episode *ep = NULL;
    size_t nep = 0, *samples = NULL, ns = 0;
    int rc = scan(&c);
    if (!rc)
        rc = nothing_to_judge(&c, out);
    if (rc != 1)
        goto done;
    rc = episodes(&c, &ep, &nep);
    if (!rc && probe)
        rc = fl_probe_samples(h, probe, &samples, &ns);
    struct tally t = {.lowest = count_at(&c, c.ws)};
    fl_format_duration(a->v[C_GRACE].ms, t.grace, sizeof t.grace);
    for (size_t i = 0; i < nep && !rc; i++) {
        if (ep[i].lowest < t.lowest)
            t.lowest = ep[i].lowest;
        if (ep[i].end - ep[i].start <= c.grace && ep[i].end >= c.we)
            rc = judge_cut(&c, &ep[i], &t, out);
        else if (ep[i].end - ep[i].start <= c.grace)
            t.short_++;
        else
            rc = judge_episode(&c, &ep[i], probe, expect, samples, ns, &t, out);
    }
    if (!rc)
        rc = summarize(&c, probe, &t, out);
done:
    free_episodes(ep, nep);
    free(samples);
    free(c.steps);
    return rc;
}

const struct fl_checker_type fl_checker_capacity = {
    .name = "capacity",
    .help = "ready instances of a service stay >= min (a dip up to grace allowed); with "
            "surfaced: PROBE, whenever they do not, every sample of that probe reports degraded",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
