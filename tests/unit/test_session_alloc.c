/* Allocation-failure sweep over a whole session life: create a memory map,
 * a host and a guest session with a failing allocator, negotiate, balloon,
 * unballoon, hot-add, reset, free. Every run must leak nothing, and when an
 * allocation failed inside the sessions the books must still hold only
 * facts: the host never counts a page as ballooned that the guest kept. */
#include <criterion/criterion.h>

#include "failalloc.h"
#include "sesspair.h"

static int life(struct failalloc *fa, void *ctx)
{
    (void)ctx;
    struct sesspair p;
    int rc = sesspair_init(&p, 4 * GIB_PAGES, 32 * GIB_PAGES, 32 * GIB_PAGES, &fa->hook);
    if (rc)
        return rc;
    dynmem_session_guest_set_param(p.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    sesspair_connect(&p);
    /* Fragment the guest's memory so that the books need many nodes. */
    for (int i = 0; i < 4; i++) {
        dynmem_session_host_set_target(p.h, p.now, (UINT64_C(3) << 30) - ((uint64_t)i << 22));
        sesspair_pump(&p);
        dynmem_session_host_set_target(p.h, p.now, (UINT64_C(3) << 30) + ((uint64_t)i << 21));
        sesspair_pump(&p);
    }
    dynmem_session_host_set_target(p.h, p.now, UINT64_C(6) << 30);
    sesspair_pump(&p);
    int ok = sesspair_host_within_guest(&p);
    dynmem_session_host_reset(p.h, p.now, DYNMEM_SESSION_RESET_SYSTEM);
    dynmem_session_guest_reset(p.g, p.now, DYNMEM_SESSION_RESET_SYSTEM);
    ok = ok && sesspair_fig(&p, DYNMEM_MEMMAP_CURRENT) == 4 * GIB_PAGES;
    sesspair_fini(&p);
    if (!ok)
        return DYNMEM_ERR_INVARIANT;
    return fa->failures ? DYNMEM_ERR_NO_MEMORY : 0;
}

Test(session_alloc, sweep)
{
    long count = 0;
    const char *why = NULL;
    long bad = failalloc_sweep(life, NULL, &count, &why);
    cr_assert_eq(bad, 0, "allocation %ld: %s", bad, why ? why : "");
    cr_assert_gt(count, 5);
}
