/* operator.c - the person at the terminal during a game day.
 *
 * Lines typed on the run's input (fl_runner_opts.input_fd, a terminal or a
 * pipe) land in the history as notes ("operator" "note", at the time they
 * were typed), so the discussion afterwards sees "latency spiked here"
 * beside the faults. With --step (fl_runner_opts.step) every fault waits
 * for the operator before it is injected: y or an empty line injects it,
 * n skips it (recorded as a skipped fault), q stops the run as halt does.
 * The workload and probes go on while a fault waits; faults due meanwhile
 * wait their turn. End of input while a fault waits counts as q: nobody is
 * left to confirm.
 */
#include "run/runner_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OP_LINE 1024

static void ask_next(struct runner *rn)
{
    if (rn->step_asking || rn->nstep_queue == 0 || rn->run.aborting)
        return;
    struct fault_slot *fs = rn->step_queue[0];
    rn->step_asking = 1;
    const struct fl_fault *f = fs->fr.fault;
    char at[32];
    fl_format_duration(f->at_ms, at, sizeof at);
    snprintf(rn->step_prompt, sizeof rn->step_prompt, "inject %s (%s:%d, due at %s)? [Y/n/q]",
             f->type->name, f->pos.file, f->pos.line, at);
    fl_run_log(&rn->run, 0, "step: %s", rn->step_prompt);
}

static void answer(struct runner *rn, const char *line)
{
    struct fault_slot *fs = rn->step_queue[0];
    char c = (char)tolower((unsigned char)line[0]);
    if (c != '\0' && c != 'y' && c != 'n' && c != 'q') {
        fl_run_log(&rn->run, 0, "step: answer y (or Enter), n or q");
        return;
    }
    memmove(rn->step_queue, rn->step_queue + 1, --rn->nstep_queue * sizeof *rn->step_queue);
    rn->step_asking = 0;
    rn->step_prompt[0] = '\0';
    if (c == 'q') {
        fl_rn_halt(rn, "the operator (--step)");
        return;
    }
    if (c == 'n') {
        /* Not a fault op: the fault never happened, and checkers that read
         * faults must not see one. */
        const char *name = fs->fr.fault->type->name;
        char where[300];
        snprintf(where, sizeof where, "%s:%d", fs->fr.fault->pos.file, fs->fr.fault->pos.line);
        fl_run_record(&rn->run, FL_PROC_RUNNER + 2, FL_OK, "operator", FL_F_SKIP, where, name,
                      NULL);
        fl_run_log(&rn->run, 0, "step: %s skipped", name);
    } else {
        fs->step_confirmed = 1;
        fl_rn_on_inject_timer(&fs->inject_timer);
    }
    ask_next(rn);
}

static void on_line(struct runner *rn, char *line)
{
    /* A terminal echoed the line under the live view: say so, so that the
     * view can take that line back with its own (FL_LOG_ECHO). */
    if (rn->in_stream == (uv_stream_t *)&rn->in_tty)
        fl_run_log(&rn->run, 0, "%s", FL_LOG_ECHO);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || isspace((unsigned char)line[n - 1])))
        line[--n] = '\0';
    if (rn->step_asking) {
        answer(rn, line);
        return;
    }
    if (!*line)
        return;
    fl_run_record(&rn->run, FL_PROC_RUNNER + 2, FL_OK, "operator", FL_F_NOTE, NULL, line, NULL);
    fl_run_log(&rn->run, 0, "note recorded: %s", line);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct runner *rn = h->data;
    buf->base = rn->in_buf + rn->in_len;
    buf->len = sizeof rn->in_buf - 1 - rn->in_len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct runner *rn = s->data;
    if (n < 0) {
        /* End of input: no one can confirm a waiting fault any more. */
        uv_read_stop(s);
        rn->in_eof = 1;
        if (rn->step_asking)
            answer(rn, "q");
        return;
    }
    rn->in_len += (size_t)n;
    rn->in_buf[rn->in_len] = '\0';
    char *start = rn->in_buf, *nl;
    while ((nl = strchr(start, '\n'))) {
        *nl = '\0';
        on_line(rn, start);
        start = nl + 1;
    }
    size_t rest = rn->in_len - (size_t)(start - rn->in_buf);
    if (rest >= sizeof rn->in_buf - 1) {
        rn->in_buf[sizeof rn->in_buf - 1] = '\0';
        on_line(rn, rn->in_buf);            /* a line too long: kept, cut */
        rest = 0;
    }
    memmove(rn->in_buf, start, rest);
    rn->in_len = rest;
}

int fl_rn_operator_open(struct runner *rn)
{
    if (!rn->o->input)
        return 0;
    /* A copy: closing the handle closes its fd, and stdin outlives the run. */
    int fd = dup(rn->o->input_fd);
    if (fd < 0)
        return 0;
    uv_handle_type t = uv_guess_handle(fd);
    int rc;
    if (t == UV_TTY) {
        rc = uv_tty_init(&rn->loop, &rn->in_tty, fd, 1);
        rn->in_stream = (uv_stream_t *)&rn->in_tty;
    } else if (t == UV_NAMED_PIPE) {
        rc = uv_pipe_init(&rn->loop, &rn->in_pipe, 0);
        if (rc == 0)
            rc = uv_pipe_open(&rn->in_pipe, fd);
        rn->in_stream = (uv_stream_t *)&rn->in_pipe;
    } else {
        close(fd);              /* a file or /dev/null: nothing is typed there */
        if (rn->o->step)
            fl_run_log(&rn->run, 0, "step: the input is not a terminal or a pipe: nothing can "
                       "confirm a fault, the run stops at the first one");
        rn->in_eof = 1;
        return 0;
    }
    if (rc) {
        close(fd);
        rn->in_stream = NULL;
        return 0;
    }
    rn->in_stream->data = rn;
    uv_read_start(rn->in_stream, on_alloc, on_read);
    /* Reading stdin must not keep the loop alive once the run is over. */
    uv_unref((uv_handle_t *)rn->in_stream);
    return 0;
}

void fl_rn_operator_close(struct runner *rn)
{
    if (rn->in_stream && !uv_is_closing((uv_handle_t *)rn->in_stream))
        uv_close((uv_handle_t *)rn->in_stream, NULL);
}

int fl_rn_step_hold(struct runner *rn, struct fault_slot *fs)
{
    if (!rn->o->step || fs->step_confirmed)
        return 0;
    if (rn->in_eof || !rn->in_stream) {
        fl_rn_halt(rn, "the operator (--step, no input to confirm with)");
        return 1;
    }
    if (rn->nstep_queue < rn->nfaults)
        rn->step_queue[rn->nstep_queue++] = fs;
    ask_next(rn);
    return 1;
}

const char *fl_rn_step_prompt(const struct runner *rn)
{
    return rn->step_asking ? rn->step_prompt : NULL;
}
