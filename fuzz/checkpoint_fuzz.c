/* libFuzzer target: checkpoints (C2SP signed notes of a log's tree head)
 * as they arrive from elsewhere: in proof files, `verify --checkpoint`,
 * stored in a log's heads table. Parse, then verify with the key of the
 * fixture's broker (which signed the seeds). Nothing may crash or leak;
 * and a checkpoint whose signatures verify must have been written in the
 * one canonical form of its fields: its body is exactly the body signing
 * those fields gives (a second text for one signed checkpoint would be a
 * second reading of it), and parsing that canonical text gives the same
 * fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/checkpoint.h"
#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_same(const cdx_checkpoint *a, const cdx_checkpoint *b)
{
    if (strcmp(a->origin, b->origin) != 0 || a->size != b->size ||
        memcmp(a->root, b->root, CDX_HASH_BYTES) != 0 || a->time_s != b->time_s ||
        memcmp(a->sig, b->sig, CDX_SIG_BYTES) != 0 || memcmp(a->cosig, b->cosig, CDX_SIG_BYTES)) {
        fprintf(stderr, "a verified checkpoint reads differently from its canonical text\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    cdx_checkpoint cp;
    if (cdx_checkpoint_parse(&cp, (const char *)data, size, NULL) != CDX_OK)
        return 0;
    const cdx_identity *keys[] = {f->broker, f->beta, f->ee};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cdx_member card;
        cdx_identity_card(keys[i], &card);
        if (cdx_checkpoint_verify(&cp, card.sign_pk, NULL) != CDX_OK)
            continue;
        char *text = NULL;
        if (cdx_checkpoint_sign(&text, cp.origin, cp.size, cp.root, cp.time_s, keys[i]) != CDX_OK)
            abort(); /* what verified can be signed */
        /* The body: the text up to the blank line (three lines). */
        const char *blank = strstr(text, "\n\n");
        size_t body = blank ? (size_t)(blank - text) + 1 : 0;
        if (!body || size <= body || memcmp(data, text, body) != 0 || data[body] != '\n') {
            fprintf(stderr, "a verified checkpoint is not in its canonical form:\n%.*s\n---\n%s",
                    (int)size, (const char *)data, text);
            abort();
        }
        cdx_checkpoint again;
        if (cdx_checkpoint_parse(&again, text, strlen(text), NULL) != CDX_OK)
            abort();
        s_same(&cp, &again);
        free(text);
    }
    return 0;
}
