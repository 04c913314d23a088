/* loop.h - drive a libuv loop from a test until something holds. */
#ifndef FL_TEST_LOOP_H
#define FL_TEST_LOOP_H

#include <uv.h>

/* Run loop until pred(ud) returns non-zero or timeout_ms have passed (a
 * tick timer keeps the loop from blocking for longer than a few ms);
 * returns pred's last answer. Bounded: never runs past the timeout. */
int fl_test_run_until(uv_loop_t *loop, int (*pred)(void *ud), void *ud, int timeout_ms);

#endif
