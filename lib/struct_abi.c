#include "struct_abi.h"

#include <dynmem/common.h>

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
