/* Sizes and the owned byte buffer shared by every CyDEx module. */
#ifndef CYDEX_COMMON_H
#define CYDEX_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cydex/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_WIRE_VERSION 1u
#define CDX_HASH_BYTES 32u /* SHA-256 */
#define CDX_SIG_BYTES 64u  /* Ed25519 signature */
#define CDX_PK_BYTES 32u   /* Ed25519, X25519 and CURVE public keys */
#define CDX_ID_MAX 63u     /* longest member id, in bytes */
#define CDX_TOPIC_MAX 127u /* longest topic, in bytes */
#define CDX_ENVELOPE_MAX_DEFAULT (1024u * 1024u)
#define CDX_SKEW_DEFAULT_MS (5u * 60u * 1000u)

/* A heap buffer owned by whoever holds the struct; free with
 * cdx_bytes_free(). */
typedef struct cdx_bytes {
    uint8_t *data;
    size_t len;
} cdx_bytes;

/* Frees b->data and zeroes *b. Accepts NULL and empty buffers. */
void cdx_bytes_free(cdx_bytes *b);

/* Lower-case hex of len bytes into out (2*len+1 bytes, NUL-terminated). */
void cdx_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decodes exactly want bytes of hex (upper or lower case) from a
 * NUL-terminated string. CDX_ERR_FORMAT on any other length or character. */
cdx_err cdx_hex_decode(uint8_t *out, size_t want, const char *hex);

/* Standard base64 (RFC 4648, padded). encode returns a malloc'd string or
 * NULL; decode gives CDX_ERR_FORMAT on anything else, and out is the
 * caller's to free. */
char *cdx_base64_encode(const uint8_t *in, size_t len);
cdx_err cdx_base64_decode(cdx_bytes *out, const char *text);

/* True when id is a well-formed member id: 1..CDX_ID_MAX bytes of
 * [A-Za-z0-9._-], starting with a letter or digit. */
bool cdx_id_valid(const char *id);

/* True when topic is 1..CDX_TOPIC_MAX bytes of [a-z0-9._-]. */
bool cdx_topic_valid(const char *topic);

/* Parses a whole unsigned decimal number (no sign, no spaces); false on
 * anything else or on overflow, leaving *out alone. */
bool cdx_parse_u64(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
