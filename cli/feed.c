/* See feed.h. Input is read with read(2) into our own buffer, not stdio:
 * poll can then say truthfully whether a line may come, and no line waits
 * in a FILE buffer while we wait for the descriptor. */
#include "feed.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cydex/clock.h"

#define S_ANSWER_MS 5000 /* an answer due for this long: the node is gone */
/* No alert this long fits an envelope: such a line is refused, not held. */
#define S_LINE_MAX ((size_t)4 * CDX_ENVELOPE_MAX_DEFAULT)

/* One line in the window: refused here, or to be sent (again, after a
 * node came back) until the node answers it. */
typedef struct s_slot {
    uint64_t line;
    int local_ec; /* CLI_OK: its request is `text`, its answer is due */
    char why[300];
    char *text; /* the alert as sent */
} s_slot;

struct cli_feed {
    cli_node **nc; /* *nc NULL while the node is lost */
    cli_feed_opts o;
    int fd;
    bool eof;
    char *buf; /* read, not yet taken as lines: [off, len) */
    size_t off, len, cap;
    s_slot slot[CLI_FEED_WINDOW];
    size_t head, tail, next; /* the window: [tail, head); sent: [tail, next) */
    bool overlong;           /* dropping the rest of a line longer than S_LINE_MAX */
    uint64_t lineno, answer_due_since_ms;
    uint64_t lost_since_ms, retry_at_ms; /* the node was lost (0: it is not) */
    size_t refused, total;
    int first_bad;
};

int cli_feed_new(cli_feed **out, cli_node **nc, int fd, const cli_feed_opts *o)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CLI_SOFTWARE;
    (*out)->nc = nc;
    (*out)->o = *o;
    (*out)->fd = fd;
    return CLI_OK;
}

void cli_feed_destroy(cli_feed **f)
{
    if (!f || !*f)
        return;
    for (size_t i = (*f)->tail; i < (*f)->head; i++)
        free((*f)->slot[i % CLI_FEED_WINDOW].text);
    free((*f)->buf);
    free(*f);
    *f = NULL;
}

bool cli_feed_done(const cli_feed *f)
{
    return f->eof && f->off == f->len && f->tail == f->head;
}

/* The next complete line (or, at the end, what is left), NUL-terminated
 * in place; false if none yet. A line longer than S_LINE_MAX comes as
 * *line NULL, and the rest of it is dropped as it arrives. */
static bool s_next_line(cli_feed *f, char **line, size_t *len)
{
    while (f->overlong && f->off < f->len) {
        char *nl = memchr(f->buf + f->off, '\n', f->len - f->off);
        f->off = nl ? (size_t)(nl - f->buf) + 1 : f->len;
        f->overlong = !nl;
    }
    if (f->off == f->len)
        return false; /* nothing read (buf may be NULL yet) */
    char *start = f->buf + f->off, *nl = memchr(start, '\n', f->len - f->off);
    if (!nl && !f->eof && f->len - f->off <= S_LINE_MAX)
        return false;
    size_t n = nl ? (size_t)(nl - start) : f->len - f->off;
    if (n > S_LINE_MAX) {
        f->off = nl ? f->off + n + 1 : f->len;
        f->overlong = !nl && !f->eof;
        *line = NULL;
        *len = n;
        return true;
    }
    f->off += n + (nl != NULL);
    start[n] = '\0'; /* the '\n', or the spare byte s_read keeps */
    while (n > 0 && start[n - 1] == '\r')
        start[--n] = '\0';
    *line = start;
    *len = n;
    return true;
}

static void s_read(cli_feed *f)
{
    if (f->off == f->len)
        f->off = f->len = 0;
    if (f->len + 65536 + 1 > f->cap) { /* room to read, and for a final NUL */
        if (f->off) {
            memmove(f->buf, f->buf + f->off, f->len - f->off);
            f->len -= f->off;
            f->off = 0;
        }
        size_t cap = f->len + 65536 + 1;
        char *grown = realloc(f->buf, cap);
        if (!grown) {
            fprintf(stderr, "cydex %s: out of memory reading the input\n", f->o.cmd);
            f->eof = true;
            return;
        }
        f->buf = grown;
        f->cap = cap;
    }
    ssize_t n = read(f->fd, f->buf + f->len, f->cap - f->len - 1);
    if (n > 0)
        f->len += (size_t)n;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        f->eof = true;
}

/* Takes the complete lines read into the window, while it has room. */
static void s_fill(cli_feed *f)
{
    char *line;
    size_t len;
    while (f->head - f->tail < CLI_FEED_WINDOW && s_next_line(f, &line, &len)) {
        f->lineno++;
        if (len == 0)
            continue;
        f->total++;
        s_slot *sl = &f->slot[f->head % CLI_FEED_WINDOW];
        *sl = (s_slot){.line = f->lineno};
        cdx_errbuf eb = {0};
        char *mapped = NULL;
        cdx_err rc = line && f->o.format
                         ? cli_format_alert(line, len, f->o.format, f->o.tlp, &mapped, &eb)
                         : CDX_OK;
        if (mapped) {
            line = mapped;
            len = strlen(mapped);
        }
        if (rc == CDX_OK)
            rc = line ? cli_alert_json(line, len, f->o.tlp, f->o.wait_node_s > 0, &sl->text, &eb)
                      : cdx_errf(&eb, CDX_ERR_TOO_BIG,
                                 "the line is longer than %zu MiB: no alert that big fits "
                                 "an envelope",
                                 S_LINE_MAX >> 20);
        free(mapped);
        if (rc != CDX_OK) {
            sl->local_ec = cli_exit_code(rc);
            snprintf(sl->why, sizeof sl->why, "%s", cdx_errbuf_msg(&eb, rc));
        }
        f->head++;
    }
}

/* The node stopped answering, or said it is busy (and did nothing with
 * the request): with wait_node_s, it is connected to again and asked
 * every line it has not answered (a line it did take is answered again
 * with the same envelope: each has an id); otherwise the feed ends. */
static int s_lost(cli_feed *f, int ec, const char *why)
{
    uint64_t now = cdx_mono_ms(),
             first = f->tail < f->head ? f->slot[f->tail % CLI_FEED_WINDOW].line : f->lineno + 1;
    if (!f->o.wait_node_s) {
        fprintf(stderr, "cydex %s: %s; lines from %llu on may not be published\n", f->o.cmd, why,
                (unsigned long long)first);
        return ec;
    }
    if (!f->lost_since_ms) {
        f->lost_since_ms = now;
        fprintf(stderr,
                "cydex %s: %s; waiting up to %llu s for it (lines from %llu on are asked "
                "again)\n",
                f->o.cmd, why, (unsigned long long)f->o.wait_node_s, (unsigned long long)first);
    } else if (now - f->lost_since_ms >= 1000 * f->o.wait_node_s) {
        fprintf(stderr,
                "cydex %s: the node at %s did not come back within %llu s; lines from %llu on "
                "may not be published\n",
                f->o.cmd, f->o.node, (unsigned long long)f->o.wait_node_s,
                (unsigned long long)first);
        return 69;
    }
    cli_node_close(f->nc);
    f->next = f->tail;
    f->retry_at_ms = now + 250;
    return CLI_OK;
}

/* Whether a line sent to the node waits for its answer. */
static bool s_due(const cli_feed *f)
{
    for (size_t i = f->tail; i < f->next; i++)
        if (f->slot[i % CLI_FEED_WINDOW].local_ec == CLI_OK)
            return true;
    return false;
}

/* Sends the lines of the window not sent yet, in order. */
static int s_send(cli_feed *f)
{
    for (; *f->nc && f->next < f->head; f->next++) {
        s_slot *sl = &f->slot[f->next % CLI_FEED_WINDOW];
        if (sl->local_ec != CLI_OK)
            continue;
        cdx_bytes fr[4] = {{(uint8_t *)"publish", 7},
                           {(uint8_t *)f->o.topic, strlen(f->o.topic)},
                           {(uint8_t *)f->o.to, strlen(f->o.to)},
                           {(uint8_t *)sl->text, strlen(sl->text)}};
        bool first_due = !s_due(f);
        if (cli_node_send(*f->nc, fr, 4) != CDX_OK)
            return s_lost(f, 69, "the node does not take requests");
        if (first_due)
            f->answer_due_since_ms = cdx_mono_ms();
    }
    return CLI_OK;
}

/* Prints one line's result; returns its exit code. */
static int s_result(cli_feed *f, const s_slot *sl, const cdx_msg *ok, int ec, const char *why)
{
    FILE *out = f->o.results;
    if (ec == CLI_OK) {
        if (f->o.json)
            fprintf(out, "{\"line\":%llu,\"hash\":\"%.*s\",\"seq\":%.*s}\n",
                    (unsigned long long)sl->line, (int)ok->frame[1].len,
                    (const char *)ok->frame[1].data, (int)ok->frame[2].len,
                    (const char *)ok->frame[2].data);
        else
            fprintf(out, "line %llu: seq %.*s, envelope hash %.*s\n", (unsigned long long)sl->line,
                    (int)ok->frame[2].len, (const char *)ok->frame[2].data, (int)ok->frame[1].len,
                    (const char *)ok->frame[1].data);
    } else {
        if (out != stderr || !f->o.json)
            fprintf(stderr, "cydex %s: line %llu: %s\n", f->o.cmd, (unsigned long long)sl->line,
                    why);
        json_t *o = f->o.json ? json_pack("{s:I,s:i,s:s}", "line", (json_int_t)sl->line, "exit", ec,
                                          "error", why)
                              : NULL;
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (t)
            fprintf(out, "%s\n", t);
        free(t);
        json_decref(o);
        f->refused++;
        f->first_bad = f->first_bad ? f->first_bad : ec;
    }
    fflush(out);
    return ec;
}

/* Prints the results that are due and have come, oldest first. */
static int s_collect(cli_feed *f)
{
    while (f->tail < f->head) {
        s_slot *sl = &f->slot[f->tail % CLI_FEED_WINDOW];
        if (sl->local_ec != CLI_OK) {
            s_result(f, sl, NULL, sl->local_ec, sl->why);
            f->tail++;
            f->next = f->next < f->tail ? f->tail : f->next;
            continue;
        }
        if (f->tail >= f->next)
            return CLI_OK; /* not sent yet (the node is lost) */
        bool answered = false;
        cli_node_wait(*f->nc, -1, 0, &answered, NULL);
        if (!answered)
            return CLI_OK;
        cdx_msg m = {0};
        char err[400] = "";
        int ec = cli_node_recv(*f->nc, &m, err, sizeof err);
        if (ec == 69 || (ec == CLI_TEMPFAIL && f->o.wait_node_s))
            return s_lost(f, ec, err);
        if (f->lost_since_ms) {
            fprintf(stderr, "cydex %s: the node is back\n", f->o.cmd);
            f->lost_since_ms = 0;
        }
        s_result(f, sl, &m, ec, err);
        cdx_msg_clear(&m);
        free(sl->text);
        sl->text = NULL;
        f->tail++;
        f->answer_due_since_ms = cdx_mono_ms();
    }
    return CLI_OK;
}

/* While the node is lost: connects again once retry_at_ms has come. */
static int s_reconnect(cli_feed *f)
{
    if (*f->nc || cdx_mono_ms() < f->retry_at_ms)
        return CLI_OK;
    char err[400] = "";
    if (cli_node_open(f->nc, f->o.node, err, sizeof err) == CLI_OK) {
        f->answer_due_since_ms = cdx_mono_ms();
        return CLI_OK;
    }
    return s_lost(f, 69, err);
}

int cli_feed_step(cli_feed *f, int wait_ms)
{
    s_fill(f);
    int ec = s_reconnect(f);
    if (ec == CLI_OK)
        ec = s_send(f);
    if (ec == CLI_OK)
        ec = s_collect(f);
    if (ec != CLI_OK || cli_feed_done(f))
        return ec;
    bool room = !f->eof && f->head - f->tail < CLI_FEED_WINDOW;
    if (!*f->nc) { /* lost: input meanwhile, or the next try */
        uint64_t now = cdx_mono_ms();
        int left = f->retry_at_ms > now ? (int)(f->retry_at_ms - now) : 0;
        wait_ms = wait_ms < 0 || wait_ms > left ? left : wait_ms;
        struct pollfd p = {.fd = room ? f->fd : -1, .events = POLLIN};
        if (poll(&p, 1, wait_ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            s_read(f);
        return CLI_OK;
    }
    if (s_due(f)) { /* bounded: a node that went away is noticed within S_ANSWER_MS */
        if (cli_node_gone(f->o.node)) {
            ec = s_collect(f); /* the answers it gave before it went */
            if (ec != CLI_OK || !s_due(f))
                return ec;
            return s_lost(f, 69, "the node stopped");
        }
        uint64_t waited = cdx_mono_ms() - f->answer_due_since_ms;
        if (waited >= S_ANSWER_MS) {
            char why[200];
            snprintf(why, sizeof why, "the node did not answer within %d s (is it running?)",
                     S_ANSWER_MS / 1000);
            return s_lost(f, 69, why);
        }
        int left = (int)(S_ANSWER_MS - waited);
        wait_ms = wait_ms < 0 || wait_ms > left ? left : wait_ms;
    }
    bool answered = false, input = false;
    cli_node_wait(*f->nc, room ? f->fd : -1, wait_ms, &answered, &input);
    if (input)
        s_read(f);
    s_fill(f);
    ec = s_send(f);
    return ec == CLI_OK ? s_collect(f) : ec;
}

int cli_feed_finish(cli_feed *f)
{
    if (f->o.json && f->o.results == stderr) /* results and summary: one stream of JSON */
        fprintf(stderr, "{\"end\":true,\"alerts\":%zu,\"refused\":%zu}\n", f->total, f->refused);
    else if (f->refused)
        fprintf(stderr, "cydex %s: %zu of %zu alerts refused\n", f->o.cmd, f->refused, f->total);
    return f->first_bad;
}
