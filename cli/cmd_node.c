/* cydex publish / ack / status: the operator's and relays' way to speak through the
 * local node (its control socket). The node signs, logs, keeps the
 * envelope until a broker receipts it, and resends it if need be; these
 * commands return once the node has it durably. A node that is not running
 * gives exit 69 and says so, within seconds, never a hang. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "cydex/transport.h"

#define S_WAIT_MS 5000

int cli_node_request(const char *node, const cdx_bytes *frames, size_t n, cdx_msg *answer,
                     char *err, size_t errlen)
{
    memset(answer, 0, sizeof *answer);
    struct stat st;
    if (strncmp(node, "ipc://", 6) != 0) {
        snprintf(err, errlen, "--node takes the node's control socket, ipc://PATH");
        return CLI_USAGE;
    }
    if (stat(node + 6, &st) != 0) {
        snprintf(err, errlen, "no node at %s: is cydex-node running (its 'control' setting)?",
                 node);
        return 69;
    }
    cdx_errbuf eb = {0};
    cdx_transport *t = NULL;
    cdx_sock *s = NULL;
    cdx_err rc = cdx_transport_new_local(&t, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_connect_local(&s, t, CDX_SOCK_DEALER, node, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_send(s, frames, n, S_WAIT_MS);
    if (rc == CDX_OK)
        rc = cdx_sock_recv(s, answer, S_WAIT_MS);
    int ec = CLI_OK;
    if (rc == CDX_ERR_TIMEOUT) {
        snprintf(err, errlen, "the node at %s did not answer within %d s: is it running?", node,
                 S_WAIT_MS / 1000);
        ec = 69;
    } else if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        ec = cli_exit_code(rc);
    } else if (answer->n != 3) {
        snprintf(err, errlen, "the node's answer is malformed");
        ec = CLI_SOFTWARE;
    } else if (answer->frame[0].len != 2 || memcmp(answer->frame[0].data, "ok", 2) != 0) {
        snprintf(err, errlen, "the node refused it: %.*s", (int)answer->frame[2].len,
                 (const char *)answer->frame[2].data);
        ec = CLI_REFUSED;
    }
    if (ec != CLI_OK)
        cdx_msg_clear(answer);
    cdx_sock_destroy(&s);
    cdx_transport_destroy(&t);
    return ec;
}

int cli_node_ask(const char *node, const cdx_bytes *frames, size_t n, char hash[65], uint64_t *seq,
                 char *err, size_t errlen)
{
    cdx_msg m;
    int ec = cli_node_request(node, frames, n, &m, err, errlen);
    if (ec == CLI_OK) {
        snprintf(hash, 65, "%.*s", (int)m.frame[1].len, (const char *)m.frame[1].data);
        char num[24];
        snprintf(num, sizeof num, "%.*s", (int)m.frame[2].len, (const char *)m.frame[2].data);
        *seq = strtoull(num, NULL, 10);
        cdx_msg_clear(&m);
    }
    return ec;
}

/* Asks the node and reports as a command does. */
static int s_ask(const char *cmd, const char *node, const cdx_bytes *frames, size_t n, bool json)
{
    char hash[65] = "", err[400] = "";
    uint64_t seq = 0;
    int ec = cli_node_ask(node, frames, n, hash, &seq, err, sizeof err);
    if (ec != CLI_OK)
        fprintf(stderr, "cydex %s: %s\n", cmd, err);
    else if (json)
        printf("{\"hash\":\"%s\",\"seq\":%llu}\n", hash, (unsigned long long)seq);
    else
        printf("%s: seq %llu, envelope hash %s (logged; sent to the brokers)\n", cmd,
               (unsigned long long)seq, hash);
    return ec;
}

static cdx_bytes s_b(const char *s)
{
    return (cdx_bytes){(uint8_t *)s, strlen(s)};
}

int cmd_publish(int argc, char **argv)
{
    static const char usage[] =
        "cydex publish --node ipc://PATH --topic T [--to ID,ID] [--in FILE] [--json]";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"to", required_argument, NULL, 'T'},
                                         {"in", required_argument, NULL, 'i'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL, *topic = NULL, *to = "", *in = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 't': topic = optarg; break;
        case 'T': to = optarg; break;
        case 'i': in = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\nReads an alert as JSON (--in or stdin) and has the local node "
                   "sign it,\nlog it and send it (sealed to --to, for TLP:AMBER, AMBER+STRICT or "
                   "RED).\nExit 0 once the node holds it durably; 1 refused; 69 no node "
                   "running.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("publish", usage, "bad option");
        }
    }
    if (!node || !topic || optind != argc)
        return cli_usage("publish", usage, "--node and --topic are required");
    if (!cdx_topic_valid(topic))
        return cli_usage("publish", usage, "'%s' is not a topic (a-z 0-9 . _ -)", topic);
    cdx_errbuf eb = {0};
    cdx_bytes alert;
    cdx_err rc = cli_read_input(in, 4u << 20, &alert, &eb);
    if (rc != CDX_OK)
        return cli_fail("publish", rc, &eb);
    cdx_bytes frames[4] = {s_b("publish"), s_b(topic), s_b(to), alert};
    int ec = s_ask("publish", node, frames, 4, json);
    cdx_bytes_free(&alert);
    return ec;
}

int cmd_ack(int argc, char **argv)
{
    static const char usage[] = "cydex ack --node ipc://PATH --stage STAGE [--note TEXT] "
                                "[--alert-id ID] [--json] ALERT_HASH";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"stage", required_argument, NULL, 's'},
                                         {"note", required_argument, NULL, 'o'},
                                         {"alert-id", required_argument, NULL, 'a'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL, *stage = NULL, *note = "", *id = "";
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 's': stage = optarg; break;
        case 'o': note = optarg; break;
        case 'a': id = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\nAcknowledges an alert, named by its envelope hash, at a stage:\n"
                   "received, investigating, not-affected, mitigated, assistance-offered,\n"
                   "rejected. Exit 0 once the node holds it; 1 refused; 69 no node running.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("ack", usage, "bad option");
        }
    }
    if (!node || !stage || argc - optind != 1)
        return cli_usage("ack", usage, "--node, --stage and the alert's hash are required");
    cdx_ack_stage st;
    if (cdx_ack_stage_parse(stage, &st) != CDX_OK)
        return cli_usage("ack", usage, "unknown stage '%s'", stage);
    cdx_bytes frames[5] = {s_b("ack"), s_b(argv[optind]), s_b(stage), s_b(note), s_b(id)};
    return s_ask("ack", node, frames, 5, json);
}

/* Text rendering of the node's status JSON. */
static void s_print_status(const json_t *o)
{
    printf("%s: %" JSON_INTEGER_FORMAT " log entries; %" JSON_INTEGER_FORMAT
           " waiting for a broker's receipt\n",
           json_string_value(json_object_get(o, "id")),
           json_integer_value(json_object_get(o, "log_entries")),
           json_integer_value(json_object_get(o, "waiting_for_receipt")));
    printf("this run: %" JSON_INTEGER_FORMAT " published, %" JSON_INTEGER_FORMAT
           " logged from the brokers, %" JSON_INTEGER_FORMAT " refused, %" JSON_INTEGER_FORMAT
           " catch-up requests\n",
           json_integer_value(json_object_get(o, "published")),
           json_integer_value(json_object_get(o, "logged")),
           json_integer_value(json_object_get(o, "refused")),
           json_integer_value(json_object_get(o, "catchup_requests")));
    printf("brokers:");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "brokers"), i, v) printf(" %s", json_string_value(v));
    printf("\n%-24s %12s %12s\n", "sender", "last seq", "entries");
    json_array_foreach(json_object_get(o, "senders"), i, v)
        printf("%-24s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
               json_string_value(json_object_get(v, "id")),
               json_integer_value(json_object_get(v, "max_seq")),
               json_integer_value(json_object_get(v, "entries")));
}

int cmd_status(int argc, char **argv)
{
    static const char usage[] = "cydex status --node ipc://PATH [--json]";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\nAsks the local node what its log holds (entries, each "
                   "sender's last seq),\nwhat it did this run, and how many of its own "
                   "envelopes still wait for a\nbroker's receipt. Exit 0; 69 no node running.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("status", usage, "bad option");
        }
    }
    if (!node || optind != argc)
        return cli_usage("status", usage, "--node is required");
    cdx_bytes frames[1] = {s_b("status")};
    cdx_msg m;
    char err[400] = "";
    int ec = cli_node_request(node, frames, 1, &m, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex status: %s\n", err);
        return ec;
    }
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    if (!json_is_object(o)) {
        fprintf(stderr, "cydex status: the node's answer is not a JSON object\n");
        ec = CLI_SOFTWARE;
    } else if (json) {
        printf("%.*s\n", (int)m.frame[1].len, (const char *)m.frame[1].data);
    } else {
        s_print_status(o);
    }
    json_decref(o);
    cdx_msg_clear(&m);
    return ec;
}
