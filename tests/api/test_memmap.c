/* The per-VM memory map through the public API: the worked hot-add example
 * of QEMU's hv-balloon (boot 4 GiB, a 32 GiB window at 32 GiB, 128 MiB
 * alignment, grow by 2 GiB), partial and failed hot-adds, lying guests,
 * unballoon order, hot-remove and resets. Every step checks that the
 * figures still add up. */
#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#define GIB_PAGES (UINT64_C(1) << 18)
#define MIB_PAGES UINT64_C(256)

static uint64_t fig(const struct dynmem_memmap *m, enum dynmem_memmap_figure f)
{
    uint64_t v = 0, bytes = 0;
    cr_assert_eq(dynmem_memmap_pages(m, f, &v), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_bytes(m, f, &bytes), DYNMEM_OK);
    cr_assert_eq(bytes, v * 4096);
    return v;
}

static void consistent(const struct dynmem_memmap *m)
{
    uint64_t visible = fig(m, DYNMEM_MEMMAP_VISIBLE);
    cr_assert_eq(visible, fig(m, DYNMEM_MEMMAP_BOOT) + fig(m, DYNMEM_MEMMAP_ADDED) -
                              fig(m, DYNMEM_MEMMAP_REMOVED));
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_CURRENT), visible - fig(m, DYNMEM_MEMMAP_BALLOONED));
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_WINDOW), fig(m, DYNMEM_MEMMAP_ADDED) +
                                                   fig(m, DYNMEM_MEMMAP_REMAINING) +
                                                   fig(m, DYNMEM_MEMMAP_UNUSABLE));
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED),
                 dynmem_pageset_pages(dynmem_memmap_ballooned(m)));
}

/* Boot 4 GiB at 0, hot-add window 32 GiB at GPA 32 GiB, 128 MiB alignment. */
static struct dynmem_memmap *example_vm(void)
{
    struct dynmem_memmap *m = NULL;
    cr_assert_eq(dynmem_memmap_new(&m, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_add_boot(m, 0, 4 * GIB_PAGES), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(m, 32 * GIB_PAGES, 32 * GIB_PAGES), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_alignment(m, 7), DYNMEM_OK);
    consistent(m);
    return m;
}

static void hot_add(struct dynmem_memmap *m, uint64_t wanted, uint64_t want_start,
                    uint64_t want_count, uint64_t guest_added, uint64_t want_accepted)
{
    uint64_t start, count, accepted;
    cr_assert_eq(dynmem_memmap_hot_add_plan(m, wanted, &start, &count), DYNMEM_OK);
    cr_assert(start == want_start && count == want_count, "planned (%#llx, %llu)",
              (unsigned long long)start, (unsigned long long)count);
    if (count) {
        cr_assert_eq(dynmem_memmap_hot_add_done(m, start, count, guest_added, &accepted),
                     DYNMEM_OK);
        cr_assert_eq(accepted, want_accepted);
    }
    consistent(m);
}

Test(memmap, worked_example_grow_by_2_gib)
{
    struct dynmem_memmap *m = example_vm();
    uint64_t bytes;
    cr_assert_eq(dynmem_memmap_bytes(m, DYNMEM_MEMMAP_BOOT, &bytes), DYNMEM_OK);
    cr_assert_eq(bytes, UINT64_C(4) << 30);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_CURRENT), 1048576);
    /* Target 6 GiB = 1572864 pages: 524288 to add, nothing ballooned. */
    hot_add(m, 1572864 - 1048576, 0x800000, 524288, 524288, 524288);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 1572864);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_CURRENT), 1572864);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMAINING), 32 * GIB_PAGES - 524288);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_UNUSABLE), 0);
    /* The next request continues where this one stopped. */
    hot_add(m, 3 * GIB_PAGES, 0x800000 + 524288, 524288, 524288, 524288);
    dynmem_memmap_free(m);
}

Test(memmap, requests_are_aligned_and_capped)
{
    struct dynmem_memmap *m = example_vm();
    uint64_t start, count;
    cr_assert_eq(dynmem_memmap_hot_add_plan(m, 100 * MIB_PAGES, &start, &count), DYNMEM_OK);
    cr_assert_eq(count, 0, "less than one alignment unit");
    hot_add(m, 300 * MIB_PAGES, 32 * GIB_PAGES, 256 * MIB_PAGES, 256 * MIB_PAGES, 256 * MIB_PAGES);
    /* The largest alignment (32 GiB) is its own cap. */
    cr_assert_eq(dynmem_memmap_set_hot_add_alignment(m, 15), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_hot_add_plan(m, 64 * GIB_PAGES, &start, &count), DYNMEM_OK);
    cr_assert_eq(count, 0, "rounding up to 64 GiB leaves nothing of the window");
    cr_assert_eq(dynmem_memmap_set_hot_add_alignment(m, 16), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_memmap_hot_add_plan(m, 0, &start, &count), DYNMEM_ERR_INVALID_ARGUMENT);
    dynmem_memmap_free(m);

    m = example_vm();
    cr_assert_eq(dynmem_memmap_set_hot_add_alignment(m, 15), DYNMEM_OK);
    hot_add(m, 64 * GIB_PAGES, 32 * GIB_PAGES, 32 * GIB_PAGES, 32 * GIB_PAGES, 32 * GIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMAINING), 0);
    dynmem_memmap_free(m);
}

Test(memmap, partial_hot_add_gives_up_the_rest)
{
    struct dynmem_memmap *m = example_vm();
    hot_add(m, 2 * GIB_PAGES, 0x800000, 524288, 4 * 32768, 4 * 32768);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_ADDED), 131072);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMAINING), 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_UNUSABLE), 32 * GIB_PAGES - 131072);
    hot_add(m, GIB_PAGES, 0, 0, 0, 0);
    /* A channel reset does not make the window usable again... */
    dynmem_memmap_reset_channel(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_ADDED), 131072);
    hot_add(m, GIB_PAGES, 0, 0, 0, 0);
    /* ...a system reset does, and forgets the hot-added memory. */
    dynmem_memmap_reset_system(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 4 * GIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMAINING), 32 * GIB_PAGES);
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    dynmem_memmap_free(m);
}

Test(memmap, failed_hot_add_and_overclaim)
{
    struct dynmem_memmap *m = example_vm();
    uint64_t accepted;
    /* The guest claims more than was asked: only what was asked counts. */
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, 5 * GIB_PAGES, GIB_PAGES);
    /* A range outside what remains of the window is refused. */
    cr_assert_eq(dynmem_memmap_hot_add_done(m, 0x800000, 10, 10, &accepted),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_memmap_hot_add_done(m, 63 * GIB_PAGES, 2 * GIB_PAGES, 1, &accepted),
                 DYNMEM_ERR_OUT_OF_RANGE);
    /* A failed hot-add (result 0 or nothing added) gives up the window. */
    hot_add(m, GIB_PAGES, 0x800000 + GIB_PAGES, GIB_PAGES, 0, 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_ADDED), GIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_UNUSABLE), 31 * GIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 5 * GIB_PAGES);
    dynmem_memmap_free(m);
}

Test(memmap, unaligned_window_skips_to_the_alignment)
{
    struct dynmem_memmap *m = NULL;
    cr_assert_eq(dynmem_memmap_new(&m, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_add_boot(m, 0, GIB_PAGES), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(m, GIB_PAGES + 100, GIB_PAGES), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_alignment(m, 7), DYNMEM_OK);
    hot_add(m, GIB_PAGES, GIB_PAGES + 128 * MIB_PAGES, 896 * MIB_PAGES, 896 * MIB_PAGES,
            896 * MIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_UNUSABLE), 128 * MIB_PAGES - 100, "skipped head");
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMAINING), 100);
    dynmem_memmap_free(m);
}

Test(memmap, guest_claims_are_checked)
{
    struct dynmem_memmap *m = example_vm();
    cr_assert_eq(dynmem_memmap_balloon_record(m, 1000, 512), DYNMEM_OK);
    /* Pages it never had: beyond boot memory, inside the unused window,
     * straddling the end of boot memory. Refused whole, not counted. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 5 * GIB_PAGES, 1), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 32 * GIB_PAGES, 512), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 4 * GIB_PAGES - 1, 2), DYNMEM_ERR_PAGES_OUTSIDE);
    /* The same pages twice, or a range overlapping them. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 1000, 512), DYNMEM_ERR_PAGES_BALLOONED);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 1500, 100), DYNMEM_ERR_PAGES_BALLOONED);
    /* Nonsense ranges. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 10, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_balloon_record(m, UINT64_C(1) << 40, 1), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 10, UINT64_MAX), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED), 512);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_CURRENT), 4 * GIB_PAGES - 512);
    /* A range touching the first one is new pages and merges with it. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 1512, 512), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_ranges(dynmem_memmap_ballooned(m)), 1);
    consistent(m);
    dynmem_memmap_free(m);
}

Test(memmap, unballoon_after_hot_add_gives_the_top_first)
{
    struct dynmem_memmap *m = example_vm();
    uint64_t start, count;
    hot_add(m, 2 * GIB_PAGES, 0x800000, 524288, 524288, 524288);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0, 512), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000 + 1024, 512), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000, 1), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 300, &start, &count), DYNMEM_OK);
    cr_assert(start == 0x800000 + 1024 + 212 && count == 300);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 1000, &start, &count), DYNMEM_OK);
    cr_assert(start == 0x800000 + 1024 && count == 212);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 1000, &start, &count), DYNMEM_OK);
    cr_assert(start == 0x800000 && count == 1);
    consistent(m);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 1000, &start, &count), DYNMEM_OK);
    cr_assert(start == 0 && count == 512);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 1000, &start, &count), DYNMEM_OK);
    cr_assert_eq(count, 0);
    cr_assert_eq(dynmem_memmap_unballoon_take(m, 0, &start, &count), DYNMEM_ERR_INVALID_ARGUMENT);
    /* Giving back can be undone if the request could not be sent. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0, 512), DYNMEM_OK);
    consistent(m);
    dynmem_memmap_free(m);
}

Test(memmap, resets)
{
    struct dynmem_memmap *m = example_vm();
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000, 4096), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0, 4096), DYNMEM_OK);
    dynmem_memmap_reset_channel(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 5 * GIB_PAGES);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000, 4096), DYNMEM_OK);
    dynmem_memmap_reset_system(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_ADDED), 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 4 * GIB_PAGES);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000, 1), DYNMEM_ERR_PAGES_OUTSIDE);
    consistent(m);
    dynmem_memmap_reset_channel(NULL);
    dynmem_memmap_reset_system(NULL);
    dynmem_memmap_free(m);
}

Test(memmap, hot_remove_shrinks_the_visible_maximum)
{
    struct dynmem_memmap *m = example_vm();
    bool in;
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000 + 100, 200), DYNMEM_OK);
    /* Ballooned pages are the host's already: a range with any is refused whole. */
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 0x800000, 32768), DYNMEM_ERR_PAGES_BALLOONED);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMOVED), 0);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED), 200);
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 0x800000 + 300, 32768 - 300), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 0x800000, 100), DYNMEM_OK);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 5 * GIB_PAGES - 32768 + 200);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_CURRENT), 5 * GIB_PAGES - 32768);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMOVED), 32768 - 200);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BALLOONED), 200);
    cr_assert_eq(dynmem_memmap_is_guest_memory(m, 0x800000, 1, &in), DYNMEM_OK);
    cr_assert_not(in);
    cr_assert_eq(dynmem_memmap_is_guest_memory(m, 0, 4 * GIB_PAGES, &in), DYNMEM_OK);
    cr_assert(in);
    /* Gone pages can be neither ballooned nor removed again. */
    cr_assert_eq(dynmem_memmap_balloon_record(m, 0x800000, 1), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 0x800000, 1), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 5 * GIB_PAGES, 1),
                 DYNMEM_ERR_PAGES_OUTSIDE);
    /* Boot memory can be hot-removed too. */
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 0, GIB_PAGES), DYNMEM_OK);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 4 * GIB_PAGES - 32768 + 200);
    consistent(m);
    dynmem_memmap_reset_system(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 4 * GIB_PAGES);
    dynmem_memmap_free(m);
}

/* Pages the guest hot-removed are not its own any more: a later hot-add
 * gives them back (the lowest aligned run first) before the window's rest,
 * so a guest that shrank by hot-remove can grow to its maximum again. */
Test(memmap, hot_removed_pages_are_hot_added_again)
{
    struct dynmem_memmap *m = example_vm();
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    /* The guest gives back 512 MiB of its hot-added top and 256 MiB of
     * boot memory, in pieces that are not all aligned. */
    uint64_t top = 0x800000 + GIB_PAGES - 512 * MIB_PAGES;
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, top, 512 * MIB_PAGES), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, 3 * GIB_PAGES + 64 * MIB_PAGES,
                                                 256 * MIB_PAGES), DYNMEM_OK);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 5 * GIB_PAGES - 768 * MIB_PAGES);
    /* The boot run comes first; only its aligned 128 MiB are planned. */
    hot_add(m, GIB_PAGES, 3 * GIB_PAGES + 128 * MIB_PAGES, 128 * MIB_PAGES, 128 * MIB_PAGES,
            128 * MIB_PAGES);
    bool in;
    cr_assert_eq(dynmem_memmap_is_guest_memory(m, 3 * GIB_PAGES + 128 * MIB_PAGES,
                                               128 * MIB_PAGES, &in), DYNMEM_OK);
    cr_assert(in);
    /* Then the hot-added top, whole, then the window's rest. */
    hot_add(m, GIB_PAGES, top, 512 * MIB_PAGES, 512 * MIB_PAGES, 512 * MIB_PAGES);
    hot_add(m, 256 * MIB_PAGES, 0x800000 + GIB_PAGES, 256 * MIB_PAGES, 256 * MIB_PAGES,
            256 * MIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_VISIBLE), 5 * GIB_PAGES + 128 * MIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMOVED), 128 * MIB_PAGES);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_ADDED), GIB_PAGES + 256 * MIB_PAGES);
    /* A re-add the guest takes only in part: removed pages stay out until
     * a system reset, and the window serves the next hot-add. */
    cr_assert_eq(dynmem_memmap_hot_remove_record(m, top, 256 * MIB_PAGES), DYNMEM_OK);
    hot_add(m, GIB_PAGES, top, 256 * MIB_PAGES, 100 * MIB_PAGES, 100 * MIB_PAGES);
    hot_add(m, 128 * MIB_PAGES, 0x800000 + GIB_PAGES + 256 * MIB_PAGES, 128 * MIB_PAGES,
            128 * MIB_PAGES, 128 * MIB_PAGES);
    uint64_t accepted;
    cr_assert_eq(dynmem_memmap_hot_add_done(m, top + 128 * MIB_PAGES, 128 * MIB_PAGES,
                                            128 * MIB_PAGES, &accepted),
                 DYNMEM_ERR_OUT_OF_RANGE, "not planned any more");
    dynmem_memmap_reset_system(m);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_REMOVED), 0);
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    dynmem_memmap_free(m);
}

Test(memmap, configuration_is_checked)
{
    struct dynmem_memmap *m = example_vm();
    uint64_t v;
    cr_assert_eq(dynmem_memmap_add_boot(m, GIB_PAGES, 1), DYNMEM_ERR_PAGES_OVERLAP);
    cr_assert_eq(dynmem_memmap_add_boot(m, 40 * GIB_PAGES, 1), DYNMEM_ERR_PAGES_OVERLAP);
    cr_assert_eq(dynmem_memmap_add_boot(m, 0, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_add_boot(m, (UINT64_C(1) << 40) - 1, 2), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_memmap_add_boot(m, (UINT64_C(1) << 40) - 1, 1), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(m, 4 * GIB_PAGES - 1, 2),
                 DYNMEM_ERR_PAGES_OVERLAP);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_BOOT), 4 * GIB_PAGES + 1);
    cr_assert_eq(fig(m, DYNMEM_MEMMAP_WINDOW), 32 * GIB_PAGES);
    hot_add(m, GIB_PAGES, 0x800000, GIB_PAGES, GIB_PAGES, GIB_PAGES);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(m, 100 * GIB_PAGES, 1), DYNMEM_ERR_BAD_STATE);
    cr_assert_eq(dynmem_memmap_pages(m, (enum dynmem_memmap_figure)0, &v),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_pages(m, (enum dynmem_memmap_figure)99, &v),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_pages(NULL, DYNMEM_MEMMAP_BOOT, &v), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_bytes(m, DYNMEM_MEMMAP_BOOT, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_memmap_new(NULL, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_null(dynmem_memmap_ballooned(NULL));
    dynmem_memmap_free(m);
    dynmem_memmap_free(NULL);

    /* Without a window nothing can be hot-added. */
    cr_assert_eq(dynmem_memmap_new(&m, NULL), DYNMEM_OK);
    hot_add(m, GIB_PAGES, 0, 0, 0, 0);
    dynmem_memmap_free(m);
}

Test(pages, conversions)
{
    uint64_t v;
    cr_assert_eq(dynmem_pages_to_bytes(3, &v), DYNMEM_OK);
    cr_assert_eq(v, 3 * 4096);
    cr_assert_eq(dynmem_pages_to_bytes(UINT64_MAX >> 12, &v), DYNMEM_OK);
    cr_assert_eq(dynmem_pages_to_bytes((UINT64_MAX >> 12) + 1, &v), DYNMEM_ERR_OVERFLOW);
    cr_assert_eq(v, (UINT64_MAX >> 12) << 12, "untouched on error");
    cr_assert_eq(dynmem_pages_to_bytes(1, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_bytes_to_pages(4097, false, &v), DYNMEM_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(dynmem_bytes_to_pages(4097, true, &v), DYNMEM_OK);
    cr_assert_eq(v, 2);
    cr_assert_eq(dynmem_bytes_to_pages(UINT64_MAX, true, &v), DYNMEM_OK);
    cr_assert_eq(v, (UINT64_MAX >> 12) + 1);
    cr_assert_eq(dynmem_bytes_to_pages(0, true, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(DYNMEM_PAGE_SIZE, 4096);
}
