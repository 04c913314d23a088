/* stop.c - evaluating stop conditions (stop.h). */
#include "core/stop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const conditions[] = {"unhealthy", "equals", "not_equals", "above", "below",
                                         NULL};

const struct fl_param fl_stop_params[FL_STOP_NPARAMS] = {
    [FL_STOP_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "the probe whose samples are watched",
                       NULL, 0, 0},
    [FL_STOP_CONDITION] = {"condition", FL_PT_ENUM, 0, "unhealthy",
                           "unhealthy: a sample that is not ok (error status, failure, timeout); "
                           "equals / not_equals: the sample's value as text; above / below: "
                           "its value as a number",
                           conditions, 0, 0},
    [FL_STOP_VALUE] = {"value", FL_PT_STRING, 0, NULL,
                       "what equals, not_equals, above and below compare with", NULL, 0, 0},
    [FL_STOP_FOR] = {"for", FL_PT_DURATION, 0, "0s",
                     "how long the condition must hold without a break (0: the first sample)",
                     NULL, 0, 0},
};

void fl_stop_state_init(struct fl_stop_state *st)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < FL_STOP_KEYS; i++)
        st->since_us[i] = -1;
}

static int number(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Whether one sample satisfies the condition. A value that is not a
 * number satisfies neither above nor below: a condition on a number must
 * not fire on "n/a" (nor hide behind it: use unhealthy for that). */
static int holds(const struct fl_stop *s, const struct fl_op *op)
{
    const struct fl_pval *v = s->args.v;
    const char *want = v[FL_STOP_VALUE].set ? v[FL_STOP_VALUE].s : "";
    double a, b;
    switch ((enum fl_stop_cond)v[FL_STOP_CONDITION].e) {
    case FL_STOP_UNHEALTHY: return op->type != FL_OK;
    case FL_STOP_EQUALS: return op->type == FL_OK && op->value && strcmp(op->value, want) == 0;
    case FL_STOP_NOT_EQUALS: return op->type == FL_OK && (!op->value || strcmp(op->value, want) != 0);
    case FL_STOP_ABOVE: return op->type == FL_OK && number(op->value, &a) && number(want, &b) && a > b;
    case FL_STOP_BELOW: return op->type == FL_OK && number(op->value, &a) && number(want, &b) && a < b;
    }
    return 0;
}

static int met(struct fl_stop_state *st, size_t k, int64_t now_us)
{
    st->met = 1;
    st->met_us = now_us;
    st->met_key = st->keys[k];
    return 1;
}

int fl_stop_feed(const struct fl_stop *s, struct fl_stop_state *st, const struct fl_op *op)
{
    if (st->met)
        return 1;
    if (strcmp(op->f, FL_F_PROBE) != 0 || op->type == FL_INVOKE ||
        strcmp(op->source, s->args.v[FL_STOP_PROBE].s) != 0)
        return 0;
    size_t k = 0;
    while (k < st->nkeys && st->keys[k] != op->key &&
           !(st->keys[k] && op->key && strcmp(st->keys[k], op->key) == 0))
        k++;
    if (k == st->nkeys) {
        if (st->nkeys == FL_STOP_KEYS)
            return 0;          /* past 64 replicas: the first 64 are watched */
        st->keys[st->nkeys++] = op->key;
    }
    if (!holds(s, op)) {
        st->since_us[k] = -1;
        return 0;
    }
    /* The streak starts with the first sample that holds; a probe that
     * hangs reports its timeout late, so the op's time is when it ended:
     * conservative (the condition holds at least that long). */
    if (st->since_us[k] < 0)
        st->since_us[k] = op->time_us;
    if (op->time_us - st->since_us[k] >= (int64_t)s->args.v[FL_STOP_FOR].ms * 1000)
        return met(st, k, op->time_us);
    return 0;
}

int fl_stop_tick(const struct fl_stop *s, struct fl_stop_state *st, int64_t now_us)
{
    if (st->met)
        return 1;
    int64_t need = (int64_t)s->args.v[FL_STOP_FOR].ms * 1000;
    for (size_t k = 0; k < st->nkeys; k++)
        if (st->since_us[k] >= 0 && now_us - st->since_us[k] >= need)
            return met(st, k, now_us);
    return 0;
}
