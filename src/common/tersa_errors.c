/* The error table (names and messages from TERSA_ERROR_LIST) and the thread-local detail. */
#include <stdarg.h>
#include <stdio.h>

#include "common/tersa_internal.h"

#define TERSA_DETAIL_MAX 512

static _Thread_local char tersa_detail[TERSA_DETAIL_MAX];

const char *tersa_error_name(int code)
{
    switch (code) {
#define TERSA_X_NAME(sfx, val, name, msg)                                                      \
    case val:                                                                                  \
        return name;
        TERSA_ERROR_LIST(TERSA_X_NAME)
#undef TERSA_X_NAME
    }
    return "unknown";
}

const char *tersa_error_message(int code)
{
    switch (code) {
#define TERSA_X_MSG(sfx, val, name, msg)                                                       \
    case val:                                                                                  \
        return msg;
        TERSA_ERROR_LIST(TERSA_X_MSG)
#undef TERSA_X_MSG
    }
    return "unknown error code";
}

const char *tersa_error_detail(void) { return tersa_detail; }

const char *tersa_version(void) { return TERSA_VERSION_STRING; }

void tersa__clear_error(void) { tersa_detail[0] = '\0'; }

static int fail_v(int code, const char *fmt, va_list ap)
{
    vsnprintf(tersa_detail, sizeof tersa_detail, fmt, ap);
    return code;
}

static int fail_prefix_v(int code, const char *fmt, va_list ap)
{
    char prefix[160];
    char old[TERSA_DETAIL_MAX];
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    memcpy(old, tersa_detail, sizeof old);
    if (old[0] == '\0')
        snprintf(tersa_detail, sizeof tersa_detail, "%s: %s", prefix, tersa_error_message(code));
    else
        snprintf(tersa_detail, sizeof tersa_detail, "%.150s: %.340s", prefix, old);
    return code;
}

int tersa__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(code, fmt, ap);
    va_end(ap);
    return code;
}

int tersa__fail_prefix(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_prefix_v(code, fmt, ap);
    va_end(ap);
    return code;
}

int tersa_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fmt) fail_v(code, fmt, ap);
    else tersa_detail[0] = '\0';
    va_end(ap);
    return code;
}

int tersa_error_prefix(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fmt) fail_prefix_v(code, fmt, ap);
    va_end(ap);
    return code;
}
