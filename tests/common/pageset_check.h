/* Test helper: checks every structural invariant of a page-range set's
 * B+-tree (see lib/pageset_tree.h) and that its counters agree with it. */
#ifndef DYNMEM_TESTS_PAGESET_CHECK_H
#define DYNMEM_TESTS_PAGESET_CHECK_H

#include "pageset.h"

/* NULL when the set is sound, otherwise what is wrong. */
const char *pageset_check(const struct dynmem_pageset *s);

#endif
