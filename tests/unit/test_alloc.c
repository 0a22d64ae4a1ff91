/* White-box tests of the allocator layer every handle is built on. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "failalloc.h"
#include "struct_abi.h"

Test(alloc, null_hook_means_libc)
{
    struct dynmem__alloc a;
    cr_assert_eq(dynmem__alloc_init(&a, NULL), DYNMEM_OK);
    int *p = dynmem__calloc(&a, 16, sizeof *p);
    cr_assert_not_null(p);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(p[i], 0);
    p = dynmem__reallocarray(&a, p, 16, 1024, sizeof *p);
    cr_assert_not_null(p);
    dynmem__free(&a, p);
    dynmem__free(&a, NULL);
}

Test(alloc, incomplete_hook_refused)
{
    struct dynmem__alloc a;
    memset(&a, 0xAB, sizeof a);
    struct dynmem__alloc before = a;
    struct dynmem_allocator hook = DYNMEM_ALLOCATOR_INIT;
    cr_assert_eq(dynmem__alloc_init(&a, &hook), DYNMEM_ERR_BAD_ALLOCATOR);
    cr_assert_eq(memcmp(&a, &before, sizeof a), 0, "output changed on error");
    cr_assert_eq(dynmem__alloc_init(NULL, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(alloc, size_field_checked)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    struct dynmem__alloc a;

    fa.hook.size = sizeof(size_t);
    cr_assert_eq(dynmem__alloc_init(&a, &fa.hook), DYNMEM_ERR_STRUCT_SIZE);
    fa.hook.size = 0;
    cr_assert_eq(dynmem__alloc_init(&a, &fa.hook), DYNMEM_ERR_STRUCT_SIZE);
    fa.hook.size = (size_t)-1;
    cr_assert_eq(dynmem__alloc_init(&a, &fa.hook), DYNMEM_ERR_STRUCT_SIZE);

    /* A caller built against newer headers: trailing fields must be zero. */
    struct {
        struct dynmem_allocator hook;
        uint64_t future[2];
    } newer = {fa.hook, {0, 0}};
    newer.hook.size = sizeof newer;
    cr_assert_eq(dynmem__alloc_init(&a, &newer.hook), DYNMEM_OK);
    newer.future[1] = 7;
    cr_assert_eq(dynmem__alloc_init(&a, &newer.hook), DYNMEM_ERR_STRUCT_RESERVED);
}

Test(alloc, overflow_and_zero_sizes_fail)
{
    struct dynmem__alloc a;
    dynmem__alloc_init(&a, NULL);
    cr_assert_null(dynmem__malloc(&a, 0));
    cr_assert_null(dynmem__calloc(&a, SIZE_MAX / 2, 3));
    cr_assert_null(dynmem__calloc(&a, 0, 8));
    cr_assert_null(dynmem__reallocarray(&a, NULL, 0, SIZE_MAX / 4, 8));
}

Test(alloc, hook_is_used_and_copied)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    struct dynmem__alloc a;
    cr_assert_eq(dynmem__alloc_init(&a, &fa.hook), DYNMEM_OK);
    fa.hook.malloc = NULL; /* the library kept its own copy */
    void *p = dynmem__malloc(&a, 100);
    cr_assert_not_null(p);
    cr_assert_eq(fa.live, 1);
    cr_assert_eq(fa.live_bytes, 100);
    p = dynmem__reallocarray(&a, p, 100, 300, 1);
    cr_assert_eq(fa.live_bytes, 300);
    dynmem__free(&a, p);
    cr_assert_eq(fa.live, 0);
    cr_assert_eq(fa.live_bytes, 0);
}

Test(alloc, realloc_emulated_without_hook_keeps_data)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 0);
    struct dynmem__alloc a;
    cr_assert_eq(dynmem__alloc_init(&a, &fa.hook), DYNMEM_OK);
    unsigned char *p = dynmem__reallocarray(&a, NULL, 0, 8, 1);
    memcpy(p, "abcdefgh", 8);
    p = dynmem__reallocarray(&a, p, 8, 16, 1);
    cr_assert_eq(memcmp(p, "abcdefgh", 8), 0);
    cr_assert_eq(fa.live, 1);
    /* A failing grow leaves the old block valid and owned by the caller. */
    fa.fail_at = fa.calls + 1;
    cr_assert_null(dynmem__reallocarray(&a, p, 16, 32, 1));
    cr_assert_eq(memcmp(p, "abcdefgh", 8), 0);
    dynmem__free(&a, p);
    cr_assert_eq(fa.live, 0);
}

/* A workload shaped like a handle's life: a few allocations, a growth, and
 * clean-up on every path. Also proves the sweep helper itself catches leaks. */
struct grow_ctx {
    int leak_on_failure;
    void *leaked; /* the block leaked on purpose, freed by the test */
};

static int grow_workload(struct failalloc *fa, void *ctx)
{
    struct grow_ctx *g = ctx;
    struct dynmem__alloc a;
    int rc = dynmem__alloc_init(&a, &fa->hook);
    if (rc)
        return rc;
    void *x = dynmem__malloc(&a, 32);
    if (!x)
        return DYNMEM_ERR_NO_MEMORY;
    void *y = dynmem__calloc(&a, 4, 16);
    if (!y) {
        if (g->leak_on_failure)
            g->leaked = x;
        else
            dynmem__free(&a, x);
        return DYNMEM_ERR_NO_MEMORY;
    }
    void *y2 = dynmem__reallocarray(&a, y, 4, 64, 16);
    if (!y2) {
        dynmem__free(&a, y);
        dynmem__free(&a, x);
        return DYNMEM_ERR_NO_MEMORY;
    }
    dynmem__free(&a, y2);
    dynmem__free(&a, x);
    return 0;
}

Test(alloc, failure_sweep_clean)
{
    struct grow_ctx g = {0, NULL};
    long count = 0;
    const char *why;
    long n = failalloc_sweep(grow_workload, &g, &count, &why);
    cr_assert_eq(n, 0, "n=%ld: %s", n, why ? why : "");
    cr_assert_eq(count, 3);
}

Test(alloc, failure_sweep_detects_leak)
{
    struct grow_ctx g = {1, NULL};
    long count = 0;
    const char *why;
    long n = failalloc_sweep(grow_workload, &g, &count, &why);
    failalloc_discard(g.leaked);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(why, "leak after a failed allocation");
}

Test(alloc, handle_alloc_reports_why)
{
    struct dynmem__alloc a;
    int rc = 0;
    struct dynmem_allocator bad = DYNMEM_ALLOCATOR_INIT;
    cr_assert_null(dynmem__handle_alloc(&bad, 64, &a, &rc));
    cr_assert_eq(rc, DYNMEM_ERR_BAD_ALLOCATOR);
    struct failalloc fa;
    failalloc_init(&fa, 1, 1);
    cr_assert_null(dynmem__handle_alloc(&fa.hook, 64, &a, &rc));
    cr_assert_eq(rc, DYNMEM_ERR_NO_MEMORY);
    fa.fail_at = 0;
    unsigned char *h = dynmem__handle_alloc(&fa.hook, 64, &a, &rc);
    cr_assert_not_null(h);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(h[i], 0, "handles start zeroed");
    dynmem__free(&a, h);
    cr_assert_eq(fa.live, 0);
}
