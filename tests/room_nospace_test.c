/* Room (zeros written ahead of a log's last page, lib/log_room.c) is an
 * optimization, never a reason to fail. A child (this program again, with
 * tests/nospace_shim.c preloaded) makes 300 small commits while the disk
 * takes 256 KiB of the first room's zeros, then refuses the rest with
 * ENOSPC: every append must succeed, the zeros must be tried once (not
 * again at every commit), the file cut back to the log's own pages (the
 * zeros written before the refusal gone), and the log must audit whole. The same child with
 * nothing refused makes room, so the test tells the two apart. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"

#define COMMITS 300

static fixture F;
static char s_root[256];

static const char *s_p(const char *name)
{
    static char path[2][400];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", s_root, name);
    return path[k];
}

static uint64_t s_file_length(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The child: COMMITS commits of one alert each; exit 0 if all succeeded
 * and, in the append that had its zeros refused, data.mdb grew by less
 * than the zeros the disk took before refusing (they were cut back). */
static int s_child(const char *dir)
{
    const char *mark = getenv("CDX_TEST_NOSPACE_MARK");
    char data[400];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    bool refused = false;
    fixture_init(&F);
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha"};
    if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK)
        return 3;
    uint8_t prev[CDX_HASH_BYTES], h[CDX_HASH_BYTES];
    int failed = 0;
    for (uint64_t seq = 1; seq <= COMMITS; seq++) {
        cdx_bytes raw = {0};
        cdx_envelope *env = NULL;
        if (fixture_sign_alert(F.de, seq, seq > 1 ? prev : NULL, FIXTURE_T0 + seq, 300, &raw, h) !=
                CDX_OK ||
            cdx_envelope_verify(&env, F.roster, raw.data, raw.len, NULL, NULL) != CDX_OK)
            return 5;
        memcpy(prev, h, sizeof prev);
        cdx_log_append_in in = {.env = env, .received_at_ms = FIXTURE_T0, .received_from = "DE"};
        cdx_log_append_out out;
        cdx_errbuf eb = {0};
        uint64_t before = s_file_length(data);
        if (cdx_log_append(log, &in, 1, &out, &eb) != CDX_OK) {
            fprintf(stderr, "append %llu: %s\n", (unsigned long long)seq, eb.msg);
            failed++;
        }
        if (mark && !refused && s_file_length(mark) > 0) {
            refused = true;
            uint64_t after = s_file_length(data);
            if (after >= before + 256 * 1024) {
                fprintf(stderr, "the refused room was left in place: %llu -> %llu bytes\n",
                        (unsigned long long)before, (unsigned long long)after);
                failed++;
            }
        }
        cdx_envelope_destroy(&env);
        cdx_bytes_free(&raw);
    }
    cdx_log_destroy(&log);
    fixture_free(&F);
    return failed ? 4 : 0;
}

/* Runs the child on dir with the shim preloaded; mark: the file the shim
 * creates when it refuses (NULL: it refuses nothing). */
static void s_run_child(const char *self, const char *dir, const char *mark)
{
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[512];
    snprintf(asan_opts, sizeof asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && asan[0] ? ":" : "");
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", CDX_NOSPACE_SHIM, 1);
        setenv("ASAN_OPTIONS", asan_opts, 1);
        if (mark) {
            setenv("CDX_TEST_NOSPACE_MARK", mark, 1);
            setenv("CDX_TEST_NOSPACE_AFTER", "4", 1); /* 4 x 64 KiB */
        }
        execl(self, self, "child", dir, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void s_check_audit(const char *dir)
{
    cdx_log *log = NULL;
    cdx_log_opts o = {.read_only = true};
    REQUIRE(cdx_log_new(&log, dir, &o, NULL) == CDX_OK);
    cdx_audit_opts ao = {.roster = F.roster, .threads = 1};
    cdx_audit_report r;
    CHECK_EQ(cdx_audit_verify(log, &ao, &r, NULL), CDX_OK);
    CHECK(r.pass);
    CHECK_EQ(r.verified, COMMITS);
    cdx_log_destroy(&log);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return s_child(argv[2]);
    fixture_tmpdir(s_root);
    struct statvfs fs; /* room never takes a disk's last 64 MiB */
    if (statvfs(s_root, &fs) != 0 || (uint64_t)fs.f_bavail * fs.f_frsize < ((uint64_t)256 << 20)) {
        fprintf(stderr, "room_nospace_test: under 256 MiB free in %s: skipped\n", s_root);
        fixture_rmtree(s_root);
        return 77;
    }
    fixture_init(&F);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = '\0';
    uint64_t used, length;
    struct stat st;

    /* The disk refuses the zeros. */
    s_run_child(self, s_p("refused"), s_p("refusals"));
    REQUIRE(stat(s_p("refusals"), &st) == 0);
    CHECK_EQ(st.st_size, 1); /* tried once: not again within the minute */
    fixture_log_use(s_p("refused"), &used, &length);
    CHECK(length < used + 256 * 1024); /* cut back: the zeros taken are gone */
    s_check_audit(s_p("refused"));

    /* Nothing refused: the same commits make room. */
    s_run_child(self, s_p("room"), NULL);
    fixture_log_use(s_p("room"), &used, &length);
    CHECK(length >= used + 256 * 1024);
    s_check_audit(s_p("room"));

    fixture_free(&F);
    int rc = check_done("room_nospace_test");
    if (rc == 0)
        fixture_rmtree(s_root);
    else
        fprintf(stderr, "files kept in %s\n", s_root);
    return rc;
}
