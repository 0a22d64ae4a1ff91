/* Test helper: FNV-1a over 64-bit words, to fold everything a run observed
 * into one number that another run of the same work must reproduce.
 * Header-only: api tests use it without linking the internal library. */
#ifndef DYNMEM_TESTS_DIGEST_H
#define DYNMEM_TESTS_DIGEST_H

#include <stdint.h>

#define DIGEST_INIT UINT64_C(0xCBF29CE484222325)

static inline void digest_mix(uint64_t *h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        *h ^= (v >> (8 * i)) & 0xFF;
        *h *= UINT64_C(0x100000001B3);
    }
}

#endif
