/* Small helpers the example daemons share: sizes and numbers from the
 * command line, a monotonic clock, and timestamped log lines. Not part of
 * libdynmem: examples link the library through its public API only. */
#ifndef DYNMEM_EXAMPLES_EXUTIL_H
#define DYNMEM_EXAMPLES_EXUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Size with an optional K, M, G or T suffix (powers of 1024, optionally
 * followed by "i" and/or "B"; "B" alone means bytes); no suffix means MiB,
 * as QEMU's -m. Returns 0 or -1 (not a number, negative, overflow). */
int ex_parse_size(const char *s, uint64_t *out);

/* Decimal unsigned 32-bit number, nothing else. Returns 0 or -1. */
int ex_parse_u32(const char *s, uint32_t *out);

/* Milliseconds on the monotonic clock. */
long long ex_mono_ms(void);

/* One log line on stdout: "2026-11-23T20:35:20.634Z WHO: text". */
__attribute__((format(printf, 2, 3))) void ex_log(const char *who, const char *fmt, ...);

#endif
