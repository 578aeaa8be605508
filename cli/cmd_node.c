/* cydex publish / ack / status: the operator's and relays' way to speak through the
 * local node (its control socket). The node signs, logs, keeps the
 * envelope until a broker receipts it, and resends it if need be; these
 * commands return once the node has it durably. A node that is not running
 * gives exit 69 and says so, within seconds, never a hang. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cydex/transport.h"
#include "feed.h"

#define S_WAIT_MS 5000

struct cli_node {
    const char *path;
    cdx_transport *t;
    cdx_sock *s;
};

/* Where installed nodes keep their control sockets (the cydex-node@
 * unit's RuntimeDirectory), named ID.control. */
#define S_RUN_DIR "/run/cydex"

static const char *s_run_dir(void)
{
    const char *d = getenv("CYDEX_RUNTIME_DIR");
    return d && d[0] ? d : S_RUN_DIR;
}

/* The control sockets (ID.control) in the runtime folder: how many, and
 * the first ones, ", "-joined, into names. */
static size_t s_node_sockets(char *first, size_t first_len, char *names, size_t names_len)
{
    const char *dir = s_run_dir();
    first[0] = names[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 8 || strcmp(e->d_name + len - 8, ".control") != 0)
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (n++ == 0)
            snprintf(first, first_len, "ipc://%s", path);
        size_t used = strlen(names);
        snprintf(names + used, names_len - used, "%s%s", used ? ", " : "", path);
    }
    closedir(d);
    return n;
}

const char *cli_node_path(const char *given)
{
    if (given)
        return given;
    if (getenv("CYDEX_NODE"))
        return getenv("CYDEX_NODE");
    /* One command talks to one node: the one found is kept for its life. */
    static char found[4200];
    char names[16];
    return s_node_sockets(found, sizeof found, names, sizeof names) == 1 ? found : NULL;
}

/* Why no node was named: none found in the runtime folder, or more than
 * one. */
static void s_no_node(char *err, size_t errlen)
{
    char first[4200], names[2048];
    size_t n = s_node_sockets(first, sizeof first, names, sizeof names);
    if (n > 1)
        snprintf(err, errlen,
                 "%zu nodes on this host (%s): name one with --node ipc://PATH or CYDEX_NODE", n,
                 names);
    else
        snprintf(err, errlen,
                 "no node named, and no node's control socket in %s (ID.control): name one "
                 "with --node ipc://PATH or CYDEX_NODE",
                 s_run_dir());
}

/* Waits (up to S_WAIT_MS) until a process listens on the socket file, as
 * one just started or restarted will: a connection is made once (see
 * cdx_sock_connect_local), so it must find the node there. */
static int s_await_listener(const char *node, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(node + 6) >= sizeof a.sun_path) {
        snprintf(err, errlen, "the socket path %s is too long", node + 6);
        return CLI_USAGE;
    }
    memcpy(a.sun_path, node + 6, strlen(node + 6) + 1);
    uint64_t until = cdx_mono_ms() + S_WAIT_MS;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), e = 0;
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
            e = errno;
        if (fd >= 0)
            close(fd);
        if (!e)
            return CLI_OK;
        if (e == ENOENT) {
            snprintf(err, errlen, "no node at %s: is cydex-node running (its 'control' setting)?",
                     node);
            return 69;
        }
        if (e != ECONNREFUSED && e != EAGAIN) {
            snprintf(err, errlen, "cannot connect to %s: %s", node, strerror(e));
            return e == EACCES || e == EPERM ? CLI_NOPERM : 69;
        }
        if (cdx_mono_ms() >= until) {
            snprintf(err, errlen, "no node listens at %s: is cydex-node running?", node);
            return 69;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int cli_node_open(cli_node **out, const char *node, char *err, size_t errlen)
{
    *out = NULL;
    if (!node) {
        s_no_node(err, errlen);
        return CLI_USAGE;
    }
    if (strncmp(node, "ipc://", 6) != 0) {
        snprintf(err, errlen, "--node (or CYDEX_NODE) names the node's control socket, ipc://PATH");
        return CLI_USAGE;
    }
    int ec = s_await_listener(node, err, errlen);
    if (ec != CLI_OK)
        return ec;
    cli_node *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return CLI_SOFTWARE;
    }
    c->path = node;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_transport_new_local(&c->t, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_connect_local(&c->s, c->t, CDX_SOCK_DEALER, node, &eb);
    if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        cli_node_close(&c);
        return cli_exit_code(rc);
    }
    *out = c;
    return CLI_OK;
}

bool cli_node_gone(const char *node)
{
    struct stat st;
    return node && strncmp(node, "ipc://", 6) == 0 && stat(node + 6, &st) != 0;
}

void cli_node_close(cli_node **c)
{
    if (!c || !*c)
        return;
    cdx_sock_destroy(&(*c)->s);
    cdx_transport_destroy(&(*c)->t);
    free(*c);
    *c = NULL;
}

/* The exit code for a node's ["error"][name][message] answer. */
static int s_refusal_code(const cdx_bytes *name)
{
    for (int e = CDX_OK + 1; e < CDX_ERR__COUNT; e++) {
        const char *n = cdx_errname((cdx_err)e);
        if (strlen(n) == name->len && memcmp(n, name->data, name->len) == 0)
            return cli_exit_code((cdx_err)e);
    }
    return CLI_REFUSED;
}

cdx_err cli_node_send(cli_node *c, const cdx_bytes *frames, size_t n)
{
    return cdx_sock_send(c->s, frames, n, S_WAIT_MS);
}

void cli_node_wait(cli_node *c, int fd, int wait_ms, bool *answer, bool *input)
{
    bool ready[2] = {false, false};
    cdx_sock *socks[1] = {c->s};
    cdx_sock_poll_fd(socks, 1, fd, wait_ms, ready);
    if (answer)
        *answer = ready[0];
    if (input)
        *input = fd >= 0 && ready[1];
}

int cli_node_recv(cli_node *c, cdx_msg *answer, char *err, size_t errlen)
{
    cdx_err rc = cdx_sock_recv(c->s, answer, S_WAIT_MS);
    int ec = CLI_OK;
    if (rc == CDX_ERR_TIMEOUT) {
        snprintf(err, errlen, "the node at %s did not answer within %d s: is it running?", c->path,
                 S_WAIT_MS / 1000);
        ec = 69;
    } else if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(NULL, rc));
        ec = cli_exit_code(rc);
    } else if (answer->n != 3) {
        snprintf(err, errlen, "the node's answer is malformed");
        ec = CLI_SOFTWARE;
    } else if (answer->frame[0].len != 2 || memcmp(answer->frame[0].data, "ok", 2) != 0) {
        snprintf(err, errlen, "%.*s", (int)answer->frame[2].len,
                 (const char *)answer->frame[2].data);
        ec = s_refusal_code(&answer->frame[1]);
    }
    if (ec != CLI_OK)
        cdx_msg_clear(answer);
    return ec;
}

int cli_node_call(cli_node *c, const cdx_bytes *frames, size_t n, cdx_msg *answer, char *err,
                  size_t errlen)
{
    /* A node that says "busy" (it is still taking back its own chain, and
     * did nothing with the request) is asked again, within S_WAIT_MS. */
    uint64_t until = cdx_mono_ms() + S_WAIT_MS;
    for (;;) {
        memset(answer, 0, sizeof *answer);
        if (cli_node_send(c, frames, n) != CDX_OK) {
            snprintf(err, errlen, "the node at %s does not take requests: is it running?", c->path);
            return 69;
        }
        int ec = cli_node_recv(c, answer, err, errlen);
        if (ec != CLI_TEMPFAIL || cdx_mono_ms() + 250 >= until)
            return ec;
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int cli_node_request(const char *node, const cdx_bytes *frames, size_t n, cdx_msg *answer,
                     char *err, size_t errlen)
{
    memset(answer, 0, sizeof *answer);
    cli_node *c = NULL;
    int ec = cli_node_open(&c, node, err, errlen);
    if (ec == CLI_OK)
        ec = cli_node_call(c, frames, n, answer, err, errlen);
    cli_node_close(&c);
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

/* The brokers the node is connected to now, by its status ("a, b" in
 * names); -1 if it did not say. */
static int s_connected_brokers(const char *node, char *names, size_t len)
{
    cdx_bytes frames[1] = {{(uint8_t *)"status", 6}};
    char err[400];
    cdx_msg m;
    names[0] = '\0';
    if (cli_node_request(node, frames, 1, &m, err, sizeof err) != CLI_OK)
        return -1;
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    cdx_msg_clear(&m);
    const json_t *brokers = json_object_get(o, "brokers");
    int up = json_is_array(brokers) ? 0 : -1;
    size_t i;
    json_t *v;
    json_array_foreach(brokers, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        if (!id || !json_is_true(json_object_get(v, "connected")))
            continue;
        size_t used = strlen(names);
        snprintf(names + used, len - used, "%s%s", up ? ", " : "", id);
        up++;
    }
    json_decref(o);
    return up;
}

/* Says what became of an envelope the node logged: whether it went
 * anywhere yet depends on the brokers the node is connected to. */
static void s_say_sent(const char *cmd, const char *node, const char *hash, uint64_t seq, bool json)
{
    if (json) {
        printf("{\"hash\":\"%s\",\"seq\":%llu}\n", hash, (unsigned long long)seq);
        return;
    }
    char names[512];
    int up = s_connected_brokers(node, names, sizeof names);
    printf("%s: logged as seq %llu, envelope hash %s; ", cmd, (unsigned long long)seq, hash);
    if (up > 0)
        printf("sent to %s (connected); it stays in the outbox until a broker's receipt\n", names);
    else if (up == 0)
        printf("no broker connected: it waits in the outbox and is sent when one is\n");
    else
        printf("it stays in the outbox until a broker's receipt\n");
}

/* Asks the node and reports as a command does. The envelope is durable in
 * the node's log and outbox once it answers; whether it went anywhere yet
 * depends on the brokers it is connected to, so say which. */
static int s_ask(const char *cmd, const char *node, const cdx_bytes *frames, size_t n, bool json)
{
    char hash[65] = "", err[400] = "";
    uint64_t seq = 0;
    int ec = cli_node_ask(node, frames, n, hash, &seq, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex %s: %s\n", cmd, err);
        return ec;
    }
    s_say_sent(cmd, node, hash, seq, json);
    return ec;
}

static cdx_bytes s_b(const char *s)
{
    return (cdx_bytes){(uint8_t *)s, strlen(s)};
}

/* The alert to publish from --title and friends, or the JSON read, with
 * --tlp set over it. *out is malloc'd JSON text. */
typedef struct s_alert_flags {
    const char *title, *severity, *category, *description, *tlp;
} s_alert_flags;

static cdx_err s_alert_text(const s_alert_flags *fl, const char *in, size_t len, char **out,
                            cdx_errbuf *eb)
{
    json_t *o = NULL;
    if (fl->title) {
        o = json_pack("{s:s}", "title", fl->title);
        if (o && fl->severity)
            json_object_set_new(o, "severity", json_string(fl->severity));
        if (o && fl->category)
            json_object_set_new(o, "category", json_string(fl->category));
        if (o && fl->description)
            json_object_set_new(o, "description", json_string(fl->description));
    } else {
        return cli_alert_json(in, len, fl->tlp, false, out, eb);
    }
    if (o && fl->tlp)
        json_object_set_new(o, "tlp", json_string(fl->tlp));
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *out ? CDX_OK : cdx_errf(eb, CDX_ERR_NOMEM, "out of memory");
}

cdx_err cli_alert_json(const char *in, size_t len, const char *tlp, bool with_id, char **out,
                       cdx_errbuf *eb)
{
    *out = NULL;
    json_error_t je;
    json_t *o = json_loadb(in, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return cdx_errf(eb, CDX_ERR_FORMAT, "the alert is not a JSON object: %s", je.text);
    }
    if (tlp)
        json_object_set_new(o, "tlp", json_string(tlp));
    if (with_id && !json_object_get(o, "id")) {
        char id[CDX_UUID_TEXT];
        cdx_uuid_new(id);
        json_object_set_new(o, "id", json_string(id));
    }
    *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *out ? CDX_OK : cdx_errf(eb, CDX_ERR_NOMEM, "out of memory");
}

/* --lines: one alert per input line, pipelined (feed.c). Returns 0, the
 * first refusal's exit code, or 69. */
static int s_publish_lines(cli_node **nc, int fd, const cli_feed_opts *o)
{
    cli_feed *f = NULL;
    int ec = cli_feed_new(&f, nc, fd, o);
    while (ec == CLI_OK && !cli_feed_done(f))
        ec = cli_feed_step(f, -1);
    if (ec == CLI_OK)
        ec = cli_feed_finish(f);
    cli_feed_destroy(&f);
    return ec;
}

int cmd_publish(int argc, char **argv)
{
    static const char usage[] =
        "cydex publish [--node ipc://PATH] --topic T [--to ID,ID|all] [--tlp LABEL]\n"
        "              (--title TEXT [--severity S] [--category C] [--description D]\n"
        "               | [--in FILE] [--format misp|stix] [--lines [--wait-node S]]) [--json]";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"to", required_argument, NULL, 'T'},
                                         {"in", required_argument, NULL, 'i'},
                                         {"tlp", required_argument, NULL, 'L'},
                                         {"title", required_argument, NULL, 'x'},
                                         {"severity", required_argument, NULL, 's'},
                                         {"category", required_argument, NULL, 'C'},
                                         {"description", required_argument, NULL, 'd'},
                                         {"lines", no_argument, NULL, 'l'},
                                         {"wait-node", required_argument, NULL, 'w'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL, *topic = NULL, *to = "", *in = NULL, *format = NULL;
    s_alert_flags fl = {0};
    bool json = false, lines = false;
    uint64_t wait_node = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 't': topic = optarg; break;
        case 'T': to = optarg; break;
        case 'i': in = optarg; break;
        case 'L': fl.tlp = optarg; break;
        case 'x': fl.title = optarg; break;
        case 's': fl.severity = optarg; break;
        case 'C': fl.category = optarg; break;
        case 'd': fl.description = optarg; break;
        case 'l': lines = true; break;
        case 'F':
            if (strcmp(optarg, "misp") != 0 && strcmp(optarg, "stix") != 0 &&
                strcmp(optarg, "cydex") != 0)
                return cli_usage("publish", usage, "--format is misp, stix or cydex");
            format = strcmp(optarg, "cydex") == 0 ? NULL : optarg;
            break;
        case 'w':
            if (!cdx_parse_u64(optarg, &wait_node) || wait_node > 86400)
                return cli_usage("publish", usage, "--wait-node takes 0 to 86400 seconds");
            break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\n"
                   "Has the local node sign, log and send an alert: built from --title and the\n"
                   "flags beside it, or read as JSON from --in FILE or standard input (one\n"
                   "alert; with --lines one JSON alert per line, for relays, and one result\n"
                   "line each). Standard input is not read from a terminal: give --title, --in\n"
                   "or a pipe.\n\n"
                   "  --topic T        under \"alert.\": alert.NAME[.NAME...], a-z 0-9 . _ -\n"
                   "                   (e.g. alert.energy); ack, roster, sth and hb are reserved\n"
                   "                   for other messages\n"
                   "  --tlp LABEL      " CDX_TLP_NAMES " (set over the JSON's own);\n"
                   "                   every alert above GREEN must be sealed --to its\n"
                   "                   recipients; CLEAR and GREEN go to everyone, never sealed\n"
                   "  --to ID,ID       seal the alert to these members (and the node itself);\n"
                   "                   all (or '*'): every state of the roster the node holds\n"
                   "                   (not revoked, valid now)\n"
                   "  --title TEXT     build the alert from flags; with it:\n"
                   "  --severity S     " CDX_SEVERITY_NAMES "\n"
                   "  --category C     free text (e.g. ransomware)\n"
                   "  --description D  free text\n"
                   "  --in FILE        the alert as JSON (- for standard input)\n"
                   "  --format F       what --in or standard input holds: cydex (the default),\n"
                   "                   misp or stix (see below)\n"
                   "  --lines          one JSON alert per line, pipelined\n"
                   "  --wait-node S    with --lines: wait up to S seconds (0 to 86400) for a "
                   "node\n"
                   "                   that stops answering and ask it again every line it did\n"
                   "                   not answer (each line without an id is given one, so none\n"
                   "                   is published twice); default 0: stop at once\n"
                   "  --json           results as JSON: {\"hash\":...,\"seq\":...}\n"
                   "  --node ipc://PATH  the node (or CYDEX_NODE; default: the only one in\n"
                   "                   /run/cydex)\n\n"
                   "In the JSON, tlp and title are required; severity is one of the above,\n"
                   "status one of " CDX_STATUS_NAMES ", msg_type one of " CDX_MSG_TYPE_NAMES ".\n"
                   "It prints \"publish: logged as seq N, envelope hash H; \" and then either\n"
                   "\"sent to BROKERS (connected); it stays in the outbox until a broker's\n"
                   "receipt\" or \"no broker connected: it waits in the outbox and is sent when\n"
                   "one is\".\n"
                   "--format misp takes a MISP event ({\"Event\": ...}) and --format stix a\n"
                   "STIX 2.1 bundle of one report, each mapped to the alert it holds as\n"
                   "'cydex convert' maps it (docs/formats.md: the event's uuid is the alert's\n"
                   "id, so the same event published twice is one alert); what has no CyDEx\n"
                   "field is refused (65/1, named): convert --lossy first to leave it out.\n\n"
                   "Exit codes: 0 the node holds it durably (every line); 1 refused by the node\n"
                   "(a TLP or topic rule, a recipient not in the roster or revoked), or a\n"
                   "--format field with no CyDEx field; 64 usage (an option, or a value not\n"
                   "listed above); 65 malformed alert; 66 no such --in file;\n"
                   "69 no node running (or none named); 70 internal error; 73 the alert's id was\n"
                   "published before with other content (asked again with the same, the node\n"
                   "answers with the envelope it made then); 74 the input cannot be read;\n"
                   "75 the node was busy (starting); 77 the node's control socket is not ours\n"
                   "to use.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("publish", usage, "bad option");
        }
    }
    node = cli_node_path(node);
    if (!topic || optind != argc)
        return cli_usage("publish", usage, "--topic is required");
    if (!cdx_topic_valid(topic))
        return cli_usage("publish", usage, "'%s' is not a topic (a-z 0-9 . _ -)", topic);
    if (wait_node && !lines)
        return cli_usage("publish", usage, "--wait-node is for --lines");
    if (fl.title && (in || lines || format))
        return cli_usage("publish", usage,
                         "--title builds the alert; not with --in, --format or --lines");
    if (!fl.title && (fl.severity || fl.category || fl.description))
        return cli_usage("publish", usage,
                         "--severity, --category and --description need "
                         "--title");
    cdx_tlp tlp;
    if (fl.tlp && cdx_tlp_parse(fl.tlp, &tlp) != CDX_OK)
        return cli_usage("publish", usage, "--tlp '%s' is not a TLP label: one of " CDX_TLP_NAMES,
                         fl.tlp);
    cdx_severity sev;
    if (fl.severity && cdx_severity_parse(fl.severity, &sev) != CDX_OK)
        return cli_usage("publish", usage,
                         "--severity '%s' is not a severity: one of " CDX_SEVERITY_NAMES,
                         fl.severity);
    if (!fl.title && cli_stdin_is_terminal(in))
        return cli_usage("publish", usage,
                         "no alert given: --title TEXT builds one from flags; --in FILE, or JSON "
                         "piped to standard input, gives one%s (standard input is a terminal)",
                         lines ? " per line" : "");
    cdx_errbuf eb = {0};
    if (lines) {
        int fd = in && strcmp(in, "-") != 0 ? open(in, O_RDONLY) : STDIN_FILENO;
        if (fd < 0) {
            fprintf(stderr, "cydex publish: cannot read %s: %s\n", in, strerror(errno));
            return CLI_NOINPUT;
        }
        char err[400];
        cli_node *nc = NULL;
        int ec = cli_node_open(&nc, node, err, sizeof err);
        if (ec != CLI_OK)
            fprintf(stderr, "cydex publish: %s\n", err);
        else
            ec = s_publish_lines(&nc, fd,
                                 &(cli_feed_opts){.cmd = "publish",
                                                  .topic = topic,
                                                  .to = to,
                                                  .tlp = fl.tlp,
                                                  .json = json,
                                                  .results = stdout,
                                                  .node = node,
                                                  .wait_node_s = wait_node,
                                                  .format = format});
        cli_node_close(&nc);
        if (fd != STDIN_FILENO)
            close(fd);
        return ec;
    }
    cdx_bytes input = {0};
    char *text = NULL;
    cdx_err rc = fl.title ? CDX_OK : cli_read_input(in, 4u << 20, &input, &eb);
    char *mapped = NULL;
    if (rc == CDX_OK && format)
        rc = cli_format_alert((const char *)input.data, input.len, format, fl.tlp, &mapped, &eb);
    if (rc == CDX_OK)
        rc = mapped ? s_alert_text(&fl, mapped, strlen(mapped), &text, &eb)
                    : s_alert_text(&fl, (const char *)input.data, input.len, &text, &eb);
    free(mapped);
    cdx_bytes_free(&input);
    if (rc != CDX_OK)
        return cli_fail("publish", rc, &eb);
    cdx_bytes frames[4] = {s_b("publish"), s_b(topic), s_b(to), s_b(text)};
    int ec = s_ask("publish", node, frames, 4, json);
    free(text);
    return ec;
}

int cmd_ack(int argc, char **argv)
{
    static const char usage[] = "cydex ack [--node ipc://PATH] --stage STAGE [--note TEXT] "
                                "[--alert-id ID] [--json] ALERT_ID|HASH";
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
            printf("usage: %s\n\nAcknowledges an alert, named by its id or its envelope hash, "
                   "at a stage:\n" CDX_ACK_STAGE_NAMES ". An id must name an alert the\n"
                   "node has logged; a hash may name one still on its way (then --alert-id\n"
                   "gives its id). --note is free text.\n\n"
                   "Exit codes: 0 the node holds the ack durably; 1 refused by the node;\n"
                   "64 usage (an option, or a stage not listed above); 65 malformed (an id or\n"
                   "note the ack cannot carry); 66 no such alert; 69 no node running (or none\n"
                   "named); 70 internal error; 75 the node was busy (starting); 77 the node's\n"
                   "control socket is not ours to use.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("ack", usage, "bad option");
        }
    }
    node = cli_node_path(node);
    if (!stage || argc - optind != 1)
        return cli_usage("ack", usage, "--stage and the alert (its id or hash) are required");
    cdx_ack_stage st;
    if (cdx_ack_stage_parse(stage, &st) != CDX_OK)
        return cli_usage("ack", usage, "unknown stage '%s': one of " CDX_ACK_STAGE_NAMES, stage);
    cdx_bytes frames[5] = {s_b("ack"), s_b(argv[optind]), s_b(stage), s_b(note), s_b(id)};
    return s_ask("ack", node, frames, 5, json);
}

static json_int_t s_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Text rendering of the node's status JSON. */
static void s_print_status(const json_t *o)
{
    printf("%s: %" JSON_INTEGER_FORMAT " log entries; %" JSON_INTEGER_FORMAT
           " waiting for a broker's receipt",
           json_string_value(json_object_get(o, "id")), s_int(o, "log_entries"),
           s_int(o, "waiting_for_receipt"));
    const json_t *oldest = json_object_get(o, "oldest_waiting");
    if (oldest)
        printf(" (the oldest: seq %" JSON_INTEGER_FORMAT ", logged %s)", s_int(oldest, "seq"),
               json_string_value(json_object_get(oldest, "logged_at")));
    printf("\n");
    const json_t *key = json_object_get(o, "key");
    if (key) {
        const char *state = json_string_value(json_object_get(key, "state"));
        const char *until = json_string_value(json_object_get(key, "until"));
        const char *since = json_string_value(json_object_get(key, "since"));
        const char *from = json_string_value(json_object_get(key, "from"));
        const char *next = json_string_value(json_object_get(key, "next_from"));
        bool loaded = json_is_true(json_object_get(key, "next_key"));
        printf("roster v%" JSON_INTEGER_FORMAT " in force; our key: ", s_int(o, "roster_version"));
        if (state && strcmp(state, "ending") == 0 && next)
            printf("valid, rotating out at %s (%s)", until,
                   loaded ? "next_key takes over then" : "no next_key loaded to take over!");
        else if (state && strcmp(state, "ending") == 0)
            printf("valid until %s", until);
        else if (state && strcmp(state, "revoked") == 0)
            printf("REVOKED since %s: the node signs nothing", since);
        else if (state && strcmp(state, "ended") == 0)
            printf("ENDED at %s (rotated out; no next_key holds the key valid now)", since);
        else if (state && strcmp(state, "not yet valid") == 0)
            printf("not yet valid (from %s)", from);
        else if (state && strcmp(state, "unknown") == 0)
            printf("NOT IN THE ROSTER: the node signs nothing");
        else
            printf("%s", state ? state : "?");
        printf("\n");
    }
    printf("this run: %" JSON_INTEGER_FORMAT " published, %" JSON_INTEGER_FORMAT
           " auto-acked, %" JSON_INTEGER_FORMAT " heartbeats, %" JSON_INTEGER_FORMAT
           " logged from the brokers,\n          %" JSON_INTEGER_FORMAT
           " copies of logged envelopes dropped, %" JSON_INTEGER_FORMAT
           " refused, %" JSON_INTEGER_FORMAT " catch-up requests\n",
           s_int(o, "published"), s_int(o, "auto_acked"), s_int(o, "heartbeats"),
           s_int(o, "logged"), s_int(o, "copies_dropped"), s_int(o, "refused"),
           s_int(o, "catchup_requests"));
    if (s_int(o, "publish_repeats"))
        printf("          %" JSON_INTEGER_FORMAT
               " repeated publish(es) of an alert id, answered with the first envelope\n",
               s_int(o, "publish_repeats"));
    if (s_int(o, "own_refused"))
        printf("          %" JSON_INTEGER_FORMAT
               " of our envelopes refused by a broker for good%s%s\n",
               s_int(o, "own_refused"), json_object_get(o, "last_refusal") ? "; last: " : "",
               json_object_get(o, "last_refusal")
                   ? json_string_value(json_object_get(o, "last_refusal"))
                   : "");
    if (s_int(o, "tree_heads_witnessed") || s_int(o, "tree_heads_inconsistent") ||
        s_int(o, "tree_heads_cosigned"))
        printf("          %" JSON_INTEGER_FORMAT
               " brokers' tree heads held consistent with the one before, %" JSON_INTEGER_FORMAT
               " co-signed, %" JSON_INTEGER_FORMAT " INCONSISTENT%s\n",
               s_int(o, "tree_heads_witnessed"), s_int(o, "tree_heads_cosigned"),
               s_int(o, "tree_heads_inconsistent"),
               s_int(o, "tree_heads_inconsistent") ? " (see the node's log: INCONSISTENT TREE HEAD)"
                                                   : "");
    const json_t *lc = json_object_get(o, "log_commits");
    if (lc && s_int(lc, "count"))
        printf("          %" JSON_INTEGER_FORMAT
               " commits to the log, taking %.3f ms at the median, %.3f ms at the 99th "
               "percentile, %.3f ms at most\n",
               s_int(lc, "count"), (double)s_int(lc, "p50_us") / 1000.0,
               (double)s_int(lc, "p99_us") / 1000.0, (double)s_int(lc, "max_us") / 1000.0);
    if (json_object_get(o, "append_error"))
        printf("the last write to the log failed: %s\n",
               json_string_value(json_object_get(o, "append_error")));
    size_t i;
    json_t *v;
    printf("%-24s %-10s %s\n", "broker", "link", "last heard");
    json_array_foreach(json_object_get(o, "brokers"), i, v)
    {
        const char *when = json_string_value(json_object_get(v, "last_heard"));
        json_int_t ago = s_int(v, "last_heard_ms_ago");
        printf("%-24s %-10s ", json_string_value(json_object_get(v, "id")),
               json_is_true(json_object_get(v, "connected")) ? "connected" : "down");
        if (!when)
            printf("never\n");
        else if (json_is_true(json_object_get(v, "heard_recently")))
            printf("%.1f s ago (%s)\n", (double)ago / 1000.0, when);
        else
            printf("silent for %.1f s, since %s\n", (double)ago / 1000.0, when);
    }
    printf("%-24s %12s %12s %12s\n", "sender", "last seq", "entries", "missing");
    json_array_foreach(json_object_get(o, "senders"), i, v) printf(
        "%-24s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
        json_string_value(json_object_get(v, "id")), s_int(v, "max_seq"), s_int(v, "entries"),
        s_int(v, "missing"));
}

int cli_node_print_json(const char *cmd, const char *node, const cdx_bytes *frames, size_t n,
                        bool json, void (*print)(const json_t *answer))
{
    char err[400] = "";
    cdx_msg m;
    int ec = cli_node_request(node, frames, n, &m, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex %s: %s\n", cmd, err);
        return ec;
    }
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    if (!json_is_object(o)) {
        fprintf(stderr, "cydex %s: the node's answer is not a JSON object\n", cmd);
        ec = CLI_SOFTWARE;
    } else if (json) {
        printf("%.*s\n", (int)m.frame[1].len, (const char *)m.frame[1].data);
    } else {
        print(o);
    }
    json_decref(o);
    cdx_msg_clear(&m);
    return ec;
}

int cli_node_json_args(int argc, char **argv, const char *cmd, const char *usage, const char *help,
                       size_t positional, const char **node, bool *json)
{
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *node = NULL;
    *json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': *node = optarg; break;
        case 'j': *json = true; break;
        case 'h': printf("usage: %s\n\n%s", usage, help); return CLI_DONE;
        default: return cli_usage(cmd, usage, "bad option");
        }
    }
    *node = cli_node_path(*node);
    if ((size_t)(argc - optind) != positional)
        return cli_usage(cmd, usage, positional ? "name one alert" : "unexpected argument");
    return CLI_OK;
}

int cmd_status(int argc, char **argv)
{
    static const char usage[] = "cydex status [--node ipc://PATH] [--json]";
    const char *node;
    bool json;
    int ec = cli_node_json_args(argc, argv, "status", usage,
                                "Asks the local node what its log holds (entries, each "
                                "sender's last seq),\nwhat it did this run, how many of its "
                                "own envelopes still wait for a\nbroker's receipt, the roster "
                                "version in force and where the node's own key\nstands (valid, "
                                "rotating out at T, revoked, not yet valid). Per broker "
                                "(\"brokers\" in --json):\n"
                                "  connected          the node's connection to the broker's "
                                "ingress (where\n"
                                "                     what it publishes goes) stands now; false "
                                "as soon as it\n"
                                "                     drops (the broker stopped or died) or its "
                                "pings go\n"
                                "                     unanswered (3 x ping_ms)\n"
                                "  heard_recently     the broker sent something within "
                                "heard_window_ms (two\n"
                                "                     sync periods and a second): it serves us\n"
                                "  last_heard         when it was last heard from, and "
                                "last_heard_ms_ago\n"
                                "                     (absent if never)\n"
                                "log_commits: count, p50_us, p99_us, max_us: the log's commits "
                                "this run, in\nwhole microseconds (no quantile above max_us).\n"
                                "Exit codes: 0;\n" CLI_NODE_EXITS ".\n",
                                0, &node, &json);
    if (ec != CLI_OK)
        return ec == CLI_DONE ? CLI_OK : ec;
    cdx_bytes frames[1] = {s_b("status")};
    return cli_node_print_json("status", node, frames, 1, json, s_print_status);
}

int cli_roster_publish(int argc, char **argv)
{
    static const char usage[] = "cydex roster publish [--node ipc://PATH] [--again] [--json] FILE";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"again", no_argument, NULL, 'a'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL;
    bool json = false, again = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 'a': again = true; break;
        case 'j': json = true; break;
        case 'h':
            printf(
                "usage: %s\n\n"
                "Hands a signed roster to the local node, which puts it in force if it is newer\n"
                "than its own and signed by the threshold of the admins in force, and\n"
                "publishes it on topic \"roster\": brokers and nodes that hear it do the same.\n"
                "The roster already in force is not published again: it says so, and\n"
                "nothing is signed (exit 0); --again publishes it once more (e.g. after a\n"
                "SIGHUP put it in force at this node only).\n\n"
                "Exit codes: 0 the node holds it (or it was in force already); 1 refused\n"
                "(older, badly signed, another federation); 64 usage; 65 not a roster; 66 no\n"
                "such file; 69 no node running (or none named); 70 internal error; 74 the\n"
                "file cannot be read; 75 the node was busy (starting); 77 the node's\n"
                "control socket is not ours to use.\n",
                usage);
            return CLI_OK;
        default: return cli_usage("roster publish", usage, "bad option");
        }
    }
    node = cli_node_path(node);
    if (argc - optind != 1)
        return cli_usage("roster publish", usage, "name one roster file");
    cdx_errbuf eb = {0};
    cdx_bytes roster;
    cdx_roster *r = NULL;
    cdx_err rc = cli_read_input(argv[optind], 16u << 20, &roster, &eb);
    if (rc != CDX_OK)
        return cli_fail("roster publish", rc, &eb);
    rc = cdx_roster_decode(&r, roster.data, roster.len, &eb);
    if (rc != CDX_OK) {
        cdx_bytes_free(&roster);
        return cli_fail("roster publish", rc, &eb);
    }
    cdx_bytes frames[3] = {s_b("roster"), roster, s_b("again")};
    cdx_msg m;
    char err[400] = "";
    int ec = cli_node_request(node, frames, again ? 3 : 2, &m, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex roster publish: %s\n", err);
    } else if (m.frame[1].len == 8 && memcmp(m.frame[1].data, "in-force", 8) == 0) {
        if (json)
            printf("{\"in_force\":true,\"version\":%.*s}\n", (int)m.frame[2].len,
                   (const char *)m.frame[2].data);
        else
            printf("roster publish: roster v%.*s of %s is already in force at this node: nothing "
                   "published (--again publishes it once more)\n",
                   (int)m.frame[2].len, (const char *)m.frame[2].data, cdx_roster_federation(r));
    } else {
        char hash[65], num[24];
        snprintf(hash, sizeof hash, "%.*s", (int)m.frame[1].len, (const char *)m.frame[1].data);
        snprintf(num, sizeof num, "%.*s", (int)m.frame[2].len, (const char *)m.frame[2].data);
        s_say_sent("roster publish", node, hash, strtoull(num, NULL, 10), json);
    }
    if (ec == CLI_OK)
        cdx_msg_clear(&m);
    cdx_roster_destroy(&r);
    cdx_bytes_free(&roster);
    return ec;
}
