/* Internal: the detail of a handle's latest refusal (the *_last_error()
 * functions), written into a fixed array inside each handle: no
 * allocation, no state outside the handle. The balancer, the estimator and
 * both session engines share these helpers.
 *
 * Every helper accepts a NULL `detail`, for a handle that keeps none (an
 * estimator owned by a balancer): it writes nothing, formats nothing and
 * still returns the code it was given; dynmem__detail_copy() copies a NULL
 * detail out as the empty text. */
#ifndef DYNMEM_LIB_DETAIL_H
#define DYNMEM_LIB_DETAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dynmem/pressure.h>

#include "compiler.h"

/* Room for one line of detail, NUL included. */
#define DYNMEM__DETAIL_LEN 192

/* A size as people read it (config_check.c): whole MiB, else KiB, else bytes. */
struct dynmem__size_text {
    char s[32];
};
struct dynmem__size_text dynmem__size_text(uint64_t bytes);

/* Writes the detail (cut to DYNMEM__DETAIL_LEN) and returns `rc`. */
DYNMEM__PRINTF(3, 0)
int dynmem__detail_vset(char *detail, int rc, const char *fmt, va_list ap);
/* Writes the detail (cut to DYNMEM__DETAIL_LEN) and returns `rc`. */
DYNMEM__PRINTF(3, 4)
int dynmem__detail_set(char *detail, int rc, const char *fmt, ...);
/* As dynmem__detail_set(), unless the detail already says something: the
 * first of several refusals in one call is the one its code names. */
DYNMEM__PRINTF(3, 4)
int dynmem__detail_first(char *detail, int rc, const char *fmt, ...);
/* A setting outside its bounds, or (value within them) not whole 2 MiB units. */
int dynmem__detail_bad_param(char *detail, int rc, const char *name, int64_t value, int64_t min,
                             int64_t max);
/* A setting number that names none. */
int dynmem__detail_no_param(char *detail, const char *what, int param);
/* What was wrong with a sample the estimator refused with `rc`, with its
 * figures; `latest` names what the estimator's newest point is (e.g. "the
 * latest sample or query") and latest_ms its time. Returns rc. */
int dynmem__detail_bad_sample(char *detail, int rc, const struct dynmem_pressure_sample *s,
                              const char *latest, uint64_t latest_ms);
/* The public *_last_error() body: copies `detail` the snprintf way. */
int dynmem__detail_copy(const char *detail, char *buf, size_t len);

#endif
