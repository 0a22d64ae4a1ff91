/* Allocation failure in the memory map: every allocation a realistic
 * workload makes is made to fail in turn; each failed call must return an
 * error and leave every figure as it was, and nothing may leak. */
#include <criterion/criterion.h>
#include <dynmem/memmap.h>
#include <string.h>

#include "failalloc.h"

#define FIGURES 9

struct snapshot {
    uint64_t v[FIGURES];
};

static struct snapshot take(const struct dynmem_memmap *m)
{
    struct snapshot s;
    for (int f = 0; f < FIGURES; f++)
        dynmem_memmap_pages(m, (enum dynmem_memmap_figure)(f + 1), &s.v[f]);
    return s;
}

struct sweep {
    long corrupted;
};

/* Makes one call's failure checkable: compares figures around it. */
#define GUARDED(sw, m, call)                                        \
    do {                                                            \
        struct snapshot before_ = take(m);                          \
        rc = (call);                                                \
        struct snapshot after_ = take(m);                           \
        if (rc && memcmp(&before_, &after_, sizeof before_) != 0)   \
            (sw)->corrupted++;                                      \
    } while (0)

static int memmap_steps(struct sweep *sw, struct dynmem_memmap *m)
{
    int rc = 0;
    uint64_t start, count;
    GUARDED(sw, m, dynmem_memmap_add_boot(m, 0, 1u << 20));
    if (!rc)
        GUARDED(sw, m, dynmem_memmap_add_boot(m, 1u << 21, 1u << 20));
    if (!rc)
        rc = dynmem_memmap_set_hot_add_window(m, 1u << 23, 1u << 23);
    if (!rc)
        rc = dynmem_memmap_hot_add_plan(m, 1u << 19, &start, &count);
    if (!rc)
        GUARDED(sw, m, dynmem_memmap_hot_add_done(m, start, count, count, NULL));
    /* Scattered balloon ranges: enough to need several tree nodes. */
    for (uint64_t i = 0; i < 3000 && !rc; i++)
        GUARDED(sw, m, dynmem_memmap_balloon_record(m, i * 300, 2));
    for (uint64_t i = 0; i < 300 && !rc; i++)
        GUARDED(sw, m, dynmem_memmap_hot_remove_record(m, i * 3000 + 150, 1));
    while (!rc) {
        rc = dynmem_memmap_unballoon_take(m, 1000, &start, &count);
        if (!count)
            break;
    }
    return rc;
}

static int memmap_workload(struct failalloc *fa, void *ctx)
{
    struct dynmem_memmap *m;
    int rc = dynmem_memmap_new(&m, &fa->hook);
    if (rc)
        return rc;
    rc = memmap_steps(ctx, m);
    dynmem_memmap_free(m);
    return rc;
}

Test(memmap, allocation_failures_leave_the_books_intact)
{
    struct sweep sw = {0};
    long count;
    const char *why;
    long bad = failalloc_sweep(memmap_workload, &sw, &count, &why);
    cr_assert_eq(bad, 0, "allocation %ld: %s", bad, why ? why : "");
    cr_assert_gt(count, 10);
    cr_assert_eq(sw.corrupted, 0);
}
