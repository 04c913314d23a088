/* lint_yaml.c - image references in YAML: docker-compose files and
 * Kubernetes manifests, one or more documents per file (Helm's rendered
 * output included: its "# Source: chart/templates/x.yaml" comments name
 * the template each reference came from).
 *
 * Positions come from the scalar's token (libfyaml 0.7.12 has no node
 * start mark; DESIGN.md): 0-based there, 1-based here, and for a quoted
 * value the column of its first character inside the quotes.
 */
#include "lint/lint.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/util.h"

#define DOCS_MAX 100000      /* documents per file */
#define LIST_DEPTH_MAX 8     /* kind: List inside kind: List */
#define SOURCES_MAX 100000

struct source_line {
    int line;                /* 1-based line of the comment */
    char *name;
};

struct yctx {
    struct fl_lint *l;
    const char *text;
    size_t len;
    size_t file;
    struct source_line *src;
    size_t nsrc;
    int bad;                 /* FL_ENOMEM or FL_EINVAL once something failed */
    int k8s, compose;        /* documents of each kind seen */
};

static const char *path_of(struct yctx *c)
{
    return c->l->files[c->file].path;
}

static struct fy_node *get(struct fy_node *n, const char *key)
{
    if (!n || !fy_node_is_mapping(n))
        return NULL;
    return fy_node_mapping_lookup_by_string(n, key, strlen(key));
}

/* A scalar's text as a new string, NULL when n is not a scalar. */
static char *scalar_dup(struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n))
        return NULL;
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    return s ? fl_strndup(s, len) : NULL;
}

static void pos_of(struct fy_node *n, int *line, int *col);

/* Where a scalar's text starts: a block scalar's token (| or >-) starts
 * at the beginning of its first content line, before the indentation. */
static void value_pos(struct yctx *c, struct fy_node *n, int *line, int *col)
{
    pos_of(n, line, col);
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (!m || m->input_pos >= c->len)
        return;
    for (size_t i = m->input_pos; i < c->len && i - m->input_pos < 4096; i++) {
        if (c->text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (c->text[i] == ' ' || c->text[i] == '\t' || c->text[i] == '\r') {
            (*col)++;
        } else {
            return;
        }
    }
}

static void pos_of(struct fy_node *n, int *line, int *col)
{
    *line = *col = 0;
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_scalar(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
            if (m) {
                *line = m->line + 1;
                *col = m->column + 1;
            }
            return;
        }
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            return;
        }
    }
}

static void fail(struct yctx *c, int rc)
{
    if (!c->bad || rc == FL_ENOMEM)
        c->bad = rc;
}

static void structure_error(struct yctx *c, struct fy_node *n, const char *fmt, const char *what)
{
    int line, col;
    pos_of(n, &line, &col);
    if (fl_diag_add(&c->l->errors, path_of(c), line, col, fmt, what))
        fail(c, FL_ENOMEM);
    else
        fail(c, FL_EINVAL);
}

static const char *source_for(struct yctx *c, int line)
{
    const char *best = NULL;
    for (size_t i = 0; i < c->nsrc && c->src[i].line < line; i++)
        best = c->src[i].name;
    return best;
}

/* Add the reference in value node n (already known to exist). */
static void add_ref(struct yctx *c, struct fy_node *n, const char *where, int compose)
{
    if (!fy_node_is_scalar(n)) {
        structure_error(c, n, "%s: `image` must be a string", where);
        return;
    }
    int line, col;
    value_pos(c, n, &line, &col);
    char *written = scalar_dup(n);
    if (!written) {
        fail(c, FL_ENOMEM);
        return;
    }
    char unset[128] = "";
    char *value = NULL;
    if (compose) {
        /* compose interpolates ${VAR:-default}; "$$" is a literal '$'.
         * The environment is not consulted: the verdict depends on the
         * files alone. */
        value = fl_lint_subst(written, NULL, NULL, 1, unset, sizeof unset);
        if (!value) {
            free(written);
            fail(c, FL_ENOMEM);
            return;
        }
    }
    char detail[256] = "";
    if (unset[0])
        snprintf(detail, sizeof detail, "variable %s has no default in the file", unset);
    int rc = fl_lint_add(c->l, c->file, line, col, written, value, unset[0] != 0, where,
                         source_for(c, line), detail[0] ? detail : NULL);
    if (rc)
        fail(c, rc);
    free(written);
    free(value);
}

/* ---- compose ---------------------------------------------------------- */

static void compose_doc(struct yctx *c, struct fy_node *services)
{
    c->compose++;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(services, &it))) {
        char *name = scalar_dup(fy_node_pair_key(p));
        struct fy_node *img = get(fy_node_pair_value(p), "image");
        if (img && (!fy_node_is_scalar(img) || fy_node_get_scalar_token(img))) {
            /* "image:" alone is null: nothing to pull */
            char where[256];
            snprintf(where, sizeof where, "service %s", name ? name : "?");
            add_ref(c, img, where, 1);
        }
        free(name);
    }
}

/* ---- Kubernetes -------------------------------------------------------- */

static void pod_spec(struct yctx *c, struct fy_node *spec, const char *owner)
{
    static const char *const lists[][2] = {
        {"initContainers", "initContainer"},
        {"containers", "container"},
        {"ephemeralContainers", "ephemeralContainer"},
    };
    for (size_t k = 0; k < 3; k++) {
        struct fy_node *seq = get(spec, lists[k][0]);
        if (!seq || !fy_node_is_sequence(seq))
            continue;
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(seq, &it))) {
            struct fy_node *img = get(item, "image");
            if (!img || (fy_node_is_scalar(img) && !fy_node_get_scalar_token(img)))
                continue;   /* a template may leave it to a controller */
            char *name = scalar_dup(get(item, "name"));
            char where[384];
            snprintf(where, sizeof where, "%s: %s %s", owner, lists[k][1], name ? name : "?");
            free(name);
            add_ref(c, img, where, 0);
        }
    }
}

static struct fy_node *path(struct fy_node *n, const char *const *keys)
{
    for (; n && *keys; keys++)
        n = get(n, *keys);
    return n;
}

static void k8s_object(struct yctx *c, struct fy_node *root, int depth)
{
    char *kind = scalar_dup(get(root, "kind"));
    if (!kind)
        return;
    c->k8s++;
    if (strcmp(kind, "List") == 0 || (strlen(kind) > 4 && strcmp(kind + strlen(kind) - 4,
                                                                 "List") == 0)) {
        struct fy_node *items = get(root, "items");
        void *it = NULL;
        struct fy_node *item;
        while (depth < LIST_DEPTH_MAX && items && fy_node_is_sequence(items) &&
               (item = fy_node_sequence_iterate(items, &it)))
            k8s_object(c, item, depth + 1);
        free(kind);
        return;
    }
    char *name = scalar_dup(get(get(root, "metadata"), "name"));
    char owner[256];
    snprintf(owner, sizeof owner, "%s %s", kind, name ? name : "?");
    static const char *const pod[] = {"spec", NULL};
    static const char *const tmpl[] = {"template", "spec", NULL};
    static const char *const workload[] = {"spec", "template", "spec", NULL};
    static const char *const cron[] = {"spec", "jobTemplate", "spec", "template", "spec", NULL};
    struct fy_node *spec;
    if (strcmp(kind, "Pod") == 0)
        spec = path(root, pod);
    else if (strcmp(kind, "PodTemplate") == 0)
        spec = path(root, tmpl);
    else if (strcmp(kind, "CronJob") == 0)
        spec = path(root, cron);
    else    /* Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ...: and
             * any custom resource with the same shape (Argo Rollout) */
        spec = path(root, workload) ? path(root, workload) : path(root, cron);
    if (spec)
        pod_spec(c, spec, owner);
    free(kind);
    free(name);
}

/* ---- documents ------------------------------------------------------- */

static int collect_sources(struct yctx *c, const char *text, size_t len)
{
    int line = 1;
    for (size_t i = 0; i < len;) {
        const char *eol = memchr(text + i, '\n', len - i);
        size_t n = eol ? (size_t)(eol - (text + i)) : len - i;
        if (n > 10 && memcmp(text + i, "# Source: ", 10) == 0 && c->nsrc < SOURCES_MAX) {
            struct source_line *ns = realloc(c->src, (c->nsrc + 1) * sizeof *ns);
            if (!ns)
                return FL_ENOMEM;
            c->src = ns;
            size_t k = n;
            while (k > 10 && (text[i + k - 1] == '\r' || text[i + k - 1] == ' '))
                k--;
            c->src[c->nsrc].line = line;
            c->src[c->nsrc].name = fl_strndup(text + i + 10, k - 10);
            if (!c->src[c->nsrc].name)
                return FL_ENOMEM;
            c->nsrc++;
        }
        i += n + 1;
        line++;
    }
    return 0;
}

static void document(struct yctx *c, struct fy_document *doc)
{
    struct fy_node *root = fy_document_root(doc);
    if (!root || !fy_node_is_mapping(root))
        return;
    struct fy_node *services = get(root, "services");
    if (get(root, "kind") && get(root, "apiVersion"))
        k8s_object(c, root, 0);
    else if (services && fy_node_is_mapping(services))
        compose_doc(c, services);
}

/* Report the parser's errors; returns how many there were. */
static int parse_errors(struct yctx *c, struct fy_diag *fd)
{
    void *it = NULL;
    struct fy_diag_error *e;
    int nerr = 0;
    while ((e = fy_diag_errors_iterate(fd, &it))) {
        if (e->type < FYET_ERROR)
            continue;
        if (nerr++ < 5 && fl_diag_add(&c->l->errors, path_of(c), e->line, e->column,
                                      "YAML syntax error: %s", e->msg ? e->msg : "invalid YAML"))
            fail(c, FL_ENOMEM);
    }
    return nerr;
}

int fl_lint_read_yaml(struct fl_lint *l, size_t file, const char *text, size_t len)
{
    struct yctx c = {.l = l, .file = file, .text = text, .len = len};
    if (collect_sources(&c, text, len))
        fail(&c, FL_ENOMEM);
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    struct fy_diag *fd = fy_diag_create(&dcfg);
    struct fy_parser *fyp = NULL;
    if (fd) {
        fy_diag_set_collect_errors(fd, true);
        struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT, .diag = fd};
        fyp = fy_parser_create(&cfg);
    }
    if (!fyp || fy_parser_set_string(fyp, text, len)) {
        fail(&c, FL_ENOMEM);
    } else {
        struct fy_document *doc;
        /* a structure error (an image that is not a string) is this
         * file's error, but the documents after it are still read: their
         * findings must not be lost */
        for (int n = 0; c.bad != FL_ENOMEM && n < DOCS_MAX && (doc = fy_parse_load_document(fyp));
             n++) {
            document(&c, doc);
            fy_parse_document_destroy(fyp, doc);
        }
        if (parse_errors(&c, fd) && c.bad != FL_ENOMEM)
            c.bad = FL_EINVAL;
        else if (!c.bad && fy_parser_get_stream_error(fyp)) {
            if (fl_diag_add(&l->errors, path_of(&c), 1, 1, "YAML syntax error"))
                fail(&c, FL_ENOMEM);
            else
                fail(&c, FL_EINVAL);
        }
    }
    if (c.k8s)
        l->files[file].kind = c.nsrc ? FL_LINT_HELM : FL_LINT_K8S;
    else if (c.compose)
        l->files[file].kind = FL_LINT_COMPOSE;
    if (fyp)
        fy_parser_destroy(fyp);
    if (fd)
        fy_diag_destroy(fd);
    for (size_t i = 0; i < c.nsrc; i++)
        free(c.src[i].name);
    free(c.src);
    if (c.bad == FL_ENOMEM)
        l->nomem = 1;
    return c.bad;
}
