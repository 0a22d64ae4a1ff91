/* Page-range sets: what the ranges mean (merge on insert, split on remove,
 * count duplicates) on top of the B+-tree in pageset_tree.c, and the public
 * API with its argument checks. */
#include "pageset.h"

#include <string.h>

#include "pageset_tree.h"

static uint64_t overlap(struct range r, uint64_t start, uint64_t end)
{
    uint64_t lo = r.start > start ? r.start : start;
    uint64_t hi = r.end < end ? r.end : end;
    return hi > lo ? hi - lo : 0;
}

void dynmem__pageset_init(struct dynmem_pageset *s, const struct dynmem__alloc *a)
{
    memset(s, 0, sizeof *s);
    s->alloc = *a;
}

void dynmem__pageset_fini(struct dynmem_pageset *s)
{
    dynmem__tree_free_all(s);
    while (s->nspare > 0) {
        dynmem__free(&s->alloc, dynmem__tree_take_node(s));
        s->nodes--;
    }
}

int dynmem__pageset_reserve(struct dynmem_pageset *s)
{
    /* One insert splits at most every level and adds a root. */
    unsigned need = s->height + 1;
    if (need > DYNMEM__PAGESET_MAX_DEPTH)
        return DYNMEM_ERR_NO_MEMORY;
    while (s->nspare < need) {
        void *node = dynmem__malloc(&s->alloc, NODE_BYTES);
        if (!node)
            return DYNMEM_ERR_NO_MEMORY;
        memcpy(node, &s->spare, sizeof(void *));
        s->spare = node;
        s->nspare++;
        s->nodes++;
    }
    return DYNMEM_OK;
}

/* Positions p at the first range ending after x: the one holding page x,
 * or else the next one. False if there is none. */
static bool find_from(const struct dynmem_pageset *s, uint64_t x, struct path *p)
{
    if (!s->root)
        return false;
    dynmem__tree_locate(s, x, p);
    unsigned *idx = &p->at[p->depth - 1].idx;
    const struct leaf *lf = path_leaf(p);
    if (*idx > 0) {
        if (lf->r[*idx - 1].end > x) {
            (*idx)--;
            return true;
        }
    }
    return *idx < lf->n || dynmem__tree_step(p);
}

static void add_first(struct dynmem_pageset *s, struct range r)
{
    struct leaf *lf = dynmem__tree_take_node(s);
    lf->n = 1;
    lf->r[0] = r;
    s->root = lf;
    s->height = 1;
}

/* Positions q at the range following the insertion point p (it may be the
 * first range of the next leaf). False if there is none. */
static bool peek_next(const struct path *p, struct path *q)
{
    *q = *p;
    unsigned *idx = &q->at[q->depth - 1].idx;
    if (*idx < path_leaf(q)->n)
        return true;
    *idx = path_leaf(q)->n - 1;
    return dynmem__tree_step(q);
}

/* Widens the range at p to cover [start, end), absorbing the later ranges
 * that [start, end) overlaps or touches. Returns the pages of [start, end)
 * that were already present. */
static uint64_t merge_at(struct dynmem_pageset *s, struct path *p, uint64_t start, uint64_t end)
{
    struct range first = *path_range(p);
    struct range r = {first.start < start ? first.start : start,
                      first.end > end ? first.end : end};
    uint64_t dup = overlap(first, start, end);
    struct path q = *p;
    bool absorbed = false;
    while (dynmem__tree_step(&q) && path_range(&q)->start <= end) {
        struct range next = *path_range(&q);
        dup += overlap(next, start, end);
        if (next.end > r.end)
            r.end = next.end;
        s->ranges--;
        dynmem__tree_delete_at(s, &q);
        /* Deleting may have moved nodes: find the first range again. */
        dynmem__tree_locate(s, first.start, &q);
        q.at[q.depth - 1].idx--;
        absorbed = true;
    }
    if (absorbed) {
        dynmem__tree_locate(s, first.start, p);
        p->at[p->depth - 1].idx--;
    }
    *path_range(p) = r;
    dynmem__tree_start_changed(p);
    s->pages += (end - start) - dup;
    return dup;
}

uint64_t dynmem__pageset_add(struct dynmem_pageset *s, uint64_t start, uint64_t end)
{
    struct path p, q;
    struct range r = {start, end};
    if (!s->root) {
        add_first(s, r);
    } else {
        dynmem__tree_locate(s, start, &p);
        unsigned *idx = &p.at[p.depth - 1].idx;
        if (*idx > 0 && path_leaf(&p)->r[*idx - 1].end >= start) {
            (*idx)--;
            return merge_at(s, &p, start, end);
        }
        if (peek_next(&p, &q) && path_range(&q)->start <= end)
            return merge_at(s, &q, start, end);
        dynmem__tree_insert_at(s, &p, r);
    }
    s->ranges++;
    s->pages += end - start;
    return 0;
}

uint64_t dynmem__pageset_cut(struct dynmem_pageset *s, uint64_t start, uint64_t end)
{
    uint64_t removed = 0;
    struct path p;
    while (find_from(s, start, &p)) {
        struct range *r = path_range(&p);
        if (r->start >= end)
            break;
        bool last = r->end >= end; /* no later range can overlap */
        if (r->start < start && r->end > end) {
            struct range tail = {end, r->end};
            r->end = start;
            p.at[p.depth - 1].idx++;
            dynmem__tree_insert_at(s, &p, tail);
            s->ranges++;
            removed += end - start;
        } else if (r->start < start) {
            removed += r->end - start;
            r->end = start;
        } else if (r->end > end) {
            removed += end - r->start;
            r->start = end;
            dynmem__tree_start_changed(&p);
        } else {
            removed += r->end - r->start;
            s->ranges--;
            dynmem__tree_delete_at(s, &p);
        }
        if (last)
            break;
    }
    s->pages -= removed;
    return removed;
}

uint64_t dynmem__pageset_count_in(const struct dynmem_pageset *s, uint64_t start, uint64_t end)
{
    uint64_t present = 0;
    struct path p;
    if (!find_from(s, start, &p))
        return 0;
    do {
        const struct range *r = path_range(&p);
        if (r->start >= end)
            break;
        present += overlap(*r, start, end);
    } while (dynmem__tree_step(&p));
    return present;
}

/* ---- public API ------------------------------------------------------- */

static int check_range(uint64_t start, uint64_t count, uint64_t *end)
{
    if (count == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (count > UINT64_MAX - start)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *end = start + count;
    return DYNMEM_OK;
}

/* Checks the arguments of a call that changes the set and reserves the
 * nodes it may need, so that the change itself cannot fail. */
static int prepare_change(struct dynmem_pageset *set, uint64_t start, uint64_t count,
                          uint64_t *end)
{
    if (!set)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = check_range(start, count, end);
    return rc ? rc : dynmem__pageset_reserve(set);
}

static int check_query(const struct dynmem_pageset *set, const void *out, uint64_t start,
                       uint64_t count, uint64_t *end)
{
    if (!set || !out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return check_range(start, count, end);
}

int dynmem_pages_to_bytes(uint64_t pages, uint64_t *out_bytes)
{
    if (!out_bytes)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (pages > (UINT64_MAX >> DYNMEM_PAGE_SHIFT))
        return DYNMEM_ERR_OVERFLOW;
    *out_bytes = pages << DYNMEM_PAGE_SHIFT;
    return DYNMEM_OK;
}

int dynmem_bytes_to_pages(uint64_t bytes, bool round_up, uint64_t *out_pages)
{
    if (!out_pages)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    uint64_t pages = bytes >> DYNMEM_PAGE_SHIFT;
    if (round_up && (bytes & (DYNMEM_PAGE_SIZE - 1)))
        pages++;
    *out_pages = pages;
    return DYNMEM_OK;
}

int dynmem_pageset_new(struct dynmem_pageset **out, const struct dynmem_allocator *alloc)
{
    struct dynmem__alloc a;
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc;
    struct dynmem_pageset *s = dynmem__handle_alloc(alloc, sizeof *s, &a, &rc);
    if (!s)
        return rc;
    dynmem__pageset_init(s, &a);
    *out = s;
    return DYNMEM_OK;
}

void dynmem_pageset_free(struct dynmem_pageset *set)
{
    if (!set)
        return;
    struct dynmem__alloc a = set->alloc;
    dynmem__pageset_fini(set);
    dynmem__free(&a, set);
}

int dynmem_pageset_insert(struct dynmem_pageset *set, uint64_t start, uint64_t count,
                          uint64_t *out_duplicates)
{
    uint64_t end;
    int rc = prepare_change(set, start, count, &end);
    if (rc)
        return rc;
    uint64_t dup = dynmem__pageset_add(set, start, end);
    if (out_duplicates)
        *out_duplicates = dup;
    return DYNMEM_OK;
}

int dynmem_pageset_remove(struct dynmem_pageset *set, uint64_t start, uint64_t count,
                          uint64_t *out_removed)
{
    uint64_t end;
    int rc = prepare_change(set, start, count, &end);
    if (rc)
        return rc;
    uint64_t removed = dynmem__pageset_cut(set, start, end);
    if (out_removed)
        *out_removed = removed;
    return DYNMEM_OK;
}

int dynmem_pageset_pop(struct dynmem_pageset *set, uint64_t max_count, uint64_t *out_start,
                       uint64_t *out_count)
{
    if (!set || !out_start || !out_count || max_count == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!set->root) {
        *out_start = 0;
        *out_count = 0;
        return DYNMEM_OK;
    }
    struct path p;
    dynmem__tree_last(set, &p);
    struct range *r = path_range(&p);
    uint64_t len = r->end - r->start;
    if (len > max_count) {
        r->end -= max_count;
        *out_start = r->end;
        *out_count = max_count;
    } else {
        *out_start = r->start;
        *out_count = len;
        set->ranges--;
        dynmem__tree_delete_at(set, &p);
    }
    set->pages -= *out_count;
    return DYNMEM_OK;
}

int dynmem_pageset_intersects(const struct dynmem_pageset *set, uint64_t start, uint64_t count,
                              bool *out)
{
    uint64_t end;
    int rc = check_query(set, out, start, count, &end);
    if (rc)
        return rc;
    struct path p;
    *out = find_from(set, start, &p) && path_range(&p)->start < end;
    return DYNMEM_OK;
}

int dynmem_pageset_contains(const struct dynmem_pageset *set, uint64_t start, uint64_t count,
                            bool *out)
{
    uint64_t end;
    int rc = check_query(set, out, start, count, &end);
    if (rc)
        return rc;
    struct path p;
    /* Stored ranges never touch, so one of them must hold the whole range. */
    *out = find_from(set, start, &p) && path_range(&p)->start <= start &&
           path_range(&p)->end >= end;
    return DYNMEM_OK;
}

int dynmem_pageset_count_in(const struct dynmem_pageset *set, uint64_t start, uint64_t count,
                            uint64_t *out_present)
{
    uint64_t end;
    int rc = check_query(set, out_present, start, count, &end);
    if (rc)
        return rc;
    *out_present = dynmem__pageset_count_in(set, start, end);
    return DYNMEM_OK;
}

int dynmem_pageset_next(const struct dynmem_pageset *set, uint64_t from, uint64_t *out_start,
                        uint64_t *out_count)
{
    if (!set || !out_start || !out_count)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    struct path p;
    if (!find_from(set, from, &p))
        return DYNMEM_ERR_NOT_FOUND;
    const struct range *r = path_range(&p);
    *out_start = r->start;
    *out_count = r->end - r->start;
    return DYNMEM_OK;
}

uint64_t dynmem_pageset_pages(const struct dynmem_pageset *set)
{
    return set ? set->pages : 0;
}

size_t dynmem_pageset_ranges(const struct dynmem_pageset *set)
{
    return set ? set->ranges : 0;
}

size_t dynmem_pageset_footprint(const struct dynmem_pageset *set)
{
    return set ? sizeof *set + set->nodes * NODE_BYTES : 0;
}

void dynmem_pageset_clear(struct dynmem_pageset *set)
{
    if (!set)
        return;
    dynmem__pageset_fini(set);
    set->ranges = 0;
    set->pages = 0;
}
