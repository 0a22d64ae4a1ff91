/* Internal: the B+-tree under a page-range set.
 *
 * Why a B+-tree: a balanced tree with one range per node costs three
 * pointers and a colour per range (40+ bytes) and a cache miss per level.
 * Here a leaf is a sorted array of up to LEAF_CAP ranges (16 bytes each) and
 * an inner node holds up to INNER_CAP children, so a million ranges need
 * four levels and about 16 to 32 bytes a range. Nodes come one by one from
 * the handle's allocator: at 1 KiB a node, the allocator's own overhead is
 * about 1.5 % (measured: 24.2 bytes a range with glibc malloc against 24.0
 * counted by the set), too little for a slab layer to pay for itself.
 *
 * Invariants: ranges are disjoint, never touch, and are sorted by start;
 * inner key[i] is exactly the smallest start in the subtree of child[i+1];
 * every leaf of a non-empty tree holds at least one range; an inner root has
 * at least two children. A leaf whose ranges are taken down to nothing is
 * unlinked at once. */
#ifndef DYNMEM_LIB_PAGESET_TREE_H
#define DYNMEM_LIB_PAGESET_TREE_H

#include "pageset.h"

#define NODE_BYTES 1024u
#define LEAF_CAP ((NODE_BYTES - 8u) / sizeof(struct range))
#define INNER_CAP ((NODE_BYTES - 8u + sizeof(uint64_t)) / (2u * sizeof(uint64_t)))
/* Below these a node is merged with or refilled from a sibling. */
#define LEAF_MIN (LEAF_CAP / 3u)
#define INNER_MIN (INNER_CAP / 3u)

struct range {
    uint64_t start;
    uint64_t end; /* exclusive */
};

struct leaf {
    uint32_t n;
    uint32_t unused;
    struct range r[LEAF_CAP];
};

struct inner {
    uint32_t n; /* children; n - 1 keys */
    uint32_t unused;
    uint64_t key[INNER_CAP - 1];
    void *child[INNER_CAP];
};

/* A position: the node and index chosen at every level, root first. At the
 * leaf level idx is an index into r[] (n means "past the end"). */
struct path {
    unsigned depth; /* == tree height */
    struct {
        void *node;
        unsigned idx;
    } at[DYNMEM__PAGESET_MAX_DEPTH];
};

static inline struct leaf *path_leaf(const struct path *p)
{
    return p->at[p->depth - 1].node;
}

static inline struct range *path_range(const struct path *p)
{
    return &path_leaf(p)->r[p->at[p->depth - 1].idx];
}

/* Descends to the leaf where `key` belongs; the leaf index is the number of
 * ranges in that leaf starting at or below key (0 only if key is below every
 * start in the tree). The tree must not be empty. */
void dynmem__tree_locate(const struct dynmem_pageset *s, uint64_t key, struct path *p);
/* Descends to the last range of the tree. The tree must not be empty. */
void dynmem__tree_last(const struct dynmem_pageset *s, struct path *p);
/* Moves to the next range; false (path unusable) when there is none. A leaf
 * index equal to n is moved to the first range of the next leaf. */
bool dynmem__tree_step(struct path *p);

/* Inserts r at the path's leaf index (which must keep the order), splitting
 * nodes as needed from the reserved spares. Invalidates the path. */
void dynmem__tree_insert_at(struct dynmem_pageset *s, struct path *p, struct range r);
/* Removes the range at the path, refilling or merging nodes. Invalidates
 * the path. */
void dynmem__tree_delete_at(struct dynmem_pageset *s, struct path *p);
/* To call after the start of the range at the path changed: keeps the
 * inner keys exact. */
void dynmem__tree_start_changed(struct path *p);

/* Node supply: spares are set aside by dynmem__pageset_reserve(). */
void *dynmem__tree_take_node(struct dynmem_pageset *s);
void dynmem__tree_give_node(struct dynmem_pageset *s, void *node);
/* Frees every node of the tree (not the spares); the tree is then empty. */
void dynmem__tree_free_all(struct dynmem_pageset *s);

#endif
