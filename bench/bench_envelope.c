/* Envelope benchmark: sign, verify, seal and open per second for 1 KiB
 * alerts, each beside the bare libsodium primitive it is built on, measured
 * in the same run and reported as a ratio.
 *
 *   sign    cdx_envelope_sign        vs crypto_sign_detached over the same bytes
 *   verify  cdx_envelope_verify      vs crypto_sign_verify_detached
 *   seal    cdx_seal_alert (1 rcpt)  vs XChaCha20-Poly1305 + crypto_box_seal
 *   open    cdx_seal_open            vs crypto_box_seal_open + decrypt
 *
 * Each figure is the best of 5 rounds of about 0.3 s, bare and CyDEx
 * alternating, so that both see the same machine. Usage: bench_envelope
 * [--rounds N]. Prints a table; exits 0. Targets (issue 2): sign and verify
 * within 10% of bare (ratio >= 0.90).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bare.h"
#include "cydex/cydex.h"
#include "internal.h" /* the canonical check, timed alone */

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef void (*s_op)(void *ctx);

/* Ops per second: runs op in batches until ~0.3 s have passed. */
static double s_rate(s_op op, void *ctx)
{
    unsigned long n = 0;
    double t0 = s_now(), t;
    do {
        for (int i = 0; i < 64; i++)
            op(ctx);
        n += 64;
        t = s_now();
    } while (t - t0 < 0.3);
    return (double)n / (t - t0);
}

typedef struct ctx {
    cdx_identity *ee, *fr;
    cdx_roster *roster;
    cdx_body body;
    cdx_bytes env;
    uint8_t *msg;            /* prefix || body, as the envelope signs it */
    const uint8_t *raw_body; /* the envelope's body, in env */
    size_t body_len;
    size_t msg_len;
    uint8_t sig[64], pk[32], sk[64];
    cdx_alert alert;
    cdx_member fr_card;
    cdx_sealed sealed;
    uint8_t plain[2048], cipher[2048 + 16], key[32], nonce[24], wrapped[80];
    size_t plain_len;
    uint8_t box_pk[32], box_sk[32];
} ctx;

static void op_bare_sign(void *p)
{
    ctx *c = p;
    crypto_sign_detached(c->sig, NULL, c->msg, c->msg_len, c->sk);
}
static void op_env_sign(void *p)
{
    ctx *c = p;
    cdx_bytes out;
    if (cdx_envelope_sign(c->ee, &c->body, &out, NULL, NULL) != CDX_OK)
        abort();
    cdx_bytes_free(&out);
}
static void op_bare_verify(void *p)
{
    ctx *c = p;
    if (crypto_sign_verify_detached(c->sig, c->msg, c->msg_len, c->pk) != 0)
        abort();
}
static void op_check(void *p)
{
    ctx *c = p;
    cdx__pb_top top;
    if (cdx__canonical_check(CDX__PB_BODY, c->raw_body, c->body_len, &top, NULL) != CDX_OK)
        abort();
}
static void op_env_verify(void *p)
{
    ctx *c = p;
    cdx_envelope *e = NULL;
    if (cdx_envelope_verify(&e, c->roster, c->env.data, c->env.len, NULL, NULL) != CDX_OK)
        abort();
    cdx_envelope_destroy(&e);
}
static void op_bare_seal(void *p)
{
    ctx *c = p;
    unsigned long long clen;
    randombytes_buf(c->key, 32);
    randombytes_buf(c->nonce, 24);
    crypto_aead_xchacha20poly1305_ietf_encrypt(c->cipher, &clen, c->plain, c->plain_len, NULL, 0,
                                               NULL, c->nonce, c->key);
    crypto_box_seal(c->wrapped, c->key, 32, c->box_pk);
}
static void op_env_seal(void *p)
{
    ctx *c = p;
    cdx_sealed s;
    if (cdx_seal_alert(&s, &c->alert, "EE", 1, "alert.health", &c->fr_card, 1, NULL) != CDX_OK)
        abort();
    cdx_sealed_clear(&s);
}
static void op_bare_open(void *p)
{
    ctx *c = p;
    uint8_t k[32];
    unsigned long long plen;
    if (crypto_box_seal_open(k, c->wrapped, 80, c->box_pk, c->box_sk) != 0 ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(c->plain, &plen, NULL, c->cipher,
                                                   c->plain_len + 16, NULL, 0, c->nonce, k) != 0)
        abort();
}
static void op_env_open(void *p)
{
    ctx *c = p;
    cdx_alert a;
    if (cdx_seal_open(&a, &c->sealed, "EE", 1, "alert.health", c->fr, NULL) != CDX_OK)
        abort();
    cdx_alert_clear(&a);
}

static void s_setup(ctx *c)
{
    memset(c, 0, sizeof *c);
    if (sodium_init() < 0 || cdx_identity_generate(&c->ee, "EE", CDX_ROLE_STATE) != CDX_OK ||
        cdx_identity_generate(&c->fr, "FR", CDX_ROLE_STATE) != CDX_OK ||
        cdx_roster_new(&c->roster, "bench", 1, 0) != CDX_OK)
        abort();
    cdx_member m;
    cdx_identity_card(c->ee, &m);
    cdx_roster_add_member(c->roster, &m, NULL);
    cdx_roster_add_admin(c->roster, "EE", m.sign_pk, NULL);
    cdx_identity_card(c->fr, &c->fr_card);
    cdx_roster_add_member(c->roster, &c->fr_card, NULL);
    cdx_roster_sign(c->roster, NULL, c->ee, NULL);

    /* A 1 KiB alert: the description fills the body up to 1024 bytes. */
    const char *json = "{\"id\":\"6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"tlp\":\"AMBER\","
                       "\"severity\":\"severe\",\"category\":\"ransomware\",\"title\":\"Ransomware "
                       "wave against hospitals\",\"indicators\":[{\"type\":\"ip-dst\",\"value\":"
                       "\"203.0.113.7\"}],\"sectors\":[\"health\"]}";
    if (cdx_json_to_alert(&c->alert, json, strlen(json), NULL) != CDX_OK)
        abort();
    c->body.sender = strdup("EE");
    c->body.topic = strdup("alert.health");
    c->body.seq = 1;
    c->body.sent_at_ms = cdx_now_ms();
    c->body.kind = CDX_PAYLOAD_ALERT;
    cdx_alert_copy(&c->body.alert, &c->alert);
    c->body.alert.tlp = CDX_TLP_GREEN; /* in the clear; the AMBER one is the sealed one */
    for (size_t desc = 0;; desc += 8) {
        free(c->body.alert.description);
        c->body.alert.description = malloc(desc + 1);
        memset(c->body.alert.description, 'x', desc);
        c->body.alert.description[desc] = '\0';
        cdx_bytes_free(&c->env);
        if (cdx_envelope_sign(c->ee, &c->body, &c->env, NULL, NULL) != CDX_OK)
            abort();
        if (c->env.len >= 1024 + 64 + 10)
            break;
    }
    free(c->alert.description);
    c->alert.description = strdup(c->body.alert.description);

    /* The bare primitives sign as many bytes as the envelope signs. The
     * canonical envelope is 08 01 | 12 02 "EE" | 1a <2-byte length> body |
     * 22 40 <64-byte signature>, so the body is 75 bytes shorter. */
    cdx_envelope *e = NULL;
    if (cdx_envelope_verify(&e, c->roster, c->env.data, c->env.len, NULL, NULL) != CDX_OK)
        abort();
    cdx_envelope_destroy(&e);
    if (!cdx__outer_body(c->env.data, c->env.len, &c->raw_body, &c->body_len))
        abort();
    crypto_sign_keypair(c->pk, c->sk);
    static const char prefix[] = "CyDEx-v1 envelope";
    c->msg_len = sizeof prefix + (c->env.len - 75);
    c->msg = malloc(c->msg_len);
    randombytes_buf(c->msg, c->msg_len);
    memcpy(c->msg, prefix, sizeof prefix);
    crypto_sign_detached(c->sig, NULL, c->msg, c->msg_len, c->sk);

    c->plain_len = strlen(c->alert.description) + 150;
    randombytes_buf(c->plain, c->plain_len);
    crypto_box_keypair(c->box_pk, c->box_sk);
    op_bare_seal(c);
    if (cdx_seal_alert(&c->sealed, &c->alert, "EE", 1, "alert.health", &c->fr_card, 1, NULL) !=
        CDX_OK)
        abort();
}

int main(int argc, char **argv)
{
    static const char usage[] = "bench_envelope [--rounds N]";
    int rounds = 5;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") != 0)
            return bench_usage(usage, argv[i]);
        if (!bench_value(argc, argv, &i, true, &v))
            return bench_usage(usage, NULL);
        rounds = atoi(v) > 0 && atoi(v) < 1000 ? atoi(v) : 5;
    }
    ctx c;
    s_setup(&c);
    const struct {
        const char *name;
        s_op bare, env;
        double target;
    } ops[] = {{"sign", op_bare_sign, op_env_sign, 0.90},
               {"verify", op_bare_verify, op_env_verify, 0.90},
               {"seal", op_bare_seal, op_env_seal, 0},
               {"open", op_bare_open, op_env_open, 0}};
    printf("CyDEx envelope benchmark: %zu-byte envelope (1 KiB alert), best of %d rounds\n",
           c.env.len, rounds);
    printf("%-7s %14s %14s %7s %s\n", "op", "bare ops/s", "cydex ops/s", "ratio", "target");
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        double best_bare = 0, best_env = 0;
        for (int r = 0; r < rounds; r++) {
            double b = s_rate(ops[i].bare, &c), e = s_rate(ops[i].env, &c);
            best_bare = b > best_bare ? b : best_bare;
            best_env = e > best_env ? e : best_env;
        }
        double ratio = best_env / best_bare;
        printf("%-7s %14.0f %14.0f %7.3f %s\n", ops[i].name, best_bare, best_env, ratio,
               ops[i].target ? (ratio >= ops[i].target ? ">= 0.90 met" : ">= 0.90 MISSED") : "-");
    }
    printf("(sign/verify bare: Ed25519 over the same %zu bytes; seal/open bare: "
           "XChaCha20-Poly1305 + crypto_box_seal for one recipient)\n",
           c.msg_len);
    /* The share of a verification that the body's canonical check takes
     * (proto/cydex.proto, CANONICAL ENCODING): it runs on every envelope
     * received and on every entry audited. */
    double best_check = 0, best_verify = 0;
    for (int r = 0; r < rounds; r++) {
        double k = s_rate(op_check, &c), bv = s_rate(op_bare_verify, &c);
        best_check = k > best_check ? k : best_check;
        best_verify = bv > best_verify ? bv : best_verify;
    }
    printf("canonical check of the %zu-byte body: %.2f us (%.1f%% of a bare Ed25519 "
           "verification)\n",
           c.body_len, 1e6 / best_check, 100.0 * best_verify / best_check);
    return 0;
}
