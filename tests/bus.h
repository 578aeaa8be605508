/* Helpers for tests that run brokers as processes: configs with ipc://
 * endpoints in the test's folder, start and stop by PID (and a kill at
 * exit if a test stops early), and a publishing client. */
#ifndef CYDEX_TESTS_BUS_H
#define CYDEX_TESTS_BUS_H

#include <sys/types.h>

#include "cydex/audit.h"
#include "cydex/catchup.h"
#include "cydex/receipt.h"
#include "cydex/transport.h"
#include "fixture.h"

/* A fresh test folder in dir: DIR/keys with each identity's key files and
 * DIR/roster.bin. */
void bus_folder(char dir[256], const cdx_roster *roster, const cdx_identity *const *ids, size_t n);

/* "DIR/NAME", in one of 8 buffers used in turn. */
char *bus_path(const char *dir, const char *name);

/* Writes n TLP:GREEN alerts titled "Wave I", each with a description of
 * desc_len bytes, one JSON object per line (for cydex publish --lines). */
void bus_write_alerts(const char *path, int n, size_t desc_len);

/* Writes `conf` to DIR/NAME.conf and starts CDX_BIN/prog -c it, stderr to
 * DIR/NAME.log; registered to be killed if the test stops early. Waits
 * (bounded) until `ready_file` exists, if given. */
pid_t bus_spawn(const char *dir, const char *name, const char *prog, const char *conf,
                const char *ready_file);

/* bus_spawn inside network namespace `netns` (made with "ip netns add"),
 * without waiting for anything. */
pid_t bus_spawn_in(const char *netns, const char *dir, const char *name, const char *prog,
                   const char *conf);

/* Writes DIR/NAME.conf for broker `id` (key DIR/keys/ID.secret, roster
 * DIR/roster.bin, log DIR/NAME-log, endpoints ipc://DIR/NAME-ingress,
 * -fanout, -catchup) plus `extra` lines (settings, [peer.*] sections),
 * starts cydex-broker on it and waits until its sockets exist. */
pid_t bus_start_broker(const char *dir, const char *name, const char *id, const char *extra);

/* Broker settings that peer it with broker NAME (member `id`) of this
 * folder: short checkpoint and sync periods, and its [peer.NAME] section. */
void bus_peer_conf(char *out, size_t cap, const char *dir, const char *name, const char *id);

/* Starts cydex-node NAME as member `id` (key DIR/keys/ID.secret, log
 * DIR/NAME-log, control ipc://DIR/NAME-control, resend every 300 ms,
 * sync every 500 ms)
 * using broker BROKER (started by bus_start_broker with that name). */
pid_t bus_start_node(const char *dir, const char *name, const char *id, const char *broker,
                     const char *broker_id, const char *subscribe);

/* bus_start_node with `extra` lines at the end of its config (settings
 * for [node] need their own "[node]" line; more [broker.*] sections may
 * follow). */
pid_t bus_start_node_with(const char *dir, const char *name, const char *id, const char *broker,
                          const char *broker_id, const char *subscribe, const char *extra);

/* Starts CDX_BIN/prog with argv (argv[0] = prog, NULL-terminated),
 * stdout to `out`, stderr to `out`.err; killed at exit if still running. */
pid_t bus_run_bg(const char *out, const char *prog, char *const argv[]);
/* bus_run_bg with stdin read from descriptor `in` (-1: /dev/null). */
pid_t bus_run_bg_in(const char *out, int in, const char *prog, char *const argv[]);
/* bus_run_bg with stdin a pipe: returns its write end (the child keeps
 * only the read end; closing ours is the end of its input). */
int bus_run_bg_fed(pid_t *pid, const char *out, const char *prog, char *const argv[]);

/* Whether the file at `path` comes to hold `want` within timeout_ms
 * (bounded polling); if not, prints what it holds. */
bool bus_wait_file(const char *path, const char *want, int timeout_ms);

/* Waits at most timeout_ms for it to exit by itself: its exit status, or
 * -1 (then it is SIGKILLed). */
int bus_wait_exit(pid_t pid, int timeout_ms);

/* SIGTERM and a bounded wait: the exit status, or -1 (then SIGKILLed). */
int bus_stop(pid_t pid);

/* SIGKILL, now. */
void bus_kill(pid_t pid);

/* "ipc://DIR/NAME-WHAT" into out (256). */
void bus_endpoint(char out[256], const char *dir, const char *name, const char *what);

typedef struct bus_client {
    cdx_transport *t;
    cdx_sock *dealer;
} bus_client;

void bus_client_new(bus_client *c, const cdx_identity *who, const cdx_roster *roster,
                    const char *ingress, const uint8_t broker_pk[CDX_PK_BYTES]);
void bus_client_free(bus_client *c);

/* Publishes [topic][bytes] and waits for the verified receipt. */
cdx_err bus_publish(bus_client *c, const cdx_roster *roster, const char *topic, const uint8_t *data,
                    size_t len, cdx_receipt *r, int wait_ms);

void bus_nap(int ms);

/* The HTTP port daemon NAME of DIR reported in DIR/NAME.log ("(port N)");
 * 0 if it did not within about five seconds. */
unsigned bus_port(const char *dir, const char *name);

typedef struct bus_reply {
    int status; /* 0 if the request failed */
    char body[65536];
} bus_reply;

/* One HTTP/1.0 request to 127.0.0.1:port (at most 5 s). */
void bus_http(unsigned port, const char *method, const char *path, bus_reply *r);

/* What a (possibly running) daemon's log holds of one sender: its highest
 * seq and how many of its envelopes; and how many of the owner's own wait
 * in the outbox (outbox may be NULL). All zero if the log cannot be read. */
void bus_log_sender(const char *logdir, const char *sender, uint64_t *max, uint64_t *count,
                    size_t *outbox);

/* Waits (bounded, about 10 s) until the log holds sender up to `seq` and at
 * least `count` of its envelopes, and (unless outbox is SIZE_MAX) exactly
 * `outbox` envelopes wait for a receipt. Says what it saw if not. */
bool bus_wait_log(const char *logdir, const char *sender, uint64_t seq, uint64_t count,
                  size_t outbox);

/* Audits a (stopped) daemon's log against the roster, as cydex-audit
 * verify does; says why on stderr if it fails. Returns rep->pass. */
bool bus_audit(const char *logdir, const cdx_roster *roster, cdx_audit_report *rep);

/* bus_audit, leaving the log open (read-only) for more checks; the
 * caller destroys it. */
cdx_log *bus_audit_open(const char *logdir, const cdx_roster *roster, cdx_audit_report *rep);

/* A tree head of broker's log that the log does not have: at `size` (0:
 * the log's present size, as the log in logdir holds it; *size_used, if
 * not NULL, says which), with `fill` bytes as its root, signed with the
 * broker's key as the next envelope of its chain there. What a broker
 * that rewrote its log, or shows someone another one, would sign. */
void bus_false_head(const char *logdir, const cdx_identity *broker, uint64_t size, uint8_t fill,
                    cdx_bytes *out, uint64_t *size_used);

#endif
