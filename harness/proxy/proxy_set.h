/* proxy_set.h - the proxies a scenario declares (proxies:), run-scoped:
 * started by the runner after the target is created (ports known) and
 * before any service starts, closed once the services have stopped.
 *
 * Each proxy resolves its upstream template for every new connection (a
 * replicated service's ${api} goes round-robin), draws toxicity from the
 * run's seeded generator, and records every HTTP exchange into the run's
 * history (source "proxy", f "http", key = proxy name; history.h).
 *
 * A proxy lives in faultline's own process: when faultline dies, its
 * faults die with it, so nothing about them needs healing by `recover`.
 */
#ifndef FL_PROXY_SET_H
#define FL_PROXY_SET_H

#include "core/run_context.h"
#include "proxy/proxy.h"

/* Start every declared proxy; sets run->proxies and run->resolve_proxy.
 * 0 (also without proxies: *out NULL), or FL_E* with err set (the proxies
 * started so far are closed). */
int fl_proxy_set_start(struct fl_run *run, struct fl_error *err);
/* The proxy called name, or NULL. */
struct fl_proxy *fl_proxy_set_find(struct fl_proxy_set *s, const char *name);
/* Close every proxy (connections included) and free the set once their
 * handles are closed; clears run->proxies. Idempotent. */
void fl_proxy_set_close(struct fl_run *run);

#endif
