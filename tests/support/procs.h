/* procs.h - child processes for tests: a registry of the pids a test
 * started (killed by pid in teardown or at exit, never by pattern), free
 * loopback ports, and a real redis-server. */
#ifndef FL_TEST_PROCS_H
#define FL_TEST_PROCS_H

#include <sys/types.h>

/* Track pid; fl_test_kill / fl_test_kill_all end it. */
void fl_test_remember(pid_t pid);
/* Stop tracking pid (it was reaped elsewhere). */
void fl_test_forget(pid_t pid);
/* SIGKILL and reap a tracked pid (no SIGCONT first: a resumed server could
 * still answer pending requests before it dies); safe to call twice. */
void fl_test_kill(pid_t pid);
void fl_test_kill_all(void);

void fl_test_sleep_ms(long ms);
/* A loopback port nothing listens on right now, or -1. */
int fl_test_free_port(void);

/* 1 when a redis-server on 127.0.0.1:port answers PING within 300ms. */
int fl_test_redis_answers(int port);
/* Run redis-server with args (NULL-terminated, after the program name; at
 * most 40), stdio to /dev/null, killed if the test dies; wait up to 5s for
 * it to answer on port. Returns the tracked pid, or -1 when it exited
 * (e.g. the port was taken) or never answered. */
pid_t fl_test_redis_spawn(int port, const char *const *args);

/* Tests that read tests/data run from the source folder: chdir to
 * $FL_SOURCE_DIR when it is set (ctest sets it). Returns 0, or 1 after
 * saying why on stderr. */
int fl_test_chdir_source(void);

#endif
