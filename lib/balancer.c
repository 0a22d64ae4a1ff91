/* The balancer's handle, settings, VM lifecycle, facts and counters.
 * Deciding (the tick) lives in balancer_tick.c and balancer_policy.c. */
#include <inttypes.h>
#include <string.h>

#include "balancer_internal.h"
#include "struct_abi.h"

#define NO_SLOT UINT32_MAX

static bool is_size(uint64_t x)
{
    return x > 0 && x <= BYTES_MAX && x % UNIT == 0;
}

/* ---- settings ----------------------------------------------------------- */

struct param_info {
    int64_t min, max, def;
    bool unit_multiple;
};

static const struct param_info *param_info(enum dynmem_balancer_param p)
{
    static const struct param_info table[] = {
        [DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES] = {0, (int64_t)BYTES_MAX, 0, true},
        [DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES] = {-1, (int64_t)BYTES_MAX, -1, true},
        [DYNMEM_BALANCER_PARAM_POLICY] = {DYNMEM_POLICY_DYNMEM, DYNMEM_POLICY_PROXMOX,
                                          DYNMEM_POLICY_DYNMEM, false},
        [DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS] = {0, CALM_MAX_MS, 60000, false},
        [DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS] = {1, INT64_C(86400000), 5000, false},
        [DYNMEM_BALANCER_PARAM_DEADBAND_BYTES] = {0, INT64_C(1) << 40, 32 << 20, true},
        [DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES] = {0, (int64_t)BYTES_MAX, 0, true},
        [DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES] = {0, (int64_t)BYTES_MAX, 0, true},
        [DYNMEM_BALANCER_PARAM_STALE_MS] = {1, INT64_C(86400000), 5000, false},
        [DYNMEM_BALANCER_PARAM_TICK_MS] = {1, INT64_C(3600000), 1000, false},
    };
    if ((unsigned)p >= sizeof table / sizeof table[0] || p == 0)
        return NULL;
    return &table[p];
}

static int64_t *param_slot(dynmem_balancer *b, enum dynmem_balancer_param p)
{
    switch (p) {
    case DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES: return &b->host_total;
    case DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES: return &b->reserve_setting;
    case DYNMEM_BALANCER_PARAM_POLICY: return &b->policy;
    case DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS: return &b->calm_ms;
    case DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS: return &b->stuck_ms;
    case DYNMEM_BALANCER_PARAM_DEADBAND_BYTES: return &b->deadband;
    case DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES: return &b->max_grow;
    case DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES: return &b->max_shrink;
    case DYNMEM_BALANCER_PARAM_STALE_MS: return &b->stale_ms;
    case DYNMEM_BALANCER_PARAM_TICK_MS: return &b->tick_ms;
    }
    return NULL;
}

int dynmem_balancer_param_bounds(enum dynmem_balancer_param param, int64_t *min, int64_t *max)
{
    if (!min || !max)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    const struct param_info *pi = param_info(param);
    if (!pi)
        return DYNMEM_ERR_NOT_FOUND;
    *min = pi->min;
    *max = pi->max;
    return DYNMEM_OK;
}

/* Default reserve, VMware ESX's minFree: 899 MiB plus 1 % of the memory
 * above 28 GiB. It grows slowly with host size (a 32 GiB host keeps 940 MiB,
 * so fifteen 2 GiB VMs fit as on Hyper-V with 2 GiB for the host), where
 * Hyper-V 2008 R2's 384 MiB + 64 MiB per GiB would keep 2.4 GiB there and
 * 8.4 GiB on a 128 GiB host. */
uint64_t dynmem__bal_default_reserve(uint64_t total)
{
    uint64_t r = UINT64_C(899) << 20;
    uint64_t knee = UINT64_C(28) << 30;
    if (total > knee)
        r += (total - knee) / 100;
    return round_up_unit(r);
}

static uint64_t reserve_for(int64_t total, int64_t setting)
{
    uint64_t r = setting >= 0 ? (uint64_t)setting : dynmem__bal_default_reserve((uint64_t)total);
    return min_u64(r, (uint64_t)total);
}

uint64_t dynmem__bal_reserve(const dynmem_balancer *b)
{
    return reserve_for(b->host_total, b->reserve_setting);
}

uint64_t dynmem__bal_used(const dynmem_balancer *b)
{
    return b->used;
}

uint64_t dynmem__bal_free(const dynmem_balancer *b)
{
    uint64_t limit = (uint64_t)b->host_total - dynmem__bal_reserve(b);
    uint64_t used = dynmem__bal_used(b);
    return used >= limit ? 0 : limit - used;
}

int dynmem_balancer_set_param(dynmem_balancer *b, enum dynmem_balancer_param param, int64_t value)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    const struct param_info *pi = param_info(param);
    if (!pi)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_NOT_FOUND, "unknown balancer setting %d",
                                  (int)param);
    if (value < pi->min || value > pi->max || (pi->unit_multiple && value > 0 && value % (int64_t)UNIT))
        return dynmem__bal_bad_param(b, DYNMEM_ERR_OUT_OF_RANGE, dynmem__bal_param_name(param),
                                     value, pi->min, pi->max);
    if (param == DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES ||
        param == DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES) {
        int64_t total = param == DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES ? value : b->host_total;
        int64_t setting = param == DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES ? value : b->reserve_setting;
        /* Never let a settings change break the invariant for running VMs. */
        if (dynmem__bal_used(b) + reserve_for(total, setting) > (uint64_t)total &&
            dynmem__bal_used(b) > 0)
            return dynmem__detail_set(
                b->detail, DYNMEM_ERR_BAD_STATE,
                "host memory %s with reserve %s leaves less than the %s running VMs hold",
                dynmem__size_text((uint64_t)total).s,
                dynmem__size_text(reserve_for(total, setting)).s,
                dynmem__size_text(dynmem__bal_used(b)).s);
    }
    *param_slot(b, param) = value;
    /* The policy, the stale and stuck timeouts and the tick period shape
     * every VM's figures: all are refreshed at the next tick. */
    for (uint32_t i = 0; i < b->nvms; i++)
        b->vms[i].clean = false;
    return DYNMEM_OK;
}

int dynmem_balancer_get_param(const dynmem_balancer *b, enum dynmem_balancer_param param,
                              int64_t *value)
{
    if (!b || !value)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!param_info(param))
        return DYNMEM_ERR_NOT_FOUND;
    if (param == DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES)
        *value = (int64_t)dynmem__bal_reserve(b);
    else
        *value = *param_slot((dynmem_balancer *)b, param);
    return DYNMEM_OK;
}

/* ---- handle ---------------------------------------------------------------- */

int dynmem_balancer_new(dynmem_balancer **out, const struct dynmem_allocator *alloc)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    struct dynmem__alloc a;
    int rc;
    dynmem_balancer *b = dynmem__handle_alloc(alloc, sizeof *b, &a, &rc);
    if (!b)
        return rc;
    b->alloc = a;
    if (alloc) {
        b->user_alloc = *alloc;
        b->user_alloc.size = sizeof b->user_alloc;
        b->has_user_alloc = true;
    }
    b->free_head = NO_SLOT;
    for (int p = DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES; p <= DYNMEM_BALANCER_PARAM_TICK_MS; p++)
        *param_slot(b, (enum dynmem_balancer_param)p) = param_info((enum dynmem_balancer_param)p)->def;
    b->next_action_id = 1;
    *out = b;
    return DYNMEM_OK;
}

void dynmem_balancer_free(dynmem_balancer *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < b->nvms; i++)
        dynmem_pressure_free(b->vms[i].est);
    dynmem__free(&b->alloc, b->vms_block);
    dynmem__free(&b->alloc, b->order);
    dynmem__free(&b->alloc, b->keys);
    dynmem__free(&b->alloc, b->work);
    dynmem__free(&b->alloc, b->items);
    dynmem__free(&b->alloc, b->ranks);
    dynmem__free(&b->alloc, b->queue);
    struct dynmem__alloc a = b->alloc;
    dynmem__free(&a, b);
}

/* ---- VM lookup and slots ---------------------------------------------------- */

/* A VM's id: its slot in the low half, the slot's generation in the high
 * half, so an id kept after dynmem_balancer_vm_remove() finds nothing. */
/* Makes room for one more slot in every per-VM array. On failure the
 * arrays that did grow stay grown (harmless) and cap is unchanged. */
static int reserve_slot(dynmem_balancer *b)
{
    if (b->free_head != NO_SLOT || b->nvms < b->cap)
        return DYNMEM_OK;
    if (b->cap >= UINT32_MAX / 2)
        return DYNMEM_ERR_NO_MEMORY;
    uint32_t ncap = b->cap ? b->cap * 2 : 8;
    /* VM records start on a cache line (see struct vm): the block has a
     * line to spare, and a block moved by realloc has its records moved to
     * the new block's first aligned address. */
    size_t bytes;
    if (__builtin_mul_overflow(ncap, sizeof *b->vms, &bytes) ||
        __builtin_add_overflow(bytes, VM_LINE, &bytes))
        return DYNMEM_ERR_NO_MEMORY;
    size_t old_bytes = b->vms_block ? b->cap * sizeof *b->vms + VM_LINE : 0;
    size_t old_at = b->vms_block ? (size_t)((char *)b->vms - (char *)b->vms_block) : 0;
    void *p = dynmem__reallocarray(&b->alloc, b->vms_block, old_bytes, bytes, 1);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    size_t at = (VM_LINE - (uintptr_t)p % VM_LINE) % VM_LINE;
    if (at != old_at)
        memmove((char *)p + at, (char *)p + old_at, b->cap * sizeof *b->vms);
    b->vms_block = p;
    b->vms = (struct vm *)(void *)((char *)p + at);
    p = dynmem__reallocarray(&b->alloc, b->order, b->cap, ncap, sizeof *b->order);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    b->order = p;
    p = dynmem__reallocarray(&b->alloc, b->keys, b->cap, ncap, sizeof *b->keys);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    b->keys = p;
    p = dynmem__reallocarray(&b->alloc, b->work, (b->cap + 63) / 64, (ncap + 63) / 64, sizeof *b->work);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    b->work = p;
    p = dynmem__reallocarray(&b->alloc, b->items, b->cap, ncap, sizeof *b->items);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    b->items = p;
    p = dynmem__reallocarray(&b->alloc, b->ranks, 2 * (size_t)b->cap, 2 * (size_t)ncap, sizeof *b->ranks);
    if (!p)
        return DYNMEM_ERR_NO_MEMORY;
    b->ranks = p;
    /* The queue is a ring: unwrap it while growing. */
    struct dynmem_action *q = dynmem__calloc(&b->alloc, ncap, sizeof *q);
    if (!q)
        return DYNMEM_ERR_NO_MEMORY;
    for (uint32_t i = 0; i < b->qlen; i++)
        q[i] = b->queue[(b->qhead + i) % b->cap];
    dynmem__free(&b->alloc, b->queue);
    b->queue = q;
    b->qhead = 0;
    b->cap = ncap;
    return DYNMEM_OK;
}

static int estimator_configure(dynmem_pressure *est, const struct dynmem_vm_config *c)
{
    /* Clamps first widened, then narrowed, so min <= max holds in between. */
    int rc = dynmem_pressure_set_param(est, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES, (int64_t)UNIT);
    if (!rc)
        rc = dynmem_pressure_set_param(est, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES, (int64_t)c->maximum_bytes);
    if (!rc)
        rc = dynmem_pressure_set_param(est, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES, (int64_t)c->minimum_bytes);
    if (!rc)
        rc = dynmem_pressure_set_param(est, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, c->buffer_percent);
    return rc;
}

/* Moves a VM's estimator to a new configuration, or leaves it on the VM's
 * current one if the new one does not take. */
static int estimator_reconfigure(struct vm *v, const struct dynmem_vm_config *c)
{
    int rc = estimator_configure(v->est, c);
    if (rc) {
        struct dynmem_vm_config held = vm_config(v);
        (void)estimator_configure(v->est, &held); /* cannot fail: it held before */
    }
    return rc;
}

int dynmem_balancer_vm_add(dynmem_balancer *b, const struct dynmem_vm_config *config,
                           uint64_t *vm_id)
{
    if (!b || !vm_id)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    int rc = dynmem_vm_config_check(config);
    if (rc)
        return config ? dynmem__bal_bad_config(b, rc, NULL, config) : rc;
    dynmem_pressure *est;
    rc = dynmem__pressure_new_quiet(&est, b->has_user_alloc ? &b->user_alloc : NULL);
    if (rc)
        return rc;
    rc = estimator_configure(est, config);
    if (!rc)
        rc = reserve_slot(b);
    if (rc) {
        dynmem_pressure_free(est);
        return rc;
    }
    uint32_t slot;
    if (b->free_head != NO_SLOT) {
        slot = b->free_head;
        b->free_head = b->vms[slot].next_free;
    } else {
        slot = b->nvms++;
        b->vms[slot].generation = 0;
    }
    struct vm *v = &b->vms[slot];
    uint32_t gen = v->generation + 1 ? v->generation + 1 : 1;
    memset(v, 0, sizeof *v);
    v->generation = gen;
    v->in_use = true;
    vm_set_config(v, config);
    v->est = est;
    vm_end_surplus(v);
    *vm_id = dynmem__bal_vm_id(b, v);
    return DYNMEM_OK;
}

int dynmem_balancer_vm_remove(dynmem_balancer *b, uint64_t vm_id)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (v->running)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE,
                                  "vm %" PRIu64 ": running: stop it first", vm_id);
    dynmem_pressure_free(v->est);
    v->est = NULL;
    v->in_use = false;
    v->next_free = b->free_head;
    b->free_head = (uint32_t)(v - b->vms);
    return DYNMEM_OK;
}

/* Drops queued (not yet taken) actions of one VM. */
static void unqueue_vm(dynmem_balancer *b, uint64_t vm_id)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < b->qlen; i++) {
        struct dynmem_action a = b->queue[(b->qhead + i) % b->cap];
        if (a.vm_id != vm_id)
            b->queue[(b->qhead + kept++) % b->cap] = a;
    }
    b->qlen = kept;
}

/* Puts a VM on at `backed` bytes of host memory out of its startup. */
static void vm_power_on(dynmem_balancer *b, struct vm *v, uint64_t backed, uint64_t now_ms)
{
    uint64_t startup = v->startup;
    if (v->running)
        b->used -= vm_holding(v);
    b->used += backed;
    v->running = true;
    v->busy = v->stuck = v->hot_add_failed = v->has_available = v->resizing = false;
    v->assigned = backed;
    v->in_flight = 0;
    vm_forget_plans(v);
    v->visible = startup;
    v->paged = startup - backed;
    vm_end_surplus(v);
    v->has_data = v->stale = false;
    v->dirty = true;
    v->entitled = backed;
    /* A comparison policy's target from before the (re)start is void. */
    v->has_peer_target = false;
    (void)now_ms;
    dynmem_pressure_reset(v->est);
}

int dynmem_balancer_vm_start(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                             uint64_t *missing_bytes)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    if (missing_bytes)
        *missing_bytes = 0;
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (v->running)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE,
                                  "vm %" PRIu64 ": already running", vm_id);
    if (b->host_total == 0)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE,
                                  "host memory not set (DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES)");
    uint64_t free_bytes = dynmem__bal_free(b);
    if (v->startup > free_bytes) {
        if (missing_bytes)
            *missing_bytes = v->startup - free_bytes;
        return dynmem__detail_set(b->detail, DYNMEM_ERR_ADMISSION,
                                  "vm %" PRIu64 ": startup %s does not fit: %s free after the "
                                  "%s reserve, %s missing",
                                  vm_id, dynmem__size_text(v->startup).s,
                                  dynmem__size_text(free_bytes).s,
                                  dynmem__size_text(dynmem__bal_reserve(b)).s,
                                  dynmem__size_text(v->startup - free_bytes).s);
    }
    vm_power_on(b, v, v->startup, now_ms);
    v->added = v->removed = v->add_ops = v->remove_ops = 0;
    return DYNMEM_OK;
}

int dynmem_balancer_vm_restart(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                               uint64_t *paged_bytes)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    if (paged_bytes)
        *paged_bytes = 0;
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (!v->running || v->busy)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE, "vm %" PRIu64 ": %s", vm_id,
                                  v->running ? "an action is in flight" : "off");
    /* The VM's own memory is available to its restart. */
    uint64_t free_bytes = dynmem__bal_free(b) + vm_holding(v);
    uint64_t startup = v->startup;
    uint64_t backed = min_u64(startup, round_down(free_bytes, UNIT));
    if (backed < v->minimum) {
        b->used -= vm_holding(v);
        v->running = false;
        unqueue_vm(b, vm_id);
        return dynmem__detail_set(b->detail, DYNMEM_ERR_ADMISSION,
                                  "vm %" PRIu64 ": not even its minimum %s can be backed: %s free",
                                  vm_id, dynmem__size_text(v->minimum).s,
                                  dynmem__size_text(free_bytes).s);
    }
    unqueue_vm(b, vm_id);
    vm_power_on(b, v, backed, now_ms);
    if (paged_bytes)
        *paged_bytes = v->paged;
    return DYNMEM_OK;
}

int dynmem_balancer_vm_stop(dynmem_balancer *b, uint64_t vm_id)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (!v->running)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE, "vm %" PRIu64 ": already off",
                                  vm_id);
    unqueue_vm(b, vm_id);
    b->used -= vm_holding(v);
    v->running = v->busy = v->stuck = false;
    v->assigned = v->in_flight = v->visible = v->paged = 0;
    vm_forget_plans(v);
    return DYNMEM_OK;
}

/* What may change on a running VM (B1): minimum down, maximum up, and the
 * soft settings. */
static bool running_change_allowed(const struct dynmem_vm_config *old,
                                   const struct dynmem_vm_config *new_cfg)
{
    return (old->flags & DYNMEM_VM_DYNAMIC) == (new_cfg->flags & DYNMEM_VM_DYNAMIC) &&
           old->startup_bytes == new_cfg->startup_bytes &&
           new_cfg->minimum_bytes <= old->minimum_bytes &&
           new_cfg->maximum_bytes >= old->maximum_bytes;
}

int dynmem_balancer_vm_configure(dynmem_balancer *b, uint64_t vm_id,
                                 const struct dynmem_vm_config *config)
{
    if (!b || !config)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    int rc = dynmem_vm_config_check(config);
    if (rc)
        return dynmem__bal_bad_config(b, rc, &vm_id, config);
    struct dynmem_vm_config old = vm_config(v);
    if (v->running && !running_change_allowed(&old, config))
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE,
                                  "vm %" PRIu64 ": running: only a lower minimum, a higher "
                                  "maximum, buffer, weight, abilities and alignment may change",
                                  vm_id);
    rc = estimator_reconfigure(v, config);
    if (rc)
        return rc;
    vm_set_config(v, config);
    v->hot_add_failed = false;
    v->dirty = true;
    return DYNMEM_OK;
}

int dynmem_balancer_vm_resize(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                              uint64_t new_bytes, uint64_t *granted_bytes)
{
    (void)now_ms;
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (!is_size(new_bytes))
        return dynmem__detail_set(b->detail, DYNMEM_ERR_OUT_OF_RANGE,
                                  "vm %" PRIu64 ": size %s is not a non-zero multiple of 2 MiB",
                                  vm_id, dynmem__size_text(new_bytes).s);
    if (!v->running || (v->cfg_flags & DYNMEM_VM_DYNAMIC) || v->busy || v->paged)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE, "vm %" PRIu64 ": %s", vm_id,
                                  !v->running ? "off"
                                  : (v->cfg_flags & DYNMEM_VM_DYNAMIC) ? "dynamic: resize is for static VMs"
                                  : v->busy ? "an action is in flight"
                                            : "smart-paged memory is not drained yet");
    uint64_t cur = v->assigned;
    uint64_t granted;
    if (new_bytes >= cur) {
        uint64_t room = v->visible;
        if ((v->cfg_flags & DYNMEM_VM_CAN_HOT_ADD) && !v->hot_add_failed)
            room = BYTES_MAX;
        granted = min_u64(new_bytes, min_u64(room, cur + round_down(dynmem__bal_free(b), UNIT)));
    } else {
        /* Never take more than the guest reports it can spare (B10). */
        uint64_t spare = v->has_available ? round_down(v->available, UNIT) : 0;
        if (!(v->cfg_flags & (DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_REMOVE)))
            spare = 0;
        granted = cur - min_u64(cur - new_bytes, spare);
    }
    granted = max_u64(granted, UNIT);
    /* A resized static VM keeps min = startup = max, at its new size. */
    struct dynmem_vm_config cfg = vm_config(v);
    cfg.startup_bytes = cfg.minimum_bytes = cfg.maximum_bytes = granted;
    int rc = estimator_reconfigure(v, &cfg);
    if (rc)
        return rc;
    vm_set_config(v, &cfg);
    v->dirty = true;
    v->resize_target = granted;
    v->resizing = granted != cur;
    if (granted_bytes)
        *granted_bytes = granted;
    return granted == new_bytes ? DYNMEM_OK : DYNMEM_ERR_PARTIAL;
}

int dynmem_balancer_vm_sample(dynmem_balancer *b, uint64_t vm_id,
                              const struct dynmem_pressure_sample *sample)
{
    if (!b || !sample)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (!v->running)
        return dynmem__detail_set(b->detail, DYNMEM_ERR_BAD_STATE, "vm %" PRIu64 ": off", vm_id);
    /* The assignment as of the sample goes into the same history point. */
    int rc = dynmem__pressure_add_sample_at(v->est, sample, max_u64(v->assigned, PAGE_BYTES));
    if (rc)
        return dynmem__bal_bad_sample(b, rc, vm_id, sample, dynmem__pressure_latest_ms(v->est));
    v->has_available = (sample->flags & DYNMEM_SAMPLE_HAS_AVAILABLE) != 0;
    if (v->has_available) /* read only then */
        v->available = sample->available_bytes;
    v->sample_ms = sample->time_ms;
    /* A report repeating the last demand, with no distress signal in it,
     * changes none of the figures the tick uses: the VM stays clean unless
     * the report ends its staleness. */
    const uint32_t distress = DYNMEM_SAMPLE_HAS_SWAP_IN | DYNMEM_SAMPLE_HAS_MAJOR_FAULTS |
                              DYNMEM_SAMPLE_HAS_PSI;
    if (!v->has_data || sample->committed_bytes != v->obs.demand_bytes || (sample->flags & distress))
        v->dirty = true;
    if (v->dirty || v->stale)
        v->clean = false;
    return DYNMEM_OK;
}

int dynmem_balancer_vm_set_pressure_param(dynmem_balancer *b, uint64_t vm_id,
                                          enum dynmem_pressure_param param, int64_t value)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (param != DYNMEM_PRESSURE_PARAM_WINDOW_MS && param != DYNMEM_PRESSURE_PARAM_STALE_MS) {
        /* One rule for unknown settings everywhere: DYNMEM_ERR_NOT_FOUND. */
        int64_t lo, hi;
        int known = dynmem_pressure_param_bounds(param, &lo, &hi);
        return known == DYNMEM_ERR_NOT_FOUND ? known : DYNMEM_ERR_INVALID_ARGUMENT;
    }
    int rc = dynmem_pressure_set_param(v->est, param, value);
    if (rc == DYNMEM_ERR_OUT_OF_RANGE) {
        int64_t lo, hi;
        (void)dynmem_pressure_param_bounds(param, &lo, &hi);
        return dynmem__bal_bad_param(b, rc,
                                     param == DYNMEM_PRESSURE_PARAM_WINDOW_MS
                                         ? "DYNMEM_PRESSURE_PARAM_WINDOW_MS"
                                         : "DYNMEM_PRESSURE_PARAM_STALE_MS",
                                     value, lo, hi);
    }
    return rc;
}
