/* scenario_services.c - the services: section (what the local target runs). */
#include "scenario/scenario_internal.h"
#include "base/size.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

/* The injectors and the target keep per-service instance arrays of 256. */
#define MAX_REPLICAS 256

enum { S_COMMAND, S_ENV, S_WORKDIR, S_REPLICAS, S_READY, S_RESTART, S_STOP_GRACE,
       S_BACKOFF, S_BACKOFF_MAX, S_CLOCK, S_VOLUMES, S_COUNT };

static const char *const service_keys[S_COUNT] = {
    [S_COMMAND] = "command", [S_ENV] = "env", [S_WORKDIR] = "workdir",
    [S_REPLICAS] = "replicas", [S_READY] = "ready", [S_RESTART] = "restart",
    [S_STOP_GRACE] = "stop_grace", [S_BACKOFF] = "backoff", [S_BACKOFF_MAX] = "backoff_max",
    [S_CLOCK] = "clock",
    [S_VOLUMES] = "volumes",
};

enum { V_PATH, V_SIZE, V_COUNT };

static const char *const volume_keys[V_COUNT] = {[V_PATH] = "path", [V_SIZE] = "size"};

#define MAX_VOLUMES 8
#define VOLUME_MIN_SIZE 4096ULL
#define VOLUME_MAX_SIZE (64ULL << 30)

enum { R_TCP, R_HTTP, R_EXEC, R_TIMEOUT, R_INTERVAL, R_COUNT };

static const char *const ready_keys[R_COUNT] = {
    [R_TCP] = "tcp", [R_HTTP] = "http", [R_EXEC] = "exec",
    [R_TIMEOUT] = "timeout", [R_INTERVAL] = "interval",
};

static int env_name_ok(const char *s)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static void ready_tcp(struct fl_sc_loader *ld, struct fl_ready *r, const struct fl_sc_field *f)
{
    static const char expect[] = "host:port like 127.0.0.1:${port}";
    const char *s = fl_sc_tpl(ld, f, "ready.tcp", expect, FL_SC_SERVICE, 0);
    if (!s)
        return;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1])
        fl_sc_diag(ld, fl_sc_pos(ld, f->val, f->key_pos), "ready.tcp: expected %s; got '%s'",
                   expect, s);
    r->kind = FL_READY_TCP;
    r->target = s;
}

static int url_ok(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
           strncmp(s, "${", 2) == 0;
}

static void ready_section(struct fl_sc_loader *ld, struct fl_service *svc,
                          const struct fl_sc_field *rf)
{
    struct fl_ready *r = &svc->ready;
    r->kind = FL_READY_NONE;
    r->timeout_ms = 20000;
    r->interval_ms = 100;
    if (!rf->present)
        return;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "ready of service '%s'", svc->name);
    struct fl_sc_field f[R_COUNT];
    if (fl_sc_fields(ld, rf->val, ready_keys, R_COUNT, ctx, rf->key_pos, f))
        return;
    int kinds = f[R_TCP].present + f[R_HTTP].present + f[R_EXEC].present;
    if (kinds != 1) {
        struct fl_pos pos = fl_sc_pos(ld, rf->val, rf->key_pos);
        fl_sc_diag(ld, pos, "%s: expected exactly one check of tcp: \"127.0.0.1:${port}\", "
                   "http: URL or exec: [argv...]; got %d", ctx, kinds);
    }
    if (f[R_TCP].present)
        ready_tcp(ld, r, &f[R_TCP]);
    if (f[R_HTTP].present) {
        const char *s = fl_sc_tpl(ld, &f[R_HTTP], "ready.http",
                                  "a URL like http://127.0.0.1:${port}/healthz", FL_SC_SERVICE, 0);
        if (s && !url_ok(s))
            fl_sc_diag(ld, fl_sc_pos(ld, f[R_HTTP].val, f[R_HTTP].key_pos), "ready.http: "
                       "expected a URL like http://127.0.0.1:${port}/healthz; got '%s'", s);
        r->kind = FL_READY_HTTP;
        r->target = s;
    }
    if (f[R_EXEC].present) {
        r->argv = fl_sc_strlist(ld, &f[R_EXEC], "ready.exec",
                                "a command as a list like [redis-cli, -p, \"${port}\", ping]",
                                0, 1, FL_SC_SERVICE, 0, &r->argc);
        r->kind = FL_READY_EXEC;
    }
    /* An interval of 0 would probe in a busy loop. */
    fl_sc_duration_min(ld, &f[R_TIMEOUT], "ready.timeout", 1, &r->timeout_ms);
    fl_sc_duration_min(ld, &f[R_INTERVAL], "ready.interval", 1, &r->interval_ms);
}

static void one_volume(struct fl_sc_loader *ld, struct fl_service *svc, struct fl_volume *v,
                       struct fy_node *n)
{
    char ctx[200];
    snprintf(ctx, sizeof ctx, "volume '%s' of service '%s'", v->name, svc->name);
    struct fl_sc_field f[V_COUNT];
    if (fl_sc_fields(ld, n, volume_keys, V_COUNT, ctx, v->pos, f))
        return;
    if (!f[V_PATH].present || !f[V_SIZE].present) {
        fl_sc_diag(ld, v->pos, "%s: expected { path: \"${out}/%s\", size: 16m }; missing '%s'",
                   ctx, v->name, f[V_PATH].present ? "size" : "path");
        return;
    }
    v->path = fl_sc_tpl(ld, &f[V_PATH], "path", "the directory where the instance sees the "
                        "volume, like \"${out}/spool\"", FL_SC_SERVICE, 0);
    if (v->path && !v->path[0])
        fl_sc_diag(ld, fl_sc_pos(ld, f[V_PATH].val, f[V_PATH].key_pos), "%s: path: expected "
                   "a directory like \"${out}/spool\"; got an empty value", ctx);
    const char *written;
    const char *sz = fl_sc_typed(ld, &f[V_SIZE], "size", "a size like 16m, 512k, 1g", &written);
    if (!sz)
        return;
    if (fl_parse_size(sz, &v->size) || v->size < VOLUME_MIN_SIZE || v->size > VOLUME_MAX_SIZE)
        fl_sc_bad_value(ld, fl_sc_pos(ld, f[V_SIZE].val, f[V_SIZE].key_pos), "size", written,
                        sz, "a size like 16m, 512k, 1g between 4k and 64g");
}

/* volumes: { NAME: { path: TEMPLATE, size: 16m } } */
static void volumes_section(struct fl_sc_loader *ld, struct fl_service *svc,
                            const struct fl_sc_field *f)
{
    struct fy_node *n = f->val;
    if (!n || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) <= 0) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, f->key_pos), "volumes of service '%s': expected a "
                   "mapping like { spool: { path: \"${out}/spool\", size: 16m } }; got %s",
                   svc->name, fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    if (!fl_sc_count_fits(ld, f->key_pos, "volumes", cnt, MAX_VOLUMES))
        return;
    struct fl_volume *vols = fl_sc_alloc(ld, (size_t)cnt * sizeof *vols);
    if (!vols)
        return;
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && k < (size_t)cnt) {
        struct fl_volume *v = &vols[k];
        v->name = fl_sc_key(ld, p, &v->pos, f->key_pos);
        if (!v->name)
            continue;
        if (!fl_sc_valid_name(v->name, 0) || !fl_sc_name_fits(ld, v->pos, "volume", v->name)) {
            fl_sc_diag(ld, v->pos, "volume '%s': expected a name made of letters, digits, "
                       "'_', '-'", v->name);
            continue;
        }
        one_volume(ld, svc, v, fl_sc_val(fy_node_pair_value(p)));
        k++;
    }
    svc->volumes = vols;
    svc->nvolumes = k;
}

static void restart_key(struct fl_sc_loader *ld, struct fl_service *svc, const struct fl_sc_field *f)
{
    static const char *const choices[] = {"always", "on-failure", "never", NULL};
    static const enum fl_restart policy[] = {FL_RESTART_ALWAYS, FL_RESTART_ON_FAILURE,
                                             FL_RESTART_NEVER};
    int i;
    if (fl_sc_choice(ld, f, "restart", choices, &i) == 0)
        svc->restart = policy[i];
}

/* clock: real | controlled | controlled-wall (libfaketime, time.* faults) */
static void clock_key(struct fl_sc_loader *ld, struct fl_service *svc, const struct fl_sc_field *f)
{
    static const char *const choices[] = {"real", "controlled", "controlled-wall", NULL};
    static const enum fl_clock mode[] = {FL_CLOCK_REAL, FL_CLOCK_CONTROLLED,
                                         FL_CLOCK_CONTROLLED_WALL};
    int i;
    if (fl_sc_choice(ld, f, "clock", choices, &i) == 0) {
        svc->clock = mode[i];
        svc->clock_pos = f->key_pos;
    }
}

static void one_service(struct fl_sc_loader *ld, struct fl_service *svc, struct fy_node *n)
{
    char ctx[160];
    snprintf(ctx, sizeof ctx, "service '%s'", svc->name);
    svc->replicas = 1;
    svc->restart = FL_RESTART_NEVER;
    svc->stop_grace_ms = 5000;
    svc->backoff_ms = 200;
    svc->backoff_max_ms = 5000;
    svc->ready.timeout_ms = 20000;
    svc->ready.interval_ms = 100;
    struct fl_sc_field f[S_COUNT];
    if (fl_sc_fields(ld, n, service_keys, S_COUNT, ctx, svc->pos, f))
        return;
    static const char cmd_expect[] = "a command as a list like [jobsvc, --port, \"${port}\"]";
    if (!f[S_COMMAND].present)
        fl_sc_diag(ld, svc->pos, "missing required key 'command' in %s; expected %s", ctx,
                   cmd_expect);
    svc->command = fl_sc_strlist(ld, &f[S_COMMAND], "command", cmd_expect, 0, 1,
                                 FL_SC_SERVICE, 0, &svc->ncommand);
    if (f[S_ENV].present)
        fl_sc_kv_map(ld, &f[S_ENV], "env", "NAME: value, like { RUST_LOG: debug }", env_name_ok,
                     "a variable name like LOG_LEVEL (letters, digits, '_')", FL_SC_SERVICE, 0,
                     &svc->env, &svc->nenv);
    svc->workdir = fl_sc_tpl(ld, &f[S_WORKDIR], "workdir", "a directory path", FL_SC_SERVICE, 0);
    long long rep = 1;
    fl_sc_int(ld, &f[S_REPLICAS], "replicas", 1, MAX_REPLICAS, &rep);
    svc->replicas = (int)rep;
    ready_section(ld, svc, &f[S_READY]);
    if (f[S_RESTART].present)
        restart_key(ld, svc, &f[S_RESTART]);
    if (f[S_CLOCK].present)
        clock_key(ld, svc, &f[S_CLOCK]);
    fl_sc_duration(ld, &f[S_STOP_GRACE], "stop_grace", &svc->stop_grace_ms);
    /* A backoff of 0 never grows by doubling: a crashing service would be
     * restarted in a busy loop. */
    fl_sc_duration_min(ld, &f[S_BACKOFF], "backoff", 1, &svc->backoff_ms);
    fl_sc_duration_min(ld, &f[S_BACKOFF_MAX], "backoff_max", 1, &svc->backoff_max_ms);
    if (f[S_VOLUMES].present)
        volumes_section(ld, svc, &f[S_VOLUMES]);
    if (svc->backoff_ms > svc->backoff_max_ms)
        fl_sc_diag(ld, f[S_BACKOFF].present ? f[S_BACKOFF].key_pos : f[S_BACKOFF_MAX].key_pos,
                   "%s: backoff must not exceed backoff_max", ctx);
}

static int reserved_name(const char *s)
{
    return strcmp(s, "seed") == 0 || strcmp(s, "out") == 0 || strcmp(s, "bindir") == 0 ||
           strcmp(s, "port") == 0;
}

void fl_sc_services(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) <= 0) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "services: expected a mapping of name: "
                   "{ command: [...] } with at least one service; got %s",
                   n && fy_node_is_mapping(n) ? "an empty mapping" : fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    ld->services = fl_sc_alloc(ld, (size_t)cnt * sizeof *ld->services);
    if (!ld->services)
        return;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && ld->nservices < (size_t)cnt) {
        struct fl_service *svc = &ld->services[ld->nservices];
        svc->name = fl_sc_key(ld, p, &svc->pos, key_pos);
        if (!svc->name)
            continue;
        if (!fl_sc_valid_name(svc->name, 0) || reserved_name(svc->name)) {
            fl_sc_diag(ld, svc->pos, "service '%s': expected a name made of letters, digits, "
                       "'_', '-' other than seed, out, bindir, port", svc->name);
            continue;
        }
        if (!fl_sc_name_fits(ld, svc->pos, "service", svc->name))
            continue;
        /* Templates are checked once every service is known, so a service
         * may refer to one declared further down. */
        one_service(ld, svc, fl_sc_val(fy_node_pair_value(p)));
        ld->nservices++;
    }
}
