/* Property test: seeded random valid messages of every type encode, decode
 * to an equal message, and re-encode to the same bytes. Public API only.
 * The seed is fixed so a failure reproduces; DYNMEM_TEST_SEED overrides it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "msgcmp.h"

#define PER_TYPE 3000

static uint64_t rng_state;

static uint64_t rnd(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

/* Uniform-ish below n, but with a strong bias to the edges 0 and n-1 where
 * encodings break. */
static uint64_t below(uint64_t n)
{
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return n - 1;
    default: return rnd() % n;
    }
}

static uint64_t any64(void)
{
    return rnd() % 4 ? rnd() : (rnd() % 2 ? UINT64_MAX : 0);
}

static uint32_t any32(void)
{
    return (uint32_t)any64();
}

struct scratch {
    struct dynmem_proto_range ranges[DYNMEM_PROTO_RANGES_MAX];
    unsigned char blob[DYNMEM_PROTO_MSG_SIZE_MAX];
};

static void random_ranges(struct dynmem_proto_ranges *r, struct scratch *s, uint32_t max)
{
    r->count = (uint32_t)(rnd() % 4 ? below(9) : below(max + 1));
    for (uint32_t i = 0; i < r->count; i++) {
        s->ranges[i].start_page = below(DYNMEM_PROTO_RANGE_START_MAX + 1);
        s->ranges[i].page_count = below(DYNMEM_PROTO_RANGE_COUNT_MAX + 1);
    }
    r->unpacked = r->count ? s->ranges : NULL;
}

static uint32_t random_blob(struct scratch *s, uint32_t max)
{
    uint32_t n = (uint32_t)(rnd() % 2 ? below(32) : below(max + 1));
    for (uint32_t i = 0; i < n; i++)
        s->blob[i] = (unsigned char)rnd();
    return n;
}

static void random_info(struct dynmem_proto_info_message *b, struct scratch *s)
{
    b->info_type = rnd() % 2 ? DYNMEM_PROTO_INFO_MAX_PAGE_COUNT : (uint32_t)(1 + below(5));
    if (b->info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT) {
        b->data_size = 8;
        b->max_page_count = any64();
        return;
    }
    b->data_size = random_blob(s, DYNMEM_PROTO_MSG_SIZE_MAX - 24);
    b->data = b->data_size ? s->blob : NULL;
}

static void random_status(struct dynmem_proto_status_report *b)
{
    b->num_avail = any64();
    b->num_committed = any64();
    b->page_file_size = any64();
    b->zero_free = any64();
    b->page_file_writes = any32();
    b->io_diff = any32();
}

static void random_hot_add(struct dynmem_proto_hot_add_request *b)
{
    b->range.start_page = below(DYNMEM_PROTO_RANGE_START_MAX + 1);
    b->range.page_count = below(DYNMEM_PROTO_RANGE_COUNT_MAX + 1);
    b->has_region = rnd() % 2;
    if (b->has_region) {
        b->region.start_page = below(DYNMEM_PROTO_RANGE_START_MAX + 1);
        b->region.page_count = below(DYNMEM_PROTO_RANGE_COUNT_MAX + 1);
    }
}

static void random_body(struct dynmem_proto_msg *m, struct scratch *s)
{
    union dynmem_proto_body *b = &m->body;
    switch (m->type) {
    case DYNMEM_PROTO_ERROR:
        b->error.payload_size = random_blob(s, DYNMEM_PROTO_MSG_SIZE_MAX - 8);
        b->error.payload = b->error.payload_size ? s->blob : NULL;
        break;
    case DYNMEM_PROTO_VERSION_REQUEST:
        b->version_request.version = any32();
        b->version_request.is_last_attempt = rnd() % 2;
        break;
    case DYNMEM_PROTO_VERSION_RESPONSE:
        b->version_response.is_accepted = rnd() % 2;
        break;
    case DYNMEM_PROTO_CAPABILITIES_REPORT:
        b->caps_report.balloon = rnd() % 2;
        b->caps_report.hot_add = rnd() % 2;
        b->caps_report.hot_remove = rnd() % 2;
        b->caps_report.hot_add_alignment = (uint8_t)below(16);
        b->caps_report.min_page_count = any64();
        b->caps_report.max_page_number = any64();
        break;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        b->caps_response.is_accepted = rnd() % 2;
        b->caps_response.hot_remove = rnd() % 2;
        b->caps_response.suppress_pressure_reports = rnd() % 2;
        break;
    case DYNMEM_PROTO_STATUS_REPORT:
        random_status(&b->status_report);
        break;
    case DYNMEM_PROTO_BALLOON_REQUEST:
        b->balloon_request.num_pages = any32();
        break;
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        b->balloon_response.more_pages = rnd() % 2;
        random_ranges(&b->balloon_response.ranges, s, DYNMEM_PROTO_RANGES_MAX);
        break;
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        b->unballoon_request.more_pages = rnd() % 2;
        random_ranges(&b->unballoon_request.ranges, s, DYNMEM_PROTO_RANGES_MAX);
        break;
    case DYNMEM_PROTO_UNBALLOON_RESPONSE:
        break; /* header only */
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        random_hot_add(&b->hot_add_request);
        break;
    case DYNMEM_PROTO_HOT_ADD_RESPONSE:
        b->hot_add_response.page_count = any32();
        b->hot_add_response.result = any32();
        break;
    case DYNMEM_PROTO_INFO_MESSAGE:
        random_info(&b->info_message, s);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        b->hot_remove_request.virtual_node = any32();
        b->hot_remove_request.page_count = any32();
        b->hot_remove_request.qos_flags = (uint32_t)below(4);
        break;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        b->hot_remove_response.result = any32();
        b->hot_remove_response.more_pages = rnd() % 2;
        random_ranges(&b->hot_remove_response.ranges, s, DYNMEM_PROTO_RANGES_MAX - 1);
        break;
    default:
        cr_assert_fail("no generator for type %u", m->type);
    }
}

static void roundtrip_one(uint16_t type, unsigned iteration)
{
    static struct scratch s;
    unsigned char wire[DYNMEM_PROTO_MSG_SIZE_MAX], again[DYNMEM_PROTO_MSG_SIZE_MAX];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT, d = DYNMEM_PROTO_MSG_INIT;
    m.type = type;
    m.trans_id = any32();
    random_body(&m, &s);

    ptrdiff_t n = dynmem_proto_encode(wire, sizeof wire, &m, DYNMEM_PROTO_VERSION_CURRENT);
    cr_assert_gt(n, 0, "type %u #%u: encode failed: %s", type, iteration,
                 dynmem_error_name((int)n));
    cr_assert_eq(dynmem_proto_encoded_size(&m, DYNMEM_PROTO_VERSION_CURRENT), n);
    int rc = dynmem_proto_decode(&d, wire, (size_t)n, DYNMEM_PROTO_VERSION_CURRENT, NULL);
    cr_assert_eq(rc, DYNMEM_OK, "type %u #%u: decode failed: %s", type, iteration,
                 dynmem_error_name(rc));
    const char *diff = msg_diff(&m, &d);
    cr_assert_null(diff, "type %u #%u: %s differs after a round trip", type, iteration, diff);
    cr_assert_eq(d.length, n);
    cr_assert_eq(d.flags & DYNMEM_PROTO_FLAG_RESERVED_BITS, 0, "encoder set a reserved bit");
    cr_assert_eq(dynmem_proto_encode(again, sizeof again, &d, 0), n);
    cr_assert_arr_eq(again, wire, (size_t)n, "type %u #%u: re-encoding differs", type, iteration);
}

static void seed(void)
{
    const char *env = getenv("DYNMEM_TEST_SEED");
    rng_state = env ? strtoull(env, NULL, 0) : UINT64_C(0x5eed0fd1a90be11);
    if (!rng_state)
        rng_state = 1;
}

Test(roundtrip, every_type_thousands_of_messages)
{
    seed();
    for (uint16_t type = 0; type <= DYNMEM_PROTO_HOT_REMOVE_RESPONSE; type++)
        for (unsigned i = 0; i < PER_TYPE; i++)
            roundtrip_one(type, i);
}

Test(roundtrip, largest_messages)
{
    static struct dynmem_proto_range r[DYNMEM_PROTO_RANGES_MAX];
    unsigned char wire[DYNMEM_PROTO_MSG_SIZE_MAX];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT, d = DYNMEM_PROTO_MSG_INIT;
    for (unsigned i = 0; i < DYNMEM_PROTO_RANGES_MAX; i++)
        r[i] = (struct dynmem_proto_range){DYNMEM_PROTO_RANGE_START_MAX - i,
                                           DYNMEM_PROTO_RANGE_COUNT_MAX - i};
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    m.body.balloon_response.ranges.unpacked = r;
    m.body.balloon_response.ranges.count = DYNMEM_PROTO_RANGES_MAX;
    cr_assert_eq(dynmem_proto_encode(wire, sizeof wire, &m, 0), DYNMEM_PROTO_MSG_SIZE_MAX);
    cr_assert_eq(dynmem_proto_decode(&d, wire, sizeof wire, 0, NULL), DYNMEM_OK);
    cr_assert_null(msg_diff(&m, &d));
}
