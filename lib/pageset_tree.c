/* The B+-tree mechanics under a page-range set: descending, stepping,
 * splitting and merging nodes. What the ranges mean (merging, counting
 * pages) lives in pageset.c. */
#include "pageset_tree.h"

#include <string.h>

/* Spare nodes kept back after a merge, so that a workload that inserts and
 * removes around a node boundary does not call the allocator every time. */
#define SPARE_KEEP (DYNMEM__PAGESET_MAX_DEPTH + 1u)

_Static_assert(sizeof(struct leaf) <= NODE_BYTES, "leaf fits a node");
_Static_assert(sizeof(struct inner) <= NODE_BYTES, "inner node fits a node");
_Static_assert(LEAF_MIN >= 2 && INNER_MIN >= 2, "nodes are wide enough to rebalance");

static unsigned keys_upper(const uint64_t *key, unsigned n, uint64_t k)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (key[mid] <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unsigned starts_upper(const struct range *r, unsigned n, uint64_t k)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (r[mid].start <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void dynmem__tree_locate(const struct dynmem_pageset *s, uint64_t key, struct path *p)
{
    void *node = s->root;
    p->depth = s->height;
    for (unsigned l = 0; l + 1 < s->height; l++) {
        struct inner *in = node;
        unsigned i = keys_upper(in->key, in->n - 1, key);
        p->at[l].node = in;
        p->at[l].idx = i;
        node = in->child[i];
    }
    struct leaf *lf = node;
    p->at[s->height - 1].node = lf;
    p->at[s->height - 1].idx = starts_upper(lf->r, lf->n, key);
}

void dynmem__tree_last(const struct dynmem_pageset *s, struct path *p)
{
    void *node = s->root;
    p->depth = s->height;
    for (unsigned l = 0; l + 1 < s->height; l++) {
        struct inner *in = node;
        p->at[l].node = in;
        p->at[l].idx = in->n - 1;
        node = in->child[in->n - 1];
    }
    struct leaf *lf = node;
    p->at[s->height - 1].node = lf;
    p->at[s->height - 1].idx = lf->n - 1;
}

bool dynmem__tree_step(struct path *p)
{
    unsigned h = p->depth;
    if (p->at[h - 1].idx + 1 < path_leaf(p)->n) {
        p->at[h - 1].idx++;
        return true;
    }
    for (unsigned l = h - 1; l-- > 0;) {
        struct inner *in = p->at[l].node;
        if (p->at[l].idx + 1 < in->n) {
            p->at[l].idx++;
            for (unsigned m = l; m + 1 < h; m++) {
                struct inner *up = p->at[m].node;
                p->at[m + 1].node = up->child[p->at[m].idx];
                p->at[m + 1].idx = 0;
            }
            return true;
        }
    }
    return false;
}

void dynmem__tree_start_changed(struct path *p)
{
    unsigned h = p->depth;
    if (p->at[h - 1].idx != 0)
        return;
    uint64_t start = path_leaf(p)->r[0].start;
    for (unsigned l = h - 1; l-- > 0;) {
        struct inner *in = p->at[l].node;
        unsigned i = p->at[l].idx;
        if (i > 0) {
            in->key[i - 1] = start;
            return;
        }
    }
}

void *dynmem__tree_take_node(struct dynmem_pageset *s)
{
    void *node = s->spare;
    memcpy(&s->spare, node, sizeof(void *));
    s->nspare--;
    return node;
}

void dynmem__tree_give_node(struct dynmem_pageset *s, void *node)
{
    if (s->nspare < SPARE_KEEP) {
        memcpy(node, &s->spare, sizeof(void *));
        s->spare = node;
        s->nspare++;
    } else {
        dynmem__free(&s->alloc, node);
        s->nodes--;
    }
}

/* ---- growing ---------------------------------------------------------- */

/* Is every choice above the leaf the last (or the first) child? */
static bool on_edge(const struct path *p, bool last)
{
    for (unsigned l = 0; l + 1 < p->depth; l++) {
        const struct inner *in = p->at[l].node;
        if (p->at[l].idx != (last ? in->n - 1 : 0))
            return false;
    }
    return true;
}

/* Links `node`, the new right neighbour of the node at `level`, into the
 * parent, splitting upwards as long as parents are full. */
static void link_sibling(struct dynmem_pageset *s, struct path *p, unsigned level, void *node,
                         uint64_t key)
{
    if (level == 0) {
        struct inner *root = dynmem__tree_take_node(s);
        root->n = 2;
        root->key[0] = key;
        root->child[0] = s->root;
        root->child[1] = node;
        s->root = root;
        s->height++;
        return;
    }
    struct inner *in = p->at[level - 1].node;
    unsigned pos = p->at[level - 1].idx + 1; /* of the new child */
    if (in->n < INNER_CAP) {
        memmove(&in->child[pos + 1], &in->child[pos], (in->n - pos) * sizeof(void *));
        memmove(&in->key[pos], &in->key[pos - 1], (in->n - pos) * sizeof(uint64_t));
        in->child[pos] = node;
        in->key[pos - 1] = key;
        in->n++;
        return;
    }
    void *child[INNER_CAP + 1];
    uint64_t keys[INNER_CAP];
    memcpy(child, in->child, pos * sizeof(void *));
    child[pos] = node;
    memcpy(&child[pos + 1], &in->child[pos], (INNER_CAP - pos) * sizeof(void *));
    memcpy(keys, in->key, (pos - 1) * sizeof(uint64_t));
    keys[pos - 1] = key;
    memcpy(&keys[pos], &in->key[pos - 1], (INNER_CAP - pos) * sizeof(uint64_t));

    unsigned total = INNER_CAP + 1, keep = total / 2;
    struct inner *right = dynmem__tree_take_node(s);
    in->n = keep;
    memcpy(in->child, child, keep * sizeof(void *));
    memcpy(in->key, keys, (keep - 1) * sizeof(uint64_t));
    right->n = total - keep;
    memcpy(right->child, &child[keep], right->n * sizeof(void *));
    memcpy(right->key, &keys[keep], (right->n - 1) * sizeof(uint64_t));
    link_sibling(s, p, level - 1, right, keys[keep - 1]);
}

void dynmem__tree_insert_at(struct dynmem_pageset *s, struct path *p, struct range r)
{
    unsigned h = p->depth, pos = p->at[h - 1].idx;
    struct leaf *lf = path_leaf(p);
    if (lf->n < LEAF_CAP) {
        memmove(&lf->r[pos + 1], &lf->r[pos], (lf->n - pos) * sizeof r);
        lf->r[pos] = r;
        lf->n++;
        dynmem__tree_start_changed(p);
        return;
    }
    struct range all[LEAF_CAP + 1];
    memcpy(all, lf->r, pos * sizeof r);
    all[pos] = r;
    memcpy(&all[pos + 1], &lf->r[pos], (LEAF_CAP - pos) * sizeof r);

    /* Ranges arriving in order (ascending or descending) would leave every
     * leaf half full after an even split: at the edge of the tree, keep
     * the full leaf full and start a new one instead. */
    unsigned total = LEAF_CAP + 1, keep = total / 2;
    if (pos == LEAF_CAP && on_edge(p, true))
        keep = LEAF_CAP;
    else if (pos == 0 && on_edge(p, false))
        keep = 1;
    struct leaf *right = dynmem__tree_take_node(s);
    lf->n = keep;
    memcpy(lf->r, all, keep * sizeof r);
    right->n = total - keep;
    memcpy(right->r, &all[keep], right->n * sizeof r);
    if (pos == 0)
        dynmem__tree_start_changed(p);
    link_sibling(s, p, h - 1, right, right->r[0].start);
}

/* ---- shrinking -------------------------------------------------------- */

/* Drops child j (>= 1) of an inner node and the key in front of it. */
static void unlink_child(struct inner *in, unsigned j)
{
    memmove(&in->child[j], &in->child[j + 1], (in->n - j - 1) * sizeof(void *));
    memmove(&in->key[j - 1], &in->key[j], (in->n - j - 1) * sizeof(uint64_t));
    in->n--;
}

/* Appends inner node b to a, with sep, the smallest start under b. */
static void join_inner(struct inner *a, uint64_t sep, const struct inner *b)
{
    a->key[a->n - 1] = sep;
    memcpy(&a->key[a->n], b->key, (b->n - 1) * sizeof(uint64_t));
    memcpy(&a->child[a->n], b->child, b->n * sizeof(void *));
    a->n += b->n;
}

static void shift_from_left(struct inner *par, unsigned ci, struct inner *left, struct inner *in)
{
    memmove(&in->child[1], &in->child[0], in->n * sizeof(void *));
    memmove(&in->key[1], &in->key[0], (in->n - 1) * sizeof(uint64_t));
    in->child[0] = left->child[left->n - 1];
    in->key[0] = par->key[ci - 1];
    par->key[ci - 1] = left->key[left->n - 2];
    left->n--;
    in->n++;
}

static void shift_from_right(struct inner *par, unsigned ci, struct inner *in, struct inner *right)
{
    in->child[in->n] = right->child[0];
    in->key[in->n - 1] = par->key[ci];
    par->key[ci] = right->key[0];
    memmove(&right->child[0], &right->child[1], (right->n - 1) * sizeof(void *));
    memmove(&right->key[0], &right->key[1], (right->n - 2) * sizeof(uint64_t));
    right->n--;
    in->n++;
}

/* The inner node at `level` lost a child: collapse the root, or merge with
 * or borrow from a sibling. A node loses one child at a time, so one
 * borrowed child is enough. */
static void inner_rebalance(struct dynmem_pageset *s, struct path *p, unsigned level)
{
    struct inner *in = p->at[level].node;
    if (level == 0) {
        if (in->n == 1) {
            s->root = in->child[0];
            s->height--;
            dynmem__tree_give_node(s, in);
        }
        return;
    }
    if (in->n >= INNER_MIN)
        return;
    struct inner *par = p->at[level - 1].node;
    unsigned ci = p->at[level - 1].idx;
    struct inner *left = ci > 0 ? par->child[ci - 1] : NULL;
    struct inner *right = ci + 1 < par->n ? par->child[ci + 1] : NULL;
    if (left && left->n + in->n <= INNER_CAP) {
        join_inner(left, par->key[ci - 1], in);
        dynmem__tree_give_node(s, in);
        unlink_child(par, ci);
        inner_rebalance(s, p, level - 1);
    } else if (right && in->n + right->n <= INNER_CAP) {
        join_inner(in, par->key[ci], right);
        dynmem__tree_give_node(s, right);
        unlink_child(par, ci + 1);
        inner_rebalance(s, p, level - 1);
    } else if (left) {
        shift_from_left(par, ci, left, in);
    } else {
        shift_from_right(par, ci, in, right);
    }
}

static void leaf_rebalance(struct dynmem_pageset *s, struct path *p)
{
    unsigned h = p->depth;
    struct leaf *lf = path_leaf(p);
    if (h == 1) {
        if (lf->n == 0) {
            dynmem__tree_give_node(s, lf);
            s->root = NULL;
            s->height = 0;
        }
        return;
    }
    if (lf->n >= LEAF_MIN)
        return;
    struct inner *par = p->at[h - 2].node;
    unsigned ci = p->at[h - 2].idx;
    struct leaf *left = ci > 0 ? par->child[ci - 1] : NULL;
    struct leaf *right = ci + 1 < par->n ? par->child[ci + 1] : NULL;
    const size_t rs = sizeof(struct range);
    p->at[h - 1].idx = 0;
    if (left && left->n + lf->n <= LEAF_CAP) {
        memcpy(&left->r[left->n], lf->r, lf->n * rs);
        left->n += lf->n;
        dynmem__tree_give_node(s, lf);
        unlink_child(par, ci);
        inner_rebalance(s, p, h - 2);
    } else if (right && lf->n + right->n <= LEAF_CAP) {
        memcpy(&lf->r[lf->n], right->r, right->n * rs);
        lf->n += right->n;
        dynmem__tree_give_node(s, right);
        unlink_child(par, ci + 1);
        dynmem__tree_start_changed(p); /* lf may have been empty */
        inner_rebalance(s, p, h - 2);
    } else if (left) {
        unsigned k = (left->n - lf->n) / 2;
        memmove(&lf->r[k], lf->r, lf->n * rs);
        memcpy(lf->r, &left->r[left->n - k], k * rs);
        left->n -= k;
        lf->n += k;
        par->key[ci - 1] = lf->r[0].start;
    } else {
        unsigned k = (right->n - lf->n) / 2;
        memcpy(&lf->r[lf->n], right->r, k * rs);
        memmove(right->r, &right->r[k], (right->n - k) * rs);
        right->n -= k;
        lf->n += k;
        par->key[ci] = right->r[0].start;
        dynmem__tree_start_changed(p);
    }
}

void dynmem__tree_delete_at(struct dynmem_pageset *s, struct path *p)
{
    struct leaf *lf = path_leaf(p);
    unsigned i = p->at[p->depth - 1].idx;
    memmove(&lf->r[i], &lf->r[i + 1], (lf->n - i - 1) * sizeof(struct range));
    lf->n--;
    if (lf->n > 0)
        dynmem__tree_start_changed(p);
    leaf_rebalance(s, p);
}

static void free_subtree(struct dynmem_pageset *s, void *node, unsigned levels_below)
{
    if (levels_below > 0) {
        struct inner *in = node;
        for (unsigned i = 0; i < in->n; i++)
            free_subtree(s, in->child[i], levels_below - 1);
    }
    dynmem__free(&s->alloc, node);
    s->nodes--;
}

void dynmem__tree_free_all(struct dynmem_pageset *s)
{
    if (s->root)
        free_subtree(s, s->root, s->height - 1);
    s->root = NULL;
    s->height = 0;
}
