/* cydex demo, live: two brokers (peered) and three nodes (each connected
 * to both) on this machine, the brokers on free 127.0.0.1 ports below the
 * kernel's ephemeral range (the nodes' control sockets are ipc:// in their
 * folders). EE publishes a TLP:GREEN alert and a TLP:AMBER alert sealed
 * to FR; FR and DE acknowledge; broker.alpha is killed with SIGKILL and EE
 * publishes again, delivered through broker.beta; every log is audited; a
 * table says who received, could read and acknowledged what. Every process it starts
 * is stopped by its PID, whatever happens; every wait is bounded. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cydex/audit.h"
#include "cydex/log.h"
#include "demo.h"

#define S_MAX_PROCS 5

typedef struct s_live {
    demo *d;
    char bin[4096];
    pid_t pid[S_MAX_PROCS];
    const char *name[S_MAX_PROCS];
    int port[2][3];           /* broker.alpha, broker.beta: ingress, fan-out, catch-up */
    int metrics[S_MAX_PROCS]; /* each daemon's HTTP /health and /metrics, by slot */
} s_live;

static const char *s_brokers[2] = {"broker.alpha", "broker.beta"};

/* 127.0.0.1:port (0: the kernel's pick) if nobody holds it now; -1 if
 * somebody does. */
static int s_try_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int got = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        got = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return got;
}

/* The lowest port the kernel hands out by itself (to connections, and to
 * binds of port 0). */
static int s_ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 32768, hi;
    if (f && fscanf(f, "%d %d", &lo, &hi) != 2)
        lo = 32768;
    if (f)
        fclose(f);
    return lo;
}

/* A TCP port on 127.0.0.1 that nobody holds now, for a daemon to bind a
 * moment later: below the kernel's own range, so that no connection or
 * port-0 bind made meanwhile (by the daemons starting, or anything else on
 * the machine) takes it first; the kernel's pick if none is found there;
 * -1 if none at all. */
static int s_free_port(void)
{
    static unsigned seed;
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16;
    }
    const int low = 10000, span = s_ephemeral_low() - low;
    for (int i = 0; i < 64 && span > 1000; i++) {
        int port = low + (int)(rand_r(&seed) % (unsigned)span);
        if (s_try_port(port) == port)
            return port;
    }
    return s_try_port(0);
}

/* Whether something accepts connections on 127.0.0.1:port, waiting a
 * bounded while for it. */
static bool s_wait_port(int port)
{
    for (int i = 0; i < 500; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (up)
            return true;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void s_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *s_path(const demo *d, const char *id, const char *file)
{
    static char bufs[8][4300];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 4300, "%s/%s/%s", d->dir, id, file);
    return p;
}

/* The daemons live beside this cydex binary. */
static bool s_find_bin(s_live *l)
{
    ssize_t n = readlink("/proc/self/exe", l->bin, sizeof l->bin - 1);
    if (n <= 0)
        return false;
    l->bin[n] = '\0';
    char *slash = strrchr(l->bin, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

static bool s_wait_file(const char *path)
{
    struct stat st;
    for (int i = 0; i < 500; i++) {
        if (stat(path, &st) == 0)
            return true;
        s_nap(10);
    }
    return false;
}

static pid_t s_spawn(s_live *l, int slot, const char *id, const char *prog, const char *conf,
                     const char *ready)
{
    char bin[4200];
    snprintf(bin, sizeof bin, "%s/%s", l->bin, prog);
    FILE *f = fopen(s_path(l->d, id, "daemon.conf"), "w");
    if (!f)
        return -1;
    fputs(conf, f);
    fclose(f);
    const char *conf_path = s_path(l->d, id, "daemon.conf");
    const char *err_path = s_path(l->d, id, "daemon.log");
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(err_path, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(bin, prog, "-c", conf_path, (char *)NULL);
        _exit(127);
    }
    if (pid > 0) {
        l->pid[slot] = pid;
        l->name[slot] = id;
    }
    return pid > 0 && (!ready || s_wait_file(ready)) ? pid : -1;
}

static int s_stop(s_live *l, int slot, int sig)
{
    pid_t pid = l->pid[slot];
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    for (int i = 0; i < 1000; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            l->pid[slot] = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        s_nap(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    l->pid[slot] = 0;
    return -1;
}

static void s_ep(char out[4400], const demo *d, const char *id, const char *what)
{
    snprintf(out, 4400, "ipc://%s/%s/%s", d->dir, id, what);
}

/* Broker b's endpoint for role r, on 127.0.0.1. */
static void s_tcp(char out[64], const s_live *l, int b, int r)
{
    snprintf(out, 64, "tcp://127.0.0.1:%d", l->port[b][r]);
}

static bool s_start_broker(s_live *l, int slot, int me)
{
    demo *d = l->d;
    const char *id = s_brokers[me], *peer = s_brokers[1 - me];
    char in[64], fan[64], cu[64], pfan[64], pcu[64];
    s_tcp(in, l, me, 0);
    s_tcp(fan, l, me, 1);
    s_tcp(cu, l, me, 2);
    s_tcp(pfan, l, 1 - me, 1);
    s_tcp(pcu, l, 1 - me, 2);
    size_t cap = 4 * 4400 + 1024;
    char *conf = malloc(cap);
    if (!conf)
        return false;
    snprintf(conf, cap,
             "[broker]\nid = %s\nkey = %s/%s/%s.secret\nroster = %s/roster.bin\nlog = %s\n"
             "ingress = %s\nfanout = %s\ncatchup = %s\ncheckpoint_ms = 250\n"
             "peer_sync_ms = 500\nmetrics = 127.0.0.1:%d\n"
             "[peer.other]\nid = %s\nfanout = %s\ncatchup = %s\n",
             id, d->dir, id, id, d->dir, s_path(d, id, "log"), in, fan, cu, l->metrics[slot], peer,
             pfan, pcu);
    bool ok = s_spawn(l, slot, id, "cydex-broker", conf, NULL) > 0;
    for (int r = 0; ok && r < 3; r++)
        ok = s_wait_port(l->port[me][r]);
    free(conf);
    return ok;
}

static bool s_start_node(s_live *l, int slot, const char *id)
{
    demo *d = l->d;
    char ctl[4400], b[2][3][64];
    size_t cap = 4 * 4400 + 1024;
    char *conf = malloc(cap);
    if (!conf)
        return false;
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 3; r++)
            s_tcp(b[i][r], l, i, r);
    s_ep(ctl, d, id, "control");
    snprintf(conf, cap,
             "[node]\nid = %s\nkey = %s/%s/%s.secret\nroster = %s/roster.bin\nlog = %s\n"
             "control = %s\nresend_ms = 500\nsync_ms = 1000\nmetrics = 127.0.0.1:%d\n"
             "[broker.alpha]\nid = broker.alpha\ningress = %s\nfanout = %s\ncatchup = %s\n"
             "[broker.beta]\nid = broker.beta\ningress = %s\nfanout = %s\ncatchup = %s\n",
             id, d->dir, id, id, d->dir, s_path(d, id, "log"), ctl, l->metrics[slot], b[0][0],
             b[0][1], b[0][2], b[1][0], b[1][1], b[1][2]);
    bool ok = s_spawn(l, slot, id, "cydex-node", conf, ctl + 6) > 0;
    free(conf);
    return ok;
}

/* Through a node's control socket, as the cydex command does. */
static bool s_publish(s_live *l, const char *id, const char *topic, const char *to,
                      const char *json, char hash[65])
{
    char ctl[4400], err[400];
    uint64_t seq = 0;
    s_ep(ctl, l->d, id, "control");
    cdx_bytes f[4] = {{(uint8_t *)"publish", 7},
                      {(uint8_t *)topic, strlen(topic)},
                      {(uint8_t *)to, strlen(to)},
                      {(uint8_t *)json, strlen(json)}};
    int ec = cli_node_ask(ctl, f, 4, hash, &seq, err, sizeof err);
    if (ec != CLI_OK)
        printf("        %s\n", err);
    return ec == CLI_OK;
}

static bool s_ack(s_live *l, const char *id, const char *hash, const char *stage, const char *note)
{
    char ctl[4400], err[400], h[65];
    uint64_t seq = 0;
    s_ep(ctl, l->d, id, "control");
    cdx_bytes f[5] = {{(uint8_t *)"ack", 3},
                      {(uint8_t *)hash, strlen(hash)},
                      {(uint8_t *)stage, strlen(stage)},
                      {(uint8_t *)note, strlen(note)},
                      {(uint8_t *)"", 0}};
    int ec = cli_node_ask(ctl, f, 5, h, &seq, err, sizeof err);
    if (ec != CLI_OK)
        printf("        %s\n", err);
    return ec == CLI_OK;
}

/* Numbers from one answer of `id`'s node to status (so that they agree
 * with each other); -1 for each it does not give. */
static void s_statuses(s_live *l, const char *id, const char *const *keys, long long *out, size_t n)
{
    char ctl[4400], err[400];
    for (size_t i = 0; i < n; i++)
        out[i] = -1;
    s_ep(ctl, l->d, id, "control");
    cdx_bytes f[1] = {{(uint8_t *)"status", 6}};
    cdx_msg m;
    if (cli_node_request(ctl, f, 1, &m, err, sizeof err) != CLI_OK)
        return;
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i]);
        out[i] = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    }
    json_decref(o);
    cdx_msg_clear(&m);
}

static long long s_status(s_live *l, const char *id, const char *key)
{
    long long n;
    s_statuses(l, id, &key, &n, 1);
    return n;
}

/* A relay's burst: n alerts sent to `id`'s node without waiting for each
 * answer (as `cydex publish --lines` and `cydex relay` do); the last
 * one's hash to last. */
static bool s_burst(s_live *l, const char *id, int n, char last[65])
{
    char ctl[4400], err[400] = "";
    s_ep(ctl, l->d, id, "control");
    cli_node *c = NULL;
    if (cli_node_open(&c, ctl, err, sizeof err) != CLI_OK) {
        printf("        %s\n", err);
        return false;
    }
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        char json[200];
        snprintf(json, sizeof json,
                 "{\"title\":\"IDS: scan of the ministry's VPN from a known botnet (%d of %d)\","
                 "\"tlp\":\"GREEN\",\"severity\":\"minor\"}",
                 i + 1, n);
        cdx_bytes f[4] = {{(uint8_t *)"publish", 7},
                          {(uint8_t *)"alert.government", 16},
                          {(uint8_t *)"", 0},
                          {(uint8_t *)json, strlen(json)}};
        ok = cli_node_send(c, f, 4) == CDX_OK;
    }
    for (int i = 0; ok && i < n; i++) {
        cdx_msg m;
        ok = cli_node_recv(c, &m, err, sizeof err) == CLI_OK;
        if (ok && i == n - 1)
            snprintf(last, 65, "%.*s", (int)m.frame[1].len, (const char *)m.frame[1].data);
        if (ok)
            cdx_msg_clear(&m);
    }
    if (!ok)
        printf("        %s\n", err);
    cli_node_close(&c);
    return ok;
}

/* Whether member `who`'s log holds the envelope with this hash (hex). */
static bool s_holds(const demo *d, const char *who, const char *hex, cdx_log_entry *out)
{
    uint8_t h[CDX_HASH_BYTES];
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    uint64_t index;
    bool found = cdx_hex_decode(h, CDX_HASH_BYTES, hex) == CDX_OK &&
                 cdx_log_new(&log, s_path(d, who, "log"), &ro, NULL) == CDX_OK &&
                 cdx_log_find_hash(log, h, &index) == CDX_OK &&
                 (!out || cdx_log_get(log, index, out, NULL) == CDX_OK);
    cdx_log_destroy(&log);
    return found;
}

static bool s_wait_holds(const demo *d, const char *who, const char *hex)
{
    for (int i = 0; i < 300; i++) {
        if (s_holds(d, who, hex, NULL))
            return true;
        s_nap(50);
    }
    return false;
}

typedef struct s_acks {
    const char *alert; /* hex */
    char stage[3][32]; /* by EE, FR, DE */
} s_acks;

/* The stage of `who`'s acknowledgement of `alert` in EE's log, or "-". */
typedef struct s_find_ack {
    const demo *d;
    uint8_t alert[CDX_HASH_BYTES];
    const char *who;
    char stage[32];
} s_find_ack;

static cdx_err s_ack_visit(void *ctx, cdx_log_entry *e)
{
    s_find_ack *f = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) == CDX_OK) {
        const cdx_body *b = cdx_envelope_body(env);
        if (b->kind == CDX_PAYLOAD_ACK && strcmp(b->sender, f->who) == 0 &&
            memcmp(b->ack.alert_hash, f->alert, CDX_HASH_BYTES) == 0)
            snprintf(f->stage, sizeof f->stage, "%s", cdx_ack_stage_name(b->ack.stage));
    }
    cdx_envelope_destroy(&env);
    return CDX_OK;
}

static void s_ack_of(const demo *d, const char *hex, const char *who, char out[32])
{
    s_find_ack f = {.d = d, .who = who};
    snprintf(f.stage, sizeof f.stage, "-");
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    if (cdx_hex_decode(f.alert, CDX_HASH_BYTES, hex) == CDX_OK &&
        cdx_log_new(&log, s_path(d, "EE", "log"), &ro, NULL) == CDX_OK)
        cdx_log_scan(log, 0, UINT64_MAX, s_ack_visit, &f, NULL);
    cdx_log_destroy(&log);
    snprintf(out, 32, "%s", f.stage);
}

static bool s_wait_ack(const demo *d, const char *hex, const char *who)
{
    char stage[32];
    for (int i = 0; i < 300; i++) {
        s_ack_of(d, hex, who, stage);
        if (strcmp(stage, "-") != 0)
            return true;
        s_nap(50);
    }
    return false;
}

static void s_table(demo *d, char alerts[3][65], const char *labels[3])
{
    cdx_identity *ids[2] = {d->fr, d->de};
    const char *names[2] = {"FR", "DE"};
    printf("\n   %-4s %-34s %-12s %-16s %s\n", "", "EE's alert", "received", "could read",
           "acknowledged");
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < 3; a++) {
            cdx_log_entry e = {0};
            bool got = s_holds(d, names[s], alerts[a], &e);
            const char *read = "-";
            cdx_envelope *env = NULL;
            if (got &&
                cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
                cdx_alert opened;
                if (cdx_envelope_body(env)->kind == CDX_PAYLOAD_ALERT) {
                    read = "yes";
                } else if (cdx_envelope_open(env, ids[s], &opened, NULL) == CDX_OK) {
                    read = "yes (opened)";
                    cdx_alert_clear(&opened);
                } else {
                    read = "no (sealed)";
                }
            }
            char stage[32];
            s_ack_of(d, alerts[a], names[s], stage);
            printf("   %-4s %-34s %-12s %-16s %s\n", a == 0 ? names[s] : "", labels[a],
                   got ? "yes" : "NO", read, stage);
            cdx_envelope_destroy(&env);
            cdx_log_entry_clear(&e);
        }
}

void demo_live(demo *d)
{
    s_live l = {.d = d};
    demo_step("8. A live federation: two brokers, peered, and three nodes");
    /* Eleven ports: each broker's three sockets, each daemon's HTTP. */
    int *want[11];
    for (int b = 0; b < 2; b++)
        for (int r = 0; r < 3; r++)
            want[b * 3 + r] = &l.port[b][r];
    for (int slot = 0; slot < 5; slot++)
        want[6 + slot] = &l.metrics[slot];
    bool ports = true;
    for (int i = 0; i < 11 && ports; i++) {
        *want[i] = s_free_port();
        for (int o = 0; o < i && ports; o++) /* the kernel may pick one twice */
            ports = *want[o] != *want[i];
        ports = ports && *want[i] > 0;
    }
    bool ok = ports && s_find_bin(&l) && s_start_broker(&l, 0, 0) && s_start_broker(&l, 1, 1) &&
              s_start_node(&l, 2, "EE") && s_start_node(&l, 3, "FR") && s_start_node(&l, 4, "DE");
    demo_expect(d, ok,
                "broker.alpha, broker.beta, and the nodes of EE, FR and DE are up "
                "(logs in %s/<id>/log)",
                d->dir);
    if (ok)
        printf("        broker.alpha on 127.0.0.1:%d/%d/%d, broker.beta on 127.0.0.1:%d/%d/%d "
               "(ingress/fan-out/catch-up, CURVE); each node's control socket is ipc in its "
               "folder\n",
               l.port[0][0], l.port[0][1], l.port[0][2], l.port[1][0], l.port[1][1], l.port[1][2]);
    char alerts[3][65] = {"", "", ""};
    const char *labels[3] = {"1 TLP:GREEN ransomware wave", "2 TLP:AMBER sealed to FR",
                             "3 TLP:GREEN update, via beta"};
    if (ok) {
        demo_step("9. EE publishes; FR and DE receive and acknowledge");
        ok = s_publish(&l, "EE", "alert.health", "",
                       "{\"title\":\"Ransomware wave against hospitals\",\"tlp\":\"GREEN\","
                       "\"severity\":\"severe\",\"category\":\"ransomware\"}",
                       alerts[0]) &&
             s_publish(&l, "EE", "alert.energy", "FR",
                       "{\"title\":\"Compromised supplier of grid-control software\","
                       "\"tlp\":\"AMBER\",\"severity\":\"severe\"}",
                       alerts[1]);
        demo_expect(d, ok, "EE's node signed, logged and sent both (one sealed to FR)");
        bool arrived = ok && s_wait_holds(d, "FR", alerts[0]) && s_wait_holds(d, "FR", alerts[1]) &&
                       s_wait_holds(d, "DE", alerts[0]) && s_wait_holds(d, "DE", alerts[1]);
        demo_expect(d, arrived, "both arrived at FR's and DE's nodes, verified and logged");
        ok = arrived && s_ack(&l, "FR", alerts[0], "investigating", "checking our hospitals") &&
             s_ack(&l, "DE", alerts[0], "not-affected", "no such VPN in use") &&
             s_ack(&l, "FR", alerts[1], "mitigated", "supplier's updates blocked");
        bool acked = ok && s_wait_ack(d, alerts[0], "FR") && s_wait_ack(d, alerts[0], "DE") &&
                     s_wait_ack(d, alerts[1], "FR");
        demo_expect(d, acked, "FR and DE acknowledged; EE's node logged their acks");
        ok = acked;
    }
    if (ok) {
        demo_step("10. broker.alpha is killed (SIGKILL); EE publishes again");
        int st = s_stop(&l, 0, SIGKILL);
        demo_expect(d, st == 128 + SIGKILL, "broker.alpha is gone");
        ok = s_publish(&l, "EE", "alert.health", "",
                       "{\"title\":\"Ransomware wave: decryptor available\",\"tlp\":\"GREEN\","
                       "\"severity\":\"moderate\"}",
                       alerts[2]);
        bool via_beta = ok && s_wait_holds(d, "FR", alerts[2]) && s_wait_holds(d, "DE", alerts[2]);
        demo_expect(d, via_beta, "delivered to FR and DE through broker.beta");
    }
    if (ok) {
        demo_step("10b. EE asks its node who acknowledged what (cydex list --node .../EE/control)");
        char ctl[4400];
        s_ep(ctl, d, "EE", "control");
        cdx_bytes f[3] = {{(uint8_t *)"alerts", 6}, {(uint8_t *)"all", 3}, {(uint8_t *)"0", 1}};
        demo_expect(d, cli_node_print_json("list", ctl, f, 3, false, cli_print_alert_list) == 0,
                    "EE's node answered from its log");
    }
    if (ok) {
        demo_step("10c. A relay bridges EE's intrusion-detection feed: 20 alerts at once");
        /* Read together (a co-signature may come between two questions):
         * the co-signatures of brokers' heads made meanwhile are not the
         * burst's. */
        static const char *const keys[] = {"signatures", "batch_signed", "tree_heads_cosigned"};
        long long before[3], after[3];
        s_statuses(&l, "EE", keys, before, 3);
        char last[65] = "";
        ok = s_burst(&l, "EE", 20, last);
        bool came = ok && s_wait_holds(d, "FR", last) && s_wait_holds(d, "DE", last);
        s_statuses(&l, "EE", keys, after, 3);
        long long sigs = after[0] - before[0] - (after[2] - before[2]),
                  batched = after[1] - before[1];
        demo_expect(d, came && sigs > 0 && sigs < 20,
                    "EE's node signed the 20 with %lld signature%s (%lld alert%s under batch "
                    "signatures, each with its own proof); FR and DE verified each and logged "
                    "all 20",
                    sigs, sigs == 1 ? "" : "s", batched, batched == 1 ? "" : "s");
    }
    if (ok) {
        demo_step("10d. Each node witnessed its brokers' logs only growing");
        const char *nodes[] = {"EE", "FR", "DE"};
        for (int i = 0; i < 3; i++) {
            long long seen = 0; /* the burst's heads come within a checkpoint_ms or two */
            for (int t = 0; t < 60 && (seen = s_status(&l, nodes[i], "tree_heads_witnessed")) < 1;
                 t++)
                s_nap(50);
            long long bad = s_status(&l, nodes[i], "tree_heads_inconsistent"),
                      cosigned = s_status(&l, nodes[i], "tree_heads_cosigned");
            demo_expect(d, seen >= 1 && bad == 0 && cosigned >= 1,
                        "%s's node held %lld of the brokers' tree heads against the one before "
                        "(consistency proofs from the brokers): %lld inconsistent; it co-signed "
                        "%lld on \"sth\" for the others to hold against theirs",
                        nodes[i], seen, bad, cosigned);
        }
    }
    const char *order[] = {"EE", "FR", "DE", "broker.beta", "broker.alpha"};
    int slot_of[] = {2, 3, 4, 1, 0};
    bool keep = d->keep && ok;
    demo_step(keep ? "11. Every log audited while the federation runs on (--keep)"
                   : "11. Everything stopped; every log audited");
    for (int i = 0; i < 5 && !keep; i++)
        if (l.pid[slot_of[i]])
            s_stop(&l, slot_of[i], SIGTERM);
    for (int i = 0; i < 5; i++) {
        cdx_log *log = NULL;
        cdx_log_opts ro = {.read_only = true};
        cdx_audit_opts ao = {.roster = d->roster};
        cdx_audit_report r = {0};
        bool ran = cdx_log_new(&log, s_path(d, order[i], "log"), &ro, NULL) == CDX_OK &&
                   cdx_audit_verify(log, &ao, &r, NULL) == CDX_OK;
        demo_expect(d, ran && r.pass,
                    "cydex-audit verify %-13s %s, %llu entries, %llu signed "
                    "checkpoint%s",
                    order[i], ran && r.pass ? "PASS" : "FAIL", (unsigned long long)r.entries,
                    (unsigned long long)r.checkpoints, r.checkpoints == 1 ? "" : "s");
        cdx_log_destroy(&log);
    }
    if (alerts[0][0])
        s_table(d, alerts, labels);
    if (keep) {
        printf("\n   Still running (--keep):");
        for (int i = 0; i < 5; i++)
            if (l.pid[slot_of[i]])
                printf(" %s (pid %d)", order[i], (int)l.pid[slot_of[i]]);
        const char *c = d->cydex;
        printf("\n   Try, as FR:\n"
               "     export CYDEX_NODE=ipc://%s/FR/control\n"
               "     %s list; %s list --unacked\n"
               "     %s show %s\n"
               "     %s tail --from 0 --json\n"
               "     %s publish --topic alert.finance --tlp GREEN --title 'DDoS on "
               "a ministry'\n"
               "     curl -s http://127.0.0.1:%d/metrics; curl -s http://127.0.0.1:%d/health\n"
               "   Health and metrics on 127.0.0.1:",
               d->qdir, c, c, c, alerts[0], c, c, l.metrics[3], l.metrics[3]);
        for (int i = 0; i < 5; i++)
            if (l.pid[slot_of[i]])
                printf(" %d (%s)", l.metrics[slot_of[i]], order[i]);
        printf("\n   Stop them with: kill");
        for (int i = 0; i < 5; i++)
            if (l.pid[slot_of[i]])
                printf(" %d", (int)l.pid[slot_of[i]]);
        printf("\n");
    }
}
