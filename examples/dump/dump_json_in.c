/* JSON -> message for --encode. Accepts exactly what dump_msg_to_json()
 * writes: keys it does not know for the type are refused (a typo must not
 * silently become a zero field), derived keys (index, size, flags) are
 * ignored, and missing fields default to zero/false. */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

struct ctx {
    char *why;
    size_t cap;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->cap, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const common_keys[] = {"index", "type", "type_id", "trans_id", "size",
                                          "reserved_bits", "unknown_version", "info_slack",
                                          NULL};
static const char *const *const type_keys[] = {
    (const char *const[]){"payload", NULL},
    (const char *const[]){"version", "is_last_attempt", NULL},
    (const char *const[]){"is_accepted", NULL},
    (const char *const[]){"caps", "min_page_cnt", "max_page_number", NULL},
    (const char *const[]){"is_accepted", "hot_remove", "suppress_pressure_reports", NULL},
    (const char *const[]){"num_avail", "num_committed", "page_file_size", "zero_free",
                          "page_file_writes", "io_diff", NULL},
    (const char *const[]){"num_pages", NULL},
    (const char *const[]){"more_pages", "range_count", "range_array", NULL},
    (const char *const[]){"more_pages", "range_count", "range_array", NULL},
    (const char *const[]){NULL},
    (const char *const[]){"range", "region", NULL},
    (const char *const[]){"page_count", "result", NULL},
    (const char *const[]){"info_size", "info", NULL},
    (const char *const[]){"virtual_node", "page_count", "qos_flags", NULL},
    (const char *const[]){"result", "more_pages", "range_count", "range_array", NULL},
};

static int listed(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return 1;
    return 0;
}

static int check_keys(struct ctx *c, json_t *o, const char *const *allowed, const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (!listed(allowed, key))
            return fail(c, "unknown field \"%s\" in %s", key, where);
    }
    return 0;
}

/* An unsigned field: a JSON integer, or a string in decimal or 0x hex (how
 * values above INT64_MAX are written). Missing means 0. */
static int get_uint(struct ctx *c, json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    uint64_t x = 0;
    if (!v) {
        *out = 0;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        x = (uint64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        char *end;
        errno = 0;
        x = strtoull(json_string_value(v), &end, 0);
        if (errno || *end || !*json_string_value(v) || json_string_value(v)[0] == '-')
            return fail(c, "field \"%s\" is not an unsigned number", key);
    } else {
        return fail(c, "field \"%s\" is not an unsigned number", key);
    }
    if (x > max)
        return fail(c, "field \"%s\" is out of range", key);
    *out = x;
    return 0;
}

static int get_u32(struct ctx *c, json_t *o, const char *key, uint32_t *out)
{
    uint64_t x;
    if (get_uint(c, o, key, UINT32_MAX, &x))
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static int get_bool(struct ctx *c, json_t *o, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_boolean(v)) {
        *out = v && json_is_true(v);
        return 0;
    }
    return fail(c, "field \"%s\" is not true or false", key);
}

static int get_range(struct ctx *c, json_t *v, struct dynmem_proto_range *r)
{
    static const char *const keys[] = {"start", "count", NULL};
    if (!json_is_object(v))
        return fail(c, "a range is not an object");
    if (check_keys(c, v, keys, "a range") || get_uint(c, v, "start", UINT64_MAX, &r->start_page))
        return -1;
    return get_uint(c, v, "count", UINT64_MAX, &r->page_count);
}

static int get_ranges(struct ctx *c, json_t *o, struct dump_storage *st, bool *more,
                      struct dynmem_proto_ranges *l)
{
    json_t *arr = json_object_get(o, "range_array");
    uint64_t declared;
    if (get_bool(c, o, "more_pages", more) || get_uint(c, o, "range_count", UINT32_MAX, &declared))
        return -1;
    if (arr && !json_is_array(arr))
        return fail(c, "range_array is not an array");
    size_t n = arr ? json_array_size(arr) : 0;
    if (json_object_get(o, "range_count") && declared != n)
        return fail(c, "range_count %llu disagrees with %zu ranges in range_array",
                    (unsigned long long)declared, n);
    if (n > DYNMEM_PROTO_RANGES_MAX)
        return fail(c, "%zu ranges: more than %u fit in a message", n, DYNMEM_PROTO_RANGES_MAX);
    for (size_t i = 0; i < n; i++)
        if (get_range(c, json_array_get(arr, i), &st->ranges[i]))
            return -1;
    l->count = (uint32_t)n;
    l->unpacked = n ? st->ranges : NULL;
    return 0;
}

static int get_blob(struct ctx *c, json_t *o, const char *key, struct dump_storage *st,
                    const unsigned char **data, uint32_t *size)
{
    json_t *v = json_object_get(o, key);
    long n = 0;
    if (v && (!json_is_string(v) ||
              (n = dump_unhex(st->blob, sizeof st->blob, json_string_value(v))) < 0))
        return fail(c, "field \"%s\" is not a hex string of at most %u bytes", key,
                    DYNMEM_PROTO_MSG_SIZE_MAX);
    *size = (uint32_t)n;
    *data = n ? st->blob : NULL;
    return 0;
}

static int get_version(struct ctx *c, json_t *o, uint32_t *out)
{
    json_t *v = json_object_get(o, "version");
    unsigned major, minor;
    char tail;
    if (v && json_is_string(v)) {
        if (sscanf(json_string_value(v), "%u.%u%c", &major, &minor, &tail) != 2 ||
            major > 0xffff || minor > 0xffff)
            return fail(c, "version \"%s\" is not MAJOR.MINOR", json_string_value(v));
        *out = DYNMEM_PROTO_VERSION(major, minor);
        return 0;
    }
    return get_u32(c, o, "version", out);
}

static int get_caps(struct ctx *c, json_t *o, struct dynmem_proto_caps_report *b)
{
    static const char *const keys[] = {"balloon", "hot_add", "hot_add_alignment", "hot_remove",
                                       NULL};
    json_t *caps = json_object_get(o, "caps");
    uint64_t align;
    if (!caps)
        caps = json_object();
    else if (!json_is_object(caps))
        return fail(c, "caps is not an object");
    else
        json_incref(caps);
    int rc = check_keys(c, caps, keys, "caps") || get_bool(c, caps, "balloon", &b->balloon) ||
             get_bool(c, caps, "hot_add", &b->hot_add) ||
             get_bool(c, caps, "hot_remove", &b->hot_remove) ||
             get_uint(c, caps, "hot_add_alignment", UINT8_MAX, &align);
    json_decref(caps);
    if (rc)
        return -1;
    b->hot_add_alignment = (uint8_t)align;
    if (get_uint(c, o, "min_page_cnt", UINT64_MAX, &b->min_page_count))
        return -1;
    return get_uint(c, o, "max_page_number", UINT64_MAX, &b->max_page_number);
}

static int get_info(struct ctx *c, json_t *o, struct dump_storage *st,
                    struct dynmem_proto_info_message *b)
{
    static const char *const keys[] = {"type", "data_size", "max_page_count", "data", NULL};
    json_t *rec = json_object_get(o, "info");
    if (!json_is_object(rec))
        return fail(c, "info is missing or not an object");
    if (check_keys(c, rec, keys, "info") || get_u32(c, rec, "type", &b->info_type))
        return -1;
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT) {
        b->data_size = 8;
        return get_uint(c, rec, "max_page_count", UINT64_MAX, &b->max_page_count);
    }
    return get_blob(c, rec, "data", st, &b->data, &b->data_size);
}

static int get_status(struct ctx *c, json_t *o, struct dynmem_proto_status_report *b)
{
    if (get_uint(c, o, "num_avail", UINT64_MAX, &b->num_avail) ||
        get_uint(c, o, "num_committed", UINT64_MAX, &b->num_committed) ||
        get_uint(c, o, "page_file_size", UINT64_MAX, &b->page_file_size) ||
        get_uint(c, o, "zero_free", UINT64_MAX, &b->zero_free) ||
        get_u32(c, o, "page_file_writes", &b->page_file_writes))
        return -1;
    return get_u32(c, o, "io_diff", &b->io_diff);
}

static int get_hot_add(struct ctx *c, json_t *o, struct dynmem_proto_hot_add_request *b)
{
    json_t *region = json_object_get(o, "region");
    json_t *range = json_object_get(o, "range");
    if (!range)
        return fail(c, "range is missing");
    b->has_region = region != NULL;
    if (get_range(c, range, &b->range))
        return -1;
    return region ? get_range(c, region, &b->region) : 0;
}

static int get_body(struct ctx *c, json_t *o, struct dump_storage *st, struct dynmem_proto_msg *m)
{
    union dynmem_proto_body *b = &m->body;
    switch (m->type) {
    case DYNMEM_PROTO_ERROR:
        return get_blob(c, o, "payload", st, &b->error.payload, &b->error.payload_size);
    case DYNMEM_PROTO_VERSION_REQUEST:
        return get_version(c, o, &b->version_request.version) ||
               get_bool(c, o, "is_last_attempt", &b->version_request.is_last_attempt);
    case DYNMEM_PROTO_VERSION_RESPONSE:
        return get_bool(c, o, "is_accepted", &b->version_response.is_accepted);
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        return get_caps(c, o, &b->caps_report);
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        return get_bool(c, o, "is_accepted", &b->caps_response.is_accepted) ||
               get_bool(c, o, "hot_remove", &b->caps_response.hot_remove) ||
               get_bool(c, o, "suppress_pressure_reports",
                        &b->caps_response.suppress_pressure_reports);
    case DYNMEM_PROTO_STATUS_REPORT:
        return get_status(c, o, &b->status_report);
    case DYNMEM_PROTO_BALLOON_REQUEST:
        return get_u32(c, o, "num_pages", &b->balloon_request.num_pages);
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        return get_ranges(c, o, st, &b->balloon_response.more_pages, &b->balloon_response.ranges);
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        return get_ranges(c, o, st, &b->unballoon_request.more_pages,
                          &b->unballoon_request.ranges);
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        return get_hot_add(c, o, &b->hot_add_request);
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        return get_u32(c, o, "page_count", &b->hot_add_response.page_count) ||
               get_u32(c, o, "result", &b->hot_add_response.result);
    case DYNMEM_PROTO_INFO_MESSAGE:
        return get_info(c, o, st, &b->info_message);
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        return get_u32(c, o, "virtual_node", &b->hot_remove_request.virtual_node) ||
               get_u32(c, o, "page_count", &b->hot_remove_request.page_count) ||
               get_u32(c, o, "qos_flags", &b->hot_remove_request.qos_flags);
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        return get_u32(c, o, "result", &b->hot_remove_response.result) ||
               get_ranges(c, o, st, &b->hot_remove_response.more_pages,
                          &b->hot_remove_response.ranges);
    default:
        return 0;
    }
}

static bool type_known(unsigned t)
{
    return strcmp(dynmem_proto_type_name(t), "unknown") != 0;
}

/* "type" is a name such as "BALLOON_RESPONSE" or a number. The names
 * earlier versions wrote for types 10, 11, 13 and 14 (with a "MEM_"
 * prefix, as Linux spells them) are still read. */
static int get_type(struct ctx *c, json_t *o, uint16_t *out)
{
    json_t *v = json_object_get(o, "type");
    if (json_is_string(v)) {
        const char *name = json_string_value(v);
        if (strncmp(name, "MEM_HOT_", 8) == 0)
            name += 4;
        for (unsigned t = 0; type_known(t); t++)
            if (strcmp(dynmem_proto_type_name(t), name) == 0) {
                *out = (uint16_t)t;
                return 0;
            }
        return fail(c, "unknown message type \"%s\"", json_string_value(v));
    }
    uint64_t t;
    if (!v)
        return fail(c, "field \"type\" is missing");
    if (get_uint(c, o, "type", UINT16_MAX, &t))
        return -1;
    if (!type_known((unsigned)t))
        return fail(c, "unknown message type %llu", (unsigned long long)t);
    *out = (uint16_t)t;
    return 0;
}

int dump_json_to_msg(struct dynmem_proto_msg *msg, struct dump_storage *st, json_t *obj,
                     char *why, size_t why_cap)
{
    struct ctx c = {why, why_cap};
    if (!json_is_object(obj))
        return fail(&c, "not a JSON object");
    if (get_type(&c, obj, &msg->type) || get_u32(&c, obj, "trans_id", &msg->trans_id))
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!listed(common_keys, key) && !listed(type_keys[msg->type], key))
            return fail(&c, "unknown field \"%s\" for %s", key, dynmem_proto_type_name(msg->type));
    }
    return get_body(&c, obj, st, msg) ? -1 : 0;
}
