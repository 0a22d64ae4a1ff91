/* One API for settings (issue 23, point 4): one answer for an unknown
 * setting in every *_set_param, *_get_param and *_param_bounds; the guest
 * session's get-param and param-bounds; dynmem_vm_config_init(); an INIT
 * macro for every size-prefixed struct. */
#include <string.h>

/* The deprecated spellings are used below on purpose. */
#define DYNMEM_NO_DEPRECATION_WARNINGS
#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

static const int unknown_ids[] = {0, 11, 99, -1, 0x7fffffff};
#define N_UNKNOWN (sizeof unknown_ids / sizeof unknown_ids[0])

Test(params, unknown_setting_is_not_found_everywhere)
{
    dynmem_balancer *b;
    dynmem_pressure *p;
    dynmem_memmap *map;
    dynmem_session_host *h;
    dynmem_session_guest *g;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    cr_assert_eq(dynmem_pressure_new(&p, NULL), 0);
    cr_assert_eq(dynmem_memmap_new(&map, NULL), 0);
    cr_assert_eq(dynmem_session_host_new(&h, map, NULL), 0);
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    struct dynmem_vm_config cfg = DYNMEM_VM_CONFIG_INIT;
    cfg.startup_bytes = cfg.minimum_bytes = cfg.maximum_bytes = 512 << 20;
    uint64_t vm;
    cr_assert_eq(dynmem_balancer_vm_add(b, &cfg, &vm), 0);
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        int id = unknown_ids[i];
        int64_t lo, hi, v;
        cr_expect_eq(dynmem_balancer_param_bounds(id, &lo, &hi), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_balancer_set_param(b, id, 1), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_balancer_get_param(b, id, &v), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_balancer_vm_set_pressure_param(b, vm, id, 1), DYNMEM_ERR_NOT_FOUND,
                     "%d", id);
        cr_expect_eq(dynmem_pressure_param_bounds(id, &lo, &hi), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_pressure_set_param(p, id, 1), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_pressure_get_param(p, id, &v), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_host_param_bounds(id, &lo, &hi), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_host_set_param(h, id, 1), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_host_get_param(h, id, &v), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_guest_param_bounds(id, &lo, &hi), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_guest_set_param(g, id, 1), DYNMEM_ERR_NOT_FOUND, "%d", id);
        cr_expect_eq(dynmem_session_guest_get_param(g, id, &v), DYNMEM_ERR_NOT_FOUND, "%d", id);
    }
    /* A known estimator setting that follows the VM's configuration is a
     * value this call never accepts, not an unknown one. */
    cr_expect_eq(dynmem_balancer_vm_set_pressure_param(b, vm, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 30),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    dynmem_session_guest_free(g);
    dynmem_session_host_free(h);
    dynmem_memmap_free(map);
    dynmem_pressure_free(p);
    dynmem_balancer_free(b);
}

Test(params, guest_get_param_and_bounds)
{
    dynmem_session_guest *g;
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    int64_t v, lo, hi;
    cr_assert_eq(dynmem_session_guest_get_param(g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, &v), 0);
    cr_assert_eq(v, 45000);
    cr_assert_eq(dynmem_session_guest_get_param(g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, &v), 0);
    cr_assert_eq(v, -1);
    cr_assert_eq(dynmem_session_guest_get_param(g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST, &v), 0);
    cr_assert_eq(v, DYNMEM_PROTO_VERSION_WIN10);
    /* Every setting: both bounds are accepted (but for the first version,
     * whose bounds are its extremes), one past them is refused, and what
     * was set reads back. */
    for (int id = DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST; id <= DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS; id++) {
        cr_assert_eq(dynmem_session_guest_param_bounds(id, &lo, &hi), 0, "setting %d", id);
        cr_assert_leq(lo, hi);
        cr_assert_eq(dynmem_session_guest_set_param(g, id, lo - 1), DYNMEM_ERR_OUT_OF_RANGE, "%d", id);
        cr_assert_eq(dynmem_session_guest_set_param(g, id, hi + 1), DYNMEM_ERR_OUT_OF_RANGE, "%d", id);
        cr_assert_eq(dynmem_session_guest_set_param(g, id, hi), 0, "%d", id);
        cr_assert_eq(dynmem_session_guest_get_param(g, id, &v), 0);
        cr_assert_eq(v, hi, "setting %d", id);
        cr_assert_eq(dynmem_session_guest_set_param(g, id, lo), 0, "%d", id);
        cr_assert_eq(dynmem_session_guest_get_param(g, id, &v), 0);
        cr_assert_eq(v, lo, "setting %d", id);
    }
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST, 0x4),
                 DYNMEM_ERR_OUT_OF_RANGE);
    dynmem_session_guest_free(g);
}

Test(params, vm_config_init_matches_the_macro)
{
    const struct dynmem_vm_config macro = DYNMEM_VM_CONFIG_INIT;
    struct dynmem_vm_config c;
    memset(&c, 0xa5, sizeof c);
    cr_assert_eq(dynmem_vm_config_init(&c, sizeof c), 0);
    cr_assert_eq(memcmp(&c, &macro, sizeof c), 0);
    /* A newer caller's larger struct: the tail is zeroed, size kept. */
    unsigned char big[sizeof c + 16];
    memset(big, 0xa5, sizeof big);
    cr_assert_eq(dynmem_vm_config_init((struct dynmem_vm_config *)(void *)big, sizeof big), 0);
    uint32_t size;
    memcpy(&size, big, sizeof size);
    cr_assert_eq(size, sizeof big);
    for (size_t i = sizeof c; i < sizeof big; i++)
        cr_assert_eq(big[i], 0);
    memset(&c, 0xa5, sizeof c);
    cr_assert_eq(dynmem_vm_config_init(&c, 8), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(c.size, 0xa5a5a5a5u, "unchanged on error");
    cr_assert_eq(dynmem_vm_config_init(NULL, sizeof c), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(params, pressure_report_init)
{
    struct dynmem_pressure_report r = DYNMEM_PRESSURE_REPORT_INIT;
    cr_assert_eq(r.size, sizeof r);
    dynmem_pressure *p;
    cr_assert_eq(dynmem_pressure_new(&p, NULL), 0);
    cr_assert_eq(dynmem_pressure_query(p, 0, 1 << 30, &r), 0);
    cr_assert(r.flags & DYNMEM_REPORT_NO_DATA);
    dynmem_pressure_free(p);
}

Test(params, old_session_setting_names_still_build)
{
    cr_assert_eq(DYNMEM_SESSION_HOST_POST_INIT_WAIT_MS, DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS);
    cr_assert_eq(DYNMEM_SESSION_HOST_STATUS_BURST, DYNMEM_SESSION_HOST_PARAM_STATUS_BURST);
    cr_assert_eq(DYNMEM_SESSION_HOST_VERSION_MIN, DYNMEM_SESSION_HOST_PARAM_VERSION_MIN);
    cr_assert_eq(DYNMEM_SESSION_GUEST_VERSION_FIRST, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST);
    cr_assert_eq(DYNMEM_SESSION_GUEST_NEGOTIATION_TIMEOUT_MS,
                 DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS);
    cr_assert_eq(DYNMEM_SESSION_GUEST_FLOOR_PAGES, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES);
}
