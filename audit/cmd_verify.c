/* cydex-audit verify: the verdict on a log.
 *
 * Three verdicts, each with its exit code: PASS (0), the log is intact;
 * PASS (log intact) with EVIDENCE (2), intact, and it proves that a member
 * misbehaved, which is the member's doing and not the log's; FAIL (1), the
 * log is not what its owner wrote. A roster that is not the log's
 * federation's gives no verdict at all (65): against it every entry would
 * read as forged. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

static const char s_usage[] =
    "cydex-audit verify LOGDIR [--roster FILE] [--checkpoint FILE] [--threads N] [--json]";

static void s_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    fprintf(stderr, "\rverifying: %llu of %llu entries (%3.0f%%)", (unsigned long long)done,
            (unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
    if (done == total)
        fprintf(stderr, "\n");
}

static void s_print_evidence(const cdx_audit_report *r)
{
    for (uint64_t i = 0; i < r->evidence_count && i < CDX_AUDIT_MAX_EVIDENCE; i++) {
        const cdx_audit_evidence *e = &r->evidence[i];
        if (e->kind == CDX_AUDIT_EQUIVOCATION)
            printf("EVIDENCE: %s equivocated at seq %llu (entries %llu and %llu): two different "
                   "envelopes, both signed by %s\n",
                   e->sender, (unsigned long long)e->seq, (unsigned long long)e->first,
                   (unsigned long long)e->second, e->sender);
        else
            printf("EVIDENCE: %s equivocated at seq %llu (entries %llu and %llu): its seq %llu at "
                   "entry %llu follows another seq %llu than the one at entry %llu, both signed by "
                   "%s\n",
                   e->sender, (unsigned long long)e->seq, (unsigned long long)e->first,
                   (unsigned long long)e->second, (unsigned long long)e->seq + 1,
                   (unsigned long long)e->second, (unsigned long long)e->seq,
                   (unsigned long long)e->first, e->sender);
    }
    if (r->evidence_count > CDX_AUDIT_MAX_EVIDENCE)
        printf("EVIDENCE: ... %llu more\n",
               (unsigned long long)(r->evidence_count - CDX_AUDIT_MAX_EVIDENCE));
}

static void s_print_text(const cdx_log *log, const cdx_audit_report *r)
{
    if (r->pass && r->evidence_count) {
        printf("PASS (log intact) with EVIDENCE: %s, entries 0..%lld (%llu) verified; they prove "
               "that %s misbehaved\n",
               cdx_log_origin(log), (long long)r->entries - 1, (unsigned long long)r->entries,
               r->evidence_count == 1 ? "a member" : "members");
        s_print_evidence(r);
    } else if (r->pass && !r->entries)
        printf("PASS: %s, no entries (an empty log)\n", cdx_log_origin(log));
    else if (r->pass)
        printf("PASS: %s, entries 0..%lld (%llu) verified\n", cdx_log_origin(log),
               (long long)r->entries - 1, (unsigned long long)r->entries);
    else if (r->has_bad && !r->verified)
        printf("FAIL at entry %llu: %s\n      no entry verified before it\n",
               (unsigned long long)r->first_bad, r->reason);
    else if (r->has_bad)
        printf("FAIL at entry %llu: %s\n      entries 0..%lld verified before it\n",
               (unsigned long long)r->first_bad, r->reason, (long long)r->verified - 1);
    else
        printf("FAIL: %s\n", r->reason);
    printf("  roster: v%llu\n", (unsigned long long)r->roster_version);
    if (r->checkpoints)
        printf("  checkpoints: %llu signed checkpoint%s checked, the last at size %llu",
               (unsigned long long)r->checkpoints, r->checkpoints == 1 ? "" : "s",
               (unsigned long long)r->last_checkpoint);
    else
        printf("  checkpoints: none: nothing here is covered by a signed checkpoint");
    if (r->checkpoints && r->entries > r->last_checkpoint)
        printf("; %llu later entr%s not yet covered by one",
               (unsigned long long)(r->entries - r->last_checkpoint),
               r->entries - r->last_checkpoint == 1 ? "y is" : "ies are");
    printf("\n  senders: %llu; equivocations kept as evidence: %llu\n",
           (unsigned long long)r->senders, (unsigned long long)r->equivocations);
    if (r->receipts)
        printf("  brokers' receipts kept: %llu%s\n", (unsigned long long)r->receipts,
               r->pass ? ", each one verified" : "");
    if (r->gaps) {
        printf("  gaps (seqs never received): %llu:", (unsigned long long)r->gaps);
        for (uint64_t i = 0; i < r->gaps && i < CDX_AUDIT_MAX_GAPS; i++)
            printf(" %s %llu-%llu", r->gap[i].sender, (unsigned long long)r->gap[i].from,
                   (unsigned long long)r->gap[i].to);
        printf("%s\n", r->gaps > CDX_AUDIT_MAX_GAPS ? " ..." : "");
    }
}

int cmd_audit_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"roster", required_argument, NULL, 'r'},  {"checkpoint", required_argument, NULL, 'c'},
        {"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *roster_path = NULL, *cp_path = NULL;
    bool json = false;
    uint64_t threads = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roster_path = optarg; break;
        case 'c': cp_path = optarg; break;
        case 'j': json = true; break;
        case 't':
            if (!cdx_parse_u64(optarg, &threads) || threads == 0 || threads > 64)
                return audit_usage("verify", s_usage, "--threads takes 1 to 64");
            break;
        case 'h':
            printf("usage: %s\n\n"
                   "Verifies every entry's signature against the roster in force at its place\n"
                   "in the log, with the signer's key valid at the envelope's sent_at (a rotated\n"
                   "key's old envelopes verify; what it signed after the rotation does not),\n"
                   "each sender's seq continuity and hash chain, every leaf\n"
                   "against the stored tree, and the rebuilt tree against every signed\n"
                   "checkpoint (stored, and --checkpoint from elsewhere), after checking that\n"
                   "the roster is the log's federation's; then the brokers' receipts a node's\n"
                   "log keeps for its own envelopes: each broker's signature against the\n"
                   "roster, each item naming an entry of the log, the receipt index agreeing\n"
                   "with the receipts (status, the broker's log index); and that every alert\n"
                   "above TLP:GREEN is sealed, none at or below it, and each message is on its\n"
                   "topic (a breach is a FAIL at that entry). The verdict:\n"
                   "  PASS                          the log is intact (exit 0)\n"
                   "  PASS (log intact) with EVIDENCE\n"
                   "                                the log is intact and proves that a member\n"
                   "                                misbehaved: one EVIDENCE line each, e.g.\n"
                   "                                \"EVIDENCE: EE equivocated at seq 7 (entries\n"
                   "                                12 and 15)\": EE signed two different\n"
                   "                                envelopes for seq 7, both in the log, or a\n"
                   "                                seq 8 (entry 15) that follows another seq 7\n"
                   "                                than the one stored (entry 12) (exit 2)\n"
                   "  FAIL at entry N: WHY          tampering or damage: the first bad entry and\n"
                   "                                the range verified before it, or the bad\n"
                   "                                stored receipt (exit 1)\n"
                   "A roster of another federation gives no verdict: \"the roster does not\n"
                   "match this log\", exit 65.\n\n"
                   "The roster: --roster FILE (a trust anchor), or a chain v1.bin,v2.bin (each a\n"
                   "valid successor of the one before); without it, the oldest roster the log\n"
                   "keeps, with a warning. The later versions the log kept (each one its owner\n"
                   "put in force) take over from the entry they were in force for, each only if\n"
                   "it is signed by the admins of the roster in force there; so do roster\n"
                   "updates among the entries.\n\n--json prints {\"verdict\": \"PASS\" | "
                   "\"EVIDENCE\"\n"
                   "| \"FAIL\", \"intact\": ..., \"evidence\": [...], ...}.\n"
                   "Exit 0 PASS, 1 FAIL, 2 EVIDENCE, 64 usage, 65 malformed input or a roster\n"
                   "that does not match, 66 no such log, 74 I/O error.\n",
                   s_usage);
            return CLI_OK;
        default: return audit_usage("verify", s_usage, "bad option");
        }
    }
    if (argc - optind != 1)
        return audit_usage("verify", s_usage, "give one LOGDIR");
    cdx_log *log = NULL;
    cdx_roster *roster = NULL;
    cdx_bytes cp = {0};
    int ec = audit_open_log("verify", argv[optind], &log);
    if (ec == CLI_OK)
        ec = audit_roster("verify", log, roster_path, &roster);
    cdx_errbuf eb = {0};
    if (ec == CLI_OK && cp_path) {
        cdx_err rc = cli_read_input(cp_path, 65536, &cp, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("verify", rc, &eb);
    }
    if (ec == CLI_OK) {
        cdx_audit_opts o = {.roster = roster,
                            .extra_checkpoint = (const char *)cp.data,
                            .threads = (unsigned)threads,
                            .progress = isatty(STDERR_FILENO) ? s_progress : NULL};
        cdx_audit_report r;
        cdx_err rc = cdx_audit_verify(log, &o, &r, &eb);
        if (rc != CDX_OK) {
            ec = audit_fail("verify", rc, &eb);
        } else {
            char *text = NULL;
            if (!json)
                s_print_text(log, &r);
            else if (cdx_json_from_audit_report(&text, cdx_log_origin(log), &r) == CDX_OK)
                printf("%s\n", text);
            free(text);
            ec = !r.pass ? CLI_REFUSED : r.evidence_count ? AUDIT_EVIDENCE : CLI_OK;
        }
    }
    cdx_bytes_free(&cp);
    cdx_roster_destroy(&roster);
    cdx_log_destroy(&log);
    return ec;
}
