/* A protobuf writer of the tests' own, to state bytes exactly as the wire
 * rules in proto/cydex.proto say them (or break them on purpose), without
 * the library's encoder; and signing of such body bytes with a member's
 * real key, so that only the encoding is wrong. */
#ifndef CYDEX_TESTS_PBWRITE_H
#define CYDEX_TESTS_PBWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "cydex/cydex.h"

typedef struct pbw {
    uint8_t b[4096];
    size_t n;
} pbw;

void pbw_raw(pbw *w, const void *p, size_t n);
void pbw_varint(pbw *w, uint64_t v);
void pbw_tag(pbw *w, uint64_t field, unsigned wire);
void pbw_uint(pbw *w, uint64_t field, uint64_t v);
void pbw_bytes(pbw *w, uint64_t field, const void *p, size_t n);
void pbw_str(pbw *w, uint64_t field, const char *s);
void pbw_msg(pbw *w, uint64_t field, const pbw *m);

/* A TLP:GREEN alert, canonical: id, tlp, severity, title, status, type. */
void pbw_alert(pbw *a, const char *id, const char *title);

/* Signs the body bytes as `who` (purpose "envelope") and wraps them in a
 * canonical envelope (caller frees); hash, if not NULL, gets its hash. */
void pbw_sign(const cdx_identity *who, const pbw *body, cdx_bytes *env,
              uint8_t hash[CDX_HASH_BYTES]);

#endif
