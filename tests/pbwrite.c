/* See pbwrite.h. */
#include "pbwrite.h"

#include <string.h>

#include "check.h"
#include "internal.h"

void pbw_raw(pbw *w, const void *p, size_t n)
{
    REQUIRE(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

void pbw_varint(pbw *w, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        pbw_raw(w, &c, 1);
    } while (v);
}

void pbw_tag(pbw *w, uint64_t field, unsigned wire)
{
    pbw_varint(w, field << 3 | wire);
}

void pbw_uint(pbw *w, uint64_t field, uint64_t v)
{
    pbw_tag(w, field, 0);
    pbw_varint(w, v);
}

void pbw_bytes(pbw *w, uint64_t field, const void *p, size_t n)
{
    pbw_tag(w, field, 2);
    pbw_varint(w, n);
    pbw_raw(w, p, n);
}

void pbw_str(pbw *w, uint64_t field, const char *s)
{
    pbw_bytes(w, field, s, strlen(s));
}

void pbw_msg(pbw *w, uint64_t field, const pbw *m)
{
    pbw_bytes(w, field, m->b, m->n);
}

void pbw_alert(pbw *a, const char *id, const char *title)
{
    a->n = 0;
    pbw_str(a, 1, id);
    pbw_uint(a, 2, 2); /* TLP_GREEN */
    pbw_uint(a, 3, 3); /* SEVERITY_SEVERE */
    pbw_str(a, 5, title);
    pbw_uint(a, 11, 1); /* STATUS_ACTUAL */
    pbw_uint(a, 12, 1); /* MSG_TYPE_ALERT */
}

void pbw_sign(const cdx_identity *who, const pbw *body, cdx_bytes *env,
              uint8_t hash[CDX_HASH_BYTES])
{
    uint8_t sig[CDX_SIG_BYTES];
    REQUIRE(cdx_identity_sign(who, "envelope", body->b, body->n, sig) == CDX_OK);
    REQUIRE(cdx__outer_encode(cdx_identity_id(who), body->b, body->n, sig, NULL, env) == CDX_OK);
    if (hash)
        cdx_hash(hash, body->b, body->n);
}
