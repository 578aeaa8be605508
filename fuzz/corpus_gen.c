/* Writes the seed corpora for the fuzz targets (fuzz/corpus/), from the
 * test fixture's federation, so that fuzzing starts from valid envelopes
 * of every kind. Run once after a wire change: corpus_gen fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_more.h"
#include "cydex/catchup.h"
#include "cydex/receipt.h"
#include "fixture.h"
#include "internal.h"

static const char *s_root;

static void s_put(const char *sub, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", s_root, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void s_env(const fixture *F, const char *name, const cdx_identity *who, cdx_body *b)
{
    cdx_bytes env = {0};
    cdx_errbuf eb = {0};
    if (cdx_envelope_sign(who, b, &env, NULL, &eb) != CDX_OK) {
        fprintf(stderr, "%s: %s\n", name, eb.msg);
        exit(1);
    }
    s_put("envelope", name, env.data, env.len);
    cdx_log_entry e = {.envelope = env, .received_at_ms = FIXTURE_T0, .outcome = CDX_LOG_ACCEPTED};
    strcpy(e.received_from, "broker.alpha");
    cdx_bytes stored;
    if (cdx_log_entry_encode(&e, &stored) == CDX_OK) {
        s_put("logentry", name, stored.data, stored.len);
        cdx_bytes_free(&stored);
    }
    const uint8_t *body;
    size_t body_len;
    if (cdx__outer_body(env.data, env.len, &body, &body_len))
        s_put("canonical", name, body, body_len); /* bodies, for the differential target */
    if (env.len > 20)
        s_put("envelope", "truncated", env.data, env.len - 20);
    cdx_bytes_free(&env);
    char *json = NULL;
    if (cdx_json_from_body(&json, b, false) == CDX_OK) {
        char jname[64];
        snprintf(jname, sizeof jname, "body-%s.json", name);
        s_put("json", jname, json, strlen(json));
        free(json);
    }
    (void)F;
    cdx_body_clear(b);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 64;
    s_root = argv[1];
    fixture F;
    fixture_init(&F);
    corpus_more(&F, s_root);
    uint8_t h[CDX_HASH_BYTES] = {7};
    cdx_body b;

    fixture_body(&b, "EE", 1, NULL, "alert.health", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 60);
    char *json = NULL;
    cdx_json_from_alert(&json, &b.alert, false);
    s_put("json", "alert.json", json, strlen(json));
    free(json);
    s_env(&F, "alert", F.ee, &b);

    fixture_body(&b, "EE", 2, h, "alert.energy", FIXTURE_T0 + 1);
    b.kind = CDX_PAYLOAD_SEALED;
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_AMBER, 40);
    cdx_member to[2];
    cdx_identity_card(F.fr, &to[0]);
    cdx_identity_card(F.de, &to[1]);
    cdx_seal_alert(&b.sealed, &a, "EE", 2, "alert.energy", to, 2, NULL);
    cdx_alert_clear(&a);
    s_env(&F, "sealed", F.ee, &b);

    fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 2);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, h, sizeof h);
    b.ack.stage = CDX_ACK_RECEIVED;
    cdx_json_from_ack(&json, &b.ack, false);
    s_put("json", "ack.json", json, strlen(json));
    free(json);
    s_env(&F, "ack", F.fr, &b);

    fixture_body(&b, "DE", 1, NULL, "hb", FIXTURE_T0 + 3);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    b.heartbeat.last_seq = 0;
    s_env(&F, "heartbeat", F.de, &b);

    fixture_body(&b, "broker.alpha", 1, NULL, "sth", FIXTURE_T0 + 4);
    b.kind = CDX_PAYLOAD_TREE_HEAD;
    b.tree_head.origin = malloc(8);
    strcpy(b.tree_head.origin, "cydex/b");
    b.tree_head.size = 3;
    cdx_bytes head = {0};
    cdx_envelope_sign(F.broker, &b, &head, NULL, NULL);
    s_env(&F, "tree-head", F.broker, &b);
    fixture_body(&b, "FR", 2, h, "sth", FIXTURE_T0 + 5);
    b.kind = CDX_PAYLOAD_WITNESS;
    b.witness = head; /* the body's now */
    s_env(&F, "witness", F.fr, &b);

    cdx_bytes roster = {0};
    cdx_roster_encode(F.roster, &roster);
    s_put("envelope", "roster", roster.data, roster.len);
    fixture_body(&b, "EE", 3, h, "roster", FIXTURE_T0 + 5);
    b.kind = CDX_PAYLOAD_ROSTER;
    b.roster = roster;
    s_env(&F, "roster-payload", F.ee, &b);

    cdx_member card;
    cdx_identity_card(F.ee, &card);
    cdx_json_from_member(&json, &card, false);
    s_put("json", "member.json", json, strlen(json));
    free(json);
    s_put("json", "broken.json", "{\"title\":", 9);
    /* The broker protocol's other messages: a receipt about three
     * envelopes, a catch-up request by cursors, a reply carrying two. */
    {
        cdx_receipt r[3] = {0};
        for (int i = 0; i < 3; i++) {
            strcpy(r[i].broker, "broker.alpha");
            r[i].envelope_hash[0] = (uint8_t)i;
            r[i].status = i == 2 ? CDX_RECEIPT_REJECTED : CDX_RECEIPT_ACCEPTED;
            r[i].log_index = 10 + (uint64_t)i;
            r[i].committed_at_ms = FIXTURE_T0;
        }
        strcpy(r[2].reason, "bad-signature");
        cdx_bytes out;
        if (cdx_receipt_sign_many(r, 3, F.broker, &out) == CDX_OK) {
            s_put("envelope", "receipt-3", out.data, out.len);
            cdx_bytes_free(&out);
        }
        cdx_cursor after[2] = {{.sender = "EE", .last_seq = 4}, {.sender = "FR", .last_seq = 1}};
        cdx_catchup_request q = {.after = after, .n_after = 2, .max_batch = 256};
        if (cdx_catchup_request_encode(&q, &out) == CDX_OK) {
            s_put("envelope", "catchup-request", out.data, out.len);
            cdx_bytes_free(&out);
        }
        cdx_bytes envs[2];
        cdx_catchup_reply rep = {.envelopes = envs, .n = 0, .done = true};
        for (uint64_t seq = 1; seq <= 2; seq++)
            if (fixture_sign_alert(F.ee, seq, seq > 1 ? h : NULL, FIXTURE_T0, 40, &envs[rep.n],
                                   h) == CDX_OK)
                rep.n++;
        if (cdx_catchup_reply_encode(&rep, &out) == CDX_OK) {
            s_put("envelope", "catchup-reply", out.data, out.len);
            cdx_bytes_free(&out);
        }
        for (size_t i = 0; i < rep.n; i++)
            cdx_bytes_free(&envs[i]);
    }
    {
        /* A run of three under one batch signature: the middle one (a
         * path of two hashes, an index), and the same as a log entry. */
        cdx_batch_signer *bs = NULL;
        cdx_envelope *envs[3] = {NULL};
        uint8_t h[CDX_HASH_BYTES];
        bool ok = cdx_batch_signer_new(&bs, F.ee) == CDX_OK;
        for (uint64_t seq = 1; ok && seq <= 3; seq++) {
            cdx_body b;
            fixture_body(&b, "EE", seq, seq > 1 ? h : NULL, "alert.health", FIXTURE_T0 + seq);
            fixture_alert(&b.alert, CDX_TLP_GREEN, 60);
            b.kind = CDX_PAYLOAD_ALERT;
            ok = cdx_batch_signer_add(bs, F.roster, &b, h, NULL) == CDX_OK;
            cdx_body_clear(&b);
        }
        if (!ok || cdx_batch_signer_finish(bs, envs, NULL) != CDX_OK) {
            fprintf(stderr, "batch: could not sign\n");
            return 1;
        }
        size_t len;
        const uint8_t *raw = cdx_envelope_bytes(envs[1], &len);
        s_put("envelope", "batch", raw, len);
        cdx_log_entry e = {.envelope = {(uint8_t *)raw, len},
                           .received_at_ms = FIXTURE_T0,
                           .outcome = CDX_LOG_ACCEPTED};
        strcpy(e.received_from, "broker.alpha");
        cdx_bytes stored;
        if (cdx_log_entry_encode(&e, &stored) == CDX_OK) {
            s_put("logentry", "batch", stored.data, stored.len);
            cdx_bytes_free(&stored);
        }
        for (int i = 0; i < 3; i++)
            cdx_envelope_destroy(&envs[i]);
        cdx_batch_signer_destroy(&bs);
    }
    fixture_free(&F);
    return 0;
}
