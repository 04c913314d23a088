/* loader - the demo batch loader for failure mode 4 (full disks).
 *
 * It "reads" rows from a source (generated) and writes them, in batches,
 * to sharded files in a spool folder (part-000001.csv, ...), like the
 * nightly job of the incident. It reports progress and health over HTTP:
 *
 *   GET /healthz   200 {"status":"ok"} or 503 {"status":"unhealthy","reason":...}
 *   GET /stats     {"rows_read":N,"write_errors":E,"shards":S,"retrying":0|1}
 *   GET /metrics   Prometheus text: loader_rows_read_total, loader_write_errors_total
 *
 * Two bugs of the incident, each behind a flag (--profile buggy sets both,
 * --profile fixed neither; --silent-retry and --old-cleanup set one):
 *   silent retry  on a write error it retries the batch forever and says
 *                 nothing: health stays 200, no error is counted. Fixed:
 *                 the error is counted and health is 503 with the reason
 *                 until a write succeeds again.
 *   old cleanup   cleanup removes the old single-file name (load.csv)
 *                 only, not the shards, so the spool fills up by itself.
 *                 Fixed: shards beyond the newest --keep are removed.
 *
 *   loader --port P --spool DIR [--profile buggy|fixed] [--rows-per-tick N]
 *          [--row-bytes B] [--shard-rows N] [--keep N] [--tick-ms MS]
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cfg {
    int port;
    const char *spool;
    int silent_retry, old_cleanup;
    int rows_per_tick, row_bytes, shard_rows, keep, tick_ms;
};

static struct {
    pthread_mutex_t mu;
    unsigned long long rows, errors;
    long shard, shards;     /* current shard number, shards on disk */
    int failing;            /* the last write failed */
    char reason[200];
} st = {.mu = PTHREAD_MUTEX_INITIALIZER};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **ctx)
{
    (void)version, (void)data, (void)size, (void)ctx;
    const struct cfg *cf = cls;
    char body[512];
    if (strcmp(method, "GET") != 0)
        return reply(c, 405, "text/plain", "GET only\n");
    pthread_mutex_lock(&st.mu);
    unsigned long long rows = st.rows, errors = st.errors;
    long shards = st.shards;
    int failing = st.failing;
    char reason[200];
    snprintf(reason, sizeof reason, "%s", st.reason);
    pthread_mutex_unlock(&st.mu);
    if (strcmp(url, "/healthz") == 0) {
        /* The silent-retry bug: health never looks at the writes. */
        if (failing && !cf->silent_retry) {
            snprintf(body, sizeof body, "{\"status\":\"unhealthy\",\"reason\":\"%s\"}\n", reason);
            return reply(c, 503, "application/json", body);
        }
        return reply(c, 200, "application/json", "{\"status\":\"ok\"}\n");
    }
    if (strcmp(url, "/stats") == 0) {
        snprintf(body, sizeof body, "{\"rows_read\":%llu,\"write_errors\":%llu,\"shards\":%ld,"
                 "\"retrying\":%d}\n", rows, errors, shards, failing);
        return reply(c, 200, "application/json", body);
    }
    if (strcmp(url, "/metrics") == 0) {
        snprintf(body, sizeof body, "# TYPE loader_rows_read_total counter\n"
                 "loader_rows_read_total %llu\n# TYPE loader_write_errors_total counter\n"
                 "loader_write_errors_total %llu\n", rows, errors);
        return reply(c, 200, "text/plain; version=0.0.4", body);
    }
    return reply(c, 404, "text/plain", "not found\n");
}

static void shard_path(const struct cfg *cf, long n, char *buf, size_t len)
{
    snprintf(buf, len, "%s/part-%06ld.csv", cf->spool, n);
}

/* Append one batch to the current shard; on failure the shard is cut back
 * to where it was, so a retry writes the batch whole. 0 or errno. */
static int write_batch(const struct cfg *cf, long shard, unsigned long long first)
{
    char path[4096];
    shard_path(cf, shard, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    off_t at = lseek(fd, 0, SEEK_END);
    char *row = malloc((size_t)cf->row_bytes + 1);
    int rc = row ? 0 : ENOMEM;
    for (int i = 0; i < cf->rows_per_tick && !rc; i++) {
        int n = snprintf(row, (size_t)cf->row_bytes + 1, "%llu,", first + (unsigned long long)i);
        memset(row + n, 'x', (size_t)(cf->row_bytes - n - 1));
        row[cf->row_bytes - 1] = '\n';
        ssize_t w = write(fd, row, (size_t)cf->row_bytes);
        if (w != cf->row_bytes)
            rc = w < 0 ? errno : ENOSPC;
    }
    if (!rc && fsync(fd) != 0)
        rc = errno;
    if (rc && at >= 0 && ftruncate(fd, at) != 0) {
        /* nothing more to do: the next attempt appends after the torn part */
    }
    free(row);
    close(fd);
    return rc;
}

static void cleanup(const struct cfg *cf, long shard)
{
    char path[4096];
    if (cf->old_cleanup) {
        /* The bug: the cleanup job still knows the single-file name only. */
        snprintf(path, sizeof path, "%s/load.csv", cf->spool);
        unlink(path);
        return;
    }
    for (long n = shard - cf->keep; n > 0; n--) {
        shard_path(cf, n, path, sizeof path);
        if (unlink(path) != 0)
            break;   /* older ones are gone already */
        pthread_mutex_lock(&st.mu);
        st.shards--;
        pthread_mutex_unlock(&st.mu);
    }
}

static void tick(const struct cfg *cf, unsigned long long *in_shard)
{
    pthread_mutex_lock(&st.mu);
    long shard = st.shard;
    unsigned long long first = st.rows;
    pthread_mutex_unlock(&st.mu);
    int rc = write_batch(cf, shard, first);
    pthread_mutex_lock(&st.mu);
    if (rc) {
        if (!cf->silent_retry) {
            st.errors++;
            snprintf(st.reason, sizeof st.reason, "writing shard %ld: %s", shard, strerror(rc));
            if (!st.failing)
                fprintf(stderr, "loader: %s; retrying, health is 503 until a write succeeds\n",
                        st.reason);
        }
        st.failing = 1;   /* the batch is retried at the next tick, forever */
    } else {
        if (st.failing && !cf->silent_retry)
            fprintf(stderr, "loader: writes succeed again\n");
        st.failing = 0;
        st.reason[0] = 0;
        st.rows += (unsigned long long)cf->rows_per_tick;
        *in_shard += (unsigned long long)cf->rows_per_tick;
        if (*in_shard >= (unsigned long long)cf->shard_rows) {
            st.shard++;
            st.shards++;
            *in_shard = 0;
        }
    }
    shard = st.shard;
    pthread_mutex_unlock(&st.mu);
    cleanup(cf, shard);
}

static int arg_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct cfg cf = {0, NULL, 0, 0, 40, 512, 400, 4, 100};   /* profile fixed */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--silent-retry") == 0) { cf.silent_retry = 1; continue; }
        if (strcmp(a, "--old-cleanup") == 0) { cf.old_cleanup = 1; continue; }
        if (!v) bad = 1;
        else if (strcmp(a, "--port") == 0) bad = arg_int(v, 1, 65535, &cf.port);
        else if (strcmp(a, "--spool") == 0) cf.spool = v;
        else if (strcmp(a, "--profile") == 0) {
            if (strcmp(v, "buggy") == 0) cf.silent_retry = cf.old_cleanup = 1;
            else if (strcmp(v, "fixed") == 0) cf.silent_retry = cf.old_cleanup = 0;
            else bad = 1;
        }
        else if (strcmp(a, "--rows-per-tick") == 0) bad = arg_int(v, 1, 100000, &cf.rows_per_tick);
        else if (strcmp(a, "--row-bytes") == 0) bad = arg_int(v, 16, 65536, &cf.row_bytes);
        else if (strcmp(a, "--shard-rows") == 0) bad = arg_int(v, 1, 100000000, &cf.shard_rows);
        else if (strcmp(a, "--keep") == 0) bad = arg_int(v, 1, 100000, &cf.keep);
        else if (strcmp(a, "--tick-ms") == 0) bad = arg_int(v, 1, 60000, &cf.tick_ms);
        else bad = 1;
        if (bad) {
            fprintf(stderr, "usage: loader --port P --spool DIR [--profile buggy|fixed] "
                    "[--silent-retry] [--old-cleanup] [--rows-per-tick N] [--row-bytes B] "
                    "[--shard-rows N] [--keep N] [--tick-ms MS]\n");
            return 2;
        }
        i++;
    }
    if (!cf.port || !cf.spool) {
        fprintf(stderr, "loader: --port and --spool are required\n");
        return 2;
    }
    if (mkdir(cf.spool, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "loader: cannot create %s: %s\n", cf.spool, strerror(errno));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    st.shard = 1;
    st.shards = 1;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                            (uint16_t)cf.port, NULL, NULL, handle, &cf,
                                            MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "loader: cannot listen on port %d\n", cf.port);
        return 1;
    }
    fprintf(stderr, "loader: spool %s, silent retry %s, old cleanup %s\n", cf.spool,
            cf.silent_retry ? "on (bug)" : "off", cf.old_cleanup ? "on (bug)" : "off");
    unsigned long long in_shard = 0;
    struct timespec ts = {cf.tick_ms / 1000, (long)(cf.tick_ms % 1000) * 1000000L};
    while (!stop) {
        tick(&cf, &in_shard);
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    return 0;
}
