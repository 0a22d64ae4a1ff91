/* The per-VM memory map: four page-range sets (boot, hot-added,
 * hot-removed, ballooned) and the hot-add window, kept consistent by
 * checking every claim before anything changes and reserving every node a
 * change needs before making it. */
#include <dynmem/memmap.h>
#include <dynmem/proto.h>

#include <string.h>

#include "alloc.h"
#include "pageset.h"

/* The window is used from the bottom up: [win_start, cursor) is added or
 * skipped, [cursor, limit) remains, [limit, win_end) is given up. Pages the
 * guest hot-removed (boot or added) can be hot-added again, before the
 * window's rest, until a re-add stops short (reuse_given_up). */
struct dynmem_memmap {
    struct dynmem__alloc alloc;
    struct dynmem_pageset boot;
    struct dynmem_pageset added;
    struct dynmem_pageset removed;
    struct dynmem_pageset ballooned;
    uint64_t win_start, win_end;
    uint64_t cursor, limit;
    unsigned align_log2; /* in MiB */
    bool reuse_given_up;
};

_Static_assert(DYNMEM_MEMMAP_ALIGNMENT_MAX == DYNMEM_PROTO_ALIGNMENT_MAX,
               "the map takes every exponent the protocol carries");

/* The alignment in 4 KiB pages (the exponent was checked when set). */
static uint64_t align_pages(const struct dynmem_memmap *m)
{
    uint64_t bytes = 0;
    (void)dynmem_proto_alignment_bytes(m->align_log2, &bytes);
    return bytes >> DYNMEM_PAGE_SHIFT;
}

static int check_range(uint64_t start, uint64_t count, uint64_t *end)
{
    if (count == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (start >= DYNMEM_MEMMAP_PAGES_MAX || count > DYNMEM_MEMMAP_PAGES_MAX - start)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *end = start + count;
    return DYNMEM_OK;
}

static int check_args(const struct dynmem_memmap *m, uint64_t start, uint64_t count,
                      uint64_t *end)
{
    return m ? check_range(start, count, end) : DYNMEM_ERR_INVALID_ARGUMENT;
}

static bool is_guest_memory(const struct dynmem_memmap *m, uint64_t start, uint64_t end)
{
    /* Boot memory and the window never overlap, so the counts add up. */
    uint64_t held = dynmem__pageset_count_in(&m->boot, start, end) +
                    dynmem__pageset_count_in(&m->added, start, end);
    return held == end - start && dynmem__pageset_count_in(&m->removed, start, end) == 0;
}

int dynmem_memmap_new(struct dynmem_memmap **out, const struct dynmem_allocator *alloc)
{
    struct dynmem__alloc a;
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc;
    struct dynmem_memmap *m = dynmem__handle_alloc(alloc, sizeof *m, &a, &rc);
    if (!m)
        return rc;
    m->alloc = a;
    dynmem__pageset_init(&m->boot, &a);
    dynmem__pageset_init(&m->added, &a);
    dynmem__pageset_init(&m->removed, &a);
    dynmem__pageset_init(&m->ballooned, &a);
    *out = m;
    return DYNMEM_OK;
}

void dynmem_memmap_free(struct dynmem_memmap *map)
{
    if (!map)
        return;
    struct dynmem__alloc a = map->alloc;
    dynmem__pageset_fini(&map->boot);
    dynmem__pageset_fini(&map->added);
    dynmem__pageset_fini(&map->removed);
    dynmem__pageset_fini(&map->ballooned);
    dynmem__free(&a, map);
}

int dynmem_memmap_add_boot(struct dynmem_memmap *map, uint64_t start, uint64_t count)
{
    uint64_t end;
    int rc = check_args(map, start, count, &end);
    if (rc)
        return rc;
    if (dynmem__pageset_count_in(&map->boot, start, end) != 0 ||
        (start < map->win_end && map->win_start < end))
        return DYNMEM_ERR_PAGES_OVERLAP;
    rc = dynmem__pageset_reserve(&map->boot);
    if (rc)
        return rc;
    dynmem__pageset_add(&map->boot, start, end);
    return DYNMEM_OK;
}

int dynmem_memmap_set_hot_add_window(struct dynmem_memmap *map, uint64_t start, uint64_t count)
{
    uint64_t end;
    int rc = check_args(map, start, count, &end);
    if (rc)
        return rc;
    if (dynmem__pageset_count_in(&map->boot, start, end) != 0)
        return DYNMEM_ERR_PAGES_OVERLAP;
    if (map->added.pages != 0)
        return DYNMEM_ERR_BAD_STATE;
    map->win_start = map->cursor = start;
    map->win_end = map->limit = end;
    return DYNMEM_OK;
}

int dynmem_memmap_set_hot_add_alignment(struct dynmem_memmap *map, unsigned log2_mib)
{
    if (!map)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    uint64_t bytes;
    int rc = dynmem_proto_alignment_bytes(log2_mib, &bytes);
    if (rc)
        return rc;
    map->align_log2 = log2_mib;
    return DYNMEM_OK;
}

/* Most pages one hot-add request plans: a chunk, or one alignment unit if
 * that is larger. */
static uint64_t plan_cap(uint64_t align)
{
    return DYNMEM_MEMMAP_CHUNK_PAGES >= align ? DYNMEM_MEMMAP_CHUNK_PAGES : align;
}

/* The lowest aligned run inside hot-removed pages: those pages are no
 * longer the guest's and can be added again. Count 0 if there is none. */
static void plan_reuse(const struct dynmem_memmap *m, uint64_t wanted, uint64_t align,
                       uint64_t *start, uint64_t *count)
{
    uint64_t s = 0, n = 0;
    *count = 0;
    if (m->reuse_given_up)
        return;
    for (uint64_t from = 0; dynmem_pageset_next(&m->removed, from, &s, &n) == DYNMEM_OK;
         from = s + n) {
        uint64_t first = (s + align - 1) & ~(align - 1), end = (s + n) & ~(align - 1);
        if (first >= end)
            continue;
        uint64_t c = end - first;
        c = c < wanted ? c : wanted;
        c = c < plan_cap(align) ? c : plan_cap(align);
        c &= ~(align - 1);
        if (c) {
            *start = first;
            *count = c;
            return;
        }
    }
}

int dynmem_memmap_hot_add_plan(const struct dynmem_memmap *map, uint64_t wanted,
                               uint64_t *out_start, uint64_t *out_count)
{
    if (!map || !out_start || !out_count || wanted == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    uint64_t align = align_pages(map);
    uint64_t start = 0, count = 0;
    plan_reuse(map, wanted, align, &start, &count);
    if (count) {
        *out_start = start;
        *out_count = count;
        return DYNMEM_OK;
    }
    /* Below 2^40 + 2^23, so the rounding cannot wrap. */
    start = (map->cursor + align - 1) & ~(align - 1);
    if (start < map->limit) {
        count = map->limit - start;
        if (count > wanted)
            count = wanted;
        if (count > plan_cap(align))
            count = plan_cap(align);
        count &= ~(align - 1);
    }
    *out_start = count ? start : 0;
    *out_count = count;
    return DYNMEM_OK;
}

/* A re-add of hot-removed pages: the accepted ones are the guest's again;
 * a guest that stops short is not asked to take removed pages back until a
 * system reset. */
static int readd_done(struct dynmem_memmap *map, uint64_t start, uint64_t end, uint64_t accepted)
{
    if (accepted) {
        int rc = dynmem__pageset_reserve(&map->removed);
        if (rc)
            return rc;
        dynmem__pageset_cut(&map->removed, start, start + accepted);
    }
    if (start + accepted < end)
        map->reuse_given_up = true;
    return DYNMEM_OK;
}

int dynmem_memmap_hot_add_done(struct dynmem_memmap *map, uint64_t start, uint64_t count,
                               uint64_t added, uint64_t *out_accepted)
{
    uint64_t end;
    int rc = check_args(map, start, count, &end);
    if (rc)
        return rc;
    uint64_t accepted = added < count ? added : count;
    /* Planned ranges are either wholly hot-removed pages or inside what
     * remains of the window (which holds no removed page). */
    if (!map->reuse_given_up && dynmem__pageset_count_in(&map->removed, start, end) == count) {
        rc = readd_done(map, start, end, accepted);
        if (!rc && out_accepted)
            *out_accepted = accepted;
        return rc;
    }
    if (start < map->cursor || end > map->limit)
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (accepted) {
        rc = dynmem__pageset_reserve(&map->added);
        if (rc)
            return rc;
        dynmem__pageset_add(&map->added, start, start + accepted);
    }
    map->cursor = start + accepted;
    if (accepted < count)
        map->limit = map->cursor;
    if (out_accepted)
        *out_accepted = accepted;
    return DYNMEM_OK;
}

int dynmem_memmap_balloon_record(struct dynmem_memmap *map, uint64_t start, uint64_t count)
{
    uint64_t end;
    int rc = check_args(map, start, count, &end);
    if (rc)
        return rc;
    if (!is_guest_memory(map, start, end))
        return DYNMEM_ERR_PAGES_OUTSIDE;
    if (dynmem__pageset_count_in(&map->ballooned, start, end) != 0)
        return DYNMEM_ERR_PAGES_BALLOONED;
    rc = dynmem__pageset_reserve(&map->ballooned);
    if (rc)
        return rc;
    dynmem__pageset_add(&map->ballooned, start, end);
    return DYNMEM_OK;
}

int dynmem_memmap_unballoon_take(struct dynmem_memmap *map, uint64_t max_count,
                                 uint64_t *out_start, uint64_t *out_count)
{
    if (!map)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem_pageset_pop(&map->ballooned, max_count, out_start, out_count);
}

int dynmem_memmap_hot_remove_record(struct dynmem_memmap *map, uint64_t start, uint64_t count)
{
    uint64_t end;
    int rc = check_args(map, start, count, &end);
    if (rc)
        return rc;
    if (!is_guest_memory(map, start, end))
        return DYNMEM_ERR_PAGES_OUTSIDE;
    /* Ballooned pages are the host's already: the guest cannot give them
     * again, and counting them would free the same memory twice. */
    if (dynmem__pageset_count_in(&map->ballooned, start, end) != 0)
        return DYNMEM_ERR_PAGES_BALLOONED;
    rc = dynmem__pageset_reserve(&map->removed);
    if (rc)
        return rc;
    dynmem__pageset_add(&map->removed, start, end);
    return DYNMEM_OK;
}

int dynmem_memmap_is_guest_memory(const struct dynmem_memmap *map, uint64_t start,
                                  uint64_t count, bool *out)
{
    uint64_t end;
    int rc = out ? check_args(map, start, count, &end) : DYNMEM_ERR_INVALID_ARGUMENT;
    if (rc)
        return rc;
    *out = is_guest_memory(map, start, end);
    return DYNMEM_OK;
}

const struct dynmem_pageset *dynmem_memmap_ballooned(const struct dynmem_memmap *map)
{
    return map ? &map->ballooned : NULL;
}

int dynmem_memmap_pages(const struct dynmem_memmap *map, enum dynmem_memmap_figure figure,
                        uint64_t *out_pages)
{
    if (!map || !out_pages)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    uint64_t visible = map->boot.pages + map->added.pages - map->removed.pages;
    uint64_t window = map->win_end - map->win_start;
    uint64_t remaining = map->limit - map->cursor;
    uint64_t v;
    switch (figure) {
    case DYNMEM_MEMMAP_BOOT: v = map->boot.pages; break;
    case DYNMEM_MEMMAP_VISIBLE: v = visible; break;
    case DYNMEM_MEMMAP_BALLOONED: v = map->ballooned.pages; break;
    case DYNMEM_MEMMAP_CURRENT: v = visible - map->ballooned.pages; break;
    case DYNMEM_MEMMAP_ADDED: v = map->added.pages; break;
    case DYNMEM_MEMMAP_REMOVED: v = map->removed.pages; break;
    case DYNMEM_MEMMAP_WINDOW: v = window; break;
    case DYNMEM_MEMMAP_REMAINING: v = remaining; break;
    case DYNMEM_MEMMAP_UNUSABLE: v = window - map->added.pages - remaining; break;
    default: return DYNMEM_ERR_INVALID_ARGUMENT;
    }
    *out_pages = v;
    return DYNMEM_OK;
}

int dynmem_memmap_bytes(const struct dynmem_memmap *map, enum dynmem_memmap_figure figure,
                        uint64_t *out_bytes)
{
    uint64_t pages;
    if (!out_bytes)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem_memmap_pages(map, figure, &pages);
    if (!rc)
        rc = dynmem_pages_to_bytes(pages, out_bytes);
    return rc;
}

void dynmem_memmap_reset_channel(struct dynmem_memmap *map)
{
    if (map)
        dynmem_pageset_clear(&map->ballooned);
}

void dynmem_memmap_reset_system(struct dynmem_memmap *map)
{
    if (!map)
        return;
    dynmem_pageset_clear(&map->ballooned);
    dynmem_pageset_clear(&map->added);
    dynmem_pageset_clear(&map->removed);
    map->cursor = map->win_start;
    map->limit = map->win_end;
    map->reuse_given_up = false;
}
