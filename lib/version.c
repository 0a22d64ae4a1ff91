#include <dynmem/common.h>
#include <dynmem/version.h>

/* Compiled into the library (never a header constant) so that a program
 * learns the version it actually loaded, not the one it was built with. */

uint32_t dynmem_version(void)
{
    return (uint32_t)DYNMEM_VERSION_NUMBER;
}

const char *dynmem_version_string(void)
{
    return DYNMEM_VERSION_STRING;
}

int dynmem_version_at_least(unsigned major, unsigned minor, unsigned micro)
{
    if (major != DYNMEM_VERSION_MAJOR || minor > 255 || micro > 255)
        return 0;
    return DYNMEM_VERSION_NUMBER >= DYNMEM_VERSION_ENCODE(major, minor, micro);
}
