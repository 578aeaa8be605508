/* Checkpoints as C2SP signed notes (see cydex/checkpoint.h).
 *
 * Invariant: what is signed is always rebuilt from the parsed fields in the
 * one canonical text form, so a parsed checkpoint verifies only if its text
 * was exactly that form; extension lines are refused rather than ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/checkpoint.h"
#include "internal.h"

#define S_DASH "\xe2\x80\x94" /* U+2014 em dash */

/* "<origin>\n<size>\n<base64 root>\n" into buf; returns its length. */
static size_t s_body(char *buf, size_t cap, const char *origin, uint64_t size,
                     const uint8_t root[CDX_HASH_BYTES])
{
    char *b64 = cdx__base64_encode(root, CDX_HASH_BYTES);
    if (!b64)
        return 0;
    int n = snprintf(buf, cap, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
    free(b64);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* key ID = SHA-256(name || "\n" || type || public key)[:4] */
static void s_key_id(uint8_t out[4], const char *name, uint8_t type, const uint8_t pk[32])
{
    uint8_t h[32], tail[1 + 32];
    tail[0] = type;
    memcpy(tail + 1, pk, 32);
    cdx__sha256(h, name, strlen(name), "\n", 1, tail, sizeof tail);
    memcpy(out, h, 4);
}

static size_t s_cosigned(char *buf, size_t cap, uint64_t time_s, const char *body)
{
    int n = snprintf(buf, cap, "cosignature/v1\ntime %llu\n%s", (unsigned long long)time_s, body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static bool s_origin_ok(const char *origin)
{
    size_t n = origin ? strlen(origin) : 0;
    if (n == 0 || n > CDX_ORIGIN_MAX || !cdx__utf8_valid(origin))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)origin[i] <= ' ' || origin[i] == '+')
            return false;
    return true;
}

cdx_err cdx_checkpoint_sign(char **text, const char *origin, uint64_t size,
                            const uint8_t root[CDX_HASH_BYTES], uint64_t time_s,
                            const cdx_identity *key)
{
    *text = NULL;
    if (!s_origin_ok(origin))
        return CDX_ERR_INVALID;
    char body[CDX_ORIGIN_MAX + 128], cos[CDX_ORIGIN_MAX + 192];
    size_t bl = s_body(body, sizeof body, origin, size, root);
    size_t cl = s_cosigned(cos, sizeof cos, time_s, body);
    if (!bl || !cl)
        return CDX_ERR_INVALID;
    cdx_member card;
    cdx_identity_card(key, &card);
    uint8_t sig1[4 + 64], sig2[4 + 8 + 64];
    s_key_id(sig1, origin, 0x01, card.sign_pk);
    s_key_id(sig2, origin, 0x04, card.sign_pk);
    cdx__put_be64(sig2 + 4, time_s);
    cdx__sign_raw(key, (const uint8_t *)body, bl, sig1 + 4);
    cdx__sign_raw(key, (const uint8_t *)cos, cl, sig2 + 12);
    char *b1 = cdx__base64_encode(sig1, sizeof sig1), *b2 = cdx__base64_encode(sig2, sizeof sig2);
    size_t cap = bl + 2 * strlen(origin) + 512;
    *text = malloc(cap);
    cdx_err rc = b1 && b2 && *text ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK)
        snprintf(*text, cap, "%s\n" S_DASH " %s %s\n" S_DASH " %s %s\n", body, origin, b1, origin,
                 b2);
    free(b1);
    free(b2);
    if (rc != CDX_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* The one way a tree size is written: digits only, no leading zero, at
 * most 2^64 - 1 (strtoull alone would skip leading whitespace and take a
 * sign: a second text that verifies with the same signature). */
static bool s_decimal(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s[0] || (s[0] == '0' && s[1]))
        return false;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9' || v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *out = v;
    return true;
}

/* Copies line `which` (0-based) of text[0..len) into out; false if absent. */
static bool s_line(const char *text, size_t len, int which, char *out, size_t cap)
{
    size_t start = 0;
    for (int l = 0; l < which; l++) {
        const char *nl = memchr(text + start, '\n', len - start);
        if (!nl)
            return false;
        start = (size_t)(nl - text) + 1;
    }
    const char *nl = memchr(text + start, '\n', len - start);
    if (!nl || (size_t)(nl - text) - start >= cap)
        return false;
    size_t n = (size_t)(nl - text) - start;
    memcpy(out, text + start, n);
    out[n] = '\0';
    return true;
}

cdx_err cdx_checkpoint_parse(cdx_checkpoint *out, const char *text, size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (len > 16384 || memchr(text, '\0', len))
        return cdx_errf(eb, CDX_ERR_FORMAT, "not a checkpoint: too long or binary");
    /* The body ends at the last blank line. */
    size_t split = 0;
    for (size_t i = 1; i < len; i++)
        if (text[i] == '\n' && text[i - 1] == '\n')
            split = i;
    if (!split)
        return cdx_errf(eb, CDX_ERR_FORMAT, "not a checkpoint: no blank line before signatures");
    size_t body_len = split; /* includes the body's final newline */
    char line[512];
    int lines = 0;
    for (size_t i = 0; i < body_len; i++)
        lines += text[i] == '\n';
    if (lines != 3)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "checkpoint body has %d lines; expected origin, size, "
                        "root (extension lines are not supported)",
                        lines);
    char size_s[32], root_s[64];
    if (!s_line(text, body_len, 0, out->origin, sizeof out->origin) ||
        !s_line(text, body_len, 1, size_s, sizeof size_s) ||
        !s_line(text, body_len, 2, root_s, sizeof root_s) || !s_origin_ok(out->origin))
        return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint body is malformed");
    if (!s_decimal(size_s, &out->size))
        return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint size \"%s\" is not a decimal", size_s);
    cdx_bytes root;
    if (cdx__base64_decode(&root, root_s) != CDX_OK || root.len != CDX_HASH_BYTES) {
        cdx_bytes_free(&root);
        return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint root is not 32 bytes of base64");
    }
    memcpy(out->root, root.data, CDX_HASH_BYTES);
    cdx_bytes_free(&root);

    /* Signature lines: "— <name> <base64>". */
    bool have_sig = false;
    size_t pos = split + 1;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (ll >= sizeof line)
            return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint signature line too long");
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos += ll + 1;
        if (!ll)
            continue;
        char *name = line + strlen(S_DASH " ");
        char *space = strncmp(line, S_DASH " ", strlen(S_DASH " ")) == 0 ? strchr(name, ' ') : NULL;
        if (!space)
            return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint signature line is malformed");
        *space = '\0';
        cdx_bytes sig;
        if (cdx__base64_decode(&sig, space + 1) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint signature is not base64");
        if (strcmp(name, out->origin) == 0 && sig.len == 4 + 64 && !have_sig) {
            memcpy(out->key_id, sig.data, 4);
            memcpy(out->sig, sig.data + 4, 64);
            have_sig = true;
        } else if (strcmp(name, out->origin) == 0 && sig.len == 4 + 8 + 64 && !out->has_cosig) {
            memcpy(out->cosig_key_id, sig.data, 4);
            out->time_s = cdx__get_be64(sig.data + 4);
            memcpy(out->cosig, sig.data + 12, 64);
            out->has_cosig = true;
        }
        /* Other signers (witnesses) are ignored, as signed-note says. */
        cdx_bytes_free(&sig);
    }
    if (!have_sig)
        return cdx_errf(eb, CDX_ERR_FORMAT, "checkpoint carries no signature by its origin");
    return CDX_OK;
}

cdx_err cdx_checkpoint_verify(const cdx_checkpoint *cp, const uint8_t pk[CDX_PK_BYTES],
                              cdx_errbuf *eb)
{
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    char body[CDX_ORIGIN_MAX + 128], cos[CDX_ORIGIN_MAX + 192];
    size_t bl = s_body(body, sizeof body, cp->origin, cp->size, cp->root);
    uint8_t id[4];
    s_key_id(id, cp->origin, 0x01, pk);
    if (!bl || memcmp(id, cp->key_id, 4) != 0 ||
        cdx__verify_raw(pk, (const uint8_t *)body, bl, cp->sig) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                        "checkpoint of %s at size %llu: signature does not verify with the "
                        "owner's key",
                        cp->origin, (unsigned long long)cp->size);
    size_t cl = s_cosigned(cos, sizeof cos, cp->time_s, body);
    s_key_id(id, cp->origin, 0x04, pk);
    if (!cp->has_cosig || !cl || memcmp(id, cp->cosig_key_id, 4) != 0 ||
        cdx__verify_raw(pk, (const uint8_t *)cos, cl, cp->cosig) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                        "checkpoint of %s at size %llu: timestamped signature missing or invalid",
                        cp->origin, (unsigned long long)cp->size);
    return CDX_OK;
}
