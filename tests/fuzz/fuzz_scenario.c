/* fuzz_scenario.c - libFuzzer target: the scenario loader on any bytes.
 *
 * Scenario files come from users and from CI checkouts; whatever they
 * hold, loading must end in a model or in diagnostics, never in a crash,
 * a hang or a leak. The input goes through a memfd so that the loader
 * reads it by path exactly as `faultline validate` does. Seeded with the
 * shipped and test scenarios (ci/fuzz.sh). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("scenario.yaml", 0)) < 0)
        return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* A var override exercises the template paths too. */
    struct fl_var_override ov[] = {{.name = "profile", .value = "buggy"}};
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    if (fl_scenario_load(path, ov, 1, &sc, &diag) == 0)
        fl_scenario_free(sc);
    fl_diag_free(&diag);
    return 0;
}
