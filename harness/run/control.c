/* control.c - a running run's control socket: `faultline halt`.
 *
 * Each run listens on STATE_DIR/RUN_TAG.sock (beside its journal, so runs
 * that share a machine and a state folder each have their own) while its
 * services run. A client writes one line:
 *
 *   halt [WHO]\n  ->  "halting RUN_TAG\n"           the run heals every
 *                     "already stopping RUN_TAG\n"  fault at once, skips the
 *                                                   rest of its timeline,
 *                                                   stops its services and
 *                                                   writes its reports,
 *                                                   marked halted
 *   status\n      ->  "running RUN_TAG PHASE\n"
 *
 * Anything else gets "error ...\n". The socket is removed once the
 * services stopped: a client that waits for it to disappear knows that
 * the run healed everything. Requests are bounded (one line of at most
 * CTL_LINE bytes; a client that sends more or stays silent for CTL_IDLE_MS
 * is dropped), so a stray connection cannot hold the run.
 */
#include "run/runner_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_LINE 256
#define CTL_IDLE_MS 5000

struct ctl_client {
    uv_pipe_t pipe;
    uv_timer_t idle;
    struct runner *rn;
    char buf[CTL_LINE];
    size_t len;
    int closing;
    uv_write_t wr;
    char reply[200];
};

static void client_closed(uv_handle_t *h)
{
    struct ctl_client *c = h->data;
    if (--c->closing == 0)
        free(c);
}

static void client_close(struct ctl_client *c)
{
    if (c->closing)
        return;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->pipe, client_closed);
    uv_close((uv_handle_t *)&c->idle, client_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    client_close(w->data);
}

static void reply(struct ctl_client *c, const char *fmt, const char *a, const char *b)
{
    snprintf(c->reply, sizeof c->reply, fmt, a, b);
    uv_buf_t buf = uv_buf_init(c->reply, (unsigned)strlen(c->reply));
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &buf, 1, on_written))
        client_close(c);
}

static void handle_line(struct ctl_client *c, char *line)
{
    struct runner *rn = c->rn;
    if (strncmp(line, "halt", 4) == 0 && (line[4] == '\0' || line[4] == ' ')) {
        const char *who = line[4] ? line + 5 : "";
        if (rn->teardown_started || rn->run.aborting) {
            reply(c, "already stopping %s%s\n", rn->run_tag, "");
            return;
        }
        reply(c, "halting %s%s\n", rn->run_tag, "");
        fl_rn_halt(rn, who);
        return;
    }
    if (strcmp(line, "status") == 0) {
        reply(c, "running %s %s\n", rn->run_tag, fl_rn_phase_name(rn));
        return;
    }
    reply(c, "error unknown request '%.60s'%s (expected halt or status)\n", line, "");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct ctl_client *c = h->data;
    buf->base = c->buf + c->len;
    buf->len = sizeof c->buf - 1 - c->len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct ctl_client *c = s->data;
    if (n < 0 || c->closing) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    char *nl = strchr(c->buf, '\n');
    if (!nl) {
        if (c->len >= sizeof c->buf - 1)
            client_close(c);            /* a line too long: not a client of ours */
        return;
    }
    *nl = '\0';
    if (nl > c->buf && nl[-1] == '\r')
        nl[-1] = '\0';
    uv_read_stop(s);
    uv_timer_stop(&c->idle);
    handle_line(c, c->buf);
}

static void on_idle(uv_timer_t *t)
{
    client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct runner *rn = server->data;
    if (status < 0)
        return;
    struct ctl_client *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->rn = rn;
    uv_pipe_init(&rn->loop, &c->pipe, 0);
    uv_timer_init(&rn->loop, &c->idle);
    c->pipe.data = c->idle.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) {
        client_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, CTL_IDLE_MS, 0);
}

int fl_rn_control_open(struct runner *rn, struct fl_error *err)
{
    if (!rn->o->state_dir)
        return 0;
    int n = snprintf(rn->ctl_path, sizeof rn->ctl_path, "%s/%s.sock", rn->o->state_dir,
                     rn->run_tag);
    if (n < 0 || (size_t)n >= sizeof rn->ctl_path) {
        rn->ctl_path[0] = '\0';
        return fl_error_set(err, FL_EINVAL, "the state folder's path is too long for a control "
                            "socket (at most %zu bytes): `faultline halt` cannot reach this run",
                            sizeof rn->ctl_path - sizeof "/run-0-0-0.sock");
    }
    unlink(rn->ctl_path);      /* the tag is this process's: an old file is stale */
    uv_pipe_init(&rn->loop, &rn->ctl, 0);
    rn->ctl.data = rn;
    rn->ctl_open = 1;
    int rc = uv_pipe_bind(&rn->ctl, rn->ctl_path);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&rn->ctl, 8, on_connection);
    if (rc) {
        fl_rn_control_close(rn);
        return fl_error_set(err, FL_ESYS, "control socket %s: %s: `faultline halt` cannot reach "
                            "this run", rn->ctl_path, uv_strerror(rc));
    }
    return 0;
}

void fl_rn_control_close(struct runner *rn)
{
    if (!rn->ctl_open)
        return;
    rn->ctl_open = 0;
    if (!uv_is_closing((uv_handle_t *)&rn->ctl))
        uv_close((uv_handle_t *)&rn->ctl, NULL);
    if (rn->ctl_path[0])
        unlink(rn->ctl_path);
}
