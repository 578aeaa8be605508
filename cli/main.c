/* cydex: the operator's and relay's command line. This file only
 * dispatches; each command lives in its own cmd_*.c. Global options
 * (--node) may come before the command as well as after it: they are
 * handed to the command as if given after it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} s_commands[] = {
    {"keygen", cmd_keygen, "make a member's keys: ID.secret (0600) and ID.pub"},
    {"roster", cmd_roster,
     "create, edit (revoke, rotate keys, admins, threshold), sign, verify, show the roster"},
    {"sign", cmd_sign, "sign an alert or ack (JSON on stdin) into an envelope"},
    {"verify", cmd_verify, "verify an envelope against the roster; print it as JSON"},
    {"inspect", cmd_inspect, "decode an envelope without trusting it"},
    {"publish", cmd_publish, "publish an alert through the local node (flags, JSON, lines)"},
    {"ack", cmd_ack, "acknowledge an alert through the local node"},
    {"status", cmd_status, "what the local node has logged, sent and still holds"},
    {"tail", cmd_tail, "follow the local node's log live (JSON lines with --json)"},
    {"relay", cmd_relay, "bridge a feed and the bus both ways: JSON lines in and out"},
    {"convert", cmd_convert, "convert alerts and acks: CyDEx, MISP, STIX 2.1, CAP 1.2 (offline)"},
    {"list", cmd_list, "alerts in the local node's log, with who acknowledged them"},
    {"show", cmd_show, "one alert: its content, who acknowledged it, when, with what note"},
    {"log", cmd_log, "append verified envelopes to an audit log; sign its checkpoint"},
    {"demo", cmd_demo, "walk through keys, roster, signed and sealed alerts, a forgery"},
};

static void s_help(FILE *out)
{
    fprintf(out, "usage: cydex COMMAND [OPTIONS]\n\n"
                 "CyDEx, the cyber-diplomacy alert exchange: signed, sealed, logged alerts\n"
                 "between the national cyber-security teams of a federation.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        fprintf(out, "  %-9s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\n'cydex COMMAND --help' shows a command's options, the values they take and\n"
                 "its exit codes. Commands that talk to the local node take --node ipc://PATH\n"
                 "(before or after the command), or the CYDEX_NODE environment variable;\n"
                 "without either they use the only node control socket in /run/cydex\n"
                 "(ID.control, as cydex-node@ID's configuration has it; CYDEX_RUNTIME_DIR\n"
                 "names another folder).\n\n"
                 "exit codes: 0 ok; 1 refused (signature, roster, policy or sealing check);\n"
                 "  64 usage; 65 malformed input; 66 input missing; 69 node not running;\n"
                 "  70 internal error; 75 tail --timeout before --count, a log that\n"
                 "  another process writes, or a node busy starting;\n"
                 "  73 would overwrite (publish: an alert id published before with other\n"
                 "  content); 74 I/O error; 77 secret key readable by others\n");
}

/* `cydex --node X CMD ARGS`: argv made `cydex CMD [SUB] --node X ARGS`
 * (after the subcommand of a command that has them: roster). *out is
 * malloc'd, or NULL if there are no global options (argv stays). Returns
 * 0, or 64 having said why. */
static int s_globals(int argc, char **argv, char ***out, int *out_argc)
{
    *out = NULL;
    int g = 1;
    while (g < argc && (strcmp(argv[g], "--node") == 0 || strncmp(argv[g], "--node=", 7) == 0))
        g += strcmp(argv[g], "--node") == 0 ? 2 : 1;
    if (g == 1)
        return 0;
    if (g > argc) {
        fprintf(stderr, "cydex: --node takes ipc://PATH\n");
        return CLI_USAGE;
    }
    if (g == argc) {
        fprintf(stderr, "cydex: a command comes after --node ipc://PATH\n\n");
        s_help(stderr);
        return CLI_USAGE;
    }
    char **v = calloc((size_t)argc + 1, sizeof *v);
    if (!v) {
        fprintf(stderr, "cydex: out of memory\n");
        return CLI_SOFTWARE;
    }
    int n = 0, at = g;
    v[n++] = argv[0];
    v[n++] = argv[at++];
    if (strcmp(v[1], "roster") == 0 && at < argc && argv[at][0] != '-')
        v[n++] = argv[at++];
    for (int i = 1; i < g; i++)
        v[n++] = argv[i];
    while (at < argc)
        v[n++] = argv[at++];
    *out = v;
    *out_argc = n;
    return 0;
}

static int s_dispatch(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        s_help(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("cydex 0.1.0 (wire version %u)\n", CDX_WIRE_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        if (strcmp(cmd, s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cydex: unknown command '%s'\n\n", cmd);
    s_help(stderr);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    char **moved = NULL;
    int ec = s_globals(argc, argv, &moved, &argc);
    if (ec != 0)
        return ec;
    if (moved)
        argv = moved;
    if (argc < 2) {
        s_help(stderr);
        ec = CLI_USAGE;
    } else {
        ec = s_dispatch(argc, argv);
    }
    free(moved);
    return ec;
}
