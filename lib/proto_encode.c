/* The encoder, in two passes: measure_* validates a message and computes its
 * exact wire size without writing, write_* then fills a buffer known to be
 * large enough. The buffer is zeroed first, so every reserved bit and field
 * goes out as zero without each writer having to remember it. */
#include <string.h>

#include <dynmem/proto.h>

#include "proto_wire.h"
#include "struct_abi.h"

static int check_range(const struct dynmem_proto_range *r)
{
    uint64_t packed;
    return dynmem_proto_range_pack(&packed, r->start_page, r->page_count);
}

/* Size of a ranged message, or an error; unpacked ranges are checked one by
 * one here so that the write pass cannot fail. */
static ptrdiff_t measure_ranges(const struct dynmem_proto_ranges *r, size_t fixed, unsigned type)
{
    if (r->count > dynmem__proto_ranges_max(type))
        return DYNMEM_ERR_PROTO_TOO_MANY_RANGES;
    if (r->count && (r->packed != NULL) == (r->unpacked != NULL))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    for (uint32_t i = 0; r->unpacked && i < r->count; i++) {
        int rc = check_range(&r->unpacked[i]);
        if (rc)
            return rc;
    }
    return (ptrdiff_t)(fixed + (size_t)r->count * DYNMEM__PROTO_RANGE_SIZE);
}

static ptrdiff_t measure_blob(const unsigned char *data, uint32_t size, size_t fixed)
{
    if (size && !data)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (size > DYNMEM_PROTO_MSG_SIZE_MAX - fixed)
        return DYNMEM_ERR_PROTO_TOO_LARGE;
    return (ptrdiff_t)(fixed + size);
}

static ptrdiff_t measure_info(const struct dynmem_proto_info_message *b)
{
    const size_t record = DYNMEM__PROTO_SIZE_INFO + DYNMEM__PROTO_INFO_RECORD_HEADER;
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT)
        return b->data_size == 8 ? (ptrdiff_t)(record + 8) : DYNMEM_ERR_PROTO_BAD_FIELD;
    return measure_blob(b->data, b->data_size, record);
}

static ptrdiff_t measure_hot_add(const struct dynmem_proto_hot_add_request *b)
{
    int rc = check_range(&b->range);
    if (!rc && b->has_region)
        rc = check_range(&b->region);
    if (rc)
        return rc;
    return b->has_region ? DYNMEM__PROTO_SIZE_HOT_ADD_REGION : DYNMEM__PROTO_SIZE_HOT_ADD_SHORT;
}

static ptrdiff_t measure(const struct dynmem_proto_msg *m)
{
    const union dynmem_proto_body *b = &m->body;
    switch (m->type) {
    case DYNMEM_PROTO_ERROR:
        return measure_blob(b->error.payload, b->error.payload_size, DYNMEM_PROTO_HEADER_SIZE);
    case DYNMEM_PROTO_VERSION_REQUEST:
        return DYNMEM__PROTO_SIZE_VERSION_REQUEST;
    case DYNMEM_PROTO_VERSION_RESPONSE:
        return DYNMEM__PROTO_SIZE_VERSION_RESPONSE;
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        return b->caps_report.hot_add_alignment > DYNMEM_PROTO_ALIGNMENT_MAX ? DYNMEM_ERR_PROTO_BAD_FIELD
                                                     : (ptrdiff_t)DYNMEM__PROTO_SIZE_CAPS_REPORT;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        return DYNMEM__PROTO_SIZE_CAPS_RESPONSE;
    case DYNMEM_PROTO_STATUS_REPORT:
        return DYNMEM__PROTO_SIZE_STATUS_REPORT;
    case DYNMEM_PROTO_BALLOON_REQUEST:
        return DYNMEM__PROTO_SIZE_BALLOON_REQUEST;
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        return measure_ranges(&b->balloon_response.ranges, DYNMEM__PROTO_SIZE_BALLOON_RESPONSE,
                              m->type);
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        return measure_ranges(&b->unballoon_request.ranges, DYNMEM__PROTO_SIZE_UNBALLOON_REQUEST,
                              m->type);
    case DYNMEM_PROTO_UNBALLOON_RESPONSE:
        return DYNMEM__PROTO_SIZE_UNBALLOON_RESPONSE;
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        return measure_hot_add(&b->hot_add_request);
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        return DYNMEM__PROTO_SIZE_HOT_ADD_RESPONSE;
    case DYNMEM_PROTO_INFO_MESSAGE:
        return measure_info(&b->info_message);
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        return b->hot_remove_request.qos_flags & ~(uint32_t)3 ? DYNMEM_ERR_PROTO_BAD_FIELD
                                                              : (ptrdiff_t)DYNMEM__PROTO_SIZE_HOT_REMOVE_REQUEST;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        return measure_ranges(&b->hot_remove_response.ranges,
                              DYNMEM__PROTO_SIZE_HOT_REMOVE_RESPONSE, m->type);
    default:
        return DYNMEM_ERR_PROTO_UNKNOWN_TYPE;
    }
}

static void write_range(unsigned char *p, const struct dynmem_proto_range *r)
{
    dynmem__put64(p, r->start_page | r->page_count << 40);
}

static void write_ranges(unsigned char *p, const struct dynmem_proto_ranges *r)
{
    if (r->packed) {
        memcpy(p, r->packed, (size_t)r->count * DYNMEM__PROTO_RANGE_SIZE);
        return;
    }
    for (uint32_t i = 0; i < r->count; i++)
        write_range(p + (size_t)i * DYNMEM__PROTO_RANGE_SIZE, &r->unpacked[i]);
}

static void write_blob(unsigned char *p, const unsigned char *data, uint32_t size)
{
    if (size)
        memcpy(p, data, size);
}

static void write_caps_report(unsigned char *p, const struct dynmem_proto_caps_report *b)
{
    uint64_t caps = (uint64_t)b->hot_add_alignment << DYNMEM_PROTO_CAP_ALIGNMENT_SHIFT;
    if (b->balloon)
        caps |= DYNMEM_PROTO_CAP_BALLOON;
    if (b->hot_add)
        caps |= DYNMEM_PROTO_CAP_HOT_ADD;
    if (b->hot_remove)
        caps |= DYNMEM_PROTO_CAP_HOT_REMOVE;
    dynmem__put64(p + 8, caps);
    dynmem__put64(p + 16, b->min_page_count);
    dynmem__put64(p + 24, b->max_page_number);
}

static void write_caps_response(unsigned char *p, const struct dynmem_proto_caps_response *b)
{
    uint64_t word = 0;
    if (b->is_accepted)
        word |= DYNMEM_PROTO_CAPS_ACCEPTED;
    if (b->hot_remove)
        word |= DYNMEM_PROTO_CAPS_HOT_REMOVE;
    if (b->suppress_pressure_reports)
        word |= DYNMEM_PROTO_CAPS_SUPPRESS_PRESSURE_REPORTS;
    dynmem__put64(p + 8, word);
}

static void write_status_report(unsigned char *p, const struct dynmem_proto_status_report *b)
{
    dynmem__put64(p + 8, b->num_avail);
    dynmem__put64(p + 16, b->num_committed);
    dynmem__put64(p + 24, b->page_file_size);
    dynmem__put64(p + 32, b->zero_free);
    dynmem__put32(p + 40, b->page_file_writes);
    dynmem__put32(p + 44, b->io_diff);
}

static void write_info(unsigned char *p, const struct dynmem_proto_info_message *b)
{
    dynmem__put32(p + 12, DYNMEM__PROTO_INFO_RECORD_HEADER + b->data_size);
    dynmem__put32(p + 16, b->info_type);
    dynmem__put32(p + 20, b->data_size);
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT)
        dynmem__put64(p + 24, b->max_page_count);
    else
        write_blob(p + 24, b->data, b->data_size);
}

static void write_hot_add(unsigned char *p, const struct dynmem_proto_hot_add_request *b)
{
    write_range(p + 8, &b->range);
    if (b->has_region)
        write_range(p + 16, &b->region);
}

static void write_hot_remove_request(unsigned char *p,
                                     const struct dynmem_proto_hot_remove_request *b)
{
    dynmem__put32(p + 8, b->virtual_node);
    dynmem__put32(p + 12, b->page_count);
    dynmem__put32(p + 16, b->qos_flags);
}

static void write_body(unsigned char *p, const struct dynmem_proto_msg *m)
{
    const union dynmem_proto_body *b = &m->body;
    switch (m->type) {
    case DYNMEM_PROTO_ERROR:
        write_blob(p + 8, b->error.payload, b->error.payload_size);
        break;
    case DYNMEM_PROTO_VERSION_REQUEST:
        dynmem__put32(p + 8, b->version_request.version);
        dynmem__put32(p + 12, b->version_request.is_last_attempt ? 1u : 0u);
        break;
    case DYNMEM_PROTO_VERSION_RESPONSE:
        dynmem__put64(p + 8, b->version_response.is_accepted ? 1u : 0u);
        break;
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        write_caps_report(p, &b->caps_report);
        break;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        write_caps_response(p, &b->caps_response);
        break;
    case DYNMEM_PROTO_STATUS_REPORT:
        write_status_report(p, &b->status_report);
        break;
    case DYNMEM_PROTO_BALLOON_REQUEST:
        dynmem__put32(p + 8, b->balloon_request.num_pages);
        break;
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        dynmem__put32(p + 12, b->balloon_response.ranges.count << 1 |
                                  (b->balloon_response.more_pages ? 1u : 0u));
        write_ranges(p + 16, &b->balloon_response.ranges);
        break;
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        dynmem__put32(p + 8, b->unballoon_request.more_pages ? 1u : 0u);
        dynmem__put32(p + 12, b->unballoon_request.ranges.count);
        write_ranges(p + 16, &b->unballoon_request.ranges);
        break;
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        write_hot_add(p, &b->hot_add_request);
        break;
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        dynmem__put32(p + 8, b->hot_add_response.page_count);
        dynmem__put32(p + 12, b->hot_add_response.result);
        break;
    case DYNMEM_PROTO_INFO_MESSAGE:
        write_info(p, &b->info_message);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        write_hot_remove_request(p, &b->hot_remove_request);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        dynmem__put32(p + 8, b->hot_remove_response.result);
        dynmem__put32(p + 12, b->hot_remove_response.ranges.count);
        dynmem__put64(p + 16, b->hot_remove_response.more_pages ? 1u : 0u);
        write_ranges(p + 24, &b->hot_remove_response.ranges);
        break;
    default: /* unreachable: measure() refused it */
        break;
    }
}

/* Where each type's known fields end inside the body union. A later API
 * version may append fields to a body inside the union's padding without
 * changing sizeof, so the size prefix cannot reveal them: instead, bytes past
 * the known end must be zero, and an older library refuses a message that
 * sets a field it does not know rather than silently dropping it. */
#define BODY_END(m) DYNMEM__END_OF(union dynmem_proto_body, m)
static const size_t body_known_end[DYNMEM__PROTO_TYPE_LAST + 1] = {
    BODY_END(error.payload_size),
    BODY_END(version_request.is_last_attempt),
    BODY_END(version_response.is_accepted),
    BODY_END(caps_report.max_page_number),
    BODY_END(caps_response.suppress_pressure_reports),
    BODY_END(status_report.io_diff),
    BODY_END(balloon_request.num_pages),
    BODY_END(balloon_response.ranges),
    BODY_END(unballoon_request.ranges),
    0, /* unballoon response: no body */
    BODY_END(hot_add_request.region),
    BODY_END(hot_add_response.result),
    BODY_END(info_message.data),
    BODY_END(hot_remove_request.qos_flags),
    BODY_END(hot_remove_response.ranges),
};

static int body_tail_is_zero(const struct dynmem_proto_msg *m)
{
    const unsigned char *b = (const unsigned char *)&m->body;
    for (size_t i = body_known_end[m->type]; i < sizeof m->body; i++)
        if (b[i])
            return 0;
    return 1;
}

ptrdiff_t dynmem_proto_encoded_size(const struct dynmem_proto_msg *msg, uint32_t version)
{
    if (!msg)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__struct_check(msg, msg->size, DYNMEM__PROTO_MSG_SIZE_MIN, sizeof *msg);
    if (rc)
        return rc;
    if (msg->type > DYNMEM__PROTO_TYPE_LAST)
        return dynmem__proto_type_allowed(0, version) ? DYNMEM_ERR_INVALID_ARGUMENT
                                                       : DYNMEM_ERR_PROTO_UNKNOWN_TYPE;
    rc = dynmem__proto_type_allowed(msg->type, version);
    if (rc)
        return rc;
    if (!body_tail_is_zero(msg))
        return DYNMEM_ERR_STRUCT_RESERVED;
    return measure(msg);
}

ptrdiff_t dynmem_proto_encode(void *buf, size_t cap, const struct dynmem_proto_msg *msg,
                              uint32_t version)
{
    if (!buf && cap)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    ptrdiff_t size = dynmem_proto_encoded_size(msg, version);
    if (size < 0)
        return size;
    if ((size_t)size > cap)
        return DYNMEM_ERR_BUFFER_TOO_SMALL;
    unsigned char *p = buf;
    memset(p, 0, (size_t)size);
    dynmem__put16(p, msg->type);
    dynmem__put16(p + 2, (uint16_t)size);
    dynmem__put32(p + 4, msg->trans_id);
    write_body(p, msg);
    return size;
}
