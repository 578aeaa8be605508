/* The one canonical encoding of every signed protobuf message (part of the
 * protobuf-c door, with codec.c): the rule proto/cydex.proto states under
 * CANONICAL ENCODING, checked by one function, cdx__canonical_check, which
 * signing, every acceptance (through cdx_envelope_verify and its kin) and
 * the audit all call. Bytes that pass have exactly one reading: each field
 * is where a conforming encoder puts it, once, so no decoder can merge two
 * copies, take the last of two, or see a field another one skips.
 *
 * The check walks the bytes against the schema's own descriptors (the
 * generated protobuf-c tables), without allocating and in one pass; it
 * interprets nothing beyond what the encoding needs (it does not look up
 * keys, compare ids or judge enum values: cdx_body_check does that after
 * the signature). It must accept exactly what protobuf-c's encoder writes
 * for a message whose strings are UTF-8 without NUL: fuzz/canonical_fuzz.c
 * holds it to that, both ways.
 */
#include <stdint.h>
#include <string.h>

#include "cydex.pb-c.h"
#include "internal.h"

/* Deeper than any message of the schema nests (Body > Alert > Indicator). */
#define S_DEPTH_MAX 8
/* Oneofs in one message: the schema has at most one. */
#define S_ONEOFS_MAX 4

bool cdx__pb_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0, i = 0; *at < len && i < 10; shift += 7, i++) {
        uint8_t b = p[(*at)++];
        if (i == 9 && b > 1)
            return false; /* past 64 bits */
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return i == 0 || b != 0; /* a longer-than-needed varint is not canonical */
    }
    return false;
}

bool cdx__pb_bytes(const uint8_t *p, size_t len, size_t *at, const uint8_t **val, size_t *n)
{
    uint64_t l;
    if (!cdx__pb_varint(p, len, at, &l) || l > len - *at)
        return false;
    *val = p + *at;
    *n = (size_t)l;
    *at += (size_t)l;
    return true;
}

/* The wire type each field type must use (proto3 encoding). */
static int s_wire_type(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM: return 0;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64: return 1;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE: return 2;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32: return 5;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    default: return -1; /* not in the schema: floats have two zeros */
    }
}

/* A varint value as protobuf-c's encoder writes it for this type: 32-bit
 * types in range (int32 and enums negative only as 10-byte sign
 * extensions), bools 0 or 1. */
static bool s_varint_in_range(const ProtobufCFieldDescriptor *f, uint64_t v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_SINT32: return v <= UINT32_MAX;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM: return v <= INT32_MAX || v >= (uint64_t)0 - ((uint64_t)1 << 31);
    case PROTOBUF_C_TYPE_BOOL: return v <= 1;
    default: return true;
    }
}

/* Strict UTF-8 without NUL: a C reader stops at a NUL, another reader
 * would not. */
static bool s_text(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

typedef struct s_walk {
    cdx_errbuf *eb;
    cdx__pb_top *top; /* the outermost message's fields, if wanted */
} s_walk;

static cdx_err s_bad(s_walk *w, const ProtobufCMessageDescriptor *d,
                     const ProtobufCFieldDescriptor *f, const char *why)
{
    if (f)
        return cdx_errf(w->eb, CDX_ERR_NONCANONICAL, "%s field %s (%u) %s", d->short_name, f->name,
                        f->id, why);
    return cdx_errf(w->eb, CDX_ERR_NONCANONICAL, "%s %s", d->short_name, why);
}

static cdx_err s_message(s_walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                         size_t len, unsigned depth);

/* One field's value, its tag read: checked against its type. */
static cdx_err s_value(s_walk *w, const ProtobufCMessageDescriptor *d,
                       const ProtobufCFieldDescriptor *f, unsigned wire, const uint8_t *p,
                       size_t len, size_t *at, unsigned depth, cdx__pb_value *out)
{
    bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    bool packed = repeated && (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    /* A proto3 singular field outside a oneof is written only when it does
     * not hold its default; oneof members and repeated elements always. */
    bool omit_default =
        f->label == PROTOBUF_C_LABEL_NONE && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
    int want = packed ? 2 : s_wire_type(f);
    if (want < 0)
        return s_bad(w, d, f, "has a type this schema does not use");
    if ((int)wire != want)
        return s_bad(w, d, f, "has the wrong wire type");
    memset(out, 0, sizeof *out);
    if (packed) {
        const uint8_t *v;
        size_t n, i = 0;
        if (s_wire_type(f) != 0 || !cdx__pb_bytes(p, len, at, &v, &n) || n == 0)
            return s_bad(w, d, f, "is not a non-empty packed run of varints");
        while (i < n) {
            uint64_t x;
            if (!cdx__pb_varint(v, n, &i, &x) || !s_varint_in_range(f, x))
                return s_bad(w, d, f, "holds a malformed or out-of-range element");
        }
        out->data = v, out->len = n;
        return CDX_OK;
    }
    switch (wire) {
    case 0:
        if (!cdx__pb_varint(p, len, at, &out->v))
            return s_bad(w, d, f, "has a malformed or over-long varint");
        if (!s_varint_in_range(f, out->v))
            return s_bad(w, d, f, "is out of its type's range");
        if (omit_default && out->v == 0)
            return s_bad(w, d, f, "is present with its default value (proto3 omits it)");
        return CDX_OK;
    case 1:
    case 5: {
        size_t n = wire == 1 ? 8 : 4;
        if (len - *at < n)
            return s_bad(w, d, f, "is cut short");
        out->data = p + *at, out->len = n;
        *at += n;
        static const uint8_t zero[8];
        if (omit_default && memcmp(out->data, zero, n) == 0)
            return s_bad(w, d, f, "is present with its default value (proto3 omits it)");
        return CDX_OK;
    }
    default: break;
    }
    if (!cdx__pb_bytes(p, len, at, &out->data, &out->len))
        return s_bad(w, d, f, "has a length past the end of its message");
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return s_message(w, f->descriptor, out->data, out->len, depth + 1);
    if (omit_default && out->len == 0)
        return s_bad(w, d, f, "is present and empty (proto3 omits it)");
    if (f->type == PROTOBUF_C_TYPE_STRING && !s_text(out->data, out->len))
        return s_bad(w, d, f, "is not UTF-8 text without NUL");
    return CDX_OK;
}

static cdx_err s_message(s_walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                         size_t len, unsigned depth)
{
    if (depth > S_DEPTH_MAX)
        return s_bad(w, d, NULL, "nests too deep");
    size_t at = 0;
    uint32_t last = 0;
    unsigned oneofs[S_ONEOFS_MAX], n_oneofs = 0, last_oneof = 0;
    while (at < len) {
        uint64_t tag;
        if (!cdx__pb_varint(p, len, &at, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
            return s_bad(w, d, NULL, "holds a malformed field tag");
        uint32_t id = (uint32_t)(tag >> 3);
        unsigned wire = (unsigned)(tag & 7);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, id);
        if (!f)
            return cdx_errf(w->eb, CDX_ERR_NONCANONICAL, "%s holds unknown field %u", d->short_name,
                            id);
        bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
        bool packed = repeated && (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED);
        if (id < last || (id == last && (!repeated || packed)))
            return s_bad(w, d, f, id == last ? "appears twice" : "is out of field-number order");
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && id != last) {
            unsigned which = f->quantifier_offset;
            for (unsigned i = 0; i < n_oneofs; i++)
                if (oneofs[i] == which)
                    return s_bad(w, d, f, "is a second member of its oneof");
            if (n_oneofs == S_ONEOFS_MAX)
                return s_bad(w, d, NULL, "has too many oneofs");
            oneofs[n_oneofs++] = which;
            last_oneof = id;
        }
        last = id;
        cdx__pb_value v;
        cdx_err rc = s_value(w, d, f, wire, p, len, &at, depth, &v);
        if (rc != CDX_OK)
            return rc;
        if (depth == 0 && w->top && id < CDX__PB_TOP_MAX)
            w->top->count[id]++;
        if (depth == 0 && w->top && id < CDX__PB_TOP_MAX && !repeated) {
            w->top->field[id] = v;
            w->top->present[id] = true;
        }
    }
    if (depth == 0 && w->top)
        w->top->oneof = last_oneof;
    return CDX_OK;
}

static const ProtobufCMessageDescriptor *s_descriptor(cdx__pb_kind kind)
{
    switch (kind) {
    case CDX__PB_BODY: return &cydex__v1__body__descriptor;
    case CDX__PB_ALERT: return &cydex__v1__alert__descriptor;
    case CDX__PB_SEALED: return &cydex__v1__sealed__descriptor;
    case CDX__PB_ROSTER: return &cydex__v1__roster__descriptor;
    case CDX__PB_SIGNED_ROSTER: return &cydex__v1__signed_roster__descriptor;
    case CDX__PB_RECEIPT_STATEMENT: return &cydex__v1__receipt_statement__descriptor;
    default: return NULL;
    }
}

cdx_err cdx__canonical_check(cdx__pb_kind kind, const uint8_t *data, size_t len, cdx__pb_top *top,
                             cdx_errbuf *eb)
{
    const ProtobufCMessageDescriptor *d = s_descriptor(kind);
    if (!d || (len && !data))
        return CDX_ERR_INVALID;
    if (top)
        memset(top, 0, sizeof *top);
    s_walk w = {.eb = eb, .top = top};
    return s_message(&w, d, data, len, 0);
}

cdx_err cdx__body_label(const cdx__pb_top *top, cdx_tlp *tlp, size_t *n_recipients)
{
    *tlp = CDX_TLP_UNSPECIFIED;
    *n_recipients = 0;
    bool sealed = top->oneof == 12;
    if (top->oneof != 10 && !sealed)
        return CDX_ERR_INVALID;
    /* The payload was checked with the body: this pass only reads it. */
    const cdx__pb_value *p = &top->field[top->oneof];
    cdx__pb_top in;
    cdx_err rc =
        cdx__canonical_check(sealed ? CDX__PB_SEALED : CDX__PB_ALERT, p->data, p->len, &in, NULL);
    if (rc != CDX_OK)
        return rc;
    /* Alert.tlp is field 2; Sealed.tlp field 1, its recipients field 2. */
    uint64_t v = in.field[sealed ? 1 : 2].v;
    *tlp = v <= CDX_TLP_RED ? (cdx_tlp)v : CDX_TLP_UNSPECIFIED;
    *n_recipients = sealed ? in.count[2] : 0;
    return CDX_OK;
}
