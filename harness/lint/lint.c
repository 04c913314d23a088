/* lint.c - the lint's bookkeeping: files, references and their rules,
 * --allow exemptions, variable substitution, and walking folders. The
 * readers (lint_yaml.c, lint_dockerfile.c) only find references. */
#include "lint/lint.h"
#include "lint/imageref.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/util.h"

#define FILE_MAX_BYTES (16u * 1024 * 1024)  /* a manifest bigger than this is not one */
#define WALK_DEPTH_MAX 16
#define WALK_FILES_MAX 20000
#define REF_MAX 4096                        /* characters of one reference */

static const char *const rule_names[] = {
    [FL_LINT_PINNED] = "pinned",
    [FL_LINT_NO_TAG] = "no-tag",
    [FL_LINT_LATEST] = "latest",
    [FL_LINT_MUTABLE_TAG] = "mutable-tag",
    [FL_LINT_UNRESOLVED] = "unresolved",
    [FL_LINT_INVALID] = "invalid",
};

const char *fl_lint_rule_name(enum fl_lint_rule r)
{
    return (unsigned)r < sizeof rule_names / sizeof rule_names[0] ? rule_names[r] : "?";
}

static const char *const kind_names[] = {
    [FL_LINT_YAML] = "yaml",
    [FL_LINT_COMPOSE] = "compose",
    [FL_LINT_K8S] = "kubernetes",
    [FL_LINT_HELM] = "helm",
    [FL_LINT_DOCKERFILE] = "dockerfile",
};

const char *fl_lint_kind_name(enum fl_lint_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *np = realloc(*p, nc * size);
    if (!np)
        return FL_ENOMEM;
    *p = np;
    *cap = nc;
    return 0;
}

static const char *allowed(const struct fl_lint *l, const char *ref, const char *normal)
{
    for (size_t i = 0; i < l->nallow; i++)
        if (fnmatch(l->allow[i], ref, 0) == 0 || (normal && fnmatch(l->allow[i], normal, 0) == 0))
            return l->allow[i];
    return NULL;
}

static enum fl_lint_rule classify(const char *ref, const char **why, char *normal, size_t nlen)
{
    struct fl_imageref r;
    normal[0] = '\0';
    if (fl_imageref_parse(ref, strlen(ref), &r, why))
        return FL_LINT_INVALID;
    fl_imageref_normalize(&r, normal, nlen);
    if (r.digest)
        return FL_LINT_PINNED;
    if (!r.tag)
        return FL_LINT_NO_TAG;
    if (r.tag_len == 6 && memcmp(r.tag, "latest", 6) == 0)
        return FL_LINT_LATEST;
    return FL_LINT_MUTABLE_TAG;
}

#define FL_STR_(x) #x
#define FL_STR(x) FL_STR_(x)
#define SHOWN_MAX 80                        /* characters of a too-long reference kept */

/* A copy of s for the report: cut to SHOWN_MAX characters and "..." when
 * longer than REF_MAX (a 300k-character reference would drown the
 * output). Returns NULL when out of memory. */
static char *shown(const char *s)
{
    if (strlen(s) <= REF_MAX)
        return fl_strdup(s);
    char *c = malloc(SHOWN_MAX + 4);
    if (c) {
        memcpy(c, s, SHOWN_MAX);
        memcpy(c + SHOWN_MAX, "...", 4);
    }
    return c;
}

int fl_lint_add(struct fl_lint *l, size_t file, int line, int col, const char *written,
                const char *value, int unresolved, const char *where, const char *source,
                const char *detail)
{
    if (grow((void **)&l->refs, &l->cap_refs, l->nrefs, sizeof *l->refs))
        return l->nomem = 1, FL_ENOMEM;
    struct fl_lint_ref *r = &l->refs[l->nrefs];
    memset(r, 0, sizeof *r);
    r->file = file;
    r->line = line;
    r->col = col;
    const char *ref = value ? value : written;
    const char *why = NULL;
    char normal[REF_MAX + 64];
    normal[0] = '\0';
    int too_long = strlen(ref) > REF_MAX;
    if (too_long) {
        /* no registry takes it; keep only its start in the report */
        r->rule = FL_LINT_INVALID;
        why = "longer than " FL_STR(REF_MAX) " bytes";
    } else if (unresolved) {
        r->rule = FL_LINT_UNRESOLVED;
    } else {
        r->rule = classify(ref, &why, normal, sizeof normal);
    }
    r->ref = shown(ref);
    /* a too-long value was cut: compare what was kept */
    int changed = value && (too_long ? strncmp(value, written, REF_MAX + 1) != 0
                                     : strcmp(value, written) != 0);
    r->written = changed ? shown(written) : NULL;
    r->where = where ? fl_strdup(where) : NULL;
    r->source = source ? fl_strdup(source) : NULL;
    const char *d = detail ? detail : why;
    r->detail = d ? fl_strdup(d) : NULL;
    if (!r->ref || (changed && !r->written) || (where && !r->where) ||
        (source && !r->source) || (d && !r->detail)) {
        free(r->ref);
        free(r->written);
        free(r->where);
        free(r->source);
        free(r->detail);
        return l->nomem = 1, FL_ENOMEM;
    }
    if (r->rule != FL_LINT_PINNED)
        r->allowed_by = allowed(l, r->ref, normal[0] ? normal : NULL);
    l->nrefs++;
    l->files[file].n++;
    return 0;
}

size_t fl_lint_findings(const struct fl_lint *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->nrefs; i++)
        n += l->refs[i].rule != FL_LINT_PINNED && !l->refs[i].allowed_by;
    return n;
}

void fl_lint_free(struct fl_lint *l)
{
    for (size_t i = 0; i < l->nrefs; i++) {
        free(l->refs[i].ref);
        free(l->refs[i].written);
        free(l->refs[i].where);
        free(l->refs[i].source);
        free(l->refs[i].detail);
    }
    for (size_t i = 0; i < l->nfiles; i++)
        free(l->files[i].path);
    free(l->refs);
    free(l->files);
    fl_diag_free(&l->errors);
    l->refs = NULL;
    l->files = NULL;
    l->nrefs = l->nfiles = l->cap_refs = l->cap_files = 0;
}

/* ---- variables -------------------------------------------------------- */

static int name_char(char c, int first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

/* Append to a substitution result bounded at REF_MAX + 1 characters:
 * what does not fit is dropped and *full set, so the caller stops and the
 * result, one character too long, is classified invalid by fl_lint_add.
 * Returns 0, or FL_ENOMEM when allocation fails. */
static int put(struct fl_buf *b, const char *s, size_t n, int *full)
{
    if (b->len + n > REF_MAX + 1) {
        n = REF_MAX + 1 - b->len;
        *full = 1;
    }
    return fl_buf_add(b, s, n);
}

char *fl_lint_subst(const char *s, const char *(*lookup)(void *ud, const char *name, size_t n),
                    void *ud, int dollar_escape, char *unset, size_t unset_len)
{
    struct fl_buf b;
    fl_buf_init(&b, REF_MAX + 2);     /* room for one character too many */
    unset[0] = '\0';
    int rc = fl_buf_adds(&b, ""), full = 0;
    for (const char *p = s; *p && !rc && !full;) {
        if (*p != '$') {
            rc = put(&b, p++, 1, &full);
            continue;
        }
        if (dollar_escape && p[1] == '$') {
            rc = put(&b, "$", 1, &full);
            p += 2;
            continue;
        }
        const char *name = p + 1, *op = NULL, *word = NULL, *end;
        size_t nlen = 0, wlen = 0;
        int braced = *name == '{';
        if (braced)
            name++;
        while (name_char(name[nlen], nlen == 0))
            nlen++;
        if (nlen == 0) {          /* a lone '$' stays */
            rc = put(&b, p++, 1, &full);
            continue;
        }
        end = name + nlen;
        if (braced) {
            if (*end == ':' && (end[1] == '-' || end[1] == '+' || end[1] == '?')) {
                op = end;
                word = end + 2;
            } else if (*end == '-' || *end == '+' || *end == '?') {
                op = end;
                word = end + 1;
            } else if (*end != '}') {
                op = end;         /* unknown form: unresolved */
                word = end;
            }
            const char *close = strchr(end, '}');
            if (!close) {
                rc = put(&b, p, strlen(p), &full);
                break;
            }
            if (word)
                wlen = (size_t)(close - word);
            end = close + 1;
        }
        const char *val = lookup ? lookup(ud, name, nlen) : NULL;
        int colon = op && *op == ':';
        char kind = op ? (colon ? op[1] : *op) : 0;
        int empty_unset = colon && val && !*val;
        if (kind == '-' && (!val || empty_unset)) {
            rc = put(&b, word, wlen, &full);
        } else if (kind == '+') {
            if (val && !empty_unset)
                rc = put(&b, word, wlen, &full);
        } else if (val && (kind == 0 || kind == '-' || kind == '?')) {
            rc = put(&b, val, strlen(val), &full);
        } else {
            if (!unset[0])
                snprintf(unset, unset_len, "%.*s", (int)nlen, name);
            rc = put(&b, p, (size_t)(end - p), &full);
        }
        p = end;
    }
    if (rc) {
        fl_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* ---- files and folders ------------------------------------------------ */

static int is_dockerfile_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    return strcmp(base, "Dockerfile") == 0 || strcmp(base, "Containerfile") == 0 ||
           strncmp(base, "Dockerfile.", 11) == 0 || strncmp(base, "Containerfile.", 14) == 0 ||
           (n > 11 && strcmp(base + n - 11, ".Dockerfile") == 0) ||
           (n > 11 && strcmp(base + n - 11, ".dockerfile") == 0);
}

static int is_yaml_name(const char *path)
{
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

static int add_file(struct fl_lint *l, const char *path, enum fl_lint_kind kind, size_t *out)
{
    if (grow((void **)&l->files, &l->cap_files, l->nfiles, sizeof *l->files))
        return l->nomem = 1, FL_ENOMEM;
    struct fl_lint_file *f = &l->files[l->nfiles];
    memset(f, 0, sizeof *f);
    f->path = fl_strdup(path);
    if (!f->path)
        return l->nomem = 1, FL_ENOMEM;
    f->kind = kind;
    f->first = l->nrefs;
    *out = l->nfiles++;
    return 0;
}

int fl_lint_text(struct fl_lint *l, const char *path, const char *text, size_t len,
                 enum fl_lint_kind kind_hint)
{
    size_t fi;
    int dockerfile = kind_hint == FL_LINT_DOCKERFILE;
    int rc = add_file(l, path, dockerfile ? FL_LINT_DOCKERFILE : FL_LINT_YAML, &fi);
    if (rc)
        return rc;
    rc = dockerfile ? fl_lint_read_dockerfile(l, fi, text, len)
                    : fl_lint_read_yaml(l, fi, text, len);
    if (rc == FL_EINVAL)
        l->files[fi].error = 1;
    return rc == FL_ENOMEM ? rc : 0;
}

static int file_error(struct fl_lint *l, const char *path, const char *fmt, const char *what)
{
    size_t fi;
    int rc = add_file(l, path, FL_LINT_YAML, &fi);
    if (rc)
        return rc;
    l->files[fi].error = 1;
    if (fl_diag_add(&l->errors, path, 0, 0, fmt, what))
        return l->nomem = 1, FL_ENOMEM;
    return 0;
}

static int lint_file(struct fl_lint *l, const char *path)
{
    int in = strcmp(path, "-") == 0;     /* standard input, read as YAML */
    FILE *f = in ? stdin : fopen(path, "rb");
    if (in)
        path = "<stdin>";
    if (!f)
        return file_error(l, path, "cannot read: %s", strerror(errno));
    char *buf = malloc(FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return l->nomem = 1, FL_ENOMEM;
    }
    size_t n = 0;
    while (n < FILE_MAX_BYTES + 1 && !feof(f) && !ferror(f))   /* a pipe gives it in parts */
        n += fread(buf + n, 1, FILE_MAX_BYTES + 1 - n, f);
    int bad = ferror(f);
    if (!in)
        fclose(f);
    int rc;
    if (bad)
        rc = file_error(l, path, "cannot read: %s", "I/O error");
    else if (n > FILE_MAX_BYTES)
        rc = file_error(l, path, "cannot read: %s", "larger than 16 MiB");
    else if (memchr(buf, '\0', n))
        rc = file_error(l, path, "cannot read: %s", "a binary file (NUL bytes)");
    else {
        buf[n] = '\0';
        rc = fl_lint_text(l, path, buf, n,
                          is_dockerfile_name(path) ? FL_LINT_DOCKERFILE : FL_LINT_YAML);
    }
    free(buf);
    return rc;
}

static int walk(struct fl_lint *l, const char *dir, int depth, size_t *budget)
{
    if (depth > WALK_DEPTH_MAX)
        return file_error(l, dir, "not read: %s", "folders nested deeper than 16");
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return file_error(l, dir, "cannot read the folder: %s", strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc || name[0] == '.')
            continue;
        char path[4096];
        int len = snprintf(path, sizeof path, "%s%s%s", dir,
                           dir[strlen(dir) - 1] == '/' ? "" : "/", name);
        if (len < 0 || (size_t)len >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk(l, path, depth + 1, budget);
            continue;
        }
        if (!(is_dockerfile_name(path) || is_yaml_name(path)))
            continue;
        if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
            continue;
        if (!S_ISREG(st.st_mode))
            continue;
        if (*budget == 0) {
            rc = file_error(l, path, "not read: %s", "more than 20000 files");
            break;
        }
        (*budget)--;
        rc = lint_file(l, path);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

int fl_lint_path(struct fl_lint *l, const char *path)
{
    if (strcmp(path, "-") == 0)
        return lint_file(l, path);
    struct stat st;
    if (stat(path, &st) != 0)
        return file_error(l, path, "cannot read: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        size_t budget = WALK_FILES_MAX;
        return walk(l, path, 0, &budget);
    }
    return lint_file(l, path);
}
