/* The msgpack subset used by Blosc2 frames and the b2nd metalayer: a bounded reader over a
 * tersa__cursor and a writer into a growable buffer. Integers in msgpack are big-endian.
 *
 * Reader functions return 0 or a negative tersa error with a detail naming the field ("what")
 * and its offset from the start of the buffer the cursor was made from (tersa__mp_reader). */
#ifndef TERSA_MSGPACK_H
#define TERSA_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tersa_internal.h"

/* Markers. */
enum {
    TERSA_MP_NIL = 0xc0,
    TERSA_MP_FALSE = 0xc2,
    TERSA_MP_TRUE = 0xc3,
    TERSA_MP_BIN8 = 0xc4,
    TERSA_MP_BIN16 = 0xc5,
    TERSA_MP_BIN32 = 0xc6,
    TERSA_MP_EXT8 = 0xc7,
    TERSA_MP_EXT16 = 0xc8,
    TERSA_MP_EXT32 = 0xc9,
    TERSA_MP_FLOAT32 = 0xca,
    TERSA_MP_FLOAT64 = 0xcb,
    TERSA_MP_UINT8 = 0xcc,
    TERSA_MP_UINT16 = 0xcd,
    TERSA_MP_UINT32 = 0xce,
    TERSA_MP_UINT64 = 0xcf,
    TERSA_MP_INT8 = 0xd0,
    TERSA_MP_INT16 = 0xd1,
    TERSA_MP_INT32 = 0xd2,
    TERSA_MP_INT64 = 0xd3,
    TERSA_MP_FIXEXT1 = 0xd4,
    TERSA_MP_FIXEXT16 = 0xd8,
    TERSA_MP_STR8 = 0xd9,
    TERSA_MP_STR16 = 0xda,
    TERSA_MP_STR32 = 0xdb,
    TERSA_MP_ARRAY16 = 0xdc,
    TERSA_MP_ARRAY32 = 0xdd,
    TERSA_MP_MAP16 = 0xde,
    TERSA_MP_MAP32 = 0xdf,
};

/* A reader: a cursor plus the buffer start (for offsets in error details) and a label. */
typedef struct tersa__mp_reader {
    tersa__cursor cur;
    const uint8_t *base;
    const char *where; /* prefix of error details, e.g. "frame header" */
} tersa__mp_reader;

void tersa__mp_reader_init(tersa__mp_reader *r, const uint8_t *buf, size_t len, const char *where);
/* Offset of the next byte from the buffer start. */
size_t tersa__mp_pos(const tersa__mp_reader *r);
/* Move to an absolute offset (<= buffer length). */
int tersa__mp_seek(tersa__mp_reader *r, size_t pos, const char *what);
/* Next marker byte without consuming it; negative error at the end. */
int tersa__mp_peek(const tersa__mp_reader *r, const char *what);

/* Exactly this marker byte. */
int tersa__mp_expect(tersa__mp_reader *r, uint8_t marker, const char *what);
/* Containers: fixarray / array16 / array32 and fixmap / map16 / map32. */
int tersa__mp_read_array(tersa__mp_reader *r, uint32_t *n, const char *what);
int tersa__mp_read_map(tersa__mp_reader *r, uint32_t *n, const char *what);
/* fixstr / str8 / str16 / str32; *s points into the buffer. */
int tersa__mp_read_str(tersa__mp_reader *r, const uint8_t **s, uint32_t *n, const char *what);
/* bin8 / bin16 / bin32. */
int tersa__mp_read_bin(tersa__mp_reader *r, const uint8_t **s, uint32_t *n, const char *what);
/* Any integer encoding (fixint, uint8..64, int8..64); uint64 above INT64_MAX is an error. */
int tersa__mp_read_int(tersa__mp_reader *r, int64_t *v, const char *what);
int tersa__mp_read_bool(tersa__mp_reader *r, bool *v, const char *what);
/* fixext 1/2/4/8/16 and ext 8/16/32. */
int tersa__mp_read_ext(tersa__mp_reader *r, int8_t *type, const uint8_t **data, uint32_t *n,
                       const char *what);
/* Fixed-width forms, as frames store them: marker then a big-endian value. */
int tersa__mp_read_i16(tersa__mp_reader *r, int16_t *v, const char *what);  /* D1 */
int tersa__mp_read_i32(tersa__mp_reader *r, int32_t *v, const char *what);  /* D2 */
int tersa__mp_read_i64(tersa__mp_reader *r, int64_t *v, const char *what);  /* D3 */
int tersa__mp_read_u16(tersa__mp_reader *r, uint16_t *v, const char *what); /* CD */
int tersa__mp_read_u32(tersa__mp_reader *r, uint32_t *v, const char *what); /* CE */
int tersa__mp_read_u64(tersa__mp_reader *r, uint64_t *v, const char *what); /* CF */
/* Skip one complete value (nesting limited to 32 levels). */
int tersa__mp_skip(tersa__mp_reader *r, const char *what);
/* Take n raw bytes. */
int tersa__mp_take(tersa__mp_reader *r, size_t n, const uint8_t **out, const char *what);

/* A growable output buffer. Writers record the first failure in err and then do nothing, so a
 * sequence of writes needs one check at the end (tersa__buf_status). */
typedef struct tersa__buf {
    uint8_t *p;
    size_t len, cap;
    int err;
} tersa__buf;

void tersa__buf_init(tersa__buf *b);
void tersa__buf_free(tersa__buf *b);
int tersa__buf_status(const tersa__buf *b);
/* Make room for n more bytes; returns a pointer to them (len advanced) or NULL. */
uint8_t *tersa__buf_grow(tersa__buf *b, size_t n);
void tersa__buf_put(tersa__buf *b, const void *data, size_t n);
void tersa__buf_u8(tersa__buf *b, uint8_t v);

/* Fixed-width writers: marker then big-endian value. */
void tersa__mp_w_i16(tersa__buf *b, int16_t v);  /* D1 */
void tersa__mp_w_i32(tersa__buf *b, int32_t v);  /* D2 */
void tersa__mp_w_i64(tersa__buf *b, int64_t v);  /* D3 */
void tersa__mp_w_u16(tersa__buf *b, uint16_t v); /* CD */
void tersa__mp_w_u32(tersa__buf *b, uint32_t v); /* CE */
void tersa__mp_w_u64(tersa__buf *b, uint64_t v); /* CF */
void tersa__mp_w_bool(tersa__buf *b, bool v);
/* Shortest encodings. */
void tersa__mp_w_int(tersa__buf *b, int64_t v);
void tersa__mp_w_array(tersa__buf *b, uint32_t n); /* fixarray / array16 / array32 */
void tersa__mp_w_map(tersa__buf *b, uint32_t n);   /* fixmap / map16 / map32 */
void tersa__mp_w_str(tersa__buf *b, const void *s, uint32_t n); /* fixstr / str8/16/32 */
/* Explicit forms used by frames. */
void tersa__mp_w_array16(tersa__buf *b, uint16_t n);                   /* DC */
void tersa__mp_w_map16(tersa__buf *b, uint16_t n);                     /* DE */
void tersa__mp_w_str32(tersa__buf *b, const void *s, uint32_t n);      /* DB */
void tersa__mp_w_bin32(tersa__buf *b, const void *data, uint32_t n);   /* C6 */
void tersa__mp_w_fixext16(tersa__buf *b, int8_t type, const uint8_t data[16]); /* D8 */

#endif
