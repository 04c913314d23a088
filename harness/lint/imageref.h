/* imageref.h - container image references: parse, classify, normalize.
 *
 * The grammar is the one Docker, containerd and Kubernetes share
 * (distribution's reference package):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]       only when the first component
 *                                        has a '.' or a ':', or is
 *                                        "localhost" (else it is a path:
 *                                        "library/nginx", "bitnami/redis")
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex       sha256 needs 64 lowercase hex
 *
 * So "localhost:5000/app" has a port and no tag, "registry:5000/app:1.2"
 * has both, and "app:1.2@sha256:..." carries a tag that the digest
 * overrides (the runtime pulls by digest). A name without a domain is a
 * Docker Hub name; a one-component one lives in "library/".
 */
#ifndef FL_IMAGEREF_H
#define FL_IMAGEREF_H

#include <stddef.h>

struct fl_imageref {
    /* Spans into the parsed string (not NUL-terminated). */
    const char *domain;  size_t domain_len;   /* NULL: Docker Hub */
    const char *path;    size_t path_len;     /* "library/nginx" is "nginx" as written */
    const char *tag;     size_t tag_len;      /* NULL: none */
    const char *digest;  size_t digest_len;   /* NULL: none; "sha256:..." */
};

/* Parse s[0..len). Returns 0 and fills out, or FL_EINVAL and points *why
 * (static text, may be NULL) at the reason: "uppercase letters in the
 * repository name", "empty tag", ... */
int fl_imageref_parse(const char *s, size_t len, struct fl_imageref *out, const char **why);

/* The fully qualified form, "docker.io/library/nginx:latest" (the implicit
 * registry, library/ and tag made explicit; a digest kept; a tag next to a
 * digest kept as well). Writes at most size bytes (NUL included); returns
 * the length it needed, like snprintf. */
size_t fl_imageref_normalize(const struct fl_imageref *r, char *buf, size_t size);

#endif
