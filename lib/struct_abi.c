#include "struct_abi.h"

#include <dynmem/common.h>
#include <stdint.h>
#include <string.h>

int dynmem__struct_check(const void *p, size_t given, size_t min, size_t known)
{
    if (given < min || given > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    const unsigned char *bytes = p;
    for (size_t i = known; i < given; i++)
        if (bytes[i])
            return DYNMEM_ERR_STRUCT_RESERVED;
    return DYNMEM_OK;
}

/* The caller's declared size, read without assuming the struct's type. */
static uint32_t declared_size(const void *dst)
{
    uint32_t size;
    memcpy(&size, dst, sizeof size);
    return size;
}

int dynmem__out_check(const void *dst, size_t min)
{
    uint32_t size = declared_size(dst);
    if (size < min || size > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    return DYNMEM_OK;
}

void dynmem__out_store(void *dst, const void *src, size_t known)
{
    uint32_t size = declared_size(dst);
    memcpy(dst, src, size < known ? size : known);
    if (size > known)
        memset((unsigned char *)dst + known, 0, size - known);
    memcpy(dst, &size, sizeof size);
}
