/* test_lint.c - lint-images over the real-world style files in
 * tests/data/lint/ (compose, Kubernetes multi-document, Helm output,
 * Dockerfile) with every reference's exact position and rule, and over
 * small texts that try to fool the readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint.h"

struct want {
    const char *file;     /* suffix of the path */
    int line, col;
    const char *rule, *ref, *where;
};

#define D1 "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define D2 "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define D3 "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"

/* In file order (the folder is read sorted: Dockerfile, docker-compose.yml,
 * helm-rendered.yaml, k8s.yaml). */
static const struct want stack[] = {
    {"Dockerfile", 1, 10, "mutable-tag", "docker/dockerfile:1.7", "# syntax= directive"},
    {"Dockerfile", 6, 32, "mutable-tag", "golang:1.22-alpine", "FROM (stage build)"},
    {"Dockerfile", 15, 6, "unresolved", "${BASE_IMAGE}", "FROM (stage custom)"},
    {"Dockerfile", 18, 5, "mutable-tag", "python:3.12-slim", "FROM (stage Tools)"},
    {"Dockerfile", 25, 6, "pinned", "gcr.io/distroless/static-debian12@" D3, "FROM (stage final)"},
    {"Dockerfile", 27, 13, "mutable-tag", "docker.io/library/alpine:3.19", "COPY --from"},
    {"docker-compose.yml", 11, 12, "mutable-tag", "nginx:1.25-alpine", "service proxy"},
    {"docker-compose.yml", 17, 12, "no-tag", "localhost:5000/shop/api", "service api"},
    {"docker-compose.yml", 21, 13, "mutable-tag", "registry.example.com:5000/shop/worker:2.3.1",
     "service worker"},
    {"docker-compose.yml", 23, 12, "pinned", "redis@" D1, "service cache"},
    {"docker-compose.yml", 25, 13, "pinned", "postgres:16.2@" D2, "service db"},
    {"docker-compose.yml", 29, 12, "mutable-tag",
     "docker.elastic.co/elasticsearch/elasticsearch:8.12.2", "service search"},
    {"docker-compose.yml", 31, 12, "no-tag", "prom/prometheus", "service metrics"},
    {"docker-compose.yml", 33, 12, "latest", "busybox:latest", "service debug"},
    {"docker-compose.yml", 36, 12, "unresolved", "ghcr.io/acme/tool:${TOOL_TAG}", "service tool"},
    {"helm-rendered.yaml", 33, 19, "mutable-tag", "nginx:1.16.0",
     "Deployment release-shop: container shop"},
    {"helm-rendered.yaml", 46, 14, "no-tag", "busybox",
     "Pod release-shop-test-connection: container wget"},
    {"k8s.yaml", 17, 18, "mutable-tag", "registry:5000/shop/migrate:1.2",
     "Deployment web: initContainer migrate"},
    {"k8s.yaml", 21, 18, "pinned", "ghcr.io/acme/web:2.4.1@" D3, "Deployment web: container app"},
    {"k8s.yaml", 25, 18, "mutable-tag", "envoyproxy/envoy:v1.29-latest",
     "Deployment web: container sidecar"},
    {"k8s.yaml", 44, 16, "no-tag", "postgres", "StatefulSet db: container postgres"},
    {"k8s.yaml", 54, 33, "latest", "quay.io/prometheus/node-exporter:latest",
     "DaemonSet node-agent: container agent"},
    {"k8s.yaml", 69, 22, "no-tag", "localhost:5000/report", "CronJob nightly-report: container report"},
    {"k8s.yaml", 81, 18, "pinned", "alpine:3.19@" D1, "Job seed: container seed"},
    {"k8s.yaml", 90, 14, "pinned", "nginx@" D2, "Pod debug-web: container web"},
    {"k8s.yaml", 93, 14, "mutable-tag", "busybox:1.36", "Pod debug-web: ephemeralContainer debugger"},
    {"k8s.yaml", 107, 22, "invalid", "Legacy/App:1.0", "ReplicaSet legacy: container legacy"},
};

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void expect(const struct fl_lint *l, const struct want *w, size_t n)
{
    for (size_t i = 0; i < l->nrefs && i < n; i++) {
        const struct fl_lint_ref *r = &l->refs[i];
        const char *path = l->files[r->file].path;
        if (!ends_with(path, w[i].file) || r->line != w[i].line || r->col != w[i].col ||
            strcmp(fl_lint_rule_name(r->rule), w[i].rule) || strcmp(r->ref, w[i].ref) ||
            strcmp(r->where, w[i].where))
            fail_msg("reference %zu: got %s:%d:%d %s %s (%s); want %s:%d:%d %s %s (%s)", i, path,
                     r->line, r->col, fl_lint_rule_name(r->rule), r->ref, r->where, w[i].file,
                     w[i].line, w[i].col, w[i].rule, w[i].ref, w[i].where);
    }
    if (l->nrefs != n) {
        for (size_t i = 0; i < l->nrefs; i++)
            fprintf(stderr, "  %s:%d:%d %s %s (%s)\n", l->files[l->refs[i].file].path,
                    l->refs[i].line, l->refs[i].col, fl_lint_rule_name(l->refs[i].rule),
                    l->refs[i].ref, l->refs[i].where);
        fail_msg("%zu references, want %zu", l->nrefs, n);
    }
}

static void test_stack_positions(void **state)
{
    (void)state;
    struct fl_lint l = {0};
    assert_int_equal(fl_lint_path(&l, "tests/data/lint/stack"), 0);
    assert_int_equal(l.errors.n, 0);
    expect(&l, stack, sizeof stack / sizeof stack[0]);
    assert_int_equal(fl_lint_findings(&l), 21);
    /* what each file was read as */
    assert_int_equal(l.nfiles, 4);
    assert_int_equal(l.files[0].kind, FL_LINT_DOCKERFILE);
    assert_int_equal(l.files[1].kind, FL_LINT_COMPOSE);
    assert_int_equal(l.files[2].kind, FL_LINT_HELM);
    assert_int_equal(l.files[3].kind, FL_LINT_K8S);
    /* substitution is shown, Helm's template is named */
    assert_string_equal(l.refs[1].written, "golang:${GO_VERSION}-alpine");
    assert_null(l.refs[3].written);
    assert_string_equal(l.refs[15].source, "shop/templates/deployment.yaml");
    assert_string_equal(l.refs[16].source, "shop/templates/tests/test-connection.yaml");
    assert_null(l.refs[17].source);
    fl_lint_free(&l);
}

static void test_allow(void **state)
{
    (void)state;
    /* as written, and on the normalized form (docker.io/library/...) */
    const char *const allow[] = {"localhost:5000/*", "docker.io/library/*"};
    struct fl_lint l = {.allow = allow, .nallow = 2};
    assert_int_equal(fl_lint_path(&l, "tests/data/lint/stack"), 0);
    size_t n = 0;
    for (size_t i = 0; i < l.nrefs; i++) {
        const struct fl_lint_ref *r = &l.refs[i];
        if (!r->allowed_by)
            continue;
        n++;
        int local = strncmp(r->ref, "localhost:5000/", 15) == 0;
        assert_string_equal(r->allowed_by, local ? allow[0] : allow[1]);
    }
    /* localhost:5000/shop/api, localhost:5000/report; golang, python,
     * alpine (COPY --from), nginx:1.25-alpine, busybox:latest,
     * nginx:1.16.0, busybox, postgres, busybox:1.36 */
    assert_int_equal(n, 11);
    assert_int_equal(fl_lint_findings(&l), 10);
    fl_lint_free(&l);
}

static void test_clean_and_bad(void **state)
{
    (void)state;
    struct fl_lint l = {0};
    assert_int_equal(fl_lint_path(&l, "tests/data/lint/clean"), 0);
    assert_int_equal(l.errors.n, 0);
    assert_int_equal(l.nrefs, 3);
    assert_int_equal(fl_lint_findings(&l), 0);
    assert_int_equal(l.files[2].kind, FL_LINT_YAML);   /* notes.yaml: nothing known */
    fl_lint_free(&l);

    struct fl_lint b = {0};
    assert_int_equal(fl_lint_path(&b, "tests/data/lint/bad"), 0);
    assert_int_equal(b.errors.n, 2);
    assert_true(ends_with(b.errors.items[0].file, "broken.yaml"));
    assert_int_equal(b.errors.items[0].line, 9);
    assert_int_equal(b.errors.items[0].col, 6);
    assert_true(ends_with(b.errors.items[1].file, "image-not-string.yaml"));
    assert_int_equal(b.errors.items[1].line, 4);
    assert_int_equal(b.errors.items[1].col, 7);
    assert_true(b.files[0].error && b.files[1].error);
    fl_lint_free(&b);

    struct fl_lint m = {0};
    assert_int_equal(fl_lint_path(&m, "tests/data/lint/no-such-file.yaml"), 0);
    assert_int_equal(m.errors.n, 1);
    fl_lint_free(&m);
}

/* Texts that try to fool the readers. */
static void lint_text(struct fl_lint *l, const char *text, enum fl_lint_kind hint)
{
    memset(l, 0, sizeof *l);
    assert_int_equal(fl_lint_text(l, "t", text, strlen(text), hint), 0);
}

static void test_dockerfile_fooling(void **state)
{
    (void)state;
    struct fl_lint l;
    lint_text(&l,
              "# escape=`\n"
              "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS Base\n"
              "RUN echo \\\n"
              "FROM base\n"                      /* a stage, named in another case */
              "COPY --from=BASE c:/a c:/b\n"
              "COPY --chown=1:1 --from=nginx /a /b\n"
              "FROM `\n"
              "  # a comment inside a continuation\n"
              "\n"
              "  alpine:3.19\n"
              "ARG LATE=ignored:1\n"
              "FROM ${LATE}\n",                  /* an ARG after FROM is not global */
              FL_LINT_DOCKERFILE);
    assert_int_equal(l.errors.n, 0);
    assert_int_equal(l.nrefs, 4);
    assert_string_equal(l.refs[0].ref, "mcr.microsoft.com/windows/servercore:ltsc2022");
    assert_int_equal(l.refs[0].line, 2);
    assert_string_equal(l.refs[1].ref, "nginx");
    assert_int_equal(l.refs[1].line, 6);
    assert_int_equal(l.refs[1].col, 25);
    assert_int_equal(l.refs[1].rule, FL_LINT_NO_TAG);
    assert_string_equal(l.refs[2].ref, "alpine:3.19");
    assert_int_equal(l.refs[2].line, 10);
    assert_int_equal(l.refs[2].col, 3);
    assert_int_equal(l.refs[3].rule, FL_LINT_UNRESOLVED);
    fl_lint_free(&l);

    /* a UTF-8 byte order mark is not part of the first instruction; the
     * columns count characters after it */
    lint_text(&l, "\xEF\xBB\xBF" "FROM nginx:1\r\n", FL_LINT_DOCKERFILE);
    assert_int_equal(l.nrefs, 1);
    assert_int_equal(l.refs[0].col, 6);
    assert_string_equal(l.refs[0].ref, "nginx:1");
    fl_lint_free(&l);

    lint_text(&l, "FROM --platform=linux/amd64\n", FL_LINT_DOCKERFILE);
    assert_int_equal(l.errors.n, 1);
    assert_int_equal(l.errors.items[0].line, 1);
    assert_true(l.files[0].error);
    fl_lint_free(&l);

    /* ${VAR:-default} in a FROM, an ARG whose default is itself pinned */
    lint_text(&l,
              "ARG REG=registry:5000\n"
              "ARG TAG\n"
              "FROM ${REG}/app:${TAG:-1.0}\n"
              "FROM ${REG}/app@" D1 "\n",
              FL_LINT_DOCKERFILE);
    assert_int_equal(l.nrefs, 2);
    assert_string_equal(l.refs[0].ref, "registry:5000/app:1.0");
    assert_int_equal(l.refs[0].rule, FL_LINT_MUTABLE_TAG);
    assert_int_equal(l.refs[1].rule, FL_LINT_PINNED);
    fl_lint_free(&l);
}

/* A value far longer than an instruction may be (review: it was copied
 * into the instruction buffer unbounded, a heap overflow). */
static void test_long_syntax_directive(void **state)
{
    (void)state;
    size_t n = 300000;
    char *text = malloc(n + 64);
    assert_non_null(text);
    memcpy(text, "# syntax=", 9);
    memset(text + 9, 'a', n);
    snprintf(text + 9 + n, 64, "\nFROM nginx:1\n");
    struct fl_lint l;
    lint_text(&l, text, FL_LINT_DOCKERFILE);
    free(text);
    assert_int_equal(l.nomem, 0);
    assert_int_equal(l.nrefs, 2);
    assert_int_equal(l.refs[0].rule, FL_LINT_INVALID);
    assert_string_equal(l.refs[0].detail, "longer than 4096 bytes");
    assert_int_equal(l.refs[0].line, 1);
    assert_int_equal(l.refs[0].col, 10);
    assert_true(strlen(l.refs[0].ref) < 100);
    assert_string_equal(l.refs[1].ref, "nginx:1");
    fl_lint_free(&l);
}

/* Only a whole word opens a heredoc (review: "$((1<<2))" opened one named
 * 2 and hid the rest of the file); one never closed is an error. */
static void test_dockerfile_heredocs(void **state)
{
    (void)state;
    struct fl_lint l;
    lint_text(&l,
              "FROM alpine:3.19\n"
              "RUN echo $((1<<2)) a<<b \"<<x\"\n"
              "RUN cat <<-'EOT' >/x && cat 3<<\"B\"\n"
              "\tFROM inside:1\n"
              "\tEOT\n"
              "FROM inside:2\n"
              "B\n"
              "COPY <<EOF /etc/x\n"
              "\tEOF\n"                          /* no dash: not the terminator */
              "FROM inside:3\n"
              "EOF\n"
              "FROM nginx:latest\n",
              FL_LINT_DOCKERFILE);
    assert_int_equal(l.errors.n, 0);
    assert_int_equal(l.nrefs, 2);
    assert_string_equal(l.refs[0].ref, "alpine:3.19");
    assert_string_equal(l.refs[1].ref, "nginx:latest");
    assert_int_equal(l.refs[1].line, 12);
    fl_lint_free(&l);

    lint_text(&l, "FROM alpine:3.19\nRUN <<EOF\necho\nFROM nginx:latest\n", FL_LINT_DOCKERFILE);
    assert_int_equal(l.nrefs, 1);
    assert_int_equal(l.errors.n, 1);
    assert_int_equal(l.errors.items[0].line, 2);
    assert_int_equal(l.errors.items[0].col, 5);
    assert_non_null(strstr(l.errors.items[0].msg, "<<EOF is not closed"));
    assert_true(l.files[0].error);
    fl_lint_free(&l);
}

static void test_yaml_fooling(void **state)
{
    (void)state;
    struct fl_lint l;
    /* image keys that are not container images; a compose "$$" escape;
     * a null image; a document that is a plain list */
    lint_text(&l,
              "apiVersion: v1\n"
              "kind: ConfigMap\n"
              "data:\n"
              "  image: nginx\n"
              "---\n"
              "apiVersion: apps/v1\n"
              "kind: Deployment\n"
              "metadata: {name: d}\n"
              "spec:\n"
              "  template:\n"
              "    metadata:\n"
              "      annotations: {image: 'nginx:latest'}\n"
              "    spec:\n"
              "      containers:\n"
              "        - name: a\n"
              "          image:\n"
              "        - name: b\n"
              "          image: >-\n"
              "            nginx:1.2\n"
              "---\n"
              "- image: nginx\n"
              "---\n"
              "services:\n"
              "  x:\n"
              "    image: app$$x:1\n",
              FL_LINT_YAML);
    assert_int_equal(l.errors.n, 0);
    assert_int_equal(l.nrefs, 2);
    assert_string_equal(l.refs[0].ref, "nginx:1.2");     /* folded scalar */
    assert_int_equal(l.refs[0].line, 19);
    assert_int_equal(l.refs[0].col, 13);
    assert_string_equal(l.refs[1].ref, "app$x:1");
    assert_int_equal(l.refs[1].rule, FL_LINT_INVALID);
    fl_lint_free(&l);
}

/* A structure error in one document does not hide the next ones (review:
 * the loop stopped, a later finding was lost and exit 1 became 2). */
static void test_yaml_error_then_finding(void **state)
{
    (void)state;
    struct fl_lint l;
    lint_text(&l,
              "services:\n"
              "  a:\n"
              "    image: [nginx]\n"
              "---\n"
              "services:\n"
              "  b:\n"
              "    image: nginx:latest\n",
              FL_LINT_YAML);
    assert_int_equal(l.errors.n, 1);
    assert_int_equal(l.errors.items[0].line, 3);
    assert_true(l.files[0].error);
    assert_int_equal(l.nrefs, 1);
    assert_string_equal(l.refs[0].ref, "nginx:latest");
    assert_int_equal(fl_lint_findings(&l), 1);
    fl_lint_free(&l);
}

/* A reference longer than 4096 bytes, written so or by substitution, is
 * invalid (review: it was reported as out of memory, exit 2). */
static void test_long_reference(void **state)
{
    (void)state;
    size_t n = 5000;
    char *text = malloc(n + 64);
    assert_non_null(text);
    const char *head = "services:\n  a:\n    image: ";
    size_t h = strlen(head);
    memcpy(text, head, h);
    memset(text + h, 'a', n);
    snprintf(text + h + n, 64 - h, "\n");
    struct fl_lint l;
    lint_text(&l, text, FL_LINT_YAML);
    assert_int_equal(l.nomem, 0);
    assert_int_equal(l.errors.n, 0);
    assert_int_equal(l.nrefs, 1);
    assert_int_equal(l.refs[0].rule, FL_LINT_INVALID);
    assert_string_equal(l.refs[0].detail, "longer than 4096 bytes");
    assert_null(l.refs[0].written);     /* nothing was substituted */
    fl_lint_free(&l);

    /* 3000 characters, doubled by an ARG */
    memcpy(text, "ARG A=", 6);
    memset(text + 6, 'b', 3000);
    snprintf(text + 3006, 64, "\nFROM ${A}${A}:1\n");
    lint_text(&l, text, FL_LINT_DOCKERFILE);
    free(text);
    assert_int_equal(l.nomem, 0);
    assert_int_equal(l.nrefs, 1);
    assert_int_equal(l.refs[0].rule, FL_LINT_INVALID);
    assert_string_equal(l.refs[0].detail, "longer than 4096 bytes");
    assert_string_equal(l.refs[0].written, "${A}${A}:1");
    assert_true(strlen(l.refs[0].ref) < 100);
    fl_lint_free(&l);
}

static void test_subst(void **state)
{
    (void)state;
    char unset[64];
    char *s = fl_lint_subst("a${X:-b}c${Y-d}$$e${Z:+no}", NULL, NULL, 1, unset, sizeof unset);
    assert_string_equal(s, "abcd$e");
    assert_string_equal(unset, "");
    free(s);
    s = fl_lint_subst("x:$TAG-${OTHER}", NULL, NULL, 0, unset, sizeof unset);
    assert_string_equal(s, "x:$TAG-${OTHER}");
    assert_string_equal(unset, "TAG");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_positions),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_clean_and_bad),
        cmocka_unit_test(test_dockerfile_fooling),
        cmocka_unit_test(test_long_syntax_directive),
        cmocka_unit_test(test_dockerfile_heredocs),
        cmocka_unit_test(test_yaml_fooling),
        cmocka_unit_test(test_yaml_error_then_finding),
        cmocka_unit_test(test_long_reference),
        cmocka_unit_test(test_subst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
