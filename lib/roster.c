/* The roster: members, admins, threshold, and signatures over the exact
 * serialized roster.
 *
 * Invariants: `bytes` is always the serialization of `d` (edits re-encode
 * it and drop the signatures, which were over the old bytes); `by_id` lists
 * the members sorted by id for O(log n) lookup; member ids, admin ids and
 * admin keys are unique, so one key can never count twice toward k.
 */
#include <stdlib.h>
#include <string.h>

#include "cydex/roster.h"
#include "internal.h"

struct cdx_roster {
    cdx__roster_data d;
    cdx_bytes bytes; /* serialized Roster: what admins sign */
    cdx__rsig *sigs;
    size_t n_sigs;
    const cdx_member **by_id;
};

static int s_cmp_member(const void *a, const void *b)
{
    const cdx_member *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

/* Rebuilds the index and checks uniqueness and well-formedness. */
static cdx_err s_index(cdx_roster *r, cdx_errbuf *eb)
{
    free(r->by_id);
    r->by_id = calloc(r->d.n_members + 1, sizeof *r->by_id);
    if (!r->by_id)
        return CDX_ERR_NOMEM;
    for (size_t i = 0; i < r->d.n_members; i++) {
        const cdx_member *m = &r->d.members[i];
        if (!cdx_id_valid(m->id))
            return cdx_errf(eb, CDX_ERR_FORMAT, "member %zu has a bad id \"%s\"", i, m->id);
        if (m->role <= CDX_ROLE_UNSPECIFIED || m->role > CDX_ROLE_RELAY)
            return cdx_errf(eb, CDX_ERR_FORMAT, "member %s has an unknown role", m->id);
        r->by_id[i] = m;
    }
    qsort(r->by_id, r->d.n_members, sizeof *r->by_id, s_cmp_member);
    for (size_t i = 1; i < r->d.n_members; i++)
        if (strcmp(r->by_id[i]->id, r->by_id[i - 1]->id) == 0)
            return cdx_errf(eb, CDX_ERR_FORMAT, "member %s is listed twice", r->by_id[i]->id);
    for (size_t i = 0; i < r->d.n_admins; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->d.admins[i].id, r->d.admins[j].id) == 0 ||
                memcmp(r->d.admins[i].sign_pk, r->d.admins[j].sign_pk, CDX_PK_BYTES) == 0)
                return cdx_errf(eb, CDX_ERR_FORMAT, "admin %s is listed twice", r->d.admins[i].id);
    return CDX_OK;
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

void cdx_roster_destroy(cdx_roster **r)
{
    if (!r || !*r)
        return;
    cdx__roster_data_clear(&(*r)->d);
    cdx_bytes_free(&(*r)->bytes);
    free((*r)->sigs);
    free((*r)->by_id);
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
        memcpy(r->d.members, prev->d.members, prev->d.n_members * sizeof *r->d.members);
        memcpy(r->d.admins, prev->d.admins, prev->d.n_admins * sizeof *r->d.admins);
        rc = s_edited(r, NULL);
    }
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

cdx_err cdx_roster_decode(cdx_roster **out, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_roster *r = calloc(1, sizeof *r);
    if (!r)
        return CDX_ERR_NOMEM;
    cdx_err rc = cdx__signed_roster_decode(&r->bytes, &r->sigs, &r->n_sigs, data, len, eb);
    if (rc == CDX_OK)
        rc = cdx__roster_data_decode(&r->d, r->bytes.data, r->bytes.len, eb);
    if (rc == CDX_OK)
        rc = s_index(r, eb);
    if (rc == CDX_OK && !cdx_id_valid(r->d.federation))
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "roster names no federation");
    if (rc != CDX_OK)
        cdx_roster_destroy(&r);
    *out = r;
    return rc;
}

cdx_err cdx_roster_load(cdx_roster **out, const char *path, cdx_errbuf *eb)
{
    cdx_bytes b;
    cdx_err rc = cdx__read_file(path, 16u * 1024u * 1024u, &b, eb);
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

cdx_err cdx_roster_add_member(cdx_roster *r, const cdx_member *m, cdx_errbuf *eb)
{
    if (!cdx_id_valid(m->id))
        return cdx_errf(eb, CDX_ERR_INVALID, "bad member id \"%s\"", m->id);
    if (m->role <= CDX_ROLE_UNSPECIFIED || m->role > CDX_ROLE_RELAY)
        return cdx_errf(eb, CDX_ERR_INVALID, "member %s has no role", m->id);
    if (cdx_roster_find(r, m->id))
        return cdx_errf(eb, CDX_ERR_EXISTS, "%s is already a member", m->id);
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
    cdx__admin *grown = realloc(r->d.admins, (r->d.n_admins + 1) * sizeof *grown);
    if (!grown)
        return CDX_ERR_NOMEM;
    r->d.admins = grown;
    cdx__copy_id(grown[r->d.n_admins].id, id);
    memcpy(grown[r->d.n_admins].sign_pk, sign_pk, CDX_PK_BYTES);
    r->d.n_admins++;
    return s_edited(r, eb);
}

cdx_err cdx_roster_set_threshold(cdx_roster *r, uint32_t k, cdx_errbuf *eb)
{
    if (k == 0)
        return cdx_errf(eb, CDX_ERR_INVALID, "the threshold must be at least 1");
    r->d.threshold = k;
    return s_edited(r, eb);
}

cdx_err cdx_roster_revoke(cdx_roster *r, const char *id, uint64_t at_ms, cdx_errbuf *eb)
{
    for (size_t i = 0; i < r->d.n_members; i++)
        if (strcmp(r->d.members[i].id, id) == 0) {
            if (r->d.members[i].revoked_at_ms && r->d.members[i].revoked_at_ms <= at_ms)
                return cdx_errf(eb, CDX_ERR_EXISTS, "%s is already revoked", id);
            r->d.members[i].revoked_at_ms = at_ms ? at_ms : 1;
            return s_edited(r, eb);
        }
    return cdx_errf(eb, CDX_ERR_NOENT, "%s is not a member", id);
}

static const cdx__admin *s_admin_by_id(const cdx_roster *r, const char *id)
{
    for (size_t i = 0; i < r->d.n_admins; i++)
        if (strcmp(r->d.admins[i].id, id) == 0)
            return &r->d.admins[i];
    return NULL;
}

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

cdx_err cdx_roster_verify(const cdx_roster *r, const cdx_roster *prev, cdx_errbuf *eb)
{
    const cdx_roster *signers = prev ? prev : r;
    unsigned long long v = (unsigned long long)r->d.version;
    if (r->d.version == 0)
        return cdx_errf(eb, CDX_ERR_FORMAT, "roster has no version");
    if (r->d.threshold == 0 || r->d.threshold > r->d.n_admins)
        return cdx_errf(eb, CDX_ERR_FORMAT, "roster v%llu asks for %u of %zu admins", v,
                        r->d.threshold, r->d.n_admins);
    if (prev) {
        if (r->d.version <= prev->d.version)
            return cdx_errf(eb, CDX_ERR_ROLLBACK,
                            "roster v%llu does not replace v%llu: versions only rise", v,
                            (unsigned long long)prev->d.version);
        if (strcmp(r->d.federation, prev->d.federation) != 0)
            return cdx_errf(eb, CDX_ERR_FORMAT, "roster is for federation %s, not %s",
                            r->d.federation, prev->d.federation);
    }
    for (size_t i = 0; i < r->n_sigs; i++) {
        const cdx__rsig *s = &r->sigs[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->sigs[j].admin_id, s->admin_id) == 0)
                return cdx_errf(eb, CDX_ERR_DUPLICATE_SIGNER,
                                "roster v%llu carries two signatures by admin %s", v, s->admin_id);
        const cdx__admin *a = s_admin_by_id(signers, s->admin_id);
        if (!a)
            return cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER,
                            "roster v%llu is signed by %s, who is not an admin of v%llu", v,
                            s->admin_id, (unsigned long long)signers->d.version);
        if (cdx_signature_verify(a->sign_pk, "roster", r->bytes.data, r->bytes.len, s->sig) !=
            CDX_OK)
            return cdx_errf(eb, CDX_ERR_BAD_SIGNATURE,
                            "admin %s's signature on roster v%llu does not verify", s->admin_id, v);
    }
    if (r->n_sigs < signers->d.threshold)
        return cdx_errf(eb, CDX_ERR_THRESHOLD,
                        "roster v%llu carries %zu valid admin signature%s; %u required", v,
                        r->n_sigs, r->n_sigs == 1 ? "" : "s", signers->d.threshold);
    return CDX_OK;
}

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
    size_t lo = 0, hi = r->d.n_members;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, r->by_id[mid]->id);
        if (c == 0)
            return r->by_id[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const cdx_member *cdx_roster_find_curve(const cdx_roster *r, const uint8_t curve_pk[CDX_PK_BYTES])
{
    for (size_t i = 0; i < r->d.n_members; i++)
        if (memcmp(r->d.members[i].curve_pk, curve_pk, CDX_PK_BYTES) == 0)
            return &r->d.members[i];
    return NULL;
}
