/* exec_shim.c - see exec_shim.h. Runs between fork and the command, in
 * the child: keep it free of anything but system calls (the --init loop
 * scans /proc, from its main flow, never from a signal handler). */
#include "targets/local/exec_shim.h"
#include "base/util.h"
#include "targets/local/contain.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/proc.h"

/* Give the command the LD_PRELOAD that was kept from the shim (see
 * FL_SHIM_PRELOAD_ENV). Called in the process that execs it. */
static void restore_preload(void)
{
    char name[64];
    snprintf(name, sizeof name, "%s", FL_SHIM_PRELOAD_ENV);
    name[strlen(name) - 1] = '\0';   /* without the '=' */
    const char *v = getenv(name);
    if (!v)
        return;
    setenv("LD_PRELOAD", v, 1);
    unsetenv(name);
}

/* ---- --init: a mini-init per instance (subreaper containment) ---------- */

#define INIT_MAX_PIDS 4096

static volatile sig_atomic_t parent_gone;
static volatile pid_t init_child;

static void forward(int sig)
{
    if (init_child > 0)
        kill(-init_child, sig);   /* the command leads its own group */
}

static void on_parent_death(int sig)
{
    (void)sig;
    parent_gone = 1;
}

/* SIGKILL everything below us (what the command forked, and what was
 * re-parented to us because we are a subreaper), until nothing is left.
 * why (may be NULL) goes to the instance's log with the count. */
static void kill_descendants(const char *why)
{
    int *pids = malloc(INIT_MAX_PIDS * sizeof *pids);
    if (!pids)
        return;
    for (int round = 0; round < 100; round++) {
        int n = fl_proc_descendants((int)getpid(), pids, INIT_MAX_PIDS);
        if (n <= 0)
            break;
        if (round == 0 && why)
            fprintf(stderr, "faultline init: %s; killing %d process%s left in the instance\n",
                    why, n, n == 1 ? "" : "es");
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
    free(pids);
}

/* Become the instance's init: a child subreaper that runs the command in
 * its own process group, forwards the stop signals to that group, reaps
 * whatever is re-parented to it, and when the command exits kills what is
 * left (a pod dies whole) and exits the same way the command did. When
 * faultline dies (PDEATHSIG) it kills everything below itself first. */
static int init_main(char **cmd)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = forward;
    const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        sigaction(fwd[i], &sa, NULL);
    sa.sa_handler = on_parent_death;
    sigaction(SIGRTMIN + 3, &sa, NULL);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    pid_t c = fork();
    if (c < 0) {
        fprintf(stderr, "faultline %s: fork: %s\n", FL_EXEC_SHIM_ARG, strerror(errno));
        return 127;
    }
    if (c == 0) {
        for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
            signal(fwd[i], SIG_DFL);
        signal(SIGTSTP, SIG_DFL);
        signal(SIGTTIN, SIG_DFL);
        signal(SIGTTOU, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, 0);
        setpgid(0, 0);
        restore_preload();
        execvp(cmd[0], cmd);
        fprintf(stderr, "faultline: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    init_child = c;
    setpgid(c, c);   /* also from here: no window before the child did it */
    int status = 0, done = 0;
    for (;;) {
        if (parent_gone) {
            kill_descendants("faultline is gone");
            _exit(137);
        }
        int st;
        pid_t r = waitpid(-1, &st, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;   /* ECHILD: nobody left */
        if (r == c && !done) {
            status = st;
            done = 1;
            kill_descendants("the command exited");
        }
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        sigset_t all;
        sigemptyset(&all);
        sigaddset(&all, sig);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        kill(getpid(), sig);
        _exit(128 + sig);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

/* ---- volumes: a private mount namespace with the instance's tmpfs ----- */

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* FAULTLINE_VOLUMES ("HOST\tDST\n"...): enter a mount namespace of our
 * own (private: nothing mounted here propagates back) and bind each
 * volume's tmpfs at the path the instance uses. Everything the command
 * forks shares the namespace; it vanishes with the last of them. Returns
 * 0, or -1 after a message. */
static int enter_volumes(void)
{
    const char *spec = getenv("FAULTLINE_VOLUMES");
    if (!spec || !spec[0])
        return 0;
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "faultline %s: cannot enter a private mount namespace for the "
                "instance's volumes: %s (needs root)\n", FL_EXEC_SHIM_ARG, strerror(errno));
        return -1;
    }
    char line[2100];
    for (int n = 0; *spec && n < 64; n++) {
        const char *nl = strchr(spec, '\n');
        size_t len = nl ? (size_t)(nl - spec) : strlen(spec);
        if (len >= sizeof line)
            return -1;
        memcpy(line, spec, len);
        line[len] = 0;
        spec += len + (nl ? 1 : 0);
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        char *dst = tab + 1;
        if (mkdirs(dst) != 0 || mount(line, dst, NULL, MS_BIND, NULL) != 0) {
            fprintf(stderr, "faultline %s: cannot bind volume %s at %s: %s\n",
                    FL_EXEC_SHIM_ARG, line, dst, strerror(errno));
            return -1;
        }
    }
    unsetenv("FAULTLINE_VOLUMES");
    return 0;
}

int fl_exec_shim_main(int argc, char **argv)
{
    long long parent;
    int cmd = 4, init = 0;
    const char *cgroup = NULL;
    if (argc >= 6 && strcmp(argv[3], "--cgroup") == 0) {
        cgroup = argv[4];
        cmd = 6;
    } else if (argc >= 5 && strcmp(argv[3], "--init") == 0) {
        init = 1;
        cmd = 5;
    }
    if (argc <= cmd || strcmp(argv[1], FL_EXEC_SHIM_ARG) != 0 ||
        fl_parse_int(argv[2], 1, 0x7fffffff, &parent) != 0 || strcmp(argv[cmd - 1], "--") != 0) {
        fprintf(stderr, "faultline %s: usage: %s PARENT_PID [--cgroup DIR | --init] -- "
                "COMMAND [ARG...]\n", FL_EXEC_SHIM_ARG, FL_EXEC_SHIM_ARG);
        return 127;
    }
    /* The init must outlive faultline for a moment to take its pod with
     * it, so it gets a signal it can handle; the command itself a SIGKILL. */
    if (prctl(PR_SET_PDEATHSIG, init ? SIGRTMIN + 3 : SIGKILL) != 0) {
        fprintf(stderr, "faultline %s: prctl(PR_SET_PDEATHSIG): %s\n", FL_EXEC_SHIM_ARG,
                strerror(errno));
        return 127;
    }
    /* The parent may have died between fork and prctl: then nobody would
     * ever kill us, so do not start the command at all. */
    if ((long long)getppid() != parent) {
        fprintf(stderr, "faultline %s: parent %lld is gone, not starting %s\n",
                FL_EXEC_SHIM_ARG, parent, argv[cmd]);
        return 127;
    }
    if (cgroup) {
        int rc = fl_cgroup_enter(cgroup, 0);
        if (rc) {
            fprintf(stderr, "faultline %s: cannot join cgroup %s: %s\n", FL_EXEC_SHIM_ARG,
                    cgroup, strerror(-rc));
            return 127;
        }
    }
    if (enter_volumes() != 0)
        return 127;
    /* faultline ignores SIGTTIN (reading notes from a terminal it may be
     * in the background of): a command starts with the default. */
    signal(SIGTTIN, SIG_DFL);
    if (init)
        return init_main(argv + cmd);
    restore_preload();
    execvp(argv[cmd], argv + cmd);
    fprintf(stderr, "faultline: cannot run %s: %s\n", argv[cmd], strerror(errno));
    return 127;
}
