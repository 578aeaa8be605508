/* The protobuf-c door: converts between CyDEx records and the cydex.v1
 * wire schema. No other file includes protobuf-c headers.
 *
 * Encoding borrows the caller's strings and bytes (no copies); decoding
 * copies everything out of protobuf-c's unpacked message, which is freed
 * before returning, so decoded records own all their memory. Decoding is
 * strict: unknown fields anywhere, hashes and keys of the wrong length, and
 * a non-canonical outer envelope are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "cydex.pb-c.h"
#include "cydex/catchup.h"
#include "cydex/receipt.h"
#include "internal.h"

/* protobuf-c wants mutable pointers even where it only reads. */
#define S_STR(s) ((char *)((s) ? (s) : ""))
#define S_BIN(p, n) ((ProtobufCBinaryData){.len = (n), .data = (uint8_t *)(p)})

/* ---- generic helpers ---- */

/* True when m or any message inside it has unknown fields or a string
 * that is not UTF-8. */
static bool s_not_strict(const ProtobufCMessage *m)
{
    if (!m)
        return false;
    if (m->n_unknown_fields)
        return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                size_t n;
                char **arr;
                memcpy(&n, base + f->quantifier_offset, sizeof n);
                memcpy(&arr, base + f->offset, sizeof arr);
                for (size_t j = 0; j < n; j++)
                    if (!cdx__utf8_valid(arr[j]))
                        return true;
            } else {
                const char *str;
                memcpy(&str, base + f->offset, sizeof str);
                if (str && !cdx__utf8_valid(str))
                    return true;
            }
            continue;
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage **arr;
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&arr, base + f->offset, sizeof arr);
            for (size_t j = 0; j < n; j++)
                if (s_not_strict(arr[j]))
                    return true;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        const ProtobufCMessage *sub;
        memcpy(&sub, base + f->offset, sizeof sub);
        if (s_not_strict(sub))
            return true;
    }
    return false;
}

/* Packs any message into a fresh buffer with `headroom` free bytes first. */
static cdx_err s_pack(const ProtobufCMessage *m, size_t headroom, cdx_bytes *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    out->data = malloc(headroom + n + 1);
    if (!out->data)
        return CDX_ERR_NOMEM;
    protobuf_c_message_pack(m, out->data + headroom);
    out->len = headroom + n;
    return CDX_OK;
}

static bool s_copy_bin(cdx_bytes *dst, ProtobufCBinaryData src)
{
    dst->len = 0;
    dst->data = malloc(src.len + 1);
    if (!dst->data)
        return false;
    if (src.len)
        memcpy(dst->data, src.data, src.len);
    dst->len = src.len;
    return true;
}

/* A fixed-size field: exactly n bytes, or (if optional) none. */
static bool s_fixed(uint8_t *dst, ProtobufCBinaryData src, size_t n, bool optional, bool *present)
{
    if (src.len == 0 && optional) {
        if (present)
            *present = false;
        return true;
    }
    if (src.len != n)
        return false;
    memcpy(dst, src.data, n);
    if (present)
        *present = true;
    return true;
}

static bool s_dup(char **dst, const char *src)
{
    *dst = cdx__strdup(src ? src : "");
    return *dst != NULL;
}

static bool s_dup_strv(char ***dst, size_t *n_dst, char **src, size_t n)
{
    *n_dst = 0;
    *dst = n ? calloc(n, sizeof **dst) : NULL;
    if (n && !*dst)
        return false;
    *n_dst = n;
    for (size_t i = 0; i < n; i++)
        if (!s_dup(&(*dst)[i], src[i]))
            return false;
    return true;
}

/* ---- alert ---- */

/* Fills a stack Alert from a record; arrays are allocated into *scratch. */
typedef struct s_alert_pb {
    Cydex__V1__Alert msg;
    Cydex__V1__Indicator *inds;
    Cydex__V1__Indicator **ind_ptrs;
} s_alert_pb;

static cdx_err s_alert_to_pb(s_alert_pb *p, const cdx_alert *a)
{
    cydex__v1__alert__init(&p->msg);
    p->inds = NULL;
    p->ind_ptrs = NULL;
    p->msg.id = S_STR(a->id);
    p->msg.tlp = (Cydex__V1__Tlp)a->tlp;
    p->msg.severity = (Cydex__V1__Severity)a->severity;
    p->msg.category = S_STR(a->category);
    p->msg.title = S_STR(a->title);
    p->msg.description = S_STR(a->description);
    p->msg.n_sectors = a->n_sectors;
    p->msg.sectors = a->sectors;
    p->msg.n_references = a->n_references;
    p->msg.references = a->references;
    p->msg.expires_at_ms = a->expires_at_ms;
    p->msg.status = (Cydex__V1__AlertStatus)a->status;
    p->msg.msg_type = (Cydex__V1__MessageType)a->msg_type;
    p->msg.updates = S_STR(a->updates);
    if (a->n_indicators) {
        p->inds = calloc(a->n_indicators, sizeof *p->inds);
        p->ind_ptrs = calloc(a->n_indicators, sizeof *p->ind_ptrs);
        if (!p->inds || !p->ind_ptrs) {
            free(p->inds);
            free(p->ind_ptrs);
            return CDX_ERR_NOMEM;
        }
        for (size_t i = 0; i < a->n_indicators; i++) {
            cydex__v1__indicator__init(&p->inds[i]);
            p->inds[i].type = S_STR(a->indicators[i].type);
            p->inds[i].value = S_STR(a->indicators[i].value);
            p->inds[i].comment = S_STR(a->indicators[i].comment);
            p->ind_ptrs[i] = &p->inds[i];
        }
        p->msg.n_indicators = a->n_indicators;
        p->msg.indicators = p->ind_ptrs;
    }
    return CDX_OK;
}

static void s_alert_pb_free(s_alert_pb *p)
{
    free(p->inds);
    free(p->ind_ptrs);
}

static cdx_err s_alert_from_pb(cdx_alert *a, const Cydex__V1__Alert *m)
{
    memset(a, 0, sizeof *a);
    a->tlp = (cdx_tlp)m->tlp;
    a->severity = (cdx_severity)m->severity;
    a->expires_at_ms = m->expires_at_ms;
    a->status = (cdx_alert_status)m->status;
    a->msg_type = (cdx_msg_type)m->msg_type;
    bool ok = s_dup(&a->id, m->id) && s_dup(&a->category, m->category) &&
              s_dup(&a->title, m->title) && s_dup(&a->description, m->description) &&
              s_dup(&a->updates, m->updates) &&
              s_dup_strv(&a->sectors, &a->n_sectors, m->sectors, m->n_sectors) &&
              s_dup_strv(&a->references, &a->n_references, m->references, m->n_references);
    if (ok && m->n_indicators) {
        a->indicators = calloc(m->n_indicators, sizeof *a->indicators);
        ok = a->indicators != NULL;
        if (ok)
            a->n_indicators = m->n_indicators;
        for (size_t i = 0; ok && i < m->n_indicators; i++)
            ok = s_dup(&a->indicators[i].type, m->indicators[i]->type) &&
                 s_dup(&a->indicators[i].value, m->indicators[i]->value) &&
                 s_dup(&a->indicators[i].comment, m->indicators[i]->comment);
    }
    if (!ok) {
        cdx_alert_clear(a);
        return CDX_ERR_NOMEM;
    }
    return CDX_OK;
}

cdx_err cdx__alert_encode(const cdx_alert *a, cdx_bytes *out)
{
    s_alert_pb p;
    cdx_err rc = s_alert_to_pb(&p, a);
    if (rc != CDX_OK)
        return rc;
    rc = s_pack(&p.msg.base, 0, out);
    s_alert_pb_free(&p);
    return rc;
}

cdx_err cdx__alert_decode(cdx_alert *out, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    cdx_err rc = cdx__canonical_check(CDX__PB_ALERT, data, len, NULL, eb);
    if (rc != CDX_OK)
        return rc;
    Cydex__V1__Alert *m = cydex__v1__alert__unpack(NULL, len, data);
    if (!m)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert does not decode");
    rc = s_alert_from_pb(out, m);
    cydex__v1__alert__free_unpacked(m, NULL);
    return rc;
}

/* ---- body ---- */

typedef struct s_body_pb {
    Cydex__V1__Body msg;
    s_alert_pb alert;
    Cydex__V1__Ack ack;
    Cydex__V1__Sealed sealed;
    Cydex__V1__Recipient *recips;
    Cydex__V1__Recipient **recip_ptrs;
    Cydex__V1__SignedRoster *roster; /* unpacked from the record's bytes */
    Cydex__V1__TreeHead tree_head;
    Cydex__V1__Heartbeat heartbeat;
    Cydex__V1__Witness witness;
} s_body_pb;

static void s_body_pb_free(s_body_pb *p)
{
    s_alert_pb_free(&p->alert);
    free(p->recips);
    free(p->recip_ptrs);
    if (p->roster)
        cydex__v1__signed_roster__free_unpacked(p->roster, NULL);
}

static cdx_err s_body_to_pb(s_body_pb *p, const cdx_body *b)
{
    memset(p, 0, sizeof *p);
    cydex__v1__body__init(&p->msg);
    p->msg.sender = S_STR(b->sender);
    p->msg.seq = b->seq;
    p->msg.sent_at_ms = b->sent_at_ms;
    if (b->has_prev_hash)
        p->msg.prev_hash = S_BIN(b->prev_hash, CDX_HASH_BYTES);
    p->msg.topic = S_STR(b->topic);
    switch (b->kind) {
    case CDX_PAYLOAD_ALERT: {
        cdx_err rc = s_alert_to_pb(&p->alert, &b->alert);
        if (rc != CDX_OK)
            return rc;
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_ALERT;
        p->msg.alert = &p->alert.msg;
        break;
    }
    case CDX_PAYLOAD_ACK:
        cydex__v1__ack__init(&p->ack);
        p->ack.alert_hash = S_BIN(b->ack.alert_hash, CDX_HASH_BYTES);
        p->ack.alert_id = S_STR(b->ack.alert_id);
        p->ack.stage = (Cydex__V1__AckStage)b->ack.stage;
        p->ack.note = S_STR(b->ack.note);
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_ACK;
        p->msg.ack = &p->ack;
        break;
    case CDX_PAYLOAD_SEALED: {
        const cdx_sealed *s = &b->sealed;
        cydex__v1__sealed__init(&p->sealed);
        p->sealed.tlp = (Cydex__V1__Tlp)s->tlp;
        p->sealed.nonce = S_BIN(s->nonce.data, s->nonce.len);
        p->sealed.ciphertext = S_BIN(s->ciphertext.data, s->ciphertext.len);
        if (s->n_recipients) {
            p->recips = calloc(s->n_recipients, sizeof *p->recips);
            p->recip_ptrs = calloc(s->n_recipients, sizeof *p->recip_ptrs);
            if (!p->recips || !p->recip_ptrs)
                return CDX_ERR_NOMEM;
            for (size_t i = 0; i < s->n_recipients; i++) {
                cydex__v1__recipient__init(&p->recips[i]);
                p->recips[i].id = S_STR(s->recipients[i].id);
                p->recips[i].wrapped_key =
                    S_BIN(s->recipients[i].wrapped_key.data, s->recipients[i].wrapped_key.len);
                p->recip_ptrs[i] = &p->recips[i];
            }
            p->sealed.n_recipients = s->n_recipients;
            p->sealed.recipients = p->recip_ptrs;
        }
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_SEALED;
        p->msg.sealed = &p->sealed;
        break;
    }
    case CDX_PAYLOAD_ROSTER:
        p->roster = cydex__v1__signed_roster__unpack(NULL, b->roster.len, b->roster.data);
        if (!p->roster)
            return CDX_ERR_FORMAT;
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_ROSTER;
        p->msg.roster = p->roster;
        break;
    case CDX_PAYLOAD_TREE_HEAD:
        cydex__v1__tree_head__init(&p->tree_head);
        p->tree_head.origin = S_STR(b->tree_head.origin);
        p->tree_head.size = b->tree_head.size;
        p->tree_head.root = S_BIN(b->tree_head.root, CDX_HASH_BYTES);
        p->tree_head.timestamp_ms = b->tree_head.timestamp_ms;
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_TREE_HEAD;
        p->msg.tree_head = &p->tree_head;
        break;
    case CDX_PAYLOAD_HEARTBEAT:
        cydex__v1__heartbeat__init(&p->heartbeat);
        p->heartbeat.last_seq = b->heartbeat.last_seq;
        if (b->heartbeat.has_last_hash)
            p->heartbeat.last_hash = S_BIN(b->heartbeat.last_hash, CDX_HASH_BYTES);
        p->heartbeat.interval_ms = b->heartbeat.interval_ms;
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_HEARTBEAT;
        p->msg.heartbeat = &p->heartbeat;
        break;
    case CDX_PAYLOAD_WITNESS:
        cydex__v1__witness__init(&p->witness);
        p->witness.head = S_BIN(b->witness.data, b->witness.len);
        p->msg.payload_case = CYDEX__V1__BODY__PAYLOAD_WITNESS;
        p->msg.witness = &p->witness;
        break;
    case CDX_PAYLOAD_NONE:
    default: return CDX_ERR_INVALID;
    }
    return CDX_OK;
}

cdx_err cdx__body_encode(const cdx_body *b, size_t headroom, cdx_bytes *out)
{
    s_body_pb p;
    cdx_err rc = s_body_to_pb(&p, b);
    if (rc == CDX_OK)
        rc = s_pack(&p.msg.base, headroom, out);
    s_body_pb_free(&p);
    return rc;
}

static cdx_err s_sealed_from_pb(cdx_sealed *s, const Cydex__V1__Sealed *m, cdx_errbuf *eb)
{
    s->tlp = (cdx_tlp)m->tlp;
    if (!s_copy_bin(&s->nonce, m->nonce) || !s_copy_bin(&s->ciphertext, m->ciphertext))
        return CDX_ERR_NOMEM;
    if (m->n_recipients) {
        s->recipients = calloc(m->n_recipients, sizeof *s->recipients);
        if (!s->recipients)
            return CDX_ERR_NOMEM;
        s->n_recipients = m->n_recipients;
        for (size_t i = 0; i < m->n_recipients; i++)
            if (!s_dup(&s->recipients[i].id, m->recipients[i]->id) ||
                !s_copy_bin(&s->recipients[i].wrapped_key, m->recipients[i]->wrapped_key))
                return CDX_ERR_NOMEM;
    }
    (void)eb;
    return CDX_OK;
}

static cdx_err s_body_from_pb(cdx_body *b, const Cydex__V1__Body *m, cdx_errbuf *eb)
{
    if (!s_dup(&b->sender, m->sender) || !s_dup(&b->topic, m->topic))
        return CDX_ERR_NOMEM;
    b->seq = m->seq;
    b->sent_at_ms = m->sent_at_ms;
    if (!s_fixed(b->prev_hash, m->prev_hash, CDX_HASH_BYTES, true, &b->has_prev_hash))
        return cdx_errf(eb, CDX_ERR_FORMAT, "prev_hash is not 32 bytes");
    switch (m->payload_case) {
    case CYDEX__V1__BODY__PAYLOAD_ALERT:
        b->kind = CDX_PAYLOAD_ALERT;
        return s_alert_from_pb(&b->alert, m->alert);
    case CYDEX__V1__BODY__PAYLOAD_ACK:
        b->kind = CDX_PAYLOAD_ACK;
        if (!s_fixed(b->ack.alert_hash, m->ack->alert_hash, CDX_HASH_BYTES, false, NULL))
            return cdx_errf(eb, CDX_ERR_FORMAT, "ack alert_hash is not 32 bytes");
        b->ack.stage = (cdx_ack_stage)m->ack->stage;
        if (!s_dup(&b->ack.alert_id, m->ack->alert_id) || !s_dup(&b->ack.note, m->ack->note))
            return CDX_ERR_NOMEM;
        return CDX_OK;
    case CYDEX__V1__BODY__PAYLOAD_SEALED:
        b->kind = CDX_PAYLOAD_SEALED;
        return s_sealed_from_pb(&b->sealed, m->sealed, eb);
    case CYDEX__V1__BODY__PAYLOAD_ROSTER:
        b->kind = CDX_PAYLOAD_ROSTER;
        return s_pack(&m->roster->base, 0, &b->roster);
    case CYDEX__V1__BODY__PAYLOAD_TREE_HEAD:
        b->kind = CDX_PAYLOAD_TREE_HEAD;
        b->tree_head.size = m->tree_head->size;
        b->tree_head.timestamp_ms = m->tree_head->timestamp_ms;
        if (!s_fixed(b->tree_head.root, m->tree_head->root, CDX_HASH_BYTES, false, NULL))
            return cdx_errf(eb, CDX_ERR_FORMAT, "tree head root is not 32 bytes");
        return s_dup(&b->tree_head.origin, m->tree_head->origin) ? CDX_OK : CDX_ERR_NOMEM;
    case CYDEX__V1__BODY__PAYLOAD_HEARTBEAT:
        b->kind = CDX_PAYLOAD_HEARTBEAT;
        b->heartbeat.last_seq = m->heartbeat->last_seq;
        b->heartbeat.interval_ms = m->heartbeat->interval_ms;
        if (!s_fixed(b->heartbeat.last_hash, m->heartbeat->last_hash, CDX_HASH_BYTES, true,
                     &b->heartbeat.has_last_hash))
            return cdx_errf(eb, CDX_ERR_FORMAT, "heartbeat last_hash is not 32 bytes");
        return CDX_OK;
    case CYDEX__V1__BODY__PAYLOAD_WITNESS:
        b->kind = CDX_PAYLOAD_WITNESS;
        return s_copy_bin(&b->witness, m->witness->head) ? CDX_OK : CDX_ERR_NOMEM;
    case CYDEX__V1__BODY__PAYLOAD__NOT_SET:
    default: return cdx_errf(eb, CDX_ERR_FORMAT, "body carries no payload");
    }
}

/* The body's header, read off the canonical check's own pass: the same
 * fields every full decode reads, so the audit (which decodes headers
 * only) and acceptance cannot read one body two ways. */
static cdx_err s_body_from_top(cdx_body *b, const cdx__pb_top *t, cdx_errbuf *eb)
{
    static const cdx_payload_kind kinds[] = {
        [10] = CDX_PAYLOAD_ALERT,   [11] = CDX_PAYLOAD_ACK,       [12] = CDX_PAYLOAD_SEALED,
        [13] = CDX_PAYLOAD_ROSTER,  [14] = CDX_PAYLOAD_TREE_HEAD, [15] = CDX_PAYLOAD_HEARTBEAT,
        [16] = CDX_PAYLOAD_WITNESS,
    };
    const cdx__pb_value *f = t->field;
    b->sender = malloc(f[1].len + 1);
    b->topic = malloc(f[5].len + 1);
    if (!b->sender || !b->topic)
        return CDX_ERR_NOMEM;
    if (f[1].len)
        memcpy(b->sender, f[1].data, f[1].len);
    b->sender[f[1].len] = '\0';
    if (f[5].len)
        memcpy(b->topic, f[5].data, f[5].len);
    b->topic[f[5].len] = '\0';
    b->seq = f[2].v;
    b->sent_at_ms = f[3].v;
    if (t->present[4]) {
        if (f[4].len != CDX_HASH_BYTES)
            return cdx_errf(eb, CDX_ERR_FORMAT, "prev_hash is not 32 bytes");
        memcpy(b->prev_hash, f[4].data, CDX_HASH_BYTES);
        b->has_prev_hash = true;
    }
    if (t->oneof < sizeof kinds / sizeof kinds[0])
        b->kind = kinds[t->oneof];
    if (b->kind == CDX_PAYLOAD_NONE)
        return cdx_errf(eb, CDX_ERR_FORMAT, "body carries no payload");
    if (b->kind == CDX_PAYLOAD_ROSTER) {
        const cdx__pb_value *r = &f[13];
        b->roster.data = malloc(r->len + 1);
        if (!b->roster.data)
            return CDX_ERR_NOMEM;
        if (r->len)
            memcpy(b->roster.data, r->data, r->len);
        b->roster.len = r->len;
    }
    return CDX_OK;
}

cdx_err cdx__body_decode(cdx_body *out, const uint8_t *data, size_t len, const cdx__pb_top *checked,
                         bool header_only, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    cdx__pb_top top;
    if (!checked) {
        cdx_err rc = cdx__canonical_check(CDX__PB_BODY, data, len, &top, eb);
        if (rc != CDX_OK)
            return rc;
        checked = &top;
    }
    cdx_err rc;
    if (header_only) {
        rc = s_body_from_top(out, checked, eb);
    } else {
        Cydex__V1__Body *m = cydex__v1__body__unpack(NULL, len, data);
        rc = m ? s_body_from_pb(out, m, eb) : cdx_errf(eb, CDX_ERR_FORMAT, "body does not decode");
        if (m)
            cydex__v1__body__free_unpacked(m, NULL);
    }
    if (rc != CDX_OK)
        cdx_body_clear(out);
    return rc;
}

/* ---- outer envelope ---- */

cdx_err cdx__outer_encode(const char *signer, const uint8_t *body, size_t body_len,
                          const uint8_t sig[CDX_SIG_BYTES], const cdx__batch_auth *ba,
                          cdx_bytes *out)
{
    Cydex__V1__Envelope m;
    cydex__v1__envelope__init(&m);
    m.version = CDX_WIRE_VERSION;
    m.signer = S_STR(signer);
    m.body = S_BIN(body, body_len);
    if (!ba) {
        m.auth_case = CYDEX__V1__ENVELOPE__AUTH_SIGNATURE;
        m.signature = S_BIN(sig, CDX_SIG_BYTES);
        return s_pack(&m.base, 0, out);
    }
    if (ba->n_path > CDX__BATCH_PATH_MAX)
        return CDX_ERR_INVALID;
    Cydex__V1__BatchAuth b;
    ProtobufCBinaryData path[CDX__BATCH_PATH_MAX];
    cydex__v1__batch_auth__init(&b);
    b.root = S_BIN(ba->root, CDX_HASH_BYTES);
    b.root_signature = S_BIN(ba->root_signature, CDX_SIG_BYTES);
    b.size = ba->size;
    b.index = ba->index;
    for (size_t i = 0; i < ba->n_path; i++)
        path[i] = S_BIN(ba->path[i], CDX_HASH_BYTES);
    b.n_path = ba->n_path;
    b.path = path;
    m.auth_case = CYDEX__V1__ENVELOPE__AUTH_BATCH;
    m.batch = &b;
    return s_pack(&m.base, 0, out);
}

void cdx__outer_clear(cdx__outer *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* The outer envelope is read by hand rather than through protobuf-c: it has
 * four fields, its canonical form is one fixed layout, and reading it in
 * place costs neither a copy nor a re-encoding to check canonicity:
 *   08 <version> | 12 <len> signer | 1a <len> body | 22 40 <signature>
 *                                                  | 2a <len> BatchAuth
 * Each field appears at most once, in this order, and is omitted exactly
 * when protobuf omits it (a zero version, an empty string or body). */
/* The outer envelope's fields, where they lie in data: canonical encoding
 * or false. */
typedef struct s_outer_fields {
    uint64_t version;
    const uint8_t *signer, *body, *sig, *batch;
    size_t signer_len, body_len, sig_len, batch_len;
} s_outer_fields;

static bool s_outer_scan(s_outer_fields *f, const uint8_t *data, size_t len)
{
    memset(f, 0, sizeof *f);
    size_t at = 0;
    bool ok = true;
    if (ok && at < len && data[at] == 0x08) {
        at++;
        ok = cdx__pb_varint(data, len, &at, &f->version) && f->version != 0 &&
             f->version <= UINT32_MAX;
    }
    if (ok && at < len && data[at] == 0x12) {
        at++;
        ok = cdx__pb_bytes(data, len, &at, &f->signer, &f->signer_len) && f->signer_len > 0;
    }
    if (ok && at < len && data[at] == 0x1a) {
        at++;
        ok = cdx__pb_bytes(data, len, &at, &f->body, &f->body_len) && f->body_len > 0;
    }
    if (ok && at < len && data[at] == 0x22) {
        at++;
        ok = cdx__pb_bytes(data, len, &at, &f->sig, &f->sig_len);
    } else if (ok && at < len && data[at] == 0x2a) {
        at++;
        ok = cdx__pb_bytes(data, len, &at, &f->batch, &f->batch_len);
    }
    return ok && at == len;
}

/* BatchAuth in its one canonical layout:
 *   0a 20 root | 12 40 root_signature | 18 <size> | 20 <index> | (2a 20 hash)*
 * size is at least 1 (so present); index is omitted when 0; at most
 * CDX__BATCH_PATH_MAX path hashes. Whether the path fits (index, size) is
 * the proof's check, not the encoding's. */
static bool s_batch_scan(cdx__batch_auth *ba, const uint8_t *data, size_t len)
{
    memset(ba, 0, sizeof *ba);
    size_t at = 0, n;
    const uint8_t *v;
    if (at >= len || data[at++] != 0x0a || !cdx__pb_bytes(data, len, &at, &v, &n) ||
        n != CDX_HASH_BYTES)
        return false;
    memcpy(ba->root, v, n);
    if (at >= len || data[at++] != 0x12 || !cdx__pb_bytes(data, len, &at, &v, &n) ||
        n != CDX_SIG_BYTES)
        return false;
    memcpy(ba->root_signature, v, n);
    if (at >= len || data[at++] != 0x18 || !cdx__pb_varint(data, len, &at, &ba->size) ||
        ba->size == 0)
        return false;
    if (at < len && data[at] == 0x20) {
        at++;
        if (!cdx__pb_varint(data, len, &at, &ba->index) || ba->index == 0)
            return false;
    }
    while (at < len) {
        if (data[at++] != 0x2a || ba->n_path == CDX__BATCH_PATH_MAX ||
            !cdx__pb_bytes(data, len, &at, &v, &n) || n != CDX_HASH_BYTES)
            return false;
        memcpy(ba->path[ba->n_path++], v, n);
    }
    return ba->index < ba->size;
}

cdx_err cdx__outer_decode(cdx__outer *out, const uint8_t *data, size_t len, size_t headroom,
                          cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    s_outer_fields f;
    if (!s_outer_scan(&f, data, len))
        return cdx_errf(eb, CDX_ERR_FORMAT, "envelope is not canonically encoded");
    out->version = (uint32_t)f.version;
    if (f.signer_len > CDX_ID_MAX || (f.signer && memchr(f.signer, 0, f.signer_len)))
        return cdx_errf(eb, CDX_ERR_FORMAT, "signer id is too long or not text");
    if (f.signer)
        memcpy(out->signer, f.signer, f.signer_len);
    out->signer[f.signer_len] = '\0';
    if (f.sig) {
        if (f.sig_len != CDX_SIG_BYTES)
            return cdx_errf(eb, CDX_ERR_FORMAT, "signature is %zu bytes, not 64", f.sig_len);
        out->has_signature = true;
        memcpy(out->signature, f.sig, CDX_SIG_BYTES);
    }
    if (f.batch) {
        if (!s_batch_scan(&out->batch, f.batch, f.batch_len))
            return cdx_errf(eb, CDX_ERR_FORMAT, "batch signature is malformed or not canonical");
        out->has_batch = true;
        out->has_signature = true;
        cdx__digest64(out->signature, "batch-auth", f.batch, f.batch_len);
    }
    out->buf = malloc(headroom + f.body_len + 1);
    if (!out->buf)
        return CDX_ERR_NOMEM;
    if (f.body_len)
        memcpy(out->buf + headroom, f.body, f.body_len);
    out->body_len = f.body_len;
    return CDX_OK;
}

bool cdx__outer_body(const uint8_t *data, size_t len, const uint8_t **body, size_t *body_len)
{
    s_outer_fields f;
    if (!s_outer_scan(&f, data, len) || !f.body)
        return false;
    *body = f.body;
    *body_len = f.body_len;
    return true;
}

/* ---- roster ---- */

void cdx__roster_data_clear(cdx__roster_data *d)
{
    if (!d)
        return;
    free(d->federation);
    free(d->members);
    free(d->admins);
    memset(d, 0, sizeof *d);
}

cdx_err cdx__roster_data_encode(const cdx__roster_data *d, cdx_bytes *out)
{
    Cydex__V1__Roster m;
    cydex__v1__roster__init(&m);
    m.federation = S_STR(d->federation);
    m.version = d->version;
    m.issued_at_ms = d->issued_at_ms;
    m.threshold = d->threshold;
    Cydex__V1__Member *mem = calloc(d->n_members + 1, sizeof *mem);
    Cydex__V1__Member **mem_p = calloc(d->n_members + 1, sizeof *mem_p);
    Cydex__V1__AdminKey *adm = calloc(d->n_admins + 1, sizeof *adm);
    Cydex__V1__AdminKey **adm_p = calloc(d->n_admins + 1, sizeof *adm_p);
    cdx_err rc = CDX_ERR_NOMEM;
    if (!mem || !mem_p || !adm || !adm_p)
        goto done;
    for (size_t i = 0; i < d->n_members; i++) {
        const cdx_member *s = &d->members[i];
        cydex__v1__member__init(&mem[i]);
        mem[i].id = S_STR(s->id);
        mem[i].role = (Cydex__V1__Role)s->role;
        mem[i].sign_pk = S_BIN(s->sign_pk, CDX_PK_BYTES);
        mem[i].seal_pk = S_BIN(s->seal_pk, CDX_PK_BYTES);
        mem[i].curve_pk = S_BIN(s->curve_pk, CDX_PK_BYTES);
        mem[i].valid_from_ms = s->valid_from_ms;
        mem[i].valid_until_ms = s->valid_until_ms;
        mem[i].revoked_at_ms = s->revoked_at_ms;
        mem_p[i] = &mem[i];
    }
    for (size_t i = 0; i < d->n_admins; i++) {
        cydex__v1__admin_key__init(&adm[i]);
        adm[i].id = S_STR(d->admins[i].id);
        adm[i].sign_pk = S_BIN(d->admins[i].sign_pk, CDX_PK_BYTES);
        adm_p[i] = &adm[i];
    }
    m.n_members = d->n_members;
    m.members = mem_p;
    m.n_admins = d->n_admins;
    m.admins = adm_p;
    rc = s_pack(&m.base, 0, out);
done:
    free(mem);
    free(mem_p);
    free(adm);
    free(adm_p);
    return rc;
}

cdx_err cdx__roster_data_decode(cdx__roster_data *out, const uint8_t *data, size_t len,
                                bool checked, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    /* Admins sign these very bytes: one reading for every member. */
    cdx_err rc = checked ? CDX_OK : cdx__canonical_check(CDX__PB_ROSTER, data, len, NULL, eb);
    if (rc != CDX_OK)
        return rc;
    Cydex__V1__Roster *m = cydex__v1__roster__unpack(NULL, len, data);
    if (!m)
        return cdx_errf(eb, CDX_ERR_FORMAT, "roster does not decode");
    if (s_not_strict(&m->base)) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                      "roster carries unknown fields or a string that is not UTF-8");
        goto done;
    }
    out->version = m->version;
    out->issued_at_ms = m->issued_at_ms;
    out->threshold = m->threshold;
    out->federation = cdx__strdup(m->federation);
    out->members = calloc(m->n_members + 1, sizeof *out->members);
    out->admins = calloc(m->n_admins + 1, sizeof *out->admins);
    if (!out->federation || !out->members || !out->admins) {
        rc = CDX_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < m->n_members; i++) {
        const Cydex__V1__Member *s = m->members[i];
        cdx_member *d = &out->members[i];
        if (!cdx__copy_id(d->id, s->id) ||
            !s_fixed(d->sign_pk, s->sign_pk, CDX_PK_BYTES, false, NULL) ||
            !s_fixed(d->seal_pk, s->seal_pk, CDX_PK_BYTES, false, NULL) ||
            !s_fixed(d->curve_pk, s->curve_pk, CDX_PK_BYTES, false, NULL)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "roster member %zu is malformed", i);
            goto done;
        }
        d->role = (cdx_role)s->role;
        d->valid_from_ms = s->valid_from_ms;
        d->valid_until_ms = s->valid_until_ms;
        d->revoked_at_ms = s->revoked_at_ms;
    }
    out->n_members = m->n_members;
    for (size_t i = 0; i < m->n_admins; i++) {
        if (!cdx__copy_id(out->admins[i].id, m->admins[i]->id) ||
            !s_fixed(out->admins[i].sign_pk, m->admins[i]->sign_pk, CDX_PK_BYTES, false, NULL)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "roster admin %zu is malformed", i);
            goto done;
        }
    }
    out->n_admins = m->n_admins;
done:
    cydex__v1__roster__free_unpacked(m, NULL);
    if (rc != CDX_OK)
        cdx__roster_data_clear(out);
    return rc;
}

cdx_err cdx__signed_roster_encode(const cdx_bytes *roster, const cdx__rsig *sigs, size_t n,
                                  cdx_bytes *out)
{
    Cydex__V1__SignedRoster m;
    cydex__v1__signed_roster__init(&m);
    m.roster = S_BIN(roster->data, roster->len);
    Cydex__V1__RosterSignature *s = calloc(n + 1, sizeof *s);
    Cydex__V1__RosterSignature **p = calloc(n + 1, sizeof *p);
    cdx_err rc = CDX_ERR_NOMEM;
    if (s && p) {
        for (size_t i = 0; i < n; i++) {
            cydex__v1__roster_signature__init(&s[i]);
            s[i].admin_id = S_STR(sigs[i].admin_id);
            s[i].signature = S_BIN(sigs[i].sig, CDX_SIG_BYTES);
            p[i] = &s[i];
        }
        m.n_signatures = n;
        m.signatures = p;
        rc = s_pack(&m.base, 0, out);
    }
    free(s);
    free(p);
    return rc;
}

cdx_err cdx__signed_roster_decode(cdx_bytes *roster, cdx__rsig **sigs, size_t *n,
                                  const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    roster->data = NULL;
    roster->len = 0;
    *sigs = NULL;
    *n = 0;
    Cydex__V1__SignedRoster *m = cydex__v1__signed_roster__unpack(NULL, len, data);
    if (!m)
        return cdx_errf(eb, CDX_ERR_FORMAT, "signed roster does not decode");
    cdx_err rc = CDX_OK;
    if (s_not_strict(&m->base)) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                      "signed roster carries unknown fields or a string that is not UTF-8");
        goto done;
    }
    *sigs = calloc(m->n_signatures + 1, sizeof **sigs);
    if (!*sigs || !s_copy_bin(roster, m->roster)) {
        rc = CDX_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < m->n_signatures; i++) {
        if (!cdx__copy_id((*sigs)[i].admin_id, m->signatures[i]->admin_id) ||
            !s_fixed((*sigs)[i].sig, m->signatures[i]->signature, CDX_SIG_BYTES, false, NULL)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "roster signature %zu is malformed", i);
            goto done;
        }
    }
    *n = m->n_signatures;
done:
    cydex__v1__signed_roster__free_unpacked(m, NULL);
    if (rc != CDX_OK) {
        cdx_bytes_free(roster);
        free(*sigs);
        *sigs = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- audit log entries ---- */

static void s_log_entry_pb(Cydex__V1__LogEntry *m, const cdx_log_entry *e)
{
    cydex__v1__log_entry__init(m);
    m->envelope = S_BIN(e->envelope.data, e->envelope.len);
    m->received_at_ms = e->received_at_ms;
    m->received_from = S_STR(e->received_from);
    m->outcome = (Cydex__V1__LogOutcome)e->outcome;
    m->flags = e->flags;
}

cdx_err cdx__log_entry_encode(const cdx_log_entry *e, cdx_bytes *out)
{
    Cydex__V1__LogEntry m;
    s_log_entry_pb(&m, e);
    return s_pack(&m.base, 0, out);
}

size_t cdx__log_entry_size(const cdx_log_entry *e)
{
    Cydex__V1__LogEntry m;
    s_log_entry_pb(&m, e);
    return protobuf_c_message_get_packed_size(&m.base);
}

void cdx__log_entry_pack(const cdx_log_entry *e, uint8_t *dst)
{
    Cydex__V1__LogEntry m;
    s_log_entry_pb(&m, e);
    protobuf_c_message_pack(&m.base, dst);
}

/* Read by hand, like the outer envelope: the auditor decodes every entry,
 * and this way its envelope is copied once, with no other allocation.
 * Fields in number order, each at most once; unknown fields refused. */
cdx_err cdx__log_entry_decode(cdx_log_entry *out, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    size_t at = 0;
    uint32_t last = 0;
    const uint8_t *env = NULL;
    size_t env_len = 0;
    while (at < len) {
        uint64_t tag, v = 0;
        const uint8_t *val = NULL;
        size_t n = 0;
        if (!cdx__pb_varint(data, len, &at, &tag) || (tag >> 3) <= last || (tag >> 3) > 5)
            return cdx_errf(eb, CDX_ERR_CORRUPT, "entry has unknown or repeated fields");
        last = (uint32_t)(tag >> 3);
        bool ok = (tag & 7) == 0   ? cdx__pb_varint(data, len, &at, &v)
                  : (tag & 7) == 2 ? cdx__pb_bytes(data, len, &at, &val, &n)
                                   : false;
        if (ok) {
            switch (last) {
            case 1: ok = (tag & 7) == 2 && (env = val, env_len = n, true); break;
            case 2: ok = (tag & 7) == 0 && (out->received_at_ms = v, true); break;
            case 3:
                ok = (tag & 7) == 2 && n <= CDX_ID_MAX && !memchr(val, 0, n);
                if (ok) {
                    memcpy(out->received_from, val, n);
                    out->received_from[n] = '\0';
                    ok = cdx__utf8_valid(out->received_from);
                }
                break;
            case 4: ok = (tag & 7) == 0 && (out->outcome = (cdx_log_outcome)v, true); break;
            case 5:
                ok = (tag & 7) == 0 && v <= UINT32_MAX && (out->flags = (uint32_t)v, true);
                break;
            default: ok = false; break;
            }
        }
        if (!ok)
            return cdx_errf(eb, CDX_ERR_CORRUPT, "entry field %u is malformed", last);
    }
    if (out->outcome != CDX_LOG_ACCEPTED && out->outcome != CDX_LOG_EQUIVOCATION)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "entry has an unknown outcome %d", (int)out->outcome);
    out->envelope.data = malloc(env_len + 1);
    if (!out->envelope.data)
        return CDX_ERR_NOMEM;
    if (env_len)
        memcpy(out->envelope.data, env, env_len);
    out->envelope.len = env_len;
    return CDX_OK;
}

/* ---- receipts ---- */

cdx_err cdx__receipt_statement_encode(const cdx_receipt *r, size_t n, cdx_bytes *out)
{
    Cydex__V1__ReceiptStatement m;
    cydex__v1__receipt_statement__init(&m);
    Cydex__V1__ReceiptItem *items = calloc(n ? n : 1, sizeof *items);
    Cydex__V1__ReceiptItem **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    cdx_err rc = items && ptrs ? CDX_OK : CDX_ERR_NOMEM;
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        cydex__v1__receipt_item__init(&items[i]);
        static const uint8_t none[CDX_HASH_BYTES];
        /* Empty when the bytes had no hash (they were no envelope). */
        if (memcmp(r[i].envelope_hash, none, CDX_HASH_BYTES) != 0)
            items[i].envelope_hash = S_BIN(r[i].envelope_hash, CDX_HASH_BYTES);
        items[i].status = (Cydex__V1__Receipt__Status)r[i].status;
        items[i].log_index = r[i].log_index;
        items[i].reason = S_STR(r[i].reason);
        ptrs[i] = &items[i];
    }
    if (rc == CDX_OK) {
        m.broker = S_STR(r[0].broker);
        m.committed_at_ms = r[0].committed_at_ms;
        m.n_items = n;
        m.items = ptrs;
        rc = s_pack(&m.base, 0, out);
    }
    free(items);
    free(ptrs);
    return rc;
}

cdx_err cdx__receipt_statement_decode(cdx_receipt **out, size_t *n, const uint8_t *data, size_t len)
{
    *out = NULL;
    *n = 0;
    /* The broker signs these very bytes: one reading for every auditor. */
    if (cdx__canonical_check(CDX__PB_RECEIPT_STATEMENT, data, len, NULL, NULL) != CDX_OK)
        return CDX_ERR_NONCANONICAL;
    Cydex__V1__ReceiptStatement *m = cydex__v1__receipt_statement__unpack(NULL, len, data);
    if (!m)
        return CDX_ERR_FORMAT;
    char broker[CDX_ID_MAX + 1];
    cdx_err rc = CDX_OK;
    if (s_not_strict(&m->base) || !cdx__copy_id(broker, m->broker) || m->n_items == 0)
        rc = CDX_ERR_FORMAT;
    cdx_receipt *r = rc == CDX_OK ? calloc(m->n_items, sizeof *r) : NULL;
    if (rc == CDX_OK && !r)
        rc = CDX_ERR_NOMEM;
    for (size_t i = 0; rc == CDX_OK && i < m->n_items; i++) {
        const Cydex__V1__ReceiptItem *it = m->items[i];
        if (s_not_strict(&it->base) ||
            !s_fixed(r[i].envelope_hash, it->envelope_hash, CDX_HASH_BYTES, true, NULL) ||
            strlen(it->reason) >= sizeof r[i].reason || it->status < 1 || it->status > 3) {
            rc = CDX_ERR_FORMAT;
            break;
        }
        memcpy(r[i].broker, broker, sizeof broker);
        r[i].status = (cdx_receipt_status)it->status;
        r[i].log_index = it->log_index;
        strcpy(r[i].reason, it->reason);
        r[i].committed_at_ms = m->committed_at_ms;
    }
    if (rc == CDX_OK) {
        *out = r;
        *n = m->n_items;
    } else {
        free(r);
    }
    cydex__v1__receipt_statement__free_unpacked(m, NULL);
    return rc;
}

cdx_err cdx__receipt_encode(const cdx_bytes *statement, const uint8_t sig[CDX_SIG_BYTES],
                            cdx_bytes *out)
{
    Cydex__V1__Receipt m;
    cydex__v1__receipt__init(&m);
    m.statement = S_BIN(statement->data, statement->len);
    m.signature = S_BIN(sig, CDX_SIG_BYTES);
    return s_pack(&m.base, 0, out);
}

cdx_err cdx__receipt_decode(cdx_bytes *statement, uint8_t sig[CDX_SIG_BYTES], const uint8_t *data,
                            size_t len)
{
    Cydex__V1__Receipt *m = cydex__v1__receipt__unpack(NULL, len, data);
    if (!m)
        return CDX_ERR_FORMAT;
    cdx_err rc = s_not_strict(&m->base) || !s_fixed(sig, m->signature, CDX_SIG_BYTES, false, NULL)
                     ? CDX_ERR_FORMAT
                     : (s_copy_bin(statement, m->statement) ? CDX_OK : CDX_ERR_NOMEM);
    cydex__v1__receipt__free_unpacked(m, NULL);
    return rc;
}

/* ---- catch-up ---- */

void cdx_catchup_request_clear(cdx_catchup_request *r)
{
    free(r->after);
    memset(r, 0, sizeof *r);
}

cdx_err cdx_catchup_request_encode(const cdx_catchup_request *r, cdx_bytes *out)
{
    Cydex__V1__CatchupRequest m;
    cydex__v1__catchup_request__init(&m);
    if (r->request_id_len > sizeof r->request_id)
        return CDX_ERR_INVALID;
    m.request_id = S_BIN(r->request_id, r->request_id_len);
    m.sender = S_STR(r->sender);
    m.from_seq = r->from_seq;
    m.to_seq = r->to_seq;
    m.max_batch = r->max_batch;
    m.proof_old_size = r->proof_old;
    m.proof_new_size = r->proof_new;
    Cydex__V1__SenderCursor *c = calloc(r->n_after + 1, sizeof *c);
    Cydex__V1__SenderCursor **p = calloc(r->n_after + 1, sizeof *p);
    cdx_err rc = CDX_ERR_NOMEM;
    if (c && p) {
        for (size_t i = 0; i < r->n_after; i++) {
            cydex__v1__sender_cursor__init(&c[i]);
            c[i].sender = S_STR(r->after[i].sender);
            c[i].last_seq = r->after[i].last_seq;
            p[i] = &c[i];
        }
        m.n_after = r->n_after;
        m.after = p;
        rc = s_pack(&m.base, 0, out);
    }
    free(c);
    free(p);
    return rc;
}

cdx_err cdx_catchup_request_decode(cdx_catchup_request *out, const uint8_t *data, size_t len,
                                   cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    Cydex__V1__CatchupRequest *m = cydex__v1__catchup_request__unpack(NULL, len, data);
    if (!m)
        return cdx_errf(eb, CDX_ERR_FORMAT, "catch-up request does not decode");
    cdx_err rc = CDX_OK;
    if (s_not_strict(&m->base) || m->request_id.len > sizeof out->request_id ||
        m->n_after > CDX_CATCHUP_MAX_CURSORS || !cdx__copy_id(out->sender, m->sender) ||
        (out->sender[0] && !cdx_id_valid(out->sender)))
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "catch-up request is malformed");
    if (rc == CDX_OK) {
        if (m->request_id.len) /* protobuf-c leaves data NULL when empty */
            memcpy(out->request_id, m->request_id.data, m->request_id.len);
        out->request_id_len = m->request_id.len;
        out->from_seq = m->from_seq;
        out->to_seq = m->to_seq;
        out->max_batch = m->max_batch;
        out->proof_old = m->proof_old_size;
        out->proof_new = m->proof_new_size;
        out->after = calloc(m->n_after + 1, sizeof *out->after);
        if (!out->after)
            rc = CDX_ERR_NOMEM;
        for (size_t i = 0; rc == CDX_OK && i < m->n_after; i++) {
            if (!cdx__copy_id(out->after[i].sender, m->after[i]->sender) ||
                !cdx_id_valid(out->after[i].sender))
                rc = cdx_errf(eb, CDX_ERR_FORMAT, "catch-up cursor %zu is malformed", i);
            out->after[i].last_seq = m->after[i]->last_seq;
        }
        out->n_after = m->n_after;
    }
    cydex__v1__catchup_request__free_unpacked(m, NULL);
    if (rc != CDX_OK)
        cdx_catchup_request_clear(out);
    return rc;
}

void cdx_catchup_reply_clear(cdx_catchup_reply *r)
{
    for (size_t i = 0; i < r->n; i++)
        cdx_bytes_free(&r->envelopes[i]);
    free(r->envelopes);
    memset(r, 0, sizeof *r);
}

cdx_err cdx_catchup_reply_encode(const cdx_catchup_reply *r, cdx_bytes *out)
{
    Cydex__V1__CatchupReply m;
    cydex__v1__catchup_reply__init(&m);
    if (r->request_id_len > sizeof r->request_id)
        return CDX_ERR_INVALID;
    m.request_id = S_BIN(r->request_id, r->request_id_len);
    m.done = r->done;
    m.error = S_STR(r->error);
    ProtobufCBinaryData *e = calloc(r->n + 1, sizeof *e);
    if (!e)
        return CDX_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++)
        e[i] = S_BIN(r->envelopes[i].data, r->envelopes[i].len);
    m.n_envelopes = r->n;
    m.envelopes = e;
    ProtobufCBinaryData proof[CDX_MERKLE_MAX_PROOF];
    if (r->n_consistency > CDX_MERKLE_MAX_PROOF) {
        free(e);
        return CDX_ERR_INVALID;
    }
    for (size_t i = 0; i < r->n_consistency; i++)
        proof[i] = S_BIN(r->consistency[i], CDX_HASH_BYTES);
    m.n_consistency = r->n_consistency;
    m.consistency = proof;
    cdx_err rc = s_pack(&m.base, 0, out);
    free(e);
    return rc;
}

cdx_err cdx_catchup_reply_decode(cdx_catchup_reply *out, const uint8_t *data, size_t len,
                                 cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    Cydex__V1__CatchupReply *m = cydex__v1__catchup_reply__unpack(NULL, len, data);
    if (!m)
        return cdx_errf(eb, CDX_ERR_FORMAT, "catch-up reply does not decode");
    cdx_err rc = CDX_OK;
    bool proof_ok = m->n_consistency <= CDX_MERKLE_MAX_PROOF;
    for (size_t i = 0; proof_ok && i < m->n_consistency; i++)
        proof_ok = m->consistency[i].len == CDX_HASH_BYTES;
    if (s_not_strict(&m->base) || m->request_id.len > sizeof out->request_id ||
        strlen(m->error) >= sizeof out->error || !proof_ok)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "catch-up reply is malformed");
    if (rc == CDX_OK) {
        if (m->request_id.len) /* protobuf-c leaves data NULL when empty */
            memcpy(out->request_id, m->request_id.data, m->request_id.len);
        out->request_id_len = m->request_id.len;
        out->done = m->done;
        strcpy(out->error, m->error);
        for (size_t i = 0; i < m->n_consistency; i++)
            memcpy(out->consistency[i], m->consistency[i].data, CDX_HASH_BYTES);
        out->n_consistency = m->n_consistency;
        out->envelopes = calloc(m->n_envelopes + 1, sizeof *out->envelopes);
        if (!out->envelopes)
            rc = CDX_ERR_NOMEM;
        for (size_t i = 0; rc == CDX_OK && i < m->n_envelopes; i++, out->n++)
            if (!s_copy_bin(&out->envelopes[i], m->envelopes[i]))
                rc = CDX_ERR_NOMEM;
    }
    cydex__v1__catchup_reply__free_unpacked(m, NULL);
    if (rc != CDX_OK)
        cdx_catchup_reply_clear(out);
    return rc;
}
