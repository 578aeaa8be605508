/* Read-only questions about the node's log (see query.h).
 *
 * Alerts and acknowledgements are known through a cache of small records
 * (hash, index, who; an alert's id once known) that each question first
 * brings up to date by reading only the entries logged since the last one;
 * the entries that are shown are read again by index to print them.
 * Memory is O(alerts + acks) small records, not O(log bytes). The log's
 * entries were verified when they arrived; here they are only decoded.
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct s_alert_ref {
    uint8_t hash[CDX_HASH_BYTES];
    uint64_t index;
    bool from_self, readable, acked_by_self, sealed;
    bool id_known; /* id holds the alert's id (public ones at once, sealed ones once opened) */
    char id[CDX_UUID_TEXT];
} s_alert_ref;

typedef struct s_ack_ref {
    uint8_t alert[CDX_HASH_BYTES];
    uint64_t index;
    bool by_self;
} s_ack_ref;

struct node_query_cache {
    char self[CDX_ID_MAX + 1];
    uint64_t upto; /* entries read so far */
    s_alert_ref *alert;
    size_t n_alert, cap_alert;
    s_ack_ref *ack; /* sorted by alert hash, then index, up to sorted_acks */
    size_t n_ack, cap_ack, sorted_acks;
    size_t settled_alerts; /* alerts whose acked_by_self is worked out */
    size_t new_self_acks;  /* our acks read since the last settling */
    /* Our own alerts by id (the first of each id): an open-addressed
     * table of alert positions + 1 (0: free), covering alert[0,
     * own_indexed). Built only when a publish names its id. */
    size_t *own, cap_own, n_own, own_indexed;
};

cdx_err node_query_cache_new(node_query_cache **out, const char *self)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    snprintf((*out)->self, sizeof(*out)->self, "%s", self);
    return CDX_OK;
}

void node_query_cache_destroy(node_query_cache **c)
{
    if (!c || !*c)
        return;
    free((*c)->alert);
    free((*c)->ack);
    free((*c)->own);
    free(*c);
    *c = NULL;
}

/* The alert an envelope carries, opened into *opened if it is sealed to
 * us; NULL if it carries none we can read. */
static const cdx_alert *s_readable(const cdx_envelope *env, const cdx_identity *me,
                                   cdx_alert *opened)
{
    const cdx_body *b = cdx_envelope_body(env);
    if (b->kind == CDX_PAYLOAD_ALERT)
        return &b->alert;
    if (b->kind == CDX_PAYLOAD_SEALED && me && cdx_envelope_open(env, me, opened, NULL) == CDX_OK)
        return opened;
    return NULL;
}

/* An entry's envelope, verified again (so that printed JSON says
 * "verified": true), or only decoded if that fails. */
static cdx_err s_decode(const cdx_log_entry *e, const node_query_keys *k, cdx_envelope **env)
{
    cdx_verify_opts vo = {.now_ms = 0};
    if (k->roster &&
        cdx_envelope_verify(env, k->roster, e->envelope.data, e->envelope.len, &vo, NULL) == CDX_OK)
        return CDX_OK;
    return cdx_envelope_inspect(env, e->envelope.data, e->envelope.len, NULL);
}

static bool s_grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t want = *cap ? 2 * *cap : 256;
    void *q = realloc(*p, want * size);
    if (!q)
        return false;
    *p = q;
    *cap = want;
    return true;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    node_query_cache *c = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK; /* the auditor's business; nothing to list */
    const cdx_body *b = cdx_envelope_body(env);
    cdx_err rc = CDX_OK;
    if (b->kind == CDX_PAYLOAD_ALERT || b->kind == CDX_PAYLOAD_SEALED) {
        if (!s_grow((void **)&c->alert, &c->cap_alert, c->n_alert, sizeof *c->alert)) {
            rc = CDX_ERR_NOMEM;
        } else {
            s_alert_ref *a = &c->alert[c->n_alert++];
            memset(a, 0, sizeof *a);
            memcpy(a->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
            a->index = e->index;
            a->from_self = strcmp(b->sender, c->self) == 0;
            a->sealed = b->kind == CDX_PAYLOAD_SEALED;
            a->readable = !a->sealed || cdx_sealed_names(&b->sealed, c->self);
            if (!a->sealed && b->alert.id && strlen(b->alert.id) < sizeof a->id) {
                strcpy(a->id, b->alert.id);
                a->id_known = true;
            }
        }
    } else if (b->kind == CDX_PAYLOAD_ACK) {
        if (!s_grow((void **)&c->ack, &c->cap_ack, c->n_ack, sizeof *c->ack)) {
            rc = CDX_ERR_NOMEM;
        } else {
            s_ack_ref *k = &c->ack[c->n_ack++];
            memcpy(k->alert, b->ack.alert_hash, CDX_HASH_BYTES);
            k->index = e->index;
            k->by_self = strcmp(b->sender, c->self) == 0;
            c->new_self_acks += k->by_self;
        }
    }
    cdx_envelope_destroy(&env);
    return rc;
}

static int s_cmp_ack(const void *x, const void *y)
{
    const s_ack_ref *a = x, *b = y;
    int c = memcmp(a->alert, b->alert, CDX_HASH_BYTES);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* The first ack of `hash` in the sorted acks, and how many there are. */
static size_t s_acks_of(const node_query_cache *s, const uint8_t *hash, size_t *count)
{
    size_t lo = 0, hi = s->n_ack;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(s->ack[mid].alert, hash, CDX_HASH_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < s->n_ack && memcmp(s->ack[end].alert, hash, CDX_HASH_BYTES) == 0)
        end++;
    *count = end - lo;
    return lo;
}

static json_t *s_time(uint64_t ms)
{
    char t[CDX_TIME_TEXT_MAX];
    cdx_time_format(t, ms);
    return json_string(t);
}

static json_t *s_hex(const uint8_t *h)
{
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, h, CDX_HASH_BYTES);
    return json_string(hex);
}

/* One acknowledgement, read back from the log. */
static json_t *s_ack_json(cdx_log *log, uint64_t index)
{
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    json_t *o = NULL;
    if (cdx_log_get(log, index, &e, NULL) == CDX_OK &&
        cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        const cdx_body *b = cdx_envelope_body(env);
        o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:I,s:o}", "by", b->sender, "stage",
                      cdx_ack_stage_name(b->ack.stage), "note", b->ack.note ? b->ack.note : "",
                      "sent_at", s_time(b->sent_at_ms), "received_at", s_time(e.received_at_ms),
                      "index", (json_int_t)index, "hash", s_hex(cdx_envelope_hash(env)));
    }
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    return o;
}

/* The brokers' receipts the log keeps for the envelope with this hash
 * (our own alerts), each verified again against the roster. */
static json_t *s_receipts_json(cdx_log *log, const node_query_keys *k, const uint8_t *hash)
{
    json_t *a = json_array();
    cdx_log_receipt *r = NULL;
    size_t n = 0;
    if (!a || cdx_log_receipts_of(log, hash, &r, &n, NULL) != CDX_OK)
        return a;
    for (size_t i = 0; i < n; i++) {
        cdx_receipt *items = NULL;
        size_t ni = 0;
        cdx_errbuf eb = {0};
        cdx_err rc = r[i].receipt.len
                         ? cdx_receipt_verify_many(&items, &ni, k->roster, r[i].receipt.data,
                                                   r[i].receipt.len, &eb)
                         : cdx_errf(&eb, CDX_ERR_NOENT, "the receipt is not stored");
        free(items);
        const cdx_receipt *it = &r[i].item;
        json_t *o = json_pack("{s:s,s:s,s:I,s:o,s:o,s:I,s:b}", "broker", it->broker, "status",
                              cdx_receipt_status_name(it->status), "log_index",
                              (json_int_t)it->log_index, "committed_at",
                              s_time(it->committed_at_ms), "receipt", s_hex(r[i].receipt_hash),
                              "number", (json_int_t)r[i].number, "verified", rc == CDX_OK);
        if (o && it->status == CDX_RECEIPT_REJECTED)
            json_object_set_new(o, "reason", json_string(it->reason));
        if (o && rc != CDX_OK)
            json_object_set_new(o, "error", json_string(cdx_errbuf_msg(&eb, rc)));
        json_array_append_new(a, o);
    }
    cdx_log_receipts_free(r, n);
    return a;
}

/* One alert as list and show print it; with `whole`, the log entry and
 * the brokers' receipts too. */
static json_t *s_alert_json(cdx_log *log, const node_query_keys *k, const node_query_cache *s,
                            const s_alert_ref *a, bool whole)
{
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    json_t *o = NULL;
    if (cdx_log_get(log, a->index, &e, NULL) != CDX_OK || s_decode(&e, k, &env) != CDX_OK) {
        cdx_log_entry_clear(&e);
        return NULL;
    }
    const cdx_body *b = cdx_envelope_body(env);
    cdx_alert opened = {0};
    const cdx_alert *al = s_readable(env, k->me, &opened);
    o = json_pack("{s:I,s:o,s:s,s:I,s:o,s:o,s:s,s:b,s:b}", "index", (json_int_t)a->index, "hash",
                  s_hex(a->hash), "sender", b->sender, "seq", (json_int_t)b->seq, "sent_at",
                  s_time(b->sent_at_ms), "received_at", s_time(e.received_at_ms), "topic", b->topic,
                  "sealed", b->kind == CDX_PAYLOAD_SEALED, "readable", al != NULL);
    if (o) {
        cdx_tlp tlp = al ? al->tlp : b->sealed.tlp;
        json_object_set_new(o, "tlp", json_string(cdx_tlp_name(tlp)));
        if (b->kind == CDX_PAYLOAD_SEALED) { /* who can read it: on the envelope, in the clear */
            json_t *to = json_array();
            for (size_t i = 0; i < b->sealed.n_recipients; i++)
                json_array_append_new(to, json_string(b->sealed.recipients[i].id));
            json_object_set_new(o, "recipients", to);
        }
        if (al) {
            json_object_set_new(o, "id", json_string(al->id ? al->id : ""));
            json_object_set_new(o, "severity", json_string(cdx_severity_name(al->severity)));
            json_object_set_new(o, "title", json_string(al->title ? al->title : ""));
        }
        json_t *acks = json_array();
        size_t n, first = s_acks_of(s, a->hash, &n);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(acks, s_ack_json(log, s->ack[first + i].index));
        json_object_set_new(o, "acks", acks);
        if (whole)
            json_object_set_new(o, "receipts", s_receipts_json(log, k, a->hash));
        char *text = NULL;
        if (whole && cdx_json_from_log_entry(&text, &e, env, al == &opened ? al : NULL) == CDX_OK)
            json_object_set_new(o, "entry", json_loads(text, 0, NULL));
        free(text);
    }
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    return o;
}

/* Reads up to `max` (0: all) of the entries logged since the cache last
 * looked; *size_out (if given) is the log's size read for it. */
static cdx_err s_read_more(cdx_log *log, node_query_cache *c, uint64_t max, uint64_t *size_out,
                           cdx_errbuf *eb)
{
    uint64_t size = 0;
    cdx_err rc = cdx_log_size(log, &size);
    if (size_out)
        *size_out = size;
    if (rc != CDX_OK || size <= c->upto)
        return rc;
    uint64_t to = max && size - c->upto > max ? c->upto + max : size;
    size_t first_alert = c->n_alert, first_ack = c->n_ack;
    size_t self_acks = c->new_self_acks;
    rc = cdx_log_scan(log, c->upto, to, s_visit, c, eb);
    if (rc != CDX_OK) { /* forget the partial read: the next question reads it again */
        c->n_alert = first_alert;
        c->n_ack = first_ack;
        c->new_self_acks = self_acks;
        return rc;
    }
    c->upto = to;
    return CDX_OK;
}

/* Sorts what was read and works out which alerts we have acknowledged:
 * for the new alerts, or for all if we acknowledged anything new. */
static void s_settle(node_query_cache *c)
{
    if (c->n_ack > c->sorted_acks) {
        qsort(c->ack, c->n_ack, sizeof *c->ack, s_cmp_ack);
        c->sorted_acks = c->n_ack;
    }
    for (size_t i = c->new_self_acks ? 0 : c->settled_alerts; i < c->n_alert; i++) {
        size_t n, at = s_acks_of(c, c->alert[i].hash, &n);
        c->alert[i].acked_by_self = false;
        for (size_t j = 0; j < n && !c->alert[i].acked_by_self; j++)
            c->alert[i].acked_by_self = c->ack[at + j].by_self;
    }
    c->settled_alerts = c->n_alert;
    c->new_self_acks = 0;
}

/* Brings the cache up to date before a question. */
static cdx_err s_refresh(cdx_log *log, node_query_cache *c, cdx_errbuf *eb)
{
    cdx_err rc = s_read_more(log, c, 0, NULL, eb);
    if (rc == CDX_OK)
        s_settle(c);
    return rc;
}

cdx_err node_query_cache_warm(cdx_log *log, node_query_cache *c, uint64_t max, uint64_t *behind)
{
    uint64_t size = 0;
    cdx_err rc = s_read_more(log, c, max, &size, NULL);
    if (rc == CDX_OK)
        *behind = size > c->upto ? size - c->upto : 0;
    else
        *behind = node_query_cache_behind(log, c);
    return rc;
}

uint64_t node_query_cache_behind(cdx_log *log, const node_query_cache *c)
{
    uint64_t size = 0;
    return cdx_log_size(log, &size) == CDX_OK && size > c->upto ? size - c->upto : 0;
}

/* The id of a sealed alert addressed to us, learnt by opening it once. */
static void s_learn_id(cdx_log *log, const cdx_identity *me, s_alert_ref *a)
{
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    if (cdx_log_get(log, a->index, &e, NULL) == CDX_OK &&
        cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        cdx_alert opened = {0};
        const cdx_alert *al = s_readable(env, me, &opened);
        if (al && al->id && strlen(al->id) < sizeof a->id)
            strcpy(a->id, al->id);
        cdx_alert_clear(&opened);
    }
    a->id_known = true; /* or known unknowable: not tried again */
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
}

/* Whether alert a is the one `which` names (its envelope hash in hex, or
 * its id). */
static bool s_matches(cdx_log *log, const cdx_identity *me, s_alert_ref *a, const char *which,
                      bool by_hash, const uint8_t *hash)
{
    if (by_hash)
        return memcmp(a->hash, hash, CDX_HASH_BYTES) == 0;
    if (!a->readable)
        return false;
    if (!a->id_known)
        s_learn_id(log, me, a);
    return strcmp(a->id, which) == 0;
}

static bool s_is_hash(const char *which, uint8_t hash[CDX_HASH_BYTES])
{
    return strlen(which) == 2 * CDX_HASH_BYTES &&
           cdx_hex_decode(hash, CDX_HASH_BYTES, which) == CDX_OK;
}

cdx_err node_query_alerts(cdx_log *log, const node_query_keys *k, node_query_cache *c,
                          const node_alert_query *q, char **json, cdx_errbuf *eb)
{
    *json = NULL;
    cdx_err rc = s_refresh(log, c, eb);
    uint8_t hash[CDX_HASH_BYTES];
    bool by_hash = q->which && s_is_hash(q->which, hash);
    /* Which alerts, in log order: one (its latest copy), or all, or the
     * others' readable ones we have not acknowledged. */
    size_t total = 0, last = 0;
    for (size_t i = 0; rc == CDX_OK && i < c->n_alert; i++) {
        s_alert_ref *a = &c->alert[i];
        bool pick = q->which ? s_matches(log, k->me, a, q->which, by_hash, hash)
                             : !q->unacked || (!a->from_self && a->readable && !a->acked_by_self);
        if (pick) {
            total++;
            last = i;
        }
    }
    if (rc == CDX_OK && q->which && total == 0)
        rc = cdx_errf(eb, CDX_ERR_NOENT, "no alert %s in this node's log", q->which);
    size_t skip = q->which ? 0 : q->limit && total > q->limit ? total - q->limit : 0;
    json_t *arr = json_array(), *o = NULL;
    for (size_t i = q->which ? last : 0, seen = 0; rc == CDX_OK && i < c->n_alert; i++) {
        s_alert_ref *a = &c->alert[i];
        if (q->which ? i != last
                     : (q->unacked && (a->from_self || !a->readable || a->acked_by_self)) ||
                           seen++ < skip)
            continue;
        json_t *aj = s_alert_json(log, k, c, a, q->which != NULL);
        if (!aj || json_array_append_new(arr, aj) != 0)
            rc = cdx_errf(eb, CDX_ERR_NOMEM, "could not build the list");
    }
    if (rc == CDX_OK) {
        o = json_pack("{s:I,s:O}", "total", (json_int_t)total, "alerts", arr);
        *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (!*json)
            rc = cdx_errf(eb, CDX_ERR_NOMEM, "could not build the list");
    }
    json_decref(o);
    json_decref(arr);
    return rc;
}

cdx_err node_query_resolve(cdx_log *log, const cdx_identity *me, node_query_cache *c,
                           const char *which, uint8_t hash[CDX_HASH_BYTES], char **id,
                           cdx_errbuf *eb)
{
    *id = NULL;
    uint64_t index = 0;
    cdx_err rc = CDX_OK;
    if (s_is_hash(which, hash)) {
        if (cdx_log_find_hash(log, hash, &index) != CDX_OK)
            return CDX_OK; /* not (yet) here: acknowledge the hash as given */
    } else {
        rc = s_refresh(log, c, eb);
        bool found = false;
        for (size_t i = 0; rc == CDX_OK && i < c->n_alert; i++)
            if (s_matches(log, me, &c->alert[i], which, false, NULL)) {
                found = true; /* the latest copy wins */
                index = c->alert[i].index;
                memcpy(hash, c->alert[i].hash, CDX_HASH_BYTES);
            }
        if (rc != CDX_OK)
            return rc;
        if (!found)
            return cdx_errf(eb, CDX_ERR_NOENT,
                            "no alert with id %s in this node's log (give its envelope hash to "
                            "acknowledge one not received yet)",
                            which);
    }
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    if (cdx_log_get(log, index, &e, NULL) == CDX_OK &&
        cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        cdx_alert opened = {0};
        const cdx_alert *al = s_readable(env, me, &opened);
        if (al && al->id)
            *id = strdup(al->id);
        cdx_alert_clear(&opened);
    }
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    return rc;
}

static size_t s_id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ull;
    return (size_t)h;
}

/* The slot of `id` in the own table: where it is, or the free one where it
 * would go. The table always has a free slot. */
static size_t *s_own_slot(node_query_cache *c, const char *id)
{
    size_t mask = c->cap_own - 1, i = s_id_hash(id) & mask;
    while (c->own[i] && strcmp(c->alert[c->own[i] - 1].id, id) != 0)
        i = (i + 1) & mask;
    return &c->own[i];
}

static bool s_own_grow(node_query_cache *c)
{
    if (2 * (c->n_own + 1) <= c->cap_own)
        return true;
    size_t cap = c->cap_own ? 2 * c->cap_own : 1024, *old = c->own, old_cap = c->cap_own;
    c->own = calloc(cap, sizeof *c->own);
    if (!c->own) {
        c->own = old;
        return false;
    }
    c->cap_own = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            *s_own_slot(c, c->alert[old[i] - 1].id) = old[i];
    free(old);
    return true;
}

cdx_err node_query_own_alert(cdx_log *log, const cdx_identity *me, node_query_cache *c,
                             const char *id, uint64_t *index, cdx_errbuf *eb)
{
    cdx_err rc = s_read_more(log, c, 0, NULL, eb);
    for (; rc == CDX_OK && c->own_indexed < c->n_alert; c->own_indexed++) {
        s_alert_ref *a = &c->alert[c->own_indexed];
        if (!a->from_self)
            continue;
        if (!a->id_known)
            s_learn_id(log, me, a); /* ours are sealed to us too */
        if (!a->id[0])
            continue;
        if (!s_own_grow(c))
            return CDX_ERR_NOMEM;
        size_t *slot = s_own_slot(c, a->id);
        if (!*slot) { /* the first of an id is the one that counts */
            *slot = c->own_indexed + 1;
            c->n_own++;
        }
    }
    if (rc != CDX_OK)
        return rc;
    size_t at = c->cap_own ? *s_own_slot(c, id) : 0;
    if (!at)
        return CDX_ERR_NOENT;
    *index = c->alert[at - 1].index;
    return CDX_OK;
}

/* A growing text buffer for JSON lines. */
typedef struct s_text {
    char *data;
    size_t len, cap;
    bool failed;
} s_text;

static void s_text_add(s_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->failed)
        return;
    if (t->len + n + 2 > t->cap) {
        size_t want = (t->len + n + 2) * 2;
        char *p = realloc(t->data, want);
        if (!p) {
            t->failed = true;
            return;
        }
        t->data = p;
        t->cap = want;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len++] = '\n';
    t->data[t->len] = '\0';
}

typedef struct s_tail {
    const node_query_keys *k;
    const char *topic;
    s_text text;
    size_t budget; /* bytes of text after which no more entries are taken */
    uint64_t next; /* the index after the last entry looked at */
} s_tail;

static cdx_err s_tail_visit(void *ctx, cdx_log_entry *e)
{
    s_tail *t = ctx;
    if (t->text.len >= t->budget)
        return CDX_ERR_FULL; /* enough for one answer: the rest next time */
    t->next = e->index + 1;
    cdx_envelope *env = NULL;
    if (s_decode(e, t->k, &env) != CDX_OK)
        return CDX_OK;
    const cdx_body *b = cdx_envelope_body(env);
    if (strncmp(b->topic, t->topic, strlen(t->topic)) == 0) {
        cdx_alert opened = {0};
        const cdx_alert *al = s_readable(env, t->k->me, &opened);
        char *line = NULL;
        if (cdx_json_from_log_entry(&line, e, env, al == &opened ? al : NULL) == CDX_OK)
            s_text_add(&t->text, line);
        else
            t->text.failed = true;
        free(line);
        cdx_alert_clear(&opened);
    }
    cdx_envelope_destroy(&env);
    return t->text.failed ? CDX_ERR_NOMEM : CDX_OK;
}

cdx_err node_query_entries(cdx_log *log, const node_query_keys *k, uint64_t from, size_t max,
                           const char *topic, char **jsonl, uint64_t *next, cdx_errbuf *eb)
{
    *jsonl = NULL;
    uint64_t size = 0;
    cdx_err rc = cdx_log_size(log, &size);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "could not read the log's size");
    if (from > size)
        from = size;
    uint64_t to = size - from > max ? from + max : size;
    s_tail t = {.k = k, .topic = topic, .budget = NODE_QUERY_ANSWER_BYTES, .next = to};
    rc = from < to ? cdx_log_scan(log, from, to, s_tail_visit, &t, eb) : CDX_OK;
    if (rc == CDX_ERR_FULL) /* cut short on purpose */
        rc = CDX_OK;
    else if (rc == CDX_OK)
        t.next = to;
    if (rc == CDX_OK && !t.text.data)
        t.text.data = strdup("");
    if (rc == CDX_OK && !t.text.data)
        rc = CDX_ERR_NOMEM;
    if (rc != CDX_OK) {
        free(t.text.data);
        return rc == CDX_ERR_NOMEM ? cdx_errf(eb, rc, "out of memory listing entries") : rc;
    }
    *jsonl = t.text.data;
    *next = t.next;
    return CDX_OK;
}
