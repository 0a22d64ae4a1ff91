#include "pageset_check.h"

#include "pageset_tree.h"

struct walk {
    uint64_t prev_end; /* end of the previous range, to check order */
    bool any;
    size_t ranges;
    uint64_t pages;
    size_t nodes;
};

static const char *check_leaf(const struct leaf *lf, uint64_t *min, struct walk *w)
{
    if (lf->n == 0 || lf->n > LEAF_CAP)
        return "leaf size out of bounds";
    *min = lf->r[0].start;
    for (unsigned i = 0; i < lf->n; i++) {
        const struct range *r = &lf->r[i];
        if (r->start >= r->end)
            return "empty or inverted range";
        if (w->any && r->start <= w->prev_end)
            return "ranges overlap, touch or are out of order";
        w->any = true;
        w->prev_end = r->end;
        w->ranges++;
        w->pages += r->end - r->start;
    }
    return NULL;
}

/* Walks a subtree; *min receives its smallest start. */
static const char *check_node(const void *node, unsigned below, uint64_t *min, struct walk *w)
{
    w->nodes++;
    if (below == 0)
        return check_leaf(node, min, w);
    const struct inner *in = node;
    if (in->n < 2 || in->n > INNER_CAP)
        return "inner node size out of bounds";
    for (unsigned i = 0; i < in->n; i++) {
        uint64_t child_min;
        const char *why = check_node(in->child[i], below - 1, &child_min, w);
        if (why)
            return why;
        if (i == 0)
            *min = child_min;
        else if (in->key[i - 1] != child_min)
            return "inner key is not the smallest start of its subtree";
    }
    return NULL;
}

const char *pageset_check(const struct dynmem_pageset *s)
{
    struct walk w = {0, false, 0, 0, 0};
    if (!s->root != (s->height == 0))
        return "height disagrees with root";
    if (s->root) {
        uint64_t min;
        const char *why = check_node(s->root, s->height - 1, &min, &w);
        if (why)
            return why;
    }
    if (w.ranges != s->ranges)
        return "range counter is wrong";
    if (w.pages != s->pages)
        return "page counter is wrong";
    if (w.nodes + s->nspare != s->nodes)
        return "node counter is wrong";
    return NULL;
}
