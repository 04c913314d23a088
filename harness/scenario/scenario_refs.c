/* scenario_refs.c - check every ${...} reference once all names are known.
 *
 * What a name may mean depends on where the template is (enum fl_sc_scope):
 * a service's command may say ${port} (its own), requests may not; a
 * follow request may use its workload's captures. Services: S, S.port,
 * S.host, S.N, S.N.port, S.N.pid with N < replicas.
 *
 * Two names belong to one model field rather than to a scope: ${value}
 * (the element written) only in a Redis workload's command, ${each} and
 * ${each.port} (the replica sampled) only in a probe with `each:`. Such a
 * template is recognised by identity: the loader stores the very string it
 * recorded, so tpl_context() compares pointers with those fields. */
#include "scenario/scenario_internal.h"
#include "core/injector.h"
#include "core/target.h"
#include "base/params_parse.h"
#include "base/template.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

static const char *const builtins[] = {"seed", "out", "bindir"};

/* The field-bound names a template may use. */
struct tctx {
    int value;           /* ${value}: a Redis workload's command */
    const char *each;    /* ${each}: the service of a per-replica probe */
};

struct refwalk {
    struct fl_sc_loader *ld;
    const struct fl_sc_tpl *t;
    struct tctx c;
    size_t next;     /* offset just past the last good reference */
};

static int in_list(const char *const *l, size_t n, const char *s)
{
    for (size_t i = 0; l && i < n; i++)
        if (l[i] == s)
            return 1;
    return 0;
}

static struct tctx tpl_context(struct fl_sc_loader *ld, const struct fl_sc_tpl *t)
{
    struct tctx c = {0, NULL};
    if (t->scope != FL_SC_REQUEST)
        return c;
    for (size_t i = 0; i < ld->nworkloads && !c.value; i++) {
        const struct fl_workload *w = &ld->workloads[i];
        c.value = w->kind == FL_WORKLOAD_REDIS &&
                  in_list(w->redis.command, w->redis.ncommand, t->s);
    }
    for (size_t i = 0; i < ld->nprobes && !c.each; i++) {
        const struct fl_probe *p = &ld->probes[i];
        if (p->each && (p->url == t->s || p->at.addr == t->s ||
                        in_list(p->command, p->ncommand, t->s)))
            c.each = p->each;
    }
    return c;
}

static int is(const char *name, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(name, lit, len) == 0;
}

static const struct fl_service *service_n(struct fl_sc_loader *ld, const char *name, size_t len)
{
    for (size_t i = 0; i < ld->nservices; i++)
        if (is(name, len, ld->services[i].name))
            return &ld->services[i];
    return NULL;
}

/* ".volume.NAME" (after S.N): a volume that service s declares. */
static int volume_ref(const struct fl_service *s, const char *tail, size_t tl)
{
    static const char pre[] = ".volume.";
    size_t pl = sizeof pre - 1;
    if (tl <= pl || memcmp(tail, pre, pl) != 0)
        return 0;
    for (size_t i = 0; i < s->nvolumes; i++)
        if (is(tail + pl, tl - pl, s->volumes[i].name))
            return 1;
    return 0;
}

/* S.N, S.N.port, S.N.pid (and on the compose target S.N.host,
 * S.N.container, S.N.id, S.N.image): rest is what follows "S.". Returns 1
 * when valid; *replica is set to N when rest starts with digits. */
static int replica_ref(const struct fl_service *s, const char *rest, size_t len, long *replica,
                       int compose)
{
    size_t d = 0;
    long n = 0;
    while (d < len && rest[d] >= '0' && rest[d] <= '9' && d < 6)
        n = n * 10 + (rest[d++] - '0');
    if (d == 0 || (d < len && rest[d] >= '0' && rest[d] <= '9'))
        return 0;
    *replica = n;
    const char *tail = rest + d;
    size_t tl = len - d;
    if (!(tl == 0 || is(tail, tl, ".port") || is(tail, tl, ".pid") || volume_ref(s, tail, tl) ||
          (compose && (is(tail, tl, ".host") || is(tail, tl, ".container") ||
                       is(tail, tl, ".id") || is(tail, tl, ".image")))))
        return 0;
    return n < s->replicas;
}

/* 1 when name means something in t's scope. */
static int known(struct fl_sc_loader *ld, const struct fl_sc_tpl *t, const struct tctx *c,
                 const char *name, size_t len, long *replica)
{
    *replica = -1;
    if (c->value && is(name, len, "value"))
        return 1;
    if (c->each && (is(name, len, "each") || is(name, len, "each.port")))
        return 1;
    if (t->scope == FL_SC_SERVICE && (is(name, len, "port") || is(name, len, "replica")))
        return 1;
    /* ${volume.NAME} in a service: where its instance sees the volume. The
     * owner of a service template is not recorded, so any service's volume
     * name passes here; the target refuses the spawn of one without it. */
    for (size_t i = 0; t->scope == FL_SC_SERVICE && len > 7 && memcmp(name, "volume.", 7) == 0 &&
                       i < ld->nservices; i++)
        for (size_t k = 0; k < ld->services[i].nvolumes; k++)
            if (is(name + 7, len - 7, ld->services[i].volumes[k].name))
                return 1;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (is(name, len, builtins[i]))
            return 1;
    for (size_t i = 0; i < ld->nvars; i++)
        if (is(name, len, ld->vars[i].key))
            return 1;
    if (t->scope == FL_SC_FOLLOW && t->owner < ld->nworkloads) {
        const struct fl_workload *w = &ld->workloads[t->owner];
        for (size_t i = 0; i < w->ncapture; i++)
            if (is(name, len, w->capture[i].name))
                return 1;
    }
    const char *dot = memchr(name, '.', len);
    size_t sl = dot ? (size_t)(dot - name) : len;
    /* Names a fault of the scenario contributes (${proxy.NAME}): the
     * injector answers them at run time. */
    for (size_t i = 0; dot && i < ld->nfaults; i++) {
        const struct fl_injector_type *it = ld->faults[i].type;
        if (it && it->names && is(name, sl, it->names) && len > sl + 1)
            return 1;
    }
    /* ${proxy.NAME}: a declared proxy's listening host:port. */
    if (dot && is(name, sl, "proxy"))
        for (size_t i = 0; i < ld->nproxies; i++)
            if (is(dot + 1, len - sl - 1, ld->proxies[i].name))
                return 1;
    const struct fl_service *s = service_n(ld, name, sl);
    if (!s)
        return 0;
    if (!dot)
        return 1;
    const char *rest = dot + 1;
    size_t rl = len - sl - 1;
    if (is(rest, rl, "port") || is(rest, rl, "host"))
        return 1;
    return replica_ref(s, rest, rl, replica,
                       ld->sc->target && strcmp(ld->sc->target->name, "compose") == 0);
}

/* Add the names known in t's scope to b (for the message) and the simple
 * ones to cands (for did-you-mean). */
static void known_list(struct fl_sc_loader *ld, const struct fl_sc_tpl *t, const struct tctx *c,
                       struct fl_buf *b, const char **cands, size_t *nc, size_t max)
{
    const char *sep = "";
#define ADD(s) do { fl_buf_addf(b, "%s%s", sep, (s)); sep = ", "; \
                    if (*nc < max) cands[(*nc)++] = (s); } while (0)
    if (t->scope == FL_SC_SERVICE) {
        ADD("port");
        ADD("replica");
    }
    if (c->value)
        ADD("value");
    if (c->each) {
        ADD("each");
        ADD("each.port");
    }
    for (size_t i = 0; i < ld->nvars; i++)
        ADD(ld->vars[i].key);
    if (t->scope == FL_SC_FOLLOW && t->owner < ld->nworkloads) {
        const struct fl_workload *w = &ld->workloads[t->owner];
        for (size_t i = 0; i < w->ncapture; i++)
            ADD(w->capture[i].name);
    }
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        ADD(builtins[i]);
    for (size_t i = 0; i < ld->nservices; i++) {
        const char *n = ld->services[i].name;
        ADD(n);
        char buf[160];
        snprintf(buf, sizeof buf, "%s.port", n);
        char *p = fl_sc_strndup(ld, buf, strlen(buf));
        if (p)
            ADD(p);
        fl_buf_addf(b, ", %s.host, %s.N, %s.N.port, %s.N.pid (N < %d)", n, n, n, n,
                    ld->services[i].replicas);
        for (size_t k = 0; k < ld->services[i].nvolumes; k++)
            fl_buf_addf(b, ", %s.N.volume.%s", n, ld->services[i].volumes[k].name);
    }
    for (size_t i = 0; i < ld->nproxies; i++) {
        char buf[160];
        snprintf(buf, sizeof buf, "proxy.%s", ld->proxies[i].name);
        char *p = fl_sc_strndup(ld, buf, strlen(buf));
        if (p)
            ADD(p);
    }
#undef ADD
}

static struct fl_pos ref_pos(const struct fl_sc_tpl *t, size_t offset)
{
    struct fl_pos p = t->at.pos;
    if (t->at.exact && p.line > 0)
        p.col += (int)offset;
    return p;
}

static int on_ref(void *ud, const char *name, size_t len, size_t offset)
{
    struct refwalk *w = ud;
    struct fl_sc_loader *ld = w->ld;
    w->next = offset + len + 3;
    long replica;
    if (known(ld, w->t, &w->c, name, len, &replica))
        return 0;
    struct fl_buf b;
    fl_buf_init(&b, 8192);
    const char *cands[128];
    size_t nc = 0;
    known_list(ld, w->t, &w->c, &b, cands, &nc, 128);
    char nm[128];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < 100 ? len : 100), name);
    const char *sug = fl_suggest(nm, cands, nc);
    char hint[200] = "";
    const char *dot = memchr(name, '.', len);
    const struct fl_service *s = dot ? service_n(ld, name, (size_t)(dot - name)) : NULL;
    if (s && replica >= s->replicas)
        snprintf(hint, sizeof hint, "; service '%s' has %d replica%s, numbered 0 to %d", s->name,
                 s->replicas, s->replicas == 1 ? "" : "s", s->replicas - 1);
    else if (w->t->scope != FL_SC_SERVICE && is(name, len, "port"))
        snprintf(hint, sizeof hint, "; ${port} is only known in a service, use ${service.port}");
    else if (is(name, len, "value"))
        snprintf(hint, sizeof hint, "; ${value} is only known in the command of a redis workload");
    else if (is(name, len, "each") || is(name, len, "each.port"))
        snprintf(hint, sizeof hint, "; ${%s} is only known in a probe with each: SERVICE", nm);
    fl_sc_diag(ld, ref_pos(w->t, offset), "${%s} refers to nothing%s; known here: %s%s%s%s", nm,
               hint, fl_buf_str(&b), sug ? "; did you mean '" : "", sug ? sug : "",
               sug ? "'?" : "");
    fl_buf_free(&b);
    return 0;
}

/* Offset of the malformed "${" after the last good reference. */
static size_t malformed_at(const char *s, size_t from)
{
    size_t i = from;
    while (s[i]) {
        if (s[i] == '$' && s[i + 1] == '$')
            i += 2;
        else if (s[i] == '$' && s[i + 1] == '{')
            return i;
        else
            i++;
    }
    return from;
}

void fl_sc_check_refs(struct fl_sc_loader *ld)
{
    for (const struct fl_sc_tpl *t = ld->tpl_head; t; t = t->next) {
        struct refwalk w = {ld, t, tpl_context(ld, t), 0};
        struct fl_error err = {0};
        int rc = fl_template_refs(t->s, on_ref, &w, &err);
        if (rc == FL_EINVAL)
            fl_sc_diag(ld, ref_pos(t, malformed_at(t->s, w.next)), "malformed reference in "
                       "'%s': expected ${name} with a name made of letters, digits, '_', '.', "
                       "'-' (write $$ for a literal $)", t->s);
    }
}
