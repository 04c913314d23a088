/* plan.c - what a run would do, without doing it (`faultline run
 * --dry-run`).
 *
 * The plan is the scenario resolved as far as it can be before anything
 * starts: services with their replicas and commands, workloads, probes,
 * each fault at its time with the instances its pick chooses, and the
 * invariants. Picks go through the same generator, seed and order as a
 * run (fl_pick_indexes, faults in the order of their times), so the same
 * --seed shows the picks the run makes, as long as the same instances are
 * running at that moment: the plan assumes every replica is up (an
 * earlier kill without a restart changes what a later pick chooses among,
 * and the plan says so). Ports are chosen when the services start: the
 * plan shows the templates.
 */
#include "run/plan.h"

#include <stdlib.h>
#include <string.h>

#include "core/injector.h"
#include "core/target.h"

static const struct fl_service *find_service(const struct fl_scenario *sc, const char *name)
{
    for (size_t i = 0; name && i < sc->nservices; i++)
        if (strcmp(sc->services[i].name, name) == 0)
            return &sc->services[i];
    return NULL;
}

static const char *pick_text(const struct fl_pick *p, char *buf, size_t len)
{
    switch (p->kind) {
    case FL_PICK_ALL: return "all";
    case FL_PICK_COUNT: snprintf(buf, len, "%d", p->n); return buf;
    case FL_PICK_PERCENT: snprintf(buf, len, "%d%%", p->n); return buf;
    default: return "one";
    }
}

static void put_duration(struct fl_buf *b, uint64_t ms)
{
    fl_buf_addf(b, "%llu.%03llus", (unsigned long long)(ms / 1000),
                (unsigned long long)(ms % 1000));
}

static void put_services(struct fl_buf *b, const struct fl_scenario *sc)
{
    fl_buf_adds(b, "services:\n");
    for (size_t i = 0; i < sc->nservices; i++) {
        const struct fl_service *s = &sc->services[i];
        fl_buf_addf(b, "  %-12s %d replica%s, restart %s:", s->name, s->replicas,
                    s->replicas == 1 ? "" : "s",
                    s->restart == FL_RESTART_ALWAYS       ? "always"
                    : s->restart == FL_RESTART_ON_FAILURE ? "on-failure"
                                                          : "never");
        for (size_t k = 0; k < s->ncommand; k++) {
            const char *a = s->command[k];
            int quote = !*a || strpbrk(a, " \t'\"") != NULL;
            fl_buf_addf(b, quote ? " '%s'" : " %s", a);
        }
        fl_buf_adds(b, "\n");
    }
}

static void put_traffic(struct fl_buf *b, const struct fl_scenario *sc)
{
    if (sc->nworkloads)
        fl_buf_adds(b, "workload:\n");
    for (size_t i = 0; i < sc->nworkloads; i++) {
        const struct fl_workload *w = &sc->workloads[i];
        fl_buf_addf(b, "  %-12s %g/s from ", w->name, w->rate);
        put_duration(b, w->start_ms);
        if (w->kind == FL_WORKLOAD_REDIS)
            fl_buf_addf(b, ": redis %s\n", w->redis.ncommand ? w->redis.command[0] : "");
        else
            fl_buf_addf(b, ": %s %s\n", w->request.method ? w->request.method : "GET",
                        w->request.url ? w->request.url : "");
    }
    if (sc->nprobes)
        fl_buf_adds(b, "probes:\n");
    for (size_t i = 0; i < sc->nprobes; i++) {
        const struct fl_probe *p = &sc->probes[i];
        fl_buf_addf(b, "  %-12s every ", p->name);
        put_duration(b, p->every_ms);
        fl_buf_addf(b, ": %s%s%s\n", p->kind == FL_PROBE_REDIS ? "redis " : "",
                    p->kind == FL_PROBE_REDIS && p->ncommand ? p->command[0] : p->url ? p->url : "",
                    p->each ? " (each replica)" : "");
    }
}

/* The faults in the order a run injects them: by time, then as written
 * (libuv fires timers of one deadline in the order they were started). */
static int by_time(const void *a, const void *b)
{
    const struct fl_fault *x = *(const struct fl_fault *const *)a;
    const struct fl_fault *y = *(const struct fl_fault *const *)b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The instances one fault's pick chooses, assuming every replica of its
 * service runs. Returns 0 when the fault has no service+pick pair (its
 * injector chooses by other means at run time, e.g. a Redis role). */
static int put_pick(struct fl_buf *b, const struct fl_scenario *sc, const struct fl_fault *f,
                    struct fl_rng *rng)
{
    const struct fl_service *svc = NULL;
    const struct fl_pick *pick = NULL;
    for (size_t k = 0; k < f->args.n; k++) {
        if (!f->args.v[k].set)
            continue;
        if (f->args.params[k].type == FL_PT_SERVICE && !svc)
            svc = find_service(sc, f->args.v[k].s);
        if (f->args.params[k].type == FL_PT_PICK && !pick)
            pick = &f->args.v[k].pick;
    }
    if (!svc || !pick)
        return 0;
    size_t chosen[256];
    size_t n = fl_pick_indexes(rng, pick, (size_t)svc->replicas, chosen, 256);
    char pb[32];
    fl_buf_addf(b, "  picks (%s of %d):", pick_text(pick, pb, sizeof pb), svc->replicas);
    for (size_t i = 0; i < n; i++)
        fl_buf_addf(b, "%s%s.%zu", i ? ", " : " ", svc->name, chosen[i]);
    return 1;
}

static void put_faults(struct fl_buf *b, const struct fl_scenario *sc, uint64_t seed)
{
    fl_buf_adds(b, "faults:\n");
    if (!sc->nfaults) {
        fl_buf_adds(b, "  (none)\n");
        return;
    }
    const struct fl_fault **order = calloc(sc->nfaults, sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < sc->nfaults; i++)
        order[i] = &sc->faults[i];
    qsort(order, sc->nfaults, sizeof *order, by_time);
    struct fl_rng rng;
    fl_rng_seed(&rng, seed);
    int unsure = 0;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const struct fl_fault *f = order[i];
        fl_buf_adds(b, "  at ");
        put_duration(b, f->at_ms);
        if (f->for_ms) {
            fl_buf_adds(b, " for ");
            put_duration(b, f->for_ms);
        }
        fl_buf_addf(b, "  %s (%s:%d)", f->type->name, f->pos.file, f->pos.line);
        if (put_pick(b, sc, f, &rng)) {
            if (unsure)
                fl_buf_adds(b, " (may differ: an earlier fault chose at run time)");
        } else {
            fl_buf_adds(b, "  chosen at run time by the injector");
            unsure = 1;
        }
        fl_buf_adds(b, "\n");
        for (size_t k = 0; k < f->args.n; k++) {
            const struct fl_pval *v = &f->args.v[k];
            enum fl_ptype t = f->args.params[k].type;
            if (!v->set || t == FL_PT_PICK || t == FL_PT_SERVICE)
                continue;
            fl_buf_addf(b, "      %s: ", f->args.params[k].name);
            switch (t) {
            case FL_PT_DURATION: put_duration(b, v->ms); break;
            case FL_PT_INT: fl_buf_addf(b, "%lld", v->i); break;
            case FL_PT_BOOL: fl_buf_adds(b, v->b ? "true" : "false"); break;
            case FL_PT_SIGNAL: fl_buf_addf(b, "%s", fl_signal_name(v->sig)); break;
            case FL_PT_ENUM: fl_buf_adds(b, f->args.params[k].choices[v->e]); break;
            case FL_PT_STRINGS:
                for (size_t j = 0; j < v->nlist; j++)
                    fl_buf_addf(b, "%s%s", j ? ", " : "", v->list[j]);
                break;
            default: fl_buf_adds(b, v->s ? v->s : ""); break;
            }
            fl_buf_adds(b, "\n");
        }
    }
    free(order);
}

int fl_plan_text(const struct fl_scenario *sc, uint64_t seed, struct fl_buf *b)
{
    fl_buf_addf(b, "plan: %s (%s), seed %llu, target %s\n", sc->name, sc->file,
                (unsigned long long)seed, sc->target ? sc->target->name : "local");
    fl_buf_adds(b, "  workload for ");
    put_duration(b, sc->duration_ms);
    fl_buf_adds(b, ", settle ");
    put_duration(b, sc->settle_ms);
    fl_buf_adds(b, " after the last heal\n");
    for (size_t i = 0; i < sc->nvars; i++)
        fl_buf_addf(b, "  var %s = %s\n", sc->vars[i].key, sc->vars[i].value);
    put_services(b, sc);
    put_traffic(b, sc);
    put_faults(b, sc, seed);
    fl_buf_adds(b, "invariants:\n");
    for (size_t i = 0; i < sc->ninvariants; i++)
        fl_buf_addf(b, "  %s (%s:%d)\n", sc->invariants[i].label, sc->invariants[i].pos.file,
                    sc->invariants[i].pos.line);
    return fl_buf_adds(b, "picks assume every replica is running; ports are chosen at start\n");
}
