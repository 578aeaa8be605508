/* libFuzzer target: signed rosters (a roster file, the "roster" topic, a
 * control request, a log's meta row), large ones included (make fuzz
 * gives this target inputs of up to 2 MiB; the seeds hold rosters of
 * thousands of members). Decode, verify as a trust anchor and as the
 * successor of the fixture's roster, look every member up by its id, and
 * encode it back; a roster that decodes must encode to bytes that decode
 * to the same roster. Nothing may crash or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_fail(const char *what)
{
    fprintf(stderr, "roster: %s\n", what);
    abort();
}

static bool s_same(const cdx_member *a, const cdx_member *b)
{
    return strcmp(a->id, b->id) == 0 && a->role == b->role &&
           memcmp(a->sign_pk, b->sign_pk, CDX_PK_BYTES) == 0 &&
           memcmp(a->seal_pk, b->seal_pk, CDX_PK_BYTES) == 0 &&
           memcmp(a->curve_pk, b->curve_pk, CDX_PK_BYTES) == 0 &&
           a->valid_from_ms == b->valid_from_ms && a->valid_until_ms == b->valid_until_ms &&
           a->revoked_at_ms == b->revoked_at_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    cdx_roster *r = NULL, *again = NULL;
    if (cdx_roster_decode(&r, data, size, NULL) != CDX_OK) {
        cdx_roster_destroy(&r);
        return 0;
    }
    cdx_roster_verify(r, NULL, NULL);
    cdx_roster_verify(r, f->roster, NULL);
    size_t n = cdx_roster_member_count(r);
    for (size_t i = 0; i < n; i++) {
        const cdx_member *m = cdx_roster_member_at(r, i);
        const cdx_member *found = m ? cdx_roster_find(r, m->id) : NULL;
        if (!found || strcmp(found->id, m->id) != 0)
            s_fail("a member is not found by its own id");
    }
    for (size_t i = 0; i < cdx_roster_admin_count(r); i++) {
        const uint8_t *pk = NULL;
        if (!cdx_roster_admin_at(r, i, &pk) || !pk)
            s_fail("an admin has no id or key");
    }
    cdx_bytes enc = {0};
    if (cdx_roster_encode(r, &enc) != CDX_OK)
        s_fail("a decoded roster does not encode");
    if (cdx_roster_decode(&again, enc.data, enc.len, NULL) != CDX_OK ||
        cdx_roster_version(again) != cdx_roster_version(r) || cdx_roster_member_count(again) != n ||
        cdx_roster_admin_count(again) != cdx_roster_admin_count(r) ||
        cdx_roster_threshold(again) != cdx_roster_threshold(r) ||
        strcmp(cdx_roster_federation(again), cdx_roster_federation(r)) != 0)
        s_fail("a roster encoded back decodes to another");
    for (size_t i = 0; i < n; i++)
        if (!s_same(cdx_roster_member_at(r, i), cdx_roster_member_at(again, i)))
            s_fail("a member changed in a round trip");
    char *json = NULL;
    if (n < 4096 && cdx_json_from_roster(&json, r, false) == CDX_OK)
        free(json);
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&again);
    cdx_roster_destroy(&r);
    return 0;
}
