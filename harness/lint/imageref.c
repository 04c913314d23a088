/* imageref.c - see imageref.h for the grammar. */
#include "lint/imageref.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

#define TAG_MAX 128
#define NAME_MAX_LEN 255   /* distribution's limit on the whole name */

static int lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int set_why(const char **why, const char *text)
{
    if (why)
        *why = text;
    return FL_EINVAL;
}

/* [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static int path_component_ok(const char *s, size_t n)
{
    if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (lower_alnum(s[i]))
            continue;
        if (s[i] == '.' || s[i] == '_') {
            size_t run = 1;
            while (i + run < n && s[i + run] == '_' && s[i] == '_')
                run++;
            if ((s[i] == '.' && run > 1) || run > 2 || !lower_alnum(s[i + run]))
                return 0;
            i += run - 1;
        } else if (s[i] == '-') {
            while (i + 1 < n && s[i + 1] == '-')
                i++;
            if (!lower_alnum(s[i + 1]))
                return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* host [":" port]; host is dot-separated labels of [A-Za-z0-9-] that
 * neither start nor end with '-', or a bracketed IPv6 literal. */
static int domain_ok(const char *s, size_t n)
{
    const char *colon = NULL;
    size_t hn = n;
    if (n > 0 && s[0] == '[') {
        const char *end = memchr(s, ']', n);
        if (!end)
            return 0;
        for (const char *p = s + 1; p < end; p++)
            if (!hex(*p) && !(*p >= 'A' && *p <= 'F') && *p != ':' && *p != '.')
                return 0;
        hn = (size_t)(end - s) + 1;
        if (hn < n && s[hn] != ':')
            return 0;
        colon = hn < n ? s + hn : NULL;
    } else {
        colon = memchr(s, ':', n);
        hn = colon ? (size_t)(colon - s) : n;
        size_t start = 0;
        for (size_t i = 0; i <= hn; i++) {
            if (i < hn && s[i] != '.')
                continue;
            size_t ln = i - start;
            if (ln == 0 || s[start] == '-' || s[i - 1] == '-')
                return 0;
            for (size_t k = start; k < i; k++)
                if (!alnum(s[k]) && s[k] != '-')
                    return 0;
            start = i + 1;
        }
    }
    if (colon) {
        size_t pn = n - (size_t)(colon - s) - 1;
        if (pn == 0 || pn > 5)
            return 0;
        for (size_t i = 1; i <= pn; i++)
            if (colon[i] < '0' || colon[i] > '9')
                return 0;
    }
    return hn > 0;
}

static int digest_ok(const char *s, size_t n, const char **why)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return set_why(why, "a digest is ALGORITHM:HEX (sha256:...)");
    size_t an = (size_t)(colon - s), en = n - an - 1;
    for (size_t i = 0; i < an; i++)
        if (!lower_alnum(s[i]) && !(i > 0 && i + 1 < an && strchr("+._-", s[i])))
            return set_why(why, "invalid digest algorithm");
    if (an == 6 && memcmp(s, "sha256", 6) == 0) {
        if (en != 64)
            return set_why(why, "a sha256 digest has 64 hex digits");
        for (size_t i = 0; i < en; i++)
            if (!hex(colon[1 + i]))
                return set_why(why, "a sha256 digest has 64 lowercase hex digits");
        return 0;
    }
    if (an == 6 && memcmp(s, "sha512", 6) == 0 && en != 128)
        return set_why(why, "a sha512 digest has 128 hex digits");
    if (en < 32)
        return set_why(why, "a digest's hex part has at least 32 characters");
    for (size_t i = 0; i < en; i++)
        if (!alnum(colon[1 + i]) && colon[1 + i] != '=' && colon[1 + i] != '_' &&
            colon[1 + i] != '-')
            return set_why(why, "invalid character in the digest");
    return 0;
}

static int tag_ok(const char *s, size_t n)
{
    if (n == 0 || n > TAG_MAX || !(alnum(s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return 0;
    return 1;
}

int fl_imageref_parse(const char *s, size_t len, struct fl_imageref *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (why)
        *why = NULL;
    if (len == 0)
        return set_why(why, "empty image reference");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return set_why(why, "whitespace or a non-ASCII character in the reference");
    const char *at = memchr(s, '@', len);
    size_t nlen = at ? (size_t)(at - s) : len;
    if (at) {
        out->digest = at + 1;
        out->digest_len = len - nlen - 1;
        if (digest_ok(out->digest, out->digest_len, why))
            return FL_EINVAL;
    }
    /* The tag follows the last ':' after the last '/' ("host:5000/app"
     * has none). */
    const char *slash = NULL;
    for (size_t i = 0; i < nlen; i++)
        if (s[i] == '/')
            slash = s + i;
    const char *from = slash ? slash + 1 : s;
    const char *colon = memchr(from, ':', nlen - (size_t)(from - s));
    if (colon) {
        out->tag = colon + 1;
        out->tag_len = nlen - (size_t)(colon + 1 - s);
        if (out->tag_len == 0)
            return set_why(why, "empty tag after ':'");
        if (!tag_ok(out->tag, out->tag_len))
            return set_why(why, "invalid tag (letters, digits, '_', '.', '-'; at most 128)");
        nlen = (size_t)(colon - s);
    }
    if (nlen == 0)
        return set_why(why, "no repository name");
    if (nlen > NAME_MAX_LEN)
        return set_why(why, "repository name longer than 255 characters");
    const char *first_end = memchr(s, '/', nlen);
    if (first_end) {
        size_t fn = (size_t)(first_end - s);
        int is_domain = (fn == 9 && memcmp(s, "localhost", 9) == 0) ||
                        memchr(s, '.', fn) || memchr(s, ':', fn);
        for (size_t i = 0; !is_domain && i < fn; i++)
            is_domain = s[i] >= 'A' && s[i] <= 'Z';
        if (is_domain) {
            if (!domain_ok(s, fn))
                return set_why(why, "invalid registry host or port");
            out->domain = s;
            out->domain_len = fn;
        }
    }
    out->path = out->domain ? s + out->domain_len + 1 : s;
    out->path_len = nlen - (size_t)(out->path - s);
    size_t start = 0;
    for (size_t i = 0; i <= out->path_len; i++) {
        if (i < out->path_len && out->path[i] != '/')
            continue;
        const char *c = out->path + start;
        size_t cn = i - start;
        for (size_t k = 0; k < cn; k++)
            if (c[k] >= 'A' && c[k] <= 'Z')
                return set_why(why, "uppercase letters in the repository name");
        if (!path_component_ok(c, cn))
            return set_why(why, cn ? "invalid repository name component"
                                   : "empty repository name component");
        start = i + 1;
    }
    return 0;
}

size_t fl_imageref_normalize(const struct fl_imageref *r, char *buf, size_t size)
{
    int hub = r->domain == NULL ||
              (r->domain_len == 9 && memcmp(r->domain, "docker.io", 9) == 0) ||
              (r->domain_len == 13 && memcmp(r->domain, "index.docker.io", 13) == 0);
    int library = hub && !memchr(r->path, '/', r->path_len);
    int n = snprintf(buf, size, "%.*s/%s%.*s", hub ? 9 : (int)r->domain_len,
                     hub ? "docker.io" : r->domain, library ? "library/" : "",
                     (int)r->path_len, r->path);
    size_t used = n > 0 ? (size_t)n : 0;
    const char *tag = r->tag ? r->tag : r->digest ? NULL : "latest";
    size_t tag_len = r->tag ? r->tag_len : 6;
    if (tag) {
        n = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, ":%.*s",
                     (int)tag_len, tag);
        used += n > 0 ? (size_t)n : 0;
    }
    if (r->digest) {
        n = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, "@%.*s",
                     (int)r->digest_len, r->digest);
        used += n > 0 ? (size_t)n : 0;
    }
    return used;
}
