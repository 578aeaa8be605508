/* The names of the message enums as messages and --help list them
 * (CDX_TLP_NAMES and the others): each list holds exactly the names the
 * parser takes, in order, so that an error that says "one of ..." never
 * leaves one out or names one that is refused; and the JSON mapping's
 * refusal of an unknown name lists them. */
#include <string.h>

#include "check.h"
#include "cydex/cydex.h"

typedef const char *(*s_name_fn)(int v);

/* The names of values first..last, joined by ", ". */
static void s_join(char *out, size_t cap, s_name_fn name, int first, int last)
{
    out[0] = '\0';
    for (int v = first; v <= last; v++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", v == first ? "" : ", ", name(v));
    }
}

static const char *s_tlp(int v)
{
    return cdx_tlp_name((cdx_tlp)v);
}
static const char *s_severity(int v)
{
    return cdx_severity_name((cdx_severity)v);
}
static const char *s_status(int v)
{
    return cdx_status_name((cdx_alert_status)v);
}
static const char *s_msg_type(int v)
{
    return cdx_msg_type_name((cdx_msg_type)v);
}
static const char *s_stage(int v)
{
    return cdx_ack_stage_name((cdx_ack_stage)v);
}
static const char *s_role(int v)
{
    return cdx_role_name((cdx_role)v);
}

static void test_lists(void)
{
    char all[256];
    s_join(all, sizeof all, s_tlp, CDX_TLP_CLEAR, CDX_TLP_RED);
    CHECK_STR(all, CDX_TLP_NAMES);
    s_join(all, sizeof all, s_severity, CDX_SEVERITY_UNKNOWN, CDX_SEVERITY_EXTREME);
    CHECK_STR(all, CDX_SEVERITY_NAMES);
    s_join(all, sizeof all, s_status, CDX_STATUS_ACTUAL, CDX_STATUS_TEST);
    CHECK_STR(all, CDX_STATUS_NAMES);
    s_join(all, sizeof all, s_msg_type, CDX_MSG_ALERT, CDX_MSG_CANCEL);
    CHECK_STR(all, CDX_MSG_TYPE_NAMES);
    s_join(all, sizeof all, s_stage, CDX_ACK_RECEIVED, CDX_ACK_REJECTED);
    CHECK_STR(all, CDX_ACK_STAGE_NAMES);
    s_join(all, sizeof all, s_role, CDX_ROLE_STATE, CDX_ROLE_RELAY);
    CHECK_STR(all, CDX_ROLE_NAMES);
    /* and the parsers take each name listed, none past the last */
    cdx_tlp t;
    CHECK_EQ(cdx_tlp_parse("AMBER+STRICT", &t), CDX_OK);
    CHECK_EQ(cdx_tlp_parse("WHITE", &t), CDX_ERR_FORMAT);
    cdx_ack_stage st;
    CHECK_EQ(cdx_ack_stage_parse("assistance-offered", &st), CDX_OK);
    CHECK_EQ(cdx_ack_stage_parse("done", &st), CDX_ERR_FORMAT);
}

/* An alert with an unknown value: refused, naming the field and the
 * values it takes. */
static void test_json_lists(void)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"title\":\"t\",\"tlp\":\"WHITE\"}",
         "alert.tlp: unknown TLP label \"WHITE\" (one of " CDX_TLP_NAMES ")"},
        {"{\"title\":\"t\",\"tlp\":\"GREEN\",\"severity\":\"high\"}",
         "alert.severity: unknown severity \"high\" (one of " CDX_SEVERITY_NAMES ")"},
        {"{\"title\":\"t\",\"tlp\":\"GREEN\",\"status\":\"drill\"}",
         "alert.status: unknown status \"drill\" (one of " CDX_STATUS_NAMES ")"},
        {"{\"title\":\"t\",\"tlp\":\"GREEN\",\"msg_type\":\"retract\"}",
         "alert.msg_type: unknown message type \"retract\" (one of " CDX_MSG_TYPE_NAMES ")"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cdx_alert a;
        cdx_errbuf eb = {0};
        CHECK_EQ(cdx_json_to_alert(&a, cases[i].json, strlen(cases[i].json), &eb), CDX_ERR_FORMAT);
        CHECK_STR(eb.msg, cases[i].want);
    }
    static const char ack[] = "{\"alert_hash\":\"" /* 64 hex */
                              "0000000000000000000000000000000000000000000000000000000000000000"
                              "\",\"stage\":\"closed\"}";
    cdx_ack k;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_json_to_ack(&k, ack, strlen(ack), &eb), CDX_ERR_FORMAT);
    CHECK_STR(eb.msg, "ack.stage: unknown ack stage \"closed\" (one of " CDX_ACK_STAGE_NAMES ")");
}

int main(void)
{
    test_lists();
    test_json_lists();
    return check_done("message_test");
}
