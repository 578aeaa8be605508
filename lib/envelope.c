/* Envelopes: signing and the fixed-order verification described in
 * cydex/envelope.h.
 *
 * Invariants: nothing inside the body is decoded before the signature over
 * its exact bytes has verified (cdx_envelope_inspect excepted, which says
 * so), but its sent_at_ms, read in place to choose the signer's card valid
 * then (a member whose keys rotated has one card per key); a verified cdx_envelope holds the bytes
 * it was made from, so what is logged is byte for byte what was verified.
 */
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/envelope.h"
#include "cydex/seal.h"
#include "internal.h"

struct cdx_envelope {
    bool verified;
    bool borrowed; /* raw points at the caller's bytes */
    bool has_batch;
    char signer[CDX_ID_MAX + 1];
    uint8_t hash[CDX_HASH_BYTES];
    uint8_t signature[CDX_SIG_BYTES];
    cdx_batch_info batch;
    cdx_body body;
    cdx_bytes raw;
};

/* "CyDEx-v1 envelope" 0x00, computed once per call: 18 bytes. */
static size_t s_prefix(uint8_t out[CDX__PREFIX_MAX])
{
    return cdx__domain_prefix(out, "envelope");
}

cdx_err cdx__sign_prepare(const cdx_identity *signer, const cdx_body *body, cdx_bytes *buf,
                          size_t *body_at, cdx_errbuf *eb)
{
    cdx_err rc = cdx_body_check(body, eb);
    if (rc != CDX_OK)
        return rc;
    if (strcmp(body->sender, cdx_identity_id(signer)) != 0)
        return cdx_errf(eb, CDX_ERR_SENDER_MISMATCH, "body sender %s is not the signer %s",
                        body->sender, cdx_identity_id(signer));
    uint8_t prefix[CDX__PREFIX_MAX];
    size_t p = s_prefix(prefix);
    rc = cdx__body_encode(body, p, buf);
    if (rc != CDX_OK)
        return rc;
    /* What we sign must pass the check every receiver makes: a string
     * that is not UTF-8, say, is refused here and not by each of them. */
    rc = cdx__canonical_check(CDX__PB_BODY, buf->data + p, buf->len - p, NULL, eb);
    if (rc != CDX_OK) {
        cdx_bytes_free(buf);
        return rc;
    }
    memcpy(buf->data, prefix, p);
    *body_at = p;
    return CDX_OK;
}

cdx_err cdx_envelope_sign(const cdx_identity *signer, const cdx_body *body, cdx_bytes *out,
                          uint8_t hash[CDX_HASH_BYTES], cdx_errbuf *eb)
{
    out->data = NULL;
    out->len = 0;
    cdx_bytes buf;
    size_t p;
    cdx_err rc = cdx__sign_prepare(signer, body, &buf, &p, eb);
    if (rc != CDX_OK)
        return rc;
    uint8_t sig[CDX_SIG_BYTES];
    rc = cdx__sign_raw(signer, buf.data, buf.len, sig);
    if (rc == CDX_OK)
        rc = cdx__outer_encode(cdx_identity_id(signer), buf.data + p, buf.len - p, sig, NULL, out);
    if (rc == CDX_OK && hash)
        cdx_hash(hash, buf.data + p, buf.len - p);
    cdx_bytes_free(&buf);
    return rc;
}

static cdx_err s_new(cdx_envelope **out, const uint8_t *bytes, size_t len, bool borrow)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    if (borrow) {
        (*out)->borrowed = true;
        (*out)->raw.data = (uint8_t *)bytes;
        (*out)->raw.len = len;
        return CDX_OK;
    }
    (*out)->raw.data = malloc(len + 1);
    if (!(*out)->raw.data) {
        free(*out);
        *out = NULL;
        return CDX_ERR_NOMEM;
    }
    memcpy((*out)->raw.data, bytes, len);
    (*out)->raw.len = len;
    return CDX_OK;
}

void cdx_envelope_destroy(cdx_envelope **env)
{
    if (!env || !*env)
        return;
    cdx_body_clear(&(*env)->body);
    if (!(*env)->borrowed)
        cdx_bytes_free(&(*env)->raw);
    free(*env);
    *env = NULL;
}

/* The checks of a header-only decode: the header's, and the TLP rule,
 * whose label (and recipient count) is read from the body bytes without
 * decoding the alert: the audit holds every entry to it, entries logged
 * before the rule included. */
static cdx_err s_check_header_only(const cdx_body *b, const cdx__pb_top *top, cdx_errbuf *eb)
{
    cdx_err rc = cdx__body_check_header(b, eb);
    if (rc != CDX_OK || (b->kind != CDX_PAYLOAD_ALERT && b->kind != CDX_PAYLOAD_SEALED))
        return rc;
    cdx_tlp tlp;
    size_t n;
    if (cdx__body_label(top, &tlp, &n) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "the alert's TLP label cannot be read");
    if (b->kind == CDX_PAYLOAD_ALERT && tlp == CDX_TLP_UNSPECIFIED)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert has no TLP label");
    return cdx__tlp_check(b->kind, tlp, n, NULL, eb);
}

/* Decodes and judges; `roster` NULL means inspect only. `hash`, if not
 * NULL, is the body's hash as cdx_envelope_peek_hash found it in these
 * bytes (the same scan of the outer envelope), not computed again. */
static cdx_err s_open_envelope(cdx_envelope **out, const cdx_roster *roster, const uint8_t *bytes,
                               size_t len, const cdx_verify_opts *opts, const uint8_t *hash,
                               cdx_errbuf *eb)
{
    *out = NULL;
    size_t max = opts && opts->max_size ? opts->max_size : CDX_ENVELOPE_MAX_DEFAULT;
    if (len > max)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "envelope is %zu bytes; the limit is %zu", len, max);
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    uint8_t prefix[CDX__PREFIX_MAX];
    size_t p = s_prefix(prefix);
    cdx__outer outer;
    cdx_err rc = cdx__outer_decode(&outer, bytes, len, p, eb);
    if (rc != CDX_OK)
        return rc;
    const uint8_t *body = outer.buf + p;
    if (outer.version != CDX_WIRE_VERSION) {
        rc = cdx_errf(eb, CDX_ERR_VERSION, "envelope version %u; this node speaks version %u",
                      outer.version, CDX_WIRE_VERSION);
        goto fail;
    }
    if (!outer.has_signature) {
        rc = cdx_errf(eb, CDX_ERR_BAD_SIGNATURE, "envelope carries no signature");
        goto fail;
    }
    /* The body's structure first: one pass, no allocation, nothing
     * interpreted but the encoding, so that what is verified below is
     * bytes with exactly one reading. */
    cdx__pb_top top;
    rc = cdx__canonical_check(CDX__PB_BODY, body, outer.body_len, &top, eb);
    if (rc != CDX_OK)
        goto fail;
    uint8_t body_hash[CDX_HASH_BYTES];
    if (hash)
        memcpy(body_hash, hash, CDX_HASH_BYTES);
    else
        cdx_hash(body_hash, body, outer.body_len);
    const cdx_member *member = NULL;
    if (roster) {
        /* The card valid when the body says it was signed (sent_at, as
         * the canonical check read it); its window is checked below. */
        member = cdx_roster_find_at(roster, outer.signer, top.field[3].v);
        if (!member)
            member = cdx_roster_find(roster, outer.signer);
        if (!member) {
            rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "signer \"%s\" is not in roster version %llu",
                          outer.signer, (unsigned long long)cdx_roster_version(roster));
            goto fail;
        }
        if (outer.has_batch) {
            rc = cdx__batch_check(&outer.batch, member->sign_pk, body_hash,
                                  opts ? opts->batch_cache : NULL);
        } else {
            memcpy(outer.buf, prefix, p);
            rc = cdx__verify_raw(member->sign_pk, outer.buf, p + outer.body_len, outer.signature);
        }
        if (rc != CDX_OK) {
            rc = cdx_errf(eb, rc, "%s of %s does not verify",
                          outer.has_batch ? "batch signature" : "signature", outer.signer);
            goto fail;
        }
    }
    rc = s_new(out, bytes, len, opts && opts->borrow);
    if (rc != CDX_OK)
        goto fail;
    cdx_envelope *env = *out;
    memcpy(env->signer, outer.signer, sizeof env->signer);
    memcpy(env->signature, outer.signature, CDX_SIG_BYTES);
    memcpy(env->hash, body_hash, CDX_HASH_BYTES);
    if (outer.has_batch) {
        env->has_batch = true;
        memcpy(env->batch.root, outer.batch.root, CDX_HASH_BYTES);
        memcpy(env->batch.root_signature, outer.batch.root_signature, CDX_SIG_BYTES);
        env->batch.size = outer.batch.size;
        env->batch.index = outer.batch.index;
    }
    bool header_only = opts && opts->header_only;
    rc = cdx__body_decode(&env->body, body, outer.body_len, &top, header_only, eb);
    if (rc != CDX_OK)
        goto fail;
    if (!roster)
        goto done;

    const cdx_body *b = &env->body;
    if (strcmp(b->sender, outer.signer) != 0) {
        rc = cdx_errf(eb, CDX_ERR_SENDER_MISMATCH, "body sender \"%s\" is not the signer %s",
                      b->sender, outer.signer);
        goto fail;
    }
    rc = cdx_member_key_valid_at(member, b->sent_at_ms);
    if (rc != CDX_OK) {
        char when[CDX_TIME_TEXT_MAX];
        cdx_time_format(when, b->sent_at_ms);
        rc = cdx_errf(eb, rc, "%s's key %s at %s, when seq %llu was signed", b->sender,
                      rc == CDX_ERR_KEY_REVOKED ? "was revoked" : "was not valid", when,
                      (unsigned long long)b->seq);
        goto fail;
    }
    if (opts && opts->topic) {
        /* Byte for byte, length included: a frame "alert.x\0junk" is not
         * the topic "alert.x". */
        size_t tl = opts->topic_len ? opts->topic_len : strlen(opts->topic);
        const uint8_t *signed_topic = top.field[5].data;
        if (tl != top.field[5].len || (tl && memcmp(opts->topic, signed_topic, tl) != 0)) {
            char shown[CDX_TOPIC_MAX + 1];
            size_t k = 0;
            for (size_t i = 0; i < tl && k < CDX_TOPIC_MAX; i++) /* printable, for the log */
                shown[k++] = opts->topic[i] >= 0x20 && opts->topic[i] < 0x7f ? opts->topic[i] : '?';
            shown[k] = '\0';
            rc = cdx_errf(eb, CDX_ERR_TOPIC_MISMATCH,
                          "topic frame \"%s\" (%zu bytes) but signed topic \"%s\"", shown, tl,
                          b->topic);
            goto fail;
        }
    }
    if (opts && opts->now_ms) {
        uint64_t skew = opts->max_skew_ms ? opts->max_skew_ms : CDX_SKEW_DEFAULT_MS;
        uint64_t t = b->sent_at_ms, now = opts->now_ms;
        if ((t > now && t - now > skew) || (now > t && now - t > skew)) {
            rc = cdx_errf(eb, CDX_ERR_CLOCK_SKEW,
                          "sent_at is %lld ms from this clock; the window is %llu ms",
                          (long long)(t - now), (unsigned long long)skew);
            goto fail;
        }
    }
    rc = header_only ? s_check_header_only(b, &top, eb) : cdx_body_check(b, eb);
    if (rc != CDX_OK)
        goto fail;
    env->verified = true;
done:
    cdx__outer_clear(&outer);
    return CDX_OK;
fail:
    cdx__outer_clear(&outer);
    cdx_envelope_destroy(out);
    return rc;
}

cdx_err cdx_envelope_verify(cdx_envelope **out, const cdx_roster *roster, const uint8_t *bytes,
                            size_t len, const cdx_verify_opts *opts, cdx_errbuf *eb)
{
    if (!roster)
        return CDX_ERR_INVALID;
    return s_open_envelope(out, roster, bytes, len, opts, NULL, eb);
}

cdx_err cdx_envelope_peek_hash(const uint8_t *bytes, size_t len, uint8_t out[CDX_HASH_BYTES])
{
    const uint8_t *body;
    size_t body_len;
    if (!cdx__outer_body(bytes, len, &body, &body_len))
        return CDX_ERR_FORMAT;
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    cdx_hash(out, body, body_len);
    return CDX_OK;
}

cdx_err cdx_envelope_inspect(cdx_envelope **out, const uint8_t *bytes, size_t len, cdx_errbuf *eb)
{
    return s_open_envelope(out, NULL, bytes, len, NULL, NULL, eb);
}

cdx_err cdx__own_key_check(const cdx_identity *signer, const cdx_roster *roster,
                           uint64_t sent_at_ms, cdx_errbuf *eb)
{
    const char *id = cdx_identity_id(signer);
    const cdx_member *m = cdx_roster_find_at(roster, id, sent_at_ms);
    if (!m)
        m = cdx_roster_find(roster, id);
    if (!m)
        return cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "signer \"%s\" is not in roster version %llu",
                        id, (unsigned long long)cdx_roster_version(roster));
    cdx_member card;
    cdx_identity_card(signer, &card);
    if (memcmp(card.sign_pk, m->sign_pk, CDX_PK_BYTES) != 0) {
        /* A rotated key: the file's card is another one, not valid now. */
        const cdx_member *const *cards;
        size_t n = cdx_roster_cards(roster, id, &cards);
        for (size_t i = 0; i < n; i++)
            if (memcmp(card.sign_pk, cards[i]->sign_pk, CDX_PK_BYTES) == 0)
                return cdx_errf(eb, CDX_ERR_KEY_NOT_VALID,
                                "%s's key in this file %s now: the roster has rotated it", id,
                                sent_at_ms < cards[i]->valid_from_ms ? "is not valid yet"
                                                                     : "is no longer valid");
        return cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                        "the roster holds another signing key for %s than this key file", id);
    }
    cdx_err rc = cdx_member_key_valid_at(m, sent_at_ms);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "%s's key %s now", id,
                        rc == CDX_ERR_KEY_REVOKED ? "is revoked" : "is not valid");
    return CDX_OK;
}

cdx_err cdx__envelope_own(cdx_envelope **out, const uint8_t *bytes, size_t len, cdx_errbuf *eb)
{
    /* Decoded back from the bytes, so that what is logged is what was
     * signed; the key is the roster's, so the signature needs no check. */
    cdx_err rc = s_open_envelope(out, NULL, bytes, len, NULL, NULL, eb);
    if (rc == CDX_OK)
        (*out)->verified = true;
    return rc;
}

cdx_err cdx_envelope_sign_own(cdx_envelope **out, const cdx_identity *signer,
                              const cdx_roster *roster, const cdx_body *body, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_err rc = cdx__own_key_check(signer, roster, body->sent_at_ms, eb);
    if (rc != CDX_OK)
        return rc;
    cdx_bytes raw;
    rc = cdx_envelope_sign(signer, body, &raw, NULL, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__envelope_own(out, raw.data, raw.len, eb);
    cdx_bytes_free(&raw);
    return rc;
}

static void s_verify_range(void *ctx, size_t from, size_t to)
{
    const cdx_verify_batch *v = ctx;
    cdx_batch_cache *own = from == 0 && v->cache ? NULL : cdx_batch_cache_new();
    cdx_batch_cache *cache = own ? own : v->cache; /* NULL if none could be made: no cache */
    for (size_t i = from; i < to; i++) {
        cdx_verify_job *j = &v->jobs[i];
        cdx_verify_opts o = j->opts;
        o.batch_cache = cache;
        j->env = NULL;
        j->eb = (cdx_errbuf){0};
        j->rc = v->roster ? s_open_envelope(&j->env, v->roster, j->bytes, j->len, &o,
                                            j->hash_known ? j->hash : NULL, &j->eb)
                          : CDX_ERR_INVALID; /* as cdx_envelope_verify */
    }
    cdx_batch_cache_destroy(&own);
}

void cdx_envelope_verify_many(const cdx_verify_batch *v)
{
    cdx__parallel(v->n, v->threads ? v->threads : 1, 4, s_verify_range, (void *)v);
}

bool cdx_envelope_verified(const cdx_envelope *env)
{
    return env->verified;
}
const char *cdx_envelope_signer(const cdx_envelope *env)
{
    return env->signer;
}
const cdx_body *cdx_envelope_body(const cdx_envelope *env)
{
    return &env->body;
}
const uint8_t *cdx_envelope_hash(const cdx_envelope *env)
{
    return env->hash;
}
const uint8_t *cdx_envelope_signature(const cdx_envelope *env)
{
    return env->signature;
}

bool cdx_envelope_batch(const cdx_envelope *env, cdx_batch_info *out)
{
    if (env->has_batch && out)
        *out = env->batch;
    return env->has_batch;
}

const uint8_t *cdx_envelope_bytes(const cdx_envelope *env, size_t *len)
{
    *len = env->raw.len;
    return env->raw.data;
}

cdx_err cdx_envelope_open(const cdx_envelope *env, const cdx_identity *me, cdx_alert *out,
                          cdx_errbuf *eb)
{
    const cdx_body *b = &env->body;
    if (b->kind != CDX_PAYLOAD_SEALED)
        return cdx_errf(eb, CDX_ERR_INVALID, "envelope carries no sealed alert");
    return cdx_seal_open(out, &b->sealed, b->sender, b->seq, b->topic, me, eb);
}
