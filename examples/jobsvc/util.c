/* Logging, clocks, randomness and job ids. */
#include "jobsvc.h"

#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static char log_name[JS_NAME_MAX] = "jobsvc";

void js_log_set_name(const char *name) {
  snprintf(log_name, sizeof log_name, "%s", name);
}

void js_log(const char *fmt, ...) {
  /* Format the whole line first and write it with one call, so lines from
   * different threads never interleave. */
  char line[1024];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s: ", tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000L, log_name);
  if (n < 0 || (size_t)n >= sizeof line)
    n = 0;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2; /* truncated: still one line */
  line[len] = '\n';
  line[len + 1] = '\0';
  fputs(line, stderr);
}

int64_t js_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t js_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void js_sleep_ms(int64_t ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  /* An EINTR just shortens the nap: every caller re-checks its deadline. */
  nanosleep(&ts, NULL);
}

uint64_t js_random64(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
    return v;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
}

static atomic_ulong id_counter;

void js_new_job_id(char *out, size_t size, const char *replica) {
  /* name + pid + counter is unique within a replica's life; the random part
   * keeps ids unique across restarts that reuse a name and a pid. */
  unsigned long n = atomic_fetch_add(&id_counter, 1) + 1;
  uint32_t rnd = (uint32_t)js_random64();
  snprintf(out, size, "%s-%ld-%lu-%08x", replica, (long)getpid(), n, (unsigned)rnd);
}

bool js_valid_id(const char *id) {
  size_t n = strnlen(id, JS_ID_MAX);
  if (n == 0 || n >= JS_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok)
      return false;
  }
  return true;
}
