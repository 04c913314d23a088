/* scenario_redis.c - the `redis:` shorthand: a real Redis topology (one
 * primary, N replicas, M sentinels with short failover settings) expanded
 * into ordinary services of the local target.
 *
 *   redis:
 *     name: redis          # services "redis" (redis.0 starts as primary,
 *     replicas: 1          #   redis.1.. as its replicas) and "redis-sentinel"
 *     sentinels: 3
 *     master: mymaster
 *     down_after: 1s       # sentinel down-after-milliseconds
 *     failover_timeout: 3s
 *     args: [--appendonly, "yes"]   # appended to every data node's command
 *
 * The generated services start before those under services:.
 * Data nodes do not restart by themselves (restart: never): a primary that
 * came back at once would never be failed over. redis.kill restarts them on
 * heal; a returning old primary is turned into a replica by the sentinels.
 * Sentinels write their config (which they rewrite) into the run's output
 * folder.
 *
 * The redis.* faults on these services take their `master` (and
 * `sentinels`) from here when the file leaves them out: a topology named
 * once is not named again, wrongly, in every fault (fl_sc_redis_defaults).
 */
#include "scenario/scenario_internal.h"
#include "base/util.h"
#include "proto/sentinel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { X_NAME, X_REPLICAS, X_SENTINELS, X_MASTER, X_DOWN_AFTER, X_FAILOVER_TIMEOUT, X_ARGS,
       X_COUNT };

static const char *const redis_keys[X_COUNT] = {
    [X_NAME] = "name", [X_REPLICAS] = "replicas", [X_SENTINELS] = "sentinels",
    [X_MASTER] = "master", [X_DOWN_AFTER] = "down_after",
    [X_FAILOVER_TIMEOUT] = "failover_timeout", [X_ARGS] = "args",
};

static const char *arena_printf(struct fl_sc_loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *arena_printf(struct fl_sc_loader *ld, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    return fl_sc_strndup(ld, buf, (size_t)n);
}

/* Single-quote s for sh (s holds no single quote: names are validated). */
static int shell_safe(const char *s)
{
    return strchr(s, '\'') == NULL;
}

static void base_service(struct fl_service *svc, const char *name, struct fl_pos pos, int n)
{
    memset(svc, 0, sizeof *svc);
    svc->name = name;
    svc->pos = pos;
    svc->replicas = n;
    svc->restart = FL_RESTART_NEVER;
    svc->stop_grace_ms = 2000;
    svc->backoff_ms = 200;
    svc->backoff_max_ms = 5000;
    svc->ready.kind = FL_READY_TCP;
    svc->ready.target = "127.0.0.1:${port}";
    svc->ready.timeout_ms = 15000;
    svc->ready.interval_ms = 50;
}

static const char *const *sh_command(struct fl_sc_loader *ld, const char *script, size_t *n)
{
    const char **argv = fl_sc_alloc(ld, 4 * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = script;
    argv[3] = NULL;
    *n = 3;
    return argv;
}

void fl_sc_redis(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    struct fl_sc_field f[X_COUNT];
    if (fl_sc_fields(ld, n, redis_keys, X_COUNT, "redis", key_pos, f))
        return;
    const char *name = f[X_NAME].present ? fl_sc_str(ld, &f[X_NAME], "name", "a service name")
                                         : "redis";
    const char *master = f[X_MASTER].present
                             ? fl_sc_str(ld, &f[X_MASTER], "master", "a sentinel master name")
                             : FL_SENTINEL_DEFAULT_MASTER;
    if (!name || !master)
        return;
    if (!fl_sc_valid_name(name, 0) || !fl_sc_valid_name(master, 0)) {
        fl_sc_diag(ld, key_pos, "redis: name and master: expected names made of letters, "
                   "digits, '_', '-'; got '%s' and '%s'", name, master);
        return;
    }
    long long replicas = 1, sentinels = 3;
    fl_sc_int(ld, &f[X_REPLICAS], "redis.replicas", 0, 16, &replicas);
    fl_sc_int(ld, &f[X_SENTINELS], "redis.sentinels", 0, 9, &sentinels);
    uint64_t down_after = 1000, failover_timeout = 3000;
    fl_sc_duration(ld, &f[X_DOWN_AFTER], "redis.down_after", &down_after);
    fl_sc_duration(ld, &f[X_FAILOVER_TIMEOUT], "redis.failover_timeout", &failover_timeout);
    struct fl_buf extra;
    fl_buf_init(&extra, 1024);
    if (f[X_ARGS].present) {
        size_t na = 0;
        const char *const *args = fl_sc_strlist(ld, &f[X_ARGS], "redis.args",
                                                "a list of redis-server arguments", 0, 0,
                                                FL_SC_SERVICE, 0, &na);
        for (size_t i = 0; args && i < na; i++) {
            if (!shell_safe(args[i])) {
                fl_sc_diag(ld, f[X_ARGS].key_pos, "redis.args: a single quote is not allowed");
                break;
            }
            fl_buf_addf(&extra, " '%s'", args[i]);
        }
    }
    for (size_t i = 0; i < ld->nservices; i++)
        if (strcmp(ld->services[i].name, name) == 0 ||
            (sentinels && strncmp(ld->services[i].name, name, strlen(name)) == 0 &&
             strcmp(ld->services[i].name + strlen(name), "-sentinel") == 0))
            fl_sc_diag(ld, key_pos, "redis: service '%s' is already declared under services:",
                       ld->services[i].name);

    size_t add = sentinels ? 2 : 1;
    struct fl_service *all = fl_sc_alloc(ld, (ld->nservices + add) * sizeof *all);
    if (!all) {
        fl_buf_free(&extra);
        return;
    }
    /* The topology goes first: services start in order, and the ones that
     * use Redis need it up. */
    if (ld->nservices)
        memcpy(all + add, ld->services, ld->nservices * sizeof *all);
    struct fl_service *data = &all[0];
    base_service(data, name, key_pos, (int)replicas + 1);
    /* ${replica} 0 starts as the primary, the others replicate it. A node
     * that starts again later asks the sentinels who the primary is now and
     * replicates that one, as an init container would. The "$..." without
     * braces are for sh, not faultline references. RDB files go to the
     * run's output folder: a replica's full sync writes one, and a node
     * must never load one from another run. */
    char ask[512] = "";
    if (sentinels)
        snprintf(ask, sizeof ask,
                 "m=$(redis-cli -h 127.0.0.1 -p ${%s-sentinel.0.port} --raw sentinel "
                 "get-master-addr-by-name %s 2>/dev/null | tail -n 1); "
                 "if [ -n \"$m\" ] && [ \"$m\" != ${port} ]; then set -- --replicaof 127.0.0.1 $m; el",
                 name, master);
    const char *script = arena_printf(
        ld,
        "%sif [ ${replica} -eq 0 ]; then set --; else set -- --replicaof 127.0.0.1 ${%s.0.port}; fi; "
        "exec redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no "
        "--repl-diskless-sync-delay 0 --dir '${out}' --dbfilename '%s-${replica}.rdb'%s \"$@\"",
        ask, name, name, fl_buf_str(&extra));
    fl_buf_free(&extra);
    data->command = script ? sh_command(ld, script, &data->ncommand) : NULL;
    /* Ready means linked: a replica counts only once its link to the
     * primary is up. The sentinels start after this, and their first INFO
     * of the primary must list every replica: they would otherwise learn
     * of it only 10s later, and a primary killed before that has "no good
     * replica" to promote. */
    data->ready.kind = FL_READY_EXEC;
    data->ready.argv = sh_command(ld,
                                  "redis-cli -h 127.0.0.1 -p ${port} info replication | "
                                  "grep -q -e role:master -e master_link_status:up",
                                  &data->ready.argc);
    if (sentinels) {
        struct fl_service *sent = &all[1];
        const char *sname = arena_printf(ld, "%s-sentinel", name);
        base_service(sent, sname, key_pos, (int)sentinels);
        long long quorum = sentinels / 2 + 1;
        const char *conf = arena_printf(ld, "${out}/%s-sentinel-${replica}.conf", name);
        script = arena_printf(
            ld,
            "printf '%%s\\n' 'port ${port}' 'bind 127.0.0.1' 'daemonize no' "
            "'sentinel monitor %s 127.0.0.1 ${%s.0.port} %lld' "
            "'sentinel down-after-milliseconds %s %llu' "
            "'sentinel failover-timeout %s %llu' "
            "'sentinel parallel-syncs %s 1' > '%s' && exec redis-server '%s' --sentinel",
            master, name, quorum, master, (unsigned long long)down_after, master,
            (unsigned long long)failover_timeout, master, conf ? conf : "", conf ? conf : "");
        sent->command = script && conf ? sh_command(ld, script, &sent->ncommand) : NULL;
    }
    ld->services = all;
    ld->nservices += add;
    ld->redis_name = name;
    ld->redis_sentinels = sentinels ? arena_printf(ld, "%s-sentinel", name) : NULL;
    ld->redis_master = master;
}

/* Give parameter k of a the value s, as a default (at pos). */
static void set_default(struct fl_args *a, int k, const char *s, struct fl_pos pos)
{
    memset(&a->v[k], 0, sizeof a->v[k]);
    a->v[k].set = 1;
    a->v[k].s = s;
    a->v[k].pos = pos;
}

void fl_sc_redis_defaults(struct fl_sc_loader *ld)
{
    if (!ld->redis_name)
        return;
    for (size_t i = 0; i < ld->nfaults; i++) {
        struct fl_fault *f = &ld->faults[i];
        struct fl_args *a = &f->args;
        int ksvc = fl_param_index(a->params, a->n, "service");
        int ksen = fl_param_index(a->params, a->n, "sentinels");
        int kmas = fl_param_index(a->params, a->n, "master");
        if (ksen >= 0 && a->params[ksen].type != FL_PT_SERVICE)
            ksen = -1;
        if (kmas >= 0 && a->params[kmas].type != FL_PT_STRING)
            kmas = -1;
        if (ksen < 0 && kmas < 0)
            continue;
        /* Ours: the sentinels named are the shorthand's, or none are named
         * and the service is the shorthand's data service. */
        const char *sen = ksen >= 0 && a->v[ksen].set ? a->v[ksen].s : NULL;
        const char *svc = ksvc >= 0 && a->v[ksvc].set ? a->v[ksvc].s : NULL;
        int ours = sen ? ld->redis_sentinels && strcmp(sen, ld->redis_sentinels) == 0
                       : svc && strcmp(svc, ld->redis_name) == 0;
        if (!ours)
            continue;
        if (ksen >= 0 && !sen && ld->redis_sentinels)
            set_default(a, ksen, ld->redis_sentinels, f->pos);
        if (kmas >= 0 && !a->v[kmas].set)
            set_default(a, kmas, ld->redis_master, f->pos);
    }
}
