/* See daemon.h. The one place the daemons read INI (libinih) and handle
 * signals. */
#include "daemon.h"
#include "prom.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* Reading INI text through inih, a line at a time, so that what inih
 * would silently cut is refused instead, naming the line: a line longer
 * than inih's buffer (it would read the rest as a line of its own), a
 * section name longer than DAEMON_INI_SECTION_MAX (inih keeps the first
 * 49 bytes, so two long names would become one section), a NUL byte. The
 * first error stops the parse: its line and message are the ones told. */
typedef struct s_ini {
    const char *text;
    size_t len, at;
    int line;  /* lines handed to inih */
    bool stop; /* an error: hand it no more */
    int err_line;
    bool has_key; /* a key since the section began: an indented line continues its value */
    char section[DAEMON_INI_SECTION_MAX + 1];
    daemon_ini_fn handler;
    void *user;
    char *err;
    size_t errlen;
} s_ini;

static void s_ini_fail(s_ini *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_ini_fail(s_ini *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    x->err_line = x->line;
    x->stop = true;
}

/* A comment starts with ';' or '#' at the start of a line (inih) or after
 * whitespace (inih knows only ';' there; the README's examples use '#'). */
static char *s_ini_comment(char *p)
{
    for (char *c = p; *c; c++)
        if ((*c == ';' || *c == '#') && c > p && isspace((unsigned char)c[-1]))
            return c;
    return NULL;
}

/* Follows the line as inih will read it (its order of cases): which
 * section it opens, or whether it is a key; refuses what inih would cut or
 * call a syntax error. line is the reader's copy, which may be cut at a
 * comment for inih. */
static void s_ini_classify(s_ini *x, char *line)
{
    char *start = line;
    if (x->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
        (unsigned char)start[2] == 0xBF)
        start += 3;
    while (*start && isspace((unsigned char)*start))
        start++;
    if (!*start || *start == ';' || *start == '#')
        return; /* blank or a comment */
    char *cut = s_ini_comment(start);
    if (cut) { /* inih sees the line without it */
        cut[0] = '\n';
        cut[1] = '\0';
    }
    if (x->has_key && start > line)
        return; /* continues the value above */
    if (*start == '[') {
        char *end = strchr(start + 1, ']');
        if (!end) {
            s_ini_fail(x, "a section header without its closing ']'");
            return;
        }
        size_t n = (size_t)(end - start - 1);
        if (n > DAEMON_INI_SECTION_MAX) {
            s_ini_fail(x, "section name [%.40s...] is longer than %u characters", start + 1,
                       DAEMON_INI_SECTION_MAX);
            return;
        }
        memcpy(x->section, start + 1, n);
        x->section[n] = '\0';
        x->has_key = false;
        return;
    }
    size_t name = strcspn(start, "=:");
    if (!start[name]) {
        s_ini_fail(x, "neither a [section] nor a key = value");
        return;
    }
    while (name > 0 && isspace((unsigned char)start[name - 1]))
        name--;
    x->has_key = name > 0;
}

/* inih's reader: the next line into str (num bytes), or NULL at the end
 * or after an error. */
static char *s_ini_read(char *str, int num, void *stream)
{
    s_ini *x = stream;
    if (x->stop || x->at >= x->len)
        return NULL;
    const char *p = x->text + x->at;
    const char *nl = memchr(p, '\n', x->len - x->at);
    size_t ll = nl ? (size_t)(nl - p) + 1 : x->len - x->at;
    x->at += ll;
    x->line++;
    size_t body = ll - (nl != NULL);
    if (body && p[body - 1] == '\r')
        body--;
    /* inih wants room for "\r\n" and the NUL besides the line itself */
    if (num < 4 || body > (size_t)num - 3) {
        s_ini_fail(x, "line is longer than %d characters", num - 3);
        return NULL;
    }
    if (memchr(p, '\0', ll)) {
        s_ini_fail(x, "a NUL byte: not a text file");
        return NULL;
    }
    memcpy(str, p, ll);
    str[ll] = '\0';
    s_ini_classify(x, str);
    return x->stop ? NULL : str;
}

/* Hands the handler the whole section name (inih's copy is cut at 49
 * bytes) and stops at its first refusal. */
static int s_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ini *x = user;
    if (x->stop)
        return 0;
    /* The name tracked here starts with inih's copy, unless the two were
     * read differently; then inih's, which is what the file says. */
    const char *full = strncmp(x->section, section, strlen(section)) == 0 ? x->section : section;
    if (x->handler(x->user, full, name, value))
        return 1;
    if (!x->err[0])
        snprintf(x->err, x->errlen, "refused");
    x->err_line = x->line;
    x->stop = true;
    return 0;
}

int daemon_ini_parse(const char *name, const char *text, size_t len, daemon_ini_fn handler,
                     void *user, char *err, size_t errlen)
{
    err[0] = '\0';
    s_ini x = {
        .text = text, .len = len, .handler = handler, .user = user, .err = err, .errlen = errlen};
    int line = ini_parse_stream(s_ini_read, &x, s_ini_handler, &x);
    if (x.err_line && (line <= 0 || x.err_line <= line))
        line = x.err_line;
    else if (line > 0) /* one inih found that the reader did not */
        snprintf(err, errlen, "syntax error");
    if (line == 0)
        return 0;
    char detail[512];
    snprintf(detail, sizeof detail, "%s", err);
    snprintf(err, errlen, "%s, line %d: %s", name, line, detail);
    return -1;
}

int daemon_ini_load(const char *path, daemon_ini_fn handler, void *user, char *err, size_t errlen)
{
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = DAEMON_INI_FILE_MAX + 1, len = 0, n;
    char *text = malloc(cap);
    while (text && len < cap && (n = fread(text + len, 1, cap - len, f)) > 0)
        len += n;
    bool failed = ferror(f) != 0;
    int e = errno;
    fclose(f);
    int rc = -1;
    if (!text)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (failed)
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
    else if (len > DAEMON_INI_FILE_MAX)
        snprintf(err, errlen, "%s is longer than %u bytes: not a configuration file", path,
                 DAEMON_INI_FILE_MAX);
    else
        rc = daemon_ini_parse(path, text, len, handler, user, err, errlen);
    free(text);
    return rc;
}

int daemon_set_str(char *dst, size_t cap, const char *value, const char *key, char *err,
                   size_t errlen)
{
    if (strlen(value) >= cap) {
        snprintf(err, errlen, "%s is too long", key);
        return 0;
    }
    strcpy(dst, value);
    return 1;
}

int daemon_apply_sets(const char *prog, const char *const *sets, int n, daemon_set_fn set,
                      void *cfg)
{
    for (int i = 0; i < n; i++) {
        char kv[1100], err[512];
        snprintf(kv, sizeof kv, "%s", sets[i]);
        char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "%s: --set takes KEY=VALUE, not \"%s\"\n", prog, sets[i]);
            return 64;
        }
        *eq = '\0';
        if (set(cfg, kv, eq + 1, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --set: %s\n", prog, err);
            return 78;
        }
    }
    return 0;
}

/* The log's roster history as far as it chains: its oldest roster (an
 * anchor when it was kept: the daemon checked it as one) and each later
 * version that is a valid successor of the one before. NULL if none. */
static cdx_roster *s_history_head(cdx_log *log)
{
    cdx_log_roster *h = NULL;
    size_t n = 0;
    cdx_roster *head = NULL;
    if (cdx_log_rosters(log, &h, &n) != CDX_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cdx_roster *r = NULL;
        if (!head) {
            if (cdx_roster_decode(&r, h[i].roster.data, h[i].roster.len, NULL) == CDX_OK &&
                cdx_roster_verify(r, NULL, NULL) == CDX_OK)
                head = r;
            else
                cdx_roster_destroy(&r);
        } else if (cdx_roster_decode_next(&r, h[i].roster.data, h[i].roster.len, head, NULL) ==
                   CDX_OK) {
            cdx_roster_destroy(&head);
            head = r;
        }
    }
    cdx_log_rosters_free(h, n);
    return head;
}

static bool s_is_file(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

int daemon_member_open(daemon_member *m, const daemon_logger *say, const char *key,
                       const char *roster, const char *log, size_t map_max_mb, char *err,
                       size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->say = *say;
    const char *id = say->id;
    cdx_errbuf eb = {0}, why = {0};
    cdx_err rc = cdx_identity_load(&m->me, key, &eb);
    if (rc == CDX_OK && strcmp(cdx_identity_id(m->me), id) != 0)
        rc = cdx_errf(&eb, CDX_ERR_INVALID, "key %s is %s's, not %s's", key, cdx_identity_id(m->me),
                      id);
    /* The file as a trust anchor (or a chain of files). A later version
     * alone, signed by the admins of the one before it, is not one: it is
     * taken if it follows from the roster history of our log. */
    cdx_err trust = CDX_OK;
    cdx_roster *file = NULL;
    if (rc == CDX_OK) {
        trust = cdx_roster_load_trusted(&m->roster, roster, &why);
        if (trust != CDX_OK && !strchr(roster, ',') &&
            cdx_roster_load(&file, roster, NULL) == CDX_OK && s_is_file(log, "data.mdb"))
            trust = CDX_ERR_BUSY; /* to be settled once the log is open */
        else if (trust != CDX_OK)
            rc = cdx_errf(&eb, trust, "%s", why.msg);
    }
    if (rc == CDX_OK && trust == CDX_OK && !cdx_roster_find(m->roster, id))
        rc = cdx_errf(&eb, CDX_ERR_UNKNOWN_SENDER, "%s is not in the roster", id);
    if (rc == CDX_OK) {
        cdx_log_opts o = {.owner = id, .map_max = map_max_mb << 20, .exclusive = true};
        rc = cdx_log_new(&m->log, log, &o, &eb);
    }
    cdx_roster *head = rc == CDX_OK ? s_history_head(m->log) : NULL;
    if (rc == CDX_OK && trust != CDX_OK) {
        bool follows = head && (cdx_roster_verify(file, head, NULL) == CDX_OK ||
                                cdx_roster_version(file) <= cdx_roster_version(head));
        if (follows && cdx_roster_version(file) > cdx_roster_version(head)) {
            m->roster = file;
            file = NULL;
        } else if (follows) {
            m->roster = head;
            head = NULL;
        } else {
            rc = cdx_errf(&eb, CDX_ERR_BAD_SIGNATURE, "%s", why.msg);
        }
        if (rc == CDX_OK && !cdx_roster_find(m->roster, id))
            rc = cdx_errf(&eb, CDX_ERR_UNKNOWN_SENDER, "%s is not in the roster", id);
    }
    cdx_roster_destroy(&file);
    /* A roster adopted from the bus in an earlier run is newer than the
     * file's: it passed verification then, and the log is ours. */
    cdx_bytes rb = {0};
    cdx_roster *stored = head;
    head = NULL;
    if (rc == CDX_OK && !stored && cdx_log_get_roster(m->log, &rb) == CDX_OK)
        cdx_roster_decode(&stored, rb.data, rb.len, NULL); /* a log of an older cydex */
    cdx_bytes_free(&rb);
    if (rc == CDX_OK && stored && cdx_roster_version(stored) > cdx_roster_version(m->roster) &&
        strcmp(cdx_roster_federation(stored), cdx_roster_federation(m->roster)) == 0 &&
        cdx_roster_find(stored, id)) {
        daemon_log(&m->say, "using roster v%llu from the log (the file %s holds v%llu)",
                   (unsigned long long)cdx_roster_version(stored), roster,
                   (unsigned long long)cdx_roster_version(m->roster));
        cdx_roster_destroy(&m->roster);
        m->roster = stored;
        stored = NULL;
    }
    cdx_roster_destroy(&stored);
    if (rc == CDX_OK && (rc = cdx_roster_encode(m->roster, &rb)) == CDX_OK)
        rc = cdx_log_keep_roster(m->log, cdx_roster_version(m->roster), rb.data, rb.len, &eb);
    cdx_bytes_free(&rb);
    if (rc == CDX_OK)
        return 0;
    snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
    daemon_member_close(m);
    return rc == CDX_ERR_KEY_PERMS                     ? 77
           : rc == CDX_ERR_IO || rc == CDX_ERR_NOSPACE ? 74
           : rc == CDX_ERR_BUSY                        ? 75
                                                       : 78;
}

/* A verified successor in force: the transport, the log's history, m. */
static cdx_err s_in_force(daemon_member *m, cdx_transport *net, cdx_roster **next)
{
    cdx_err rc = net ? cdx_transport_set_roster(net, *next) : CDX_OK;
    if (rc != CDX_OK)
        return rc;
    cdx_bytes rb;
    if (cdx_roster_encode(*next, &rb) == CDX_OK) {
        cdx_log_keep_roster(m->log, cdx_roster_version(*next), rb.data, rb.len, NULL);
        cdx_bytes_free(&rb);
    }
    cdx_roster_destroy(&m->roster);
    m->roster = *next;
    *next = NULL;
    return CDX_OK;
}

cdx_err daemon_roster_adopt(daemon_member *m, cdx_transport *net, cdx_roster **next, cdx_errbuf *eb)
{
    cdx_err rc = CDX_OK;
    if (strcmp(cdx_roster_federation(*next), cdx_roster_federation(m->roster)) != 0)
        rc = cdx_errf(eb, CDX_ERR_POLICY, "a roster of federation %s, not %s",
                      cdx_roster_federation(*next), cdx_roster_federation(m->roster));
    if (rc == CDX_OK && cdx_roster_version(*next) <= cdx_roster_version(m->roster))
        rc = cdx_errf(eb, CDX_ERR_ROLLBACK, "roster v%llu is not newer than v%llu in force",
                      (unsigned long long)cdx_roster_version(*next),
                      (unsigned long long)cdx_roster_version(m->roster));
    if (rc == CDX_OK)
        rc = cdx_roster_verify(*next, m->roster, eb);
    return rc == CDX_OK ? s_in_force(m, net, next) : rc;
}

cdx_err daemon_roster_take(daemon_member *m, cdx_transport *net, const uint8_t *data, size_t len,
                           const char *source)
{
    cdx_errbuf eb = {0};
    cdx_roster *next = NULL;
    /* Any member may put bytes on "roster": the cheap checks come first,
     * and nothing is decoded whole before the admins' signatures hold. */
    cdx_err rc = cdx_roster_decode_next(&next, data, len, m->roster, &eb);
    if (rc == CDX_OK)
        rc = s_in_force(m, net, &next);
    if (rc == CDX_OK)
        daemon_log(&m->say, "roster v%llu in force (%s)",
                   (unsigned long long)cdx_roster_version(m->roster), source);
    else if (rc != CDX_ERR_ROLLBACK) /* an old one is no news */
        daemon_log(&m->say, "a roster %s was not adopted: %s", source, cdx_errbuf_msg(&eb, rc));
    cdx_roster_destroy(&next);
    return rc;
}

void daemon_roster_reload(daemon_member *m, cdx_transport *net, const char *path)
{
    cdx_errbuf eb = {0};
    cdx_roster *next = NULL;
    /* A chain "v1.bin,v2.bin": its last file is the news. */
    const char *last = strrchr(path, ',');
    cdx_err rc = cdx_roster_load(&next, last ? last + 1 : path, &eb);
    if (rc == CDX_OK)
        rc = daemon_roster_adopt(m, net, &next, &eb);
    if (rc == CDX_OK)
        daemon_log(&m->say, "SIGHUP: roster v%llu in force",
                   (unsigned long long)cdx_roster_version(m->roster));
    else
        daemon_log(&m->say, "SIGHUP: roster not reloaded: %s", cdx_errbuf_msg(&eb, rc));
    cdx_roster_destroy(&next);
}

void daemon_member_close(daemon_member *m)
{
    cdx_log_destroy(&m->log);
    cdx_roster_destroy(&m->roster);
    cdx_identity_destroy(&m->me);
}

void daemon_wrote(daemon_writes *w, cdx_err rc, size_t n, uint64_t now_ms, const cdx_errbuf *eb)
{
    if (rc == CDX_OK) {
        if (n >= w->failed_n || now_ms - w->failed_mono_ms >= DAEMON_WRITE_HOLD_MS) {
            w->error[0] = '\0';
            w->failed_n = 0;
        }
        return;
    }
    snprintf(w->error, sizeof w->error, "%s", cdx_errbuf_msg(eb, rc));
    w->failed_n = n > w->failed_n ? n : w->failed_n;
    w->failed_mono_ms = now_ms;
    w->failures++;
}

void daemon_prom_writes(FILE *f, const daemon_writes *w, const cdx_log *log)
{
    cdx_log_commit_stats c;
    cdx_log_commit_stats_get(log, &c);
    double le[CDX_LOG_COMMIT_BUCKETS];
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++)
        le[i] = cdx_log_commit_bucket_us[i] / 1e6;
    daemon_prom_histogram(f, "cydex_log_commit_seconds",
                          "How long the log's commits took (pages written and flushed to the "
                          "device), since the daemon started.",
                          CDX_LOG_COMMIT_BUCKETS, le, c.le, (double)c.sum_us / 1e6, c.count);
    daemon_prom_one(f, "cydex_log_append_failing", "gauge",
                    "1 while a failed commit to the log stands (none as big, and none a minute "
                    "later, has succeeded since).",
                    w->error[0] != '\0');
    daemon_prom_one(f, "cydex_log_append_failures_total", "counter",
                    "Commits to the log that failed (nothing of them written), since the start.",
                    w->failures);
}

bool daemon_chain_wait_over(size_t told, size_t heard, size_t asked, uint64_t waited_ms)
{
    return told >= asked || (told && waited_ms >= DAEMON_CHAIN_GRACE_MS) ||
           (!heard && waited_ms >= DAEMON_CHAIN_WAIT_MS) || waited_ms >= DAEMON_CHAIN_MAX_MS;
}

uint64_t daemon_max_seq(const cdx_log_sender *s, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].id, id) == 0)
            return s[i].max_seq;
    return 0;
}

cdx_err daemon_catchup_after_log(cdx_log *log, cdx_catchup_request *q)
{
    q->after = NULL;
    q->n_after = 0;
    cdx_log_sender *s = NULL;
    size_t n = 0;
    cdx_err rc = cdx_log_senders(log, &s, &n);
    if (rc == CDX_OK)
        q->after = calloc(n + 1, sizeof *q->after);
    if (rc == CDX_OK && !q->after)
        rc = CDX_ERR_NOMEM;
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        snprintf(q->after[i].sender, sizeof q->after[i].sender, "%s", s[i].id);
        q->after[i].last_seq = s[i].max_seq;
    }
    if (rc == CDX_OK)
        q->n_after = n;
    free(s);
    return rc;
}

static volatile sig_atomic_t *s_stop, *s_reload;

static void s_on_stop(int sig)
{
    (void)sig;
    if (s_stop)
        *s_stop = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    if (s_reload)
        *s_reload = 1;
}

void daemon_signals(volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    s_stop = stop;
    s_reload = reload;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = reload ? s_on_hup : SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit fails the write (no-space), not the daemon */
}

int daemon_log_format(const char *value, bool *json, char *err, size_t errlen)
{
    if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0) {
        snprintf(err, errlen, "log_format must be text or json, not \"%s\"", value);
        return -1;
    }
    *json = strcmp(value, "json") == 0;
    return 0;
}

void daemon_log(const daemon_logger *lg, const char *fmt, ...)
{
    char when[CDX_TIME_TEXT_MAX], msg[2048];
    cdx_time_format(when, cdx_now_ms());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *line = NULL;
    if (lg->json) {
        line = json_pack("{s:s,s:s,s:s}", "time", when, "id", lg->id, "msg", msg);
        if (!line) { /* not UTF-8 (bytes quoted from a peer): keep the line JSON */
            for (char *p = msg; *p; p++)
                if ((unsigned char)*p >= 0x80)
                    *p = '?';
            line = json_pack("{s:s,s:s,s:s}", "time", when, "id", lg->id, "msg", msg);
        }
    }
    if (line) {
        json_dumpf(line, stderr, JSON_COMPACT | JSON_ENSURE_ASCII);
        fputc('\n', stderr);
        json_decref(line);
    } else {
        fprintf(stderr, "%s %s: %s\n", when, lg->id, msg);
    }
}

unsigned daemon_verify_threads(size_t wanted)
{
    if (wanted)
        return wanted > 64 ? 64u : (unsigned)wanted;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1u : cpus > 64 ? 64u : (unsigned)cpus;
}

void daemon_notify(const char *state)
{
    sd_notify(0, state);
}
