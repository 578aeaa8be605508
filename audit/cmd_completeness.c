/* cydex-audit completeness: whether a log holds every envelope one sender
 * published up to a point, proven from the sender's own signed statements
 * (lib/completeness.c), or exactly which seqs it lacks. Exit 0 complete up
 * to the point; 1 seqs missing, or not provable that far. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cydex/clock.h"
#include "cydex/completeness.h"

static const char s_usage[] =
    "cydex-audit completeness LOGDIR --sender ID [--until SEQ|TIME] [--roster FILE] [--json]";

static void s_help(void)
{
    printf("usage: %s\n\n"
           "Proves that the log holds every envelope the sender ID published up to a point,\n"
           "from the sender's own signed statements, or names exactly which seqs it lacks.\n"
           "Each envelope a sender signs at seq S names seq S-1 by its hash (prev_hash), and\n"
           "its heartbeats state last_seq and last_hash; only envelopes whose signature\n"
           "verifies against the roster count.\n\n"
           "  --until SEQ   the point is seq SEQ (a whole number, 1 or more)\n"
           "  --until TIME  the point is everything the sender published up to TIME (RFC\n"
           "                3339, e.g. 2026-03-01T12:00:00Z); proven by the sender's first\n"
           "                signed statement made after TIME, at seq S: it had published\n"
           "                seqs 1..S-1 by then\n"
           "  (no --until)  the point is the highest seq any statement proves exists\n"
           "  --roster FILE the roster to check signatures with (else the log's own, with\n"
           "                a warning)\n"
           "  --json        one JSON object: verdict, target, complete_to, proven_to,\n"
           "                missing [{from, to, kind, proof}], claim, ...\n\n"
           "The first line is the verdict:\n"
           "  COMPLETE: EE 1..41 complete in LOG (...): chain unbroken from seq 1 to 41,\n"
           "            and EE's heartbeat (seq 42, entry #N) at T states last_seq 41 with\n"
           "            that hash (...)\n"
           "  INCOMPLETE: EE in LOG up to seq 50 (...): 5 seqs missing in 2 ranges; ...\n"
           "            then one line per missing range, with the statement proving it:\n"
           "            missing: seqs 5..6 (gap): EE's seq 7 (alert, ...) shows ...\n"
           "            missing: seqs 42..50 (withheld tail): EE's heartbeat ... states\n"
           "                     last_seq 50, and the log holds nothing after seq 41 but\n"
           "                     heartbeats\n"
           "            missing: seq 9 (fork): EE's seq 10 names another seq 9 than the one\n"
           "                     the log holds\n"
           "  NOT PROVABLE: ...: not provable past seq 41: no signed statement of EE covers\n"
           "            later seqs\n\n"
           "Exit 0 complete up to the point; 1 seqs missing, or not provable that far;\n"
           "64 usage; 65 malformed input, or a roster that does not match the log; 66 no\n"
           "such log or roster file; 74 I/O error.\n",
           s_usage);
}

int cmd_audit_completeness(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sender", required_argument, NULL, 's'}, {"until", required_argument, NULL, 'u'},
        {"roster", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *sender = NULL, *until = NULL, *roster_path = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': sender = optarg; break;
        case 'u': until = optarg; break;
        case 'r': roster_path = optarg; break;
        case 'j': json = true; break;
        case 'h': s_help(); return CLI_OK;
        default: return audit_usage("completeness", s_usage, "bad option");
        }
    }
    if (argc - optind != 1)
        return audit_usage("completeness", s_usage, "give one LOGDIR");
    if (!sender)
        return audit_usage("completeness", s_usage, "--sender ID is required");
    if (!cdx_id_valid(sender))
        return audit_usage("completeness", s_usage, "--sender: \"%s\" is not a member id", sender);
    cdx_completeness_opts o = {.sender = sender};
    if (until && cdx_parse_u64(until, &o.until_seq)) {
        if (o.until_seq == 0)
            return audit_usage("completeness", s_usage, "--until: seqs start at 1");
        o.has_until_seq = true;
    } else if (until) {
        /* A time must be RFC 3339 text: a bare number is a seq. */
        if (!strchr(until, 'T') || cdx_time_parse(until, &o.until_ms) != CDX_OK)
            return audit_usage("completeness", s_usage,
                               "--until: \"%s\" is neither a seq nor an RFC 3339 time "
                               "(e.g. 2026-03-01T12:00:00Z)",
                               until);
        o.has_until_time = true;
    }
    cdx_log *log = NULL;
    cdx_roster *roster = NULL;
    cdx_errbuf eb = {0};
    int ec = audit_open_log("completeness", argv[optind], &log);
    if (ec == CLI_OK)
        ec = audit_roster("completeness", log, roster_path, &roster);
    if (ec == CLI_OK) {
        cdx_err rc = cdx_audit_roster_fits(log, roster, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("completeness", rc, &eb);
    }
    if (ec == CLI_OK) {
        o.roster = roster;
        cdx_completeness r;
        cdx_err rc = cdx_completeness_check(log, &o, &r, &eb);
        char *text = NULL;
        if (rc == CDX_OK)
            rc = json ? cdx_completeness_json(&r, &text) : cdx_completeness_text(&r, &text);
        if (rc != CDX_OK) {
            ec = audit_fail("completeness", rc, &eb);
        } else {
            fputs(text, stdout);
            if (json)
                fputc('\n', stdout);
            ec = r.verdict == CDX_COMPLETE ? CLI_OK : CLI_REFUSED;
        }
        free(text);
    }
    cdx_roster_destroy(&roster);
    cdx_log_destroy(&log);
    return ec;
}
