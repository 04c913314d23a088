/* exec_shim.c - see exec_shim.h. Runs between fork and the command, in
 * the child: keep it free of anything but system calls. */
#include "targets/local/exec_shim.h"
#include "base/util.h"
#include "targets/local/contain.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int fl_exec_shim_main(int argc, char **argv)
{
    long long parent;
    int cmd = 4;
    const char *cgroup = NULL;
    if (argc >= 6 && strcmp(argv[3], "--cgroup") == 0) {
        cgroup = argv[4];
        cmd = 6;
    }
    if (argc <= cmd || strcmp(argv[1], FL_EXEC_SHIM_ARG) != 0 ||
        fl_parse_int(argv[2], 1, 0x7fffffff, &parent) != 0 || strcmp(argv[cmd - 1], "--") != 0) {
        fprintf(stderr, "faultline %s: usage: %s PARENT_PID [--cgroup DIR] -- COMMAND [ARG...]\n",
                FL_EXEC_SHIM_ARG, FL_EXEC_SHIM_ARG);
        return 127;
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
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
    execvp(argv[cmd], argv + cmd);
    fprintf(stderr, "faultline: cannot run %s: %s\n", argv[cmd], strerror(errno));
    return 127;
}
