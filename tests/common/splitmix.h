/* Test helper: splitmix64, a tiny seeded generator, so that every random
 * test sequence can be replayed from its seed. Header-only: api tests use
 * it without linking the internal library. */
#ifndef DYNMEM_TESTS_SPLITMIX_H
#define DYNMEM_TESTS_SPLITMIX_H

#include <stdint.h>

static inline uint64_t splitmix_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

#endif
