/* The memory map against a page-by-page model: seeded random sequences of
 * guest claims (true and false), hot-adds that succeed, stop short or fail
 * (into the window, or re-adding hot-removed pages), unballoons,
 * hot-removes and resets. Every answer and every figure must
 * match the model after every step. */
#include <criterion/criterion.h>
#include <dynmem/dynmem.h>
#include <string.h>

#include "splitmix.h"

/* Boot memory [0, 1024) and [1536, 2048) around a hole; hot-add window
 * [2048, 4096); alignment 1 MiB = 256 pages. */
#define SPACE 4096u
#define WIN_START 2048u
#define ALIGN 256u

enum state { ABSENT, PRESENT, BALLOONED, REMOVED };

struct model {
    unsigned char page[SPACE];
    uint64_t cursor, limit, added, visible, ballooned, removed;
    bool reuse_off; /* a re-add stopped short: removed pages stay out */
};

static uint64_t below(uint64_t *x, uint64_t n)
{
    return splitmix_next(x) % n;
}

static void model_boot(struct model *m)
{
    memset(m->page, ABSENT, sizeof m->page);
    memset(&m->page[0], PRESENT, 1024);
    memset(&m->page[1536], PRESENT, 512);
    m->cursor = WIN_START;
    m->limit = SPACE;
    m->added = m->ballooned = m->removed = 0;
    m->visible = 1536;
    m->reuse_off = false;
}

static unsigned count_state(const struct model *m, uint64_t s, uint64_t n, enum state st)
{
    unsigned c = 0;
    for (uint64_t p = s; p < s + n; p++)
        c += m->page[p] == st;
    return c;
}

static void step_balloon(struct dynmem_memmap *mm, struct model *m, uint64_t *x)
{
    uint64_t n = 1 + below(x, 64), s = below(x, SPACE - n + 1);
    int want = DYNMEM_OK;
    if (count_state(m, s, n, PRESENT) + count_state(m, s, n, BALLOONED) != n)
        want = DYNMEM_ERR_PAGES_OUTSIDE;
    else if (count_state(m, s, n, BALLOONED))
        want = DYNMEM_ERR_PAGES_BALLOONED;
    cr_assert_eq(dynmem_memmap_balloon_record(mm, s, n), want, "balloon (%llu, %llu)",
                 (unsigned long long)s, (unsigned long long)n);
    if (want == DYNMEM_OK) {
        memset(&m->page[s], BALLOONED, n);
        m->ballooned += n;
    }
}

static void step_unballoon(struct dynmem_memmap *mm, struct model *m, uint64_t *x)
{
    uint64_t max = 1 + below(x, 100), start, count, end = SPACE;
    while (end > 0 && m->page[end - 1] != BALLOONED)
        end--;
    uint64_t s = end;
    while (s > 0 && m->page[s - 1] == BALLOONED && end - s < max)
        s--;
    cr_assert_eq(dynmem_memmap_unballoon_take(mm, max, &start, &count), DYNMEM_OK);
    cr_assert_eq(count, end - s);
    cr_assert(count == 0 || start == s);
    memset(&m->page[s], PRESENT, end - s);
    m->ballooned -= end - s;
}

/* The lowest aligned run of removed pages, at most `wanted` (rounded down
 * to the alignment): what a hot-add plans first. */
static uint64_t removed_run(const struct model *m, uint64_t wanted, uint64_t *start)
{
    for (uint64_t s = 0; s < SPACE; s += ALIGN) {
        uint64_t n = 0;
        while (s + n < SPACE && m->page[s + n] == REMOVED && n < wanted)
            n++;
        n = n / ALIGN * ALIGN;
        if (n) {
            *start = s;
            return n;
        }
    }
    return 0;
}

static void step_hot_add(struct dynmem_memmap *mm, struct model *m, uint64_t *x)
{
    uint64_t wanted = 1 + below(x, 1200), start, count, accepted;
    uint64_t s = 0, n = m->reuse_off ? 0 : removed_run(m, wanted, &s);
    bool reuse = n != 0;
    if (!reuse) {
        s = (m->cursor + ALIGN - 1) / ALIGN * ALIGN;
        if (s < m->limit)
            n = (m->limit - s < wanted ? m->limit - s : wanted) / ALIGN * ALIGN;
    }
    cr_assert_eq(dynmem_memmap_hot_add_plan(mm, wanted, &start, &count), DYNMEM_OK);
    cr_assert_eq(count, n);
    if (!n)
        return;
    cr_assert_eq(start, s);
    /* The guest adds all, part, nothing, or claims more than asked. */
    uint64_t answers[4] = {n, below(x, n), 0, n + 1 + below(x, 1000)};
    uint64_t added = answers[below(x, 4)], acc = added < n ? added : n;
    cr_assert_eq(dynmem_memmap_hot_add_done(mm, start, count, added, &accepted), DYNMEM_OK);
    cr_assert_eq(accepted, acc);
    memset(&m->page[s], PRESENT, acc);
    m->visible += acc;
    if (reuse) {
        m->removed -= acc;
        m->reuse_off = acc < n;
        return;
    }
    m->added += acc;
    m->cursor = s + acc;
    if (acc < n)
        m->limit = m->cursor;
}

static void step_hot_remove(struct dynmem_memmap *mm, struct model *m, uint64_t *x)
{
    /* Mostly a few pages anywhere; sometimes a whole aligned run, which a
     * later hot-add can take back. */
    uint64_t n = 1 + below(x, 32), s = below(x, SPACE - n + 1);
    if (below(x, 4) == 0) {
        n = ALIGN * (1 + below(x, 2));
        s = below(x, SPACE / ALIGN - 1) * ALIGN;
    }
    unsigned present = count_state(m, s, n, PRESENT), b = count_state(m, s, n, BALLOONED);
    int want = present + b < n ? DYNMEM_ERR_PAGES_OUTSIDE
               : b         ? DYNMEM_ERR_PAGES_BALLOONED
                           : DYNMEM_OK;
    cr_assert_eq(dynmem_memmap_hot_remove_record(mm, s, n), want);
    if (want == DYNMEM_OK) {
        memset(&m->page[s], REMOVED, n);
        m->removed += n;
        m->visible -= n;
    }
}

static void step_reset(struct dynmem_memmap *mm, struct model *m, bool system)
{
    if (system) {
        dynmem_memmap_reset_system(mm);
        model_boot(m);
        return;
    }
    dynmem_memmap_reset_channel(mm);
    for (unsigned p = 0; p < SPACE; p++)
        if (m->page[p] == BALLOONED)
            m->page[p] = PRESENT;
    m->ballooned = 0;
}

static uint64_t fig(const struct dynmem_memmap *mm, enum dynmem_memmap_figure f)
{
    uint64_t v = 0;
    cr_assert_eq(dynmem_memmap_pages(mm, f, &v), DYNMEM_OK);
    return v;
}

static void compare(const struct dynmem_memmap *mm, const struct model *m, bool pages)
{
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_BOOT), 1536);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_VISIBLE), m->visible);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_BALLOONED), m->ballooned);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_CURRENT), m->visible - m->ballooned);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_ADDED), m->added);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_REMOVED), m->removed);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_REMAINING), m->limit - m->cursor);
    cr_assert_eq(fig(mm, DYNMEM_MEMMAP_UNUSABLE), SPACE - WIN_START - m->added - (m->limit - m->cursor));
    if (!pages)
        return;
    for (unsigned p = 0; p < SPACE; p++) {
        bool in, ball;
        cr_assert_eq(dynmem_memmap_is_guest_memory(mm, p, 1, &in), DYNMEM_OK);
        cr_assert_eq(in, m->page[p] == PRESENT || m->page[p] == BALLOONED, "page %u", p);
        dynmem_pageset_contains(dynmem_memmap_ballooned(mm), p, 1, &ball);
        cr_assert_eq(ball, m->page[p] == BALLOONED, "page %u", p);
    }
}

static void run_sequence(uint64_t seed, unsigned steps)
{
    struct dynmem_memmap *mm;
    struct model m;
    uint64_t x = seed;
    cr_assert_eq(dynmem_memmap_new(&mm, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_add_boot(mm, 0, 1024), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_add_boot(mm, 1536, 512), DYNMEM_OK);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(mm, WIN_START, SPACE - WIN_START), DYNMEM_OK);
    model_boot(&m);
    for (unsigned i = 1; i <= steps; i++) {
        unsigned op = (unsigned)below(&x, 100);
        if (op < 45)
            step_balloon(mm, &m, &x);
        else if (op < 65)
            step_unballoon(mm, &m, &x);
        else if (op < 80)
            step_hot_add(mm, &m, &x);
        else if (op < 97)
            step_hot_remove(mm, &m, &x);
        else
            step_reset(mm, &m, op == 99);
        compare(mm, &m, i % 100 == 0);
    }
    dynmem_memmap_free(mm);
}

Test(memmap_model, random_claims_and_answers)
{
    for (uint64_t seed = 1; seed <= 400; seed++)
        run_sequence(seed, 300);
}
