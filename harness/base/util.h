/* util.h - small shared helpers: bounded buffers, durations, rates,
 * a seeded generator, signal names, checked allocation. */
#ifndef FL_UTIL_H
#define FL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer with a ceiling (curl's dynbuf idea). p is always
 * NUL-terminated once anything was appended. */
struct fl_buf {
    char *p;
    size_t len, cap, max;
};

void fl_buf_init(struct fl_buf *b, size_t max);
/* Append n bytes; FL_ENOMEM when max would be exceeded (b is unchanged). */
int fl_buf_add(struct fl_buf *b, const void *s, size_t n);
int fl_buf_adds(struct fl_buf *b, const char *s);
int fl_buf_addf(struct fl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fl_buf_reset(struct fl_buf *b);          /* len = 0, keeps memory */
void fl_buf_free(struct fl_buf *b);
/* The contents ("" when empty); valid until the next change. */
const char *fl_buf_str(const struct fl_buf *b);

/* "250ms", "5s", "2m", "1h", "1.5s" -> milliseconds. 0 on success,
 * FL_EINVAL on a malformed value (no unit, negative, unknown unit). */
int fl_parse_duration(const char *s, uint64_t *ms);
/* Format ms as the shortest exact form ("250ms", "5s", "2m"). */
void fl_format_duration(uint64_t ms, char *buf, size_t len);
/* "10/s", "600/m", "2.5/s" -> operations per second. */
int fl_parse_rate(const char *s, double *per_sec);
/* "KILL", "SIGKILL", "9" -> 9. FL_EINVAL when unknown. */
int fl_parse_signal(const char *s, int *sig);
const char *fl_signal_name(int sig);           /* "SIGKILL" */
/* Strict integer parse of the whole string. */
int fl_parse_int(const char *s, long long lo, long long hi, long long *out);
/* The decimal number at the start of s ("8080/tcp" -> 8080), at most 18
 * digits and within lo..hi; end (may be NULL) gets what follows it.
 * 0, or FL_EINVAL when s does not start with a digit or is out of range. */
int fl_parse_leading_int(const char *s, long long lo, long long hi, long long *out,
                         const char **end);

/* Seeded generator (splitmix64 seeding a xoshiro256**): the same seed gives
 * the same picks on every machine. */
struct fl_rng {
    uint64_t s[4];
};
void fl_rng_seed(struct fl_rng *r, uint64_t seed);
uint64_t fl_rng_next(struct fl_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t fl_rng_below(struct fl_rng *r, uint64_t n);
/* Fisher-Yates shuffle of n indexes into idx. */
void fl_rng_shuffle(struct fl_rng *r, size_t *idx, size_t n);

/* Allocation that aborts the process on failure is not used: these return
 * NULL like malloc and callers check. fl_strdup(NULL) returns NULL. */
char *fl_strdup(const char *s);
char *fl_strndup(const char *s, size_t n);

/* Monotonic clock in microseconds. */
int64_t fl_now_us(void);

#endif
