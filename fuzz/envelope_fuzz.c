/* libFuzzer target: envelope decode + verify + open, roster decode +
 * verify, and the broker protocol's receipts and catch-up requests and
 * replies, on arbitrary bytes. Nothing may crash, leak or read out of
 * bounds; the fixture's roster and keys make valid corpus entries reach
 * the deep paths (verified bodies, sealed alerts). */
#include <stdlib.h>

#include "cydex/catchup.h"
#include "cydex/receipt.h"
#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_exercise(const cdx_envelope *e, const fixture *f)
{
    char *json = NULL;
    if (cdx_json_from_envelope(&json, e, NULL, false) == CDX_OK)
        free(json);
    const cdx_body *b = cdx_envelope_body(e);
    if (b->kind == CDX_PAYLOAD_SEALED) {
        cdx_alert a;
        if (cdx_seal_open(&a, &b->sealed, b->sender, b->seq, b->topic, f->fr, NULL) == CDX_OK)
            cdx_alert_clear(&a);
    }
    if (b->kind == CDX_PAYLOAD_ROSTER) {
        cdx_roster *r = NULL;
        if (cdx_roster_decode(&r, b->roster.data, b->roster.len, NULL) == CDX_OK)
            cdx_roster_verify(r, f->roster, NULL);
        cdx_roster_destroy(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    cdx_envelope *e = NULL;
    cdx_verify_opts o = {.max_size = 256 * 1024, .topic = NULL};
    if (cdx_envelope_verify(&e, f->roster, data, size, &o, NULL) == CDX_OK) {
        s_exercise(e, f);
        cdx_alert a;
        if (cdx_envelope_open(e, f->fr, &a, NULL) == CDX_OK)
            cdx_alert_clear(&a);
    }
    cdx_envelope_destroy(&e);
    if (cdx_envelope_inspect(&e, data, size, NULL) == CDX_OK)
        s_exercise(e, f);
    cdx_envelope_destroy(&e);
    cdx_roster *r = NULL;
    if (cdx_roster_decode(&r, data, size, NULL) == CDX_OK) {
        char *json = NULL;
        cdx_roster_verify(r, NULL, NULL);
        if (cdx_json_from_roster(&json, r, false) == CDX_OK)
            free(json);
    }
    cdx_roster_destroy(&r);
    cdx_receipt *rc = NULL;
    size_t n = 0;
    if (cdx_receipt_verify_many(&rc, &n, f->roster, data, size, NULL) == CDX_OK)
        free(rc);
    cdx_catchup_request q;
    if (cdx_catchup_request_decode(&q, data, size, NULL) == CDX_OK)
        cdx_catchup_request_clear(&q);
    cdx_catchup_reply rep;
    if (cdx_catchup_reply_decode(&rep, data, size, NULL) == CDX_OK) {
        for (size_t i = 0; i < rep.n; i++) { /* as a node handles a reply */
            cdx_envelope *env = NULL;
            if (cdx_envelope_verify(&env, f->roster, rep.envelopes[i].data, rep.envelopes[i].len,
                                    NULL, NULL) == CDX_OK)
                s_exercise(env, f);
            cdx_envelope_destroy(&env);
        }
        cdx_catchup_reply_clear(&rep);
    }
    return 0;
}
