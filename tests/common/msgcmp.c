#include "msgcmp.h"

#include <string.h>

static const char *ranges_diff(const struct dynmem_proto_ranges *a,
                               const struct dynmem_proto_ranges *b)
{
    if (a->count != b->count)
        return "range count";
    for (uint32_t i = 0; i < a->count; i++) {
        struct dynmem_proto_range ra, rb;
        if (dynmem_proto_ranges_get(&ra, a, i) || dynmem_proto_ranges_get(&rb, b, i))
            return "range list unreadable";
        if (ra.start_page != rb.start_page || ra.page_count != rb.page_count)
            return "range element";
    }
    return NULL;
}

static int blob_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static const char *info_diff(const struct dynmem_proto_info_message *a,
                             const struct dynmem_proto_info_message *b)
{
    if (a->info_type != b->info_type || a->data_size != b->data_size)
        return "info record type or size";
    if (a->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT)
        return a->max_page_count == b->max_page_count ? NULL : "max_page_count";
    return blob_equal(a->data, b->data, a->data_size) ? NULL : "info data";
}

static int range_eq(const struct dynmem_proto_range *a, const struct dynmem_proto_range *b)
{
    return a->start_page == b->start_page && a->page_count == b->page_count;
}

static const char *hot_add_diff(const struct dynmem_proto_hot_add_request *a,
                                const struct dynmem_proto_hot_add_request *b)
{
    if (!range_eq(&a->range, &b->range) || a->has_region != b->has_region)
        return "hot-add range";
    return !a->has_region || range_eq(&a->region, &b->region) ? NULL : "hot-add region";
}

/* Field by field: the struct has padding that memcmp would compare. */
static const char *caps_report_diff(const struct dynmem_proto_caps_report *a,
                                    const struct dynmem_proto_caps_report *b)
{
    if (a->balloon != b->balloon || a->hot_add != b->hot_add || a->hot_remove != b->hot_remove)
        return "capability bits";
    if (a->hot_add_alignment != b->hot_add_alignment)
        return "hot_add_alignment";
    if (a->min_page_count != b->min_page_count || a->max_page_number != b->max_page_number)
        return "capability page figures";
    return NULL;
}

/* Bodies without padding compare as bytes. */
#define SAME(field) (memcmp(&a->body.field, &b->body.field, sizeof a->body.field) == 0)

const char *msg_diff(const struct dynmem_proto_msg *a, const struct dynmem_proto_msg *b)
{
    if (a->type != b->type)
        return "type";
    if (a->trans_id != b->trans_id)
        return "trans_id";
    const union dynmem_proto_body *x = &a->body, *y = &b->body;
    switch (a->type) {
    case DYNMEM_PROTO_ERROR:
        if (x->error.payload_size != y->error.payload_size)
            return "payload size";
        return blob_equal(x->error.payload, y->error.payload, x->error.payload_size) ? NULL
                                                                                      : "payload";
    case DYNMEM_PROTO_VERSION_REQUEST:
        return x->version_request.version == y->version_request.version &&
                       x->version_request.is_last_attempt == y->version_request.is_last_attempt
                   ? NULL : "version request";
    case DYNMEM_PROTO_VERSION_RESPONSE:
        return SAME(version_response) ? NULL : "version response";
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        return caps_report_diff(&x->caps_report, &y->caps_report);
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        return SAME(caps_response) ? NULL : "capabilities response";
    case DYNMEM_PROTO_STATUS_REPORT:
        return SAME(status_report) ? NULL : "status report";
    case DYNMEM_PROTO_BALLOON_REQUEST:
        return SAME(balloon_request) ? NULL : "balloon request";
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        if (x->balloon_response.more_pages != y->balloon_response.more_pages)
            return "more_pages";
        return ranges_diff(&x->balloon_response.ranges, &y->balloon_response.ranges);
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        if (x->unballoon_request.more_pages != y->unballoon_request.more_pages)
            return "more_pages";
        return ranges_diff(&x->unballoon_request.ranges, &y->unballoon_request.ranges);
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        return hot_add_diff(&x->hot_add_request, &y->hot_add_request);
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        return SAME(hot_add_response) ? NULL : "hot-add response";
    case DYNMEM_PROTO_INFO_MESSAGE:
        return info_diff(&x->info_message, &y->info_message);
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        return SAME(hot_remove_request) ? NULL : "hot-remove request";
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        if (x->hot_remove_response.result != y->hot_remove_response.result ||
            x->hot_remove_response.more_pages != y->hot_remove_response.more_pages)
            return "hot-remove response";
        return ranges_diff(&x->hot_remove_response.ranges, &y->hot_remove_response.ranges);
    default:
        return NULL;
    }
}
