/* exec_shim.h - the child side of the local target's spawns.
 *
 * The local target starts every process as
 *     <faultline> __exec <faultline pid> [--cgroup DIR] -- <command> [args...]
 * and the CLI's main() hands such an argv to fl_exec_shim_main() before
 * anything else. The shim asks the kernel to SIGKILL it when its parent
 * dies (PR_SET_PDEATHSIG survives execve), checks that the parent did not
 * already die before that request took effect, joins the instance's
 * cgroup when one is given (so the command and everything it ever forks
 * is a member from its first instruction), then becomes the command.
 * So no service outlives a faultline that was SIGKILLed.
 */
#ifndef FL_EXEC_SHIM_H
#define FL_EXEC_SHIM_H

#define FL_EXEC_SHIM_ARG "__exec"
/* LD_PRELOAD meant for the command travels through the shim under this
 * name (with its "=") and is restored right before the command's exec. */
#define FL_SHIM_PRELOAD_ENV "FAULTLINE_SHIM_LD_PRELOAD="

/* argv[1] must be FL_EXEC_SHIM_ARG. Does not return on success (the
 * process image is replaced). Returns 127 when the arguments are malformed,
 * the parent is already gone or the command cannot be executed (the reason
 * is written to stderr, which is the instance's log); main() returns it as
 * the exit status. This is the one place in the library that writes to
 * stderr: it runs in the child, whose stderr is the instance's log file. */
int fl_exec_shim_main(int argc, char **argv);

#endif
