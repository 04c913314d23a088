/* disk_full.c - fill a service's volume so its writes fail with ENOSPC
 * (the nightly job that filled its disk), to a percentage, or leaving N
 * bytes free. Heal removes the fill file.
 *
 * The volume is the instance's tmpfs (`volumes:` of the service, local
 * target): faultline reaches it at ${svc.N.volume.NAME}. Each fill file is
 * journaled (undo kind "unlink") before it is created, so a crashed run's
 * fill is removed by `faultline recover`. The machinery is base/fill.c. */
#include "injectors/common.h"
#include "base/fill.h"
#include "base/size.h"
#include "core/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { P_SERVICE, P_VOLUME, P_PICK, P_PERCENT, P_FREE };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose volume is filled"},
    [P_VOLUME] = {"volume", FL_PT_STRING, 1, NULL, "name of the volume (the service's `volumes:`)", .lo = 1, .hi = 64},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "all", "which instances' volumes: one, all, N or P%, drawn from the seed"},
    [P_PERCENT] = {"percent", FL_PT_INT, 0, "100", "fill until this share of the volume is used; 100 fills until writes fail with ENOSPC", .lo = 1, .hi = 100},
    [P_FREE] = {"free", FL_PT_STRING, 0, NULL, "instead of percent: leave exactly this many bytes free, like 64k or 1m", .lo = 1, .hi = 32},
};

struct fill {
    size_t n;
    char path[FL_MAX_PICK][1100];
    uint64_t seq[FL_MAX_PICK];
};

static int setup(struct fl_fault_run *fr, struct fl_error *err)
{
    const struct fl_pval *v = &fr->fault->args.v[P_FREE];
    uint64_t b;
    if (v->set && fl_parse_size(v->s, &b))
        return fl_error_set(err, FL_EINVAL, "%s:%d:%d: disk.full free: expected a size like "
                            "64k or 1m; got '%s'", v->pos.file, v->pos.line, v->pos.col, v->s);
    return 0;
}

/* Fill the volume of one instance; the path is journaled first. */
static int fill_one(struct fl_fault_run *fr, struct fill *f, struct fl_instance *in,
                    struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    char name[256];
    snprintf(name, sizeof name, "%s.volume.%s", in->id, a->v[P_VOLUME].s);
    struct fl_buf dir;
    fl_buf_init(&dir, 1024);
    int rc = fl_run_resolve(fr->run, name, strlen(name), &dir, err);
    if (rc || !dir.p) {
        fl_buf_free(&dir);
        return fl_error_set(err, FL_EINJECT, "%s has no volume '%s' (declare it under the "
                            "service's volumes:)", in->id, a->v[P_VOLUME].s);
    }
    char *path = f->path[f->n];
    snprintf(path, sizeof f->path[0], "%s/.faultline-fill-%d", dir.p, fr->index);
    struct fl_fs_usage u;
    rc = fl_fs_usage(dir.p, &u);
    fl_buf_free(&dir);
    if (rc)
        return fl_error_set(err, FL_EINJECT, "volume of %s: %s", in->id, strerror(-rc));
    uint64_t leave = UINT64_MAX;
    if (a->v[P_FREE].set)
        fl_parse_size(a->v[P_FREE].s, &leave);
    int percent = (int)a->v[P_PERCENT].i;
    uint64_t want = fl_fill_amount(&u, percent, leave);
    int to_enospc = leave == UINT64_MAX && percent >= 100;
    const char *kv[] = {"path", path, NULL};
    rc = fl_journal_undo(fr->run->journal, "unlink", in->id, kv, &f->seq[f->n], err);
    if (rc)
        return rc;
    f->n++;
    uint64_t wrote;
    rc = fl_fill_file(path, want, to_enospc, u.total, &wrote);
    if (rc)
        return fl_error_set(err, FL_EINJECT, "filling %s: %s", path, strerror(-rc));
    struct fl_fs_usage after;
    fl_fs_usage(path, &after);
    fl_inj_add_key(fr, in);
    char w[32], fr_[32];
    fl_format_size(wrote, w, sizeof w);
    fl_format_size(after.free, fr_, sizeof fr_);
    fl_inj_descf(fr, "%s%s volume %s: wrote %s (%llu bytes), %s free", f->n > 1 ? ", " : "",
                 in->id, a->v[P_VOLUME].s, w, (unsigned long long)wrote, fr_);
    return 0;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fill *f = calloc(1, sizeof *f);
    if (!f)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = f;
    struct fl_instance *in[FL_MAX_PICK];
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, NULL, in, err);
    if (n == 0)
        return FL_EINJECT;
    for (size_t i = 0; i < n; i++) {
        int rc = fill_one(fr, f, in[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fill *f = fr->state;
    if (!f)
        return 0;
    int rc = 0;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < f->n; i++) {
        if (unlink(f->path[i]) != 0 && errno != ENOENT) {
            if (!rc)
                rc = fl_error_set(err, FL_EINJECT, "cannot remove %s: %s", f->path[i],
                                  strerror(errno));
            continue;
        }
        fl_journal_done(fr->run->journal, f->seq[i]);
        f->seq[i] = 0;
        fl_inj_descf(fr, "%sremoved %s", i ? ", " : "", f->path[i]);
    }
    if (rc == 0) {
        free(f);
        fr->state = NULL;
    }
    return rc;
}

const struct fl_injector_type fl_injector_disk_full = {
    .name = "disk.full",
    .help = "fill a volume of picked instances (the service's `volumes:`, a size-limited tmpfs "
            "only that instance sees) until writes fail with ENOSPC, to a percentage, or "
            "leaving N bytes free; heal removes the fill file",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_FS,
    .setup = setup,
    .inject = inject,
    .revert = revert,
};
