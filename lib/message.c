/* Message records: freeing, copying, checking, and the names of their enums.
 * The checks here are the rules every signer applies before signing and
 * every receiver applies after verifying, so both sides agree on what a
 * well-formed message is. Two of them are the federation's policy and hold
 * on every path (signing, brokers, nodes, the audit): TLP by cryptography
 * (above GREEN an alert is always sealed to named recipients, CLEAR and
 * GREEN never are) and one topic per kind of payload (alerts under
 * "alert.", the others on their reserved topics), so that no alert can pass
 * for a tree head, a heartbeat or an ack, nor one of those for an alert. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static void s_free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cdx_alert_clear(cdx_alert *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->category);
    free(a->title);
    free(a->description);
    for (size_t i = 0; i < a->n_indicators; i++) {
        free(a->indicators[i].type);
        free(a->indicators[i].value);
        free(a->indicators[i].comment);
    }
    free(a->indicators);
    s_free_strv(a->sectors, a->n_sectors);
    s_free_strv(a->references, a->n_references);
    free(a->updates);
    memset(a, 0, sizeof *a);
}

void cdx_ack_clear(cdx_ack *a)
{
    if (!a)
        return;
    free(a->alert_id);
    free(a->note);
    memset(a, 0, sizeof *a);
}

void cdx_sealed_clear(cdx_sealed *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_recipients; i++) {
        free(s->recipients[i].id);
        cdx_bytes_free(&s->recipients[i].wrapped_key);
    }
    free(s->recipients);
    cdx_bytes_free(&s->nonce);
    cdx_bytes_free(&s->ciphertext);
    memset(s, 0, sizeof *s);
}

bool cdx_sealed_names(const cdx_sealed *s, const char *id)
{
    for (size_t i = 0; i < s->n_recipients; i++)
        if (s->recipients[i].id && strcmp(s->recipients[i].id, id) == 0)
            return true;
    return false;
}

void cdx_tree_head_clear(cdx_tree_head *t)
{
    if (!t)
        return;
    free(t->origin);
    memset(t, 0, sizeof *t);
}

void cdx_body_clear(cdx_body *b)
{
    if (!b)
        return;
    free(b->sender);
    free(b->topic);
    cdx_alert_clear(&b->alert);
    cdx_ack_clear(&b->ack);
    cdx_sealed_clear(&b->sealed);
    cdx_bytes_free(&b->roster);
    cdx_tree_head_clear(&b->tree_head);
    cdx_bytes_free(&b->witness);
    memset(b, 0, sizeof *b);
}

/* Copies a string field; a NULL source stays NULL. */
static bool s_dup(char **dst, const char *src)
{
    *dst = cdx__strdup(src);
    return !src || *dst;
}

static bool s_dup_strv(char ***dst, size_t *n_dst, char *const *src, size_t n)
{
    *dst = NULL;
    *n_dst = 0;
    if (!n)
        return true;
    *dst = calloc(n, sizeof **dst);
    if (!*dst)
        return false;
    *n_dst = n;
    for (size_t i = 0; i < n; i++)
        if (!s_dup(&(*dst)[i], src[i]))
            return false;
    return true;
}

bool cdx_alert_same(const cdx_alert *a, const cdx_alert *b)
{
    /* The wire form is canonical for one set of values: protobuf-c packs
     * fields in number order and leaves out the empty ones. */
    cdx_bytes x = {0}, y = {0};
    bool same = cdx__alert_encode(a, &x) == CDX_OK && cdx__alert_encode(b, &y) == CDX_OK &&
                x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    cdx_bytes_free(&x);
    cdx_bytes_free(&y);
    return same;
}

cdx_err cdx_alert_copy(cdx_alert *dst, const cdx_alert *src)
{
    memset(dst, 0, sizeof *dst);
    dst->tlp = src->tlp;
    dst->severity = src->severity;
    dst->expires_at_ms = src->expires_at_ms;
    dst->status = src->status;
    dst->msg_type = src->msg_type;
    bool ok = s_dup(&dst->id, src->id) && s_dup(&dst->category, src->category) &&
              s_dup(&dst->title, src->title) && s_dup(&dst->description, src->description) &&
              s_dup(&dst->updates, src->updates) &&
              s_dup_strv(&dst->sectors, &dst->n_sectors, src->sectors, src->n_sectors) &&
              s_dup_strv(&dst->references, &dst->n_references, src->references, src->n_references);
    if (ok && src->n_indicators) {
        dst->indicators = calloc(src->n_indicators, sizeof *dst->indicators);
        ok = dst->indicators != NULL;
        if (ok)
            dst->n_indicators = src->n_indicators;
        for (size_t i = 0; ok && i < src->n_indicators; i++)
            ok = s_dup(&dst->indicators[i].type, src->indicators[i].type) &&
                 s_dup(&dst->indicators[i].value, src->indicators[i].value) &&
                 s_dup(&dst->indicators[i].comment, src->indicators[i].comment);
    }
    if (!ok) {
        cdx_alert_clear(dst);
        return CDX_ERR_NOMEM;
    }
    return CDX_OK;
}

/* ---- names ---- */

typedef struct s_name {
    int value;
    const char *name;
} s_name;

static const s_name s_tlps[] = {{CDX_TLP_CLEAR, "CLEAR"}, {CDX_TLP_GREEN, "GREEN"},
                                {CDX_TLP_AMBER, "AMBER"}, {CDX_TLP_AMBER_STRICT, "AMBER+STRICT"},
                                {CDX_TLP_RED, "RED"},     {0, NULL}};
static const s_name s_severities[] = {
    {CDX_SEVERITY_UNKNOWN, "unknown"},   {CDX_SEVERITY_MINOR, "minor"},
    {CDX_SEVERITY_MODERATE, "moderate"}, {CDX_SEVERITY_SEVERE, "severe"},
    {CDX_SEVERITY_EXTREME, "extreme"},   {0, NULL}};
static const s_name s_statuses[] = {{CDX_STATUS_ACTUAL, "actual"},
                                    {CDX_STATUS_EXERCISE, "exercise"},
                                    {CDX_STATUS_TEST, "test"},
                                    {0, NULL}};
static const s_name s_msg_types[] = {
    {CDX_MSG_ALERT, "alert"}, {CDX_MSG_UPDATE, "update"}, {CDX_MSG_CANCEL, "cancel"}, {0, NULL}};
static const s_name s_stages[] = {{CDX_ACK_RECEIVED, "received"},
                                  {CDX_ACK_INVESTIGATING, "investigating"},
                                  {CDX_ACK_NOT_AFFECTED, "not-affected"},
                                  {CDX_ACK_MITIGATED, "mitigated"},
                                  {CDX_ACK_ASSISTANCE_OFFERED, "assistance-offered"},
                                  {CDX_ACK_REJECTED, "rejected"},
                                  {0, NULL}};
static const s_name s_kinds[] = {
    {CDX_PAYLOAD_ALERT, "alert"},         {CDX_PAYLOAD_ACK, "ack"},
    {CDX_PAYLOAD_SEALED, "sealed"},       {CDX_PAYLOAD_ROSTER, "roster"},
    {CDX_PAYLOAD_TREE_HEAD, "tree_head"}, {CDX_PAYLOAD_HEARTBEAT, "heartbeat"},
    {CDX_PAYLOAD_WITNESS, "witness"},     {0, NULL}};

static const char *s_name_of(const s_name *t, int v)
{
    for (; t->name; t++)
        if (t->value == v)
            return t->name;
    return "unspecified";
}

/* Case-insensitive; '_' in the input matches '-' or '+' in the name. */
static bool s_name_eq(const char *name, const char *input)
{
    for (; *name && *input; name++, input++) {
        char a = *name, b = *input;
        if (b == '_' && (a == '-' || a == '+'))
            continue;
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return !*name && !*input;
}

static cdx_err s_parse(const s_name *t, const char *input, int *out)
{
    if (!input)
        return CDX_ERR_FORMAT;
    if (strncasecmp(input, "TLP:", 4) == 0)
        input += 4;
    for (; t->name; t++)
        if (s_name_eq(t->name, input)) {
            *out = t->value;
            return CDX_OK;
        }
    return CDX_ERR_FORMAT;
}

const char *cdx_tlp_name(cdx_tlp t)
{
    return s_name_of(s_tlps, (int)t);
}
const char *cdx_severity_name(cdx_severity s)
{
    return s_name_of(s_severities, (int)s);
}
const char *cdx_status_name(cdx_alert_status s)
{
    return s_name_of(s_statuses, (int)s);
}
const char *cdx_msg_type_name(cdx_msg_type m)
{
    return s_name_of(s_msg_types, (int)m);
}
const char *cdx_ack_stage_name(cdx_ack_stage s)
{
    return s_name_of(s_stages, (int)s);
}
const char *cdx_payload_kind_name(cdx_payload_kind k)
{
    return s_name_of(s_kinds, (int)k);
}

#define S_PARSER(fn, type, table)                                                                  \
    cdx_err fn(const char *name, type *out)                                                        \
    {                                                                                              \
        int v;                                                                                     \
        cdx_err rc = s_parse(table, name, &v);                                                     \
        if (rc == CDX_OK)                                                                          \
            *out = (type)v;                                                                        \
        return rc;                                                                                 \
    }
S_PARSER(cdx_tlp_parse, cdx_tlp, s_tlps)
S_PARSER(cdx_severity_parse, cdx_severity, s_severities)
S_PARSER(cdx_status_parse, cdx_alert_status, s_statuses)
S_PARSER(cdx_msg_type_parse, cdx_msg_type, s_msg_types)
S_PARSER(cdx_ack_stage_parse, cdx_ack_stage, s_stages)

bool cdx_tlp_requires_seal(cdx_tlp t)
{
    return t == CDX_TLP_AMBER || t == CDX_TLP_AMBER_STRICT || t == CDX_TLP_RED;
}

void cdx_uuid_new(char out[CDX_UUID_TEXT])
{
    cdx__uuid_v4(out);
}

bool cdx_uuid_valid(const char *text)
{
    if (!text || strlen(text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* ---- checks ---- */

cdx_err cdx_alert_check(const cdx_alert *a, cdx_errbuf *eb)
{
    if (!cdx_uuid_valid(a->id))
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert id must be a UUID, got \"%s\"",
                        a->id ? a->id : "");
    if (a->tlp < CDX_TLP_CLEAR || a->tlp > CDX_TLP_RED)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has no TLP label", a->id);
    if ((unsigned)a->severity > CDX_SEVERITY_EXTREME)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has an unknown severity", a->id);
    if (a->status < CDX_STATUS_ACTUAL || a->status > CDX_STATUS_TEST)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has no status (actual/exercise/test)", a->id);
    if (a->msg_type < CDX_MSG_ALERT || a->msg_type > CDX_MSG_CANCEL)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has no message type", a->id);
    if (cdx__empty(a->title))
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has no title", a->id);
    bool wants_ref = a->msg_type != CDX_MSG_ALERT;
    if (wants_ref && !cdx_uuid_valid(a->updates))
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s is an %s but names no alert it updates",
                        a->id, cdx_msg_type_name(a->msg_type));
    if (!wants_ref && !cdx__empty(a->updates))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "alert %s names an alert it updates but its type is 'alert'", a->id);
    bool utf8 = cdx__utf8_valid(a->category) && cdx__utf8_valid(a->title) &&
                cdx__utf8_valid(a->description);
    for (size_t i = 0; i < a->n_indicators; i++) {
        if (cdx__empty(a->indicators[i].type) || cdx__empty(a->indicators[i].value))
            return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s indicator %zu needs a type and a value",
                            a->id, i);
        utf8 = utf8 && cdx__utf8_valid(a->indicators[i].type) &&
               cdx__utf8_valid(a->indicators[i].value) && cdx__utf8_valid(a->indicators[i].comment);
    }
    for (size_t i = 0; i < a->n_sectors; i++)
        utf8 = utf8 && cdx__utf8_valid(a->sectors[i]);
    for (size_t i = 0; i < a->n_references; i++)
        utf8 = utf8 && cdx__utf8_valid(a->references[i]);
    if (!utf8)
        return cdx_errf(eb, CDX_ERR_FORMAT, "alert %s has text that is not UTF-8", a->id);
    return CDX_OK;
}

cdx_err cdx_ack_check(const cdx_ack *a, cdx_errbuf *eb)
{
    static const uint8_t zero[CDX_HASH_BYTES];
    if (memcmp(a->alert_hash, zero, sizeof zero) == 0)
        return cdx_errf(eb, CDX_ERR_FORMAT, "ack names no alert hash");
    if (a->stage < CDX_ACK_RECEIVED || a->stage > CDX_ACK_REJECTED)
        return cdx_errf(eb, CDX_ERR_FORMAT, "ack has no stage");
    if (!cdx__utf8_valid(a->alert_id) || !cdx__utf8_valid(a->note))
        return cdx_errf(eb, CDX_ERR_FORMAT, "ack has text that is not UTF-8");
    return CDX_OK;
}

cdx_err cdx__tlp_check(cdx_payload_kind kind, cdx_tlp tlp, size_t n_recipients, const char *id,
                       cdx_errbuf *eb)
{
    const char *of = id && id[0] ? " " : "", *name = id && id[0] ? id : "";
    if (kind == CDX_PAYLOAD_ALERT && cdx_tlp_requires_seal(tlp))
        return cdx_errf(eb, CDX_ERR_TLP_NOT_SEALED,
                        "TLP:%s alert%s%s must be sealed to named recipients: above GREEN, no "
                        "alert travels in the clear",
                        cdx_tlp_name(tlp), of, name);
    if (kind != CDX_PAYLOAD_SEALED)
        return CDX_OK;
    if (tlp == CDX_TLP_CLEAR || tlp == CDX_TLP_GREEN)
        return cdx_errf(eb, CDX_ERR_TLP_SEALED_BELOW_AMBER,
                        "TLP:%s alerts go to everyone and are never sealed: only AMBER, "
                        "AMBER+STRICT and RED name recipients",
                        cdx_tlp_name(tlp));
    if (!cdx_tlp_requires_seal(tlp))
        return cdx_errf(eb, CDX_ERR_FORMAT, "sealed alert has no TLP label");
    if (n_recipients == 0)
        return cdx_errf(eb, CDX_ERR_POLICY, "sealed alert names no recipient");
    return CDX_OK;
}

static cdx_err s_sealed_check(const cdx_sealed *s, cdx_errbuf *eb)
{
    cdx_err rc = cdx__tlp_check(CDX_PAYLOAD_SEALED, s->tlp, s->n_recipients, NULL, eb);
    if (rc != CDX_OK)
        return rc;
    for (size_t i = 0; i < s->n_recipients; i++) {
        if (!cdx_id_valid(s->recipients[i].id))
            return cdx_errf(eb, CDX_ERR_FORMAT, "sealed alert recipient %zu has a bad id", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->recipients[i].id, s->recipients[j].id) == 0)
                return cdx_errf(eb, CDX_ERR_FORMAT, "sealed alert names %s twice",
                                s->recipients[i].id);
    }
    return CDX_OK;
}

/* ---- topics ---- */

bool cdx_topic_is_alert(const char *topic)
{
    /* alert.NAME[.NAME...]: under "alert.", so that a subscription to the
     * prefix "alert." gets every alert; no empty name. */
    if (!cdx_topic_valid(topic) || strncmp(topic, "alert.", 6) != 0)
        return false;
    for (const char *p = topic + 5; *p; p++)
        if (*p == '.' && (p[1] == '.' || !p[1]))
            return false;
    return true;
}

const char *cdx_payload_topic(cdx_payload_kind kind)
{
    switch (kind) {
    case CDX_PAYLOAD_ACK: return "ack";
    case CDX_PAYLOAD_ROSTER: return "roster";
    case CDX_PAYLOAD_TREE_HEAD:
    case CDX_PAYLOAD_WITNESS: return "sth";
    case CDX_PAYLOAD_HEARTBEAT: return "hb";
    default: return NULL;
    }
}

/* What a reserved topic is for, for error messages. */
static const char *s_topic_use(const char *topic)
{
    if (strcmp(topic, "ack") == 0)
        return "acknowledgements";
    if (strcmp(topic, "roster") == 0)
        return "roster updates";
    if (strcmp(topic, "sth") == 0)
        return "tree heads and co-signatures";
    if (strcmp(topic, "hb") == 0)
        return "heartbeats";
    return NULL;
}

bool cdx_topic_fits(const char *topic, cdx_payload_kind kind)
{
    if (kind == CDX_PAYLOAD_ALERT || kind == CDX_PAYLOAD_SEALED)
        return cdx_topic_is_alert(topic);
    const char *want = cdx_payload_topic(kind);
    return want && topic && strcmp(topic, want) == 0;
}

static cdx_err s_topic_check(const cdx_body *b, cdx_errbuf *eb)
{
    if (b->kind == CDX_PAYLOAD_NONE || cdx_topic_fits(b->topic, b->kind))
        return CDX_OK;
    if (b->kind == CDX_PAYLOAD_ALERT || b->kind == CDX_PAYLOAD_SEALED) {
        const char *use = s_topic_use(b->topic);
        return cdx_errf(eb, CDX_ERR_WRONG_TOPIC,
                        "topic \"%s\" %s%s: an alert goes on a topic under \"alert.\", "
                        "alert.NAME (e.g. alert.energy)",
                        b->topic, use ? "is reserved for " : "is not an alert topic",
                        use ? use : "");
    }
    return cdx_errf(eb, CDX_ERR_WRONG_TOPIC, "a %s goes on topic \"%s\", not \"%s\"",
                    cdx_payload_kind_name(b->kind), cdx_payload_topic(b->kind), b->topic);
}

static cdx_err s_payload_check(const cdx_body *b, cdx_errbuf *eb);

cdx_err cdx_body_check(const cdx_body *b, cdx_errbuf *eb)
{
    cdx_err rc = cdx__body_check_header(b, eb);
    if (rc != CDX_OK)
        return rc;
    return s_payload_check(b, eb);
}

cdx_err cdx__body_check_header(const cdx_body *b, cdx_errbuf *eb)
{
    if (!cdx_id_valid(b->sender))
        return cdx_errf(eb, CDX_ERR_FORMAT, "bad sender id \"%s\"", b->sender ? b->sender : "");
    if (!cdx_topic_valid(b->topic))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "bad topic \"%s\": use 1..127 characters of a-z 0-9 . _ -",
                        b->topic ? b->topic : "");
    if (b->seq == 0)
        return cdx_errf(eb, CDX_ERR_FORMAT, "seq starts at 1");
    if (b->has_prev_hash != (b->seq > 1))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        b->seq > 1
                            ? "seq %llu needs the hash of the sender's previous envelope"
                            : "seq %llu is a sender's first message: it has no previous hash",
                        (unsigned long long)b->seq);
    return s_topic_check(b, eb);
}

static cdx_err s_payload_check(const cdx_body *b, cdx_errbuf *eb)
{
    switch (b->kind) {
    case CDX_PAYLOAD_ALERT: {
        cdx_err rc = cdx_alert_check(&b->alert, eb);
        if (rc != CDX_OK)
            return rc;
        return cdx__tlp_check(CDX_PAYLOAD_ALERT, b->alert.tlp, 0, b->alert.id, eb);
    }
    case CDX_PAYLOAD_ACK: return cdx_ack_check(&b->ack, eb);
    case CDX_PAYLOAD_SEALED: return s_sealed_check(&b->sealed, eb);
    case CDX_PAYLOAD_ROSTER:
        return b->roster.len ? CDX_OK : cdx_errf(eb, CDX_ERR_FORMAT, "empty roster payload");
    case CDX_PAYLOAD_TREE_HEAD:
        return cdx__empty(b->tree_head.origin) || !cdx__utf8_valid(b->tree_head.origin)
                   ? cdx_errf(eb, CDX_ERR_FORMAT, "tree head names no (UTF-8) origin")
                   : CDX_OK;
    case CDX_PAYLOAD_HEARTBEAT: return CDX_OK;
    case CDX_PAYLOAD_WITNESS:
        return b->witness.len && b->witness.len <= CDX_WITNESS_HEAD_MAX
                   ? CDX_OK
                   : cdx_errf(eb, CDX_ERR_FORMAT,
                              "a co-signature carries a tree-head envelope of 1 to %d bytes, "
                              "not %zu",
                              CDX_WITNESS_HEAD_MAX, b->witness.len);
    case CDX_PAYLOAD_NONE:
    default: return cdx_errf(eb, CDX_ERR_FORMAT, "envelope carries no payload");
    }
}
