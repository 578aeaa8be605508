/* cydex roster: the federation roster's life cycle.
 *
 *   init      a draft version 1        next       a draft of the next version
 *   add       members from cards       admin      admins added or removed
 *   threshold k of the admins          rotate     a member's new keys from a time
 *   revoke    a member from a time     sign       an admin's signature
 *   verify    signatures (and the step from the previous version)
 *   show      text or JSON
 *   publish   through the local node to the federation (cmd_node.c)
 *
 * Every edit drops the signatures (they were over the old bytes) and says
 * so; a roster is only ever written whole and atomically, and an edit the
 * roster's rules refuse (exit 1) leaves the file as it was.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char s_usage[] =
    "cydex roster init --federation NAME --threshold K --out FILE [--admin CARD]... "
    "[--member CARD]...\n"
    "       cydex roster next --from OLD --out NEW\n"
    "       cydex roster add FILE CARD... [--valid-from T] [--valid-until T]\n"
    "       cydex roster admin add FILE CARD...\n"
    "       cydex roster admin remove FILE ID...\n"
    "       cydex roster threshold FILE K\n"
    "       cydex roster rotate FILE ID --card NEW.pub --at T\n"
    "       cydex roster revoke FILE ID [--at T]\n"
    "       cydex roster sign FILE --key ADMIN.secret [--prev OLD]\n"
    "       cydex roster verify FILE [--prev OLD]\n"
    "       cydex roster show FILE [--json]\n"
    "       cydex roster publish [--node ipc://PATH] [--again] [--json] FILE";

static const char s_rules[] =
    "A roster is valid when K distinct admins sign it: for version 1 its own admins,\n"
    "later the admins and threshold of the version it replaces (sign with --prev OLD).\n"
    "Changes are made on a draft of the next version (roster next), each edit dropping\n"
    "the signatures. Times are RFC 3339 (2026-11-24T09:00:00Z).\n"
    "Exit codes: 0 done; 1 refused (a rule of the roster, the reason on stderr);\n"
    "64 usage; 65 FILE or a card is malformed; 66 no such file; 73 already listed;\n"
    "74 I/O error; 77 the --key file is readable by others. roster publish: see\n"
    "cydex roster publish --help.\n";

/* Each subcommand's own --help. */
static const struct {
    const char *name, *text;
} s_help[] = {
    {"init", "cydex roster init --federation NAME --threshold K --out FILE [--admin CARD]... "
             "[--member CARD]...\n\n"
             "Drafts version 1: the admins (their cards' signing keys) of whom K must sign it\n"
             "and every later version (1 <= K <= the admins), and the members. Sign it with\n"
             "`roster sign` by K admins; it is the federation's trust anchor.\n"},
    {"next", "cydex roster next --from OLD --out NEW\n\n"
             "Drafts the next version of OLD: the same members, admins and threshold, the\n"
             "version one higher, no signatures. Edit it, then have K admins of OLD sign it\n"
             "with --prev OLD.\n"},
    {"add", "cydex roster add FILE CARD... [--valid-from T] [--valid-until T]\n\n"
            "Adds members from their cards (ID.pub), valid in [T, T) if given. A member\n"
            "already listed is refused (exit 73): give it new keys with `roster rotate`.\n"},
    {"admin", "cydex roster admin add FILE CARD...\n"
              "cydex roster admin remove FILE ID...\n\n"
              "add: the cards' signing keys become admin keys, named by the cards' ids; an id\n"
              "or key already an admin's is refused (exit 73), and so is a revoked member's\n"
              "(exit 1). remove: the admins stop being admins (they stay members); refused\n"
              "(exit 1) if fewer admins than the threshold would be left: lower it first.\n"
              "The admins of this version sign the next one; this version is signed by the\n"
              "admins of the one before. (`roster admin FILE CARD...` is `admin add`.)\n"},
    {"threshold", "cydex roster threshold FILE K\n\n"
                  "How many distinct admins of this version must sign the next one:\n"
                  "1 <= K <= the admins who may sign (revoked members' admin keys do not\n"
                  "count). Out of range: exit 1 (0 or not a number: exit 64).\n"},
    {"rotate", "cydex roster rotate FILE ID --card NEW.pub --at T\n\n"
               "Gives member ID the keys of NEW.pub from time T on: its present card is valid\n"
               "until T, the new one from T (the windows never overlap). What ID signed before\n"
               "T is checked against the old key, from T on against the new one, by brokers,\n"
               "nodes and the audit alike; sealed alerts are wrapped to the key valid when\n"
               "they are sealed. If ID's admin key was its old signing key, it becomes the\n"
               "new one. A node switches keys by itself at T if its config names the new key\n"
               "file as next_key. Refused (exit 1): ID not a member, revoked, or T not after\n"
               "the start of its present card; NEW.pub of another id or role: exit 64.\n"},
    {"revoke", "cydex roster revoke FILE ID [--at T]\n\n"
               "Revokes member ID from T on (default now), every card of it: what it signs\n"
               "from then on is refused everywhere, and it loses every role: its admin key\n"
               "(by id, or its signing key) leaves the admins, and from this version on it\n"
               "cannot sign rosters. Refused (exit 1) if ID is not a member, or if fewer\n"
               "admins than the threshold would be left (lower the threshold first).\n"},
    {"sign", "cydex roster sign FILE --key ADMIN.secret [--prev OLD]\n\n"
             "Adds an admin's signature. Version 1 is signed by its own admins; a later\n"
             "version by the admins of OLD, the version it replaces. Refused (exit 1): not an\n"
             "admin of that version, or one whose member is revoked; signed already.\n"},
    {"verify", "cydex roster verify FILE [--prev OLD]\n\n"
               "Without --prev: FILE as a trust anchor, signed by K of its own admins. With\n"
               "--prev: FILE as the successor of OLD (trusted): a higher version, signed by\n"
               "OLD's threshold of OLD's admins who may sign. Exit 0 valid, 1 not.\n"},
    {"show", "cydex roster show FILE [--json]\n\n"
             "The roster: version, admins and threshold, each member card with its window\n"
             "and revocation, and who signed it.\n"},
};

typedef struct s_args {
    const char *federation, *out, *from, *key, *prev, *card;
    uint32_t threshold;
    uint64_t valid_from, valid_until, at;
    bool json, has_at;
    const char *admins[CDX_ROSTER_MAX_ADMINS];
    size_t n_admins;
    const char *members[256];
    size_t n_members;
    char **pos; /* positional arguments */
    int n_pos;
} s_args;

static int s_parse(int argc, char **argv, const char *sub, s_args *a)
{
    static const struct option opts[] = {{"federation", required_argument, NULL, 'f'},
                                         {"threshold", required_argument, NULL, 'k'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"from", required_argument, NULL, 'F'},
                                         {"key", required_argument, NULL, 'K'},
                                         {"prev", required_argument, NULL, 'p'},
                                         {"admin", required_argument, NULL, 'A'},
                                         {"member", required_argument, NULL, 'M'},
                                         {"card", required_argument, NULL, 'c'},
                                         {"valid-from", required_argument, NULL, 'v'},
                                         {"valid-until", required_argument, NULL, 'u'},
                                         {"at", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    int c;
    uint64_t k;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': a->federation = optarg; break;
        case 'o': a->out = optarg; break;
        case 'F': a->from = optarg; break;
        case 'K': a->key = optarg; break;
        case 'p': a->prev = optarg; break;
        case 'c': a->card = optarg; break;
        case 'j': a->json = true; break;
        case 'k':
            if (!cdx_parse_u64(optarg, &k) || k == 0 || k > CDX_ROSTER_MAX_ADMINS)
                return cli_usage("roster", s_usage, "--threshold takes a number from 1 to %u",
                                 CDX_ROSTER_MAX_ADMINS);
            a->threshold = (uint32_t)k;
            break;
        case 'A':
            if (a->n_admins == CDX_ROSTER_MAX_ADMINS)
                return cli_usage("roster", s_usage, "at most %u admins", CDX_ROSTER_MAX_ADMINS);
            a->admins[a->n_admins++] = optarg;
            break;
        case 'M':
            if (a->n_members == 256)
                return cli_usage("roster", s_usage, "at most 256 --member at once");
            a->members[a->n_members++] = optarg;
            break;
        case 'v':
        case 'u':
        case 't': {
            uint64_t *dst = c == 'v' ? &a->valid_from : c == 'u' ? &a->valid_until : &a->at;
            if (cdx_time_parse(optarg, dst) != CDX_OK)
                return cli_usage("roster", s_usage,
                                 "'%s' is not a time (RFC 3339, e.g. 2026-11-24T09:00:00Z)",
                                 optarg);
            a->has_at = a->has_at || c == 't';
            break;
        }
        case 'h':
            for (size_t i = 0; i < sizeof s_help / sizeof *s_help; i++)
                if (strcmp(sub, s_help[i].name) == 0) {
                    printf("usage: %s\n%s", s_help[i].text, s_rules);
                    return -1;
                }
            printf("usage: %s\n\n%s", s_usage, s_rules);
            return -1;
        default: return cli_usage("roster", s_usage, "bad option");
        }
    }
    a->pos = argv + optind;
    a->n_pos = argc - optind;
    return CLI_OK;
}

/* An edit the roster refused: "not a member" is a refusal like the rest
 * (exit 1), not a missing file. */
static int s_refused(cdx_err rc, const cdx_errbuf *eb)
{
    if (rc == CDX_ERR_NOENT) {
        fprintf(stderr, "cydex roster: %s\n", cdx_errbuf_msg(eb, rc));
        return CLI_REFUSED;
    }
    return cli_fail("roster", rc, eb);
}

static int s_save(const cdx_roster *r, const char *path, const char *what)
{
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_roster_save(r, path, &eb);
    if (rc != CDX_OK)
        return cli_fail("roster", rc, &eb);
    printf("%s: roster v%llu of %s, %zu members, %zu admins, threshold %u, %zu signatures\n", what,
           (unsigned long long)cdx_roster_version(r), cdx_roster_federation(r),
           cdx_roster_member_count(r), cdx_roster_admin_count(r), cdx_roster_threshold(r),
           cdx_roster_signature_count(r));
    return CLI_OK;
}

static int s_add_cards(cdx_roster *r, const char *const *cards, size_t n, bool admins,
                       uint64_t valid_from, uint64_t valid_until)
{
    cdx_errbuf eb = {0};
    for (size_t i = 0; i < n; i++) {
        cdx_member m;
        cdx_err rc = cdx_member_card_load(&m, cards[i], &eb);
        if (rc == CDX_OK && admins) {
            rc = cdx_roster_add_admin(r, m.id, m.sign_pk, &eb);
        } else if (rc == CDX_OK) {
            m.valid_from_ms = valid_from;
            m.valid_until_ms = valid_until;
            rc = cdx_roster_add_member(r, &m, &eb);
        }
        if (rc != CDX_OK)
            return cli_fail("roster", rc, &eb);
    }
    return CLI_OK;
}

static int s_init(s_args *a)
{
    if (!a->federation || !a->threshold || !a->out || a->n_pos)
        return cli_usage("roster", s_usage, "init needs --federation, --threshold and --out");
    if (!cdx_id_valid(a->federation))
        return cli_usage("roster", s_usage, "'%s' is not a federation name", a->federation);
    if (a->threshold > a->n_admins)
        return cli_usage("roster", s_usage, "--threshold %u needs at least %u --admin (%zu given)",
                         a->threshold, a->threshold, a->n_admins);
    cdx_roster *r = NULL;
    cdx_err rc = cdx_roster_new(&r, a->federation, a->threshold, cdx_now_ms());
    if (rc != CDX_OK)
        return cli_fail("roster", rc, NULL);
    int ec = s_add_cards(r, a->admins, a->n_admins, true, 0, 0);
    if (ec == CLI_OK)
        ec = s_add_cards(r, a->members, a->n_members, false, 0, 0);
    if (ec == CLI_OK)
        ec = s_save(r, a->out, a->out);
    cdx_roster_destroy(&r);
    return ec;
}

static int s_next(s_args *a)
{
    if (!a->from || !a->out || a->n_pos)
        return cli_usage("roster", s_usage, "next needs --from and --out");
    cdx_errbuf eb = {0};
    cdx_roster *old = NULL, *r = NULL;
    cdx_err rc = cdx_roster_load(&old, a->from, &eb);
    if (rc == CDX_OK)
        rc = cdx_roster_next(&r, old, cdx_now_ms());
    int ec = rc == CDX_OK ? s_save(r, a->out, a->out) : cli_fail("roster", rc, &eb);
    cdx_roster_destroy(&old);
    cdx_roster_destroy(&r);
    return ec;
}

typedef enum s_edit_kind {
    S_ADD,
    S_ADMIN_ADD,
    S_ADMIN_REMOVE,
    S_THRESHOLD,
    S_ROTATE,
    S_REVOKE
} s_edit_kind;

static int s_rotate(cdx_roster *r, const s_args *a)
{
    const char *id = a->pos[1];
    cdx_errbuf eb = {0};
    cdx_member card;
    cdx_err rc = cdx_member_card_load(&card, a->card, &eb);
    if (rc != CDX_OK)
        return cli_fail("roster", rc, &eb);
    const cdx_member *was = cdx_roster_find(r, id);
    uint8_t old_pk[CDX_PK_BYTES] = {0};
    if (was)
        memcpy(old_pk, was->sign_pk, CDX_PK_BYTES);
    bool was_admin = false;
    for (size_t i = 0; i < cdx_roster_admin_count(r); i++) {
        const uint8_t *pk;
        const char *aid = cdx_roster_admin_at(r, i, &pk);
        was_admin = was_admin || (strcmp(aid, id) == 0 && memcmp(pk, old_pk, CDX_PK_BYTES) == 0);
    }
    rc = cdx_roster_rotate(r, id, &card, a->at, &eb);
    if (rc != CDX_OK)
        return s_refused(rc, &eb);
    char when[CDX_TIME_TEXT_MAX];
    cdx_time_format(when, a->at);
    printf("%s: its present keys valid until %s, the new card's from then on%s\n", id, when,
           was_admin ? "; its admin key is the new signing key" : "");
    if (a->at < cdx_now_ms())
        fprintf(stderr,
                "cydex roster: note: %s is in the past: what %s signed with its old key since "
                "then will be refused\n",
                when, id);
    return CLI_OK;
}

/* Loads FILE (first positional), applies the edit, saves it back. */
static int s_edit(s_args *a, s_edit_kind kind)
{
    cdx_errbuf eb = {0};
    cdx_roster *r = NULL;
    cdx_err rc = cdx_roster_load(&r, a->pos[0], &eb);
    if (rc != CDX_OK)
        return cli_fail("roster", rc, &eb);
    size_t had = cdx_roster_signature_count(r);
    int ec = CLI_OK;
    switch (kind) {
    case S_ADD:
    case S_ADMIN_ADD:
        ec = s_add_cards(r, (const char *const *)a->pos + 1, (size_t)a->n_pos - 1,
                         kind == S_ADMIN_ADD, a->valid_from, a->valid_until);
        break;
    case S_ADMIN_REMOVE:
        for (int i = 1; i < a->n_pos && ec == CLI_OK; i++)
            if ((rc = cdx_roster_remove_admin(r, a->pos[i], &eb)) != CDX_OK)
                ec = s_refused(rc, &eb);
        break;
    case S_THRESHOLD: {
        uint64_t k;
        if (!cdx_parse_u64(a->pos[1], &k) || k == 0 || k > UINT32_MAX) {
            ec = cli_usage("roster", s_usage,
                           "the threshold is a number of admins, 1 or more, not '%s'", a->pos[1]);
            break;
        }
        if ((rc = cdx_roster_set_threshold(r, (uint32_t)k, &eb)) != CDX_OK)
            ec = s_refused(rc, &eb);
        break;
    }
    case S_ROTATE: ec = s_rotate(r, a); break;
    case S_REVOKE:
        rc = cdx_roster_revoke(r, a->pos[1], a->has_at ? a->at : cdx_now_ms(), &eb);
        ec = rc == CDX_OK ? CLI_OK : s_refused(rc, &eb);
        break;
    }
    if (ec == CLI_OK) {
        if (had)
            fprintf(stderr, "cydex roster: the edit dropped %zu signature%s; sign it again\n", had,
                    had == 1 ? "" : "s");
        ec = s_save(r, a->pos[0], a->pos[0]);
    }
    cdx_roster_destroy(&r);
    return ec;
}

static int s_sign(s_args *a)
{
    if (a->n_pos != 1 || !a->key)
        return cli_usage("roster", s_usage, "sign needs FILE and --key");
    cdx_errbuf eb = {0};
    cdx_roster *r = NULL, *prev = NULL;
    cdx_identity *admin = NULL;
    cdx_err rc = cdx_roster_load(&r, a->pos[0], &eb);
    if (rc == CDX_OK && a->prev)
        rc = cdx_roster_load(&prev, a->prev, &eb);
    if (rc == CDX_OK && !prev && cdx_roster_version(r) > 1) {
        rc = cdx_errf(&eb, CDX_ERR_INVALID,
                      "roster v%llu is signed by the previous version's admins: give --prev OLD",
                      (unsigned long long)cdx_roster_version(r));
    }
    if (rc == CDX_OK)
        rc = cdx_identity_load(&admin, a->key, &eb);
    if (rc == CDX_OK)
        rc = cdx_roster_sign(r, prev, admin, &eb);
    int ec = rc == CDX_OK ? s_save(r, a->pos[0], a->pos[0]) : cli_fail("roster", rc, &eb);
    cdx_identity_destroy(&admin);
    cdx_roster_destroy(&r);
    cdx_roster_destroy(&prev);
    return ec;
}

static int s_verify(s_args *a)
{
    if (a->n_pos != 1)
        return cli_usage("roster", s_usage, "verify needs FILE");
    cdx_errbuf eb = {0};
    cdx_roster *r = NULL, *prev = NULL;
    cdx_err rc = cdx_roster_load(&r, a->pos[0], &eb);
    if (rc == CDX_OK && a->prev)
        rc = cli_load_trusted_roster(&prev, a->prev, &eb);
    if (rc == CDX_OK)
        rc = cdx_roster_verify(r, prev, &eb);
    if (rc != CDX_OK && r && !prev && cdx_roster_version(r) > 1 &&
        (rc == CDX_ERR_BAD_SIGNATURE || rc == CDX_ERR_UNKNOWN_SENDER || rc == CDX_ERR_THRESHOLD)) {
        char detail[sizeof eb.msg];
        memcpy(detail, eb.msg, sizeof detail);
        cdx_errf(&eb, rc,
                 "%s (as a trust anchor, signed by its own admins; a later version is signed by "
                 "the admins of the one before it: give --prev OLD, or the chain --prev "
                 "v1.bin,v2.bin)",
                 detail);
    }
    if (rc == CDX_OK) {
        printf("valid: roster v%llu of %s, signed by", (unsigned long long)cdx_roster_version(r),
               cdx_roster_federation(r));
        for (size_t i = 0; i < cdx_roster_signature_count(r); i++)
            printf("%s %s", i ? "," : "", cdx_roster_signer_at(r, i));
        printf(" (%u required%s)\n", prev ? cdx_roster_threshold(prev) : cdx_roster_threshold(r),
               prev ? " by the previous version" : "");
    }
    int ec = rc == CDX_OK ? CLI_OK : cli_fail("roster", rc, &eb);
    cdx_roster_destroy(&r);
    cdx_roster_destroy(&prev);
    return ec;
}

static void s_show_card(const cdx_member *m, uint64_t now)
{
    char when[CDX_TIME_TEXT_MAX], fp[17];
    cdx_hex_encode(fp, m->sign_pk, 8);
    printf("  %-16s %-8s key %s…", m->id, cdx_role_name(m->role), fp);
    if (m->valid_from_ms) {
        cdx_time_format(when, m->valid_from_ms);
        printf("  from %s", when);
    }
    if (m->valid_until_ms) {
        cdx_time_format(when, m->valid_until_ms);
        printf("  until %s", when);
    }
    if (m->revoked_at_ms) {
        cdx_time_format(when, m->revoked_at_ms);
        printf("  REVOKED %s", when);
    } else if (cdx_member_key_valid_at(m, now) != CDX_OK) {
        printf("  (%s)", now < m->valid_from_ms ? "not yet valid" : "ended");
    }
    printf("\n");
}

static int s_show(s_args *a)
{
    if (a->n_pos != 1)
        return cli_usage("roster", s_usage, "show needs FILE");
    cdx_errbuf eb = {0};
    cdx_roster *r = NULL;
    cdx_err rc = cdx_roster_load(&r, a->pos[0], &eb);
    if (rc != CDX_OK)
        return cli_fail("roster", rc, &eb);
    if (a->json) {
        char *text = NULL;
        rc = cdx_json_from_roster(&text, r, true);
        if (rc == CDX_OK)
            printf("%s\n", text);
        free(text);
    } else {
        char when[CDX_TIME_TEXT_MAX];
        cdx_time_format(when, cdx_roster_issued_at(r));
        printf("roster v%llu of %s, issued %s\nadmins (%u of %zu must sign the next version):",
               (unsigned long long)cdx_roster_version(r), cdx_roster_federation(r), when,
               cdx_roster_threshold(r), cdx_roster_signing_admins(r));
        for (size_t i = 0; i < cdx_roster_admin_count(r); i++)
            printf(" %s%s", cdx_roster_admin_at(r, i, NULL),
                   cdx_roster_admin_may_sign(r, i) ? "" : " (revoked: does not count)");
        printf("\nmembers:\n");
        /* One id's cards together, oldest window first, where the oldest
         * is listed. */
        uint64_t now = cdx_now_ms();
        for (size_t i = 0; i < cdx_roster_member_count(r); i++) {
            const cdx_member *m = cdx_roster_member_at(r, i), *const * cards;
            size_t n = cdx_roster_cards(r, m->id, &cards);
            for (size_t j = 0; cards[0] == m && j < n; j++)
                s_show_card(cards[j], now);
        }
        printf("signed by:");
        for (size_t i = 0; i < cdx_roster_signature_count(r); i++)
            printf(" %s", cdx_roster_signer_at(r, i));
        printf("%s\n", cdx_roster_signature_count(r) ? "" : " nobody yet");
    }
    cdx_roster_destroy(&r);
    return rc == CDX_OK ? CLI_OK : cli_fail("roster", rc, NULL);
}

int cmd_roster(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: %s\n\n%s", s_usage, s_rules);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "publish") == 0)
        return cli_roster_publish(argc - 1, argv + 1);
    /* "admin add|remove": the verb after "admin" (none: add). */
    s_edit_kind admin_kind = S_ADMIN_ADD;
    if (strcmp(sub, "admin") == 0 && argc > 2 &&
        (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "remove") == 0)) {
        admin_kind = strcmp(argv[2], "add") == 0 ? S_ADMIN_ADD : S_ADMIN_REMOVE;
        argv++;
        argc--;
    }
    s_args a;
    int ec = s_parse(argc - 1, argv + 1, sub, &a);
    if (ec == -1)
        return CLI_OK;
    if (ec != CLI_OK)
        return ec;
    if (strcmp(sub, "init") == 0)
        return s_init(&a);
    if (strcmp(sub, "next") == 0)
        return s_next(&a);
    if (strcmp(sub, "add") == 0) {
        if (a.n_pos < 2)
            return cli_usage("roster", s_usage, "add needs FILE and at least one CARD");
        return s_edit(&a, S_ADD);
    }
    if (strcmp(sub, "admin") == 0) {
        if (a.n_pos < 2)
            return cli_usage("roster", s_usage, "admin %s needs FILE and at least one %s",
                             admin_kind == S_ADMIN_ADD ? "add" : "remove",
                             admin_kind == S_ADMIN_ADD ? "CARD" : "ID");
        return s_edit(&a, admin_kind);
    }
    if (strcmp(sub, "threshold") == 0) {
        if (a.n_pos != 2)
            return cli_usage("roster", s_usage, "threshold needs FILE and K");
        return s_edit(&a, S_THRESHOLD);
    }
    if (strcmp(sub, "rotate") == 0) {
        if (a.n_pos != 2 || !a.card || !a.has_at)
            return cli_usage("roster", s_usage, "rotate needs FILE, ID, --card NEW.pub and --at T");
        return s_edit(&a, S_ROTATE);
    }
    if (strcmp(sub, "revoke") == 0) {
        if (a.n_pos != 2)
            return cli_usage("roster", s_usage, "revoke needs FILE and ID");
        return s_edit(&a, S_REVOKE);
    }
    if (strcmp(sub, "sign") == 0)
        return s_sign(&a);
    if (strcmp(sub, "verify") == 0)
        return s_verify(&a);
    if (strcmp(sub, "show") == 0)
        return s_show(&a);
    return cli_usage("roster", s_usage, "unknown subcommand '%s'", sub);
}
