/* html_int.h - shared by the HTML report's files (reports/html*.c). */
#ifndef FL_HTML_INT_H
#define FL_HTML_INT_H

#include <jansson.h>

#include "reports/report.h"

/* s sanitized (one line, bounded) as a JSON string; NULL gives null. */
json_t *fl_html_str(const char *s);
/* "PASS", "FAIL", "UNKNOWN" or "ERROR". */
const char *fl_html_status(const struct fl_result *r);
/* Everything the page shows of one result (html_data.c). NULL: no memory. */
json_t *fl_html_run_json(const struct fl_result *r);

#endif
