/* libFuzzer target, differential: the same body bytes, signed with a real
 * member's key, go to the three readers that must agree.
 *   1. The rule: cdx__canonical_check (proto/cydex.proto, CANONICAL
 *      ENCODING).
 *   2. A plain protobuf-c decode and re-encode: the bytes are canonical
 *      exactly when protobuf-c writes them back unchanged, with no unknown
 *      field kept and every string UTF-8.
 *   3. Acceptance (a full verification, as a broker or a node makes it)
 *      and the audit (the header-only verification cydex-audit makes).
 * It aborts when the rule and protobuf-c disagree either way; when
 * acceptance takes what the audit refuses (one member poisoning every
 * log); when either takes bytes that are not canonical; when the two read
 * another header; or when what acceptance read does not encode back to
 * the very bytes signed. */
#include <stdlib.h>
#include <string.h>

#include "cydex.pb-c.h"
#include "fixture.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No unknown field anywhere, and every string UTF-8. */
static bool s_clean(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields)
        return false;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
        size_t n = 1;
        if (rep)
            memcpy(&n, base + f->quantifier_offset, sizeof n);
        for (size_t j = 0; j < n; j++) {
            void *slot;
            if (rep) {
                char *arr;
                memcpy(&arr, base + f->offset, sizeof arr);
                memcpy(&slot, arr + j * sizeof(void *), sizeof slot);
            } else {
                memcpy(&slot, base + f->offset, sizeof slot);
            }
            if (f->type == PROTOBUF_C_TYPE_STRING && slot && !cdx__utf8_valid(slot))
                return false;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && slot && !s_clean(slot))
                return false;
        }
    }
    return true;
}

/* What protobuf-c makes of the bytes: true when it writes them back. */
static bool s_protobuf_c_canonical(const uint8_t *data, size_t size)
{
    Cydex__V1__Body *m = cydex__v1__body__unpack(NULL, size, data);
    if (!m)
        return false;
    size_t n = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *buf = malloc(n + 1);
    if (!buf)
        abort();
    protobuf_c_message_pack(&m->base, buf);
    bool same = n == size && memcmp(buf, data, size) == 0 && s_clean(&m->base);
    free(buf);
    cydex__v1__body__free_unpacked(m, NULL);
    return same;
}

static bool s_same_header(const cdx_body *a, const cdx_body *b)
{
    return strcmp(a->sender, b->sender) == 0 && strcmp(a->topic, b->topic) == 0 &&
           a->seq == b->seq && a->sent_at_ms == b->sent_at_ms && a->kind == b->kind &&
           a->has_prev_hash == b->has_prev_hash &&
           memcmp(a->prev_hash, b->prev_hash, sizeof a->prev_hash) == 0 &&
           (a->kind != CDX_PAYLOAD_ROSTER ||
            (a->roster.len == b->roster.len &&
             memcmp(a->roster.data, b->roster.data, a->roster.len) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    fixture *f = fixture_static();
    bool rule = cdx__canonical_check(CDX__PB_BODY, data, size, NULL, NULL) == CDX_OK;
    if (rule != s_protobuf_c_canonical(data, size))
        abort();

    uint8_t sig[CDX_SIG_BYTES];
    cdx_bytes env;
    if (cdx_identity_sign(f->ee, "envelope", data, size, sig) != CDX_OK ||
        cdx__outer_encode("EE", data, size, sig, NULL, &env) != CDX_OK)
        abort();
    cdx_envelope *full = NULL, *head = NULL;
    cdx_err a = cdx_envelope_verify(&full, f->roster, env.data, env.len, NULL, NULL);
    cdx_err h = cdx_envelope_verify(&head, f->roster, env.data, env.len,
                                    &(cdx_verify_opts){.header_only = true}, NULL);
    if (a == CDX_OK && h != CDX_OK)
        abort(); /* accepted, then failing every audit */
    if ((a == CDX_OK || h == CDX_OK) && !rule)
        abort();
    if (!rule && (a != CDX_ERR_NONCANONICAL || h != CDX_ERR_NONCANONICAL))
        abort(); /* refused, but not for the reason that holds */
    if (a == CDX_OK) {
        if (!s_same_header(cdx_envelope_body(full), cdx_envelope_body(head)))
            abort();
        cdx_bytes again;
        if (cdx__body_encode(cdx_envelope_body(full), 0, &again) != CDX_OK || again.len != size ||
            memcmp(again.data, data, size) != 0)
            abort(); /* the record read is not what was signed */
        cdx_bytes_free(&again);
    }
    cdx_envelope_destroy(&full);
    cdx_envelope_destroy(&head);
    cdx_bytes_free(&env);
    return 0;
}
