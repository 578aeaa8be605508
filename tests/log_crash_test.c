/* Crash safety: a child appends batches of 20 to a log in a loop and
 * reports each commit on a pipe; the parent kills it with SIGKILL at a
 * random moment, many times. After each kill the log must open, pass the
 * audit, hold every batch the child reported committed, and hold whole
 * batches only. The next child resumes the chain from what the log holds. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"

#define ROUNDS 25
#define BATCH 20

static fixture F;

/* The child: never returns; the parent kills it. */
static void s_child(const char *dir, int out_fd)
{
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha", .map_initial = 1 << 20};
    if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK)
        _exit(3);
    cdx_log_sender *s = NULL;
    size_t n = 0;
    uint64_t seq = 0;
    uint8_t prev[CDX_HASH_BYTES] = {0};
    if (cdx_log_senders(log, &s, &n) == CDX_OK && n == 1) {
        seq = s[0].max_seq;
        memcpy(prev, s[0].max_hash, sizeof prev);
    }
    free(s);
    for (unsigned round = 0; round < 1000000; round++) {
        cdx_envelope *envs[BATCH];
        cdx_log_append_in in[BATCH];
        cdx_log_append_out out[BATCH];
        for (int i = 0; i < BATCH; i++) {
            cdx_bytes raw = {0};
            uint8_t h[CDX_HASH_BYTES];
            seq++;
            if (fixture_sign_alert(F.ee, seq, seq > 1 ? prev : NULL, FIXTURE_T0 + seq, 200, &raw,
                                   h) != CDX_OK ||
                cdx_envelope_verify(&envs[i], F.roster, raw.data, raw.len, NULL, NULL) != CDX_OK)
                _exit(4);
            cdx_bytes_free(&raw);
            memcpy(prev, h, sizeof h);
            in[i] = (cdx_log_append_in){
                .env = envs[i], .received_at_ms = FIXTURE_T0, .received_from = "EE"};
        }
        if (cdx_log_append(log, in, BATCH, out, NULL) != CDX_OK)
            _exit(5);
        for (int i = 0; i < BATCH; i++)
            cdx_envelope_destroy(&envs[i]);
        /* Committed and durable: only now say so. */
        char line[32];
        int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)seq);
        if (write(out_fd, line, (size_t)len) != len)
            _exit(6);
    }
    _exit(0);
}

/* The highest count the child reported (it counts from seq 1). */
static uint64_t s_last_reported(int fd)
{
    char buf[65536];
    fixture_read_all(fd, buf, sizeof buf);
    uint64_t last = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        last = strtoull(line, NULL, 10);
    return last;
}

int main(void)
{
    fixture_init(&F);
    char dir[256], log_dir[300];
    fixture_tmpdir(dir);
    snprintf(log_dir, sizeof log_dir, "%s/log", dir);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    uint64_t reported = 0, kills = 0, partial = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int from_child;
        pid_t pid = fixture_fork(s_child, log_dir, &from_child);
        struct timespec nap = {0, (long)(5 + rand() % 120) * 1000000L};
        nanosleep(&nap, NULL);
        kill(pid, SIGKILL);
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        kills += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        if (WIFEXITED(status))
            fprintf(stderr, "child exited by itself with %d\n", WEXITSTATUS(status));
        uint64_t last = s_last_reported(from_child);
        close(from_child);
        if (last > reported)
            reported = last;

        cdx_log *log = NULL;
        cdx_log_opts ro = {.read_only = true};
        REQUIRE(cdx_log_new(&log, log_dir, &ro, NULL) == CDX_OK);
        uint64_t size = 0;
        REQUIRE(cdx_log_size(log, &size) == CDX_OK);
        CHECK(size >= reported); /* nothing confirmed is lost */
        partial += size % BATCH; /* and no batch is half there */
        cdx_audit_opts ao = {.roster = F.roster, .threads = 2};
        cdx_audit_report r;
        REQUIRE(cdx_audit_verify(log, &ao, &r, NULL) == CDX_OK);
        if (!r.pass)
            fprintf(stderr, "round %d: %s\n", round, r.reason);
        CHECK(r.pass);
        CHECK_EQ(r.verified, size);
        CHECK_EQ(r.gaps, 0);
        cdx_log_destroy(&log);
        reported = size; /* the next child resumes from here */
    }
    CHECK_EQ(partial, 0);
    CHECK_EQ(kills, ROUNDS);
    CHECK(reported > 0);
    printf("log_crash_test: %d SIGKILLs, %llu entries survived in whole batches\n", ROUNDS,
           (unsigned long long)reported);
    fixture_free(&F);
    int rc = check_done("log_crash_test");
    if (rc == 0)
        fixture_rmtree(dir);
    return rc;
}
