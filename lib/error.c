#include <dynmem/common.h>

/* Both functions are generated from the one list in DYNMEM_ERRORS() so that
 * a new code cannot be added to the enum without its name and text. */

const char *dynmem_strerror(int code)
{
    switch (code) {
    case DYNMEM_OK:
        return "success";
#define DYNMEM__ERROR_TEXT(name, value, text) \
    case (value):                             \
        return text;
        DYNMEM_ERRORS(DYNMEM__ERROR_TEXT)
#undef DYNMEM__ERROR_TEXT
    default:
        return "unknown error";
    }
}

const char *dynmem_error_name(int code)
{
    switch (code) {
    case DYNMEM_OK:
        return "DYNMEM_OK";
#define DYNMEM__ERROR_NAME(name, value, text) \
    case (value):                             \
        return "DYNMEM_ERR_" #name;
        DYNMEM_ERRORS(DYNMEM__ERROR_NAME)
#undef DYNMEM__ERROR_NAME
    default:
        return "unknown";
    }
}
