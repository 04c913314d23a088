/* size.h - byte sizes as scenarios write them ("16m", "512k", "1g", "4096"). */
#ifndef FL_SIZE_H
#define FL_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* "4096", "512k", "16m", "1g" (also "16M", "16MiB", "16mb": powers of 1024)
 * -> bytes. 0, or FL_EINVAL on a malformed, negative or overflowing value. */
int fl_parse_size(const char *s, uint64_t *bytes);
/* The shortest exact form ("16m", "1536k", "100"). */
void fl_format_size(uint64_t bytes, char *buf, size_t len);

#endif
