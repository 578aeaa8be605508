/* libFuzzer target: a stored log entry value, as an attacker with write
 * access to data.mdb could leave it, through every step cydex-audit's
 * verify and replay take per entry: decode, leaf hash, decode the envelope
 * inside, verify it, print it as JSON. Nothing may crash or leak; an entry
 * that decodes must encode back to a value that decodes to the same leaf. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        abort();
    cdx_log_entry_leaf_hash(&again, leaf2);
    if (memcmp(leaf, leaf2, sizeof leaf) != 0)
        abort();
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&again);
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        char *json = NULL;
        if (cdx_json_from_log_entry(&json, &e, env, NULL) == CDX_OK)
            free(json);
        cdx_envelope_destroy(&env);
    }
    if (cdx_envelope_verify(&env, f->roster, e.envelope.data, e.envelope.len, NULL, NULL) ==
        CDX_OK) {
        cdx_alert a;
        if (cdx_envelope_open(env, f->fr, &a, NULL) == CDX_OK)
            cdx_alert_clear(&a);
        cdx_envelope_destroy(&env);
    }
    cdx_log_entry_clear(&e);
    return 0;
}
