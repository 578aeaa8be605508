/* cydex-node's control socket (ipc, mode 0600): the cydex command and
 * relays ask here. Publish and ack requests are signed on our chain and
 * answered once durable; read requests (status, entries, alerts, show)
 * are answered from the log at once. Answers go out in the order the
 * requests came.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control_parse.h"
#include "internal.h"
#include "query.h"

static void s_reply(node *n, const cdx_bytes *rid, const char *status, const char *a, const char *b)
{
    cdx_bytes f[4] = {*rid,
                      {(uint8_t *)status, strlen(status)},
                      {(uint8_t *)a, strlen(a)},
                      {(uint8_t *)b, strlen(b)}};
    cdx_sock_send(n->control, f, 4, 1000);
}

/* Whether the query cache, which request m needs, is more than a step
 * behind the log (said in the log): then m waits, parked. */
static bool s_cache_behind(node *n, const cdx_msg *m)
{
    uint64_t behind = node_query_cache_behind(n->member.log, n->queries);
    if (behind <= n->cfg.query_step)
        return false;
    daemon_log(&n->member.say,
               "\"%.*s\" waits while %llu log entries are read for it, %llu a round",
               (int)m->frame[1].len, (const char *)m->frame[1].data, (unsigned long long)behind,
               (unsigned long long)n->cfg.query_step);
    return true;
}

/* Whether the sealed alert is addressed to exactly these recipients. */
static bool s_same_recipients(const cdx_sealed *s, const cdx_member *to, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!cdx_sealed_names(s, to[i].id))
            return false;
    return n == s->n_recipients;
}

/* Who a publish's "to" frame seals to (cdx_seal_recipients: "FR,DE", or
 * "all" for every state of the roster in force), and always this node:
 * our own log can then show what we said, and our auditors read it with
 * our key. *out is the caller's to free. */
static cdx_err s_recipients(node *n, const char *to, cdx_member **out, size_t *count,
                            cdx_errbuf *eb)
{
    cdx_err rc = cdx_seal_recipients(n->member.roster, to, cdx_now_ms(), out, count, eb);
    if (rc != CDX_OK)
        return rc;
    const cdx_member *me = cdx_roster_find(n->member.roster, n->cfg.id);
    bool self = false;
    for (size_t i = 0; i < *count; i++)
        self = self || strcmp((*out)[i].id, n->cfg.id) == 0;
    if (!self && me) {
        cdx_member *grown = realloc(*out, (*count + 1) * sizeof **out);
        if (!grown) {
            free(*out);
            *out = NULL;
            return CDX_ERR_NOMEM;
        }
        *out = grown;
        (*out)[(*count)++] = *me;
    }
    return CDX_OK;
}

/* A publish of an alert this node published before (at log index
 * `index`): answered with that envelope if the request says the same
 * (topic, recipients, every field of the alert), so that a relay may ask
 * again after losing the answer; refused otherwise. */
static cdx_err s_published_before(node *n, uint64_t index, const char *topic, const cdx_member *to,
                                  size_t n_to, const cdx_alert *a, node_out *o, cdx_errbuf *eb)
{
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    cdx_alert opened = {0};
    const cdx_alert *was = NULL;
    bool same = false;
    cdx_err rc = cdx_log_get(n->member.log, index, &e, eb);
    if (rc == CDX_OK)
        rc = cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, eb);
    const cdx_body *b = rc == CDX_OK ? cdx_envelope_body(env) : NULL;
    if (b && b->kind == CDX_PAYLOAD_ALERT) {
        was = &b->alert;
        same = n_to == 0;
    } else if (b && b->kind == CDX_PAYLOAD_SEALED &&
               cdx_envelope_open(env, n->member.me, &opened, NULL) == CDX_OK) {
        was = &opened;
        same = n_to && s_same_recipients(&b->sealed, to, n_to);
    }
    if (b) {
        same = same && strcmp(b->topic, topic) == 0 && cdx_alert_same(was, a);
        if (same) {
            memcpy(o->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
            o->seq = b->seq;
            o->again = true;
        } else {
            rc = cdx_errf(eb, CDX_ERR_EXISTS,
                          "alert %s was published before (seq %llu) with other content, topic or "
                          "recipients: a new alert needs a new id (an update names the one it "
                          "updates in \"updates\")",
                          a->id, (unsigned long long)b->seq);
        }
    }
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    return rc;
}

/* ["publish"][topic][to: "FR,DE", "all" or ""][alert JSON], the request
 * of out[k]. An alert that names its id is published once: asked again,
 * the node answers with the envelope it made then. *later is set (the
 * request is parked, and taken again by node__parked) when that needs the
 * query cache while it is more than a step behind the log, or when an
 * earlier request of this round names the same id (then it is taken once
 * the first is logged). */
static cdx_err s_publish_req(node *n, node_chain *c, node_out *out, size_t k, bool *later,
                             cdx_errbuf *eb)
{
    node_out *o = &out[k];
    cdx_msg *m = &o->req;
    node_request r;
    cdx_err rc = node_request_parse(&r, m, eb);
    /* taken over from the request */
    char *topic = r.topic, *to = r.to;
    cdx_alert a = r.alert;
    bool named = r.named;
    memset(&r, 0, sizeof r);
    cdx_body b = {0};
    cdx_member *recips = NULL;
    size_t nr = 0;
    if (rc == CDX_OK && to[0])
        rc = s_recipients(n, to, &recips, &nr, eb);
    if (rc == CDX_OK && named) {
        *later = s_cache_behind(n, m);
        for (size_t j = 0; j < k && !*later; j++)
            *later = strcmp(out[j].alert_id, a.id) == 0;
        uint64_t index;
        cdx_err found = *later ? CDX_ERR_NOENT
                               : node_query_own_alert(n->member.log, n->member.me, n->queries, a.id,
                                                      &index, eb);
        if (found == CDX_OK)
            rc = s_published_before(n, index, topic, recips, nr, &a, o, eb);
        else if (found != CDX_ERR_NOENT)
            rc = found;
        snprintf(o->alert_id, sizeof o->alert_id, "%s", a.id);
    }
    if (rc == CDX_OK && !*later && !o->again) {
        node__own_header(n, c, &b, topic);
        if (nr) {
            rc = cdx_seal_alert(&b.sealed, &a, b.sender, b.seq, b.topic, recips, nr, eb);
            b.kind = CDX_PAYLOAD_SEALED;
        } else {
            b.alert = a;
            memset(&a, 0, sizeof a);
            b.kind = CDX_PAYLOAD_ALERT;
        }
        if (rc == CDX_OK)
            rc = node__sign(n, c, &b, o, eb);
    }
    cdx_alert_clear(&a);
    cdx_body_clear(&b);
    free(recips);
    free(topic);
    free(to);
    return rc;
}

/* ["ack"][alert: its id, or its envelope hash in hex][stage][note][alert id
 * or ""]. The alert id, when not given, is taken from the alert if the
 * log holds it readable. */
static cdx_err s_ack_req(node *n, node_chain *c, node_out *o, cdx_errbuf *eb)
{
    cdx_msg *m = &o->req;
    node_request r;
    char *found_id = NULL;
    cdx_body b = {0};
    cdx_err rc = node_request_parse(&r, m, eb);
    b.ack.stage = r.stage;
    if (rc == CDX_OK)
        rc = node_query_resolve(n->member.log, n->member.me, n->queries, r.which, b.ack.alert_hash,
                                &found_id, eb);
    if (rc == CDX_OK) {
        b.ack.note = r.note; /* taken over */
        r.note = NULL;
        if (m->frame[5].len || !found_id) {
            b.ack.alert_id = r.alert_id;
            r.alert_id = NULL;
        } else {
            b.ack.alert_id = found_id;
            found_id = NULL;
        }
        b.kind = CDX_PAYLOAD_ACK;
        node__own_header(n, c, &b, "ack");
        rc = node__sign(n, c, &b, o, eb);
    }
    cdx_body_clear(&b);
    free(found_id);
    node_request_clear(&r);
    return rc;
}

/* ["roster"][SignedRoster] or ["roster"][SignedRoster]["again"]: puts it
 * in force if newer, then publishes it on "roster". The roster in force,
 * given again, is not signed again: o->in_force, and the answer says so;
 * with "again" it is published once more (to reach brokers and nodes that
 * missed it, e.g. after a SIGHUP put it in force here only). */
static cdx_err s_roster_req(node *n, node_chain *c, node_out *o, cdx_errbuf *eb)
{
    cdx_msg *m = &o->req;
    node_request r;
    cdx_err rc = node_request_parse(&r, m, eb);
    if (rc != CDX_OK)
        return rc;
    cdx_roster *next = NULL;
    rc = cdx_roster_decode(&next, r.roster, r.roster_len, eb);
    if (rc == CDX_OK && cdx_roster_version(next) != cdx_roster_version(n->member.roster)) {
        rc = daemon_roster_adopt(&n->member, n->net, &next, eb);
        if (rc == CDX_OK)
            daemon_log(&n->member.say, "roster v%llu in force (from the control socket)",
                       (unsigned long long)cdx_roster_version(n->member.roster));
    } else if (rc == CDX_OK) { /* the one in force, given again: it must be that one */
        cdx_bytes mine = {0};
        if (cdx_roster_encode(n->member.roster, &mine) != CDX_OK || mine.len != m->frame[2].len ||
            memcmp(mine.data, m->frame[2].data, mine.len) != 0)
            rc = cdx_errf(eb, CDX_ERR_ROLLBACK, "roster v%llu differs from the one in force",
                          (unsigned long long)cdx_roster_version(next));
        else if (!r.again)
            o->in_force = true;
        cdx_bytes_free(&mine);
    }
    cdx_roster_destroy(&next);
    if (rc != CDX_OK || o->in_force)
        return rc;
    cdx_body b = {.kind = CDX_PAYLOAD_ROSTER};
    b.roster.data = malloc(m->frame[2].len);
    rc = b.roster.data ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK) {
        memcpy(b.roster.data, m->frame[2].data, m->frame[2].len);
        b.roster.len = m->frame[2].len;
        node__own_header(n, c, &b, "roster");
        rc = node__sign(n, c, &b, o, eb);
    }
    cdx_body_clear(&b);
    return rc;
}

static void s_reply_ok(node *n, const node_out *o)
{
    char hex[2 * CDX_HASH_BYTES + 1], s_seq[24];
    cdx_hex_encode(hex, o->hash, CDX_HASH_BYTES);
    snprintf(s_seq, sizeof s_seq, "%llu", (unsigned long long)o->seq);
    s_reply(n, &o->req.frame[0], "ok", hex, s_seq);
}

/* Where our signing key stands: {"state": valid | ending | not yet valid |
 * ended | revoked | unknown, "until"/"since"/"from": the time the state
 * names, "next_from": when a later card of ours begins, "next_key": whether
 * next_key is loaded and waits for it}. */
static json_t *s_key_json(const node *n)
{
    uint64_t when = 0, next_from = 0;
    cdx_key_state st = node__key_state(n, cdx_now_ms(), &when, &next_from);
    json_t *k = json_pack("{s:s}", "state", cdx_key_state_name(st));
    char t[CDX_TIME_TEXT_MAX];
    if (k && when) {
        cdx_time_format(t, when);
        const char *name = st == CDX_KEY_ENDING          ? "until"
                           : st == CDX_KEY_NOT_YET_VALID ? "from"
                                                         : "since";
        json_object_set_new(k, name, json_string(t));
    }
    if (k && next_from) {
        cdx_time_format(t, next_from);
        json_object_set_new(k, "next_from", json_string(t));
    }
    if (k)
        json_object_set_new(k, "next_key", json_boolean(n->next_me != NULL));
    return k;
}

/* ["status"] -> ["ok"][JSON][""]: what the node has done and holds. */
static void s_status(node *n, const cdx_msg *m)
{
    json_t *o = json_object(), *brokers = json_array(), *senders = json_array();
    uint64_t size = 0;
    size_t pending = 0, ns = 0;
    cdx_log_sender *s = NULL;
    cdx_log_size(n->member.log, &size);
    cdx_log_outbox_scan(n->member.log, NULL, NULL, &pending);
    uint64_t now = cdx_mono_ms();
    for (size_t i = 0; i < n->n_links; i++) {
        node_link *l = &n->link[i];
        char when[CDX_TIME_TEXT_MAX] = "";
        if (l->last_heard_ms)
            cdx_time_format(when, l->last_heard_ms);
        /* connected: the ingress connection stands now; heard_recently:
         * the broker answered within two sync periods (it serves us). */
        json_t *b = json_pack("{s:s,s:b,s:b,s:I}", "id", l->cfg->id, "connected",
                              node__link_connected(l), "heard_recently", node__link_up(n, l, now),
                              "heard_window_ms", (json_int_t)(2 * n->cfg.sync_ms + 1000));
        if (b && l->heard_mono_ms) {
            json_object_set_new(b, "last_heard", json_string(when));
            json_object_set_new(b, "last_heard_ms_ago",
                                json_integer((json_int_t)(now - l->heard_mono_ms)));
        }
        json_array_append_new(brokers, b);
    }
    /* Lag: what each sender's seqs lack (node__missing). */
    if (cdx_log_senders(n->member.log, &s, &ns) == CDX_OK)
        for (size_t i = 0; i < ns; i++)
            json_array_append_new(senders, json_pack("{s:s,s:I,s:I,s:I}", "id", s[i].id, "max_seq",
                                                     (json_int_t)s[i].max_seq, "entries",
                                                     (json_int_t)s[i].count, "missing",
                                                     (json_int_t)node__missing(&s[i])));
    free(s);
    json_object_set_new(o, "id", json_string(n->cfg.id));
    json_object_set_new(o, "roster_version",
                        json_integer((json_int_t)cdx_roster_version(n->member.roster)));
    json_object_set_new(o, "key", s_key_json(n));
    json_object_set_new(o, "log_entries", json_integer((json_int_t)size));
    json_object_set_new(o, "waiting_for_receipt", json_integer((json_int_t)pending));
    uint64_t oldest_seq, oldest_at;
    if (pending && node__oldest_waiting(n, &oldest_seq, &oldest_at)) {
        char when[CDX_TIME_TEXT_MAX];
        cdx_time_format(when, oldest_at);
        json_object_set_new(
            o, "oldest_waiting",
            json_pack("{s:I,s:s}", "seq", (json_int_t)oldest_seq, "logged_at", when));
    }
    json_object_set_new(o, "published", json_integer((json_int_t)n->published));
    json_object_set_new(o, "publish_repeats", json_integer((json_int_t)n->republished));
    json_object_set_new(o, "auto_acked", json_integer((json_int_t)n->auto_acked));
    json_object_set_new(o, "signatures", json_integer((json_int_t)n->signatures));
    json_object_set_new(o, "tree_heads_witnessed", json_integer((json_int_t)n->heads_witnessed));
    json_object_set_new(o, "tree_heads_inconsistent",
                        json_integer((json_int_t)n->heads_inconsistent));
    json_object_set_new(o, "tree_heads_cosigned", json_integer((json_int_t)n->heads_cosigned));
    json_object_set_new(o, "batch_signed", json_integer((json_int_t)n->batch_signed));
    json_object_set_new(o, "heartbeats", json_integer((json_int_t)n->heartbeats));
    json_object_set_new(o, "logged", json_integer((json_int_t)n->logged));
    json_object_set_new(o, "copies_dropped", json_integer((json_int_t)n->copies));
    json_object_set_new(o, "refused", json_integer((json_int_t)n->refused));
    json_object_set_new(o, "catchup_requests", json_integer((json_int_t)n->requested));
    json_object_set_new(o, "own_refused", json_integer((json_int_t)n->own_refused));
    cdx_log_commit_stats cs;
    cdx_log_commit_stats_get(n->member.log, &cs);
    /* Whole microseconds: a float's 17 digits would claim a precision
     * that a histogram's quantile does not have. */
    json_object_set_new(o, "log_commits",
                        json_pack("{s:I,s:I,s:I,s:I}", "count", (json_int_t)cs.count, "p50_us",
                                  (json_int_t)(cdx_log_commit_quantile_us(&cs, 0.5) + 0.5),
                                  "p99_us",
                                  (json_int_t)(cdx_log_commit_quantile_us(&cs, 0.99) + 0.5),
                                  "max_us", (json_int_t)cs.max_us));
    if (n->refusal[0])
        json_object_set_new(o, "last_refusal", json_string(n->refusal));
    if (n->writes.error[0])
        json_object_set_new(o, "append_error", json_string(n->writes.error));
    json_object_set_new(o, "brokers", brokers);
    json_object_set_new(o, "senders", senders);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text)
        s_reply(n, &m->frame[0], "ok", text, "");
    else
        s_reply(n, &m->frame[0], "error", "no-memory", "could not build the status");
    free(text);
}

static bool s_is(const cdx_msg *m, const char *verb)
{
    size_t len = strlen(verb);
    return m->n >= 2 && m->frame[1].len == len && memcmp(m->frame[1].data, verb, len) == 0;
}

/* The requests that only read. */
static bool s_is_read(const cdx_msg *m)
{
    return s_is(m, "status") || s_is(m, "entries") || s_is(m, "alerts") || s_is(m, "show");
}

/* Answers the read-only requests at once (they write nothing):
 *   ["status"]                          -> ["ok"][JSON][""]
 *   ["entries"][from|"end"][max][topic] -> ["ok"][JSON lines][next index]
 *   ["alerts"]["all"|"unacked"][limit]  -> ["ok"][JSON][""]
 *   ["show"][alert id or hash]          -> ["ok"][JSON][""]
 * False if m is not one of them. */
static bool s_query(node *n, const cdx_msg *m)
{
    cdx_errbuf eb = {0};
    char *json = NULL, next_text[24] = "";
    node_query_keys keys = {.me = n->member.me, .roster = n->member.roster};
    node_request r;
    if (!node_verb_reads(node_request_verb(m)))
        return false;
    cdx_err rc = node_request_parse(&r, m, &eb);
    if (rc == CDX_OK && r.verb == NODE_VERB_STATUS) {
        s_status(n, m);
        node_request_clear(&r);
        return true;
    } else if (rc == CDX_OK && r.verb == NODE_VERB_ENTRIES) {
        uint64_t next = 0;
        rc = node_query_entries(n->member.log, &keys, r.from,
                                r.limit > NODE_ENTRIES_MAX ? NODE_ENTRIES_MAX : r.limit, r.topic,
                                &json, &next, &eb);
        snprintf(next_text, sizeof next_text, "%llu", (unsigned long long)next);
    } else if (rc == CDX_OK) {
        node_alert_query q = {.unacked = r.unacked, .limit = (size_t)r.limit};
        if (r.verb == NODE_VERB_SHOW)
            q.which = r.which;
        rc = node_query_alerts(n->member.log, &keys, n->queries, &q, &json, &eb);
    }
    node_request_clear(&r);
    if (rc == CDX_OK)
        s_reply(n, &m->frame[0], "ok", json, next_text);
    else
        s_reply(n, &m->frame[0], "error", cdx_errname(rc), cdx_errbuf_msg(&eb, rc));
    free(json);
    return true;
}

/* Whether request m needs the query cache while it is more than a step
 * behind the log: then it is parked (node__parked answers it). A publish
 * finds out in s_publish_req, once its alert is read. */
static bool s_must_wait(node *n, const cdx_msg *m)
{
    /* An ack that names its alert by envelope hash needs no cache. */
    bool ack_by_hash = s_is(m, "ack") && m->n == 6 && m->frame[2].len == 2 * CDX_HASH_BYTES;
    for (size_t i = 0; ack_by_hash && i < m->frame[2].len; i++)
        ack_by_hash = isxdigit(m->frame[2].data[i]);
    if ((!s_is(m, "alerts") && !s_is(m, "show") && !s_is(m, "ack")) || ack_by_hash)
        return false;
    return s_cache_behind(n, m);
}

/* Requests waiting on the control socket are signed one by one, then
 * logged (with the outbox) in one transaction, then sent and answered:
 * one fsync per poll round, not per request. A request is answered "ok"
 * only once its envelope is durable. Answers go out in the order the
 * requests came, refusals included, so that a client may pipeline.
 * `first`, if given, is a parked request to take before the socket's. */
static void s_round(node *n, cdx_msg *first)
{
    node_out *out = n->round.out;
    node_chain chain = {0};
    cdx_msg query = {0};
    size_t k = 0;
    while (k < NODE_CONTROL_BATCH) {
        node_out *o = &out[k];
        memset(o, 0, sizeof *o);
        bool resumed = first && first->n;
        if (resumed) {
            o->req = *first;
            memset(first, 0, sizeof *first);
        } else if (cdx_sock_recv(n->control, &o->req, 0) != CDX_OK) {
            break;
        }
        cdx_msg *m = &o->req;
        if (m->n < 2) { /* no routing id and verb: nobody to answer */
            cdx_msg_clear(m);
            continue;
        }
        if (!resumed && s_must_wait(n, m)) {
            n->parked = *m; /* answered after those before it, by node__parked */
            memset(m, 0, sizeof *m);
            break;
        }
        if (s_is_read(m)) {
            if (k == 0) {
                s_query(n, m);
                cdx_msg_clear(m);
                continue;
            }
            query = *m; /* answered after the requests before it */
            memset(m, 0, sizeof *m);
            break;
        }
        cdx_errbuf eb = {0};
        cdx_err rc = CDX_ERR_FORMAT;
        bool later = false;
        if (s_is(m, "publish"))
            rc = s_publish_req(n, &chain, out, k, &later, &eb);
        else if (s_is(m, "ack"))
            rc = s_ack_req(n, &chain, o, &eb);
        else if (s_is(m, "roster"))
            rc = s_roster_req(n, &chain, o, &eb);
        else
            cdx_errf(&eb, rc, "unknown request");
        if (later) { /* answered after those before it, by node__parked */
            n->parked = *m;
            memset(m, 0, sizeof *m);
            break;
        }
        if (rc != CDX_OK) {
            o->refused = rc;
            snprintf(o->why, sizeof o->why, "%s", cdx_errbuf_msg(&eb, rc));
        }
        k++;
    }
    /* One signature for the round's envelopes (a batch signature). */
    cdx_errbuf seb = {0};
    cdx_err signed_rc = node__signed(n, out, k, &seb);
    for (size_t i = 0; signed_rc != CDX_OK && i < k; i++)
        if (out[i].refused == CDX_OK && !out[i].again && !out[i].in_force) {
            out[i].refused = signed_rc;
            snprintf(out[i].why, sizeof out[i].why, "%s", cdx_errbuf_msg(&seb, signed_rc));
        }
    cdx_log_append_in *in = n->round.in;
    cdx_log_append_out *res = n->round.res;
    size_t m = 0;
    uint64_t now = cdx_now_ms();
    for (size_t i = 0; i < k; i++)
        if (out[i].refused == CDX_OK && !out[i].again && !out[i].in_force)
            in[m++] = (cdx_log_append_in){
                .env = out[i].env, .received_at_ms = now, .received_from = "local", .outbox = true};
    cdx_errbuf eb = {0};
    cdx_err rc = m ? cdx_log_append(n->member.log, in, m, res, &eb) : CDX_OK;
    if (m)
        daemon_wrote(&n->writes, rc, m, cdx_mono_ms(), &eb);
    if (rc != CDX_OK)
        daemon_log(&n->member.say, "could not log %zu own envelope%s: %s", m, m == 1 ? "" : "s",
                   cdx_errbuf_msg(&eb, rc));
    for (size_t i = 0; i < k; i++) {
        node_out *o = &out[i];
        if (o->refused != CDX_OK) {
            s_reply(n, &o->req.frame[0], "error", cdx_errname(o->refused), o->why);
        } else if (o->in_force) { /* ["ok"]["in-force"][its version]: nothing signed */
            char version[24];
            snprintf(version, sizeof version, "%llu",
                     (unsigned long long)cdx_roster_version(n->member.roster));
            s_reply(n, &o->req.frame[0], "ok", "in-force", version);
        } else if (o->again) {
            n->republished++;
            s_reply_ok(n, o);
        } else if (rc == CDX_OK) {
            node__sent_own(n, o, 1);
            n->published++;
            s_reply_ok(n, o);
        } else {
            s_reply(n, &o->req.frame[0], "error", cdx_errname(rc), cdx_errbuf_msg(&eb, rc));
        }
        node__release(o);
    }
    if (query.n) {
        s_query(n, &query);
        cdx_msg_clear(&query);
    }
}

void node__control_busy(node *n, const char *why)
{
    cdx_msg m;
    while (cdx_sock_recv(n->control, &m, 0) == CDX_OK) {
        if (m.n >= 1)
            s_reply(n, &m.frame[0], "error", cdx_errname(CDX_ERR_BUSY), why);
        cdx_msg_clear(&m);
    }
}

void node__control(node *n)
{
    if (!n->parked.n)
        s_round(n, NULL);
}

void node__parked(node *n, bool stopping)
{
    if (!n->parked.n)
        return;
    if (stopping) {
        s_reply(n, &n->parked.frame[0], "error", cdx_errname(CDX_ERR_STOPPED),
                "the node is stopping");
        cdx_msg_clear(&n->parked);
        return;
    }
    uint64_t behind;
    node_query_cache_warm(n->member.log, n->queries, n->cfg.query_step, &behind);
    if (behind <= n->cfg.query_step) {
        cdx_msg first = n->parked;
        memset(&n->parked, 0, sizeof n->parked);
        s_round(n, &first);
    }
}
