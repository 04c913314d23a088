#include "core/run_context.h"
#include "core/injector.h"
#include "core/target.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int is(const char *name, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(name, lit, len) == 0;
}

int fl_run_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                   struct fl_error *err)
{
    struct fl_run *r = ud;
    if (is(name, len, "seed"))
        return fl_buf_addf(out, "%llu", (unsigned long long)r->seed) ? FL_ENOMEM : 0;
    if (is(name, len, "out"))
        return fl_buf_adds(out, r->outdir ? r->outdir : ".") ? FL_ENOMEM : 0;
    if (is(name, len, "bindir"))
        return fl_buf_adds(out, r->bindir ? r->bindir : ".") ? FL_ENOMEM : 0;
    const char *v = r->sc ? fl_scenario_var(r->sc, name, len) : NULL;
    if (v)
        return fl_buf_adds(out, v) ? FL_ENOMEM : 0;
    if (r->proxies && r->resolve_proxy && len > 6 && memcmp(name, "proxy.", 6) == 0) {
        int rc = r->resolve_proxy(r->proxies, name, len, out);
        if (rc != FL_ENOTFOUND)
            return rc;
    }
    for (size_t i = 0; i < r->nfaults; i++) {
        struct fl_fault_run *fr = r->faults[i];
        const struct fl_injector_type *t = fr->fault->type;
        size_t nl = t->names ? strlen(t->names) : 0;
        if (!t->resolve || nl == 0 || len <= nl || memcmp(name, t->names, nl) != 0 ||
            name[nl] != '.')
            continue;
        int rc = t->resolve(fr, name, len, out, err);
        if (rc != FL_ENOTFOUND)
            return rc;
    }
    if (r->target && !r->target->destroyed && r->target->type->resolve)
        return r->target->type->resolve(r->target, name, len, out, err);
    return FL_ENOTFOUND;
}

const struct fl_op *fl_run_record(struct fl_run *r, int32_t process,
                                  enum fl_optype type, const char *source,
                                  const char *f, const char *key,
                                  const char *value, const char *error)
{
    return fl_history_add(r->history, fl_run_now(r), process, type, source, f,
                          key, value, error);
}

void fl_run_log(struct fl_run *r, int level, const char *fmt, ...)
{
    if (!r->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->log(r->log_ud, level, msg);
}
