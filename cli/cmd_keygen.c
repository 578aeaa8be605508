/* cydex keygen: a member's key files. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char s_usage[] =
    "cydex keygen --id ID [--role state|broker|auditor|admin|relay] --out DIR";

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
            printf("usage: %s\n\n"
                   "Writes DIR/ID.secret (mode 0600; keep it secret, it is never overwritten)\n"
                   "and DIR/ID.pub (the public member card to give the roster admins).\n"
                   "ID is a state's ISO 3166-1 alpha-2 code (EE) or broker.NAME; the role\n"
                   "defaults to broker for broker.* ids and to state otherwise.\n",
                   s_usage);
            return CLI_OK;
        default: return cli_usage("keygen", s_usage, "bad option");
        }
    }
    if (!id || !dir || optind != argc)
        return cli_usage("keygen", s_usage, "--id and --out are required");
    if (!cdx_id_valid(id))
        return cli_usage("keygen", s_usage,
                         "'%s' is not a member id (letters, digits, '.', '_', '-'; 63 at most)",
                         id);
    cdx_role role = strncmp(id, "broker.", 7) == 0 ? CDX_ROLE_BROKER : CDX_ROLE_STATE;
    if (role_name && cdx_role_parse(role_name, &role) != CDX_OK)
        return cli_usage("keygen", s_usage, "unknown role '%s'", role_name);

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
