/* cydex-audit evidence / check-evidence: the evidence bundle.
 *
 * `evidence` gathers, from copies of members' logs, everything a third
 * party needs to check that an alert was published, logged and
 * acknowledged: the alert's envelope, its acks, the brokers' receipts its
 * sender keeps, per log an inclusion proof of each of those envelopes
 * against one checkpoint its owner signed and the co-signatures of that
 * tree head, and the roster chain from the trust anchor. The file is the
 * canonical encoding of the Evidence message (proto/cydex.proto).
 *
 * `check-evidence` verifies it with nothing but the file and the anchor.
 * What must always hold: the tool signs nothing, so every claim printed
 * rests on a member's or a broker's signature checked here; the file must
 * re-encode to exactly its bytes (no unknown fields, nothing left over),
 * so a changed byte makes a check fail or drops a claim, never adds one.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "cydex.pb-c.h"
#include "cydex/proof.h"
#include "cydex/receipt.h"
#include "cydex/roster.h"
#include "cydex/seal.h"

#define S_MAX_FILE (256u << 20)
#define S_MAX_ITEMS 4096

typedef struct s_buf {
    cdx_bytes *v;
    size_t n;
    uint8_t (*hash)[CDX_HASH_BYTES]; /* envelope hashes, for envelopes */
} s_buf;

static bool s_push(s_buf *b, const uint8_t *data, size_t len, const uint8_t *hash)
{
    for (size_t i = 0; hash && i < b->n; i++)
        if (memcmp(b->hash[i], hash, CDX_HASH_BYTES) == 0)
            return true; /* once */
    cdx_bytes *v = realloc(b->v, (b->n + 1) * sizeof *v);
    if (!v)
        return false;
    b->v = v;
    uint8_t(*h)[CDX_HASH_BYTES] = realloc(b->hash, (b->n + 1) * sizeof *h);
    if (!h)
        return false;
    b->hash = h;
    v[b->n].data = malloc(len ? len : 1);
    if (!v[b->n].data)
        return false;
    memcpy(v[b->n].data, data, len);
    v[b->n].len = len;
    if (hash)
        memcpy(h[b->n], hash, CDX_HASH_BYTES);
    else
        memset(h[b->n], 0, CDX_HASH_BYTES);
    b->n++;
    return true;
}

static void s_buf_free(s_buf *b)
{
    for (size_t i = 0; i < b->n; i++)
        cdx_bytes_free(&b->v[i]);
    free(b->v);
    free(b->hash);
    memset(b, 0, sizeof *b);
}

/* ---- building ---- */

typedef struct s_scan {
    const char *want_id; /* or want_hash */
    uint8_t want_hash[CDX_HASH_BYTES];
    bool have_hash;
    s_buf *alert; /* 0 or 1 */
    s_buf *acks;
    s_buf *witness;
} s_scan;

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_scan *s = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK;
    const cdx_body *b = cdx_envelope_body(env);
    const uint8_t *h = cdx_envelope_hash(env);
    bool ok = true;
    if ((b->kind == CDX_PAYLOAD_ALERT || b->kind == CDX_PAYLOAD_SEALED) && !s->alert->n) {
        bool hit = s->have_hash ? memcmp(h, s->want_hash, CDX_HASH_BYTES) == 0
                                : b->kind == CDX_PAYLOAD_ALERT && b->alert.id &&
                                      strcmp(b->alert.id, s->want_id) == 0;
        if (hit)
            ok = s_push(s->alert, e->envelope.data, e->envelope.len, h);
    } else if (b->kind == CDX_PAYLOAD_ACK) {
        ok = s_push(s->acks, e->envelope.data, e->envelope.len, h);
    } else if (b->kind == CDX_PAYLOAD_WITNESS) {
        ok = s_push(s->witness, e->envelope.data, e->envelope.len, h);
    }
    cdx_envelope_destroy(&env);
    return ok ? CDX_OK : CDX_ERR_NOMEM;
}

/* The proof text `prove inclusion` prints, for entry `index` under cp. */
static char *s_proof_text(cdx_log *log, uint64_t index, const char *cp_text, uint64_t size)
{
    uint8_t path[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n = 0;
    cdx_log_entry e = {0};
    cdx_bytes enc = {0};
    char *out = NULL;
    if (cdx_log_inclusion(log, index, size, path, &n) == CDX_OK &&
        cdx_log_get(log, index, &e, NULL) == CDX_OK && cdx_log_entry_encode(&e, &enc) == CDX_OK) {
        char *extra = cdx_base64_encode(enc.data, enc.len);
        size_t cap = strlen(extra ? extra : "") + strlen(cp_text) + 64 + n * 48;
        out = malloc(cap);
        if (out) {
            int at = snprintf(out, cap, CDX_PROOF_INCLUSION_HEADER "\nextra %s\nindex %llu\n",
                              extra ? extra : "", (unsigned long long)index);
            for (size_t i = 0; i < n; i++) {
                char *h = cdx_base64_encode(path[i], CDX_HASH_BYTES);
                at += snprintf(out + at, cap - (size_t)at, "%s\n", h ? h : "");
                free(h);
            }
            snprintf(out + at, cap - (size_t)at, "\n%s", cp_text);
        }
        free(extra);
    }
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&e);
    return out;
}

static bool s_is_cosig(const cdx_bytes *w, const char *owner, const cdx_checkpoint *cp)
{
    cdx_envelope *we = NULL, *he = NULL;
    bool ok = false;
    if (cdx_envelope_inspect(&we, w->data, w->len, NULL) == CDX_OK &&
        strcmp(cdx_envelope_signer(we), owner) != 0) {
        const cdx_body *wb = cdx_envelope_body(we);
        if (cdx_envelope_inspect(&he, wb->witness.data, wb->witness.len, NULL) == CDX_OK) {
            const cdx_body *hb = cdx_envelope_body(he);
            ok = strcmp(cdx_envelope_signer(he), owner) == 0 && hb->kind == CDX_PAYLOAD_TREE_HEAD &&
                 hb->tree_head.size == cp->size &&
                 memcmp(hb->tree_head.root, cp->root, CDX_HASH_BYTES) == 0;
        }
    }
    cdx_envelope_destroy(&he);
    cdx_envelope_destroy(&we);
    return ok;
}

/* Of the stored checkpoints covering `need` entries, the one the most
 * co-signatures among `wit` are of (ties: the smallest); caller frees. */
static char *s_checkpoint_covering(cdx_log *log, uint64_t need, const s_buf *wit,
                                   cdx_checkpoint *cp)
{
    char **texts = NULL, *pick = NULL;
    size_t n = 0, best = 0;
    if (cdx_log_checkpoints(log, &texts, &n) != CDX_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cdx_checkpoint c;
        if (cdx_checkpoint_parse(&c, texts[i], strlen(texts[i]), NULL) == CDX_OK &&
            c.size >= need) {
            size_t k = 0;
            for (size_t w = 0; w < wit->n; w++)
                k += s_is_cosig(&wit->v[w], cdx_log_owner(log), &c);
            if (!pick || k > best || (k == best && c.size < cp->size)) {
                free(pick);
                pick = texts[i];
                texts[i] = NULL;
                *cp = c;
                best = k;
            }
        }
        free(texts[i]);
    }
    free(texts);
    return pick;
}

static ProtobufCBinaryData s_bin(const cdx_bytes *b)
{
    return (ProtobufCBinaryData){b->len, b->data};
}

int cmd_audit_evidence(int argc, char **argv)
{
    static const char usage[] =
        "cydex-audit evidence ALERT LOGDIR... [--roster FILE] [--out FILE] [--open KEY]";
    const char *roster_path = NULL, *out_path = NULL, *which = NULL, *open_key = NULL;
    const char *dirs[64];
    size_t nd = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s\n\n"
                   "Gathers into one self-contained file (the Evidence message of the schema)\n"
                   "what proves an alert's notification to a third party: its signed envelope,\n"
                   "every acknowledgement of it found in the logs, the brokers' receipts its\n"
                   "sender keeps, for each log an inclusion proof of each of those envelopes\n"
                   "against one checkpoint the log's owner signed and the co-signatures of that\n"
                   "tree head found in the logs, and the roster chain from the trust anchor\n"
                   "(--roster FILE, else the oldest roster the first log keeps). ALERT is an\n"
                   "alert id or a 64-digit envelope hash (a sealed alert: its hash). A sealed\n"
                   "alert stays sealed unless --open KEY (a recipient's secret key file) adds\n"
                   "its content key, with which a checker opens it. The file goes to --out FILE "
                   "(never overwritten: exit\n"
                   "73) or stdout. Check it with 'cydex-audit check-evidence'.\n"
                   "Exit 0 written; 66 no such log, or the alert is in none; 64 usage.\n",
                   usage);
            return CLI_OK;
        } else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc) {
            roster_path = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(argv[i], "--open") == 0 && i + 1 < argc) {
            open_key = argv[++i];
        } else if (argv[i][0] == '-') {
            return audit_usage("evidence", usage, "bad argument '%s'", argv[i]);
        } else if (!which) {
            which = argv[i];
        } else if (nd < sizeof dirs / sizeof *dirs) {
            dirs[nd++] = argv[i];
        } else {
            return audit_usage("evidence", usage, "too many logs");
        }
    }
    if (!which || !nd)
        return audit_usage("evidence", usage, "give ALERT and at least one LOGDIR");
    struct stat st;
    if (out_path && strcmp(out_path, "-") != 0 && stat(out_path, &st) == 0) {
        fprintf(stderr, "cydex-audit evidence: %s exists; refusing to overwrite it\n", out_path);
        return CLI_CANTCREAT;
    }
    cdx_log *logs[64] = {0};
    int ec = CLI_OK;
    for (size_t i = 0; i < nd && ec == CLI_OK; i++)
        ec = audit_open_log("evidence", dirs[i], &logs[i]);
    s_buf alert = {0}, acks = {0}, wit = {0}, receipts = {0}, rosters = {0};
    cdx_bytes anchor = {0};
    cdx_errbuf eb = {0};
    s_scan sc = {.alert = &alert, .acks = &acks, .witness = &wit};
    if (strlen(which) == 2 * CDX_HASH_BYTES &&
        cdx_hex_decode(sc.want_hash, CDX_HASH_BYTES, which) == CDX_OK)
        sc.have_hash = true;
    else
        sc.want_id = which;
    for (size_t i = 0; i < nd && ec == CLI_OK; i++) {
        uint64_t size = 0;
        cdx_err rc = cdx_log_size(logs[i], &size);
        if (rc == CDX_OK)
            rc = cdx_log_scan(logs[i], 0, size, s_visit, &sc, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("evidence", rc, &eb);
    }
    if (ec == CLI_OK && !alert.n) {
        fprintf(stderr, "cydex-audit evidence: no alert %s in the logs given\n", which);
        ec = CLI_NOINPUT;
    }
    /* Keep only the acks of this alert. */
    if (ec == CLI_OK) {
        size_t k = 0;
        for (size_t i = 0; i < acks.n; i++) {
            cdx_envelope *env = NULL;
            bool mine =
                cdx_envelope_inspect(&env, acks.v[i].data, acks.v[i].len, NULL) == CDX_OK &&
                memcmp(cdx_envelope_body(env)->ack.alert_hash, alert.hash[0], CDX_HASH_BYTES) == 0;
            cdx_envelope_destroy(&env);
            if (mine) {
                acks.v[k] = acks.v[i];
                memcpy(acks.hash[k++], acks.hash[i], CDX_HASH_BYTES);
            } else {
                cdx_bytes_free(&acks.v[i]);
            }
        }
        acks.n = k;
    }
    /* Receipts: what each log keeps for the alert and its acks. */
    for (size_t i = 0; i < nd && ec == CLI_OK; i++)
        for (size_t j = 0; j <= acks.n && ec == CLI_OK; j++) {
            cdx_log_receipt *r = NULL;
            size_t n = 0;
            if (cdx_log_receipts_of(logs[i], j ? acks.hash[j - 1] : alert.hash[0], &r, &n, NULL) !=
                CDX_OK)
                continue;
            for (size_t k = 0; k < n; k++) {
                uint8_t rh[CDX_HASH_BYTES];
                cdx_hash(rh, r[k].receipt.data, r[k].receipt.len);
                if (r[k].receipt.len && !s_push(&receipts, r[k].receipt.data, r[k].receipt.len, rh))
                    ec = CLI_SOFTWARE;
            }
            cdx_log_receipts_free(r, n);
        }
    /* The anchor and the chain after it. */
    cdx_roster *cur = NULL;
    if (ec == CLI_OK) {
        cdx_err rc = CDX_OK;
        if (roster_path) {
            rc = cli_read_input(roster_path, 1 << 24, &anchor, &eb);
            if (rc == CDX_OK)
                rc = cli_load_trusted_roster(&cur, roster_path, &eb);
        } else {
            cdx_log_roster *h = NULL;
            size_t nh = 0;
            rc = cdx_log_rosters(logs[0], &h, &nh);
            if (rc == CDX_OK && !nh)
                rc = cdx_errf(&eb, CDX_ERR_NOENT, "the log stores no roster: pass --roster FILE");
            if (rc == CDX_OK) {
                anchor = h[0].roster;
                h[0].roster = (cdx_bytes){0};
                rc = cdx_roster_decode(&cur, anchor.data, anchor.len, &eb);
            }
            if (rc == CDX_OK)
                rc = cdx_roster_verify(cur, NULL, &eb);
            cdx_log_rosters_free(h, nh);
        }
        for (size_t i = 0; i < nd && rc == CDX_OK; i++) {
            cdx_log_roster *h = NULL;
            size_t nh = 0;
            if (cdx_log_rosters(logs[i], &h, &nh) != CDX_OK)
                continue;
            for (size_t k = 0; k < nh; k++) {
                cdx_roster *next = NULL;
                if (h[k].version == cdx_roster_version(cur) + 1 &&
                    cdx_roster_decode_next(&next, h[k].roster.data, h[k].roster.len, cur, NULL) ==
                        CDX_OK) {
                    cdx_roster_destroy(&cur);
                    cur = next;
                    if (!s_push(&rosters, h[k].roster.data, h[k].roster.len, NULL))
                        rc = CDX_ERR_NOMEM;
                }
            }
            cdx_log_rosters_free(h, nh);
        }
        if (rc != CDX_OK)
            ec = audit_fail("evidence", rc, &eb);
    }
    /* Per log: the proofs against one checkpoint, and its co-signatures. */
    Cydex__V1__EvidenceLog *elogs = calloc(nd, sizeof *elogs);
    Cydex__V1__EvidenceLog **elogp = calloc(nd, sizeof *elogp);
    size_t nel = 0;
    if (!elogs || !elogp)
        ec = CLI_SOFTWARE;
    for (size_t i = 0; i < nd && ec == CLI_OK; i++) {
        uint64_t idx[S_MAX_ITEMS], need = 0;
        size_t ni = 0;
        for (size_t j = 0; j <= acks.n && ni < S_MAX_ITEMS; j++) {
            uint64_t at;
            if (cdx_log_find_hash(logs[i], j ? acks.hash[j - 1] : alert.hash[0], &at) == CDX_OK) {
                idx[ni++] = at;
                if (at + 1 > need)
                    need = at + 1;
            }
        }
        cdx_checkpoint cp;
        char *cp_text = ni ? s_checkpoint_covering(logs[i], need, &wit, &cp) : NULL;
        if (!cp_text) {
            fprintf(stderr,
                    "cydex-audit evidence: %s: %s (no signed checkpoint covers them yet): "
                    "left out\n",
                    dirs[i], ni ? "holds the envelopes" : "holds none of the envelopes");
            continue;
        }
        Cydex__V1__EvidenceLog *el = &elogs[nel];
        cydex__v1__evidence_log__init(el);
        el->owner = (char *)cdx_log_owner(logs[i]);
        el->proofs = calloc(ni, sizeof *el->proofs);
        el->cosignatures = calloc(wit.n ? wit.n : 1, sizeof *el->cosignatures);
        if (!el->proofs || !el->cosignatures) {
            ec = CLI_SOFTWARE;
        }
        for (size_t k = 0; k < ni && ec == CLI_OK; k++) {
            el->proofs[k] = s_proof_text(logs[i], idx[k], cp_text, cp.size);
            if (!el->proofs[k])
                ec = CLI_SOFTWARE;
            else
                el->n_proofs++;
        }
        for (size_t k = 0; k < wit.n && ec == CLI_OK; k++)
            if (s_is_cosig(&wit.v[k], el->owner, &cp))
                el->cosignatures[el->n_cosignatures++] = s_bin(&wit.v[k]);
        free(cp_text);
        elogp[nel++] = el;
    }
    /* --open: the content key, unwrapped with a recipient's key. */
    uint8_t ck[CDX_SEAL_KEY_BYTES];
    bool opened = false;
    if (ec == CLI_OK && open_key) {
        cdx_identity *me = NULL;
        cdx_envelope *env = NULL;
        cdx_err rc = cdx_identity_load(&me, open_key, &eb);
        if (rc == CDX_OK)
            rc = cdx_envelope_inspect(&env, alert.v[0].data, alert.v[0].len, &eb);
        if (rc == CDX_OK && cdx_envelope_body(env)->kind != CDX_PAYLOAD_SEALED)
            rc = cdx_errf(&eb, CDX_ERR_INVALID, "--open: the alert is not sealed");
        if (rc == CDX_OK)
            rc = cdx_seal_content_key(ck, &cdx_envelope_body(env)->sealed, me, &eb);
        opened = rc == CDX_OK;
        if (rc != CDX_OK)
            ec = audit_fail("evidence", rc, &eb);
        cdx_envelope_destroy(&env);
        cdx_identity_destroy(&me);
    }
    Cydex__V1__Evidence ev;
    cydex__v1__evidence__init(&ev);
    if (opened)
        ev.content_key = (ProtobufCBinaryData){sizeof ck, ck};
    uint8_t ah[32];
    ProtobufCBinaryData *rb = calloc(rosters.n + 1, sizeof *rb),
                        *kb = calloc(acks.n + 1, sizeof *kb),
                        *cb = calloc(receipts.n + 1, sizeof *cb);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ec == CLI_OK && rb && kb && cb) {
        crypto_hash_sha256(ah, anchor.data, anchor.len);
        ev.version = 1;
        ev.anchor_hash = (ProtobufCBinaryData){32, ah};
        for (size_t i = 0; i < rosters.n; i++)
            rb[i] = s_bin(&rosters.v[i]);
        for (size_t i = 0; i < acks.n; i++)
            kb[i] = s_bin(&acks.v[i]);
        for (size_t i = 0; i < receipts.n; i++)
            cb[i] = s_bin(&receipts.v[i]);
        ev.n_rosters = rosters.n;
        ev.rosters = rb;
        ev.alert = s_bin(&alert.v[0]);
        ev.n_acks = acks.n;
        ev.acks = kb;
        ev.n_receipts = receipts.n;
        ev.receipts = cb;
        ev.n_logs = nel;
        ev.logs = elogp;
        len = cydex__v1__evidence__get_packed_size(&ev);
        buf = malloc(len ? len : 1);
        if (buf)
            cydex__v1__evidence__pack(&ev, buf);
        else
            ec = CLI_SOFTWARE;
    } else if (ec == CLI_OK) {
        ec = CLI_SOFTWARE;
    }
    if (ec == CLI_OK) {
        cdx_err rc = cli_write_output(out_path, buf, len, true, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("evidence", rc, &eb);
        else if (out_path)
            fprintf(stderr,
                    "cydex-audit evidence: wrote %s: the alert, %zu ack(s), %zu receipt(s), "
                    "%zu log(s), %zu roster version(s) after the anchor\n",
                    out_path, acks.n, receipts.n, nel, rosters.n);
    }
    free(buf);
    free(rb);
    free(kb);
    free(cb);
    for (size_t i = 0; i < nel; i++) {
        for (size_t k = 0; k < elogs[i].n_proofs; k++)
            free(elogs[i].proofs[k]);
        free(elogs[i].proofs);
        free(elogs[i].cosignatures);
    }
    free(elogs);
    free(elogp);
    cdx_roster_destroy(&cur);
    cdx_bytes_free(&anchor);
    s_buf_free(&alert);
    s_buf_free(&acks);
    s_buf_free(&wit);
    s_buf_free(&receipts);
    s_buf_free(&rosters);
    for (size_t i = 0; i < nd; i++)
        cdx_log_destroy(&logs[i]);
    return ec;
}

/* ---- checking ---- */

typedef struct s_claims {
    json_t *list; /* [{"claim":..., "proof":...}] */
    bool json;
} s_claims;

static void s_claim(s_claims *c, const char *proof, const char *fmt, ...) CDX__AUDIT_PRINTF(3, 4);
static void s_claim(s_claims *c, const char *proof, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_array_append_new(c->list, json_pack("{s:s,s:s}", "claim", text, "proof", proof));
    if (!c->json)
        printf("CLAIM %s\n  proven by: %s\n", text, proof);
}

static void s_hex(char out[2 * CDX_HASH_BYTES + 1], const uint8_t *h)
{
    cdx_hex_encode(out, h, CDX_HASH_BYTES);
}

/* Every message of the file re-encodes to its bytes: no unknown field, no
 * field out of order or twice, nothing after the message. */
static bool s_canonical(const Cydex__V1__Evidence *ev, const cdx_bytes *file)
{
    if (ev->base.n_unknown_fields)
        return false;
    for (size_t i = 0; i < ev->n_logs; i++)
        if (ev->logs[i]->base.n_unknown_fields)
            return false;
    size_t len = cydex__v1__evidence__get_packed_size(ev);
    if (len != file->len)
        return false;
    uint8_t *b = malloc(len ? len : 1);
    bool same = b && cydex__v1__evidence__pack(ev, b) == len && memcmp(b, file->data, len) == 0;
    free(b);
    return same;
}

static bool s_in(const uint8_t (*set)[CDX_HASH_BYTES], size_t n, const uint8_t *h)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(set[i], h, CDX_HASH_BYTES) == 0)
            return true;
    return false;
}

/* Who signed something in the bundle: copies, as the receipts that name
 * brokers are freed as they are read. */
typedef struct s_seen {
    char ids[S_MAX_ITEMS][CDX_ID_MAX + 1];
    size_t n;
} s_seen;

static void s_saw(s_seen *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return;
    if (s->n < S_MAX_ITEMS)
        snprintf(s->ids[s->n++], CDX_ID_MAX + 1, "%s", id);
}

static bool s_was_seen(const s_seen *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

/* The checks, in order; CDX_OK when every claim holds, else eb names the
 * first that does not. Claims are added as they are proven. */
static cdx_err s_check(const Cydex__V1__Evidence *ev, const cdx_bytes *anchor_bytes, s_claims *c,
                       cdx_envelope ***keep, size_t *nkeep, s_seen *seen, cdx_roster **rout,
                       cdx_errbuf *eb)
{
    char hex[2 * CDX_HASH_BYTES + 1], when[CDX_TIME_TEXT_MAX], proof[768];
    if (ev->version != 1)
        return cdx_errf(eb, CDX_ERR_VERSION, "evidence version %u (this cydex-audit reads 1)",
                        ev->version);
    /* The roster chain from the anchor. */
    uint8_t ah[32];
    crypto_hash_sha256(ah, anchor_bytes->data, anchor_bytes->len);
    if (ev->anchor_hash.len != 32 || memcmp(ah, ev->anchor_hash.data, 32) != 0)
        return cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                        "roster chain: the file names another trust anchor than the one given");
    cdx_roster *r = *rout;
    for (size_t i = 0; i < ev->n_rosters; i++) {
        cdx_roster *next = NULL;
        cdx_errbuf e2 = {0};
        cdx_err rc = cdx_roster_decode_next(&next, ev->rosters[i].data, ev->rosters[i].len, r, &e2);
        if (rc != CDX_OK) {
            *rout = r;
            return cdx_errf(eb, rc, "roster chain: version %zu after the anchor: %s", i + 1,
                            cdx_errbuf_msg(&e2, rc));
        }
        cdx_roster_destroy(&r);
        r = next;
    }
    *rout = r;
    {
        char ahex[65];
        s_hex(ahex, ah);
        snprintf(proof, sizeof proof,
                 "the trust anchor (SHA-256 %s) and %zu successor version(s), each signed by "
                 "the admins of the one before",
                 ahex, ev->n_rosters);
    }
    s_claim(c, proof, "the roster in force is %s v%llu", cdx_roster_federation(r),
            (unsigned long long)cdx_roster_version(r));
    /* The alert. */
    cdx_envelope *alert = NULL;
    cdx_errbuf e2 = {0};
    cdx_err rc = cdx_envelope_verify(&alert, r, ev->alert.data, ev->alert.len, NULL, &e2);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "the alert's envelope: %s", cdx_errbuf_msg(&e2, rc));
    (*keep)[(*nkeep)++] = alert;
    const cdx_body *ab = cdx_envelope_body(alert);
    if (ab->kind != CDX_PAYLOAD_ALERT && ab->kind != CDX_PAYLOAD_SEALED)
        return cdx_errf(eb, CDX_ERR_INVALID, "the alert's envelope holds no alert");
    s_saw(seen, ab->sender);
    s_hex(hex, cdx_envelope_hash(alert));
    cdx_time_format(when, ab->sent_at_ms);
    snprintf(proof, sizeof proof, "%s's signature on envelope %s (its key valid then)", ab->sender,
             hex);
    if (ab->kind == CDX_PAYLOAD_ALERT) {
        s_claim(c, proof, "%s published alert %s \"%s\" (TLP:%s) at %s, seq %llu, topic %s",
                ab->sender, ab->alert.id, ab->alert.title ? ab->alert.title : "",
                cdx_tlp_name(ab->alert.tlp), when, (unsigned long long)ab->seq, ab->topic);
    } else {
        char to[512] = "";
        size_t at = 0;
        for (size_t i = 0; i < ab->sealed.n_recipients && at < sizeof to - 40; i++)
            at += (size_t)snprintf(to + at, sizeof to - at, "%s%s", i ? ", " : "",
                                   ab->sealed.recipients[i].id);
        s_claim(c, proof,
                "%s published a sealed alert (TLP:%s) at %s, seq %llu, topic %s, to %s (its "
                "content sealed)",
                ab->sender, cdx_tlp_name(ab->sealed.tlp), when, (unsigned long long)ab->seq,
                ab->topic, to);
    }
    if (ev->content_key.len) {
        cdx_alert open = {0};
        if (ab->kind != CDX_PAYLOAD_SEALED || ev->content_key.len != CDX_SEAL_KEY_BYTES)
            return cdx_errf(eb, CDX_ERR_INVALID, "content key: not a sealed alert's 32-byte key");
        rc = cdx_seal_open_with_key(&open, &ab->sealed, ab->sender, ab->seq, ab->topic,
                                    ev->content_key.data, &e2);
        if (rc != CDX_OK)
            return cdx_errf(eb, rc, "content key: %s", cdx_errbuf_msg(&e2, rc));
        s_claim(c,
                "the content key in the file: the signed ciphertext authenticates under it "
                "(XChaCha20-Poly1305, bound to sender, seq, topic and TLP)",
                "its content: alert %s \"%s\" (TLP:%s)%s%s", open.id, open.title ? open.title : "",
                cdx_tlp_name(open.tlp), open.description && *open.description ? ": " : "",
                open.description && *open.description ? open.description : "");
        cdx_alert_clear(&open);
    }
    uint8_t(*hashes)[CDX_HASH_BYTES] = calloc(ev->n_acks + 1, CDX_HASH_BYTES);
    if (!hashes)
        return CDX_ERR_NOMEM;
    memcpy(hashes[0], cdx_envelope_hash(alert), CDX_HASH_BYTES);
    /* The acks. */
    for (size_t i = 0; i < ev->n_acks && rc == CDX_OK; i++) {
        cdx_envelope *ack = NULL;
        rc = cdx_envelope_verify(&ack, r, ev->acks[i].data, ev->acks[i].len, NULL, &e2);
        if (rc != CDX_OK) {
            cdx_errf(eb, rc, "ack %zu: %s", i + 1, cdx_errbuf_msg(&e2, rc));
            break;
        }
        (*keep)[(*nkeep)++] = ack;
        const cdx_body *kb = cdx_envelope_body(ack);
        if (kb->kind != CDX_PAYLOAD_ACK ||
            memcmp(kb->ack.alert_hash, hashes[0], CDX_HASH_BYTES) != 0) {
            rc = cdx_errf(eb, CDX_ERR_INVALID,
                          "ack %zu (by %s): it acknowledges another alert, not this one", i + 1,
                          kb->sender);
            break;
        }
        if (s_in((const uint8_t(*)[CDX_HASH_BYTES])hashes, i + 1, cdx_envelope_hash(ack))) {
            rc = cdx_errf(eb, CDX_ERR_INVALID, "ack %zu: given twice", i + 1);
            break;
        }
        memcpy(hashes[i + 1], cdx_envelope_hash(ack), CDX_HASH_BYTES);
        s_saw(seen, kb->sender);
        s_hex(hex, cdx_envelope_hash(ack));
        cdx_time_format(when, kb->sent_at_ms);
        snprintf(proof, sizeof proof, "%s's signature on ack envelope %s", kb->sender, hex);
        s_claim(c, proof, "%s acknowledged it at %s: stage %s%s%s%s", kb->sender, when,
                cdx_ack_stage_name(kb->ack.stage), kb->ack.note && *kb->ack.note ? ", note \"" : "",
                kb->ack.note && *kb->ack.note ? kb->ack.note : "",
                kb->ack.note && *kb->ack.note ? "\"" : "");
    }
    size_t nh = ev->n_acks + 1;
    /* The receipts. */
    for (size_t i = 0; i < ev->n_receipts && rc == CDX_OK; i++) {
        cdx_receipt *items = NULL;
        size_t n = 0;
        rc = cdx_receipt_verify_many(&items, &n, r, ev->receipts[i].data, ev->receipts[i].len, &e2);
        if (rc != CDX_OK) {
            cdx_errf(eb, rc, "receipt %zu: %s", i + 1, cdx_errbuf_msg(&e2, rc));
            break;
        }
        bool any = false;
        for (size_t k = 0; k < n; k++) {
            if (!s_in((const uint8_t(*)[CDX_HASH_BYTES])hashes, nh, items[k].envelope_hash))
                continue;
            any = true;
            s_saw(seen, items[k].broker);
            s_hex(hex, items[k].envelope_hash);
            cdx_time_format(when, items[k].committed_at_ms);
            snprintf(proof, sizeof proof, "receipt %zu, signed by %s", i + 1, items[k].broker);
            if (items[k].status == CDX_RECEIPT_REJECTED)
                s_claim(c, proof, "broker %s refused envelope %.16s... (%s) at %s", items[k].broker,
                        hex, items[k].reason, when);
            else
                s_claim(c, proof, "broker %s logged %s %.16s... at its index %llu by %s",
                        items[k].broker,
                        memcmp(items[k].envelope_hash, hashes[0], 32) ? "ack" : "alert", hex,
                        (unsigned long long)items[k].log_index, when);
        }
        free(items);
        if (!any)
            rc = cdx_errf(eb, CDX_ERR_INVALID, "receipt %zu says nothing of the alert or its acks",
                          i + 1);
    }
    /* The logs. */
    for (size_t i = 0; i < ev->n_logs && rc == CDX_OK; i++) {
        const Cydex__V1__EvidenceLog *el = ev->logs[i];
        const cdx_member *owner = cdx_roster_find(r, el->owner);
        if (!owner) {
            rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "log %zu: its owner %s is not a member",
                          i + 1, el->owner);
            break;
        }
        if (!el->n_proofs) {
            rc = cdx_errf(eb, CDX_ERR_INVALID, "log %zu (%s): no proof", i + 1, el->owner);
            break;
        }
        cdx_checkpoint cp0 = {0};
        for (size_t k = 0; k < el->n_proofs && rc == CDX_OK; k++) {
            cdx_proof p;
            cdx_checkpoint cp;
            cdx_log_entry e = {0};
            rc = cdx_proof_parse(&p, el->proofs[k], strlen(el->proofs[k]), &e2);
            if (rc == CDX_OK)
                rc = cdx_proof_check_inclusion(&p, owner->sign_pk, &cp, &e, &e2);
            if (rc == CDX_OK && k &&
                (cp.size != cp0.size || memcmp(cp.root, cp0.root, CDX_HASH_BYTES) != 0))
                rc = cdx_errf(&e2, CDX_ERR_INVALID, "not against the log's one checkpoint");
            uint8_t eh[CDX_HASH_BYTES];
            if (rc == CDX_OK &&
                cdx_envelope_peek_hash(e.envelope.data, e.envelope.len, eh) != CDX_OK)
                rc = cdx_errf(&e2, CDX_ERR_CORRUPT, "the entry holds no envelope");
            if (rc == CDX_OK && !s_in((const uint8_t(*)[CDX_HASH_BYTES])hashes, nh, eh))
                rc = cdx_errf(&e2, CDX_ERR_INVALID,
                              "it proves an envelope that is neither the alert nor an ack");
            if (rc != CDX_OK) {
                cdx_errf(eb, rc, "log %zu (%s), proof %zu: %s", i + 1, el->owner, k + 1,
                         cdx_errbuf_msg(&e2, rc));
            } else {
                if (!k)
                    cp0 = cp;
                s_hex(hex, eh);
                char got[CDX_TIME_TEXT_MAX];
                cdx_time_format(got, e.received_at_ms);
                cdx_time_format(when, cp.time_s * 1000);
                snprintf(proof, sizeof proof,
                         "inclusion proof %zu against %s's checkpoint of %llu entries signed at "
                         "%s",
                         k + 1, el->owner, (unsigned long long)cp.size, when);
                s_claim(c, proof, "%s logged %s %.16s... at its index %llu (received %s from %s)",
                        el->owner, memcmp(eh, hashes[0], 32) ? "ack" : "the alert", hex,
                        (unsigned long long)p.index, got, e.received_from);
            }
            cdx_log_entry_clear(&e);
            cdx_proof_clear(&p);
        }
        if (rc == CDX_OK)
            s_saw(seen, el->owner);
        for (size_t k = 0; k < el->n_cosignatures && rc == CDX_OK; k++) {
            cdx_envelope *we = NULL, *he = NULL;
            const ProtobufCBinaryData *w = &el->cosignatures[k];
            rc = cdx_envelope_verify(&we, r, w->data, w->len, NULL, &e2);
            const cdx_body *wb = rc == CDX_OK ? cdx_envelope_body(we) : NULL;
            if (rc == CDX_OK && wb->kind != CDX_PAYLOAD_WITNESS)
                rc = cdx_errf(&e2, CDX_ERR_INVALID, "not a co-signature");
            if (rc == CDX_OK)
                rc = cdx_envelope_verify(&he, r, wb->witness.data, wb->witness.len, NULL, &e2);
            const cdx_body *hb = rc == CDX_OK ? cdx_envelope_body(he) : NULL;
            if (rc == CDX_OK &&
                (strcmp(hb->sender, el->owner) != 0 || strcmp(wb->sender, el->owner) == 0 ||
                 hb->kind != CDX_PAYLOAD_TREE_HEAD || hb->tree_head.size != cp0.size ||
                 memcmp(hb->tree_head.root, cp0.root, CDX_HASH_BYTES) != 0))
                rc = cdx_errf(&e2, CDX_ERR_INVALID,
                              "it co-signs another tree head than the checkpoint's");
            if (rc != CDX_OK) {
                cdx_errf(eb, rc, "log %zu (%s), co-signature %zu: %s", i + 1, el->owner, k + 1,
                         cdx_errbuf_msg(&e2, rc));
            } else {
                s_saw(seen, wb->sender);
                cdx_time_format(when, wb->sent_at_ms);
                snprintf(proof, sizeof proof, "%s's signed Witness of %s's signed tree head",
                         wb->sender, el->owner);
                s_claim(c, proof, "%s co-signed %s's tree of %llu entries at %s", wb->sender,
                        el->owner, (unsigned long long)cp0.size, when);
            }
            cdx_envelope_destroy(&he);
            cdx_envelope_destroy(&we);
        }
    }
    free(hashes);
    return rc;
}

int cmd_audit_check_evidence(int argc, char **argv)
{
    static const char usage[] = "cydex-audit check-evidence FILE --roster ANCHOR [--json]";
    const char *file = NULL, *anchor = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s\n\n"
                   "Checks an evidence bundle (cydex-audit evidence) offline, with nothing but\n"
                   "the file and the trust anchor (the roster file the bundle names by its\n"
                   "SHA-256), and prints each claim it proves with what proves it: the roster\n"
                   "in force; who published the alert, when, its TLP and recipients; each\n"
                   "broker's receipt; which member logged which envelope at which index\n"
                   "(inclusion proof, checkpoint signed by the log's owner) and who co-signed\n"
                   "that tree head; who acknowledged it, with which stage and note, when; and\n"
                   "which members of the roster in force left no trace in the bundle.\n"
                   "--json prints {\"verdict\",\"claims\":[{\"claim\",\"proof\"}],\"error\"}.\n"
                   "Exit 0 every claim holds; 1 one does not (named); 65 not an evidence\n"
                   "file; 66 no such file; 64 usage.\n",
                   usage);
            return CLI_OK;
        } else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc) {
            anchor = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            return audit_usage("check-evidence", usage, "bad argument '%s'", argv[i]);
        }
    }
    if (!file || !anchor)
        return audit_usage("check-evidence", usage, "give FILE and --roster ANCHOR");
    cdx_errbuf eb = {0};
    cdx_bytes bytes = {0}, ab = {0};
    cdx_roster *r = NULL;
    cdx_err rc = cli_read_input(file, S_MAX_FILE, &bytes, &eb);
    if (rc == CDX_OK)
        rc = cli_read_input(anchor, 1 << 24, &ab, &eb);
    if (rc == CDX_OK)
        rc = cli_load_trusted_roster(&r, anchor, &eb);
    if (rc != CDX_OK) {
        cdx_bytes_free(&bytes);
        cdx_bytes_free(&ab);
        return audit_fail("check-evidence", rc, &eb);
    }
    Cydex__V1__Evidence *ev = cydex__v1__evidence__unpack(NULL, bytes.len, bytes.data);
    int ec = CLI_OK;
    s_claims c = {.list = json_array(), .json = json};
    cdx_envelope **keep = NULL;
    size_t nkeep = 0;
    s_seen *seen = calloc(1, sizeof *seen);
    if (!ev || !s_canonical(ev, &bytes)) {
        rc = cdx_errf(&eb, CDX_ERR_FORMAT,
                      "%s is not an evidence file (not a canonical Evidence message)", file);
        ec = CLI_DATAERR;
    } else if (!seen || !(keep = calloc(ev->n_acks + 1, sizeof *keep))) {
        rc = CDX_ERR_NOMEM;
        ec = CLI_SOFTWARE;
    } else {
        rc = s_check(ev, &ab, &c, &keep, &nkeep, seen, &r, &eb);
        if (rc != CDX_OK)
            ec = CLI_REFUSED;
    }
    if (rc == CDX_OK) {
        char list[2048] = "";
        size_t at = 0;
        for (size_t i = 0; i < cdx_roster_member_count(r) && at < sizeof list - 80; i++) {
            const cdx_member *m = cdx_roster_member_at(r, i);
            if (!s_was_seen(seen, m->id))
                at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", m->id);
        }
        s_claim(&c, "the roster in force, and every signature above",
                "members of the roster in force that left no trace in this evidence: %s",
                at ? list : "none");
    }
    if (json) {
        json_t *o =
            json_pack("{s:s,s:O}", "verdict", rc == CDX_OK ? "VALID" : "INVALID", "claims", c.list);
        if (rc != CDX_OK)
            json_object_set_new(o, "error", json_string(cdx_errbuf_msg(&eb, rc)));
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s ? s : "");
        free(s);
        json_decref(o);
    }
    if (rc == CDX_OK) {
        if (!json)
            printf("VALID: every claim above holds\n");
    } else {
        fprintf(stderr, "cydex-audit check-evidence: INVALID: %s\n", cdx_errbuf_msg(&eb, rc));
    }
    json_decref(c.list);
    for (size_t i = 0; i < nkeep; i++)
        cdx_envelope_destroy(&keep[i]);
    free(keep);
    free(seen);
    if (ev)
        cydex__v1__evidence__free_unpacked(ev, NULL);
    cdx_roster_destroy(&r);
    cdx_bytes_free(&bytes);
    cdx_bytes_free(&ab);
    return ec;
}
