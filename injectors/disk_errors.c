/* disk_errors.c - make a service's file calls under a path fail with an
 * errno (ENOSPC, EIO, EDQUOT, EROFS), with a probability and a delay, while
 * the fault lasts: the disk that fails without being full, or a full disk
 * where no volume can be mounted (no root).
 *
 * The service's instances are started with the project's I/O error library
 * (LD_PRELOAD=BINDIR/faultline-ioerr.so, through the target's environment
 * hook, so setup must run before they start); faultline arms and disarms
 * it live through a mapped control block (base/ioerr_ctl.h, the library in
 * libs/ioerr). The block's file is journaled (undo kind "ioerr.disarm")
 * from setup to teardown: `faultline recover` disarms and removes it. */
#include "injectors/common.h"
#include "base/ioerr_ctl.h"
#include "base/template.h"
#include "core/journal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IOERR_LIB "faultline-ioerr.so"

enum { P_SERVICE, P_PATH, P_VOLUME, P_ERRNO, P_CALLS, P_PROBABILITY, P_DELAY };

static const char *const errnos[] = {"ENOSPC", "EIO", "EDQUOT", "EROFS", NULL};
static const int errno_val[] = {ENOSPC, EIO, EDQUOT, EROFS};

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances load the library (at start) and see the errors"},
    [P_PATH] = {"path", FL_PT_STRING, 0, NULL, "only files under this path, as the instance sees it, fail; a relative path is taken under the run's output folder ${out} (vars allowed); give path or volume", .lo = 1, .hi = 500},
    [P_VOLUME] = {"volume", FL_PT_STRING, 0, NULL, "instead of path: only files on this volume of the service (its `volumes:`) fail", .lo = 1, .hi = 64},
    [P_ERRNO] = {"errno", FL_PT_ENUM, 0, "ENOSPC", "the error the calls fail with", errnos},
    [P_CALLS] = {"calls", FL_PT_STRINGS, 0, NULL, "which calls fail (default write and fsync): open, write (write, writev), pwrite, fsync (fsync, fdatasync), fallocate, read, or all; 64-bit and fortified variants included", .lo = 1, .hi = 16},
    [P_PROBABILITY] = {"probability", FL_PT_INT, 0, "100", "percentage of matching calls that fail", .lo = 1, .hi = 100},
    [P_DELAY] = {"delay", FL_PT_DURATION, 0, "0ms", "sleep this long in each failing call first", .hi = 10000},
};

static const struct {
    const char *name;
    uint32_t bits;
} call_names[] = {
    {"open", FL_IOERR_OPEN},   {"write", FL_IOERR_WRITE}, {"pwrite", FL_IOERR_PWRITE},
    {"fsync", FL_IOERR_FSYNC}, {"read", FL_IOERR_READ},   {"fallocate", FL_IOERR_FALLOCATE},
    {"all", FL_IOERR_OPEN | FL_IOERR_WRITE | FL_IOERR_PWRITE | FL_IOERR_FSYNC | FL_IOERR_READ |
                FL_IOERR_FALLOCATE},
};

struct ioerr {
    struct fl_ioerr_ctl *ctl;
    char path[1024];
    char lib[1024];
    uint64_t seq;
    uint32_t calls;
    const char *tpl;   /* the prefix, a template (owned by the model) */
    int from_volume;   /* tpl is a volume's path: relative means to the cwd, not ${out} */
};

static int parse_calls(const struct fl_pval *v, uint32_t *out, struct fl_error *err)
{
    *out = 0;
    for (size_t i = 0; i < v->nlist; i++) {
        size_t k = 0;
        while (k < sizeof call_names / sizeof call_names[0] && strcmp(call_names[k].name, v->list[i]))
            k++;
        if (k == sizeof call_names / sizeof call_names[0])
            return fl_error_set(err, FL_EINVAL, "%s:%d:%d: disk.errors calls: expected open, "
                                "write, pwrite, fsync, fallocate, read or all; got '%s'",
                                v->pos.file, v->pos.line, v->pos.col, v->list[i]);
        *out |= call_names[k].bits;
    }
    if (!v->nlist)
        *out = FL_IOERR_WRITE | FL_IOERR_FSYNC;
    return 0;
}

/* LD_PRELOAD=LIB and the control block, for the instances of our service.
 * The target merges this LD_PRELOAD with faultline's, the service's and
 * other hooks' (libfaketime), so each library is loaded. */
static int env_hook(void *ud, const struct fl_instance *in, char **env, size_t max,
                    struct fl_error *err)
{
    struct fl_fault_run *fr = ud;
    struct ioerr *s = fr->state;
    if (!s || strcmp(in->service, fr->fault->args.v[P_SERVICE].s) != 0)
        return 0;
    if (max < 2)
        return fl_error_set(err, FL_ENOMEM, "no room for the I/O error library's variables");
    size_t n = 0;
    while (env[n])
        n++;
    struct fl_buf b;
    fl_buf_init(&b, 8192);
    if (fl_buf_addf(&b, "LD_PRELOAD=%s", s->lib)) {
        fl_buf_free(&b);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    env[n] = b.p;
    fl_buf_init(&b, 8192);
    if (fl_buf_addf(&b, "%s=%s", FL_IOERR_ENV, s->path)) {
        free(env[n]);
        env[n] = NULL;
        fl_buf_free(&b);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    env[n + 1] = b.p;
    env[n + 2] = NULL;
    return 2;
}

/* The control file: in the journal's (state) folder, else the output folder. */
static int ctl_path(struct fl_fault_run *fr, char *buf, size_t len)
{
    const char *j = fr->run->journal ? fl_journal_path(fr->run->journal) : NULL;
    const char *slash = j ? strrchr(j, '/') : NULL;
    int n;
    if (slash)
        n = snprintf(buf, len, "%.*s/%s.ioerr-%d", (int)(slash - j), j,
                     fr->run->run_tag ? fr->run->run_tag : "run", fr->index);
    else
        n = snprintf(buf, len, "%s/ioerr-%d.ctl", fr->run->outdir ? fr->run->outdir : ".",
                     fr->index);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The prefix: path (returns 0), or the volume's path template, expanded
 * later with the run's names (returns 1; a path that needs ${replica} or
 * ${port} cannot be used here); FL_EINVAL with err set. */
static int prefix_template(struct fl_fault_run *fr, const char **tpl, struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    const struct fl_pval *p = &a->v[P_PATH], *v = &a->v[P_VOLUME];
    const struct fl_pos *pos = &fr->fault->pos;
    if (p->set == v->set)
        return fl_error_set(err, FL_EINVAL, "%s:%d:%d: disk.errors: expected either path: "
                            "/some/dir or volume: NAME; got %s", pos->file, pos->line, pos->col,
                            p->set ? "both" : "neither");
    if (p->set) {
        *tpl = p->s;
        return 0;
    }
    const struct fl_service *svc = fl_scenario_service(fr->run->sc, a->v[P_SERVICE].s,
                                                       strlen(a->v[P_SERVICE].s));
    for (size_t i = 0; svc && i < svc->nvolumes; i++)
        if (strcmp(svc->volumes[i].name, v->s) == 0) {
            *tpl = svc->volumes[i].path;
            return 1;   /* a volume's path: relative to the working directory */
        }
    return fl_error_set(err, FL_EINVAL, "%s:%d:%d: disk.errors volume: service '%s' declares "
                        "no volume '%s'", v->pos.file, v->pos.line, v->pos.col,
                        a->v[P_SERVICE].s, v->s);
}

static int setup(struct fl_fault_run *fr, struct fl_error *err)
{
    const char *tpl = NULL;
    int rc = prefix_template(fr, &tpl, err);
    if (rc < 0)
        return rc;
    int from_volume = rc == 1;
    struct ioerr *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = s;
    s->tpl = tpl;
    s->from_volume = from_volume;
    rc = parse_calls(&fr->fault->args.v[P_CALLS], &s->calls, err);
    if (rc)
        return rc;
    snprintf(s->lib, sizeof s->lib, "%s/%s", fr->run->bindir ? fr->run->bindir : ".", IOERR_LIB);
    if (access(s->lib, R_OK) != 0)
        return fl_error_set(err, FL_EINVAL, "disk.errors needs %s (built with faultline: "
                            "cmake --build): %s", s->lib, strerror(errno));
    if (s->lib[0] != '/' || ctl_path(fr, s->path, sizeof s->path))
        return fl_error_set(err, FL_EINVAL, "disk.errors: paths must be absolute and short: %s",
                            s->lib);
    const char *kv[] = {"path", s->path, NULL};
    rc = fl_journal_undo(fr->run->journal, "ioerr.disarm", fr->fault->args.v[P_SERVICE].s, kv,
                         &s->seq, err);
    if (rc)
        return rc;
    rc = fl_ioerr_ctl_create(s->path, &s->ctl);
    if (rc)
        return fl_error_set(err, FL_ESYS, "cannot create %s: %s", s->path, strerror(-rc));
    struct fl_target *t = fr->run->target;
    rc = fl_target_op_check(t, "add_env_hook", t && t->type->add_env_hook != NULL, err);
    return rc ? rc : t->type->add_env_hook(t, env_hook, fr, err);
}

static void teardown(struct fl_fault_run *fr)
{
    struct ioerr *s = fr->state;
    if (!s)
        return;
    if (s->ctl) {
        fl_ioerr_ctl_disarm(s->ctl);
        fl_ioerr_ctl_close(s->ctl);
        s->ctl = NULL;
    }
    if (s->path[0] && (unlink(s->path) == 0 || errno == ENOENT))
        fl_journal_done(fr->run->journal, s->seq);
    free(s);
    fr->state = NULL;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct ioerr *s = fr->state;
    const struct fl_args *a = &fr->fault->args;
    if (!s || !s->ctl)
        return fl_error_set(err, FL_EINJECT, "disk.errors was not set up");
    struct fl_ioerr_ctl cfg;
    memset(&cfg, 0, sizeof cfg);
    struct fl_buf b;
    fl_buf_init(&b, sizeof cfg.prefix);
    int rc = fl_template_expand(s->tpl, fl_run_resolve, fr->run, &b, err);
    if (rc || !b.p || strlen(b.p) >= sizeof cfg.prefix) {
        fl_buf_free(&b);
        return rc ? rc : fl_error_set(err, FL_EINJECT, "disk.errors path: empty or too long");
    }
    char out[4096] = "";
    if (b.p[0] != '/' &&
        !realpath(s->from_volume ? "." : fr->run->outdir ? fr->run->outdir : ".", out)) {
        fl_buf_free(&b);
        return fl_error_set(err, FL_EINJECT, "disk.errors: cannot resolve the output folder");
    }
    int n = snprintf(cfg.prefix, sizeof cfg.prefix, "%s%s%s", out, out[0] ? "/" : "", b.p);
    fl_buf_free(&b);
    if (n < 0 || (size_t)n >= sizeof cfg.prefix)
        return fl_error_set(err, FL_EINJECT, "disk.errors path too long");
    cfg.err = errno_val[a->v[P_ERRNO].e];
    cfg.calls = s->calls;
    cfg.prob_ppm = (uint32_t)a->v[P_PROBABILITY].i * 10000u;
    cfg.delay_us = (uint32_t)(a->v[P_DELAY].ms * 1000);
    /* A fault that cannot reach the service must not pass for one that
     * found nothing wrong. */
    if (__atomic_load_n(&s->ctl->attached, __ATOMIC_RELAXED) == 0)
        return fl_error_set(err, FL_EINJECT, "no process of service %s loaded %s: it is "
                            "statically linked, setuid, or clears LD_PRELOAD", a->v[P_SERVICE].s,
                            s->lib);
    fl_ioerr_ctl_arm(s->ctl, &cfg);
    fl_inj_descf(fr, "%s under %s fail with %s (%lld%%) in service %s (library loaded by %u "
                 "process%s so far)",
                 a->v[P_CALLS].nlist ? "calls" : "write and fsync", cfg.prefix,
                 errnos[a->v[P_ERRNO].e], a->v[P_PROBABILITY].i, a->v[P_SERVICE].s,
                 s->ctl->attached, s->ctl->attached == 1 ? "" : "es");
    snprintf(fr->key, sizeof fr->key, "%s", a->v[P_SERVICE].s);
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    (void)err;
    struct ioerr *s = fr->state;
    if (!s || !s->ctl)
        return 0;
    uint64_t hits = s->ctl->hits;
    fl_ioerr_ctl_disarm(s->ctl);
    fr->desc[0] = '\0';
    fl_inj_descf(fr, "disarmed the I/O errors of %s after %llu failed call%s",
                 fr->fault->args.v[P_SERVICE].s, (unsigned long long)hits, hits == 1 ? "" : "s");
    return 0;
}

const struct fl_injector_type fl_injector_disk_errors = {
    .name = "disk.errors",
    .help = "make a service's file calls under a path fail with ENOSPC, EIO, EDQUOT or EROFS "
            "(an LD_PRELOAD library loaded at start, armed live for the fault's `for:`), with "
            "a probability and a delay; no root needed",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_ENV,
    .setup = setup,
    .teardown = teardown,
    .inject = inject,
    .revert = revert,
};
