/* White-box tests of page-range sets: every operation at its edges, the
 * tree's invariants after each, memory per range, and allocation failure. */
#include <criterion/criterion.h>

#include "failalloc.h"
#include "pageset_check.h"

static struct dynmem_pageset *make(void)
{
    struct dynmem_pageset *s = NULL;
    cr_assert_eq(dynmem_pageset_new(&s, NULL), DYNMEM_OK);
    return s;
}

static void sound(const struct dynmem_pageset *s)
{
    const char *why = pageset_check(s);
    cr_assert_null(why, "%s", why ? why : "");
}

static void expect_ranges(const struct dynmem_pageset *s, const uint64_t (*want)[2], size_t n)
{
    uint64_t from = 0, start, count;
    size_t i = 0;
    while (dynmem_pageset_next(s, from, &start, &count) == DYNMEM_OK) {
        cr_assert_lt(i, n, "more ranges than expected");
        cr_assert(start == want[i][0] && count == want[i][1],
                  "range %zu is (%llu, %llu)", i, (unsigned long long)start,
                  (unsigned long long)count);
        from = start + count;
        i++;
    }
    cr_assert_eq(i, n, "fewer ranges than expected");
    cr_assert_eq(dynmem_pageset_ranges(s), n);
    sound(s);
}

Test(pageset, empty_set)
{
    struct dynmem_pageset *s = make();
    uint64_t start = 9, count = 9, n = 9;
    bool b = true;
    cr_assert_eq(dynmem_pageset_pages(s), 0);
    cr_assert_eq(dynmem_pageset_ranges(s), 0);
    cr_assert_eq(dynmem_pageset_pop(s, 5, &start, &count), DYNMEM_OK);
    cr_assert(start == 0 && count == 0);
    cr_assert_eq(dynmem_pageset_next(s, 0, &start, &count), DYNMEM_ERR_NOT_FOUND);
    cr_assert_eq(dynmem_pageset_intersects(s, 0, 10, &b), DYNMEM_OK);
    cr_assert_not(b);
    cr_assert_eq(dynmem_pageset_contains(s, 0, 1, &b), DYNMEM_OK);
    cr_assert_not(b);
    cr_assert_eq(dynmem_pageset_remove(s, 0, 100, &n), DYNMEM_OK);
    cr_assert_eq(n, 0);
    dynmem_pageset_clear(s);
    sound(s);
    dynmem_pageset_free(s);
    dynmem_pageset_free(NULL);
    dynmem_pageset_clear(NULL);
    cr_assert_eq(dynmem_pageset_pages(NULL), 0);
    cr_assert_eq(dynmem_pageset_ranges(NULL), 0);
    cr_assert_eq(dynmem_pageset_footprint(NULL), 0);
}

Test(pageset, bad_arguments_refused)
{
    struct dynmem_pageset *s = make();
    uint64_t a, b;
    bool f;
    cr_assert_eq(dynmem_pageset_new(NULL, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    struct dynmem_allocator incomplete = DYNMEM_ALLOCATOR_INIT;
    struct dynmem_pageset *untouched = (struct dynmem_pageset *)&a;
    cr_assert_eq(dynmem_pageset_new(&untouched, &incomplete), DYNMEM_ERR_BAD_ALLOCATOR);
    cr_assert_eq(untouched, (struct dynmem_pageset *)&a);
    cr_assert_eq(dynmem_pageset_insert(NULL, 0, 1, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_insert(s, 5, 0, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_remove(s, 5, 0, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_pop(s, 0, &a, &b), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_pop(s, 1, NULL, &b), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_count_in(s, 5, 0, &a), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_intersects(s, 5, 0, &f), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_contains(s, 5, 1, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pageset_next(s, 0, NULL, &b), DYNMEM_ERR_INVALID_ARGUMENT);
    /* A range may end at 2^64 - 1 (exclusive) but not wrap. */
    cr_assert_eq(dynmem_pageset_insert(s, UINT64_MAX, 1, NULL), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pageset_insert(s, UINT64_MAX - 1, 2, NULL), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pageset_remove(s, 2, UINT64_MAX, NULL), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pageset_pages(s), 0);
    sound(s);
    dynmem_pageset_free(s);
}

Test(pageset, highest_pages_and_whole_space)
{
    struct dynmem_pageset *s = make();
    uint64_t dup, start, count;
    cr_assert_eq(dynmem_pageset_insert(s, UINT64_MAX - 1, 1, &dup), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_insert(s, 0, 1, &dup), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_pages(s), 2);
    cr_assert_eq(dynmem_pageset_next(s, 1, &start, &count), DYNMEM_OK);
    cr_assert(start == UINT64_MAX - 1 && count == 1);
    cr_assert_eq(dynmem_pageset_insert(s, 0, UINT64_MAX, &dup), DYNMEM_OK);
    cr_assert_eq(dup, 2);
    cr_assert_eq(dynmem_pageset_pages(s), UINT64_MAX);
    expect_ranges(s, (const uint64_t[][2]){{0, UINT64_MAX}}, 1);
    cr_assert_eq(dynmem_pageset_pop(s, UINT64_MAX, &start, &count), DYNMEM_OK);
    cr_assert(start == 0 && count == UINT64_MAX);
    cr_assert_eq(dynmem_pageset_ranges(s), 0);
    dynmem_pageset_free(s);
}

Test(pageset, insert_merges_touching_and_counts_duplicates)
{
    struct dynmem_pageset *s = make();
    uint64_t dup;
    cr_assert_eq(dynmem_pageset_insert(s, 10, 5, &dup), DYNMEM_OK);
    cr_assert_eq(dup, 0);
    cr_assert_eq(dynmem_pageset_insert(s, 15, 5, &dup), DYNMEM_OK); /* touches above */
    cr_assert_eq(dynmem_pageset_insert(s, 5, 5, &dup), DYNMEM_OK);  /* touches below */
    cr_assert_eq(dup, 0);
    expect_ranges(s, (const uint64_t[][2]){{5, 15}}, 1);
    cr_assert_eq(dynmem_pageset_insert(s, 30, 1, &dup), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_insert(s, 8, 4, &dup), DYNMEM_OK); /* all inside */
    cr_assert_eq(dup, 4);
    cr_assert_eq(dynmem_pageset_insert(s, 18, 20, &dup), DYNMEM_OK); /* bridges two */
    cr_assert_eq(dup, 3);
    expect_ranges(s, (const uint64_t[][2]){{5, 33}}, 1);
    cr_assert_eq(dynmem_pageset_pages(s), 33);
    dynmem_pageset_free(s);
}

Test(pageset, insert_absorbs_many_ranges_across_leaves)
{
    struct dynmem_pageset *s = make();
    uint64_t dup;
    for (uint64_t p = 0; p < 20000; p += 2)
        cr_assert_eq(dynmem_pageset_insert(s, p, 1, NULL), DYNMEM_OK);
    sound(s);
    cr_assert_eq(dynmem_pageset_ranges(s), 10000);
    cr_assert_eq(dynmem_pageset_insert(s, 1001, 10000, &dup), DYNMEM_OK);
    cr_assert_eq(dup, 5000);
    sound(s);
    cr_assert_eq(dynmem_pageset_ranges(s), 500 + 1 + 4499);
    cr_assert_eq(dynmem_pageset_insert(s, 0, 20000, &dup), DYNMEM_OK);
    expect_ranges(s, (const uint64_t[][2]){{0, 20000}}, 1);
    dynmem_pageset_free(s);
}

Test(pageset, remove_splits_trims_and_ignores_absent_pages)
{
    struct dynmem_pageset *s = make();
    uint64_t n;
    cr_assert_eq(dynmem_pageset_insert(s, 0, 100, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_remove(s, 40, 10, &n), DYNMEM_OK);
    cr_assert_eq(n, 10);
    expect_ranges(s, (const uint64_t[][2]){{0, 40}, {50, 50}}, 2);
    cr_assert_eq(dynmem_pageset_remove(s, 35, 20, &n), DYNMEM_OK); /* trims both */
    cr_assert_eq(n, 10);
    expect_ranges(s, (const uint64_t[][2]){{0, 35}, {55, 45}}, 2);
    cr_assert_eq(dynmem_pageset_remove(s, 200, 5, &n), DYNMEM_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(dynmem_pageset_remove(s, 0, 1, &n), DYNMEM_OK); /* single page */
    cr_assert_eq(dynmem_pageset_remove(s, 99, 1, &n), DYNMEM_OK);
    expect_ranges(s, (const uint64_t[][2]){{1, 34}, {55, 44}}, 2);
    cr_assert_eq(dynmem_pageset_remove(s, 0, 1000, &n), DYNMEM_OK);
    cr_assert_eq(n, 78);
    expect_ranges(s, NULL, 0);
    dynmem_pageset_free(s);
}

Test(pageset, pop_takes_the_top_first)
{
    struct dynmem_pageset *s = make();
    uint64_t start, count;
    cr_assert_eq(dynmem_pageset_insert(s, 0, 10, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_insert(s, 20, 10, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_pop(s, 4, &start, &count), DYNMEM_OK);
    cr_assert(start == 26 && count == 4);
    cr_assert_eq(dynmem_pageset_pop(s, 100, &start, &count), DYNMEM_OK);
    cr_assert(start == 20 && count == 6);
    cr_assert_eq(dynmem_pageset_pop(s, 100, &start, &count), DYNMEM_OK);
    cr_assert(start == 0 && count == 10);
    cr_assert_eq(dynmem_pageset_pages(s), 0);
    sound(s);
    dynmem_pageset_free(s);
}

Test(pageset, queries)
{
    struct dynmem_pageset *s = make();
    bool b;
    uint64_t n, start, count;
    cr_assert_eq(dynmem_pageset_insert(s, 10, 10, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_insert(s, 30, 10, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pageset_intersects(s, 20, 10, &b), DYNMEM_OK);
    cr_assert_not(b, "a gap touching both ranges does not intersect them");
    cr_assert_eq(dynmem_pageset_intersects(s, 19, 12, &b), DYNMEM_OK);
    cr_assert(b);
    cr_assert_eq(dynmem_pageset_contains(s, 10, 10, &b), DYNMEM_OK);
    cr_assert(b);
    cr_assert_eq(dynmem_pageset_contains(s, 10, 11, &b), DYNMEM_OK);
    cr_assert_not(b);
    cr_assert_eq(dynmem_pageset_count_in(s, 0, 100, &n), DYNMEM_OK);
    cr_assert_eq(n, 20);
    cr_assert_eq(dynmem_pageset_count_in(s, 15, 20, &n), DYNMEM_OK);
    cr_assert_eq(n, 10);
    cr_assert_eq(dynmem_pageset_next(s, 15, &start, &count), DYNMEM_OK);
    cr_assert(start == 10 && count == 10, "next returns the whole range holding `from`");
    cr_assert_eq(dynmem_pageset_next(s, 20, &start, &count), DYNMEM_OK);
    cr_assert_eq(start, 30);
    cr_assert_eq(dynmem_pageset_next(s, 40, &start, &count), DYNMEM_ERR_NOT_FOUND);
    dynmem_pageset_free(s);
}

/* Bytes per stored range, counting every byte the set holds. */
static double bytes_per_range(const struct dynmem_pageset *s)
{
    return (double)dynmem_pageset_footprint(s) / (double)dynmem_pageset_ranges(s);
}

Test(pageset, memory_per_range)
{
    const uint64_t n = 200000;
    struct dynmem_pageset *up = make(), *down = make(), *rnd = make();
    uint64_t x = 12345;
    for (uint64_t i = 0; i < n; i++) {
        cr_assert_eq(dynmem_pageset_insert(up, 2 * i, 1, NULL), DYNMEM_OK);
        cr_assert_eq(dynmem_pageset_insert(down, 2 * (n - i), 1, NULL), DYNMEM_OK);
        x = x * 6364136223846793005u + 1442695040888963407u;
        cr_assert_eq(dynmem_pageset_insert(rnd, (x >> 20) * 2, 1, NULL), DYNMEM_OK);
    }
    sound(up);
    sound(down);
    sound(rnd);
    cr_assert_leq(bytes_per_range(up), 18.0, "ascending: %.1f", bytes_per_range(up));
    cr_assert_leq(bytes_per_range(down), 18.0, "descending: %.1f", bytes_per_range(down));
    cr_assert_leq(bytes_per_range(rnd), 32.0, "random: %.1f", bytes_per_range(rnd));
    /* Removing most ranges gives nodes back: leaves are merged. */
    size_t before = dynmem_pageset_footprint(up);
    for (uint64_t i = 0; i < n; i++)
        if (i % 8)
            cr_assert_eq(dynmem_pageset_remove(up, 2 * i, 1, NULL), DYNMEM_OK);
    sound(up);
    cr_assert_eq(dynmem_pageset_ranges(up), n / 8);
    cr_assert_leq(dynmem_pageset_footprint(up), before / 3);
    dynmem_pageset_clear(up);
    cr_assert_eq(dynmem_pageset_footprint(up), sizeof(struct dynmem_pageset));
    dynmem_pageset_free(up);
    dynmem_pageset_free(down);
    dynmem_pageset_free(rnd);
}

/* A tree several levels deep taken apart in scattered order, and another
 * popped from the top: every merge and borrow, then the root collapsing. */
Test(pageset, shrink_deep_tree_to_nothing)
{
    const uint64_t n = 150000; /* coprime with the step below */
    struct dynmem_pageset *a = make(), *b = make();
    for (uint64_t i = 0; i < n; i++) {
        cr_assert_eq(dynmem_pageset_insert(a, 2 * i, 1, NULL), DYNMEM_OK);
        cr_assert_eq(dynmem_pageset_insert(b, 3 * i, 2, NULL), DYNMEM_OK);
    }
    cr_assert_geq(a->height, 3);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = k * 7919 % n, removed;
        cr_assert_eq(dynmem_pageset_remove(a, 2 * i, 1, &removed), DYNMEM_OK);
        cr_assert_eq(removed, 1);
        if (k % 5000 == 0)
            sound(a);
    }
    uint64_t start, count, popped = 0;
    while (dynmem_pageset_pop(b, 3, &start, &count) == DYNMEM_OK && count) {
        popped += count;
        if (popped % 20000 == 0)
            sound(b);
    }
    cr_assert_eq(popped, 2 * n);
    sound(a);
    sound(b);
    cr_assert_eq(a->height, 0);
    cr_assert_leq(dynmem_pageset_footprint(a), sizeof *a + 17 * 1024);
    dynmem_pageset_free(a);
    dynmem_pageset_free(b);
}

/* ---- allocation failure ---------------------------------------------- */

struct sweep {
    long corrupted; /* failed calls that changed or broke the set */
};

/* Runs one call and, if it failed, checks the set is as it was. */
static int guarded(struct sweep *sw, struct dynmem_pageset *s, int rc, uint64_t pages,
                   size_t ranges)
{
    if (rc && (dynmem_pageset_pages(s) != pages || dynmem_pageset_ranges(s) != ranges ||
               pageset_check(s)))
        sw->corrupted++;
    return rc;
}

static int pageset_workload(struct failalloc *fa, void *ctx)
{
    struct sweep *sw = ctx;
    struct dynmem_pageset *s;
    int rc = dynmem_pageset_new(&s, &fa->hook);
    if (rc)
        return rc;
    for (uint64_t i = 0; i < 6000 && !rc; i++) {
        uint64_t pages = dynmem_pageset_pages(s);
        size_t ranges = dynmem_pageset_ranges(s);
        if (i % 3 == 2) /* splits a range: may need a node */
            rc = dynmem_pageset_remove(s, (i - 2) * 4 + 1, 1, NULL);
        else
            rc = dynmem_pageset_insert(s, i * 4, 3, NULL);
        rc = guarded(sw, s, rc, pages, ranges);
    }
    dynmem_pageset_free(s);
    return rc;
}

Test(pageset, allocation_failures_leave_the_set_intact)
{
    struct sweep sw = {0};
    long count;
    const char *why;
    long bad = failalloc_sweep(pageset_workload, &sw, &count, &why);
    cr_assert_eq(bad, 0, "allocation %ld: %s", bad, why ? why : "");
    cr_assert_gt(count, 10, "the workload should allocate several nodes");
    cr_assert_eq(sw.corrupted, 0);
}
