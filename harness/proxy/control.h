/* control.h - a set of proxies driven over HTTP with Toxiproxy's JSON API
 * (`faultline proxy`), so Toxiproxy's clients and scripts work unchanged:
 *
 *   GET    /version                          {"version": "..."}
 *   GET    /proxies                          {NAME: proxy, ...}
 *   POST   /proxies                          create {name, listen, upstream, enabled}
 *   POST   /populate                         create or replace [proxy, ...]
 *   GET    /proxies/NAME                     proxy with its toxics
 *   POST   /proxies/NAME  (or PATCH)         update enabled / upstream
 *   DELETE /proxies/NAME
 *   GET    /proxies/NAME/toxics              [toxic, ...]
 *   POST   /proxies/NAME/toxics              add {name, type, stream, toxicity, attributes}
 *   GET    /proxies/NAME/toxics/TOXIC
 *   POST   /proxies/NAME/toxics/TOXIC (PATCH) update attributes / toxicity
 *   DELETE /proxies/NAME/toxics/TOXIC
 *   POST   /reset                            enable every proxy, remove every toxic
 *
 * Extensions: a proxy may say "protocol": "http" (frames requests, allows
 * the toxic types http_status, http_ratelimit, http_delay,
 * http_close_idle); listen addresses must be loopback. With a heartbeat,
 * every toxic is removed and every proxy enabled once no request came for
 * that long (a dead man's switch for game days).
 *
 * One libuv loop, no threads; the server never prints (log callback). */
#ifndef FL_PROXY_CONTROL_H
#define FL_PROXY_CONTROL_H

#include <stdint.h>
#include <uv.h>

#include "base/error.h"

struct fl_control;

struct fl_control_opts {
    const char *listen;          /* "127.0.0.1:8474" */
    uint64_t heartbeat_ms;       /* 0: none */
    uint64_t seed;
    void (*log)(void *ud, const char *msg);
    void *ud;
};

int fl_control_start(uv_loop_t *loop, const struct fl_control_opts *o, struct fl_control **out,
                     struct fl_error *err);
const char *fl_control_listen_addr(const struct fl_control *c);
/* Close the API, every proxy and connection; cb once all memory is gone. */
void fl_control_close(struct fl_control *c, void (*cb)(void *ud), void *ud);

#endif
