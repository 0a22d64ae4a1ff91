/* Decoded message -> JSON, with field names as the protocol spells them.
 * JSON integers are signed 64-bit in jansson, so an unsigned value above
 * INT64_MAX is written as a "0x..." string (dump_json_in.c reads both). */
#include <inttypes.h>
#include <string.h>

#include "dump.h"

static json_t *u64_json(uint64_t v)
{
    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof text, "0x%016" PRIx64, v);
    return json_string(text);
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, u64_json(v));
}

static void set_bool(json_t *o, const char *key, bool v)
{
    json_object_set_new(o, key, json_boolean(v));
}

static void set_hex(json_t *o, const char *key, const unsigned char *p, size_t n)
{
    char text[2 * DYNMEM_PROTO_MSG_SIZE_MAX + 1];
    dump_hex(text, p, n);
    json_object_set_new(o, key, json_string(text));
}

static json_t *range_json(const struct dynmem_proto_range *r)
{
    return json_pack("{s:o,s:o}", "start", u64_json(r->start_page), "count",
                     u64_json(r->page_count));
}

static void set_ranges(json_t *o, bool more_pages, const struct dynmem_proto_ranges *l)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < l->count; i++) {
        struct dynmem_proto_range r;
        dynmem_proto_ranges_get(&r, l, i);
        json_array_append_new(arr, range_json(&r));
    }
    set_bool(o, "more_pages", more_pages);
    set_u64(o, "range_count", l->count);
    json_object_set_new(o, "range_array", arr);
}

static void set_version(json_t *o, uint32_t v)
{
    char text[16];
    snprintf(text, sizeof text, "%" PRIu32 ".%" PRIu32, DYNMEM_PROTO_VERSION_MAJOR(v),
             DYNMEM_PROTO_VERSION_MINOR(v));
    json_object_set_new(o, "version", json_string(text));
}

static void caps_report_json(json_t *o, const struct dynmem_proto_caps_report *b)
{
    json_object_set_new(o, "caps",
                        json_pack("{s:b,s:b,s:i,s:b}", "balloon", b->balloon, "hot_add",
                                  b->hot_add, "hot_add_alignment", b->hot_add_alignment,
                                  "hot_remove", b->hot_remove));
    set_u64(o, "min_page_cnt", b->min_page_count);
    set_u64(o, "max_page_number", b->max_page_number);
}

static void status_json(json_t *o, const struct dynmem_proto_status_report *b)
{
    set_u64(o, "num_avail", b->num_avail);
    set_u64(o, "num_committed", b->num_committed);
    set_u64(o, "page_file_size", b->page_file_size);
    set_u64(o, "zero_free", b->zero_free);
    set_u64(o, "page_file_writes", b->page_file_writes);
    set_u64(o, "io_diff", b->io_diff);
}

static void info_json(json_t *o, const struct dynmem_proto_info_message *b)
{
    json_t *rec = json_pack("{s:I,s:I}", "type", (json_int_t)b->info_type, "data_size",
                            (json_int_t)b->data_size);
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT)
        set_u64(rec, "max_page_count", b->max_page_count);
    else
        set_hex(rec, "data", b->data, b->data_size);
    set_u64(o, "info_size", b->info_size);
    json_object_set_new(o, "info", rec);
}

static void hot_add_json(json_t *o, const struct dynmem_proto_hot_add_request *b)
{
    json_object_set_new(o, "range", range_json(&b->range));
    if (b->has_region)
        json_object_set_new(o, "region", range_json(&b->region));
}

static void body_json(json_t *o, const struct dynmem_proto_msg *m)
{
    const union dynmem_proto_body *b = &m->body;
    switch (m->type) {
    case DYNMEM_PROTO_ERROR:
        set_hex(o, "payload", b->error.payload, b->error.payload_size);
        break;
    case DYNMEM_PROTO_VERSION_REQUEST:
        set_version(o, b->version_request.version);
        set_bool(o, "is_last_attempt", b->version_request.is_last_attempt);
        break;
    case DYNMEM_PROTO_VERSION_RESPONSE:
        set_bool(o, "is_accepted", b->version_response.is_accepted);
        break;
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        caps_report_json(o, &b->caps_report);
        break;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        set_bool(o, "is_accepted", b->caps_response.is_accepted);
        set_bool(o, "hot_remove", b->caps_response.hot_remove);
        set_bool(o, "suppress_pressure_reports", b->caps_response.suppress_pressure_reports);
        break;
    case DYNMEM_PROTO_STATUS_REPORT:
        status_json(o, &b->status_report);
        break;
    case DYNMEM_PROTO_BALLOON_REQUEST:
        set_u64(o, "num_pages", b->balloon_request.num_pages);
        break;
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        set_ranges(o, b->balloon_response.more_pages, &b->balloon_response.ranges);
        break;
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        set_ranges(o, b->unballoon_request.more_pages, &b->unballoon_request.ranges);
        break;
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        hot_add_json(o, &b->hot_add_request);
        break;
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        set_u64(o, "page_count", b->hot_add_response.page_count);
        set_u64(o, "result", b->hot_add_response.result);
        break;
    case DYNMEM_PROTO_INFO_MESSAGE:
        info_json(o, &b->info_message);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        set_u64(o, "virtual_node", b->hot_remove_request.virtual_node);
        set_u64(o, "page_count", b->hot_remove_request.page_count);
        set_u64(o, "qos_flags", b->hot_remove_request.qos_flags);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        set_u64(o, "result", b->hot_remove_response.result);
        set_ranges(o, b->hot_remove_response.more_pages, &b->hot_remove_response.ranges);
        break;
    default: /* unballoon response: header only */
        break;
    }
}

json_t *dump_msg_to_json(const struct dynmem_proto_msg *msg, size_t index)
{
    json_t *o = json_pack("{s:I,s:s,s:i,s:I,s:i}", "index", (json_int_t)index, "type",
                          dynmem_proto_type_name(msg->type), "type_id", msg->type, "trans_id",
                          (json_int_t)msg->trans_id, "size", msg->length);
    if (!o)
        return NULL;
    body_json(o, msg);
    if (msg->flags & DYNMEM_PROTO_FLAG_RESERVED_BITS)
        set_bool(o, "reserved_bits", true);
    if (msg->flags & DYNMEM_PROTO_FLAG_UNKNOWN_VERSION)
        set_bool(o, "unknown_version", true);
    if (msg->flags & DYNMEM_PROTO_FLAG_INFO_SLACK)
        set_bool(o, "info_slack", true);
    return o;
}
