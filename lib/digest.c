/* Hashing, randomness and constant-time helpers over libsodium. With
 * identity.c and seal.c this is one of the three files that include
 * sodium.h; everything else asks them. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/envelope.h"
#include "internal.h"

cdx_err cdx__sodium_ready(void)
{
    /* sodium_init is idempotent and thread-safe: 0 first time, 1 after. */
    return sodium_init() < 0 ? CDX_ERR_CRYPTO : CDX_OK;
}

void cdx_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t *data, size_t len)
{
    crypto_generichash(out, CDX_HASH_BYTES, data, len, NULL, 0);
}

void cdx__digest64(uint8_t out[64], const char *purpose, const uint8_t *data, size_t len)
{
    uint8_t prefix[CDX__PREFIX_MAX];
    size_t p = cdx__domain_prefix(prefix, purpose);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 64);
    crypto_generichash_update(&st, prefix, p);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 64);
}

void cdx__random(uint8_t *out, size_t len)
{
    randombytes_buf(out, len);
}

void cdx__wipe(void *p, size_t len)
{
    if (p)
        sodium_memzero(p, len);
}

bool cdx__equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

void cdx__uuid_v4(char out[CDX_UUID_TEXT])
{
    uint8_t u[16];
    randombytes_buf(u, sizeof u);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char hex[33];
    cdx_hex_encode(hex, u, sizeof u);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

size_t cdx__domain_prefix(uint8_t out[CDX__PREFIX_MAX], const char *purpose)
{
    static const char head[] = "CyDEx-v1 ";
    size_t h = sizeof head - 1, p = strlen(purpose);
    if (h + p + 1 > CDX__PREFIX_MAX)
        return 0;
    memcpy(out, head, h);
    memcpy(out + h, purpose, p);
    out[h + p] = 0x00;
    return h + p + 1;
}

char *cdx__base64_encode(const uint8_t *in, size_t len)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t n = sodium_base64_encoded_len(len, variant);
    char *out = malloc(n);
    if (out)
        sodium_bin2base64(out, n, in, len, variant);
    return out;
}

cdx_err cdx__base64_decode(cdx_bytes *out, const char *text)
{
    size_t tl = strlen(text);
    out->len = 0;
    out->data = malloc(tl / 4 * 3 + 3);
    if (!out->data)
        return CDX_ERR_NOMEM;
    const char *end = NULL;
    if (sodium_base642bin(out->data, tl / 4 * 3 + 3, text, tl, NULL, &out->len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text + tl) {
        cdx_bytes_free(out);
        return CDX_ERR_FORMAT;
    }
    return CDX_OK;
}

void cdx__sha256(uint8_t out[32], const void *a, size_t al, const void *b, size_t bl, const void *c,
                 size_t cl)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    if (a)
        crypto_hash_sha256_update(&st, a, al);
    if (b)
        crypto_hash_sha256_update(&st, b, bl);
    if (c)
        crypto_hash_sha256_update(&st, c, cl);
    crypto_hash_sha256_final(&st, out);
}

char *cdx_base64_encode(const uint8_t *in, size_t len)
{
    return cdx__base64_encode(in, len);
}

cdx_err cdx_base64_decode(cdx_bytes *out, const char *text)
{
    return cdx__base64_decode(out, text);
}
