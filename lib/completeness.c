/* Provable completeness of a log for one sender (see cydex/completeness.h).
 *
 * One pass over the sender's envelopes in seq order (the log's (sender,
 * seq) index), keeping only the seq before and its hashes: memory does not
 * grow with the log. What must always hold: only an envelope whose
 * signature verifies is a statement or counts as held; a claim is made only
 * when statements prove it; every missing seq up to the highest proven one
 * is counted, even past the ranges listed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/completeness.h"
#include "cydex/envelope.h"
#include "internal.h"
#include "strbuf.h"

/* Envelopes kept per seq to check the link from the next one: more than
 * one only when the sender equivocated. */
#define S_GROUP 4u

typedef struct s_group {
    uint64_t seq; /* 0: none yet */
    uint8_t hash[S_GROUP][CDX_HASH_BYTES];
    size_t n;
    cdx_statement first;
} s_group;

typedef struct s_scan {
    const cdx_completeness_opts *o;
    cdx_completeness *c;
    s_group prev, cur;
    bool chain_ok;
    uint64_t last_content; /* the highest held seq that is not a heartbeat */
    cdx_statement claim;   /* the heartbeat stating the highest last_seq */
    cdx_statement last;    /* the highest held statement */
    cdx_statement own;     /* until_seq: the target's own envelope */
} s_scan;

const char *cdx_completeness_verdict_name(cdx_completeness_verdict v)
{
    switch (v) {
    case CDX_COMPLETE: return "complete";
    case CDX_INCOMPLETE: return "incomplete";
    case CDX_NOT_PROVABLE: return "not-provable";
    }
    return "unknown";
}

const char *cdx_missing_kind_name(cdx_missing_kind k)
{
    switch (k) {
    case CDX_MISSING_GAP: return "gap";
    case CDX_MISSING_TAIL: return "tail";
    case CDX_MISSING_FORK: return "fork";
    }
    return "unknown";
}

static void s_missing(s_scan *s, uint64_t from, uint64_t to, cdx_missing_kind kind,
                      const cdx_statement *proof)
{
    cdx_completeness *c = s->c;
    c->missing_ranges++;
    c->missing_seqs += to - from + 1;
    /* Up to the target, where it is known while scanning. */
    uint64_t lim = UINT64_MAX;
    if (s->o->has_until_seq)
        lim = s->o->until_seq;
    else if (s->o->has_until_time && c->after.present)
        lim = 0; /* found after the first statement past the time: beyond it */
    if (from <= lim) {
        c->missing_ranges_to_target++;
        c->missing_seqs_to_target += (to < lim ? to : lim) - from + 1;
    }
    if (c->n_missing < CDX_COMPLETENESS_MAX_MISSING)
        c->missing[c->n_missing++] =
            (cdx_missing){.from = from, .to = to, .kind = kind, .proof = *proof};
}

static bool s_in(const s_group *g, const uint8_t *h)
{
    for (size_t i = 0; i < g->n; i++)
        if (memcmp(g->hash[i], h, CDX_HASH_BYTES) == 0)
            return true;
    return false;
}

static void s_break(s_scan *s, uint64_t complete_to)
{
    if (s->chain_ok && complete_to < s->c->complete_to)
        s->c->complete_to = complete_to;
    s->chain_ok = false;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_scan *s = ctx;
    cdx_completeness *c = s->c;
    cdx_envelope *env = NULL;
    const cdx_verify_opts vo = {.header_only = true, .borrow = true};
    if (cdx_envelope_verify(&env, s->o->roster, e->envelope.data, e->envelope.len, &vo, NULL) !=
            CDX_OK ||
        strcmp(cdx_envelope_body(env)->sender, s->o->sender) != 0) {
        cdx_envelope_destroy(&env);
        c->unverified++;
        return CDX_OK;
    }
    const cdx_body *hb = cdx_envelope_body(env); /* valid until env is destroyed below */
    uint64_t seq = hb->seq;
    cdx_statement st = {.present = true,
                        .seq = seq,
                        .index = e->index,
                        .sent_at_ms = hb->sent_at_ms,
                        .kind = hb->kind,
                        .names_seq = seq - 1,
                        .has_names_hash = hb->has_prev_hash};
    memcpy(st.hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
    memcpy(st.names_hash, hb->prev_hash, CDX_HASH_BYTES);
    bool has_prev = hb->has_prev_hash;
    uint8_t prev[CDX_HASH_BYTES];
    memcpy(prev, hb->prev_hash, CDX_HASH_BYTES);
    uint64_t last_seq = 0;
    bool has_last_hash = false;
    uint8_t last_hash[CDX_HASH_BYTES];
    if (hb->kind == CDX_PAYLOAD_HEARTBEAT) {
        /* The signature covers the whole body; read the payload now. */
        cdx_envelope *full = NULL;
        if (cdx_envelope_inspect(&full, e->envelope.data, e->envelope.len, NULL) == CDX_OK) {
            const cdx_heartbeat *h = &cdx_envelope_body(full)->heartbeat;
            last_seq = h->last_seq;
            has_last_hash = h->has_last_hash;
            memcpy(last_hash, h->last_hash, CDX_HASH_BYTES);
            st.names_seq = last_seq;
            st.has_names_hash = has_last_hash;
            memcpy(st.names_hash, last_hash, CDX_HASH_BYTES);
        }
        cdx_envelope_destroy(&full);
    }
    cdx_envelope_destroy(&env);

    if (seq == s->cur.seq) {
        /* A second envelope for this seq: the sender equivocated. */
        if (!s_in(&s->cur, st.hash) && s->cur.n < S_GROUP) {
            memcpy(s->cur.hash[s->cur.n++], st.hash, CDX_HASH_BYTES);
            if (s->cur.n == 2)
                c->equivocated++;
        }
    } else {
        s->prev = s->cur;
        s->cur = (s_group){.seq = seq, .n = 1, .first = st};
        memcpy(s->cur.hash[0], st.hash, CDX_HASH_BYTES);
        uint64_t before = s->prev.seq;
        if (seq > before + 1) {
            s_missing(s, before + 1, seq - 1, CDX_MISSING_GAP, &st);
            s_break(s, before);
        }
    }
    /* The link to the seq before, for each envelope of this seq: its
     * prev_hash, and a heartbeat's last_hash when it names that seq, must
     * name an envelope held for it. Otherwise the sender signed another
     * one, which the log does not hold. */
    if (seq > 1 && s->prev.seq == seq - 1) {
        bool linked = has_prev && s_in(&s->prev, prev);
        bool hb_ok = !(last_seq == seq - 1 && has_last_hash) || s_in(&s->prev, last_hash);
        if (!linked || !hb_ok) {
            s_missing(s, seq - 1, seq - 1, CDX_MISSING_FORK, &st);
            s_break(s, seq - 2);
        }
    }
    if (s->chain_ok)
        c->complete_to = seq;

    /* The statement naming the target by its hash: the next seq's
     * prev_hash, or a heartbeat's last_hash. */
    if (s->o->has_until_seq && !c->pin.present &&
        (seq == s->o->until_seq + 1 || (last_seq == s->o->until_seq && seq > last_seq))) {
        c->pin = st;
        if (last_seq != s->o->until_seq) {
            c->pin.names_seq = seq - 1;
            c->pin.has_names_hash = has_prev;
            memcpy(c->pin.names_hash, prev, CDX_HASH_BYTES);
        }
    }
    if (s->o->has_until_seq && seq == s->o->until_seq && !s->own.present)
        s->own = st;
    if (s->o->has_until_time && !c->after.present && st.sent_at_ms > s->o->until_ms) {
        c->after = st;
        c->after.names_seq = seq - 1;
        c->after.has_names_hash = has_prev;
        memcpy(c->after.names_hash, prev, CDX_HASH_BYTES);
    }
    c->held++;
    c->highest_held = seq;
    s->last = st;
    if (st.kind != CDX_PAYLOAD_HEARTBEAT)
        s->last_content = seq;
    if (seq > c->proven_to)
        c->proven_to = seq;
    if (last_seq > c->proven_to) {
        c->proven_to = last_seq;
        s->claim = st;
    }
    return CDX_OK;
}

cdx_err cdx_completeness_check(cdx_log *log, const cdx_completeness_opts *o, cdx_completeness *c,
                               cdx_errbuf *eb)
{
    memset(c, 0, sizeof *c);
    if (!log || !o || !o->roster || !o->sender || !cdx_id_valid(o->sender))
        return cdx_errf(eb, CDX_ERR_INVALID,
                        "completeness: a log, a roster and a sender id are "
                        "required");
    if (o->has_until_seq && o->has_until_time)
        return cdx_errf(eb, CDX_ERR_INVALID, "completeness: until a seq or a time, not both");
    snprintf(c->sender, sizeof c->sender, "%s", o->sender);
    snprintf(c->origin, sizeof c->origin, "%s", cdx_log_origin(log));
    c->has_until_seq = o->has_until_seq;
    c->until_seq = o->until_seq;
    c->has_until_time = o->has_until_time;
    c->until_ms = o->until_ms;
    c->complete_to = UINT64_MAX; /* lowered by the first break */
    s_scan s = {.o = o, .c = c, .chain_ok = true};
    cdx_err rc = cdx_log_scan_sender(log, o->sender, 1, 0, s_visit, &s, eb);
    if (rc != CDX_OK)
        return rc;
    if (s.chain_ok)
        c->complete_to = s.cur.seq;
    if (c->complete_to == UINT64_MAX)
        c->complete_to = 0;
    /* Seqs a heartbeat states exist past everything held. */
    if (c->proven_to > c->highest_held)
        s_missing(&s, c->highest_held + 1, c->proven_to, CDX_MISSING_TAIL, &s.claim);
    /* Missing past the last content held, proven by heartbeats alone: the
     * withheld tail. */
    for (size_t i = 0; i < c->n_missing; i++)
        if (c->missing[i].kind == CDX_MISSING_GAP && c->missing[i].from > s.last_content)
            c->missing[i].kind = CDX_MISSING_TAIL;

    bool known = true;
    if (o->has_until_seq) {
        c->target = o->until_seq;
        if (!c->pin.present)
            c->pin = s.own;
    } else if (o->has_until_time) {
        known = c->after.present;
        c->target = known ? c->after.seq - 1 : 0;
        if (known)
            c->pin = c->after;
    } else {
        c->target = c->proven_to;
        c->missing_ranges_to_target = c->missing_ranges;
        c->missing_seqs_to_target = c->missing_seqs;
        c->pin = s.last;
    }
    if (!known || c->target > c->proven_to || (!c->held && !o->has_until_time))
        c->verdict = CDX_NOT_PROVABLE;
    else if (c->complete_to >= c->target)
        c->verdict = CDX_COMPLETE;
    else
        c->verdict = CDX_INCOMPLETE;
    return CDX_OK;
}

/* ---- text ---- */

static void s_when(char out[CDX_TIME_TEXT_MAX], uint64_t t)
{
    cdx_time_format(out, t);
}

/* "EE's heartbeat (seq 42, entry #17) at T" or "EE's seq 42 (alert, entry #17) at T". */
static void s_stmt(cdx__sb *b, const char *who, const cdx_statement *st)
{
    char t[CDX_TIME_TEXT_MAX];
    s_when(t, st->sent_at_ms);
    if (st->kind == CDX_PAYLOAD_HEARTBEAT)
        cdx__sb_printf(b, "%s's heartbeat (seq %llu, entry #%llu) at %s", who,
                       (unsigned long long)st->seq, (unsigned long long)st->index, t);
    else
        cdx__sb_printf(b, "%s's seq %llu (%s, entry #%llu) at %s", who, (unsigned long long)st->seq,
                       cdx_payload_kind_name(st->kind), (unsigned long long)st->index, t);
}

static void s_seqs(cdx__sb *b, uint64_t from, uint64_t to)
{
    if (from == to)
        cdx__sb_printf(b, "seq %llu", (unsigned long long)from);
    else
        cdx__sb_printf(b, "seqs %llu..%llu", (unsigned long long)from, (unsigned long long)to);
}

static void s_what(cdx__sb *b, const cdx_completeness *c)
{
    char t[CDX_TIME_TEXT_MAX];
    if (c->has_until_time) {
        s_when(t, c->until_ms);
        cdx__sb_printf(b, "everything %s published up to %s", c->sender, t);
    } else if (c->has_until_seq) {
        cdx__sb_printf(b, "%s up to seq %llu", c->sender, (unsigned long long)c->until_seq);
    } else {
        cdx__sb_printf(b, "%s up to its last signed statement here", c->sender);
    }
}

/* How the target is pinned, after "chain unbroken from seq 1 to N". */
static void s_pin(cdx__sb *b, const cdx_completeness *c)
{
    const cdx_statement *p = &c->pin;
    if (!p->present)
        return;
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, p->names_hash, 8);
    if (c->has_until_time) {
        cdx__sb_puts(b, ", and ");
        s_stmt(b, c->sender, p);
        cdx__sb_printf(b,
                       ", its first signed statement after that time, names seq %llu by its "
                       "hash (%s...)",
                       (unsigned long long)p->names_seq, hex);
    } else if (p->seq > c->target && p->kind == CDX_PAYLOAD_HEARTBEAT) {
        cdx__sb_puts(b, ", and ");
        s_stmt(b, c->sender, p);
        cdx__sb_printf(b, " states last_seq %llu with that hash (%s...)",
                       (unsigned long long)p->names_seq, hex);
    } else if (p->seq > c->target) {
        cdx__sb_puts(b, ", and ");
        s_stmt(b, c->sender, p);
        cdx__sb_printf(b, " names seq %llu by its hash (%s...)", (unsigned long long)p->names_seq,
                       hex);
    } else {
        cdx__sb_puts(b, "; ");
        s_stmt(b, c->sender, p);
        if (p->kind == CDX_PAYLOAD_HEARTBEAT && p->names_seq + 1 == p->seq)
            cdx__sb_printf(b, " is signed and states last_seq %llu with the hash of the one held",
                           (unsigned long long)p->names_seq);
        else
            cdx__sb_puts(b, " is signed");
        if (p->seq == c->highest_held)
            cdx__sb_puts(b, ", the last in this log");
    }
}

static void s_missing_line(cdx__sb *b, const cdx_completeness *c, const cdx_missing *m)
{
    cdx__sb_puts(b, "missing: ");
    s_seqs(b, m->from, m->to);
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, m->proof.names_hash, 8);
    switch (m->kind) {
    case CDX_MISSING_GAP:
        cdx__sb_puts(b, " (gap): ");
        s_stmt(b, c->sender, &m->proof);
        cdx__sb_printf(b, " shows that %s", m->from == m->to ? "it exists" : "they exist");
        break;
    case CDX_MISSING_TAIL:
        cdx__sb_puts(b, " (withheld tail): ");
        s_stmt(b, c->sender, &m->proof);
        if (m->proof.kind == CDX_PAYLOAD_HEARTBEAT && m->proof.names_seq >= m->to)
            cdx__sb_printf(b, " states last_seq %llu", (unsigned long long)m->proof.names_seq);
        else
            cdx__sb_printf(b, " shows that %s", m->from == m->to ? "it exists" : "they exist");
        cdx__sb_printf(b, ", and the log holds nothing of %s's after seq %llu but heartbeats",
                       c->sender, (unsigned long long)(m->from - 1));
        break;
    case CDX_MISSING_FORK:
        cdx__sb_puts(b, " (fork): ");
        s_stmt(b, c->sender, &m->proof);
        cdx__sb_printf(b,
                       " names another seq %llu (hash %s...) than the one the log holds: %s "
                       "signed two, and the one named is not here",
                       (unsigned long long)m->from, hex, c->sender);
        break;
    }
    cdx__sb_puts(b, "\n");
}

cdx_err cdx_completeness_text(const cdx_completeness *c, char **out)
{
    cdx__sb b = {0};
    char t[CDX_TIME_TEXT_MAX];
    switch (c->verdict) {
    case CDX_COMPLETE:
        if (c->target == 0) {
            s_when(t, c->until_ms);
            cdx__sb_printf(&b, "COMPLETE: %s had published nothing up to %s: ", c->sender, t);
            s_stmt(&b, c->sender, &c->after);
            cdx__sb_printf(&b, " is its first signed statement (in %s)\n", c->origin);
            break;
        }
        cdx__sb_printf(&b, "COMPLETE: %s 1..%llu complete in %s (", c->sender,
                       (unsigned long long)c->target, c->origin);
        s_what(&b, c);
        cdx__sb_printf(&b, "): chain unbroken from seq 1 to %llu", (unsigned long long)c->target);
        s_pin(&b, c);
        cdx__sb_puts(&b, "\n");
        if (!c->has_until_seq && !c->has_until_time)
            cdx__sb_printf(&b,
                           "not provable past seq %llu: no signed statement of %s covers "
                           "later seqs\n",
                           (unsigned long long)c->target, c->sender);
        break;
    case CDX_INCOMPLETE:
        cdx__sb_printf(&b, "INCOMPLETE: %s in %s up to seq %llu (", c->sender, c->origin,
                       (unsigned long long)c->target);
        s_what(&b, c);
        cdx__sb_printf(&b, "): %llu seq%s missing in %llu range%s; ",
                       (unsigned long long)c->missing_seqs_to_target,
                       c->missing_seqs_to_target == 1 ? "" : "s",
                       (unsigned long long)c->missing_ranges_to_target,
                       c->missing_ranges_to_target == 1 ? "" : "s");
        if (c->complete_to)
            cdx__sb_printf(&b, "complete up to seq %llu (chain unbroken from seq 1 to %llu)\n",
                           (unsigned long long)c->complete_to, (unsigned long long)c->complete_to);
        else
            cdx__sb_puts(&b, "not complete from seq 1\n");
        break;
    case CDX_NOT_PROVABLE:
        cdx__sb_puts(&b, "NOT PROVABLE: ");
        s_what(&b, c);
        cdx__sb_printf(&b, " in %s: ", c->origin);
        if (!c->held)
            cdx__sb_printf(&b, "the log holds no signed statement of %s\n", c->sender);
        else if (c->has_until_time)
            cdx__sb_printf(&b,
                           "not provable past seq %llu: no signed statement of %s made after "
                           "that time covers later seqs\n",
                           (unsigned long long)c->proven_to, c->sender);
        else
            cdx__sb_printf(&b,
                           "not provable past seq %llu: no signed statement of %s covers "
                           "later seqs\n",
                           (unsigned long long)c->proven_to, c->sender);
        if (c->held && c->complete_to)
            cdx__sb_printf(&b, "%s 1..%llu complete: chain unbroken from seq 1 to %llu\n",
                           c->sender, (unsigned long long)c->complete_to,
                           (unsigned long long)c->complete_to);
        break;
    }
    for (size_t i = 0; i < c->n_missing; i++)
        s_missing_line(&b, c, &c->missing[i]);
    if (c->missing_ranges > c->n_missing)
        cdx__sb_printf(&b, "missing: ... %llu more range%s, %llu seqs missing in all\n",
                       (unsigned long long)(c->missing_ranges - c->n_missing),
                       c->missing_ranges - c->n_missing == 1 ? "" : "s",
                       (unsigned long long)c->missing_seqs);
    if (c->equivocated)
        cdx__sb_printf(&b,
                       "note: the log holds two envelopes for %llu seq%s of %s (it "
                       "equivocated; both kept)\n",
                       (unsigned long long)c->equivocated, c->equivocated == 1 ? "" : "s",
                       c->sender);
    if (c->unverified)
        cdx__sb_printf(&b,
                       "note: %llu entr%s of %s do%s not verify against the roster: not "
                       "counted as held\n",
                       (unsigned long long)c->unverified, c->unverified == 1 ? "y" : "ies",
                       c->sender, c->unverified == 1 ? "es" : "");
    *out = cdx__sb_take(&b);
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}

/* ---- JSON ---- */

static void s_put(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        *ok = false;
}

static json_t *s_hex(const uint8_t *p)
{
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, p, CDX_HASH_BYTES);
    return json_string(hex);
}

static json_t *s_time(uint64_t t)
{
    char text[CDX_TIME_TEXT_MAX];
    cdx_time_format(text, t);
    return json_string(text);
}

static json_t *s_stmt_json(const cdx_statement *st, bool *ok)
{
    if (!st->present)
        return json_null();
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    s_put(o, "seq", json_integer((json_int_t)st->seq), ok);
    s_put(o, "index", json_integer((json_int_t)st->index), ok);
    s_put(o, "kind", json_string(cdx_payload_kind_name(st->kind)), ok);
    s_put(o, "sent_at", s_time(st->sent_at_ms), ok);
    s_put(o, "hash", s_hex(st->hash), ok);
    s_put(o, "names_seq", json_integer((json_int_t)st->names_seq), ok);
    if (st->has_names_hash)
        s_put(o, "names_hash", s_hex(st->names_hash), ok);
    return o;
}

cdx_err cdx_completeness_json(const cdx_completeness *c, char **out)
{
    *out = NULL;
    bool ok = true;
    json_t *o = json_object(), *missing = json_array(), *until = json_null();
    if (!o || !missing) {
        json_decref(o);
        json_decref(missing);
        return CDX_ERR_NOMEM;
    }
    if (c->has_until_seq) {
        until = json_object();
        if (until)
            s_put(until, "seq", json_integer((json_int_t)c->until_seq), &ok);
    } else if (c->has_until_time) {
        until = json_object();
        if (until)
            s_put(until, "time", s_time(c->until_ms), &ok);
    }
    for (size_t i = 0; i < c->n_missing; i++) {
        const cdx_missing *m = &c->missing[i];
        json_t *e = json_object();
        if (!e) {
            ok = false;
            break;
        }
        s_put(e, "from", json_integer((json_int_t)m->from), &ok);
        s_put(e, "to", json_integer((json_int_t)m->to), &ok);
        s_put(e, "kind", json_string(cdx_missing_kind_name(m->kind)), &ok);
        s_put(e, "proof", s_stmt_json(&m->proof, &ok), &ok);
        if (json_array_append_new(missing, e) != 0)
            ok = false;
    }
    char *claim = NULL;
    if (cdx_completeness_text(c, &claim) != CDX_OK)
        ok = false;
    char *nl = claim ? strchr(claim, '\n') : NULL;
    if (nl)
        *nl = '\0';
    s_put(o, "log", json_string(c->origin), &ok);
    s_put(o, "sender", json_string(c->sender), &ok);
    s_put(o, "verdict", json_string(cdx_completeness_verdict_name(c->verdict)), &ok);
    s_put(o, "complete", json_boolean(c->verdict == CDX_COMPLETE), &ok);
    s_put(o, "until", until, &ok);
    s_put(o, "target", json_integer((json_int_t)c->target), &ok);
    s_put(o, "complete_to", json_integer((json_int_t)c->complete_to), &ok);
    s_put(o, "proven_to", json_integer((json_int_t)c->proven_to), &ok);
    s_put(o, "held", json_integer((json_int_t)c->held), &ok);
    s_put(o, "highest_held", json_integer((json_int_t)c->highest_held), &ok);
    s_put(o, "unverified", json_integer((json_int_t)c->unverified), &ok);
    s_put(o, "equivocated", json_integer((json_int_t)c->equivocated), &ok);
    s_put(o, "pin", s_stmt_json(&c->pin, &ok), &ok);
    s_put(o, "after", s_stmt_json(&c->after, &ok), &ok);
    s_put(o, "missing", missing, &ok);
    s_put(o, "missing_ranges", json_integer((json_int_t)c->missing_ranges), &ok);
    s_put(o, "missing_seqs", json_integer((json_int_t)c->missing_seqs), &ok);
    s_put(o, "missing_to_target", json_integer((json_int_t)c->missing_seqs_to_target), &ok);
    s_put(o, "claim", claim ? json_string(claim) : NULL, &ok);
    free(claim);
    if (ok)
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}
