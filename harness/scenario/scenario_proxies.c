/* scenario_proxies.c - the proxies: section. Each entry is a fault proxy
 * faultline runs for the whole run:
 *
 *   proxies:
 *     export: { upstream: "127.0.0.1:${upstream.port}", protocol: http }
 *
 * and ${proxy.export} is where it listens. Faults name it with their
 * `proxy` parameter. */
#include "scenario/scenario_internal.h"
#include "core/injector.h"
#include "checkers/checker.h"

#include <stdio.h>
#include <string.h>

#define MAX_PROXIES 64

enum { X_UPSTREAM, X_PROTOCOL, X_LISTEN, X_COUNT };

static const char *const proxy_keys[X_COUNT] = {
    [X_UPSTREAM] = "upstream", [X_PROTOCOL] = "protocol", [X_LISTEN] = "listen",
};

static const char *const protocols[] = {"tcp", "http", NULL};

static void one_proxy(struct fl_sc_loader *ld, struct fl_proxy_decl *x, struct fy_node *v)
{
    char ctx[128];
    snprintf(ctx, sizeof ctx, "proxy '%s'", x->name);
    struct fl_sc_field f[X_COUNT];
    if (fl_sc_fields(ld, v, proxy_keys, X_COUNT, ctx, x->pos, f))
        return;
    if (!f[X_UPSTREAM].present) {
        fl_sc_diag(ld, x->pos, "%s: missing required key 'upstream'; expected host:port like "
                   "\"127.0.0.1:${api.port}\"", ctx);
        return;
    }
    x->upstream = fl_sc_tpl(ld, &f[X_UPSTREAM], "upstream", "host:port like "
                            "\"127.0.0.1:${api.port}\"", FL_SC_REQUEST, 0);
    int proto = 0;
    fl_sc_choice(ld, &f[X_PROTOCOL], "protocol", protocols, &proto);
    x->http = proto == 1;
    x->listen = "127.0.0.1:0";
    if (f[X_LISTEN].present) {
        const char *l = fl_sc_str(ld, &f[X_LISTEN], "listen", "127.0.0.1:PORT");
        if (l && (strncmp(l, "127.", 4) != 0 || !strchr(l, ':')))
            fl_sc_diag(ld, fl_sc_pos(ld, f[X_LISTEN].val, f[X_LISTEN].key_pos),
                       "listen: expected a loopback address like 127.0.0.1:0 (0: any free "
                       "port); got '%s'", l);
        else if (l)
            x->listen = l;
    }
}

void fl_sc_proxies(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_mapping(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "proxies: expected a mapping of NAME: "
                   "{ upstream: \"127.0.0.1:${api.port}\" }; got %s", fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    if (!fl_sc_count_fits(ld, key_pos, "proxies", cnt, MAX_PROXIES))
        return;
    ld->proxies = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->proxies);
    if (!ld->proxies)
        return;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && ld->nproxies < (size_t)cnt) {
        struct fl_proxy_decl x = {0};
        x.name = fl_sc_key(ld, p, &x.pos, key_pos);
        if (!x.name)
            continue;
        if (!fl_sc_valid_name(x.name, 0)) {
            fl_sc_diag(ld, x.pos, "proxy '%s': expected a name made of letters, digits, "
                       "'_', '-'", x.name);
            continue;
        }
        if (!fl_sc_name_fits(ld, x.pos, "proxy", x.name))
            continue;
        one_proxy(ld, &x, fl_sc_val(fy_node_pair_value(p)));
        ld->proxies[ld->nproxies++] = x;
    }
}

/* A checker's `proxy` must be declared too (rate_limit). */
void fl_sc_proxy_invariant_refs(struct fl_sc_loader *ld)
{
    for (size_t i = 0; i < ld->ninvariants; i++) {
        const struct fl_invariant *iv = &ld->invariants[i];
        if (!iv->type)
            continue;
        int k = fl_param_index(iv->type->params, iv->type->nparams, "proxy");
        if (k < 0 || !iv->args.v[k].set)
            continue;
        size_t j = 0;
        while (j < ld->nproxies && strcmp(ld->proxies[j].name, iv->args.v[k].s) != 0)
            j++;
        if (j == ld->nproxies)
            fl_sc_diag(ld, iv->args.v[k].pos, "%s: proxy '%s' is not declared under proxies:",
                       iv->type->name, iv->args.v[k].s);
        else if (!ld->proxies[j].http)
            fl_sc_diag(ld, iv->args.v[k].pos, "%s reads the HTTP exchanges of proxy '%s': it "
                       "needs protocol: http", iv->type->name, iv->args.v[k].s);
    }
}

void fl_sc_proxy_refs(struct fl_sc_loader *ld)
{
    for (size_t i = 0; i < ld->nfaults; i++) {
        const struct fl_fault *ft = &ld->faults[i];
        if (!ft->type)
            continue;
        int k = fl_param_index(ft->type->params, ft->type->nparams, "proxy");
        if (k < 0 || !ft->args.v[k].set)
            continue;
        const struct fl_pval *v = &ft->args.v[k];
        const struct fl_proxy_decl *x = NULL;
        for (size_t j = 0; j < ld->nproxies && !x; j++)
            if (strcmp(ld->proxies[j].name, v->s) == 0)
                x = &ld->proxies[j];
        if (!x) {
            char names[512] = "";
            size_t off = 0;
            for (size_t j = 0; j < ld->nproxies && off < sizeof names; j++)
                off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", j ? ", " : "",
                                        ld->proxies[j].name);
            fl_sc_diag(ld, v->pos, "%s: proxy '%s' is not declared under proxies: (%s%s)",
                       ft->type->name, v->s, ld->nproxies ? "declared: " : "none declared",
                       names);
            continue;
        }
        if (strncmp(ft->type->name, "http.", 5) == 0 && !x->http)
            fl_sc_diag(ld, v->pos, "%s acts on HTTP requests: proxy '%s' needs protocol: http",
                       ft->type->name, x->name);
    }
}
