#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "base/util.h"
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void fl_buf_init(struct fl_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

static int buf_grow(struct fl_buf *b, size_t need)
{
    if (need + 1 > b->max)
        return FL_ENOMEM;
    if (need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    char *p = realloc(b->p, cap);
    if (!p)
        return FL_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int fl_buf_add(struct fl_buf *b, const void *s, size_t n)
{
    if (buf_grow(b, b->len + n))
        return FL_ENOMEM;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int fl_buf_adds(struct fl_buf *b, const char *s)
{
    return fl_buf_add(b, s, strlen(s));
}

int fl_buf_addf(struct fl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FL_EINVAL;
    if (buf_grow(b, b->len + (size_t)n))
        return FL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void fl_buf_reset(struct fl_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void fl_buf_free(struct fl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *fl_buf_str(const struct fl_buf *b)
{
    return b->p ? b->p : "";
}

int fl_parse_duration(const char *s, uint64_t *ms)
{
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
        return FL_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v))
        return FL_EINVAL;
    double mul;
    if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else
        return FL_EINVAL;
    double r = v * mul;
    if (r > 1e15 || r != floor(r))
        return FL_EINVAL;
    *ms = (uint64_t)r;
    return 0;
}

void fl_format_duration(uint64_t ms, char *buf, size_t len)
{
    if (ms && ms % 3600000 == 0)
        snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
    else if (ms && ms % 60000 == 0)
        snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
    else if (ms && ms % 1000 == 0)
        snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
    else if (ms >= 1000 && ms % 100 == 0)
        snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
    else
        snprintf(buf, len, "%llums", (unsigned long long)ms);
}

int fl_parse_rate(const char *s, double *per_sec)
{
    if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
        return FL_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0 || !isfinite(v) || *end != '/')
        return FL_EINVAL;
    end++;
    if (strcmp(end, "s") == 0)
        *per_sec = v;
    else if (strcmp(end, "m") == 0)
        *per_sec = v / 60.0;
    else if (strcmp(end, "h") == 0)
        *per_sec = v / 3600.0;
    else
        return FL_EINVAL;
    return 0;
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
};

int fl_parse_signal(const char *s, int *sig)
{
    if (!s || !*s)
        return FL_EINVAL;
    if (isdigit((unsigned char)*s)) {
        long long v;
        if (fl_parse_int(s, 1, 64, &v))
            return FL_EINVAL;
        *sig = (int)v;
        return 0;
    }
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (strcasecmp(s, signals[i].name) == 0) {
            *sig = signals[i].sig;
            return 0;
        }
    }
    return FL_EINVAL;
}

const char *fl_signal_name(int sig)
{
    static const char *const full[] = {
        [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
        [SIGABRT] = "SIGABRT", [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
        [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2", [SIGPIPE] = "SIGPIPE",
        [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGCONT] = "SIGCONT",
        [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
    };
    if (sig > 0 && (size_t)sig < sizeof full / sizeof full[0] && full[sig])
        return full[sig];
    return "signal";
}

int fl_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s)
        return FL_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return FL_EINVAL;
    *out = v;
    return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void fl_rng_seed(struct fl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t fl_rng_next(struct fl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t fl_rng_below(struct fl_rng *r, uint64_t n)
{
    /* Rejection sampling so small n are not biased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = fl_rng_next(r);
    while (v >= limit);
    return v % n;
}

void fl_rng_shuffle(struct fl_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)fl_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

char *fl_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *fl_strndup(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

int64_t fl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int fl_parse_leading_int(const char *s, long long lo, long long hi, long long *out,
                         const char **end)
{
    long long v = 0;
    size_t n = 0;
    while (s && s[n] >= '0' && s[n] <= '9' && n < 18)
        v = v * 10 + (s[n++] - '0');
    if (n == 0 || (s[n] >= '0' && s[n] <= '9') || v < lo || v > hi)
        return FL_EINVAL;
    *out = v;
    if (end)
        *end = s + n;
    return 0;
}
