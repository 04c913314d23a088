/* sanitize.h - make untrusted strings safe for reports.
 *
 * Strings in a history come from the system under test (response bodies,
 * error texts, process output): they may hold control characters, invalid
 * UTF-8 or anything else. XML 1.0 cannot carry most control characters at
 * all (not even as character references), JSON cannot carry invalid UTF-8,
 * and a terminal obeys escape sequences. Every report writer passes its
 * strings through here first.
 */
#ifndef FL_SANITIZE_H
#define FL_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define FL_SAN_REPLACEMENT "\xEF\xBF\xBD"       /* U+FFFD in UTF-8 */
#define FL_SAN_TRUNCATED "... (truncated)"

enum {
    /* \t \n \r become a space, so one value stays on one report line. */
    FL_SAN_ONELINE = 1u << 0,
    /* ONELINE, plus runs of spaces collapse to one and the ends are
     * trimmed: the value space of xs:token (JUnit names, classnames). */
    FL_SAN_TOKEN = 1u << 1,
    /* Keep C0 control characters and DEL (for JSON, whose escaper can
     * represent them); only invalid UTF-8 is still replaced. */
    FL_SAN_KEEP_CTRL = 1u << 2
};

/* Decode one UTF-8 sequence at s (n bytes available). Returns its length
 * (1..4) and stores the code point in *cp, or returns -k (k >= 1) when the
 * first k bytes are an invalid or incomplete sequence (the maximal subpart,
 * to be replaced by one U+FFFD). Overlong forms, surrogates and values
 * past U+10FFFF are invalid. n must be > 0. */
int fl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Append the sanitized form of s (NULL is treated as "") to b:
 * - invalid UTF-8 becomes U+FFFD;
 * - control characters other than \t \n \r (C0, DEL, C1) and the XML
 *   non-characters U+FFFE/U+FFFF become U+FFFD, unless FL_SAN_KEEP_CTRL;
 * - FL_SAN_ONELINE / FL_SAN_TOKEN as described above;
 * - when max > 0 and the result would exceed max bytes, it is cut at a
 *   character boundary and FL_SAN_TRUNCATED is appended (the note is
 *   counted within max when max is large enough to hold it).
 * Returns 0 or FL_ENOMEM (b's own ceiling was reached; b then holds a
 * prefix of the result, always valid UTF-8). */
int fl_sanitize_append(struct fl_buf *b, const char *s, size_t max, unsigned flags);

/* The sanitized form of s as a new string (caller frees), or NULL when out
 * of memory. max and flags as for fl_sanitize_append. */
char *fl_sanitize(const char *s, size_t max, unsigned flags);

/* ---- shared by the report writers in reports/ only ------------------- */

struct fl_op;

/* Ceiling of fl_timeline_text's result, truncation note included. */
#define FL_TIMELINE_MAX (1024 * 1024)

/* Append one op as one sanitized line, without a newline:
 * "#41 12.345s p7 ok poll key=j1 value=pending error=timed out"
 * (absent key/value/error are left out; probes, faults, the target and the
 * runner show as probe#N, fault#N, target#N, runner). Returns 0 or
 * FL_ENOMEM (b's ceiling). */
int fl_report_op_line(struct fl_buf *b, const struct fl_op *op);

/* Write data to path: a regular file is replaced atomically (temporary
 * file + rename), anything else (/dev/stdout, a pipe) written directly.
 * Returns 0 or FL_EIO with err set (junit.c). */
struct fl_error;
int fl_report_write_file(const char *path, const void *data, size_t len, struct fl_error *err);

#endif
