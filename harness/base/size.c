/* size.c - see size.h. */
#include "base/size.h"
#include "base/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int fl_parse_size(const char *s, uint64_t *bytes)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return FL_EINVAL;
    uint64_t v = 0;
    size_t i = 0;
    for (; isdigit((unsigned char)s[i]); i++) {
        if (v > (UINT64_MAX - 9) / 10 || i > 18)
            return FL_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    static const struct { const char *u; int shift; } units[] = {
        {"", 0}, {"b", 0}, {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20}, {"mb", 20},
        {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40}, {"tb", 40}, {"tib", 40},
    };
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (strcasecmp(s + i, units[k].u) != 0)
            continue;
        if (units[k].shift && v > (UINT64_MAX >> units[k].shift))
            return FL_EINVAL;
        *bytes = v << units[k].shift;
        return 0;
    }
    return FL_EINVAL;
}

void fl_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char unit[] = {'t', 'g', 'm', 'k'};
    for (int k = 0; k < 4; k++) {
        int shift = 40 - 10 * k;
        uint64_t m = (uint64_t)1 << shift;
        if (bytes && bytes % m == 0) {
            snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> shift), unit[k]);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
