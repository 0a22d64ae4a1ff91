/* Internal: the page-range set, so that other modules (the memory map) can
 * embed sets by value and make several of them change together. */
#ifndef DYNMEM_LIB_PAGESET_H
#define DYNMEM_LIB_PAGESET_H

#include <dynmem/pages.h>

#include "alloc.h"

/* Levels of the B+-tree; inner nodes keep at least a third of their
 * children, so 16 levels are far more than any memory can hold. */
#define DYNMEM__PAGESET_MAX_DEPTH 16

struct dynmem_pageset {
    struct dynmem__alloc alloc;
    void *root;        /* NULL when empty */
    unsigned height;   /* 0 when empty, 1 when the root is a leaf */
    size_t ranges;     /* stored (merged) ranges */
    uint64_t pages;    /* pages in all of them */
    void *spare;       /* free nodes, linked through their first word */
    unsigned nspare;
    size_t nodes;      /* nodes held, spares included */
};

void dynmem__pageset_init(struct dynmem_pageset *s, const struct dynmem__alloc *a);
/* Releases every node; the set is left empty and may be used again. */
void dynmem__pageset_fini(struct dynmem_pageset *s);

/* Makes sure the next insert or remove cannot run out of memory, so that a
 * caller changing several sets can reserve all of them first and then make
 * changes that cannot fail half-way. Returns 0 or DYNMEM_ERR_NO_MEMORY. */
int dynmem__pageset_reserve(struct dynmem_pageset *s);

/* The same operations as the public API, without argument checks and
 * without allocating: call dynmem__pageset_reserve() first. end is
 * exclusive and start < end. They return what the public calls put in their
 * out arguments. */
uint64_t dynmem__pageset_add(struct dynmem_pageset *s, uint64_t start, uint64_t end);
uint64_t dynmem__pageset_cut(struct dynmem_pageset *s, uint64_t start, uint64_t end);

/* Pages of [start, end) present in the set (walks the ranges in between). */
uint64_t dynmem__pageset_count_in(const struct dynmem_pageset *s, uint64_t start, uint64_t end);

#endif
