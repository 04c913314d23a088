/* test_resend.c - retry.stale's chains (injectors/resend.c) against a real
 * loopback HTTP server, on a run context without a runner:
 *
 *   - a follow whose polls cannot even be sent still ends at its deadline
 *     (retry.follow, info) instead of retrying forever;
 *   - each copy's answer lands on that copy's own process, also when an
 *     earlier copy failed to go out (fl_http_submit is wrapped at link
 *     time, -Wl,--wrap, to refuse one chosen call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/injector.h"
#include "core/model.h"
#include "core/run_context.h"
#include "core/target.h"
#include "history/history.h"
#include "injectors/resend.h"
#include "proto/http.h"
#include "support/httpd.h"
#include "support/loop.h"

extern const struct fl_injector_type fl_injector_retry_stale;

/* ---- fl_http_submit, refused on one chosen call ------------------------- */

int __real_fl_http_submit(struct fl_http *h, const struct fl_http_request *rq, fl_http_cb cb,
                          void *ud, struct fl_http_req **handle, struct fl_error *err);

static int submit_calls, submit_refuse;   /* refuse call number submit_refuse (1-based) */

int __wrap_fl_http_submit(struct fl_http *h, const struct fl_http_request *rq, fl_http_cb cb,
                          void *ud, struct fl_http_req **handle, struct fl_error *err)
{
    if (++submit_calls == submit_refuse)
        return fl_error_set(err, FL_EIO, "refused by the test");
    return __real_fl_http_submit(h, rq, cb, ud, handle, err);
}

/* ---- a run context: a history, a loop, a target resolving "api" --------- */

static int port;

static int resolve(struct fl_target *t, const char *name, size_t len, struct fl_buf *out,
                   struct fl_error *err)
{
    (void)t;
    (void)err;
    if (len != 3 || memcmp(name, "api", 3) != 0)
        return FL_ENOTFOUND;
    return fl_buf_addf(out, "127.0.0.1:%d", port) ? FL_ENOMEM : 0;
}

static const struct fl_target_type fake_type = {.name = "fake", .resolve = resolve};

struct fixture {
    uv_loop_t loop;
    struct fl_test_httpd *httpd;
    struct fl_target target;
    struct fl_run run;
    struct fl_fault fault;
    struct fl_fault_run fr;
    int done, status;
};

static void on_done(struct fl_fault_run *fr, int status, const char *error)
{
    (void)error;
    struct fixture *f = (struct fixture *)((char *)fr - offsetof(struct fixture, fr));
    f->done++;
    f->status = status;
}

static void start(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->httpd = fl_test_httpd_start();
    assert_non_null(f->httpd);
    port = fl_test_httpd_port(f->httpd);
    f->target.type = &fake_type;
    f->run.loop = &f->loop;
    f->run.history = fl_history_new(0);
    f->run.target = &f->target;
    f->run.t0_us = fl_now_us();
    f->fault.type = &fl_injector_retry_stale;
    f->fr.fault = &f->fault;
    f->fr.run = &f->run;
    f->fr.done = on_done;
    /* the workload accepted job j1 */
    fl_run_record(&f->run, 1, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    fl_run_record(&f->run, 1, FL_OK, "submit", FL_F_REQUEST, "j1", "202", NULL);
    submit_calls = submit_refuse = 0;
}

static void close_walk(uv_handle_t *h, void *ud)
{
    (void)ud;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish(struct fixture *f)
{
    fl_resend_stop(&f->fr);
    uv_walk(&f->loop, close_walk, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->fr.state);
    fl_test_httpd_stop(f->httpd);
    fl_history_free(f->run.history);
}

static int is_done(void *ud)
{
    return ((struct fixture *)ud)->done != 0;
}

static size_t count(const struct fl_history *h, const char *f, enum fl_optype type)
{
    size_t n = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        n += op->type == type && strcmp(op->f, f) == 0;
    }
    return n;
}

/* ---- tests -------------------------------------------------------------- */

static void test_follow_ends_when_polls_cannot_be_sent(void **state)
{
    (void)state;
    static struct fixture f;
    start(&f);
    /* a poll URL longer than a URL may be: every poll fails to go out */
    static char poll[1500];
    memset(poll, 'p', sizeof poll - 1);
    poll[0] = '/';
    struct fl_resend_spec s = {
        .workload = "submit", .count = 1, .copies = 1, .service = "api", .method = "POST",
        .path = "/jobs/{key}/retry", .poll_path = poll, .status_ptr = "/status",
        .until = (const char *const[]){"complete"}, .nuntil = 1,
        .every_ms = 10, .timeout_ms = 200,
    };
    struct fl_error err = {0};
    f.fr.in_call = 1;
    assert_int_equal(fl_resend_start(&f.fr, &s, &err), FL_PENDING);
    f.fr.in_call = 0;
    assert_true(fl_test_run_until(&f.loop, is_done, &f, 5000));
    assert_int_equal(f.status, 0);
    const struct fl_history *h = f.run.history;
    assert_int_equal(count(h, FL_F_RETRY, FL_OK), 1);
    assert_true(count(h, FL_F_RETRY_POLL, FL_FAIL) >= 1);
    assert_int_equal(count(h, FL_F_RETRY_FOLLOW, FL_INFO), 1);
    assert_non_null(strstr(f.fr.desc, "some never ended"));
    finish(&f);
}

static void test_copies_answer_on_their_own_process(void **state)
{
    (void)state;
    static struct fixture f;
    start(&f);
    submit_refuse = 2;             /* copy 1 of 0..3 never goes out */
    struct fl_resend_spec s = {
        .workload = "submit", .count = 1, .copies = 4, .service = "api", .method = "POST",
        .path = "/jobs/{key}/retry",
    };
    struct fl_error err = {0};
    f.fr.in_call = 1;
    assert_int_equal(fl_resend_start(&f.fr, &s, &err), FL_PENDING);
    f.fr.in_call = 0;
    assert_true(fl_test_run_until(&f.loop, is_done, &f, 5000) || f.fr.early);
    /* every copy: one invoke, then exactly one completion on its process */
    const struct fl_history *h = f.run.history;
    int32_t procs[8];
    size_t np = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->type == FL_INVOKE && strcmp(op->f, FL_F_RETRY) == 0 && np < 8)
            procs[np++] = op->process;
    }
    assert_int_equal(np, 4);
    for (size_t k = 0; k < np; k++) {
        size_t invokes = 0, oks = 0, fails = 0, infos = 0;
        for (size_t i = 0; i < fl_history_len(h); i++) {
            const struct fl_op *op = fl_history_get(h, i);
            if (op->process != procs[k] || strcmp(op->f, FL_F_RETRY) != 0)
                continue;
            invokes += op->type == FL_INVOKE;
            oks += op->type == FL_OK;
            fails += op->type == FL_FAIL;
            infos += op->type == FL_INFO;
        }
        if (invokes != 1 || oks + fails + infos != 1)
            fail_msg("copy %zu (process %d): %zu invokes, %zu ok, %zu fail, %zu info", k,
                     procs[k], invokes, oks, fails, infos);
        assert_int_equal(fails, k == 1);
    }
    finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_ends_when_polls_cannot_be_sent),
        cmocka_unit_test(test_copies_answer_on_their_own_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
