/* http_faults.c - HTTP faults on a scenario's proxy (protocol: http):
 * requests are framed, so a fault answers, delays or closes per request
 * while keep-alive and pipelining keep their order. Answers faultline
 * gives carry `x-faultline-injected: 1`, so clients and the history can
 * tell them apart. The machinery is harness/proxy/http_layer.c. */
#include "injectors/net_common.h"

static const char *const ons[] = {"request", "response", NULL};

#define PROXY {"proxy", FL_PT_STRING, 1, NULL, FL_NET_PROXY_HELP " (protocol: http)", NULL, 0, 0}
#define TOXICITY {"toxicity", FL_PT_STRING, 0, "1.0", FL_NET_TOXICITY_HELP, NULL, 0, 0}
#define MATCH                                                                                 \
    {"method", FL_PT_STRING, 0, NULL, "only requests with this method", NULL, 0, 15},         \
    {"path", FL_PT_STRING, 0, NULL, "only paths starting with this (ending in $: exactly "    \
     "this)", NULL, 0, 255},                                                                  \
    {"header", FL_PT_STRING, 0, NULL, "only requests carrying this header", NULL, 0, 63},     \
    {"header_value", FL_PT_STRING, 0, NULL, "... whose value contains this", NULL, 0, 255}


static const struct fl_param status_params[] = {
    PROXY,
    {"status", FL_PT_INT, 0, "503", "status of the answer", NULL, 100, 599},
    {"body", FL_PT_STRING, 0, NULL, "body of the answer", NULL, 0, 1023},
    {"headers", FL_PT_STRINGS, 0, NULL, "extra headers of the answer, \"Name: value\"", NULL, 0, 500},
    {"percentage", FL_PT_INT, 0, "100", "share of matching requests answered, in percent", NULL, 0, 100},
    {"first", FL_PT_INT, 0, "0", "answer only the first N matching requests (0: all)", NULL, 0, 0},
    MATCH,
    TOXICITY,
};
FL_NET_TYPE(http_status, "http.status", FL_TX_HTTP_STATUS,
     "answer matching requests with a status, body and headers instead of forwarding them "
     "(Envoy's abort fault)", status_params);

static const struct fl_param ratelimit_params[] = {
    PROXY,
    {"rate", FL_PT_STRING, 1, NULL, "tokens added, like 5/s or 300/m", NULL, 0, 0},
    {"burst", FL_PT_INT, 0, "1", "bucket size: requests allowed at once", NULL, 1, 0},
    {"per_connection", FL_PT_BOOL, 0, "false", "one bucket per connection instead of one shared", NULL, 0, 0},
    {"status", FL_PT_INT, 0, "429", "status of the refusal (RFC 6585: 429)", NULL, 100, 599},
    {"policy_headers", FL_PT_BOOL, 0, "false", "add the IETF RateLimit-Policy and RateLimit headers", NULL, 0, 0},
    MATCH,
    TOXICITY,
};
FL_NET_TYPE(http_ratelimit, "http.ratelimit", FL_TX_HTTP_RATELIMIT,
     "rate-limit requests with a token bucket: over the limit, answer 429 with Retry-After",
     ratelimit_params);

static const struct fl_param delay_params[] = {
    PROXY,
    {"delay", FL_PT_DURATION, 1, NULL, "added delay", NULL, 0, 0},
    {"jitter", FL_PT_DURATION, 0, "0ms", "random +/- added to the delay", NULL, 0, 0},
    {"on", FL_PT_ENUM, 0, "request", "delay the request on its way up, or the response on its way back", ons, 0, 0},
    MATCH,
    TOXICITY,
};
FL_NET_TYPE(http_delay, "http.delay", FL_TX_HTTP_DELAY,
     "delay matching requests or their responses (Envoy's delay fault)", delay_params);

static const struct fl_param close_idle_params[] = {
    PROXY,
    {"idle", FL_PT_DURATION, 0, "5s", "close keep-alive connections idle this long", NULL, 1, 0},
    TOXICITY,
};
FL_NET_TYPE(http_close_idle, "http.close_idle", FL_TX_HTTP_CLOSE_IDLE,
     "close idle keep-alive connections after idle, as uvicorn does after 5 s: a client that "
     "reuses them blindly gets no answer", close_idle_params);
