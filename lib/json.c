/* The jansson door: JSON to and from CyDEx records.
 *
 * Import is strict and names the offending field by its path
 * ("alert.indicators[1].type"): unknown fields, duplicate keys (refused by
 * the parser), wrong types, bad enum names, bad hex and bad times. Nothing
 * is half-filled on failure: the output record is cleared.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/envelope.h"
#include "cydex/json.h"
#include "internal.h"

/* ================================================================ import == */

static cdx_err s_parse_doc(json_t **out, const char *text, size_t len, const char *what,
                           cdx_errbuf *eb)
{
    json_error_t err;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!*out)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: JSON error at line %d, column %d: %s", what,
                        err.line, err.column, err.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected a JSON object", what);
    }
    return CDX_OK;
}

/* Refuses keys of obj that are not in `allowed` (NULL-terminated). */
static cdx_err s_only(json_t *obj, const char *path, const char *const *allowed, cdx_errbuf *eb)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: unknown field \"%s\"", path, key);
    }
    return CDX_OK;
}

static cdx_err s_type(const char *path, const char *key, const char *want, cdx_errbuf *eb)
{
    return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: expected %s", path, key, want);
}

static cdx_err s_missing(const char *path, const char *key, cdx_errbuf *eb)
{
    return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: required field is missing", path, key);
}

/* A string field; absent = NULL unless required. */
static cdx_err s_str(json_t *obj, const char *path, const char *key, bool required, char **out,
                     cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? s_missing(path, key, eb) : CDX_OK;
    if (!json_is_string(v))
        return s_type(path, key, "a string", eb);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: contains a NUL character", path, key);
    *out = cdx__strdup(json_string_value(v));
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}

/* Borrowed string; absent = NULL unless required. */
static cdx_err s_cstr(json_t *obj, const char *path, const char *key, bool required,
                      const char **out, cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? s_missing(path, key, eb) : CDX_OK;
    if (!json_is_string(v))
        return s_type(path, key, "a string", eb);
    *out = json_string_value(v);
    return CDX_OK;
}

static cdx_err s_u64(json_t *obj, const char *path, const char *key, bool required, uint64_t *out,
                     cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? s_missing(path, key, eb) : CDX_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return s_type(path, key, "a non-negative integer", eb);
    *out = (uint64_t)json_integer_value(v);
    return CDX_OK;
}

/* RFC 3339 text or integer milliseconds. */
static cdx_err s_time(json_t *obj, const char *path, const char *key, bool required, uint64_t *out,
                      cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return required ? s_missing(path, key, eb) : CDX_OK;
    if (json_is_integer(v))
        return s_u64(obj, path, key, required, out, eb);
    if (!json_is_string(v) || cdx_time_parse(json_string_value(v), out) != CDX_OK)
        return s_type(path, key, "an RFC 3339 time such as \"2026-11-24T09:30:00Z\"", eb);
    return CDX_OK;
}

static cdx_err s_hex(json_t *obj, const char *path, const char *key, bool required, uint8_t *out,
                     size_t n, bool *present, cdx_errbuf *eb)
{
    const char *s;
    cdx_err rc = s_cstr(obj, path, key, required, &s, eb);
    if (present)
        *present = s != NULL;
    if (rc != CDX_OK || !s)
        return rc;
    if (cdx_hex_decode(out, n, s) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: expected %zu bytes of hex", path, key, n);
    return CDX_OK;
}

static cdx_err s_b64(json_t *obj, const char *path, const char *key, cdx_bytes *out, cdx_errbuf *eb)
{
    const char *s;
    cdx_err rc = s_cstr(obj, path, key, true, &s, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__base64_decode(out, s);
    return rc == CDX_ERR_FORMAT ? s_type(path, key, "base64", eb) : rc;
}

typedef cdx_err (*s_enum_parser)(const char *, int *);

/* An unknown name is refused with the names it could be ("one of ..."). */
#define S_ENUM(obj, path, key, required, parser, type, out, eb, what, names)                       \
    do {                                                                                           \
        const char *s_e_;                                                                          \
        cdx_err rc_e_ = s_cstr(obj, path, key, required, &s_e_, eb);                               \
        if (rc_e_ != CDX_OK)                                                                       \
            return rc_e_;                                                                          \
        if (s_e_) {                                                                                \
            type v_e_;                                                                             \
            if (parser(s_e_, &v_e_) != CDX_OK)                                                     \
                return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: unknown %s \"%s\" (one of %s)", path,  \
                                key, what, s_e_, names);                                           \
            *(out) = v_e_;                                                                         \
        }                                                                                          \
    } while (0)

static cdx_err s_strv(json_t *obj, const char *path, const char *key, char ***out, size_t *n,
                      cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (!json_is_array(v))
        return s_type(path, key, "an array of strings", eb);
    size_t len = json_array_size(v);
    if (!len)
        return CDX_OK;
    *out = calloc(len, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    *n = len;
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s[%zu]: expected a string", path, key, i);
        if (!((*out)[i] = cdx__strdup(json_string_value(e))))
            return CDX_ERR_NOMEM;
    }
    return CDX_OK;
}

static cdx_err s_alert_from(cdx_alert *a, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {
        "id",          "tlp",        "severity", "status",     "msg_type", "category", "title",
        "description", "indicators", "sectors",  "references", "expires",  "updates",  NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc != CDX_OK)
        return rc;
    a->status = CDX_STATUS_ACTUAL;
    a->msg_type = CDX_MSG_ALERT;
    a->severity = CDX_SEVERITY_UNKNOWN;
    if ((rc = s_str(o, path, "id", false, &a->id, eb)) != CDX_OK)
        return rc;
    if (!a->id) {
        a->id = malloc(37);
        if (!a->id)
            return CDX_ERR_NOMEM;
        cdx__uuid_v4(a->id);
    }
    S_ENUM(o, path, "tlp", true, cdx_tlp_parse, cdx_tlp, &a->tlp, eb, "TLP label", CDX_TLP_NAMES);
    S_ENUM(o, path, "severity", false, cdx_severity_parse, cdx_severity, &a->severity, eb,
           "severity", CDX_SEVERITY_NAMES);
    S_ENUM(o, path, "status", false, cdx_status_parse, cdx_alert_status, &a->status, eb, "status",
           CDX_STATUS_NAMES);
    S_ENUM(o, path, "msg_type", false, cdx_msg_type_parse, cdx_msg_type, &a->msg_type, eb,
           "message type", CDX_MSG_TYPE_NAMES);
    if ((rc = s_str(o, path, "category", false, &a->category, eb)) != CDX_OK ||
        (rc = s_str(o, path, "title", true, &a->title, eb)) != CDX_OK ||
        (rc = s_str(o, path, "description", false, &a->description, eb)) != CDX_OK ||
        (rc = s_str(o, path, "updates", false, &a->updates, eb)) != CDX_OK ||
        (rc = s_strv(o, path, "sectors", &a->sectors, &a->n_sectors, eb)) != CDX_OK ||
        (rc = s_strv(o, path, "references", &a->references, &a->n_references, eb)) != CDX_OK ||
        (rc = s_time(o, path, "expires", false, &a->expires_at_ms, eb)) != CDX_OK)
        return rc;
    json_t *inds = json_object_get(o, "indicators");
    if (inds && !json_is_null(inds)) {
        if (!json_is_array(inds))
            return s_type(path, "indicators", "an array of objects", eb);
        size_t n = json_array_size(inds);
        a->indicators = n ? calloc(n, sizeof *a->indicators) : NULL;
        if (n && !a->indicators)
            return CDX_ERR_NOMEM;
        a->n_indicators = n;
        for (size_t i = 0; i < n; i++) {
            static const char *const ikeys[] = {"type", "value", "comment", NULL};
            char ipath[96];
            snprintf(ipath, sizeof ipath, "%s.indicators[%zu]", path, i);
            json_t *e = json_array_get(inds, i);
            if (!json_is_object(e))
                return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", ipath);
            cdx_indicator *d = &a->indicators[i];
            if ((rc = s_only(e, ipath, ikeys, eb)) != CDX_OK ||
                (rc = s_str(e, ipath, "type", true, &d->type, eb)) != CDX_OK ||
                (rc = s_str(e, ipath, "value", true, &d->value, eb)) != CDX_OK ||
                (rc = s_str(e, ipath, "comment", false, &d->comment, eb)) != CDX_OK)
                return rc;
        }
    }
    return cdx_alert_check(a, eb);
}

static cdx_err s_ack_from(cdx_ack *a, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"alert_hash", "alert_id", "stage", "note", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc != CDX_OK ||
        (rc = s_hex(o, path, "alert_hash", true, a->alert_hash, CDX_HASH_BYTES, NULL, eb)) !=
            CDX_OK ||
        (rc = s_str(o, path, "alert_id", false, &a->alert_id, eb)) != CDX_OK ||
        (rc = s_str(o, path, "note", false, &a->note, eb)) != CDX_OK)
        return rc;
    S_ENUM(o, path, "stage", true, cdx_ack_stage_parse, cdx_ack_stage, &a->stage, eb, "ack stage",
           CDX_ACK_STAGE_NAMES);
    return cdx_ack_check(a, eb);
}

static cdx_err s_sealed_from(cdx_sealed *s, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"tlp", "recipients", "nonce", "ciphertext", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc != CDX_OK)
        return rc;
    S_ENUM(o, path, "tlp", true, cdx_tlp_parse, cdx_tlp, &s->tlp, eb, "TLP label", CDX_TLP_NAMES);
    if ((rc = s_b64(o, path, "nonce", &s->nonce, eb)) != CDX_OK ||
        (rc = s_b64(o, path, "ciphertext", &s->ciphertext, eb)) != CDX_OK)
        return rc;
    json_t *rs = json_object_get(o, "recipients");
    if (!json_is_array(rs))
        return s_type(path, "recipients", "an array of objects", eb);
    size_t n = json_array_size(rs);
    s->recipients = n ? calloc(n, sizeof *s->recipients) : NULL;
    if (n && !s->recipients)
        return CDX_ERR_NOMEM;
    s->n_recipients = n;
    for (size_t i = 0; i < n; i++) {
        static const char *const rkeys[] = {"id", "wrapped_key", NULL};
        char rpath[96];
        snprintf(rpath, sizeof rpath, "%s.recipients[%zu]", path, i);
        json_t *e = json_array_get(rs, i);
        if (!json_is_object(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", rpath);
        if ((rc = s_only(e, rpath, rkeys, eb)) != CDX_OK ||
            (rc = s_str(e, rpath, "id", true, &s->recipients[i].id, eb)) != CDX_OK ||
            (rc = s_b64(e, rpath, "wrapped_key", &s->recipients[i].wrapped_key, eb)) != CDX_OK)
            return rc;
    }
    return CDX_OK;
}

static cdx_err s_tree_head_from(cdx_tree_head *t, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"origin", "size", "root", "timestamp", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc == CDX_OK && (rc = s_str(o, path, "origin", true, &t->origin, eb)) == CDX_OK &&
        (rc = s_u64(o, path, "size", true, &t->size, eb)) == CDX_OK &&
        (rc = s_hex(o, path, "root", true, t->root, CDX_HASH_BYTES, NULL, eb)) == CDX_OK)
        rc = s_time(o, path, "timestamp", true, &t->timestamp_ms, eb);
    return rc;
}

static cdx_err s_heartbeat_from(cdx_heartbeat *h, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"last_seq", "last_hash", "interval_ms", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc == CDX_OK && (rc = s_u64(o, path, "last_seq", true, &h->last_seq, eb)) == CDX_OK &&
        (rc = s_hex(o, path, "last_hash", false, h->last_hash, CDX_HASH_BYTES, &h->has_last_hash,
                    eb)) == CDX_OK)
        rc = s_u64(o, path, "interval_ms", false, &h->interval_ms, eb);
    return rc;
}

static cdx_err s_roster_payload_from(cdx_bytes *out, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"signed_roster", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    return rc != CDX_OK ? rc : s_b64(o, path, "signed_roster", out, eb);
}

static json_t *s_witness_seen(const cdx_bytes *head);

/* A co-signature: the head's bytes. The keys cdx_json_from_body adds, read
 * off the head (broker, size, root), may come back: they must agree. */
static cdx_err s_witness_from(cdx_bytes *out, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"head", "broker", "size", "root", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc == CDX_OK)
        rc = s_b64(o, path, "head", out, eb);
    if (rc != CDX_OK)
        return rc;
    json_t *seen = s_witness_seen(out);
    for (const char *const *k = keys + 1; rc == CDX_OK && *k; k++) {
        json_t *said = json_object_get(o, *k);
        if (said && !json_equal(said, json_object_get(seen, *k)))
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s does not match the head it carries", path, *k);
    }
    json_decref(seen);
    return rc;
}

/* Runs an import over a parsed object; clears `rec` on failure. */
#define S_IMPORT(rec, clear, fn, what)                                                             \
    do {                                                                                           \
        json_t *doc_;                                                                              \
        memset(rec, 0, sizeof *(rec));                                                             \
        cdx_err rc_ = s_parse_doc(&doc_, text, len, what, eb);                                     \
        if (rc_ != CDX_OK)                                                                         \
            return rc_;                                                                            \
        rc_ = fn(rec, doc_, what, eb);                                                             \
        json_decref(doc_);                                                                         \
        if (rc_ != CDX_OK)                                                                         \
            clear(rec);                                                                            \
        return rc_;                                                                                \
    } while (0)

cdx_err cdx_json_to_alert(cdx_alert *out, const char *text, size_t len, cdx_errbuf *eb)
{
    bool named;
    return cdx_json_to_alert_named(out, &named, text, len, eb);
}

cdx_err cdx_json_to_alert_named(cdx_alert *out, bool *named, const char *text, size_t len,
                                cdx_errbuf *eb)
{
    json_t *doc;
    memset(out, 0, sizeof *out);
    *named = false;
    cdx_err rc = s_parse_doc(&doc, text, len, "alert", eb);
    if (rc != CDX_OK)
        return rc;
    *named = json_object_get(doc, "id") != NULL;
    rc = s_alert_from(out, doc, "alert", eb);
    json_decref(doc);
    if (rc != CDX_OK) {
        cdx_alert_clear(out);
        *named = false;
    }
    return rc;
}

cdx_err cdx_json_to_ack(cdx_ack *out, const char *text, size_t len, cdx_errbuf *eb)
{
    S_IMPORT(out, cdx_ack_clear, s_ack_from, "ack");
}

static const char *const s_payload_keys[] = {"alert",     "ack",       "sealed",  "roster",
                                             "tree_head", "heartbeat", "witness", NULL};

static cdx_err s_body_from(cdx_body *b, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"sender",    "seq",     "sent_at", "prev_hash", "topic",
                                       "alert",     "ack",     "sealed",  "roster",    "tree_head",
                                       "heartbeat", "witness", NULL};
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc != CDX_OK || (rc = s_str(o, path, "sender", true, &b->sender, eb)) != CDX_OK ||
        (rc = s_u64(o, path, "seq", true, &b->seq, eb)) != CDX_OK ||
        (rc = s_time(o, path, "sent_at", true, &b->sent_at_ms, eb)) != CDX_OK ||
        (rc = s_hex(o, path, "prev_hash", false, b->prev_hash, CDX_HASH_BYTES, &b->has_prev_hash,
                    eb)) != CDX_OK ||
        (rc = s_str(o, path, "topic", true, &b->topic, eb)) != CDX_OK)
        return rc;
    const char *which = NULL;
    for (const char *const *k = s_payload_keys; *k; k++) {
        if (!json_object_get(o, *k))
            continue;
        if (which)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: carries both \"%s\" and \"%s\"", path, which,
                            *k);
        which = *k;
    }
    if (!which)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: carries no payload (alert, ack, ...)", path);
    json_t *p = json_object_get(o, which);
    char sub[64];
    snprintf(sub, sizeof sub, "%s.%s", path, which);
    if (!json_is_object(p))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", sub);
    if (strcmp(which, "alert") == 0) {
        b->kind = CDX_PAYLOAD_ALERT;
        rc = s_alert_from(&b->alert, p, sub, eb);
    } else if (strcmp(which, "ack") == 0) {
        b->kind = CDX_PAYLOAD_ACK;
        rc = s_ack_from(&b->ack, p, sub, eb);
    } else if (strcmp(which, "sealed") == 0) {
        b->kind = CDX_PAYLOAD_SEALED;
        rc = s_sealed_from(&b->sealed, p, sub, eb);
    } else if (strcmp(which, "roster") == 0) {
        b->kind = CDX_PAYLOAD_ROSTER;
        rc = s_roster_payload_from(&b->roster, p, sub, eb);
    } else if (strcmp(which, "tree_head") == 0) {
        b->kind = CDX_PAYLOAD_TREE_HEAD;
        rc = s_tree_head_from(&b->tree_head, p, sub, eb);
    } else if (strcmp(which, "witness") == 0) {
        b->kind = CDX_PAYLOAD_WITNESS;
        rc = s_witness_from(&b->witness, p, sub, eb);
    } else {
        b->kind = CDX_PAYLOAD_HEARTBEAT;
        rc = s_heartbeat_from(&b->heartbeat, p, sub, eb);
    }
    return rc != CDX_OK ? rc : cdx_body_check(b, eb);
}

cdx_err cdx_json_to_body(cdx_body *out, const char *text, size_t len, cdx_errbuf *eb)
{
    S_IMPORT(out, cdx_body_clear, s_body_from, "body");
}

static void s_member_reset(cdx_member *m)
{
    memset(m, 0, sizeof *m);
}

static cdx_err s_member_from(cdx_member *m, json_t *o, const char *path, cdx_errbuf *eb)
{
    static const char *const keys[] = {"id",          "role",       "sign_pk",
                                       "seal_pk",     "curve_pk",   "valid_from",
                                       "valid_until", "revoked_at", NULL};
    const char *id, *z85;
    cdx_err rc = s_only(o, path, keys, eb);
    if (rc != CDX_OK || (rc = s_cstr(o, path, "id", true, &id, eb)) != CDX_OK)
        return rc;
    if (!cdx_id_valid(id) || !cdx__copy_id(m->id, id))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.id: \"%s\" is not a valid member id", path, id);
    S_ENUM(o, path, "role", true, cdx_role_parse, cdx_role, &m->role, eb, "role", CDX_ROLE_NAMES);
    if ((rc = s_hex(o, path, "sign_pk", true, m->sign_pk, CDX_PK_BYTES, NULL, eb)) != CDX_OK ||
        (rc = s_hex(o, path, "seal_pk", true, m->seal_pk, CDX_PK_BYTES, NULL, eb)) != CDX_OK ||
        (rc = s_cstr(o, path, "curve_pk", true, &z85, eb)) != CDX_OK)
        return rc;
    if (cdx__z85_decode_key(m->curve_pk, z85) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.curve_pk: expected a 40-character Z85 key", path);
    if ((rc = s_time(o, path, "valid_from", false, &m->valid_from_ms, eb)) != CDX_OK ||
        (rc = s_time(o, path, "valid_until", false, &m->valid_until_ms, eb)) != CDX_OK)
        return rc;
    return s_time(o, path, "revoked_at", false, &m->revoked_at_ms, eb);
}

cdx_err cdx_json_to_member(cdx_member *out, const char *text, size_t len, cdx_errbuf *eb)
{
    S_IMPORT(out, s_member_reset, s_member_from, "member");
}

/* ================================================================ export == */

/* Builders return NULL on allocation failure; json_object_set_new takes
 * ownership even of NULL (and then fails), so one check at the end is
 * enough: s_finish turns a NULL anywhere into CDX_ERR_NOMEM. */

static json_t *s_jstr(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *s_jhex(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64)
        return NULL;
    cdx_hex_encode(buf, p, n);
    return json_string(buf);
}

static json_t *s_jb64(const cdx_bytes *b)
{
    char *s = cdx__base64_encode(b->data, b->len);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

static json_t *s_jtime(uint64_t t)
{
    char buf[CDX_TIME_TEXT_MAX];
    cdx_time_format(buf, t);
    return json_string(buf);
}

static json_t *s_jstrv(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, s_jstr(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Sets key only when v is not NULL-worthy; tracks failures in *ok. */
static void s_set(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

/* Appends e to arr if it was built whole; frees it otherwise. */
static bool s_append(json_t *arr, json_t *e, bool built)
{
    if (!built) {
        json_decref(e);
        return false;
    }
    return json_array_append_new(arr, e) == 0;
}

static json_t *s_alert_to(const cdx_alert *a)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!ok)
        return NULL;
    s_set(o, "id", s_jstr(a->id), &ok);
    s_set(o, "tlp", json_string(cdx_tlp_name(a->tlp)), &ok);
    s_set(o, "severity", json_string(cdx_severity_name(a->severity)), &ok);
    s_set(o, "status", json_string(cdx_status_name(a->status)), &ok);
    s_set(o, "msg_type", json_string(cdx_msg_type_name(a->msg_type)), &ok);
    if (!cdx__empty(a->updates))
        s_set(o, "updates", s_jstr(a->updates), &ok);
    if (!cdx__empty(a->category))
        s_set(o, "category", s_jstr(a->category), &ok);
    s_set(o, "title", s_jstr(a->title), &ok);
    if (!cdx__empty(a->description))
        s_set(o, "description", s_jstr(a->description), &ok);
    if (a->n_indicators) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_indicators; i++) {
            json_t *e = json_object();
            bool eok = e != NULL;
            if (e) {
                s_set(e, "type", s_jstr(a->indicators[i].type), &eok);
                s_set(e, "value", s_jstr(a->indicators[i].value), &eok);
                if (!cdx__empty(a->indicators[i].comment))
                    s_set(e, "comment", s_jstr(a->indicators[i].comment), &eok);
            }
            if (!s_append(arr, e, eok))
                ok = false;
        }
        s_set(o, "indicators", arr, &ok);
    }
    if (a->n_sectors)
        s_set(o, "sectors", s_jstrv(a->sectors, a->n_sectors), &ok);
    if (a->n_references)
        s_set(o, "references", s_jstrv(a->references, a->n_references), &ok);
    if (a->expires_at_ms)
        s_set(o, "expires", s_jtime(a->expires_at_ms), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_ack_to(const cdx_ack *a)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!ok)
        return NULL;
    s_set(o, "alert_hash", s_jhex(a->alert_hash, CDX_HASH_BYTES), &ok);
    if (!cdx__empty(a->alert_id))
        s_set(o, "alert_id", s_jstr(a->alert_id), &ok);
    s_set(o, "stage", json_string(cdx_ack_stage_name(a->stage)), &ok);
    if (!cdx__empty(a->note))
        s_set(o, "note", s_jstr(a->note), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_sealed_to(const cdx_sealed *s)
{
    json_t *o = json_object(), *rs = json_array();
    bool ok = o && rs;
    for (size_t i = 0; ok && i < s->n_recipients; i++) {
        json_t *e = json_object();
        bool eok = e != NULL;
        if (e) {
            s_set(e, "id", s_jstr(s->recipients[i].id), &eok);
            s_set(e, "wrapped_key", s_jb64(&s->recipients[i].wrapped_key), &eok);
        }
        if (!s_append(rs, e, eok))
            ok = false;
    }
    if (o) {
        s_set(o, "tlp", json_string(cdx_tlp_name(s->tlp)), &ok);
        s_set(o, "recipients", rs, &ok);
        rs = NULL;
        s_set(o, "nonce", s_jb64(&s->nonce), &ok);
        s_set(o, "ciphertext", s_jb64(&s->ciphertext), &ok);
    }
    json_decref(rs);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* What a co-signed head says (the broker that signed it, its size and
 * root), read off its bytes without checking the signature; an empty
 * object if they are not a tree-head envelope. */
static json_t *s_witness_seen(const cdx_bytes *head)
{
    json_t *o = json_object();
    cdx_envelope *env = NULL;
    if (o && cdx_envelope_inspect(&env, head->data, head->len, NULL) == CDX_OK &&
        cdx_envelope_body(env)->kind == CDX_PAYLOAD_TREE_HEAD) {
        const cdx_body *h = cdx_envelope_body(env);
        bool ok = true;
        s_set(o, "broker", s_jstr(h->sender), &ok);
        s_set(o, "size", json_integer((json_int_t)h->tree_head.size), &ok);
        s_set(o, "root", s_jhex(h->tree_head.root, CDX_HASH_BYTES), &ok);
    }
    cdx_envelope_destroy(&env);
    return o;
}

static json_t *s_body_to(const cdx_body *b)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!ok)
        return NULL;
    s_set(o, "sender", s_jstr(b->sender), &ok);
    s_set(o, "seq", json_integer((json_int_t)b->seq), &ok);
    s_set(o, "sent_at", s_jtime(b->sent_at_ms), &ok);
    if (b->has_prev_hash)
        s_set(o, "prev_hash", s_jhex(b->prev_hash, CDX_HASH_BYTES), &ok);
    s_set(o, "topic", s_jstr(b->topic), &ok);
    json_t *p = NULL;
    switch (b->kind) {
    case CDX_PAYLOAD_ALERT: p = s_alert_to(&b->alert); break;
    case CDX_PAYLOAD_ACK: p = s_ack_to(&b->ack); break;
    case CDX_PAYLOAD_SEALED: p = s_sealed_to(&b->sealed); break;
    case CDX_PAYLOAD_ROSTER:
        p = json_object();
        if (p)
            s_set(p, "signed_roster", s_jb64(&b->roster), &ok);
        break;
    case CDX_PAYLOAD_TREE_HEAD:
        p = json_object();
        if (p) {
            s_set(p, "origin", s_jstr(b->tree_head.origin), &ok);
            s_set(p, "size", json_integer((json_int_t)b->tree_head.size), &ok);
            s_set(p, "root", s_jhex(b->tree_head.root, CDX_HASH_BYTES), &ok);
            s_set(p, "timestamp", s_jtime(b->tree_head.timestamp_ms), &ok);
        }
        break;
    case CDX_PAYLOAD_HEARTBEAT:
        p = json_object();
        if (p) {
            s_set(p, "last_seq", json_integer((json_int_t)b->heartbeat.last_seq), &ok);
            if (b->heartbeat.has_last_hash)
                s_set(p, "last_hash", s_jhex(b->heartbeat.last_hash, CDX_HASH_BYTES), &ok);
            if (b->heartbeat.interval_ms)
                s_set(p, "interval_ms", json_integer((json_int_t)b->heartbeat.interval_ms), &ok);
        }
        break;
    case CDX_PAYLOAD_WITNESS:
        p = s_witness_seen(&b->witness);
        if (p)
            s_set(p, "head", s_jb64(&b->witness), &ok);
        break;
    case CDX_PAYLOAD_NONE:
    default: break;
    }
    if (b->kind != CDX_PAYLOAD_NONE)
        s_set(o, cdx_payload_kind_name(b->kind), p, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_member_to(const cdx_member *m)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!ok)
        return NULL;
    char z85[41];
    cdx__z85_encode_key(z85, m->curve_pk);
    s_set(o, "id", s_jstr(m->id), &ok);
    s_set(o, "role", json_string(cdx_role_name(m->role)), &ok);
    s_set(o, "sign_pk", s_jhex(m->sign_pk, CDX_PK_BYTES), &ok);
    s_set(o, "seal_pk", s_jhex(m->seal_pk, CDX_PK_BYTES), &ok);
    s_set(o, "curve_pk", json_string(z85), &ok);
    if (m->valid_from_ms)
        s_set(o, "valid_from", s_jtime(m->valid_from_ms), &ok);
    if (m->valid_until_ms)
        s_set(o, "valid_until", s_jtime(m->valid_until_ms), &ok);
    if (m->revoked_at_ms)
        s_set(o, "revoked_at", s_jtime(m->revoked_at_ms), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Serializes and frees a built object. */
static cdx_err s_finish(char **out, json_t *o, bool pretty)
{
    *out = NULL;
    if (!o)
        return CDX_ERR_NOMEM;
    size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    *out = json_dumps(o, flags);
    json_decref(o);
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}

cdx_err cdx_json_from_alert(char **out, const cdx_alert *a, bool pretty)
{
    return s_finish(out, s_alert_to(a), pretty);
}

cdx_err cdx_json_from_ack(char **out, const cdx_ack *a, bool pretty)
{
    return s_finish(out, s_ack_to(a), pretty);
}

cdx_err cdx_json_from_body(char **out, const cdx_body *b, bool pretty)
{
    return s_finish(out, s_body_to(b), pretty);
}

cdx_err cdx_json_from_member(char **out, const cdx_member *m, bool pretty)
{
    return s_finish(out, s_member_to(m), pretty);
}

static json_t *s_envelope_to(const cdx_envelope *env, const cdx_alert *opened)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (o) {
        size_t len;
        cdx_envelope_bytes(env, &len);
        s_set(o, "hash", s_jhex(cdx_envelope_hash(env), CDX_HASH_BYTES), &ok);
        s_set(o, "signer", s_jstr(cdx_envelope_signer(env)), &ok);
        s_set(o, "verified", json_boolean(cdx_envelope_verified(env)), &ok);
        s_set(o, "size", json_integer((json_int_t)len), &ok);
        cdx_batch_info bi;
        if (cdx_envelope_batch(env, &bi)) {
            json_t *b = json_object();
            s_set(b, "root", s_jhex(bi.root, CDX_HASH_BYTES), &ok);
            s_set(b, "root_signature", s_jhex(bi.root_signature, CDX_SIG_BYTES), &ok);
            s_set(b, "size", json_integer((json_int_t)bi.size), &ok);
            s_set(b, "index", json_integer((json_int_t)bi.index), &ok);
            s_set(o, "batch", b, &ok);
        } else {
            s_set(o, "signature", s_jhex(cdx_envelope_signature(env), CDX_SIG_BYTES), &ok);
        }
        s_set(o, "body", s_body_to(cdx_envelope_body(env)), &ok);
        if (opened)
            s_set(o, "opened", s_alert_to(opened), &ok);
    }
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

cdx_err cdx_json_from_envelope(char **out, const cdx_envelope *env, const cdx_alert *opened,
                               bool pretty)
{
    return s_finish(out, s_envelope_to(env, opened), pretty);
}

cdx_err cdx_json_from_log_entry(char **out, const cdx_log_entry *e, const cdx_envelope *env,
                                const cdx_alert *opened)
{
    json_t *o = json_object(), *flags = json_array();
    bool ok = o && flags;
    if (ok && (e->flags & CDX_LOG_FLAG_GAP))
        ok = json_array_append_new(flags, json_string("gap-before")) == 0;
    if (ok && (e->flags & CDX_LOG_FLAG_CHAIN_BREAK))
        ok = json_array_append_new(flags, json_string("chain-break")) == 0;
    if (o) {
        s_set(o, "index", json_integer((json_int_t)e->index), &ok);
        s_set(o, "received_at", s_jtime(e->received_at_ms), &ok);
        s_set(o, "from", s_jstr(e->received_from), &ok);
        s_set(o, "outcome", json_string(cdx_log_outcome_name(e->outcome)), &ok);
        s_set(o, "flags", flags, &ok);
        flags = NULL;
        s_set(o, "envelope", s_envelope_to(env, opened), &ok);
    }
    json_decref(flags);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return s_finish(out, o, false);
}

cdx_err cdx_json_from_audit_report(char **out, const char *origin, const cdx_audit_report *r)
{
    json_t *o = json_object(), *gaps = json_array(), *evidence = json_array();
    bool ok = o && gaps && evidence;
    for (uint64_t i = 0; ok && r->pass && i < r->evidence_count && i < CDX_AUDIT_MAX_EVIDENCE;
         i++) {
        const cdx_audit_evidence *ev = &r->evidence[i];
        json_t *e = json_object();
        bool eok = e != NULL;
        if (e) {
            s_set(e, "kind",
                  json_string(ev->kind == CDX_AUDIT_EQUIVOCATION ? "equivocation" : "fork"), &eok);
            s_set(e, "sender", s_jstr(ev->sender), &eok);
            s_set(e, "seq", json_integer((json_int_t)ev->seq), &eok);
            s_set(e, "entries", json_pack("[I,I]", (json_int_t)ev->first, (json_int_t)ev->second),
                  &eok);
        }
        ok = s_append(evidence, e, eok);
    }
    for (uint64_t i = 0; ok && i < r->gaps && i < CDX_AUDIT_MAX_GAPS; i++) {
        json_t *g = json_object();
        bool gok = g != NULL;
        if (g) {
            s_set(g, "sender", s_jstr(r->gap[i].sender), &gok);
            s_set(g, "from", json_integer((json_int_t)r->gap[i].from), &gok);
            s_set(g, "to", json_integer((json_int_t)r->gap[i].to), &gok);
        }
        ok = s_append(gaps, g, gok);
    }
    if (o) {
        s_set(o, "log", s_jstr(origin), &ok);
        s_set(o, "verdict",
              json_string(!r->pass            ? "FAIL"
                          : r->evidence_count ? "EVIDENCE"
                                              : "PASS"),
              &ok);
        s_set(o, "intact", json_boolean(r->pass), &ok);
        s_set(o, "entries", json_integer((json_int_t)r->entries), &ok);
        s_set(o, "verified", json_integer((json_int_t)r->verified), &ok);
        if (!r->pass)
            s_set(o, "reason", s_jstr(r->reason), &ok);
        if (!r->pass && r->has_bad)
            s_set(o, "first_bad", json_integer((json_int_t)r->first_bad), &ok);
        s_set(o, "roster_version", json_integer((json_int_t)r->roster_version), &ok);
        s_set(o, "checkpoints", json_integer((json_int_t)r->checkpoints), &ok);
        s_set(o, "last_checkpoint", json_integer((json_int_t)r->last_checkpoint), &ok);
        s_set(o, "senders", json_integer((json_int_t)r->senders), &ok);
        s_set(o, "equivocations", json_integer((json_int_t)r->equivocations), &ok);
        s_set(o, "receipts", json_integer((json_int_t)r->receipts), &ok);
        s_set(o, "gap_count", json_integer((json_int_t)r->gaps), &ok);
        s_set(o, "gaps", gaps, &ok);
        gaps = NULL;
        s_set(o, "evidence_count", json_integer((json_int_t)(r->pass ? r->evidence_count : 0)),
              &ok);
        s_set(o, "evidence", evidence, &ok);
        evidence = NULL;
    }
    json_decref(gaps);
    json_decref(evidence);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return s_finish(out, o, false);
}

cdx_err cdx_json_from_roster(char **out, const cdx_roster *r, bool pretty)
{
    json_t *o = json_object(), *admins = json_array(), *members = json_array(),
           *sigs = json_array();
    bool ok = o && admins && members && sigs;
    for (size_t i = 0; ok && i < cdx_roster_admin_count(r); i++) {
        const uint8_t *pk;
        const char *id = cdx_roster_admin_at(r, i, &pk);
        json_t *e = json_object();
        bool eok = e != NULL;
        if (e) {
            s_set(e, "id", s_jstr(id), &eok);
            s_set(e, "sign_pk", s_jhex(pk, CDX_PK_BYTES), &eok);
        }
        if (!s_append(admins, e, eok))
            ok = false;
    }
    for (size_t i = 0; ok && i < cdx_roster_member_count(r); i++)
        if (json_array_append_new(members, s_member_to(cdx_roster_member_at(r, i))) != 0)
            ok = false;
    for (size_t i = 0; ok && i < cdx_roster_signature_count(r); i++)
        if (json_array_append_new(sigs, s_jstr(cdx_roster_signer_at(r, i))) != 0)
            ok = false;
    if (o) {
        s_set(o, "federation", s_jstr(cdx_roster_federation(r)), &ok);
        s_set(o, "version", json_integer((json_int_t)cdx_roster_version(r)), &ok);
        s_set(o, "issued_at", s_jtime(cdx_roster_issued_at(r)), &ok);
        s_set(o, "threshold", json_integer((json_int_t)cdx_roster_threshold(r)), &ok);
        s_set(o, "admins", admins, &ok);
        s_set(o, "members", members, &ok);
        s_set(o, "signed_by", sigs, &ok);
    } else {
        json_decref(admins);
        json_decref(members);
        json_decref(sigs);
    }
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return s_finish(out, o, pretty);
}
