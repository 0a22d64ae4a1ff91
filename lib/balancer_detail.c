/* The detail of a balancer's latest refusal: one line naming the VM, the
 * field or setting and the numbers, kept in the handle until the next call
 * that may change it (dynmem_balancer_last_error()). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "balancer_detail.h"
#include "balancer_internal.h"

void dynmem__bal_detail_clear(dynmem_balancer *b)
{
    b->detail[0] = '\0';
}

int dynmem__bal_no_vm(dynmem_balancer *b, uint64_t vm_id)
{
    return dynmem__detail_set(b->detail, DYNMEM_ERR_NOT_FOUND,
                              "vm %" PRIu64 ": no such VM (never added, or removed)", vm_id);
}

int dynmem__bal_bad_config(dynmem_balancer *b, int rc, const uint64_t *vm_id,
                           const struct dynmem_vm_config *config)
{
    char why[DYNMEM__DETAIL_LEN];
    (void)dynmem_vm_config_explain(config, why, sizeof why);
    if (vm_id)
        return dynmem__detail_set(b->detail, rc, "vm %" PRIu64 ": %s", *vm_id, why);
    return dynmem__detail_set(b->detail, rc, "new vm: %s", why);
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
    return dynmem__detail_bad_param(b->detail, rc, name, value, min, max);
}

int dynmem_balancer_last_error(const dynmem_balancer *b, char *buf, size_t len)
{
    if (!b || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem__detail_copy(b->detail, buf, len);
}

int dynmem__bal_stray_confirm(dynmem_balancer *b, const struct vm *v, uint64_t vm_id,
                              uint64_t action_id)
{
    if (!v->running || !v->busy)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_NOT_FOUND,
                                  "vm %" PRIu64 ": action %" PRIu64 " is not outstanding: "
                                  "the VM has no action out",
                                  vm_id, action_id);
    return dynmem__detail_set(b->detail, DYNMEM_ERR_NOT_FOUND,
                              "vm %" PRIu64 ": action %" PRIu64 " is not outstanding: "
                              "its action is %" PRIu64,
                              vm_id, action_id, v->act.id);
}

int dynmem__bal_bad_sample(dynmem_balancer *b, int rc, uint64_t vm_id,
                           const struct dynmem_pressure_sample *s, uint64_t latest_ms)
{
    char why[DYNMEM__DETAIL_LEN] = "";
    (void)dynmem__detail_bad_sample(why, rc, s, "the VM's latest sample or tick", latest_ms);
    if (!why[0])
        return rc;
    return dynmem__detail_set(b->detail, rc, "vm %" PRIu64 ": %s", vm_id, why);
}
