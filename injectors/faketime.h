/* faketime.h - controlled clocks through libfaketime: the machinery of the
 * time.* injectors.
 *
 * A service with `clock: controlled` (or controlled-wall) starts with
 * libfaketime preloaded and FAKETIME_TIMESTAMP_FILE naming one file per
 * instance, DIR/TAG.clocks/ID.clock (DIR: the run's state folder, where
 * its journal is; a controlled clock is refused without a journal). The
 * folder TAG.clocks is made at attach (journaled as "clock.dir" before,
 * recover empties and removes it) with mode 0711, so that a service
 * running as another user reaches its file while the state folder stays
 * 0700. The file
 * holds the instance's offset from real time in libfaketime's own syntax
 * ("+660.000", seconds); FAKETIME_NO_CACHE=1 makes libfaketime read it on
 * every clock call, so a rewrite reaches the running process (measured:
 * within ~250 ms). "+0" is real time.
 *
 * Offsets add up: each time fault shifts the file by its own delta and
 * takes exactly that delta back on heal, so overlapping faults compose and
 * the file is back at +0 once all have healed. The file is created (and
 * journaled as "clock.reset" before that) at the instance's first spawn;
 * recover, and the run's own final recovery, reset it to +0 and delete it,
 * so no faked clock outlives a run.
 *
 * Pitfalls handled (docs/clocks.md): a FAKETIME* variable in faultline's
 * environment (FAKETIME overrides the file, others change how it is read)
 * is refused; FAKETIME_DISABLE_SHM=1 (no shared-memory segments left
 * behind); controlled-wall adds FAKETIME_DONT_FAKE_MONOTONIC=1; a program
 * that does not go through libc for time (static binaries, Go) is detected
 * after start by looking for the library in /proc/PID/maps.
 */
#ifndef FL_FAKETIME_H
#define FL_FAKETIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/injector.h"
#include "core/target.h"

#define FL_FAKETIME_UNDO "clock.reset"
#define FL_FAKETIME_DIR_UNDO "clock.dir"
#define FL_FAKETIME_DIR_SUFFIX ".clocks"

/* Where libfaketime.so.1 is: $FAULTLINE_LIBFAKETIME when set, else the
 * first that exists of /usr/lib/<multiarch>/faketime/, /usr/lib/faketime/,
 * /usr/lib64/faketime/, /usr/local/lib/faketime/ (+ libfaketime.so.1).
 * 0, or FL_ENOTFOUND with err naming the places looked at and the fix. */
int fl_faketime_lib(char *buf, size_t len, struct fl_error *err);

/* The run's clock folder (DIR/TAG.clocks). 0 or FL_EINVAL (too long). */
int fl_faketime_dir(const struct fl_run *run, char *buf, size_t len);

/* The timestamp file of instance id in run. 0 or FL_EINVAL (too long). */
int fl_faketime_path(const struct fl_run *run, const char *id, char *buf, size_t len);

/* Register the environment hook with the run's target when a service has
 * a controlled clock (nothing to do otherwise), and make the clock folder.
 * Call after the target is created and before it starts. 0 or FL_E* with
 * err set (no journal, a FAKETIME* variable in the environment, no
 * libfaketime, a target without environment hooks). */
int fl_faketime_attach(struct fl_run *run, struct fl_error *err);

/* Shift instance in's clock by delta_ms (read, add, write atomically).
 * *now_ms (may be NULL) gets the offset afterwards. 0 or FL_EIO. */
int fl_faketime_shift(struct fl_run *run, const struct fl_instance *in, int64_t delta_ms,
                      int64_t *now_ms, struct fl_error *err);

/* The offset in a timestamp file's text ("+660.000", "-1.5", "+0", "");
 * 0 or FL_EINVAL for anything faultline does not write. Pure. */
int fl_faketime_parse(const char *text, int64_t *ms);
/* The text for an offset: "+660.000". Pure. */
void fl_faketime_format(int64_t ms, char *buf, size_t len);

/* Is libfaketime mapped into process pid (or, pid being an instance's
 * mini-init, into a process below it)? 1 yes, 0 no, negative errno
 * when /proc/PID/maps cannot be read. */
int fl_faketime_loaded(int pid);

/* Reset path to real time and delete it, and a PATH.tmp left by a crash
 * (recover's "clock.reset"). 0, 1 when there was nothing to reset, or
 * negative errno. */
int fl_faketime_reset_file(const char *path);

/* Empty and remove a clock folder (recover's "clock.dir"); a path that
 * does not end in ".clocks" is refused (-EINVAL). 0, 1 when it did not
 * exist, or negative errno. */
int fl_faketime_remove_dir(const char *path);

/* For the time.* injectors: check that the fault's service has a
 * controlled clock (setup). 0 or FL_EINVAL naming the fix. */
int fl_faketime_check_service(const struct fl_fault_run *fr, const char *service,
                              struct fl_error *err);

#endif
