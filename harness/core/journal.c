/* journal.c - see journal.h. */
#include "core/journal.h"
#include "base/proc.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_LINE_MAX 8192
#define JOURNAL_UNDO_MAX 100000    /* records read back, at most */

struct fl_journal {
    int fd;
    uint64_t seq;
    char path[1024];
    char cause[256];
};

void fl_state_dir_default(char *buf, size_t len)
{
    const char *env = getenv("FAULTLINE_STATE_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && env[0])
        snprintf(buf, len, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, len, "/run/faultline");
    else if (xdg && xdg[0] == '/')
        snprintf(buf, len, "%s/faultline", xdg);
    else
        snprintf(buf, len, "/tmp/faultline-%u", (unsigned)geteuid());
}

static int mkdir_parents(const char *dir)
{
    char buf[1024];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, dir, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

/* Append one JSON object as a line and make it durable. */
static int append(struct fl_journal *j, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s)
        return FL_ENOMEM;
    size_t len = strlen(s);
    int rc = 0;
    if (len + 1 > JOURNAL_LINE_MAX) {
        rc = FL_ENOMEM;
    } else {
        s[len] = '\n';   /* json_dumps left room: the NUL */
        size_t off = 0;
        while (off < len + 1) {
            ssize_t w = write(j->fd, s + off, len + 1 - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = FL_EIO;
                break;
            }
            off += (size_t)w;
        }
        if (rc == 0 && fdatasync(j->fd) != 0)
            rc = FL_EIO;
    }
    free(s);
    return rc;
}

static json_t *kv_object(const char *const *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; o && kv && kv[i] && kv[i + 1]; i += 2)
        json_object_set_new(o, kv[i], json_string(kv[i + 1]));
    return o;
}

int fl_journal_open(struct fl_journal **out, const char *dir, const char *tag,
                    const char *what, struct fl_error *err)
{
    int rc = mkdir_parents(dir);
    if (rc)
        return fl_error_set(err, FL_EIO, "cannot create the state folder %s: %s", dir,
                            strerror(-rc));
    struct fl_journal *j = calloc(1, sizeof *j);
    if (!j)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int n = snprintf(j->path, sizeof j->path, "%s/%s%s", dir, tag, FL_JOURNAL_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof j->path) {
        free(j);
        return fl_error_set(err, FL_EIO, "state folder path too long: %s", dir);
    }
    /* Created under a name recover ignores, locked, then renamed: a
     * concurrent recover never sees it unlocked. */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.new", j->path);
    j->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (j->fd < 0 || flock(j->fd, LOCK_EX | LOCK_NB) != 0 || rename(tmp, j->path) != 0) {
        rc = fl_error_set(err, FL_EIO, "cannot create the journal %s: %s", j->path,
                          strerror(errno));
        if (j->fd >= 0) {
            close(j->fd);
            unlink(tmp);
        }
        free(j);
        return rc;
    }
    uint64_t start = 0;
    fl_proc_start_time((int)getpid(), &start);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s}", "t", "run", "tag", tag, "pid",
                          (int)getpid(), "start", (json_int_t)start, "time", when, "what",
                          what ? what : "");
    if (!o || append(j, o)) {
        rc = fl_error_set(err, FL_EIO, "cannot write the journal %s: %s", j->path,
                          strerror(errno));
        close(j->fd);
        unlink(j->path);
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

const char *fl_journal_path(const struct fl_journal *j)
{
    return j ? j->path : "";
}

void fl_journal_set_cause(struct fl_journal *j, const char *cause)
{
    if (j)
        snprintf(j->cause, sizeof j->cause, "%s", cause ? cause : "");
}

int fl_journal_undo(struct fl_journal *j, const char *kind, const char *subject,
                    const char *const *kv, uint64_t *seq, struct fl_error *err)
{
    if (seq)
        *seq = 0;
    if (!j)
        return 0;
    uint64_t s = ++j->seq;
    json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "t", "undo", "seq", (json_int_t)s, "kind",
                          kind, "subject", subject ? subject : "");
    if (o && j->cause[0])
        json_object_set_new(o, "cause", json_string(j->cause));
    if (o)
        json_object_set_new(o, "args", kv_object(kv));
    int rc = o ? append(j, o) : FL_ENOMEM;
    if (rc)
        return fl_error_set(err, FL_EIO, "cannot journal the undo of %s %s in %s: %s", kind,
                            subject ? subject : "", j->path, strerror(errno));
    if (seq)
        *seq = s;
    return 0;
}

int fl_journal_done(struct fl_journal *j, uint64_t seq)
{
    if (!j || seq == 0)
        return 0;
    json_t *o = json_pack("{s:s, s:I}", "t", "done", "seq", (json_int_t)seq);
    return o ? append(j, o) : FL_ENOMEM;
}

int fl_journal_note(struct fl_journal *j, const char *what, const char *const *kv)
{
    if (!j)
        return 0;
    json_t *o = json_pack("{s:s, s:s}", "t", "note", "what", what);
    if (o && kv)
        json_object_set_new(o, "args", kv_object(kv));
    return o ? append(j, o) : FL_ENOMEM;
}

void fl_journal_close(struct fl_journal *j, int remove)
{
    if (!j)
        return;
    if (remove)
        unlink(j->path);
    close(j->fd);   /* releases the lock */
    free(j);
}

/* ---- reading ---------------------------------------------------------- */

const char *fl_journal_arg(const struct fl_journal_undo *u, const char *key)
{
    for (size_t i = 0; i + 1 < u->nargs; i += 2)
        if (strcmp(u->args[i], key) == 0)
            return u->args[i + 1];
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int add_undo(struct fl_journal_file *f, json_t *o, size_t *cap)
{
    if (f->nundo >= JOURNAL_UNDO_MAX)
        return FL_ENOMEM;
    if (f->nundo == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct fl_journal_undo *u = realloc(f->undo, nc * sizeof *u);
        if (!u)
            return FL_ENOMEM;
        f->undo = u;
        *cap = nc;
    }
    struct fl_journal_undo *u = &f->undo[f->nundo];
    memset(u, 0, sizeof *u);
    u->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    snprintf(u->kind, sizeof u->kind, "%s", str(o, "kind"));
    snprintf(u->subject, sizeof u->subject, "%s", str(o, "subject"));
    snprintf(u->cause, sizeof u->cause, "%s", str(o, "cause"));
    json_t *args = json_object_get(o, "args");
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v) {
        if (u->nargs + 2 > sizeof u->args / sizeof u->args[0] || !json_is_string(v))
            continue;
        u->args[u->nargs] = fl_strdup(k);
        u->args[u->nargs + 1] = fl_strdup(json_string_value(v));
        if (!u->args[u->nargs] || !u->args[u->nargs + 1]) {
            free(u->args[u->nargs]);
            free(u->args[u->nargs + 1]);
            return FL_ENOMEM;
        }
        u->nargs += 2;
    }
    f->nundo++;
    return 0;
}

int fl_journal_read(const char *path, struct fl_journal_file *out, struct fl_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return fl_error_set(err, FL_EIO, "cannot read %s: %s", path, strerror(errno));
    char *line = malloc(JOURNAL_LINE_MAX);
    if (!line) {
        fclose(fp);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, JOURNAL_LINE_MAX, fp)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            /* Torn (the writer died mid-line) or too long: skip it and the
             * rest of an over-long line. */
            out->bad_lines++;
            int ch;
            while (len && line[len - 1] != '\n' && (ch = fgetc(fp)) != EOF && ch != '\n')
                ;
            continue;
        }
        json_error_t je;
        json_t *o = json_loadb(line, len, 0, &je);
        if (!json_is_object(o)) {
            out->bad_lines++;
            json_decref(o);
            continue;
        }
        const char *t = str(o, "t");
        if (strcmp(t, "run") == 0) {
            snprintf(out->tag, sizeof out->tag, "%s", str(o, "tag"));
            snprintf(out->what, sizeof out->what, "%s", str(o, "what"));
            snprintf(out->started, sizeof out->started, "%s", str(o, "time"));
            out->pid = (int)json_integer_value(json_object_get(o, "pid"));
            out->start = (uint64_t)json_integer_value(json_object_get(o, "start"));
        } else if (strcmp(t, "undo") == 0) {
            rc = add_undo(out, o, &cap);
        } else if (strcmp(t, "done") == 0) {
            uint64_t seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
            for (size_t i = 0; i < out->nundo; i++)
                if (out->undo[i].seq == seq)
                    out->undo[i].done = 1;
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    if (rc) {
        fl_journal_file_free(out);
        return fl_error_set(err, rc, "%s: too many records or out of memory", path);
    }
    return 0;
}

void fl_journal_file_free(struct fl_journal_file *f)
{
    for (size_t i = 0; i < f->nundo; i++)
        for (size_t k = 0; k < f->undo[i].nargs; k++)
            free(f->undo[i].args[k]);
    free(f->undo);
    f->undo = NULL;
    f->nundo = 0;
}

int fl_journal_try_lock(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
    }
    return fd;
}
