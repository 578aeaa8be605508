/* Member identities: key generation, secret key files, signing.
 *
 * Invariants: secret keys exist only inside `cdx_identity.sec`, which is
 * sodium_malloc memory (guard pages, mlock, no core dump) and is wiped by
 * sodium_free; a secret key file is created with mode 0600 and O_EXCL and
 * read only after checking that group and others cannot read it.
 *
 * Secret key file, version 1 (binary):
 *   "CDXKEY1\n" | role (1) | id length (1) | id | Ed25519 seed (32)
 *   | X25519 sealing secret (32) | CURVE secret (32)
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cydex/identity.h"
#include "cydex/json.h"
#include "internal.h"

#define S_MAGIC "CDXKEY1\n"
#define S_MAGIC_LEN 8u
#define S_FILE_MAX (S_MAGIC_LEN + 2u + CDX_ID_MAX + 96u)

typedef struct s_secrets {
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES]; /* seed || pk */
    uint8_t sign_seed[crypto_sign_SEEDBYTES];
    uint8_t seal_sk[crypto_box_SECRETKEYBYTES];
    uint8_t curve_sk[crypto_box_SECRETKEYBYTES];
    uint8_t file[S_FILE_MAX]; /* staging for the key file, never elsewhere */
} s_secrets;

struct cdx_identity {
    char id[CDX_ID_MAX + 1];
    cdx_role role;
    uint8_t sign_pk[CDX_PK_BYTES];
    uint8_t seal_pk[CDX_PK_BYTES];
    uint8_t curve_pk[CDX_PK_BYTES];
    s_secrets *sec;
    struct cdx_identity *previous; /* the keys a rotation replaced, newest first */
};

static const char *s_role_names[] = {"unspecified", "state", "broker", "auditor", "admin", "relay"};

const char *cdx_role_name(cdx_role r)
{
    if ((unsigned)r >= sizeof s_role_names / sizeof *s_role_names)
        return "unspecified";
    return s_role_names[r];
}

cdx_err cdx_role_parse(const char *name, cdx_role *out)
{
    for (unsigned i = 1; i < sizeof s_role_names / sizeof *s_role_names; i++)
        if (name && strcmp(name, s_role_names[i]) == 0) {
            *out = (cdx_role)i;
            return CDX_OK;
        }
    return CDX_ERR_FORMAT;
}

cdx_err cdx_member_key_valid_at(const cdx_member *m, uint64_t t_ms)
{
    if (m->revoked_at_ms && t_ms >= m->revoked_at_ms)
        return CDX_ERR_KEY_REVOKED;
    if (t_ms < m->valid_from_ms || (m->valid_until_ms && t_ms >= m->valid_until_ms))
        return CDX_ERR_KEY_NOT_VALID;
    return CDX_OK;
}

static cdx_err s_alloc(cdx_identity **out, const char *id, cdx_role role)
{
    *out = NULL;
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    if (!cdx_id_valid(id) || role <= CDX_ROLE_UNSPECIFIED || role > CDX_ROLE_RELAY)
        return CDX_ERR_INVALID;
    cdx_identity *ident = calloc(1, sizeof *ident);
    if (!ident)
        return CDX_ERR_NOMEM;
    ident->sec = sodium_malloc(sizeof *ident->sec);
    if (!ident->sec) {
        free(ident);
        return CDX_ERR_NOMEM;
    }
    sodium_memzero(ident->sec, sizeof *ident->sec);
    cdx__copy_id(ident->id, id);
    ident->role = role;
    *out = ident;
    return CDX_OK;
}

/* Fills the public keys from sec->sign_seed, seal_sk and curve_sk. */
static void s_derive_public(cdx_identity *ident)
{
    crypto_sign_seed_keypair(ident->sign_pk, ident->sec->sign_sk, ident->sec->sign_seed);
    crypto_scalarmult_base(ident->seal_pk, ident->sec->seal_sk);
    crypto_scalarmult_base(ident->curve_pk, ident->sec->curve_sk);
}

cdx_err cdx_identity_from_seed(cdx_identity **out, const char *id, cdx_role role,
                               const uint8_t seed[32])
{
    cdx_err rc = s_alloc(out, id, role);
    if (rc != CDX_OK)
        return rc;
    s_secrets *sec = (*out)->sec;
    /* Three independent-looking keys from one seed, each under its own label. */
    crypto_generichash(sec->sign_seed, 32, (const uint8_t *)"CyDEx-v1 sign-seed", 18, seed, 32);
    crypto_generichash(sec->seal_sk, 32, (const uint8_t *)"CyDEx-v1 seal-seed", 18, seed, 32);
    crypto_generichash(sec->curve_sk, 32, (const uint8_t *)"CyDEx-v1 curve-seed", 19, seed, 32);
    s_derive_public(*out);
    return CDX_OK;
}

cdx_err cdx_identity_generate(cdx_identity **out, const char *id, cdx_role role)
{
    cdx_err rc = s_alloc(out, id, role);
    if (rc != CDX_OK)
        return rc;
    s_secrets *sec = (*out)->sec;
    randombytes_buf(sec->sign_seed, sizeof sec->sign_seed);
    randombytes_buf(sec->seal_sk, sizeof sec->seal_sk);
    randombytes_buf(sec->curve_sk, sizeof sec->curve_sk);
    s_derive_public(*out);
    return CDX_OK;
}

void cdx_identity_destroy(cdx_identity **ident)
{
    if (!ident || !*ident)
        return;
    cdx_identity_destroy(&(*ident)->previous);
    sodium_free((*ident)->sec); /* wipes before freeing */
    free(*ident);
    *ident = NULL;
}

const char *cdx_identity_id(const cdx_identity *ident)
{
    return ident->id;
}

cdx_role cdx_identity_role(const cdx_identity *ident)
{
    return ident->role;
}

void cdx_identity_card(const cdx_identity *ident, cdx_member *out)
{
    memset(out, 0, sizeof *out);
    cdx__copy_id(out->id, ident->id);
    out->role = ident->role;
    memcpy(out->sign_pk, ident->sign_pk, CDX_PK_BYTES);
    memcpy(out->seal_pk, ident->seal_pk, CDX_PK_BYTES);
    memcpy(out->curve_pk, ident->curve_pk, CDX_PK_BYTES);
}

const uint8_t *cdx_identity_curve_secret(const cdx_identity *ident)
{
    return ident->sec->curve_sk;
}

const uint8_t *cdx__identity_seal_secret(const cdx_identity *ident)
{
    return ident->sec->seal_sk;
}

const uint8_t *cdx__identity_seal_public(const cdx_identity *ident)
{
    return ident->seal_pk;
}

const cdx_identity *cdx__identity_previous(const cdx_identity *ident)
{
    return ident->previous;
}

cdx_err cdx_identity_keep_previous(cdx_identity *ident, cdx_identity **prev)
{
    if (!prev || !*prev || *prev == ident || strcmp((*prev)->id, ident->id) != 0)
        return CDX_ERR_INVALID;
    cdx_identity **tail = &ident->previous;
    while (*tail)
        tail = &(*tail)->previous;
    *tail = *prev;
    *prev = NULL;
    return CDX_OK;
}

cdx_err cdx__sign_raw(const cdx_identity *ident, const uint8_t *msg, size_t len,
                      uint8_t sig[CDX_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, ident->sec->sign_sk);
    return CDX_OK;
}

cdx_err cdx__verify_raw(const uint8_t pk[CDX_PK_BYTES], const uint8_t *msg, size_t len,
                        const uint8_t sig[CDX_SIG_BYTES])
{
    /* libsodium 1.0.18 verifies strictly: it refuses small-order keys and
     * R points and non-canonical S. */
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? CDX_OK : CDX_ERR_BAD_SIGNATURE;
}

/* Prefix + message in one buffer, for the general-purpose sign/verify. */
static cdx_err s_prefixed(const char *purpose, const uint8_t *msg, size_t len, uint8_t **buf,
                          size_t *buf_len)
{
    uint8_t prefix[CDX__PREFIX_MAX];
    size_t p = cdx__domain_prefix(prefix, purpose);
    if (!p)
        return CDX_ERR_INVALID;
    *buf = malloc(p + len + 1);
    if (!*buf)
        return CDX_ERR_NOMEM;
    memcpy(*buf, prefix, p);
    if (len)
        memcpy(*buf + p, msg, len);
    *buf_len = p + len;
    return CDX_OK;
}

cdx_err cdx_identity_sign(const cdx_identity *ident, const char *purpose, const uint8_t *msg,
                          size_t len, uint8_t sig[CDX_SIG_BYTES])
{
    uint8_t *buf;
    size_t n;
    cdx_err rc = s_prefixed(purpose, msg, len, &buf, &n);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__sign_raw(ident, buf, n, sig);
    free(buf);
    return rc;
}

cdx_err cdx_signature_verify(const uint8_t pk[CDX_PK_BYTES], const char *purpose,
                             const uint8_t *msg, size_t len, const uint8_t sig[CDX_SIG_BYTES])
{
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    uint8_t *buf;
    size_t n;
    cdx_err rc = s_prefixed(purpose, msg, len, &buf, &n);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__verify_raw(pk, buf, n, sig);
    free(buf);
    return rc;
}

/* ---- files ---- */

static size_t s_serialize(const cdx_identity *ident)
{
    uint8_t *f = ident->sec->file;
    size_t idlen = strlen(ident->id), o = 0;
    memcpy(f, S_MAGIC, S_MAGIC_LEN);
    o += S_MAGIC_LEN;
    f[o++] = (uint8_t)ident->role;
    f[o++] = (uint8_t)idlen;
    memcpy(f + o, ident->id, idlen);
    o += idlen;
    memcpy(f + o, ident->sec->sign_seed, 32);
    memcpy(f + o + 32, ident->sec->seal_sk, 32);
    memcpy(f + o + 64, ident->sec->curve_sk, 32);
    return o + 96;
}

static cdx_err s_path(char *out, size_t cap, const char *dir, const char *id, const char *ext)
{
    int n = snprintf(out, cap, "%s/%s.%s", dir, id, ext);
    return n > 0 && (size_t)n < cap ? CDX_OK : CDX_ERR_INVALID;
}

cdx_err cdx_identity_save(const cdx_identity *ident, const char *dir, cdx_errbuf *eb)
{
    char secret_path[4096], card_path[4096];
    if (s_path(secret_path, sizeof secret_path, dir, ident->id, "secret") != CDX_OK ||
        s_path(card_path, sizeof card_path, dir, ident->id, "pub") != CDX_OK)
        return cdx_errf(eb, CDX_ERR_INVALID, "folder name too long: %s", dir);
    if (access(card_path, F_OK) == 0)
        return cdx_errf(eb, CDX_ERR_EXISTS, "%s exists; refusing to overwrite it", card_path);
    size_t n = s_serialize(ident);
    cdx_err rc = cdx__write_file(secret_path, ident->sec->file, n, 0600, true, eb);
    sodium_memzero(ident->sec->file, sizeof ident->sec->file);
    if (rc != CDX_OK)
        return rc;
    cdx_member card;
    cdx_identity_card(ident, &card);
    rc = cdx_member_card_save(&card, card_path, eb);
    if (rc != CDX_OK)
        unlink(secret_path); /* all or nothing */
    return rc;
}

cdx_err cdx_identity_load(cdx_identity **out, const char *path, cdx_errbuf *eb)
{
    *out = NULL;
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cdx_errf(eb, errno == ENOENT ? CDX_ERR_NOENT : CDX_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cdx_errf(eb, CDX_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return cdx_errf(eb, CDX_ERR_KEY_PERMS,
                        "secret key %s has mode %04o: group or others can read it; "
                        "run 'chmod 600 %s' if it was not exposed, otherwise make a new key",
                        path, (unsigned)(st.st_mode & 07777), path);
    }
    s_secrets *stage = sodium_malloc(sizeof *stage);
    if (!stage) {
        close(fd);
        return CDX_ERR_NOMEM;
    }
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd, stage->file + len, sizeof stage->file - len)) > 0)
        len += (size_t)r;
    close(fd);
    cdx_err rc = CDX_OK;
    size_t idlen = len > S_MAGIC_LEN + 2 ? stage->file[S_MAGIC_LEN + 1] : 0;
    char id[CDX_ID_MAX + 1] = "";
    if (r < 0) {
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot read %s", path);
    } else if (len < S_MAGIC_LEN + 2 || memcmp(stage->file, S_MAGIC, S_MAGIC_LEN) != 0 ||
               idlen == 0 || idlen > CDX_ID_MAX || len != S_MAGIC_LEN + 2 + idlen + 96) {
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s is not a CyDEx secret key file", path);
    } else {
        memcpy(id, stage->file + S_MAGIC_LEN + 2, idlen);
        id[idlen] = '\0';
        rc = s_alloc(out, id, (cdx_role)stage->file[S_MAGIC_LEN]);
        if (rc != CDX_OK) {
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "%s: bad member id or role", path);
        } else {
            const uint8_t *k = stage->file + S_MAGIC_LEN + 2 + idlen;
            memcpy((*out)->sec->sign_seed, k, 32);
            memcpy((*out)->sec->seal_sk, k + 32, 32);
            memcpy((*out)->sec->curve_sk, k + 64, 32);
            s_derive_public(*out);
        }
    }
    sodium_free(stage);
    return rc;
}

cdx_err cdx_member_card_save(const cdx_member *m, const char *path, cdx_errbuf *eb)
{
    char *json = NULL;
    cdx_err rc = cdx_json_from_member(&json, m, true);
    if (rc != CDX_OK)
        return rc;
    size_t n = strlen(json);
    char *text = realloc(json, n + 2);
    if (!text) {
        free(json);
        return CDX_ERR_NOMEM;
    }
    text[n] = '\n';
    text[n + 1] = '\0';
    rc = cdx__write_file(path, text, n + 1, 0644, true, eb);
    free(text);
    return rc;
}

cdx_err cdx_member_card_load(cdx_member *out, const char *path, cdx_errbuf *eb)
{
    cdx_bytes b;
    cdx_err rc = cdx__read_file(path, 64 * 1024, &b, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx_json_to_member(out, (const char *)b.data, b.len, eb);
    if (rc != CDX_OK && eb) {
        char detail[sizeof eb->msg];
        memcpy(detail, eb->msg, sizeof detail);
        cdx_errf(eb, rc, "%s: %s", path, detail);
    }
    cdx_bytes_free(&b);
    return rc;
}
