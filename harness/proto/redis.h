/* redis.h - asynchronous Redis client on the run's libuv loop.
 *
 * One struct fl_redis is one hiredis async connection to host:port, bound to
 * a uv_loop_t through an event adapter of our own (the stock
 * hiredis/adapters/libuv.h never reports a refused connection). hiredis
 * 0.14.1 has no async timeouts: every connect and every command here carries
 * its own uv_timer.
 *
 * Rules shared by every function below (libuv's, on purpose):
 * - A function that returns an error never calls its callback; one that
 *   returns 0 calls it exactly once, later (from the loop) or, for commands
 *   still pending when the connection is closed, from fl_redis_close().
 * - Callbacks may call any function here, fl_redis_close() included.
 * - A NULL reply means the outcome is unknown: the command may or may not
 *   have run on the server (FL_ETIMEDOUT, FL_EIO, FL_EABORT). Callers that
 *   keep a history record it as `info`, never as `fail`.
 * - Memory is reclaimed only after libuv's close callbacks, so the loop must
 *   keep running after fl_redis_close() until its callback fired.
 *
 * Pub/sub (SUBSCRIBE...) and MONITOR are refused: hiredis calls their
 * callbacks more than once, which would break the exactly-once rule.
 */
#ifndef FL_REDIS_H
#define FL_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <uv.h>
#include <hiredis/hiredis.h>

#include "base/error.h"
#include "base/util.h"

struct fl_redis;

/* status: 0 connected; FL_ETIMEDOUT (connect_timeout_ms passed); FL_EIO
 * (refused, reset, unresolvable...); FL_EABORT (fl_redis_close() came
 * first). errmsg is NULL on success, else valid during the call only. */
typedef void (*fl_redis_connect_cb)(struct fl_redis *r, int status,
                                    const char *errmsg, void *ud);

/* reply: the server's answer, owned by hiredis and valid only during the
 * call (copy what you keep, e.g. with fl_redis_reply_text/strv). A server
 * error (-ERR ...) is a reply of type REDIS_REPLY_ERROR with status 0: the
 * command definitely did not run.
 * When reply is NULL, status is FL_ETIMEDOUT (no answer within timeout_ms;
 * a late answer is dropped), FL_EIO (connection lost) or FL_EABORT
 * (fl_redis_close()), and errmsg says why. */
typedef void (*fl_redis_reply_cb)(struct fl_redis *r, const redisReply *reply,
                                  int status, const char *errmsg, void *ud);

/* The established connection was lost (server closed it, reset, poll
 * error). Every pending command already got its FL_EIO callback. r stays
 * allocated: the owner still calls fl_redis_close(). */
typedef void (*fl_redis_disconnect_cb)(struct fl_redis *r, const char *errmsg,
                                       void *ud);

/* Everything is released; r is gone. */
typedef void (*fl_redis_close_cb)(void *ud);

/* Start connecting to host:port (numeric loopback addresses in practice;
 * a name is resolved synchronously by hiredis). On 0, *out is a new
 * connection owned by the caller, who must eventually call fl_redis_close()
 * exactly once, whatever the connect outcome; cb is called exactly once.
 * Errors (no callback, *out untouched): FL_EINVAL (bad argument, timeout 0),
 * FL_ENOMEM, FL_EIO (the socket could not be watched). A refused connection
 * is NOT an error here: it arrives through cb as FL_EIO. */
int fl_redis_connect(uv_loop_t *loop, const char *host, int port,
                     uint64_t connect_timeout_ms, fl_redis_connect_cb cb,
                     void *ud, struct fl_redis **out, struct fl_error *err);

/* Register (or clear with NULL) the lost-connection callback. It is not
 * called for a connect that fails (the connect callback says so) nor after
 * fl_redis_close(). */
void fl_redis_on_disconnect(struct fl_redis *r, fl_redis_disconnect_cb cb,
                            void *ud);

/* Send a command (hiredis format: %s C string, %b pointer + size_t length,
 * %% ...). timeout_ms > 0 bounds the wait for the reply. Allowed only once
 * connected. Returns 0 (cb will be called exactly once), FL_ENOTREADY (not
 * connected yet), FL_EIO (connection lost or closing), FL_EINVAL (bad
 * format, pub/sub or MONITOR, timeout 0), FL_ENOMEM. */
int fl_redis_command(struct fl_redis *r, uint64_t timeout_ms,
                     fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                     const char *fmt, ...);
int fl_redis_vcommand(struct fl_redis *r, uint64_t timeout_ms,
                      fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                      const char *fmt, va_list ap);
/* Same with explicit arguments; argvlen NULL means strlen() of each. The
 * arguments are copied before the call returns. */
int fl_redis_command_argv(struct fl_redis *r, uint64_t timeout_ms,
                          fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                          int argc, const char *const *argv,
                          const size_t *argvlen);

/* 1 when commands can be sent now, else 0. */
int fl_redis_is_connected(const struct fl_redis *r);
/* Commands sent whose callback has not been called yet. */
size_t fl_redis_pending(const struct fl_redis *r);
/* "host:port" as given to fl_redis_connect(); valid while r lives. */
const char *fl_redis_addr(const struct fl_redis *r);

/* Close the connection. Pending commands get their callback (NULL,
 * FL_EABORT) and a connect still in progress gets FL_EABORT, all before
 * this returns; handles are closed and memory is freed from libuv's close
 * callbacks, after which cb (may be NULL) is called. r must not be used
 * after this call, except that a callback fired during the close may call
 * it again (ignored). NULL is ignored. */
void fl_redis_close(struct fl_redis *r, fl_redis_close_cb cb, void *ud);

/* --- reply helpers (redis_reply.c), pure functions ---------------------- */

/* Append a one-line text form of rep to out: strings, status and error
 * replies as their bytes, integers in decimal, nil as "nil", arrays as
 * "[a, b, nil]" (nested arrays likewise). Returns 0, FL_EINVAL (rep NULL),
 * FL_ENOMEM (out's ceiling reached; out may then hold a prefix). */
int fl_redis_reply_text(const redisReply *rep, struct fl_buf *out,
                        struct fl_error *err);

/* Copy an array reply into *out, a malloc'ed vector of *n malloc'ed C
 * strings owned by the caller (free with fl_redis_strv_free). String and
 * status elements are copied, integers formatted; a nil element becomes a
 * NULL pointer. Returns 0, FL_EINVAL (not an array, or an element that is
 * an array or an error), FL_ENOMEM. On error nothing is allocated. */
int fl_redis_reply_strv(const redisReply *rep, char ***out, size_t *n,
                        struct fl_error *err);
void fl_redis_strv_free(char **v, size_t n);

/* Find "key:value" in INFO text (lines separated by \r\n or \n, "# Section"
 * headers ignored) and copy value into out (NUL-terminated). Returns 0,
 * FL_ENOTFOUND, FL_ENOMEM (value longer than outlen - 1). */
int fl_redis_info_field(const char *text, size_t len, const char *key,
                        char *out, size_t outlen);

/* The fields of `INFO replication` that failover logic needs. */
struct fl_redis_repl {
    int is_master;             /* role:master (1) or role:slave (0) */
    char role[16];             /* as reported: "master" or "slave" */
    char master_host[256];     /* replicas only, "" otherwise */
    int master_port;           /* replicas only, -1 otherwise */
    int master_link_up;        /* replicas: master_link_status:up */
    int connected_slaves;      /* masters: count; -1 when absent */
    long long repl_offset;     /* master_repl_offset, -1 when absent */
};

/* Parse `INFO replication` text. Returns 0, FL_EINVAL (no role field or
 * an unknown role, a malformed number, a replica without master_host or
 * master_port) with the reason in err. */
int fl_redis_parse_repl(const char *text, size_t len,
                        struct fl_redis_repl *out, struct fl_error *err);

/* Decode a reply to `SENTINEL get-master-addr-by-name NAME`: an array of
 * host and port. Returns 0 with host (NUL-terminated) and *port filled;
 * FL_ENOTFOUND when the sentinel does not know the name (nil reply);
 * FL_EIO for an error reply (its text in err); FL_EINVAL for any other
 * shape; FL_ENOMEM when host does not fit hostlen. */
int fl_redis_parse_master_addr(const redisReply *rep, char *host,
                               size_t hostlen, int *port,
                               struct fl_error *err);

#endif
