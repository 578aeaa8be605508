/* cydex-audit checkpoint / prove / check-proof.
 *
 * Inclusion proofs are printed in the C2SP tlog-proof form: the entry
 * itself travels in the "extra" line (base64 of the stored LogEntry), so a
 * third party holding only the proof and the log owner's public key can
 * check that this exact envelope was logged at this index under a
 * checkpoint the owner signed. Consistency proofs use the same layout under
 * their own header (cydex/consistency-proof@v1: old, new, hashes).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cydex/proof.h"

#define S_INCLUSION_HEADER CDX_PROOF_INCLUSION_HEADER
#define S_CONSISTENCY_HEADER CDX_PROOF_CONSISTENCY_HEADER

/* The stored checkpoint at `size` (0: the largest); caller frees. */
static char *s_stored_checkpoint(cdx_log *log, uint64_t size, bool at_least)
{
    char **texts = NULL, *pick = NULL;
    size_t n = 0;
    if (cdx_log_checkpoints(log, &texts, &n) != CDX_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cdx_checkpoint cp;
        bool fits = cdx_checkpoint_parse(&cp, texts[i], strlen(texts[i]), NULL) == CDX_OK &&
                    (size == 0 || cp.size == size || (at_least && cp.size >= size));
        if (fits && !(at_least && pick)) {
            free(pick);
            pick = texts[i];
            texts[i] = NULL;
        }
        free(texts[i]);
    }
    free(texts);
    return pick;
}

int cmd_audit_checkpoint(int argc, char **argv)
{
    static const char usage[] = "cydex-audit checkpoint LOGDIR [--all | --size N]";
    bool all = false;
    uint64_t size = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s\n\nPrints the log's latest signed checkpoint (C2SP text), every "
                   "one with --all,\nor the one at tree size N.\n",
                   usage);
            return CLI_OK;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (!cdx_parse_u64(argv[++i], &size))
                return audit_usage("checkpoint", usage, "--size takes a number");
        } else if (!dir && argv[i][0] != '-') {
            dir = argv[i];
        } else {
            return audit_usage("checkpoint", usage, "bad argument '%s'", argv[i]);
        }
    }
    if (!dir)
        return audit_usage("checkpoint", usage, "give a LOGDIR");
    cdx_log *log = NULL;
    int ec = audit_open_log("checkpoint", dir, &log);
    if (ec != CLI_OK)
        return ec;
    if (all) {
        char **texts = NULL;
        size_t n = 0;
        if (cdx_log_checkpoints(log, &texts, &n) == CDX_OK)
            for (size_t i = 0; i < n; i++) {
                printf("%s%s", i ? "\n" : "", texts[i]);
                free(texts[i]);
            }
        free(texts);
        ec = n ? CLI_OK : CLI_NOINPUT;
    } else {
        char *t = s_stored_checkpoint(log, size, false);
        if (t)
            fputs(t, stdout);
        ec = t ? CLI_OK : CLI_NOINPUT;
        free(t);
    }
    if (ec == CLI_NOINPUT)
        fprintf(stderr, "cydex-audit checkpoint: no such checkpoint in %s\n", dir);
    cdx_log_destroy(&log);
    return ec;
}

static void s_print_hashes(const uint8_t (*h)[CDX_HASH_BYTES], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *b = cdx_base64_encode(h[i], CDX_HASH_BYTES);
        printf("%s\n", b ? b : "");
        free(b);
    }
}

static int s_prove_inclusion(cdx_log *log, const char *which, const char *cp_path)
{
    cdx_errbuf eb = {0};
    uint64_t index = 0;
    uint8_t hash[CDX_HASH_BYTES];
    if (strlen(which) == 2 * CDX_HASH_BYTES &&
        cdx_hex_decode(hash, CDX_HASH_BYTES, which) == CDX_OK) {
        if (cdx_log_find_hash(log, hash, &index) != CDX_OK) {
            fprintf(stderr, "cydex-audit prove: no envelope with hash %s in this log\n", which);
            return CLI_NOINPUT;
        }
    } else if (!cdx_parse_u64(which, &index)) {
        return audit_usage("prove", "cydex-audit prove inclusion LOGDIR INDEX|HASH",
                           "'%s' is "
                           "neither an index nor a 64-digit hash",
                           which);
    }
    char *cp_text = NULL;
    if (cp_path) {
        cdx_bytes b;
        cdx_err rc = cli_read_input(cp_path, 65536, &b, &eb);
        if (rc != CDX_OK)
            return audit_fail("prove", rc, &eb);
        cp_text = (char *)b.data;
    } else {
        cp_text = s_stored_checkpoint(log, index + 1, true);
    }
    if (!cp_text) {
        fprintf(stderr, "cydex-audit prove: no signed checkpoint covers entry %llu yet\n",
                (unsigned long long)index);
        return CLI_NOINPUT;
    }
    cdx_checkpoint cp;
    uint8_t root[CDX_HASH_BYTES], path[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n = 0;
    cdx_log_entry e = {0};
    cdx_bytes enc = {0};
    int ec = CLI_OK;
    cdx_err rc = cdx_checkpoint_parse(&cp, cp_text, strlen(cp_text), &eb);
    if (rc == CDX_OK && index >= cp.size)
        rc = cdx_errf(&eb, CDX_ERR_INVALID, "entry %llu is past the checkpoint's size %llu",
                      (unsigned long long)index, (unsigned long long)cp.size);
    if (rc == CDX_OK)
        rc = cdx_log_root(log, cp.size, root);
    if (rc == CDX_OK && memcmp(root, cp.root, CDX_HASH_BYTES) != 0)
        rc = cdx_errf(&eb, CDX_ERR_CORRUPT,
                      "this log does not match the checkpoint at size "
                      "%llu: run verify",
                      (unsigned long long)cp.size);
    if (rc == CDX_OK)
        rc = cdx_log_inclusion(log, index, cp.size, path, &n);
    if (rc == CDX_OK)
        rc = cdx_log_get(log, index, &e, &eb);
    if (rc == CDX_OK)
        rc = cdx_log_entry_encode(&e, &enc);
    if (rc == CDX_OK) {
        char *extra = cdx_base64_encode(enc.data, enc.len);
        printf(S_INCLUSION_HEADER "\nextra %s\nindex %llu\n", extra ? extra : "",
               (unsigned long long)index);
        free(extra);
        s_print_hashes((const uint8_t(*)[CDX_HASH_BYTES])path, n);
        printf("\n%s", cp_text);
    } else {
        ec = audit_fail("prove", rc, &eb);
    }
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&e);
    free(cp_text);
    return ec;
}

int cmd_audit_prove(int argc, char **argv)
{
    static const char usage[] =
        "cydex-audit prove inclusion LOGDIR INDEX|HASH [--checkpoint FILE]\n"
        "       cydex-audit prove consistency LOGDIR OLD NEW";
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: %s\n\nInclusion: a C2SP tlog-proof of one entry (by index or envelope "
               "hash)\nagainst the smallest stored checkpoint covering it, the entry inside.\n"
               "Consistency: the RFC 9162 proof that the tree at OLD is a prefix of NEW.\n",
               usage);
        return CLI_OK;
    }
    const char *cp_path = NULL;
    int pos = 0;
    char *args[4];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc)
            cp_path = argv[++i];
        else if (pos < 4)
            args[pos++] = argv[i];
        else
            return audit_usage("prove", usage, "too many arguments");
    }
    bool incl = pos == 3 && strcmp(args[0], "inclusion") == 0;
    bool cons = pos == 4 && strcmp(args[0], "consistency") == 0;
    if (!incl && !cons)
        return audit_usage("prove", usage, "say what to prove");
    cdx_log *log = NULL;
    int ec = audit_open_log("prove", args[1], &log);
    if (ec != CLI_OK)
        return ec;
    if (incl) {
        ec = s_prove_inclusion(log, args[2], cp_path);
    } else {
        uint64_t old, new_size;
        uint8_t proof[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
        size_t n = 0;
        if (!cdx_parse_u64(args[2], &old) || !cdx_parse_u64(args[3], &new_size) || old > new_size) {
            ec = audit_usage("prove", usage, "OLD and NEW are tree sizes, OLD <= NEW");
        } else if (cdx_log_consistency(log, old, new_size, proof, &n) != CDX_OK) {
            fprintf(stderr, "cydex-audit prove: the log has no tree of size %llu\n",
                    (unsigned long long)new_size);
            ec = CLI_NOINPUT;
        } else {
            printf(S_CONSISTENCY_HEADER "\nold %llu\nnew %llu\n", (unsigned long long)old,
                   (unsigned long long)new_size);
            s_print_hashes((const uint8_t(*)[CDX_HASH_BYTES])proof, n);
        }
    }
    cdx_log_destroy(&log);
    return ec;
}

/* ---- check-proof ---- */

static cdx_err s_load_cp(cdx_checkpoint *cp, const char *path, const uint8_t pk[CDX_PK_BYTES],
                         cdx_errbuf *eb)
{
    cdx_bytes b;
    cdx_err rc = cli_read_input(path, 65536, &b, eb);
    if (rc == CDX_OK)
        rc = cdx_checkpoint_parse(cp, (const char *)b.data, b.len, eb);
    if (rc == CDX_OK)
        rc = cdx_checkpoint_verify(cp, pk, eb);
    cdx_bytes_free(&b);
    return rc;
}

int cmd_audit_check_proof(int argc, char **argv)
{
    static const char usage[] =
        "cydex-audit check-proof PROOF --key OWNER.pub [--old CHECKPOINT --new CHECKPOINT]";
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"old", required_argument, NULL, 'o'},
                                         {"new", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL, *old_cp = NULL, *new_cp = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': old_cp = optarg; break;
        case 'n': new_cp = optarg; break;
        case 'h':
            printf(
                "usage: %s\n\nChecks a proof as a third party would, with nothing but the "
                "proof and the\nlog owner's member card: the checkpoint's signatures, the "
                "Merkle path, and\nthat the entry inside is the one proven. A consistency "
                "proof needs the two\ncheckpoints it joins. A proof holds each extra, index, old "
                "or new line it needs\nonce and at most 128 hashes; anything else is "
                "malformed (exit 65).\nExit 0 valid, 1 invalid.\n",
                usage);
            return CLI_OK;
        default: return audit_usage("check-proof", usage, "bad option");
        }
    }
    if (!key || argc - optind != 1)
        return audit_usage("check-proof", usage, "give PROOF and --key");
    cdx_errbuf eb = {0};
    cdx_member owner;
    cdx_bytes text = {0};
    cdx_err rc = cdx_member_card_load(&owner, key, &eb);
    if (rc == CDX_OK)
        rc = cli_read_input(argv[optind], 1 << 20, &text, &eb);
    if (rc != CDX_OK)
        return audit_fail("check-proof", rc, &eb);
    cdx_proof p;
    int ec = CLI_OK;
    rc = cdx_proof_parse(&p, (const char *)text.data, text.len, &eb);
    if (rc == CDX_OK && p.inclusion) {
        cdx_checkpoint cp;
        cdx_log_entry e = {0};
        cdx_envelope *env = NULL;
        rc = cdx_proof_check_inclusion(&p, owner.sign_pk, &cp, &e, &eb);
        if (rc == CDX_OK) {
            char when[CDX_TIME_TEXT_MAX];
            cdx_time_format(when, cp.time_s * 1000);
            printf("VALID: entry %llu of %s is in the tree of %llu entries that %s signed at "
                   "%s\n",
                   (unsigned long long)p.index, cp.origin, (unsigned long long)cp.size, owner.id,
                   when);
            if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
                const cdx_body *b = cdx_envelope_body(env);
                char hex[2 * CDX_HASH_BYTES + 1];
                cdx_hex_encode(hex, cdx_envelope_hash(env), CDX_HASH_BYTES);
                printf("  the entry: %s seq %llu on %s (%s), envelope hash %s,\n  received "
                       "from %s\n",
                       b->sender, (unsigned long long)b->seq, b->topic,
                       cdx_payload_kind_name(b->kind), hex, e.received_from);
                if (b->kind == CDX_PAYLOAD_ALERT)
                    printf("  alert %s: \"%s\"\n", b->alert.id, b->alert.title);
            }
        }
        cdx_envelope_destroy(&env);
        cdx_log_entry_clear(&e);
    } else if (rc == CDX_OK) {
        cdx_checkpoint a, b;
        if (!old_cp || !new_cp)
            rc = cdx_errf(&eb, CDX_ERR_INVALID, "a consistency proof needs --old and --new");
        if (rc == CDX_OK)
            rc = s_load_cp(&a, old_cp, owner.sign_pk, &eb);
        if (rc == CDX_OK)
            rc = s_load_cp(&b, new_cp, owner.sign_pk, &eb);
        if (rc == CDX_OK)
            rc = cdx_proof_check_consistency(&p, &a, &b, &eb);
        if (rc == CDX_OK)
            printf("VALID: %s at size %llu is a prefix of the same log at size %llu\n", a.origin,
                   (unsigned long long)a.size, (unsigned long long)b.size);
    }
    if (rc != CDX_OK) {
        fprintf(stderr, "cydex-audit check-proof: INVALID: %s\n", cdx_errbuf_msg(&eb, rc));
        ec = rc == CDX_ERR_FORMAT ? CLI_DATAERR : rc == CDX_ERR_INVALID ? CLI_USAGE : CLI_REFUSED;
    }
    cdx_proof_clear(&p);
    cdx_bytes_free(&text);
    return ec;
}
