/* libFuzzer target: a stored log entry value, as an attacker with write
 * access to data.mdb could leave it, through exactly the steps
 * cydex-audit takes per entry (lib/audit.c's s_check_one and
 * s_maybe_roster_update for verify, audit/cmd_replay.c for replay):
 * decode; verify the envelope inside as the audit does (header_only,
 * borrowing the entry's bytes, with a batch cache), its leaf hash as the
 * audit computes it; a roster update decoded and verified against the
 * roster in force; then replay's inspect, open and JSON. Nothing may crash
 * or leak. An entry that decodes must encode back to a value that decodes
 * to the same leaf; an envelope the audit's header-only reading accepts
 * and the full reading (the broker's and node's) also accepts must read
 * the same header in both, or the audit and the daemons would disagree on
 * what was logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_fail(const char *what)
{
    fprintf(stderr, "logentry: %s\n", what);
    abort();
}

static bool s_same_header(const cdx_body *a, const cdx_body *b)
{
    return strcmp(a->sender, b->sender) == 0 && a->seq == b->seq &&
           a->sent_at_ms == b->sent_at_ms && a->has_prev_hash == b->has_prev_hash &&
           memcmp(a->prev_hash, b->prev_hash, CDX_HASH_BYTES) == 0 &&
           strcmp(a->topic, b->topic) == 0 && a->kind == b->kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    cdx_log_entry e, again;
    if (cdx_log_entry_decode(&e, data, size, NULL) != CDX_OK)
        return 0;
    uint8_t leaf[CDX_HASH_BYTES], leaf2[CDX_HASH_BYTES];
    cdx_log_entry_leaf_hash(&e, leaf);
    cdx_bytes enc;
    if (cdx_log_entry_encode(&e, &enc) != CDX_OK ||
        cdx_log_entry_decode(&again, enc.data, enc.len, NULL) != CDX_OK)
        s_fail("an entry does not encode back");
    cdx_log_entry_leaf_hash(&again, leaf2);
    if (memcmp(leaf, leaf2, sizeof leaf) != 0)
        s_fail("an entry encoded back hashes to another leaf");
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&again);

    /* verify: s_check_one */
    cdx_batch_cache *cache = cdx_batch_cache_new();
    const cdx_verify_opts audit = {.header_only = true, .borrow = true, .batch_cache = cache};
    cdx_envelope *env = NULL;
    cdx_err rc =
        cdx_envelope_verify(&env, f->roster, e.envelope.data, e.envelope.len, &audit, NULL);
    uint8_t audit_leaf[CDX_HASH_BYTES];
    if (env)
        cdx__log_leaf_hash(&e, cdx_envelope_signer(env), cdx_envelope_hash(env),
                           cdx_envelope_signature(env), audit_leaf);
    else
        cdx_log_entry_leaf_hash(&e, audit_leaf);
    if (rc == CDX_OK && memcmp(audit_leaf, leaf, CDX_HASH_BYTES) != 0)
        s_fail("the audit's leaf of a verified entry is not the entry's leaf");
    /* s_maybe_roster_update */
    if (rc == CDX_OK && cdx_envelope_body(env)->kind == CDX_PAYLOAD_ROSTER) {
        const cdx_body *b = cdx_envelope_body(env);
        cdx_roster *next = NULL;
        if (cdx_roster_decode(&next, b->roster.data, b->roster.len, NULL) == CDX_OK)
            cdx_roster_verify(next, f->roster, NULL);
        cdx_roster_destroy(&next);
    }
    /* The daemons read the whole body; where both accept, one header. */
    cdx_envelope *full = NULL;
    if (rc == CDX_OK &&
        cdx_envelope_verify(&full, f->roster, e.envelope.data, e.envelope.len, NULL, NULL) ==
            CDX_OK &&
        !s_same_header(cdx_envelope_body(env), cdx_envelope_body(full)))
        s_fail("the audit's header-only reading differs from the full one");
    cdx_envelope_destroy(&full);
    cdx_envelope_destroy(&env);
    cdx_batch_cache_destroy(&cache);

    /* replay: inspect, open with a key, JSON */
    if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        cdx_alert opened = {0};
        bool is_open = cdx_envelope_body(env)->kind == CDX_PAYLOAD_SEALED &&
                       cdx_envelope_open(env, f->fr, &opened, NULL) == CDX_OK;
        char *json = NULL;
        if (cdx_json_from_log_entry(&json, &e, env, is_open ? &opened : NULL) == CDX_OK)
            free(json);
        cdx_alert_clear(&opened);
        cdx_envelope_destroy(&env);
    }
    cdx_log_entry_clear(&e);
    return 0;
}
