/* volume.c - size-limited volumes of the local target's instances.
 *
 * Every instance of a service that declares `volumes:` gets, per volume, a
 * tmpfs of the declared size mounted by faultline (in its own mount
 * namespace) at OUT/volumes/INSTANCE/NAME: that is where faultline fills
 * it and measures it (${svc.N.volume.NAME}, fs_path). The exec shim then
 * gives the instance a private mount namespace in which the same tmpfs is
 * bound at the volume's `path` (FAULTLINE_VOLUMES, read by exec_shim.c),
 * so each replica sees its own volume at the same path and nothing else
 * on the machine is affected when it fills up.
 *
 * Every mount is journaled (undo kind "umount") before it is made; the
 * target unmounts at destroy, `faultline recover` after a crash. Mounting
 * needs root (CAP_SYS_ADMIN): without it the target refuses to start and
 * says what to use instead (disk.errors, which needs no privilege).
 */
#include "targets/local/local_int.h"
#include "base/util.h"
#include "core/journal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[FL_VOL_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int fl_local_volumes_needed(const struct local_target *lt)
{
    for (size_t i = 0; i < lt->nsvcs; i++)
        if (lt->svcs[i].svc->nvolumes)
            return 1;
    return 0;
}

/* Mount one volume of in: journal first, then mount. */
static int mount_one(struct local_inst *in, struct local_vol *lv, const char *base,
                     struct fl_error *err)
{
    struct local_target *lt = in->lt;
    if (snprintf(lv->host, sizeof lv->host, "%s/%s/%s", base, in->pub.id, lv->v->name) >=
        (int)sizeof lv->host)
        return fl_error_set(err, FL_EINVAL, "volume folder too long: %s", base);
    int rc = mkdir_p(lv->host, 0755);
    if (rc)
        return fl_error_set(err, FL_ESYS, "cannot create %s for volume '%s' of %s: %s",
                            lv->host, lv->v->name, in->pub.id, strerror(-rc));
    const char *kv[] = {"path", lv->host, NULL};
    rc = fl_journal_undo(lt->run->journal, "umount", in->pub.id, kv, &lv->seq, err);
    if (rc)
        return rc;
    char opts[64];
    snprintf(opts, sizeof opts, "size=%llu,mode=0777", (unsigned long long)lv->v->size);
    if (mount("faultline-volume", lv->host, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        int e = errno;
        fl_journal_done(lt->run->journal, lv->seq);
        lv->seq = 0;
        return fl_error_set(err, FL_ESYS, "cannot mount a %s tmpfs for volume '%s' of %s at "
                            "%s: %s", opts, lv->v->name, in->pub.id, lv->host, strerror(e));
    }
    lv->mounted = 1;
    return 0;
}

/* The instance's working directory, absolute: its expanded workdir (under
 * faultline's cwd when relative), else faultline's cwd. */
static int inst_cwd(struct local_inst *in, char *buf, size_t len, struct fl_error *err)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return fl_error_set(err, FL_ESYS, "getcwd: %s", strerror(errno));
    const char *wd = in->ls->svc->workdir;
    char *w = wd ? fl_local_expand(in, wd, err) : NULL;
    if (wd && !w)
        return FL_EINVAL;
    int n = !w ? snprintf(buf, len, "%s", cwd)
            : w[0] == '/' ? snprintf(buf, len, "%s", w) : snprintf(buf, len, "%s/%s", cwd, w);
    free(w);
    return n > 0 && (size_t)n < len ? 0 : fl_error_set(err, FL_EINVAL, "path too long");
}

int fl_local_volumes_create(struct local_target *lt, struct fl_error *err)
{
    if (!fl_local_volumes_needed(lt))
        return 0;
    const struct fl_service *svc = NULL;
    for (size_t i = 0; i < lt->nsvcs && !svc; i++)
        if (lt->svcs[i].svc->nvolumes)
            svc = lt->svcs[i].svc;
    if (geteuid() != 0)
        return fl_error_set(err, FL_EINVAL, "service '%s' declares volumes: a size-limited "
                            "volume is a tmpfs mounted in a private mount namespace, which "
                            "needs root (running as uid %d); run faultline as root, or drop "
                            "`volumes:` and inject write errors with the disk.errors fault "
                            "(an LD_PRELOAD library: ENOSPC/EIO without root)",
                            svc->name, (int)geteuid());
    if (!lt->run->self_exe)
        return fl_error_set(err, FL_EINVAL, "service '%s' declares volumes, which the exec "
                            "shim binds into the instance; this run has none (self_exe)",
                            svc->name);
    char out[PATH_MAX];
    if (!realpath(lt->run->outdir ? lt->run->outdir : ".", out))
        return fl_error_set(err, FL_ESYS, "cannot resolve the output folder: %s",
                            strerror(errno));
    char base[FL_VOL_PATH_MAX];
    if (snprintf(base, sizeof base, "%s/volumes", out) >= (int)sizeof base)
        return fl_error_set(err, FL_EINVAL, "output folder path too long: %s", out);
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        const struct fl_service *s = in->ls->svc;
        if (!s->nvolumes)
            continue;
        in->vols = calloc(s->nvolumes, sizeof *in->vols);
        if (!in->vols)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        in->nvols = s->nvolumes;
        for (size_t k = 0; k < s->nvolumes; k++)
            in->vols[k].v = &s->volumes[k];
        for (size_t k = 0; k < s->nvolumes; k++) {
            struct local_vol *lv = &in->vols[k];
            char *dst = fl_local_expand(in, lv->v->path, err);
            if (!dst)
                return err->code ? err->code : FL_EINVAL;
            /* A relative path is where the instance would find it: under
             * its working directory (${out} is relative with a relative
             * --out). */
            char base2[FL_VOL_PATH_MAX] = "";
            int bad = strchr(dst, '\t') || strchr(dst, '\n') ||
                      (dst[0] != '/' && inst_cwd(in, base2, sizeof base2, err) != 0);
            if (!bad && snprintf(lv->dst, sizeof lv->dst, "%s%s%s", base2, base2[0] ? "/" : "",
                                 dst) >= (int)sizeof lv->dst)
                bad = 1;
            free(dst);
            if (bad)
                return fl_error_set(err, FL_EINVAL, "volume '%s' of %s: path must be a path "
                                    "without tabs or newlines, like \"${out}/spool\"",
                                    lv->v->name, in->pub.id);
            int rc = mount_one(in, lv, base, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Remove dir and its parents up to (and including) OUT/volumes when empty. */
static void rmdir_up(char *dir, int levels)
{
    for (int i = 0; i < levels; i++) {
        if (rmdir(dir) != 0)
            return;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return;
        *slash = 0;
    }
}

int fl_local_volumes_release(struct local_target *lt)
{
    int failed = 0;
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        for (size_t k = 0; k < in->nvols; k++) {
            struct local_vol *lv = &in->vols[k];
            if (lv->mounted && umount2(lv->host, 0) != 0 && umount2(lv->host, MNT_DETACH) != 0 &&
                errno != EINVAL && errno != ENOENT) {
                failed++;
                fl_run_log(lt->run, 0, "cannot unmount volume %s: %s", lv->host,
                           strerror(errno));
                continue;
            }
            lv->mounted = 0;
            fl_journal_done(lt->run->journal, lv->seq);
            lv->seq = 0;
            if (lv->host[0]) {
                char d[FL_VOL_PATH_MAX];
                snprintf(d, sizeof d, "%s", lv->host);
                rmdir_up(d, 3);
            }
        }
        free(in->vols);
        in->vols = NULL;
        in->nvols = 0;
    }
    return failed ? FL_EIO : 0;
}

char *fl_local_volumes_env(const struct local_inst *in, struct fl_error *err)
{
    if (!in->nvols)
        return NULL;
    struct fl_buf b;
    fl_buf_init(&b, 64 * 1024);
    int rc = fl_buf_addf(&b, "%s=", FL_VOLUMES_ENV);
    for (size_t k = 0; k < in->nvols && !rc; k++)
        rc = fl_buf_addf(&b, "%s\t%s\n", in->vols[k].host, in->vols[k].dst);
    if (rc) {
        fl_buf_free(&b);
        fl_error_set(err, FL_ENOMEM, "out of memory");
        return NULL;
    }
    return b.p;
}

const struct local_vol *fl_local_volume(const struct local_inst *in, const char *name,
                                        size_t len)
{
    for (size_t k = 0; k < in->nvols; k++)
        if (strlen(in->vols[k].v->name) == len && memcmp(in->vols[k].v->name, name, len) == 0)
            return &in->vols[k];
    return NULL;
}

int fl_local_volume_map(const struct local_inst *in, const char *path, struct fl_buf *out)
{
    for (size_t k = 0; k < in->nvols; k++) {
        const struct local_vol *lv = &in->vols[k];
        size_t dl = strlen(lv->dst);
        while (dl > 1 && lv->dst[dl - 1] == '/')
            dl--;
        if (strncmp(path, lv->dst, dl) == 0 && (path[dl] == 0 || path[dl] == '/'))
            return fl_buf_addf(out, "%s%s", lv->host, path + dl) ? FL_ENOMEM : 1;
    }
    return 0;
}
