#include "base/error.h"

#include <stdio.h>

int fl_error_set(struct fl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *fl_strerror(int code)
{
    switch (code) {
    case 0: return "OK";
    case FL_EINVAL: return "EINVAL";
    case FL_ENOMEM: return "ENOMEM";
    case FL_EIO: return "EIO";
    case FL_ESCENARIO: return "ESCENARIO";
    case FL_ESYS: return "ESYS";
    case FL_ETIMEDOUT: return "ETIMEDOUT";
    case FL_ENOTREADY: return "ENOTREADY";
    case FL_EINJECT: return "EINJECT";
    case FL_ENOTFOUND: return "ENOTFOUND";
    case FL_EABORT: return "EABORT";
    }
    return "EUNKNOWN";
}
