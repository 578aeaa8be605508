/* cydex-node's keys across a rotation (see internal.h).
 *
 * A roster may give this node new keys from a time on (a card of our id
 * valid from T, the old one until T). The operator puts the new key file
 * in next_key beforehand; between two rounds at or after T, when the card
 * valid now holds next_key's signing key, it becomes the node's identity:
 * what it signs from then on is signed with it, its broker links are made
 * again with its CURVE key (the brokers admit only the card valid now),
 * and the old identity is kept inside the new one, so that alerts sealed
 * to the old sealing key still open. A link whose broker's card valid now
 * holds another CURVE key than the one it was made for (a broker's own
 * rotation) is made again too.
 *
 * Invariants: the switch happens only between rounds, when the batch
 * signer holds nothing, so that one batch is never signed by two keys;
 * n->member.me is always the identity we sign with.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int node__keys_open(node *n, char *err, size_t errlen)
{
    if (!n->cfg.next_key[0])
        return 0;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_identity_load(&n->next_me, n->cfg.next_key, &eb);
    if (rc == CDX_OK && strcmp(cdx_identity_id(n->next_me), n->cfg.id) != 0)
        rc = cdx_errf(&eb, CDX_ERR_INVALID, "next_key %s is %s's, not %s's", n->cfg.next_key,
                      cdx_identity_id(n->next_me), n->cfg.id);
    if (rc == CDX_OK)
        return 0;
    snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
    cdx_identity_destroy(&n->next_me);
    return rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO ? 74 : 78;
}

static bool s_key_is(const cdx_identity *ident, const cdx_member *m)
{
    cdx_member card;
    cdx_identity_card(ident, &card);
    return m && memcmp(card.sign_pk, m->sign_pk, CDX_PK_BYTES) == 0;
}

static void s_relink_all(node *n, const char *why)
{
    for (size_t i = 0; i < n->n_links; i++) {
        cdx_errbuf eb = {0};
        cdx_err rc = node__link_connect(n, &n->link[i], &eb);
        if (rc != CDX_OK)
            daemon_log(&n->member.say, "broker %s: could not connect again (%s): %s",
                       n->link[i].cfg->id, why, cdx_errbuf_msg(&eb, rc));
    }
}

/* next_key becomes ours; false (and said) if something failed. */
static bool s_take_next(node *n, const cdx_member *card)
{
    cdx_batch_signer *signer = NULL;
    if (n->signer && cdx_batch_signer_new(&signer, n->next_me) != CDX_OK) {
        daemon_log(&n->member.say, "could not take up next_key: out of memory");
        return false;
    }
    cdx_identity *next = n->next_me, *old = n->member.me;
    if (cdx_identity_keep_previous(next, &old) != CDX_OK) {
        cdx_batch_signer_destroy(&signer);
        return false;
    }
    n->member.me = next;
    n->next_me = NULL;
    if (n->signer) {
        cdx_batch_signer_destroy(&n->signer);
        n->signer = signer;
    }
    char when[CDX_TIME_TEXT_MAX];
    cdx_time_format(when, card->valid_from_ms);
    daemon_log(&n->member.say,
               "roster v%llu rotates our keys at %s: now signing with next_key %s (the old key "
               "still opens what was sealed to it)",
               (unsigned long long)cdx_roster_version(n->member.roster), when, n->cfg.next_key);
    if (n->net) {
        cdx_transport_set_identity(n->net, n->member.me);
        s_relink_all(n, "our new CURVE key");
    }
    return true;
}

void node__keys_check(node *n)
{
    uint64_t now = cdx_now_ms();
    if (n->next_me) {
        const cdx_member *card = cdx_roster_find_at(n->member.roster, n->cfg.id, now);
        if (s_key_is(n->next_me, card) && !s_key_is(n->member.me, card) && s_take_next(n, card))
            return; /* every link was made again */
    }
    for (size_t i = 0; i < n->n_links; i++) {
        node_link *l = &n->link[i];
        const cdx_member *b = cdx_roster_find_at(n->member.roster, l->cfg->id, now);
        if (!b || memcmp(b->curve_pk, l->server_pk, CDX_PK_BYTES) == 0)
            continue;
        cdx_errbuf eb = {0};
        cdx_err rc = node__link_connect(n, l, &eb);
        daemon_log(&n->member.say, "broker %s has a new CURVE key in roster v%llu: %s", l->cfg->id,
                   (unsigned long long)cdx_roster_version(n->member.roster),
                   rc == CDX_OK ? "connected again with it" : cdx_errbuf_msg(&eb, rc));
    }
}

cdx_key_state node__key_state(const node *n, uint64_t now_ms, uint64_t *when, uint64_t *next_from)
{
    cdx_member card;
    cdx_identity_card(n->member.me, &card);
    return cdx_roster_key_state(n->member.roster, n->cfg.id, card.sign_pk, now_ms, when, next_from);
}

const char *node__key_trouble(const node *n, char *buf, size_t cap)
{
    uint64_t when = 0;
    cdx_key_state s = node__key_state(n, cdx_now_ms(), &when, NULL);
    char t[CDX_TIME_TEXT_MAX] = "";
    if (when)
        cdx_time_format(t, when);
    unsigned long long v = (unsigned long long)cdx_roster_version(n->member.roster);
    switch (s) {
    case CDX_KEY_VALID:
    case CDX_KEY_ENDING: return NULL;
    case CDX_KEY_REVOKED:
        snprintf(buf, cap, "our key is revoked since %s (roster v%llu): we sign nothing", t, v);
        break;
    case CDX_KEY_NOT_YET_VALID:
        snprintf(buf, cap, "our key is not valid before %s (roster v%llu): we sign nothing", t, v);
        break;
    case CDX_KEY_ENDED:
        snprintf(buf, cap,
                 "our key ended at %s (roster v%llu) and no next_key holds the key valid now: "
                 "we sign nothing",
                 t, v);
        break;
    case CDX_KEY_UNKNOWN:
        snprintf(buf, cap, "roster v%llu does not list our key: we sign nothing", v);
        break;
    }
    return buf;
}
