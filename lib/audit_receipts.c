/* The audit of the brokers' receipts a log keeps (see cydex/audit.h and
 * log_receipts.c): the evidence that brokers took the owner's envelopes is
 * only evidence if it still verifies.
 *
 * Every stored receipt must be a broker's, its signature must verify
 * against the roster (the broker's key valid when it committed), and every
 * item in it must name an entry of this log. Every index row must name a
 * stored receipt that says, of that entry's envelope and that broker, the
 * status and (for ACCEPTED and DUPLICATE) the broker's log index the row
 * says. A failure names the receipt by where it is stored, with its broker
 * and the entry it answers for (as the index knows them, when the receipt
 * itself no longer decodes). One pass over each table; what the receipts
 * say is collected and sorted, so that the rows are checked against it
 * without decoding a receipt once per envelope it covers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/receipt.h"
#include "internal.h"

/* What a stored receipt says of one entry: the same fields as a row. */
typedef cdx_log_receipt_row s_said;

typedef struct s_list {
    s_said *v;
    size_t n, cap;
} s_list;

static cdx_err s_push(s_list *l, const s_said *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        s_said *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return CDX_ERR_NOMEM;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = *x;
    return CDX_OK;
}

static cdx_err s_take_row(void *ctx, const cdx_log_receipt_row *row)
{
    return s_push(ctx, row);
}

/* By entry, broker, then receipt number. */
static int s_by_entry(const void *x, const void *y)
{
    const s_said *a = x, *b = y;
    if (a->entry != b->entry)
        return a->entry < b->entry ? -1 : 1;
    int c = strcmp(a->broker, b->broker);
    if (c)
        return c;
    return a->number < b->number ? -1 : a->number > b->number;
}

static int s_by_number(const void *x, const void *y)
{
    const s_said *a = x, *b = y;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

typedef struct s_check {
    cdx_log *log;
    const cdx_roster *roster;
    s_list rows;    /* by receipt number, to name a receipt */
    s_list said;    /* what the receipts say, by entry */
    s_list numbers; /* the numbers stored (only .number used), in order */
    uint64_t count;
    bool pass;
    char *why;
    size_t why_len;
} s_check;

/* "stored receipt 3 (from broker.alpha, for entry 5)": what the index
 * knows of a stored receipt (the first entry it answers for). */
static void s_name(const s_check *c, uint64_t number, const char *broker, char *out, size_t cap)
{
    size_t lo = 0, hi = c->rows.n; /* the first row of that number: its lowest entry */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->rows.v[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    const s_said *r = lo < c->rows.n && c->rows.v[lo].number == number ? &c->rows.v[lo] : NULL;
    if (!broker && r)
        broker = r->broker;
    int n = snprintf(out, cap, "stored receipt %llu", (unsigned long long)number);
    if (n < 0 || (size_t)n >= cap || !broker)
        return;
    if (r)
        snprintf(out + n, cap - (size_t)n, " (from %s, for entry %llu)", broker,
                 (unsigned long long)r->entry);
    else
        snprintf(out + n, cap - (size_t)n, " (from %s)", broker);
}

static void s_fail(s_check *c, const char *who, const char *detail)
{
    if (!c->pass)
        return; /* the first failure is the one reported */
    c->pass = false;
    snprintf(c->why, c->why_len, "%s: %s", who, detail);
}

static cdx_err s_receipt(void *ctx, uint64_t number, const uint8_t *bytes, size_t len)
{
    s_check *c = ctx;
    c->count++;
    if (!c->pass) /* counted; the first failure is the one reported */
        return CDX_OK;
    s_said mark = {.number = number};
    cdx_err rc = s_push(&c->numbers, &mark);
    if (rc != CDX_OK)
        return rc;
    char who[160];
    cdx_errbuf eb = {0};
    cdx_receipt *items = NULL;
    size_t n = 0;
    rc = cdx_receipt_verify_many(&items, &n, c->roster, bytes, len, &eb);
    if (rc != CDX_OK) {
        s_name(c, number, NULL, who, sizeof who);
        s_fail(c, who, cdx_errbuf_msg(&eb, rc));
        return CDX_OK;
    }
    for (size_t i = 0; i < n && rc == CDX_OK; i++) {
        s_said s = {.number = number, .status = items[i].status, .log_index = items[i].log_index};
        snprintf(s.broker, sizeof s.broker, "%s", items[i].broker);
        if (cdx_log_find_hash(c->log, items[i].envelope_hash, &s.entry) != CDX_OK) {
            char hex[2 * CDX_HASH_BYTES + 1], what[200];
            cdx_hex_encode(hex, items[i].envelope_hash, CDX_HASH_BYTES);
            snprintf(what, sizeof what,
                     "it answers for envelope %.16s, which this log does not hold", hex);
            s_name(c, number, items[i].broker, who, sizeof who);
            s_fail(c, who, what);
            break;
        }
        rc = s_push(&c->said, &s);
    }
    free(items);
    return rc;
}

static bool s_stored(const s_check *c, uint64_t number)
{
    s_said key = {.number = number};
    return c->numbers.n &&
           bsearch(&key, c->numbers.v, c->numbers.n, sizeof key, s_by_number) != NULL;
}

/* Each index row against what its receipt says of that entry. */
static void s_rows_check(s_check *c, const s_said *rows, size_t n)
{
    for (size_t i = 0; i < n && c->pass; i++) {
        const s_said *r = &rows[i];
        char who[160], what[240];
        s_name(c, r->number, r->broker, who, sizeof who);
        const s_said *it =
            c->said.n ? bsearch(r, c->said.v, c->said.n, sizeof *r, s_by_entry) : NULL;
        bool has_index = r->status == CDX_RECEIPT_ACCEPTED || r->status == CDX_RECEIPT_DUPLICATE;
        /* One receipt may speak of an entry more than once (a copy resent
         * in the round that took the first: "accepted", then "duplicate"):
         * the row agrees with one of them. */
        if (it) {
            const s_said *lo = it, *end = c->said.v + c->said.n;
            while (lo > c->said.v && s_by_entry(lo - 1, r) == 0)
                lo--;
            for (const s_said *k = lo; k < end && s_by_entry(k, r) == 0; k++)
                if (k->status == r->status && (!has_index || k->log_index == r->log_index)) {
                    it = k;
                    break;
                }
        }
        if (!s_stored(c, r->number))
            snprintf(what, sizeof what,
                     "the receipt index for entry %llu names a receipt that is not stored",
                     (unsigned long long)r->entry);
        else if (!it)
            snprintf(what, sizeof what,
                     "the receipt index for entry %llu names a receipt of %s that says nothing of "
                     "it",
                     (unsigned long long)r->entry, r->broker);
        else if (it->status != r->status || (has_index && it->log_index != r->log_index))
            snprintf(what, sizeof what,
                     "the receipt index for entry %llu says %s at %s's log index %llu; the "
                     "receipt says %s at %llu",
                     (unsigned long long)r->entry, cdx_receipt_status_name(r->status), r->broker,
                     (unsigned long long)r->log_index, cdx_receipt_status_name(it->status),
                     (unsigned long long)it->log_index);
        else
            continue;
        s_fail(c, who, what);
    }
}

cdx_err cdx__audit_receipts(cdx_log *log, const cdx_roster *roster, uint64_t *count, bool *pass,
                            char *why, size_t why_len, cdx_errbuf *eb)
{
    s_check c = {.log = log, .roster = roster, .pass = true, .why = why, .why_len = why_len};
    *count = 0;
    *pass = true;
    cdx_errbuf scan = {0};
    s_said *by_entry = NULL;
    cdx_err rc = cdx_log_receipt_rows_scan(log, s_take_row, &c.rows, &scan);
    if (rc == CDX_OK && c.rows.n) { /* rows come by entry; a copy by number names receipts */
        by_entry = malloc(c.rows.n * sizeof *by_entry);
        if (!by_entry)
            rc = CDX_ERR_NOMEM;
        else
            memcpy(by_entry, c.rows.v, c.rows.n * sizeof *by_entry);
        qsort(c.rows.v, c.rows.n, sizeof *c.rows.v, s_by_number);
    }
    if (rc == CDX_OK)
        rc = cdx_log_receipts_scan(log, s_receipt, &c, &scan);
    if (rc == CDX_ERR_CORRUPT) {
        s_fail(&c, "the log's receipts", scan.msg);
        rc = CDX_OK;
    } else if (rc != CDX_OK) {
        cdx_errf(eb, rc, "%s", cdx_errbuf_msg(&scan, rc));
    }
    if (rc == CDX_OK && c.pass) {
        if (c.said.n)
            qsort(c.said.v, c.said.n, sizeof *c.said.v, s_by_entry);
        s_rows_check(&c, by_entry, c.rows.n);
    }
    free(by_entry);
    free(c.rows.v);
    free(c.said.v);
    free(c.numbers.v);
    *count = c.count;
    *pass = c.pass;
    return rc;
}
