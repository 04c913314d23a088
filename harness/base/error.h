/* error.h - one error struct, one setter.
 *
 * Functions return 0 or a negative FL_E* code; when they fail they fill the
 * caller's struct fl_error (if not NULL) through fl_error_set(). The library
 * never prints: only the CLI turns errors into messages and exit codes.
 */
#ifndef FL_ERROR_H
#define FL_ERROR_H

#include <stdarg.h>

enum {
    FL_EINVAL = -1,     /* bad argument or value */
    FL_ENOMEM = -2,     /* allocation failed or a bounded buffer is full */
    FL_EIO = -3,        /* file or socket I/O failed */
    FL_ESCENARIO = -4,  /* the scenario file is invalid (see the diagnostics) */
    FL_ESYS = -5,       /* a system call failed (errno in the message) */
    FL_ETIMEDOUT = -6,  /* a wait ran out of time */
    FL_ENOTREADY = -7,  /* a service never became ready */
    FL_EINJECT = -8,    /* an injection or a heal failed */
    FL_ENOTFOUND = -9,  /* a name refers to nothing */
    FL_EABORT = -10     /* interrupted (Ctrl-C) */
};

struct fl_error {
    int code;           /* last FL_E* code, 0 if none */
    char msg[512];      /* human-readable, no trailing newline */
};

/* Store code and a printf-style message in err (ignored when err is NULL).
 * Returns code so callers can write `return fl_error_set(err, FL_EIO, ...)`. */
int fl_error_set(struct fl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a code ("EINVAL"), never NULL. */
const char *fl_strerror(int code);

#endif
