/* CyDEx's own JSON as a format: what `cydex publish` and `cydex sign` take
 * (an alert or an ack), and what `cydex verify`, `inspect`, `tail --json`
 * and `cydex-audit replay` print (an envelope, a log entry), read into an
 * item with its provenance.
 *
 * The records themselves are read by libcydex's strict JSON mapping
 * (cydex/json.h); this file only finds them in the document and takes
 * the provenance (sender, seq, time, topic, hash, recipients) from the
 * signed body it sits in. A printed envelope carries no envelope bytes,
 * so --with-envelope needs the envelope itself (format "envelope").
 */
#include <stdlib.h>
#include <string.h>

#include "cydex/json.h"
#include "fmt_internal.h"

/* Re-serializes a member object and hands it to a libcydex importer. */
static char *s_dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* An envelope as cydex_json_from_envelope prints it. */
static cdx_err s_from_envelope(cdx_item *it, json_t *env, const char *path, cdx_errbuf *eb)
{
    const char *hash;
    json_t *body, *opened;
    cdx_err rc;
    if ((rc = cdx__fmt_jstr_req(env, path, "hash", &hash, eb)) != CDX_OK ||
        (rc = cdx__fmt_jobj(env, path, "body", &body, eb)) != CDX_OK ||
        (rc = cdx__fmt_jobj(env, path, "opened", &opened, eb)) != CDX_OK)
        return rc;
    if (!body)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.body: required field is missing", path);
    if (cdx_hex_decode(it->prov.hash, CDX_HASH_BYTES, hash) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.hash: expected 32 bytes of hex", path);
    char *text = s_dump(body);
    if (!text)
        return CDX_ERR_NOMEM;
    cdx_body b = {0};
    rc = cdx_json_to_body(&b, text, strlen(text), eb);
    free(text);
    if (rc != CDX_OK)
        return rc;
    cdx_provenance *p = &it->prov;
    p->known = true;
    snprintf(p->sender, sizeof p->sender, "%s", b.sender);
    snprintf(p->topic, sizeof p->topic, "%s", b.topic);
    p->seq = b.seq;
    p->sent_at_ms = b.sent_at_ms;
    switch (b.kind) {
    case CDX_PAYLOAD_ALERT:
        it->kind = CDX_ITEM_ALERT;
        it->alert = b.alert;
        memset(&b.alert, 0, sizeof b.alert);
        break;
    case CDX_PAYLOAD_ACK:
        it->kind = CDX_ITEM_ACK;
        it->ack = b.ack;
        memset(&b.ack, 0, sizeof b.ack);
        break;
    case CDX_PAYLOAD_SEALED:
        p->sealed = true;
        for (size_t i = 0; rc == CDX_OK && i < b.sealed.n_recipients; i++)
            rc = cdx__fmt_strv_push(&p->recipients, &p->n_recipients, b.sealed.recipients[i].id);
        if (rc != CDX_OK)
            break;
        if (!opened) {
            rc = cdx_errf(eb, CDX_ERR_NOT_RECIPIENT,
                          "%s's alert seq %llu is sealed and not opened here (cydex verify "
                          "--open KEY opens one sealed to you): it is not exported",
                          b.sender, (unsigned long long)b.seq);
            break;
        }
        text = s_dump(opened);
        if (!text) {
            rc = CDX_ERR_NOMEM;
            break;
        }
        it->kind = CDX_ITEM_ALERT;
        rc = cdx_json_to_alert(&it->alert, text, strlen(text), eb);
        free(text);
        if (rc == CDX_OK && it->alert.tlp != b.sealed.tlp)
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s.opened.tlp: differs from the sealed label %s",
                          path, cdx_tlp_name(b.sealed.tlp));
        break;
    default:
        rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                      "%s seq %llu carries a %s: only alerts and acks map to other formats",
                      b.sender, (unsigned long long)b.seq, cdx_payload_kind_name(b.kind));
    }
    cdx_body_clear(&b);
    return rc;
}

cdx_err cdx_cydex_import(cdx_item *out, const char *text, size_t len, const cdx_fmt_opts *o,
                         cdx_errbuf *eb)
{
    (void)o;
    memset(out, 0, sizeof *out);
    json_t *doc;
    cdx_err rc = cdx__fmt_json_load(&doc, text, len, "cydex", eb);
    if (rc != CDX_OK)
        return rc;
    json_t *env = NULL;
    rc = cdx__fmt_jobj(doc, "entry", "envelope", &env, eb);
    if (rc != CDX_OK) {
        /* a log entry whose "envelope" is not an object: rc says so */
    } else if (env) {
        rc = s_from_envelope(out, env, "entry.envelope", eb);
    } else if (json_object_get(doc, "body")) {
        rc = s_from_envelope(out, doc, "envelope", eb);
    } else if (json_object_get(doc, "sender") && json_object_get(doc, "seq")) {
        rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                      "a body without its envelope has no hash to name it by: give the envelope "
                      "as cydex verify or inspect prints it, or the envelope itself");
    } else if (json_object_get(doc, "alert_hash")) {
        out->kind = CDX_ITEM_ACK;
        rc = cdx_json_to_ack(&out->ack, text, len, eb);
    } else {
        out->kind = CDX_ITEM_ALERT;
        rc = cdx_json_to_alert(&out->alert, text, len, eb);
    }
    json_decref(doc);
    if (rc != CDX_OK)
        cdx_item_clear(out);
    return rc;
}

cdx_err cdx_cydex_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    bool pretty = o && o->pretty;
    *out = NULL;
    if (it->kind == CDX_ITEM_ALERT)
        return cdx_json_from_alert(out, &it->alert, pretty);
    if (it->kind == CDX_ITEM_ACK)
        return cdx_json_from_ack(out, &it->ack, pretty);
    return cdx_errf(eb, CDX_ERR_INVALID, "an empty item");
}
