/* cydex log: write to an audit log offline, for relays that keep their own
 * record and for tests and demos before the daemons do it on the bus.
 *
 *   append      verify envelopes against the roster and append them, as one
 *               batch (one transaction, one fsync)
 *   checkpoint  sign the log's current tree head with the owner's key
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cydex/log.h"

static const char s_usage[] =
    "cydex log append --dir DIR --roster R [--owner ID] [--from ID] ENVELOPE...\n"
    "       cydex log checkpoint --dir DIR --key OWNER.secret";

static int s_append(const char *dir, const char *roster_path, const char *owner, const char *from,
                    char **files, int n)
{
    cdx_errbuf eb = {0};
    cdx_roster *roster = NULL;
    cdx_log *log = NULL;
    cdx_envelope **envs = calloc((size_t)n + 1, sizeof *envs);
    cdx_log_append_in *in = calloc((size_t)n + 1, sizeof *in);
    cdx_log_append_out *out = calloc((size_t)n + 1, sizeof *out);
    cdx_bytes rb = {0};
    cdx_err rc = envs && in && out ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK)
        rc = cli_load_trusted_roster(&roster, roster_path, &eb);
    for (int i = 0; rc == CDX_OK && i < n; i++) {
        cdx_bytes raw;
        rc = cli_read_input(files[i], CDX_ENVELOPE_MAX_DEFAULT + 1, &raw, &eb);
        if (rc == CDX_OK) {
            rc = cdx_envelope_verify(&envs[i], roster, raw.data, raw.len, NULL, &eb);
            if (rc != CDX_OK) {
                char why[sizeof eb.msg];
                memcpy(why, eb.msg, sizeof why);
                cdx_errf(&eb, rc, "%s: %s", files[i], why);
            }
        }
        cdx_bytes_free(&raw);
        in[i] = (cdx_log_append_in){
            .env = envs[i], .received_at_ms = cdx_now_ms(), .received_from = from ? from : "local"};
    }
    if (rc == CDX_OK) {
        cdx_log_opts o = {.owner = owner, .exclusive = true};
        rc = cdx_log_new(&log, dir, &o, &eb);
    }
    if (rc == CDX_OK)
        rc = cdx_log_append(log, in, (size_t)n, out, &eb);
    if (rc == CDX_OK && cdx_roster_encode(roster, &rb) == CDX_OK)
        rc = cdx_log_keep_roster(log, cdx_roster_version(roster), rb.data, rb.len, &eb);
    if (rc == CDX_OK) {
        unsigned stored = 0, dups = 0, equiv = 0;
        for (int i = 0; i < n; i++) {
            stored += out[i].status == CDX_APPEND_STORED;
            dups += out[i].status == CDX_APPEND_DUPLICATE;
            equiv += out[i].status == CDX_APPEND_EQUIVOCATION;
            if (out[i].status == CDX_APPEND_EQUIVOCATION)
                fprintf(stderr,
                        "cydex log: %s: EQUIVOCATION: its sender already signed "
                        "another envelope with this seq; kept as evidence at %llu\n",
                        files[i], (unsigned long long)out[i].index);
        }
        uint64_t size = 0;
        cdx_log_size(log, &size);
        printf("%s: stored %u, duplicates %u, equivocations %u; %llu entries\n", dir, stored, dups,
               equiv, (unsigned long long)size);
    }
    int ec = rc == CDX_OK ? CLI_OK : cli_fail("log", rc, &eb);
    for (int i = 0; envs && i < n; i++)
        cdx_envelope_destroy(&envs[i]);
    free(envs);
    free(in);
    free(out);
    cdx_bytes_free(&rb);
    cdx_log_destroy(&log);
    cdx_roster_destroy(&roster);
    return ec;
}

static int s_checkpoint(const char *dir, const char *key)
{
    cdx_errbuf eb = {0};
    cdx_identity *owner = NULL;
    cdx_log *log = NULL;
    char *text = NULL;
    cdx_err rc = cdx_identity_load(&owner, key, &eb);
    /* A checkpoint is of a log that exists: never one made for it. */
    char mdb[4200];
    snprintf(mdb, sizeof mdb, "%s/data.mdb", dir);
    if (rc == CDX_OK && access(mdb, F_OK) != 0)
        rc = cdx_errf(&eb, CDX_ERR_NOENT, "%s holds no log", dir);
    if (rc == CDX_OK) {
        cdx_log_opts o = {.owner = cdx_identity_id(owner), .exclusive = true};
        rc = cdx_log_new(&log, dir, &o, &eb);
    }
    if (rc == CDX_OK)
        rc = cdx_log_checkpoint(log, owner, cdx_now_ms(), &text, &eb);
    if (rc == CDX_OK)
        fputs(text, stdout);
    free(text);
    cdx_log_destroy(&log);
    cdx_identity_destroy(&owner);
    return rc == CDX_OK ? CLI_OK : cli_fail("log", rc, &eb);
}

int cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"roster", required_argument, NULL, 'r'},
                                         {"owner", required_argument, NULL, 'o'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char help[] =
        "\n\nA new log takes --owner as the member whose key signs its checkpoints.\n"
        "Appending verifies every envelope first; duplicates are refused and counted,\n"
        "equivocations kept as evidence.\n"
        "Exit codes: 0 done; 1 an envelope refused (signature, roster); 64 usage; 65\n"
        "malformed envelope, roster or log; 66 no such file or log; 70 internal error;\n"
        "74 I/O error (a full disk); 75 another process writes the log; 77 the key is\n"
        "readable by others.\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: %s%s", s_usage, help);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1], *dir = NULL, *roster = NULL, *owner = NULL, *from = NULL,
               *key = NULL;
    int c;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'r': roster = optarg; break;
        case 'o': owner = optarg; break;
        case 'f': from = optarg; break;
        case 'k': key = optarg; break;
        case 'h': printf("usage: %s%s", s_usage, help); return CLI_OK;
        default: return cli_usage("log", s_usage, "bad option");
        }
    }
    if (owner && !cdx_id_valid(owner))
        return cli_usage("log", s_usage, "'%s' is not a member id", owner);
    if (strcmp(sub, "append") == 0) {
        if (!dir || !roster || optind >= argc)
            return cli_usage("log", s_usage, "append needs --dir, --roster and ENVELOPE files");
        return s_append(dir, roster, owner, from, argv + optind, argc - optind);
    }
    if (strcmp(sub, "checkpoint") == 0) {
        if (!dir || !key || optind != argc)
            return cli_usage("log", s_usage, "checkpoint needs --dir and --key");
        return s_checkpoint(dir, key);
    }
    return cli_usage("log", s_usage, "unknown subcommand '%s'", sub);
}
