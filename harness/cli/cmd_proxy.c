/* cmd_proxy.c - `faultline proxy`: fault proxies for game days, driven
 * through Toxiproxy's JSON API on loopback (harness/proxy/control.h).
 * Ctrl-C (or SIGTERM) closes every proxy and connection and exits 0. */
#include "cli/cli.h"
#include "proxy/control.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: faultline proxy [--listen HOST:PORT] [--heartbeat D] [--seed N]\n"
            "\n"
            "Run fault proxies driven by Toxiproxy's JSON API, so Toxiproxy's clients and\n"
            "scripts work unchanged: /proxies, /proxies/NAME, /proxies/NAME/toxics,\n"
            "/populate, /reset, /version. Extra toxic types on proxies created with\n"
            "\"protocol\": \"http\": http_status, http_ratelimit, http_delay,\n"
            "http_close_idle (docs/proxy.md).\n"
            "\n"
            "  --listen HOST:PORT  control API address, loopback only (default 127.0.0.1:8474)\n"
            "  --heartbeat D       dead man's switch: when no control request came for D\n"
            "                      (like 30s), every toxic is removed and every proxy enabled\n"
            "  --seed N            seed of the toxicity and jitter draws (default: the time)\n"
            "\n"
            "Ctrl-C closes every proxy and exits 0. Example:\n"
            "  curl -X POST 127.0.0.1:8474/proxies -d '{\"name\":\"redis\",\"listen\":\"127.0.0.1:26379\",\"upstream\":\"127.0.0.1:6379\"}'\n"
            "  curl -X POST 127.0.0.1:8474/proxies/redis/toxics -d '{\"type\":\"latency\",\"attributes\":{\"latency\":100}}'\n");
}

struct state {
    struct fl_control *ctl;
    uv_signal_t sigint, sigterm;
    int stopping;
};

static void say(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "faultline proxy: %s\n", msg);
    fflush(stderr);
}

static void on_closed(void *ud)
{
    struct state *s = ud;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct state *s = h->data;
    if (s->stopping)
        return;
    s->stopping = 1;
    fprintf(stderr, "faultline proxy: signal %d: closing every proxy\n", sig);
    fl_control_close(s->ctl, on_closed, s);
}

int fl_cmd_proxy(int argc, char **argv)
{
    const char *listen = "127.0.0.1:8474";
    uint64_t heartbeat = 0, seed = (uint64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return EXIT_PASS;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s proxy: unknown option or missing value: %s\n\n", fl_cli_prog, a);
            usage(stderr);
            return EXIT_USAGE;
        }
        const char *v = argv[++i];
        long long n;
        if (!strcmp(a, "--listen")) {
            listen = v;
        } else if (!strcmp(a, "--heartbeat")) {
            if (fl_parse_duration(v, &heartbeat) || heartbeat == 0) {
                fprintf(stderr, "%s proxy: --heartbeat: expected a duration like 30s, got '%s'\n",
                        fl_cli_prog, v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(a, "--seed")) {
            if (fl_parse_int(v, 0, 1000000000000LL, &n)) {
                fprintf(stderr, "%s proxy: --seed: expected a number, got '%s'\n", fl_cli_prog, v);
                return EXIT_USAGE;
            }
            seed = (uint64_t)n;
        } else {
            fprintf(stderr, "%s proxy: unknown option %s\n\n", fl_cli_prog, a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct state s = {0};
    struct fl_control_opts o = {.listen = listen, .heartbeat_ms = heartbeat, .seed = seed,
                                .log = say};
    struct fl_error err = {0};
    if (fl_control_start(&loop, &o, &s.ctl, &err)) {
        fprintf(stderr, "%s proxy: %s\n", fl_cli_prog, err.msg);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return EXIT_UNKNOWN;
    }
    uv_signal_init(&loop, &s.sigint);
    uv_signal_init(&loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    fprintf(stderr, "faultline proxy: control API on http://%s (seed %llu%s)\n",
            fl_control_listen_addr(s.ctl), (unsigned long long)seed,
            heartbeat ? ", heartbeat on" : "");
    fflush(stderr);
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    fprintf(stderr, "faultline proxy: stopped%s\n", rc ? " (handles left open)" : "");
    return rc ? EXIT_UNKNOWN : EXIT_PASS;
}
