/* Items and what every format shares: provenance, the organisation table,
 * what a run has seen, TLP and indicator-type tables, and the dispatch
 * from a format's name to its module.
 *
 * What must always hold: an item owns everything it points to and is
 * cleared on failure; a carried envelope is only ever believed after
 * cdx_item_check_envelope found it says what the item says; the type and
 * sector tables here are the ones docs/formats.md prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmt_internal.h"

/* ================================================================ helpers == */

char *cdx__fmt_printf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

void cdx__fmt_lower(char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

bool cdx__fmt_empty(const char *s)
{
    return !s || !*s;
}

char *cdx__fmt_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

cdx_err cdx__fmt_strv_push(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof **v);
    if (!grown)
        return CDX_ERR_NOMEM;
    *v = grown;
    if (!(grown[*n] = cdx__fmt_strdup(s)))
        return CDX_ERR_NOMEM;
    (*n)++;
    return CDX_OK;
}

bool cdx__fmt_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

static void s_vsay(const cdx_fmt_opts *o, const char *fmt, va_list ap)
{
    if (!o || !o->note)
        return;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    o->note(o->note_ctx, buf);
}

void cdx__fmt_say(const cdx_fmt_opts *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vsay(o, fmt, ap);
    va_end(ap);
}

cdx_err cdx__fmt_unmapped(const cdx_fmt_opts *o, cdx_errbuf *eb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (o && o->lossy) {
        char buf[400];
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        cdx__fmt_say(o, "left out: %s", buf);
        return CDX_OK;
    }
    char buf[sizeof eb->msg];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cdx_errf(eb, CDX_ERR_UNSUPPORTED, "%s (no CyDEx field holds it; --lossy leaves it out)",
                    buf);
}

const char *cdx__fmt_sender(const cdx_item *it, const cdx_fmt_opts *o)
{
    if (it->prov.sender[0])
        return it->prov.sender;
    return o && !cdx__fmt_empty(o->sender) ? o->sender : NULL;
}

uint64_t cdx__fmt_time_of(const cdx_item *it, const cdx_fmt_opts *o)
{
    if (it->prov.known)
        return it->prov.sent_at_ms;
    return o && o->now_ms ? o->now_ms : cdx_now_ms();
}

/* ============================================================== formats == */

static const char *const s_fmt_names[] = {"", "cydex", "misp", "stix", "cap", "envelope"};

cdx_err cdx_fmt_parse(const char *name, cdx_fmt *out)
{
    for (int i = CDX_FMT_CYDEX; i <= CDX_FMT_ENVELOPE; i++)
        if (name && strcasecmp(name, s_fmt_names[i]) == 0) {
            *out = (cdx_fmt)i;
            return CDX_OK;
        }
    return CDX_ERR_FORMAT;
}

const char *cdx_fmt_name(cdx_fmt f)
{
    return f >= CDX_FMT_CYDEX && f <= CDX_FMT_ENVELOPE ? s_fmt_names[f] : "unknown";
}

/* ================================================================ items == */

void cdx_provenance_clear(cdx_provenance *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_recipients; i++)
        free(p->recipients[i]);
    free(p->recipients);
    cdx_bytes_free(&p->envelope);
    memset(p, 0, sizeof *p);
}

void cdx_item_clear(cdx_item *it)
{
    if (!it)
        return;
    cdx_alert_clear(&it->alert);
    cdx_ack_clear(&it->ack);
    cdx_provenance_clear(&it->prov);
    memset(it, 0, sizeof *it);
}

void cdx_items_clear(cdx_items *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        cdx_item_clear(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Sender, seq, sent_at, topic and hash of an envelope into p. */
static cdx_err s_prov_of(cdx_provenance *p, const cdx_envelope *env, bool keep_bytes)
{
    const cdx_body *b = cdx_envelope_body(env);
    p->known = true;
    snprintf(p->sender, sizeof p->sender, "%s", b->sender ? b->sender : "");
    snprintf(p->topic, sizeof p->topic, "%s", b->topic ? b->topic : "");
    p->seq = b->seq;
    p->sent_at_ms = b->sent_at_ms;
    memcpy(p->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
    if (b->kind == CDX_PAYLOAD_SEALED) {
        p->sealed = true;
        for (size_t i = 0; i < b->sealed.n_recipients; i++) {
            cdx_err rc =
                cdx__fmt_strv_push(&p->recipients, &p->n_recipients, b->sealed.recipients[i].id);
            if (rc != CDX_OK)
                return rc;
        }
    }
    if (keep_bytes) {
        size_t len;
        const uint8_t *bytes = cdx_envelope_bytes(env, &len);
        if (!(p->envelope.data = malloc(len ? len : 1)))
            return CDX_ERR_NOMEM;
        memcpy(p->envelope.data, bytes, len);
        p->envelope.len = len;
    }
    return CDX_OK;
}

cdx_err cdx_item_from_envelope(cdx_item *out, const cdx_envelope *env, const cdx_alert *opened,
                               bool keep_bytes, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    const cdx_body *b = cdx_envelope_body(env);
    cdx_err rc = CDX_OK;
    switch (b->kind) {
    case CDX_PAYLOAD_ALERT:
        out->kind = CDX_ITEM_ALERT;
        rc = cdx_alert_copy(&out->alert, &b->alert);
        break;
    case CDX_PAYLOAD_SEALED:
        if (!opened)
            return cdx_errf(eb, CDX_ERR_NOT_RECIPIENT,
                            "%s's alert seq %llu is sealed to others and cannot be read here: "
                            "it is not exported",
                            b->sender, (unsigned long long)b->seq);
        out->kind = CDX_ITEM_ALERT;
        rc = cdx_alert_copy(&out->alert, opened);
        break;
    case CDX_PAYLOAD_ACK:
        out->kind = CDX_ITEM_ACK;
        memcpy(out->ack.alert_hash, b->ack.alert_hash, CDX_HASH_BYTES);
        out->ack.stage = b->ack.stage;
        out->ack.alert_id = cdx__fmt_strdup(b->ack.alert_id);
        out->ack.note = cdx__fmt_strdup(b->ack.note);
        if ((b->ack.alert_id && !out->ack.alert_id) || (b->ack.note && !out->ack.note))
            rc = CDX_ERR_NOMEM;
        break;
    default:
        return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                        "%s seq %llu carries a %s: only alerts and acks map to other formats",
                        b->sender, (unsigned long long)b->seq, cdx_payload_kind_name(b->kind));
    }
    if (rc == CDX_OK)
        rc = s_prov_of(&out->prov, env, keep_bytes);
    if (rc != CDX_OK)
        cdx_item_clear(out);
    return rc;
}

cdx_err cdx_item_check_envelope(const cdx_item *it, cdx_errbuf *eb)
{
    const cdx_provenance *p = &it->prov;
    if (!p->envelope.len)
        return CDX_OK;
    cdx_envelope *env = NULL;
    cdx_errbuf why = {0};
    cdx_err rc = cdx_envelope_inspect(&env, p->envelope.data, p->envelope.len, &why);
    if (rc != CDX_OK)
        return cdx_errf(eb, CDX_ERR_FORMAT, "the carried envelope is not one: %s",
                        cdx_errbuf_msg(&why, rc));
    const cdx_body *b = cdx_envelope_body(env);
    char have[2 * CDX_HASH_BYTES + 1], said[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(have, cdx_envelope_hash(env), CDX_HASH_BYTES);
    cdx_hex_encode(said, p->hash, CDX_HASH_BYTES);
    rc = CDX_OK;
    if (!p->known) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT,
                      "an envelope is carried but no sender, seq and envelope hash beside it");
    } else if (strcmp(have, said) != 0) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT,
                      "envelope hash %s is said, but the carried envelope's is %s", said, have);
    } else if (strcmp(b->sender ? b->sender : "", p->sender) != 0 || b->seq != p->seq ||
               b->sent_at_ms != p->sent_at_ms || strcmp(b->topic ? b->topic : "", p->topic) != 0) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT,
                      "the sender, seq, time or topic said differ from the carried envelope's "
                      "(%s seq %llu on %s)",
                      b->sender, (unsigned long long)b->seq, b->topic);
    } else if (it->kind == CDX_ITEM_ALERT && b->kind == CDX_PAYLOAD_ALERT &&
               !cdx_alert_same(&b->alert, &it->alert)) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT,
                      "the alert differs from the one its carried envelope signs (alert %s)",
                      b->alert.id);
    } else if (it->kind == CDX_ITEM_ALERT && b->kind != CDX_PAYLOAD_ALERT &&
               b->kind != CDX_PAYLOAD_SEALED) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT, "an alert carries an envelope of a %s",
                      cdx_payload_kind_name(b->kind));
    } else if (it->kind == CDX_ITEM_ACK &&
               (b->kind != CDX_PAYLOAD_ACK || b->ack.stage != it->ack.stage ||
                memcmp(b->ack.alert_hash, it->ack.alert_hash, CDX_HASH_BYTES) != 0 ||
                strcmp(b->ack.note ? b->ack.note : "", it->ack.note ? it->ack.note : "") != 0)) {
        rc = cdx_errf(eb, CDX_ERR_CORRUPT,
                      "the ack differs from the one its carried envelope signs");
    }
    cdx_envelope_destroy(&env);
    return rc;
}

/* ================================================================= orgs == */

typedef struct s_org {
    char member[CDX_ID_MAX + 1];
    char uuid[CDX_UUID_TEXT];
    char *name;
} s_org;

struct cdx_orgs {
    s_org *v;
    size_t n;
};

void cdx_orgs_destroy(cdx_orgs **o)
{
    if (!o || !*o)
        return;
    for (size_t i = 0; i < (*o)->n; i++)
        free((*o)->v[i].name);
    free((*o)->v);
    free(*o);
    *o = NULL;
}

cdx_err cdx_orgs_parse(cdx_orgs **out, const char *text, size_t len, cdx_errbuf *eb)
{
    *out = NULL;
    json_t *doc;
    cdx_err rc = cdx__fmt_json_load(&doc, text, len, "organisations", eb);
    if (rc != CDX_OK)
        return rc;
    cdx_orgs *o = calloc(1, sizeof *o);
    if (!o || (json_object_size(doc) && !(o->v = calloc(json_object_size(doc), sizeof *o->v)))) {
        rc = CDX_ERR_NOMEM;
        goto done;
    }
    const char *member;
    json_t *e;
    json_object_foreach(doc, member, e)
    {
        char path[96];
        snprintf(path, sizeof path, "organisations.%s", member);
        const char *uuid, *name;
        if (!cdx_id_valid(member)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "organisations: \"%s\" is not a member id", member);
            break;
        }
        if (!json_is_object(e)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected an object {\"uuid\", \"name\"}", path);
            break;
        }
        if ((rc = cdx__fmt_jstr_req(e, path, "uuid", &uuid, eb)) != CDX_OK ||
            (rc = cdx__fmt_jstr_req(e, path, "name", &name, eb)) != CDX_OK)
            break;
        if (!cdx__fmt_uuid_rfc(uuid)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s.uuid: not an RFC 4122 UUID (versions 1-5)", path);
            break;
        }
        s_org *g = &o->v[o->n++];
        snprintf(g->member, sizeof g->member, "%s", member);
        memcpy(g->uuid, uuid, CDX_UUID_TEXT);
        cdx__fmt_lower(g->uuid);
        if (!(g->name = cdx__fmt_strdup(name))) {
            rc = CDX_ERR_NOMEM;
            break;
        }
    }
done:
    json_decref(doc);
    if (rc != CDX_OK)
        cdx_orgs_destroy(&o);
    *out = o;
    return rc;
}

const char *cdx_orgs_name(const cdx_orgs *o, const char *member, char uuid[CDX_UUID_TEXT])
{
    for (size_t i = 0; o && i < o->n; i++)
        if (strcmp(o->v[i].member, member) == 0) {
            memcpy(uuid, o->v[i].uuid, CDX_UUID_TEXT);
            return o->v[i].name;
        }
    cdx__fmt_member_uuid(uuid, member);
    return member;
}

const char *cdx_orgs_member(const cdx_orgs *o, const char *uuid, const char *name)
{
    for (size_t i = 0; o && uuid && i < o->n; i++)
        if (strcasecmp(o->v[i].uuid, uuid) == 0)
            return o->v[i].member;
    if (uuid && name && cdx_id_valid(name)) {
        char derived[CDX_UUID_TEXT];
        cdx__fmt_member_uuid(derived, name);
        if (strcasecmp(derived, uuid) == 0)
            return name;
    }
    return NULL;
}

/* ================================================================= seen == */

/* A ring of the last `max` alerts, with two open-addressing indexes (by
 * id, case-insensitive, and by envelope hash) of ring slot + 1 (0 free,
 * S_TOMB removed), so that a long replay costs O(1) per look-up. The
 * newest alert of an id is the one found. */
#define S_TOMB UINT32_MAX

struct cdx_fmt_seen {
    cdx__fmt_seen_alert *v;
    size_t max, n, next;
    uint32_t *by_id, *by_hash;
    size_t cap, tombs; /* cap: a power of two, at least 4 * max */
};

static uint64_t s_fnv(const void *p, size_t len, bool fold)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        unsigned c = b[i];
        if (fold && c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

static uint64_t s_key_id(const char *id)
{
    return s_fnv(id, strlen(id), true);
}

static uint64_t s_key_hash(const uint8_t *hash)
{
    return s_fnv(hash, CDX_HASH_BYTES, false);
}

static bool s_same_id(const cdx__fmt_seen_alert *a, const void *key)
{
    return strcasecmp(a->id, key) == 0;
}

static bool s_same_hash(const cdx__fmt_seen_alert *a, const void *key)
{
    return a->has_hash && memcmp(a->hash, key, CDX_HASH_BYTES) == 0;
}

/* The cell holding an entry that matches, or NULL. */
static uint32_t *s_cell(const cdx_fmt_seen *s, uint32_t *table, uint64_t h, const void *key,
                        bool (*same)(const cdx__fmt_seen_alert *, const void *))
{
    for (size_t i = h & (s->cap - 1), probes = 0; probes < s->cap;
         i = (i + 1) & (s->cap - 1), probes++) {
        if (table[i] == 0)
            return NULL;
        if (table[i] != S_TOMB && same(&s->v[table[i] - 1], key))
            return &table[i];
    }
    return NULL;
}

/* Points the key at `slot`, replacing an older entry of the same key. */
static void s_index(cdx_fmt_seen *s, uint32_t *table, uint64_t h, const void *key,
                    bool (*same)(const cdx__fmt_seen_alert *, const void *), size_t slot)
{
    uint32_t *old = s_cell(s, table, h, key, same);
    if (old) {
        *old = (uint32_t)slot + 1;
        return;
    }
    size_t i = h & (s->cap - 1);
    while (table[i] != 0 && table[i] != S_TOMB)
        i = (i + 1) & (s->cap - 1);
    if (table[i] == S_TOMB)
        s->tombs--;
    table[i] = (uint32_t)slot + 1;
}

/* Removes the key if it points at `slot`. */
static void s_unindex(cdx_fmt_seen *s, uint32_t *table, uint64_t h, const void *key,
                      bool (*same)(const cdx__fmt_seen_alert *, const void *), size_t slot)
{
    uint32_t *cell = s_cell(s, table, h, key, same);
    if (cell && *cell == slot + 1) {
        *cell = S_TOMB;
        s->tombs++;
    }
}

/* Builds both indexes again from the ring (tombstones gone). */
static void s_reindex(cdx_fmt_seen *s)
{
    memset(s->by_id, 0, s->cap * sizeof *s->by_id);
    memset(s->by_hash, 0, s->cap * sizeof *s->by_hash);
    s->tombs = 0;
    for (size_t k = s->n; k > 0; k--) { /* oldest first, so the newest wins */
        size_t slot = (s->next + s->max - k) % s->max;
        const cdx__fmt_seen_alert *a = &s->v[slot];
        s_index(s, s->by_id, s_key_id(a->id), a->id, s_same_id, slot);
        if (a->has_hash)
            s_index(s, s->by_hash, s_key_hash(a->hash), a->hash, s_same_hash, slot);
    }
}

cdx_err cdx_fmt_seen_new(cdx_fmt_seen **out, size_t max)
{
    *out = NULL;
    if (max == 0)
        max = 1;
    if (max > (1u << 28))
        return CDX_ERR_INVALID;
    cdx_fmt_seen *s = calloc(1, sizeof *s);
    if (!s)
        return CDX_ERR_NOMEM;
    s->max = max;
    s->cap = 16;
    while (s->cap < 4 * max)
        s->cap *= 2;
    s->v = calloc(max, sizeof *s->v);
    s->by_id = calloc(s->cap, sizeof *s->by_id);
    s->by_hash = calloc(s->cap, sizeof *s->by_hash);
    if (!s->v || !s->by_id || !s->by_hash) {
        cdx_fmt_seen_destroy(&s);
        return CDX_ERR_NOMEM;
    }
    *out = s;
    return CDX_OK;
}

void cdx_fmt_seen_destroy(cdx_fmt_seen **s)
{
    if (!s || !*s)
        return;
    free((*s)->v);
    free((*s)->by_id);
    free((*s)->by_hash);
    free(*s);
    *s = NULL;
}

const cdx__fmt_seen_alert *cdx__fmt_seen_by_id(const cdx_fmt_seen *s, const char *id)
{
    if (!s || !id)
        return NULL;
    uint32_t *cell = s_cell(s, s->by_id, s_key_id(id), id, s_same_id);
    return cell ? &s->v[*cell - 1] : NULL;
}

const cdx__fmt_seen_alert *cdx__fmt_seen_by_hash(const cdx_fmt_seen *s, const uint8_t *hash)
{
    if (!s)
        return NULL;
    uint32_t *cell = s_cell(s, s->by_hash, s_key_hash(hash), hash, s_same_hash);
    return cell ? &s->v[*cell - 1] : NULL;
}

cdx_err cdx_fmt_seen_add(cdx_fmt_seen *s, const cdx_item *it)
{
    if (!s || it->kind != CDX_ITEM_ALERT || !it->alert.id || strlen(it->alert.id) >= CDX_UUID_TEXT)
        return CDX_OK;
    cdx__fmt_seen_alert a = {0};
    const cdx_alert *al = &it->alert;
    snprintf(a.id, sizeof a.id, "%s", al->id);
    const char *root =
        al->msg_type == CDX_MSG_ALERT || cdx__fmt_empty(al->updates) ? al->id : al->updates;
    snprintf(a.root, sizeof a.root, "%s", root);
    /* An update of an update still belongs to the first alert. */
    const cdx__fmt_seen_alert *up =
        al->msg_type != CDX_MSG_ALERT ? cdx__fmt_seen_by_id(s, root) : NULL;
    if (up)
        memcpy(a.root, up->root, sizeof a.root);
    if (it->prov.known) {
        snprintf(a.sender, sizeof a.sender, "%s", it->prov.sender);
        a.sent_at_ms = it->prov.sent_at_ms;
        memcpy(a.hash, it->prov.hash, CDX_HASH_BYTES);
        a.has_hash = true;
    }
    a.created_ms = up ? up->created_ms : al->msg_type == CDX_MSG_ALERT ? a.sent_at_ms : 0;
    size_t slot = s->next;
    if (s->n == s->max) { /* the oldest goes */
        const cdx__fmt_seen_alert *old = &s->v[slot];
        s_unindex(s, s->by_id, s_key_id(old->id), old->id, s_same_id, slot);
        if (old->has_hash)
            s_unindex(s, s->by_hash, s_key_hash(old->hash), old->hash, s_same_hash, slot);
    }
    s->v[slot] = a;
    s_index(s, s->by_id, s_key_id(a.id), a.id, s_same_id, slot);
    if (a.has_hash)
        s_index(s, s->by_hash, s_key_hash(a.hash), a.hash, s_same_hash, slot);
    s->next = (s->next + 1) % s->max;
    if (s->n < s->max)
        s->n++;
    if (s->tombs > s->cap / 4)
        s_reindex(s);
    return CDX_OK;
}

/* ================================================================== TLP == */

static const struct {
    cdx_tlp tlp;
    const char *lower, *marking;
} s_tlps[] = {
    {CDX_TLP_CLEAR, "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {CDX_TLP_GREEN, "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {CDX_TLP_AMBER, "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {CDX_TLP_AMBER_STRICT, "amber+strict",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {CDX_TLP_RED, "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

/* TLP 1.0's marking definitions (STIX 2.1 predefines them; MISP's own
 * exporter still writes some), accepted on import. */
static const struct {
    cdx_tlp tlp;
    const char *marking;
} s_tlp1[] = {
    {CDX_TLP_CLEAR, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {CDX_TLP_GREEN, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {CDX_TLP_AMBER, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {CDX_TLP_RED, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};

const char *cdx__fmt_tlp_lower(cdx_tlp t)
{
    for (size_t i = 0; i < sizeof s_tlps / sizeof *s_tlps; i++)
        if (s_tlps[i].tlp == t)
            return s_tlps[i].lower;
    return NULL;
}

const char *cdx__fmt_tlp_marking(cdx_tlp t)
{
    for (size_t i = 0; i < sizeof s_tlps / sizeof *s_tlps; i++)
        if (s_tlps[i].tlp == t)
            return s_tlps[i].marking;
    return NULL;
}

cdx_tlp cdx__fmt_tlp_of_marking(const char *id)
{
    for (size_t i = 0; id && i < sizeof s_tlps / sizeof *s_tlps; i++)
        if (strcasecmp(s_tlps[i].marking, id) == 0)
            return s_tlps[i].tlp;
    for (size_t i = 0; id && i < sizeof s_tlp1 / sizeof *s_tlp1; i++)
        if (strcasecmp(s_tlp1[i].marking, id) == 0)
            return s_tlp1[i].tlp;
    return CDX_TLP_UNSPECIFIED;
}

cdx_tlp cdx__fmt_tlp_of_name(const char *name)
{
    if (name && strcasecmp(name, "white") == 0)
        return CDX_TLP_CLEAR;
    for (size_t i = 0; name && i < sizeof s_tlps / sizeof *s_tlps; i++)
        if (strcasecmp(s_tlps[i].lower, name) == 0)
            return s_tlps[i].tlp;
    return CDX_TLP_UNSPECIFIED;
}

/* ============================================================ indicators == */

/* MISP's defaults are those of its describeTypes ("sane_defaults"). */
static const cdx__fmt_type s_types[] = {
    {"ip-src", "Network activity", true, "ipv4-addr:value", "stix", false},
    {"ip-dst", "Network activity", true, "ipv4-addr:value", "stix", false},
    {"domain", "Network activity", true, "domain-name:value", "stix", false},
    {"hostname", "Network activity", true, "domain-name:value", "stix", false},
    {"url", "Network activity", true, "url:value", "stix", false},
    {"email-src", "Payload delivery", true, "email-message:from_ref.value", "stix", false},
    {"email-dst", "Network activity", true, "email-message:to_refs[*].value", "stix", false},
    {"email-subject", "Payload delivery", false, "email-message:subject", "stix", false},
    {"md5", "Payload delivery", true, "file:hashes.MD5", "stix", false},
    {"sha1", "Payload delivery", true, "file:hashes.'SHA-1'", "stix", false},
    {"sha256", "Payload delivery", true, "file:hashes.'SHA-256'", "stix", false},
    {"sha512", "Payload delivery", true, "file:hashes.'SHA-512'", "stix", false},
    {"filename", "Payload delivery", true, "file:name", "stix", false},
    {"mutex", "Artifacts dropped", true, "mutex:name", "stix", false},
    {"regkey", "Persistence mechanism", true, "windows-registry-key:key", "stix", false},
    {"AS", "Network activity", false, "autonomous-system:number", "stix", true},
    {"mac-address", "Network activity", false, "mac-addr:value", "stix", false},
    {"user-agent", "Network activity", false,
     "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", "stix", false},
    {"x509-fingerprint-sha1", "Network activity", true, "x509-certificate:hashes.'SHA-1'", "stix",
     false},
    {"x509-fingerprint-sha256", "Network activity", true, "x509-certificate:hashes.'SHA-256'",
     "stix", false},
    {"yara", "Payload installation", true, "", "yara", false},
    {"snort", "Network activity", true, "", "snort", false},
    {"sigma", "Payload installation", true, "", "sigma", false},
    {"vulnerability", "External analysis", false, NULL, NULL, false},
    {"link", "External analysis", false, NULL, NULL, false},
    {"text", "Other", false, NULL, NULL, false},
    {"comment", "Other", false, NULL, NULL, false},
};

const cdx__fmt_type *cdx__fmt_type_find(const char *type)
{
    for (size_t i = 0; type && i < sizeof s_types / sizeof *s_types; i++)
        if (strcmp(s_types[i].type, type) == 0)
            return &s_types[i];
    return NULL;
}

const char *cdx__fmt_type_list(void)
{
    return "ip-src, ip-dst, domain, hostname, url, email-src, email-dst, email-subject, md5, "
           "sha1, sha256, sha512, filename, mutex, regkey, AS, mac-address, user-agent, "
           "x509-fingerprint-sha1, x509-fingerprint-sha256, yara, snort, sigma, vulnerability, "
           "link, text, comment";
}

/* ============================================================== sectors == */

static const char *const s_nis2[] = {
    "energy",
    "transport",
    "banking",
    "financial",
    "health",
    "drinking-water",
    "waste-water",
    "digital-infrastructure",
    "ict-services",
    "public-administration",
    "space",
    "courier",
    "waste-management",
    "chemical",
    "food",
    "manufacturing",
    "digital-providers",
    "research",
};

bool cdx__fmt_nis2_sector(const char *sector)
{
    for (size_t i = 0; sector && i < sizeof s_nis2 / sizeof *s_nis2; i++)
        if (strcmp(s_nis2[i], sector) == 0)
            return true;
    return false;
}

/* STIX 2.1 industry-sector-ov, for the sectors CyDEx alerts name. */
static const struct {
    const char *cydex, *stix;
} s_stix_sectors[] = {
    {"health", "healthcare"},
    {"healthcare", "healthcare"},
    {"energy", "energy"},
    {"transport", "transportation"},
    {"banking", "financial-services"},
    {"financial", "financial-services"},
    {"drinking-water", "utilities"},
    {"waste-water", "utilities"},
    {"public-administration", "government-public-services"},
    {"government", "government-national"},
    {"digital-infrastructure", "telecommunications"},
    {"telecommunications", "telecommunications"},
    {"space", "aerospace"},
    {"chemical", "chemical"},
    {"food", "agriculture"},
    {"manufacturing", "manufacturing"},
    {"defence", "defense"},
    {"education", "education"},
};

const char *cdx__fmt_stix_sector(const char *sector)
{
    for (size_t i = 0; sector && i < sizeof s_stix_sectors / sizeof *s_stix_sectors; i++)
        if (strcmp(s_stix_sectors[i].cydex, sector) == 0)
            return s_stix_sectors[i].stix;
    return sector;
}

const char *cdx__fmt_cydex_sector(const char *stix)
{
    for (size_t i = 0; stix && i < sizeof s_stix_sectors / sizeof *s_stix_sectors; i++)
        if (strcmp(s_stix_sectors[i].stix, stix) == 0)
            return s_stix_sectors[i].cydex;
    return stix;
}

/* ============================================================= dispatch == */

static cdx_err s_one(cdx_items *out, cdx_item *it)
{
    out->v = malloc(sizeof *out->v);
    if (!out->v) {
        cdx_item_clear(it);
        return CDX_ERR_NOMEM;
    }
    out->v[0] = *it;
    out->n = 1;
    return CDX_OK;
}

cdx_err cdx_fmt_import(cdx_fmt from, cdx_items *out, const char *text, size_t len,
                       const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    out->v = NULL;
    out->n = 0;
    cdx_item it = {0};
    cdx_err rc;
    switch (from) {
    case CDX_FMT_CYDEX:
        rc = cdx_cydex_import(&it, text, len, o, eb);
        if (rc == CDX_OK)
            rc = s_one(out, &it);
        break;
    case CDX_FMT_MISP: rc = cdx_misp_import(out, text, len, o, eb); break;
    case CDX_FMT_STIX:
        rc = cdx_stix_import(&it, text, len, o, eb);
        if (rc == CDX_OK)
            rc = s_one(out, &it);
        break;
    case CDX_FMT_ENVELOPE: {
        cdx_envelope *env = NULL;
        rc = cdx_envelope_inspect(&env, (const uint8_t *)text, len, eb);
        if (rc == CDX_OK)
            rc = cdx_item_from_envelope(&it, env, NULL, true, eb);
        cdx_envelope_destroy(&env);
        if (rc == CDX_OK)
            rc = s_one(out, &it);
        break;
    }
    default: return cdx_errf(eb, CDX_ERR_INVALID, "%s is written, not read", cdx_fmt_name(from));
    }
    for (size_t i = 0; rc == CDX_OK && i < out->n; i++)
        rc = cdx_item_check_envelope(&out->v[i], eb);
    if (rc != CDX_OK)
        cdx_items_clear(out);
    return rc;
}

cdx_err cdx_fmt_export(cdx_fmt to, char **out, size_t *len, const cdx_item *it,
                       const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    *out = NULL;
    *len = 0;
    cdx_err rc;
    switch (to) {
    case CDX_FMT_CYDEX: rc = cdx_cydex_export(out, it, o, eb); break;
    case CDX_FMT_MISP: rc = cdx_misp_export(out, it, o, eb); break;
    case CDX_FMT_STIX: rc = cdx_stix_export(out, it, o, eb); break;
    case CDX_FMT_CAP: return cdx_cap_export(out, len, it, o, eb);
    case CDX_FMT_ENVELOPE:
        if (!it->prov.envelope.len)
            return cdx_errf(eb, CDX_ERR_UNSUPPORTED,
                            "no signed envelope is carried (export with --with-envelope)");
        if (!(*out = malloc(it->prov.envelope.len)))
            return CDX_ERR_NOMEM;
        memcpy(*out, it->prov.envelope.data, it->prov.envelope.len);
        *len = it->prov.envelope.len;
        return CDX_OK;
    default: return cdx_errf(eb, CDX_ERR_INVALID, "no such format");
    }
    if (rc == CDX_OK)
        *len = strlen(*out);
    return rc;
}
