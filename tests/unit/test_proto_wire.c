/* White-box tests of the codec's byte vocabulary (lib/proto_wire.h): the
 * little-endian loads and stores on odd addresses, range packing at the bit
 * boundaries, and the version and range-count rules. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto_wire.h"

Test(wire, loads_are_little_endian_and_unaligned)
{
    unsigned char buf[17];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(0xf0 + i);
    const unsigned char *odd = buf + 1;
    cr_assert_eq(dynmem__le16(odd), 0xf2f1);
    cr_assert_eq(dynmem__le32(odd), 0xf4f3f2f1u);
    cr_assert_eq(dynmem__le64(odd), UINT64_C(0xf8f7f6f5f4f3f2f1));
}

Test(wire, stores_round_trip)
{
    unsigned char buf[17];
    memset(buf, 0xee, sizeof buf);
    dynmem__put16(buf + 1, 0xbeef);
    dynmem__put32(buf + 3, 0xdeadbeefu);
    dynmem__put64(buf + 7, UINT64_C(0x0123456789abcdef));
    cr_assert_eq(buf[0], 0xee);
    cr_assert_eq(buf[1], 0xef);
    cr_assert_eq(buf[2], 0xbe);
    cr_assert_eq(dynmem__le32(buf + 3), 0xdeadbeefu);
    cr_assert_eq(buf[7], 0xef);
    cr_assert_eq(dynmem__le64(buf + 7), UINT64_C(0x0123456789abcdef));
    cr_assert_eq(buf[15], 0xee);
}

Test(wire, range_unpack_bit_boundaries)
{
    struct dynmem_proto_range r = dynmem__range_unpack(UINT64_MAX);
    cr_assert_eq(r.start_page, DYNMEM_PROTO_RANGE_START_MAX);
    cr_assert_eq(r.page_count, DYNMEM_PROTO_RANGE_COUNT_MAX);
    r = dynmem__range_unpack(UINT64_C(1) << 40);
    cr_assert_eq(r.start_page, 0);
    cr_assert_eq(r.page_count, 1);
    r = dynmem__range_unpack((UINT64_C(1) << 40) - 1);
    cr_assert_eq(r.start_page, DYNMEM_PROTO_RANGE_START_MAX);
    cr_assert_eq(r.page_count, 0);
}

Test(wire, version_rules)
{
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_STATUS_REPORT, 0), DYNMEM_OK);
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_STATUS_REPORT, DYNMEM_PROTO_VERSION_WIN7),
                 DYNMEM_OK);
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_INFO_MESSAGE, DYNMEM_PROTO_VERSION_WIN7),
                 DYNMEM_ERR_PROTO_VERSION);
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_INFO_MESSAGE, DYNMEM_PROTO_VERSION_WIN8),
                 DYNMEM_OK);
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_HOT_REMOVE_REQUEST,
                                            DYNMEM_PROTO_VERSION_WIN8),
                 DYNMEM_ERR_PROTO_VERSION);
    cr_assert_eq(dynmem__proto_type_allowed(DYNMEM_PROTO_HOT_REMOVE_RESPONSE,
                                            DYNMEM_PROTO_VERSION_WIN10),
                 DYNMEM_OK);
    cr_assert_eq(dynmem__proto_type_allowed(0, 0x00010001), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem__proto_type_allowed(0, 0x00030000), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(wire, range_capacity_fills_one_page)
{
    cr_assert_eq(dynmem__proto_ranges_max(DYNMEM_PROTO_BALLOON_RESPONSE), DYNMEM_PROTO_RANGES_MAX);
    cr_assert_eq(dynmem__proto_ranges_max(DYNMEM_PROTO_UNBALLOON_REQUEST), DYNMEM_PROTO_RANGES_MAX);
    cr_assert_eq(dynmem__proto_ranges_max(DYNMEM_PROTO_HOT_REMOVE_RESPONSE),
                 DYNMEM_PROTO_RANGES_MAX - 1);
    cr_assert_eq(DYNMEM__PROTO_SIZE_BALLOON_RESPONSE + 8 * DYNMEM_PROTO_RANGES_MAX,
                 DYNMEM_PROTO_MSG_SIZE_MAX);
}
