/* cydex-audit verify: the verdict on a log. */
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

static void s_print_text(const cdx_log *log, const cdx_audit_report *r)
{
    if (r->pass && !r->entries)
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
                return cli_usage("verify", s_usage, "--threads takes 1 to 64");
            break;
        case 'h':
            printf("usage: %s\n\n"
                   "Verifies every entry's signature against the roster in force at its place\n"
                   "in the log, each sender's seq continuity and hash chain, every leaf\n"
                   "against the stored tree, and the rebuilt tree against every signed\n"
                   "checkpoint (stored, and --checkpoint from elsewhere); then the brokers'\n"
                   "receipts a node's log keeps for its own envelopes: each broker's signature\n"
                   "against the roster, each item naming an entry of the log, the receipt\n"
                   "index agreeing with the receipts (status, the broker's log index); and\n"
                   "that every alert above TLP:GREEN is sealed, none at or below it, and each\n"
                   "message is on its topic. Prints PASS or FAIL with the range verified and\n"
                   "the first bad entry (or the bad receipt). Exit 0 PASS, 1 FAIL.\n",
                   s_usage);
            return CLI_OK;
        default: return cli_usage("verify", s_usage, "bad option");
        }
    }
    if (argc - optind != 1)
        return cli_usage("verify", s_usage, "give one LOGDIR");
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
            ec = cli_fail("verify", rc, &eb);
    }
    if (ec == CLI_OK) {
        cdx_audit_opts o = {.roster = roster,
                            .extra_checkpoint = (const char *)cp.data,
                            .threads = (unsigned)threads,
                            .progress = isatty(STDERR_FILENO) ? s_progress : NULL};
        cdx_audit_report r;
        cdx_err rc = cdx_audit_verify(log, &o, &r, &eb);
        if (rc != CDX_OK) {
            ec = cli_fail("verify", rc, &eb);
        } else {
            char *text = NULL;
            if (!json)
                s_print_text(log, &r);
            else if (cdx_json_from_audit_report(&text, cdx_log_origin(log), &r) == CDX_OK)
                printf("%s\n", text);
            free(text);
            ec = r.pass ? CLI_OK : CLI_REFUSED;
        }
    }
    cdx_bytes_free(&cp);
    cdx_roster_destroy(&roster);
    cdx_log_destroy(&log);
    return ec;
}
