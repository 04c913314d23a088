/* net_common.h - shared by the proxy fault types (net.*, http.*): turn a
 * fault's parameters into a toxic on the named proxy, and take it off.
 *
 * Parameter names are the toxic's attribute names (proxy.h); durations
 * are given to the toxic in milliseconds, `direction` picks the stream,
 * `toxicity` (0..1) the share of connections it applies to, drawn from
 * the run's seed. The proxy lives in faultline's process: a crash takes
 * its faults along, so there is nothing for `recover` to undo. */
#ifndef FL_INJECTORS_NET_COMMON_H
#define FL_INJECTORS_NET_COMMON_H

#include "core/injector.h"
#include "proxy/proxy.h"

#define FL_NET_PROXY_HELP "name of a proxy declared under proxies:"
#define FL_NET_TOXICITY_HELP "share of connections it applies to, 0..1, drawn from the seed " \
                             "per connection (Toxiproxy's toxicity)"
extern const char *const fl_net_directions[];

int fl_net_inject(struct fl_fault_run *fr, enum fl_toxic_kind kind, struct fl_error *err);
int fl_net_revert(struct fl_fault_run *fr, struct fl_error *err);

/* One proxy fault type (net.* and http.*): a const fl_injector_type named
 * fl_injector_VAR whose inject applies toxic KIND through fl_net_inject
 * and whose heal is fl_net_revert; every one needs `for:`. */
#define FL_NET_TYPE(var, tname, kind, helptext, table)                                        \
    static int inject_##var(struct fl_fault_run *fr, struct fl_error *err)                    \
    {                                                                                         \
        return fl_net_inject(fr, kind, err);                                                  \
    }                                                                                         \
    const struct fl_injector_type fl_injector_##var = {                                       \
        .name = tname, .help = helptext, .params = table,                                     \
        .nparams = sizeof table / sizeof table[0], .wants_duration = 1,                       \
        .inject = inject_##var, .revert = fl_net_revert,                                      \
    }
int fl_net_down(struct fl_fault_run *fr, struct fl_error *err);
int fl_net_up(struct fl_fault_run *fr, struct fl_error *err);

#endif
