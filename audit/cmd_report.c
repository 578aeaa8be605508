/* cydex-audit diff / report: placeholders until their turn, so that the
 * tool's list of commands is complete and says honestly what is missing. */
#include "audit.h"

int cmd_audit_diff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "cydex-audit diff: not implemented yet\n");
    return CLI_SOFTWARE;
}

int cmd_audit_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "cydex-audit report: not implemented yet\n");
    return CLI_SOFTWARE;
}
