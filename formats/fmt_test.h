/* What the formats layer's tests share: its fixture documents, an item
 * made from an envelope a member really signs, and the damaged-document
 * round. Failures here stop the test (REQUIRE); what a test judges comes
 * back for it to CHECK, so that its own tally counts it. */
#ifndef CYDEX_FORMATS_FMT_TEST_H
#define CYDEX_FORMATS_FMT_TEST_H

#include "cydex/formats.h"
#include "fixture.h"

/* formats/testdata/NAME, read whole and NUL-terminated (caller frees). */
char *fmt_test_read(const char *name);

/* An item from the envelope `who` signs of body b (its header set by the
 * caller) carrying `alert` (consumed): sealed to the n_to members `to`
 * (n_to 0: in the clear) and then opened as FR. b is cleared. */
void fmt_test_item(cdx_item *it, const fixture *F, const cdx_identity *who, cdx_body *b,
                   cdx_alert *alert, const cdx_member *to, size_t n_to);

/* 3000 damaged copies of text (bytes changed, cut short; the same damage
 * every run) imported as fmt: how many were refused, and of those how many
 * said no reason or left items behind. */
typedef struct fmt_test_damage {
    unsigned refused, unnamed, leftover;
} fmt_test_damage;
void fmt_test_damaged(cdx_fmt fmt, const char *text, fmt_test_damage *out);

#endif
