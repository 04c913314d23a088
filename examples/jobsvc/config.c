/*
 * Command line: plain options plus the bug table (jobsvc.h, JS_BUG_MAP).
 * The table drives parsing, validation and --help, so they cannot disagree.
 */
#include "jobsvc.h"
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct js_bug_row js_bug_table[JS_BUG_COUNT] = {
#define JS_BUG_ROW(id, flag, buggy, fixed, help) [JS_BUG_##id] = {flag, buggy, fixed, help},
    JS_BUG_MAP(JS_BUG_ROW)
#undef JS_BUG_ROW
};

void js_cfg_usage(FILE *out) {
  fprintf(out,
          "usage: jobsvc --port N [options]\n"
          "\n"
          "  --port N            HTTP port on 127.0.0.1 (required)\n"
          "  --bind ADDR         IPv4 address to listen on instead of 127.0.0.1 (0.0.0.0\n"
          "                      inside a container, whose port is published on the\n"
          "                      host's 127.0.0.1)\n"
          "  --redis HOST:PORT   one Redis server (state=redis or shutdown=drain need it\n"
          "                      or --sentinels)\n"
          "  --sentinels HOST:PORT[,HOST:PORT...]\n"
          "                      Redis Sentinels to ask for the primary (up to 8); asked\n"
          "                      again after a connection error, timeout or READONLY\n"
          "  --master-name NAME  primary's name at the sentinels (default mymaster)\n"
          "  --cache-dir DIR     file cache used after a Redis error (default\n"
          "                      /tmp/jobsvc-<name>; jobs.log is created on first use)\n"
          "  --name NAME         replica name for logs and JSON (default jobsvc-<pid>);\n"
          "                      a trailing @hostname is replaced by the host name\n"
          "                      (replicas of a compose service: the container id)\n"
          "  --dep HOST:PORT     third-party API: jobs call GET /items, GET /api/items\n"
          "                      proxies it (see the dep-* and startup-export flags)\n"
          "  --intake-every-ms N poll --dep's message API every N ms (--cursor; GET\n"
          "                      /api/ingested lists what was ingested)\n"
          "  --workers N         worker threads (default 2, 0..64)\n"
          "  --job-ms N          time per job in ms, jittered +-30%% (default 300)\n"
          "  --lease-ms N        lease TTL in ms for drain mode (default 1500, >= 100)\n"
          "  --min-peers N       replicas /healthz wants alive with peer-health=report\n"
          "                      (default 0: no check)\n"
          "  --profile P         buggy|fixed: sets every bug flag below (default fixed)\n"
          "  --help              this text\n"
          "\n"
          "bug flags (each overrides --profile, whatever the order):\n");
  for (int i = 0; i < JS_BUG_COUNT; i++) {
    const struct js_bug_row *b = &js_bug_table[i];
    fprintf(out, "  --%s %s|%s   (buggy: %s, fixed: %s)\n      %s\n", b->flag, b->buggy, b->fixed,
            b->buggy, b->fixed, b->help);
  }
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "jobsvc: <reason>" and the usage to stderr; returns JS_EXIT_USAGE. */
static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("jobsvc: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\n\n", stderr);
  js_cfg_usage(stderr);
  return JS_EXIT_USAGE;
}

/* strtol with full checks; 0 when text is an integer in [lo, hi]. */
static int parse_int(const char *text, long lo, long hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

/* "HOST:PORT" (len bytes of text) into host (JS_HOST_MAX) and port; 0 or -1. */
static int parse_addr(const char *text, size_t len, char *host, int *port) {
  const char *colon = memrchr(text, ':', len);
  if (colon == NULL || colon == text)
    return -1;
  size_t hlen = (size_t)(colon - text);
  size_t plen = len - hlen - 1;
  char digits[8];
  if (hlen >= JS_HOST_MAX || plen == 0 || plen >= sizeof digits)
    return -1;
  memcpy(host, text, hlen);
  host[hlen] = '\0';
  memcpy(digits, colon + 1, plen);
  digits[plen] = '\0';
  return parse_int(digits, 1, 65535, port);
}

/* "HOST:PORT[,HOST:PORT...]" into cfg->sentinels; 0 or -1. */
static int parse_sentinels(struct js_cfg *cfg, const char *text) {
  cfg->nsentinels = 0;
  const char *p = text;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (cfg->nsentinels >= JS_SENTINELS_MAX)
      return -1;
    struct js_addr *a = &cfg->sentinels[cfg->nsentinels];
    if (parse_addr(p, len, a->host, &a->port) != 0)
      return -1;
    cfg->nsentinels++;
    if (comma == NULL)
      return 0;
    p = comma + 1;
  }
}

/* Copies text into out (size bytes) when it is non-empty and fits. */
static int parse_text(const char *text, char *out, size_t size) {
  size_t n = strlen(text);
  if (n == 0 || n >= size)
    return -1;
  memcpy(out, text, n + 1);
  return 0;
}

static int parse_name(struct js_cfg *cfg, const char *given) {
  /* "api-@hostname": replicas of a compose service share one command line,
   * and the container's host name (its id) tells them apart. */
  char buf[JS_NAME_MAX + 64];
  const char *text = given;
  size_t gl = strlen(given), sl = strlen("@hostname");
  if (gl >= sl && strcmp(given + gl - sl, "@hostname") == 0 && gl - sl < JS_NAME_MAX) {
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
      return -1;
    snprintf(buf, sizeof buf, "%.*s%s", (int)(gl - sl), given, host);
    text = buf;
  }
  size_t n = strlen(text);
  if (n == 0 || n >= sizeof cfg->name)
    return -1;
  /* The name goes into job ids and URLs: keep it to URL-safe characters. */
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok)
      return -1;
  }
  memcpy(cfg->name, text, n + 1);
  return 0;
}

/* -1 unknown bug flag; otherwise the bug index. */
static int find_bug(const char *flag) {
  for (int i = 0; i < JS_BUG_COUNT; i++)
    if (strcmp(js_bug_table[i].flag, flag) == 0)
      return i;
  return -1;
}

/*
 * Applies one "--opt value". explicit_bug[] records per-bug overrides
 * (-1 unset, 0 buggy, 1 fixed) so the profile can be applied afterwards.
 */
static int apply_option(struct js_cfg *cfg, const char *opt, const char *val, int *profile,
                        int *explicit_bug, bool *have_port) {
  if (strcmp(opt, "port") == 0) {
    if (parse_int(val, 1, 65535, &cfg->port) != 0)
      return usage_error("bad --port '%s'", val);
    *have_port = true;
  } else if (strcmp(opt, "bind") == 0) {
    struct in_addr a;
    if (strlen(val) >= sizeof cfg->bind || inet_pton(AF_INET, val, &a) != 1)
      return usage_error("bad --bind '%s' (want an IPv4 address)", val);
    snprintf(cfg->bind, sizeof cfg->bind, "%s", val);
  } else if (strcmp(opt, "redis") == 0) {
    if (parse_addr(val, strlen(val), cfg->redis_host, &cfg->redis_port) != 0)
      return usage_error("bad --redis '%s' (want HOST:PORT)", val);
  } else if (strcmp(opt, "intake-every-ms") == 0) {
    if (parse_int(val, 0, 600000, &cfg->intake_every_ms) != 0)
      return usage_error("bad --intake-every-ms '%s' (0..600000)", val);
  } else if (strcmp(opt, "dep") == 0) {
    if (parse_addr(val, strlen(val), cfg->dep_host, &cfg->dep_port) != 0)
      return usage_error("bad --dep '%s' (want HOST:PORT)", val);
  } else if (strcmp(opt, "sentinels") == 0) {
    if (parse_sentinels(cfg, val) != 0)
      return usage_error("bad --sentinels '%s' (want HOST:PORT[,HOST:PORT...], at most %d)",
                         val, JS_SENTINELS_MAX);
  } else if (strcmp(opt, "master-name") == 0) {
    /* Sent as one RESP argument: any text works, but keep it printable. */
    if (parse_text(val, cfg->master_name, sizeof cfg->master_name) != 0 || strchr(val, ' '))
      return usage_error("bad --master-name '%s' (1-127 chars, no spaces)", val);
  } else if (strcmp(opt, "cache-dir") == 0) {
    if (parse_text(val, cfg->cache_dir, sizeof cfg->cache_dir - 16) != 0)
      return usage_error("bad --cache-dir '%s' (1-495 chars)", val);
  } else if (strcmp(opt, "name") == 0) {
    if (parse_name(cfg, val) != 0)
      return usage_error("bad --name '%s' (1-63 chars of [A-Za-z0-9._-])", val);
  } else if (strcmp(opt, "workers") == 0) {
    if (parse_int(val, 0, 64, &cfg->workers) != 0)
      return usage_error("bad --workers '%s' (0..64)", val);
  } else if (strcmp(opt, "job-ms") == 0) {
    if (parse_int(val, 1, 600000, &cfg->job_ms) != 0)
      return usage_error("bad --job-ms '%s' (1..600000)", val);
  } else if (strcmp(opt, "lease-ms") == 0) {
    if (parse_int(val, 100, 600000, &cfg->lease_ms) != 0)
      return usage_error("bad --lease-ms '%s' (100..600000)", val);
  } else if (strcmp(opt, "min-peers") == 0) {
    if (parse_int(val, 0, 1000, &cfg->min_peers) != 0)
      return usage_error("bad --min-peers '%s' (0..1000)", val);
  } else if (strcmp(opt, "profile") == 0) {
    if (strcmp(val, "buggy") == 0)
      *profile = 0;
    else if (strcmp(val, "fixed") == 0)
      *profile = 1;
    else
      return usage_error("bad --profile '%s' (buggy|fixed)", val);
  } else {
    int bug = find_bug(opt);
    if (bug < 0)
      return usage_error("unknown option --%s", opt);
    const struct js_bug_row *b = &js_bug_table[bug];
    if (strcmp(val, b->buggy) == 0)
      explicit_bug[bug] = 0;
    else if (strcmp(val, b->fixed) == 0)
      explicit_bug[bug] = 1;
    else
      return usage_error("bad value '%s' for --%s", val, b->flag);
  }
  return 0;
}

int js_cfg_parse(struct js_cfg *cfg, int argc, char **argv) {
  memset(cfg, 0, sizeof *cfg);
  cfg->workers = 2;
  snprintf(cfg->bind, sizeof cfg->bind, "127.0.0.1");
  cfg->job_ms = 300;
  cfg->lease_ms = 1500;
  snprintf(cfg->name, sizeof cfg->name, "jobsvc-%ld", (long)getpid());
  snprintf(cfg->master_name, sizeof cfg->master_name, "mymaster");
  int profile = 1;
  int explicit_bug[JS_BUG_COUNT];
  for (int i = 0; i < JS_BUG_COUNT; i++)
    explicit_bug[i] = -1;
  bool have_port = false;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      js_cfg_usage(stdout);
      return 1;
    }
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
      return usage_error("unexpected argument '%s'", arg);
    char opt[64];
    const char *val;
    const char *eq = strchr(arg + 2, '=');
    size_t olen = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    if (olen >= sizeof opt)
      return usage_error("unknown option '%s'", arg);
    memcpy(opt, arg + 2, olen);
    opt[olen] = '\0';
    if (eq != NULL) {
      val = eq + 1;
    } else {
      if (i + 1 >= argc)
        return usage_error("option --%s needs a value", opt);
      val = argv[++i];
    }
    int rc = apply_option(cfg, opt, val, &profile, explicit_bug, &have_port);
    if (rc != 0)
      return rc;
  }
  if (!have_port)
    return usage_error("--port is required");
  for (int i = 0; i < JS_BUG_COUNT; i++)
    cfg->fixed[i] = explicit_bug[i] >= 0 ? explicit_bug[i] == 1 : profile == 1;
  bool single = cfg->redis_host[0] != '\0';
  if (single && cfg->nsentinels > 0)
    return usage_error("--redis and --sentinels exclude each other");
  if (js_needs_redis(cfg) && !single && cfg->nsentinels == 0)
    return usage_error("--redis HOST:PORT or --sentinels HOST:PORT,... is required with "
                       "--state redis or --shutdown drain");
  /* After the loop: the default follows --name wherever it was given. */
  if (cfg->cache_dir[0] == '\0')
    snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "/tmp/jobsvc-%s", cfg->name);
  return 0;
}
