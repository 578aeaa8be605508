/* Proof files (see cydex/proof.h): the text a third party hands to
 * cydex-audit check-proof, parsed into its parts. Parsing checks only the
 * form; the checkpoint's signature and the Merkle path are checked by the
 * caller. */
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

/* Parses the lines of either proof form. */
static cdx_err s_parse(cdx_proof *p, char *text, cdx_errbuf *eb)
{
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (!line || (strcmp(line, CDX_PROOF_INCLUSION_HEADER) != 0 &&
                  strcmp(line, CDX_PROOF_CONSISTENCY_HEADER) != 0))
        return cdx_errf(eb, CDX_ERR_FORMAT, "not a proof: the first line must be %s or %s",
                        CDX_PROOF_INCLUSION_HEADER, CDX_PROOF_CONSISTENCY_HEADER);
    p->inclusion = strcmp(line, CDX_PROOF_INCLUSION_HEADER) == 0;
    bool have_index = false;
    /* strtok_r skips empty lines, so find the blank line by hand first. */
    char *rest = save;
    char *blank = rest ? strstr(rest, "\n\n") : NULL;
    if (blank) {
        *blank = '\0';
        p->checkpoint = cdx__strdup(blank + 2);
        if (!p->checkpoint)
            return CDX_ERR_NOMEM;
    }
    for (line = strtok_r(rest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "extra ", 6) == 0 && p->inclusion) {
            if (cdx_base64_decode(&p->extra, line + 6) != CDX_OK)
                return cdx_errf(eb, CDX_ERR_FORMAT, "proof: bad extra line");
        } else if (strncmp(line, "index ", 6) == 0 && p->inclusion) {
            have_index = cdx_parse_u64(line + 6, &p->index);
        } else if (strncmp(line, "old ", 4) == 0 && !p->inclusion) {
            cdx_parse_u64(line + 4, &p->old_size);
        } else if (strncmp(line, "new ", 4) == 0 && !p->inclusion) {
            cdx_parse_u64(line + 4, &p->new_size);
        } else {
            cdx_bytes h;
            if (p->n == CDX_MERKLE_MAX_PROOF || cdx_base64_decode(&h, line) != CDX_OK ||
                h.len != CDX_HASH_BYTES) {
                if (h.data)
                    cdx_bytes_free(&h);
                return cdx_errf(eb, CDX_ERR_FORMAT, "proof: bad line \"%.40s\"", line);
            }
            memcpy(p->hashes[p->n++], h.data, CDX_HASH_BYTES);
            cdx_bytes_free(&h);
        }
    }
    if (p->inclusion && (!have_index || !p->checkpoint))
        return cdx_errf(eb, CDX_ERR_FORMAT, "proof: no index line or no checkpoint");
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
    cdx_err rc = s_parse(out, copy, eb);
    free(copy);
    if (rc != CDX_OK)
        cdx_proof_clear(out);
    return rc;
}
