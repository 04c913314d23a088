/* target.c - the target interface's shared pieces (target.h). */
#include "core/target.h"

#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
    "signal", "kill", "terminate", "freeze", "block", "start", "fs", "env", "network",
};

const char *fl_inst_state_name(enum fl_inst_state s)
{
    switch (s) {
    case FL_INST_STOPPED: return "stopped";
    case FL_INST_STARTING: return "starting";
    case FL_INST_READY: return "ready";
    case FL_INST_BLOCKED: return "blocked";
    }
    return "?";
}

void fl_target_ops_names(unsigned ops, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
        if (!(ops & (1u << i)) || n >= len)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", op_names[i]);
        if (w > 0)
            n += (size_t)w;
    }
}

int fl_target_op_check(struct fl_target *t, const char *op, int present, struct fl_error *err)
{
    if (!t || t->destroyed)
        return fl_error_set(err, FL_EABORT, "%s: the target is gone (run aborted)", op);
    if (!present)
        return fl_error_set(err, FL_EINVAL, "target '%s' cannot %s", t->type->name, op);
    return 0;
}
