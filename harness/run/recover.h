/* recover.h - heal what runs left behind, from their journals.
 *
 * `faultline recover`, the start of every `faultline run`, and the end of
 * each run (for its own journal) all go through here. A journal whose run
 * is alive (its flock is held) is left alone. For the others every undo
 * record not marked done is applied, newest first; the journal file is
 * deleted once all of them succeeded, so running recover again is
 * harmless (idempotent).
 *
 * The kinds of undo and what each does:
 *
 *   cgroup         path [marker]  thaw, cgroup.kill, wait until empty, rmdir
 *                                 (and kill every process carrying marker)
 *   kill.pid       pid start      SIGKILL pid (and its group) if it is still
 *                                 the process that started at `start`
 *   kill.marked    marker         SIGKILL every process whose environment
 *                                 carries FAULTLINE_INSTANCE=marker...
 *   thaw           path           write 0 to the cgroup's cgroup.freeze
 *   cont           path|marker    SIGCONT every member
 *   redis.unpause  host port      CLIENT UNPAUSE (nothing listening: nothing
 *                                 is paused)
 *   docker.start   socket id      start the container unless it runs (or is
 *                                 restarting); a removed one is nothing to do
 *   docker.unpause socket id      unpause the container if it is paused
 *   docker.policy  socket id policy retries
 *                                 put the container's restart policy back
 *   docker.cont    socket id      SIGCONT to every process of the container
 *   docker.connect socket id network aliases
 *                                 connect the container to the network again
 *                                 with its aliases (connected already: done)
 *
 * A target or injector that changes the world some other way adds its
 * kind here: journal.h's records carry only its name and arguments.
 */
#ifndef FL_RECOVER_H
#define FL_RECOVER_H

#include <stddef.h>

#include "base/error.h"

/* Progress lines ("thawed api.1 (fault 2 process.pause)"); the library
 * never prints, the CLI decides. */
typedef void (*fl_recover_say)(void *ud, const char *msg);

struct fl_recover_stats {
    size_t journals;       /* journals of dead runs looked at */
    size_t alive;          /* journals skipped: their run is alive */
    size_t applied;        /* undo records applied */
    size_t failed;         /* undo records that failed (journal kept) */
};

/* Heal every dead run's journal in dir (a missing dir is empty). Adds to
 * st. Returns 0 when nothing failed, FL_EINJECT when an undo failed (the
 * journal is kept for another try), FL_EIO when dir cannot be read. */
int fl_recover_dir(const char *dir, fl_recover_say say, void *ud, struct fl_recover_stats *st,
                   struct fl_error *err);

/* Apply the open undo records of the journal at path. own: the caller
 * holds its lock (a run healing itself at its end; the file is then not
 * deleted here, fl_journal_close does it). Returns 0 or FL_EINJECT. */
int fl_recover_file(const char *path, int own, fl_recover_say say, void *ud,
                    struct fl_recover_stats *st, struct fl_error *err);

/* Apply one undo record (kind and arguments as in the journal). Returns 0
 * when the change was undone, 1 when there was nothing left to undo (the
 * process is gone, the cgroup removed), else -errno or FL_E* with why. */
struct fl_journal_undo;
int fl_recover_apply(const struct fl_journal_undo *u, char *why, size_t len);

#endif
