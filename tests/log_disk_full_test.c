/* A full disk: a child appends batches to a log whose file may grow only a
 * little more (RLIMIT_FSIZE, the same failed write a full disk gives, and
 * one that needs no privilege to set up), until an append fails. The
 * failure must be an error the caller can act on, not a crash; a second try
 * must fail the same way; once space is freed (the limit raised) the same
 * open log must take the very batch that failed. The parent then checks
 * through the audit that the log holds every batch the child reported
 * committed, whole, with no gap, and nothing of the failed attempts. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"

#define BATCH 20
#define HEADROOM (256 * 1024) /* bytes the file may still grow by */

static fixture F;

static void s_say(int fd, const char *fmt, unsigned long long a, const char *b)
{
    char line[400];
    int len = snprintf(line, sizeof line, fmt, a, b);
    if (write(fd, line, (size_t)len) != len)
        _exit(6);
}

/* A batch of BATCH alerts from EE after seq, chained to prev. */
static void s_batch(uint64_t *seq, uint8_t prev[CDX_HASH_BYTES], cdx_envelope **envs,
                    cdx_log_append_in *in)
{
    for (int i = 0; i < BATCH; i++) {
        cdx_bytes raw = {0};
        uint8_t h[CDX_HASH_BYTES];
        ++*seq;
        if (fixture_sign_alert(F.ee, *seq, *seq > 1 ? prev : NULL, FIXTURE_T0 + *seq, 1000, &raw,
                               h) != CDX_OK ||
            cdx_envelope_verify(&envs[i], F.roster, raw.data, raw.len, NULL, NULL) != CDX_OK)
            _exit(4);
        cdx_bytes_free(&raw);
        memcpy(prev, h, CDX_HASH_BYTES);
        in[i] = (cdx_log_append_in){
            .env = envs[i], .received_at_ms = FIXTURE_T0, .received_from = "EE"};
    }
}

/* The child: appends until the disk is "full", tries again, frees space,
 * appends the failed batch. Reports each step on out_fd. */
static void s_child(const char *dir, int out_fd)
{
    char data[400];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha"};
    struct stat st;
    if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK || stat(data, &st) != 0)
        _exit(3);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
    struct rlimit lim;
    getrlimit(RLIMIT_FSIZE, &lim);
    rlim_t hard = lim.rlim_max;
    lim.rlim_cur = (rlim_t)st.st_size + HEADROOM;
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        _exit(7);
    uint64_t seq = 0;
    uint8_t prev[CDX_HASH_BYTES] = {0};
    cdx_envelope *envs[BATCH];
    cdx_log_append_in in[BATCH];
    cdx_log_append_out out[BATCH];
    cdx_errbuf eb = {0};
    cdx_err rc = CDX_OK;
    for (int round = 0; round < 1000 && rc == CDX_OK; round++) {
        s_batch(&seq, prev, envs, in);
        rc = cdx_log_append(log, in, BATCH, out, &eb);
        if (rc == CDX_OK) {
            s_say(out_fd, "ok %llu%s\n", (unsigned long long)seq, "");
            for (int i = 0; i < BATCH; i++)
                cdx_envelope_destroy(&envs[i]);
        }
    }
    if (rc == CDX_OK)
        _exit(8); /* never filled up */
    s_say(out_fd, "full %llu %s\n", (unsigned long long)rc, eb.msg);
    eb.msg[0] = '\0';
    rc = cdx_log_append(log, in, BATCH, out, &eb);
    s_say(out_fd, "again %llu %s\n", (unsigned long long)rc, eb.msg);
    lim.rlim_cur = hard; /* space is freed */
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        _exit(9);
    eb.msg[0] = '\0';
    rc = cdx_log_append(log, in, BATCH, out, &eb);
    if (rc == CDX_OK && out[0].status == CDX_APPEND_STORED &&
        out[BATCH - 1].status == CDX_APPEND_STORED)
        s_say(out_fd, "resumed %llu%s\n", (unsigned long long)seq, "");
    else
        s_say(out_fd, "stuck %llu %s\n", (unsigned long long)rc, eb.msg);
    for (int i = 0; i < BATCH; i++)
        cdx_envelope_destroy(&envs[i]);
    cdx_log_destroy(&log);
    _exit(0);
}

int main(void)
{
    fixture_init(&F);
    char dir[256], log_dir[300];
    fixture_tmpdir(dir);
    snprintf(log_dir, sizeof log_dir, "%s/log", dir);
    int from_child;
    pid_t pid = fixture_fork(s_child, log_dir, &from_child);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    char buf[65536];
    fixture_read_all(from_child, buf, sizeof buf);
    close(from_child);

    /* What the child saw: some batches in, then a clear error twice, then
     * the failed batch in once space was freed. */
    uint64_t committed = 0, resumed = 0, oks = 0;
    char full[400] = "", again[400] = "";
    unsigned long long code_full = 0, code_again = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "ok ", 3) == 0) {
            committed = strtoull(line + 3, NULL, 10);
            oks++;
        } else if (sscanf(line, "full %llu", &code_full) == 1) {
            snprintf(full, sizeof full, "%s", line);
        } else if (sscanf(line, "again %llu", &code_again) == 1) {
            snprintf(again, sizeof again, "%s", line);
        } else if (strncmp(line, "resumed ", 8) == 0) {
            resumed = strtoull(line + 8, NULL, 10);
        } else {
            fprintf(stderr, "child: %s\n", line);
        }
    }
    CHECK(oks > 0);
    /* Says what failed and why, not "Input/output error". */
    CHECK_EQ(code_full, CDX_ERR_NOSPACE);
    CHECK(strstr(full, "log: commit: ") != NULL);
    CHECK(strstr(full, "file size limit") != NULL);
    CHECK_EQ(code_again, CDX_ERR_NOSPACE);
    CHECK_EQ(resumed, committed + BATCH);
    printf("log_disk_full_test: %llu entries in before the disk filled; \"%s\"\n",
           (unsigned long long)committed, full);

    /* The log: everything committed, the resumed batch once, no gap, and it
     * verifies. */
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, log_dir, &ro, NULL) == CDX_OK);
    uint64_t size = 0;
    REQUIRE(cdx_log_size(log, &size) == CDX_OK);
    CHECK_EQ(size, resumed);
    cdx_audit_opts ao = {.roster = F.roster, .threads = 2};
    cdx_audit_report rep;
    REQUIRE(cdx_audit_verify(log, &ao, &rep, NULL) == CDX_OK);
    if (!rep.pass)
        fprintf(stderr, "audit: %s\n", rep.reason);
    CHECK(rep.pass);
    CHECK_EQ(rep.verified, resumed);
    CHECK_EQ(rep.gaps, 0);
    CHECK_EQ(rep.equivocations, 0);
    cdx_log_destroy(&log);
    fixture_free(&F);
    int rc = check_done("log_disk_full_test");
    if (rc == 0)
        fixture_rmtree(dir);
    return rc;
}
