/* The auditor's report over a big log, against the audit of the same log:
 *
 *   builds a broker's log of --entries entries (default 1,000,000) of a
 *   federation of 30 states: each alert is followed by 9 other states'
 *   acknowledgements (random stages, latencies from seconds to a day);
 *   then runs, as separate processes, `cydex-audit verify LOG --roster R`
 *   and `cydex-audit report LOG --html FILE`, each timed (wall clock) with
 *   its peak memory (max RSS, from wait4).
 *
 * Targets: the report within 2x the time of verify, and under 256 MiB.
 *
 * Usage: bench_report [--entries N] [--dir DIR] [--keep]. DIR (default
 * /tmp) gets a fresh folder, removed at the end unless --keep.
 */
/* wait4, for the children's peak memory. */
#define _DEFAULT_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bare.h"
#include "cydex/cydex.h"
#include "cydex/log.h"

#define S_STATES 30
#define S_ACKS 9 /* per alert */

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct s_member {
    cdx_identity *id;
    uint64_t seq;
    uint8_t last[32];
} s_member;

static cdx_envelope *s_sign(s_member *m, cdx_body *b, const cdx_roster *r)
{
    b->seq = ++m->seq;
    b->has_prev_hash = b->seq > 1;
    memcpy(b->prev_hash, m->last, 32);
    cdx_bytes raw;
    cdx_envelope *e = NULL;
    if (cdx_envelope_sign(m->id, b, &raw, m->last, NULL) != CDX_OK ||
        cdx_envelope_verify(&e, r, raw.data, raw.len, NULL, NULL) != CDX_OK)
        abort();
    cdx_bytes_free(&raw);
    return e;
}

/* Runs argv, returns its wall time; *rss_kib its peak memory. */
static double s_child(char **argv, long *rss_kib, int *status)
{
    double t0 = s_now();
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execv(argv[0], argv);
        _exit(127);
    }
    struct rusage ru;
    if (pid < 0 || wait4(pid, status, 0, &ru) != pid)
        abort();
    *rss_kib = ru.ru_maxrss;
    return s_now() - t0;
}

int main(int argc, char **argv)
{
    static const char usage[] = "bench_report [--entries N] [--dir DIR] [--keep]";
    uint64_t want = 1000000;
    const char *base = NULL, *v;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--entries") == 0) {
            if (!bench_value(argc, argv, &i, true, &v))
                return bench_usage(usage, NULL);
            want = strtoull(v, NULL, 10);
        } else if (strcmp(argv[i], "--dir") == 0) {
            if (!bench_value(argc, argv, &i, false, &base))
                return bench_usage(usage, NULL);
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else {
            return bench_usage(usage, argv[i]);
        }
    }
    if (sodium_init() < 0)
        return 1;
    char root[512], dir[600], roster_path[600], html[600], bin[600];
    snprintf(root, sizeof root, "%s/cydex-bench-report-%d", base ? base : "/tmp", (int)getpid());
    mkdir(root, 0700);
    snprintf(dir, sizeof dir, "%s/log", root);
    snprintf(roster_path, sizeof roster_path, "%s/roster.bin", root);
    snprintf(html, sizeof html, "%s/report.html", root);
    /* cydex-audit beside this program. */
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(bin, sizeof bin, "%s/cydex-audit", self);

    /* The federation. */
    s_member states[S_STATES], broker = {0};
    cdx_roster *roster = NULL;
    if (cdx_roster_new(&roster, "bench", 1, 1764000000000ull) != CDX_OK)
        abort();
    for (int i = 0; i < S_STATES; i++) {
        char id[8];
        snprintf(id, sizeof id, "S%02d", i);
        memset(&states[i], 0, sizeof states[i]);
        if (cdx_identity_generate(&states[i].id, id, CDX_ROLE_STATE) != CDX_OK)
            abort();
        cdx_member m;
        cdx_identity_card(states[i].id, &m);
        cdx_roster_add_member(roster, &m, NULL);
        if (i == 0)
            cdx_roster_add_admin(roster, id, m.sign_pk, NULL);
    }
    if (cdx_identity_generate(&broker.id, "broker.bench", CDX_ROLE_BROKER) != CDX_OK)
        abort();
    cdx_member bm;
    cdx_identity_card(broker.id, &bm);
    cdx_roster_add_member(roster, &bm, NULL);
    if (cdx_roster_sign(roster, NULL, states[0].id, NULL) != CDX_OK ||
        cdx_roster_save(roster, roster_path, NULL) != CDX_OK)
        abort();

    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.bench", .map_initial = (size_t)1 << 30};
    if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK)
        abort();
    cdx_bytes raw;
    cdx_roster_encode(roster, &raw);
    cdx_log_set_roster(log, raw.data, raw.len, NULL);
    cdx_bytes_free(&raw);

    fprintf(stderr, "building a log of %llu entries (30 states, 1 alert : 9 acks)...\n",
            (unsigned long long)want);
    double t0 = s_now();
    enum { CHUNK = 5000 };
    cdx_envelope **envs = calloc(CHUNK + S_ACKS + 1, sizeof *envs);
    cdx_log_append_in *in = calloc(CHUNK + S_ACKS + 1, sizeof *in);
    cdx_log_append_out *out = calloc(CHUNK + S_ACKS + 1, sizeof *out);
    uint64_t made = 0, t = 1764000000000ull;
    size_t m = 0;
    while (made < want) {
        int from = (int)randombytes_uniform(S_STATES);
        t += 1000 + randombytes_uniform(60000);
        cdx_body b = {0};
        b.sender = (char *)cdx_identity_id(states[from].id);
        b.topic = "alert.bench";
        b.sent_at_ms = t;
        b.kind = CDX_PAYLOAD_ALERT;
        char title[64];
        snprintf(title, sizeof title, "Benchmark alert %llu", (unsigned long long)made);
        b.alert = (cdx_alert){.id = NULL,
                              .tlp = CDX_TLP_GREEN,
                              .title = title,
                              .status = CDX_STATUS_ACTUAL,
                              .msg_type = CDX_MSG_ALERT};
        char uuid[CDX_UUID_TEXT];
        cdx_uuid_new(uuid);
        b.alert.id = uuid;
        cdx_envelope *alert = s_sign(&states[from], &b, roster);
        envs[m++] = alert;
        made++;
        for (int k = 1; k <= S_ACKS && made < want; k++) {
            int who = (from + k * 3) % S_STATES;
            cdx_body a = {0};
            a.sender = (char *)cdx_identity_id(states[who].id);
            a.topic = "ack";
            /* Seconds to a day, heavier near the start. */
            uint32_t r = randombytes_uniform(1000);
            a.sent_at_ms = t + 1000 + (uint64_t)r * r * 86;
            a.kind = CDX_PAYLOAD_ACK;
            memcpy(a.ack.alert_hash, cdx_envelope_hash(alert), 32);
            a.ack.stage = (cdx_ack_stage)(1 + randombytes_uniform(6));
            envs[m++] = s_sign(&states[who], &a, roster);
            made++;
        }
        if (m >= CHUNK || made == want) {
            for (size_t j = 0; j < m; j++)
                in[j] = (cdx_log_append_in){.env = envs[j],
                                            .received_at_ms = t,
                                            .received_from = cdx_envelope_signer(envs[j])};
            if (cdx_log_append(log, in, m, out, NULL) != CDX_OK)
                abort();
            for (size_t j = 0; j < m; j++)
                cdx_envelope_destroy(&envs[j]);
            m = 0;
            if (isatty(2))
                fprintf(stderr, "\r  %llu", (unsigned long long)made);
        }
    }
    if (cdx_log_checkpoint(log, broker.id, t, NULL, NULL) != CDX_OK)
        abort();
    cdx_log_destroy(&log);
    fprintf(stderr, "\n  built in %.0f s\n", s_now() - t0);

    char *verify[] = {bin, "verify", dir, "--roster", roster_path, NULL};
    char *report[] = {bin, "report", dir, "--html", html, NULL};
    long rss_v, rss_r;
    int st_v, st_r;
    /* A first read warms the page cache for both alike. */
    s_child(verify, &rss_v, &st_v);
    double tv = s_child(verify, &rss_v, &st_v);
    double tr = s_child(report, &rss_r, &st_r);
    struct stat hs;
    stat(html, &hs);
    printf("CyDEx report benchmark: a log of %llu entries (%ld CPUs)\n", (unsigned long long)want,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  cydex-audit verify LOG --roster R:  %6.1f s, max RSS %6.1f MiB (exit %d)\n", tv,
           (double)rss_v / 1024, WEXITSTATUS(st_v));
    printf("  cydex-audit report LOG --html FILE: %6.1f s, max RSS %6.1f MiB (exit %d), %lld "
           "bytes of HTML\n",
           tr, (double)rss_r / 1024, WEXITSTATUS(st_r), (long long)hs.st_size);
    printf("  report / verify time: %.2f (target <= 2.00: %s); report memory %s 256 MiB\n", tr / tv,
           tr <= 2 * tv ? "met" : "MISSED", rss_r < 256 * 1024 ? "under" : "OVER");
    if (!keep) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", root);
    } else {
        printf("  kept in %s\n", root);
    }
    for (int i = 0; i < S_STATES; i++)
        cdx_identity_destroy(&states[i].id);
    cdx_identity_destroy(&broker.id);
    cdx_roster_destroy(&roster);
    free(envs);
    free(in);
    free(out);
    return 0;
}
