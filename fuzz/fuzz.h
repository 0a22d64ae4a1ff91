/* Shared by the fuzz targets: the libFuzzer entry point, a check that
 * crashes (so that libFuzzer and the replay driver both notice) when an
 * invariant does not hold, and a reader of operands from the input (bytes
 * past its end read as zero). */
#ifndef DYNMEM_FUZZ_H
#define DYNMEM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
    do {              \
        if (!(cond))  \
            abort();  \
    } while (0)

/* The unread part of a fuzz input. */
struct fuzz_input {
    const uint8_t *p;
    size_t n;
};

static inline unsigned fuzz_byte(struct fuzz_input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* Big-endian, so that a hand-written seed reads naturally. */
static inline unsigned fuzz_u16(struct fuzz_input *in)
{
    unsigned hi = fuzz_byte(in);
    return hi << 8 | fuzz_byte(in);
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

#endif
