/* redis_common.h - what the Redis injectors share: a one-shot command to
 * one instance, role discovery (ROLE on every running instance) with a
 * seeded pick, and the sentinels' view of the primary (the one Sentinel
 * discovery, proto/sentinel.h, that the workloads use too). Everything is
 * asynchronous on the run's loop and calls back exactly once. */
#ifndef FL_INJECTORS_REDIS_COMMON_H
#define FL_INJECTORS_REDIS_COMMON_H

#include "injectors/common.h"

/* The answer to one command. */
struct fl_rq_result {
    int status;            /* 0: a reply came (see is_error); else FL_E* */
    int is_error;          /* the reply was an error (-ERR, -READONLY...) */
    char text[1024];       /* the reply as one line of text, or why not */
    char elem[4][128];     /* first string elements of an array reply */
    size_t nelem;
    size_t nested;         /* element count of element 2 (ROLE: replicas) */
};

typedef void (*fl_rq_cb)(const struct fl_rq_result *res, void *ud);

/* Connect to 127.0.0.1:port, send argv, close. cb exactly once unless 0 is
 * not returned (then err says why). */
int fl_rq(struct fl_run *run, int port, uint64_t timeout_ms, int argc,
          const char *const *argv, fl_rq_cb cb, void *ud, struct fl_error *err);

enum fl_redis_role { FL_ROLE_PRIMARY, FL_ROLE_REPLICA, FL_ROLE_ANY };
int fl_parse_role(const char *s, enum fl_redis_role *out);

/* Find the running instances of service whose ROLE matches role, then pick
 * among them with the run's generator. cb(n, err) with the chosen ones in
 * out (n == 0: err says why). A primary is a "master" with the most
 * replicas attached, so an old primary that came back alone is not it. */
typedef void (*fl_rpick_cb)(struct fl_fault_run *fr, struct fl_instance **out, size_t n,
                            const char *err);
int fl_redis_pick(struct fl_fault_run *fr, const char *service, enum fl_redis_role role,
                  const struct fl_pick *pick, fl_rpick_cb cb, struct fl_error *err);

/* The first three parameters of every injector that acts on Redis
 * instances by role (indexes 0, 1, 2). The role's choices are in the order
 * of enum fl_redis_role; the loader refuses any other value. */
#define FL_REDIS_ROLE_PARAMS                                                              \
    [0] = {.name = "service", .type = FL_PT_SERVICE, .required = 1,                     \
           .help = "the Redis service"},                                                  \
    [1] = {.name = "role", .type = FL_PT_ENUM, .def = "primary",                         \
           .help = "which instances, as ROLE reports them (any: primaries and replicas)", \
           .choices = (const char *const[]){"primary", "replica", "any", NULL}},         \
    [2] = {.name = "pick", .type = FL_PT_PICK, .def = "one",                             \
           .help = "which of the matching instances: one, all, a count N or a percentage P%"}

/* The start of such an injector: parse the role, give fr->state a zeroed
 * state_size block, and pick (cb gets the instances). Returns FL_PENDING,
 * or FL_E* with err set and fr->state freed. */
int fl_redis_pick_start(struct fl_fault_run *fr, size_t state_size, fl_rpick_cb cb,
                        struct fl_error *err);

/* The instance of service listening on port, or NULL. */
struct fl_instance *fl_instance_by_port(struct fl_run *run, const char *service, int port);

/* Ask the running instances of the sentinel service for the primary of
 * master (NULL: FL_SENTINEL_DEFAULT_MASTER) through proto/sentinel.h, in
 * turn until one names it: cb(fr, port, NULL) with the primary's port, or
 * cb(fr, 0, why) with what each sentinel said. cb runs exactly once, from
 * the loop, unless this returns an error (FL_EINJECT: no running sentinel;
 * FL_EINVAL, FL_ENOMEM), err set. fr must outlive the answer. */
typedef void (*fl_rprimary_cb)(struct fl_fault_run *fr, int port, const char *why);
int fl_sentinel_primary(struct fl_fault_run *fr, const char *sentinels, const char *master,
                        fl_rprimary_cb cb, struct fl_error *err);

#endif
