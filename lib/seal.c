/* Sealed alerts: XChaCha20-Poly1305 under a fresh content key, the key
 * wrapped to each recipient with crypto_box_seal (construction in
 * proto/cydex.proto, message Sealed).
 *
 * Invariants: the content key and the plaintext live in sodium_malloc
 * memory and are wiped before return; the associated data binds the sealed
 * alert to its sender, seq, topic and label, so it cannot be cut out of one
 * envelope and pasted into another.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/seal.h"
#include "internal.h"

#define S_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define S_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define S_WRAPPED_BYTES (crypto_box_SEALBYTES + S_KEY_BYTES)

/* ad = "CyDEx-v1 seal" 0x00 sender 0x00 seq(8, BE) topic 0x00 tlp(1) */
static cdx_err s_ad(cdx_bytes *ad, const char *sender, uint64_t seq, const char *topic, cdx_tlp tlp)
{
    uint8_t prefix[CDX__PREFIX_MAX];
    size_t p = cdx__domain_prefix(prefix, "seal");
    size_t ls = strlen(sender), lt = strlen(topic);
    ad->len = p + ls + 1 + 8 + lt + 1 + 1;
    ad->data = malloc(ad->len);
    if (!ad->data)
        return CDX_ERR_NOMEM;
    uint8_t *w = ad->data;
    memcpy(w, prefix, p);
    w += p;
    memcpy(w, sender, ls);
    w += ls;
    *w++ = 0;
    cdx__put_be64(w, seq);
    w += 8;
    memcpy(w, topic, lt);
    w += lt;
    *w++ = 0;
    *w = (uint8_t)tlp;
    return CDX_OK;
}

cdx_err cdx_seal_alert(cdx_sealed *out, const cdx_alert *alert, const char *sender, uint64_t seq,
                       const char *topic, const cdx_member *recipients, size_t n, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    cdx_err rc = cdx_alert_check(alert, eb);
    if (rc != CDX_OK)
        return rc;
    if (!cdx_tlp_requires_seal(alert->tlp))
        return cdx_errf(eb, CDX_ERR_TLP_SEALED_BELOW_AMBER,
                        "TLP:%s alerts go to everyone and are never sealed; use AMBER, "
                        "AMBER+STRICT or RED to name recipients",
                        cdx_tlp_name(alert->tlp));
    if (n == 0)
        return cdx_errf(eb, CDX_ERR_POLICY, "a sealed alert needs at least one recipient");
    if (!cdx_id_valid(sender) || !cdx_topic_valid(topic))
        return cdx_errf(eb, CDX_ERR_INVALID, "bad sender or topic");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(recipients[i].id, recipients[j].id) == 0)
                return cdx_errf(eb, CDX_ERR_INVALID, "recipient %s is listed twice",
                                recipients[i].id);

    cdx_bytes plain = {0}, ad = {0};
    uint8_t *key = sodium_malloc(S_KEY_BYTES);
    if (!key)
        return CDX_ERR_NOMEM;
    randombytes_buf(key, S_KEY_BYTES);
    rc = cdx__alert_encode(alert, &plain);
    if (rc == CDX_OK)
        rc = s_ad(&ad, sender, seq, topic, alert->tlp);
    if (rc != CDX_OK)
        goto done;
    out->tlp = alert->tlp;
    out->nonce.data = malloc(S_NONCE_BYTES);
    out->ciphertext.data = malloc(plain.len + S_TAG_BYTES);
    out->recipients = calloc(n, sizeof *out->recipients);
    if (!out->nonce.data || !out->ciphertext.data || !out->recipients) {
        rc = CDX_ERR_NOMEM;
        goto done;
    }
    out->nonce.len = S_NONCE_BYTES;
    randombytes_buf(out->nonce.data, S_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->ciphertext.data, &clen, plain.data, plain.len,
                                               ad.data, ad.len, NULL, out->nonce.data, key);
    out->ciphertext.len = (size_t)clen;
    out->n_recipients = n;
    for (size_t i = 0; i < n; i++) {
        cdx_recipient *r = &out->recipients[i];
        r->id = cdx__strdup(recipients[i].id);
        r->wrapped_key.data = malloc(S_WRAPPED_BYTES);
        if (!r->id || !r->wrapped_key.data) {
            rc = CDX_ERR_NOMEM;
            goto done;
        }
        r->wrapped_key.len = S_WRAPPED_BYTES;
        if (crypto_box_seal(r->wrapped_key.data, key, S_KEY_BYTES, recipients[i].seal_pk) != 0) {
            rc = cdx_errf(eb, CDX_ERR_INVALID, "cannot wrap the key for %s: bad sealing key",
                          recipients[i].id);
            goto done;
        }
    }
done:
    sodium_free(key);
    if (plain.data)
        sodium_memzero(plain.data, plain.len);
    cdx_bytes_free(&plain);
    cdx_bytes_free(&ad);
    if (rc != CDX_OK)
        cdx_sealed_clear(out);
    return rc;
}

cdx_err cdx_seal_content_key(uint8_t key[CDX_SEAL_KEY_BYTES], const cdx_sealed *sealed,
                             const cdx_identity *me, cdx_errbuf *eb)
{
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    const cdx_recipient *mine = NULL;
    for (size_t i = 0; i < sealed->n_recipients && !mine; i++)
        if (strcmp(sealed->recipients[i].id, cdx_identity_id(me)) == 0)
            mine = &sealed->recipients[i];
    if (!mine)
        return cdx_errf(eb, CDX_ERR_NOT_RECIPIENT, "this alert is not sealed to %s",
                        cdx_identity_id(me));
    if (mine->wrapped_key.len != S_WRAPPED_BYTES)
        return cdx_errf(eb, CDX_ERR_DECRYPT, "sealed alert is malformed");
    /* Wrapped to the key valid when it was sealed: ours, or one a
     * rotation replaced. */
    const cdx_identity *k = me;
    while (k &&
           crypto_box_seal_open(key, mine->wrapped_key.data, S_WRAPPED_BYTES,
                                cdx__identity_seal_public(k), cdx__identity_seal_secret(k)) != 0)
        k = cdx__identity_previous(k);
    if (!k)
        return cdx_errf(eb, CDX_ERR_DECRYPT,
                        "the key wrapped for %s does not open with its sealing key",
                        cdx_identity_id(me));
    return CDX_OK;
}

cdx_err cdx_seal_open_with_key(cdx_alert *out, const cdx_sealed *sealed, const char *sender,
                               uint64_t seq, const char *topic,
                               const uint8_t key[CDX_SEAL_KEY_BYTES], cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    if (sealed->nonce.len != S_NONCE_BYTES || sealed->ciphertext.len < S_TAG_BYTES)
        return cdx_errf(eb, CDX_ERR_DECRYPT, "sealed alert is malformed");
    cdx_err rc = CDX_OK;
    cdx_bytes ad = {0};
    size_t plen = sealed->ciphertext.len - S_TAG_BYTES;
    uint8_t *plain = sodium_malloc(plen + 1);
    if (!plain)
        return CDX_ERR_NOMEM;
    rc = s_ad(&ad, sender, seq, topic, sealed->tlp);
    if (rc != CDX_OK)
        goto done;
    unsigned long long got = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &got, NULL, sealed->ciphertext.data,
                                                   sealed->ciphertext.len, ad.data, ad.len,
                                                   sealed->nonce.data, key) != 0) {
        rc = cdx_errf(eb, CDX_ERR_DECRYPT, "sealed alert fails authentication: altered");
        goto done;
    }
    rc = cdx__alert_decode(out, plain, (size_t)got, eb);
    if (rc == CDX_OK)
        rc = cdx_alert_check(out, eb);
    if (rc == CDX_OK && out->tlp != sealed->tlp)
        rc = cdx_errf(eb, CDX_ERR_POLICY, "sealed label TLP:%s differs from the alert's TLP:%s",
                      cdx_tlp_name(sealed->tlp), cdx_tlp_name(out->tlp));
    if (rc != CDX_OK)
        cdx_alert_clear(out);
done:
    sodium_free(plain);
    cdx_bytes_free(&ad);
    return rc;
}

cdx_err cdx_seal_open(cdx_alert *out, const cdx_sealed *sealed, const char *sender, uint64_t seq,
                      const char *topic, const cdx_identity *me, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    uint8_t *key = sodium_malloc(CDX_SEAL_KEY_BYTES);
    if (!key)
        return cdx__sodium_ready() != CDX_OK ? CDX_ERR_CRYPTO : CDX_ERR_NOMEM;
    cdx_err rc = cdx_seal_content_key(key, sealed, me, eb);
    if (rc == CDX_OK)
        rc = cdx_seal_open_with_key(out, sealed, sender, seq, topic, key, eb);
    sodium_free(key);
    return rc;
}

/* Appends m to the list unless it is there; false if it was. */
static bool s_add_recipient(cdx_member *list, size_t *n, const cdx_member *m)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i].id, m->id) == 0)
            return false;
    list[(*n)++] = *m;
    return true;
}

cdx_err cdx_seal_recipients(const cdx_roster *r, const char *to, uint64_t now_ms, cdx_member **out,
                            size_t *n, cdx_errbuf *eb)
{
    *out = NULL;
    *n = 0;
    if (!to || !to[0])
        return cdx_errf(eb, CDX_ERR_INVALID, "no recipient named");
    bool all = strcmp(to, CDX_SEAL_TO_ALL) == 0 || strcmp(to, "*") == 0;
    size_t cap = all ? cdx_roster_member_count(r) : 1;
    for (const char *p = to; !all && *p; p++)
        cap += *p == ',';
    if (cap > CDX_SEAL_RECIPIENTS_MAX)
        return cdx_errf(eb, CDX_ERR_INVALID, "at most %u recipients", CDX_SEAL_RECIPIENTS_MAX);
    cdx_member *list = calloc(cap ? cap : 1, sizeof *list);
    if (!list)
        return CDX_ERR_NOMEM;
    cdx_err rc = CDX_OK;
    size_t count = 0;
    if (all) {
        for (size_t i = 0; i < cdx_roster_member_count(r); i++) {
            const cdx_member *m = cdx_roster_member_at(r, i);
            if (m->role == CDX_ROLE_STATE && cdx_member_key_valid_at(m, now_ms) == CDX_OK)
                s_add_recipient(list, &count, m);
        }
        if (!count)
            rc = cdx_errf(eb, CDX_ERR_INVALID, "roster v%llu names no state valid now",
                          (unsigned long long)cdx_roster_version(r));
    }
    for (const char *p = to; !all && rc == CDX_OK && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char id[CDX_ID_MAX + 1];
        if (len == 0 || len > CDX_ID_MAX) {
            rc =
                cdx_errf(eb, CDX_ERR_INVALID, "\"%s\" is not a list of member ids (ID,ID,...)", to);
            break;
        }
        memcpy(id, p, len);
        id[len] = '\0';
        /* Wrapped to the key valid then (after a rotation, the new one
         * from its time on). */
        const cdx_member *m = cdx_roster_find_at(r, id, now_ms);
        if (!m)
            m = cdx_roster_find(r, id);
        if (strcmp(id, CDX_SEAL_TO_ALL) == 0 || strcmp(id, "*") == 0)
            rc = cdx_errf(eb, CDX_ERR_INVALID, "\"%s\" stands alone: it names every state already",
                          id);
        else if (!m)
            rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "recipient %s is not in the roster", id);
        else if ((rc = cdx_member_key_valid_at(m, now_ms)) != CDX_OK)
            rc = cdx_errf(eb, rc, "recipient %s %s", id,
                          rc == CDX_ERR_KEY_REVOKED ? "was revoked" : "is not valid now");
        else if (!s_add_recipient(list, &count, m))
            rc = cdx_errf(eb, CDX_ERR_INVALID, "recipient %s is listed twice", id);
        p += len + (end != NULL);
    }
    if (rc != CDX_OK) {
        free(list);
        return rc;
    }
    *out = list;
    *n = count;
    return CDX_OK;
}
