/* net_common.c - see net_common.h. */
#include "injectors/net_common.h"
#include "injectors/common.h"
#include "proxy/proxy_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fl_net_directions[] = {"downstream", "upstream", NULL};

static struct fl_proxy *proxy_of(struct fl_fault_run *fr, struct fl_error *err)
{
    const struct fl_injector_type *t = fr->fault->type;
    int k = fl_param_index(t->params, t->nparams, "proxy");
    const char *name = k >= 0 ? fr->fault->args.v[k].s : NULL;
    struct fl_proxy *p = name ? fl_proxy_set_find(fr->run->proxies, name) : NULL;
    if (!p)
        fl_error_set(err, FL_EINJECT, "%s: no running proxy '%s'", t->name, name ? name : "?");
    return p;
}

static void toxic_name(struct fl_fault_run *fr, char *buf, size_t len)
{
    snprintf(buf, len, "fault-%d", fr->index);
}

/* One parameter into the toxic: its text as the toxic's attribute. */
static int set_param(struct fl_toxic *t, const struct fl_param *p, const struct fl_pval *v,
                     struct fl_error *err)
{
    char val[1100];
    if (strcmp(p->name, "direction") == 0) {
        t->stream = v->e == 1 ? FL_UPSTREAM : FL_DOWNSTREAM;
        return 0;
    }
    if (strcmp(p->name, "toxicity") == 0) {
        char *end;
        double x = strtod(v->s, &end);
        if (end == v->s || *end || x < 0 || x > 1)
            return fl_error_set(err, FL_EINJECT, "toxicity: expected a number from 0 to 1, "
                                "got '%s'", v->s);
        t->toxicity = x;
        return 0;
    }
    if (strcmp(p->name, "on") == 0) {
        t->on_response = v->e == 1;
        return 0;
    }
    const char *attr = p->name;
    switch (p->type) {
    case FL_PT_DURATION:
        snprintf(val, sizeof val, "%llu", (unsigned long long)v->ms);
        break;
    case FL_PT_INT:
        snprintf(val, sizeof val, "%lld", v->i);
        break;
    case FL_PT_BOOL:
        snprintf(val, sizeof val, "%s", v->b ? "true" : "false");
        break;
    case FL_PT_STRINGS: {
        /* headers: "Name: value" lines */
        size_t off = 0;
        val[0] = '\0';
        for (size_t i = 0; i < v->nlist && off < sizeof val; i++)
            off += (size_t)snprintf(val + off, sizeof val - off, "%s\r\n", v->list[i]);
        break;
    }
    default:
        snprintf(val, sizeof val, "%s", v->s ? v->s : "");
        break;
    }
    if (strcmp(attr, "rate") == 0 && t->kind == FL_TX_HTTP_RATELIMIT) {
        double per_sec;
        if (fl_parse_rate(v->s, &per_sec))
            return fl_error_set(err, FL_EINJECT, "rate: expected a rate like 5/s or 300/m, "
                                "got '%s'", v->s);
        snprintf(val, sizeof val, "%.6f", per_sec);
        attr = "per_sec";
    }
    if (strcmp(attr, "delay") == 0 && t->kind == FL_TX_HTTP_DELAY)
        attr = "latency";
    int rc = fl_toxic_set_attr(t, attr, val, err);
    if (rc && rc != FL_ENOTFOUND)
        return FL_EINJECT;
    return 0;
}

int fl_net_inject(struct fl_fault_run *fr, enum fl_toxic_kind kind, struct fl_error *err)
{
    struct fl_proxy *p = proxy_of(fr, err);
    if (!p)
        return FL_EINJECT;
    struct fl_toxic t;
    fl_toxic_defaults(&t, kind);
    toxic_name(fr, t.name, sizeof t.name);
    const struct fl_args *a = &fr->fault->args;
    for (size_t i = 0; i < a->n; i++) {
        const struct fl_param *prm = &a->params[i];
        if (!a->v[i].set || strcmp(prm->name, "proxy") == 0)
            continue;
        int rc = set_param(&t, prm, &a->v[i], err);
        if (rc)
            return rc;
    }
    int rc = fl_proxy_add_toxic(p, &t, err);
    if (rc)
        return FL_EINJECT;
    struct fl_buf b;
    fl_buf_init(&b, 2048);
    fl_toxic_attrs_terse(&t, &b);
    fl_inj_descf(fr, "%s on proxy %s (%s, toxicity %g): {%s}", fl_toxic_kind_name(kind),
                 fl_proxy_name(p), t.stream == FL_UPSTREAM ? "upstream" : "downstream",
                 t.toxicity, fl_buf_str(&b));
    fl_buf_free(&b);
    snprintf(fr->key, sizeof fr->key, "%s", fl_proxy_name(p));
    return 0;
}

int fl_net_revert(struct fl_fault_run *fr, struct fl_error *err)
{
    (void)err;
    struct fl_proxy *p = fl_proxy_set_find(fr->run->proxies,
                                           fr->fault->args.v[fl_param_index(
                                               fr->fault->type->params, fr->fault->type->nparams,
                                               "proxy")].s);
    if (!p)
        return 0;   /* the proxy is gone: so is the toxic */
    char name[FL_TOXIC_NAME_MAX];
    toxic_name(fr, name, sizeof name);
    fl_proxy_remove_toxic(p, name);
    return 0;
}

int fl_net_down(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_proxy *p = proxy_of(fr, err);
    if (!p)
        return FL_EINJECT;
    if (fl_proxy_set_enabled(p, 0, err))
        return FL_EINJECT;
    fl_inj_descf(fr, "proxy %s down: connections closed and refused", fl_proxy_name(p));
    snprintf(fr->key, sizeof fr->key, "%s", fl_proxy_name(p));
    return 0;
}

int fl_net_up(struct fl_fault_run *fr, struct fl_error *err)
{
    int k = fl_param_index(fr->fault->type->params, fr->fault->type->nparams, "proxy");
    struct fl_proxy *p = fl_proxy_set_find(fr->run->proxies, fr->fault->args.v[k].s);
    if (!p)
        return 0;
    return fl_proxy_set_enabled(p, 1, err) ? FL_EINJECT : 0;
}
