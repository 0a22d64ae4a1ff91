/* Small helpers the example daemons share: sizes and numbers from the
 * command line, a monotonic clock, and timestamped log lines. Not part of
 * libdynmem: examples link the library through its public API only. */
#ifndef DYNMEM_EXAMPLES_EXUTIL_H
#define DYNMEM_EXAMPLES_EXUTIL_H

#include <dynmem/balancer.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Size with an optional K, M, G or T suffix (powers of 1024, optionally
 * followed by "i" and/or "B"; "B" alone means bytes); no suffix means MiB,
 * as QEMU's -m. Returns 0 or -1 (not a number, negative, overflow). */
int ex_parse_size(const char *s, uint64_t *out);

/* Decimal unsigned 32-bit number, nothing else. Returns 0 or -1. */
int ex_parse_u32(const char *s, uint32_t *out);

/* A period in milliseconds: 1 to 86400000 (a day), decimal. Returns 0 or -1. */
int ex_parse_ms(const char *s, unsigned *out);

/* A balancer policy by the name dynmem_policy_name() gives it; returns the
 * policy (enum dynmem_policy) or -1 for a name the library does not know. */
int ex_parse_policy(const char *s);

/* How old a guest's statistics may be before the balancer holds the VM
 * where it is: three statistics periods, never less than 5 s. */
int64_t ex_stale_ms(unsigned stats_interval_s);

/* Why a call on balancer b failed, for a log line: dynmem_strerror(rc),
 * then the balancer's own detail of the refusal when it gave one (which VM,
 * field or setting, and the numbers). b NULL: the error text alone, for an
 * error that did not come from the balancer. Returns buf. */
const char *ex_why(const dynmem_balancer *b, int rc, char *buf, size_t len);

/* ex_why() into a buffer that lives as long as the enclosing block. */
#define EX_WHY_LEN 320
#define EX_WHY(b, rc) ex_why((b), (rc), (char[EX_WHY_LEN]){0}, EX_WHY_LEN)

/* Adds a VM and starts it (admission), removing it again when it is not
 * admitted. On a refusal `why` receives ex_why()'s text, taken before the
 * removal clears the balancer's detail, and *missing what admission lacked.
 * Returns 0 or the error. */
int ex_book(dynmem_balancer *b, const struct dynmem_vm_config *c, uint64_t now_ms,
            uint64_t *vm_id, uint64_t *missing, char *why, size_t len);

/* Installs the daemons' signal handling: SIGTERM and SIGINT set the flag
 * returned (the main loop stops and leaves every guest as it is), SIGPIPE
 * is ignored (a peer that hangs up is an error return, not a death). */
volatile sig_atomic_t *ex_stop_on_signals(void);

/* Milliseconds on the monotonic clock. */
long long ex_mono_ms(void);

/* One log line on stdout: "2026-11-23T20:35:20.634Z WHO: text". */
__attribute__((format(printf, 2, 3))) void ex_log(const char *who, const char *fmt, ...);

/* ex_log() with a va_list, for daemons that wrap it. */
__attribute__((format(printf, 2, 0))) void ex_vlog(const char *who, const char *fmt, va_list ap);

#endif
