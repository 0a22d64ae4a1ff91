/* Internal: the 1.0 sizes of the estimator's public structs, for any lib/
 * file that checks or fills one (the sessions turn a status event into a
 * sample). Public layout only: the estimator's own stays in
 * pressure_handle.h and pressure_internal.h. */
#ifndef DYNMEM_LIB_PRESSURE_ABI_H
#define DYNMEM_LIB_PRESSURE_ABI_H

#include <dynmem/pressure.h>

#include "struct_abi.h"

/* The 1.0 size of a sample, the smallest any caller passes: a newer version
 * appends fields after it (STYLE.md 6.5). */
#define DYNMEM__SAMPLE_MIN_SIZE DYNMEM__END_OF(struct dynmem_pressure_sample, reserved)

#endif
