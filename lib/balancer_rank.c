/* Orderings by rank: the growth order of a tick and the hyperv policy's
 * cut order. An LSD radix sort over 64-bit keys: O(n) for any fleet, no
 * comparisons, no allocation, and stable, so that ranks collected in slot
 * order leave ties in slot order and the result never depends on the sort. */
#include <string.h>

#include "balancer_internal.h"

/* Digits of 8 bits for short lists, 11 for long ones: a pass costs its
 * buckets plus two visits per rank, so fewer, wider digits pay off only
 * once the list outgrows the buckets. */
#define DIGITS_MAX (1u << 11)

uint64_t dynmem__rank_of_double(double d)
{
    if (d == 0)
        d = 0; /* -0 and +0 are equal as numbers: one rank */
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    /* Negative numbers order backwards in their bits; flipping them all
     * and setting the sign bit of the others orders every finite double. */
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

struct dynmem__rank *dynmem__rank_sort(struct dynmem__rank *r, struct dynmem__rank *tmp, uint32_t n)
{
    /* Only the bits in which keys differ need a pass. */
    uint64_t all_or = 0, all_and = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        all_or |= r[i].key;
        all_and &= r[i].key;
    }
    uint64_t differ = all_or ^ all_and;
    unsigned bits = n < 2048 ? 8 : 11;
    uint32_t digits = 1u << bits, mask = digits - 1;
    uint32_t count[DIGITS_MAX];
    /* One pass per digit starting at the lowest bit not yet sorted in
     * which keys differ: runs of equal bits cost nothing. */
    while (differ) {
        unsigned shift = (unsigned)__builtin_ctzll(differ);
        differ &= shift + bits >= 64 ? 0 : ~UINT64_C(0) << (shift + bits);
        memset(count, 0, digits * sizeof count[0]);
        for (uint32_t i = 0; i < n; i++)
            count[(r[i].key >> shift) & mask]++;
        uint32_t at = 0;
        for (uint32_t d = 0; d < digits; d++) {
            uint32_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (uint32_t i = 0; i < n; i++)
            tmp[count[(r[i].key >> shift) & mask]++] = r[i];
        struct dynmem__rank *t = r;
        r = tmp;
        tmp = t;
    }
    return r;
}
