/* cmd_halt.c - `faultline halt`: make running runs heal everything and
 * stop, from any terminal (Gremlin's "halt all").
 *
 * Every run listens on STATE_DIR/RUN_TAG.sock (run/control.c). halt sends
 * each one "halt", then waits until its socket is gone: the run removes it
 * once every fault is healed and every service stopped, so a halt that
 * returned 0 means the system is left as it was found. A socket nobody
 * answers on belongs to a run that died; its journal is `faultline
 * recover`'s business, the stale socket is removed.
 */
#include "cli/cli.h"
#include "base/util.h"
#include "core/journal.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define prog fl_cli_prog
#define MAX_RUNS 256

static void usage_halt(FILE *f)
{
    fprintf(f,
            "Usage: faultline halt [RUN_TAG...] [--state-dir DIR] [--timeout D] [--no-wait]\n"
            "                      [--status]\n"
            "\n"
            "Make running faultline runs stop at once: each heals every active fault,\n"
            "skips the rest of its timeline, stops its services and writes its reports,\n"
            "marked halted (exit 2). Without RUN_TAG, every run using the state folder\n"
            "is halted; with one, only that run (its tag is printed at its start and\n"
            "names its journal). halt waits until each run has healed and stopped.\n"
            "Safe to repeat: a run already stopping says so; no run is not an error.\n"
            "\n"
            "Options:\n"
            "  --state-dir DIR   the runs' state folder (default as for `faultline run`)\n"
            "  --timeout D       how long to wait for the runs to stop (default 2m)\n"
            "  --no-wait         return once every run has acknowledged\n"
            "  --status          only list the runs and their phase; halt nothing\n"
            "  -q, --quiet       print only errors\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit: 0 every run halted (or none was running), 2 a run did not answer or did\n"
            "not stop within the timeout, 64 usage.\n");
}

struct halt_opts {
    const char *state_dir;
    char state_buf[1024];
    const char *tags[MAX_RUNS];
    size_t ntags;
    uint64_t timeout_ms;
    int no_wait, status, quiet;
};

/* One request, one reply line. Returns 0, or -errno (ECONNREFUSED,
 * ENOENT: nobody listens). */
static int ask(const char *path, const char *req, char *out, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        close(fd);
        return -ENAMETOOLONG;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        rc = -errno;
    } else {
        size_t n = 0;
        ssize_t r;
        while (n + 1 < len && (r = read(fd, out + n, len - 1 - n)) > 0) {
            n += (size_t)r;
            if (memchr(out, '\n', n))
                break;
        }
        out[n] = '\0';
        char *nl = strchr(out, '\n');
        if (nl)
            *nl = '\0';
        if (n == 0)
            rc = -ETIMEDOUT;
    }
    close(fd);
    return rc;
}

static int wanted(const struct halt_opts *o, const char *tag)
{
    if (!o->ntags)
        return 1;
    for (size_t i = 0; i < o->ntags; i++)
        if (strcmp(o->tags[i], tag) == 0)
            return 1;
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse(struct halt_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 'S'}, {"timeout", required_argument, NULL, 'T'},
        {"no-wait", no_argument, NULL, 'n'},         {"status", no_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    o->timeout_ms = 120000;
    while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'S': o->state_dir = optarg; break;
        case 'T':
            if (fl_parse_duration(optarg, &o->timeout_ms) || o->timeout_ms == 0) {
                fprintf(stderr, "%s halt: --timeout expects a duration like 30s, got '%s'\n",
                        prog, optarg);
                return EXIT_USAGE;
            }
            break;
        case 'n': o->no_wait = 1; break;
        case 's': o->status = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage_halt(stdout); exit(EXIT_PASS);
        default: usage_halt(stderr); return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc && o->ntags < MAX_RUNS; i++)
        o->tags[o->ntags++] = argv[i];
    if (!o->state_dir) {
        fl_state_dir_default(o->state_buf, sizeof o->state_buf);
        o->state_dir = o->state_buf;
    }
    return 0;
}

int fl_cmd_halt(int argc, char **argv)
{
    struct halt_opts o = {0};
    int rc = parse(&o, argc, argv);
    if (rc)
        return rc;
    DIR *d = opendir(o.state_dir);
    if (!d) {
        if (!o.quiet)
            fprintf(stderr, "%s: no run to halt (%s: %s)\n", prog, o.state_dir, strerror(errno));
        return errno == ENOENT ? EXIT_PASS : EXIT_UNKNOWN;
    }
    char *waiting[MAX_RUNS];
    size_t nwait = 0, found = 0;
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nwait < MAX_RUNS) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0)
            continue;
        char tag[256];
        snprintf(tag, sizeof tag, "%.*s", (int)(n - 5), e->d_name);
        if (!wanted(&o, tag))
            continue;
        char path[2048], answer[256] = "";
        snprintf(path, sizeof path, "%s/%s", o.state_dir, e->d_name);
        char req[64];
        snprintf(req, sizeof req, o.status ? "status\n" : "halt pid %d\n", (int)getpid());
        int r = ask(path, req, answer, sizeof answer);
        if (r == -ECONNREFUSED || r == -ENOENT) {
            /* The run is gone (its journal, if any, is recover's). */
            unlink(path);
            continue;
        }
        found++;
        if (r) {
            fprintf(stderr, "%s: %s: no answer: %s\n", prog, tag, strerror(-r));
            bad = 1;
            continue;
        }
        if (!o.quiet || strncmp(answer, "error", 5) == 0)
            printf("%s\n", answer);
        if (strncmp(answer, "error", 5) == 0)
            bad = 1;
        else if (!o.status && !o.no_wait)
            waiting[nwait++] = strdup(path);
    }
    closedir(d);
    for (size_t i = 0; i < o.ntags && !found; i++) {
        fprintf(stderr, "%s: no run %s in %s\n", prog, o.tags[i], o.state_dir);
        bad = 1;
    }
    if (!found && !o.ntags && !o.quiet)
        fprintf(stderr, "%s: no run to halt in %s\n", prog, o.state_dir);
    /* The run removes its socket once it has healed and stopped. */
    int64_t deadline = now_ms() + (int64_t)o.timeout_ms;
    for (size_t i = 0; i < nwait; i++) {
        struct stat st;
        while (waiting[i] && stat(waiting[i], &st) == 0 && now_ms() < deadline)
            usleep(50 * 1000);
        if (waiting[i] && stat(waiting[i], &st) == 0) {
            fprintf(stderr, "%s: %s still running after %llums (faults may still be active)\n",
                    prog, waiting[i], (unsigned long long)o.timeout_ms);
            bad = 1;
        } else if (!o.quiet) {
            const char *base = strrchr(waiting[i], '/');
            printf("stopped %.*s\n", (int)strlen(base + 1) - 5, base + 1);
        }
        free(waiting[i]);
    }
    return bad ? EXIT_UNKNOWN : EXIT_PASS;
}
