/* cydex-node: process entry point. Arguments, signals, the config; the
 * work is in node.c. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "node.h"

static volatile sig_atomic_t s_stop, s_reload;

static const char s_usage[] =
    "usage: cydex-node -c node.conf [-T] [--set KEY=VALUE]...\n\n"
    "A state's node: receives the federation's envelopes from its brokers,\n"
    "verifies and logs each once, and fetches whatever it missed.\n\n"
    "  -c FILE      the configuration (INI: [node] and one [broker.NAME] each)\n"
    "  -T           check the configuration and keys, then exit\n"
    "  --set K=V    override one [node] setting of the file\n\n"
    "With metrics = HOST:PORT in [node] it answers HTTP GET /health and /metrics\n"
    "(Prometheus).\n"
    "SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the roster file. Exit codes: 0 stopped; 64 "
    "usage; 74 I/O;\n"
    "77 key readable by others; 78 configuration error.\n";

static int s_set(void *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    return node_config_set(cfg, key, value, err, errlen);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    const char *sets[32];
    int n_sets = 0;
    bool check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "-T") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < 32) {
            sets[n_sets++] = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(s_usage, stdout);
            return 0;
        } else {
            fputs(s_usage, stderr);
            return 64;
        }
    }
    if (!path) {
        fputs(s_usage, stderr);
        return 64;
    }
    node_config cfg;
    char err[512];
    if (node_config_load(&cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
        return 78;
    }
    int ec = daemon_apply_sets("cydex-node", sets, n_sets, s_set, &cfg);
    if (ec != 0)
        return ec;
    if (node_config_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
        return 78;
    }
    daemon_signals(&s_stop, &s_reload);
    node *n = NULL;
    ec = node_new(&n, &cfg, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
        return ec;
    }
    if (check) {
        printf("cydex-node: configuration of %s is valid\n", cfg.id);
        node_destroy(&n);
        return 0;
    }
    ec = node_run(n, &s_stop, &s_reload);
    node_destroy(&n);
    return ec;
}
