/* Internal: validation of size-prefixed structs crossing the ABI
 * (STYLE.md 6.5): a caller compiled against older headers passes a smaller
 * struct, one compiled against newer headers a larger one whose fields we do
 * not know; the latter is accepted only if those fields are zero. */
#ifndef DYNMEM_LIB_STRUCT_ABI_H
#define DYNMEM_LIB_STRUCT_ABI_H

#include <stddef.h>

/* Offset just past member m of struct type t. */
#define DYNMEM__END_OF(t, m) (offsetof(t, m) + sizeof(((t *)0)->m))

/* Largest struct size accepted at all: a guard against garbage in `size`. */
#define DYNMEM__STRUCT_SIZE_MAX 4096u

/* p points at a struct whose caller-declared size is `given`. `min` is the
 * smallest size any version of the API ever had, `known` is this library's
 * sizeof. Returns 0, DYNMEM_ERR_STRUCT_SIZE or DYNMEM_ERR_STRUCT_RESERVED. */
int dynmem__struct_check(const void *p, size_t given, size_t min, size_t known);

/* An output struct `dst` (size-prefixed: its first member is the caller's
 * uint32_t size) this library is to fill: returns DYNMEM_ERR_STRUCT_SIZE
 * unless its size is between `min` (the smallest size any version had) and
 * DYNMEM__STRUCT_SIZE_MAX, else 0. */
int dynmem__out_check(const void *dst, size_t min);

/* Hands this library's `src` (`known` = its sizeof) to a caller's output
 * struct `dst` that passed dynmem__out_check(): writes only the bytes the
 * caller's size covers, so a caller built against older headers is never
 * overrun; zeroes the bytes of a newer caller's struct that this library
 * does not know; keeps the caller's size. */
void dynmem__out_store(void *dst, const void *src, size_t known);

#endif
