/* The MISP bridge in: `cydex relay --from-misp-zmq` (see mispbridge.c). */
#ifndef CYDEX_CLI_MISPBRIDGE_H
#define CYDEX_CLI_MISPBRIDGE_H

typedef struct cli_bridge_opts {
    const char *endpoint; /* MISP's ZeroMQ PUB, e.g. tcp://misp.example:50000 */
    const char *auth;     /* a file holding "user:password" for ZMQ PLAIN; NULL: none */
    const char *node;     /* the local node's control socket */
    const char *topic;    /* the bus topic to publish on */
    const char *to;       /* recipients of events above GREEN ("" = none: refused) */
    const char *tlp;      /* the label of events that carry none; NULL: refuse them */
} cli_bridge_opts;

/* Runs until SIGINT/SIGTERM (0) or the node goes away (69). */
int cli_misp_bridge(const cli_bridge_opts *o);

#endif
