// The public API used from C++: declarations link with C linkage.
#include <dynmem/dynmem.h>

#include <cstdio>
#include <cstring>

int main()
{
    if (dynmem_version() != DYNMEM_VERSION_NUMBER)
        return 1;
    if (std::strcmp(dynmem_error_name(DYNMEM_ERR_NO_MEMORY), "DYNMEM_ERR_NO_MEMORY") != 0)
        return 1;
    std::printf("C++ consumer linked libdynmem %s\n", dynmem_version_string());
    return 0;
}
