/* libFuzzer target: JSON import of alerts, acks, bodies and member cards.
 * Besides not crashing, whatever imports must export and import again to
 * the same JSON (a round trip that loses or invents data aborts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/cydex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_same(char *first, char *second)
{
    if (!first || !second || strcmp(first, second) != 0) {
        fprintf(stderr, "JSON round trip differs:\n%s\n%s\n", first ? first : "(null)",
                second ? second : "(null)");
        abort();
    }
    free(first);
    free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    cdx_alert a, a2;
    if (cdx_json_to_alert(&a, text, size, NULL) == CDX_OK) {
        char *j1 = NULL, *j2 = NULL;
        cdx_json_from_alert(&j1, &a, false);
        if (!j1 || cdx_json_to_alert(&a2, j1, strlen(j1), NULL) != CDX_OK)
            abort();
        cdx_json_from_alert(&j2, &a2, false);
        s_same(j1, j2);
        cdx_alert_clear(&a);
        cdx_alert_clear(&a2);
    }
    cdx_body b, b2;
    if (cdx_json_to_body(&b, text, size, NULL) == CDX_OK) {
        char *j1 = NULL, *j2 = NULL;
        cdx_json_from_body(&j1, &b, false);
        if (!j1 || cdx_json_to_body(&b2, j1, strlen(j1), NULL) != CDX_OK)
            abort();
        cdx_json_from_body(&j2, &b2, false);
        s_same(j1, j2);
        cdx_body_clear(&b);
        cdx_body_clear(&b2);
    }
    cdx_ack k;
    if (cdx_json_to_ack(&k, text, size, NULL) == CDX_OK)
        cdx_ack_clear(&k);
    cdx_member m;
    (void)cdx_json_to_member(&m, text, size, NULL);
    return 0;
}
