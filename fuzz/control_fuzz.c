/* libFuzzer target: a request on the node's control socket (from the
 * cydex command, a relay, or anything that can open the socket), as the
 * node reads it before acting (node/control_parse.c). The input is the
 * message's frames, each [length (2 bytes, big-endian)][bytes], the first
 * the routing id. Nothing may crash or leak; a request that reads is of
 * its verb; a refusal says why; a publish's alert exports to JSON that
 * reads back to the same alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../node/control_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdx_msg m = {0};
    size_t at = 0;
    while (m.n < CDX_MSG_MAX_FRAMES && at + 2 <= size) {
        size_t len = (size_t)data[at] << 8 | data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        /* A copy of each frame, exactly its size, as the transport hands
         * them over: reads past a frame's end are seen. */
        m.frame[m.n].data = malloc(len ? len : 1);
        if (!m.frame[m.n].data)
            abort();
        memcpy(m.frame[m.n].data, data + at, len);
        m.frame[m.n++].len = len;
        at += len;
    }
    node_request r;
    cdx_errbuf eb = {0};
    cdx_err rc = node_request_parse(&r, &m, &eb);
    if (r.verb != node_request_verb(&m))
        abort();
    if (rc != CDX_OK && rc != CDX_ERR_NOMEM && !eb.msg[0]) {
        fprintf(stderr, "control: a refusal that does not say why\n");
        abort();
    }
    if (rc == CDX_OK && r.verb == NODE_VERB_UNKNOWN)
        abort();
    if (rc == CDX_OK && r.verb == NODE_VERB_PUBLISH) {
        char *j1 = NULL, *j2 = NULL;
        cdx_alert again;
        bool named;
        if (cdx_json_from_alert(&j1, &r.alert, false) != CDX_OK ||
            cdx_json_to_alert_named(&again, &named, j1, strlen(j1), NULL) != CDX_OK ||
            cdx_json_from_alert(&j2, &again, false) != CDX_OK || strcmp(j1, j2) != 0) {
            fprintf(stderr, "control: a published alert does not read back\n");
            abort();
        }
        cdx_alert_clear(&again);
        free(j1);
        free(j2);
        /* The recipients, split as the node splits them. */
        char *save = NULL;
        for (char *id = strtok_r(r.to, ",", &save); id; id = strtok_r(NULL, ",", &save))
            (void)cdx_id_valid(id);
    }
    node_request_clear(&r);
    cdx_msg_clear(&m);
    return 0;
}
