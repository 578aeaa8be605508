/* cydex relay: a bridge between a feed (a SIEM, an IDS, a MISP export) and
 * the bus, both ways at once, through the local node. JSON alerts read on
 * stdin, one per line, are published on --topic (a JSON result line each
 * on stderr, as `publish --lines --json` prints them); what the node logs
 * under --subscribe from the other members is written to stdout as JSON
 * lines (as `tail --json` prints them). The end of stdin ends only the
 * inbound half; the relay runs until SIGINT or SIGTERM, or until the node
 * stops and does not come back within --wait-node seconds: through a
 * restart of the node it asks again what was not answered (every line
 * carries an alert id, which the node publishes once) and follows on from
 * where it was. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "feed.h"
#include "mispbridge.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* The outbound half: entries to stdout, our own left out unless --own. */
typedef struct s_out {
    const char *me;
    bool own;
} s_out;

static bool s_entry(void *ctx, const char *line, size_t len)
{
    const s_out *o = ctx;
    if (!o->own) {
        json_t *e = json_loadb(line, len, 0, NULL);
        const char *sender = json_string_value(
            json_object_get(json_object_get(json_object_get(e, "envelope"), "body"), "sender"));
        bool mine = sender && strcmp(sender, o->me) == 0;
        json_decref(e);
        if (mine)
            return true;
    }
    printf("%.*s\n", (int)len, line);
    return true;
}

/* The node's member id, from its status. */
static int s_whoami(cli_node *nc, char id[64], char *err, size_t errlen)
{
    cdx_bytes f = {(uint8_t *)"status", 6};
    cdx_msg m;
    int ec = cli_node_call(nc, &f, 1, &m, err, errlen);
    if (ec != CLI_OK)
        return ec;
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    const char *v = json_string_value(json_object_get(o, "id"));
    snprintf(id, 64, "%s", v ? v : "");
    json_decref(o);
    cdx_msg_clear(&m);
    if (!id[0]) {
        snprintf(err, errlen, "the node's status names no member id");
        return CLI_SOFTWARE;
    }
    return CLI_OK;
}

static int s_relay(const cli_feed_opts *fo, const char *subscribe, const char *from, bool own)
{
    char err[400] = "", me[64] = "";
    /* The feed's connection; the follower has its own: answers come in order. */
    cli_node *in = NULL;
    cli_feed *feed = NULL;
    s_out o = {.me = me, .own = own};
    cli_follow fw = {.cmd = "relay",
                     .node = fo->node,
                     .topic = subscribe,
                     .fn = s_entry,
                     .ctx = &o,
                     .wait_s = fo->wait_node_s};
    snprintf(fw.at, sizeof fw.at, "%s", from);
    int ec = cli_node_open(&in, fo->node, err, sizeof err);
    if (ec == CLI_OK)
        ec = cli_node_open(&fw.nc, fo->node, err, sizeof err);
    if (ec == CLI_OK)
        ec = s_whoami(fw.nc, me, err, sizeof err);
    if (ec == CLI_OK)
        ec = cli_feed_new(&feed, &in, STDIN_FILENO, fo);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex relay: %s\n", err);
        cli_node_close(&in);
        cli_node_close(&fw.nc);
        return ec;
    }
    bool inbound = true;
    while (ec == CLI_OK && !s_stop) {
        if (inbound) {
            ec = cli_feed_step(feed, 100); /* input, answers, or 100 ms */
            if (ec == CLI_OK && cli_feed_done(feed)) {
                cli_feed_finish(feed);
                inbound = false;
            }
        }
        bool moved = false;
        err[0] = '\0';
        if (ec == CLI_OK)
            ec = cli_follow_ride(&fw, &moved, err, sizeof err);
        if (ec == CLI_OK && fflush(stdout) != 0) {
            snprintf(err, sizeof err, "cannot write to standard output");
            ec = CLI_IOERR;
        }
        if (s_stop) /* the signal may have cut a wait short: that is no error */
            ec = CLI_OK;
        if (ec != CLI_OK && err[0])
            fprintf(stderr, "cydex relay: %s\n", err);
        if (ec == CLI_OK && !inbound && !moved && !fw.lost_since) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    cli_feed_destroy(&feed);
    cli_node_close(&in);
    cli_node_close(&fw.nc);
    return ec;
}

int cmd_relay(int argc, char **argv)
{
    static const char usage[] =
        "cydex relay [--node ipc://PATH] --topic TOPIC [--to IDS|all] [--tlp TLP] "
        "[--subscribe PREFIX] [--from INDEX] [--own] [--wait-node S]\n"
        "       cydex relay --from-misp-zmq ENDPOINT [--misp-auth FILE] [--node ipc://PATH] "
        "--topic TOPIC [--to IDS|all] [--tlp TLP]";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"to", required_argument, NULL, 'o'},
                                         {"tlp", required_argument, NULL, 'l'},
                                         {"subscribe", required_argument, NULL, 's'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"own", no_argument, NULL, 'w'},
                                         {"wait-node", required_argument, NULL, 'W'},
                                         {"from-misp-zmq", required_argument, NULL, 'M'},
                                         {"misp-auth", required_argument, NULL, 'A'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL, *topic = NULL, *to = "", *tlp = NULL, *subscribe = "", *from = "end";
    const char *misp = NULL, *misp_auth = NULL;
    bool own = false, relay_only = false;
    uint64_t ignored, wait_node = 60;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 't': topic = optarg; break;
        case 'o': to = optarg; break;
        case 'l': tlp = optarg; break;
        case 's':
            subscribe = optarg;
            relay_only = true;
            break;
        case 'f':
            if (!cdx_parse_u64(optarg, &ignored))
                return cli_usage("relay", usage, "--from takes a log index");
            from = optarg;
            relay_only = true;
            break;
        case 'w':
            own = true;
            relay_only = true;
            break;
        case 'M': misp = optarg; break;
        case 'A': misp_auth = optarg; break;
        case 'W':
            if (!cdx_parse_u64(optarg, &wait_node) || wait_node > 86400)
                return cli_usage("relay", usage, "--wait-node takes 0 to 86400 seconds");
            break;
        case 'h':
            printf("usage: %s\n\nA bridge between a feed and the bus, both ways, through the "
                   "local node.\nIn: one JSON alert per line on stdin, published on --topic "
                   "(under\n\"alert.\", e.g. alert.ids), sealed to --to (member ids, or "
                   "all: every state\nof the roster in force), with --tlp set over the alert's "
                   "own; every alert\nabove GREEN must be sealed, CLEAR and GREEN never are "
                   "(a line that breaks\nthis is refused, exit 1). One JSON result "
                   "line each on\nstderr, in input order: {\"line\":N,\"hash\":...,\"seq\":...} "
                   "or\n{\"line\":N,\"exit\":CODE,\"error\":...}.\nOut: what the node logs "
                   "from now on (or from --from INDEX) under the topic\nprefix --subscribe, one "
                   "JSON line per entry on stdout (sealed alerts\naddressed to this node "
                   "opened); this node's own envelopes only with --own.\nThe end of stdin ends "
                   "the inbound half only, said on stderr as\n{\"end\":true,\"alerts\":N,"
                   "\"refused\":M}. Stops on SIGINT or SIGTERM (exit 0); 69 if\nthe node "
                   "was not running, or stopped and did not come back within\n--wait-node "
                   "seconds (default 60; 0: stop at once). A node that comes back\nis asked "
                   "again every line it had not answered (each line without an id\nis given "
                   "one, and the node publishes an id once: no line is lost or\npublished "
                   "twice) and followed on from where it was (nothing lost or\nprinted "
                   "twice).\n--tlp is one of " CDX_TLP_NAMES ".\n"
                   "Exit codes: 0 stopped by a signal (a line refused is said in its result\n"
                   "line); 74 standard output cannot be written;\n" CLI_NODE_EXITS ".\n"
                   "\nWith --from-misp-zmq ENDPOINT: the MISP bridge. Instead of stdin, it "
                   "subscribes\nto MISP's ZeroMQ feed (one frame per message, \"<topic> "
                   "<json>\") and takes\nthe misp_json messages (the whole {\"Event\": ...} "
                   "of a published event);\nother topics (misp_json_event, ...) and the "
                   "misp_json_self heartbeat are\npassed over. Each event is mapped as "
                   "'cydex publish --format misp' maps it\nand published on --topic: the "
                   "alert's id is the event's uuid, so the same\nevent again is one alert; "
                   "an edited event (same uuid, other content, a\nlater timestamp) is "
                   "published as an update of it, with the id\nuuid5(\"misp-update:<uuid>:"
                   "<timestamp>\"). Events above GREEN are sealed to\n--to (without --to "
                   "they are refused). One JSON line per event on stderr:\n"
                   "{\"event\":N,\"hash\":...,\"seq\":...,\"uuid\":...,\"timestamp\":...} "
                   "(\"update\":true for\nan update) or {\"event\":N,\"exit\":CODE,"
                   "\"error\":...,...}: an event that is not\nJSON, over 4 MiB, or does "
                   "not map is refused and the bridge goes on.\n--misp-auth FILE: ZMQ PLAIN "
                   "credentials, one line \"user:password\" (the file\nmode 0600: 77 "
                   "otherwise; 66 missing; 65 malformed). MISP restarting is\nridden through "
                   "(the feed reconnects by itself; what MISP sent meanwhile is\nnot "
                   "replayed). Exit codes: 0 stopped by a signal; 64 usage (or a bad\n"
                   "ENDPOINT); 69 the node was not running or went away.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("relay", usage, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage("relay", usage, "unexpected argument '%s'", argv[optind]);
    if (!topic)
        return cli_usage("relay", usage, "--topic names where the alerts read go");
    if (misp_auth && !misp)
        return cli_usage("relay", usage, "--misp-auth goes with --from-misp-zmq");
    if (misp && relay_only)
        return cli_usage("relay", usage,
                         "--from-misp-zmq is inbound only: not with --subscribe, --from or --own");
    if (misp) {
        if (tlp) {
            cdx_tlp ignored_tlp;
            if (cdx_tlp_parse(tlp, &ignored_tlp) != CDX_OK)
                return cli_usage("relay", usage, "--tlp is one of " CDX_TLP_NAMES);
        }
        cli_bridge_opts bo = {.endpoint = misp,
                              .auth = misp_auth,
                              .node = cli_node_path(node),
                              .topic = topic,
                              .to = to,
                              .tlp = tlp};
        return cli_misp_bridge(&bo);
    }
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    cli_feed_opts fo = {.cmd = "relay",
                        .topic = topic,
                        .to = to,
                        .tlp = tlp,
                        .json = true,
                        .results = stderr,
                        .node = cli_node_path(node),
                        .wait_node_s = wait_node};
    return s_relay(&fo, subscribe, from, own);
}
