/* lint_dockerfile.c - image references in a Dockerfile: every FROM
 * (flags such as --platform= skipped, "AS name" recorded), COPY --from=
 * naming an image rather than a stage, and the "# syntax=" directive
 * (BuildKit pulls that frontend image too).
 *
 * Not images: "FROM scratch", and a FROM or --from naming an earlier
 * stage (by name, case-insensitively, or by index).
 *
 * Variables: a FROM may use the ARGs declared before the first FROM
 * (Docker's rule). With a default (ARG BASE=alpine:3.19) the reference
 * is checked as substituted; without one (the value only comes from
 * --build-arg) it is reported as `unresolved`: the file alone does not
 * say what will be pulled.
 *
 * Lines: the escape character (\ or ` by "# escape=") at the end of a
 * line continues the instruction; comment and empty lines inside a
 * continuation are skipped, as Docker does; heredoc bodies (<<EOF, opened
 * by a whole word of RUN/COPY/ADD as BuildKit does) are not instructions,
 * and one left open at the end of the file is an error. Every character keeps its line and column, so a
 * reference on a continuation line is placed where it is written.
 */
#include "lint/lint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "base/util.h"

#define LOGICAL_MAX (256 * 1024)   /* characters of one instruction */
#define ARGS_MAX 256
#define STAGES_MAX 256
#define TOKENS_MAX 64
#define HEREDOCS_MAX 8

struct pchar {
    char c;
    int line, col;
};

struct arg {
    char *name;
    char *value;   /* NULL: declared without a default */
};

struct heredoc {
    char word[64];         /* the terminator */
    int dash;              /* <<-: leading tabs stripped */
    struct pchar at;       /* where it was opened */
};

struct dctx {
    struct fl_lint *l;
    size_t file;
    char escape;
    struct arg args[ARGS_MAX];
    size_t nargs;
    char *stages[STAGES_MAX];     /* lowercased names, NULL for unnamed */
    size_t nstages;
    int seen_from;
    int bad;
    /* the current logical line */
    struct pchar *buf;
    size_t len;
    /* heredoc terminators pending from the last instruction */
    struct heredoc heredoc[HEREDOCS_MAX];
    size_t nheredoc;
};

struct tok {
    size_t start, len;   /* into buf */
};

static void fail(struct dctx *c, int rc)
{
    if (!c->bad || rc == FL_ENOMEM)
        c->bad = rc;
}

static const char *lookup(void *ud, const char *name, size_t n)
{
    struct dctx *c = ud;
    for (size_t i = c->nargs; i-- > 0;)
        if (strlen(c->args[i].name) == n && memcmp(c->args[i].name, name, n) == 0)
            return c->args[i].value;
    return NULL;
}

static char *tok_dup(struct dctx *c, const struct tok *t, size_t skip)
{
    char *s = malloc(t->len - skip + 1);
    if (!s)
        return NULL;
    for (size_t i = skip; i < t->len; i++)
        s[i - skip] = c->buf[t->start + i].c;
    s[t->len - skip] = '\0';
    return s;
}

static int tok_is(struct dctx *c, const struct tok *t, const char *word)
{
    size_t n = strlen(word);
    if (t->len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)c->buf[t->start + i].c) != word[i])
            return 0;
    return 1;
}

static size_t tokens(struct dctx *c, struct tok *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < c->len && n < max) {
        while (i < c->len && isspace((unsigned char)c->buf[i].c))
            i++;
        if (i >= c->len)
            break;
        out[n].start = i;
        while (i < c->len && !isspace((unsigned char)c->buf[i].c))
            i++;
        out[n].len = i - out[n].start;
        n++;
    }
    return n;
}

static int is_stage(struct dctx *c, const char *name)
{
    int digits = *name != '\0';
    for (const char *p = name; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (digits)
        return 1;      /* --from=0: a stage by index */
    for (size_t i = 0; i < c->nstages; i++)
        if (c->stages[i] && strcasecmp(c->stages[i], name) == 0)
            return 1;
    return 0;
}

/* A reference at token t (from its skip-th character): substitute the
 * global ARGs, skip stages and scratch, record the rest. */
static void reference(struct dctx *c, const struct tok *t, size_t skip, const char *where,
                      int from)
{
    char *written = tok_dup(c, t, skip);
    if (!written) {
        fail(c, FL_ENOMEM);
        return;
    }
    char unset[128] = "";
    char *value = fl_lint_subst(written, lookup, c, 0, unset, sizeof unset);
    if (!value) {
        free(written);
        fail(c, FL_ENOMEM);
        return;
    }
    if (!unset[0] && (is_stage(c, value) || (from && strcasecmp(value, "scratch") == 0))) {
        free(written);
        free(value);
        return;
    }
    char detail[256] = "";
    if (unset[0])
        snprintf(detail, sizeof detail,
                 "ARG %s has no default before the first FROM (only --build-arg sets it)", unset);
    const struct pchar *p = &c->buf[t->start + skip];
    int rc = fl_lint_add(c->l, c->file, p->line, p->col, written, value, unset[0] != 0, where,
                         NULL, detail[0] ? detail : NULL);
    if (rc)
        fail(c, rc);
    free(written);
    free(value);
}

static void error_at(struct dctx *c, const struct pchar *p, const char *msg)
{
    if (fl_diag_add(&c->l->errors, c->l->files[c->file].path, p->line, p->col, "%s", msg))
        fail(c, FL_ENOMEM);
    else
        fail(c, FL_EINVAL);
}

static void instr_from(struct dctx *c, struct tok *t, size_t n)
{
    size_t i = 1;
    while (i < n && c->buf[t[i].start].c == '-' && t[i].len > 1 && c->buf[t[i].start + 1].c == '-')
        i++;
    if (i >= n) {
        error_at(c, &c->buf[t[0].start], "FROM without an image");
        return;
    }
    char where[96];
    snprintf(where, sizeof where, "FROM (stage %zu)", c->nstages);
    char *name = NULL;
    if (i + 2 < n && tok_is(c, &t[i + 1], "as")) {
        name = tok_dup(c, &t[i + 2], 0);
        if (!name) {
            fail(c, FL_ENOMEM);
            return;
        }
        snprintf(where, sizeof where, "FROM (stage %.60s)", name);
    }
    c->seen_from = 1;
    reference(c, &t[i], 0, where, 1);
    if (c->nstages < STAGES_MAX)
        c->stages[c->nstages++] = name;
    else
        free(name);
}

static void instr_copy(struct dctx *c, struct tok *t, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (t[i].len < 2 || c->buf[t[i].start].c != '-' || c->buf[t[i].start + 1].c != '-')
            break;
        struct tok f = t[i];
        f.len = 7 <= t[i].len ? 7 : t[i].len;
        if (t[i].len > 7 && tok_is(c, &f, "--from="))
            reference(c, &t[i], 7, "COPY --from", 0);
    }
}

/* ARG NAME[=value] ... : before the first FROM, they are the globals a
 * FROM may use. */
static void instr_arg(struct dctx *c, struct tok *t, size_t n)
{
    if (c->seen_from)
        return;
    for (size_t i = 1; i < n && c->nargs < ARGS_MAX; i++) {
        char *s = tok_dup(c, &t[i], 0);
        if (!s) {
            fail(c, FL_ENOMEM);
            return;
        }
        char *eq = strchr(s, '=');
        char *value = NULL;
        if (eq) {
            *eq = '\0';
            char *v = eq + 1;
            size_t vn = strlen(v);
            if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
                v[vn - 1] = '\0';
                v++;
            }
            value = fl_strdup(v);
            if (!value) {
                free(s);
                fail(c, FL_ENOMEM);
                return;
            }
        }
        c->args[c->nargs].name = s;
        c->args[c->nargs].value = value;
        c->nargs++;
    }
}

/* A heredoc opener is a whole word, as BuildKit matches it:
 * ^[0-9]*<<-?["']?[A-Za-z_][A-Za-z0-9_]*["']?$ (a quote only as a
 * matching pair). "$((1<<2))" or "a<<b" are not openers. On a match the
 * terminator goes to out (size 64) and *dash says whether leading tabs
 * are stripped. */
static int heredoc_word(const char *s, char *out, int *dash)
{
    while (isdigit((unsigned char)*s))
        s++;
    if (s[0] != '<' || s[1] != '<')
        return 0;
    s += 2;
    *dash = *s == '-';
    if (*dash)
        s++;
    char q = (*s == '"' || *s == '\'') ? *s++ : 0;
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    size_t k = 0;
    while (isalnum((unsigned char)s[k]) || s[k] == '_')
        k++;
    if (k > 63 || (q ? !(s[k] == q && s[k + 1] == '\0') : s[k] != '\0'))
        return 0;
    memcpy(out, s, k);
    out[k] = '\0';
    return 1;
}

/* Heredoc openers (<<EOF, <<-EOF, <<"EOF") of the current instruction. */
static void heredocs(struct dctx *c, struct tok *t, size_t n)
{
    for (size_t i = 1; i < n && c->nheredoc < HEREDOCS_MAX; i++) {
        char *s = tok_dup(c, &t[i], 0);
        if (!s) {
            fail(c, FL_ENOMEM);
            return;
        }
        struct heredoc *h = &c->heredoc[c->nheredoc];
        if (heredoc_word(s, h->word, &h->dash)) {
            h->at = c->buf[t[i].start];
            c->nheredoc++;
        }
        free(s);
    }
}

static void instruction(struct dctx *c)
{
    struct tok t[TOKENS_MAX];
    size_t n = tokens(c, t, TOKENS_MAX);
    if (n == 0)
        return;
    if (tok_is(c, &t[0], "from"))
        instr_from(c, t, n);
    else if (tok_is(c, &t[0], "copy"))
        instr_copy(c, t, n);
    else if (tok_is(c, &t[0], "arg"))
        instr_arg(c, t, n);
    if (tok_is(c, &t[0], "run") || tok_is(c, &t[0], "copy") || tok_is(c, &t[0], "add"))
        heredocs(c, t, n);
}

/* "# syntax=IMAGE" / "# escape=`" at the top of the file. Returns 1 when
 * the line was a directive. */
static int directive(struct dctx *c, const char *s, size_t n, int line)
{
    size_t i = 0;
    if (n == 0 || s[0] != '#')
        return 0;
    i = 1;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t k = i;
    while (k < n && isalpha((unsigned char)s[k]))
        k++;
    size_t e = k;
    while (e < n && (s[e] == ' ' || s[e] == '\t'))
        e++;
    if (k == i || e >= n || s[e] != '=')
        return 0;
    size_t v = e + 1;
    while (v < n && (s[v] == ' ' || s[v] == '\t'))
        v++;
    size_t ve = n;
    while (ve > v && isspace((unsigned char)s[ve - 1]))
        ve--;
    if (k - i == 6 && strncasecmp(s + i, "escape", 6) == 0 && ve == v + 1 &&
        (s[v] == '`' || s[v] == '\\')) {
        c->escape = s[v];
    } else if (k - i == 6 && strncasecmp(s + i, "syntax", 6) == 0 && ve > v) {
        /* taken as written: BuildKit expands no ARG in a directive. Any
         * length (fl_lint_add reports one longer than a reference can be
         * as invalid); it never goes through the instruction buffer. */
        char *ref = fl_strndup(s + v, ve - v);
        if (!ref) {
            fail(c, FL_ENOMEM);
            return 1;
        }
        int rc = fl_lint_add(c->l, c->file, line, (int)(v + 1), ref, NULL, 0,
                             "# syntax= directive", NULL, NULL);
        if (rc)
            fail(c, rc);
        free(ref);
    }
    return 1;
}

int fl_lint_read_dockerfile(struct fl_lint *l, size_t file, const char *text, size_t len)
{
    struct dctx c = {.l = l, .file = file, .escape = '\\'};
    c.buf = malloc(LOGICAL_MAX * sizeof *c.buf);
    if (!c.buf)
        return l->nomem = 1, FL_ENOMEM;
    int line = 0, directives = 1, cont = 0;
    size_t start = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;  /* a UTF-8 BOM */
    for (size_t i = start; i < len && c.bad != FL_ENOMEM;) {
        const char *s = text + i;
        const char *eol = memchr(s, '\n', len - i);
        size_t n = eol ? (size_t)(eol - s) : len - i;
        i += n + 1;
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (directives && directive(&c, s, n, line))
            continue;
        directives = 0;
        if (c.nheredoc) {             /* inside a heredoc body */
            size_t b = 0;
            while (c.heredoc[0].dash && b < n && s[b] == '\t')
                b++;
            const char *w = c.heredoc[0].word;
            if (n - b == strlen(w) && memcmp(s + b, w, n - b) == 0) {
                memmove(&c.heredoc[0], &c.heredoc[1], sizeof c.heredoc[0] * (c.nheredoc - 1));
                c.nheredoc--;
            }
            continue;
        }
        size_t b = 0;
        while (b < n && isspace((unsigned char)s[b]))
            b++;
        if (b < n && s[b] == '#')
            continue;                 /* a comment, also inside a continuation */
        if (b == n)
            continue;                 /* blank, also inside a continuation (Docker skips it) */
        size_t e = n;
        while (e > b && isspace((unsigned char)s[e - 1]))
            e--;
        cont = e > b && s[e - 1] == c.escape;
        if (cont)
            e--;
        for (size_t k = 0; k < e && c.len < LOGICAL_MAX; k++)
            c.buf[c.len++] = (struct pchar){s[k], line, (int)k + 1};
        if (c.len < LOGICAL_MAX)
            c.buf[c.len++] = (struct pchar){' ', line, (int)e + 1};
        if (!cont) {
            instruction(&c);
            c.len = 0;
        }
    }
    if (c.len)
        instruction(&c);
    if (c.nheredoc && c.bad != FL_ENOMEM) {
        /* BuildKit fails here too; and everything after the opener was
         * read as its body, so references may have been missed */
        char msg[256];
        snprintf(msg, sizeof msg,
                 "heredoc <<%s is not closed: no line \"%s\" before the end of the file",
                 c.heredoc[0].word, c.heredoc[0].word);
        error_at(&c, &c.heredoc[0].at, msg);
    }
    for (size_t i = 0; i < c.nargs; i++) {
        free(c.args[i].name);
        free(c.args[i].value);
    }
    for (size_t i = 0; i < c.nstages; i++)
        free(c.stages[i]);
    free(c.buf);
    if (c.bad == FL_ENOMEM)
        l->nomem = 1;
    return c.bad;
}
