/* static_sleep.c - sleeps for argv[1] seconds; linked statically, so no
 * LD_PRELOAD library can ever be loaded into it (tests/e2e/
 * disk_errors_preload.sh: disk.errors must refuse such a service). */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    sleep(argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 30);
    return 0;
}
