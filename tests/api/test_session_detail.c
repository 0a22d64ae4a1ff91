/* The detail of the session engines' refusals
 * (dynmem_session_host_last_error(), dynmem_session_guest_last_error()): a
 * refused guest message names its type, what was wrong and the figures; a
 * refused setting its name and bounds; each non-const call clears it. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#include "lasterror.h"
#include "sesspair.h"

static struct sesspair pair;
static dynmem_session_host *h;
static uint64_t now;
static char text[256];

static const char *host_detail(void)
{
    return LAST_ERROR(dynmem_session_host_last_error, h, text);
}

static int send_msg(const struct dynmem_proto_msg *m)
{
    unsigned char buf[4096];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, m, 0);
    cr_assert_gt(n, 0);
    return dynmem_session_host_recv(h, now, buf, (size_t)n);
}

/* The host's packets, taken and dropped: the test plays the guest. */
static void drain(void)
{
    unsigned char buf[4096];
    size_t len;
    while (dynmem_session_host_next_send(h, buf, sizeof buf, &len) == 1)
        ;
}

/* A host negotiated with the pair's honest guest, then left to the test. */
static void negotiate(void)
{
    sesspair_connect(&pair);
    now = pair.now;
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    drain();
}

static void setup(void)
{
    cr_assert_eq(sesspair_init(&pair, 4 * GIB_PAGES, 0, 0, NULL), 0);
    h = pair.h;
    now = 0;
}

static void teardown(void)
{
    sesspair_fini(&pair);
}

TestSuite(session_detail, .init = setup, .fini = teardown);

Test(session_detail, host_range_outside_guest_memory_names_the_pages)
{
    negotiate();
    cr_assert_eq(dynmem_session_host_set_target(h, now, (4 * GIB_PAGES - 256) << 12), 0);
    drain();
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_BALLOON);
    struct dynmem_proto_range r = {8 * GIB_PAGES, 16};
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    m.body.balloon_response.more_pages = true;
    m.body.balloon_response.ranges.unpacked = &r;
    m.body.balloon_response.ranges.count = 1;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_str_eq(host_detail(), "BALLOON_RESPONSE: pages 0x200000..0x20000f (16 pages): "
                                    "pages are not guest memory");
    /* Too much: the first refusal of the packet is the one described. */
    struct dynmem_proto_range two[2] = {{1000, 300}, {8 * GIB_PAGES, 1}};
    m.body.balloon_response.ranges.unpacked = two;
    m.body.balloon_response.ranges.count = 2;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_TOO_MUCH);
    cr_assert_str_eq(host_detail(), "BALLOON_RESPONSE: 300 pages at page 0x3e8, only 256 of "
                                    "the 256 asked still due");
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    (void)dynmem_session_host_next_event(h, &ev);
    cr_assert_str_eq(host_detail(), "", "the next non-const call clears it");
}

Test(session_detail, host_flood_names_the_interval)
{
    negotiate();
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_STATUS_BURST, 1), 0);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_STATUS_REPORT;
    m.body.status_report.num_committed = 1000;
    cr_assert_eq(send_msg(&m), 0);
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_FLOOD);
    cr_assert_str_eq(host_detail(), "STATUS_REPORT: more than one per 250 ms on average, bursts "
                                    "up to 1 (1 refused so far)");
    now += 250;
    cr_assert_eq(send_msg(&m), 0);
    cr_assert_str_eq(host_detail(), "", "a report taken clears it");
}

Test(session_detail, host_refused_messages_say_type_and_state)
{
    cr_assert_eq(dynmem_session_host_open(h, now), 0);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_str_eq(host_detail(), "BALLOON_RESPONSE not expected in state VERSION");
    m.type = DYNMEM_PROTO_UNBALLOON_REQUEST;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_DIRECTION);
    cr_assert_str_eq(host_detail(), "UNBALLOON_REQUEST only travels from host to guest");
    unsigned char junk[4] = {1, 0, 40, 0};
    cr_assert_eq(dynmem_session_host_recv(h, now, junk, sizeof junk), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert(strstr(host_detail(), "VERSION_REQUEST (type 1), 4 bytes: message truncated"),
              "%s", text);
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_VERSION_MAX,
                                               DYNMEM_PROTO_VERSION_WIN8), 0);
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = DYNMEM_PROTO_VERSION_WIN10;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_VERSION_POLICY);
    cr_assert_str_eq(host_detail(), "VERSION_REQUEST: version 0x20000 outside the policy "
                                    "0x3..0x10000 (known versions only)");
    cr_assert_eq(dynmem_session_host_recv(h, now, NULL, 0), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert(strstr(host_detail(), "packet of 0 bytes: message truncated"), "%s", text);
    now = 100;
    cr_assert_eq(dynmem_session_host_tick(h, now), 0);
    cr_assert_eq(dynmem_session_host_tick(h, 40), DYNMEM_ERR_SESSION_TIME_BACKWARDS);
    cr_assert_str_eq(host_detail(), "time 40 ms is before the session's latest, 100 ms");
}

Test(session_detail, host_refused_settings_name_the_bounds)
{
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(host_detail(), "DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS 0 outside "
                                    "1..3600000");
    cr_assert_eq(dynmem_session_host_set_param(h, (enum dynmem_session_host_param)99, 0),
                 DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(host_detail(), "host session setting 99 names no setting");
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_VERSION_MIN,
                                               0x40000), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(host_detail(), "DYNMEM_SESSION_HOST_PARAM_VERSION_MIN 0x40000 would leave "
                                    "the versions 0x40000..0x20000 empty");
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 5),
                 0);
    cr_assert_str_eq(host_detail(), "", "a setting taken clears it");
    cr_assert_eq(dynmem_session_host_start_action(h, now, 9, 4096, 7), DYNMEM_ERR_UNSUPPORTED);
    cr_assert(strstr(host_detail(), "action 7: kind 9 is not one of 1..4"), "%s", text);
}

Test(session_detail, host_cut_to_fit_and_sized_like_snprintf)
{
    cr_assert_eq(dynmem_session_host_open(h, now), 0);
    cr_assert_eq(dynmem_session_host_open(h, now), DYNMEM_ERR_BAD_STATE);
    size_t full = strlen("the channel is already open (state VERSION)");
    cr_assert_str_eq(host_detail(), "the channel is already open (state VERSION)");
    char small[4] = "zzz";
    cr_assert_eq(dynmem_session_host_last_error(h, small, sizeof small), (int)full);
    cr_assert_str_eq(small, "the");
    cr_assert_eq(dynmem_session_host_last_error(h, NULL, 0), (int)full);
    cr_assert_eq(dynmem_session_host_last_error(NULL, small, sizeof small),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_session_host_last_error(h, NULL, 1), DYNMEM_ERR_INVALID_ARGUMENT);
}

/* ---- guest side ---------------------------------------------------------- */

static const char *guest_detail(dynmem_session_guest *g)
{
    return LAST_ERROR(dynmem_session_guest_last_error, g, text);
}

Test(session_detail, guest_refusals_say_what_was_wrong)
{
    dynmem_session_guest *g;
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    cr_assert_str_eq(guest_detail(g), "");
    cr_assert_eq(dynmem_session_guest_add_memory(g, 0, GIB_PAGES), 0);
    cr_assert_eq(dynmem_session_guest_add_memory(g, 1000, 10), DYNMEM_ERR_PAGES_OVERLAP);
    cr_assert_str_eq(guest_detail(g), "memory pages 0x3e8..0x3f1 (10 pages) overlap memory "
                                      "already added");
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST,
                                                5), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(guest_detail(g), "DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST 0x5 is not "
                                      "0x3, 0x10000 or 0x20000");
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON, 2),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(guest_detail(g), "DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON 2 outside 0..1");

    unsigned char buf[4096];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_REQUEST;
    m.body.balloon_request.num_pages = 10;
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, &m, 0);
    cr_assert_gt(n, 0);
    cr_assert_eq(dynmem_session_guest_recv(g, 0, buf, (size_t)n), DYNMEM_ERR_SESSION_CLOSED);
    cr_assert(strstr(guest_detail(g), "while the channel is closed"), "%s", text);
    cr_assert_eq(dynmem_session_guest_connect(g, 10), 0);
    cr_assert_str_eq(guest_detail(g), "", "a call that succeeds clears it");
    cr_assert_eq(dynmem_session_guest_recv(g, 10, buf, (size_t)n), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_str_eq(guest_detail(g), "BALLOON_REQUEST not expected in state VERSION");
    m.type = DYNMEM_PROTO_STATUS_REPORT;
    n = dynmem_proto_encode(buf, sizeof buf, &m, 0);
    cr_assert_eq(dynmem_session_guest_recv(g, 10, buf, (size_t)n), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_str_eq(guest_detail(g), "STATUS_REPORT not expected in state VERSION");
    cr_assert_eq(dynmem_session_guest_tick(g, 5), DYNMEM_ERR_SESSION_TIME_BACKWARDS);
    cr_assert_str_eq(guest_detail(g), "time 5 ms is before the session's latest, 10 ms");
    char small[5] = "zzzz";
    size_t full = strlen(text);
    cr_assert_eq(dynmem_session_guest_last_error(g, small, sizeof small), (int)full);
    cr_assert_str_eq(small, "time");
    cr_assert_eq(dynmem_session_guest_last_error(g, NULL, 0), (int)full);
    dynmem_session_guest_free(g);
}

/* A reset of an unknown kind is refused before anything moves: the
 * session's clock stays where it was, so an earlier time is still
 * accepted afterwards, on both engines. */
Test(session_detail, refused_reset_kind_leaves_the_clock)
{
    negotiate();
    cr_assert_eq(dynmem_session_host_reset(h, now + 60000, (enum dynmem_session_reset)7),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_str_eq(host_detail(), "reset kind 7 is neither VMBUS (1) nor SYSTEM (2)");
    cr_assert_eq(dynmem_session_host_tick(h, now + 1), 0, "the refused reset moved the clock");

    dynmem_session_guest *g;
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    cr_assert_eq(dynmem_session_guest_add_memory(g, 0, GIB_PAGES), 0);
    cr_assert_eq(dynmem_session_guest_connect(g, 10), 0);
    cr_assert_eq(dynmem_session_guest_reset(g, 60000, (enum dynmem_session_reset)7),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_session_guest_tick(g, 11), 0, "the refused reset moved the clock");
    dynmem_session_guest_free(g);
}
