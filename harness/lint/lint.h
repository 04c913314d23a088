/* lint.h - find container image references that are not pinned by digest.
 *
 * `faultline lint-images` reads docker-compose files, Kubernetes manifests
 * (plain or rendered by Helm), and Dockerfiles, and reports every image
 * reference with its position and one rule:
 *
 *   pinned        has a digest (app@sha256:..., app:1.2@sha256:...): fine
 *   no-tag        neither tag nor digest ("nginx"): means :latest
 *   latest        the tag is "latest"
 *   mutable-tag   any other tag ("nginx:1.25"): a tag can be moved
 *   unresolved    built from a variable with no value here (compose
 *                 "${TAG}", Dockerfile "FROM ${BASE}" without an ARG
 *                 default): what will run cannot be known from the file
 *   invalid       not a valid reference (uppercase, empty tag, bad digest,
 *                 longer than 4096 bytes: shown cut to 80 characters)
 *
 * Everything but `pinned` is a finding, unless an --allow glob matches the
 * reference as written or in its normalized form
 * ("docker.io/library/nginx:1.25").
 *
 * Which file is what: Dockerfile, Dockerfile.*, *.Dockerfile,
 * Containerfile (by name); every other file is read as YAML, one or more
 * documents, each classified by its content: `kind:` + `apiVersion:` is a
 * Kubernetes object (`kind: List` recurses into `items`), a `services:`
 * mapping is a compose file, anything else holds no references.
 *
 * The library never prints: results and errors are collected in struct
 * fl_lint for the CLI and the JUnit writer.
 */
#ifndef FL_LINT_H
#define FL_LINT_H

#include <stddef.h>

#include "base/diag.h"

enum fl_lint_rule {
    FL_LINT_PINNED,
    FL_LINT_NO_TAG,
    FL_LINT_LATEST,
    FL_LINT_MUTABLE_TAG,
    FL_LINT_UNRESOLVED,
    FL_LINT_INVALID,
};

const char *fl_lint_rule_name(enum fl_lint_rule r);   /* "mutable-tag" */

enum fl_lint_kind {
    FL_LINT_YAML,         /* nothing recognised in it (yet) */
    FL_LINT_COMPOSE,
    FL_LINT_K8S,
    FL_LINT_HELM,         /* Kubernetes documents with "# Source:" comments */
    FL_LINT_DOCKERFILE,
};

const char *fl_lint_kind_name(enum fl_lint_kind k);   /* "kubernetes" */

/* One image reference found in a file. Strings are owned by the lint. */
struct fl_lint_ref {
    size_t file;              /* index into fl_lint.files */
    int line, col;            /* 1-based, where the reference starts */
    char *ref;                /* as it will be pulled (variables substituted) */
    char *written;            /* as written, when a substitution changed it; else NULL */
    char *where;              /* "service api", "Deployment web: container app", "FROM (stage 1)" */
    char *source;             /* Helm: the template ("# Source:"), else NULL */
    char *detail;             /* why it is invalid / which variable is unset, else NULL */
    enum fl_lint_rule rule;
    const char *allowed_by;   /* the --allow pattern that exempts it, or NULL */
};

struct fl_lint_file {
    char *path;
    enum fl_lint_kind kind;
    size_t first, n;          /* its references: refs[first .. first+n) */
    int error;                /* could not be read or parsed (see errors) */
};

struct fl_lint {
    const char *const *allow; /* --allow globs, borrowed */
    size_t nallow;
    struct fl_lint_file *files;
    size_t nfiles, cap_files;
    struct fl_lint_ref *refs;
    size_t nrefs, cap_refs;
    struct fl_diag errors;    /* unreadable or unparsable input, file:line:col */
    int nomem;
};

/* Lint a file, or every candidate file below a folder (sorted, hidden
 * entries and symlinked folders skipped, depth and count bounded). A
 * file given by name is always read; in a folder only Dockerfiles and
 * *.yaml / *.yml are; "-" is standard input, read as YAML and named
 * "<stdin>" (helm template ... | faultline lint-images -). Problems
 * reading or parsing go into l->errors.
 * Returns 0, or FL_ENOMEM. */
int fl_lint_path(struct fl_lint *l, const char *path);

/* Lint one file's text (no I/O; for tests). kind_hint FL_LINT_DOCKERFILE
 * reads it as a Dockerfile, anything else as YAML. */
int fl_lint_text(struct fl_lint *l, const char *path, const char *text, size_t len,
                 enum fl_lint_kind kind_hint);

/* Counts over everything linted so far. */
size_t fl_lint_findings(const struct fl_lint *l);   /* not pinned, not allowed */

void fl_lint_free(struct fl_lint *l);

/* ---- shared by the file readers in harness/lint/ ----------------------- */

/* Record a reference found at line:col of file (index) and classify it.
 * written: the text in the file; value: after substitution (NULL: same;
 * unresolved: it could not be substituted). where/source/detail copied. */
int fl_lint_add(struct fl_lint *l, size_t file, int line, int col, const char *written,
                const char *value, int unresolved, const char *where, const char *source,
                const char *detail);

/* Readers: add every reference of one file's text. Return 0, FL_ENOMEM, or
 * FL_EINVAL after adding a diagnostic to l->errors. */
int fl_lint_read_yaml(struct fl_lint *l, size_t file, const char *text, size_t len);
int fl_lint_read_dockerfile(struct fl_lint *l, size_t file, const char *text, size_t len);

/* Substitute $NAME, ${NAME}, ${NAME:-default}, ${NAME-default} (and the
 * :+ / + forms) in s with lookup (NULL: nothing is set); "$$" is a literal
 * '$' when dollar_escape. Returns a malloc'ed string, or NULL when out of
 * memory. A result longer than a reference may be (4096 bytes) is cut at
 * one character more, which fl_lint_add reports as invalid; *unset names the first variable without a value (static buffer
 * of the caller, size unset_len), empty when all resolved. */
char *fl_lint_subst(const char *s, const char *(*lookup)(void *ud, const char *name, size_t n),
                    void *ud, int dollar_escape, char *unset, size_t unset_len);

#endif
