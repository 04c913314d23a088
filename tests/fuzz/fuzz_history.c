/* fuzz_history.c - libFuzzer target: the JSON-lines history reader, then
 * the integrity rules and every report writer over what it read.
 *
 * `faultline check` and `faultline report` read events files that may be
 * cut, edited or hostile: reading must end in ops or an error naming
 * file:line:col, and whatever was read must render. Seeded with recorded
 * histories (tests/data/histories, ci/fuzz.sh). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "history/history.h"
#include "reports/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("events.jsonl", 0)) < 0)
        return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* A small op limit, so that the dropping path is fuzzed as well. */
    struct fl_history *h = fl_history_new(64);
    if (!h)
        return 0;
    struct fl_error err = {0};
    (void)fl_history_load_jsonl(h, path, &err);
    struct fl_integrity in;
    fl_history_integrity(h, &in);
    char *text = fl_timeline_text(h);
    free(text);
    FILE *null = fopen("/dev/null", "w");
    for (size_t i = 0; null && i < fl_history_len(h); i++)
        fl_jsonl_write_op(null, fl_history_get(h, i));
    struct fl_result r = {.name = "fuzz", .file = "fuzz.yaml", .history = h, .duration_s = 1};
    const struct fl_result *rp = &r;
    if (null)
        fclose(null);
    (void)fl_html_write("/dev/null", &rp, 1, &err);
    fl_history_free(h);
    return 0;
}
