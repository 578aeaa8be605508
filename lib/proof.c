/* Proof files (see cydex/proof.h): the text a third party hands to
 * cydex-audit check-proof, parsed into its parts, and the checks made of
 * them. Parsing checks only the form and holds nothing it does not free on
 * failure; every count it reads into a fixed array is bounded first. */
#include <stdlib.h>
#include <string.h>

#include "cydex/proof.h"
#include "internal.h"

void cdx_proof_clear(cdx_proof *p)
{
    if (!p)
        return;
    cdx_bytes_free(&p->extra);
    free(p->checkpoint);
    memset(p, 0, sizeof *p);
}

/* A keyword line's value: the text after "word ", or NULL. */
static const char *s_keyword(const char *line, const char *word)
{
    size_t n = strlen(word);
    return strncmp(line, word, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

/* One "old", "new" or "index" line: once, and a decimal. */
static cdx_err s_number(uint64_t *dst, bool *seen, const char *value, const char *word,
                        size_t lineno, cdx_errbuf *eb)
{
    if (*seen)
        return cdx_errf(eb, CDX_ERR_FORMAT, "proof line %zu: a second \"%s\" line", lineno, word);
    *seen = true;
    if (!cdx_parse_u64(value, dst))
        return cdx_errf(eb, CDX_ERR_FORMAT, "proof line %zu: \"%s\" takes a decimal number", lineno,
                        word);
    return CDX_OK;
}

/* Line `lineno` of the part before the blank line (NUL-terminated, its
 * "\n" and any "\r" gone). */
static cdx_err s_line(cdx_proof *p, const char *line, size_t lineno, bool seen[3], cdx_errbuf *eb)
{
    const char *v;
    if (p->inclusion && (v = s_keyword(line, "extra")) != NULL) {
        if (seen[0])
            return cdx_errf(eb, CDX_ERR_FORMAT,
                            "proof line %zu: a second \"extra\" line (a proof carries one entry)",
                            lineno);
        seen[0] = true;
        cdx_err rc = cdx__base64_decode(&p->extra, v);
        if (rc == CDX_ERR_FORMAT)
            return cdx_errf(eb, rc, "proof line %zu: \"extra\" is not base64", lineno);
        return rc;
    }
    if (p->inclusion && (v = s_keyword(line, "index")) != NULL)
        return s_number(&p->index, &seen[1], v, "index", lineno, eb);
    if (!p->inclusion && (v = s_keyword(line, "old")) != NULL)
        return s_number(&p->old_size, &seen[1], v, "old", lineno, eb);
    if (!p->inclusion && (v = s_keyword(line, "new")) != NULL)
        return s_number(&p->new_size, &seen[2], v, "new", lineno, eb);
    if (p->n == CDX_MERKLE_MAX_PROOF)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "proof line %zu: more than %u hashes (the most a proof of any tree has)",
                        lineno, CDX_MERKLE_MAX_PROOF);
    cdx_bytes h = {0};
    cdx_err rc = cdx__base64_decode(&h, line);
    bool ok = rc == CDX_OK && h.len == CDX_HASH_BYTES;
    if (ok)
        memcpy(p->hashes[p->n++], h.data, CDX_HASH_BYTES);
    cdx_bytes_free(&h);
    if (rc == CDX_ERR_NOMEM)
        return rc;
    if (!ok)
        return cdx_errf(eb, CDX_ERR_FORMAT,
                        "proof line %zu: neither a keyword line nor a hash (32 bytes of base64): "
                        "\"%.40s\"",
                        lineno, line);
    return CDX_OK;
}

/* text is NUL-terminated and holds no other NUL. */
static cdx_err s_parse(cdx_proof *p, char *text, size_t len, cdx_errbuf *eb)
{
    bool seen[3] = {false, false, false}; /* extra, index or old, new */
    size_t lineno = 0, at = 0;
    bool blank = false;
    cdx_err rc = CDX_OK;
    while (rc == CDX_OK && at < len && !blank) {
        char *line = text + at, *nl = memchr(line, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - line) : len - at;
        at += ll + (nl != NULL);
        lineno++;
        line[ll] = '\0';
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (lineno == 1) {
            p->inclusion = strcmp(line, CDX_PROOF_INCLUSION_HEADER) == 0;
            if (!p->inclusion && strcmp(line, CDX_PROOF_CONSISTENCY_HEADER) != 0)
                rc = cdx_errf(eb, CDX_ERR_FORMAT, "not a proof: the first line must be %s or %s",
                              CDX_PROOF_INCLUSION_HEADER, CDX_PROOF_CONSISTENCY_HEADER);
        } else if (!ll) {
            blank = true;
        } else {
            rc = s_line(p, line, lineno, seen, eb);
        }
    }
    if (rc == CDX_OK && lineno == 0)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "not a proof: the first line must be %s or %s",
                      CDX_PROOF_INCLUSION_HEADER, CDX_PROOF_CONSISTENCY_HEADER);
    if (rc != CDX_OK)
        return rc;
    if (p->inclusion) {
        if (!seen[1])
            return cdx_errf(eb, CDX_ERR_FORMAT, "proof: no \"index\" line");
        if (!blank || at == len)
            return cdx_errf(eb, CDX_ERR_FORMAT,
                            "proof: no checkpoint (it follows the hashes after a blank line)");
        p->checkpoint = cdx__strdup(text + at);
        return p->checkpoint ? CDX_OK : CDX_ERR_NOMEM;
    }
    if (!seen[1] || !seen[2])
        return cdx_errf(eb, CDX_ERR_FORMAT, "proof: no \"%s\" line", !seen[1] ? "old" : "new");
    /* A consistency proof ends at a blank line: only blank lines follow. */
    for (; at < len; at++) {
        if (text[at] == '\n')
            lineno++;
        else if (text[at] != '\r')
            return cdx_errf(eb, CDX_ERR_FORMAT,
                            "proof line %zu: text after the blank line that ends a consistency "
                            "proof",
                            lineno + 1);
    }
    return CDX_OK;
}

cdx_err cdx_proof_parse(cdx_proof *out, const char *text, size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    char *copy = malloc(len + 1);
    if (!copy)
        return CDX_ERR_NOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *nul = memchr(copy, '\0', len);
    size_t lineno = 1;
    for (const char *c = copy; nul && c < nul; c++)
        lineno += *c == '\n';
    cdx_err rc = nul ? cdx_errf(eb, CDX_ERR_FORMAT, "proof line %zu: a NUL byte (not text)", lineno)
                     : s_parse(out, copy, len, eb);
    free(copy);
    if (rc != CDX_OK)
        cdx_proof_clear(out);
    return rc;
}

cdx_err cdx_proof_check_inclusion(const cdx_proof *p, const uint8_t owner_pk[CDX_PK_BYTES],
                                  cdx_checkpoint *cp, cdx_log_entry *entry, cdx_errbuf *eb)
{
    memset(entry, 0, sizeof *entry);
    if (!p->inclusion || !p->checkpoint)
        return cdx_errf(eb, CDX_ERR_INVALID, "not an inclusion proof");
    cdx_err rc = cdx_checkpoint_parse(cp, p->checkpoint, strlen(p->checkpoint), eb);
    if (rc == CDX_OK)
        rc = cdx_checkpoint_verify(cp, owner_pk, eb);
    if (rc == CDX_OK && !p->extra.len)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "proof carries no entry (extra line)");
    if (rc == CDX_OK)
        rc = cdx_log_entry_decode(entry, p->extra.data, p->extra.len, eb);
    if (rc == CDX_OK) {
        uint8_t leaf[CDX_HASH_BYTES];
        cdx_log_entry_leaf_hash(entry, leaf);
        rc = cdx_merkle_verify_inclusion(
            leaf, p->index, cp->size, (const uint8_t(*)[CDX_HASH_BYTES])p->hashes, p->n, cp->root);
        if (rc != CDX_OK)
            cdx_errf(eb, rc, "the inclusion path does not lead to the checkpoint's root");
    }
    if (rc != CDX_OK)
        cdx_log_entry_clear(entry);
    return rc;
}

cdx_err cdx_proof_check_consistency(const cdx_proof *p, const cdx_checkpoint *old_cp,
                                    const cdx_checkpoint *new_cp, cdx_errbuf *eb)
{
    if (p->inclusion)
        return cdx_errf(eb, CDX_ERR_INVALID, "not a consistency proof");
    if (old_cp->size != p->old_size || new_cp->size != p->new_size ||
        strcmp(old_cp->origin, new_cp->origin) != 0)
        return cdx_errf(eb, CDX_ERR_INVALID,
                        "the checkpoints are not the proof's sizes (%llu, %llu) of one log",
                        (unsigned long long)p->old_size, (unsigned long long)p->new_size);
    cdx_err rc =
        cdx_merkle_verify_consistency(old_cp->size, new_cp->size, old_cp->root, new_cp->root,
                                      (const uint8_t(*)[CDX_HASH_BYTES])p->hashes, p->n);
    if (rc != CDX_OK)
        cdx_errf(eb, rc, "the log at %llu is NOT a prefix of the log at %llu: it was rewritten",
                 (unsigned long long)old_cp->size, (unsigned long long)new_cp->size);
    return rc;
}
