/* registry.c - every fault type faultline knows, in the order docs list them. */
#include "injectors/registry.h"

#include <string.h>

extern const struct fl_injector_type fl_injector_process_kill;
extern const struct fl_injector_type fl_injector_process_term;
extern const struct fl_injector_type fl_injector_process_pause;
extern const struct fl_injector_type fl_injector_image_reject;
extern const struct fl_injector_type fl_injector_redis_failover;
extern const struct fl_injector_type fl_injector_redis_kill;
extern const struct fl_injector_type fl_injector_redis_pause;
extern const struct fl_injector_type fl_injector_redis_disconnect;
extern const struct fl_injector_type fl_injector_redis_restart;
extern const struct fl_injector_type fl_injector_retry_stale;
extern const struct fl_injector_type fl_injector_time_jump;
extern const struct fl_injector_type fl_injector_time_skew;
extern const struct fl_injector_type fl_injector_time_strobe;
extern const struct fl_injector_type fl_injector_net_latency;
extern const struct fl_injector_type fl_injector_net_bandwidth;
extern const struct fl_injector_type fl_injector_net_slow_close;
extern const struct fl_injector_type fl_injector_net_timeout;
extern const struct fl_injector_type fl_injector_net_reset_peer;
extern const struct fl_injector_type fl_injector_net_slicer;
extern const struct fl_injector_type fl_injector_net_limit_data;
extern const struct fl_injector_type fl_injector_net_down;
extern const struct fl_injector_type fl_injector_http_status;
extern const struct fl_injector_type fl_injector_http_ratelimit;
extern const struct fl_injector_type fl_injector_http_delay;
extern const struct fl_injector_type fl_injector_http_close_idle;
extern const struct fl_injector_type fl_injector_network_partition;
extern const struct fl_injector_type fl_injector_disk_full;
extern const struct fl_injector_type fl_injector_disk_errors;

const struct fl_injector_type *const fl_injectors[] = {
    &fl_injector_process_kill,
    &fl_injector_process_term,
    &fl_injector_process_pause,
    &fl_injector_image_reject,
    &fl_injector_redis_failover,
    &fl_injector_redis_kill,
    &fl_injector_redis_pause,
    &fl_injector_redis_disconnect,
    &fl_injector_redis_restart,
    &fl_injector_retry_stale,
    &fl_injector_time_jump,
    &fl_injector_time_skew,
    &fl_injector_time_strobe,
    &fl_injector_net_latency,
    &fl_injector_net_bandwidth,
    &fl_injector_net_slow_close,
    &fl_injector_net_timeout,
    &fl_injector_net_reset_peer,
    &fl_injector_net_slicer,
    &fl_injector_net_limit_data,
    &fl_injector_net_down,
    &fl_injector_http_status,
    &fl_injector_http_ratelimit,
    &fl_injector_http_delay,
    &fl_injector_http_close_idle,
    &fl_injector_network_partition,
    &fl_injector_disk_full,
    &fl_injector_disk_errors,
    NULL,
};

const struct fl_injector_type *fl_injector_find(const char *name)
{
    for (size_t i = 0; fl_injectors[i]; i++)
        if (strcmp(fl_injectors[i]->name, name) == 0)
            return fl_injectors[i];
    return NULL;
}
