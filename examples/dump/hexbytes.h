/* Hex text <-> bytes, shared by dynmem-dump and the codec tests (which
 * write their vectors in the same notation). Depends on nothing else. */
#ifndef DYNMEM_DUMP_HEXBYTES_H
#define DYNMEM_DUMP_HEXBYTES_H

#include <stddef.h>

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void dump_hex(char *out, const unsigned char *p, size_t n);

/* Parses hex digit pairs, spaces allowed, into out. Returns the byte count
 * or -1 (bad digit, odd count, more than cap bytes). */
long dump_unhex(unsigned char *out, size_t cap, const char *text);

#endif
