/* The roster: member cards, admins, threshold, and signatures over the
 * exact serialized roster.
 *
 * Invariants: `bytes` is always the serialization of `d` (edits re-encode
 * it and drop the signatures, which were over the old bytes); `by_id` lists
 * the member cards sorted by (id, valid_from), so that one id's cards are
 * adjacent, their windows in order and disjoint, one role for all;
 * `admin_by_id` lists the admins sorted by id; admin ids and admin keys are
 * unique, so one key can never count twice toward k; `revoked_keys`
 * (sorted) are the signing keys of revoked cards and `admin_ok` says which
 * admins are not tied to a revoked member (by id or by key), the only ones
 * whose signatures count. Whatever grows with the roster is sorted once,
 * O(n log n), and the counts are capped before anything is decoded: a
 * roster from the bus is decoded by every daemon before anyone knows
 * whether its signatures hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/roster.h"
#include "internal.h"

struct cdx_roster {
    cdx__roster_data d;
    cdx_bytes bytes; /* serialized Roster: what admins sign */
    cdx__rsig *sigs;
    size_t n_sigs;
    const cdx_member **by_id;
    const cdx__admin **admin_by_id;
    uint8_t (*revoked_keys)[CDX_PK_BYTES];
    size_t n_revoked_keys;
    bool *admin_ok; /* by index into d.admins */
    size_t n_admin_ok;
};

/* ---- the index ---- */

static int s_cmp_card(const void *a, const void *b)
{
    const cdx_member *x = *(const cdx_member *const *)a, *y = *(const cdx_member *const *)b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    if (x->valid_from_ms != y->valid_from_ms)
        return x->valid_from_ms < y->valid_from_ms ? -1 : 1;
    return 0;
}

static int s_cmp_admin_id(const void *a, const void *b)
{
    return strcmp((*(const cdx__admin *const *)a)->id, (*(const cdx__admin *const *)b)->id);
}

static int s_cmp_admin_key(const void *a, const void *b)
{
    return memcmp((*(const cdx__admin *const *)a)->sign_pk,
                  (*(const cdx__admin *const *)b)->sign_pk, CDX_PK_BYTES);
}

static int s_cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, CDX_PK_BYTES);
}

/* The cards of `id`: how many, from by_id[*first]. O(log n + count). */
static size_t s_range(const cdx_roster *r, const char *id, size_t *first)
{
    size_t lo = 0, hi = r->d.n_members;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->by_id[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < r->d.n_members && strcmp(r->by_id[end]->id, id) == 0)
        end++;
    *first = lo;
    return end - lo;
}

static bool s_member_revoked(const cdx_roster *r, const char *id)
{
    size_t first, n = s_range(r, id, &first);
    for (size_t i = 0; i < n; i++)
        if (r->by_id[first + i]->revoked_at_ms)
            return true;
    return false;
}

static bool s_key_revoked(const cdx_roster *r, const uint8_t pk[CDX_PK_BYTES])
{
    return r->n_revoked_keys &&
           bsearch(pk, r->revoked_keys, r->n_revoked_keys, CDX_PK_BYTES, s_cmp_key) != NULL;
}

static bool s_admin_tied_to_revoked(const cdx_roster *r, const cdx__admin *a)
{
    return s_member_revoked(r, a->id) || s_key_revoked(r, a->sign_pk);
}

static void s_free_index(cdx_roster *r)
{
    free(r->by_id);
    free(r->admin_by_id);
    free(r->revoked_keys);
    free(r->admin_ok);
    r->by_id = NULL;
    r->admin_by_id = NULL;
    r->revoked_keys = NULL;
    r->admin_ok = NULL;
    r->n_revoked_keys = r->n_admin_ok = 0;
}

/* Rebuilds the index and checks limits, uniqueness and well-formedness. */
static cdx_err s_index(cdx_roster *r, cdx_errbuf *eb)
{
    s_free_index(r);
    size_t nm = r->d.n_members, na = r->d.n_admins;
    if (nm > CDX_ROSTER_MAX_MEMBERS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "roster lists %zu member cards; at most %u", nm,
                        CDX_ROSTER_MAX_MEMBERS);
    if (na > CDX_ROSTER_MAX_ADMINS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "roster lists %zu admins; at most %u", na,
                        CDX_ROSTER_MAX_ADMINS);
    r->by_id = calloc(nm + 1, sizeof *r->by_id);
    r->admin_by_id = calloc(na + 1, sizeof *r->admin_by_id);
    r->revoked_keys = calloc(nm + 1, sizeof *r->revoked_keys);
    r->admin_ok = calloc(na + 1, sizeof *r->admin_ok);
    const cdx__admin **by_key = calloc(na + 1, sizeof *by_key);
    cdx_err rc = CDX_OK;
    if (!r->by_id || !r->admin_by_id || !r->revoked_keys || !r->admin_ok || !by_key) {
        rc = CDX_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        const cdx_member *m = &r->d.members[i];
        if (!cdx_id_valid(m->id)) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "member %zu has a bad id \"%s\"", i, m->id);
            goto done;
        }
        if (m->role <= CDX_ROLE_UNSPECIFIED || m->role > CDX_ROLE_RELAY) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "member %s has an unknown role", m->id);
            goto done;
        }
        if (m->valid_until_ms && m->valid_until_ms <= m->valid_from_ms) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT,
                          "member %s has a card whose validity ends before "
                          "it begins",
                          m->id);
            goto done;
        }
        r->by_id[i] = m;
        if (m->revoked_at_ms)
            memcpy(r->revoked_keys[r->n_revoked_keys++], m->sign_pk, CDX_PK_BYTES);
    }
    qsort(r->by_id, nm, sizeof *r->by_id, s_cmp_card);
    qsort(r->revoked_keys, r->n_revoked_keys, CDX_PK_BYTES, s_cmp_key);
    for (size_t i = 1; i < nm; i++) {
        const cdx_member *a = r->by_id[i - 1], *b = r->by_id[i];
        if (strcmp(a->id, b->id) != 0)
            continue;
        if (a->role != b->role) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "member %s is listed with two roles, %s and %s",
                          a->id, cdx_role_name(a->role), cdx_role_name(b->role));
            goto done;
        }
        if (!a->valid_until_ms || a->valid_until_ms > b->valid_from_ms) {
            char from_a[CDX_TIME_TEXT_MAX], from_b[CDX_TIME_TEXT_MAX];
            cdx_time_format(from_a, a->valid_from_ms);
            cdx_time_format(from_b, b->valid_from_ms);
            rc = cdx_errf(eb, CDX_ERR_FORMAT,
                          "member %s has two cards valid at once (one from %s, one from %s): "
                          "each card must end before the next begins",
                          a->id, from_a, from_b);
            goto done;
        }
    }
    for (size_t i = 0; i < na; i++) {
        if (!cdx_id_valid(r->d.admins[i].id)) {
            rc =
                cdx_errf(eb, CDX_ERR_FORMAT, "admin %zu has a bad id \"%s\"", i, r->d.admins[i].id);
            goto done;
        }
        r->admin_by_id[i] = by_key[i] = &r->d.admins[i];
    }
    qsort(r->admin_by_id, na, sizeof *r->admin_by_id, s_cmp_admin_id);
    qsort(by_key, na, sizeof *by_key, s_cmp_admin_key);
    for (size_t i = 1; i < na; i++) {
        if (strcmp(r->admin_by_id[i]->id, r->admin_by_id[i - 1]->id) == 0) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "admin %s is listed twice", r->admin_by_id[i]->id);
            goto done;
        }
        if (memcmp(by_key[i]->sign_pk, by_key[i - 1]->sign_pk, CDX_PK_BYTES) == 0) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "admin %s is listed twice (its key is also %s's)",
                          by_key[i]->id, by_key[i - 1]->id);
            goto done;
        }
    }
    for (size_t i = 0; i < na; i++)
        r->admin_ok[i] = !s_admin_tied_to_revoked(r, &r->d.admins[i]);
    r->n_admin_ok = na;
done:
    free(by_key);
    if (rc != CDX_OK)
        s_free_index(r);
    return rc;
}

/* After an edit: new bytes, no signatures, fresh index. */
static cdx_err s_edited(cdx_roster *r, cdx_errbuf *eb)
{
    cdx_bytes_free(&r->bytes);
    free(r->sigs);
    r->sigs = NULL;
    r->n_sigs = 0;
    cdx_err rc = s_index(r, eb);
    return rc != CDX_OK ? rc : cdx__roster_data_encode(&r->d, &r->bytes);
}

static const cdx__admin *s_admin_by_id(const cdx_roster *r, const char *id)
{
    size_t lo = 0, hi = r->d.n_admins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, r->admin_by_id[mid]->id);
        if (c == 0)
            return r->admin_by_id[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool s_ok(const cdx_roster *r, const cdx__admin *a)
{
    size_t i = (size_t)(a - r->d.admins);
    return i < r->n_admin_ok && r->admin_ok[i];
}

size_t cdx_roster_signing_admins(const cdx_roster *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_admin_ok; i++)
        n += r->admin_ok[i];
    return n;
}

bool cdx_roster_admin_may_sign(const cdx_roster *r, size_t i)
{
    return i < r->n_admin_ok && r->admin_ok[i];
}

/* ---- life cycle ---- */

void cdx_roster_destroy(cdx_roster **r)
{
    if (!r || !*r)
        return;
    cdx__roster_data_clear(&(*r)->d);
    cdx_bytes_free(&(*r)->bytes);
    free((*r)->sigs);
    s_free_index(*r);
    free(*r);
    *r = NULL;
}

cdx_err cdx_roster_new(cdx_roster **out, const char *federation, uint32_t threshold,
                       uint64_t issued_at_ms)
{
    *out = NULL;
    if (!cdx_id_valid(federation) || threshold == 0)
        return CDX_ERR_INVALID;
    cdx_roster *r = calloc(1, sizeof *r);
    if (!r)
        return CDX_ERR_NOMEM;
    r->d.federation = cdx__strdup(federation);
    r->d.version = 1;
    r->d.threshold = threshold;
    r->d.issued_at_ms = issued_at_ms;
    cdx_err rc = r->d.federation ? s_edited(r, NULL) : CDX_ERR_NOMEM;
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

cdx_err cdx_roster_next(cdx_roster **out, const cdx_roster *prev, uint64_t issued_at_ms)
{
    *out = NULL;
    cdx_roster *r = calloc(1, sizeof *r);
    if (!r)
        return CDX_ERR_NOMEM;
    r->d = prev->d;
    r->d.version = prev->d.version + 1;
    r->d.issued_at_ms = issued_at_ms;
    r->d.federation = cdx__strdup(prev->d.federation);
    r->d.members = malloc((prev->d.n_members + 1) * sizeof *r->d.members);
    r->d.admins = malloc((prev->d.n_admins + 1) * sizeof *r->d.admins);
    cdx_err rc = CDX_ERR_NOMEM;
    if (r->d.federation && r->d.members && r->d.admins) {
        if (prev->d.n_members) /* a draft may have none yet: no NULL to memcpy */
            memcpy(r->d.members, prev->d.members, prev->d.n_members * sizeof *r->d.members);
        if (prev->d.n_admins)
            memcpy(r->d.admins, prev->d.admins, prev->d.n_admins * sizeof *r->d.admins);
        rc = s_edited(r, NULL);
    }
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

/* The limits, read off the serialized Roster before it is decoded. */
static cdx_err s_peek(cdx__roster_peek *p, const cdx_bytes *bytes, cdx_errbuf *eb)
{
    /* The canonical check reads the fields in one pass without decoding
     * (or allocating) anything: the counts come before the cost. */
    cdx__pb_top t;
    cdx_err rc = cdx__canonical_check(CDX__PB_ROSTER, bytes->data, bytes->len, &t, eb);
    if (rc != CDX_OK)
        return rc;
    memset(p, 0, sizeof *p);
    if (t.present[1]) {
        p->federation = t.field[1].data;
        p->federation_len = t.field[1].len;
    }
    p->version = t.field[2].v;
    p->n_members = t.count[4];
    p->n_admins = t.count[5];
    if (p->n_members > CDX_ROSTER_MAX_MEMBERS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "roster lists %zu member cards; at most %u",
                        p->n_members, CDX_ROSTER_MAX_MEMBERS);
    if (p->n_admins > CDX_ROSTER_MAX_ADMINS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "roster lists %zu admins; at most %u", p->n_admins,
                        CDX_ROSTER_MAX_ADMINS);
    return CDX_OK;
}

/* The signed roster's outer layer: size, signatures' count. */
static cdx_err s_outer(cdx_roster *r, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    if (len > CDX_ROSTER_MAX_BYTES)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "roster is %zu bytes; at most %u", len,
                        CDX_ROSTER_MAX_BYTES);
    cdx_err rc = cdx__signed_roster_decode(&r->bytes, &r->sigs, &r->n_sigs, data, len, eb);
    if (rc == CDX_OK && r->n_sigs > CDX_ROSTER_MAX_ADMINS)
        rc = cdx_errf(eb, CDX_ERR_TOO_BIG, "roster carries %zu signatures; at most %u", r->n_sigs,
                      CDX_ROSTER_MAX_ADMINS);
    return rc;
}

/* The members and admins: decoded, indexed; s_peek checked the bytes. */
static cdx_err s_inner(cdx_roster *r, cdx_errbuf *eb)
{
    cdx_err rc = cdx__roster_data_decode(&r->d, r->bytes.data, r->bytes.len, true, eb);
    if (rc == CDX_OK)
        rc = s_index(r, eb);
    if (rc == CDX_OK && !cdx_id_valid(r->d.federation))
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "roster names no federation");
    return rc;
}

cdx_err cdx_roster_decode(cdx_roster **out, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_roster *r = calloc(1, sizeof *r);
    if (!r)
        return CDX_ERR_NOMEM;
    cdx__roster_peek p;
    cdx_err rc = s_outer(r, data, len, eb);
    if (rc == CDX_OK)
        rc = s_peek(&p, &r->bytes, eb);
    if (rc == CDX_OK)
        rc = s_inner(r, eb);
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

cdx_err cdx_roster_load(cdx_roster **out, const char *path, cdx_errbuf *eb)
{
    cdx_bytes b;
    cdx_err rc = cdx__read_file(path, CDX_ROSTER_MAX_BYTES + 1, &b, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx_roster_decode(out, b.data, b.len, eb);
    if (rc != CDX_OK && eb) {
        char detail[sizeof eb->msg];
        memcpy(detail, eb->msg, sizeof detail);
        cdx_errf(eb, rc, "%s is not a roster: %s", path, detail);
    }
    cdx_bytes_free(&b);
    return rc;
}

cdx_err cdx_roster_load_trusted(cdx_roster **out, const char *paths, cdx_errbuf *eb)
{
    *out = NULL;
    char *list = cdx__strdup(paths);
    if (!list)
        return CDX_ERR_NOMEM;
    cdx_roster *head = NULL;
    cdx_err rc = CDX_OK;
    size_t n = 0;
    char *save = NULL;
    for (char *path = strtok_r(list, ",", &save); path && rc == CDX_OK;
         path = strtok_r(NULL, ",", &save), n++) {
        cdx_roster *r = NULL;
        rc = cdx_roster_load(&r, path, eb);
        if (rc == CDX_OK)
            rc = cdx_roster_verify(r, head, eb);
        if (rc != CDX_OK && eb && r) {
            char detail[sizeof eb->msg];
            memcpy(detail, eb->msg, sizeof detail);
            bool hint = !head && r && r->d.version > 1 &&
                        (rc == CDX_ERR_BAD_SIGNATURE || rc == CDX_ERR_UNKNOWN_SENDER ||
                         rc == CDX_ERR_THRESHOLD);
            cdx_errf(eb, rc, "roster %s is not valid%s: %s%s", path,
                     head ? " as the successor of the file before it" : "", detail,
                     hint ? " (a later version is signed by the admins of the one before it: "
                            "give the chain, e.g. v1.bin,v2.bin)"
                          : "");
        }
        if (rc == CDX_OK) {
            cdx_roster_destroy(&head);
            head = r;
        } else {
            cdx_roster_destroy(&r);
        }
    }
    free(list);
    if (rc == CDX_OK && !n)
        rc = cdx_errf(eb, CDX_ERR_INVALID, "no roster file named");
    if (rc != CDX_OK)
        cdx_roster_destroy(&head);
    *out = head;
    return rc;
}

cdx_err cdx_roster_encode(const cdx_roster *r, cdx_bytes *out)
{
    return cdx__signed_roster_encode(&r->bytes, r->sigs, r->n_sigs, out);
}

cdx_err cdx_roster_save(const cdx_roster *r, const char *path, cdx_errbuf *eb)
{
    cdx_bytes b;
    cdx_err rc = cdx_roster_encode(r, &b);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__write_file(path, b.data, b.len, 0644, false, eb);
    cdx_bytes_free(&b);
    return rc;
}

/* ---- edits ---- */

cdx_err cdx_roster_add_member(cdx_roster *r, const cdx_member *m, cdx_errbuf *eb)
{
    if (!cdx_id_valid(m->id))
        return cdx_errf(eb, CDX_ERR_INVALID, "bad member id \"%s\"", m->id);
    if (m->role <= CDX_ROLE_UNSPECIFIED || m->role > CDX_ROLE_RELAY)
        return cdx_errf(eb, CDX_ERR_INVALID, "member %s has no role", m->id);
    if (m->valid_until_ms && m->valid_until_ms <= m->valid_from_ms)
        return cdx_errf(eb, CDX_ERR_INVALID, "member %s's validity ends before it begins", m->id);
    size_t first;
    if (s_range(r, m->id, &first))
        return cdx_errf(eb, CDX_ERR_EXISTS,
                        "%s is already a member (new keys for it come with a rotation)", m->id);
    if (r->d.n_members >= CDX_ROSTER_MAX_MEMBERS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "the roster holds %u member cards, its limit",
                        CDX_ROSTER_MAX_MEMBERS);
    cdx_member *grown = realloc(r->d.members, (r->d.n_members + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    r->d.members = grown;
    r->d.members[r->d.n_members++] = *m;
    return s_edited(r, eb);
}

cdx_err cdx_roster_add_admin(cdx_roster *r, const char *id, const uint8_t sign_pk[CDX_PK_BYTES],
                             cdx_errbuf *eb)
{
    if (!cdx_id_valid(id))
        return cdx_errf(eb, CDX_ERR_INVALID, "bad admin id \"%s\"", id);
    for (size_t i = 0; i < r->d.n_admins; i++)
        if (strcmp(r->d.admins[i].id, id) == 0 ||
            memcmp(r->d.admins[i].sign_pk, sign_pk, CDX_PK_BYTES) == 0)
            return cdx_errf(eb, CDX_ERR_EXISTS, "admin %s (or its key) is already listed", id);
    if (s_member_revoked(r, id) || s_key_revoked(r, sign_pk))
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "%s is a revoked member (or its key is a revoked one): revocation "
                        "strips every role, admin included",
                        id);
    if (r->d.n_admins >= CDX_ROSTER_MAX_ADMINS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "the roster holds %u admins, its limit",
                        CDX_ROSTER_MAX_ADMINS);
    cdx__admin *grown = realloc(r->d.admins, (r->d.n_admins + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    r->d.admins = grown;
    cdx__copy_id(grown[r->d.n_admins].id, id);
    memcpy(grown[r->d.n_admins].sign_pk, sign_pk, CDX_PK_BYTES);
    r->d.n_admins++;
    return s_edited(r, eb);
}

/* Removes admin i from d.admins (the index is rebuilt by s_edited). */
static void s_drop_admin(cdx_roster *r, size_t i)
{
    memmove(&r->d.admins[i], &r->d.admins[i + 1], (r->d.n_admins - i - 1) * sizeof *r->d.admins);
    r->d.n_admins--;
}

cdx_err cdx_roster_remove_admin(cdx_roster *r, const char *id, cdx_errbuf *eb)
{
    const cdx__admin *a = s_admin_by_id(r, id);
    if (!a)
        return cdx_errf(eb, CDX_ERR_NOENT, "%s is not an admin", id);
    size_t left = cdx_roster_signing_admins(r) - (s_ok(r, a) ? 1 : 0);
    if (left < r->d.threshold)
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "removing admin %s would leave %zu admin%s who may sign for a threshold "
                        "of %u: lower the threshold first",
                        id, left, left == 1 ? "" : "s", r->d.threshold);
    s_drop_admin(r, (size_t)(a - r->d.admins));
    return s_edited(r, eb);
}

cdx_err cdx_roster_set_threshold(cdx_roster *r, uint32_t k, cdx_errbuf *eb)
{
    if (k == 0)
        return cdx_errf(eb, CDX_ERR_INVALID, "the threshold must be at least 1");
    size_t n = cdx_roster_signing_admins(r);
    if (k > n)
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "a threshold of %u needs %u admins; the roster has %zu who may sign", k, k,
                        n);
    r->d.threshold = k;
    return s_edited(r, eb);
}

/* Whether admin a is tied to member `id`: the same id, or one of its
 * cards' signing keys. */
static bool s_tied(const cdx_roster *r, const cdx__admin *a, const char *id)
{
    if (strcmp(a->id, id) == 0)
        return true;
    size_t first, n = s_range(r, id, &first);
    for (size_t i = 0; i < n; i++)
        if (memcmp(r->by_id[first + i]->sign_pk, a->sign_pk, CDX_PK_BYTES) == 0)
            return true;
    return false;
}

cdx_err cdx_roster_revoke(cdx_roster *r, const char *id, uint64_t at_ms, cdx_errbuf *eb)
{
    if (!at_ms)
        at_ms = 1;
    size_t first, n = s_range(r, id, &first);
    if (!n)
        return cdx_errf(eb, CDX_ERR_NOENT, "%s is not a member", id);
    bool already = true;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = r->by_id[first + i]->revoked_at_ms;
        already = already && t && t <= at_ms;
    }
    if (already)
        return cdx_errf(eb, CDX_ERR_EXISTS, "%s is already revoked", id);
    size_t left = 0, dropped = 0;
    for (size_t i = 0; i < r->d.n_admins; i++) {
        bool tied = s_tied(r, &r->d.admins[i], id);
        dropped += tied;
        left += !tied && r->admin_ok[i];
    }
    if (left < r->d.threshold)
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "revoking %s takes its admin key away and leaves %zu admin%s who may "
                        "sign for a threshold of %u: lower the threshold first",
                        id, left, left == 1 ? "" : "s", r->d.threshold);
    /* by_id points into d.members: mark through it, then drop the admins. */
    for (size_t i = 0; i < n; i++) {
        cdx_member *m = &r->d.members[r->by_id[first + i] - r->d.members];
        if (!m->revoked_at_ms || m->revoked_at_ms > at_ms)
            m->revoked_at_ms = at_ms;
    }
    for (size_t i = r->d.n_admins; dropped && i-- > 0;)
        if (s_tied(r, &r->d.admins[i], id))
            s_drop_admin(r, i);
    return s_edited(r, eb);
}

cdx_err cdx_roster_rotate(cdx_roster *r, const char *id, const cdx_member *card, uint64_t at_ms,
                          cdx_errbuf *eb)
{
    if (strcmp(card->id, id) != 0)
        return cdx_errf(eb, CDX_ERR_INVALID, "the card is %s's, not %s's", card->id, id);
    size_t first, n = s_range(r, id, &first);
    if (!n)
        return cdx_errf(eb, CDX_ERR_NOENT, "%s is not a member", id);
    if (s_member_revoked(r, id))
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "%s is revoked: a revoked member's keys are not rotated", id);
    size_t newest = 0; /* the index in d.members of the card valid last */
    for (size_t i = 0; i < r->d.n_members; i++)
        if (r->d.members[i].valid_from_ms == r->by_id[first + n - 1]->valid_from_ms &&
            strcmp(r->d.members[i].id, id) == 0)
            newest = i;
    const cdx_member *old = &r->d.members[newest];
    if (card->role != CDX_ROLE_UNSPECIFIED && card->role != old->role)
        return cdx_errf(eb, CDX_ERR_INVALID, "the card is for a %s; %s is a %s",
                        cdx_role_name(card->role), id, cdx_role_name(old->role));
    if (at_ms <= old->valid_from_ms) {
        char from[CDX_TIME_TEXT_MAX], at[CDX_TIME_TEXT_MAX];
        cdx_time_format(from, old->valid_from_ms);
        cdx_time_format(at, at_ms);
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "%s's newest card is valid from %s: new keys from %s would overlap it "
                        "(rotate at a later time)",
                        id, from, at);
    }
    if (memcmp(card->sign_pk, old->sign_pk, CDX_PK_BYTES) == 0 &&
        memcmp(card->seal_pk, old->seal_pk, CDX_PK_BYTES) == 0 &&
        memcmp(card->curve_pk, old->curve_pk, CDX_PK_BYTES) == 0)
        return cdx_errf(eb, CDX_ERR_POLICY, "the card holds %s's present keys: nothing to rotate",
                        id);
    if (r->d.n_members >= CDX_ROSTER_MAX_MEMBERS)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "the roster holds %u member cards, its limit",
                        CDX_ROSTER_MAX_MEMBERS);
    /* The member's own admin key, if it was the old signing key, follows. */
    cdx__admin *own = (cdx__admin *)s_admin_by_id(r, id);
    if (own && memcmp(own->sign_pk, old->sign_pk, CDX_PK_BYTES) != 0)
        own = NULL;
    for (size_t i = 0; own && i < r->d.n_admins; i++)
        if (&r->d.admins[i] != own &&
            memcmp(r->d.admins[i].sign_pk, card->sign_pk, CDX_PK_BYTES) == 0)
            return cdx_errf(eb, CDX_ERR_EXISTS, "the new key is already admin %s's",
                            r->d.admins[i].id);
    cdx_member *grown = realloc(r->d.members, (r->d.n_members + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    r->d.members = grown;
    cdx_member *prev = &grown[newest], *next = &grown[r->d.n_members++];
    *next = *card;
    next->role = prev->role;
    next->valid_from_ms = at_ms;
    next->valid_until_ms = 0;
    next->revoked_at_ms = 0;
    if (!prev->valid_until_ms || prev->valid_until_ms > at_ms)
        prev->valid_until_ms = at_ms;
    if (own)
        memcpy(own->sign_pk, card->sign_pk, CDX_PK_BYTES);
    return s_edited(r, eb);
}

/* ---- signatures ---- */

cdx_err cdx_roster_sign(cdx_roster *r, const cdx_roster *signers, const cdx_identity *admin,
                        cdx_errbuf *eb)
{
    if (!signers)
        signers = r;
    cdx_member card;
    cdx_identity_card(admin, &card);
    const cdx__admin *who = NULL;
    for (size_t i = 0; i < signers->d.n_admins && !who; i++)
        if (memcmp(signers->d.admins[i].sign_pk, card.sign_pk, CDX_PK_BYTES) == 0)
            who = &signers->d.admins[i];
    if (!who)
        return cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER,
                        "%s's key is not an admin key of roster version %llu", card.id,
                        (unsigned long long)signers->d.version);
    if (!s_ok(signers, who))
        return cdx_errf(eb, CDX_ERR_POLICY,
                        "admin %s is tied to a member revoked in roster version %llu: its "
                        "signature would not count",
                        who->id, (unsigned long long)signers->d.version);
    for (size_t i = 0; i < r->n_sigs; i++)
        if (strcmp(r->sigs[i].admin_id, who->id) == 0)
            return cdx_errf(eb, CDX_ERR_DUPLICATE_SIGNER, "admin %s has signed already", who->id);
    cdx__rsig *grown = realloc(r->sigs, (r->n_sigs + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    r->sigs = grown;
    cdx__rsig *s = &grown[r->n_sigs];
    cdx__copy_id(s->admin_id, who->id);
    cdx_err rc = cdx_identity_sign(admin, "roster", r->bytes.data, r->bytes.len, s->sig);
    if (rc == CDX_OK)
        r->n_sigs++;
    return rc;
}

static int s_cmp_sig(const void *a, const void *b)
{
    return strcmp((*(const cdx__rsig *const *)a)->admin_id,
                  (*(const cdx__rsig *const *)b)->admin_id);
}

/* The signatures over `bytes` (roster version v) by `signers`' admins:
 * none repeated, none unknown, each verifying, and threshold-many of those
 * that may sign. At most CDX_ROSTER_MAX_ADMINS signatures come here. */
static cdx_err s_check_signatures(const cdx_bytes *bytes, const cdx__rsig *sigs, size_t n,
                                  uint64_t v, const cdx_roster *signers, cdx_errbuf *eb)
{
    unsigned long long vv = (unsigned long long)v, sv = (unsigned long long)signers->d.version;
    const cdx__rsig **sorted = calloc(n + 1, sizeof *sorted);
    if (!sorted)
        return CDX_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &sigs[i];
    qsort(sorted, n, sizeof *sorted, s_cmp_sig);
    cdx_err rc = CDX_OK;
    for (size_t i = 1; i < n && rc == CDX_OK; i++)
        if (strcmp(sorted[i]->admin_id, sorted[i - 1]->admin_id) == 0)
            rc = cdx_errf(eb, CDX_ERR_DUPLICATE_SIGNER,
                          "roster v%llu carries two signatures by admin %s", vv,
                          sorted[i]->admin_id);
    free(sorted);
    size_t counted = 0;
    const char *not_counted = NULL;
    for (size_t i = 0; i < n && rc == CDX_OK; i++) {
        const cdx__rsig *s = &sigs[i];
        const cdx__admin *a = s_admin_by_id(signers, s->admin_id);
        if (!a)
            rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER,
                          "roster v%llu is signed by %s, who is not an admin of v%llu", vv,
                          s->admin_id, sv);
        else if (cdx_signature_verify(a->sign_pk, "roster", bytes->data, bytes->len, s->sig) !=
                 CDX_OK)
            rc = cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                          "admin %s's signature on roster v%llu does not verify", s->admin_id, vv);
        else if (s_ok(signers, a))
            counted++;
        else if (!not_counted)
            not_counted = s->admin_id;
    }
    if (rc == CDX_OK && counted < signers->d.threshold) {
        char why[160] = "";
        if (not_counted)
            snprintf(why, sizeof why,
                     " (%s's does not count: that admin's member is revoked in v%llu)", not_counted,
                     sv);
        rc = cdx_errf(eb, CDX_ERR_THRESHOLD,
                      "roster v%llu carries %zu valid admin signature%s; %u required%s", vv,
                      counted, counted == 1 ? "" : "s", signers->d.threshold, why);
    }
    return rc;
}

/* Everything but the signatures: version, threshold, the step from prev. */
static cdx_err s_check_shape(const cdx_roster *r, const cdx_roster *prev, cdx_errbuf *eb)
{
    unsigned long long v = (unsigned long long)r->d.version;
    if (r->d.version == 0)
        return cdx_errf(eb, CDX_ERR_FORMAT, "roster has no version");
    size_t may = cdx_roster_signing_admins(r);
    if (r->d.threshold == 0 || r->d.threshold > may)
        return cdx_errf(eb, CDX_ERR_FORMAT, "roster v%llu asks for %u of %zu admins%s", v,
                        r->d.threshold, may, may < r->d.n_admins ? " who may sign" : "");
    if (prev) {
        if (r->d.version <= prev->d.version)
            return cdx_errf(eb, CDX_ERR_ROLLBACK,
                            "roster v%llu does not replace v%llu: versions only rise", v,
                            (unsigned long long)prev->d.version);
        if (strcmp(r->d.federation, prev->d.federation) != 0)
            return cdx_errf(eb, CDX_ERR_FORMAT, "roster is for federation %s, not %s",
                            r->d.federation, prev->d.federation);
    }
    return CDX_OK;
}

cdx_err cdx_roster_verify(const cdx_roster *r, const cdx_roster *prev, cdx_errbuf *eb)
{
    cdx_err rc = s_check_shape(r, prev, eb);
    if (rc == CDX_OK)
        rc = s_check_signatures(&r->bytes, r->sigs, r->n_sigs, r->d.version, prev ? prev : r, eb);
    return rc;
}

cdx_err cdx_roster_decode_next(cdx_roster **out, const uint8_t *data, size_t len,
                               const cdx_roster *in_force, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_roster *r = calloc(1, sizeof *r);
    if (!r)
        return CDX_ERR_NOMEM;
    unsigned long long iv = (unsigned long long)in_force->d.version;
    cdx__roster_peek p = {0};
    cdx_err rc = s_outer(r, data, len, eb);
    if (rc == CDX_OK && r->n_sigs < in_force->d.threshold)
        rc = cdx_errf(eb, CDX_ERR_THRESHOLD,
                      "a roster with %zu signature%s; v%llu in force requires %u", r->n_sigs,
                      r->n_sigs == 1 ? "" : "s", iv, in_force->d.threshold);
    if (rc == CDX_OK && r->n_sigs > in_force->d.n_admins)
        rc = cdx_errf(eb, CDX_ERR_DUPLICATE_SIGNER,
                      "a roster with %zu signatures; v%llu in force has %zu admins", r->n_sigs, iv,
                      in_force->d.n_admins);
    if (rc == CDX_OK)
        rc = s_peek(&p, &r->bytes, eb);
    size_t fl = strlen(in_force->d.federation);
    if (rc == CDX_OK &&
        (p.federation_len != fl || memcmp(p.federation, in_force->d.federation, fl)))
        rc = cdx_errf(eb, CDX_ERR_POLICY, "a roster of federation %.*s, not %s",
                      (int)(p.federation_len > 64 ? 64 : p.federation_len),
                      p.federation ? (const char *)p.federation : "", in_force->d.federation);
    if (rc == CDX_OK && p.version <= in_force->d.version)
        rc = cdx_errf(eb, CDX_ERR_ROLLBACK, "roster v%llu is not newer than v%llu in force",
                      (unsigned long long)p.version, iv);
    if (rc == CDX_OK)
        rc = s_check_signatures(&r->bytes, r->sigs, r->n_sigs, p.version, in_force, eb);
    if (rc == CDX_OK)
        rc = s_inner(r, eb);
    if (rc == CDX_OK)
        rc = s_check_shape(r, in_force, eb);
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

/* ---- reading ---- */

const char *cdx_roster_federation(const cdx_roster *r)
{
    return r->d.federation;
}
uint64_t cdx_roster_version(const cdx_roster *r)
{
    return r->d.version;
}
uint64_t cdx_roster_issued_at(const cdx_roster *r)
{
    return r->d.issued_at_ms;
}
uint32_t cdx_roster_threshold(const cdx_roster *r)
{
    return r->d.threshold;
}
size_t cdx_roster_member_count(const cdx_roster *r)
{
    return r->d.n_members;
}
size_t cdx_roster_admin_count(const cdx_roster *r)
{
    return r->d.n_admins;
}
size_t cdx_roster_signature_count(const cdx_roster *r)
{
    return r->n_sigs;
}

const cdx_member *cdx_roster_member_at(const cdx_roster *r, size_t i)
{
    return i < r->d.n_members ? &r->d.members[i] : NULL;
}

const char *cdx_roster_admin_at(const cdx_roster *r, size_t i, const uint8_t **sign_pk)
{
    if (i >= r->d.n_admins)
        return NULL;
    if (sign_pk)
        *sign_pk = r->d.admins[i].sign_pk;
    return r->d.admins[i].id;
}

const char *cdx_roster_signer_at(const cdx_roster *r, size_t i)
{
    return i < r->n_sigs ? r->sigs[i].admin_id : NULL;
}

const cdx_member *cdx_roster_find(const cdx_roster *r, const char *id)
{
    size_t first, n = s_range(r, id, &first);
    return n ? r->by_id[first + n - 1] : NULL;
}

const cdx_member *cdx_roster_find_at(const cdx_roster *r, const char *id, uint64_t t_ms)
{
    size_t first, n = s_range(r, id, &first);
    for (size_t i = 0; i < n; i++) {
        const cdx_member *m = r->by_id[first + i];
        if (t_ms >= m->valid_from_ms && (!m->valid_until_ms || t_ms < m->valid_until_ms))
            return m;
    }
    return NULL;
}

size_t cdx_roster_cards(const cdx_roster *r, const char *id, const cdx_member *const **cards)
{
    size_t first, n = s_range(r, id, &first);
    *cards = n ? r->by_id + first : NULL;
    return n;
}

const cdx_member *cdx_roster_find_curve(const cdx_roster *r, const uint8_t curve_pk[CDX_PK_BYTES])
{
    for (size_t i = 0; i < r->d.n_members; i++)
        if (memcmp(r->d.members[i].curve_pk, curve_pk, CDX_PK_BYTES) == 0)
            return &r->d.members[i];
    return NULL;
}

cdx_key_state cdx_roster_key_state(const cdx_roster *r, const char *id,
                                   const uint8_t sign_pk[CDX_PK_BYTES], uint64_t now_ms,
                                   uint64_t *when, uint64_t *next_from)
{
    uint64_t w = 0, nf = 0;
    const cdx_member *const *cards;
    size_t n = cdx_roster_cards(r, id, &cards), at = n;
    for (size_t i = n; i-- > 0 && at == n;)
        if (memcmp(cards[i]->sign_pk, sign_pk, CDX_PK_BYTES) == 0)
            at = i;
    cdx_key_state s = CDX_KEY_UNKNOWN;
    if (at < n) {
        const cdx_member *m = cards[at];
        uint64_t end = m->valid_until_ms;
        if (m->revoked_at_ms && (!end || m->revoked_at_ms < end))
            end = m->revoked_at_ms;
        if (at + 1 < n)
            nf = cards[at + 1]->valid_from_ms;
        if (m->revoked_at_ms && now_ms >= m->revoked_at_ms)
            s = CDX_KEY_REVOKED, w = m->revoked_at_ms;
        else if (now_ms < m->valid_from_ms)
            s = CDX_KEY_NOT_YET_VALID, w = m->valid_from_ms;
        else if (m->valid_until_ms && now_ms >= m->valid_until_ms)
            s = CDX_KEY_ENDED, w = m->valid_until_ms;
        else if (end)
            s = CDX_KEY_ENDING, w = end;
        else
            s = CDX_KEY_VALID;
    }
    if (when)
        *when = w;
    if (next_from)
        *next_from = nf;
    return s;
}

const char *cdx_key_state_name(cdx_key_state s)
{
    switch (s) {
    case CDX_KEY_VALID: return "valid";
    case CDX_KEY_ENDING: return "ending";
    case CDX_KEY_NOT_YET_VALID: return "not yet valid";
    case CDX_KEY_ENDED: return "ended";
    case CDX_KEY_REVOKED: return "revoked";
    case CDX_KEY_UNKNOWN: break;
    }
    return "unknown";
}
