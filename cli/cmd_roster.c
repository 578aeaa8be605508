/* cydex roster: the federation roster's life cycle.
 *
 *   init    a draft version 1       next    a draft of the next version
 *   add     members from cards      admin   admins from cards
 *   revoke  a member from a time    sign    an admin's signature
 *   verify  signatures (and the step from the previous version)
 *   show    text or JSON
 *   publish through the local node to the federation (cmd_node.c)
 *
 * Every edit drops the signatures (they were over the old bytes) and says
 * so; a roster is only ever written whole and atomically.
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
    "       cydex roster admin FILE CARD...\n"
    "       cydex roster revoke FILE ID [--at T]\n"
    "       cydex roster sign FILE --key ADMIN.secret [--prev OLD]\n"
    "       cydex roster verify FILE [--prev OLD]\n"
    "       cydex roster show FILE [--json]\n"
    "       cydex roster publish [--node ipc://PATH] [--again] [--json] FILE";

#define S_EXITS                                                                                    \
    "Exit codes: 0 done (verify: valid); 1 refused (too few or bad signatures, a\n"                \
    "step the previous version's admins did not sign, an admin who signed\n"                       \
    "already); 64 usage; 65 a malformed roster or card; 66 no such file; 70\n"                     \
    "internal error; 74 I/O error; 77 a key readable by others.\n"                                 \
    "roster publish: see cydex roster publish --help.\n"

typedef struct s_args {
    const char *federation, *out, *from, *key, *prev;
    uint32_t threshold;
    uint64_t valid_from, valid_until, at;
    bool json;
    const char *admins[64];
    size_t n_admins;
    const char *members[256];
    size_t n_members;
    char **pos; /* positional arguments */
    int n_pos;
} s_args;

static int s_parse(int argc, char **argv, s_args *a)
{
    static const struct option opts[] = {{"federation", required_argument, NULL, 'f'},
                                         {"threshold", required_argument, NULL, 'k'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"from", required_argument, NULL, 'F'},
                                         {"key", required_argument, NULL, 'K'},
                                         {"prev", required_argument, NULL, 'p'},
                                         {"admin", required_argument, NULL, 'A'},
                                         {"member", required_argument, NULL, 'M'},
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
        case 'j': a->json = true; break;
        case 'k':
            if (!cdx_parse_u64(optarg, &k) || k == 0 || k > 64)
                return cli_usage("roster", s_usage, "--threshold takes a number from 1 to 64");
            a->threshold = (uint32_t)k;
            break;
        case 'A':
            if (a->n_admins == 64)
                return cli_usage("roster", s_usage, "at most 64 admins");
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
            break;
        }
        case 'h':
            printf("usage: %s\n\nA roster is valid when K distinct admins sign it: for version "
                   "1 its own\nadmins, later the admins and threshold of the version it "
                   "replaces.\nTimes are RFC 3339 (2026-11-24T09:00:00Z).\n" S_EXITS,
                   s_usage);
            return -1;
        default: return cli_usage("roster", s_usage, "bad option");
        }
    }
    a->pos = argv + optind;
    a->n_pos = argc - optind;
    return CLI_OK;
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

/* Loads FILE (first positional), applies `edit`, saves it back. */
static int s_edit(s_args *a, const char *what)
{
    cdx_errbuf eb = {0};
    cdx_roster *r = NULL;
    cdx_err rc = cdx_roster_load(&r, a->pos[0], &eb);
    if (rc != CDX_OK)
        return cli_fail("roster", rc, &eb);
    size_t had = cdx_roster_signature_count(r);
    int ec;
    if (strcmp(what, "add") == 0 || strcmp(what, "admin") == 0) {
        ec = s_add_cards(r, (const char *const *)a->pos + 1, (size_t)a->n_pos - 1,
                         strcmp(what, "admin") == 0, a->valid_from, a->valid_until);
    } else {
        rc = cdx_roster_revoke(r, a->pos[1], a->at ? a->at : cdx_now_ms(), &eb);
        ec = rc == CDX_OK ? CLI_OK : cli_fail("roster", rc, &eb);
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
               cdx_roster_threshold(r), cdx_roster_admin_count(r));
        for (size_t i = 0; i < cdx_roster_admin_count(r); i++)
            printf(" %s", cdx_roster_admin_at(r, i, NULL));
        printf("\nmembers:\n");
        for (size_t i = 0; i < cdx_roster_member_count(r); i++) {
            const cdx_member *m = cdx_roster_member_at(r, i);
            char fp[17];
            cdx_hex_encode(fp, m->sign_pk, 8);
            printf("  %-16s %-8s key %s…", m->id, cdx_role_name(m->role), fp);
            if (m->revoked_at_ms) {
                cdx_time_format(when, m->revoked_at_ms);
                printf("  REVOKED %s", when);
            }
            printf("\n");
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
        printf("usage: %s\n\n" S_EXITS, s_usage);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "publish") == 0)
        return cli_roster_publish(argc - 1, argv + 1);
    s_args a;
    int ec = s_parse(argc - 1, argv + 1, &a);
    if (ec == -1)
        return CLI_OK;
    if (ec != CLI_OK)
        return ec;
    if (strcmp(sub, "init") == 0)
        return s_init(&a);
    if (strcmp(sub, "next") == 0)
        return s_next(&a);
    if (strcmp(sub, "add") == 0 || strcmp(sub, "admin") == 0) {
        if (a.n_pos < 2)
            return cli_usage("roster", s_usage, "%s needs FILE and at least one CARD", sub);
        return s_edit(&a, sub);
    }
    if (strcmp(sub, "revoke") == 0) {
        if (a.n_pos != 2)
            return cli_usage("roster", s_usage, "revoke needs FILE and ID");
        return s_edit(&a, sub);
    }
    if (strcmp(sub, "sign") == 0)
        return s_sign(&a);
    if (strcmp(sub, "verify") == 0)
        return s_verify(&a);
    if (strcmp(sub, "show") == 0)
        return s_show(&a);
    return cli_usage("roster", s_usage, "unknown subcommand '%s'", sub);
}
