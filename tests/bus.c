/* See bus.h. */
#include "bus.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cydex/log.h"
#include "proc.h"

#define S_MAX_PIDS 16
static pid_t s_pids[S_MAX_PIDS];
static bool s_atexit_set;

static void s_forget(pid_t pid)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids[i] == pid)
            s_pids[i] = 0;
}

/* No broker outlives its test. */
static void s_kill_all(void)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids[i] > 0) {
            kill(s_pids[i], SIGKILL);
            waitpid(s_pids[i], NULL, 0);
            s_pids[i] = 0;
        }
}

/* Killed at exit if the test stops before it stops them. */
static void s_remember(pid_t pid)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids[i] == 0) {
            s_pids[i] = pid;
            break;
        }
    if (!s_atexit_set) {
        atexit(s_kill_all);
        /* A write to a child that died (its stdin) must fail, not end the
         * test by a signal that would skip the atexit and orphan the
         * daemons. */
        signal(SIGPIPE, SIG_IGN);
        s_atexit_set = true;
    }
}

void bus_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *bus_path(const char *dir, const char *name)
{
    static char bufs[8][320];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 320, "%s/%s", dir, name);
    return p;
}

void bus_folder(char dir[256], const cdx_roster *roster, const cdx_identity *const *ids, size_t n)
{
    fixture_tmpdir(dir);
    REQUIRE(mkdir(bus_path(dir, "keys"), 0700) == 0);
    for (size_t i = 0; i < n; i++)
        REQUIRE(cdx_identity_save(ids[i], bus_path(dir, "keys"), NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(roster, bus_path(dir, "roster.bin"), NULL) == CDX_OK);
}

void bus_write_alerts(const char *path, int n, size_t desc_len)
{
    FILE *f = fopen(path, "w");
    char *desc = malloc(desc_len + 1);
    REQUIRE(f != NULL && desc != NULL);
    memset(desc, 'x', desc_len);
    desc[desc_len] = '\0';
    for (int i = 0; i < n; i++)
        fprintf(f, "{\"title\":\"Wave %d\",\"tlp\":\"GREEN\",\"description\":\"%s\"}\n", i, desc);
    fclose(f);
    free(desc);
}

void bus_endpoint(char out[256], const char *dir, const char *name, const char *what)
{
    snprintf(out, 256, "ipc://%s/%s-%s", dir, name, what);
}

static void s_wait_for_file(const char *path)
{
    struct stat st;
    for (int i = 0; i < 500 && stat(path, &st) != 0; i++)
        bus_nap(10);
    REQUIRE(stat(path, &st) == 0);
}

/* Runs bin -c conf_path in the child: directly, or inside network
 * namespace `netns` through "ip netns exec", which execs it in place (the
 * PID stays the daemon's). */
static void s_exec(const char *netns, const char *bin, const char *prog, const char *conf_path)
{
    if (!netns) {
        execl(bin, prog, "-c", conf_path, (char *)NULL);
        return;
    }
    execlp("ip", "ip", "netns", "exec", netns, bin, "-c", conf_path, (char *)NULL);
    execl("/usr/sbin/ip", "ip", "netns", "exec", netns, bin, "-c", conf_path, (char *)NULL);
}

static pid_t s_spawn(const char *netns, const char *dir, const char *name, const char *prog,
                     const char *conf, const char *ready_file)
{
    char conf_path[400], err[400], bin[400];
    snprintf(conf_path, sizeof conf_path, "%s/%s.conf", dir, name);
    snprintf(err, sizeof err, "%s/%s.log", dir, name);
    snprintf(bin, sizeof bin, "%s/%s", CDX_BIN, prog);
    FILE *f = fopen(conf_path, "w");
    REQUIRE(f != NULL);
    fputs(conf, f);
    fclose(f);
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen(err, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        s_exec(netns, bin, prog, conf_path);
        _exit(127);
    }
    s_remember(pid);
    if (ready_file)
        s_wait_for_file(ready_file);
    return pid;
}

pid_t bus_spawn(const char *dir, const char *name, const char *prog, const char *conf,
                const char *ready_file)
{
    return s_spawn(NULL, dir, name, prog, conf, ready_file);
}

pid_t bus_spawn_in(const char *netns, const char *dir, const char *name, const char *prog,
                   const char *conf)
{
    return s_spawn(netns, dir, name, prog, conf, NULL);
}

void bus_peer_conf(char *out, size_t cap, const char *dir, const char *name, const char *id)
{
    char fan[256], cu[256];
    bus_endpoint(fan, dir, name, "fanout");
    bus_endpoint(cu, dir, name, "catchup");
    snprintf(out, cap,
             "checkpoint_ms = 300\npeer_sync_ms = 200\n[peer.%s]\nid = %s\nfanout = %s\n"
             "catchup = %s\n",
             name, id, fan, cu);
}

pid_t bus_start_broker(const char *dir, const char *name, const char *id, const char *extra)
{
    char conf[2048], in[256], fan[256], cu[256];
    bus_endpoint(in, dir, name, "ingress");
    bus_endpoint(fan, dir, name, "fanout");
    bus_endpoint(cu, dir, name, "catchup");
    snprintf(conf, sizeof conf,
             "[broker]\nid = %s\nkey = %s/keys/%s.secret\nroster = %s/roster.bin\n"
             "log = %s/%s-log\ningress = %s\nfanout = %s\ncatchup = %s\n%s\n",
             id, dir, id, dir, dir, name, in, fan, cu, extra ? extra : "");
    pid_t pid = bus_spawn(dir, name, "cydex-broker", conf, in + 6);
    s_wait_for_file(fan + 6);
    s_wait_for_file(cu + 6);
    return pid;
}

pid_t bus_start_node(const char *dir, const char *name, const char *id, const char *broker,
                     const char *broker_id, const char *subscribe)
{
    return bus_start_node_with(dir, name, id, broker, broker_id, subscribe, "");
}

pid_t bus_start_node_with(const char *dir, const char *name, const char *id, const char *broker,
                          const char *broker_id, const char *subscribe, const char *extra)
{
    char conf[2048], in[256], fan[256], cu[256], ready[400];
    bus_endpoint(in, dir, broker, "ingress");
    bus_endpoint(fan, dir, broker, "fanout");
    bus_endpoint(cu, dir, broker, "catchup");
    snprintf(conf, sizeof conf,
             "[node]\nid = %s\nkey = %s/keys/%s.secret\nroster = %s/roster.bin\n"
             "log = %s/%s-log\ncontrol = ipc://%s/%s-control\nresend_ms = 300\nsync_ms = 500\n"
             "cosign = false\n" /* seqs as the tests count them; "[node]\ncosign = true" in
                                    extra for a test of co-signatures */
             "subscribe = %s\n[broker.%s]\nid = %s\ningress = %s\nfanout = %s\n"
             "catchup = %s\n%s\n",
             id, dir, id, dir, dir, name, dir, name, subscribe, broker, broker_id, in, fan, cu,
             extra);
    snprintf(ready, sizeof ready, "%s/%s-control", dir, name);
    return bus_spawn(dir, name, "cydex-node", conf, ready);
}

pid_t bus_run_bg_in(const char *out, int in, const char *prog, char *const argv[])
{
    char bin[400], err[400];
    snprintf(bin, sizeof bin, "%s/%s", CDX_BIN, prog);
    snprintf(err, sizeof err, "%s.err", out);
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(126);
        if (in >= 0 ? dup2(in, STDIN_FILENO) < 0 : !freopen("/dev/null", "r", stdin))
            _exit(126);
        execv(bin, argv);
        _exit(127);
    }
    s_remember(pid);
    return pid;
}

int bus_run_bg_fed(pid_t *pid, const char *out, const char *prog, char *const argv[])
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    REQUIRE(fcntl(p[1], F_SETFD, FD_CLOEXEC) == 0); /* the child keeps only its end */
    *pid = bus_run_bg_in(out, p[0], prog, argv);
    close(p[0]);
    return p[1];
}

bool bus_wait_file(const char *path, const char *want, int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        char *text = proc_slurp(path);
        bool has = text && strstr(text, want);
        if (!has && waited >= timeout_ms)
            fprintf(stderr, "%s never held %s; it holds:\n%s\n", path, want,
                    text ? text : "(nothing)");
        free(text);
        if (has || waited >= timeout_ms)
            return has;
        bus_nap(100);
    }
}

pid_t bus_run_bg(const char *out, const char *prog, char *const argv[])
{
    return bus_run_bg_in(out, -1, prog, argv);
}

int bus_wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s_forget(pid);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        bus_nap(10);
    }
    bus_kill(pid);
    return -1;
}

int bus_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    return bus_wait_exit(pid, 10000);
}

void bus_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s_forget(pid);
}

void bus_client_new(bus_client *c, const cdx_identity *who, const cdx_roster *roster,
                    const char *ingress, const uint8_t broker_pk[CDX_PK_BYTES])
{
    REQUIRE(cdx_transport_new(&c->t, who, roster, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect(&c->dealer, c->t, CDX_SOCK_DEALER, ingress, broker_pk, NULL, NULL) ==
            CDX_OK);
}

void bus_client_free(bus_client *c)
{
    cdx_sock_destroy(&c->dealer);
    cdx_transport_destroy(&c->t);
}

cdx_err bus_publish(bus_client *c, const cdx_roster *roster, const char *topic, const uint8_t *data,
                    size_t len, cdx_receipt *r, int wait_ms)
{
    cdx_bytes frames[2] = {{(uint8_t *)topic, strlen(topic)}, {(uint8_t *)data, len}};
    cdx_err rc = cdx_sock_send(c->dealer, frames, 2, 1000);
    if (rc != CDX_OK)
        return rc;
    cdx_msg m;
    rc = cdx_sock_recv(c->dealer, &m, wait_ms);
    if (rc != CDX_OK)
        return rc;
    cdx_errbuf eb = {0};
    rc = m.n == 2 ? cdx_receipt_verify(r, roster, m.frame[1].data, m.frame[1].len, &eb)
                  : CDX_ERR_FORMAT;
    if (rc != CDX_OK)
        fprintf(stderr, "receipt: %s\n", cdx_errbuf_msg(&eb, rc));
    cdx_msg_clear(&m);
    return rc;
}

void bus_log_sender(const char *logdir, const char *sender, uint64_t *max, uint64_t *count,
                    size_t *outbox)
{
    *max = *count = 0;
    if (outbox)
        *outbox = 0;
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    if (cdx_log_new(&log, logdir, &ro, NULL) != CDX_OK)
        return;
    cdx_log_sender s;
    if (cdx_log_sender_get(log, sender, &s) == CDX_OK) {
        *max = s.max_seq;
        *count = s.count;
    }
    if (outbox)
        cdx_log_outbox_scan(log, NULL, NULL, outbox);
    cdx_log_destroy(&log);
}

bool bus_wait_log(const char *logdir, const char *sender, uint64_t seq, uint64_t count,
                  size_t outbox)
{
    uint64_t max = 0, c = 0;
    size_t pending = 0;
    for (int i = 0; i < 200; i++) {
        bus_log_sender(logdir, sender, &max, &c, &pending);
        if (max >= seq && c >= count && (outbox == SIZE_MAX || pending == outbox))
            return true;
        bus_nap(50);
    }
    fprintf(stderr, "%s: %s at seq %llu, %llu envelopes, outbox %zu; wanted %llu, %llu\n", logdir,
            sender, (unsigned long long)max, (unsigned long long)c, pending,
            (unsigned long long)seq, (unsigned long long)count);
    return false;
}

cdx_log *bus_audit_open(const char *logdir, const cdx_roster *roster, cdx_audit_report *rep)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, logdir, &ro, NULL) == CDX_OK);
    cdx_audit_opts ao = {.roster = roster};
    REQUIRE(cdx_audit_verify(log, &ao, rep, NULL) == CDX_OK);
    if (!rep->pass)
        fprintf(stderr, "%s: %s\n", logdir, rep->reason);
    return log;
}

bool bus_audit(const char *logdir, const cdx_roster *roster, cdx_audit_report *rep)
{
    cdx_log *log = bus_audit_open(logdir, roster, rep);
    cdx_log_destroy(&log);
    return rep->pass;
}

unsigned bus_port(const char *dir, const char *name)
{
    char path[400], text[8192];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f)
            fclose(f);
        text[n] = '\0';
        const char *at = strstr(text, "(port ");
        unsigned port = at ? (unsigned)strtoul(at + 6, NULL, 10) : 0;
        if (port)
            return port;
        bus_nap(50);
    }
    return 0;
}

void bus_http(unsigned port, const char *method, const char *path, bus_reply *r)
{
    r->status = 0;
    r->body[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[256], buf[sizeof r->body + 1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, req, (size_t)n) == n) {
        ssize_t k;
        while (got < sizeof buf - 1 && (k = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    if (strncmp(buf, "HTTP/1.", 7) == 0)
        r->status = atoi(buf + 9);
    const char *body = strstr(buf, "\r\n\r\n");
    if (body)
        snprintf(r->body, sizeof r->body, "%s", body + 4);
}

void bus_false_head(const char *logdir, const cdx_identity *broker, uint64_t size, uint8_t fill,
                    cdx_bytes *out, uint64_t *size_used)
{
    const char *id = cdx_identity_id(broker);
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, logdir, &ro, NULL) == CDX_OK);
    cdx_log_sender own;
    REQUIRE(cdx_log_sender_get(log, id, &own) == CDX_OK);
    if (!size)
        REQUIRE(cdx_log_size(log, &size) == CDX_OK);
    cdx_log_destroy(&log);
    cdx_body b;
    fixture_body(&b, id, own.max_seq + 1, own.max_hash, "sth", cdx_now_ms());
    b.kind = CDX_PAYLOAD_TREE_HEAD;
    char origin[CDX_ID_MAX + 8];
    snprintf(origin, sizeof origin, "cydex/%s", id);
    b.tree_head.origin = strdup(origin);
    b.tree_head.size = size;
    b.tree_head.timestamp_ms = b.sent_at_ms;
    memset(b.tree_head.root, fill, sizeof b.tree_head.root);
    *out = (cdx_bytes){0};
    REQUIRE(cdx_envelope_sign(broker, &b, out, NULL, NULL) == CDX_OK);
    cdx_body_clear(&b);
    if (size_used)
        *size_used = size;
}
