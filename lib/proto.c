/* The codec's small helpers: message set-up, page-range packing, range list
 * access, type names and the version rules shared by encoder and decoder. */
#include <string.h>

#include <dynmem/proto.h>

#include "proto_wire.h"
#include "struct_abi.h"

_Static_assert(sizeof(struct dynmem_proto_msg) == DYNMEM__PROTO_MSG_SIZE_MIN,
               "struct dynmem_proto_msg changed size: ABI break");
_Static_assert(sizeof(union dynmem_proto_body) == 64,
               "a message body outgrew the union's reserved room");

/* Spelled as the enumerators of enum dynmem_proto_type, without their
 * DYNMEM_PROTO_ prefix (test_names checks it against the header). */
static const char *const type_names[] = {
    "ERROR",
    "VERSION_REQUEST",
    "VERSION_RESPONSE",
    "CAPABILITIES_REPORT",
    "CAPABILITIES_RESPONSE",
    "STATUS_REPORT",
    "BALLOON_REQUEST",
    "BALLOON_RESPONSE",
    "UNBALLOON_REQUEST",
    "UNBALLOON_RESPONSE",
    "HOT_ADD_REQUEST",
    "HOT_ADD_RESPONSE",
    "INFO_MESSAGE",
    "HOT_REMOVE_REQUEST",
    "HOT_REMOVE_RESPONSE",
};
_Static_assert(sizeof type_names / sizeof type_names[0] == DYNMEM__PROTO_TYPE_LAST + 1,
               "one name per message type");

const char *dynmem_proto_type_name(unsigned type)
{
    return type <= DYNMEM__PROTO_TYPE_LAST ? type_names[type] : "unknown";
}

int dynmem_proto_msg_init(struct dynmem_proto_msg *msg, size_t size)
{
    if (!msg)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (size < DYNMEM__PROTO_MSG_SIZE_MIN || size > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    memset(msg, 0, size);
    msg->size = (uint32_t)size;
    return DYNMEM_OK;
}

size_t dynmem_proto_encoded_size_max(void)
{
    return DYNMEM_PROTO_MSG_SIZE_MAX;
}

uint32_t dynmem__proto_ranges_max(unsigned type)
{
    uint32_t fixed = type == DYNMEM_PROTO_HOT_REMOVE_RESPONSE
                         ? DYNMEM__PROTO_SIZE_HOT_REMOVE_RESPONSE
                         : DYNMEM__PROTO_SIZE_BALLOON_RESPONSE;
    return (DYNMEM_PROTO_MSG_SIZE_MAX - fixed) / DYNMEM__PROTO_RANGE_SIZE;
}

int dynmem_proto_range_pack(uint64_t *out, uint64_t start_page, uint64_t page_count)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (start_page > DYNMEM_PROTO_RANGE_START_MAX || page_count > DYNMEM_PROTO_RANGE_COUNT_MAX)
        return DYNMEM_ERR_PROTO_BAD_RANGE;
    *out = start_page | page_count << 40;
    return DYNMEM_OK;
}

void dynmem_proto_range_unpack(struct dynmem_proto_range *out, uint64_t packed)
{
    if (out)
        *out = dynmem__range_unpack(packed);
}

/* A list is usable when it has exactly one source, or no elements at all. */
static int ranges_usable(const struct dynmem_proto_ranges *r)
{
    if (r->count == 0)
        return 1;
    return (r->packed != NULL) != (r->unpacked != NULL);
}

static struct dynmem_proto_range range_at(const struct dynmem_proto_ranges *r, uint32_t i)
{
    if (r->unpacked)
        return r->unpacked[i];
    return dynmem__range_unpack(dynmem__le64(r->packed + (size_t)i * DYNMEM__PROTO_RANGE_SIZE));
}

int dynmem_proto_ranges_get(struct dynmem_proto_range *out,
                            const struct dynmem_proto_ranges *ranges, uint32_t index)
{
    if (!out || !ranges || !ranges_usable(ranges))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (index >= ranges->count)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *out = range_at(ranges, index);
    return DYNMEM_OK;
}

ptrdiff_t dynmem_proto_ranges_copy(struct dynmem_proto_range *out, size_t cap,
                                   const struct dynmem_proto_ranges *ranges, uint32_t first)
{
    if ((!out && cap) || !ranges || !ranges_usable(ranges))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (first > ranges->count)
        return DYNMEM_ERR_OUT_OF_RANGE;
    size_t n = ranges->count - first;
    if (n > cap)
        n = cap;
    if (n == 0) /* out and the sources may all be NULL here */
        return 0;
    if (ranges->unpacked) {
        memcpy(out, ranges->unpacked + first, n * sizeof *out);
        return (ptrdiff_t)n;
    }
    /* The hot path of a host taking a balloon response: one load and two
     * masks per range, no call per element. */
    const unsigned char *p = ranges->packed + (size_t)first * DYNMEM__PROTO_RANGE_SIZE;
    for (size_t i = 0; i < n; i++)
        out[i] = dynmem__range_unpack(dynmem__le64(p + i * DYNMEM__PROTO_RANGE_SIZE));
    return (ptrdiff_t)n;
}

const struct dynmem_proto_ranges *dynmem_proto_msg_ranges(const struct dynmem_proto_msg *msg)
{
    if (!msg)
        return NULL;
    switch (msg->type) {
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        return &msg->body.balloon_response.ranges;
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        return &msg->body.unballoon_request.ranges;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        return &msg->body.hot_remove_response.ranges;
    default:
        return NULL;
    }
}

#define ALIGNMENT_UNIT_LOG2 20 /* the exponent counts MiB */

int dynmem_proto_alignment_bytes(unsigned exponent, uint64_t *bytes)
{
    if (!bytes)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (exponent > DYNMEM_PROTO_ALIGNMENT_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *bytes = UINT64_C(1) << (exponent + ALIGNMENT_UNIT_LOG2);
    return DYNMEM_OK;
}

int dynmem_proto_alignment_exponent(uint64_t bytes, unsigned *exponent)
{
    if (!exponent)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    for (unsigned e = 0; e <= DYNMEM_PROTO_ALIGNMENT_MAX; e++)
        if (bytes == UINT64_C(1) << (e + ALIGNMENT_UNIT_LOG2)) {
            *exponent = e;
            return DYNMEM_OK;
        }
    return DYNMEM_ERR_OUT_OF_RANGE;
}
