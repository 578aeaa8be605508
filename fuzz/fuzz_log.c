/* See fuzz_log.h. Everything here is deterministic (no sealed alerts,
 * whose nonces are random), so the seeds generated from one build of the
 * log are rows of any other. */
#include "fuzz_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cydex/log.h"

static void s_die(const char *what, const cdx_errbuf *eb)
{
    fprintf(stderr, "fuzz log: %s: %s\n", what, eb ? eb->msg : "");
    exit(2);
}

/* A verified envelope of body b, signed by who (b is cleared). */
static cdx_envelope *s_sign(const fixture *f, const cdx_identity *who, cdx_body *b,
                            uint8_t hash[CDX_HASH_BYTES])
{
    cdx_bytes raw = {0};
    cdx_envelope *env = NULL;
    cdx_errbuf eb = {0};
    if (cdx_envelope_sign(who, b, &raw, hash, &eb) != CDX_OK ||
        cdx_envelope_verify(&env, f->roster, raw.data, raw.len, NULL, &eb) != CDX_OK)
        s_die("sign", &eb);
    cdx_bytes_free(&raw);
    cdx_body_clear(b);
    return env;
}

static cdx_envelope *s_alert(const fixture *f, const cdx_identity *who, const char *id,
                             uint64_t seq, const uint8_t *prev, const char *title,
                             uint8_t hash[CDX_HASH_BYTES])
{
    cdx_body b;
    fixture_body(&b, id, seq, prev, "alert.health", FIXTURE_T0 + seq * 1000);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 30);
    if (title) {
        free(b.alert.title);
        b.alert.title = malloc(strlen(title) + 1);
        strcpy(b.alert.title, title);
    }
    return s_sign(f, who, &b, hash);
}

void fuzz_log_build(const fixture *f, const char *dir)
{
    enum { S_MAX = 32 };
    cdx_envelope *env[S_MAX];
    bool outbox[S_MAX] = {false};
    size_t n = 0;
    uint8_t h[CDX_HASH_BYTES], ee1[CDX_HASH_BYTES];
    cdx_errbuf eb = {0};

    /* EE 1..3: one batch signature */
    cdx_batch_signer *bs = NULL;
    if (cdx_batch_signer_new(&bs, f->ee) != CDX_OK)
        s_die("batch", NULL);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        cdx_body b;
        fixture_body(&b, "EE", seq, seq > 1 ? h : NULL, "alert.health", FIXTURE_T0 + seq * 1000);
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 20);
        if (cdx_batch_signer_add(bs, f->roster, &b, h, &eb) != CDX_OK)
            s_die("batch add", &eb);
        if (seq == 1)
            memcpy(ee1, h, sizeof h);
        cdx_body_clear(&b);
    }
    if (cdx_batch_signer_finish(bs, env, &eb) != CDX_OK)
        s_die("batch finish", &eb);
    cdx_batch_signer_destroy(&bs);
    n = 3;
    env[n++] = s_alert(f, f->ee, "EE", 4, h, NULL, h);
    uint8_t four[CDX_HASH_BYTES];
    memcpy(four, h, sizeof h);
    env[n++] = s_alert(f, f->ee, "EE", 5, four, "Seq five, first", h);
    env[n++] = s_alert(f, f->ee, "EE", 5, four, "Seq five, second", NULL);
    env[n++] = s_alert(f, f->ee, "EE", 5, four, "Seq five, third", NULL);
    env[n++] = s_alert(f, f->ee, "EE", 6, h, NULL, NULL);

    cdx_body b;
    fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 50000);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, ee1, sizeof ee1);
    b.ack.stage = CDX_ACK_INVESTIGATING;
    env[n++] = s_sign(f, f->fr, &b, h);
    fixture_body(&b, "FR", 2, h, "hb", FIXTURE_T0 + 60000);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    b.heartbeat.last_seq = 1;
    env[n++] = s_sign(f, f->fr, &b, NULL);

    env[n++] = s_alert(f, f->de, "DE", 1, NULL, NULL, h);
    uint8_t lost[CDX_HASH_BYTES] = {0xde};
    env[n++] = s_alert(f, f->de, "DE", 3, lost, NULL, NULL);

    fixture_body(&b, "broker.alpha", 1, NULL, "hb", FIXTURE_T0 + 70000);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    outbox[n] = true;
    env[n++] = s_sign(f, f->broker, &b, NULL);

    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha", .map_initial = 8u << 20};
    if (cdx_log_new(&log, dir, &o, &eb) != CDX_OK)
        s_die("open", &eb);
    cdx_log_append_in in[S_MAX];
    cdx_log_append_out out[S_MAX];
    for (size_t i = 0; i < n; i++)
        in[i] = (cdx_log_append_in){.env = env[i],
                                    .received_at_ms = FIXTURE_T0 + 600000,
                                    .received_from = outbox[i] ? "local" : "broker.beta",
                                    .outbox = outbox[i]};
    if (cdx_log_append(log, in, 5, out, &eb) != CDX_OK ||
        cdx_log_checkpoint(log, f->broker, FIXTURE_T0 + 600000, NULL, &eb) != CDX_OK ||
        cdx_log_append(log, in + 5, n - 5, out, &eb) != CDX_OK ||
        cdx_log_checkpoint(log, f->broker, FIXTURE_T0 + 700000, NULL, &eb) != CDX_OK ||
        cdx_log_count_rejected(log, "bad-signature", 2, &eb) != CDX_OK)
        s_die("append", &eb);
    cdx_bytes roster = {0};
    if (cdx_roster_encode(f->roster, &roster) != CDX_OK ||
        cdx_log_set_roster(log, roster.data, roster.len, &eb) != CDX_OK)
        s_die("roster", &eb);
    cdx_bytes_free(&roster);
    cdx_log_destroy(&log);
    for (size_t i = 0; i < n; i++)
        cdx_envelope_destroy(&env[i]);
}

static char s_tmp[256];

static void s_remove_tmp(void)
{
    if (s_tmp[0])
        fixture_rmtree(s_tmp);
}

void fuzz_log_tmpdir(char out[256])
{
    if (!s_tmp[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(s_tmp, sizeof s_tmp, "%s/cydex-fuzz-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(s_tmp)) {
            perror(s_tmp);
            exit(2);
        }
        atexit(s_remove_tmp);
    }
    snprintf(out, 256, "%s", s_tmp);
}
