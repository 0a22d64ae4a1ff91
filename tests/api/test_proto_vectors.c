/* The published test vectors of the Dynamic Memory wire format (bytes
 * produced outside this library, once with Python's struct module and once
 * from packed C structs) must decode to the message they describe and
 * encode back to exactly the same bytes. Public API only. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "hexbytes.h"
#include "msgcmp.h"

static void check_vector(const char *hex, const struct dynmem_proto_msg *want)
{
    unsigned char wire[DYNMEM_PROTO_MSG_SIZE_MAX], out[DYNMEM_PROTO_MSG_SIZE_MAX];
    long n = dump_unhex(wire, sizeof wire, hex);
    cr_assert_gt(n, 0, "bad vector text");

    struct dynmem_proto_msg got = DYNMEM_PROTO_MSG_INIT;
    cr_assert_eq(dynmem_proto_decode(&got, wire, (size_t)n, 0, NULL), DYNMEM_OK);
    const char *diff = msg_diff(&got, want);
    cr_assert_null(diff, "decoded message differs in %s", diff);
    cr_assert_eq(got.length, n);
    cr_assert_eq(got.flags, 0, "a vector has no reserved bits set");

    cr_assert_eq(dynmem_proto_encoded_size(want, 0), n);
    cr_assert_eq(dynmem_proto_encode(out, sizeof out, want, 0), n);
    cr_assert_arr_eq(out, wire, (size_t)n, "encoding the described message");
    memset(out, 0xa5, sizeof out);
    cr_assert_eq(dynmem_proto_encode(out, sizeof out, &got, 0), n);
    cr_assert_arr_eq(out, wire, (size_t)n, "re-encoding the decoded message");
}

static struct dynmem_proto_msg msg(uint16_t type, uint32_t trans_id)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = type;
    m.trans_id = trans_id;
    return m;
}

Test(vectors, v01_version_request_win10)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_VERSION_REQUEST, 7);
    m.body.version_request.version = DYNMEM_PROTO_VERSION_WIN10;
    check_vector("01 00 10 00 07 00 00 00 00 00 02 00 00 00 00 00", &m);
}

Test(vectors, v02_version_request_win7_last)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_VERSION_REQUEST, 9);
    m.body.version_request.version = DYNMEM_PROTO_VERSION_WIN7;
    m.body.version_request.is_last_attempt = true;
    check_vector("01 00 10 00 09 00 00 00 03 00 00 00 01 00 00 00", &m);
}

Test(vectors, v03_version_response_accepted)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_VERSION_RESPONSE, 7);
    m.body.version_response.is_accepted = true;
    check_vector("02 00 10 00 07 00 00 00 01 00 00 00 00 00 00 00", &m);
}

Test(vectors, v04_capabilities_report)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_CAPABILITIES_REPORT, 8);
    m.body.caps_report.balloon = true;
    m.body.caps_report.hot_add = true;
    m.body.caps_report.hot_add_alignment = 7;
    m.body.caps_report.max_page_number = UINT64_MAX;
    check_vector("03 00 20 00 08 00 00 00 1f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                 " ff ff ff ff ff ff ff ff", &m);
}

Test(vectors, v05_capabilities_response_qemu)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_CAPABILITIES_RESPONSE, 8);
    m.body.caps_response.is_accepted = true;
    m.body.caps_response.hot_remove = true;
    check_vector("04 00 10 00 08 00 00 00 03 00 00 00 00 00 00 00", &m);
}

Test(vectors, v06_status_report)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_STATUS_REPORT, 100);
    m.body.status_report.num_avail = 262144;
    m.body.status_report.num_committed = 524288;
    check_vector("05 00 30 00 64 00 00 00 00 00 04 00 00 00 00 00 00 00 08 00 00 00 00 00"
                 " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", &m);
}

Test(vectors, v07_balloon_request)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_BALLOON_REQUEST, 3);
    m.body.balloon_request.num_pages = 585728;
    check_vector("06 00 10 00 03 00 00 00 00 f0 08 00 00 00 00 00", &m);
}

Test(vectors, v08_balloon_response_two_ranges)
{
    static const struct dynmem_proto_range r[] = {{0x12345, 512}, {0x200000, 1}};
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_BALLOON_RESPONSE, 11);
    m.body.balloon_response.more_pages = true;
    m.body.balloon_response.ranges.unpacked = r;
    m.body.balloon_response.ranges.count = 2;
    check_vector("07 00 20 00 0b 00 00 00 00 00 00 00 05 00 00 00 45 23 01 00 00 00 02 00"
                 " 00 00 20 00 00 01 00 00", &m);
}

Test(vectors, v08b_balloon_response_empty)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_BALLOON_RESPONSE, 12);
    check_vector("07 00 10 00 0c 00 00 00 00 00 00 00 00 00 00 00", &m);
}

Test(vectors, v09_unballoon_request)
{
    static const struct dynmem_proto_range r[] = {{0x140000, 524288}};
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_UNBALLOON_REQUEST, 4);
    m.body.unballoon_request.more_pages = true;
    m.body.unballoon_request.ranges.unpacked = r;
    m.body.unballoon_request.ranges.count = 1;
    check_vector("08 00 18 00 04 00 00 00 01 00 00 00 01 00 00 00 00 00 14 00 00 00 00 08", &m);
}

Test(vectors, v10_unballoon_response)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_UNBALLOON_RESPONSE, 12);
    check_vector("09 00 08 00 0c 00 00 00", &m);
}

static struct dynmem_proto_msg hot_add(uint32_t trans_id, uint64_t start, uint64_t count,
                                       bool region)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_HOT_ADD_REQUEST, trans_id);
    struct dynmem_proto_range r = {start, count};
    m.body.hot_add_request.range = r;
    m.body.hot_add_request.has_region = region;
    if (region)
        m.body.hot_add_request.region = r;
    return m;
}

Test(vectors, v11_hot_add_with_region)
{
    struct dynmem_proto_msg m = hot_add(5, 0x100000, 32768, true);
    check_vector("0a 00 18 00 05 00 00 00 00 00 10 00 00 00 80 00 00 00 10 00 00 00 80 00", &m);
}

Test(vectors, v11b_hot_add_range_only)
{
    struct dynmem_proto_msg m = hot_add(5, 0x100000, 32768, false);
    check_vector("0a 00 10 00 05 00 00 00 00 00 10 00 00 00 80 00", &m);
}

Test(vectors, v11c_hot_add_qemu_chunk)
{
    struct dynmem_proto_msg m = hot_add(0, 0x800000, 524288, true);
    check_vector("0a 00 18 00 00 00 00 00 00 00 80 00 00 00 00 08 00 00 80 00 00 00 00 08", &m);
}

Test(vectors, v12_hot_add_response)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_HOT_ADD_RESPONSE, 13);
    m.body.hot_add_response.page_count = 32768;
    m.body.hot_add_response.result = 1;
    check_vector("0b 00 10 00 0d 00 00 00 00 80 00 00 01 00 00 00", &m);
}

Test(vectors, v13_info_max_page_count)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_INFO_MESSAGE, 0);
    m.body.info_message.info_type = DYNMEM_PROTO_INFO_MAX_PAGE_COUNT;
    m.body.info_message.data_size = 8;
    m.body.info_message.max_page_count = 524288;
    check_vector("0c 00 20 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 08 00 00 00"
                 " 00 00 08 00 00 00 00 00", &m);
}

Test(vectors, v14_hot_remove_request)
{
    struct dynmem_proto_msg m = msg(DYNMEM_PROTO_HOT_REMOVE_REQUEST, 6);
    m.body.hot_remove_request.page_count = 1024;
    m.body.hot_remove_request.qos_flags = DYNMEM_PROTO_REMOVE_QOS_LARGE;
    check_vector("0d 00 18 00 06 00 00 00 00 00 00 00 00 04 00 00 01 00 00 00 00 00 00 00", &m);
}

Test(vectors, range_decoding_check)
{
    struct dynmem_proto_range r;
    dynmem_proto_range_unpack(&r, UINT64_C(0x0002000000012345));
    cr_assert_eq(r.start_page, 0x12345);
    cr_assert_eq(r.page_count, 512);
    uint64_t packed = 0;
    cr_assert_eq(dynmem_proto_range_pack(&packed, 0x12345, 512), DYNMEM_OK);
    cr_assert_eq(packed, UINT64_C(0x0002000000012345));
}
