/* guard.c - a guardian that heals after a faultline that dies.
 *
 * `faultline run` forks it once, before the first scenario: a small
 * process in its own session (a Ctrl-C to the terminal's process group
 * does not reach it) that blocks on a pipe whose only writer is faultline.
 * When faultline ends - normally, or by SIGKILL, a crash, the OOM killer -
 * the pipe reads EOF and the guardian runs the recovery pass over the
 * state folder: a normal end left no journal, so it exits at once; a
 * crash left one, and the guardian undoes it (thaws, kills the escaped
 * processes, removes the cgroups) before it exits. `faultline recover`
 * remains for the case where the guardian was killed too.
 *
 * FAULTLINE_GUARD=0 switches it off (tests that need a crash's leftovers).
 */
#include "cli/cli.h"
#include "run/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define prog fl_cli_prog

static void say(void *ud, const char *msg)
{
    (void)ud;
    if (!strstr(msg, "still going"))   /* other runs on this machine: theirs */
        fprintf(stderr, "%s guard: %s\n", prog, msg);
}

static void guard_main(int rfd, const char *state_dir)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);   /* never hold a caller's stdout pipe open */
    }
    char c;
    ssize_t r;
    while ((r = read(rfd, &c, 1)) != 0 && (r > 0 || errno == EINTR))
        ;   /* faultline never writes: EOF means it is gone */
    struct fl_recover_stats st = {0};
    struct fl_error err = {0};
    int rc = fl_recover_dir(state_dir, say, NULL, &st, &err);
    if (st.applied)
        fprintf(stderr, "%s guard: faultline ended without healing; healed %zu change%s\n",
                prog, st.applied, st.applied == 1 ? "" : "s");
    if (rc)
        fprintf(stderr, "%s guard: %s; run `faultline recover --state-dir %s`\n", prog, err.msg,
                state_dir);
    _exit(rc ? 2 : 0);
}

int fl_cli_start_guard(const char *state_dir)
{
    const char *env = getenv("FAULTLINE_GUARD");
    if (env && strcmp(env, "0") == 0)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL);   /* the child must not write our buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        close(fds[1]);
        guard_main(fds[0], state_dir);
    }
    /* The write end stays open (close-on-exec: no service inherits it)
     * until faultline ends, however it ends. */
    close(fds[0]);
    return 0;
}
