/* The detail of a balancer's latest refusal: one line naming the VM, the
 * field or setting and the numbers, kept in the handle until the next call
 * that may change it (dynmem_balancer_last_error()). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "balancer_detail.h"
#include "balancer_internal.h"

void dynmem__bal_detail_clear(dynmem_balancer *b)
{
    b->detail[0] = '\0';
}

int dynmem__bal_refuse(dynmem_balancer *b, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->detail, sizeof b->detail, fmt, ap);
    va_end(ap);
    return rc;
}

int dynmem__bal_no_vm(dynmem_balancer *b, uint64_t vm_id)
{
    return dynmem__bal_refuse(b, DYNMEM_ERR_NOT_FOUND,
                              "vm %" PRIu64 ": no such VM (never added, or removed)", vm_id);
}

int dynmem__bal_bad_config(dynmem_balancer *b, int rc, const uint64_t *vm_id,
                           const struct dynmem_vm_config *config)
{
    char why[DYNMEM__DETAIL_LEN];
    (void)dynmem_vm_config_explain(config, why, sizeof why);
    if (vm_id)
        return dynmem__bal_refuse(b, rc, "vm %" PRIu64 ": %s", *vm_id, why);
    return dynmem__bal_refuse(b, rc, "new vm: %s", why);
}

static const char *const param_names[] = {
    [DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES] = "DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES",
    [DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES] = "DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES",
    [DYNMEM_BALANCER_PARAM_POLICY] = "DYNMEM_BALANCER_PARAM_POLICY",
    [DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS] = "DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS",
    [DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS] = "DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS",
    [DYNMEM_BALANCER_PARAM_DEADBAND_BYTES] = "DYNMEM_BALANCER_PARAM_DEADBAND_BYTES",
    [DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES] = "DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES",
    [DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES] = "DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES",
    [DYNMEM_BALANCER_PARAM_STALE_MS] = "DYNMEM_BALANCER_PARAM_STALE_MS",
    [DYNMEM_BALANCER_PARAM_TICK_MS] = "DYNMEM_BALANCER_PARAM_TICK_MS",
};

const char *dynmem__bal_param_name(int param)
{
    if (param < 1 || (size_t)param >= sizeof param_names / sizeof param_names[0])
        return NULL;
    return param_names[param];
}

int dynmem__bal_bad_param(dynmem_balancer *b, int rc, const char *name, int64_t value,
                          int64_t min, int64_t max)
{
    if (value >= min && value <= max)
        return dynmem__bal_refuse(b, rc, "%s %" PRId64 " is not a multiple of 2 MiB", name, value);
    return dynmem__bal_refuse(b, rc, "%s %" PRId64 " outside %" PRId64 "..%" PRId64, name, value,
                              min, max);
}

int dynmem_balancer_last_error(const dynmem_balancer *b, char *buf, size_t len)
{
    if (!b || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    size_t n = strlen(b->detail);
    if (len) {
        size_t cut = n < len ? n : len - 1;
        memcpy(buf, b->detail, cut);
        buf[cut] = '\0';
    }
    return (int)n;
}

int dynmem__bal_stray_confirm(dynmem_balancer *b, const struct vm *v, uint64_t vm_id,
                              uint64_t action_id)
{
    if (!v->running || !v->busy)
        return dynmem__bal_refuse(b, DYNMEM_ERR_NOT_FOUND,
                                  "vm %" PRIu64 ": action %" PRIu64 " is not outstanding: "
                                  "the VM has no action out",
                                  vm_id, action_id);
    return dynmem__bal_refuse(b, DYNMEM_ERR_NOT_FOUND,
                              "vm %" PRIu64 ": action %" PRIu64 " is not outstanding: "
                              "its action is %" PRIu64,
                              vm_id, action_id, v->act.id);
}

/* The sample's figures, for a refusal that is about them. */
static int bad_figures(dynmem_balancer *b, int rc, uint64_t vm_id,
                       const struct dynmem_pressure_sample *s, const char *why)
{
    uint32_t f = s->flags;
    return dynmem__bal_refuse(
        b, rc, "vm %" PRIu64 ": sample at %" PRIu64 " ms: %s (committed %s%s%s%s%s)", vm_id,
        s->time_ms, why, dynmem__size_text(s->committed_bytes).s,
        f & DYNMEM_SAMPLE_HAS_AVAILABLE ? ", available " : "",
        f & DYNMEM_SAMPLE_HAS_AVAILABLE ? dynmem__size_text(s->available_bytes).s : "",
        f & DYNMEM_SAMPLE_HAS_TOTAL ? ", total " : "",
        f & DYNMEM_SAMPLE_HAS_TOTAL ? dynmem__size_text(s->total_bytes).s : "");
}

int dynmem__bal_bad_sample(dynmem_balancer *b, int rc, uint64_t vm_id,
                           const struct dynmem_pressure_sample *s, uint64_t latest_ms)
{
    switch (rc) {
    case DYNMEM_ERR_STRUCT_SIZE:
        return dynmem__bal_refuse(b, rc, "vm %" PRIu64 ": sample size %" PRIu32 " is not one "
                                  "this library reads (set it with DYNMEM_PRESSURE_SAMPLE_INIT)",
                                  vm_id, s->size);
    case DYNMEM_ERR_STRUCT_RESERVED:
        return dynmem__bal_refuse(b, rc, "vm %" PRIu64 ": sample flags %#" PRIx32 " or its "
                                  "reserved fields hold what this library does not know",
                                  vm_id, s->flags);
    case DYNMEM_ERR_OUT_OF_RANGE:
        return bad_figures(b, rc, vm_id, s, "a figure above 4 PiB or a PSI above 100 %");
    case DYNMEM_ERR_PRESSURE_INCONSISTENT:
        return bad_figures(b, rc, vm_id, s, "more memory available than in total");
    case DYNMEM_ERR_PRESSURE_TIME_BACKWARDS:
        return dynmem__bal_refuse(b, rc, "vm %" PRIu64 ": sample at %" PRIu64 " ms is older "
                                  "than the VM's latest sample or tick, at %" PRIu64 " ms",
                                  vm_id, s->time_ms, latest_ms);
    case DYNMEM_ERR_NO_MEMORY:
        return dynmem__bal_refuse(b, rc, "vm %" PRIu64 ": no memory for the sample's history "
                                  "point (the allocator refused)", vm_id);
    default:
        return rc;
    }
}
