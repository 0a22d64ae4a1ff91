/* Test helper: hex text to bytes, for test vectors written as in the spec. */
#ifndef DYNMEM_TESTS_HEX_H
#define DYNMEM_TESTS_HEX_H

#include <stddef.h>

/* Parses pairs of hex digits, skipping spaces, into out (cap bytes).
 * Returns the number of bytes, or -1 on a bad digit, an odd digit count or
 * overflow of out. */
long hex_parse(unsigned char *out, size_t cap, const char *text);

#endif
