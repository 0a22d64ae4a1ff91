/* The decoder. The order of checks is part of the contract (docs/protocol.md,
 * "Error handling"): framing first (is there a whole message?), then the
 * type, then the type's own layout. Each body decoder is handed exactly the
 * message's bytes, `n` of them, and checks `n` before its first read. */
#include <string.h>

#include <dynmem/proto.h>

#include "proto_wire.h"
#include "struct_abi.h"

typedef int (*body_decoder)(struct dynmem_proto_msg *m, const unsigned char *p, size_t n);

static void note_reserved(struct dynmem_proto_msg *m, uint64_t reserved)
{
    if (reserved)
        m->flags |= DYNMEM_PROTO_FLAG_RESERVED_BITS;
}

/* A range array of `count` entries must fill the message exactly after its
 * fixed part: a longer message would hide bytes, a shorter one would make us
 * read past it. */
static int take_ranges(struct dynmem_proto_ranges *r, const unsigned char *p, size_t n,
                       size_t fixed, uint32_t count, unsigned type)
{
    if (count > dynmem__proto_ranges_max(type))
        return DYNMEM_ERR_PROTO_TOO_MANY_RANGES;
    if (n != fixed + (size_t)count * DYNMEM__PROTO_RANGE_SIZE)
        return DYNMEM_ERR_PROTO_RANGE_COUNT;
    r->packed = count ? p + fixed : NULL;
    r->unpacked = NULL;
    r->count = count;
    return DYNMEM_OK;
}

static int decode_error(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    m->body.error.payload = n > DYNMEM_PROTO_HEADER_SIZE ? p + DYNMEM_PROTO_HEADER_SIZE : NULL;
    m->body.error.payload_size = (uint32_t)(n - DYNMEM_PROTO_HEADER_SIZE);
    return DYNMEM_OK;
}

static int decode_version_request(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_VERSION_REQUEST)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    uint32_t version = dynmem__le32(p + 8);
    uint32_t word = dynmem__le32(p + 12);
    m->body.version_request.version = version;
    m->body.version_request.is_last_attempt = word & 1;
    note_reserved(m, word >> 1);
    if (version != DYNMEM_PROTO_VERSION_WIN7 && version != DYNMEM_PROTO_VERSION_WIN8 &&
        version != DYNMEM_PROTO_VERSION_WIN10)
        m->flags |= DYNMEM_PROTO_FLAG_UNKNOWN_VERSION;
    return DYNMEM_OK;
}

static int decode_version_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_VERSION_RESPONSE)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    uint64_t word = dynmem__le64(p + 8);
    m->body.version_response.is_accepted = word & 1;
    note_reserved(m, word >> 1);
    return DYNMEM_OK;
}

static int decode_caps_report(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_CAPS_REPORT)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    struct dynmem_proto_caps_report *b = &m->body.caps_report;
    uint64_t caps = dynmem__le64(p + 8);
    b->balloon = (caps & DYNMEM_PROTO_CAP_BALLOON) != 0;
    b->hot_add = (caps & DYNMEM_PROTO_CAP_HOT_ADD) != 0;
    b->hot_add_alignment =
        (uint8_t)((caps & DYNMEM_PROTO_CAP_ALIGNMENT_MASK) >> DYNMEM_PROTO_CAP_ALIGNMENT_SHIFT);
    b->hot_remove = (caps & DYNMEM_PROTO_CAP_HOT_REMOVE) != 0;
    b->min_page_count = dynmem__le64(p + 16);
    b->max_page_number = dynmem__le64(p + 24);
    note_reserved(m, caps >> 7);
    return DYNMEM_OK;
}

static int decode_caps_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_CAPS_RESPONSE)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    uint64_t word = dynmem__le64(p + 8);
    m->body.caps_response.is_accepted = (word & DYNMEM_PROTO_CAPS_ACCEPTED) != 0;
    m->body.caps_response.hot_remove = (word & DYNMEM_PROTO_CAPS_HOT_REMOVE) != 0;
    m->body.caps_response.suppress_pressure_reports =
        (word & DYNMEM_PROTO_CAPS_SUPPRESS_PRESSURE_REPORTS) != 0;
    note_reserved(m, word >> 3);
    return DYNMEM_OK;
}

static int decode_status_report(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_STATUS_REPORT)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    struct dynmem_proto_status_report *b = &m->body.status_report;
    b->num_avail = dynmem__le64(p + 8);
    b->num_committed = dynmem__le64(p + 16);
    b->page_file_size = dynmem__le64(p + 24);
    b->zero_free = dynmem__le64(p + 32);
    b->page_file_writes = dynmem__le32(p + 40);
    b->io_diff = dynmem__le32(p + 44);
    return DYNMEM_OK;
}

static int decode_balloon_request(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_BALLOON_REQUEST)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    m->body.balloon_request.num_pages = dynmem__le32(p + 8);
    note_reserved(m, dynmem__le32(p + 12));
    return DYNMEM_OK;
}

/* Balloon response: more_pages is bit 0 of the word at 12, the count its
 * other 31 bits. */
static int decode_balloon_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n < DYNMEM__PROTO_SIZE_BALLOON_RESPONSE)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    uint32_t word = dynmem__le32(p + 12);
    m->body.balloon_response.more_pages = word & 1;
    note_reserved(m, dynmem__le32(p + 8));
    return take_ranges(&m->body.balloon_response.ranges, p, n,
                       DYNMEM__PROTO_SIZE_BALLOON_RESPONSE, word >> 1, m->type);
}

/* Unballoon request: more_pages is bit 0 of the word at 8, the count a whole
 * word at 12 (unlike the balloon response). */
static int decode_unballoon_request(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n < DYNMEM__PROTO_SIZE_UNBALLOON_REQUEST)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    uint32_t word = dynmem__le32(p + 8);
    m->body.unballoon_request.more_pages = word & 1;
    note_reserved(m, word >> 1);
    return take_ranges(&m->body.unballoon_request.ranges, p, n,
                       DYNMEM__PROTO_SIZE_UNBALLOON_REQUEST, dynmem__le32(p + 12), m->type);
}

static int decode_unballoon_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    (void)m;
    (void)p;
    return n == DYNMEM__PROTO_SIZE_UNBALLOON_RESPONSE ? DYNMEM_OK : DYNMEM_ERR_PROTO_BAD_SIZE;
}

static int decode_hot_add_request(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    struct dynmem_proto_hot_add_request *b = &m->body.hot_add_request;
    if (n != DYNMEM__PROTO_SIZE_HOT_ADD_SHORT && n != DYNMEM__PROTO_SIZE_HOT_ADD_REGION)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    b->range = dynmem__range_unpack(dynmem__le64(p + 8));
    b->has_region = n == DYNMEM__PROTO_SIZE_HOT_ADD_REGION;
    if (b->has_region)
        b->region = dynmem__range_unpack(dynmem__le64(p + 16));
    return DYNMEM_OK;
}

static int decode_hot_add_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_HOT_ADD_RESPONSE)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    m->body.hot_add_response.page_count = dynmem__le32(p + 8);
    m->body.hot_add_response.result = dynmem__le32(p + 12);
    return DYNMEM_OK;
}

/* Info message: the blob after the 16-byte fixed part holds records of
 * {type u32, data_size u32, data}. Only the first is decoded (the only one
 * known to be sent); its data must lie inside the message. How hosts fill
 * info_size is unverified, so a mismatch is flagged, not refused. */
static int decode_info_message(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    const size_t record = DYNMEM__PROTO_SIZE_INFO + DYNMEM__PROTO_INFO_RECORD_HEADER;
    struct dynmem_proto_info_message *b = &m->body.info_message;
    if (n < record)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    b->info_size = dynmem__le32(p + 12);
    b->info_type = dynmem__le32(p + 16);
    b->data_size = dynmem__le32(p + 20);
    if (b->data_size > n - record)
        return DYNMEM_ERR_PROTO_BAD_INFO;
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT && b->data_size != 8)
        return DYNMEM_ERR_PROTO_BAD_INFO;
    b->data = b->data_size ? p + record : NULL;
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT)
        b->max_page_count = dynmem__le64(p + record);
    note_reserved(m, dynmem__le32(p + 8));
    if (b->info_size != n - DYNMEM__PROTO_SIZE_INFO || record + b->data_size != n)
        m->flags |= DYNMEM_PROTO_FLAG_INFO_SLACK;
    return DYNMEM_OK;
}

static int decode_hot_remove_request(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n != DYNMEM__PROTO_SIZE_HOT_REMOVE_REQUEST)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    struct dynmem_proto_hot_remove_request *b = &m->body.hot_remove_request;
    b->virtual_node = dynmem__le32(p + 8);
    b->page_count = dynmem__le32(p + 12);
    uint32_t qos = dynmem__le32(p + 16);
    b->qos_flags = qos & (DYNMEM_PROTO_REMOVE_QOS_LARGE | DYNMEM_PROTO_REMOVE_QOS_LOCAL);
    note_reserved(m, (qos ^ b->qos_flags) | dynmem__le32(p + 20));
    return DYNMEM_OK;
}

/* Hot-remove response: the count is a whole word at 12, more_pages bit 0 of
 * the 64-bit word at 16, ranges from 24. */
static int decode_hot_remove_response(struct dynmem_proto_msg *m, const unsigned char *p, size_t n)
{
    if (n < DYNMEM__PROTO_SIZE_HOT_REMOVE_RESPONSE)
        return DYNMEM_ERR_PROTO_BAD_SIZE;
    struct dynmem_proto_hot_remove_response *b = &m->body.hot_remove_response;
    uint64_t word = dynmem__le64(p + 16);
    b->result = dynmem__le32(p + 8);
    b->more_pages = word & 1;
    note_reserved(m, word >> 1);
    return take_ranges(&b->ranges, p, n, DYNMEM__PROTO_SIZE_HOT_REMOVE_RESPONSE,
                       dynmem__le32(p + 12), m->type);
}

static const body_decoder decoders[DYNMEM__PROTO_TYPE_LAST + 1] = {
    decode_error,           decode_version_request,   decode_version_response,
    decode_caps_report,     decode_caps_response,     decode_status_report,
    decode_balloon_request, decode_balloon_response,  decode_unballoon_request,
    decode_unballoon_response, decode_hot_add_request, decode_hot_add_response,
    decode_info_message,    decode_hot_remove_request, decode_hot_remove_response,
};

/* Framing: is there exactly (or, in stream mode, at least) one whole message
 * of a plausible size at the start of the buffer? */
static int check_frame(const unsigned char *p, size_t len, size_t *length, size_t *out_size)
{
    if (len < DYNMEM_PROTO_HEADER_SIZE) {
        if (length)
            *length = DYNMEM_PROTO_HEADER_SIZE;
        return DYNMEM_ERR_PROTO_TRUNCATED;
    }
    size_t size = dynmem__le16(p + 2);
    if (size < DYNMEM_PROTO_HEADER_SIZE)
        return DYNMEM_ERR_PROTO_HEADER_SIZE;
    if (size > DYNMEM_PROTO_MSG_SIZE_MAX)
        return DYNMEM_ERR_PROTO_TOO_LARGE;
    if (size > len) {
        if (length)
            *length = size;
        return DYNMEM_ERR_PROTO_TRUNCATED;
    }
    if (!length && size < len)
        return DYNMEM_ERR_PROTO_TRAILING_BYTES;
    *out_size = size;
    return DYNMEM_OK;
}

int dynmem_proto_decode(struct dynmem_proto_msg *msg, const void *buf, size_t len,
                        uint32_t version, size_t *length)
{
    if (!msg || (!buf && len) || dynmem__proto_type_allowed(0, version))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(msg, DYNMEM__PROTO_MSG_SIZE_MIN);
    if (rc)
        return rc;

    const unsigned char *p = buf;
    size_t size = 0;
    rc = check_frame(p, len, length, &size);
    if (rc)
        return rc;
    unsigned type = dynmem__le16(p);
    if (type > DYNMEM__PROTO_TYPE_LAST)
        return DYNMEM_ERR_PROTO_UNKNOWN_TYPE;
    rc = dynmem__proto_type_allowed(type, version);
    if (rc)
        return rc;

    /* Decode into a scratch copy so that a refused message leaves *msg
     * untouched, then hand over what fits the caller's declared size. */
    struct dynmem_proto_msg tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.size = msg->size;
    tmp.type = (uint16_t)type;
    tmp.length = (uint16_t)size;
    tmp.trans_id = dynmem__le32(p + 4);
    rc = decoders[type](&tmp, p, size);
    if (rc)
        return rc;
    dynmem__out_store(msg, &tmp, sizeof tmp);
    if (length)
        *length = size;
    return DYNMEM_OK;
}
