/* End-to-end benchmark (issue 4): a publisher node (EE) -> one broker ->
 * two subscriber nodes (FR, DE), all real processes on this machine over
 * ipc://, 1 KiB alerts, everything verified and durable (one fsync per
 * round at each daemon).
 *
 *   throughput  a burst of --burst alerts published through EE's control
 *               socket as fast as it takes them, until both subscribers'
 *               logs hold all of them
 *   latency     --paced alerts at a fixed --rate per second; per alert,
 *               from the moment the bench sends the request to EE's node
 *               to the moment the alert is committed (visible to a
 *               reader) in each subscriber's log, in microseconds: a
 *               thread watches both logs read-only every 50 us; measured
 *               twice, on fresh logs before the bursts and after them
 *
 * Beside them, measured in the same run: bare Ed25519 verify per second on
 * one core. Usage: bench_e2e [--burst N] [--paced N] [--rate R] [--echo]
 * [--plain] [--dir PARENT] [--keep] (where the daemons' files go, /tmp unless
 * given; --keep leaves them there, logs and all, for a look afterwards);
 * with --echo EE's node also subscribes to its own alerts, as the demo's
 * nodes do, and gets each back from the broker; with --plain EE's node
 * signs each envelope alone (sign_batches = false), as the CPU ideal
 * assumes, instead of a round's envelopes under one batch signature. Needs
 * cydex-broker and cydex-node beside it. Prints a report; exits 0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bare.h"
#include "cydex/cydex.h"
#include "cydex/json.h"
#include "cydex/log.h"
#include "cydex/receipt.h"
#include "cydex/transport.h"

static char s_dir[256], s_bin[4096];
static bool s_keep;  /* --keep: the daemons' files stay */
static bool s_plain; /* --plain: EE signs each envelope alone */
static pid_t s_pids[4];
/* The daemons in s_pids' slots: their files' names, and as printed. */
static const char *const s_name[4] = {"alpha", "EE", "FR", "DE"};
static const char *const s_label[4] = {"broker.alpha", "EE's node", "FR's", "DE's"};

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void s_nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void s_stop(int slot)
{
    if (s_pids[slot] > 0) {
        kill(s_pids[slot], SIGTERM);
        waitpid(s_pids[slot], NULL, 0);
        s_pids[slot] = 0;
    }
}

static void s_stop_all(void)
{
    for (int i = 0; i < 4; i++)
        if (s_pids[i] > 0) {
            kill(s_pids[i], SIGTERM);
            waitpid(s_pids[i], NULL, 0);
            s_pids[i] = 0;
        }
    if (s_keep) {
        fprintf(stderr, "bench_e2e: the daemons' files stay in %s\n", s_dir);
        return;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s_dir);
}

static pid_t s_spawn(int slot, const char *prog, const char *name, const char *conf)
{
    char path[512], bin[4200], ready[512];
    snprintf(path, sizeof path, "%s/%s.conf", s_dir, name);
    FILE *f = fopen(path, "w");
    fputs(conf, f);
    fclose(f);
    snprintf(bin, sizeof bin, "%s/%s", s_bin, prog);
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        snprintf(err, sizeof err, "%s/%s.log", s_dir, name);
        if (!freopen(err, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(bin, prog, "-c", path, (char *)NULL);
        _exit(127);
    }
    s_pids[slot] = pid;
    snprintf(ready, sizeof ready, "%s/%s-%s", s_dir, name,
             strcmp(prog, "cydex-broker") == 0 ? "ingress" : "control");
    struct stat st;
    for (int i = 0; i < 1000 && stat(ready, &st) != 0; i++)
        s_nap_us(10000);
    return pid;
}

/* The port the daemon in slot serves /metrics on, from the line its log
 * says it on; 0 if none. */
static unsigned s_metrics_port(int slot)
{
    char path[400], text[8192];
    snprintf(path, sizeof path, "%s/%s.log", s_dir, s_name[slot]);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    const char *at = strstr(text, "(port ");
    return at ? (unsigned)strtoul(at + 6, NULL, 10) : 0;
}

/* The log commit histogram the daemon in slot serves on /metrics
 * (cydex_log_commit_seconds); false if it could not be read. */
static bool s_commits(int slot, cdx_log_commit_stats *out)
{
    memset(out, 0, sizeof *out);
    static char page[65536];
    unsigned port = s_metrics_port(slot);
    int fd = port ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
    size_t got = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        ssize_t k;
        while (got < sizeof page - 1 && (k = read(fd, page + got, sizeof page - 1 - got)) > 0)
            got += (size_t)k;
    }
    if (fd >= 0)
        close(fd);
    page[got] = '\0';
    static const char count[] = "\ncydex_log_commit_seconds_count ",
                      sum[] = "\ncydex_log_commit_seconds_sum ";
    const char *p = strstr(page, count);
    if (!p)
        return false;
    out->count = strtoull(p + sizeof count - 1, NULL, 10);
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++) {
        char series[96];
        snprintf(series, sizeof series, "\ncydex_log_commit_seconds_bucket{le=\"%g\"} ",
                 cdx_log_commit_bucket_us[i] / 1e6);
        if (!(p = strstr(page, series)))
            return false;
        out->le[i] = strtoull(p + strlen(series), NULL, 10);
    }
    if ((p = strstr(page, sum)))
        out->sum_us = (uint64_t)(strtod(p + sizeof sum - 1, NULL) * 1e6);
    return out->le[CDX_LOG_COMMIT_BUCKETS - 1] <= out->count; /* or it was misread */
}

/* CPU time (user + system, all threads) the daemon in slot has used, in
 * seconds; 0 if it cannot be read. */
static double s_cpu(int slot)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)s_pids[slot]);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void s_node(int slot, const char *id, const char *subscribe)
{
    char conf[4096];
    snprintf(conf, sizeof conf,
             "[node]\nid = %s\nkey = %s/%s.secret\nroster = %s/roster.bin\nlog = %s/%s-log\n"
             "control = ipc://%s/%s-control\nsubscribe = %s\nresend_ms = 2000\n"
             "heartbeat_ms = 0\ncheckpoint_ms = 0\nverify_threads = 1\n"  /* nothing but the bench's
                                                                             traffic; four daemons
                                                                             share the cores */
             "sign_batches = %s\nmetrics = 127.0.0.1:0\ncosign = false\n" /* seqs: alerts only */
             "[broker.alpha]\nid = broker.alpha\ningress = ipc://%s/alpha-ingress\n"
             "fanout = ipc://%s/alpha-fanout\ncatchup = ipc://%s/alpha-catchup\n",
             id, s_dir, id, s_dir, s_dir, id, s_dir, id, subscribe, s_plain ? "false" : "true",
             s_dir, s_dir, s_dir);
    s_spawn(slot, "cydex-node", id, conf);
}

static uint64_t s_count(const char *id)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s-log", s_dir, id);
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    cdx_log_sender s = {0};
    if (cdx_log_new(&log, dir, &ro, NULL) == CDX_OK)
        cdx_log_sender_get(log, "EE", &s);
    cdx_log_destroy(&log);
    return s.count;
}

/* Watches the subscribers' logs (read-only, as any reader may while the
 * node writes) for EE's seqs first..first+n-1 and notes, in microseconds
 * on the bench's clock, when each became visible: committed. Polled every
 * 50 us, so a time is late by at most that and the read's cost. */
typedef struct s_watch {
    const char *id[2];
    uint64_t first, n;
    double *seen[2]; /* n each */
    bool ok;
} s_watch;

static void *s_watch_main(void *arg)
{
    s_watch *w = arg;
    cdx_log *log[2] = {NULL, NULL};
    cdx_log_opts ro = {.read_only = true};
    for (int k = 0; k < 2; k++) {
        char dir[400];
        snprintf(dir, sizeof dir, "%s/%s-log", s_dir, w->id[k]);
        if (cdx_log_new(&log[k], dir, &ro, NULL) != CDX_OK)
            return NULL;
    }
    uint64_t next[2] = {w->first, w->first}, end = w->first + w->n;
    double deadline = s_now() + 120;
    while ((next[0] < end || next[1] < end) && s_now() < deadline) {
        for (int k = 0; k < 2; k++) {
            cdx_log_sender st = {0};
            if (next[k] >= end || cdx_log_sender_get(log[k], "EE", &st) != CDX_OK)
                continue;
            double t = s_now();
            /* Seqs arrive in order unless one is lost and fetched later:
             * take each only once the log holds it. */
            uint64_t index;
            while (next[k] < end && next[k] <= st.max_seq &&
                   cdx_log_find_seq(log[k], "EE", next[k], &index) == CDX_OK)
                w->seen[k][next[k]++ - w->first] = t;
        }
        s_nap_us(50);
    }
    w->ok = next[0] >= end && next[1] >= end;
    cdx_log_destroy(&log[0]);
    cdx_log_destroy(&log[1]);
    return NULL;
}

/* When a log received EE's seqs from..to: the first and last received_at. */
typedef struct s_span {
    uint64_t from_seq, to_seq, first_ms, last_ms, n;
} s_span;

static void s_span_add(void *ctx, const cdx_body *b, const cdx_log_entry *e)
{
    s_span *sp = ctx;
    if (b->seq < sp->from_seq || b->seq > sp->to_seq)
        return;
    if (sp->n++ == 0 || e->received_at_ms < sp->first_ms)
        sp->first_ms = e->received_at_ms;
    if (e->received_at_ms > sp->last_ms)
        sp->last_ms = e->received_at_ms;
}

typedef void (*s_ee_fn)(void *ctx, const cdx_body *b, const cdx_log_entry *e);

typedef struct s_ee_scan {
    s_ee_fn fn;
    void *ctx;
} s_ee_scan;

static cdx_err s_ee_visit(void *ctx, cdx_log_entry *e)
{
    s_ee_scan *sc = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) == CDX_OK) {
        const cdx_body *b = cdx_envelope_body(env);
        if (strcmp(b->sender, "EE") == 0)
            sc->fn(sc->ctx, b, e);
    }
    cdx_envelope_destroy(&env);
    return CDX_OK;
}

/* Calls fn for each of EE's envelopes that member `id`'s log holds. */
static void s_scan_ee(const char *id, s_ee_fn fn, void *ctx)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s-log", s_dir, id);
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    s_ee_scan sc = {fn, ctx};
    if (cdx_log_new(&log, dir, &ro, NULL) == CDX_OK)
        cdx_log_scan(log, 0, UINT64_MAX, s_ee_visit, &sc, NULL);
    cdx_log_destroy(&log);
}

/* Raw ZeroMQ, for scale: PUB -> XSUB/XPUB proxy -> SUB over ipc://, the
 * same bytes, no crypto, no disk. Messages per second. */
typedef struct s_proxy_arg {
    void *ctx;
    char front[300], back[300];
} s_proxy_arg;

static void *s_proxy_main(void *p)
{
    s_proxy_arg *a = p;
    void *xsub = zmq_socket(a->ctx, ZMQ_XSUB), *xpub = zmq_socket(a->ctx, ZMQ_XPUB);
    int zero = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(xsub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(xpub, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(xsub, a->front) == 0 && zmq_bind(xpub, a->back) == 0)
        zmq_proxy(xsub, xpub, NULL); /* returns when the context ends */
    zmq_close(xsub);
    zmq_close(xpub);
    return NULL;
}

static double s_raw_zmq(const uint8_t *msg, size_t len, size_t count)
{
    s_proxy_arg a = {.ctx = zmq_ctx_new()};
    snprintf(a.front, sizeof a.front, "ipc://%s/raw-front", s_dir);
    snprintf(a.back, sizeof a.back, "ipc://%s/raw-back", s_dir);
    pthread_t th;
    if (!a.ctx || pthread_create(&th, NULL, s_proxy_main, &a) != 0)
        return 0;
    void *pub = zmq_socket(a.ctx, ZMQ_PUB), *sub = zmq_socket(a.ctx, ZMQ_SUB);
    int zero = 0, wait_ms = 2000;
    zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    s_nap_us(100000); /* the proxy binds */
    zmq_connect(pub, a.front);
    zmq_connect(sub, a.back);
    /* Until the subscription has reached the publisher (at most 5 s). */
    char probe[8];
    bool joined = false;
    for (int i = 0; i < 50 && !joined; i++) {
        zmq_send(pub, "warm", 4, 0);
        int w = 100;
        zmq_setsockopt(sub, ZMQ_RCVTIMEO, &w, sizeof w);
        joined = zmq_recv(sub, probe, sizeof probe, 0) >= 0;
    }
    while (zmq_recv(sub, probe, sizeof probe, ZMQ_DONTWAIT) >= 0) {
    }
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
    uint8_t *buf = malloc(len);
    double rate = 0, t0 = s_now();
    size_t got = 0;
    for (size_t sent = 0; joined && buf && got < count;) {
        for (size_t k = 0; k < 1000 && sent < count; k++, sent++)
            zmq_send(pub, msg, len, 0);
        while (got < sent && zmq_recv(sub, buf, len, 0) >= 0)
            got++;
        if (got < sent)
            break; /* lost or stalled: report what arrived */
    }
    if (got)
        rate = (double)got / (s_now() - t0);
    free(buf);
    zmq_close(pub);
    zmq_close(sub);
    zmq_ctx_shutdown(a.ctx);
    pthread_join(th, NULL);
    zmq_ctx_term(a.ctx);
    return rate;
}

/* Alert `seq` of `who`'s own chain (the alert `json`, on alert.bench),
 * signed; prev holds the previous one's hash and gets this one's. */
static cdx_err s_chain_alert(const cdx_identity *who, const cdx_roster *roster, const char *json,
                             uint64_t seq, uint8_t prev[CDX_HASH_BYTES], cdx_envelope **env,
                             cdx_errbuf *eb)
{
    cdx_body b = {.sender = (char *)cdx_identity_id(who),
                  .topic = "alert.bench",
                  .seq = seq,
                  .sent_at_ms = cdx_now_ms(),
                  .has_prev_hash = seq > 1,
                  .kind = CDX_PAYLOAD_ALERT};
    if (seq > 1)
        memcpy(b.prev_hash, prev, CDX_HASH_BYTES);
    cdx_err rc = cdx_json_to_alert(&b.alert, json, strlen(json), eb);
    if (rc == CDX_OK)
        rc = cdx_envelope_sign_own(env, who, roster, &b, eb);
    if (rc == CDX_OK)
        memcpy(prev, cdx_envelope_hash(*env), CDX_HASH_BYTES);
    cdx_alert_clear(&b.alert);
    return rc;
}

/* The broker alone: `count` envelopes of the alert `json` pre-signed by
 * `who` (a chain of its own), sent straight to the ingress with up to `window` unanswered, until
 * every receipt is back (verified, as a publisher does). Envelopes per
 * second through verify, commit, receipt and fan-out. */
static double s_blast(const cdx_identity *who, const cdx_roster *roster,
                      const uint8_t broker_pk[CDX_PK_BYTES], const char *json, size_t count,
                      size_t window)
{
    cdx_bytes *env = calloc(count, sizeof *env);
    if (!env)
        return 0;
    uint8_t prev[CDX_HASH_BYTES];
    for (size_t i = 0; i < count; i++) {
        cdx_envelope *e = NULL;
        cdx_errbuf eb = {0};
        cdx_err rc = s_chain_alert(who, roster, json, i + 1, prev, &e, &eb);
        size_t len = 0;
        const uint8_t *raw = rc == CDX_OK ? cdx_envelope_bytes(e, &len) : NULL;
        env[i].data = raw ? malloc(len) : NULL;
        if (env[i].data) {
            memcpy(env[i].data, raw, len);
            env[i].len = len;
        }
        cdx_envelope_destroy(&e);
        if (!env[i].data) {
            fprintf(stderr, "bench_e2e: signing the blast: %s\n", cdx_errbuf_msg(&eb, rc));
            count = i;
            break;
        }
    }
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/alpha-ingress", s_dir);
    cdx_transport *t = NULL;
    cdx_sock *d = NULL;
    cdx_sock_opts so = {.hwm = 100000};
    double rate = 0;
    if (cdx_transport_new(&t, who, roster, NULL) == CDX_OK &&
        cdx_sock_connect(&d, t, CDX_SOCK_DEALER, ep, broker_pk, &so, NULL) == CDX_OK) {
        double t0 = s_now();
        size_t sent = 0, back = 0;
        while (back < count) {
            while (sent < count && sent - back < window) {
                cdx_bytes f[2] = {{(uint8_t *)"alert.bench", 11}, env[sent]};
                if (cdx_sock_send(d, f, 2, 5000) != CDX_OK)
                    break;
                sent++;
            }
            cdx_msg m;
            if (cdx_sock_recv(d, &m, 10000) != CDX_OK)
                break;
            cdx_receipt *r = NULL; /* one receipt covers a round's envelopes */
            size_t n = 0;
            if (m.n == 2 && cdx_receipt_verify_many(&r, &n, roster, m.frame[1].data, m.frame[1].len,
                                                    NULL) == CDX_OK)
                back += n;
            free(r);
            cdx_msg_clear(&m);
            if (n == 0)
                break;
        }
        if (count && back == count)
            rate = (double)count / (s_now() - t0);
        else
            fprintf(stderr, "bench_e2e: the broker answered %zu of %zu\n", back, count);
    }
    cdx_sock_destroy(&d);
    cdx_transport_destroy(&t);
    for (size_t i = 0; i < count; i++)
        cdx_bytes_free(&env[i]);
    free(env);
    return rate;
}

static int s_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The floor under latency: one durable append of one alert to a fresh
 * log on this disk, alone (each hop of the path pays one). Median of n,
 * in microseconds. */
static double s_commit_floor(const cdx_identity *who, const cdx_roster *roster, const char *json,
                             size_t n)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/floor-log", s_dir);
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = cdx_identity_id(who)};
    uint64_t *us = calloc(n, sizeof *us);
    size_t got = 0;
    uint8_t prev[CDX_HASH_BYTES];
    if (us && cdx_log_new(&log, dir, &o, NULL) == CDX_OK) {
        for (size_t i = 0; i < n; i++) {
            cdx_envelope *env = NULL;
            if (s_chain_alert(who, roster, json, i + 1, prev, &env, NULL) == CDX_OK) {
                cdx_log_append_in in = {.env = env, .received_at_ms = cdx_now_ms()};
                cdx_log_append_out out;
                double t0 = s_now();
                if (cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK)
                    us[got++] = (uint64_t)((s_now() - t0) * 1e6);
            }
            cdx_envelope_destroy(&env);
        }
    }
    cdx_log_destroy(&log);
    qsort(us, got, sizeof *us, s_cmp);
    double median = got ? (double)us[got / 2] : 0;
    free(us);
    return median;
}

/* Latency at a fixed rate: `paced` requests sent on schedule, answers
 * collected as they come (a relay does not wait for one alert before
 * sending the next); from the moment a request is sent to the moment the
 * alert is committed in a subscriber's log, in microseconds. EE's seqs
 * first.. are the ones sent. */
typedef struct s_latency {
    double achieved; /* requests a second */
    size_t n;        /* samples: two per alert */
    double p50_ms, p99_ms, max_ms;
    /* The daemons' log commits meanwhile (s_pids' slots); -1 if unknown. */
    double commit_p50_ms[4], commit_p99_ms[4];
} s_latency;

static bool s_paced(cdx_sock *ctl, cdx_bytes *frames, uint64_t first, size_t paced, size_t rate,
                    s_latency *out)
{
    memset(out, 0, sizeof *out);
    cdx_log_commit_stats before[4], after;
    bool have[4];
    for (int k = 0; k < 4; k++)
        have[k] = s_commits(k, &before[k]);
    double *sent_at = calloc(paced, sizeof *sent_at);
    s_watch w = {.id = {"FR", "DE"},
                 .first = first,
                 .n = paced,
                 .seen = {calloc(paced, sizeof(double)), calloc(paced, sizeof(double))}};
    pthread_t watcher;
    if (!sent_at || !w.seen[0] || !w.seen[1] ||
        pthread_create(&watcher, NULL, s_watch_main, &w) != 0) {
        free(sent_at);
        free(w.seen[0]);
        free(w.seen[1]);
        return false;
    }
    double period = 1.0 / (double)rate, start = s_now();
    size_t answered = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < paced; i++) {
        double due = start + (double)i * period, now = s_now();
        if (due > now)
            s_nap_us((long)((due - now) * 1e6));
        sent_at[i] = s_now();
        ok = cdx_sock_send(ctl, frames, 4, 5000) == CDX_OK;
        cdx_msg m;
        while (ok && cdx_sock_recv(ctl, &m, 0) == CDX_OK) {
            cdx_msg_clear(&m);
            answered++;
        }
    }
    while (ok && answered < paced) {
        cdx_msg m;
        ok = cdx_sock_recv(ctl, &m, 5000) == CDX_OK;
        cdx_msg_clear(&m);
        answered++;
    }
    out->achieved = (double)paced / (s_now() - start);
    pthread_join(watcher, NULL);
    for (int k = 0; k < 4; k++) {
        out->commit_p50_ms[k] = out->commit_p99_ms[k] = -1;
        if (have[k] && s_commits(k, &after)) {
            cdx_log_commit_stats_since(&after, &before[k], &after);
            out->commit_p50_ms[k] = cdx_log_commit_quantile_us(&after, 0.5) / 1000.0;
            out->commit_p99_ms[k] = cdx_log_commit_quantile_us(&after, 0.99) / 1000.0;
        }
    }
    uint64_t *lat_us = calloc(2 * paced + 1, sizeof *lat_us);
    for (int k = 0; k < 2 && w.ok && lat_us; k++)
        for (size_t i = 0; i < paced; i++)
            lat_us[out->n++] =
                w.seen[k][i] > sent_at[i] ? (uint64_t)((w.seen[k][i] - sent_at[i]) * 1e6) : 0;
    if (!w.ok)
        fprintf(stderr, "bench_e2e: the subscribers did not log every paced alert\n");
    if (out->n) {
        qsort(lat_us, out->n, sizeof *lat_us, s_cmp);
        out->p50_ms = (double)lat_us[out->n / 2] / 1000.0;
        out->p99_ms = (double)lat_us[out->n * 99 / 100] / 1000.0;
        out->max_ms = (double)lat_us[out->n - 1] / 1000.0;
    }
    free(lat_us);
    free(sent_at);
    free(w.seen[0]);
    free(w.seen[1]);
    return ok && w.ok;
}

/* What the paced run's commits took, on the path's three hops. */
static void s_print_commits(const char *when, const s_latency *l)
{
    printf("    its log commits %s (p50 / p99, from each daemon's /metrics):", when);
    for (int k = 0; k < 4; k++)
        if (l->commit_p50_ms[k] < 0)
            printf("%s %s unknown", k ? "," : "", s_label[k]);
        else
            printf("%s %s %.2f / %.2f ms", k ? "," : "", s_label[k], l->commit_p50_ms[k],
                   l->commit_p99_ms[k]);
    if (l->commit_p50_ms[0] >= 0 && l->commit_p50_ms[1] >= 0 && l->commit_p50_ms[2] >= 0)
        printf("; EE's, the broker's and FR's in series: %.2f ms of FR's path",
               l->commit_p50_ms[1] + l->commit_p50_ms[0] + l->commit_p50_ms[2]);
    printf("\n");
}

int main(int argc, char **argv)
{
    size_t burst = 2000, paced = 2000, rate = 1000;
    static const char usage[] =
        "bench_e2e [--burst N] [--paced N] [--rate R] [--echo] [--plain] [--dir PARENT] [--keep]";
    const char *ee_topics = "sth", *parent = "/tmp", *v;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        size_t *num = strcmp(opt, "--burst") == 0   ? &burst
                      : strcmp(opt, "--paced") == 0 ? &paced
                      : strcmp(opt, "--rate") == 0  ? &rate
                                                    : NULL;
        if (strcmp(opt, "--echo") == 0)
            ee_topics = "sth,alert.";
        else if (strcmp(opt, "--keep") == 0)
            s_keep = true;
        else if (strcmp(opt, "--plain") == 0)
            s_plain = true;
        else if (num && bench_value(argc, argv, &i, true, &v))
            *num = strtoul(v, NULL, 10);
        else if (strcmp(opt, "--dir") == 0 && bench_value(argc, argv, &i, false, &v))
            parent = v;
        else
            return bench_usage(usage, num || strcmp(opt, "--dir") == 0 ? NULL : opt);
    }
    if (sodium_init() < 0 || rate == 0)
        return 1;
    ssize_t n = readlink("/proc/self/exe", s_bin, sizeof s_bin - 1);
    if (n <= 0)
        return 1;
    s_bin[n] = '\0';
    *strrchr(s_bin, '/') = '\0';
    snprintf(s_dir, sizeof s_dir, "%s/cydex-e2e-%d", parent, (int)getpid());
    if (mkdir(s_dir, 0700) != 0) {
        fprintf(stderr, "bench_e2e: cannot make %s\n", s_dir);
        return 1;
    }
    atexit(s_stop_all);

    /* Keys and a roster. */
    const char *ids[] = {"EE", "FR", "DE", "broker.alpha"};
    cdx_identity *who[4];
    cdx_roster *roster = NULL;
    cdx_roster_new(&roster, "bench", 1, cdx_now_ms());
    for (int i = 0; i < 4; i++) {
        cdx_identity_generate(&who[i], ids[i], i == 3 ? CDX_ROLE_BROKER : CDX_ROLE_STATE);
        cdx_identity_save(who[i], s_dir, NULL);
        cdx_member m;
        cdx_identity_card(who[i], &m);
        cdx_roster_add_member(roster, &m, NULL);
        if (i == 0)
            cdx_roster_add_admin(roster, "EE", m.sign_pk, NULL);
    }
    cdx_roster_sign(roster, NULL, who[0], NULL);
    char rp[400];
    snprintf(rp, sizeof rp, "%s/roster.bin", s_dir);
    cdx_roster_save(roster, rp, NULL);

    char conf[4096];
    snprintf(conf, sizeof conf,
             "[broker]\nid = broker.alpha\nkey = %s/broker.alpha.secret\nroster = %s\n"
             "log = %s/alpha-log\nmetrics = 127.0.0.1:0\ningress = ipc://%s/alpha-ingress\n"
             "fanout = ipc://%s/alpha-fanout\ncatchup = ipc://%s/alpha-catchup\n",
             s_dir, rp, s_dir, s_dir, s_dir, s_dir);
    s_spawn(0, "cydex-broker", "alpha", conf);
    s_node(1, "EE", ee_topics);
    s_node(2, "FR", "alert.");
    s_node(3, "DE", "alert.");
    s_nap_us(500000); /* let the subscriptions settle */

    /* EE's control socket, as the cydex command uses it. */
    cdx_transport *t = NULL;
    cdx_sock *ctl = NULL;
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/EE-control", s_dir);
    if (cdx_transport_new_local(&t, NULL) != CDX_OK ||
        cdx_sock_connect_local(&ctl, t, CDX_SOCK_DEALER, ep, NULL) != CDX_OK)
        return 1;
    char desc[900];
    memset(desc, 'x', sizeof desc - 1);
    desc[sizeof desc - 1] = '\0';
    char json[1200];
    snprintf(json, sizeof json,
             "{\"title\":\"Benchmark alert\",\"tlp\":\"GREEN\",\"description\":\"%s\"}", desc);
    cdx_bytes frames[4] = {{(uint8_t *)"publish", 7},
                           {(uint8_t *)"alert.bench", 11},
                           {(uint8_t *)"", 0},
                           {(uint8_t *)json, strlen(json)}};

    /* Latency on fresh logs first (EE's seqs 1..paced), then the bursts. */
    s_latency fresh, after;
    if (!s_paced(ctl, frames, 1, paced, rate, &fresh))
        return 1;
    const uint64_t base = paced; /* EE's seqs before the bursts */

    /* Throughput: a burst, one request at a time (each answered once the
     * node holds it durably), until both subscribers hold all. */
    double t0 = s_now();
    for (size_t i = 0; i < burst; i++) {
        cdx_msg m;
        if (cdx_sock_send(ctl, frames, 4, 5000) != CDX_OK || cdx_sock_recv(ctl, &m, 5000) != CDX_OK)
            return 1;
        cdx_msg_clear(&m);
    }
    double t_pub = s_now() - t0;
    while ((s_count("FR") < base + burst || s_count("DE") < base + burst) && s_now() - t0 < 120)
        s_nap_us(2000);
    double t_all = s_now() - t0;

    /* The same burst pipelined, as a relay bridging a feed would send it:
     * up to `window` requests in flight, which the node logs together. */
    const size_t window = 256;
    double cpu0[4];
    for (int k = 0; k < 4; k++)
        cpu0[k] = s_cpu(k);
    double t1 = s_now();
    size_t sent = 0, answered = 0;
    while (answered < burst) {
        while (sent < burst && sent - answered < window) {
            if (cdx_sock_send(ctl, frames, 4, 5000) != CDX_OK)
                return 1;
            sent++;
        }
        cdx_msg m;
        if (cdx_sock_recv(ctl, &m, 5000) != CDX_OK)
            return 1;
        cdx_msg_clear(&m);
        answered++;
    }
    double t_pub2 = s_now() - t1;
    while ((s_count("FR") < base + 2 * burst || s_count("DE") < base + 2 * burst) &&
           s_now() - t1 < 120)
        s_nap_us(2000);
    double t_all2 = s_now() - t1;
    double cpu_us[4]; /* per alert of the in-flight burst */
    for (int k = 0; k < 4; k++)
        cpu_us[k] = (s_cpu(k) - cpu0[k]) * 1e6 / (double)burst;
    s_span bspan = {.from_seq = base + burst + 1, .to_seq = base + 2 * burst};
    /* And latency again, after the bursts (the logs hold 2 * burst more). */
    if (!s_paced(ctl, frames, base + 2 * burst + 1, paced, rate, &after))
        return 1;
    s_scan_ee("alpha", s_span_add, &bspan);
    double broker_rate =
        bspan.n > 1 && bspan.last_ms > bspan.first_ms
            ? (double)(bspan.n - 1) * 1000.0 / (double)(bspan.last_ms - bspan.first_ms)
            : 0;

    /* The broker alone, DE publishing straight to its ingress. */
    cdx_member bcard;
    cdx_identity_card(who[3], &bcard);
    const size_t blast_n = 20000;
    double broker_alone = s_blast(who[2], roster, bcard.curve_pk, json, blast_n, 1000);
    /* And with nothing else running: FR's and DE's nodes stopped (FR has
     * sent nothing yet, so the blast can sign as FR from seq 1). */
    s_stop(2);
    s_stop(3);
    double broker_solo = s_blast(who[1], roster, bcard.curve_pk, json, blast_n, 1000);

    /* Bare Ed25519 on one core, for scale, over messages the size of the
     * alerts' envelopes. */
    uint8_t msg[1100];
    randombytes_buf(msg, sizeof msg);
    double bare = bench_bare_verify(sizeof msg, 20000);
    double bare_sign = bench_bare_sign(sizeof msg, 20000);
    /* Each alert costs one sign (the publisher's node) and three verifies
     * (the broker, two subscribers); two cores at most share that work. */
    double ideal = 2.0 / (1.0 / bare_sign + 3.0 / bare);
    double raw = s_raw_zmq(msg, sizeof msg, 100000);
    double floor_us = s_commit_floor(who[0], roster, json, 200);

    printf("CyDEx end-to-end: EE's node -> broker.alpha -> FR's and DE's nodes (ipc://, "
           "1 KiB alerts, verified, durable; EE signs %s)\n",
           s_plain ? "each alert alone (--plain)"
                   : "each round's alerts under one batch signature");
    printf("  burst of %zu: EE's node took them at %.0f/s; both subscribers held all after "
           "%.2f s: %.0f alerts/s end to end\n",
           burst, (double)burst / t_pub, t_all, (double)burst / t_all);
    printf("  burst of %zu, %zu in flight: EE's node took them at %.0f/s; both subscribers held "
           "all after %.2f s: %.0f alerts/s end to end\n",
           burst, window, (double)burst / t_pub2, t_all2, (double)burst / t_all2);
    printf("  CPU per alert of that burst (user + system, all threads, /proc): broker.alpha "
           "%.0f us, EE's node %.0f, FR's %.0f, DE's %.0f; %.0f in all, against %.0f for one "
           "sign and three verifies\n",
           cpu_us[0], cpu_us[1], cpu_us[2], cpu_us[3],
           cpu_us[0] + cpu_us[1] + cpu_us[2] + cpu_us[3], 1e6 / bare_sign + 3e6 / bare);
    printf("  paced %zu at %zu/s: latency from the request to the node to the alert committed "
           "in a subscriber's log, %zu samples each:\n",
           paced, rate, fresh.n);
    printf("    on fresh logs (achieved %.0f/s): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           fresh.achieved, fresh.p50_ms, fresh.p99_ms, fresh.max_ms);
    printf("    after the bursts (achieved %.0f/s): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           after.achieved, after.p50_ms, after.p99_ms, after.max_ms);
    s_print_commits("on fresh logs", &fresh);
    s_print_commits("after the bursts", &after);
    printf("  the floor under that latency: one durable append here takes %.2f ms (median, "
           "alone); the path has three in series (EE's node, the broker, the subscriber)\n",
           floor_us / 1000.0);
    printf("  broker.alpha committed the in-flight burst at %.0f/s (its log's received_at), "
           "bound here by the publisher's node\n",
           broker_rate);
    printf("  broker.alpha alone, %zu envelopes pre-signed by DE, 1000 in flight, receipts all "
           "back: %.0f/s = %.2f x bare one-core verify (its two subscriber nodes verify beside it "
           "on the same cores)\n",
           blast_n, broker_alone, broker_alone / bare);
    printf("  broker.alpha with no subscriber running, %zu more pre-signed by FR: %.0f/s = %.2f x "
           "bare one-core verify\n",
           blast_n, broker_solo, broker_solo / bare);
    printf("  CPU ideal on 2 cores (1 sign + 3 verifies an alert): %.0f/s; in-flight burst end to "
           "end = %.2f x ideal%s\n",
           ideal, ((double)burst / t_all2) / ideal,
           s_plain ? ""
                   : " (batch signatures spare most of those signs and verifies: see --plain)");
    printf("  bare Ed25519 on one core (distinct signatures): verify %.0f/s, sign %.0f/s; raw "
           "ZeroMQ PUB -> proxy -> "
           "SUB (ipc, same bytes): %.0f msgs/s\n",
           bare, bare_sign, raw);
    cdx_sock_destroy(&ctl);
    cdx_transport_destroy(&t);
    for (int i = 0; i < 4; i++)
        cdx_identity_destroy(&who[i]);
    cdx_roster_destroy(&roster);
    return 0;
}
