/* tersa: shared public definitions: export macro, version, the error table.
 *
 * Every tersa function that can fail returns a negative code from the table below (or NULL
 * for constructors) and records a detail message for the calling thread, which
 * tersa_error_detail() returns until the next failing call on that thread.
 * Thread-safety: everything in this header is safe to call from any thread.
 */
#ifndef TERSA_COMMON_H
#define TERSA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(TERSA_BUILDING_SHARED)
#define TERSA_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define TERSA_API __attribute__((visibility("default")))
#else
#define TERSA_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TERSA_FORMAT(f, a) __attribute__((format(printf, f, a)))
#else
#define TERSA_FORMAT(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TERSA_VERSION_MAJOR 0
#define TERSA_VERSION_MINOR 1
#define TERSA_VERSION_PATCH 0
#define TERSA_VERSION_STRING "0.1.0"

/* The one error list: X(enum suffix, value, name, message). Values never change; new codes are
 * appended at the end. */
#define TERSA_ERROR_LIST(X)                                                                    \
    X(OK, 0, "ok", "success")                                                                  \
    X(PARAM, -1, "param", "invalid parameter")                                                 \
    X(NOMEM, -2, "nomem", "out of memory")                                                     \
    X(DST_TOO_SMALL, -3, "dst_too_small", "destination buffer too small")                     \
    X(CORRUPT, -4, "corrupt", "corrupted or malformed data")                                   \
    X(TRUNCATED, -5, "truncated", "data truncated")                                            \
    X(UNSUPPORTED, -6, "unsupported", "unsupported format feature")                            \
    X(UNKNOWN_CODEC, -7, "unknown_codec", "unknown codec")                                     \
    X(UNKNOWN_FILTER, -8, "unknown_filter", "unknown filter")                                  \
    X(CODEC, -9, "codec", "codec failed")                                                      \
    X(FILTER, -10, "filter", "filter failed")                                                  \
    X(THREAD, -11, "thread", "thread creation or synchronisation failed")                      \
    X(IO, -12, "io", "input/output error")                                                     \
    X(NOT_FOUND, -13, "not_found", "not found")                                                \
    X(EXISTS, -14, "exists", "already exists")                                                 \
    X(RANGE, -15, "range", "index or range out of bounds")                                     \
    X(VERSION, -16, "version", "unsupported format version")                                   \
    X(INTERNAL, -17, "internal", "internal error")                                             \
    X(STATE, -18, "state", "operation not valid in the current state")                        \
    X(TOO_LARGE, -19, "too_large", "size exceeds the format limit")

typedef enum tersa_error {
#define TERSA_X_ENUM(sfx, val, name, msg) TERSA_ERR_##sfx = (val),
    TERSA_ERROR_LIST(TERSA_X_ENUM)
#undef TERSA_X_ENUM
} tersa_error;

/* Short stable name of a code ("corrupt"), or "unknown" for a value not in the table. Static
 * storage; never free. */
TERSA_API const char *tersa_error_name(int code);

/* Generic one-line message for a code. Static storage; never free. */
TERSA_API const char *tersa_error_message(int code);

/* Detail of the last failure on the calling thread ("chunk: block 7 stream size 91234 runs past
 * the chunk end"), or "" if none. Thread-local storage owned by tersa, valid until the next
 * tersa call on this thread. */
TERSA_API const char *tersa_error_detail(void);

/* Record a failure the way tersa's own functions do: sets the calling thread's detail to the
 * printf-formatted text and returns code. For user codec and filter plugins and for libraries
 * built on tersa (libtersa_h5 uses it), so that tersa_error_detail() describes their failures
 * too. The detail is truncated at 511 bytes; a NULL fmt clears it. */
TERSA_API int tersa_error_set(int code, const char *fmt, ...) TERSA_FORMAT(2, 3);

/* Put context in front of the detail of a failure that is being passed up ("dataset /x chunk
 * (3, 0): " + the detail), or in front of code's generic message when no detail is set; the
 * prefix is cut at 150 bytes, the old detail at 340. Returns code. */
TERSA_API int tersa_error_prefix(int code, const char *fmt, ...) TERSA_FORMAT(2, 3);

/* Library version string, static storage. */
TERSA_API const char *tersa_version(void);

#ifdef __cplusplus
}
#endif
#endif
