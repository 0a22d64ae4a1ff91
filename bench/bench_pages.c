/* Page-range set benchmark: libdynmem's B+-tree set against a set built
 * the way QEMU's hv-balloon builds its page-range trees (a GLib GTree of
 * malloc'd {start, count} ranges keyed by start), on the same workload in
 * the same run:
 *
 *   insert  N disjoint, non-touching ranges in random order
 *   lookup  N random pages (about 3/8 of them in the set)
 *   remove  N/2 of the ranges, whole, in random order
 *   pop     the other N/2 from the top, one range at a time
 *
 * Usage: bench-pages [N] [dynmem|gtree|both] [REPS]   (default 1000000 both 5)
 * Each figure is the best of REPS runs (the two sets alternate), as the
 * least disturbed by other work on a shared machine.
 * Each phase is its own function so that callgrind can count it alone:
 *   valgrind --tool=callgrind --toggle-collect='phase_*' bench-pages N dynmem */
#define _GNU_SOURCE /* clock_gettime, mallinfo2 */
#include <dynmem/pages.h>
#include <glib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the GTree set, as in QEMU's hv-balloon ---------------------------- */

typedef struct {
    uint64_t start, count;
} Range;

static gint cmp_start(gconstpointer a, gconstpointer b, gpointer ud)
{
    (void)ud;
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void *gt_new(void)
{
    /* The key is the range's own start field; the value frees both. */
    return g_tree_new_full(cmp_start, NULL, NULL, g_free);
}

/* The last range starting at or below page, or NULL. */
static Range *gt_floor(GTree *t, uint64_t page)
{
    GTreeNode *n = g_tree_upper_bound(t, &page);
    n = n ? g_tree_node_previous(n) : g_tree_node_last(t);
    return n ? g_tree_node_value(n) : NULL;
}

static void gt_insert(void *t, uint64_t start, uint64_t count)
{
    uint64_t end = start + count;
    Range *r = gt_floor(t, start);
    if (!r || r->start + r->count < start) {
        r = g_new(Range, 1);
        r->start = start;
        r->count = count;
        g_tree_insert(t, &r->start, r);
    } else if (r->start + r->count < end) {
        r->count = end - r->start;
    }
    /* Absorb the ranges that now overlap or touch, as QEMU does. */
    for (;;) {
        GTreeNode *n = g_tree_upper_bound(t, &r->start);
        Range *next = n ? g_tree_node_value(n) : NULL;
        if (!next || next->start > r->start + r->count)
            break;
        uint64_t next_end = next->start + next->count;
        if (next_end > r->start + r->count)
            r->count = next_end - r->start;
        g_tree_remove(t, &next->start);
    }
}

static bool gt_contains(void *t, uint64_t page)
{
    Range *r = gt_floor(t, page);
    return r && page < r->start + r->count;
}

static void gt_remove(void *t, uint64_t start, uint64_t count)
{
    uint64_t end = start + count;
    for (;;) {
        Range *r = gt_floor(t, end - 1);
        if (!r || r->start + r->count <= start)
            return;
        uint64_t r_end = r->start + r->count;
        if (r_end > end) { /* keep the part above */
            Range *hi = g_new(Range, 1);
            hi->start = end;
            hi->count = r_end - end;
            g_tree_insert(t, &hi->start, hi);
        }
        if (r->start < start) { /* keep the part below */
            r->count = start - r->start;
            return;
        }
        g_tree_remove(t, &r->start);
    }
}

static uint64_t gt_pop(void *t, uint64_t max)
{
    GTreeNode *n = g_tree_node_last(t);
    if (!n)
        return 0;
    Range *r = g_tree_node_value(n);
    if (r->count > max) {
        r->count -= max;
        return max;
    }
    uint64_t c = r->count;
    g_tree_remove(t, &r->start);
    return c;
}

/* ---- the two implementations behind one interface ---------------------- */

struct impl {
    const char *name;
    void *(*make)(void);
    void (*insert)(void *, uint64_t, uint64_t);
    bool (*contains)(void *, uint64_t);
    void (*remove)(void *, uint64_t, uint64_t);
    uint64_t (*pop)(void *, uint64_t);
    void (*destroy)(void *);
};

static void *dm_make(void)
{
    struct dynmem_pageset *s;
    if (dynmem_pageset_new(&s, NULL))
        abort();
    return s;
}

static void dm_insert(void *s, uint64_t start, uint64_t count)
{
    if (dynmem_pageset_insert(s, start, count, NULL))
        abort();
}

static bool dm_contains(void *s, uint64_t page)
{
    bool b;
    dynmem_pageset_contains(s, page, 1, &b);
    return b;
}

static void dm_remove(void *s, uint64_t start, uint64_t count)
{
    if (dynmem_pageset_remove(s, start, count, NULL))
        abort();
}

static uint64_t dm_pop(void *s, uint64_t max)
{
    uint64_t start, count;
    dynmem_pageset_pop(s, max, &start, &count);
    return count;
}

static void dm_destroy(void *s)
{
    dynmem_pageset_free(s);
}

static void gt_destroy(void *t)
{
    g_tree_destroy(t);
}

static const struct impl impls[] = {
    {"dynmem", dm_make, dm_insert, dm_contains, dm_remove, dm_pop, dm_destroy},
    {"gtree", gt_new, gt_insert, gt_contains, gt_remove, gt_pop, gt_destroy},
};

/* ---- workload ---------------------------------------------------------- */

struct workload {
    size_t n;
    uint64_t *order;   /* a permutation of 0..n-1: range i is (4i, 1 + i % 2) */
    uint64_t *probes;  /* pages to look up */
};

static uint64_t rng(uint64_t *x) /* splitmix64 */
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void make_workload(struct workload *w, size_t n)
{
    uint64_t x = 42;
    w->n = n;
    w->order = malloc(n * sizeof *w->order);
    w->probes = malloc(n * sizeof *w->probes);
    if (!w->order || !w->probes)
        abort();
    for (size_t i = 0; i < n; i++)
        w->order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rng(&x) % (i + 1));
        uint64_t t = w->order[i];
        w->order[i] = w->order[j];
        w->order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        w->probes[i] = 4 * (rng(&x) % n) + rng(&x) % 4;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

__attribute__((noinline)) static void phase_insert(const struct impl *im, void *s,
                                                   const struct workload *w)
{
    for (size_t i = 0; i < w->n; i++)
        im->insert(s, 4 * w->order[i], 1 + w->order[i] % 2);
}

__attribute__((noinline)) static size_t phase_lookup(const struct impl *im, void *s,
                                                     const struct workload *w)
{
    size_t hits = 0;
    for (size_t i = 0; i < w->n; i++)
        hits += im->contains(s, w->probes[i]);
    return hits;
}

__attribute__((noinline)) static void phase_remove(const struct impl *im, void *s,
                                                   const struct workload *w)
{
    for (size_t i = 0; i < w->n / 2; i++)
        im->remove(s, 4 * w->order[i], 1 + w->order[i] % 2);
}

__attribute__((noinline)) static uint64_t phase_pop(const struct impl *im, void *s)
{
    uint64_t pages = 0, got;
    while ((got = im->pop(s, 2)) != 0)
        pages += got;
    return pages;
}

struct result {
    double insert, lookup, remove, pop; /* ns per operation */
    double bytes;                       /* heap bytes per range after insert (first run) */
    size_t hits;
    uint64_t popped;
};

static double best(double a, double b)
{
    return a < b ? a : b;
}

static void keep_best(struct result *acc, const struct result *r, bool first)
{
    if (first) {
        *acc = *r;
        return;
    }
    acc->insert = best(acc->insert, r->insert);
    acc->lookup = best(acc->lookup, r->lookup);
    acc->remove = best(acc->remove, r->remove);
    acc->pop = best(acc->pop, r->pop);
    /* Bytes only from the first run: GLib's slice allocator keeps freed
     * nodes, so later runs of the GTree set would look smaller than they are. */
}

static struct result run(const struct impl *im, const struct workload *w)
{
    struct result r;
    double n = (double)w->n, half = (double)(w->n / 2);
    size_t heap0 = mallinfo2().uordblks;
    void *s = im->make();
    double t0 = now_ns();
    phase_insert(im, s, w);
    double t1 = now_ns();
    r.bytes = (double)(mallinfo2().uordblks - heap0) / n;
    r.hits = phase_lookup(im, s, w);
    double t2 = now_ns();
    phase_remove(im, s, w);
    double t3 = now_ns();
    r.popped = phase_pop(im, s);
    double t4 = now_ns();
    im->destroy(s);
    r.insert = (t1 - t0) / n;
    r.lookup = (t2 - t1) / n;
    r.remove = (t3 - t2) / half;
    r.pop = (t4 - t3) / (n - half);
    return r;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    const char *which = argc > 2 ? argv[2] : "both";
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 2 || reps < 1) {
        fprintf(stderr, "usage: bench-pages [N >= 2] [dynmem|gtree|both] [REPS >= 1]\n");
        return 2;
    }
    struct workload w;
    make_workload(&w, n);
    struct result res[2];
    bool ran[2] = {false, false};
    for (int rep = 0; rep < reps; rep++) {
        for (int i = 0; i < 2; i++) {
            if (strcmp(which, "both") && strcmp(which, impls[i].name))
                continue;
            struct result r = run(&impls[i], &w);
            if (ran[i] && (r.hits != res[i].hits || r.popped != res[i].popped))
                abort();
            keep_best(&res[i], &r, !ran[i]);
            ran[i] = true;
        }
    }
    printf("%zu disjoint ranges; ns per operation and heap bytes per stored range, best of %d\n",
           n, reps);
    printf("%-8s %9s %9s %9s %9s %11s\n", "set", "insert", "lookup", "remove", "pop",
           "bytes/range");
    for (int i = 0; i < 2; i++)
        if (ran[i])
            printf("%-8s %9.1f %9.1f %9.1f %9.1f %11.1f\n", impls[i].name, res[i].insert,
                   res[i].lookup, res[i].remove, res[i].pop, res[i].bytes);
    if (ran[0] && ran[1]) {
        if (res[0].hits != res[1].hits || res[0].popped != res[1].popped) {
            fprintf(stderr, "the two sets disagree: the comparison is void\n");
            return 1;
        }
        printf("%-8s %8.1fx %8.1fx %8.1fx %8.1fx %10.1fx\n", "speedup", res[1].insert / res[0].insert,
               res[1].lookup / res[0].lookup, res[1].remove / res[0].remove,
               res[1].pop / res[0].pop, res[1].bytes / res[0].bytes);
    }
    free(w.order);
    free(w.probes);
    return 0;
}
