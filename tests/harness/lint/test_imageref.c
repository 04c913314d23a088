/* test_imageref.c - the image reference grammar: registries with ports,
 * tags, digests, library names, and what is not a reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lint/imageref.h"

#define D "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"

struct good {
    const char *ref, *domain, *path, *tag, *digest, *normal;
};

static const struct good goods[] = {
    {"nginx", NULL, "nginx", NULL, NULL, "docker.io/library/nginx:latest"},
    {"nginx:1.25", NULL, "nginx", "1.25", NULL, "docker.io/library/nginx:1.25"},
    {"library/nginx", NULL, "library/nginx", NULL, NULL, "docker.io/library/nginx:latest"},
    {"docker.io/nginx:1", "docker.io", "nginx", "1", NULL, "docker.io/library/nginx:1"},
    {"bitnami/redis:7.2", NULL, "bitnami/redis", "7.2", NULL, "docker.io/bitnami/redis:7.2"},
    /* a port is not a tag: the ':' comes before the last '/' */
    {"localhost:5000/app", "localhost:5000", "app", NULL, NULL, "localhost:5000/app:latest"},
    {"localhost:5000/app:1.2", "localhost:5000", "app", "1.2", NULL, "localhost:5000/app:1.2"},
    {"registry:5000/app:1.2", "registry:5000", "app", "1.2", NULL, "registry:5000/app:1.2"},
    {"registry:5000/team/app", "registry:5000", "team/app", NULL, NULL,
     "registry:5000/team/app:latest"},
    {"localhost/app", "localhost", "app", NULL, NULL, "localhost/app:latest"},
    {"ghcr.io/acme/tool", "ghcr.io", "acme/tool", NULL, NULL, "ghcr.io/acme/tool:latest"},
    {"[::1]:5000/app:2", "[::1]:5000", "app", "2", NULL, "[::1]:5000/app:2"},
    {"app@" D, NULL, "app", NULL, D, "docker.io/library/app@" D},
    {"app:1.2@" D, NULL, "app", "1.2", D, "docker.io/library/app:1.2@" D},
    {"registry:5000/app@" D, "registry:5000", "app", NULL, D, "registry:5000/app@" D},
    {"my_org/my__app-x.y:v1_2.3-rc", NULL, "my_org/my__app-x.y", "v1_2.3-rc", NULL,
     "docker.io/my_org/my__app-x.y:v1_2.3-rc"},
    /* uppercase in the first component makes it a host */
    {"Registry.Example.com/app", "Registry.Example.com", "app", NULL, NULL,
     "Registry.Example.com/app:latest"},
    {"nginx:LATEST", NULL, "nginx", "LATEST", NULL, "docker.io/library/nginx:LATEST"},
};

static void span_eq(const char *want, const char *p, size_t n)
{
    if (!want) {
        assert_null(p);
        return;
    }
    assert_non_null(p);
    char got[512];
    snprintf(got, sizeof got, "%.*s", (int)n, p);
    assert_string_equal(got, want);
}

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        const struct good *g = &goods[i];
        struct fl_imageref r;
        const char *why = NULL;
        if (fl_imageref_parse(g->ref, strlen(g->ref), &r, &why) != 0)
            fail_msg("%s: %s", g->ref, why ? why : "?");
        span_eq(g->domain, r.domain, r.domain_len);
        span_eq(g->path, r.path, r.path_len);
        span_eq(g->tag, r.tag, r.tag_len);
        span_eq(g->digest, r.digest, r.digest_len);
        char normal[512];
        size_t n = fl_imageref_normalize(&r, normal, sizeof normal);
        assert_int_equal(n, strlen(g->normal));
        assert_string_equal(normal, g->normal);
    }
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "Nginx",                       /* uppercase in a repository name */
        "acme/App",
        "app:",                        /* empty tag */
        ":1.0",                        /* no name */
        "app:-x",                      /* a tag starts with a word character */
        "-app",
        "a//b",
        "app/",
        "foo___bar",                   /* at most two underscores */
        "foo..bar",
        "app:1.0 ",                    /* whitespace */
        "app@sha256:abc",              /* short digest */
        "app@sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB",
        "app@" ,                       /* empty digest */
        "app@1234",                    /* no algorithm */
        "registry:abc/app",            /* a port is digits */
        "registry:123456/app",
        "-host.com/app",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fl_imageref r;
        const char *why = NULL;
        if (fl_imageref_parse(bad[i], strlen(bad[i]), &r, &why) == 0)
            fail_msg("'%s' parsed as valid", bad[i]);
        assert_non_null(why);
    }
}

static void test_normalize_truncates_like_snprintf(void **state)
{
    (void)state;
    struct fl_imageref r;
    assert_int_equal(fl_imageref_parse("nginx", 5, &r, NULL), 0);
    char small[8];
    size_t need = fl_imageref_normalize(&r, small, sizeof small);
    assert_int_equal(need, strlen("docker.io/library/nginx:latest"));
    assert_string_equal(small, "docker.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_normalize_truncates_like_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
