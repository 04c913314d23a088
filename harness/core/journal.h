/* journal.h - every change a run makes to the world, written down (and
 * fsynced) before it is made, with how to undo it.
 *
 * One file per run in the state folder, DIR/TAG.journal, JSON lines:
 *
 *   {"t":"run","tag":"run-812-99731","pid":812,"start":99731,"time":...,"what":"..."}
 *   {"t":"undo","seq":3,"kind":"thaw","subject":"api.1","cause":"fault 2 process.pause",
 *    "args":{"path":"/sys/fs/cgroup/unified/faultline/run-812-99731/api.1"}}
 *   {"t":"done","seq":3}
 *   {"t":"note","what":"fault 2 process.pause injected", ...}
 *
 * An "undo" record is appended before the change; "done" once the change
 * was undone (or became moot). The running faultline holds an exclusive
 * flock on its journal; when it dies, however it dies, the kernel drops
 * the lock, and `faultline recover` (or the next `faultline run`) applies
 * every undo that is not done, newest first, then deletes the file. A run
 * that ends normally does the same for itself, so a clean run leaves no
 * journal behind.
 *
 * The kinds of undo and how each is applied live in run/recover.c; the
 * journal itself only stores them. Arguments are string pairs.
 */
#ifndef FL_JOURNAL_H
#define FL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define FL_JOURNAL_SUFFIX ".journal"

struct fl_journal;

/* The state folder: $FAULTLINE_STATE_DIR, else /run/faultline as root,
 * else $XDG_RUNTIME_DIR/faultline, else /tmp/faultline-UID. */
void fl_state_dir_default(char *buf, size_t len);

/* Create dir (mode 0700, parents too) and DIR/TAG.journal, lock it and
 * write the "run" record. what describes the run for `recover`'s messages
 * ("scenario killed-pod-mid-job (scenarios/killed-pod.yaml)"). On success
 * *out owns the journal (fl_journal_close). Returns 0 or FL_EIO/FL_ENOMEM. */
int fl_journal_open(struct fl_journal **out, const char *dir, const char *tag,
                    const char *what, struct fl_error *err);

/* Path of the journal file (owned by j). */
const char *fl_journal_path(const struct fl_journal *j);

/* What the next undo records are for ("fault 2 process.pause at
 * x.yaml:12:5"); copied; NULL or "" for none. */
void fl_journal_set_cause(struct fl_journal *j, const char *cause);

/* Append and fsync an undo record: kind names how to undo (see
 * run/recover.c), subject what it is about ("api.1"), kv a NULL-terminated
 * list of key, value strings. *seq (may be NULL) receives its number for
 * fl_journal_done. j may be NULL (no journal: returns 0, *seq = 0).
 * Returns 0, or FL_EIO when the record could not be made durable: then
 * the change must not be made. */
int fl_journal_undo(struct fl_journal *j, const char *kind, const char *subject,
                    const char *const *kv, uint64_t *seq, struct fl_error *err);

/* Mark undo record seq as no longer needed. j NULL or seq 0: no-op. */
int fl_journal_done(struct fl_journal *j, uint64_t seq);

/* An informational record (fault injected, healed): kv as above. */
int fl_journal_note(struct fl_journal *j, const char *what, const char *const *kv);

/* Release the lock and close. With remove set the file is deleted: only
 * when every undo record is done. */
void fl_journal_close(struct fl_journal *j, int remove);

/* ---- reading (recover) ------------------------------------------------ */

struct fl_journal_undo {
    uint64_t seq;
    char kind[32];
    char subject[128];
    char cause[256];
    int done;
    size_t nargs;
    char *args[32];          /* key, value, key, value ... (owned) */
};

struct fl_journal_file {
    char tag[96];
    int pid;                 /* of the run that wrote it */
    uint64_t start;          /* its start time in clock ticks */
    char what[512];
    char started[32];        /* ISO time */
    struct fl_journal_undo *undo;  /* in seq order */
    size_t nundo;
    size_t bad_lines;        /* lines that did not parse (a torn last write) */
};

/* Parse a journal file. A torn or malformed line is counted and skipped
 * (the file was being appended when its writer died). Returns 0 or
 * FL_EIO/FL_ENOMEM with err set. Free with fl_journal_file_free. */
int fl_journal_read(const char *path, struct fl_journal_file *out, struct fl_error *err);
void fl_journal_file_free(struct fl_journal_file *f);
/* Value of key in an undo record's arguments, or NULL. */
const char *fl_journal_arg(const struct fl_journal_undo *u, const char *key);

/* Try to take the lock of a journal file that is not ours: returns an open
 * fd holding it (close it to release), -EWOULDBLOCK when its run is alive,
 * or -errno. */
int fl_journal_try_lock(const char *path);

#endif
