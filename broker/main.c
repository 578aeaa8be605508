/* cydex-broker: process entry point. Arguments, signals, the config;
 * the work is in broker.c. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "daemon.h"

static volatile sig_atomic_t s_stop, s_reload;

static const char s_usage[] =
    "usage: cydex-broker -c broker.conf [-T] [--set KEY=VALUE]...\n\n"
    "Relays signed envelopes between the federation's nodes: CURVE on every\n"
    "socket, members only, every envelope verified and committed to the\n"
    "broker's audit log before it is acknowledged or relayed.\n\n"
    "  -c FILE        the configuration (INI, section [broker]; see README)\n"
    "  -T             check the configuration and keys, then exit\n"
    "  --set K=V      override one setting of the file\n\n"
    "With metrics = HOST:PORT in the file it answers HTTP GET /health and\n"
    "/metrics (Prometheus).\n"
    "Signals: SIGTERM/SIGINT finish the round in hand and stop; SIGHUP reloads\n"
    "the roster file (a higher version signed by the current admins).\n"
    "Exit codes: 0 stopped cleanly; 64 usage; 74 I/O; 77 key readable by\n"
    "others; 78 configuration error.\n";

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
    daemon_signals(&s_stop, &s_reload);
    broker *b = NULL;
    ec = broker_new(&b, &cfg, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-broker: %s\n", err);
        return ec;
    }
    if (check) {
        printf("cydex-broker: configuration of %s is valid\n", cfg.id);
        broker_destroy(&b);
        return 0;
    }
    ec = broker_run(b, &s_stop, &s_reload);
    broker_destroy(&b);
    return ec;
}
