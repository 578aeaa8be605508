/* cydex-audit: the auditor's tool. Offline and read-only: it opens a copy
 * of any node's or broker's log and never needs a daemon.
 *
 * Exit codes (README, `cydex-audit --help`): 0 verified / valid, nothing
 * amiss; 1 FAIL: tampering, damage, inconsistency, or an invalid proof;
 * 2 EVIDENCE: the log (verify) or the two logs (diff) are intact, and
 * prove that a member misbehaved (equivocation, an inconsistent tree
 * head); 64 usage; 65 malformed input, or a roster that is not the log's
 * federation's; 66 no such log or file; 74 I/O error.
 */
#ifndef CYDEX_AUDIT_TOOL_H
#define CYDEX_AUDIT_TOOL_H

#include "../cli/cli.h"
#include "cydex/audit.h"
#include "cydex/checkpoint.h"
#include "cydex/log.h"
#include "cydex/merkle.h"

#if defined(__GNUC__)
#define CDX__AUDIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CDX__AUDIT_PRINTF(f, a)
#endif

/* Exit 2: intact, and proof of a member's misbehaviour. */
#define AUDIT_EVIDENCE 2

/* "cydex-audit CMD: <message>" and the usage line; returns CLI_USAGE. */
int audit_usage(const char *cmd, const char *usage, const char *fmt, ...) CDX__AUDIT_PRINTF(3, 4);

/* "cydex-audit CMD: <detail>"; returns the exit code for rc. */
int audit_fail(const char *cmd, cdx_err rc, const cdx_errbuf *eb);

/* Opens a log read-only; prints the error and returns its exit code.
 * Once it is open, a fault while reading it (see audit_fault_guard) ends
 * the program with exit 1. */
int audit_open_log(const char *cmd, const char *dir, cdx_log **out);

/* The roster to judge by: the file if given (checked as a trust anchor),
 * else the oldest one stored in the log, with a warning. For any command
 * but "verify" (which follows the history entry by entry), the newest of
 * the log's roster history that descends from it by valid steps. */
int audit_roster(const char *cmd, cdx_log *log, const char *path, cdx_roster **out);

/* From now on, SIGSEGV, SIGBUS and SIGABRT (LMDB's assertions) end the
 * program with exit 1 and "cydex-audit CMD: FAIL: DIR is damaged ...":
 * with LMDB, a page altered on disk can do that. */
void audit_fault_guard(const char *cmd, const char *dir);

int cmd_audit_verify(int argc, char **argv);
int cmd_audit_replay(int argc, char **argv);
int cmd_audit_checkpoint(int argc, char **argv);
int cmd_audit_prove(int argc, char **argv);
int cmd_audit_check_proof(int argc, char **argv);
int cmd_audit_diff(int argc, char **argv);
int cmd_audit_report(int argc, char **argv);
int cmd_audit_receipts(int argc, char **argv);
int cmd_audit_check_receipt(int argc, char **argv);
int cmd_audit_completeness(int argc, char **argv);
int cmd_audit_evidence(int argc, char **argv);
int cmd_audit_check_evidence(int argc, char **argv);

#endif
