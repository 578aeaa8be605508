/* cydex-audit report and diff.
 *
 * report: the federation's traffic over one or more logs (lib/overview.c):
 *         text, --json, or a self-contained --html file.
 * diff:   two parties' logs side by side: what one holds and the other
 *         never received, alerts a state never acknowledged (only those it
 *         could read and was a member for when they were sent), and any
 *         (sender, seq) for which the two logs hold different envelopes:
 *         proof that the sender equivocated once both signatures verify,
 *         printed with both envelopes. Proof of a member's misbehaviour
 *         exits 2 (EVIDENCE); a finding that proves nothing of a member
 *         (a signature that does not verify) means a log is suspect: 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cydex/clock.h"
#include "cydex/overview.h"

static const char s_report_usage[] =
    "cydex-audit report LOGDIR... [--html FILE] [--json] [--roster FILE] [--key K.secret] "
    "[--matrix N]";

static void s_report_help(void)
{
    printf("usage: %s\n\n"
           "The federation's traffic over the period the logs cover, read in one pass over\n"
           "each log (an envelope several logs hold is counted once): members and roster\n"
           "versions, alerts over time per sender, acknowledgement latency per state (its\n"
           "distribution: fastest, p5, p25, median, p75, p95, slowest), the latest alerts\n"
           "against the states' acknowledgement stages, alerts nobody acknowledged, gaps\n"
           "in senders' seqs, equivocations, tree heads inconsistent with the given log\n"
           "they name, and envelopes refused by reason. It decodes without judging\n"
           "signatures: cydex-audit verify gives each log's verdict.\n\n"
           "  (default)       a text summary on standard output\n"
           "  --html FILE     one self-contained HTML file (charts as inline SVG, sortable\n"
           "                  tables, a print stylesheet for PDF; it loads nothing from\n"
           "                  the network); FILE - is standard output\n"
           "  --json          the same data as the HTML, as one JSON object on standard\n"
           "                  output (with --html too)\n"
           "  --roster FILE   the roster that names members and their roles (else the\n"
           "                  latest one the logs hold)\n"
           "  --key K.secret  open sealed alerts addressed to this key to show titles\n"
           "  --matrix N      alerts in the alert x state matrix (default %u, at most %u)\n\n"
           "Up to %u LOGDIRs. Exit 0 report made; 64 usage; 65 malformed input (a roster or\n"
           "key file); 66 no such log or file; 74 I/O error (e.g. FILE cannot be written).\n",
           s_report_usage, CDX_OV_MATRIX_DEFAULT, CDX_OV_MATRIX_MAX, CDX_OV_MAX_LOGS);
}

static void s_report_text(const cdx_overview *ov)
{
    char a[CDX_TIME_TEXT_MAX], b[CDX_TIME_TEXT_MAX];
    cdx_time_format(a, ov->first_ms);
    cdx_time_format(b, ov->last_ms);
    printf("report on ");
    for (size_t i = 0; i < ov->n_logs; i++)
        printf("%s%s", i ? ", " : "", ov->logs[i].origin);
    printf(": %llu entries, sent %s .. %s\n\n", (unsigned long long)ov->entries, a, b);
    printf("%-14s %7s %7s %6s %6s %8s %9s %9s\n", "sender", "alerts", "sealed", "acks", "other",
           "acked", "p50 ms", "p95 ms");
    for (size_t i = 0; i < ov->n_members; i++) {
        const cdx_ov_member *m = &ov->members[i];
        if (!m->first_ms && !m->alerts && !m->acks)
            continue; /* in the roster, sent nothing */
        uint64_t other = m->heartbeats + m->tree_heads + m->witnesses + m->rosters;
        printf("%-14s %7llu %7llu %6llu %6llu %8llu", m->id,
               (unsigned long long)(m->alerts - m->sealed), (unsigned long long)m->sealed,
               (unsigned long long)m->acks, (unsigned long long)other,
               (unsigned long long)m->acked_alerts);
        if (m->latency.n)
            printf(" %9llu %9llu\n", (unsigned long long)m->latency.q[2],
                   (unsigned long long)m->latency.q[4]);
        else
            printf(" %9s %9s\n", "-", "-");
    }
    printf("\nalerts without any acknowledgement: %llu of %llu\n", (unsigned long long)ov->unacked,
           (unsigned long long)ov->alerts);
    for (size_t i = 0; i < ov->n_unacked_listed; i++) {
        const cdx_ov_alert *al = &ov->unacked_list[i];
        cdx_time_format(a, al->sent_at_ms);
        /* Titles come from the log: no control characters on a terminal. */
        char title[sizeof al->title];
        snprintf(title, sizeof title, "%s", al->title);
        for (char *p = title; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        printf("  #%llu %s seq %llu %s %s%s%s\n", (unsigned long long)al->index, al->sender,
               (unsigned long long)al->seq, a, title[0] ? "\"" : "(sealed)", title,
               title[0] ? "\"" : "");
    }
    if (ov->unacked > ov->n_unacked_listed)
        printf("  (the latest %zu listed)\n", ov->n_unacked_listed);
    if (ov->gaps_total) {
        printf("\ngaps: %llu range%s, %llu seqs:", (unsigned long long)ov->gaps_total,
               ov->gaps_total == 1 ? "" : "s", (unsigned long long)ov->gap_seqs_total);
        for (size_t i = 0; i < ov->n_gaps && i < 20; i++)
            printf(" %s %llu-%llu%s", ov->gaps[i].sender, (unsigned long long)ov->gaps[i].from,
                   (unsigned long long)ov->gaps[i].to, ov->gaps[i].tail ? " (tail)" : "");
        printf("%s\n", ov->gaps_total > 20 ? " ..." : "");
    }
    if (ov->heads_bad_total)
        printf("inconsistent tree heads: %llu of %llu checked\n",
               (unsigned long long)ov->heads_bad_total, (unsigned long long)ov->heads_checked);
    printf("\nrefused: %llu duplicate%s", (unsigned long long)ov->duplicates,
           ov->duplicates == 1 ? "" : "s");
    for (size_t i = 0; i < ov->n_refused; i++)
        printf(", %llu %s", (unsigned long long)ov->refused[i].count, ov->refused[i].reason);
    printf("; equivocations kept as evidence: %llu\n", (unsigned long long)ov->equivocations_total);
}

/* Writes the HTML to FILE.tmp, then renames it into place, so that a
 * failed write never leaves half a report under FILE's name. */
static int s_write_html(const cdx_overview *ov, const char *path)
{
    if (strcmp(path, "-") == 0)
        return cdx_overview_html(ov, stdout, cdx_now_ms()) == CDX_OK ? CLI_OK : CLI_IOERR;
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return CLI_SOFTWARE;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ec = CLI_OK;
    if (!f) {
        fprintf(stderr, "cydex-audit report: cannot write %s: %s\n", tmp, strerror(errno));
        ec = CLI_IOERR;
    } else {
        cdx_err rc = cdx_overview_html(ov, f, cdx_now_ms());
        if (fclose(f) != 0 || rc != CDX_OK) {
            fprintf(stderr, "cydex-audit report: cannot write %s\n", tmp);
            ec = CLI_IOERR;
        } else if (rename(tmp, path) != 0) {
            fprintf(stderr, "cydex-audit report: cannot write %s: %s\n", path, strerror(errno));
            ec = CLI_IOERR;
        }
        if (ec != CLI_OK)
            remove(tmp);
    }
    free(tmp);
    return ec;
}

int cmd_audit_report(int argc, char **argv)
{
    static const struct option opts[] = {{"html", required_argument, NULL, 'H'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"roster", required_argument, NULL, 'r'},
                                         {"matrix", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool json = false;
    const char *html = NULL, *key_path = NULL, *roster_path = NULL;
    uint64_t matrix = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': html = optarg; break;
        case 'j': json = true; break;
        case 'k': key_path = optarg; break;
        case 'r': roster_path = optarg; break;
        case 'm':
            if (!cdx_parse_u64(optarg, &matrix) || matrix == 0 || matrix > CDX_OV_MATRIX_MAX)
                return audit_usage("report", s_report_usage, "--matrix takes 1 to %u",
                                   CDX_OV_MATRIX_MAX);
            break;
        case 'h': s_report_help(); return CLI_OK;
        default: return audit_usage("report", s_report_usage, "bad option");
        }
    }
    size_t n = (size_t)(argc - optind);
    if (n == 0)
        return audit_usage("report", s_report_usage, "give a LOGDIR");
    if (n > CDX_OV_MAX_LOGS)
        return audit_usage("report", s_report_usage, "at most %u LOGDIRs", CDX_OV_MAX_LOGS);
    if (html && json && strcmp(html, "-") == 0)
        return audit_usage("report", s_report_usage, "--html - and --json both on standard output");
    cdx_log *logs[CDX_OV_MAX_LOGS] = {0};
    cdx_identity *key = NULL;
    cdx_roster *roster = NULL;
    cdx_overview *ov = NULL;
    cdx_errbuf eb = {0};
    int ec = CLI_OK;
    for (size_t i = 0; i < n && ec == CLI_OK; i++)
        ec = audit_open_log("report", argv[optind + (int)i], &logs[i]);
    cdx_err rc = CDX_OK;
    if (ec == CLI_OK && key_path)
        rc = cdx_identity_load(&key, key_path, &eb);
    if (ec == CLI_OK && rc == CDX_OK && roster_path)
        rc = cli_load_trusted_roster(&roster, roster_path, &eb);
    if (ec == CLI_OK && rc == CDX_OK) {
        cdx_overview_opts o = {.key = key, .roster = roster, .matrix_rows = (size_t)matrix};
        rc = cdx_overview_build(&ov, logs, n, &o, &eb);
    }
    if (ec == CLI_OK && rc != CDX_OK)
        ec = audit_fail("report", rc, &eb);
    if (ec == CLI_OK && html)
        ec = s_write_html(ov, html);
    if (ec == CLI_OK && json) {
        char *text = NULL;
        if (cdx_overview_json(ov, &text) == CDX_OK)
            printf("%s\n", text);
        else
            ec = CLI_SOFTWARE;
        free(text);
    } else if (ec == CLI_OK && !html) {
        s_report_text(ov);
    }
    cdx_overview_destroy(&ov);
    cdx_roster_destroy(&roster);
    cdx_identity_destroy(&key);
    for (size_t i = 0; i < n; i++)
        cdx_log_destroy(&logs[i]);
    return ec;
}

/* ---- diff ---- */

typedef struct s_item {
    char sender[CDX_ID_MAX + 1];
    uint64_t seq, index, sent_at_ms;
    uint8_t hash[CDX_HASH_BYTES];
    cdx_payload_kind kind;
    uint8_t ack_of[CDX_HASH_BYTES]; /* for acks */
    /* For sealed alerts, who can read it: ",FR,EE," (malloc'd); NULL for
     * a clear alert, which every state can. */
    char *to;
    /* For tree heads, and co-signatures of one: what the head's signer
     * signed of its log (head_origin "" if none, or a co-signed head whose
     * signature does not hold or could not be checked). head_verified: the
     * head's signature verifies against the roster (a co-signed head is
     * kept only if it does). */
    char head_signer[CDX_ID_MAX + 1];
    uint64_t head_size;
    uint8_t head_root[CDX_HASH_BYTES];
    char head_origin[CDX_ID_MAX + 16];
    bool head_verified;
} s_item;

#define S_MAX_UPDATES 64

typedef struct s_side {
    s_item *items;
    size_t n, cap;
    const cdx_roster *roster; /* checks signatures; NULL: they are not */
    size_t cosigned_unchecked;
    cdx_roster *updates[S_MAX_UPDATES]; /* rosters the log carries, not yet checked */
    size_t n_updates;
} s_side;

static void s_head(s_item *it, const cdx_body *h)
{
    snprintf(it->head_signer, sizeof it->head_signer, "%s", h->sender);
    it->head_size = h->tree_head.size;
    memcpy(it->head_root, h->tree_head.root, CDX_HASH_BYTES);
    snprintf(it->head_origin, sizeof it->head_origin, "%s", h->tree_head.origin);
}

/* The head inside a co-signature, if its signer's signature holds. */
static void s_cosigned_head(s_side *s, s_item *it, const cdx_bytes *head)
{
    cdx_envelope *env = NULL;
    if (s->roster &&
        cdx_envelope_verify(&env, s->roster, head->data, head->len, NULL, NULL) == CDX_OK &&
        cdx_envelope_body(env)->kind == CDX_PAYLOAD_TREE_HEAD) {
        s_head(it, cdx_envelope_body(env));
        it->head_verified = true;
    } else {
        s->cosigned_unchecked++;
    }
    cdx_envelope_destroy(&env);
}

/* ",A,B," of a sealed alert's recipients. */
static char *s_recipients(const cdx_sealed *sealed)
{
    size_t len = 2;
    for (size_t i = 0; i < sealed->n_recipients; i++)
        len += strlen(sealed->recipients[i].id ? sealed->recipients[i].id : "") + 1;
    char *to = malloc(len);
    if (!to)
        return NULL;
    strcpy(to, ",");
    for (size_t i = 0; i < sealed->n_recipients; i++) {
        strcat(to, sealed->recipients[i].id ? sealed->recipients[i].id : "");
        strcat(to, ",");
    }
    return to;
}

static cdx_err s_collect(void *ctx, cdx_log_entry *e)
{
    s_side *s = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        void *g = realloc(s->items, cap * sizeof *s->items);
        if (!g) {
            cdx_envelope_destroy(&env);
            return CDX_ERR_NOMEM;
        }
        s->items = g;
        s->cap = cap;
    }
    const cdx_body *b = cdx_envelope_body(env);
    s_item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->sender, sizeof it->sender, "%s", b->sender);
    it->seq = b->seq;
    it->index = e->index;
    it->sent_at_ms = b->sent_at_ms;
    it->kind = b->kind;
    memcpy(it->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
    cdx_err rc = CDX_OK;
    if (b->kind == CDX_PAYLOAD_ACK)
        memcpy(it->ack_of, b->ack.alert_hash, CDX_HASH_BYTES);
    if (b->kind == CDX_PAYLOAD_SEALED && !(it->to = s_recipients(&b->sealed)))
        rc = CDX_ERR_NOMEM;
    if (b->kind == CDX_PAYLOAD_TREE_HEAD) {
        s_head(it, b);
        cdx_envelope *checked = NULL;
        it->head_verified = s->roster && cdx_envelope_verify(&checked, s->roster, e->envelope.data,
                                                             e->envelope.len, NULL, NULL) == CDX_OK;
        cdx_envelope_destroy(&checked);
    }
    if (b->kind == CDX_PAYLOAD_WITNESS)
        s_cosigned_head(s, it, &b->witness);
    if (b->kind == CDX_PAYLOAD_ROSTER && s->n_updates < S_MAX_UPDATES &&
        cdx_roster_decode(&s->updates[s->n_updates], b->roster.data, b->roster.len, NULL) == CDX_OK)
        s->n_updates++;
    cdx_envelope_destroy(&env);
    return rc;
}

static void s_side_free(s_side *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].to);
    free(s->items);
    for (size_t i = 0; i < s->n_updates; i++)
        cdx_roster_destroy(&s->updates[i]);
}

static int s_cmp_item(const void *x, const void *y)
{
    const s_item *a = x, *b = y;
    int c = strcmp(a->sender, b->sender);
    if (c)
        return c;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return memcmp(a->hash, b->hash, CDX_HASH_BYTES);
}

static bool s_has_hash(const s_side *s, const uint8_t *h)
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->items[i].hash, h, CDX_HASH_BYTES) == 0)
            return true;
    return false;
}

/* Whether `who` acknowledged alert `h` in either log. */
static bool s_acked(const s_side *a, const s_side *b, const char *who, const uint8_t *h)
{
    const s_side *sides[] = {a, b};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sides[k]->n; i++) {
            const s_item *it = &sides[k]->items[i];
            if (it->kind == CDX_PAYLOAD_ACK && strcmp(it->sender, who) == 0 &&
                memcmp(it->ack_of, h, CDX_HASH_BYTES) == 0)
                return true;
        }
    return false;
}

/* ---- who was a member when ---- */

/* The roster versions known to the diff, oldest first: the one it judges
 * by (--roster, or one a log stores), then each later version either log
 * carries that the version before it signed (as a node puts one in force). */
typedef struct s_chain {
    const cdx_roster *r[1 + 2 * S_MAX_UPDATES];
    size_t n;
} s_chain;

static void s_chain_build(s_chain *c, const cdx_roster *base, const s_side *a, const s_side *b)
{
    c->n = 0;
    if (!base)
        return;
    c->r[c->n++] = base;
    const s_side *sides[2] = {a, b};
    while (c->n < sizeof c->r / sizeof *c->r) {
        const cdx_roster *cur = c->r[c->n - 1], *next = NULL;
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < sides[k]->n_updates; i++) {
                const cdx_roster *x = sides[k]->updates[i];
                if (cdx_roster_version(x) > cdx_roster_version(cur) &&
                    (!next || cdx_roster_version(x) < cdx_roster_version(next)) &&
                    cdx_roster_verify(x, cur, NULL) == CDX_OK)
                    next = x;
            }
        if (!next)
            break;
        c->r[c->n++] = next;
    }
}

/* The roster in force at t: the latest version issued by then (the first
 * one for anything earlier). */
static const cdx_roster *s_in_force(const s_chain *c, uint64_t t)
{
    const cdx_roster *r = c->n ? c->r[0] : NULL;
    for (size_t i = 1; i < c->n; i++)
        if (cdx_roster_issued_at(c->r[i]) <= t)
            r = c->r[i];
    return r;
}

/* Whether `state` owes an acknowledgement of `alert`: it did not send it,
 * could read it (a clear alert: every state; a sealed one: its named
 * recipients), and was a state of the federation, valid and not revoked,
 * when it was sent (without a roster, every sender counts as one). */
static bool s_owes_ack(const s_chain *c, const s_item *alert, const char *state)
{
    if (strcmp(alert->sender, state) == 0)
        return false;
    if (alert->to) {
        char needle[CDX_ID_MAX + 3];
        snprintf(needle, sizeof needle, ",%s,", state);
        if (!strstr(alert->to, needle))
            return false;
    }
    if (!c->n)
        return true;
    const cdx_member *m = cdx_roster_find(s_in_force(c, alert->sent_at_ms), state);
    return m && m->role == CDX_ROLE_STATE &&
           cdx_member_key_valid_at(m, alert->sent_at_ms) == CDX_OK;
}

/* Whether the envelope at `index` of `log` verifies against the roster in
 * force when it was sent, or the latest one known. */
/* The entry's envelope verified against the roster in force when it was
 * sent (or the latest); *out (may be NULL) keeps it. */
static bool s_verified_env(const s_chain *c, cdx_log *log, uint64_t index, uint64_t sent_at_ms,
                           cdx_envelope **out)
{
    cdx_log_entry e;
    if (!c || !c->n || cdx_log_get(log, index, &e, NULL) != CDX_OK)
        return false;
    const cdx_roster *tries[2] = {s_in_force(c, sent_at_ms), c->r[c->n - 1]};
    bool ok = false;
    for (int k = 0; k < 2 && !ok; k++) {
        cdx_envelope *env = NULL;
        ok = cdx_envelope_verify(&env, tries[k], e.envelope.data, e.envelope.len, NULL, NULL) ==
             CDX_OK;
        if (ok && out)
            *out = env;
        else
            cdx_envelope_destroy(&env);
    }
    cdx_log_entry_clear(&e);
    return ok;
}

static bool s_verifies(const s_chain *c, cdx_log *log, const s_item *it)
{
    return s_verified_env(c, log, it->index, it->sent_at_ms, NULL);
}

/* One entry's envelope as JSON: "verified" says whether its signature holds
 * against the roster in force when it was sent (c NULL: not checked). */
static void s_print_envelope(const s_chain *c, cdx_log *log, uint64_t index, uint64_t sent_at_ms,
                             const char *label)
{
    cdx_log_entry e;
    cdx_envelope *env = NULL;
    char *json = NULL;
    if (cdx_log_get(log, index, &e, NULL) == CDX_OK &&
        (s_verified_env(c, log, index, sent_at_ms, &env) ||
         cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) &&
        cdx_json_from_envelope(&json, env, NULL, false) == CDX_OK) {
        char *b64 = cdx_base64_encode(e.envelope.data, e.envelope.len);
        printf("    %s #%llu: %s\n    %s bytes (base64): %s\n", label, (unsigned long long)index,
               json, label, b64 ? b64 : "");
        free(b64);
    }
    free(json);
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
}

/* The tree heads of `owner`'s log that `holder` logged (signed by the owner
 * and sent on "sth", or inside a member's co-signature), checked against
 * the owner's log itself: its root at each head's size must be the one
 * signed. A head the log does not match, signed by the owner, shows that
 * the owner showed others another log than the one it hands over (a split
 * view, or a log rewritten or cut short since): evidence, counted in
 * *proven. One whose signature does not verify (or could not be checked)
 * proves nothing of the owner: counted in *unproven. *checked counts those
 * compared. */
static void s_check_heads(const s_side *holder, const char *holder_name, cdx_log *holder_log,
                          cdx_log *owner, const char *owner_name, size_t *checked, size_t *proven,
                          size_t *unproven)
{
    const char *origin = cdx_log_origin(owner);
    uint64_t size = 0;
    cdx_log_size(owner, &size);
    *checked = 0;
    for (size_t i = 0; i < holder->n; i++) {
        const s_item *it = &holder->items[i];
        if (!it->head_origin[0] || strcmp(it->head_origin, origin) != 0)
            continue;
        char where[CDX_ID_MAX + 64];
        snprintf(where, sizeof where, "%s at #%llu%s%s", holder_name, (unsigned long long)it->index,
                 it->kind == CDX_PAYLOAD_WITNESS ? ", inside a co-signature by " : "",
                 it->kind == CDX_PAYLOAD_WITNESS ? it->sender : "");
        ++*checked;
        uint8_t root[CDX_HASH_BYTES];
        bool beyond = it->head_size > size;
        if (!beyond && cdx_log_root(owner, it->head_size, root) == CDX_OK &&
            memcmp(root, it->head_root, CDX_HASH_BYTES) == 0)
            continue;
        if (beyond)
            printf("INCONSISTENT TREE HEAD: %s signed a tree head of %s at size %llu (logged by "
                   "%s), but %s holds only %llu entries: cut short since\n",
                   it->head_signer, origin, (unsigned long long)it->head_size, where, owner_name,
                   (unsigned long long)size);
        else
            printf("INCONSISTENT TREE HEAD: %s signed a root of %s at size %llu (logged by %s) "
                   "that %s does not have at that size: a split view, or a log rewritten "
                   "since\n",
                   it->head_signer, origin, (unsigned long long)it->head_size, where, owner_name);
        if (it->head_verified) {
            ++*proven;
        } else {
            ++*unproven;
            printf("    but the head's signature %s, so it proves nothing against %s\n",
                   holder->roster ? "does NOT verify against the roster"
                                  : "was not checked (no roster: pass --roster FILE)",
                   it->head_signer);
        }
        s_print_envelope(NULL, holder_log, it->index, 0, holder_name);
    }
}

/* The roster a co-signed head's signature is checked against when no
 * --roster is given: the one stored in either log, if it verifies. */
static cdx_roster *s_stored_roster(cdx_log *la, cdx_log *lb)
{
    cdx_log *logs[2] = {la, lb};
    for (int k = 0; k < 2; k++) {
        cdx_bytes raw;
        cdx_roster *r = NULL;
        if (cdx_log_get_roster(logs[k], &raw) != CDX_OK)
            continue;
        bool ok = cdx_roster_decode(&r, raw.data, raw.len, NULL) == CDX_OK &&
                  cdx_roster_verify(r, NULL, NULL) == CDX_OK;
        cdx_bytes_free(&raw);
        if (ok)
            return r;
        cdx_roster_destroy(&r);
    }
    return NULL;
}

/* Alerts a state never acknowledged, counted only against the states that
 * owed an acknowledgement (s_owes_ack). */
static void s_unacked(const s_side *a, const s_side *b, const s_chain *chain)
{
    const char *states[256];
    size_t n_states = 0;
    const s_side *sides[2] = {a, b};
    if (chain->n) {
        for (size_t v = 0; v < chain->n; v++)
            for (size_t i = 0; i < cdx_roster_member_count(chain->r[v]) && n_states < 256; i++) {
                const cdx_member *m = cdx_roster_member_at(chain->r[v], i);
                bool known = m->role != CDX_ROLE_STATE;
                for (size_t j = 0; j < n_states && !known; j++)
                    known = strcmp(states[j], m->id) == 0;
                if (!known)
                    states[n_states++] = m->id;
            }
    } else {
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < sides[k]->n && n_states < 256; i++) {
                bool known = false;
                for (size_t j = 0; j < n_states && !known; j++)
                    known = strcmp(states[j], sides[k]->items[i].sender) == 0;
                if (!known)
                    states[n_states++] = sides[k]->items[i].sender;
            }
    }
    for (size_t s = 0; s < n_states; s++) {
        size_t never = 0;
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < sides[k]->n; i++) {
                const s_item *it = &sides[k]->items[i];
                bool alert = it->kind == CDX_PAYLOAD_ALERT || it->kind == CDX_PAYLOAD_SEALED;
                if (!alert || (k == 1 && s_has_hash(a, it->hash)) ||
                    !s_owes_ack(chain, it, states[s]) || s_acked(a, b, states[s], it->hash))
                    continue;
                if (never++ < 10)
                    printf("  %s never acknowledged %s seq %llu\n", states[s], it->sender,
                           (unsigned long long)it->seq);
            }
        if (never)
            printf("%s left %zu alert%s unacknowledged\n", states[s], never, never == 1 ? "" : "s");
    }
    if (!chain->n)
        printf("(no roster: every sender is counted as a state, a member since ever; pass "
               "--roster FILE)\n");
}

int cmd_audit_diff(int argc, char **argv)
{
    static const char usage[] = "cydex-audit diff LOGA LOGB [--roster FILE]";
    static const struct option opts[] = {{"roster", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *roster_path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roster_path = optarg; break;
        case 'h':
            printf("usage: %s\n\n"
                   "Compares two parties' logs:\n"
                   "* envelopes each holds that the other does not, per sender;\n"
                   "* alerts a state never acknowledged, counted only against the states that\n"
                   "  could read them (a clear alert: every state; a sealed one: the recipients\n"
                   "  it names) and were members, valid and not revoked, when they were sent\n"
                   "  (by the roster then in force: --roster, or the one a log stores, and the\n"
                   "  later versions the logs carry that it signed; give the federation's first\n"
                   "  roster to know when each state joined);\n"
                   "* (sender, seq) pairs the two logs hold different envelopes for: with both\n"
                   "  signatures verified against the roster, proof that the sender equivocated\n"
                   "  (EQUIVOCATION, both envelopes printed); otherwise a CONFLICT that proves\n"
                   "  nothing of the sender (one log holds a forgery or a changed entry);\n"
                   "* the signed tree heads of either log's owner that the other logged\n"
                   "  (directly, or inside a member's co-signature), held against the owner's\n"
                   "  log (its root at each head's size): one it does not match, signed by the\n"
                   "  owner, is proof of a split view or a rewritten log (INCONSISTENT TREE\n"
                   "  HEAD). A co-signed head counts only if its signer's signature verifies.\n"
                   "Signatures are checked against --roster, or else the roster a log stores.\n\n"
                   "Exit 0 nothing amiss; 2 EVIDENCE: an equivocation or an inconsistent tree\n"
                   "head, proven by signatures; 1 FAIL: a conflict or a head whose signature\n"
                   "does not verify (or could not be checked), which proves nothing of the\n"
                   "member and means a log is not to be trusted (this wins over 2); 65 the\n"
                   "roster does not match a log (another federation's); 64 usage; 66 no such\n"
                   "log; 74 I/O error.\n",
                   usage);
            return CLI_OK;
        default: return audit_usage("diff", usage, "bad option");
        }
    }
    if (argc - optind != 2)
        return audit_usage("diff", usage, "give two LOGDIRs");
    cdx_log *la = NULL, *lb = NULL;
    cdx_roster *roster = NULL;
    s_side a = {0}, b = {0};
    cdx_errbuf eb = {0};
    int ec = audit_open_log("diff", argv[optind], &la);
    if (ec == CLI_OK)
        ec = audit_open_log("diff", argv[optind + 1], &lb);
    if (ec == CLI_OK && roster_path)
        ec = audit_roster("diff", la, roster_path, &roster);
    cdx_roster *stored = ec == CLI_OK && !roster ? s_stored_roster(la, lb) : NULL;
    a.roster = b.roster = roster ? roster : stored;
    cdx_log *logs[2] = {la, lb};
    for (int k = 0; k < 2 && ec == CLI_OK && a.roster; k++) {
        cdx_err rc = cdx_audit_roster_fits(logs[k], a.roster, &eb);
        if (rc != CDX_OK) {
            fprintf(stderr, "cydex-audit diff: %s: %s%s\n", argv[optind + k],
                    cdx_errbuf_msg(&eb, rc), roster ? "" : " (the roster stored in the other log)");
            ec = cli_exit_code(rc);
        }
    }
    cdx_err rc = CDX_OK;
    if (ec == CLI_OK)
        rc = cdx_log_scan(la, 0, UINT64_MAX, s_collect, &a, &eb);
    if (ec == CLI_OK && rc == CDX_OK)
        rc = cdx_log_scan(lb, 0, UINT64_MAX, s_collect, &b, &eb);
    if (ec == CLI_OK && rc != CDX_OK)
        ec = audit_fail("diff", rc, &eb);
    if (ec != CLI_OK)
        goto done;
    qsort(a.items, a.n, sizeof *a.items, s_cmp_item);
    qsort(b.items, b.n, sizeof *b.items, s_cmp_item);
    s_chain chain;
    s_chain_build(&chain, a.roster, &a, &b);
    const char *na = cdx_log_origin(la), *nb = cdx_log_origin(lb);
    printf("diff %s (A, %zu entries) and %s (B, %zu entries)\n", na, a.n, nb, b.n);

    /* Missing on either side, per sender. */
    const s_side *sides[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        const s_side *x = sides[k], *y = sides[1 - k];
        size_t missing = 0;
        for (size_t i = 0; i < x->n; i++) {
            if (s_has_hash(y, x->items[i].hash))
                continue;
            if (missing++ < 20)
                printf("  only in %s: %s seq %llu (%s, #%llu)\n", k ? "B" : "A", x->items[i].sender,
                       (unsigned long long)x->items[i].seq, cdx_payload_kind_name(x->items[i].kind),
                       (unsigned long long)x->items[i].index);
        }
        printf("%s holds %zu envelope%s that %s does not%s\n", k ? "B" : "A", missing,
               missing == 1 ? "" : "s", k ? "A" : "B", missing > 20 ? " (first 20 listed)" : "");
    }

    s_unacked(&a, &b, &chain);

    /* Two envelopes for one (sender, seq), one in each log: proof of
     * equivocation once both signatures verify, and nothing but a suspect
     * log otherwise. */
    size_t equivocations = 0, conflicts = 0;
    for (size_t i = 0, j = 0; i < a.n && j < b.n;) {
        const s_item *x = &a.items[i], *y = &b.items[j];
        int cs = strcmp(x->sender, y->sender);
        if (cs < 0 || (cs == 0 && x->seq < y->seq)) {
            i++;
        } else if (cs > 0 || (cs == 0 && x->seq > y->seq)) {
            j++;
        } else {
            if (memcmp(x->hash, y->hash, CDX_HASH_BYTES) != 0 && !s_has_hash(&b, x->hash) &&
                !s_has_hash(&a, y->hash)) {
                bool both = s_verifies(&chain, la, x) && s_verifies(&chain, lb, y);
                if (both) {
                    equivocations++;
                    printf("EQUIVOCATION: %s signed two different envelopes with seq %llu\n"
                           "    both signatures VERIFY against the roster\n",
                           x->sender, (unsigned long long)x->seq);
                } else {
                    conflicts++;
                    printf("CONFLICT: A and B hold different envelopes for %s seq %llu, %s: "
                           "proof of nothing against %s, and one of the logs holds an "
                           "envelope %s did not sign, or a changed one (cydex-audit verify "
                           "each)\n",
                           x->sender, (unsigned long long)x->seq,
                           chain.n ? "which do NOT both verify against the roster"
                                   : "whose signatures were not checked (no roster: pass "
                                     "--roster FILE)",
                           x->sender, x->sender);
                }
                s_print_envelope(&chain, la, x->index, x->sent_at_ms, "A");
                s_print_envelope(&chain, lb, y->index, y->sent_at_ms, "B");
            }
            i++;
            j++;
        }
    }
    printf("equivocations between the two logs: %zu", equivocations);
    if (conflicts)
        printf("; conflicts that prove nothing: %zu", conflicts);
    printf("\n");

    /* What each owner signed of its log, as the other logged it. */
    size_t checked_b, checked_a, proven = 0, unproven = 0;
    s_check_heads(&a, "A", la, lb, "B", &checked_b, &proven, &unproven);
    s_check_heads(&b, "B", lb, la, "A", &checked_a, &proven, &unproven);
    printf("tree heads of B's log that A logged: %zu, checked against B; of A's log that B "
           "logged: %zu, checked against A; inconsistent: %zu\n",
           checked_b, checked_a, proven + unproven);
    if (a.cosigned_unchecked + b.cosigned_unchecked)
        printf("co-signed tree heads not checked: %zu (%s)\n",
               a.cosigned_unchecked + b.cosigned_unchecked,
               a.roster ? "not a tree head, or its signature does not verify"
                        : "no roster to check their signatures: pass --roster FILE");
    if (conflicts + unproven) {
        printf("FAIL: %zu finding%s that prove%s nothing of a member: a log is not to be "
               "trusted\n",
               conflicts + unproven, conflicts + unproven == 1 ? "" : "s",
               conflicts + unproven == 1 ? "s" : "");
        ec = CLI_REFUSED;
    } else if (equivocations + proven) {
        printf("EVIDENCE: %zu equivocation%s and %zu inconsistent tree head%s, proven by their "
               "signers' signatures\n",
               equivocations, equivocations == 1 ? "" : "s", proven, proven == 1 ? "" : "s");
        ec = AUDIT_EVIDENCE;
    } else {
        ec = CLI_OK;
    }
done:
    s_side_free(&a);
    s_side_free(&b);
    cdx_roster_destroy(&roster);
    cdx_roster_destroy(&stored);
    cdx_log_destroy(&la);
    cdx_log_destroy(&lb);
    return ec;
}
