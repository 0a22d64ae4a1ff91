#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "struct_abi.h"

static void *libc_malloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void *libc_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return realloc(p, n);
}

static void libc_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

int dynmem__alloc_init(struct dynmem__alloc *out, const struct dynmem_allocator *in)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!in) {
        *out = (struct dynmem__alloc){NULL, libc_malloc, libc_realloc, libc_free};
        return DYNMEM_OK;
    }
    int rc = dynmem__struct_check(in, in->size, DYNMEM__END_OF(struct dynmem_allocator, free),
                                  sizeof(struct dynmem_allocator));
    if (rc)
        return rc;
    if (!in->malloc || !in->free)
        return DYNMEM_ERR_BAD_ALLOCATOR;
    *out = (struct dynmem__alloc){in->user_data, in->malloc, in->realloc, in->free};
    return DYNMEM_OK;
}

void *dynmem__handle_alloc(const struct dynmem_allocator *hook, size_t size,
                           struct dynmem__alloc *a, int *rc)
{
    *rc = dynmem__alloc_init(a, hook);
    if (*rc)
        return NULL;
    void *h = dynmem__calloc(a, 1, size);
    if (!h)
        *rc = DYNMEM_ERR_NO_MEMORY;
    return h;
}

void *dynmem__handle_alloc_aligned(const struct dynmem_allocator *hook, size_t size, size_t align,
                                   struct dynmem__alloc *a, void **block, int *rc)
{
    *block = dynmem__handle_alloc(hook, size + align - 1, a, rc);
    if (!*block)
        return NULL;
    uintptr_t at = ((uintptr_t)*block + align - 1) & ~(uintptr_t)(align - 1);
    return (char *)*block + (at - (uintptr_t)*block);
}

void *dynmem__malloc(const struct dynmem__alloc *a, size_t n)
{
    if (n == 0)
        return NULL;
    return a->malloc(a->user_data, n);
}

void *dynmem__calloc(const struct dynmem__alloc *a, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n) || n == 0)
        return NULL;
    void *p = a->malloc(a->user_data, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *dynmem__reallocarray(const struct dynmem__alloc *a, void *ptr,
                           size_t old_count, size_t new_count, size_t size)
{
    size_t n, old_n;
    if (__builtin_mul_overflow(new_count, size, &n) || n == 0 ||
        __builtin_mul_overflow(old_count, size, &old_n))
        return NULL;
    if (!ptr)
        return a->malloc(a->user_data, n);
    if (a->realloc)
        return a->realloc(a->user_data, ptr, n);
    /* No realloc hook: emulate it, keeping ptr intact if the copy fails. */
    void *p = a->malloc(a->user_data, n);
    if (!p)
        return NULL;
    memcpy(p, ptr, old_n < n ? old_n : n);
    a->free(a->user_data, ptr);
    return p;
}

void dynmem__free(const struct dynmem__alloc *a, void *ptr)
{
    if (ptr)
        a->free(a->user_data, ptr);
}
