/* The audit of one log (see cydex/audit.h).
 *
 * One pass over the entries in index order rebuilds the tree in a frontier
 * and checks each leaf against the stored tree; signatures are checked in
 * batches by a pool of threads (each envelope is independent of the others
 * once the roster in force is known); per-sender facts are collected and
 * judged after the pass, once the whole log is known. The first failure, in
 * index order, is the one reported. What only a member could have done (two
 * envelopes it signed for one seq, a chain it forked) is evidence against
 * the member, listed, never a failure of the log; and a roster that cannot
 * judge the log at all (another federation's) is said before anything is
 * judged, so that it never reads as forged entries.
 *
 * The roster in force at an entry starts as the one the auditor trusts;
 * the log's roster history (cdx_log_rosters: each version its owner put in
 * force, from the entry it was in force for) and the roster updates among
 * the entries take over from their place on, each only if it is a valid
 * successor of the one in force then. Nothing the log stores is trusted
 * otherwise. The owner's checkpoints are checked with its key valid when
 * each was signed, as the last roster of that chain lists it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/audit.h"
#include "cydex/checkpoint.h"
#include "cydex/merkle.h"
#include "internal.h"

#define S_BATCH 512u

typedef struct s_fact {
    uint32_t sender; /* index into the sender name table */
    uint64_t seq;
    uint64_t index;
    uint8_t hash[CDX_HASH_BYTES];
    uint8_t prev[CDX_HASH_BYTES];
    bool has_prev;
    cdx_log_outcome outcome;
} s_fact;

typedef struct s_job {
    cdx_log_entry entry;
    const cdx_roster *roster;
    cdx_err rc;
    char why[320];
    cdx_envelope *env;            /* borrows entry.envelope */
    uint8_t leaf[CDX_HASH_BYTES]; /* the entry's leaf hash, as it is now */
} s_job;

typedef struct s_audit {
    cdx_log *log;
    const cdx_audit_opts *opts;
    cdx_audit_report *rep;
    cdx_roster **owned; /* roster updates found among the entries */
    size_t n_owned, cap_owned;
    struct s_hist {
        cdx_roster *r;
        uint64_t from; /* in force from this entry on */
    } * hist;          /* the log's history, each a valid successor of the one before */
    size_t n_hist, next_hist;
    const cdx_roster *roster; /* in force now */
    cdx_merkle_frontier tree;
    cdx_checkpoint *cps;
    size_t n_cps, next_cp;
    s_fact *facts;
    size_t n_facts, cap_facts;
    char (*names)[CDX_ID_MAX + 1];
    size_t n_names, cap_names;
    s_job *batch;
    size_t n_batch;
    unsigned threads;
    uint64_t total;
} s_audit;

static void s_fail(s_audit *a, uint64_t index, bool has_index, const char *fmt, ...)
    CDX__PRINTF(4, 5);

static void s_fail(s_audit *a, uint64_t index, bool has_index, const char *fmt, ...)
{
    if (!a->rep->pass)
        return; /* keep the first */
    a->rep->pass = false;
    a->rep->has_bad = has_index;
    a->rep->first_bad = index;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->rep->reason, sizeof a->rep->reason, fmt, ap);
    va_end(ap);
}

/* ---- signatures, in parallel ---- */

static void s_check_one(s_job *j, cdx_batch_cache *cache)
{
    cdx_errbuf eb = {0};
    const cdx_verify_opts opts = {.header_only = true, .borrow = true, .batch_cache = cache};
    j->rc = cdx_envelope_verify(&j->env, j->roster, j->entry.envelope.data, j->entry.envelope.len,
                                &opts, &eb);
    if (j->rc != CDX_OK)
        snprintf(j->why, sizeof j->why, "%s", cdx_errbuf_msg(&eb, j->rc));
    /* The leaf, here in the worker: a verified envelope's hash is known. */
    if (j->env)
        cdx__log_leaf_hash(&j->entry, cdx_envelope_signer(j->env), cdx_envelope_hash(j->env),
                           cdx_envelope_signature(j->env), j->leaf);
    else
        cdx_log_entry_leaf_hash(&j->entry, j->leaf);
}

static void s_check_range(void *ctx, size_t from, size_t to)
{
    s_job *jobs = ctx;
    cdx_batch_cache *cache = cdx_batch_cache_new(); /* NULL: every root verified */
    for (size_t i = from; i < to; i++)
        s_check_one(&jobs[i], cache);
    cdx_batch_cache_destroy(&cache);
}

static void s_verify_batch(s_audit *a)
{
    cdx__parallel(a->n_batch, a->threads, 2, s_check_range, a->batch);
}

/* ---- per-entry, in order ---- */

static uint32_t s_name(s_audit *a, const char *id)
{
    for (size_t i = a->n_names; i-- > 0;)
        if (strcmp(a->names[i], id) == 0)
            return (uint32_t)i;
    if (a->n_names == a->cap_names) {
        size_t cap = a->cap_names ? a->cap_names * 2 : 16;
        void *grown = realloc(a->names, cap * sizeof *a->names);
        if (!grown)
            return UINT32_MAX;
        a->names = grown;
        a->cap_names = cap;
    }
    snprintf(a->names[a->n_names], sizeof a->names[0], "%s", id);
    return (uint32_t)a->n_names++;
}

static void s_maybe_roster_update(s_audit *a, const cdx_envelope *env)
{
    const cdx_body *b = cdx_envelope_body(env);
    if (b->kind != CDX_PAYLOAD_ROSTER)
        return;
    if (a->n_owned == a->cap_owned) {
        size_t cap = a->cap_owned ? 2 * a->cap_owned : 8;
        void *grown = realloc(a->owned, cap * sizeof *a->owned);
        if (!grown)
            return;
        a->owned = grown;
        a->cap_owned = cap;
    }
    cdx_roster *next = NULL;
    if (cdx_roster_decode_next(&next, b->roster.data, b->roster.len, a->roster, NULL) == CDX_OK) {
        a->owned[a->n_owned++] = next;
        a->roster = next;
        a->rep->roster_version = cdx_roster_version(next);
    }
}

/* The log's roster history, kept only as far as each version is a valid
 * successor of the one before it, from the trusted roster on. */
static cdx_err s_load_history(s_audit *a)
{
    cdx_log_roster *h = NULL;
    size_t n = 0;
    cdx_err rc = cdx_log_rosters(a->log, &h, &n);
    if (rc != CDX_OK)
        return rc;
    a->hist = calloc(n + 1, sizeof *a->hist);
    if (!a->hist) {
        cdx_log_rosters_free(h, n);
        return CDX_ERR_NOMEM;
    }
    const cdx_roster *head = a->roster;
    for (size_t i = 0; i < n; i++) {
        cdx_roster *r = NULL;
        if (h[i].version <= cdx_roster_version(head) ||
            cdx_roster_decode_next(&r, h[i].roster.data, h[i].roster.len, head, NULL) != CDX_OK)
            continue;
        a->hist[a->n_hist].r = r;
        a->hist[a->n_hist++].from = h[i].from_index;
        head = r;
    }
    cdx_log_rosters_free(h, n);
    return CDX_OK;
}

/* The history's rosters in force from entry `index` on. */
static void s_history_due(s_audit *a, uint64_t index)
{
    for (; a->next_hist < a->n_hist && a->hist[a->next_hist].from <= index; a->next_hist++) {
        const cdx_roster *r = a->hist[a->next_hist].r;
        if (cdx_roster_version(r) > cdx_roster_version(a->roster) &&
            cdx_roster_verify(r, a->roster, NULL) == CDX_OK) {
            a->roster = r;
            a->rep->roster_version = cdx_roster_version(r);
        }
    }
}

static void s_checkpoint_due(s_audit *a)
{
    while (a->next_cp < a->n_cps && a->cps[a->next_cp].size == a->tree.size) {
        uint8_t root[CDX_HASH_BYTES];
        cdx_merkle_frontier_root(&a->tree, root);
        const cdx_checkpoint *cp = &a->cps[a->next_cp];
        if (memcmp(root, cp->root, CDX_HASH_BYTES) != 0) {
            uint64_t prev = a->next_cp ? a->cps[a->next_cp - 1].size : 0;
            s_fail(a, prev, true,
                   "the entries do not hash to the signed checkpoint at size %llu: an entry in "
                   "%llu..%llu was changed, removed or reordered, tree and all",
                   (unsigned long long)cp->size, (unsigned long long)prev,
                   (unsigned long long)(cp->size ? cp->size - 1 : 0));
        }
        a->rep->checkpoints++;
        a->rep->last_checkpoint = cp->size;
        a->next_cp++;
    }
}

/* Judges the verified batch in index order. */
static cdx_err s_drain(s_audit *a)
{
    s_verify_batch(a);
    for (size_t i = 0; i < a->n_batch; i++) {
        s_job *j = &a->batch[i];
        const cdx_log_entry *e = &j->entry;
        s_history_due(a, e->index);
        if (j->roster != a->roster) {
            /* A roster update earlier in this batch: check again under it. */
            cdx_envelope_destroy(&j->env);
            j->roster = a->roster;
            s_check_one(j, NULL);
        }
        if (a->rep->pass) {
            const uint8_t *leaf = j->leaf;
            if (!e->has_tree_leaf || memcmp(leaf, e->tree_leaf, CDX_HASH_BYTES) != 0)
                s_fail(a, e->index, true,
                       "entry %llu does not match the log's tree: it was changed after it was "
                       "written",
                       (unsigned long long)e->index);
            else if (j->rc != CDX_OK)
                s_fail(a, e->index, true, "entry %llu: %s", (unsigned long long)e->index, j->why);
            cdx_merkle_frontier_add(&a->tree, leaf, NULL, NULL);
            s_checkpoint_due(a);
        }
        if (a->rep->pass) {
            const cdx_body *b = cdx_envelope_body(j->env);
            if (a->n_facts == a->cap_facts) {
                size_t cap = a->cap_facts ? a->cap_facts * 2 : 1024;
                void *grown = realloc(a->facts, cap * sizeof *a->facts);
                if (!grown)
                    return CDX_ERR_NOMEM;
                a->facts = grown;
                a->cap_facts = cap;
            }
            s_fact *f = &a->facts[a->n_facts++];
            f->sender = s_name(a, b->sender);
            f->seq = b->seq;
            f->index = e->index;
            memcpy(f->hash, cdx_envelope_hash(j->env), CDX_HASH_BYTES);
            f->has_prev = b->has_prev_hash;
            memcpy(f->prev, b->prev_hash, CDX_HASH_BYTES);
            f->outcome = e->outcome;
            s_maybe_roster_update(a, j->env);
            a->rep->verified = e->index + 1;
        }
        cdx_envelope_destroy(&j->env);
        cdx_log_entry_clear(&j->entry);
    }
    if (a->opts->progress)
        a->opts->progress(a->opts->progress_ctx, a->rep->verified, a->total);
    a->n_batch = 0;
    return CDX_OK;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_audit *a = ctx;
    s_job *j = &a->batch[a->n_batch++];
    memset(j, 0, sizeof *j);
    j->entry = *e;
    /* Take the envelope over; the scan frees only what it still owns. */
    e->envelope.data = NULL;
    e->envelope.len = 0;
    j->roster = a->roster;
    if (a->n_batch == S_BATCH)
        return s_drain(a);
    return CDX_OK;
}

/* ---- after the pass: senders ---- */

static int s_cmp_fact(const void *x, const void *y)
{
    const s_fact *a = x, *b = y;
    if (a->sender != b->sender)
        return a->sender < b->sender ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void s_evidence(s_audit *a, cdx_audit_evidence_kind kind, const char *who, uint64_t seq,
                       uint64_t first, uint64_t second)
{
    if (a->rep->evidence_count < CDX_AUDIT_MAX_EVIDENCE) {
        cdx_audit_evidence *e = &a->rep->evidence[a->rep->evidence_count];
        e->kind = kind;
        snprintf(e->sender, sizeof e->sender, "%s", who);
        e->seq = seq;
        e->first = first;
        e->second = second;
    }
    a->rep->evidence_count++;
}

static void s_judge_senders(s_audit *a)
{
    qsort(a->facts, a->n_facts, sizeof *a->facts, s_cmp_fact);
    a->rep->senders = a->n_names;
    uint64_t bad_index = UINT64_MAX;
    char why[400] = "";
    for (size_t i = 0; i < a->n_facts; i++) {
        const s_fact *f = &a->facts[i];
        const char *who = a->names[f->sender];
        bool same_sender = i > 0 && a->facts[i - 1].sender == f->sender;
        uint64_t last = same_sender ? a->facts[i - 1].seq : 0;
        if (same_sender && a->facts[i - 1].seq == f->seq) {
            if (memcmp(a->facts[i - 1].hash, f->hash, CDX_HASH_BYTES) == 0) {
                if (f->index < bad_index) {
                    bad_index = f->index;
                    snprintf(why, sizeof why,
                             "entry %llu repeats entry %llu (the log stores "
                             "each envelope once)",
                             (unsigned long long)f->index,
                             (unsigned long long)a->facts[i - 1].index);
                }
                continue;
            }
            a->rep->equivocations++;
            if (f->outcome != CDX_LOG_EQUIVOCATION && f->index < bad_index) {
                bad_index = f->index;
                snprintf(why, sizeof why,
                         "entry %llu is %s's second seq %llu but is not marked as equivocation",
                         (unsigned long long)f->index, who, (unsigned long long)f->seq);
            }
            size_t first = i - 1;
            while (first > 0 && a->facts[first - 1].sender == f->sender &&
                   a->facts[first - 1].seq == f->seq)
                first--;
            s_evidence(a, CDX_AUDIT_EQUIVOCATION, who, f->seq, a->facts[first].index, f->index);
            continue;
        }
        if (f->seq > last + 1) {
            if (a->rep->gaps < CDX_AUDIT_MAX_GAPS) {
                cdx_audit_gap *g = &a->rep->gap[a->rep->gaps];
                snprintf(g->sender, sizeof g->sender, "%s", who);
                g->from = last + 1;
                g->to = f->seq - 1;
            }
            a->rep->gaps++;
        }
        /* The chain: prev_hash must name one of the stored seq - 1. Both
         * envelopes verified, so a link that does not hold is the sender's
         * doing (it signed another seq - 1 too), not the log's. */
        if (f->seq > 1 && same_sender && a->facts[i - 1].seq == f->seq - 1) {
            bool linked = false;
            size_t j = i, stored = i - 1;
            while (j-- > 0 && a->facts[j].sender == f->sender && a->facts[j].seq == f->seq - 1) {
                linked = linked || memcmp(a->facts[j].hash, f->prev, CDX_HASH_BYTES) == 0;
                stored = j;
            }
            if (!linked)
                s_evidence(a, CDX_AUDIT_FORK, who, f->seq - 1, a->facts[stored].index, f->index);
        }
    }
    if (bad_index != UINT64_MAX)
        s_fail(a, bad_index, true, "%s", why);
}

/* ---- checkpoints ---- */

static int s_cmp_cp(const void *x, const void *y)
{
    const cdx_checkpoint *a = x, *b = y;
    return a->size < b->size ? -1 : a->size > b->size;
}

/* A checkpoint verifies with a key of the owner valid in the second it
 * names (a rotation may fall within it): the first such card that
 * verifies it, or the reason none does. */
static cdx_err s_checkpoint_key(const cdx_roster *keys, const char *owner, const cdx_checkpoint *cp,
                                cdx_errbuf *why)
{
    const cdx_member *const *cards;
    size_t n = cdx_roster_cards(keys, owner, &cards);
    uint64_t from = cp->time_s * 1000u, to = from + 999u;
    cdx_err rc = CDX_ERR_KEY_NOT_VALID;
    for (size_t i = 0; i < n; i++) {
        const cdx_member *m = cards[i];
        bool overlaps = m->valid_from_ms <= to &&
                        (!m->valid_until_ms || m->valid_until_ms > from) &&
                        (!m->revoked_at_ms || m->revoked_at_ms > from);
        if (overlaps && (rc = cdx_checkpoint_verify(cp, m->sign_pk, why)) == CDX_OK)
            return CDX_OK;
    }
    if (rc == CDX_ERR_KEY_NOT_VALID)
        cdx_errf(why, rc, "checkpoint at size %llu was signed when no key of %s was valid",
                 (unsigned long long)cp->size, owner);
    return rc;
}

static cdx_err s_load_checkpoints(s_audit *a, cdx_errbuf *eb)
{
    char **texts = NULL;
    size_t n = 0;
    cdx_err rc = cdx_log_checkpoints(a->log, &texts, &n);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "cannot read the log's checkpoints");
    size_t total = n + (a->opts->extra_checkpoint ? 1 : 0);
    a->cps = calloc(total + 1, sizeof *a->cps);
    if (!a->cps)
        rc = CDX_ERR_NOMEM;
    /* The owner's keys as the last roster of the history lists them. */
    const cdx_roster *keys = a->n_hist ? a->hist[a->n_hist - 1].r : a->roster;
    const cdx_member *owner = cdx_roster_find(keys, cdx_log_owner(a->log));
    for (size_t i = 0; rc == CDX_OK && i < total && a->rep->pass; i++) {
        const char *t = i < n ? texts[i] : a->opts->extra_checkpoint;
        const char *where = i < n ? "stored checkpoint" : "given checkpoint";
        cdx_errbuf why = {0};
        cdx_checkpoint *cp = &a->cps[a->n_cps];
        if (cdx_checkpoint_parse(cp, t, strlen(t), &why) != CDX_OK) {
            s_fail(a, 0, false, "%s %zu: %s", where, i, why.msg);
        } else if (strcmp(cp->origin, cdx_log_origin(a->log)) != 0) {
            s_fail(a, 0, false, "%s at size %llu is for log %s, not %s", where,
                   (unsigned long long)cp->size, cp->origin, cdx_log_origin(a->log));
        } else if (!owner) {
            s_fail(a, 0, false,
                   "the log's owner \"%s\" is not in the roster: its checkpoints "
                   "cannot be checked",
                   cdx_log_owner(a->log));
        } else if (s_checkpoint_key(keys, cdx_log_owner(a->log), cp, &why) != CDX_OK) {
            s_fail(a, 0, false, "%s: %s", where, why.msg);
        } else if (cp->size > a->rep->entries) {
            s_fail(a, a->rep->entries, true,
                   "the log was truncated: a checkpoint signed at size %llu, but the log holds "
                   "%llu entries",
                   (unsigned long long)cp->size, (unsigned long long)a->rep->entries);
        } else {
            a->n_cps++;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    qsort(a->cps, a->n_cps, sizeof *a->cps, s_cmp_cp);
    return rc;
}

/* ---- does the roster fit the log at all ---- */

/* Entries tried for one whose signature the roster verifies. */
#define S_FIT_TRIES 256u

/* The roster the log stores against the one given: same federation, and
 * at least one member with the same signing key (rosters of one federation
 * keep most keys from version to version). */
static cdx_err s_fits_stored(cdx_log *log, const cdx_roster *roster, cdx_errbuf *eb)
{
    cdx_bytes raw;
    cdx_roster *stored = NULL;
    if (cdx_log_get_roster(log, &raw) != CDX_OK)
        return CDX_OK; /* none stored: the entries decide */
    cdx_err rc = cdx_roster_decode(&stored, raw.data, raw.len, NULL);
    cdx_bytes_free(&raw);
    if (rc != CDX_OK)
        return CDX_OK; /* unreadable: nothing to say against the roster */
    const char *mine = cdx_roster_federation(stored), *given = cdx_roster_federation(roster);
    if (strcmp(mine, given) != 0) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                      "the roster does not match this log: it is federation %s's (v%llu), and "
                      "the log is federation %s's (it stores roster v%llu of %s); give %s's "
                      "roster",
                      given, (unsigned long long)cdx_roster_version(roster), mine,
                      (unsigned long long)cdx_roster_version(stored), mine, mine);
    } else {
        bool shared = false;
        for (size_t i = 0; !shared && i < cdx_roster_member_count(stored); i++) {
            const cdx_member *m = cdx_roster_member_at(stored, i),
                             *g = cdx_roster_find(roster, m->id);
            shared = g && memcmp(g->sign_pk, m->sign_pk, CDX_PK_BYTES) == 0;
        }
        if (!shared)
            rc = cdx_errf(eb, CDX_ERR_FORMAT,
                          "the roster does not match this log: none of its members has the "
                          "signing key that the roster stored in the log (v%llu of %s) lists "
                          "for that member: it is another federation's roster of the same name",
                          (unsigned long long)cdx_roster_version(stored), mine);
    }
    cdx_roster_destroy(&stored);
    return rc;
}

cdx_err cdx_audit_roster_fits(cdx_log *log, const cdx_roster *roster, cdx_errbuf *eb)
{
    if (!log || !roster)
        return cdx_errf(eb, CDX_ERR_INVALID, "audit: a log and a roster are required");
    cdx_err rc = s_fits_stored(log, roster, eb);
    if (rc != CDX_OK)
        return rc;
    char **texts = NULL;
    size_t n_cps = 0;
    if (cdx_log_checkpoints(log, &texts, &n_cps) == CDX_OK) {
        for (size_t i = 0; i < n_cps; i++)
            free(texts[i]);
        free(texts);
    }
    const char *owner = cdx_log_owner(log);
    if (n_cps && !cdx_roster_find(roster, owner))
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "the roster does not match this log: the log's owner %s, who signed its "
                        "checkpoints, is not a member of %s's roster v%llu",
                        owner, cdx_roster_federation(roster),
                        (unsigned long long)cdx_roster_version(roster));
    uint64_t size = 0;
    rc = cdx_log_size(log, &size);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "cannot read the log's size");
    uint64_t tries = size < S_FIT_TRIES ? size : S_FIT_TRIES, known = 0;
    char first_signer[CDX_ID_MAX + 1] = "";
    for (uint64_t i = 0; i < tries; i++) {
        cdx_log_entry e;
        if (cdx_log_get(log, i, &e, NULL) != CDX_OK)
            return CDX_OK; /* unreadable: the audit names the entry */
        cdx_envelope *env = NULL;
        const cdx_verify_opts vo = {.header_only = true, .borrow = true};
        bool ok =
            cdx_envelope_verify(&env, roster, e.envelope.data, e.envelope.len, &vo, NULL) == CDX_OK;
        cdx_envelope_destroy(&env);
        if (!ok && cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
            const char *who = cdx_envelope_signer(env);
            known += cdx_roster_find(roster, who) != NULL;
            if (!first_signer[0])
                snprintf(first_signer, sizeof first_signer, "%s", who);
        }
        cdx_envelope_destroy(&env);
        cdx_log_entry_clear(&e);
        if (ok)
            return CDX_OK;
    }
    if (!tries)
        return CDX_OK;
    if (!known)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "the roster does not match this log: none of the signers of its first "
                        "%llu entries (%s, ...) is a member of %s's roster v%llu",
                        (unsigned long long)tries, first_signer[0] ? first_signer : "?",
                        cdx_roster_federation(roster),
                        (unsigned long long)cdx_roster_version(roster));
    return cdx_errf(eb, CDX_ERR_FORMAT,
                    "the roster does not match this log: not one of its first %llu entries has "
                    "a signature that %s's roster v%llu verifies (the members' keys differ): "
                    "give the roster of the log's federation",
                    (unsigned long long)tries, cdx_roster_federation(roster),
                    (unsigned long long)cdx_roster_version(roster));
}

cdx_err cdx_audit_verify(cdx_log *log, const cdx_audit_opts *opts, cdx_audit_report *report,
                         cdx_errbuf *eb)
{
    memset(report, 0, sizeof *report);
    report->pass = true;
    if (!opts || !opts->roster)
        return cdx_errf(eb, CDX_ERR_INVALID, "audit: a roster is required");
    s_audit a = {.log = log, .opts = opts, .rep = report, .roster = opts->roster};
    a.threads = opts->threads ? opts->threads : cdx__cpus();
    if (a.threads > 64)
        a.threads = 64;
    report->roster_version = cdx_roster_version(opts->roster);
    cdx_merkle_frontier_init(&a.tree);
    cdx_err rc = cdx_audit_roster_fits(log, opts->roster, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx_log_size(log, &report->entries);
    a.total = report->entries;
    if (rc == CDX_OK)
        rc = s_load_history(&a);
    if (rc == CDX_OK)
        rc = s_load_checkpoints(&a, eb);
    a.batch = calloc(S_BATCH, sizeof *a.batch);
    if (rc == CDX_OK && !a.batch)
        rc = CDX_ERR_NOMEM;
    if (rc == CDX_OK && report->pass)
        s_checkpoint_due(&a); /* checkpoints of the empty tree */
    if (rc == CDX_OK && report->pass) {
        cdx_errbuf scan = {0};
        rc = cdx_log_scan(log, 0, UINT64_MAX, s_visit, &a, &scan);
        if (rc == CDX_OK)
            rc = s_drain(&a);
        if (rc == CDX_ERR_CORRUPT) {
            /* A hole or an undecodable entry: the scan names it. */
            s_drain(&a);
            s_fail(&a, report->verified, true, "%s", scan.msg);
            rc = CDX_OK;
        } else if (rc != CDX_OK) {
            cdx_errf(eb, rc, "%s", cdx_errbuf_msg(&scan, rc));
        }
    }
    if (rc == CDX_OK && report->pass)
        s_judge_senders(&a);
    if (rc == CDX_OK && report->pass && a.next_cp < a.n_cps)
        s_fail(&a, report->entries, true, "checkpoint at size %llu lies past the log's end",
               (unsigned long long)a.cps[a.next_cp].size);
    if (rc == CDX_OK && report->pass) {
        bool pass = true;
        char why[sizeof report->reason];
        rc = cdx__audit_receipts(log, a.roster, &report->receipts, &pass, why, sizeof why, eb);
        if (rc == CDX_OK && !pass)
            s_fail(&a, 0, false, "%s", why);
    }
    for (size_t i = 0; a.batch && i < a.n_batch; i++) {
        cdx_envelope_destroy(&a.batch[i].env);
        cdx_log_entry_clear(&a.batch[i].entry);
    }
    free(a.batch);
    free(a.facts);
    free(a.names);
    free(a.cps);
    for (size_t i = 0; i < a.n_owned; i++)
        cdx_roster_destroy(&a.owned[i]);
    free(a.owned);
    for (size_t i = 0; i < a.n_hist; i++)
        cdx_roster_destroy(&a.hist[i].r);
    free(a.hist);
    return rc;
}
