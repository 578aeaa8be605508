/* cydex keygen: a member's key files. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char s_usage[] =
    "cydex keygen --id ID [--role state|broker|auditor|admin|relay] --out DIR";

/* The kinds of member id, each with the role it is for: a state's ISO
 * 3166-1 alpha-2 code, or KIND.NAME. */
static const struct {
    const char *prefix; /* "broker." */
    cdx_role role;
} s_kinds[] = {{"broker.", CDX_ROLE_BROKER},
               {"auditor.", CDX_ROLE_AUDITOR},
               {"admin.", CDX_ROLE_ADMIN},
               {"relay.", CDX_ROLE_RELAY}};

/* The role id is for, or CDX_ROLE_UNSPECIFIED if id is none of the
 * kinds (two upper-case letters; KIND.NAME, NAME of letters, digits, '.',
 * '_', '-', starting with a letter or digit; 63 bytes at most). */
static cdx_role s_role_of(const char *id)
{
    if (strlen(id) == 2 && id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z')
        return CDX_ROLE_STATE;
    for (size_t i = 0; i < sizeof s_kinds / sizeof *s_kinds; i++) {
        size_t n = strlen(s_kinds[i].prefix);
        if (strncmp(id, s_kinds[i].prefix, n) == 0 && cdx_id_valid(id + n) && cdx_id_valid(id))
            return s_kinds[i].role;
    }
    return CDX_ROLE_UNSPECIFIED;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"id", required_argument, NULL, 'i'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *id = NULL, *role_name = NULL, *dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "i:r:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': id = optarg; break;
        case 'r': role_name = optarg; break;
        case 'o': dir = optarg; break;
        case 'h':
            printf(
                "usage: %s\n\n"
                "Writes DIR/ID.secret (mode 0600; keep it secret, it is never overwritten)\n"
                "and DIR/ID.pub (the public member card to give the roster admins).\n"
                "ID is one of:\n"
                "  CC             a state: its ISO 3166-1 alpha-2 code, two upper-case\n"
                "                 letters (EE, FR)\n"
                "  broker.NAME    a broker\n"
                "  auditor.NAME   an auditor (reads logs)\n"
                "  admin.NAME     an admin who is not a state (signs rosters only)\n"
                "  relay.NAME     a relay (bridges a feed and the bus)\n"
                "NAME is letters, digits, '.', '_' and '-', starting with a letter or\n"
                "digit; the whole id at most 63 characters. The role follows from the id;\n"
                "--role, if given, must be that one (" CDX_ROLE_NAMES ").\n\n"
                "Exit codes: 0 written; 64 usage (an id or role not as above); 73 DIR/ID.secret\n"
                "or DIR/ID.pub exists already; 74 DIR cannot be made or written; 70 internal\n"
                "error.\n",
                s_usage);
            return CLI_OK;
        default: return cli_usage("keygen", s_usage, "bad option");
        }
    }
    if (!id || !dir || optind != argc)
        return cli_usage("keygen", s_usage, "--id and --out are required");
    cdx_role role = s_role_of(id);
    if (role == CDX_ROLE_UNSPECIFIED)
        return cli_usage("keygen", s_usage,
                         "'%s' is not a member id: a state's ISO 3166-1 alpha-2 code (two "
                         "upper-case letters, e.g. EE), broker.NAME, auditor.NAME, admin.NAME or "
                         "relay.NAME",
                         id);
    cdx_role asked;
    if (role_name && cdx_role_parse(role_name, &asked) != CDX_OK)
        return cli_usage("keygen", s_usage, "unknown role '%s': one of " CDX_ROLE_NAMES, role_name);
    if (role_name && asked != role)
        return cli_usage(
            "keygen", s_usage, "'%s' is %s %s's id, not %s %s's", id,
            role == CDX_ROLE_AUDITOR || role == CDX_ROLE_ADMIN ? "an" : "a", cdx_role_name(role),
            asked == CDX_ROLE_AUDITOR || asked == CDX_ROLE_ADMIN ? "an" : "a", role_name);

    cdx_errbuf eb = {0};
    cdx_err rc = cli_mkdirs(dir, 0700, &eb);
    if (rc != CDX_OK)
        return cli_fail("keygen", rc, &eb);
    cdx_identity *ident = NULL;
    rc = cdx_identity_generate(&ident, id, role);
    if (rc == CDX_OK)
        rc = cdx_identity_save(ident, dir, &eb);
    if (rc == CDX_OK)
        printf("%s (%s): secret key %s/%s.secret, member card %s/%s.pub\n", id, cdx_role_name(role),
               dir, id, dir, id);
    cdx_identity_destroy(&ident);
    return rc == CDX_OK ? CLI_OK : cli_fail("keygen", rc, &eb);
}
