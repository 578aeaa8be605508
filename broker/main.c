/* cydex-broker: process entry point. Arguments, signals, the config;
 * the work is in broker.c. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "cydex/roster.h"
#include "daemon.h"

static volatile sig_atomic_t s_stop, s_reload;

static const char s_usage[] =
    "usage: cydex-broker -c broker.conf [-T] [--set KEY=VALUE]...\n\n"
    "Relays signed envelopes between the federation's nodes: CURVE on every\n"
    "socket, members only, every envelope verified and committed to the\n"
    "broker's audit log before it is acknowledged or relayed.\n\n"
    "  -c, --config FILE\n"
    "                 the configuration (INI: [broker] and one [peer.NAME] per\n"
    "                 peer; see cydex-broker.conf(5))\n"
    "  -T, --check    check everything a start would (key, roster, log, addresses,\n"
    "                 peers), creating, locking and binding nothing: it may run\n"
    "                 beside the running broker; then exit\n"
    "  --set K=V      override one [broker] setting of the file\n\n"
    "In the file, '#' or ';' at the start of a line or after whitespace starts a\n"
    "comment; values are written without quotes; an unknown section or setting\n"
    "is refused, with its line.\n"
    "With metrics = HOST:PORT in the file it answers HTTP GET /health and\n"
    "/metrics (Prometheus).\n"
    "Signals: SIGTERM/SIGINT finish the round in hand and stop; SIGHUP reloads\n"
    "the roster file (a higher version signed by the current admins).\n"
    "Exit codes: 0 stopped cleanly (or -T: valid); 64 usage; 74 I/O (a log or\n"
    "socket that cannot be made); 75 another process writes the log; 77 key\n"
    "readable by others; 78 configuration error (the file and line named).\n";

/* -T: what broker_new would find, found without creating, locking or
 * binding anything, so that it may run beside the broker itself (before
 * `systemctl reload`, or as ExecStartPre). */
static int s_check(const broker_config *c)
{
    char err[512];
    daemon_member_checked m;
    int ec = daemon_member_check(c->id, c->key, c->roster, c->log, &m, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-broker: %s\n", err);
        return ec;
    }
    const struct {
        const char *key, *ep;
    } binds[] = {{"ingress", c->ingress}, {"fanout", c->fanout}, {"catchup", c->catchup}};
    for (size_t i = 0; ec == 0 && i < 3; i++)
        if (strncmp(binds[i].ep, "ipc://", 6) == 0 &&
            daemon_creatable(binds[i].key, binds[i].ep + 6, err, sizeof err) != 0)
            ec = 74;
    for (size_t i = 0; ec == 0 && i < c->n_peers; i++) {
        /* its card valid now, as a start links to (a rotation may list a later one) */
        const cdx_member *p = cdx_roster_find_at(m.roster, c->peer[i].id, cdx_now_ms());
        if (!p)
            p = cdx_roster_find(m.roster, c->peer[i].id);
        if (!p || p->role != CDX_ROLE_BROKER) {
            snprintf(err, sizeof err, "peer %s ([%s]) is not a broker of the roster", c->peer[i].id,
                     c->peer[i].section);
            ec = 78;
        }
    }
    if (ec != 0) {
        fprintf(stderr, "cydex-broker: %s\n", err);
    } else {
        printf("cydex-broker: configuration of %s is valid: roster v%llu of %s%s; log %s (%s",
               c->id, (unsigned long long)cdx_roster_version(m.roster),
               cdx_roster_federation(m.roster), m.roster_from_log ? ", from the log" : "", c->log,
               m.log_exists ? "" : "to be created");
        if (m.log_exists)
            printf("%llu entries", (unsigned long long)m.log_entries);
        printf("); ingress %s, fan-out %s, catch-up %s; %zu peer%s\n", c->ingress, c->fanout,
               c->catchup, c->n_peers, c->n_peers == 1 ? "" : "s");
    }
    cdx_roster_destroy(&m.roster);
    return ec;
}

static int s_set(void *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    return broker_config_set(cfg, key, value, err, errlen);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'T'},
                                         {"set", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    const char *sets[32];
    int n_sets = 0, c;
    bool check = false;
    while ((c = getopt_long(argc, argv, "c:Th", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'T': check = true; break;
        case 's':
            if (n_sets == 32) {
                fprintf(stderr, "cydex-broker: too many --set\n");
                return 64;
            }
            sets[n_sets++] = optarg;
            break;
        case 'h': fputs(s_usage, stdout); return 0;
        default: fputs(s_usage, stderr); return 64;
        }
    }
    if (!path || optind != argc) {
        fputs(s_usage, stderr);
        return 64;
    }
    broker_config cfg;
    char err[512];
    if (broker_config_load(&cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "cydex-broker: %s\n", err);
        return 78;
    }
    int ec = daemon_apply_sets("cydex-broker", sets, n_sets, s_set, &cfg);
    if (ec != 0)
        return ec;
    if (broker_config_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "cydex-broker: %s: %s\n", path, err);
        return 78;
    }
    if (check)
        return s_check(&cfg);
    daemon_signals(&s_stop, &s_reload);
    broker *b = NULL;
    ec = broker_new(&b, &cfg, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-broker: %s\n", err);
        return ec;
    }
    ec = broker_run(b, &s_stop, &s_reload);
    broker_destroy(&b);
    return ec;
}
