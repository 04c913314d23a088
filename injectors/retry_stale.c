/* retry_stale.c - re-send a request for keys a workload captured earlier,
 * after their state changed: retry a job that already completed or failed
 * (the frontend's "retry" button), or send several identical copies at
 * once (a double click, a client retrying on a timeout). What happens next
 * is recorded (the key read before, every copy's answer, polls until the
 * status is final again) for the fresh_retry and unique_effects checkers.
 *
 * An instant fault in the timeline's sense: no heal; the injection ends
 * when every chain has ended (see resend.h). */
#include "injectors/common.h"
#include "injectors/resend.h"

enum { P_WORKLOAD, P_STATE, P_COUNT, P_COPIES, P_SERVICE, P_METHOD, P_PATH, P_POLL,
       P_STATUS, P_UNTIL, P_EVERY, P_TIMEOUT };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose captured keys (job ids) are resent, earliest accepted first"},
    [P_STATE] = {"state", FL_PT_STRINGS, 0, NULL, "only keys whose latest poll by the workload shows one of these values, e.g. [complete, failed]; any captured key when absent"},
    [P_COUNT] = {"count", FL_PT_INT, 0, "1", "how many keys", .lo = 1, .hi = FL_RESEND_MAX_KEYS},
    [P_COPIES] = {"copies", FL_PT_INT, 0, "1", "identical requests sent at once per key (duplicates)", .lo = 1, .hi = FL_RESEND_MAX_COPIES},
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service the requests go to (round-robin over its ready replicas)"},
    [P_METHOD] = {"method", FL_PT_STRING, 0, "POST", "HTTP method of the resent request", .hi = 16},
    [P_PATH] = {"path", FL_PT_STRING, 1, NULL, "path of the resent request; {key} is the captured key, e.g. /api/jobs/{key}/retry", .lo = 1, .hi = 512},
    [P_POLL] = {"poll", FL_PT_STRING, 0, NULL, "path read before the resend and polled after it, e.g. /api/jobs/{key}; no reads when absent", .hi = 512},
    [P_STATUS] = {"status", FL_PT_STRING, 0, "/status", "JSON Pointer of the status in a poll answer", .hi = 256},
    [P_UNTIL] = {"until", FL_PT_STRINGS, 0, NULL, "status values that end the polling; [complete, failed] when absent"},
    [P_EVERY] = {"every", FL_PT_DURATION, 0, "50ms", "poll interval", .lo = 1},
    [P_TIMEOUT] = {"timeout", FL_PT_DURATION, 0, "10s", "stop polling a key after this (recorded as retry.follow, info)", .lo = 1},
};

static const char *const default_until[] = {"complete", "failed"};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    const struct fl_pval *v = fr->fault->args.v;
    int until = v[P_UNTIL].set;
    struct fl_resend_spec s = {
        .workload = v[P_WORKLOAD].s,
        .state = v[P_STATE].set ? v[P_STATE].list : NULL,
        .nstate = v[P_STATE].set ? v[P_STATE].nlist : 0,
        .count = (size_t)v[P_COUNT].i,
        .copies = (size_t)v[P_COPIES].i,
        .service = v[P_SERVICE].s,
        .method = v[P_METHOD].s,
        .path = v[P_PATH].s,
        .poll_path = v[P_POLL].set ? v[P_POLL].s : NULL,
        .status_ptr = v[P_STATUS].s,
        .until = until ? v[P_UNTIL].list : default_until,
        .nuntil = until ? v[P_UNTIL].nlist : 2,
        .every_ms = v[P_EVERY].ms,
        .timeout_ms = v[P_TIMEOUT].ms,
    };
    return fl_resend_start(fr, &s, err);
}

const struct fl_injector_type fl_injector_retry_stale = {
    .name = "retry.stale",
    .help = "re-send a request for keys a workload captured once their state changed (retry a "
            "completed or failed job), or several identical copies at once; records the key "
            "before, each answer and polls until its status is final again",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = 0,
    .inject = inject,
    .cancel = fl_resend_stop,
    .teardown = fl_resend_stop,
};
