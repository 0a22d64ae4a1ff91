/* libFuzzer target: decode -> encode -> decode stability. Whatever the
 * decoder accepts must encode; the encoding must decode again to a message
 * that encodes to the very same bytes; and a message without tolerated
 * oddities (reserved bits, info slack) must encode back to its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char first[DYNMEM_PROTO_MSG_SIZE_MAX], second[DYNMEM_PROTO_MSG_SIZE_MAX];
    struct dynmem_proto_msg a = DYNMEM_PROTO_MSG_INIT, b = DYNMEM_PROTO_MSG_INIT;
    if (dynmem_proto_decode(&a, data, size, 0, NULL))
        return 0;

    ptrdiff_t n1 = dynmem_proto_encode(first, sizeof first, &a, 0);
    REQUIRE(n1 >= 8);
    REQUIRE(dynmem_proto_decode(&b, first, (size_t)n1, 0, NULL) == DYNMEM_OK);
    REQUIRE(b.type == a.type && b.trans_id == a.trans_id);
    REQUIRE((b.flags & (DYNMEM_PROTO_FLAG_RESERVED_BITS | DYNMEM_PROTO_FLAG_INFO_SLACK)) == 0);
    REQUIRE((b.flags & DYNMEM_PROTO_FLAG_UNKNOWN_VERSION) ==
            (a.flags & DYNMEM_PROTO_FLAG_UNKNOWN_VERSION));

    ptrdiff_t n2 = dynmem_proto_encode(second, sizeof second, &b, 0);
    REQUIRE(n2 == n1 && memcmp(first, second, (size_t)n1) == 0);

    if (!(a.flags & (DYNMEM_PROTO_FLAG_RESERVED_BITS | DYNMEM_PROTO_FLAG_INFO_SLACK)))
        REQUIRE((size_t)n1 == size && memcmp(first, data, size) == 0);
    return 0;
}
