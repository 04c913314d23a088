/* sentinel.h - ask Redis Sentinels where the primary of a master name is.
 *
 * One query asks the sentinels it is given in turn with
 * `SENTINEL get-master-addr-by-name MASTER` and stops at the first that
 * names the primary. Each sentinel gets one connection (bounded by
 * timeout_ms) and one command (bounded again by timeout_ms), so a query
 * ends within 2 x timeout_ms per sentinel. Everything runs on the loop
 * (proto/redis.h connections); nothing blocks.
 *
 * The workloads and probes (workload/redis_discover.c) and the Redis
 * injectors (injectors/redis_common.c) both find the primary through this.
 */
#ifndef FL_SENTINEL_H
#define FL_SENTINEL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"

#define FL_SENTINEL_MAX 32                  /* sentinels one query asks */
#define FL_SENTINEL_DEFAULT_MASTER "mymaster"

struct fl_sentinel_query;

/* One sentinel to ask. Copied by fl_sentinel_ask. */
struct fl_sentinel_addr {
    const char *name;        /* for messages ("redis-sentinel.1"), or NULL */
    const char *host;        /* numeric address, e.g. "127.0.0.1" */
    int port;
};

/* status 0: host and port name the primary (valid during the call only),
 * why is NULL. FL_ENOTFOUND: no sentinel named it; why lists what each one
 * said ("sentinel redis-sentinel.0 (127.0.0.1:26379): connection refused;
 * sentinel ...: does not know mymaster"), valid during the call only. The
 * query is finished when this runs: forget its pointer. */
typedef void (*fl_sentinel_cb)(int status, const char *host, int port, const char *why,
                               void *ud);

/* Start asking sentinels s[0..n-1] for master. Returns 0 and sets *out (the
 * callback then runs exactly once, always from the loop, never inside this
 * call, unless the query is cancelled first); or FL_EINVAL (no sentinel,
 * more than FL_SENTINEL_MAX, no master name, timeout 0) / FL_ENOMEM with
 * err set, and the callback never runs. */
int fl_sentinel_ask(uv_loop_t *loop, const struct fl_sentinel_addr *s, size_t n,
                    const char *master, uint64_t timeout_ms, fl_sentinel_cb cb, void *ud,
                    struct fl_sentinel_query **out, struct fl_error *err);

/* Stop a query whose callback has not run: it never will. Its connection
 * and timer close on the loop; closed(ud) (may be NULL) runs once they
 * have and the memory is gone, so the loop must keep running until then,
 * as after fl_redis_close. */
void fl_sentinel_cancel(struct fl_sentinel_query *q, void (*closed)(void *ud), void *ud);

#endif
