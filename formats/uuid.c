/* Name-based UUIDs (RFC 4122 version 5) for the objects the formats make.
 *
 * MISP and STIX accept only RFC 4122 UUIDs of versions 1-5, and a re-export
 * of one alert must give the very same objects, so every id that is not an
 * alert's own comes from uuid5(CDX_FMT_UUID_NAMESPACE, name) with the names
 * docs/formats.md lists. SHA-1 is what version 5 is defined with; it names
 * objects here and protects nothing (the envelope's signature does).
 */
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"

static uint32_t s_rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void s_sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = s_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        uint32_t t = s_rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = s_rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void cdx__fmt_sha1(uint8_t out[20], const void *data, size_t len)
{
    uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        s_sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t total = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    s_sha1_block(h, tail);
    if (total == 128)
        s_sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* The 16 bytes of a UUID's text form (cdx_uuid_valid: 8-4-4-4-12 hex). */
static bool s_uuid_bytes(uint8_t out[16], const char *s)
{
    if (!cdx_uuid_valid(s))
        return false;
    char hex[33];
    size_t k = 0;
    for (size_t i = 0; i < 36; i++)
        if (s[i] != '-')
            hex[k++] = s[i];
    hex[k] = '\0';
    return cdx_hex_decode(out, 16, hex) == CDX_OK;
}

static void s_uuid_text(char out[CDX_UUID_TEXT], const uint8_t b[16])
{
    static const char digits[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = digits[b[i] >> 4];
        out[k++] = digits[b[i] & 15];
    }
    out[k] = '\0';
}

bool cdx__fmt_uuid_rfc(const char *s)
{
    uint8_t b[16];
    if (!s_uuid_bytes(b, s))
        return false;
    unsigned version = b[6] >> 4, variant = b[8] >> 6;
    return version >= 1 && version <= 5 && variant == 2;
}

static void s_uuid5(char out[CDX_UUID_TEXT], const char *namespace, const char *a, const char *b,
                    const char *c, const char *d)
{
    uint8_t ns[16];
    s_uuid_bytes(ns, namespace);
    const char *parts[4] = {a, b, c, d};
    size_t len = 16;
    for (int i = 0; i < 4 && parts[i]; i++)
        len += strlen(parts[i]);
    /* Names are short (ids, types, indicator values up to what an envelope
     * holds); one buffer keeps SHA-1 one-shot. */
    uint8_t stackbuf[512], *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    uint8_t digest[20];
    if (!buf) {
        /* Out of memory: an id that cannot be mistaken for a derived one. */
        memset(digest, 0, sizeof digest);
    } else {
        memcpy(buf, ns, 16);
        size_t at = 16;
        for (int i = 0; i < 4 && parts[i]; i++) {
            size_t n = strlen(parts[i]);
            memcpy(buf + at, parts[i], n);
            at += n;
        }
        cdx__fmt_sha1(digest, buf, at);
        if (buf != stackbuf)
            free(buf);
    }
    digest[6] = (uint8_t)((digest[6] & 0x0f) | 0x50);
    digest[8] = (uint8_t)((digest[8] & 0x3f) | 0x80);
    s_uuid_text(out, digest);
}

void cdx__fmt_uuid5_ns(char out[CDX_UUID_TEXT], const char *namespace, const char *name)
{
    s_uuid5(out, namespace, name, NULL, NULL, NULL);
}

void cdx__fmt_uuid5(char out[CDX_UUID_TEXT], const char *name)
{
    s_uuid5(out, CDX_FMT_UUID_NAMESPACE, name, NULL, NULL, NULL);
}

void cdx_fmt_uuid5(char out[CDX_UUID_TEXT], const char *name)
{
    cdx__fmt_uuid5(out, name);
}

void cdx__fmt_uuid5f(char out[CDX_UUID_TEXT], const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *name = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (name)
        vsnprintf(name, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    /* Out of memory: the name of nothing, rather than a crash. */
    cdx__fmt_uuid5(out, name ? name : "");
    free(name);
}

void cdx__fmt_ack_uuid(char out[CDX_UUID_TEXT], const cdx_item *it)
{
    char hash[2 * CDX_HASH_BYTES + 1];
    if (it->prov.known) {
        cdx_hex_encode(hash, it->prov.hash, CDX_HASH_BYTES);
        cdx__fmt_uuid5f(out, "ack:%s", hash);
    } else {
        cdx_hex_encode(hash, it->ack.alert_hash, CDX_HASH_BYTES);
        cdx__fmt_uuid5f(out, "ack:%s:%s:%s", hash, cdx_ack_stage_name(it->ack.stage),
                        it->ack.note ? it->ack.note : "");
    }
}

void cdx__fmt_alert_uuid(char out[CDX_UUID_TEXT], const char *alert_id)
{
    if (cdx__fmt_uuid_rfc(alert_id)) {
        memcpy(out, alert_id, CDX_UUID_TEXT);
        cdx__fmt_lower(out);
        return;
    }
    cdx__fmt_uuid5f(out, "alert:%s", alert_id ? alert_id : "");
}

void cdx__fmt_member_uuid(char out[CDX_UUID_TEXT], const char *member)
{
    cdx__fmt_uuid5f(out, "member:%s", member ? member : "");
}
