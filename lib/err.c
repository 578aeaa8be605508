/* Error codes and their text. The tables are indexed by cdx_err and must
 * list every code in order; err_test.c checks that none is missing. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static const struct {
    const char *name;
    const char *text;
} s_errors[CDX_ERR__COUNT] = {
    [CDX_OK] = {"ok", "success"},
    [CDX_ERR_NOMEM] = {"nomem", "out of memory"},
    [CDX_ERR_INVALID] = {"invalid", "invalid argument"},
    [CDX_ERR_IO] = {"io", "input/output error"},
    [CDX_ERR_NOENT] = {"noent", "no such file or entry"},
    [CDX_ERR_EXISTS] = {"exists", "already exists; refusing to overwrite"},
    [CDX_ERR_KEY_PERMS] = {"key-perms", "secret key file is readable by group or others"},
    [CDX_ERR_FORMAT] = {"malformed", "malformed input"},
    [CDX_ERR_TOO_BIG] = {"oversize", "larger than the allowed size"},
    [CDX_ERR_VERSION] = {"version", "unsupported version"},
    [CDX_ERR_BAD_SIGNATURE] = {"bad-signature", "signature does not verify"},
    [CDX_ERR_UNKNOWN_SENDER] = {"unknown-sender", "signer is not in the roster"},
    [CDX_ERR_KEY_REVOKED] = {"key-revoked", "signed after the key was revoked"},
    [CDX_ERR_KEY_NOT_VALID] = {"key-not-valid", "signed outside the key's validity"},
    [CDX_ERR_SENDER_MISMATCH] = {"sender-mismatch", "body sender differs from the signer"},
    [CDX_ERR_TOPIC_MISMATCH] = {"topic-mismatch", "topic frame differs from the signed topic"},
    [CDX_ERR_CLOCK_SKEW] = {"clock-skew", "sent time outside the clock-skew window"},
    [CDX_ERR_POLICY] = {"policy", "breaks a TLP or role rule"},
    [CDX_ERR_NOT_RECIPIENT] = {"not-recipient", "not addressed to this key"},
    [CDX_ERR_DECRYPT] = {"decrypt", "sealed content fails authentication"},
    [CDX_ERR_THRESHOLD] = {"threshold", "fewer admin signatures than the threshold"},
    [CDX_ERR_DUPLICATE_SIGNER] = {"duplicate-signer", "the same admin signed twice"},
    [CDX_ERR_ROLLBACK] = {"rollback", "roster version is not higher than the current one"},
    [CDX_ERR_UNSUPPORTED] = {"unsupported", "not supported by this version"},
    [CDX_ERR_CRYPTO] = {"crypto", "crypto library failed to initialise"},
    [CDX_ERR_FULL] = {"log-full", "the log reached its maximum size"},
    [CDX_ERR_NOSPACE] = {"no-space", "no space left on the device"},
    [CDX_ERR_CORRUPT] = {"corrupt", "stored data is damaged or was tampered with"},
    [CDX_ERR_TIMEOUT] = {"timeout", "nothing arrived in time"},
    [CDX_ERR_STOPPED] = {"stopped", "the transport is shutting down"},
    [CDX_ERR_BUSY] = {"busy", "held by another process"},
    [CDX_ERR_NONCANONICAL] = {"non-canonical", "signed bytes are not in the canonical encoding"},
    [CDX_ERR_TLP_NOT_SEALED] = {"tlp-not-sealed",
                                "a TLP:AMBER, AMBER+STRICT or RED alert must be sealed to named "
                                "recipients"},
    [CDX_ERR_TLP_SEALED_BELOW_AMBER] = {"tlp-sealed-below-amber",
                                        "a TLP:CLEAR or GREEN alert goes to everyone and is never "
                                        "sealed"},
    [CDX_ERR_WRONG_TOPIC] = {"wrong-topic", "the topic is not the one for this payload"},
};

const char *cdx_strerror(cdx_err err)
{
    if ((unsigned)err >= CDX_ERR__COUNT || !s_errors[err].text)
        return "unknown error";
    return s_errors[err].text;
}

const char *cdx_errname(cdx_err err)
{
    if ((unsigned)err >= CDX_ERR__COUNT || !s_errors[err].name)
        return "unknown";
    return s_errors[err].name;
}

const char *cdx_errbuf_msg(const cdx_errbuf *eb, cdx_err code)
{
    if (eb && eb->code == code && eb->msg[0])
        return eb->msg;
    return cdx_strerror(code);
}

cdx_err cdx_errf(cdx_errbuf *eb, cdx_err code, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        eb->code = code;
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
