#include "balsim.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

void balsim_init(struct balsim *s, uint64_t total, enum dynmem_policy policy)
{
    balsim_init_cap(s, total, policy, 64);
}

void balsim_init_cap(struct balsim *s, uint64_t total, enum dynmem_policy policy, int cap)
{
    *s = (struct balsim){0};
    s->cap = cap;
    s->vm = calloc((size_t)cap, sizeof *s->vm);
    cr_assert_not_null(s->vm);
    cr_assert_eq(dynmem_balancer_new(&s->b, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(s->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)total), 0);
    cr_assert_eq(dynmem_balancer_set_param(s->b, DYNMEM_BALANCER_PARAM_POLICY, policy), 0);
    s->now = 1000;
}

void balsim_fini(struct balsim *s)
{
    dynmem_balancer_free(s->b);
    s->b = NULL;
    free(s->vm);
    s->vm = NULL;
}

int balsim_add_cfg(struct balsim *s, const struct dynmem_vm_config *cfg, enum balsim_guest guest)
{
    cr_assert_lt(s->n, s->cap);
    struct balsim_vm *v = &s->vm[s->n];
    *v = (struct balsim_vm){0};
    cr_assert_eq(dynmem_balancer_vm_add(s->b, cfg, &v->id), 0);
    v->guest = guest;
    return s->n++;
}

int balsim_add(struct balsim *s, uint64_t startup, uint64_t minimum, uint64_t maximum,
               uint32_t weight, enum balsim_guest guest)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = startup;
    c.minimum_bytes = minimum;
    c.maximum_bytes = maximum;
    c.weight = weight;
    return balsim_add_cfg(s, &c, guest);
}

int balsim_start(struct balsim *s, int i)
{
    int rc = dynmem_balancer_vm_start(s->b, s->vm[i].id, s->now, NULL);
    if (rc == 0) {
        s->vm[i].running = true;
        s->vm[i].ledger = balsim_counters(s, i).physical_bytes;
        s->vm[i].ledger_paged = 0;
    }
    return rc;
}

void balsim_stop(struct balsim *s, int i)
{
    cr_assert_eq(dynmem_balancer_vm_stop(s->b, s->vm[i].id), 0);
    s->vm[i].running = false;
}

int balsim_restart(struct balsim *s, int i)
{
    uint64_t paged = 0;
    int rc = dynmem_balancer_vm_restart(s->b, s->vm[i].id, s->now, &paged);
    if (rc == 0) {
        struct dynmem_vm_counters c = balsim_counters(s, i);
        s->vm[i].ledger = c.physical_bytes;
        s->vm[i].ledger_paged = paged;
        cr_assert_eq(c.physical_bytes + paged, c.guest_visible_bytes);
    } else if (rc == DYNMEM_ERR_ADMISSION) {
        s->vm[i].running = false;
    }
    return rc;
}

/* The test's own count of what a confirmation moves (facts up). */
static void ledger_apply(struct balsim_vm *v, uint32_t kind, uint64_t n)
{
    uint64_t from_paged;
    switch (kind) {
    case DYNMEM_ACTION_UNBALLOON:
    case DYNMEM_ACTION_HOT_ADD: v->ledger += n; break;
    case DYNMEM_ACTION_PAGE_IN: v->ledger += n; v->ledger_paged -= n; break;
    case DYNMEM_ACTION_HOT_REMOVE: v->ledger -= n; break;
    case DYNMEM_ACTION_BALLOON:
        from_paged = n < v->ledger_paged ? n : v->ledger_paged;
        v->ledger_paged -= from_paged;
        v->ledger -= n - from_paged;
        break;
    }
}

static void report(struct balsim *s, struct balsim_vm *v)
{
    if (v->guest == GUEST_NO_DRIVER)
        return;
    struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
    smp.time_ms = s->now;
    smp.committed_bytes = v->demand;
    if (v->available) {
        smp.flags |= DYNMEM_SAMPLE_HAS_AVAILABLE;
        smp.available_bytes = v->available;
    }
    cr_assert_eq(dynmem_balancer_vm_sample(s->b, v->id, &smp), 0);
}

static void check_ledgers(struct balsim *s);

static struct balsim_vm *find(struct balsim *s, uint64_t id)
{
    /* Ids are opaque; the slot in their low half is only a fast guess. */
    uint64_t guess = id & 0xffffffffu;
    if (guess < (uint64_t)s->n && s->vm[guess].id == id)
        return &s->vm[guess];
    for (int i = 0; i < s->n; i++)
        if (s->vm[i].id == id)
            return &s->vm[i];
    return NULL;
}

static void backend(struct balsim *s, const struct dynmem_action *a)
{
    struct balsim_vm *v = find(s, a->vm_id);
    cr_assert_not_null(v);
    uint64_t done = 0;
    uint32_t flags = DYNMEM_CONFIRM_FINAL;
    switch (v->guest) {
    case GUEST_COOPERATIVE: done = a->bytes; break;
    case GUEST_FLOOR:
        done = a->bytes;
        if (a->kind == DYNMEM_ACTION_BALLOON || a->kind == DYNMEM_ACTION_HOT_REMOVE) {
            uint64_t spare = v->ledger + v->ledger_paged > v->demand
                                 ? v->ledger + v->ledger_paged - v->demand : 0;
            done = (a->bytes < spare ? a->bytes : spare) / 4096 * 4096;
        }
        break;
    case GUEST_HALF: done = a->bytes / 2 / 4096 * 4096; break;
    case GUEST_REFUSES: flags |= DYNMEM_CONFIRM_FAILED; break;
    case GUEST_SILENT:
    case GUEST_NO_DRIVER: return;
    }
    cr_assert_eq(dynmem_balancer_confirm(s->b, a->vm_id, a->action_id, s->now, done, flags), 0,
                 "confirm %s", s->last);
    ledger_apply(v, a->kind, done);
}

void balsim_step(struct balsim *s)
{
    s->now += 1000;
    for (int i = 0; i < s->n; i++)
        if (s->vm[i].running)
            report(s, &s->vm[i]);
    cr_assert_eq(dynmem_balancer_tick(s->b, s->now, NULL), 0);
    if (dynmem_balancer_check(s->b))
        s->violations++;
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(s->b, &a) == 1) {
        s->actions++;
        dynmem_action_describe(&a, s->last, sizeof s->last);
        if (s->verbose)
            fprintf(stderr, "t=%llu %s\n", (unsigned long long)s->now, s->last);
        if (s->on_action)
            s->on_action(s, &a);
        backend(s, &a);
        if (dynmem_balancer_check(s->b))
            s->violations++;
    }
    check_ledgers(s);
}

/* Books must match the test's own ledger for every running VM. */
static void check_ledgers(struct balsim *s)
{
    for (int i = 0; i < s->n; i++) {
        if (!s->vm[i].running)
            continue;
        struct dynmem_vm_counters c = balsim_counters(s, i);
        if (c.physical_bytes != s->vm[i].ledger || c.smart_paged_bytes != s->vm[i].ledger_paged)
            s->ledger_mismatches++;
    }
}

void balsim_run(struct balsim *s, int seconds)
{
    for (int i = 0; i < seconds; i++)
        balsim_step(s);
}

struct dynmem_vm_counters balsim_counters(struct balsim *s, int i)
{
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_vm_counters(s->b, s->vm[i].id, &c), 0);
    return c;
}

uint64_t balsim_assigned(struct balsim *s, int i)
{
    return balsim_counters(s, i).physical_bytes;
}
