#include "injectors/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t fl_inj_pick(struct fl_fault_run *fr, int svc_idx, int pick_idx,
                   int (*filter)(const struct fl_instance *),
                   struct fl_instance **out, struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    const char *svc = a->v[svc_idx].s;
    size_t n = fl_pick_instances(fr->run, svc, &a->v[pick_idx].pick, filter, out, FL_MAX_PICK);
    if (n == 0)
        fl_error_set(err, FL_EINJECT, "no instance of service '%s' to act on", svc);
    return n;
}

void fl_inj_add_key(struct fl_fault_run *fr, const struct fl_instance *in)
{
    size_t len = strlen(fr->key);
    snprintf(fr->key + len, sizeof fr->key - len, "%s%s", len ? "," : "", in->id);
}

void fl_inj_descf(struct fl_fault_run *fr, const char *fmt, ...)
{
    size_t len = strlen(fr->desc);
    if (len + 1 >= sizeof fr->desc)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fr->desc + len, sizeof fr->desc - len, fmt, ap);
    va_end(ap);
}
