/* net_toxics.c - TCP faults on a scenario's proxy, with Toxiproxy's
 * semantics (so what people know about Toxiproxy carries over): each adds
 * a toxic to the proxy at `at` and removes it after `for:`; bytes already
 * on their way keep their order and are not dropped (except by timeout and
 * limit_data, which drop by definition). The machinery is harness/proxy. */
#include "injectors/net_common.h"

#define COMMON(dir_default)                                                                   \
    {"proxy", FL_PT_STRING, 1, NULL, FL_NET_PROXY_HELP, NULL, 0, 0},                          \
    {"direction", FL_PT_ENUM, 0, dir_default,                                                 \
     "stream it acts on: downstream (server to client) or upstream (client to server)",      \
     fl_net_directions, 0, 0},                                                                \
    {"toxicity", FL_PT_STRING, 0, "1.0", FL_NET_TOXICITY_HELP, NULL, 0, 0}


static const struct fl_param latency_params[] = {
    COMMON("downstream"),
    {"latency", FL_PT_DURATION, 1, NULL, "delay added to every chunk of data", NULL, 0, 0},
    {"jitter", FL_PT_DURATION, 0, "0ms", "random +/- added to the latency, per chunk", NULL, 0, 0},
};
FL_NET_TYPE(net_latency, "net.latency", FL_TX_LATENCY,
     "delay the data through a proxy (Toxiproxy latency): latency +/- jitter per chunk, order kept",
     latency_params);

static const struct fl_param bandwidth_params[] = {
    COMMON("downstream"),
    {"rate", FL_PT_INT, 1, NULL, "KB/s (1 KB = 1000 bytes)", NULL, 1, 0},
};
FL_NET_TYPE(net_bandwidth, "net.bandwidth", FL_TX_BANDWIDTH,
     "limit the throughput of a proxy's stream to rate KB/s (Toxiproxy bandwidth)",
     bandwidth_params);

static const struct fl_param slow_close_params[] = {
    COMMON("downstream"),
    {"delay", FL_PT_DURATION, 1, NULL, "how long the close waits", NULL, 0, 0},
};
FL_NET_TYPE(net_slow_close, "net.slow_close", FL_TX_SLOW_CLOSE,
     "delay passing on a close (FIN) by delay (Toxiproxy slow_close)", slow_close_params);

static const struct fl_param timeout_params[] = {
    COMMON("downstream"),
    {"timeout", FL_PT_DURATION, 0, "0ms",
     "close the connection after this long; 0 keeps it open, silent, until healed", NULL, 0, 0},
};
FL_NET_TYPE(net_timeout, "net.timeout", FL_TX_TIMEOUT,
     "stop all data (dropped, a blackhole) and close connections after timeout; 0: until healed "
     "(Toxiproxy timeout)", timeout_params);

static const struct fl_param reset_params[] = {
    COMMON("downstream"),
    {"timeout", FL_PT_DURATION, 0, "0ms", "reset this long after the connection (or the fault) "
     "started", NULL, 0, 0},
};
FL_NET_TYPE(net_reset_peer, "net.reset_peer", FL_TX_RESET_PEER,
     "reset connections (TCP RST, connection reset by peer) after timeout (Toxiproxy reset_peer)",
     reset_params);

static const struct fl_param slicer_params[] = {
    COMMON("downstream"),
    {"average_size", FL_PT_INT, 0, "64", "bytes per slice on average", NULL, 1, 0},
    {"size_variation", FL_PT_INT, 0, "32", "random +/- bytes per slice", NULL, 0, 0},
    {"delay", FL_PT_INT, 0, "10", "microseconds between slices", NULL, 0, 0},
};
FL_NET_TYPE(net_slicer, "net.slicer", FL_TX_SLICER,
     "cut the data into small slices sent apart (Toxiproxy slicer)", slicer_params);

static const struct fl_param limit_params[] = {
    COMMON("downstream"),
    {"bytes", FL_PT_INT, 1, NULL, "bytes passed on per connection before it is closed", NULL, 0, 0},
};
FL_NET_TYPE(net_limit_data, "net.limit_data", FL_TX_LIMIT_DATA,
     "close each connection once it has carried bytes (Toxiproxy limit_data)", limit_params);

static const struct fl_param down_params[] = {
    {"proxy", FL_PT_STRING, 1, NULL, FL_NET_PROXY_HELP, NULL, 0, 0},
};

static int inject_down(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_net_down(fr, err);
}

static int revert_down(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_net_up(fr, err);
}

const struct fl_injector_type fl_injector_net_down = {
    .name = "net.down",
    .help = "take a proxy down: open connections are closed, new ones refused, until healed "
            "(Toxiproxy's enabled: false)",
    .params = down_params,
    .nparams = sizeof down_params / sizeof down_params[0],
    .wants_duration = 1,
    .inject = inject_down,
    .revert = revert_down,
};
