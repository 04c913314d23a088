/* rate_limit.c - what the system did to a rate-limited dependency, from
 * the exchanges its proxy recorded:
 *
 *   limit        at most `limit` requests started in any sliding `window`
 *                (every request the system sent counts, refused or not:
 *                the dependency sees them all);
 *   Retry-After  after an answer carrying Retry-After R (a 429 or 503),
 *                the same client (User-Agent) sends nothing until R has
 *                passed since it received that answer; requests it had
 *                already started do not count;
 *   retries      at most `max_retries` retries in any window (0: not
 *                checked): a retry is a request for the method and path
 *                whose previous request by the same client failed (429,
 *                5xx or no answer).
 *
 * invalid names the busiest window, each early request with the answer it
 * ignored, the busiest retry window; unknown when the proxy recorded
 * nothing (no traffic means nothing was shown) or records did not parse. */
#include "checkers/checker.h"
#include "checkers/exchanges.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_PROXY, P_LIMIT, P_WINDOW, P_RETRY_AFTER, P_MAX_RETRIES };

static const struct fl_param params[] = {
    [P_PROXY] = {"proxy", FL_PT_STRING, 1, NULL, "proxy (protocol: http) in front of the dependency"},
    [P_LIMIT] = {"limit", FL_PT_INT, 1, NULL, "requests allowed in any window", NULL, 1, 0},
    [P_WINDOW] = {"window", FL_PT_DURATION, 0, "1s", "sliding window", NULL, 1, 0},
    [P_RETRY_AFTER] = {"retry_after", FL_PT_BOOL, 0, "true", "check that Retry-After is honoured"},
    [P_MAX_RETRIES] = {"max_retries", FL_PT_INT, 0, "0", "retries allowed in any window (0: not checked)"},
};

static int failed(const struct fl_xchg *x)
{
    return x->status == 0 || x->status == 429 || x->status >= 500;
}

/* Largest number of xs (sorted by start; only those with sel[i] when sel)
 * starting within one window; *first and *last bound it. */
static size_t busiest(const struct fl_xchg *x, size_t n, const unsigned char *sel, int64_t win,
                      size_t *first, size_t *last)
{
    size_t best = 0, lo = 0, cnt = 0;
    for (size_t hi = 0; hi < n; hi++) {
        if (sel && !sel[hi])
            continue;
        cnt++;
        while (x[hi].start - x[lo].start >= win) {
            if (!sel || sel[lo])
                cnt--;
            lo++;
        }
        if (cnt > best) {
            best = cnt;
            *first = lo;
            *last = hi;
        }
    }
    return best;
}

static int window_cex(struct fl_verdict *out, const struct fl_xchg *x, const unsigned char *sel,
                      size_t first, size_t last, const char *what)
{
    size_t ops[64], k = 0;
    for (size_t i = first; i <= last && k < 64; i++)
        if (!sel || sel[i])
            ops[k++] = x[i].op;
    /* cex ops in history order */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && ops[j - 1] > ops[j]; j--) {
            size_t t = ops[j];
            ops[j] = ops[j - 1];
            ops[j - 1] = t;
        }
    return fl_verdict_add_cex(out, "window", what, ops, k);
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *proxy = args->v[P_PROXY].s;
    long long limit = args->v[P_LIMIT].i;
    int64_t win = (int64_t)(args->v[P_WINDOW].set ? args->v[P_WINDOW].ms : 1000) * 1000;
    int retry_after = args->v[P_RETRY_AFTER].set ? args->v[P_RETRY_AFTER].b : 1;
    long long max_retries = args->v[P_MAX_RETRIES].set ? args->v[P_MAX_RETRIES].i : 0;
    struct fl_xchg *x;
    size_t n, bad;
    if (fl_xchg_load(h, proxy, &x, &n, &bad))
        return FL_ENOMEM;
    int rc = 0;
    char why[512];
    size_t first = 0, last = 0;
    size_t peak = busiest(x, n, NULL, win, &first, &last);
    if (peak > (size_t)limit) {
        snprintf(why, sizeof why, "%zu requests started within %.3f s (from %.3f s), limit %lld",
                 peak, (double)(x[last].start - x[first].start) / 1e6, (double)x[first].start / 1e6,
                 limit);
        rc = window_cex(out, x, NULL, first, last, why);
    }
    /* Retry-After: per client, the answers with one, in end order. */
    size_t early = 0;
    for (size_t i = 0; retry_after && !rc && i < n; i++) {
        if (x[i].retry_after < 0 || !(x[i].status == 429 || x[i].status == 503))
            continue;
        int64_t until = x[i].end + x[i].retry_after * 1000000;
        /* Sorted by start: the requests after this answer follow it. */
        for (size_t j = i + 1; j < n && x[j].start < until && !rc; j++) {
            if (strcmp(x[j].client, x[i].client) || x[j].start <= x[i].end)
                continue;
            early++;
            snprintf(why, sizeof why, "client '%s' sent %s %s at %.3f s, %.0f ms after a %d "
                     "with Retry-After: %lld", x[j].client, x[j].method, x[j].path,
                     (double)x[j].start / 1e6, (double)(x[j].start - x[i].end) / 1e3,
                     x[i].status, (long long)x[i].retry_after);
            size_t ops[2] = {x[i].op < x[j].op ? x[i].op : x[j].op,
                             x[i].op < x[j].op ? x[j].op : x[i].op};
            rc = fl_verdict_add_cex(out, x[j].client[0] ? x[j].client : "(no User-Agent)", why,
                                    ops, 2);
            break;   /* one per ignored answer */
        }
    }
    size_t rpeak = 0;
    if (max_retries > 0 && !rc && n) {
        unsigned char *sel = calloc(n, 1);
        if (!sel) {
            free(x);
            return FL_ENOMEM;
        }
        for (size_t j = 0; j < n; j++)
            for (size_t i = j; i-- > 0 && j - i <= 100000;)   /* bounded look back */
                if (!strcmp(x[i].client, x[j].client) && !strcmp(x[i].path, x[j].path) &&
                    !strcmp(x[i].method, x[j].method)) {
                    sel[j] = failed(&x[i]) && x[i].end <= x[j].start;
                    break;
                }
        rpeak = busiest(x, n, sel, win, &first, &last);
        if (rpeak > (size_t)max_retries) {
            snprintf(why, sizeof why, "%zu retries within one window (from %.3f s), at most %lld",
                     rpeak, (double)x[first].start / 1e6, max_retries);
            rc = window_cex(out, x, sel, first, last, why);
        }
        free(sel);
    }
    if (rc) {
        free(x);
        return rc;
    }
    size_t refused = 0;
    for (size_t i = 0; i < n; i++)
        refused += x[i].status == 429;
    if (out->ncex_total) {
        out->validity = FL_INVALID;
        rc = fl_verdict_summary(out, "proxy %s: %zu requests, at most %zu in a %.3g s window "
                                "(limit %lld), %zu sent before Retry-After ran out, %zu answered "
                                "429%s", proxy, n, peak, (double)win / 1e6, limit, early, refused,
                                rpeak > (size_t)max_retries && max_retries ? ", retry storm" : "");
    } else if (n == 0 || bad) {
        out->validity = FL_UNKNOWN;
        rc = fl_verdict_summary(out, "proxy %s: %s", proxy, n == 0 ? "no request went through "
                                "it: nothing shows the limit was respected"
                                : "some exchange records could not be read");
    } else {
        out->validity = FL_VALID;
        rc = fl_verdict_summary(out, "proxy %s: %zu requests, at most %zu in a %.3g s window "
                                "(limit %lld), Retry-After honoured, %zu answered 429", proxy, n,
                                peak, (double)win / 1e6, limit, refused);
    }
    free(x);
    return rc;
}

const struct fl_checker_type fl_checker_rate_limit = {
    .name = "rate_limit",
    .help = "requests through a proxy stay under a limit per sliding window, Retry-After is "
            "honoured, retries are bounded",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
