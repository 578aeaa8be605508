/* CAP 1.2 (OASIS Common Alerting Protocol) out: an alert or an ack as one
 * <alert> document, through libxml2.
 *
 * CAP's scope follows TLP: CLEAR is Public; GREEN and AMBER are Restricted,
 * the label's rule in <restriction>; a sealed alert is Private, addressed
 * to its recipients. The label itself is a <code> ("TLP:AMBER"). What CAP
 * has no element for (indicators, sectors, references, the provenance) is
 * carried in <parameter>s named "cydex:…". An ack is msgType Ack.
 *
 * What must always hold: the document is valid against the CAP 1.2 rules
 * (elements in the schema's order, every required one present, times with
 * a "-00:00" offset and never "Z", identifiers without spaces, commas, '<'
 * or '&'); text XML cannot hold (control characters) is refused, never
 * dropped; without pretty, the whole document is one line.
 */
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt_internal.h"

#define S_NS "urn:oasis:names:tc:emergency:cap:1.2"

static const char *const s_severity[] = {"Unknown", "Minor", "Moderate", "Severe", "Extreme"};
static const char *const s_status[] = {"", "Actual", "Exercise", "Test"};
static const char *const s_msg_type[] = {"", "Alert", "Update", "Cancel"};

/* CAP's dateTime: seconds, and the offset "-00:00" for UTC (no "Z"). */
static void s_cap_time(char out[32], uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S-00:00", &tm);
}

/* Whether XML 1.0 can hold the text (no control characters but tab, line
 * feed and carriage return; no U+FFFE, U+FFFF). */
static bool s_xml_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; p && *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
        if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
            return false;
    }
    return true;
}

typedef struct s_doc {
    xmlDocPtr doc;
    xmlNsPtr ns;
    bool ok;
    cdx_err rc;
    cdx_errbuf *eb;
} s_doc;

static xmlNodePtr s_el(s_doc *d, xmlNodePtr parent, const char *name, const char *text,
                       const char *field)
{
    if (d->rc != CDX_OK || !d->ok)
        return NULL;
    if (text && !s_xml_text(text)) {
        d->rc =
            cdx_errf(d->eb, CDX_ERR_UNSUPPORTED,
                     "%s: holds a control character, which XML (and so CAP) cannot carry", field);
        return NULL;
    }
    xmlNodePtr n = xmlNewTextChild(parent, d->ns, (const xmlChar *)name, (const xmlChar *)text);
    if (!n)
        d->ok = false;
    return n;
}

static void s_param(s_doc *d, xmlNodePtr info, const char *name, const char *value,
                    const char *field)
{
    xmlNodePtr p = s_el(d, info, "parameter", NULL, field);
    s_el(d, p, "valueName", name, field);
    s_el(d, p, "value", value, field);
}

static void s_paramu(s_doc *d, xmlNodePtr info, const char *name, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    s_param(d, info, name, buf, name);
}

/* An identifier or sender: no spaces, commas, '<' or '&' (CAP 1.2). */
static bool s_cap_token(const char *s)
{
    return s && *s && !strpbrk(s, " ,<&\t\r\n");
}

static void s_provenance(s_doc *d, xmlNodePtr info, const cdx_item *it, const cdx_fmt_opts *o)
{
    const cdx_provenance *p = &it->prov;
    if (p->known) {
        char when[CDX_TIME_TEXT_MAX], hash[2 * CDX_HASH_BYTES + 1];
        cdx_time_format(when, p->sent_at_ms);
        cdx_hex_encode(hash, p->hash, CDX_HASH_BYTES);
        s_param(d, info, "cydex:sender", p->sender, "sender");
        s_paramu(d, info, "cydex:seq", p->seq);
        s_param(d, info, "cydex:sent-at", when, "sent_at");
        s_param(d, info, "cydex:topic", p->topic, "topic");
        s_param(d, info, "cydex:envelope-hash", hash, "hash");
        for (size_t i = 0; i < p->n_recipients; i++)
            s_param(d, info, "cydex:recipient", p->recipients[i], "recipients");
    }
    if (o && o->with_envelope && d->rc == CDX_OK) {
        if (!p->envelope.len) {
            d->rc = cdx_errf(d->eb, CDX_ERR_UNSUPPORTED,
                             "--with-envelope: this input carries no signed envelope (give the "
                             "envelope itself, or a log)");
            return;
        }
        char *b64 = cdx_base64_encode(p->envelope.data, p->envelope.len);
        if (!b64)
            d->ok = false;
        else
            s_param(d, info, "cydex:envelope", b64, "envelope");
        free(b64);
    }
}

/* "sender,identifier,sent" of an alert this run saw, into buf. */
static bool s_triple(char *buf, size_t cap, const cdx__fmt_seen_alert *a)
{
    if (!a || !a->sender[0] || !s_cap_token(a->id))
        return false;
    char sent[32];
    s_cap_time(sent, a->sent_at_ms);
    snprintf(buf, cap, "%s,%s,%s", a->sender, a->id, sent);
    return true;
}

static void s_head(s_doc *d, xmlNodePtr root, const char *identifier, const char *sender,
                   uint64_t when, const char *status, const char *msg_type)
{
    char sent[32];
    s_cap_time(sent, when);
    s_el(d, root, "identifier", identifier, "identifier");
    s_el(d, root, "sender", sender, "sender");
    s_el(d, root, "sent", sent, "sent");
    s_el(d, root, "status", status, "status");
    s_el(d, root, "msgType", msg_type, "msgType");
}

static void s_alert_doc(s_doc *d, xmlNodePtr root, const cdx_item *it, const cdx_fmt_opts *o,
                        const char *sender)
{
    const cdx_alert *a = &it->alert;
    const cdx_provenance *p = &it->prov;
    if (!s_cap_token(a->id)) {
        d->rc = cdx_errf(d->eb, CDX_ERR_UNSUPPORTED,
                         "alert.id: \"%.40s\" cannot be a CAP identifier", a->id);
        return;
    }
    if (cdx_tlp_requires_seal(a->tlp) && !(p->sealed && p->n_recipients)) {
        d->rc = cdx_errf(d->eb, CDX_ERR_UNSUPPORTED,
                         "alert.tlp: a TLP:%s alert is Private in CAP and needs its recipients' "
                         "addresses, which only a sealed envelope names",
                         cdx_tlp_name(a->tlp));
        return;
    }
    s_head(d, root, a->id, sender, cdx__fmt_time_of(it, o), s_status[a->status],
           s_msg_type[a->msg_type]);
    char code[40];
    snprintf(code, sizeof code, "TLP:%s", cdx_tlp_name(a->tlp));
    if (p->sealed && p->n_recipients) {
        size_t n = 1;
        for (size_t i = 0; i < p->n_recipients; i++)
            n += strlen(p->recipients[i]) + 1;
        char *addr = malloc(n);
        if (!addr) {
            d->ok = false;
            return;
        }
        addr[0] = '\0';
        for (size_t i = 0; i < p->n_recipients; i++) {
            if (i)
                strcat(addr, " ");
            strcat(addr, p->recipients[i]);
        }
        s_el(d, root, "scope", "Private", "scope");
        s_el(d, root, "addresses", addr, "recipients");
        free(addr);
    } else if (a->tlp == CDX_TLP_CLEAR) {
        s_el(d, root, "scope", "Public", "scope");
    } else {
        s_el(d, root, "scope", "Restricted", "scope");
        s_el(d, root, "restriction",
             a->tlp == CDX_TLP_GREEN
                 ? "TLP:GREEN: limited disclosure; recipients may share it within their "
                   "community, not publicly"
                 : "TLP:AMBER: limited disclosure; recipients may share it only on a "
                   "need-to-know basis within their organisation and its clients",
             "restriction");
    }
    s_el(d, root, "code", code, "tlp");
    if (a->msg_type != CDX_MSG_ALERT) {
        char refs[200];
        const cdx__fmt_seen_alert *up = o ? cdx__fmt_seen_by_id(o->seen, a->updates) : NULL;
        if (s_triple(refs, sizeof refs, up))
            s_el(d, root, "references", refs, "updates");
        else
            cdx__fmt_say(o,
                         "alert %s: the %s's original %s was not seen in this run, so CAP's "
                         "<references> (its sender and sent time) is left out; cydex:updates "
                         "names it",
                         a->id, cdx_msg_type_name(a->msg_type), a->updates);
    }
    xmlNodePtr info = s_el(d, root, "info", NULL, "info");
    s_el(d, info, "category", "Security", "category");
    s_el(d, info, "event", cdx__fmt_empty(a->category) ? "Cyber security incident" : a->category,
         "alert.category");
    s_el(d, info, "urgency", "Unknown", "urgency");
    s_el(d, info, "severity", s_severity[a->severity], "alert.severity");
    s_el(d, info, "certainty", "Unknown", "certainty");
    if (a->expires_at_ms) {
        char exp[32];
        s_cap_time(exp, a->expires_at_ms);
        s_el(d, info, "expires", exp, "alert.expires");
    }
    char org[CDX_UUID_TEXT];
    s_el(d, info, "senderName", cdx_orgs_name(o ? o->orgs : NULL, sender, org), "sender");
    s_el(d, info, "headline", a->title, "alert.title");
    if (!cdx__fmt_empty(a->description))
        s_el(d, info, "description", a->description, "alert.description");
    s_param(d, info, "cydex:tlp", cdx_tlp_name(a->tlp), "alert.tlp");
    if (!cdx__fmt_empty(a->category))
        s_param(d, info, "cydex:category", a->category, "alert.category");
    if (a->msg_type != CDX_MSG_ALERT)
        s_param(d, info, "cydex:updates", a->updates, "alert.updates");
    char field[64];
    for (size_t i = 0; i < a->n_indicators; i++) {
        const cdx_indicator *x = &a->indicators[i];
        char *name = cdx__fmt_printf("cydex:indicator:%s", x->type);
        snprintf(field, sizeof field, "alert.indicators[%zu]", i);
        if (!name) {
            d->ok = false;
            break;
        }
        s_param(d, info, name, x->value, field);
        if (!cdx__fmt_empty(x->comment))
            s_param(d, info, "cydex:indicator-comment", x->comment, field);
        free(name);
    }
    for (size_t i = 0; i < a->n_sectors; i++)
        s_param(d, info, "cydex:sector", a->sectors[i], "alert.sectors");
    for (size_t i = 0; i < a->n_references; i++)
        s_param(d, info, "cydex:reference", a->references[i], "alert.references");
    s_provenance(d, info, it, o);
}

static void s_ack_doc(s_doc *d, xmlNodePtr root, const cdx_item *it, const cdx_fmt_opts *o,
                      const char *sender)
{
    const cdx_ack *k = &it->ack;
    char hash[2 * CDX_HASH_BYTES + 1], id[CDX_UUID_TEXT];
    cdx__fmt_ack_uuid(id, it);
    s_head(d, root, id, sender, cdx__fmt_time_of(it, o), "Actual", "Ack");
    /* Acks go to every member of the federation; they carry no label. */
    s_el(d, root, "scope", "Restricted", "scope");
    s_el(d, root, "restriction", "CyDEx federation members", "restriction");
    if (!cdx__fmt_empty(k->note))
        s_el(d, root, "note", k->note, "ack.note");
    const cdx__fmt_seen_alert *acked = o ? cdx__fmt_seen_by_hash(o->seen, k->alert_hash) : NULL;
    char refs[200];
    if (s_triple(refs, sizeof refs, acked))
        s_el(d, root, "references", refs, "ack.alert_hash");
    else
        cdx__fmt_say(o,
                     "ack of %s: the acknowledged alert was not seen in this run, so CAP's "
                     "<references> (its sender and sent time) is left out; cydex:alert-hash "
                     "names it",
                     k->alert_id ? k->alert_id : "an alert");
    xmlNodePtr info = s_el(d, root, "info", NULL, "info");
    char event[64];
    snprintf(event, sizeof event, "Acknowledgement: %s", cdx_ack_stage_name(k->stage));
    s_el(d, info, "category", "Security", "category");
    s_el(d, info, "event", event, "ack.stage");
    s_el(d, info, "urgency", "Unknown", "urgency");
    s_el(d, info, "severity", "Unknown", "severity");
    s_el(d, info, "certainty", "Unknown", "certainty");
    char org[CDX_UUID_TEXT];
    s_el(d, info, "senderName", cdx_orgs_name(o ? o->orgs : NULL, sender, org), "sender");
    cdx_hex_encode(hash, k->alert_hash, CDX_HASH_BYTES);
    s_param(d, info, "cydex:ack-stage", cdx_ack_stage_name(k->stage), "ack.stage");
    s_param(d, info, "cydex:alert-hash", hash, "ack.alert_hash");
    if (!cdx__fmt_empty(k->alert_id))
        s_param(d, info, "cydex:alert-id", k->alert_id, "ack.alert_id");
    s_provenance(d, info, it, o);
}

/* One line: the newline after the declaration dropped, and line feeds in
 * text written as character references (the same text to a parser). */
static char *s_one_line(const char *xml, size_t len, size_t *out_len)
{
    size_t extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += xml[i] == '\n' ? 4 : 0;
    char *s = malloc(len + extra + 1), *q = s;
    if (!s)
        return NULL;
    const char *decl_end = strstr(xml, "?>");
    for (size_t i = 0; i < len; i++) {
        if (xml[i] != '\n') {
            *q++ = xml[i];
        } else if (decl_end && xml + i == decl_end + 2) {
            /* between the declaration and the root: not text */
        } else if (i + 1 < len) {
            memcpy(q, "&#10;", 5);
            q += 5;
        }
    }
    *q = '\0';
    *out_len = (size_t)(q - s);
    return s;
}

cdx_err cdx_cap_export(char **out, size_t *len, const cdx_item *it, const cdx_fmt_opts *o,
                       cdx_errbuf *eb)
{
    *out = NULL;
    *len = 0;
    const char *sender = cdx__fmt_sender(it, o);
    if (!sender || !s_cap_token(sender))
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "a CAP message names its sender: this input carries no provenance "
                        "(give the envelope or its JSON, or --sender ID)");
    if (it->kind != CDX_ITEM_ALERT && it->kind != CDX_ITEM_ACK)
        return cdx_errf(eb, CDX_ERR_INVALID, "an empty item");
    s_doc d = {.doc = xmlNewDoc((const xmlChar *)"1.0"), .ok = true, .eb = eb};
    xmlNodePtr root = d.doc ? xmlNewNode(NULL, (const xmlChar *)"alert") : NULL;
    if (!root) {
        xmlFreeDoc(d.doc);
        return CDX_ERR_NOMEM;
    }
    xmlDocSetRootElement(d.doc, root);
    d.ns = xmlNewNs(root, (const xmlChar *)S_NS, NULL);
    xmlSetNs(root, d.ns);
    if (it->kind == CDX_ITEM_ALERT)
        s_alert_doc(&d, root, it, o, sender);
    else
        s_ack_doc(&d, root, it, o, sender);
    cdx_err rc = d.rc != CDX_OK ? d.rc : d.ok ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK) {
        xmlChar *buf = NULL;
        int n = 0;
        bool pretty = o && o->pretty;
        xmlDocDumpFormatMemoryEnc(d.doc, &buf, &n, "UTF-8", pretty ? 1 : 0);
        if (!buf || n <= 0) {
            rc = CDX_ERR_NOMEM;
        } else if (pretty) {
            if ((*out = malloc((size_t)n + 1))) {
                memcpy(*out, buf, (size_t)n);
                (*out)[n] = '\0';
                *len = (size_t)n;
            }
        } else {
            *out = s_one_line((const char *)buf, (size_t)n, len);
        }
        if (rc == CDX_OK && !*out)
            rc = CDX_ERR_NOMEM;
        xmlFree(buf);
    }
    xmlFreeDoc(d.doc);
    return rc;
}
