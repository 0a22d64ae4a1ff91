/* Internal: the resolved allocator every handle keeps a copy of. */
#ifndef DYNMEM_LIB_ALLOC_H
#define DYNMEM_LIB_ALLOC_H

#include <dynmem/common.h>

struct dynmem__alloc {
    void *user_data;
    void *(*malloc)(void *user_data, size_t n);
    void *(*realloc)(void *user_data, void *ptr, size_t n);
    void (*free)(void *user_data, void *ptr);
};

/* Validates the caller's hook (NULL = libc) and copies it into *out.
 * Returns 0, DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED or
 * DYNMEM_ERR_BAD_ALLOCATOR; *out is untouched on error. */
int dynmem__alloc_init(struct dynmem__alloc *out, const struct dynmem_allocator *in);

/* The start of every handle's _new: validates the caller's hook into *a and
 * allocates a zeroed handle of `size` bytes with it. Returns NULL with *rc
 * set (an allocator validation error or DYNMEM_ERR_NO_MEMORY) on failure. */
void *dynmem__handle_alloc(const struct dynmem_allocator *hook, size_t size,
                           struct dynmem__alloc *a, int *rc);

/* The same for a handle whose hot fields must start on an `align`-byte
 * boundary (a power of two): the zeroed handle is carved out of a larger
 * block, returned in *block, which is what dynmem__free() must be given. */
void *dynmem__handle_alloc_aligned(const struct dynmem_allocator *hook, size_t size, size_t align,
                                   struct dynmem__alloc *a, void **block, int *rc);

/* All return NULL on failure (including n == 0 and size overflow). */
void *dynmem__malloc(const struct dynmem__alloc *a, size_t n);
void *dynmem__calloc(const struct dynmem__alloc *a, size_t count, size_t size);
/* Grows or shrinks an array of old_count elements to new_count (> 0);
 * on failure ptr is left as it was. */
void *dynmem__reallocarray(const struct dynmem__alloc *a, void *ptr,
                           size_t old_count, size_t new_count, size_t size);
void dynmem__free(const struct dynmem__alloc *a, void *ptr);

#endif
