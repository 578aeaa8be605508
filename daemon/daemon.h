/* What cydex-broker and cydex-node share as processes: reading an INI
 * config with errors a person can act on, opening the member's key, roster
 * and log the same way, signals, and their log lines. Each daemon keeps its
 * own routing and policy. */
#ifndef CYDEX_DAEMON_H
#define CYDEX_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cydex/catchup.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/transport.h"

/* INI configuration, read with inih: [section] lines, key = value (or
 * key: value) lines, comments from ';' or '#' at the start of a line or
 * after whitespace, an indented line continuing the value above. The
 * handler is called for each key with its section (the whole name) and
 * returns 1, or 0 with a message in err. The first error stops the read
 * and is told as "NAME, line N: what": a handler's refusal, a line of more
 * than 197 characters, a section name longer than DAEMON_INI_SECTION_MAX,
 * a line that is neither a section nor a key, a NUL byte. 0, or -1. */
#define DAEMON_INI_SECTION_MAX 127u
#define DAEMON_INI_FILE_MAX (1u << 20)
typedef int (*daemon_ini_fn)(void *user, const char *section, const char *name, const char *value);
/* The file at path (at most DAEMON_INI_FILE_MAX bytes); NAME is the path. */
int daemon_ini_load(const char *path, daemon_ini_fn handler, void *user, char *err, size_t errlen);
/* Text in memory, len bytes; name is what the messages call it. */
int daemon_ini_parse(const char *name, const char *text, size_t len, daemon_ini_fn handler,
                     void *user, char *err, size_t errlen);

/* Copies a setting into a fixed buffer; 0 and a message if too long. */
int daemon_set_str(char *dst, size_t cap, const char *value, const char *key, char *err,
                   size_t errlen);

/* A setter of one configuration key: 0, or -1 with a message in err. */
typedef int (*daemon_set_fn)(void *cfg, const char *key, const char *value, char *err,
                             size_t errlen);

/* Applies --set KEY=VALUE overrides in order, saying on stderr (as `prog`)
 * what is wrong: 0, 64 (not KEY=VALUE) or 78 (a bad setting). */
int daemon_apply_sets(const char *prog, const char *const *sets, int n, daemon_set_fn set,
                      void *cfg);

/* How a daemon says what it does: one line per event on stderr, as text
 * ("2026-11-24T09:30:00.000Z ID: message") or as JSON
 * ({"time":"2026-11-24T09:30:00.000Z","id":"ID","msg":"message"}), for
 * log shippers. */
typedef struct daemon_logger {
    char id[64];
    bool json;
} daemon_logger;

/* A log_format setting, "text" or "json", into *json; 0, or -1 with a
 * message in err. */
int daemon_log_format(const char *value, bool *json, char *err, size_t errlen);

void daemon_log(const daemon_logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct daemon_member {
    daemon_logger say; /* its id, and how it logs */
    cdx_identity *me;
    cdx_roster *roster;
    cdx_log *log; /* opened exclusive: one daemon at a time writes it */
} daemon_member;

/* Loads the key (it must be `id`'s), the roster (a valid trust anchor that
 * lists `id`, or a chain of files "v1.bin,v2.bin" from one; a later version
 * alone is taken if it follows from the roster history the log keeps), and
 * opens (or creates) the log, keeping the roster in its history; if the
 * log holds a newer roster of the same federation (adopted in an earlier
 * run), that one is in force.
 * Only one process at a time may write a log (cdx_log_opts.exclusive).
 * On failure err says why and the return is an exit code (77 key
 * permissions, 74 I/O, 75 another process writes the log, 78 otherwise). */
int daemon_member_open(daemon_member *m, const daemon_logger *say, const char *key,
                       const char *roster, const char *log, size_t map_max_mb, char *err,
                       size_t errlen);
void daemon_member_close(daemon_member *m);

/* Puts *next in force if it is of the same federation, newer than the
 * roster in force, and signed by the threshold of its admins: the
 * transport's ZAP (net may be NULL) and the log follow, and *next passes to
 * m (NULL after). CDX_ERR_ROLLBACK if it is not newer (already known);
 * otherwise eb says why not. The caller must not be verifying with the old
 * roster on another thread. */
cdx_err daemon_roster_adopt(daemon_member *m, cdx_transport *net, cdx_roster **next,
                            cdx_errbuf *eb);

/* A serialized roster that came `source` ("from the bus", "published by
 * EE"): decoded and adopted as above, and said in the daemon's log (an
 * older one silently). Returns what daemon_roster_adopt did. */
cdx_err daemon_roster_take(daemon_member *m, cdx_transport *net, const uint8_t *data, size_t len,
                           const char *source);

/* SIGHUP: the roster file at path (the last of a chain "v1.bin,v2.bin"),
 * adopted as above; said in the log. */
void daemon_roster_reload(daemon_member *m, cdx_transport *net, const char *path);

/* How a daemon's writes to its log have gone, for /health and /metrics.
 * A log at its maximum size (or on a full disk) still takes small commits
 * between the big ones it refuses: a failure stands until a commit of at
 * least as many entries succeeds, or any commit does DAEMON_WRITE_HOLD_MS
 * after the last failure (a node whose space came back may see no big
 * batch for long), so that /health does not flap between the two. */
#define DAEMON_WRITE_HOLD_MS 60000u
typedef struct daemon_writes {
    char error[256];         /* why a write failed; "" once the failure no longer stands */
    size_t failed_n;         /* entries of the biggest write that failed since */
    uint64_t failed_mono_ms; /* when the last write failed */
    uint64_t failures;       /* writes that failed since the start */
} daemon_writes;

/* Notes the outcome of a write of n entries at now_ms (cdx_mono_ms): rc,
 * and eb's message if it failed. */
void daemon_wrote(daemon_writes *w, cdx_err rc, size_t n, uint64_t now_ms, const cdx_errbuf *eb);

/* Their /metrics families: cydex_log_append_failing (1 while the failure
 * stands, as above) and cydex_log_append_failures_total; and the log's
 * commit durations since the daemon opened it, cydex_log_commit_seconds. */
void daemon_prom_writes(FILE *f, const daemon_writes *w, const cdx_log *log);

/* A daemon's own chain may go on beyond its log (the log lost, or restored
 * from an older copy) where others hold what it signed; it asks them at
 * start and signs nothing new until this says the wait is over: every one
 * asked has answered to the end (told == asked), or one has and
 * DAEMON_CHAIN_GRACE_MS have passed, or DAEMON_CHAIN_WAIT_MS have passed
 * and no one has sent anything (heard == 0: one that is still sending is
 * waited for, up to DAEMON_CHAIN_MAX_MS). */
#define DAEMON_CHAIN_GRACE_MS 1000
#define DAEMON_CHAIN_WAIT_MS 3000
#define DAEMON_CHAIN_MAX_MS 600000
bool daemon_chain_wait_over(size_t told, size_t heard, size_t asked, uint64_t waited_ms);

/* The highest seq a cdx_log_senders snapshot holds for id (0: none). */
uint64_t daemon_max_seq(const cdx_log_sender *s, size_t n, const char *id);

/* Puts q in cursor mode: everything after what the log holds of each
 * sender. On CDX_OK q->after is set (the caller frees it, e.g. with
 * cdx_catchup_request_clear); otherwise q->after is NULL. */
cdx_err daemon_catchup_after_log(cdx_log *log, cdx_catchup_request *q);

/* SIGTERM/SIGINT set *stop, SIGHUP sets *reload (may be NULL); SIGPIPE and
 * SIGXFSZ are ignored (a write past a file size limit then fails). */
void daemon_signals(volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

/* Tells the service manager where the daemon stands (systemd's Type=notify
 * protocol): "READY=1" once it serves, "STOPPING=1" as it stops, with a
 * "STATUS=..." line for `systemctl status`. Nothing if no service manager
 * started it. */
void daemon_notify(const char *state);

/* The threads to verify with: `wanted`, or one per online CPU if 0. */
unsigned daemon_verify_threads(size_t wanted);

#endif
