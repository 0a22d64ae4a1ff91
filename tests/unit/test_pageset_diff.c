/* Differential test: seeded random operation sequences applied both to a
 * page-range set and to a bitmap over a small address space; every result
 * and the whole content must agree after every step, and the B+-tree must
 * stay sound. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "splitmix.h"

#include "pageset_check.h"

struct model {
    unsigned space; /* pages 0..space-1 */
    unsigned char *bit;
    uint64_t pages; /* bits set */
};

static unsigned rng_below(uint64_t *x, unsigned n)
{
    return (unsigned)(splitmix_next(x) % n);
}

static uint64_t model_count(const struct model *m, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (uint64_t p = start; p < end; p++)
        n += m->bit[p];
    return n;
}

static void model_set(struct model *m, uint64_t start, uint64_t end, unsigned char v)
{
    uint64_t was = model_count(m, start, end);
    m->pages = m->pages - was + (v ? end - start : 0);
    memset(&m->bit[start], v, (size_t)(end - start));
}

/* The highest run of set pages, capped to its top max pages. */
static void model_pop(struct model *m, uint64_t max, uint64_t *start, uint64_t *count)
{
    uint64_t end = m->space;
    while (end > 0 && !m->bit[end - 1])
        end--;
    uint64_t s = end;
    while (s > 0 && m->bit[s - 1] && end - s < max)
        s--;
    *start = end > s ? s : 0;
    *count = end - s;
    model_set(m, s, end, 0);
}

/* The maximal run holding the first set page at or above from. */
static bool model_next(const struct model *m, uint64_t from, uint64_t *start, uint64_t *count)
{
    uint64_t p = from;
    while (p < m->space && !m->bit[p])
        p++;
    if (p >= m->space)
        return false;
    uint64_t s = p, e = p;
    while (s > 0 && m->bit[s - 1])
        s--;
    while (e < m->space && m->bit[e])
        e++;
    *start = s;
    *count = e - s;
    return true;
}

/* Compares the whole content by iterating the set with next(). */
static void compare_all(const struct dynmem_pageset *s, const struct model *m, uint64_t seed)
{
    uint64_t from = 0, pages = 0, start, count;
    size_t ranges = 0;
    uint64_t prev_end = 0;
    while (dynmem_pageset_next(s, from, &start, &count) == DYNMEM_OK) {
        cr_assert(ranges == 0 || start > prev_end, "seed %llu: ranges touch", (unsigned long long)seed);
        cr_assert_eq(model_count(m, start, start + count), count, "seed %llu: extra pages",
                     (unsigned long long)seed);
        cr_assert(start == 0 || !m->bit[start - 1], "seed %llu: range not maximal", (unsigned long long)seed);
        cr_assert(start + count >= m->space || !m->bit[start + count], "seed %llu: range not maximal",
                  (unsigned long long)seed);
        pages += count;
        ranges++;
        prev_end = from = start + count;
    }
    cr_assert_eq(pages, model_count(m, 0, m->space), "seed %llu: missing pages", (unsigned long long)seed);
    cr_assert_eq(ranges, dynmem_pageset_ranges(s), "seed %llu", (unsigned long long)seed);
    cr_assert_eq(pages, dynmem_pageset_pages(s), "seed %llu", (unsigned long long)seed);
    const char *why = pageset_check(s);
    cr_assert_null(why, "seed %llu: %s", (unsigned long long)seed, why ? why : "");
}

static void random_range(uint64_t *x, const struct model *m, uint64_t *start, uint64_t *count)
{
    /* Mostly short ranges so that many separate ranges build up. */
    unsigned len = rng_below(x, 8) == 0 ? 1 + rng_below(x, 64) : 1 + rng_below(x, 4);
    if (len > m->space)
        len = m->space;
    *start = rng_below(x, m->space - len + 1);
    *count = len;
}

static void one_step(struct dynmem_pageset *s, struct model *m, uint64_t *x, uint64_t seed)
{
    uint64_t start, count, got, want, got2;
    bool b;
    random_range(x, m, &start, &count);
    unsigned op = rng_below(x, 16);
    if (op < 8) {
        want = model_count(m, start, start + count);
        cr_assert_eq(dynmem_pageset_insert(s, start, count, &got), DYNMEM_OK);
        cr_assert_eq(got, want, "seed %llu: duplicates", (unsigned long long)seed);
        model_set(m, start, start + count, 1);
    } else if (op < 12) {
        want = model_count(m, start, start + count);
        cr_assert_eq(dynmem_pageset_remove(s, start, count, &got), DYNMEM_OK);
        cr_assert_eq(got, want, "seed %llu: removed", (unsigned long long)seed);
        model_set(m, start, start + count, 0);
    } else if (op == 12) {
        uint64_t max = 1 + rng_below(x, 16), mstart, mcount;
        cr_assert_eq(dynmem_pageset_pop(s, max, &got, &got2), DYNMEM_OK);
        model_pop(m, max, &mstart, &mcount);
        cr_assert(got == mstart && got2 == mcount, "seed %llu: pop", (unsigned long long)seed);
    } else {
        want = model_count(m, start, start + count);
        cr_assert_eq(dynmem_pageset_count_in(s, start, count, &got), DYNMEM_OK);
        cr_assert_eq(got, want, "seed %llu: count_in", (unsigned long long)seed);
        cr_assert_eq(dynmem_pageset_intersects(s, start, count, &b), DYNMEM_OK);
        cr_assert_eq(b, want > 0, "seed %llu: intersects", (unsigned long long)seed);
        cr_assert_eq(dynmem_pageset_contains(s, start, count, &b), DYNMEM_OK);
        cr_assert_eq(b, want == count, "seed %llu: contains", (unsigned long long)seed);
        uint64_t mstart = 0, mcount = 0;
        b = model_next(m, start, &mstart, &mcount);
        cr_assert_eq(dynmem_pageset_next(s, start, &got, &got2),
                     b ? DYNMEM_OK : DYNMEM_ERR_NOT_FOUND, "seed %llu: next", (unsigned long long)seed);
        cr_assert(!b || (got == mstart && got2 == mcount), "seed %llu: next", (unsigned long long)seed);
    }
}

/* Returns the greatest tree height seen. */
static unsigned run_sequence(uint64_t seed, unsigned space, unsigned steps, unsigned check_every)
{
    unsigned height = 0;
    struct model m = {space, calloc(space, 1), 0};
    struct dynmem_pageset *s;
    cr_assert_not_null(m.bit);
    cr_assert_eq(dynmem_pageset_new(&s, NULL), DYNMEM_OK);
    uint64_t x = seed;
    for (unsigned i = 1; i <= steps; i++) {
        one_step(s, &m, &x, seed);
        cr_assert_eq(dynmem_pageset_pages(s), m.pages, "seed %llu step %u",
                     (unsigned long long)seed, i);
        if (i % check_every == 0 || i == steps)
            compare_all(s, &m, seed);
        if (s->height > height)
            height = s->height;
    }
    dynmem_pageset_free(s);
    free(m.bit);
    return height;
}

Test(pageset_diff, many_short_sequences)
{
    for (uint64_t seed = 1; seed <= 3000; seed++)
        run_sequence(seed, 64 + (unsigned)(seed % 7) * 64, 200, 1);
}

/* Enough ranges for a tree three levels deep (over 64 full leaves), with
 * the whole content compared now and then. */
Test(pageset_diff, long_sequences_deep_tree)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        cr_assert_geq(run_sequence(seed * 7919, 60000, 100000, 2500), 3);
}
