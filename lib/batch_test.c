/* Batch signatures: a run of envelopes signed with one signature over the
 * RFC 9162 root of their hashes, each carrying its path.
 *
 * What a receiver must accept (each envelope alone, in any order, with or
 * without a cache of verified roots) and refuse (every single-bit flip, a
 * body moved to another member's place, a root signed by another key, a
 * cached root with another signature, a path cut short, a non-canonical
 * encoding); and what the signer does with runs of one and big bodies. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/json.h"
#include "fixture.h"
#include "internal.h"

static fixture F;

#define RUN 5

static void s_body(cdx_body *b, const char *sender, uint64_t seq, const uint8_t *prev,
                   size_t desc_len)
{
    fixture_body(b, sender, seq, prev, "alert.health", FIXTURE_T0 + seq);
    fixture_alert(&b->alert, CDX_TLP_GREEN, desc_len);
    b->kind = CDX_PAYLOAD_ALERT;
}

/* A chain of n bodies from `who` (sender id), signed as one run. desc[i]
 * gives body i's description length (NULL: 100 each). */
static void s_run(const cdx_identity *who, size_t n, const size_t *desc, cdx_envelope **out,
                  uint8_t (*hash)[CDX_HASH_BYTES])
{
    cdx_batch_signer *bs = NULL;
    REQUIRE(cdx_batch_signer_new(&bs, who) == CDX_OK);
    for (size_t i = 0; i < n; i++) {
        cdx_body b = {0};
        s_body(&b, cdx_identity_id(who), i + 1, i ? hash[i - 1] : NULL, desc ? desc[i] : 100);
        REQUIRE(cdx_batch_signer_add(bs, F.roster, &b, hash[i], NULL) == CDX_OK);
        cdx_body_clear(&b);
    }
    CHECK_EQ(cdx_batch_signer_count(bs), n);
    REQUIRE(cdx_batch_signer_finish(bs, out, NULL) == CDX_OK);
    CHECK_EQ(cdx_batch_signer_count(bs), 0);
    cdx_batch_signer_destroy(&bs);
}

static cdx_err s_verify_raw(const uint8_t *raw, size_t len, cdx_batch_cache *cache)
{
    cdx_envelope *e = NULL;
    cdx_verify_opts o = {.batch_cache = cache};
    cdx_err rc = cdx_envelope_verify(&e, F.roster, raw, len, &o, NULL);
    CHECK((rc == CDX_OK) == (e != NULL));
    cdx_envelope_destroy(&e);
    return rc;
}

static cdx_err s_verify(const cdx_envelope *env, cdx_batch_cache *cache)
{
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env, &len);
    return s_verify_raw(raw, len, cache);
}

/* The envelope's body and auth, as the wire carries them. */
static void s_parts(const cdx_envelope *env, cdx__outer *o)
{
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env, &len);
    REQUIRE(cdx__outer_decode(o, raw, len, 0, NULL) == CDX_OK);
    REQUIRE(o->has_batch);
}

static void test_round_trip(void)
{
    cdx_envelope *env[RUN];
    uint8_t hash[RUN][CDX_HASH_BYTES];
    s_run(F.ee, RUN, NULL, env, hash);
    cdx_batch_info first, bi;
    REQUIRE(cdx_envelope_batch(env[0], &first));
    cdx_batch_cache *cache = cdx_batch_cache_new();
    REQUIRE(cache != NULL);
    for (size_t i = RUN; i-- > 0;) { /* any order */
        CHECK(cdx_envelope_verified(env[i]));
        CHECK(memcmp(cdx_envelope_hash(env[i]), hash[i], CDX_HASH_BYTES) == 0);
        CHECK(cdx_envelope_batch(env[i], &bi));
        CHECK_EQ(bi.size, RUN);
        CHECK_EQ(bi.index, i);
        CHECK(memcmp(bi.root, first.root, CDX_HASH_BYTES) == 0);
        const cdx_body *b = cdx_envelope_body(env[i]);
        CHECK_EQ(b->seq, i + 1);
        CHECK(i == 0 || (b->has_prev_hash && memcmp(b->prev_hash, hash[i - 1], 32) == 0));
        CHECK_EQ(s_verify(env[i], NULL), CDX_OK);
        CHECK_EQ(s_verify(env[i], cache), CDX_OK);
        CHECK_EQ(s_verify(env[i], cache), CDX_OK);
    }
    cdx_batch_cache_destroy(&cache);
    CHECK(cache == NULL);
    /* Its JSON (cydex verify, tail) names the batch and its place in it. */
    char *json = NULL;
    REQUIRE(cdx_json_from_envelope(&json, env[3], NULL, false) == CDX_OK);
    CHECK(strstr(json, "\"batch\":{") != NULL);
    CHECK(strstr(json, "\"size\":5") != NULL && strstr(json, "\"index\":3") != NULL);
    CHECK(strstr(json, "\"signature\"") == NULL);
    free(json);
    for (size_t i = 0; i < RUN; i++)
        cdx_envelope_destroy(&env[i]);
}

/* A run of one is a plain signature; a big body is signed alone and the
 * others of its run still share a root. */
static void test_alone(void)
{
    cdx_envelope *env[3];
    uint8_t hash[3][CDX_HASH_BYTES];
    s_run(F.ee, 1, NULL, env, hash);
    CHECK(!cdx_envelope_batch(env[0], NULL));
    CHECK_EQ(s_verify(env[0], NULL), CDX_OK);
    cdx_envelope_destroy(&env[0]);

    size_t desc[3] = {100, CDX_BATCH_BODY_MAX + 1, 100};
    s_run(F.ee, 3, desc, env, hash);
    cdx_batch_info a, c;
    CHECK(cdx_envelope_batch(env[0], &a));
    CHECK(!cdx_envelope_batch(env[1], NULL));
    CHECK(cdx_envelope_batch(env[2], &c));
    CHECK(a.size == 2 && c.size == 2 && a.index == 0 && c.index == 1);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(s_verify(env[i], NULL), CDX_OK);
        cdx_envelope_destroy(&env[i]);
    }
}

/* Every single-bit flip is refused, also by a receiver whose cache holds
 * the genuine root. */
static void test_every_bit_flip_refused(void)
{
    cdx_envelope *env[3];
    uint8_t hash[3][CDX_HASH_BYTES];
    size_t desc[3] = {40, 40, 40};
    s_run(F.ee, 3, desc, env, hash);
    size_t len;
    const uint8_t *orig = cdx_envelope_bytes(env[1], &len);
    uint8_t *raw = malloc(len);
    REQUIRE(raw != NULL);
    memcpy(raw, orig, len);
    cdx_batch_cache *cache = cdx_batch_cache_new();
    CHECK_EQ(s_verify(env[0], cache), CDX_OK); /* the root, cached */
    size_t accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            raw[i] ^= (uint8_t)(1u << bit);
            if (s_verify_raw(raw, len, NULL) == CDX_OK || s_verify_raw(raw, len, cache) == CDX_OK) {
                accepted++;
                fprintf(stderr, "bit %d of byte %zu flipped and still accepted\n", bit, i);
            }
            raw[i] ^= (uint8_t)(1u << bit);
        }
    CHECK_EQ(accepted, 0);
    CHECK_EQ(s_verify_raw(raw, len, cache), CDX_OK);
    free(raw);
    cdx_batch_cache_destroy(&cache);
    for (size_t i = 0; i < 3; i++)
        cdx_envelope_destroy(&env[i]);
}

static cdx_err s_forge(const char *signer, const cdx__outer *body_of, const cdx__batch_auth *ba,
                       cdx_batch_cache *cache)
{
    cdx_bytes raw = {0};
    REQUIRE(cdx__outer_encode(signer, body_of->buf, body_of->body_len, NULL, ba, &raw) == CDX_OK);
    cdx_err rc = s_verify_raw(raw.data, raw.len, cache);
    cdx_bytes_free(&raw);
    return rc;
}

static void test_forgeries(void)
{
    cdx_envelope *ee[RUN], *fr[RUN];
    uint8_t hash[RUN][CDX_HASH_BYTES];
    s_run(F.ee, RUN, NULL, ee, hash);
    s_run(F.fr, RUN, NULL, fr, hash);
    cdx__outer a, b, f;
    s_parts(ee[1], &a);
    s_parts(ee[2], &b);
    s_parts(fr[1], &f);
    cdx_batch_cache *cache = cdx_batch_cache_new();
    CHECK_EQ(s_forge("EE", &a, &a.batch, cache), CDX_OK); /* re-encoded: the same bytes */
    /* Body 2 in body 1's place, and the other way round. */
    CHECK_EQ(s_forge("EE", &b, &a.batch, cache), CDX_ERR_BAD_SIGNATURE);
    CHECK_EQ(s_forge("EE", &a, &b.batch, NULL), CDX_ERR_BAD_SIGNATURE);
    /* FR's batch auth on EE's body, and FR's whole envelope claimed by EE. */
    CHECK_EQ(s_forge("EE", &a, &f.batch, cache), CDX_ERR_BAD_SIGNATURE);
    CHECK_EQ(s_forge("EE", &f, &f.batch, cache), CDX_ERR_BAD_SIGNATURE);
    /* A root EE signed, cached, with another signature: the cache must
     * not vouch for it (a log keeps the bytes, an audit checks them). */
    cdx__batch_auth other = a.batch;
    other.root_signature[10] ^= 0x40;
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_BAD_SIGNATURE);
    /* The path cut short, made longer, and the index or size moved. */
    other = a.batch;
    other.n_path--;
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_BAD_SIGNATURE);
    other = a.batch;
    memcpy(other.path[other.n_path++], hash[0], CDX_HASH_BYTES);
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_BAD_SIGNATURE);
    other = a.batch;
    other.index = 2;
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_BAD_SIGNATURE);
    other = a.batch;
    other.size = RUN + 1;
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_BAD_SIGNATURE);
    other.index = other.size; /* past the end: not even well formed */
    CHECK_EQ(s_forge("EE", &a, &other, cache), CDX_ERR_FORMAT);
    cdx_batch_cache_destroy(&cache);
    cdx__outer_clear(&a);
    cdx__outer_clear(&b);
    cdx__outer_clear(&f);
    for (size_t i = 0; i < RUN; i++) {
        cdx_envelope_destroy(&ee[i]);
        cdx_envelope_destroy(&fr[i]);
    }
}

/* env's bytes with its BatchAuth field replaced by `ba` (n bytes). */
static size_t s_with_auth(const cdx_envelope *env, const uint8_t *ba, size_t n, uint8_t *out)
{
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env, &len);
    cdx__outer o;
    s_parts(env, &o);
    /* size and index < 128: one byte each; index 0 is left out */
    size_t field = 2 + 32 + 2 + 64 + 2 + (o.batch.index ? 2 : 0) + o.batch.n_path * 34;
    cdx__outer_clear(&o);
    size_t head = len - field - (field < 128 ? 2 : 3);
    memcpy(out, raw, head);
    out[head++] = 0x2a;
    if (n >= 128)
        out[head++] = (uint8_t)(0x80 | (n & 0x7f)), out[head++] = (uint8_t)(n >> 7);
    else
        out[head++] = (uint8_t)n;
    memcpy(out + head, ba, n);
    return head + n;
}

/* BatchAuth has one encoding: an index of 0 written out is malformed, as
 * is a root of 31 bytes. */
static void test_canonical(void)
{
    cdx_envelope *env[2];
    uint8_t hash[2][CDX_HASH_BYTES];
    s_run(F.ee, 2, NULL, env, hash);
    cdx__outer o;
    s_parts(env[0], &o);
    /* 0a 20 root 12 40 sig 18 02 [20 00] 2a 20 path */
    uint8_t ba[2 + 32 + 2 + 64 + 2 + 2 + 2 + 32];
    size_t n = 0;
    ba[n++] = 0x0a, ba[n++] = 0x20;
    memcpy(ba + n, o.batch.root, 32), n += 32;
    ba[n++] = 0x12, ba[n++] = 0x40;
    memcpy(ba + n, o.batch.root_signature, 64), n += 64;
    ba[n++] = 0x18, ba[n++] = 0x02;
    size_t zero_at = n;
    ba[n++] = 0x20, ba[n++] = 0x00;
    ba[n++] = 0x2a, ba[n++] = 0x20;
    memcpy(ba + n, o.batch.path[0], 32), n += 32;
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env[0], &len);
    uint8_t *forged = malloc(len + 64);
    REQUIRE(forged != NULL);
    CHECK_EQ(s_verify_raw(forged, s_with_auth(env[0], ba, n, forged), NULL), CDX_ERR_FORMAT);
    memmove(ba + zero_at, ba + zero_at + 2, n - zero_at - 2); /* without the zero: genuine */
    n -= 2;
    size_t flen = s_with_auth(env[0], ba, n, forged);
    CHECK(flen == len && memcmp(forged, raw, len) == 0);
    CHECK_EQ(s_verify_raw(forged, flen, NULL), CDX_OK);
    ba[1] = 0x1f; /* a root of 31 bytes */
    memmove(ba + 2 + 31, ba + 2 + 32, n - 34);
    CHECK_EQ(s_verify_raw(forged, s_with_auth(env[0], ba, n - 1, forged), NULL), CDX_ERR_FORMAT);
    free(forged);
    cdx__outer_clear(&o);
    cdx_envelope_destroy(&env[0]);
    cdx_envelope_destroy(&env[1]);
}

/* Runs of two senders, mixed, verified on several threads: each judged as
 * alone; the one altered fails. */
static void test_verify_many(void)
{
    enum { N = 2 * RUN };
    cdx_envelope *ee[RUN], *fr[RUN];
    uint8_t hash[RUN][CDX_HASH_BYTES];
    s_run(F.ee, RUN, NULL, ee, hash);
    s_run(F.fr, RUN, NULL, fr, hash);
    cdx_verify_job jobs[N];
    uint8_t *copy[N];
    for (size_t i = 0; i < N; i++) {
        size_t len;
        const uint8_t *raw = cdx_envelope_bytes(i % 2 ? fr[i / 2] : ee[i / 2], &len);
        copy[i] = malloc(len);
        REQUIRE(copy[i] != NULL);
        memcpy(copy[i], raw, len);
        jobs[i] = (cdx_verify_job){.bytes = copy[i], .len = len};
    }
    copy[7][jobs[7].len - 3] ^= 1; /* in FR's last path hash */
    cdx_batch_cache *cache = cdx_batch_cache_new();
    cdx_envelope_verify_many(&(cdx_verify_batch){
        .roster = F.roster, .jobs = jobs, .n = N, .threads = 3, .cache = cache});
    for (size_t i = 0; i < N; i++) {
        CHECK_EQ(jobs[i].rc, i == 7 ? CDX_ERR_BAD_SIGNATURE : CDX_OK);
        cdx_envelope_destroy(&jobs[i].env);
        free(copy[i]);
    }
    cdx_batch_cache_destroy(&cache);
    for (size_t i = 0; i < RUN; i++) {
        cdx_envelope_destroy(&ee[i]);
        cdx_envelope_destroy(&fr[i]);
    }
}

/* The signer refuses what cdx_envelope_sign_own refuses, body by body, and
 * signs the rest. */
static void test_signer_refusals(void)
{
    cdx_batch_signer *bs = NULL;
    REQUIRE(cdx_batch_signer_new(&bs, F.ee) == CDX_OK);
    cdx_body b = {0};
    uint8_t h[CDX_HASH_BYTES];
    s_body(&b, "FR", 1, NULL, 10);
    CHECK_EQ(cdx_batch_signer_add(bs, F.roster, &b, h, NULL), CDX_ERR_SENDER_MISMATCH);
    cdx_body_clear(&b);
    for (uint64_t seq = 1; seq <= CDX_BATCH_MAX; seq++) {
        s_body(&b, "EE", seq, seq > 1 ? h : NULL, 10);
        REQUIRE(cdx_batch_signer_add(bs, F.roster, &b, h, NULL) == CDX_OK);
        cdx_body_clear(&b);
    }
    s_body(&b, "EE", CDX_BATCH_MAX + 1, h, 10);
    CHECK_EQ(cdx_batch_signer_add(bs, F.roster, &b, h, NULL), CDX_ERR_INVALID);
    cdx_body_clear(&b);
    cdx_envelope **env = calloc(CDX_BATCH_MAX, sizeof *env);
    REQUIRE(env != NULL);
    REQUIRE(cdx_batch_signer_finish(bs, env, NULL) == CDX_OK);
    cdx_batch_info bi;
    CHECK(cdx_envelope_batch(env[CDX_BATCH_MAX - 1], &bi) && bi.size == CDX_BATCH_MAX);
    CHECK_EQ(s_verify(env[CDX_BATCH_MAX - 1], NULL), CDX_OK);
    for (size_t i = 0; i < CDX_BATCH_MAX; i++)
        cdx_envelope_destroy(&env[i]);
    free(env);
    cdx_batch_signer_destroy(&bs);
    /* A revoked key signs nothing. */
    REQUIRE(cdx_batch_signer_new(&bs, F.lv) == CDX_OK);
    s_body(&b, "LV", 1, NULL, 10);
    b.sent_at_ms = FIXTURE_T0 + 2 * FIXTURE_HOUR;
    CHECK_EQ(cdx_batch_signer_add(bs, F.roster, &b, h, NULL), CDX_ERR_KEY_REVOKED);
    CHECK_EQ(cdx_batch_signer_count(bs), 0);
    cdx_body_clear(&b);
    cdx_batch_signer_destroy(&bs);
    CHECK(bs == NULL);
}

int main(void)
{
    fixture_init(&F);
    test_round_trip();
    test_alone();
    test_every_bit_flip_refused();
    test_forgeries();
    test_canonical();
    test_verify_many();
    test_signer_refusals();
    fixture_free(&F);
    return check_done("batch_test");
}
