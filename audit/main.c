/* cydex-audit: dispatch and the helpers its commands share. Every message
 * names the program as cydex-audit (the cydex command's helpers say
 * "cydex"), and the exit codes are the ones audit.h lists. */
#include <stdarg.h>
#include <string.h>

#include "audit.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} s_commands[] = {
    {"verify", cmd_audit_verify,
     "check signatures, chains, tree, checkpoints: PASS, EVIDENCE, FAIL"},
    {"replay", cmd_audit_replay, "print entries in log order, decoded (JSON lines or text)"},
    {"checkpoint", cmd_audit_checkpoint, "print the log's signed checkpoint(s)"},
    {"prove", cmd_audit_prove, "print an inclusion or consistency proof"},
    {"check-proof", cmd_audit_check_proof, "check a proof as a third party would"},
    {"diff", cmd_audit_diff, "compare two parties' logs: missing, unacked, equivocation"},
    {"report", cmd_audit_report, "the federation's traffic: text, --json, or an --html report"},
    {"completeness", cmd_audit_completeness,
     "prove a log holds all a sender published, or name the seqs missing"},
    {"receipts", cmd_audit_receipts, "the brokers' receipts kept for an alert, verified"},
    {"check-receipt", cmd_audit_check_receipt, "check a receipt file as a third party would"},
    {"evidence", cmd_audit_evidence, "bundle the proof of an alert's notification in one file"},
    {"check-evidence", cmd_audit_check_evidence,
     "check an evidence bundle offline; print the claims it proves"},
};

static void s_help(FILE *out)
{
    fprintf(out, "usage: cydex-audit COMMAND LOGDIR [OPTIONS]\n\n"
                 "Audits a copy of a CyDEx node's or broker's log, read-only, offline.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        fprintf(out, "  %-13s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\n'cydex-audit COMMAND --help' shows a command's options.\n\n"
                 "exit codes:\n"
                 "  0  PASS: verified, or a valid proof; nothing amiss\n"
                 "  1  FAIL: tampering, damage or inconsistency in a log, or an invalid proof\n"
                 "  2  EVIDENCE: proof, by a member's own signatures, that it misbehaved (it\n"
                 "     equivocated, or signed a tree head its log does not match), in an\n"
                 "     intact log (verify) or between two logs (diff)\n"
                 "  (completeness: 0 complete up to the point; 1 seqs missing, or not\n"
                 "  provable that far)\n"
                 "  64 usage; 65 malformed input, or a roster that does not match the log\n"
                 "  (another federation's); 66 no such log or file; 73 would overwrite;\n"
                 "  74 I/O error\n");
}

int audit_usage(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cydex-audit %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", usage);
    va_end(ap);
    return CLI_USAGE;
}

int audit_fail(const char *cmd, cdx_err rc, const cdx_errbuf *eb)
{
    fprintf(stderr, "cydex-audit %s: %s\n", cmd, cdx_errbuf_msg(eb, rc));
    return cli_exit_code(rc);
}

int audit_open_log(const char *cmd, const char *dir, cdx_log **out)
{
    cdx_errbuf eb = {0};
    cdx_log_opts o = {.read_only = true};
    cdx_err rc = cdx_log_new(out, dir, &o, &eb);
    if (rc == CDX_OK) {
        audit_fault_guard(cmd, dir);
        return CLI_OK;
    }
    fprintf(stderr, "cydex-audit %s: %s\n", cmd, cdx_errbuf_msg(&eb, rc));
    return rc == CDX_ERR_NOENT                             ? CLI_NOINPUT
           : rc == CDX_ERR_FORMAT || rc == CDX_ERR_VERSION ? CLI_DATAERR
                                                           : CLI_IOERR;
}

/* From *r on, the log's roster history as far as each version is a valid
 * successor of the one before: the newest such, which lists every key
 * with its window (what a command that does not walk the log needs). */
static void s_follow_history(cdx_log *log, cdx_roster **r)
{
    cdx_log_roster *h = NULL;
    size_t n = 0;
    if (cdx_log_rosters(log, &h, &n) != CDX_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        cdx_roster *next = NULL;
        if (h[i].version > cdx_roster_version(*r) &&
            cdx_roster_decode_next(&next, h[i].roster.data, h[i].roster.len, *r, NULL) == CDX_OK) {
            cdx_roster_destroy(r);
            *r = next;
        }
    }
    cdx_log_rosters_free(h, n);
}

int audit_roster(const char *cmd, cdx_log *log, const char *path, cdx_roster **out)
{
    cdx_errbuf eb = {0};
    cdx_err rc;
    if (path) {
        rc = cli_load_trusted_roster(out, path, &eb);
    } else {
        /* The oldest roster the log kept, as its own trust anchor: the
         * later ones the audit follows from there (each must be signed by
         * the admins of the one before). A log of an older cydex keeps
         * only the last. */
        cdx_log_roster *h = NULL;
        size_t nh = 0;
        cdx_bytes b = {0};
        rc = cdx_log_rosters(log, &h, &nh);
        if (rc == CDX_OK && nh) {
            b = h[0].roster;
            h[0].roster = (cdx_bytes){0};
        } else if (rc == CDX_OK) {
            rc = cdx_log_get_roster(log, &b);
        }
        cdx_log_rosters_free(h, nh);
        if (rc == CDX_OK)
            rc = cdx_roster_decode(out, b.data, b.len, &eb);
        cdx_bytes_free(&b);
        if (rc == CDX_OK)
            rc = cdx_roster_verify(*out, NULL, &eb);
        if (rc == CDX_OK)
            fprintf(stderr,
                    "cydex-audit %s: judging by the roster stored in the log (v%llu, and the "
                    "later versions it kept); pass --roster FILE to judge by one you trust\n",
                    cmd, (unsigned long long)cdx_roster_version(*out));
        else if (rc == CDX_ERR_NOENT)
            cdx_errf(&eb, rc, "the log stores no roster: pass --roster FILE");
    }
    if (rc == CDX_OK && strcmp(cmd, "verify") != 0) /* verify walks the history itself */
        s_follow_history(log, out);
    if (rc == CDX_OK)
        return CLI_OK;
    cdx_roster_destroy(out);
    fprintf(stderr, "cydex-audit %s: %s\n", cmd, cdx_errbuf_msg(&eb, rc));
    return rc == CDX_ERR_NOENT ? CLI_NOINPUT : CLI_REFUSED;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_help(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_help(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cydex-audit: unknown command '%s'\n\n", argv[1]);
    s_help(stderr);
    return CLI_USAGE;
}
