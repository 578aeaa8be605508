/* The `cydex` command line: shared helpers for the command files.
 *
 * Exit codes (documented in README and `cydex --help`):
 *   0  success
 *   1  refused: a signature, roster, policy or sealing check failed
 *   64 usage error            65 malformed input
 *   66 input file missing     70 internal error
 *   73 would overwrite        74 I/O error
 *   69 the local node is not running
 *   77 secret key readable by others
 */
#ifndef CYDEX_CLI_H
#define CYDEX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cydex/cydex.h"
#include "cydex/transport.h"

enum {
    CLI_OK = 0,
    CLI_REFUSED = 1,
    CLI_USAGE = 64,
    CLI_DATAERR = 65,
    CLI_NOINPUT = 66,
    CLI_SOFTWARE = 70,
    CLI_CANTCREAT = 73,
    CLI_IOERR = 74,
    CLI_TEMPFAIL = 75, /* busy: try again (a log another process writes, a node starting) */
    CLI_NOPERM = 77,
    CLI_DONE = -1 /* not an exit code: the command's work is done (e.g. --help) */
};

/* The exit codes every command that talks to the node can return beside
 * its own, as their --help lists them. */
#define CLI_NODE_EXITS                                                                             \
    "64 usage; 69 no node running (or none named); 70 internal error;\n"                           \
    "75 the node was busy (starting); 77 the node's control socket is not ours\n"                  \
    "to use"

/* The exit code for a library error. */
int cli_exit_code(cdx_err rc);

/* Prints "cydex CMD: <detail>" to stderr; returns the exit code. */
int cli_fail(const char *cmd, cdx_err rc, const cdx_errbuf *eb);

/* Prints "cydex CMD: <message>" and the usage line; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *usage, const char *fmt, ...);

/* Reads a file, or standard input when path is NULL or "-". */
cdx_err cli_read_input(const char *path, size_t max, cdx_bytes *out, cdx_errbuf *eb);

/* Whether reading `path` (NULL or "-": standard input) would wait on a
 * terminal: a command then says what it expects instead of waiting. */
bool cli_stdin_is_terminal(const char *path);

/* Writes to a file (atomically) or to standard output when path is NULL or
 * "-"; refuses binary output to a terminal. */
cdx_err cli_write_output(const char *path, const void *data, size_t len, bool binary,
                         cdx_errbuf *eb);

/* mkdir -p with the given mode for the last component. */
cdx_err cli_mkdirs(const char *path, unsigned mode, cdx_errbuf *eb);

/* Loads a roster and checks it as a trust anchor (its own admins), or a
 * chain "v1.bin,v2.bin" (cdx_roster_load_trusted). */
cdx_err cli_load_trusted_roster(cdx_roster **out, const char *path, cdx_errbuf *eb);

/* A connection to the local node's control socket. `node` is --node's
 * value; cli_node_path() falls back to the CYDEX_NODE environment variable.
 * Functions return an exit code; on failure err says why (69: no node
 * running, or it did not answer within 5 s; 64: no node named). */
typedef struct cli_node cli_node;
const char *cli_node_path(const char *given);
int cli_node_open(cli_node **out, const char *node, char *err, size_t errlen);
/* Whether the node at `node` (ipc://PATH) stopped: a node that stops
 * removes its socket file, so this says so at once. */
bool cli_node_gone(const char *node);
void cli_node_close(cli_node **c);

/* One request and its answer, which on CLI_OK is an "ok" of three frames
 * (the caller's to clear). A refusal's exit code follows its error name. */
int cli_node_call(cli_node *c, const cdx_bytes *frames, size_t n, cdx_msg *answer, char *err,
                  size_t errlen);

/* The halves of cli_node_call, for pipelining: the node answers in the
 * order the requests came. */
cdx_err cli_node_send(cli_node *c, const cdx_bytes *frames, size_t n);
int cli_node_recv(cli_node *c, cdx_msg *answer, char *err, size_t errlen);
/* Waits up to wait_ms (-1: no limit) until the node has an answer waiting
 * or fd (if >= 0) has input; says which (either pointer may be NULL). */
void cli_node_wait(cli_node *c, int fd, int wait_ms, bool *answer, bool *input);

/* An alert given as JSON text, checked to be an object, with tlp (if not
 * NULL) set over its own, and with_id, a fresh id if it has none (so that
 * it can be asked for again without being published twice): *out is
 * malloc'd compact JSON. */
cdx_err cli_alert_json(const char *in, size_t len, const char *tlp, bool with_id, char **out,
                       cdx_errbuf *eb);

/* Parses the options of a command that takes only --node, --json and
 * `positional` arguments (left at argv[optind]); prints `help` for --help.
 * CLI_OK: go on; CLI_DONE: return 0; otherwise an exit code. */
int cli_node_json_args(int argc, char **argv, const char *cmd, const char *usage, const char *help,
                       size_t positional, const char **node, bool *json);

/* Asks the node (a request answered ["ok"][JSON object][...]) and prints
 * the JSON as it came (json) or through print. Returns the exit code,
 * having said why on stderr. */
int cli_node_print_json(const char *cmd, const char *node, const cdx_bytes *frames, size_t n,
                        bool json, void (*print)(const json_t *answer));

/* One look at what the node logged after `at` (a log index, or "end"),
 * under topic prefix `topic`: fn gets each entry's JSON line (false: skip
 * the rest) and `at` moves past what came; *moved says whether anything
 * did. 69 if the node stopped (its socket is gone) or does not answer. */
int cli_follow_step(cli_node *nc, const char *node, char at[24], const char *topic,
                    bool (*fn)(void *ctx, const char *line, size_t len), void *ctx, bool *moved,
                    char *err, size_t errlen);

/* A follower of the node's log (cli_follow_step) that rides through a
 * restart of the node: once the node has answered, a node that stops
 * answering is asked again, on a new connection each time (so no late
 * answer is taken twice), until it is back or wait_s have passed. `at`
 * does not move meanwhile, so nothing is skipped or shown twice. */
typedef struct cli_follow {
    const char *cmd, *node, *topic; /* cmd names the command in messages */
    char at[24];                    /* the next index to ask from, or "end" */
    bool (*fn)(void *ctx, const char *line, size_t len);
    void *ctx;
    uint64_t wait_s;     /* 0: a node that stops ends it (69) */
    cli_node *nc;        /* NULL while the node is lost; the caller closes it */
    bool followed;       /* the node has answered at least once */
    uint64_t lost_since; /* monotonic ms; 0 while the node answers */
} cli_follow;

/* One step of fw; CLI_OK (*moved: entries came), or an exit code with err
 * (69: the node stopped and did not come back within wait_s). */
int cli_follow_ride(cli_follow *fw, bool *moved, char *err, size_t errlen);

/* Prints the node's answer to ["alerts"...] as `cydex list` does. */
void cli_print_alert_list(const json_t *answer);

/* Opens, calls once, closes. */
int cli_node_request(const char *node, const cdx_bytes *frames, size_t n, cdx_msg *answer,
                     char *err, size_t errlen);

/* cli_node_request for ["publish", ...] or ["ack", ...]: on success fills
 * the envelope's hash (hex) and seq.
 * Returns an exit code; on failure err says why (69: no node running). */
int cli_node_ask(const char *node, const cdx_bytes *frames, size_t n, char hash[65], uint64_t *seq,
                 char *err, size_t errlen);

/* The formats (misp, stix, cap) in the commands that print alerts and
 * acks (cli/export.c): one exporter per run remembers what it printed, so
 * an update names its original. `cmd` names the command in messages. */
typedef struct cli_exporter cli_exporter;
/* CLI_OK, or an exit code having said why (64: an unknown format). */
int cli_exporter_new(cli_exporter **out, const char *cmd, const char *format, bool with_envelope,
                     const char *orgs_path);
void cli_exporter_destroy(cli_exporter **x);
/* One log entry (as `tail --json` prints it, or its envelope) printed in
 * the format as one line; false when nothing was printed: not an alert or
 * ack, sealed to others (said on stderr), or it failed (said, counted). */
bool cli_export_entry_json(cli_exporter *x, const char *line, size_t len);
bool cli_export_envelope(cli_exporter *x, uint64_t index, const cdx_envelope *env,
                         const cdx_alert *opened);
/* 0, or the exit code of the first entry that failed. */
int cli_exporter_status(const cli_exporter *x);
/* How many documents it printed. */
uint64_t cli_exporter_shown(const cli_exporter *x);
/* A MISP event or STIX bundle (format "misp" or "stix") as the alert JSON
 * `cydex publish` sends; tlp, if not NULL, is the label of an event that
 * has none. */
cdx_err cli_format_alert(const char *text, size_t len, const char *format, const char *tlp,
                         char **out, cdx_errbuf *eb);

int cmd_keygen(int argc, char **argv);
int cmd_roster(int argc, char **argv);
/* cydex roster publish (talks to the node; in cmd_node.c). */
int cli_roster_publish(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_ack(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
