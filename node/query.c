/* Read-only questions about the node's log (see query.h).
 *
 * Listing alerts with their acknowledgements takes one pass over the log
 * that keeps only small references (hash, index, who, stage); the entries
 * that are shown are read again by index to print them. Memory is thus
 * O(alerts + acks) small records, not O(log bytes). The log's entries were
 * verified when they arrived; here they are only decoded.
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct s_alert_ref {
    uint8_t hash[CDX_HASH_BYTES];
    uint64_t index;
    bool from_self, readable, acked_by_self, matches;
} s_alert_ref;

typedef struct s_ack_ref {
    uint8_t alert[CDX_HASH_BYTES];
    uint64_t index;
    bool by_self;
} s_ack_ref;

typedef struct s_scan {
    const node_alert_query *q;
    const cdx_identity *me;
    bool which_is_hash;
    uint8_t which_hash[CDX_HASH_BYTES];
    s_alert_ref *alert;
    size_t n_alert, cap_alert;
    s_ack_ref *ack;
    size_t n_ack, cap_ack;
} s_scan;

static bool s_is_recipient(const cdx_body *b, const char *self)
{
    for (size_t i = 0; i < b->sealed.n_recipients; i++)
        if (strcmp(b->sealed.recipients[i].id, self) == 0)
            return true;
    return false;
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
    s_scan *s = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK; /* the auditor's business; nothing to list */
    const cdx_body *b = cdx_envelope_body(env);
    cdx_err rc = CDX_OK;
    if (b->kind == CDX_PAYLOAD_ALERT || b->kind == CDX_PAYLOAD_SEALED) {
        if (!s_grow((void **)&s->alert, &s->cap_alert, s->n_alert, sizeof *s->alert)) {
            rc = CDX_ERR_NOMEM;
        } else {
            s_alert_ref *a = &s->alert[s->n_alert++];
            memset(a, 0, sizeof *a);
            memcpy(a->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
            a->index = e->index;
            a->from_self = strcmp(b->sender, s->q->self) == 0;
            a->readable = b->kind == CDX_PAYLOAD_ALERT || s_is_recipient(b, s->q->self);
            if (s->which_is_hash) {
                a->matches = memcmp(a->hash, s->which_hash, CDX_HASH_BYTES) == 0;
            } else if (s->q->which && a->readable) {
                cdx_alert opened = {0};
                const cdx_alert *al = s_readable(env, s->me, &opened);
                a->matches = al && al->id && strcmp(al->id, s->q->which) == 0;
                cdx_alert_clear(&opened);
            }
        }
    } else if (b->kind == CDX_PAYLOAD_ACK) {
        if (!s_grow((void **)&s->ack, &s->cap_ack, s->n_ack, sizeof *s->ack)) {
            rc = CDX_ERR_NOMEM;
        } else {
            s_ack_ref *k = &s->ack[s->n_ack++];
            memcpy(k->alert, b->ack.alert_hash, CDX_HASH_BYTES);
            k->index = e->index;
            k->by_self = strcmp(b->sender, s->q->self) == 0;
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
static size_t s_acks_of(const s_scan *s, const uint8_t *hash, size_t *count)
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

/* One alert as list and show print it; with `whole`, the log entry too. */
static json_t *s_alert_json(cdx_log *log, const node_query_keys *k, const s_scan *s,
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

static bool s_selected(const s_scan *s, const s_alert_ref *a)
{
    if (s->q->which)
        return a->matches;
    return !s->q->unacked || (!a->from_self && a->readable && !a->acked_by_self);
}

static cdx_err s_run_scan(cdx_log *log, s_scan *s, cdx_errbuf *eb)
{
    if (s->q->which && strlen(s->q->which) == 2 * CDX_HASH_BYTES &&
        cdx_hex_decode(s->which_hash, CDX_HASH_BYTES, s->q->which) == CDX_OK)
        s->which_is_hash = true;
    cdx_err rc = cdx_log_scan(log, 0, UINT64_MAX, s_visit, s, eb);
    if (rc != CDX_OK)
        return rc;
    if (s->n_ack)
        qsort(s->ack, s->n_ack, sizeof *s->ack, s_cmp_ack);
    for (size_t i = 0; i < s->n_alert; i++) {
        size_t n, first = s_acks_of(s, s->alert[i].hash, &n);
        for (size_t j = 0; j < n && !s->alert[i].acked_by_self; j++)
            s->alert[i].acked_by_self = s->ack[first + j].by_self;
    }
    return CDX_OK;
}

static void s_scan_clear(s_scan *s)
{
    free(s->alert);
    free(s->ack);
}

cdx_err node_query_alerts(cdx_log *log, const node_query_keys *k, const node_alert_query *q,
                          char **json, cdx_errbuf *eb)
{
    *json = NULL;
    s_scan s = {.q = q, .me = k->me};
    cdx_err rc = s_run_scan(log, &s, eb);
    size_t total = 0;
    for (size_t i = 0; rc == CDX_OK && i < s.n_alert; i++)
        total += s_selected(&s, &s.alert[i]);
    if (rc == CDX_OK && q->which && total == 0)
        rc = cdx_errf(eb, CDX_ERR_NOENT, "no alert %s in this node's log", q->which);
    /* The most recent `limit` of them; for one alert, its latest copy. */
    size_t skip = q->which ? total - 1 : q->limit && total > q->limit ? total - q->limit : 0;
    json_t *arr = json_array(), *o = NULL;
    for (size_t i = 0, seen = 0; rc == CDX_OK && i < s.n_alert; i++) {
        if (!s_selected(&s, &s.alert[i]) || seen++ < skip)
            continue;
        json_t *a = s_alert_json(log, k, &s, &s.alert[i], q->which != NULL);
        if (!a || json_array_append_new(arr, a) != 0)
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
    s_scan_clear(&s);
    return rc;
}

cdx_err node_query_resolve(cdx_log *log, const cdx_identity *me, const char *which,
                           uint8_t hash[CDX_HASH_BYTES], char **id, cdx_errbuf *eb)
{
    *id = NULL;
    uint64_t index = 0;
    cdx_err rc = CDX_OK;
    if (strlen(which) == 2 * CDX_HASH_BYTES &&
        cdx_hex_decode(hash, CDX_HASH_BYTES, which) == CDX_OK) {
        if (cdx_log_find_hash(log, hash, &index) != CDX_OK)
            return CDX_OK; /* not (yet) here: acknowledge the hash as given */
    } else {
        node_alert_query q = {.self = cdx_identity_id(me), .which = which};
        s_scan s = {.q = &q, .me = me};
        rc = s_run_scan(log, &s, eb);
        bool found = false;
        for (size_t i = 0; rc == CDX_OK && i < s.n_alert; i++)
            if (s.alert[i].matches) {
                found = true;
                index = s.alert[i].index;
                memcpy(hash, s.alert[i].hash, CDX_HASH_BYTES);
            }
        s_scan_clear(&s);
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
