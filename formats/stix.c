/* STIX 2.1 out (a bundle per alert or ack), and in for a bundle holding one
 * report and its indicators.
 *
 * An alert becomes: the sender's identity, the TLP 2.0 marking definition,
 * an identity of class "class" per affected sector, an indicator per
 * observable (a one-comparison STIX pattern, or a YARA/Snort/Sigma rule), a
 * vulnerability per CVE indicator, and the report that refers to them.
 * STIX has no severity, status or message type: they travel as x_cydex_*
 * custom properties on the report, with the provenance. An update keeps
 * the report's id (that of the alert it updates) and its `created`, and
 * raises `modified`; a cancel revokes it. An ack becomes a note on the
 * alert's report.
 *
 * What must always hold (each rule has a test): every id is
 * "<type>--<RFC 4122 UUID of version 1-5>", deterministic per alert;
 * every timestamp is RFC 3339 UTC ending in "Z", modified >= created; the
 * marking definitions are OASIS's TLP 2.0 objects, byte for byte; every
 * *_ref of an alert's bundle names an object inside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"

#define S_TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define S_TLP_CREATED "2022-10-01T00:00:00.000Z"
/* created and modified of the identities CyDEx derives (a member, a
 * sector): the same in every bundle, so that one id is always one object. */
#define S_IDENTITY_TIME "2024-01-01T00:00:00.000Z"

static const char *const s_tlp_names[] = {"",          "TLP:CLEAR",        "TLP:GREEN",
                                          "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};

/* ================================================================ export == */

typedef struct s_bundle {
    json_t *objects;
    json_t *refs; /* the report's object_refs */
    bool ok;
    cdx_err rc;
    cdx_errbuf *eb;
    char created[CDX_TIME_TEXT_MAX], modified[CDX_TIME_TEXT_MAX];
    char identity[64]; /* "identity--…", or "" without a sender */
    const char *marking;
    bool revoked;
} s_bundle;

static json_t *s_sdo(s_bundle *b, const char *type, const char *id, const char *created,
                     const char *modified)
{
    json_t *o = json_object();
    cdx__fmt_jsets(o, "type", type, &b->ok);
    cdx__fmt_jsets(o, "spec_version", "2.1", &b->ok);
    cdx__fmt_jsets(o, "id", id, &b->ok);
    cdx__fmt_jsets(o, "created", created, &b->ok);
    cdx__fmt_jsets(o, "modified", modified, &b->ok);
    return o;
}

/* created_by_ref, object_marking_refs and revoked of an alert's objects. */
static void s_common(s_bundle *b, json_t *o)
{
    if (b->identity[0])
        cdx__fmt_jsets(o, "created_by_ref", b->identity, &b->ok);
    if (b->marking) {
        json_t *m = json_array();
        cdx__fmt_jpush(m, json_string(b->marking), &b->ok);
        cdx__fmt_jset(o, "object_marking_refs", m, &b->ok);
    }
    if (b->revoked)
        cdx__fmt_jset(o, "revoked", json_true(), &b->ok);
}

static void s_push(s_bundle *b, json_t *o, bool referenced)
{
    if (referenced)
        cdx__fmt_jpush(b->refs, json_string(json_string_value(json_object_get(o, "id"))), &b->ok);
    cdx__fmt_jpush(b->objects, o, &b->ok);
}

static void s_identity(s_bundle *b, const char *sender, const cdx_fmt_opts *o)
{
    char uuid[CDX_UUID_TEXT];
    const char *name = cdx_orgs_name(o ? o->orgs : NULL, sender, uuid);
    snprintf(b->identity, sizeof b->identity, "identity--%s", uuid);
    json_t *id = s_sdo(b, "identity", b->identity, S_IDENTITY_TIME, S_IDENTITY_TIME);
    cdx__fmt_jsets(id, "name", name, &b->ok);
    cdx__fmt_jsets(id, "identity_class", "organization", &b->ok);
    cdx__fmt_jsets(id, "x_cydex_member", sender, &b->ok);
    s_push(b, id, false);
}

static void s_marking(s_bundle *b, cdx_tlp tlp)
{
    json_t *m = json_object(), *ext = json_object(), *def = json_object();
    cdx__fmt_jsets(m, "type", "marking-definition", &b->ok);
    cdx__fmt_jsets(m, "spec_version", "2.1", &b->ok);
    cdx__fmt_jsets(m, "id", cdx__fmt_tlp_marking(tlp), &b->ok);
    cdx__fmt_jsets(m, "created", S_TLP_CREATED, &b->ok);
    cdx__fmt_jsets(m, "name", s_tlp_names[tlp], &b->ok);
    cdx__fmt_jsets(def, "extension_type", "property-extension", &b->ok);
    cdx__fmt_jsets(def, "tlp_2_0", cdx__fmt_tlp_lower(tlp), &b->ok);
    cdx__fmt_jset(ext, S_TLP_EXT, def, &b->ok);
    cdx__fmt_jset(m, "extensions", ext, &b->ok);
    cdx__fmt_jpush(b->objects, m, &b->ok);
    b->marking = cdx__fmt_tlp_marking(tlp);
}

/* A STIX pattern string literal: quotes and backslashes escaped. */
static char *s_literal(const char *v)
{
    size_t n = 0;
    for (const char *p = v; *p; p++)
        n += (*p == '\'' || *p == '\\') ? 2 : 1;
    char *s = malloc(n + 3), *q = s;
    if (!s)
        return NULL;
    *q++ = '\'';
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\')
            *q++ = '\\';
        *q++ = *p;
    }
    *q++ = '\'';
    *q = '\0';
    return s;
}

/* The pattern of one indicator, or NULL with b->rc set. */
static char *s_pattern(s_bundle *b, const cdx__fmt_type *t, const cdx_indicator *d, size_t i)
{
    if (!t->stix_path[0])
        return cdx__fmt_strdup(d->value);
    const char *path = t->stix_path;
    if ((strcmp(t->type, "ip-src") == 0 || strcmp(t->type, "ip-dst") == 0) && strchr(d->value, ':'))
        path = "ipv6-addr:value";
    if (t->numeric) {
        const char *digits = d->value;
        if ((digits[0] == 'A' || digits[0] == 'a') && (digits[1] == 'S' || digits[1] == 's'))
            digits += 2;
        uint64_t n;
        if (!cdx_parse_u64(digits, &n) || n > 4294967295u) {
            b->rc =
                cdx_errf(b->eb, CDX_ERR_UNSUPPORTED,
                         "alert.indicators[%zu].value: \"%.40s\" is not an AS number", i, d->value);
            return NULL;
        }
        return cdx__fmt_printf("[%s = %llu]", path, (unsigned long long)n);
    }
    char *lit = s_literal(d->value);
    char *p = lit ? cdx__fmt_printf("[%s = %s]", path, lit) : NULL;
    free(lit);
    return p;
}

static unsigned s_nth(const cdx_indicator *v, size_t i)
{
    unsigned n = 1;
    for (size_t k = 0; k < i; k++)
        n += strcmp(v[k].type, v[i].type) == 0 && strcmp(v[k].value, v[i].value) == 0;
    return n;
}

static bool s_cve(const char *v)
{
    return strncmp(v, "CVE-", 4) == 0 || strncmp(v, "cve-", 4) == 0;
}

/* An external reference for a CyDEx reference: a CVE id, a URL, or text. */
static json_t *s_extref(const char *r, bool *ok)
{
    json_t *e = json_object();
    if (s_cve(r)) {
        cdx__fmt_jsets(e, "source_name", "cve", ok);
        cdx__fmt_jsets(e, "external_id", r, ok);
    } else {
        cdx__fmt_jsets(e, "source_name", "reference", ok);
        cdx__fmt_jsets(e, strstr(r, "://") ? "url" : "external_id", r, ok);
    }
    return e;
}

/* The report's id, created and modified: an update keeps its original's
 * id and created (when this run saw the original), and raises modified. */
static void s_versions(s_bundle *b, const cdx_item *it, const cdx_fmt_opts *o,
                       char report[CDX_UUID_TEXT])
{
    const cdx_alert *a = &it->alert;
    uint64_t when = cdx__fmt_time_of(it, o), created = when;
    const char *root = a->msg_type == CDX_MSG_ALERT ? a->id : a->updates;
    const cdx__fmt_seen_alert *up =
        a->msg_type != CDX_MSG_ALERT && o ? cdx__fmt_seen_by_id(o->seen, a->updates) : NULL;
    if (up) {
        root = up->root;
        const cdx__fmt_seen_alert *first = cdx__fmt_seen_by_id(o->seen, up->root);
        created = up->created_ms ? up->created_ms : first ? first->sent_at_ms : 0;
    }
    if (a->msg_type != CDX_MSG_ALERT && (!up || !created)) {
        created = when;
        cdx__fmt_say(o,
                     "alert %s: the %s's original %s was not seen in this run, so its report's "
                     "created is the %s's own time",
                     a->id, cdx_msg_type_name(a->msg_type), a->updates,
                     cdx_msg_type_name(a->msg_type));
    }
    if (when < created) {
        cdx__fmt_say(o, "alert %s: sent before the alert it updates; modified is set to created",
                     a->id);
        when = created;
    }
    cdx__fmt_alert_uuid(report, root);
    cdx_time_format(b->created, created);
    cdx_time_format(b->modified, when);
}

static void s_prov_props(s_bundle *b, json_t *o, const cdx_item *it, const cdx_fmt_opts *fo)
{
    const cdx_provenance *p = &it->prov;
    if (p->known) {
        char when[CDX_TIME_TEXT_MAX], hash[2 * CDX_HASH_BYTES + 1];
        cdx_time_format(when, p->sent_at_ms);
        cdx_hex_encode(hash, p->hash, CDX_HASH_BYTES);
        cdx__fmt_jsets(o, "x_cydex_sender", p->sender, &b->ok);
        cdx__fmt_jset(o, "x_cydex_seq", json_integer((json_int_t)p->seq), &b->ok);
        cdx__fmt_jsets(o, "x_cydex_sent_at", when, &b->ok);
        cdx__fmt_jsets(o, "x_cydex_topic", p->topic, &b->ok);
        cdx__fmt_jsets(o, "x_cydex_envelope_hash", hash, &b->ok);
        if (p->sealed) {
            json_t *r = json_array();
            for (size_t i = 0; i < p->n_recipients; i++)
                cdx__fmt_jpush(r, json_string(p->recipients[i]), &b->ok);
            cdx__fmt_jset(o, "x_cydex_recipients", r, &b->ok);
        }
    }
    if (fo && fo->with_envelope && b->rc == CDX_OK) {
        if (!p->envelope.len) {
            b->rc = cdx_errf(b->eb, CDX_ERR_UNSUPPORTED,
                             "--with-envelope: this input carries no signed envelope (give the "
                             "envelope itself, or a log)");
            return;
        }
        char *b64 = cdx_base64_encode(p->envelope.data, p->envelope.len);
        cdx__fmt_jsets(o, "x_cydex_envelope", b64, &b->ok);
        if (!b64)
            b->ok = false;
        free(b64);
    }
}

static json_t *s_alert_bundle(s_bundle *b, const cdx_item *it, const cdx_fmt_opts *o)
{
    const cdx_alert *a = &it->alert;
    char report[CDX_UUID_TEXT], id[96];
    s_versions(b, it, o, report);
    b->revoked = a->msg_type == CDX_MSG_CANCEL;
    const char *sender = cdx__fmt_sender(it, o);
    if (sender)
        s_identity(b, sender, o);
    s_marking(b, a->tlp);

    /* Sectors: one identity of class "class" each (once per name). */
    for (size_t i = 0; i < a->n_sectors; i++) {
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || strcmp(a->sectors[k], a->sectors[i]) == 0;
        if (dup)
            continue;
        char su[CDX_UUID_TEXT];
        cdx__fmt_uuid5f(su, "sector:%s", a->sectors[i]);
        snprintf(id, sizeof id, "identity--%s", su);
        json_t *s = s_sdo(b, "identity", id, S_IDENTITY_TIME, S_IDENTITY_TIME);
        json_t *v = json_array();
        cdx__fmt_jsets(s, "name", a->sectors[i], &b->ok);
        cdx__fmt_jsets(s, "identity_class", "class", &b->ok);
        cdx__fmt_jpush(v, json_string(cdx__fmt_stix_sector(a->sectors[i])), &b->ok);
        cdx__fmt_jset(s, "sectors", v, &b->ok);
        cdx__fmt_jsets(s, "x_cydex_sector", a->sectors[i], &b->ok);
        s_push(b, s, true);
    }

    json_t *ext = json_array();
    for (size_t i = 0; b->rc == CDX_OK && i < a->n_indicators; i++) {
        const cdx_indicator *d = &a->indicators[i];
        const cdx__fmt_type *t = cdx__fmt_type_find(d->type);
        if (!t) {
            b->rc = cdx_errf(b->eb, CDX_ERR_UNSUPPORTED,
                             "alert.indicators[%zu].type: \"%s\" is not a type CyDEx maps to STIX "
                             "(it maps %s)",
                             i, d->type, cdx__fmt_type_list());
            break;
        }
        char iu[CDX_UUID_TEXT];
        unsigned nth = s_nth(a->indicators, i);
        if (strcmp(t->type, "link") == 0) {
            json_t *e = json_object();
            cdx__fmt_jsets(e, "source_name", "link", &b->ok);
            cdx__fmt_jsets(e, "url", d->value, &b->ok);
            if (!cdx__fmt_empty(d->comment))
                cdx__fmt_jsets(e, "description", d->comment, &b->ok);
            cdx__fmt_jpush(ext, e, &b->ok);
        } else if (strcmp(t->type, "vulnerability") == 0) {
            cdx__fmt_uuid5f(iu, "vulnerability:%s:%s:%u", report, d->value, nth);
            snprintf(id, sizeof id, "vulnerability--%s", iu);
            json_t *v = s_sdo(b, "vulnerability", id, b->created, b->modified);
            s_common(b, v);
            cdx__fmt_jsets(v, "name", d->value, &b->ok);
            if (!cdx__fmt_empty(d->comment))
                cdx__fmt_jsets(v, "description", d->comment, &b->ok);
            if (s_cve(d->value)) {
                json_t *refs = json_array(), *e = json_object();
                cdx__fmt_jsets(e, "source_name", "cve", &b->ok);
                cdx__fmt_jsets(e, "external_id", d->value, &b->ok);
                cdx__fmt_jpush(refs, e, &b->ok);
                cdx__fmt_jset(v, "external_references", refs, &b->ok);
            }
            cdx__fmt_jset(v, "x_cydex_position", json_integer((json_int_t)i), &b->ok);
            s_push(b, v, true);
        } else if (!t->stix_path) {
            b->rc = cdx_errf(b->eb, CDX_ERR_UNSUPPORTED,
                             "alert.indicators[%zu]: a \"%s\" indicator has no STIX form (no "
                             "observable to match)",
                             i, d->type);
        } else {
            char *pattern = s_pattern(b, t, d, i);
            if (pattern) {
                cdx__fmt_uuid5f(iu, "indicator:%s:%s:%s:%u", report, d->type, d->value, nth);
                snprintf(id, sizeof id, "indicator--%s", iu);
                json_t *v = s_sdo(b, "indicator", id, b->created, b->modified);
                json_t *types = json_array();
                s_common(b, v);
                char *label = cdx__fmt_printf("%s %s", d->type, d->value);
                cdx__fmt_jsets(v, "name", label, &b->ok);
                free(label);
                if (!cdx__fmt_empty(d->comment))
                    cdx__fmt_jsets(v, "description", d->comment, &b->ok);
                cdx__fmt_jpush(types, json_string(t->to_ids ? "malicious-activity" : "unknown"),
                               &b->ok);
                cdx__fmt_jset(v, "indicator_types", types, &b->ok);
                cdx__fmt_jsets(v, "pattern", pattern, &b->ok);
                cdx__fmt_jsets(v, "pattern_type", t->pattern_type, &b->ok);
                cdx__fmt_jsets(v, "valid_from", b->created, &b->ok);
                if (a->expires_at_ms) {
                    char until[CDX_TIME_TEXT_MAX];
                    cdx_time_format(until, a->expires_at_ms);
                    if (strcmp(until, b->created) > 0) /* valid_until > valid_from */
                        cdx__fmt_jsets(v, "valid_until", until, &b->ok);
                }
                cdx__fmt_jsets(v, "x_cydex_type", d->type, &b->ok);
                if (t->numeric && !(d->value[0] >= '0' && d->value[0] <= '9'))
                    /* "AS64500": the pattern holds the number alone */
                    cdx__fmt_jsets(v, "x_cydex_value", d->value, &b->ok);
                cdx__fmt_jset(v, "x_cydex_position", json_integer((json_int_t)i), &b->ok);
                s_push(b, v, true);
            }
            free(pattern);
        }
    }
    for (size_t i = 0; i < a->n_references; i++)
        cdx__fmt_jpush(ext, s_extref(a->references[i], &b->ok), &b->ok);
    if (b->rc != CDX_OK) {
        json_decref(ext);
        return NULL;
    }
    /* A report refers to at least one object: the sender (or the label)
     * when the alert names no observable or sector. */
    if (json_array_size(b->refs) == 0)
        cdx__fmt_jpush(b->refs, json_string(b->identity[0] ? b->identity : b->marking), &b->ok);

    snprintf(id, sizeof id, "report--%s", report);
    json_t *r = s_sdo(b, "report", id, b->created, b->modified);
    s_common(b, r);
    cdx__fmt_jsets(r, "name", a->title, &b->ok);
    if (!cdx__fmt_empty(a->description))
        cdx__fmt_jsets(r, "description", a->description, &b->ok);
    json_t *rt = json_array();
    cdx__fmt_jpush(rt, json_string("threat-report"), &b->ok);
    cdx__fmt_jset(r, "report_types", rt, &b->ok);
    cdx__fmt_jsets(r, "published", b->modified, &b->ok);
    cdx__fmt_jset(r, "object_refs", b->refs, &b->ok);
    b->refs = NULL;
    if (json_array_size(ext))
        cdx__fmt_jset(r, "external_references", ext, &b->ok);
    else
        json_decref(ext);
    cdx__fmt_jsets(r, "x_cydex_alert_id", a->id, &b->ok);
    cdx__fmt_jsets(r, "x_cydex_severity", cdx_severity_name(a->severity), &b->ok);
    cdx__fmt_jsets(r, "x_cydex_status", cdx_status_name(a->status), &b->ok);
    cdx__fmt_jsets(r, "x_cydex_msg_type", cdx_msg_type_name(a->msg_type), &b->ok);
    if (a->msg_type != CDX_MSG_ALERT)
        cdx__fmt_jsets(r, "x_cydex_updates", a->updates, &b->ok);
    if (!cdx__fmt_empty(a->category))
        cdx__fmt_jsets(r, "x_cydex_category", a->category, &b->ok);
    if (a->n_sectors) {
        json_t *s = json_array();
        for (size_t i = 0; i < a->n_sectors; i++)
            cdx__fmt_jpush(s, json_string(a->sectors[i]), &b->ok);
        cdx__fmt_jset(r, "x_cydex_sectors", s, &b->ok);
    }
    if (a->expires_at_ms) {
        char exp[CDX_TIME_TEXT_MAX];
        cdx_time_format(exp, a->expires_at_ms);
        cdx__fmt_jsets(r, "x_cydex_expires", exp, &b->ok);
    }
    s_prov_props(b, r, it, o);
    s_push(b, r, false);
    char bu[CDX_UUID_TEXT];
    cdx__fmt_uuid5f(bu, "bundle:%s:%s:%s", report, b->modified, a->id);
    return json_string(bu);
}

static json_t *s_ack_bundle(s_bundle *b, const cdx_item *it, const cdx_fmt_opts *o)
{
    const cdx_ack *k = &it->ack;
    const cdx__fmt_seen_alert *seen = o ? cdx__fmt_seen_by_hash(o->seen, k->alert_hash) : NULL;
    const char *root = seen ? seen->root : k->alert_id;
    if (cdx__fmt_empty(root)) {
        b->rc = cdx_errf(b->eb, CDX_ERR_UNSUPPORTED,
                         "ack.alert_id: a STIX note refers to the alert's report, and this ack "
                         "names only the alert's hash");
        return NULL;
    }
    char report[CDX_UUID_TEXT], hash[2 * CDX_HASH_BYTES + 1], nu[CDX_UUID_TEXT], id[96];
    cdx__fmt_alert_uuid(report, root);
    cdx__fmt_ack_uuid(nu, it);
    cdx_hex_encode(hash, k->alert_hash, CDX_HASH_BYTES);
    char when[CDX_TIME_TEXT_MAX];
    cdx_time_format(when, cdx__fmt_time_of(it, o));
    const char *sender = cdx__fmt_sender(it, o);
    if (sender)
        s_identity(b, sender, o);
    snprintf(id, sizeof id, "note--%s", nu);
    json_t *n = s_sdo(b, "note", id, when, when);
    if (b->identity[0])
        cdx__fmt_jsets(n, "created_by_ref", b->identity, &b->ok);
    char *content =
        cdx__fmt_printf("%s acknowledges alert %s: %s%s%s", sender ? sender : "A member",
                        k->alert_id ? k->alert_id : hash, cdx_ack_stage_name(k->stage),
                        cdx__fmt_empty(k->note) ? "" : ". ", k->note ? k->note : "");
    cdx__fmt_jsets(n, "abstract", cdx_ack_stage_name(k->stage), &b->ok);
    cdx__fmt_jsets(n, "content", content, &b->ok);
    free(content);
    json_t *refs = json_array();
    snprintf(id, sizeof id, "report--%s", report);
    cdx__fmt_jpush(refs, json_string(id), &b->ok);
    cdx__fmt_jset(n, "object_refs", refs, &b->ok);
    cdx_hex_encode(hash, k->alert_hash, CDX_HASH_BYTES);
    cdx__fmt_jsets(n, "x_cydex_ack_stage", cdx_ack_stage_name(k->stage), &b->ok);
    cdx__fmt_jsets(n, "x_cydex_alert_hash", hash, &b->ok);
    if (!cdx__fmt_empty(k->alert_id))
        cdx__fmt_jsets(n, "x_cydex_alert_id", k->alert_id, &b->ok);
    if (!cdx__fmt_empty(k->note))
        cdx__fmt_jsets(n, "x_cydex_note", k->note, &b->ok);
    s_prov_props(b, n, it, o);
    s_push(b, n, false);
    char bu[CDX_UUID_TEXT];
    cdx__fmt_uuid5f(bu, "bundle:%s", nu);
    return json_string(bu);
}

cdx_err cdx_stix_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    *out = NULL;
    s_bundle b = {.objects = json_array(), .refs = json_array(), .ok = true, .eb = eb};
    json_t *bid = NULL;
    if (it->kind == CDX_ITEM_ALERT)
        bid = s_alert_bundle(&b, it, o);
    else if (it->kind == CDX_ITEM_ACK)
        bid = s_ack_bundle(&b, it, o);
    else
        b.rc = cdx_errf(eb, CDX_ERR_INVALID, "an empty item");
    json_decref(b.refs);
    if (b.rc != CDX_OK || !b.ok || !bid) {
        json_decref(b.objects);
        json_decref(bid);
        return b.rc != CDX_OK ? b.rc : CDX_ERR_NOMEM;
    }
    json_t *doc = json_object();
    char *id = cdx__fmt_printf("bundle--%s", json_string_value(bid));
    json_decref(bid);
    cdx__fmt_jsets(doc, "type", "bundle", &b.ok);
    cdx__fmt_jsets(doc, "id", id, &b.ok);
    cdx__fmt_jset(doc, "objects", b.objects, &b.ok);
    free(id);
    if (!b.ok || !id) {
        json_decref(doc);
        return CDX_ERR_NOMEM;
    }
    return cdx__fmt_json_dump(out, doc, o && o->pretty);
}

/* ================================================================ import == */

/* "<type>--<uuid>" with the uuid RFC 4122 of version 1-5; *type_len the
 * length of the type part. */
static bool s_stix_id(const char *id, size_t *type_len)
{
    const char *dd = id ? strstr(id, "--") : NULL;
    if (!dd || dd == id)
        return false;
    for (const char *p = id; p < dd; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    *type_len = (size_t)(dd - id);
    return cdx__fmt_uuid_rfc(dd + 2);
}

/* A STIX timestamp: RFC 3339, UTC, "Z", any fraction (kept to ms). */
static bool s_stix_time(const char *t, uint64_t *ms)
{
    size_t n = t ? strlen(t) : 0;
    if (n < 20 || t[n - 1] != 'Z' || t[10] != 'T')
        return false;
    char buf[32];
    memcpy(buf, t, 19);
    size_t k = 19;
    const char *p = t + 19;
    if (*p == '.') {
        buf[k++] = *p++;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                buf[k++] = *p;
        if (digits == 0)
            return false;
    }
    if (p != t + n - 1)
        return false;
    buf[k++] = 'Z';
    buf[k] = '\0';
    return cdx_time_parse(buf, ms) == CDX_OK;
}

typedef struct s_in {
    json_t *doc;
    json_t *objects;
    json_t *by_id; /* id -> its index in objects, built by s_check_objects */
    const cdx_fmt_opts *o;
    cdx_errbuf *eb;
} s_in;

/* The object with this id, and its index for messages; NULL if none. */
static json_t *s_find(const s_in *in, const char *id, size_t *at)
{
    json_t *k = json_object_get(in->by_id, id);
    if (!k)
        return NULL;
    if (at)
        *at = (size_t)json_integer_value(k);
    return json_array_get(in->objects, (size_t)json_integer_value(k));
}

/* Checks the common properties of every object, in one pass, and indexes
 * them by id. */
static cdx_err s_check_objects(s_in *in)
{
    size_t i;
    json_t *e;
    if (!(in->by_id = json_object()))
        return CDX_ERR_NOMEM;
    json_array_foreach(in->objects, i, e)
    {
        char path[48];
        snprintf(path, sizeof path, "objects[%zu]", i);
        const char *type, *id, *spec, *created, *modified;
        cdx_err rc;
        if (!json_is_object(e))
            return cdx_errf(in->eb, CDX_ERR_FORMAT, "%s: expected an object", path);
        if ((rc = cdx__fmt_jstr_req(e, path, "type", &type, in->eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr_req(e, path, "id", &id, in->eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, path, "spec_version", &spec, in->eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, path, "created", &created, in->eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, path, "modified", &modified, in->eb)) != CDX_OK)
            return rc;
        size_t tl;
        if (!s_stix_id(id, &tl) || tl != strlen(type) || strncmp(id, type, tl) != 0)
            return cdx_errf(in->eb, CDX_ERR_FORMAT,
                            "%s.id: \"%.80s\" is not a STIX id \"%s--<UUID of version 1-5>\"", path,
                            id, type);
        if (spec && strcmp(spec, "2.1") != 0)
            return cdx_errf(in->eb, CDX_ERR_FORMAT, "%s.spec_version: \"%s\", not \"2.1\"", path,
                            spec);
        uint64_t c = 0, m = 0;
        if (created && !s_stix_time(created, &c))
            return cdx_errf(in->eb, CDX_ERR_FORMAT,
                            "%s.created: \"%.40s\" is not an RFC 3339 UTC time ending in Z", path,
                            created);
        if (modified && !s_stix_time(modified, &m))
            return cdx_errf(in->eb, CDX_ERR_FORMAT,
                            "%s.modified: \"%.40s\" is not an RFC 3339 UTC time ending in Z", path,
                            modified);
        if (created && modified && m < c)
            return cdx_errf(in->eb, CDX_ERR_FORMAT, "%s: modified is before created", path);
        size_t k;
        if (s_find(in, id, &k)) {
            const char *mk =
                json_string_value(json_object_get(json_array_get(in->objects, k), "modified"));
            if (!mk || !modified || strcmp(mk, modified) == 0)
                return cdx_errf(in->eb, CDX_ERR_FORMAT, "%s: the id %s comes twice", path, id);
            return cdx_errf(in->eb, CDX_ERR_UNSUPPORTED,
                            "%s: two versions of %s; give one version per bundle", path, id);
        }
        if (json_object_set_new(in->by_id, id, json_integer((json_int_t)i)) != 0)
            return CDX_ERR_NOMEM;
    }
    return CDX_OK;
}

/* The TLP of an object's object_marking_refs (TLP 2.0 or 1.0 ids, or a
 * marking definition in the bundle that says its TLP). */
static cdx_err s_tlp_of(s_in *in, json_t *obj, const char *path, cdx_tlp *out)
{
    json_t *refs;
    cdx_err rc = cdx__fmt_jarr(obj, path, "object_marking_refs", &refs, in->eb);
    *out = CDX_TLP_UNSPECIFIED;
    size_t i;
    json_t *e;
    json_array_foreach(refs, i, e)
    {
        if (rc != CDX_OK)
            break;
        const char *id = json_string_value(e);
        if (!id)
            return cdx_errf(in->eb, CDX_ERR_FORMAT,
                            "%s.object_marking_refs[%zu]: expected a string", path, i);
        cdx_tlp t = cdx__fmt_tlp_of_marking(id);
        json_t *m = t ? NULL : s_find(in, id, NULL);
        if (m) {
            json_t *ext = json_object_get(json_object_get(m, "extensions"), S_TLP_EXT);
            const char *v = json_string_value(json_object_get(ext, "tlp_2_0"));
            if (!v && json_is_string(json_object_get(m, "definition_type")) &&
                strcmp(json_string_value(json_object_get(m, "definition_type")), "tlp") == 0)
                v = json_string_value(json_object_get(json_object_get(m, "definition"), "tlp"));
            t = cdx__fmt_tlp_of_name(v);
        }
        if (!t) {
            rc = cdx__fmt_unmapped(in->o, in->eb,
                                   "%s.object_marking_refs[%zu]: %s is no TLP "
                                   "marking",
                                   path, i, id);
            continue;
        }
        if (*out && *out != t)
            return cdx_errf(in->eb, CDX_ERR_UNSUPPORTED, "%s: two TLP markings (%s and %s)", path,
                            cdx_tlp_name(*out), cdx_tlp_name(t));
        *out = t;
    }
    return rc;
}

/* "[path = 'value']" or "[path = 123]" exactly: one comparison, as the
 * export writes them. */
static bool s_parse_pattern(const char *pat, char *path, size_t pcap, char **value)
{
    const char *p = pat;
    while (*p == ' ')
        p++;
    if (*p++ != '[')
        return false;
    while (*p == ' ')
        p++;
    const char *ps = p;
    /* The object path: letters, digits, - _ . : * [ ] and quoted steps. */
    while (*p && *p != ' ' && *p != '=') {
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'')
                p++;
            if (!*p)
                return false;
        }
        p++;
    }
    size_t pl = (size_t)(p - ps);
    if (!pl || pl >= pcap)
        return false;
    memcpy(path, ps, pl);
    path[pl] = '\0';
    while (*p == ' ')
        p++;
    if (*p++ != '=')
        return false;
    while (*p == ' ')
        p++;
    char *v = malloc(strlen(p) + 1), *q = v;
    if (!v)
        return false;
    if (*p == '\'') {
        for (p++; *p && *p != '\''; p++) {
            if (*p == '\\') {
                p++;
                if (*p != '\'' && *p != '\\')
                    break;
            }
            *q++ = *p;
        }
        if (*p != '\'') {
            free(v);
            return false;
        }
        p++;
    } else {
        while (*p >= '0' && *p <= '9')
            *q++ = *p++;
        if (q == v) {
            free(v);
            return false;
        }
    }
    *q = '\0';
    while (*p == ' ')
        p++;
    if (*p++ != ']') {
        free(v);
        return false;
    }
    while (*p == ' ')
        p++;
    if (*p) {
        free(v);
        return false;
    }
    *value = v;
    return true;
}

/* The CyDEx type a pattern's path stands for: x_cydex_type if it agrees,
 * else the first (commonest) type with that path. */
static const char *s_type_of_path(const char *path, const char *hint)
{
    static const struct {
        const char *path, *type;
    } extra[] = {{"ipv4-addr:value", "ip-dst"},
                 {"ipv6-addr:value", "ip-dst"},
                 {"domain-name:value", "domain"}};
    const cdx__fmt_type *h = cdx__fmt_type_find(hint);
    if (h && h->stix_path &&
        (strcmp(h->stix_path, path) == 0 ||
         ((strcmp(h->type, "ip-src") == 0 || strcmp(h->type, "ip-dst") == 0) &&
          strcmp(path, "ipv6-addr:value") == 0)))
        return h->type;
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        if (strcmp(extra[i].path, path) == 0)
            return extra[i].type;
    static const char *const others[] = {"url",
                                         "email-src",
                                         "email-dst",
                                         "email-subject",
                                         "md5",
                                         "sha1",
                                         "sha256",
                                         "sha512",
                                         "filename",
                                         "mutex",
                                         "regkey",
                                         "AS",
                                         "mac-address",
                                         "user-agent",
                                         "x509-fingerprint-sha1",
                                         "x509-fingerprint-sha256",
                                         NULL};
    for (const char *const *t = others; *t; t++)
        if (strcmp(cdx__fmt_type_find(*t)->stix_path, path) == 0)
            return *t;
    return NULL;
}

typedef struct s_ind {
    long pos; /* x_cydex_position, or -1 */
    cdx_indicator d;
} s_ind;

static cdx_err s_add_ind(s_ind **v, size_t *n, long pos, const char *type, char *value,
                         const char *comment)
{
    s_ind *g = realloc(*v, (*n + 1) * sizeof **v);
    if (!g) {
        free(value);
        return CDX_ERR_NOMEM;
    }
    *v = g;
    s_ind *e = &g[(*n)++];
    e->pos = pos;
    e->d.type = cdx__fmt_strdup(type);
    e->d.value = value;
    e->d.comment = cdx__fmt_empty(comment) ? NULL : cdx__fmt_strdup(comment);
    return e->d.type && (cdx__fmt_empty(comment) || e->d.comment) ? CDX_OK : CDX_ERR_NOMEM;
}

/* The indicators in alert order: those with a position in it, the others
 * (links, foreign objects) filling the gaps in the order they came. */
static cdx_err s_order(cdx_alert *a, s_ind *v, size_t n, cdx_errbuf *eb)
{
    if (!n)
        return CDX_OK;
    a->indicators = calloc(n, sizeof *a->indicators);
    bool *taken = calloc(n, sizeof *taken);
    if (!a->indicators || !taken) {
        free(taken);
        return CDX_ERR_NOMEM;
    }
    a->n_indicators = n;
    cdx_err rc = CDX_OK;
    for (size_t i = 0; i < n && rc == CDX_OK; i++) {
        if (v[i].pos < 0)
            continue;
        if ((size_t)v[i].pos >= n || taken[v[i].pos])
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "x_cydex_position %ld: out of range or repeated",
                          v[i].pos);
        else {
            a->indicators[v[i].pos] = v[i].d;
            memset(&v[i].d, 0, sizeof v[i].d);
            taken[v[i].pos] = true;
        }
    }
    size_t gap = 0;
    for (size_t i = 0; i < n && rc == CDX_OK; i++) {
        if (v[i].pos >= 0)
            continue;
        while (taken[gap])
            gap++;
        a->indicators[gap] = v[i].d;
        memset(&v[i].d, 0, sizeof v[i].d);
        taken[gap] = true;
    }
    free(taken);
    return rc;
}

/* The x_cydex_* and other properties of the report that map. */
static const char *const s_report_keys[] = {"type",
                                            "spec_version",
                                            "id",
                                            "created",
                                            "modified",
                                            "created_by_ref",
                                            "published",
                                            "report_types",
                                            "object_refs",
                                            "object_marking_refs",
                                            "name",
                                            "description",
                                            "revoked",
                                            "external_references",
                                            "lang",
                                            "x_cydex_alert_id",
                                            "x_cydex_severity",
                                            "x_cydex_status",
                                            "x_cydex_msg_type",
                                            "x_cydex_updates",
                                            "x_cydex_category",
                                            "x_cydex_sectors",
                                            "x_cydex_expires",
                                            "x_cydex_sender",
                                            "x_cydex_seq",
                                            "x_cydex_sent_at",
                                            "x_cydex_topic",
                                            "x_cydex_envelope_hash",
                                            "x_cydex_recipients",
                                            "x_cydex_envelope",
                                            NULL};

static bool s_in_list(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

/* Provenance from x_cydex_* properties (all of sender, seq, sent_at,
 * topic and envelope_hash, or none). */
static cdx_err s_prov_from(s_in *in, json_t *o, const char *path, cdx_provenance *p)
{
    const char *sender, *sent_at, *topic, *hash, *env;
    uint64_t seq = 0;
    bool has_seq;
    json_t *recips;
    cdx_errbuf *eb = in->eb;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr(o, path, "x_cydex_sender", &sender, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(o, path, "x_cydex_sent_at", &sent_at, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(o, path, "x_cydex_topic", &topic, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(o, path, "x_cydex_envelope_hash", &hash, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(o, path, "x_cydex_envelope", &env, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(o, path, "x_cydex_recipients", &recips, eb)) != CDX_OK)
        return rc;
    json_t *sq = json_object_get(o, "x_cydex_seq");
    has_seq = sq != NULL;
    if (sq && (!json_is_integer(sq) || json_integer_value(sq) < 1))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_seq: expected an integer from 1", path);
    if (sq)
        seq = (uint64_t)json_integer_value(sq);
    int given = !!sender + has_seq + !!sent_at + !!topic + !!hash;
    if (given && given < 5)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s: x_cydex_sender, _seq, _sent_at, _topic and _envelope_hash come "
                        "together; %d of 5 given",
                        path, given);
    if (given) {
        if (!cdx_id_valid(sender))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_sender: not a member id", path);
        if (!s_stix_time(sent_at, &p->sent_at_ms))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_sent_at: not a STIX timestamp", path);
        if (!cdx_topic_valid(topic))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_topic: not a topic", path);
        if (cdx_hex_decode(p->hash, CDX_HASH_BYTES, hash) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_envelope_hash: not 32 bytes of hex",
                            path);
        p->known = true;
        p->seq = seq;
        snprintf(p->sender, sizeof p->sender, "%s", sender);
        snprintf(p->topic, sizeof p->topic, "%s", topic);
    }
    size_t i;
    json_t *e;
    json_array_foreach(recips, i, e)
    {
        if (!json_is_string(e) || !cdx_id_valid(json_string_value(e)))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_recipients[%zu]: not a member id", path,
                            i);
        p->sealed = true;
        if ((rc = cdx__fmt_strv_push(&p->recipients, &p->n_recipients, json_string_value(e))) !=
            CDX_OK)
            return rc;
    }
    if (p->sealed && !p->known)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_recipients: without the provenance", path);
    if (env && (cdx_base64_decode(&p->envelope, env) != CDX_OK || !p->envelope.len))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_envelope: expected base64", path);
    return CDX_OK;
}

/* An enum property: x_cydex_severity etc. */
#define S_ENUM(obj, path, key, parser, out)                                                        \
    do {                                                                                           \
        const char *s_v_;                                                                          \
        cdx_err rc_ = cdx__fmt_jstr(obj, path, key, &s_v_, in->eb);                                \
        if (rc_ != CDX_OK)                                                                         \
            return rc_;                                                                            \
        if (s_v_ && parser(s_v_, out) != CDX_OK)                                                   \
            return cdx_errf(in->eb, CDX_ERR_FORMAT, "%s.%s: unknown value \"%.40s\"", path, key,   \
                            s_v_);                                                                 \
    } while (0)

static cdx_err s_report_from(s_in *in, cdx_item *it, json_t *r, const char *path)
{
    cdx_alert *a = &it->alert;
    it->kind = CDX_ITEM_ALERT;
    const cdx_fmt_opts *o = in->o;
    cdx_errbuf *eb = in->eb;
    const char *id, *name, *desc, *alert_id, *updates, *category, *expires, *modified;
    json_t *refs, *ext, *sectors;
    bool revoked = false, present;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr_req(r, path, "id", &id, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(r, path, "name", &name, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "description", &desc, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "modified", &modified, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "x_cydex_alert_id", &alert_id, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "x_cydex_updates", &updates, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "x_cydex_category", &category, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(r, path, "x_cydex_expires", &expires, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(r, path, "object_refs", &refs, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(r, path, "external_references", &ext, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(r, path, "x_cydex_sectors", &sectors, eb)) != CDX_OK ||
        (rc = cdx__fmt_jbool(r, path, "revoked", &revoked, &present, eb)) != CDX_OK)
        return rc;
    if (!refs || !json_array_size(refs))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s.object_refs: a report refers to at least one "
                        "object",
                        path);
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v)
    {
        if (!s_in_list(s_report_keys, key) && cdx__fmt_jhas(v) &&
            (rc = cdx__fmt_unmapped(o, eb, "%s.%s", path, key)) != CDX_OK)
            return rc;
    }
    if ((rc = s_tlp_of(in, r, path, &a->tlp)) != CDX_OK)
        return rc;
    if (!a->tlp && !(o && o->tlp))
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s.object_marking_refs: no TLP marking, and a CyDEx alert needs a TLP "
                        "label (--tlp gives one)",
                        path);
    if (!a->tlp)
        a->tlp = o->tlp;
    a->severity = CDX_SEVERITY_UNKNOWN;
    a->status = CDX_STATUS_ACTUAL;
    a->msg_type = revoked ? CDX_MSG_CANCEL : CDX_MSG_ALERT;
    S_ENUM(r, path, "x_cydex_severity", cdx_severity_parse, &a->severity);
    S_ENUM(r, path, "x_cydex_status", cdx_status_parse, &a->status);
    S_ENUM(r, path, "x_cydex_msg_type", cdx_msg_type_parse, &a->msg_type);
    const char *report_uuid = id + strlen("report--");
    if (a->msg_type == CDX_MSG_CANCEL && !revoked)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: a cancel's report is revoked", path);
    if (a->msg_type == CDX_MSG_ALERT) {
        if (updates)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_updates: set on a new alert", path);
    } else if (!(a->updates = cdx__fmt_strdup(updates ? updates : report_uuid))) {
        return CDX_ERR_NOMEM;
    }
    char derived[CDX_UUID_TEXT];
    if (!alert_id && a->msg_type != CDX_MSG_ALERT) {
        /* A foreign revoked report: the cancel needs an id of its own. */
        cdx__fmt_uuid5f(derived, "cancel:%s:%s", report_uuid, modified ? modified : "");
        alert_id = derived;
    }
    if (!(a->id = cdx__fmt_strdup(alert_id ? alert_id : report_uuid)) ||
        !(a->title = cdx__fmt_strdup(name)) ||
        (desc && !(a->description = cdx__fmt_strdup(desc))) ||
        (category && !(a->category = cdx__fmt_strdup(category))))
        return CDX_ERR_NOMEM;
    if (expires && !s_stix_time(expires, &a->expires_at_ms))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_expires: not a STIX timestamp", path);

    s_ind *inds = NULL;
    size_t n_inds = 0, i;
    json_t *e;
    bool have_sectors = sectors != NULL;
    json_array_foreach(sectors, i, e)
    {
        if (!json_is_string(e))
            rc =
                cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_sectors[%zu]: expected a string", path, i);
        else
            rc = cdx__fmt_strv_push(&a->sectors, &a->n_sectors, json_string_value(e));
        if (rc != CDX_OK)
            goto done;
    }
    const char *creator = json_string_value(json_object_get(r, "created_by_ref"));
    json_array_foreach(refs, i, e)
    {
        char rp[96];
        snprintf(rp, sizeof rp, "%s.object_refs[%zu]", path, i);
        const char *ref = json_string_value(e);
        size_t at;
        json_t *obj = ref ? s_find(in, ref, &at) : NULL;
        if (!ref) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected a string", rp);
        } else if (!obj) {
            rc = cdx__fmt_unmapped(o, eb, "%s: %s is not in the bundle", rp, ref);
        } else {
            char op[48];
            snprintf(op, sizeof op, "objects[%zu]", at);
            const char *type = json_string_value(json_object_get(obj, "type"));
            const char *desc2, *hint, *pattern, *ptype, *oname;
            json_t *pos = json_object_get(obj, "x_cydex_position");
            long p = json_is_integer(pos) ? (long)json_integer_value(pos) : -1;
            if (pos && (!json_is_integer(pos) || p < 0))
                rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_position: expected an integer", op);
            else if ((rc = cdx__fmt_jstr(obj, op, "description", &desc2, eb)) != CDX_OK ||
                     (rc = cdx__fmt_jstr(obj, op, "name", &oname, eb)) != CDX_OK) {
            } else if (strcmp(type, "indicator") == 0) {
                char ppath[160];
                char *value = NULL;
                if ((rc = cdx__fmt_jstr_req(obj, op, "pattern", &pattern, eb)) != CDX_OK ||
                    (rc = cdx__fmt_jstr_req(obj, op, "pattern_type", &ptype, eb)) != CDX_OK ||
                    (rc = cdx__fmt_jstr(obj, op, "x_cydex_type", &hint, eb)) != CDX_OK) {
                } else if (strcmp(ptype, "yara") == 0 || strcmp(ptype, "snort") == 0 ||
                           strcmp(ptype, "sigma") == 0) {
                    if (!(value = cdx__fmt_strdup(pattern)))
                        rc = CDX_ERR_NOMEM;
                    else
                        rc = s_add_ind(&inds, &n_inds, p, ptype, value, desc2);
                } else if (strcmp(ptype, "stix") != 0) {
                    rc = cdx__fmt_unmapped(o, eb, "%s.pattern_type: \"%s\" patterns", op, ptype);
                } else if (!s_parse_pattern(pattern, ppath, sizeof ppath, &value)) {
                    rc = cdx__fmt_unmapped(o, eb,
                                           "%s.pattern: \"%.80s\" is not one comparison "
                                           "[object:path = 'value']",
                                           op, pattern);
                } else {
                    const char *t = s_type_of_path(ppath, hint), *said = NULL;
                    if ((rc = cdx__fmt_jstr(obj, op, "x_cydex_value", &said, eb)) != CDX_OK) {
                        free(value);
                    } else if (!t) {
                        free(value);
                        rc = cdx__fmt_unmapped(o, eb, "%s.pattern: the path %s has no CyDEx type",
                                               op, ppath);
                    } else if (said && (strlen(said) < strlen(value) ||
                                        strcmp(said + strlen(said) - strlen(value), value) != 0)) {
                        free(value);
                        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                                      "%s.x_cydex_value: \"%.40s\" is not what the pattern holds",
                                      op, said);
                    } else {
                        if (said) {
                            free(value);
                            value = cdx__fmt_strdup(said);
                        }
                        rc = value ? s_add_ind(&inds, &n_inds, p, t, value, desc2) : CDX_ERR_NOMEM;
                    }
                }
            } else if (strcmp(type, "vulnerability") == 0) {
                if (!oname)
                    rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s.name: required field is missing", op);
                else {
                    char *value = cdx__fmt_strdup(oname);
                    rc = value ? s_add_ind(&inds, &n_inds, p, "vulnerability", value, desc2)
                               : CDX_ERR_NOMEM;
                }
            } else if (strcmp(type, "identity") == 0 &&
                       json_is_string(json_object_get(obj, "identity_class")) &&
                       strcmp(json_string_value(json_object_get(obj, "identity_class")), "class") ==
                           0) {
                const char *sector = json_string_value(json_object_get(obj, "x_cydex_sector"));
                if (!sector)
                    sector = cdx__fmt_cydex_sector(
                        json_string_value(json_array_get(json_object_get(obj, "sectors"), 0)));
                if (!sector)
                    sector = oname;
                if (!sector)
                    rc = cdx__fmt_unmapped(o, eb, "%s: a class identity naming no sector", op);
                else if (!have_sectors)
                    rc = cdx__fmt_strv_push(&a->sectors, &a->n_sectors, sector);
            } else if ((strcmp(type, "identity") == 0 && creator && strcmp(ref, creator) == 0) ||
                       strcmp(type, "marking-definition") == 0) {
                /* the fallback reference of a report about nothing else */
            } else {
                rc = cdx__fmt_unmapped(o, eb, "%s: a %s object", rp, type);
            }
        }
        if (rc != CDX_OK)
            goto done;
    }
    json_array_foreach(ext, i, e)
    {
        char ep[96];
        snprintf(ep, sizeof ep, "%s.external_references[%zu]", path, i);
        const char *src, *url, *xid, *d;
        if (!json_is_object(e)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", ep);
            goto done;
        }
        if ((rc = cdx__fmt_jstr_req(e, ep, "source_name", &src, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, ep, "url", &url, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, ep, "external_id", &xid, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, ep, "description", &d, eb)) != CDX_OK)
            goto done;
        if (strcmp(src, "link") == 0 && url) {
            char *value = cdx__fmt_strdup(url);
            rc = value ? s_add_ind(&inds, &n_inds, -1, "link", value, d) : CDX_ERR_NOMEM;
        } else if (xid && (strcmp(src, "cve") == 0 || strcmp(src, "reference") == 0) && !url) {
            rc = cdx__fmt_strv_push(&a->references, &a->n_references, xid);
        } else if (url && !xid) {
            rc = cdx__fmt_strv_push(&a->references, &a->n_references, url);
        } else {
            rc = cdx__fmt_unmapped(o, eb, "%s (%s)", ep, src);
        }
        if (rc != CDX_OK)
            goto done;
    }
    rc = s_order(a, inds, n_inds, eb);
    if (rc == CDX_OK)
        rc = s_prov_from(in, r, path, &it->prov);
    if (rc == CDX_OK)
        rc = cdx_alert_check(a, eb);
done:
    for (size_t k = 0; k < n_inds; k++) {
        free(inds[k].d.type);
        free(inds[k].d.value);
        free(inds[k].d.comment);
    }
    free(inds);
    return rc;
}

static cdx_err s_note_from(s_in *in, cdx_item *it, json_t *n, const char *path)
{
    cdx_ack *k = &it->ack;
    it->kind = CDX_ITEM_ACK;
    const char *stage, *hash, *alert_id, *note;
    cdx_errbuf *eb = in->eb;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr_req(n, path, "x_cydex_ack_stage", &stage, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(n, path, "x_cydex_alert_hash", &hash, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(n, path, "x_cydex_alert_id", &alert_id, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(n, path, "x_cydex_note", &note, eb)) != CDX_OK)
        return rc == CDX_ERR_FORMAT && !json_object_get(n, "x_cydex_ack_stage")
                   ? cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                              "%s: a note that is no CyDEx acknowledgement (no x_cydex_ack_stage)",
                              path)
                   : rc;
    if (cdx_ack_stage_parse(stage, &k->stage) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_ack_stage: unknown stage \"%.40s\"", path,
                        stage);
    if (cdx_hex_decode(k->alert_hash, CDX_HASH_BYTES, hash) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.x_cydex_alert_hash: not 32 bytes of hex", path);
    if ((alert_id && !(k->alert_id = cdx__fmt_strdup(alert_id))) ||
        (note && !(k->note = cdx__fmt_strdup(note))))
        return CDX_ERR_NOMEM;
    if ((rc = s_prov_from(in, n, path, &it->prov)) != CDX_OK)
        return rc;
    return cdx_ack_check(k, eb);
}

cdx_err cdx_stix_import(cdx_item *out, const char *text, size_t len, const cdx_fmt_opts *o,
                        cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    s_in in = {.o = o, .eb = eb};
    cdx_err rc = cdx__fmt_json_load(&in.doc, text, len, "stix", eb);
    if (rc != CDX_OK)
        return rc;
    const char *type, *id;
    size_t tl;
    if ((rc = cdx__fmt_jstr_req(in.doc, "bundle", "type", &type, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(in.doc, "bundle", "id", &id, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(in.doc, "bundle", "objects", &in.objects, eb)) != CDX_OK)
        goto done;
    if (strcmp(type, "bundle") != 0) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                      "bundle.type: \"%.40s\", not \"bundle\" (give the "
                      "bundle, not one object)",
                      type);
        goto done;
    }
    if (!s_stix_id(id, &tl) || tl != 6) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "bundle.id: \"%.80s\" is not bundle--<UUID>", id);
        goto done;
    }
    if (!in.objects) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "bundle.objects: required field is missing");
        goto done;
    }
    if ((rc = s_check_objects(&in)) != CDX_OK)
        goto done;
    json_t *report = NULL, *note = NULL;
    size_t ri = 0, ni = 0, i;
    json_t *e;
    json_array_foreach(in.objects, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "type"));
        if (strcmp(t, "report") == 0) {
            if (report) {
                rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                              "objects[%zu]: a second report; give one report (one alert) per "
                              "bundle",
                              i);
                goto done;
            }
            report = e;
            ri = i;
        } else if (strcmp(t, "note") == 0 && json_object_get(e, "x_cydex_ack_stage")) {
            note = note ? note : e;
            ni = note == e ? i : ni;
        }
    }
    char path[48];
    if (report) {
        snprintf(path, sizeof path, "objects[%zu]", ri);
        rc = s_report_from(&in, out, report, path);
    } else if (note) {
        snprintf(path, sizeof path, "objects[%zu]", ni);
        rc = s_note_from(&in, out, note, path);
    } else {
        rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                      "bundle: holds no report (an alert) and no CyDEx acknowledgement note");
    }
done:
    json_decref(in.by_id);
    json_decref(in.doc);
    if (rc != CDX_OK)
        cdx_item_clear(out);
    return rc;
}
