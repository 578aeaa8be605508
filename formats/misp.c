/* MISP event JSON, both ways: an alert is one MISP event, an ack is one
 * MISP analyst Opinion on the acknowledged alert's event.
 *
 * The MISP core format forbids keys it does not define, so everything
 * CyDEx-specific travels as a machine tag of the "cydex" namespace
 * (cydex:severity="extreme", cydex:envelope-hash="…") or as an attribute
 * tagged cydex:reference / cydex:envelope; existing taxonomies carry what
 * they can (tlp:, exercise:, rsit:test, extended-event:update,
 * nis2:impact-sectors-impacted). docs/formats.md has the table.
 *
 * What must always hold: an export of one item is always the same bytes
 * (uuids are the alert's or name-based); an import either maps every field
 * that says something, or refuses naming the first one that cannot map
 * (with opts.lossy: leaves it out and says so); a MISP -> CyDEx -> MISP
 * round trip keeps every mapped field, and CyDEx -> MISP -> CyDEx keeps the
 * whole alert and its provenance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fmt_internal.h"

#define S_INFO_MAX 256u /* MISP's limit on an event's info, in characters */
#define S_TAG_MAX 255u  /* MISP's limit on a tag name, in bytes */

/* MISP's threat_level_id for a CyDEx severity: 1 high, 2 medium, 3 low,
 * 4 undefined. */
static unsigned s_threat_level(cdx_severity s)
{
    switch (s) {
    case CDX_SEVERITY_EXTREME:
    case CDX_SEVERITY_SEVERE: return 1;
    case CDX_SEVERITY_MODERATE: return 2;
    case CDX_SEVERITY_MINOR: return 3;
    default: return 4;
    }
}

static cdx_severity s_severity_of_level(unsigned level)
{
    switch (level) {
    case 1: return CDX_SEVERITY_SEVERE;
    case 2: return CDX_SEVERITY_MODERATE;
    case 3: return CDX_SEVERITY_MINOR;
    default: return CDX_SEVERITY_UNKNOWN;
    }
}

/* MISP's distribution for a TLP label: who in the receiving MISP may see
 * it (0 its organisation, 1 its community, 3 all communities). */
static const char *s_distribution(cdx_tlp t)
{
    switch (t) {
    case CDX_TLP_CLEAR: return "3";
    case CDX_TLP_GREEN: return "1";
    default: return "0";
    }
}

/* An ack's stage as an Opinion's value (0-100, 50 neutral), one value per
 * stage so that the stage comes back exactly. */
static const struct {
    cdx_ack_stage stage;
    unsigned opinion;
} s_opinions[] = {
    {CDX_ACK_REJECTED, 0},       {CDX_ACK_NOT_AFFECTED, 40},       {CDX_ACK_RECEIVED, 50},
    {CDX_ACK_INVESTIGATING, 60}, {CDX_ACK_ASSISTANCE_OFFERED, 80}, {CDX_ACK_MITIGATED, 100},
};

/* Characters of UTF-8 text (code points), as MISP counts info's length. */
static size_t s_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* "YYYY-MM-DD" and Unix seconds as text, UTC. */
static void s_date(char out[16], uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static void s_datetime(char out[24], uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ================================================================ export == */

typedef struct s_out {
    json_t *tags;
    bool ok;
    cdx_errbuf *eb;
    cdx_err rc; /* the first refusal */
} s_out;

static void s_tag(s_out *w, const char *name)
{
    json_t *t = json_object();
    cdx__fmt_jsets(t, "name", name, &w->ok);
    cdx__fmt_jpush(w->tags, t, &w->ok);
}

/* A machine tag ns:pred="value"; the value must fit MISP's tag and hold
 * no quote (machine tags have no escape). `field` names it in a refusal. */
static void s_mtag(s_out *w, const char *nspred, const char *value, const char *field)
{
    if (w->rc != CDX_OK)
        return;
    char *name = cdx__fmt_printf("%s=\"%s\"", nspred, value);
    if (!name) {
        w->ok = false;
        return;
    }
    if (strchr(value, '"') || strlen(name) > S_TAG_MAX)
        w->rc = cdx_errf(w->eb, CDX_ERR_UNSUPPORTED,
                         "%s: \"%.60s\" cannot be a MISP tag (at most %u bytes, no '\"')", field,
                         value, S_TAG_MAX);
    else
        s_tag(w, name);
    free(name);
}

static void s_mtagu(s_out *w, const char *nspred, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    s_mtag(w, nspred, buf, nspred);
}

static void s_provenance_tags(s_out *w, const cdx_provenance *p)
{
    if (!p->known)
        return;
    char when[CDX_TIME_TEXT_MAX], hash[2 * CDX_HASH_BYTES + 1];
    cdx_time_format(when, p->sent_at_ms);
    cdx_hex_encode(hash, p->hash, CDX_HASH_BYTES);
    s_mtag(w, "cydex:sender", p->sender, "sender");
    s_mtagu(w, "cydex:seq", p->seq);
    s_mtag(w, "cydex:sent-at", when, "sent_at");
    s_mtag(w, "cydex:topic", p->topic, "topic");
    s_mtag(w, "cydex:envelope-hash", hash, "hash");
    for (size_t i = 0; i < p->n_recipients; i++)
        s_mtag(w, "cydex:recipient", p->recipients[i], "recipients");
}

static json_t *s_attribute(const char *uuid, const char *type, const char *category, bool to_ids,
                           const char *value, const char *comment, uint64_t secs, bool *ok)
{
    json_t *a = json_object();
    char ts[24];
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)secs);
    cdx__fmt_jsets(a, "uuid", uuid, ok);
    cdx__fmt_jsets(a, "type", type, ok);
    cdx__fmt_jsets(a, "category", category, ok);
    cdx__fmt_jsets(a, "value", value, ok);
    cdx__fmt_jset(a, "to_ids", json_boolean(to_ids), ok);
    if (!cdx__fmt_empty(comment))
        cdx__fmt_jsets(a, "comment", comment, ok);
    cdx__fmt_jsets(a, "timestamp", ts, ok);
    cdx__fmt_jsets(a, "distribution", "5", ok); /* inherit the event's */
    cdx__fmt_jset(a, "disable_correlation", json_false(), ok);
    if (!*ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Tags a built attribute with one tag. */
static void s_attr_tag(json_t *a, const char *tag, bool *ok)
{
    json_t *tags = json_array(), *t = json_object();
    cdx__fmt_jsets(t, "name", tag, ok);
    cdx__fmt_jpush(tags, t, ok);
    cdx__fmt_jset(a, "Tag", tags, ok);
}

/* How many earlier indicators share this one's type and value: the n in
 * its name, so that two equal indicators still get two uuids. */
static unsigned s_nth(const cdx_indicator *v, size_t i)
{
    unsigned n = 1;
    for (size_t k = 0; k < i; k++)
        n += strcmp(v[k].type, v[i].type) == 0 && strcmp(v[k].value, v[i].value) == 0;
    return n;
}

static json_t *s_event_to(const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb, cdx_err *rc)
{
    const cdx_alert *a = &it->alert;
    s_out w = {.tags = json_array(), .ok = true, .eb = eb, .rc = CDX_OK};
    json_t *ev = json_object(), *attrs = json_array();
    char uuid[CDX_UUID_TEXT], up[CDX_UUID_TEXT];
    uint64_t when = cdx__fmt_time_of(it, o), secs = when / 1000;
    char date[16], ts[24];
    s_date(date, when);
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)secs);
    cdx__fmt_alert_uuid(uuid, a->id);

    if (s_chars(a->title) > S_INFO_MAX || strpbrk(a->title, "\r\n"))
        w.rc =
            cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                     "alert.title: MISP's info is one line of at most %u characters (this "
                     "one has %zu%s)",
                     S_INFO_MAX, s_chars(a->title), strpbrk(a->title, "\r\n") ? ", in lines" : "");
    for (size_t i = 0; w.rc == CDX_OK && i < a->n_indicators; i++) {
        const cdx__fmt_type *t = cdx__fmt_type_find(a->indicators[i].type);
        if (!t)
            w.rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "alert.indicators[%zu].type: \"%s\" is not a MISP attribute type "
                            "CyDEx maps (it maps %s)",
                            i, a->indicators[i].type, cdx__fmt_type_list());
    }

    cdx__fmt_jsets(ev, "uuid", uuid, &w.ok);
    cdx__fmt_jsets(ev, "info", a->title, &w.ok);
    cdx__fmt_jsets(ev, "date", date, &w.ok);
    cdx__fmt_jsets(ev, "timestamp", ts, &w.ok);
    cdx__fmt_jsets(ev, "publish_timestamp", ts, &w.ok);
    cdx__fmt_jset(ev, "published", json_true(), &w.ok);
    cdx__fmt_jsets(ev, "analysis",
                   a->msg_type == CDX_MSG_CANCEL   ? "2"
                   : a->msg_type == CDX_MSG_UPDATE ? "1"
                                                   : "0",
                   &w.ok);
    char level[2] = {(char)('0' + s_threat_level(a->severity)), 0};
    cdx__fmt_jsets(ev, "threat_level_id", level, &w.ok);
    cdx__fmt_jsets(ev, "distribution", s_distribution(a->tlp), &w.ok);
    if (a->msg_type != CDX_MSG_ALERT) {
        cdx__fmt_alert_uuid(up, a->updates);
        cdx__fmt_jsets(ev, "extends_uuid", up, &w.ok);
    }
    const char *sender = cdx__fmt_sender(it, o);
    if (sender) {
        char org[CDX_UUID_TEXT];
        const char *name = cdx_orgs_name(o ? o->orgs : NULL, sender, org);
        json_t *orgc = json_object();
        cdx__fmt_jsets(orgc, "uuid", org, &w.ok);
        cdx__fmt_jsets(orgc, "name", name, &w.ok);
        cdx__fmt_jset(ev, "Orgc", orgc, &w.ok);
    }

    /* Tags: the label first, as MISP users read it. */
    char tlp[32];
    snprintf(tlp, sizeof tlp, "tlp:%s", cdx__fmt_tlp_lower(a->tlp));
    s_tag(&w, tlp);
    s_mtag(&w, "cydex:severity", cdx_severity_name(a->severity), "alert.severity");
    if (a->status == CDX_STATUS_EXERCISE)
        s_tag(&w, "exercise:generic");
    else if (a->status == CDX_STATUS_TEST)
        s_tag(&w, "rsit:test=\"test\"");
    if (a->msg_type == CDX_MSG_UPDATE)
        s_tag(&w, "extended-event:update");
    else if (a->msg_type == CDX_MSG_CANCEL)
        s_mtag(&w, "cydex:msg-type", "cancel", "alert.msg_type");
    if (strcmp(uuid, a->id) != 0)
        s_mtag(&w, "cydex:alert-id", a->id, "alert.id");
    if (a->msg_type != CDX_MSG_ALERT && strcmp(up, a->updates) != 0)
        s_mtag(&w, "cydex:updates", a->updates, "alert.updates");
    if (!cdx__fmt_empty(a->category))
        s_mtag(&w, "cydex:category", a->category, "alert.category");
    for (size_t i = 0; i < a->n_sectors; i++)
        s_mtag(&w,
               cdx__fmt_nis2_sector(a->sectors[i]) ? "nis2:impact-sectors-impacted"
                                                   : "cydex:sector",
               a->sectors[i], "alert.sectors");
    if (a->expires_at_ms) {
        char exp[CDX_TIME_TEXT_MAX];
        cdx_time_format(exp, a->expires_at_ms);
        s_mtag(&w, "cydex:expires", exp, "alert.expires");
    }
    s_provenance_tags(&w, &it->prov);

    for (size_t i = 0; w.rc == CDX_OK && i < a->n_indicators; i++) {
        const cdx_indicator *d = &a->indicators[i];
        const cdx__fmt_type *t = cdx__fmt_type_find(d->type);
        char au[CDX_UUID_TEXT];
        cdx__fmt_uuid5f(au, "attribute:%s:%s:%s:%u", uuid, d->type, d->value,
                        s_nth(a->indicators, i));
        cdx__fmt_jpush(
            attrs,
            s_attribute(au, t->type, t->category, t->to_ids, d->value, d->comment, secs, &w.ok),
            &w.ok);
    }
    for (size_t i = 0; w.ok && i < a->n_references; i++) {
        const char *r = a->references[i];
        bool link = strstr(r, "://") != NULL;
        char au[CDX_UUID_TEXT];
        unsigned n = 1;
        for (size_t k = 0; k < i; k++)
            n += strcmp(a->references[k], r) == 0;
        cdx__fmt_uuid5f(au, "reference:%s:%s:%u", uuid, r, n);
        const cdx__fmt_type *t = cdx__fmt_type_find(link ? "link" : "text");
        json_t *at = s_attribute(au, t->type, t->category, false, r, NULL, secs, &w.ok);
        s_attr_tag(at, "cydex:reference", &w.ok);
        cdx__fmt_jpush(attrs, at, &w.ok);
    }
    if (o && o->with_envelope && w.rc == CDX_OK) {
        if (!it->prov.envelope.len) {
            w.rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "--with-envelope: this input carries no signed envelope (give the "
                            "envelope itself, or a log)");
        } else {
            char hash[2 * CDX_HASH_BYTES + 1], au[CDX_UUID_TEXT];
            cdx_hex_encode(hash, it->prov.hash, CDX_HASH_BYTES);
            cdx__fmt_uuid5f(au, "envelope:%s", hash);
            char *file = cdx__fmt_printf("cydex-envelope-%s.bin", hash);
            char *b64 = cdx_base64_encode(it->prov.envelope.data, it->prov.envelope.len);
            json_t *at = file ? s_attribute(au, "attachment", "External analysis", false, file,
                                            "the signed CyDEx envelope: cydex verify --roster "
                                            "ROSTER FILE proves who sent this event",
                                            secs, &w.ok)
                              : NULL;
            cdx__fmt_jsets(at, "data", b64, &w.ok);
            s_attr_tag(at, "cydex:envelope", &w.ok);
            cdx__fmt_jpush(attrs, at, &w.ok);
            free(file);
            free(b64);
        }
    }
    cdx__fmt_jset(ev, "Tag", w.tags, &w.ok);
    cdx__fmt_jset(ev, "Attribute", attrs, &w.ok);
    if (!cdx__fmt_empty(a->description)) {
        json_t *reps = json_array(), *r = json_object();
        char ru[CDX_UUID_TEXT];
        cdx__fmt_uuid5f(ru, "description:%s", uuid);
        cdx__fmt_jsets(r, "uuid", ru, &w.ok);
        cdx__fmt_jsets(r, "name", "Description", &w.ok);
        cdx__fmt_jsets(r, "content", a->description, &w.ok);
        cdx__fmt_jsets(r, "distribution", "5", &w.ok);
        cdx__fmt_jsets(r, "timestamp", ts, &w.ok);
        cdx__fmt_jset(r, "deleted", json_false(), &w.ok);
        cdx__fmt_jpush(reps, r, &w.ok);
        cdx__fmt_jset(ev, "EventReport", reps, &w.ok);
    }
    *rc = w.rc != CDX_OK ? w.rc : w.ok ? CDX_OK : CDX_ERR_NOMEM;
    if (*rc != CDX_OK) {
        json_decref(ev);
        return NULL;
    }
    json_t *doc = json_object();
    bool ok = true;
    cdx__fmt_jset(doc, "Event", ev, &ok);
    if (!ok) {
        json_decref(doc);
        *rc = CDX_ERR_NOMEM;
        return NULL;
    }
    return doc;
}

/* The lines of the note beside an ack's Opinion: machine tags, one a line. */
static char *s_ack_lines(const cdx_item *it)
{
    const cdx_ack *k = &it->ack;
    char hash[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hash, k->alert_hash, CDX_HASH_BYTES);
    char *s = cdx__fmt_printf(
        "cydex:stage=\"%s\"\ncydex:alert-hash=\"%s\"%s%s%s", cdx_ack_stage_name(k->stage), hash,
        cdx__fmt_empty(k->alert_id) ? "" : "\ncydex:alert-id=\"",
        cdx__fmt_empty(k->alert_id) ? "" : k->alert_id, cdx__fmt_empty(k->alert_id) ? "" : "\"");
    const cdx_provenance *p = &it->prov;
    if (s && p->known) {
        char when[CDX_TIME_TEXT_MAX], eh[2 * CDX_HASH_BYTES + 1];
        cdx_time_format(when, p->sent_at_ms);
        cdx_hex_encode(eh, p->hash, CDX_HASH_BYTES);
        char *t = cdx__fmt_printf("%s\ncydex:sender=\"%s\"\ncydex:seq=\"%llu\"\ncydex:sent-at="
                                  "\"%s\"\ncydex:topic=\"%s\"\ncydex:envelope-hash=\"%s\"",
                                  s, p->sender, (unsigned long long)p->seq, when, p->topic, eh);
        free(s);
        s = t;
    }
    return s;
}

static json_t *s_opinion_to(const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb, cdx_err *rc)
{
    const cdx_ack *k = &it->ack;
    const char *alert_id = k->alert_id;
    const cdx__fmt_seen_alert *seen = o ? cdx__fmt_seen_by_hash(o->seen, k->alert_hash) : NULL;
    if (cdx__fmt_empty(alert_id) && seen)
        alert_id = seen->id;
    if (cdx__fmt_empty(alert_id)) {
        *rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                       "ack.alert_id: a MISP opinion attaches to the alert's event, and this "
                       "ack names only the alert's hash");
        return NULL;
    }
    if (strchr(k->alert_id ? k->alert_id : "", '"')) {
        *rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED, "ack.alert_id: holds a '\"'");
        return NULL;
    }
    if (o && o->with_envelope) {
        *rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                       "--with-envelope: a MISP opinion has no room for an envelope; export the "
                       "ack to STIX or CAP to carry it");
        return NULL;
    }
    char ou[CDX_UUID_TEXT], nu[CDX_UUID_TEXT], ev[CDX_UUID_TEXT];
    cdx__fmt_ack_uuid(ou, it);
    cdx__fmt_uuid5f(nu, "ack-note:%s", ou);
    cdx__fmt_alert_uuid(ev, alert_id);
    unsigned opinion = 50;
    for (size_t i = 0; i < sizeof s_opinions / sizeof *s_opinions; i++)
        if (s_opinions[i].stage == k->stage)
            opinion = s_opinions[i].opinion;
    char op[8], when[24];
    snprintf(op, sizeof op, "%u", opinion);
    s_datetime(when, cdx__fmt_time_of(it, o));
    bool ok = true;
    json_t *j = json_object(), *notes = json_array(), *n = json_object();
    char *lines = s_ack_lines(it);
    cdx__fmt_jsets(j, "uuid", ou, &ok);
    cdx__fmt_jsets(j, "object_uuid", ev, &ok);
    cdx__fmt_jsets(j, "object_type", "Event", &ok);
    cdx__fmt_jsets(j, "opinion", op, &ok);
    cdx__fmt_jsets(j, "comment", k->note ? k->note : "", &ok);
    const char *sender = cdx__fmt_sender(it, o);
    if (sender) {
        char org[CDX_UUID_TEXT];
        cdx_orgs_name(o ? o->orgs : NULL, sender, org);
        cdx__fmt_jsets(j, "authors", sender, &ok);
        cdx__fmt_jsets(j, "orgc_uuid", org, &ok);
    }
    cdx__fmt_jsets(j, "created", when, &ok);
    cdx__fmt_jsets(j, "modified", when, &ok);
    cdx__fmt_jsets(j, "distribution", "1", &ok);
    cdx__fmt_jsets(j, "note_type_name", "Opinion", &ok);
    cdx__fmt_jsets(n, "uuid", nu, &ok);
    cdx__fmt_jsets(n, "object_uuid", ou, &ok);
    cdx__fmt_jsets(n, "object_type", "Opinion", &ok);
    cdx__fmt_jsets(n, "note", lines, &ok);
    cdx__fmt_jsets(n, "language", "en", &ok);
    cdx__fmt_jsets(n, "created", when, &ok);
    cdx__fmt_jsets(n, "modified", when, &ok);
    cdx__fmt_jsets(n, "distribution", "1", &ok);
    cdx__fmt_jsets(n, "note_type_name", "Note", &ok);
    cdx__fmt_jpush(notes, n, &ok);
    cdx__fmt_jset(j, "Note", notes, &ok);
    free(lines);
    json_t *doc = json_object();
    cdx__fmt_jset(doc, "Opinion", j, &ok);
    if (!ok || !lines) {
        json_decref(doc);
        *rc = CDX_ERR_NOMEM;
        return NULL;
    }
    *rc = CDX_OK;
    return doc;
}

static json_t *s_item_to(const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb, cdx_err *rc)
{
    if (it->kind == CDX_ITEM_ALERT)
        return s_event_to(it, o, eb, rc);
    if (it->kind == CDX_ITEM_ACK)
        return s_opinion_to(it, o, eb, rc);
    *rc = cdx_errf(eb, CDX_ERR_INVALID, "an empty item");
    return NULL;
}

cdx_err cdx_misp_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_err rc;
    json_t *doc = s_item_to(it, o, eb, &rc);
    return rc != CDX_OK ? rc : cdx__fmt_json_dump(out, doc, o && o->pretty);
}

cdx_err cdx_misp_export_many(char **out, const cdx_items *items, const cdx_fmt_opts *o,
                             cdx_errbuf *eb)
{
    *out = NULL;
    json_t *arr = json_array(), *doc = json_object();
    bool ok = true;
    cdx_err rc = CDX_OK;
    for (size_t i = 0; rc == CDX_OK && i < items->n; i++) {
        json_t *e = s_item_to(&items->v[i], o, eb, &rc);
        if (rc == CDX_OK)
            cdx__fmt_jpush(arr, e, &ok);
    }
    cdx__fmt_jset(doc, "response", arr, &ok);
    if (rc != CDX_OK || !ok) {
        json_decref(doc);
        return rc != CDX_OK ? rc : CDX_ERR_NOMEM;
    }
    return cdx__fmt_json_dump(out, doc, o && o->pretty);
}

/* ================================================================ import == */

/* What an event's tags said, before they are checked against each other. */
typedef struct s_tags {
    cdx_tlp tlp;
    char tlp_tag[64];
    bool has_severity;
    cdx_severity severity;
    bool exercise, test, update_tag, cancel_tag;
    const char *alert_id, *updates, *category, *expires;
    /* provenance */
    const char *sender, *seq, *sent_at, *topic, *hash;
} s_tags;

/* Splits `ns:pred="value"` (value borrowed into buf); false if the tag is
 * not of that form. */
static bool s_machine(const char *tag, const char *nspred, char *buf, size_t cap)
{
    size_t n = strlen(nspred), len = strlen(tag);
    if (strncmp(tag, nspred, n) != 0 || tag[n] != '=' || tag[n + 1] != '"' || len < n + 3 ||
        tag[len - 1] != '"' || len - n - 3 >= cap)
        return false;
    memcpy(buf, tag + n + 2, len - n - 3);
    buf[len - n - 3] = '\0';
    return !strchr(buf, '"');
}

/* The values of the tags the import keeps, copied out of the JSON. */
typedef struct s_vals {
    char alert_id[CDX_UUID_TEXT + 8], updates[CDX_UUID_TEXT + 8], expires[40];
    char sender[CDX_ID_MAX + 1], seq[24], sent_at[40], topic[CDX_TOPIC_MAX + 1], hash[80];
    char category[S_TAG_MAX + 1];
} s_vals;

static const char *const s_cydex_preds[] = {"cydex:severity",  "cydex:msg-type",
                                            "cydex:alert-id",  "cydex:updates",
                                            "cydex:category",  "cydex:sector",
                                            "cydex:expires",   "cydex:sender",
                                            "cydex:seq",       "cydex:sent-at",
                                            "cydex:topic",     "cydex:envelope-hash",
                                            "cydex:recipient", NULL};

/* One of the event's tags: into t / a / p, or refused or noted. */
static cdx_err s_event_tag(const char *name, const char *path, s_tags *t, s_vals *v, cdx_alert *a,
                           cdx_provenance *p, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    char val[S_TAG_MAX + 1];
    if (strncasecmp(name, "tlp:", 4) == 0) {
        cdx_tlp l = cdx__fmt_tlp_of_name(name + 4);
        if (l == CDX_TLP_UNSPECIFIED)
            return cdx__fmt_unmapped(o, eb, "%s \"%s\": not a TLP 2.0 label", path, name);
        if (t->tlp && t->tlp != l)
            return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "%s \"%s\": the event already has \"%s\"; CyDEx takes one label", path,
                            name, t->tlp_tag);
        t->tlp = l;
        snprintf(t->tlp_tag, sizeof t->tlp_tag, "%s", name);
        return CDX_OK;
    }
    if (strncmp(name, "exercise:", 9) == 0) {
        t->exercise = true;
        if (strcmp(name, "exercise:generic") != 0)
            return cdx__fmt_unmapped(o, eb,
                                     "%s \"%s\": the alert is an exercise, but which one is not "
                                     "kept",
                                     path, name);
        return CDX_OK;
    }
    if (strcmp(name, "rsit:test=\"test\"") == 0) {
        t->test = true;
        return CDX_OK;
    }
    if (strcmp(name, "extended-event:update") == 0) {
        t->update_tag = true;
        return CDX_OK;
    }
    if (s_machine(name, "nis2:impact-sectors-impacted", val, sizeof val) ||
        s_machine(name, "cydex:sector", val, sizeof val))
        return cdx__fmt_strv_push(&a->sectors, &a->n_sectors, val);
    if (s_machine(name, "cydex:recipient", val, sizeof val)) {
        if (!cdx_id_valid(val))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s \"%s\": not a member id", path, name);
        p->sealed = true;
        return cdx__fmt_strv_push(&p->recipients, &p->n_recipients, val);
    }
    if (s_machine(name, "cydex:severity", val, sizeof val)) {
        if (cdx_severity_parse(val, &t->severity) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s \"%s\": unknown severity", path, name);
        t->has_severity = true;
        return CDX_OK;
    }
    if (s_machine(name, "cydex:msg-type", val, sizeof val)) {
        cdx_msg_type m;
        if (cdx_msg_type_parse(val, &m) != CDX_OK || m == CDX_MSG_ALERT)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s \"%s\": expected \"update\" or \"cancel\"",
                            path, name);
        if (m == CDX_MSG_CANCEL)
            t->cancel_tag = true;
        else
            t->update_tag = true;
        return CDX_OK;
    }
    struct {
        const char *pred;
        char *buf;
        size_t cap;
        const char **slot;
    } one[] = {
        {"cydex:alert-id", v->alert_id, sizeof v->alert_id, &t->alert_id},
        {"cydex:updates", v->updates, sizeof v->updates, &t->updates},
        {"cydex:category", v->category, sizeof v->category, &t->category},
        {"cydex:expires", v->expires, sizeof v->expires, &t->expires},
        {"cydex:sender", v->sender, sizeof v->sender, &t->sender},
        {"cydex:seq", v->seq, sizeof v->seq, &t->seq},
        {"cydex:sent-at", v->sent_at, sizeof v->sent_at, &t->sent_at},
        {"cydex:topic", v->topic, sizeof v->topic, &t->topic},
        {"cydex:envelope-hash", v->hash, sizeof v->hash, &t->hash},
    };
    for (size_t i = 0; i < sizeof one / sizeof *one; i++) {
        if (!s_machine(name, one[i].pred, one[i].buf, one[i].cap))
            continue;
        if (*one[i].slot)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: a second %s tag", path, one[i].pred);
        *one[i].slot = one[i].buf;
        return CDX_OK;
    }
    if (strncmp(name, "cydex:", 6) == 0) {
        for (const char *const *k = s_cydex_preds; *k; k++)
            if (strncmp(name, *k, strlen(*k)) == 0 && name[strlen(*k)] == '=')
                return cdx_errf(eb, CDX_ERR_FORMAT, "%s \"%.80s\": a malformed %s tag", path, name,
                                *k);
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s \"%.80s\": not a cydex tag this version knows",
                        path, name);
    }
    return cdx__fmt_unmapped(o, eb, "%s \"%.80s\"", path, name);
}

/* A Tag list: each entry an object with a string "name". */
typedef cdx_err (*s_tag_fn)(const char *name, const char *path, void *ctx);

static cdx_err s_each_tag(json_t *obj, const char *path, s_tag_fn fn, void *ctx, cdx_errbuf *eb)
{
    json_t *tags;
    cdx_err rc = cdx__fmt_jarr(obj, path, "Tag", &tags, eb);
    size_t i;
    json_t *e;
    json_array_foreach(tags, i, e)
    {
        if (rc != CDX_OK)
            break;
        char tp[160];
        snprintf(tp, sizeof tp, "%s.Tag[%zu]", path, i);
        const char *name;
        if (!json_is_object(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object {\"name\": …}", tp);
        if ((rc = cdx__fmt_jstr_req(e, tp, "name", &name, eb)) == CDX_OK)
            rc = fn(name, tp, ctx);
    }
    return rc;
}

typedef struct s_event_ctx {
    s_tags *t;
    s_vals *v;
    cdx_alert *a;
    cdx_provenance *p;
    const cdx_fmt_opts *o;
    cdx_errbuf *eb;
} s_event_ctx;

static cdx_err s_event_tag_cb(const char *name, const char *path, void *ctx)
{
    s_event_ctx *c = ctx;
    return s_event_tag(name, path, c->t, c->v, c->a, c->p, c->o, c->eb);
}

/* An attribute's own tags: cydex:reference, cydex:envelope, or unmapped. */
typedef struct s_attr_ctx {
    bool reference, envelope;
    const cdx_fmt_opts *o;
    cdx_errbuf *eb;
} s_attr_ctx;

static cdx_err s_attr_tag_cb(const char *name, const char *path, void *ctx)
{
    s_attr_ctx *c = ctx;
    if (strcmp(name, "cydex:reference") == 0)
        c->reference = true;
    else if (strcmp(name, "cydex:envelope") == 0)
        c->envelope = true;
    else if (strncmp(name, "cydex:", 6) == 0)
        return cdx_errf(c->eb, CDX_ERR_FORMAT, "%s \"%.80s\": not a cydex attribute tag", path,
                        name);
    else
        return cdx__fmt_unmapped(c->o, c->eb, "%s \"%.80s\"", path, name);
    return CDX_OK;
}

/* Attribute keys that are MISP's bookkeeping, not the attribute's content. */
static const char *const s_attr_book[] = {"id",
                                          "event_id",
                                          "object_id",
                                          "object_relation",
                                          "uuid",
                                          "timestamp",
                                          "distribution",
                                          "sharing_group_id",
                                          "disable_correlation",
                                          "deleted",
                                          "type",
                                          "category",
                                          "value",
                                          "to_ids",
                                          "comment",
                                          "Tag",
                                          "data",
                                          "ShadowAttribute",
                                          "first_seen",
                                          "last_seen",
                                          "Sighting",
                                          "Galaxy",
                                          "value1",
                                          "value2",
                                          "event_uuid",
                                          "RelatedAttribute",
                                          NULL};

static bool s_in(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

/* One attribute into an indicator, a reference, or the envelope. */
static cdx_err s_attribute_from(json_t *e, const char *path, cdx_alert *a, cdx_provenance *p,
                                const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    if (!json_is_object(e))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", path);
    bool deleted = false, present, to_ids = false, has_to_ids;
    const char *type, *value, *category, *comment, *data;
    cdx_err rc;
    if ((rc = cdx__fmt_jbool(e, path, "deleted", &deleted, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(e, path, "type", &type, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(e, path, "value", &value, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(e, path, "category", &category, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(e, path, "comment", &comment, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(e, path, "data", &data, eb)) != CDX_OK ||
        (rc = cdx__fmt_jbool(e, path, "to_ids", &to_ids, &has_to_ids, eb)) != CDX_OK)
        return rc;
    if (deleted)
        return CDX_OK; /* deleted in MISP: no longer part of the event */
    if (!*value)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.value: empty", path);
    s_attr_ctx ac = {.o = o, .eb = eb};
    if ((rc = s_each_tag(e, path, s_attr_tag_cb, &ac, eb)) != CDX_OK)
        return rc;
    static const char *const content[] = {"first_seen", "last_seen",       "Sighting",
                                          "Galaxy",     "ShadowAttribute", NULL};
    for (const char *const *k = content; *k; k++)
        if (cdx__fmt_jhas(json_object_get(e, *k)) &&
            (rc = cdx__fmt_unmapped(o, eb, "%s.%s", path, *k)) != CDX_OK)
            return rc;
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        if (!s_in(s_attr_book, key) && cdx__fmt_jhas(v) &&
            (rc = cdx__fmt_unmapped(o, eb, "%s.%s", path, key)) != CDX_OK)
            return rc;
    }
    if (ac.envelope) {
        if (strcmp(type, "attachment") != 0 || !data)
            return cdx_errf(eb, CDX_ERR_FORMAT,
                            "%s: a cydex:envelope attribute is an attachment with its data", path);
        if (p->envelope.len)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: a second cydex:envelope attribute", path);
        if (cdx_base64_decode(&p->envelope, data) != CDX_OK || !p->envelope.len)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s.data: expected base64", path);
        return CDX_OK;
    }
    if (ac.reference)
        return cdx__fmt_strv_push(&a->references, &a->n_references, value);
    const cdx__fmt_type *t = cdx__fmt_type_find(type);
    if (!t)
        return cdx__fmt_unmapped(o, eb,
                                 "%s.type: \"%s\" is not an attribute type CyDEx maps (it maps "
                                 "%s)",
                                 path, type, cdx__fmt_type_list());
    if (category && strcmp(category, t->category) != 0 &&
        (rc = cdx__fmt_unmapped(o, eb,
                                "%s.category: \"%s\" is not MISP's default for %s (\"%s\"), and "
                                "CyDEx keeps no category per indicator",
                                path, category, type, t->category)) != CDX_OK)
        return rc;
    if (has_to_ids && to_ids != t->to_ids &&
        (rc = cdx__fmt_unmapped(o, eb,
                                "%s.to_ids: %s is not MISP's default for %s, and CyDEx keeps no "
                                "to_ids per indicator",
                                path, to_ids ? "true" : "false", type)) != CDX_OK)
        return rc;
    cdx_indicator *grown = realloc(a->indicators, (a->n_indicators + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    a->indicators = grown;
    cdx_indicator *d = &grown[a->n_indicators++];
    memset(d, 0, sizeof *d);
    d->type = cdx__fmt_strdup(type);
    d->value = cdx__fmt_strdup(value);
    d->comment = cdx__fmt_empty(comment) ? NULL : cdx__fmt_strdup(comment);
    return d->type && d->value && (cdx__fmt_empty(comment) || d->comment) ? CDX_OK : CDX_ERR_NOMEM;
}

static cdx_err s_attributes(json_t *obj, const char *path, cdx_alert *a, cdx_provenance *p,
                            const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    json_t *arr;
    cdx_err rc = cdx__fmt_jarr(obj, path, "Attribute", &arr, eb);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (rc != CDX_OK)
            break;
        char ap[192];
        snprintf(ap, sizeof ap, "%s.Attribute[%zu]", path, i);
        rc = s_attribute_from(e, ap, a, p, o, eb);
    }
    return rc;
}

/* Event keys that are MISP's bookkeeping (who stores it, counters, its
 * own sharing), read for their type at most and not mapped. */
static const char *const s_event_book[] = {
    "id", "orgc_id", "org_id", "Org", "date", "timestamp", "publish_timestamp", "published",
    "analysis", "distribution", "sharing_group_id", "SharingGroup", "locked", "attribute_count",
    "proposal_email_lock", "disable_correlation", "event_creator_email", "protected",
    "sighting_timestamp", "RelatedEvent", "CryptographicKey", "ShadowAttribute", "user_id",
    "first_publish_timestamp",
    /* read below */
    "uuid", "info", "threat_level_id", "extends_uuid", "Orgc", "Tag", "Attribute", "Object",
    "EventReport", NULL};

static cdx_err s_event_from(cdx_item *it, json_t *ev, const char *path, const cdx_fmt_opts *o,
                            cdx_errbuf *eb)
{
    cdx_alert *a = &it->alert;
    cdx_provenance *p = &it->prov;
    it->kind = CDX_ITEM_ALERT;
    const char *uuid, *info, *extends;
    uint64_t level = 4, n;
    bool has_level, present, published;
    json_t *orgc, *objects, *reports;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr_req(ev, path, "uuid", &uuid, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr_req(ev, path, "info", &info, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(ev, path, "extends_uuid", &extends, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(ev, path, "threat_level_id", &level, &has_level, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(ev, path, "timestamp", &n, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(ev, path, "publish_timestamp", &n, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(ev, path, "analysis", &n, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(ev, path, "distribution", &n, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jbool(ev, path, "published", &published, &present, eb)) != CDX_OK ||
        (rc = cdx__fmt_jobj(ev, path, "Orgc", &orgc, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(ev, path, "Object", &objects, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(ev, path, "EventReport", &reports, eb)) != CDX_OK)
        return rc;
    if (!cdx__fmt_uuid_rfc(uuid))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s.uuid: \"%.40s\" is not an RFC 4122 UUID of "
                        "versions 1-5",
                        path, uuid);
    if (has_level && (level < 1 || level > 4))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.threat_level_id: %llu is not 1 to 4", path,
                        (unsigned long long)level);
    if (!cdx__fmt_empty(extends) && !cdx__fmt_uuid_rfc(extends))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.extends_uuid: \"%.40s\" is not a UUID", path,
                        extends);
    const char *key;
    json_t *v;
    json_object_foreach(ev, key, v)
    {
        if (!s_in(s_event_book, key) && cdx__fmt_jhas(v) &&
            (rc = cdx__fmt_unmapped(o, eb, "%s.%s", path, key)) != CDX_OK)
            return rc;
    }

    s_tags t = {0};
    s_vals vals;
    memset(&vals, 0, sizeof vals);
    s_event_ctx ec = {&t, &vals, a, p, o, eb};
    if ((rc = s_each_tag(ev, path, s_event_tag_cb, &ec, eb)) != CDX_OK ||
        (rc = s_attributes(ev, path, a, p, o, eb)) != CDX_OK)
        return rc;
    size_t i;
    json_t *e;
    json_array_foreach(objects, i, e)
    {
        char op[160];
        snprintf(op, sizeof op, "%s.Object[%zu]", path, i);
        const char *oname;
        if (!json_is_object(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", op);
        if ((rc = cdx__fmt_jstr(e, op, "name", &oname, eb)) != CDX_OK)
            return rc;
        bool deleted = false;
        if ((rc = cdx__fmt_jbool(e, op, "deleted", &deleted, &present, eb)) != CDX_OK)
            return rc;
        if (deleted)
            continue;
        /* Its attributes are kept as indicators; the grouping is what
         * CyDEx has no room for. */
        if ((rc = cdx__fmt_unmapped(o, eb,
                                    "%s (%s): a MISP object; its grouping (its attributes are "
                                    "kept as indicators)",
                                    op, oname ? oname : "unnamed")) != CDX_OK ||
            (rc = s_attributes(e, op, a, p, o, eb)) != CDX_OK)
            return rc;
    }
    size_t nrep = 0;
    json_array_foreach(reports, i, e)
    {
        char rp[160];
        snprintf(rp, sizeof rp, "%s.EventReport[%zu]", path, i);
        const char *content;
        bool deleted = false;
        if (!json_is_object(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", rp);
        if ((rc = cdx__fmt_jbool(e, rp, "deleted", &deleted, &present, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(e, rp, "content", &content, eb)) != CDX_OK)
            return rc;
        if (deleted || cdx__fmt_empty(content))
            continue;
        if (nrep++) {
            if ((rc = cdx__fmt_unmapped(o, eb,
                                        "%s: a second report (the first is the "
                                        "description)",
                                        rp)) != CDX_OK)
                return rc;
            continue;
        }
        if (!(a->description = cdx__fmt_strdup(content)))
            return CDX_ERR_NOMEM;
    }

    /* The tags, checked against each other and the event. */
    if (!(a->id = cdx__fmt_strdup(t.alert_id ? t.alert_id : uuid)) ||
        !(a->title = cdx__fmt_strdup(info)))
        return CDX_ERR_NOMEM;
    if (t.alert_id && !cdx_uuid_valid(t.alert_id))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: cydex:alert-id \"%s\" is not a UUID", path,
                        t.alert_id);
    a->tlp = t.tlp ? t.tlp : o ? o->tlp : CDX_TLP_UNSPECIFIED;
    if (!a->tlp)
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s.Tag: no tlp: tag, and a CyDEx alert needs a TLP label (--tlp gives "
                        "one)",
                        path);
    if (t.has_severity) {
        if (has_level && s_threat_level(t.severity) != level)
            return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "%s.Tag: cydex:severity=\"%s\" contradicts threat_level_id \"%llu\" "
                            "(the event was edited since it was exported: fix one of them)",
                            path, cdx_severity_name(t.severity), (unsigned long long)level);
        a->severity = t.severity;
    } else {
        a->severity = s_severity_of_level((unsigned)level);
    }
    if (t.exercise && t.test)
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s.Tag: both an exercise: tag and rsit:test=\"test\"", path);
    a->status = t.exercise ? CDX_STATUS_EXERCISE : t.test ? CDX_STATUS_TEST : CDX_STATUS_ACTUAL;
    if (t.cancel_tag && t.update_tag)
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s.Tag: both an update and a cancel (cydex:msg-type=\"cancel\")", path);
    if (!cdx__fmt_empty(extends)) {
        a->msg_type = t.cancel_tag ? CDX_MSG_CANCEL : CDX_MSG_UPDATE;
        if (!(a->updates = cdx__fmt_strdup(t.updates ? t.updates : extends)))
            return CDX_ERR_NOMEM;
    } else if (t.cancel_tag || t.update_tag || t.updates) {
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s.extends_uuid: an update or cancel names the event it extends", path);
    } else {
        a->msg_type = CDX_MSG_ALERT;
    }
    if (t.category && !(a->category = cdx__fmt_strdup(t.category)))
        return CDX_ERR_NOMEM;
    if (t.expires && cdx_time_parse(t.expires, &a->expires_at_ms) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: cydex:expires=\"%s\" is not an RFC 3339 time",
                        path, t.expires);

    /* Provenance: all five tags or none. */
    int given = !!t.sender + !!t.seq + !!t.sent_at + !!t.topic + !!t.hash;
    if (given && given < 5)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s.Tag: the cydex provenance tags come together (sender, seq, sent-at, "
                        "topic, envelope-hash); %d of 5 given",
                        path, given);
    if (given) {
        if (!cdx_id_valid(t.sender) || !cdx_parse_u64(t.seq, &p->seq) ||
            cdx_time_parse(t.sent_at, &p->sent_at_ms) != CDX_OK || !cdx_topic_valid(t.topic) ||
            cdx_hex_decode(p->hash, CDX_HASH_BYTES, t.hash) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT,
                            "%s.Tag: a cydex provenance tag is malformed (sender \"%s\", seq "
                            "\"%s\", sent-at \"%s\", topic \"%s\", envelope-hash \"%.70s\")",
                            path, t.sender, t.seq, t.sent_at, t.topic, t.hash);
        p->known = true;
        snprintf(p->sender, sizeof p->sender, "%s", t.sender);
        snprintf(p->topic, sizeof p->topic, "%s", t.topic);
    }
    if (orgc) {
        const char *ou, *on;
        if ((rc = cdx__fmt_jstr(orgc, "Orgc", "uuid", &ou, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr(orgc, "Orgc", "name", &on, eb)) != CDX_OK)
            return rc;
        const char *member = cdx_orgs_member(o ? o->orgs : NULL, ou, on);
        if (p->known && member && strcmp(member, p->sender) != 0)
            return cdx_errf(eb, CDX_ERR_CORRUPT,
                            "%s.Orgc: the organisation is %s's, but cydex:sender says %s", path,
                            member, p->sender);
        /* Without provenance, the member whose organisation made the event
         * is its sender for the exports that name one. */
        if (!p->known && member)
            snprintf(p->sender, sizeof p->sender, "%s", member);
    }
    if (p->sealed && !p->known)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "%s.Tag: cydex:recipient tags without the provenance tags", path);
    return cdx_alert_check(a, eb);
}

/* The machine-tag lines of an Opinion's note: the ack's fields. */
static cdx_err s_opinion_from(cdx_item *it, json_t *op, const char *path, const cdx_fmt_opts *o,
                              cdx_errbuf *eb)
{
    cdx_ack *k = &it->ack;
    cdx_provenance *p = &it->prov;
    it->kind = CDX_ITEM_ACK;
    const char *object_uuid, *object_type, *comment;
    uint64_t opinion = 0;
    bool has_opinion;
    json_t *notes;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr(op, path, "object_uuid", &object_uuid, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(op, path, "object_type", &object_type, eb)) != CDX_OK ||
        (rc = cdx__fmt_jstr(op, path, "comment", &comment, eb)) != CDX_OK ||
        (rc = cdx__fmt_jnum(op, path, "opinion", &opinion, &has_opinion, eb)) != CDX_OK ||
        (rc = cdx__fmt_jarr(op, path, "Note", &notes, eb)) != CDX_OK)
        return rc;
    if (object_type && strcmp(object_type, "Event") != 0)
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s.object_type: an opinion on a%s %s, not on an event (an alert)", path,
                        strchr("AEIOU", object_type[0]) ? "n" : "", object_type);
    s_tags t = {0};
    s_vals vals;
    memset(&vals, 0, sizeof vals);
    const char *stage = NULL, *alert_hash = NULL;
    char stage_buf[40], hash_buf[80];
    size_t i;
    json_t *e;
    json_array_foreach(notes, i, e)
    {
        char np[160];
        snprintf(np, sizeof np, "%s.Note[%zu]", path, i);
        const char *text;
        if (!json_is_object(e))
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", np);
        if ((rc = cdx__fmt_jstr(e, np, "note", &text, eb)) != CDX_OK)
            return rc;
        char line[S_TAG_MAX + 1];
        for (const char *at = text ? text : ""; *at;) {
            size_t n = strcspn(at, "\n");
            if (n >= sizeof line)
                return cdx_errf(eb, CDX_ERR_FORMAT, "%s.note: a line over %u bytes", np, S_TAG_MAX);
            memcpy(line, at, n);
            line[n] = '\0';
            at += n + (at[n] == '\n');
            if (!line[0])
                continue;
            if (strncmp(line, "cydex:", 6) != 0)
                return cdx__fmt_unmapped(o, eb, "%s.note: the line \"%.60s\"", np, line);
            if (s_machine(line, "cydex:stage", stage_buf, sizeof stage_buf))
                stage = stage_buf;
            else if (s_machine(line, "cydex:alert-hash", hash_buf, sizeof hash_buf))
                alert_hash = hash_buf;
            else if (strncmp(line, "cydex:recipient", 15) == 0 ||
                     strncmp(line, "cydex:sector", 12) == 0 ||
                     (rc = s_event_tag(line, np, &t, &vals, &it->alert, p, o, eb)) != CDX_OK)
                return rc != CDX_OK ? rc
                                    : cdx_errf(eb, CDX_ERR_FORMAT,
                                               "%s.note: \"%.60s\" is not "
                                               "about an ack",
                                               np, line);
        }
    }
    if (!alert_hash)
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s: no cydex:alert-hash; a CyDEx ack is bound to the alert's envelope "
                        "hash, which a MISP opinion alone does not carry",
                        path);
    if (cdx_hex_decode(k->alert_hash, CDX_HASH_BYTES, alert_hash) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: cydex:alert-hash is not 32 bytes of hex", path);
    if (stage) {
        if (cdx_ack_stage_parse(stage, &k->stage) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: cydex:stage=\"%s\" is not an ack stage", path,
                            stage);
    } else if (has_opinion) {
        for (size_t j = 0; j < sizeof s_opinions / sizeof *s_opinions; j++)
            if (s_opinions[j].opinion == opinion)
                k->stage = s_opinions[j].stage;
        if (!k->stage)
            return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "%s.opinion: %llu is none of the values an ack stage has (0 "
                            "rejected, 40 not-affected, 50 received, 60 investigating, 80 "
                            "assistance-offered, 100 mitigated)",
                            path, (unsigned long long)opinion);
    } else {
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: neither an opinion nor a cydex:stage", path);
    }
    const char *alert_id = t.alert_id ? t.alert_id : object_uuid;
    if (alert_id && !(k->alert_id = cdx__fmt_strdup(alert_id)))
        return CDX_ERR_NOMEM;
    if (!cdx__fmt_empty(comment) && !(k->note = cdx__fmt_strdup(comment)))
        return CDX_ERR_NOMEM;
    int given = !!t.sender + !!t.seq + !!t.sent_at + !!t.topic + !!t.hash;
    if (given && given < 5)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: the cydex provenance lines come together", path);
    if (given) {
        if (!cdx_id_valid(t.sender) || !cdx_parse_u64(t.seq, &p->seq) ||
            cdx_time_parse(t.sent_at, &p->sent_at_ms) != CDX_OK || !cdx_topic_valid(t.topic) ||
            cdx_hex_decode(p->hash, CDX_HASH_BYTES, t.hash) != CDX_OK)
            return cdx_errf(eb, CDX_ERR_FORMAT, "%s: a cydex provenance line is malformed", path);
        p->known = true;
        snprintf(p->sender, sizeof p->sender, "%s", t.sender);
        snprintf(p->topic, sizeof p->topic, "%s", t.topic);
    }
    if (t.tlp || t.has_severity || t.category || t.updates || t.expires || it->alert.n_sectors)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: an alert's tags in an ack's note", path);
    return cdx_ack_check(k, eb);
}

/* One {"Event": …} or {"Opinion": …} object. */
static cdx_err s_doc_from(cdx_item *it, json_t *doc, const char *path, const cdx_fmt_opts *o,
                          cdx_errbuf *eb)
{
    json_t *ev = json_object_get(doc, "Event"), *op = json_object_get(doc, "Opinion");
    char sub[96];
    if (ev && op)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: both an Event and an Opinion", path);
    if (json_object_size(doc) != 1 || (!ev && !op)) {
        const char *key = json_object_iter_key(json_object_iter(doc));
        return cdx_errf(
            eb, CDX_ERR_FORMAT,
            "%s: expected {\"Event\": …}, {\"response\": […]} or {\"Opinion\": …}%s%s%s", path,
            key ? ", not a key \"" : "", key ? key : "", key ? "\"" : "");
    }
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", ev ? "Event" : "Opinion");
    if (!json_is_object(ev ? ev : op))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", sub);
    cdx_err rc = ev ? s_event_from(it, ev, sub, o, eb) : s_opinion_from(it, op, sub, o, eb);
    if (rc != CDX_OK)
        cdx_item_clear(it);
    return rc;
}

cdx_err cdx_misp_import(cdx_items *out, const char *text, size_t len, const cdx_fmt_opts *o,
                        cdx_errbuf *eb)
{
    out->v = NULL;
    out->n = 0;
    json_t *doc;
    cdx_err rc = cdx__fmt_json_load(&doc, text, len, "misp", eb);
    if (rc != CDX_OK)
        return rc;
    json_t *resp = json_object_get(doc, "response");
    if (resp) {
        if (json_object_size(doc) != 1 || !json_is_array(resp)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "response: expected an array of {\"Event\": …}");
        } else if (json_array_size(resp) > CDX_FMT_ITEMS_MAX) {
            rc = cdx_errf(eb, CDX_ERR_TOO_BIG, "response: more than %u events", CDX_FMT_ITEMS_MAX);
        } else if (json_array_size(resp) &&
                   !(out->v = calloc(json_array_size(resp), sizeof *out->v))) {
            rc = CDX_ERR_NOMEM;
        }
        size_t i;
        json_t *e;
        json_array_foreach(resp, i, e)
        {
            if (rc != CDX_OK)
                break;
            char path[32];
            snprintf(path, sizeof path, "response[%zu]", i);
            if (!json_is_object(e))
                rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object", path);
            else if ((rc = s_doc_from(&out->v[i], e, path, o, eb)) == CDX_OK)
                out->n = i + 1;
        }
    } else {
        out->v = calloc(1, sizeof *out->v);
        if (!out->v)
            rc = CDX_ERR_NOMEM;
        else if ((rc = s_doc_from(&out->v[0], doc, "", o, eb)) == CDX_OK)
            out->n = 1;
    }
    json_decref(doc);
    if (rc != CDX_OK)
        cdx_items_clear(out);
    return rc;
}
