/* Shared by the fuzz targets: the libFuzzer entry point and a check that
 * crashes (so that libFuzzer and the replay driver both notice) when an
 * invariant of the codec does not hold. */
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

#endif
