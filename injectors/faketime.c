/* faketime.c - see faketime.h. */
#include "injectors/faketime.h"
#include "base/proc.h"
#include "core/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIB_NAME "libfaketime.so.1"
#define CLOCK_FILES_MAX 100000     /* entries removed from a clock folder */

extern char **environ;

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define MULTIARCH "i386-linux-gnu"
#elif defined(__arm__)
#define MULTIARCH "arm-linux-gnueabihf"
#else
#define MULTIARCH ""
#endif

int fl_faketime_lib(char *buf, size_t len, struct fl_error *err)
{
    const char *env = getenv("FAULTLINE_LIBFAKETIME");
    if (env && env[0]) {
        if (access(env, R_OK) == 0) {
            snprintf(buf, len, "%s", env);
            return 0;
        }
        return fl_error_set(err, FL_ENOTFOUND, "FAULTLINE_LIBFAKETIME=%s: %s", env,
                            strerror(errno));
    }
    static const char *const dirs[] = {"/usr/lib/" MULTIARCH "/faketime", "/usr/lib/faketime",
                                       "/usr/lib64/faketime", "/usr/local/lib/faketime"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        int n = snprintf(buf, len, "%s/%s", dirs[i], LIB_NAME);
        if (n > 0 && (size_t)n < len && access(buf, R_OK) == 0)
            return 0;
    }
    return fl_error_set(err, FL_ENOTFOUND, "a service has `clock: controlled` but "
                        "libfaketime is not installed (looked for %s in /usr/lib/%s/faketime, "
                        "/usr/lib/faketime, /usr/lib64/faketime, /usr/local/lib/faketime): "
                        "install it (Debian: apt-get install libfaketime) or point "
                        "FAULTLINE_LIBFAKETIME at it", LIB_NAME, MULTIARCH);
}

/* The run's state folder: where its journal is, else (unit tests only:
 * a run with a controlled clock needs a journal) its output folder. */
/* The clock folder lives under $TMPDIR (else /tmp), not in the state
 * folder: a service that drops privileges (nginx's workers run as nobody)
 * must reach its file, so every ancestor must be searchable by others,
 * and the state folder is 0700 (journals) and may sit anywhere
 * (--state-dir under a 0700 home). /tmp is searchable by all; the folder
 * itself is 0711 (files reachable by name, not listable). */
int fl_faketime_dir(const struct fl_run *run, char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > 2048)
        tmp = "/tmp";
    int n = snprintf(buf, len, "%s/faultline-%s" FL_FAKETIME_DIR_SUFFIX, tmp,
                     run->run_tag ? run->run_tag : "run");
    return n > 0 && (size_t)n < len ? 0 : FL_EINVAL;
}

int fl_faketime_path(const struct fl_run *run, const char *id, char *buf, size_t len)
{
    char dir[3584];
    if (fl_faketime_dir(run, dir, sizeof dir))
        return FL_EINVAL;
    int n = snprintf(buf, len, "%s/%s.clock", dir, id);
    return n > 0 && (size_t)n < len ? 0 : FL_EINVAL;
}

int fl_faketime_parse(const char *text, int64_t *ms)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (!*text || *text == '\n') {
        *ms = 0;
        return 0;
    }
    int neg = *text == '-';
    if (*text != '+' && *text != '-')
        return FL_EINVAL;
    text++;
    int64_t sec = 0, frac = 0;
    int digits = 0, fd = 0;
    for (; *text >= '0' && *text <= '9' && digits < 15; text++, digits++)
        sec = sec * 10 + (*text - '0');
    if (!digits)
        return FL_EINVAL;
    if (*text == '.') {
        for (text++; *text >= '0' && *text <= '9'; text++, fd++)
            if (fd < 3)
                frac = frac * 10 + (*text - '0');
        for (int k = fd; k < 3; k++)
            frac *= 10;
    }
    while (*text == ' ' || *text == '\n' || *text == '\r')
        text++;
    if (*text)
        return FL_EINVAL;
    *ms = (neg ? -1 : 1) * (sec * 1000 + frac);
    return 0;
}

void fl_faketime_format(int64_t ms, char *buf, size_t len)
{
    uint64_t a = ms < 0 ? (uint64_t)(-(ms + 1)) + 1 : (uint64_t)ms;
    snprintf(buf, len, "%c%" PRIu64 ".%03" PRIu64, ms < 0 ? '-' : '+', a / 1000, a % 1000);
}

/* Replace path's content with text atomically (a rename), so libfaketime
 * never reads a half-written offset. The temporary file is made new
 * (O_EXCL, O_NOFOLLOW after removing a leftover): a symlink planted at
 * its name cannot redirect the write. 0 or -errno. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -ENAMETOOLONG;
    if (unlink(tmp) && errno != ENOENT)
        return -errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    /* readable by all, whatever the umask: a service that drops privileges
     * (nginx's workers run as nobody) must still read its offset */
    int rc = fchmod(fd, 0644) ? -errno : 0;
    if (!rc)
        rc = write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
    if (close(fd) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

static int read_offset(const char *path, int64_t *ms)
{
    char text[64] = "";
    FILE *f = fopen(path, "re");
    if (!f) {
        *ms = 0;
        return errno == ENOENT ? 0 : -errno;
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return fl_faketime_parse(text, ms) ? -EINVAL : 0;
}

int fl_faketime_shift(struct fl_run *run, const struct fl_instance *in, int64_t delta_ms,
                      int64_t *now_ms, struct fl_error *err)
{
    char path[4096], text[48];
    int64_t cur;
    if (fl_faketime_path(run, in->id, path, sizeof path))
        return fl_error_set(err, FL_EIO, "clock file path of %s too long", in->id);
    int rc = read_offset(path, &cur);
    if (rc)
        return fl_error_set(err, FL_EIO, "cannot read the clock file %s: %s", path,
                            strerror(-rc));
    fl_faketime_format(cur + delta_ms, text, sizeof text);
    rc = write_atomic(path, text);
    if (rc)
        return fl_error_set(err, FL_EIO, "cannot write the clock file %s: %s", path,
                            strerror(-rc));
    if (now_ms)
        *now_ms = cur + delta_ms;
    return 0;
}

int fl_faketime_reset_file(const char *path)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) < sizeof tmp)
        unlink(tmp);              /* left by a crash between create and rename */
    if (access(path, F_OK) != 0)
        return 1;
    int rc = write_atomic(path, "+0\n");
    if (unlink(path) && !rc && errno != ENOENT)
        rc = -errno;
    return rc;
}

int fl_faketime_remove_dir(const char *path)
{
    size_t n = strlen(path), sl = strlen(FL_FAKETIME_DIR_SUFFIX);
    if (n <= sl || strcmp(path + n - sl, FL_FAKETIME_DIR_SUFFIX) != 0)
        return -EINVAL;           /* not one of ours: never emptied */
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 1 : -errno;
    int rc = 0;
    struct dirent *e;
    for (int i = 0; i < CLOCK_FILES_MAX && (e = readdir(d)); i++) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT && !rc)
            rc = -errno;
    }
    closedir(d);
    if (rmdir(path) && errno != ENOENT && !rc)
        rc = -errno;
    return rc;
}

static int maps_have_faketime(int pid)
{
    char p[64], line[1024];
    snprintf(p, sizeof p, "/proc/%d/maps", pid);
    FILE *f = fopen(p, "re");
    if (!f)
        return -errno;
    int found = 0;
    for (int i = 0; i < 100000 && !found && fgets(line, sizeof line, f); i++)
        found = strstr(line, "/libfaketime") != NULL;
    fclose(f);
    return found;
}

int fl_faketime_loaded(int pid)
{
    int found = maps_have_faketime(pid);
    if (found != 0)
        return found;
    /* With the subreaper containment pid is the instance's mini-init (the
     * exec shim), which keeps LD_PRELOAD for the command and does not
     * load it itself: look at the processes below it. */
    int kids[64];
    int n = fl_proc_descendants(pid, kids, 64);
    for (int i = 0; i < n && found <= 0; i++)
        found = maps_have_faketime(kids[i]) > 0;
    return found;
}

static const struct fl_service *service_of(const struct fl_run *run, const char *name)
{
    return fl_scenario_service(run->sc, name, strlen(name));
}

/* Adds "NAME=VALUE" at env[*k]; 0 or FL_ENOMEM. */
static int add_var(char **env, size_t *k, size_t max, const char *name, const char *value)
{
    if (*k >= max)
        return FL_ENOMEM;
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (!s)
        return FL_ENOMEM;
    snprintf(s, n, "%s=%s", name, value);
    env[(*k)++] = s;
    return 0;
}

static int env_hook(void *ud, const struct fl_instance *in, char **env, size_t max,
                    struct fl_error *err)
{
    struct fl_run *run = ud;
    const struct fl_service *svc = service_of(run, in->service);
    if (!svc || svc->clock == FL_CLOCK_REAL)
        return 0;
    for (size_t i = 0; i < svc->nenv; i++)
        if (strcmp(svc->env[i].key, "FAKETIME") == 0 || strcmp(svc->env[i].key, "LD_PRELOAD") == 0)
            return fl_error_set(err, FL_EINVAL, "%s:%d:%d: service '%s' sets %s in its env and "
                                "has a controlled clock: %s", svc->env[i].pos.file,
                                svc->env[i].pos.line, svc->env[i].pos.col, svc->name,
                                svc->env[i].key, svc->env[i].key[0] == 'F'
                                ? "FAKETIME overrides the timestamp file faultline rewrites; "
                                  "remove it" : "faultline preloads libfaketime itself; remove it");
    char lib[1024], path[4096], pre[2048];
    int rc = fl_faketime_lib(lib, sizeof lib, err);
    if (rc)
        return rc;
    if (fl_faketime_path(run, in->id, path, sizeof path))
        return fl_error_set(err, FL_EINVAL, "clock file path of %s too long", in->id);
    if (access(path, F_OK) != 0) {
        /* written down before it exists: recover resets and deletes it */
        const char *kv[] = {"path", path, NULL};
        rc = fl_journal_undo(run->journal, FL_FAKETIME_UNDO, in->id, kv, NULL, err);
        if (rc)
            return rc;
        rc = write_atomic(path, "+0\n");
        if (rc)
            return fl_error_set(err, FL_EIO, "cannot create the clock file %s: %s", path,
                                strerror(-rc));
    }
    const char *old = getenv("LD_PRELOAD");
    snprintf(pre, sizeof pre, "%s%s%s", lib, old && old[0] ? ":" : "", old ? old : "");
    size_t k = 0;
    rc = add_var(env, &k, max, "LD_PRELOAD", pre);
    if (!rc)
        rc = add_var(env, &k, max, "FAKETIME_TIMESTAMP_FILE", path);
    if (!rc)
        rc = add_var(env, &k, max, "FAKETIME_NO_CACHE", "1");
    if (!rc)
        rc = add_var(env, &k, max, "FAKETIME_DISABLE_SHM", "1");
    if (!rc && svc->clock == FL_CLOCK_CONTROLLED_WALL)
        rc = add_var(env, &k, max, "FAKETIME_DONT_FAKE_MONOTONIC", "1");
    if (rc) {
        while (k > 0) {
            free(env[--k]);
            env[k] = NULL;
        }
        return fl_error_set(err, FL_ENOMEM, "no room for the libfaketime variables of %s",
                            in->id);
    }
    return (int)k;
}

/* Programs known not to survive libfaketime (measured on Debian 12:
 * redis-server spins in "unexpected recursive calls to clock_gettime()"
 * at start, jemalloc calling the clock from inside the library's own
 * initialisation; FAKETIME_DONT_FAKE_MONOTONIC does not help). */
static const char *const known_bad[] = {"redis-server", "redis-sentinel", "redis-check-aof",
                                        "redis-check-rdb"};

static int refuse_known_bad(const struct fl_service *svc, struct fl_error *err)
{
    const char *cmd = svc->ncommand ? svc->command[0] : "";
    const char *base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
    for (size_t i = 0; i < sizeof known_bad / sizeof known_bad[0]; i++)
        if (strcmp(base, known_bad[i]) == 0)
            return fl_error_set(err, FL_EINVAL, "%s:%d:%d: service '%s' runs %s with a "
                                "controlled clock, and %s hangs at start under libfaketime "
                                "(recursive clock_gettime from its allocator); control the "
                                "clocks of the application services instead",
                                svc->clock_pos.file, svc->clock_pos.line, svc->clock_pos.col,
                                svc->name, base, base);
    return 0;
}

/* The first FAKETIME* variable of faultline's environment ("NAME=value"),
 * or NULL. */
static const char *inherited_faketime(void)
{
    for (size_t i = 0; environ && environ[i] && i < 100000; i++)
        if (strncmp(environ[i], "FAKETIME", 8) == 0)
            return environ[i];
    return NULL;
}

/* The run's clock folder, $TMPDIR/faultline-<tag>.clocks (fl_faketime_dir),
 * journaled before it is made (recover empties and removes it). It is
 * 0711: a service that drops privileges (nginx workers as nobody:
 * measured, they silently stayed on real time) must reach its file, and
 * nobody can list the folder. A folder of that name that is not ours (made
 * in /tmp by someone else first) is refused, never used. 0 or FL_E* with
 * err set. */
static int make_clock_dir(struct fl_run *run, struct fl_error *err)
{
    char dir[3584];
    if (fl_faketime_dir(run, dir, sizeof dir))
        return fl_error_set(err, FL_EINVAL, "clock folder path too long");
    const char *kv[] = {"path", dir, NULL};
    int rc = fl_journal_undo(run->journal, FL_FAKETIME_DIR_UNDO, run->run_tag ? run->run_tag
                             : "run", kv, NULL, err);
    if (rc)
        return rc;
    struct stat sb;
    if (mkdir(dir, 0700) && errno != EEXIST)
        return fl_error_set(err, FL_EIO, "cannot make the clock folder %s: %s", dir,
                            strerror(errno));
    if (lstat(dir, &sb) || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
        return fl_error_set(err, FL_EIO, "the clock folder %s is not a folder of ours", dir);
    if (chmod(dir, 0711))
        return fl_error_set(err, FL_EIO, "cannot let services reach their clock files in %s: "
                            "%s", dir, strerror(errno));
    return 0;
}

int fl_faketime_attach(struct fl_run *run, struct fl_error *err)
{
    const struct fl_service *first = NULL;
    for (size_t i = 0; i < run->sc->nservices; i++) {
        const struct fl_service *svc = &run->sc->services[i];
        if (svc->clock == FL_CLOCK_REAL)
            continue;
        int rc = refuse_known_bad(svc, err);
        if (rc)
            return rc;
        if (!first)
            first = svc;
    }
    if (!first)
        return 0;
    if (!run->journal)
        return fl_error_set(err, FL_EINVAL, "%s:%d:%d: service '%s' has a controlled clock, "
                            "but this run keeps no journal: a faked clock could outlive a "
                            "crash (give the run a state folder)", first->clock_pos.file,
                            first->clock_pos.line, first->clock_pos.col, first->name);
    const char *var = inherited_faketime();
    if (var)
        return fl_error_set(err, FL_EINVAL, "%.*s is set in faultline's environment: the "
                            "services with a controlled clock (such as '%s') would inherit it "
                            "and libfaketime would not follow the timestamp file faultline "
                            "rewrites as it should; unset every FAKETIME* variable",
                            (int)strcspn(var, "="), var, first->name);
    char lib[1024];
    int rc = fl_faketime_lib(lib, sizeof lib, err);
    if (rc)
        return rc;
    rc = make_clock_dir(run, err);
    if (rc)
        return rc;
    struct fl_target *t = run->target;
    if (!t->type->add_env_hook || !(t->type->ops & FL_TOP_ENV))
        return fl_error_set(err, FL_EINVAL, "%s:%d:%d: service '%s' has a controlled clock, "
                            "but target '%s' cannot set the environment of its processes",
                            first->clock_pos.file, first->clock_pos.line, first->clock_pos.col,
                            first->name, t->type->name);
    return t->type->add_env_hook(t, env_hook, run, err);
}

int fl_faketime_check_service(const struct fl_fault_run *fr, const char *service,
                              struct fl_error *err)
{
    const struct fl_service *svc = service_of(fr->run, service);
    if (svc && svc->clock != FL_CLOCK_REAL)
        return 0;
    return fl_error_set(err, FL_EINVAL, "%s:%d:%d: %s acts on the clock of service '%s', which "
                        "is not controlled: add `clock: controlled` to the service",
                        fr->fault->pos.file, fr->fault->pos.line, fr->fault->pos.col,
                        fr->fault->type->name, service);
}
