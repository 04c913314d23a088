/* model.h - the validated, immutable scenario model.
 *
 * Built by fl_scenario_load() (scenario.h) and freed as a whole by
 * fl_scenario_free(). Every string is owned by the model. Strings that may
 * hold ${...} references are marked "template": they are expanded at run
 * time by the runner, the target or the workload; the loader has already
 * checked that every reference names something.
 */
#ifndef FL_MODEL_H
#define FL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/params.h"

struct fl_injector_type;
struct fl_checker_type;
struct fl_target_type;
struct fl_stop;

struct fl_kv {
    const char *key;
    const char *value;      /* template for env, headers; literal for vars */
    struct fl_pos pos;
};

enum fl_ready_kind { FL_READY_NONE, FL_READY_TCP, FL_READY_HTTP, FL_READY_EXEC };

struct fl_ready {
    enum fl_ready_kind kind;
    const char *target;     /* template: "127.0.0.1:${port}" or an URL */
    const char *const *argv;/* exec: argv (templates), NULL-terminated */
    size_t argc;
    uint64_t timeout_ms;    /* default 20s */
    uint64_t interval_ms;   /* default 100ms */
};

/* A size-limited volume of a service (local target: a tmpfs per instance,
 * seen by that instance alone at `path`; docs/volumes.md). */
struct fl_volume {
    const char *name;            /* "spool": ${volume.spool}, ${svc.N.volume.spool} */
    struct fl_pos pos;
    const char *path;            /* template: where the instance sees it */
    uint64_t size;               /* bytes */
};

enum fl_restart { FL_RESTART_NEVER, FL_RESTART_ON_FAILURE, FL_RESTART_ALWAYS };

/* `clock:` of a service: real (default); controlled = started with
 * libfaketime preloaded and a timestamp file faultline rewrites (time.*
 * faults), wall and monotonic clocks shifted alike (libfaketime's
 * default); controlled-wall = only the wall clock is shifted
 * (FAKETIME_DONT_FAKE_MONOTONIC=1). */
enum fl_clock { FL_CLOCK_REAL, FL_CLOCK_CONTROLLED, FL_CLOCK_CONTROLLED_WALL };

struct fl_service {
    const char *name;
    struct fl_pos pos;
    const char *const *command;  /* templates, NULL-terminated */
    size_t ncommand;
    const struct fl_kv *env;     /* values are templates */
    size_t nenv;
    const char *workdir;         /* template or NULL (the run's cwd) */
    int replicas;                /* default 1 */
    struct fl_ready ready;
    enum fl_restart restart;     /* default never */
    uint64_t stop_grace_ms;      /* default 5s */
    uint64_t backoff_ms;         /* first restart delay, doubles, default 200ms */
    uint64_t backoff_max_ms;     /* default 5s */
    enum fl_clock clock;         /* default real */
    struct fl_pos clock_pos;     /* of the `clock:` value, for messages */
    const struct fl_volume *volumes;
    size_t nvolumes;
};

struct fl_request {
    const char *method;          /* default GET */
    const char *url;             /* template */
    const char *body;            /* template or NULL */
    const struct fl_kv *headers; /* values are templates */
    size_t nheaders;
    uint64_t timeout_ms;         /* per request, default 5s */
};

struct fl_follow {
    struct fl_request request;   /* may use the captures: ${job} */
    uint64_t every_ms;           /* default 250ms */
    const char *record;          /* JSON Pointer into the response body */
    const char *const *until;    /* values that end the follow */
    size_t nuntil;
    uint64_t timeout_ms;         /* give up after, default 30s */
};

struct fl_capture {
    const char *name;            /* variable name, e.g. "job" */
    const char *pointer;         /* JSON Pointer, e.g. "/job_id" */
    struct fl_pos pos;
};

enum fl_workload_kind { FL_WORKLOAD_HTTP, FL_WORKLOAD_REDIS };

/* Where a Redis client connects: a fixed address, or the primary that the
 * sentinels of a service name (rediscovered after every connection error). */
struct fl_redis_at {
    const char *addr;            /* template "127.0.0.1:${redis.port}", or NULL */
    const char *sentinels;       /* name of the sentinel service, or NULL */
    const char *master;          /* sentinel master name, default "mymaster" */
};

/* A Redis write workload (kind FL_WORKLOAD_REDIS): every operation writes a
 * unique element (${value}) and records it (f="write"); after the drain
 * phase one final read (f="read") of `key` on the primary. */
struct fl_redis_work {
    struct fl_redis_at at;
    const char *const *command;  /* templates, NULL-terminated; ${value} is
                                  * this op's unique element */
    size_t ncommand;
    const char *key;             /* the key written to (history key) */
    const char *const *read;     /* final read, e.g. [SMEMBERS, acked] */
    size_t nread;
    int wait_replicas;           /* WAIT n timeout after each write; 0: none */
    uint64_t wait_timeout_ms;    /* default 100ms */
    uint64_t timeout_ms;         /* per command, default 1s */
};

struct fl_workload {
    const char *name;
    struct fl_pos pos;
    enum fl_workload_kind kind;  /* HTTP unless the item has `redis:` */
    struct fl_redis_work redis;  /* kind FL_WORKLOAD_REDIS */
    double rate;                 /* operations per second, open loop */
    uint64_t start_ms;           /* offset into the timeline, default 0 */
    uint64_t stop_ms;            /* default: the scenario's duration */
    int concurrency;             /* cap on requests in flight, default 64 */
    struct fl_request request;
    const int *ok_status;        /* default: 200..299 when nok_status == 0 */
    size_t nok_status;
    const struct fl_capture *capture;  /* the first one is the key */
    size_t ncapture;
    int has_follow;
    struct fl_follow follow;
};

enum fl_probe_kind { FL_PROBE_HTTP, FL_PROBE_REDIS, FL_PROBE_DISK };

struct fl_probe {
    const char *name;
    struct fl_pos pos;
    enum fl_probe_kind kind;
    /* Per-replica probe: sample every replica of this service each tick;
     * ${each} is the replica's 127.0.0.1:PORT, ${each.port} its port, and
     * each sample's history key is the instance id ("api.1"). NULL: one
     * sample per tick, no key. */
    const char *each;
    const char *url;             /* HTTP: template */
    /* Redis: a command (templates, NULL-terminated) sent to `at`; the
     * recorded value is `field` of an INFO-style reply ("role"), or the
     * reply as text. */
    const char *const *command;
    size_t ncommand;
    const char *field;
    struct fl_redis_at at;
    const char *record;          /* JSON Pointer or NULL: record the status */
    const char *metric;          /* HTTP: a Prometheus text series to record, or NULL */
    const char *disk;            /* DISK: template of a path (${svc.N.volume.NAME});
                                  * records "USED/TOTAL" bytes of its filesystem */
    const int *ok_status;        /* default 200..299 */
    size_t nok_status;
    uint64_t every_ms;           /* default 500ms */
    uint64_t timeout_ms;         /* default 2s */
};

/* A fault proxy (proxies:): faultline listens on `listen` and relays to
 * `upstream`; the system under test is pointed at ${proxy.NAME}. */
struct fl_proxy_decl {
    const char *name;
    struct fl_pos pos;
    const char *upstream;        /* template: "127.0.0.1:${api.port}" */
    const char *listen;          /* "127.0.0.1:0" (0: an ephemeral port) */
    int http;                    /* protocol: http (frames requests, http.* faults) */
};

struct fl_fault {
    struct fl_pos pos;
    uint64_t at_ms;
    uint64_t for_ms;             /* 0: instant (no heal step of its own) */
    const struct fl_injector_type *type;
    struct fl_args args;
};

struct fl_invariant {
    struct fl_pos pos;
    const struct fl_checker_type *type;
    struct fl_args args;
    const char *label;           /* "lifecycle(submit)": stable JUnit name */
};

struct fl_scenario {
    const char *file;            /* path as given */
    const char *name;
    const char *description;
    const struct fl_kv *vars;    /* effective values: defaults then --var */
    size_t nvars;
    uint64_t duration_ms;        /* workload time, default 30s */
    uint64_t settle_ms;          /* after the last heal, default 10s */
    int has_seed;
    uint64_t seed;
    const struct fl_target_type *target; /* `target:`; NULL: local */
    /* target: {kind: compose, project: NAME} (or --compose-project): the
     * compose project whose containers are the instances; NULL otherwise. */
    const char *target_project;
    const struct fl_service *services;   /* in start order (file order) */
    size_t nservices;
    const struct fl_workload *workloads;
    size_t nworkloads;
    const struct fl_probe *probes;
    size_t nprobes;
    const struct fl_proxy_decl *proxies;
    size_t nproxies;
    const struct fl_fault *faults;       /* sorted by at_ms, stable */
    size_t nfaults;
    const struct fl_invariant *invariants;
    size_t ninvariants;
    const struct fl_stop *stops;         /* abort_if: (core/stop.h) */
    size_t nstops;
};

/* Effective value of a var, or NULL. */
const char *fl_scenario_var(const struct fl_scenario *sc, const char *name, size_t len);

const struct fl_service *fl_scenario_service(const struct fl_scenario *sc, const char *name, size_t len);
const struct fl_workload *fl_scenario_workload(const struct fl_scenario *sc, const char *name);
const struct fl_probe *fl_scenario_probe(const struct fl_scenario *sc, const char *name);

#endif
