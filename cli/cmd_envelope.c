/* cydex sign / verify / inspect: envelopes offline, for relays, tests and
 * auditors. The bus daemons use the same library calls. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define S_JSON_MAX (4u * 1024u * 1024u)

static const char s_sign_usage[] =
    "cydex sign --key K.secret --roster R --topic T --seq N [--prev-hash HEX]\n"
    "                  [--to ID,ID...|all] [--kind alert|ack] [--sent-at T] [--in FILE] "
    "[--out FILE]";

int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"roster", required_argument, NULL, 'r'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"seq", required_argument, NULL, 's'},
                                         {"prev-hash", required_argument, NULL, 'p'},
                                         {"to", required_argument, NULL, 'T'},
                                         {"kind", required_argument, NULL, 'K'},
                                         {"sent-at", required_argument, NULL, 'a'},
                                         {"in", required_argument, NULL, 'i'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL, *roster_path = NULL, *topic = NULL, *prev = NULL, *to = NULL;
    const char *kind = "alert", *in = NULL, *out = NULL;
    uint64_t seq = 0, sent_at = 0;
    bool have_seq = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'r': roster_path = optarg; break;
        case 't': topic = optarg; break;
        case 'p': prev = optarg; break;
        case 'T': to = optarg; break;
        case 'K': kind = optarg; break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 's':
            if (!cdx_parse_u64(optarg, &seq) || seq == 0)
                return cli_usage("sign", s_sign_usage, "--seq takes a number from 1");
            have_seq = true;
            break;
        case 'a':
            if (cdx_time_parse(optarg, &sent_at) != CDX_OK)
                return cli_usage("sign", s_sign_usage, "'%s' is not a time", optarg);
            break;
        case 'h':
            printf("usage: %s\n\n"
                   "Reads an alert (or with --kind ack, an ack) as JSON from --in or stdin,\n"
                   "signs it as the key's member and writes the envelope to --out or stdout.\n"
                   "--to seals a TLP:AMBER, AMBER+STRICT or RED alert to those members\n"
                   "(--to all: every state of the roster valid at --sent-at). Every alert\n"
                   "above GREEN must be sealed; CLEAR and GREEN never are. An alert's topic\n"
                   "is under \"alert.\" (alert.energy); an ack's is \"ack\".\n"
                   "--prev-hash is the hash of this sender's envelope seq-1 (required from\n"
                   "seq 2; see 'cydex inspect'). The key must be the one the roster lists for\n"
                   "the member at --sent-at (now by default): after a rotation, the old key\n"
                   "until its time, the new one from then on; alerts are sealed to each\n"
                   "recipient's key valid then. R is a roster file taken on trust, or a chain\n"
                   "v1.bin,v2.bin (each a valid successor of the one before).\n"
                   "Standard input is not read from a terminal: give --in FILE or a pipe.\n"
                   "In the JSON: tlp is one of " CDX_TLP_NAMES
                   ";\nseverity one of " CDX_SEVERITY_NAMES ";\nstatus one of " CDX_STATUS_NAMES
                   "; msg_type one of " CDX_MSG_TYPE_NAMES
                   ";\nan ack's stage one of " CDX_ACK_STAGE_NAMES ".\n\n"
                   "Exit codes: 0 signed; 1 refused (a TLP or topic rule, a recipient not in\n"
                   "the roster, a roster or sealing check); 64 usage; 65 malformed JSON or a\n"
                   "value not listed above; 66 no such file; 70 internal error; 74 I/O error;\n"
                   "77 the key is readable by others.\n",
                   s_sign_usage);
            return CLI_OK;
        default: return cli_usage("sign", s_sign_usage, "bad option");
        }
    }
    if (!key || !roster_path || !topic || !have_seq || optind != argc)
        return cli_usage("sign", s_sign_usage, "--key, --roster, --topic and --seq are required");
    bool is_ack = strcmp(kind, "ack") == 0;
    if (!is_ack && strcmp(kind, "alert") != 0)
        return cli_usage("sign", s_sign_usage, "--kind is alert or ack");
    if (is_ack && to)
        return cli_usage("sign", s_sign_usage, "acks are not sealed: drop --to");
    if (cli_stdin_is_terminal(in))
        return cli_usage("sign", s_sign_usage,
                         "no %s given: --in FILE, or its JSON piped to standard input (a terminal "
                         "here)",
                         kind);

    cdx_errbuf eb = {0};
    cdx_identity *me = NULL;
    cdx_roster *roster = NULL;
    cdx_bytes input = {0}, env = {0};
    cdx_body body = {0};
    cdx_alert alert = {0};
    cdx_envelope *check = NULL;
    int ec = CLI_OK;
    cdx_err rc = cdx_identity_load(&me, key, &eb);
    if (rc == CDX_OK)
        rc = cli_load_trusted_roster(&roster, roster_path, &eb);
    if (rc == CDX_OK)
        rc = cli_read_input(in, S_JSON_MAX, &input, &eb);
    if (rc != CDX_OK)
        goto done;
    body.sender = strdup(cdx_identity_id(me));
    body.topic = strdup(topic);
    body.seq = seq;
    body.sent_at_ms = sent_at ? sent_at : cdx_now_ms();
    if (prev) {
        if (cdx_hex_decode(body.prev_hash, CDX_HASH_BYTES, prev) != CDX_OK) {
            ec = cli_usage("sign", s_sign_usage, "--prev-hash takes 64 hex digits");
            goto cleanup;
        }
        body.has_prev_hash = true;
    }
    if (is_ack) {
        body.kind = CDX_PAYLOAD_ACK;
        rc = cdx_json_to_ack(&body.ack, (const char *)input.data, input.len, &eb);
    } else {
        rc = cdx_json_to_alert(&alert, (const char *)input.data, input.len, &eb);
        if (rc == CDX_OK && to) {
            cdx_member *recips = NULL;
            size_t n = 0;
            rc = cdx_seal_recipients(roster, to, body.sent_at_ms, &recips, &n, &eb);
            if (rc == CDX_OK)
                rc = cdx_seal_alert(&body.sealed, &alert, body.sender, seq, topic, recips, n, &eb);
            free(recips);
            body.kind = CDX_PAYLOAD_SEALED;
        } else if (rc == CDX_OK) {
            body.alert = alert;
            memset(&alert, 0, sizeof alert);
            body.kind = CDX_PAYLOAD_ALERT;
        }
    }
    /* This key file against the roster's cards: say which window it is
     * outside of (a rotation), rather than that the signature fails. */
    cdx_member mine;
    cdx_identity_card(me, &mine);
    uint64_t when = 0;
    cdx_key_state ks =
        cdx_roster_key_state(roster, body.sender, mine.sign_pk, body.sent_at_ms, &when, NULL);
    char t[CDX_TIME_TEXT_MAX] = "";
    if (when)
        cdx_time_format(t, when);
    if (rc == CDX_OK && ks == CDX_KEY_NOT_YET_VALID)
        rc = cdx_errf(&eb, CDX_ERR_KEY_NOT_VALID, "%s's key in %s is not valid yet (from %s on)",
                      body.sender, key, t);
    else if (rc == CDX_OK && ks == CDX_KEY_ENDED)
        rc = cdx_errf(&eb, CDX_ERR_KEY_NOT_VALID,
                      "%s's key in %s is no longer valid (it was until %s): the roster rotated it",
                      body.sender, key, t);
    if (rc == CDX_OK)
        rc = cdx_envelope_sign(me, &body, &env, NULL, &eb);
    /* Self-check against the roster: refuses keys not in it, or revoked. */
    if (rc == CDX_OK)
        rc = cdx_envelope_verify(&check, roster, env.data, env.len, NULL, &eb);
    if (rc == CDX_OK)
        rc = cli_write_output(out, env.data, env.len, true, &eb);
    if (rc == CDX_OK && isatty(STDERR_FILENO)) {
        char hex[2 * CDX_HASH_BYTES + 1];
        cdx_hex_encode(hex, cdx_envelope_hash(check), CDX_HASH_BYTES);
        fprintf(stderr, "signed %s seq %llu on %s: %zu bytes, hash %s\n", body.sender,
                (unsigned long long)seq, topic, env.len, hex);
    }
done:
    if (rc != CDX_OK)
        ec = cli_fail("sign", rc, &eb);
cleanup:
    cdx_envelope_destroy(&check);
    cdx_alert_clear(&alert);
    cdx_body_clear(&body);
    cdx_bytes_free(&env);
    cdx_bytes_free(&input);
    cdx_roster_destroy(&roster);
    cdx_identity_destroy(&me);
    return ec;
}

static const char s_verify_usage[] =
    "cydex verify --roster R [--topic T] [--open K.secret] [--max-skew MS] [--max-size N] "
    "[--pretty] [FILE|-]";

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"roster", required_argument, NULL, 'r'},   {"topic", required_argument, NULL, 't'},
        {"open", required_argument, NULL, 'o'},     {"max-skew", required_argument, NULL, 's'},
        {"max-size", required_argument, NULL, 'm'}, {"pretty", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *roster_path = NULL, *open_key = NULL;
    cdx_verify_opts vo = {0};
    bool pretty = false;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roster_path = optarg; break;
        case 't': vo.topic = optarg; break;
        case 'o': open_key = optarg; break;
        case 'P': pretty = true; break;
        case 's':
            if (!cdx_parse_u64(optarg, &v) || v == 0)
                return cli_usage("verify", s_verify_usage, "--max-skew takes milliseconds");
            vo.max_skew_ms = v;
            vo.now_ms = cdx_now_ms();
            break;
        case 'm':
            if (!cdx_parse_u64(optarg, &v) || v == 0)
                return cli_usage("verify", s_verify_usage, "--max-size takes bytes");
            vo.max_size = (size_t)v;
            break;
        case 'h':
            printf("usage: %s\n\n"
                   "Verifies an envelope (FILE or stdin) against a roster and prints it as\n"
                   "JSON. --topic checks the bus topic frame; --max-skew checks sent_at\n"
                   "against this clock; --open opens a sealed alert addressed to that key.\n"
                   "The signature is checked with the signer's key valid at the envelope's\n"
                   "sent_at. R is a roster file taken on trust, or a chain v1.bin,v2.bin.\n"
                   "Exit codes: 0 verified; 1 refused, with the reason on stderr; 64 usage; 65\n"
                   "malformed envelope or roster; 66 no such file; 70 internal error; 74 I/O\n"
                   "error; 77 the --open key is readable by others.\n",
                   s_verify_usage);
            return CLI_OK;
        default: return cli_usage("verify", s_verify_usage, "bad option");
        }
    }
    if (!roster_path || argc - optind > 1)
        return cli_usage("verify", s_verify_usage, "--roster is required; one FILE at most");
    const char *path = optind < argc ? argv[optind] : NULL;
    if (cli_stdin_is_terminal(path))
        return cli_usage("verify", s_verify_usage,
                         "no envelope given: name its FILE, or pipe it to standard input (a "
                         "terminal here)");
    cdx_errbuf eb = {0};
    cdx_roster *roster = NULL;
    cdx_identity *me = NULL;
    cdx_envelope *env = NULL;
    cdx_alert opened = {0};
    cdx_bytes in = {0};
    char *json = NULL;
    bool did_open = false;
    size_t max = vo.max_size ? vo.max_size : CDX_ENVELOPE_MAX_DEFAULT;
    cdx_err rc = cli_load_trusted_roster(&roster, roster_path, &eb);
    if (rc == CDX_OK && open_key)
        rc = cdx_identity_load(&me, open_key, &eb);
    if (rc == CDX_OK)
        rc = cli_read_input(path, max + 1, &in, &eb);
    if (rc == CDX_OK)
        rc = cdx_envelope_verify(&env, roster, in.data, in.len, &vo, &eb);
    if (rc == CDX_OK && me && cdx_envelope_body(env)->kind == CDX_PAYLOAD_SEALED) {
        rc = cdx_envelope_open(env, me, &opened, &eb);
        did_open = rc == CDX_OK;
    }
    if (rc == CDX_OK)
        rc = cdx_json_from_envelope(&json, env, did_open ? &opened : NULL, pretty);
    if (rc == CDX_OK)
        printf("%s\n", json);
    int ec = rc == CDX_OK ? CLI_OK : cli_fail("verify", rc, &eb);
    free(json);
    cdx_alert_clear(&opened);
    cdx_bytes_free(&in);
    cdx_envelope_destroy(&env);
    cdx_identity_destroy(&me);
    cdx_roster_destroy(&roster);
    return ec;
}

int cmd_inspect(int argc, char **argv)
{
    static const char usage[] = "cydex inspect [--pretty] [FILE|-]";
    bool pretty = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s\n\nDecodes an envelope without checking any signature and prints "
                   "it as JSON\n(\"verified\": false). For forensics; use verify to trust "
                   "it.\nExit codes: 0 decoded; 64 usage; 65 not an envelope; 66 no such file; "
                   "70\ninternal error; 74 I/O error.\n",
                   usage);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--pretty") == 0)
            pretty = true;
        else if (!path)
            path = argv[i];
        else
            return cli_usage("inspect", usage, "one FILE at most");
    }
    if (cli_stdin_is_terminal(path))
        return cli_usage("inspect", usage,
                         "no envelope given: name its FILE, or pipe it to standard input (a "
                         "terminal here)");
    cdx_errbuf eb = {0};
    cdx_bytes in = {0};
    cdx_envelope *env = NULL;
    char *json = NULL;
    cdx_err rc = cli_read_input(path, CDX_ENVELOPE_MAX_DEFAULT + 1, &in, &eb);
    if (rc == CDX_OK)
        rc = cdx_envelope_inspect(&env, in.data, in.len, &eb);
    if (rc == CDX_OK)
        rc = cdx_json_from_envelope(&json, env, NULL, pretty);
    if (rc == CDX_OK)
        printf("%s\n", json);
    int ec = rc == CDX_OK ? CLI_OK : cli_fail("inspect", rc, &eb);
    free(json);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&in);
    return ec;
}
