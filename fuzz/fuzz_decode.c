/* libFuzzer target: the decoder on arbitrary bytes, as a host receives them
 * from an untrusted guest. Besides the sanitizers' checks it asserts the
 * decoder's promises: packet mode accepts only a buffer that is exactly one
 * message, every range view lies inside the input, stream mode always makes
 * progress or asks for more than it has, and whatever decodes can be
 * measured for encoding. */
#include <stdint.h>
#include <stdlib.h>

#include <dynmem/dynmem.h>

#include "fuzz.h"

static const uint32_t versions[] = {0, DYNMEM_PROTO_VERSION_WIN7, DYNMEM_PROTO_VERSION_WIN8,
                                    DYNMEM_PROTO_VERSION_WIN10};

static void check_ranges(const struct dynmem_proto_msg *m, const uint8_t *data, size_t size)
{
    const struct dynmem_proto_ranges *l = dynmem_proto_msg_ranges(m);
    if (!l)
        return;
    REQUIRE(l->count <= DYNMEM_PROTO_RANGES_MAX);
    if (l->count) {
        REQUIRE(l->packed >= data && l->packed + (size_t)l->count * 8 <= data + size);
    }
    for (uint32_t i = 0; i < l->count; i++) {
        struct dynmem_proto_range r;
        REQUIRE(dynmem_proto_ranges_get(&r, l, i) == DYNMEM_OK);
        REQUIRE(r.start_page <= DYNMEM_PROTO_RANGE_START_MAX);
        REQUIRE(r.page_count <= DYNMEM_PROTO_RANGE_COUNT_MAX);
    }
}

static void packet_mode(const uint8_t *data, size_t size, uint32_t version)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    int rc = dynmem_proto_decode(&m, data, size, version, NULL);
    if (rc) {
        REQUIRE(rc <= -100 && rc >= -199);
        return;
    }
    REQUIRE(m.length == size && size >= 8 && size <= DYNMEM_PROTO_MSG_SIZE_MAX);
    check_ranges(&m, data, size);
    ptrdiff_t n = dynmem_proto_encoded_size(&m, version);
    REQUIRE(n >= 8 && n <= (ptrdiff_t)size);
}

static void stream_mode(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        size_t used = 0;
        int rc = dynmem_proto_decode(&m, data + off, size - off, 0, &used);
        if (rc == DYNMEM_ERR_PROTO_TRUNCATED) {
            REQUIRE(used > size - off && used <= DYNMEM_PROTO_MSG_SIZE_MAX);
            return;
        }
        if (rc)
            return;
        REQUIRE(used >= 8 && used <= size - off && used == m.length);
        check_ranges(&m, data + off, used);
        off += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        packet_mode(data, size, versions[i]);
    stream_mode(data, size);
    return 0;
}
