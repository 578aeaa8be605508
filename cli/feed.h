/* A feed of JSON alerts, one per line of a descriptor (a relay's stdin),
 * published through the local node: up to CLI_FEED_WINDOW requests in
 * flight, one result line per alert in input order, printed as soon as the
 * node answers (never held back waiting for more input). Used by
 * `cydex publish --lines` and `cydex relay`. */
#ifndef CYDEX_CLI_FEED_H
#define CYDEX_CLI_FEED_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

#define CLI_FEED_WINDOW 128

typedef struct cli_feed_opts {
    const char *cmd;   /* for messages: "publish", "relay" */
    const char *topic; /* the bus topic to publish on */
    const char *to;    /* recipients to seal to ("" = none) */
    const char *tlp;   /* set over each alert's own; NULL: as given */
    bool json;         /* results as JSON lines */
    FILE *results;     /* where result lines go */
    const char *node;  /* the node's control socket, to connect again */
    /* A node that stops answering (or says it is busy) is waited for this
     * long, then asked again every line it has not answered; 0: the feed
     * ends at once (69, or 75 for a busy answer). Lines without an id are
     * given one, so that a line asked twice is published once. */
    uint64_t wait_node_s;
    /* "misp" or "stix": each line is a MISP event or STIX bundle, mapped
     * to the alert it holds (cli_format_alert); NULL: alert JSON. */
    const char *format;
} cli_feed_opts;

typedef struct cli_feed cli_feed;

/* Reads fd (left open) and publishes through *nc (the caller's, closed by
 * the caller; the feed may replace it with a new connection). */
int cli_feed_new(cli_feed **out, cli_node **nc, int fd, const cli_feed_opts *o);
void cli_feed_destroy(cli_feed **f);

/* One step: sends the complete lines read, prints the answers that came,
 * waiting at most wait_ms (-1: until something happens) for input or an
 * answer. CLI_OK, or 69 if the node went away and did not come back within
 * wait_node_s (said on stderr, with the first line that may not be
 * published). */
int cli_feed_step(cli_feed *f, int wait_ms);

/* The input ended and every line has its result. */
bool cli_feed_done(const cli_feed *f);

/* After the end: says how many were refused on stderr (as a JSON line
 * {"end":true,"alerts":N,"refused":M} when JSON results go there too);
 * returns 0 or the first refusal's exit code. */
int cli_feed_finish(cli_feed *f);

#endif
