/* Known-answer vectors for the wire format (tests/vectors/envelopes.json).
 *
 * Each case gives a seed, a body as JSON, and the exact envelope bytes,
 * hash and signature that version 1 must produce. Besides comparing bytes,
 * the test takes the envelope apart with its own few lines of protobuf
 * reading and checks the signing and hashing rules with bare libsodium, so
 * the rules in proto/cydex.proto are checked independently of libcydex;
 * the batch signature rules likewise, on a run of three (test_batch_rules).
 *
 * `vectors_test --write FILE` recomputes the outputs from the inputs (for a
 * deliberate change of wire version only) and prints the new file.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

static fixture F;

static const char *s_get(json_t *c, const char *key)
{
    const char *v = json_string_value(json_object_get(c, key));
    return v ? v : "";
}

static size_t s_varint(const uint8_t *p, size_t len, size_t *at)
{
    size_t v = 0;
    for (int shift = 0; *at < len && shift < 63; shift += 7) {
        uint8_t b = p[(*at)++];
        v |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return (size_t)-1;
}

/* Reads the canonical outer envelope by hand: 08 01 | 12 signer | 1a body | 22 sig. */
static bool s_take_apart(const uint8_t *env, size_t len, const uint8_t **body, size_t *body_len,
                         const uint8_t **sig, char signer[64])
{
    size_t at = 0, n;
    if (len < 4 || env[0] != 0x08 || env[1] != 0x01 || env[2] != 0x12)
        return false;
    at = 3;
    n = s_varint(env, len, &at);
    if (n >= 64 || at + n > len)
        return false;
    memcpy(signer, env + at, n);
    signer[n] = '\0';
    at += n;
    if (at >= len || env[at++] != 0x1a)
        return false;
    n = s_varint(env, len, &at);
    if (at + n > len)
        return false;
    *body = env + at;
    *body_len = n;
    at += n;
    if (at + 2 + 64 != len || env[at] != 0x22 || env[at + 1] != 64)
        return false;
    *sig = env + at + 2;
    return true;
}

static char *s_hex(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    cdx_hex_encode(h, p, n);
    return h;
}

/* Computes one case's outputs; checks them unless `write`. */
static void s_case(json_t *c, bool write)
{
    const char *name = s_get(c, "name");
    uint8_t seed[32];
    REQUIRE(cdx_hex_decode(seed, 32, s_get(c, "seed")) == CDX_OK);
    cdx_identity *who = NULL;
    REQUIRE(cdx_identity_from_seed(&who, s_get(c, "signer"), CDX_ROLE_STATE, seed) == CDX_OK);
    cdx_member card;
    cdx_identity_card(who, &card);
    char *body_json = json_dumps(json_object_get(c, "body"), JSON_PRESERVE_ORDER);
    cdx_body body;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_json_to_body(&body, body_json, strlen(body_json), &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "%s: %s\n", name, eb.msg);
    REQUIRE(rc == CDX_OK);
    cdx_bytes env = {0};
    uint8_t hash[CDX_HASH_BYTES];
    REQUIRE(cdx_envelope_sign(who, &body, &env, hash, NULL) == CDX_OK);
    char *pk_hex = s_hex(card.sign_pk, 32), *env_hex = s_hex(env.data, env.len),
         *hash_hex = s_hex(hash, 32);
    const uint8_t *b, *sig;
    size_t blen;
    char signer[64];
    REQUIRE(s_take_apart(env.data, env.len, &b, &blen, &sig, signer));
    char *sig_hex = s_hex(sig, 64);
    if (write) {
        json_object_set_new(c, "sign_pk", json_string(pk_hex));
        json_object_set_new(c, "envelope", json_string(env_hex));
        json_object_set_new(c, "hash", json_string(hash_hex));
        json_object_set_new(c, "signature", json_string(sig_hex));
    } else {
        printf("%s: %zu bytes\n", name, env.len);
        CHECK_STR(pk_hex, s_get(c, "sign_pk"));
        CHECK_STR(env_hex, s_get(c, "envelope"));
        CHECK_STR(hash_hex, s_get(c, "hash"));
        CHECK_STR(sig_hex, s_get(c, "signature"));
        /* The rules, with bare libsodium. */
        CHECK_STR(signer, s_get(c, "signer"));
        static const char prefix[] = "CyDEx-v1 envelope";
        uint8_t *msg = malloc(sizeof prefix + blen);
        memcpy(msg, prefix, sizeof prefix); /* includes the 0x00 */
        memcpy(msg + sizeof prefix, b, blen);
        CHECK(crypto_sign_verify_detached(sig, msg, sizeof prefix + blen, card.sign_pk) == 0);
        uint8_t h[32];
        crypto_generichash(h, sizeof h, b, blen, NULL, 0);
        CHECK(memcmp(h, hash, 32) == 0);
        free(msg);
        /* And the library verifies the stored bytes. */
        uint8_t stored[4096];
        size_t n = strlen(s_get(c, "envelope")) / 2;
        REQUIRE(n <= sizeof stored && cdx_hex_decode(stored, n, s_get(c, "envelope")) == CDX_OK);
        cdx_envelope *e = NULL;
        CHECK_EQ(cdx_envelope_verify(&e, F.roster, stored, n, NULL, NULL), CDX_OK);
        cdx_envelope_destroy(&e);
    }
    free(pk_hex);
    free(env_hex);
    free(hash_hex);
    free(sig_hex);
    free(body_json);
    cdx_bytes_free(&env);
    cdx_body_clear(&body);
    cdx_identity_destroy(&who);
}

static void s_sha256(uint8_t out[32], uint8_t prefix, const uint8_t *a, const uint8_t *b)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, a, 32);
    if (b)
        crypto_hash_sha256_update(&st, b, 32);
    crypto_hash_sha256_final(&st, out);
}

/* The batch signature rules of proto/cydex.proto, with bare libsodium, on a
 * run of three signed by the library: envelope bytes taken apart by hand
 * (08 01 | 12 signer | 1a body | 2a BatchAuth), the RFC 9162 tree of three
 * leaves computed here, each envelope's path and place as that tree says,
 * and the root's signature over "CyDEx-v1 batch" 0x00 || root || size. */
static void test_batch_rules(void)
{
    cdx_batch_signer *bs = NULL;
    REQUIRE(cdx_batch_signer_new(&bs, F.ee) == CDX_OK);
    uint8_t h[3][32];
    for (uint64_t i = 0; i < 3; i++) {
        cdx_body b;
        fixture_body(&b, "EE", i + 1, i ? h[i - 1] : NULL, "alert.health", FIXTURE_T0 + i);
        fixture_alert(&b.alert, CDX_TLP_GREEN, 50);
        b.kind = CDX_PAYLOAD_ALERT;
        REQUIRE(cdx_batch_signer_add(bs, F.roster, &b, h[i], NULL) == CDX_OK);
        cdx_body_clear(&b);
    }
    cdx_envelope *env[3];
    REQUIRE(cdx_batch_signer_finish(bs, env, NULL) == CDX_OK);
    cdx_batch_signer_destroy(&bs);
    uint8_t leaf[3][32], left[32], root[32];
    for (int i = 0; i < 3; i++)
        s_sha256(leaf[i], 0x00, h[i], NULL);
    s_sha256(left, 0x01, leaf[0], leaf[1]);
    s_sha256(root, 0x01, left, leaf[2]);
    const uint8_t *want_path[3][2] = {{leaf[1], leaf[2]}, {leaf[0], leaf[2]}, {left, NULL}};
    cdx_member ee;
    cdx_identity_card(F.ee, &ee);
    for (int i = 0; i < 3; i++) {
        size_t len, at = 0;
        const uint8_t *p = cdx_envelope_bytes(env[i], &len);
        REQUIRE(len > 8 && p[0] == 0x08 && p[1] == 0x01 && p[2] == 0x12);
        at = 3;
        at += s_varint(p, len, &at);
        REQUIRE(at < len && p[at] == 0x1a);
        at++;
        size_t blen = s_varint(p, len, &at);
        const uint8_t *body = p + at;
        at += blen;
        uint8_t bh[32];
        crypto_generichash(bh, 32, body, blen, NULL, 0);
        CHECK(memcmp(bh, h[i], 32) == 0);
        REQUIRE(at < len && p[at++] == 0x2a);
        size_t alen = s_varint(p, len, &at);
        CHECK_EQ(at + alen, len);
        const uint8_t *a = p + at;
        /* 0a 20 root | 12 40 sig | 18 03 | [20 index] | 2a 20 path... */
        CHECK(a[0] == 0x0a && a[1] == 0x20 && memcmp(a + 2, root, 32) == 0);
        CHECK(a[34] == 0x12 && a[35] == 0x40);
        const uint8_t *sig = a + 36;
        CHECK(a[100] == 0x18 && a[101] == 0x03);
        size_t k = 102;
        if (i > 0) {
            CHECK(a[k] == 0x20 && a[k + 1] == i);
            k += 2;
        }
        for (int j = 0; j < 2 && want_path[i][j]; j++, k += 34)
            CHECK(a[k] == 0x2a && a[k + 1] == 0x20 && memcmp(a + k + 2, want_path[i][j], 32) == 0);
        CHECK_EQ(k, alen);
        static const char prefix[] = "CyDEx-v1 batch";
        uint8_t msg[sizeof prefix + 32 + 8] = {0};
        memcpy(msg, prefix, sizeof prefix); /* includes the 0x00 */
        memcpy(msg + sizeof prefix, root, 32);
        msg[sizeof msg - 1] = 3; /* size, 8 bytes big-endian */
        CHECK(crypto_sign_verify_detached(sig, msg, sizeof msg, ee.sign_pk) == 0);
        cdx_envelope_destroy(&env[i]);
    }
}

int main(int argc, char **argv)
{
    bool write = argc == 3 && strcmp(argv[1], "--write") == 0;
    const char *path = write ? argv[2] : CDX_VECTORS "/envelopes.json";
    fixture_init(&F);
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    REQUIRE(doc != NULL);
    json_t *cases = json_object_get(doc, "cases");
    REQUIRE(json_array_size(cases) >= 4);
    for (size_t i = 0; i < json_array_size(cases); i++)
        s_case(json_array_get(cases, i), write);
    if (write)
        json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!write)
        test_batch_rules();
    fixture_free(&F);
    return write ? 0 : check_done("vectors_test");
}
