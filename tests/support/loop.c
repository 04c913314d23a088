/* loop.c - see loop.h. */
#include "support/loop.h"

#include "base/util.h"

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

int fl_test_run_until(uv_loop_t *loop, int (*pred)(void *ud), void *ud, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    int64_t end = fl_now_us() + (int64_t)timeout_ms * 1000;
    int ok;
    while (!(ok = pred(ud)) && fl_now_us() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}
