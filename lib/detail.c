/* The detail of a handle's latest refusal: formatting (on the refusal path
 * only) and the copy out that every *_last_error() function makes. A NULL
 * detail is a handle that keeps none: nothing is formatted or written, the
 * code is returned all the same, and its copy out is the empty text. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dynmem/common.h>

#include "detail.h"

/* The one writer: every helper below formats through it, so this is the
 * one place a NULL detail needs checking (and dynmem__detail_first(), which
 * reads it). */
int dynmem__detail_vset(char *detail, int rc, const char *fmt, va_list ap)
{
    if (!detail)
        return rc;
    vsnprintf(detail, DYNMEM__DETAIL_LEN, fmt, ap);
    return rc;
}

int dynmem__detail_set(char *detail, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dynmem__detail_vset(detail, rc, fmt, ap);
    va_end(ap);
    return rc;
}

int dynmem__detail_first(char *detail, int rc, const char *fmt, ...)
{
    if (!detail || detail[0])
        return rc;
    va_list ap;
    va_start(ap, fmt);
    dynmem__detail_vset(detail, rc, fmt, ap);
    va_end(ap);
    return rc;
}

int dynmem__detail_bad_param(char *detail, int rc, const char *name, int64_t value, int64_t min,
                             int64_t max)
{
    if (value >= min && value <= max)
        return dynmem__detail_set(detail, rc, "%s %" PRId64 " is not a multiple of 2 MiB", name,
                                  value);
    return dynmem__detail_set(detail, rc, "%s %" PRId64 " outside %" PRId64 "..%" PRId64, name,
                              value, min, max);
}

int dynmem__detail_no_param(char *detail, const char *what, int param)
{
    return dynmem__detail_set(detail, DYNMEM_ERR_NOT_FOUND, "%s %d names no setting", what, param);
}

/* The sample's figures, for a refusal that is about them. */
static int bad_figures(char *detail, int rc, const struct dynmem_pressure_sample *s,
                       const char *why)
{
    uint32_t f = s->flags;
    return dynmem__detail_set(
        detail, rc, "sample at %" PRIu64 " ms: %s (committed %s%s%s%s%s)", s->time_ms, why,
        dynmem__size_text(s->committed_bytes).s, f & DYNMEM_SAMPLE_HAS_AVAILABLE ? ", available " : "",
        f & DYNMEM_SAMPLE_HAS_AVAILABLE ? dynmem__size_text(s->available_bytes).s : "",
        f & DYNMEM_SAMPLE_HAS_TOTAL ? ", total " : "",
        f & DYNMEM_SAMPLE_HAS_TOTAL ? dynmem__size_text(s->total_bytes).s : "");
}

int dynmem__detail_bad_sample(char *detail, int rc, const struct dynmem_pressure_sample *s,
                              const char *latest, uint64_t latest_ms)
{
    if (!detail)
        return rc; /* not even the sizes as text */
    switch (rc) {
    case DYNMEM_ERR_STRUCT_SIZE:
        return dynmem__detail_set(detail, rc, "sample size %" PRIu32 " is not one this library "
                                  "reads (set it with DYNMEM_PRESSURE_SAMPLE_INIT)", s->size);
    case DYNMEM_ERR_STRUCT_RESERVED:
        return dynmem__detail_set(detail, rc, "sample flags %#" PRIx32 " or its reserved fields "
                                  "hold what this library does not know", s->flags);
    case DYNMEM_ERR_OUT_OF_RANGE:
        return bad_figures(detail, rc, s, "a figure above 4 PiB or a PSI above 100 %");
    case DYNMEM_ERR_PRESSURE_INCONSISTENT:
        return bad_figures(detail, rc, s, "more memory available than in total");
    case DYNMEM_ERR_PRESSURE_TIME_BACKWARDS:
        return dynmem__detail_set(detail, rc, "sample at %" PRIu64 " ms is older than %s, at "
                                  "%" PRIu64 " ms", s->time_ms, latest, latest_ms);
    case DYNMEM_ERR_NO_MEMORY:
        return dynmem__detail_set(detail, rc, "no memory for the sample's history point (the "
                                  "allocator refused)");
    default:
        return rc;
    }
}

int dynmem__detail_copy(const char *detail, char *buf, size_t len)
{
    size_t n = detail ? strlen(detail) : 0;
    if (len) {
        size_t cut = n < len ? n : len - 1;
        if (cut)
            memcpy(buf, detail, cut);
        buf[cut] = '\0';
    }
    return (int)n;
}
