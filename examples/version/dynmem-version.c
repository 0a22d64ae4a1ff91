/* dynmem-version: the smallest program that links libdynmem from outside.
 *
 * It uses only the installed public header and pkg-config, checks that the
 * library it loaded is at least the one it was compiled against, and prints
 * what the library knows about itself. Build it against an installed copy:
 *
 *     cc dynmem-version.c $(pkg-config --cflags --libs dynmem) -o dynmem-version
 */
#include <dynmem/dynmem.h>

#include <stdio.h>
#include <string.h>

#define PRINT_ERROR_ROW(name, value, text) \
    printf("  %5d  %-32s %s\n", (value), dynmem_error_name(value), dynmem_strerror(value));

int main(int argc, char **argv)
{
    int errors_table = argc > 1 && strcmp(argv[1], "--errors") == 0;

    if (!dynmem_version_at_least(DYNMEM_VERSION_MAJOR, DYNMEM_VERSION_MINOR,
                                 DYNMEM_VERSION_MICRO)) {
        fprintf(stderr, "dynmem-version: loaded libdynmem %s is older than the headers (%s)\n",
                dynmem_version_string(), DYNMEM_VERSION_STRING);
        return 1;
    }
    printf("libdynmem %s (0x%06lx), compiled against headers %s\n",
           dynmem_version_string(), (unsigned long)dynmem_version(), DYNMEM_VERSION_STRING);
    if (errors_table) {
        printf("error codes:\n");
        PRINT_ERROR_ROW(OK, DYNMEM_OK, "success")
        DYNMEM_ERRORS(PRINT_ERROR_ROW)
    }
    return 0;
}
