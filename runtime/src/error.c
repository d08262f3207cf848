/*
 * error.c: the one way libseqrt reports failure: a code plus a message that
 * names the file and the reason, written into the caller's seqrt_error.
 * The library never prints or exits; the CLI layer decides what to show.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

int seqrt_errorf(seqrt_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *seqrt_status_name(int code)
{
    switch (code) {
    case SEQRT_OK: return "ok";
    case SEQRT_EIO: return "i/o error";
    case SEQRT_EFORMAT: return "malformed file";
    case SEQRT_EUNSUPPORTED: return "unsupported";
    case SEQRT_ERANGE: return "out of range";
    case SEQRT_ENOMEM: return "out of memory";
    case SEQRT_EINVAL: return "invalid argument";
    case SEQRT_ENOTFOUND: return "not found";
    case SEQRT_EINTERRUPTED: return "interrupted";
    }
    return "unknown error";
}
