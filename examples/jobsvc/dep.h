/*
 * dep.h - the third-party dependency jobsvc calls (--dep HOST:PORT), and
 * the three bugs around it (bug table rows STARTUP_EXPORT, DEP_RETRY,
 * DEP_POOL in jobsvc.h):
 *
 *   startup-export on      every boot fetches all 8 pages of GET /export (the
 *                          incident: three pods + restarts + cron + users
 *                          over the dependency's limit)
 *   dep-retry ignore       a 429 or 5xx answer is retried at once,
 *                          Retry-After ignored (a retry storm); honour:
 *                          waits Retry-After, exponential backoff, jitter
 *   dep-pool blind         keep-alive connections are reused whatever
 *                          happened to them; a reused one the server closed
 *                          fails the call; fresh: such a call is retried
 *                          once on a new connection
 *
 * Blocking sockets, called from MHD and worker threads; the pool is shared
 * under a mutex.
 */
#ifndef JS_DEP_H
#define JS_DEP_H

struct js_app;

/* One call with the retry policy: returns the final HTTP status, or 0 when
 * no answer came (connection failed). */
int js_dep_call(struct js_app *app, const char *method, const char *path);
/* Start the boot export in its own thread when startup-export is on. */
void js_dep_boot(struct js_app *app);

/* --dep's address: an IPv4 literal, "localhost", or a name resolved now
 * (a compose service). 0, or -1 when it does not resolve. */
struct sockaddr_in;
struct js_cfg;
int js_dep_addr(const struct js_cfg *cfg, struct sockaddr_in *a);
/* The status a job ends with: "complete" when its dependency call (GET
 * /items) succeeded or there is no --dep, "failed" otherwise. */
const char *js_dep_job(struct js_app *app);

#endif
