/* cydex-node: process entry point. Arguments, signals, the config; the
 * work is in node.c. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cydex/roster.h"
#include "daemon.h"
#include "node.h"

static volatile sig_atomic_t s_stop, s_reload;

static const char s_usage[] =
    "usage: cydex-node -c node.conf [-T] [--set KEY=VALUE]...\n\n"
    "A state's node: receives the federation's envelopes from its brokers,\n"
    "verifies and logs each once, and fetches whatever it missed.\n\n"
    "  -c, --config FILE\n"
    "               the configuration (INI: [node] and one [broker.NAME] per\n"
    "               broker; see cydex-node.conf(5))\n"
    "  -T, --check  check everything a start would (keys, roster, log, control\n"
    "               socket, addresses, brokers), creating, locking and binding\n"
    "               nothing: it may run beside the running node; then exit\n"
    "  --set K=V    override one [node] setting of the file\n\n"
    "In the file, '#' or ';' at the start of a line or after whitespace starts a\n"
    "comment; values are written without quotes; an unknown section or setting\n"
    "is refused, with its line.\n"
    "With metrics = HOST:PORT in [node] it answers HTTP GET /health and /metrics\n"
    "(Prometheus).\n"
    "SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the roster file.\n"
    "Exit codes: 0 stopped (or -T: valid); 64 usage; 74 I/O (a log or socket that\n"
    "cannot be made); 75 another process writes the log; 77 key readable by\n"
    "others; 78 configuration error (the file and line named).\n";

/* -T: what node_new would find, found without creating, locking or
 * binding anything, so that it may run beside the node itself (before
 * `systemctl reload`, or as ExecStartPre). */
static int s_check(const node_config *c)
{
    char err[512];
    daemon_member_checked m;
    int ec = daemon_member_check(c->id, c->key, c->roster, c->log, &m, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
        return ec;
    }
    if (c->next_key[0]) { /* as node__keys_open at a start */
        cdx_identity *next = NULL;
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_identity_load(&next, c->next_key, &eb);
        if (rc == CDX_OK && strcmp(cdx_identity_id(next), c->id) != 0)
            rc = cdx_errf(&eb, CDX_ERR_INVALID, "next_key %s is %s's, not %s's", c->next_key,
                          cdx_identity_id(next), c->id);
        cdx_identity_destroy(&next);
        if (rc != CDX_OK) {
            snprintf(err, sizeof err, "%s", cdx_errbuf_msg(&eb, rc));
            ec = rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO ? 74 : 78;
        }
    }
    if (ec == 0 && daemon_creatable("control socket", c->control + 6, err, sizeof err) != 0)
        ec = 74;
    for (size_t i = 0; ec == 0 && i < c->n_brokers; i++) {
        /* its card valid now, as a start links to (a rotation may list a later one) */
        const cdx_member *b = cdx_roster_find_at(m.roster, c->broker[i].id, cdx_now_ms());
        if (!b)
            b = cdx_roster_find(m.roster, c->broker[i].id);
        if (!b || b->role != CDX_ROLE_BROKER) {
            snprintf(err, sizeof err, "%s ([%s]) is not a broker of the roster", c->broker[i].id,
                     c->broker[i].section);
            ec = 78;
        }
    }
    if (ec != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
    } else {
        printf("cydex-node: configuration of %s is valid: roster v%llu of %s%s; log %s (%s", c->id,
               (unsigned long long)cdx_roster_version(m.roster), cdx_roster_federation(m.roster),
               m.roster_from_log ? ", from the log" : "", c->log,
               m.log_exists ? "" : "to be created");
        if (m.log_exists)
            printf("%llu entries", (unsigned long long)m.log_entries);
        printf("); control %s; brokers", c->control);
        for (size_t i = 0; i < c->n_brokers; i++)
            printf("%s %s", i ? "," : "", c->broker[i].id);
        printf("\n");
    }
    cdx_roster_destroy(&m.roster);
    return ec;
}

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
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "-T") == 0 || strcmp(argv[i], "--check") == 0) {
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
        fprintf(stderr, "cydex-node: %s: %s\n", path, err);
        return 78;
    }
    if (check)
        return s_check(&cfg);
    daemon_signals(&s_stop, &s_reload);
    node *n = NULL;
    ec = node_new(&n, &cfg, err, sizeof err);
    if (ec != 0) {
        fprintf(stderr, "cydex-node: %s\n", err);
        return ec;
    }
    ec = node_run(n, &s_stop, &s_reload);
    node_destroy(&n);
    return ec;
}
