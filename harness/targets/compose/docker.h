/* docker.h - a small Docker Engine API client over the engine's unix
 * socket: asynchronous on the run's loop (libcurl multi through
 * proto/http), plus a blocking form for `faultline recover`, which runs
 * when no loop exists.
 *
 * The API version is negotiated, never assumed: GET /version (unversioned)
 * gives the engine's ApiVersion and MinAPIVersion, and the client speaks
 * the highest version both sides know (fl_docker_pick_version). Debian 12's
 * engine speaks 1.41; current engines refuse anything below 1.44.
 *
 * The socket is $DOCKER_HOST when it is a unix:// address, else the
 * engine's default socket. A tcp:// DOCKER_HOST is refused: faultline talks
 * to a local engine only.
 */
#ifndef FL_DOCKER_H
#define FL_DOCKER_H

#include <stddef.h>
#include <uv.h>
#include <jansson.h>

#include "base/error.h"
#include "base/util.h"

/* The range of API versions this client is written for: the oldest whose
 * endpoints and fields it uses (label filters on events, container update
 * of the restart policy, network connect with aliases), and the newest it
 * was checked against. An engine outside the range is refused with both
 * sides named. */
#define FL_DOCKER_API_OLDEST "1.25"
#define FL_DOCKER_API_NEWEST "1.47"

#define FL_DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"

/* The engine's socket path into buf: $DOCKER_HOST (unix://PATH) or the
 * default. Returns 0, or FL_EINVAL (err set) for a DOCKER_HOST that is not
 * a unix socket. */
int fl_docker_socket(char *buf, size_t len, struct fl_error *err);

/* Compare two "MAJOR.MINOR" API versions like strcmp (bad input sorts
 * first). */
int fl_docker_version_cmp(const char *a, const char *b);

/* Pick the version to speak: the engine's ApiVersion when this client knows
 * it, else FL_DOCKER_API_NEWEST when the engine still accepts that (its
 * MinAPIVersion, when given, is not above it). Writes "1.41" into out.
 * Returns 0, or FL_EINVAL with err naming both ranges. server_min may be
 * NULL (old engines do not say). */
int fl_docker_pick_version(const char *server_api, const char *server_min, char *out,
                           size_t len, struct fl_error *err);

/* ---- asynchronous client --------------------------------------------- */

struct fl_docker;

/* The answer to one call. Pointers are valid during the callback only.
 * status: the HTTP status (0 when no answer came: error says why); json:
 * the parsed body when it is JSON, else NULL; message: the engine's
 * {"message": ...} on an error status, else "". */
struct fl_docker_reply {
    int status;
    const char *body;
    json_t *json;
    const char *message;
    const char *error;
};

typedef void (*fl_docker_cb)(void *ud, const struct fl_docker_reply *r);

/* A client for socket on loop. Returns 0 or FL_ENOMEM/FL_EIO (err set). */
int fl_docker_new(struct fl_docker **out, uv_loop_t *loop, const char *socket,
                  struct fl_error *err);

/* GET /version and pick the version (fl_docker_pick_version); cb gets the
 * reply, with status 0 and error set when the negotiation failed. Until it
 * succeeded, fl_docker_call refuses. */
int fl_docker_negotiate(struct fl_docker *d, fl_docker_cb cb, void *ud, struct fl_error *err);

/* "1.41" once negotiated, "" before. */
const char *fl_docker_api(const struct fl_docker *d);
/* The engine's version string ("20.10.24+dfsg1"), "" before. */
const char *fl_docker_engine(const struct fl_docker *d);
const char *fl_docker_socket_path(const struct fl_docker *d);

/* method path (below /vX.Y, e.g. "/containers/ID/kill?signal=KILL"), body
 * JSON or NULL. cb exactly once unless the client is closed first (then
 * with status 0, error "aborted"). Returns 0 or FL_E* (err set, no
 * callback). */
int fl_docker_call(struct fl_docker *d, const char *method, const char *path,
                   const char *body, uint64_t timeout_ms, fl_docker_cb cb, void *ud,
                   struct fl_error *err);

/* Follow GET /events?filters=FILTERS (a JSON object, URL-encoded here):
 * on_event gets each event object (valid during the call); on_end once,
 * when the stream ends (error says why; "aborted" after close). One stream
 * per client. */
typedef void (*fl_docker_event_cb)(void *ud, json_t *ev);
typedef void (*fl_docker_end_cb)(void *ud, const char *error);
int fl_docker_events(struct fl_docker *d, const char *filters, fl_docker_event_cb on_event,
                     fl_docker_end_cb on_end, void *ud, struct fl_error *err);

/* Cancel everything in flight (their callbacks run with "aborted"), close
 * the connections and handles; cb(ud) once d is freed. */
void fl_docker_close(struct fl_docker *d, void (*cb)(void *ud), void *ud);

/* 1 when pid, as this process sees it, is a process of container id: its
 * cgroup path names the id (cgroupfs "/docker/ID", systemd
 * "docker-ID.scope"). State.Pid is a pid of the engine's pid namespace: a
 * faultline in another one (itself in a container, with the socket
 * mounted) must not signal a stranger that has the same number. */
int fl_docker_pid_is(int pid, const char *id);

/* Every process of a container, found from the host: those in the pid
 * namespace of init (its main process, State.Pid), which includes `docker
 * exec` sessions, children of the runtime rather than of init. Writes at
 * most max pids; returns the count, or -errno. */
int fl_docker_pidns_members(int init, int *pids, int max);

/* ---- blocking client (recover) ---------------------------------------- */

/* One call, negotiating first: method path (below /vX.Y), body or NULL,
 * bounded by timeout_ms per request. *status gets the HTTP status, out
 * (may be NULL) the body. Returns 0 when an answer came (any status), else
 * FL_EIO with why filled. */
int fl_docker_sync(const char *socket, const char *method, const char *path,
                   const char *body, long timeout_ms, int *status, struct fl_buf *out,
                   char *why, size_t len);

#endif
