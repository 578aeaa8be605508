/* See fmt_test.h. */
#include "fmt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

char *fmt_test_read(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CDX_FORMATS_DATA, name);
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    REQUIRE(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

void fmt_test_item(cdx_item *it, const fixture *F, const cdx_identity *who, cdx_body *b,
                   cdx_alert *alert, const cdx_member *to, size_t n_to)
{
    cdx_errbuf eb = {0};
    if (n_to) {
        b->kind = CDX_PAYLOAD_SEALED;
        REQUIRE(cdx_seal_alert(&b->sealed, alert, b->sender, b->seq, b->topic, to, n_to, &eb) ==
                CDX_OK);
        cdx_alert_clear(alert);
    } else {
        b->kind = CDX_PAYLOAD_ALERT;
        b->alert = *alert;
        memset(alert, 0, sizeof *alert);
    }
    cdx_bytes bytes = {0};
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_sign(who, b, &bytes, NULL, &eb) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&env, F->roster, bytes.data, bytes.len, NULL, &eb) == CDX_OK);
    cdx_alert opened = {0};
    if (n_to)
        REQUIRE(cdx_envelope_open(env, F->fr, &opened, &eb) == CDX_OK);
    REQUIRE(cdx_item_from_envelope(it, env, n_to ? &opened : NULL, true, &eb) == CDX_OK);
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&bytes);
    cdx_body_clear(b);
}

void fmt_test_damaged(cdx_fmt fmt, const char *text, fmt_test_damage *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(text);
    uint32_t x = 2463534242u; /* xorshift: the same damage every run */
    for (int round = 0; round < 3000; round++) {
        char *copy = malloc(len + 1);
        REQUIRE(copy);
        memcpy(copy, text, len + 1);
        int edits = 1 + round % 4;
        for (int k = 0; k < edits; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            copy[x % len] = "{}[]\":,0a \\x"[(x >> 8) % 12];
        }
        size_t cut = round % 7 == 0 ? (x >> 4) % len : len;
        copy[cut] = '\0';
        cdx_items l = {0};
        cdx_errbuf eb = {0};
        if (cdx_fmt_import(fmt, &l, copy, cut, NULL, &eb) != CDX_OK) {
            out->refused++;
            out->unnamed += eb.msg[0] == '\0';
            out->leftover += !(l.n == 0 && l.v == NULL);
        }
        cdx_items_clear(&l);
        free(copy);
    }
}
