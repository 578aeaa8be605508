/* Every error code has its own name and text; the detail buffer wins over
 * the generic text only for the code it was filled for. */
#include <string.h>

#include "check.h"
#include "internal.h"

int main(void)
{
    for (int i = 0; i < CDX_ERR__COUNT; i++) {
        CHECK(strcmp(cdx_strerror((cdx_err)i), "unknown error") != 0);
        CHECK(strcmp(cdx_errname((cdx_err)i), "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(cdx_errname((cdx_err)i), cdx_errname((cdx_err)j)) != 0);
    }
    CHECK_STR(cdx_strerror(CDX_ERR__COUNT), "unknown error");
    CHECK_STR(cdx_errname(CDX_ERR_BAD_SIGNATURE), "bad-signature");
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_errf(&eb, CDX_ERR_FORMAT, "field %s", "tlp"), CDX_ERR_FORMAT);
    CHECK_STR(cdx_errbuf_msg(&eb, CDX_ERR_FORMAT), "field tlp");
    CHECK_STR(cdx_errbuf_msg(&eb, CDX_ERR_IO), cdx_strerror(CDX_ERR_IO));
    CHECK_STR(cdx_errbuf_msg(NULL, CDX_ERR_IO), cdx_strerror(CDX_ERR_IO));
    CHECK_EQ(cdx_errf(NULL, CDX_ERR_NOMEM, "ignored"), CDX_ERR_NOMEM);
    return check_done("err_test");
}
