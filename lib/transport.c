/* The ZeroMQ door. For now it holds only the Z85 text form of CURVE keys,
 * which member cards use; sockets, CURVE and ZAP come with the daemons. */
#include <zmq.h>

#include "internal.h"

void cdx__z85_encode_key(char out[41], const uint8_t key[CDX_PK_BYTES])
{
    zmq_z85_encode(out, key, CDX_PK_BYTES);
}

cdx_err cdx__z85_decode_key(uint8_t key[CDX_PK_BYTES], const char *text)
{
    size_t n = 0;
    while (text && text[n] && n <= 40)
        n++;
    if (n != 40)
        return CDX_ERR_FORMAT;
    return zmq_z85_decode(key, text) ? CDX_OK : CDX_ERR_FORMAT;
}
