/* The codec's refusals: arguments, framing, stream mode, version gating,
 * reserved-bit flags, encoder limits and the range accessors. The data
 * corpus (tests/proto) covers each decode error on real bytes; this file
 * covers what needs code to set up. Public API only. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "hexbytes.h"

static const char status_hex[] =
    "05 00 30 00 64 00 00 00 00 00 04 00 00 00 00 00 00 00 08 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";
static const char unballoon_resp_hex[] = "09 00 08 00 0c 00 00 00";

static size_t wire(unsigned char *buf, const char *hex)
{
    long n = dump_unhex(buf, DYNMEM_PROTO_MSG_SIZE_MAX * 2, hex);
    cr_assert_geq(n, 0);
    return (size_t)n;
}

Test(decode, arguments)
{
    unsigned char b[64];
    size_t n = wire(b, unballoon_resp_hex);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    cr_assert_eq(dynmem_proto_decode(NULL, b, n, 0, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_decode(&m, NULL, n, 0, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0x00010001, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_decode(&m, NULL, 0, 0, NULL), DYNMEM_ERR_PROTO_TRUNCATED);
    m.size = 40;
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_ERR_STRUCT_SIZE);
}

Test(decode, refusal_leaves_message_untouched)
{
    unsigned char b[64];
    size_t n = wire(b, status_hex);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT, before;
    m.trans_id = 1234;
    before = m;
    cr_assert_eq(dynmem_proto_decode(&m, b, n - 8, 0, NULL), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(memcmp(&m, &before, sizeof m), 0);
    b[2] = 0x28; /* size 40: wrong for a status report */
    cr_assert_eq(dynmem_proto_decode(&m, b, n - 8, 0, NULL), DYNMEM_ERR_PROTO_BAD_SIZE);
    cr_assert_eq(memcmp(&m, &before, sizeof m), 0);
}

Test(decode, stream_mode_reports_needed_and_used)
{
    unsigned char b[128];
    size_t n = wire(b, status_hex);
    n += wire(b + n, unballoon_resp_hex);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    size_t len = 0;

    cr_assert_eq(dynmem_proto_decode(&m, b, 3, 0, &len), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(len, 8, "header incomplete: 8 bytes needed");
    cr_assert_eq(dynmem_proto_decode(&m, b, 20, 0, &len), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(len, 48, "header complete: its size is needed");

    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_ERR_PROTO_TRAILING_BYTES);
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, &len), DYNMEM_OK);
    cr_assert_eq(len, 48);
    cr_assert_eq(m.type, DYNMEM_PROTO_STATUS_REPORT);
    cr_assert_eq(dynmem_proto_decode(&m, b + len, n - len, 0, &len), DYNMEM_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(m.type, DYNMEM_PROTO_UNBALLOON_RESPONSE);
}

Test(decode, version_gating)
{
    unsigned char info[64], remove[64];
    size_t ni = wire(info, "0c 00 20 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 08 00 00 00"
                           " 00 00 08 00 00 00 00 00");
    size_t nr = wire(remove, "0d 00 18 00 06 00 00 00 00 00 00 00 00 04 00 00 01 00 00 00 00 00 00 00");
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    cr_assert_eq(dynmem_proto_decode(&m, info, ni, DYNMEM_PROTO_VERSION_WIN7, NULL),
                 DYNMEM_ERR_PROTO_VERSION);
    cr_assert_eq(dynmem_proto_decode(&m, info, ni, DYNMEM_PROTO_VERSION_WIN8, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_proto_decode(&m, remove, nr, DYNMEM_PROTO_VERSION_WIN8, NULL),
                 DYNMEM_ERR_PROTO_VERSION);
    cr_assert_eq(dynmem_proto_decode(&m, remove, nr, DYNMEM_PROTO_VERSION_WIN10, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_proto_encode(info, sizeof info, &m, DYNMEM_PROTO_VERSION_WIN8),
                 DYNMEM_ERR_PROTO_VERSION);
}

Test(decode, reserved_bits_are_tolerated_and_flagged)
{
    unsigned char b[64];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    /* QEMU-style capabilities response with every bit set. */
    size_t n = wire(b, "04 00 10 00 08 00 00 00 ff ff ff ff ff ff ff ff");
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_OK);
    cr_assert(m.body.caps_response.is_accepted && m.body.caps_response.hot_remove &&
              m.body.caps_response.suppress_pressure_reports);
    cr_assert_eq(m.flags, DYNMEM_PROTO_FLAG_RESERVED_BITS);
    /* Bits 0..2 only: nothing reserved. */
    n = wire(b, "04 00 10 00 08 00 00 00 07 00 00 00 00 00 00 00");
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_OK);
    cr_assert_eq(m.flags, 0);
    /* Re-encoding drops the reserved bits. */
    n = wire(b, "06 00 10 00 03 00 00 00 00 f0 08 00 ee 00 00 00");
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_OK);
    cr_assert_eq(m.flags, DYNMEM_PROTO_FLAG_RESERVED_BITS);
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), 16);
    cr_assert_eq(b[12], 0);
}

Test(decode, unknown_version_is_flagged_not_refused)
{
    unsigned char b[32];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    size_t n = wire(b, "01 00 10 00 01 00 00 00 00 00 03 00 00 00 00 00");
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_OK);
    cr_assert_eq(m.body.version_request.version, DYNMEM_PROTO_VERSION(3, 0));
    cr_assert_eq(m.flags, DYNMEM_PROTO_FLAG_UNKNOWN_VERSION);
}

Test(decode, info_slack_is_flagged)
{
    unsigned char b[64];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    size_t n = wire(b, "0c 00 20 00 00 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 08 00 00 00"
                       " 00 00 08 00 00 00 00 00");
    cr_assert_eq(dynmem_proto_decode(&m, b, n, 0, NULL), DYNMEM_OK);
    cr_assert_eq(m.flags, DYNMEM_PROTO_FLAG_INFO_SLACK);
    cr_assert_eq(m.body.info_message.max_page_count, 524288);
}

Test(decode, larger_caller_struct_gets_zeroed_tail)
{
    unsigned char b[64];
    size_t n = wire(b, unballoon_resp_hex);
    union {
        struct dynmem_proto_msg m;
        unsigned char bytes[sizeof(struct dynmem_proto_msg) + 16];
    } big;
    memset(&big, 0xcc, sizeof big);
    big.m.size = sizeof big;
    cr_assert_eq(dynmem_proto_decode(&big.m, b, n, 0, NULL), DYNMEM_OK);
    for (size_t i = sizeof big.m; i < sizeof big; i++)
        cr_assert_eq(big.bytes[i], 0);
    cr_assert_eq(big.m.size, sizeof big);
}

Test(encode, buffer_too_small_writes_nothing)
{
    unsigned char b[16];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_STATUS_REPORT;
    memset(b, 0x5a, sizeof b);
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_BUFFER_TOO_SMALL);
    for (size_t i = 0; i < sizeof b; i++)
        cr_assert_eq(b[i], 0x5a);
    cr_assert_eq(dynmem_proto_encode(NULL, 0, &m, 0), DYNMEM_ERR_BUFFER_TOO_SMALL);
    cr_assert_eq(dynmem_proto_encode(NULL, 4, &m, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_encoded_size_max(), DYNMEM_PROTO_MSG_SIZE_MAX);
}

Test(encode, field_limits)
{
    unsigned char b[DYNMEM_PROTO_MSG_SIZE_MAX];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
    m.body.caps_report.hot_add_alignment = 16;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_FIELD);
    m.type = DYNMEM_PROTO_HOT_REMOVE_REQUEST;
    memset(&m.body, 0, sizeof m.body);
    m.body.hot_remove_request.qos_flags = 4;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_FIELD);
    m.type = DYNMEM_PROTO_INFO_MESSAGE;
    memset(&m.body, 0, sizeof m.body);
    m.body.info_message.data_size = 4; /* max page count needs 8 */
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_FIELD);
    m.body.info_message.info_type = 7;
    m.body.info_message.data = b;
    m.body.info_message.data_size = DYNMEM_PROTO_MSG_SIZE_MAX - 23;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_TOO_LARGE);
    m.type = DYNMEM_PROTO_ERROR;
    memset(&m.body, 0, sizeof m.body);
    m.body.error.payload_size = 4;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    m.type = 15;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_UNKNOWN_TYPE);
}

Test(encode, range_limits)
{
    static struct dynmem_proto_range r[DYNMEM_PROTO_RANGES_MAX + 1];
    static unsigned char packed[8 * (DYNMEM_PROTO_RANGES_MAX + 1)];
    unsigned char b[DYNMEM_PROTO_MSG_SIZE_MAX];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    struct dynmem_proto_ranges *l = &m.body.balloon_response.ranges;
    l->unpacked = r;
    l->count = DYNMEM_PROTO_RANGES_MAX + 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_TOO_MANY_RANGES);
    l->count = 2;
    r[1].start_page = DYNMEM_PROTO_RANGE_START_MAX + 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_RANGE);
    r[1].start_page = 0;
    r[1].page_count = DYNMEM_PROTO_RANGE_COUNT_MAX + 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_RANGE);
    l->packed = packed;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_INVALID_ARGUMENT,
                 "both sources set");
    l->unpacked = NULL;
    l->packed = NULL;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_INVALID_ARGUMENT,
                 "no source");
    m.type = DYNMEM_PROTO_HOT_REMOVE_RESPONSE;
    m.body.hot_remove_response.ranges.packed = packed;
    m.body.hot_remove_response.ranges.count = DYNMEM_PROTO_RANGES_MAX;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_TOO_MANY_RANGES,
                 "a hot-remove response holds one range fewer");
    m.type = DYNMEM_PROTO_HOT_ADD_REQUEST;
    memset(&m.body, 0, sizeof m.body);
    m.body.hot_add_request.has_region = true;
    m.body.hot_add_request.region.page_count = DYNMEM_PROTO_RANGE_COUNT_MAX + 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_PROTO_BAD_RANGE);
}

Test(encode, size_prefix)
{
    unsigned char b[64];
    union {
        struct dynmem_proto_msg m;
        unsigned char bytes[sizeof(struct dynmem_proto_msg) + 8];
    } big;
    memset(&big, 0, sizeof big);
    big.m.size = sizeof big;
    big.m.type = DYNMEM_PROTO_UNBALLOON_RESPONSE;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &big.m, 0), 8, "zero unknown tail is fine");
    big.bytes[sizeof big.m + 3] = 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &big.m, 0), DYNMEM_ERR_STRUCT_RESERVED);
    big.m.size = 12;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &big.m, 0), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem_proto_encoded_size(NULL, 0), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(encode, unknown_body_bytes_are_refused)
{
    unsigned char b[64];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_REQUEST;
    m.body.balloon_request.num_pages = 9;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), 16);
    /* A field a newer API might append to the balloon request. */
    m.body.reserved_[1] = 1;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_STRUCT_RESERVED);
    /* Left over from a longer body: same refusal, until the body is zeroed. */
    m.body.reserved_[1] = 0;
    m.body.hot_add_request.region.page_count = 5;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), DYNMEM_ERR_STRUCT_RESERVED);
    m.type = DYNMEM_PROTO_HOT_ADD_REQUEST;
    cr_assert_eq(dynmem_proto_encode(b, sizeof b, &m, 0), 16, "region ignored without has_region");
}

Test(helpers, msg_init_and_names)
{
    struct dynmem_proto_msg m;
    memset(&m, 0xff, sizeof m);
    cr_assert_eq(dynmem_proto_msg_init(&m, sizeof m), DYNMEM_OK);
    cr_assert_eq(m.size, sizeof m);
    cr_assert_eq(m.type, 0);
    cr_assert_eq(m.body.reserved_[7], 0);
    cr_assert_eq(dynmem_proto_msg_init(&m, 8), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem_proto_msg_init(NULL, sizeof m), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_str_eq(dynmem_proto_type_name(DYNMEM_PROTO_BALLOON_RESPONSE), "BALLOON_RESPONSE");
    cr_assert_str_eq(dynmem_proto_type_name(0), "ERROR");
    cr_assert_str_eq(dynmem_proto_type_name(15), "unknown");
    cr_assert_null(dynmem_proto_msg_ranges(&m));
    cr_assert_null(dynmem_proto_msg_ranges(NULL));
    m.type = DYNMEM_PROTO_UNBALLOON_REQUEST;
    cr_assert_eq(dynmem_proto_msg_ranges(&m), &m.body.unballoon_request.ranges);
    cr_assert_eq(DYNMEM_PROTO_VERSION_MAJOR(DYNMEM_PROTO_VERSION_WIN8), 1);
    cr_assert_eq(DYNMEM_PROTO_VERSION_MINOR(DYNMEM_PROTO_VERSION_WIN7), 3);
}

Test(helpers, range_accessors)
{
    unsigned char b[64];
    size_t n = wire(b, "07 00 20 00 0b 00 00 00 00 00 00 00 05 00 00 00 45 23 01 00 00 00 02 00"
                       " 00 00 20 00 00 01 00 00");
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    /* Decode from an odd address: the accessor must not need alignment. */
    unsigned char odd[80];
    memcpy(odd + 1, b, n);
    cr_assert_eq(dynmem_proto_decode(&m, odd + 1, n, 0, NULL), DYNMEM_OK);
    const struct dynmem_proto_ranges *l = dynmem_proto_msg_ranges(&m);
    struct dynmem_proto_range r[4];
    cr_assert_eq(dynmem_proto_ranges_get(&r[0], l, 1), DYNMEM_OK);
    cr_assert_eq(r[0].start_page, 0x200000);
    cr_assert_eq(r[0].page_count, 1);
    cr_assert_eq(dynmem_proto_ranges_get(&r[0], l, 2), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_proto_ranges_get(NULL, l, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_ranges_copy(r, 4, l, 0), 2);
    cr_assert_eq(r[0].start_page, 0x12345);
    cr_assert_eq(r[0].page_count, 512);
    cr_assert_eq(dynmem_proto_ranges_copy(r, 1, l, 1), 1);
    cr_assert_eq(r[0].start_page, 0x200000);
    cr_assert_eq(dynmem_proto_ranges_copy(r, 4, l, 2), 0);
    cr_assert_eq(dynmem_proto_ranges_copy(r, 4, l, 3), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_proto_ranges_copy(NULL, 4, l, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_proto_ranges_copy(NULL, 0, l, 0), 0, "nothing asked, nothing copied");
    struct dynmem_proto_ranges empty = {NULL, NULL, 0};
    cr_assert_eq(dynmem_proto_ranges_copy(r, 4, &empty, 0), 0);
    uint64_t packed = 7;
    cr_assert_eq(dynmem_proto_range_pack(&packed, DYNMEM_PROTO_RANGE_START_MAX + 1, 0),
                 DYNMEM_ERR_PROTO_BAD_RANGE);
    cr_assert_eq(packed, 7);
    cr_assert_eq(dynmem_proto_range_pack(NULL, 0, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    dynmem_proto_range_unpack(NULL, 0);
}
