/* Internal: the balancer's books, shared by its source files. */
#ifndef DYNMEM_LIB_BALANCER_INTERNAL_H
#define DYNMEM_LIB_BALANCER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <dynmem/balancer.h>

#include "alloc.h"
#include "balancer_detail.h"
#include "compiler.h"
#include "pressure_observe.h"

#define PAGE_BYTES UINT64_C(4096)
#define UNIT DYNMEM_SIZE_UNIT
/* Largest memory size handled anywhere: 2^52 bytes of guest-physical space. */
#define BYTES_MAX (UINT64_C(1) << 52)
/* The longest calm period, the balancer's or a VM's own: a day. */
#define CALM_MAX_MS INT64_C(86400000)

/* One VM in the weighted cut (balancer_policy.c): its figures copied out
 * of its record, so that the cut's partitioning rounds walk one compact
 * array instead of hopping between records all over the fleet. */
struct dynmem__cut_item {
    double key;   /* breakpoint: gap x weight */
    double gap;   /* bytes it can lose */
    double inv_w; /* 1 / weight */
    uint32_t slot;
};

/* A VM to order: its sort key and its slot. */
struct dynmem__rank {
    uint64_t key;
    uint32_t slot;
};

/* An action handed out and not yet finished by the backend (its time of
 * issue or last confirmed progress is with the refresh fields of its VM:
 * the stuck check reads it). */
struct outstanding {
    uint64_t id;
    uint32_t kind;
    uint32_t reason;
    uint64_t bytes; /* asked for */
    uint64_t done;  /* confirmed so far */
};

/* A VM's slot. Its first cache line holds everything a tick reads of a VM
 * that has nothing new (the `clean` ones, most of a steady fleet) and every
 * field the planning passes read: at 100k VMs the tick is bound by memory,
 * and such a VM then costs one line per pass instead of several of its
 * ~450 bytes. Records are 64-byte aligned (reserve_slot in balancer.c) and
 * a multiple of 64 bytes long, so that line is one line. The next two lines
 * hold all that refreshing a VM reads and writes (copies of the
 * configuration's bounds and flags, the estimator's figures), so that a
 * refreshed VM costs three lines; then the rest. */
#define VM_LINE 64
#define VM_HOT_LINES 3 /* line 0 and the refresh fields */
struct vm {
    /* Line 0. Flags the refresh writes for every VM it refreshes are
     * whole bytes (a store each); the others share one. */
    bool in_use : 1;
    bool running : 1;
    bool busy : 1;      /* `act` is outstanding */
    bool resizing : 1;  /* a static VM's runtime resize is under way */
    bool has_data : 1;
    bool in_surplus : 1; /* surplus_since_ms != UINT64_MAX */
    bool held : 1;       /* held back after a short shrink (hold_* below) */
    bool stuck;     /* `act` made no progress for the stuck timeout */
    bool plannable; /* takes part in this tick's planning */
    bool stale;
    /* The figures below (floor to want, plannable, stale) are those the
     * tick would compute now: nothing they depend on changed since the VM
     * was last refreshed but time, and time moves only its staleness,
     * which the tick checks from sample_ms. Every setter that touches what
     * refresh_vm() reads clears it. */
    bool clean;
    uint16_t weight;     /* the configuration's, here beside the figures it orders */
    uint64_t assigned;  /* host memory backing the VM, confirmed */
    uint64_t in_flight; /* growth issued, not confirmed */
    uint64_t need;     /* demand clamped to what the VM can hold */
    uint64_t want;     /* target (demand + buffer), clamped likewise */
    uint64_t floor;    /* least the VM can be brought to now */
    uint64_t entitled; /* what the policy grants it this tick */
    uint64_t sample_ms; /* time of its last sample */

    /* Lines 1 and 2: what refreshing the VM reads and writes, and what a
     * sample writes besides sample_ms and clean. */
    _Alignas(VM_LINE) uint64_t ceiling; /* most the VM can be grown to now */
    uint64_t paged;    /* smart-paged part of the guest's memory */
    dynmem_pressure *est;
    uint64_t visible;  /* guest-visible maximum; balloon = visible - assigned - paged */
    uint64_t observed_assigned; /* assigned when its figures were last brought up to date */
    uint64_t available; /* guest's available memory in its last sample */
    uint64_t progress_ms; /* the outstanding action's issue or last progress */
    /* The configuration's (vm_set_config(); its other fields are in the
     * cold lines, vm_config() puts it back together). */
    uint64_t minimum, maximum;
    uint32_t cfg_flags, buffer_percent;
    struct dynmem__observation obs; /* the estimator's, as of the last tick */
    /* The demand's recent trend, bytes/s, for the dynmem policy's
     * lookahead: asked of the estimator only when the demand rose, 0
     * otherwise (observe() in balancer_tick.c). */
    int64_t trend;
    bool dirty;         /* its estimator's figures may have changed */
    bool hot_add_failed;
    bool has_available; /* last sample carried available memory */
    bool has_peer_target;
    uint32_t generation; /* bumps on reuse of the slot: stale ids are refused */

    /* Line 3 on, cold: configuration, counters and bookkeeping outside the
     * tick's common path. */
    _Alignas(VM_LINE) uint64_t startup, hot_add_alignment, calm_period_ms; /* configuration's */
    struct outstanding act;
    uint32_t next_free; /* free-slot list link while !in_use */
    uint64_t surplus_since_ms; /* start of the current surplus, or UINT64_MAX
                                * (in_surplus says which, for the tick) */
    uint64_t added, removed, add_ops, remove_ops;
    uint64_t resize_target;

    /* Comparison policies (policy_*.c) decide once per cycle of the system
     * they reproduce; between cycles the VM keeps pursuing the target the
     * last cycle set, as those systems' balloon targets persist. */
    uint64_t peer_target;
    uint64_t step_cap; /* most the VM may move in one tick, 0 = no cap */
    double grow_rank;  /* growth from short free memory: higher rank first */

    /* A guest that gave less than a shrink asked is held back: not asked
     * to go below what it then used (assigned + paged) until hold_until_ms
     * or until its demand falls below hold_demand; each short answer in a
     * row doubles the wait (hold_strikes). */
    uint64_t hold_usable, hold_until_ms, hold_demand;
    uint32_t hold_strikes;
    /* The hot-add half of this tick's growth, issued when the unballoon
     * half is confirmed complete; its bytes are in in_flight meanwhile. */
    uint32_t chain_reason;
    uint64_t chain_bytes;
};

_Static_assert(sizeof(struct vm) % VM_LINE == 0, "VM records fill whole cache lines");
_Static_assert(offsetof(struct vm, sample_ms) + sizeof(uint64_t) == VM_LINE,
               "line 0 is one line");
_Static_assert(offsetof(struct vm, generation) < VM_HOT_LINES * VM_LINE,
               "what a refresh touches fits the record's first three lines");

struct dynmem_balancer {
    struct dynmem__alloc alloc;
    /* The caller's hook as given, handed on to each VM's estimator. */
    struct dynmem_allocator user_alloc;
    bool has_user_alloc;
    uint32_t free_head; /* first free slot, or UINT32_MAX */
    struct vm *vms;     /* cap records, VM_LINE-aligned inside vms_block */
    void *vms_block;
    uint32_t nvms, cap; /* slots used (incl. freed ones), slots allocated */
    uint32_t *order;    /* scratch, cap entries: planning order */
    double *keys;       /* scratch, cap entries: sort keys */
    uint64_t *work;     /* scratch, a bit per slot: VMs the planning pass must see */
    struct dynmem__cut_item *items; /* scratch, cap entries: the weighted cut's */
    struct dynmem__rank *ranks;     /* scratch, 2 x cap entries: orderings */
    struct dynmem_action *queue; /* cap entries */
    uint32_t qhead, qlen;

    int64_t host_total, reserve_setting, policy, calm_ms, stuck_ms, deadband;
    int64_t max_grow, max_shrink, stale_ms, tick_ms;
    uint64_t last_tick_ms, next_action_id;
    /* The comparison policy whose cycle is running, and when it began. */
    bool cycle_started;
    int64_t cycle_policy;
    uint64_t cycle_start_ms;
    uint64_t added_total, removed_total;
    /* Lowest weight of the held-back VMs in this tick's plan, or
     * UINT32_MAX: VMs of that weight or more that give under scarcity give
     * more than their share. */
    uint32_t held_weight;
    /* Host memory the running VMs hold (assigned + in flight), kept as the
     * books change so that free memory is known without walking every VM;
     * dynmem_balancer_check() recounts it. */
    uint64_t used;
    /* Ticks take the reference path (dynmem__bal_set_reference). */
    bool reference;
    /* The latest refusal's detail (dynmem_balancer_last_error()). */
    char detail[DYNMEM__DETAIL_LEN];
};

/* VM ids: the slot in the low 32 bits, the slot's generation above. The
 * VM an id names (NULL if none, or removed), and the id of a VM; inline:
 * every call about a VM starts with the first. */
static inline struct vm *dynmem__bal_vm(const struct dynmem_balancer *b, uint64_t id)
{
    if (!b)
        return NULL;
    uint64_t slot = id & 0xffffffffu;
    if (slot >= b->nvms)
        return NULL;
    struct vm *v = &b->vms[slot];
    if (!v->in_use || v->generation != (uint32_t)(id >> 32))
        return NULL;
    return v;
}
static inline uint64_t dynmem__bal_vm_id(const struct dynmem_balancer *b, const struct vm *v)
{
    return ((uint64_t)v->generation << 32) | (uint64_t)(v - b->vms);
}
/* The VM an id names, for a setter about to change it: the next tick
 * refreshes its figures (see `clean`), even if the change is refused. */
static inline struct vm *dynmem__bal_vm_change(const struct dynmem_balancer *b, uint64_t id)
{
    struct vm *v = dynmem__bal_vm(b, id);
    if (v)
        v->clean = false;
    return v;
}

/* Books helpers (balancer.c). */
/* The reserve kept when none is set, for a host of `total` bytes (also the
 * host check's, config_check.c). */
uint64_t dynmem__bal_default_reserve(uint64_t total);
uint64_t dynmem__bal_reserve(const struct dynmem_balancer *b);
uint64_t dynmem__bal_used(const struct dynmem_balancer *b);
uint64_t dynmem__bal_free(const struct dynmem_balancer *b);
/* The step of the tick's prefetching (balancer_tick.c): passes over every
 * VM ask for a record's first line 4 x AHEAD VMs ahead, passes over a list
 * of VMs for the lines they will use AHEAD entries ahead (the refresh has
 * its own pipeline there). At 100k VMs the array is far larger than the
 * caches and a pass touches one or a few lines of each record, which
 * defeats the hardware's own prefetching. Below PREFETCH_MIN_VMS the
 * hints cost more than they save (measured at 1024 VMs, docs/performance.md).
 * Hints never change a result. */
#define PREFETCH_AHEAD 8
#define PREFETCH_MIN_VMS 4096
static inline void prefetch_vm_lines(const struct dynmem_balancer *b, uint32_t i, unsigned first,
                                     unsigned last)
{
    if (i < b->nvms)
        for (unsigned l = first; l <= last; l++)
            DYNMEM__PREFETCH((const char *)&b->vms[i] + l * VM_LINE);
}
static inline void prefetch_vm(const struct dynmem_balancer *b, uint32_t i)
{
    prefetch_vm_lines(b, i, 0, 0);
}
/* What planning a VM's action reads and writes: the hot lines, and the
 * line of its outstanding action (the hot-add alignment is read only for
 * a hot-add). */
#define VM_ACT_LINE (offsetof(struct vm, act) / VM_LINE)
static inline void prefetch_vm_acting(const struct dynmem_balancer *b, uint32_t i)
{
    prefetch_vm_lines(b, i, 0, VM_HOT_LINES - 1);
    prefetch_vm_lines(b, i, VM_ACT_LINE, VM_ACT_LINE);
}

/* Takes a (checked) configuration: each field is kept once, the ones the
 * tick reads in the record's hot lines, the others in its cold ones. */
static inline void vm_set_config(struct vm *v, const struct dynmem_vm_config *c)
{
    v->weight = (uint16_t)c->weight; /* at most DYNMEM_WEIGHT_MAX */
    v->minimum = c->minimum_bytes;
    v->maximum = c->maximum_bytes;
    v->cfg_flags = c->flags;
    v->buffer_percent = c->buffer_percent;
    v->startup = c->startup_bytes;
    v->hot_add_alignment = c->hot_add_alignment_bytes;
    v->calm_period_ms = c->calm_period_ms;
    v->clean = false;
}
/* The configuration vm_set_config() took (its reserved fields are zero:
 * the check refuses others). */
static inline struct dynmem_vm_config vm_config(const struct vm *v)
{
    struct dynmem_vm_config c = {.size = sizeof c};
    c.flags = v->cfg_flags;
    c.startup_bytes = v->startup;
    c.minimum_bytes = v->minimum;
    c.maximum_bytes = v->maximum;
    c.buffer_percent = v->buffer_percent;
    c.weight = v->weight;
    c.hot_add_alignment_bytes = v->hot_add_alignment;
    c.calm_period_ms = v->calm_period_ms;
    return c;
}
/* Ends (or confirms the absence of) a surplus above the VM's entitlement. */
static inline void vm_end_surplus(struct vm *v)
{
    v->surplus_since_ms = UINT64_MAX;
    v->in_surplus = false;
}
static inline uint64_t vm_holding(const struct vm *v)
{
    return v->assigned + v->in_flight;
}
static inline uint64_t vm_balloon(const struct vm *v)
{
    return v->visible - v->assigned - v->paged;
}
/* What the guest can use: host memory held plus its smart-paged gap. */
static inline uint64_t vm_usable(const struct vm *v)
{
    return vm_holding(v) + v->paged;
}
static inline uint64_t round_up_unit(uint64_t x)
{
    return (x + UNIT - 1) / UNIT * UNIT;
}
static inline uint64_t round_down(uint64_t x, uint64_t align)
{
    return x / align * align;
}
static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Sums over the plannable VMs, taken while the tick refreshes them. */
struct dynmem__plan_sums {
    uint64_t want, need, floor;
};
/* Policies (balancer_policy.c): fill v->entitled for every plannable VM
 * from floor/need/want/ceiling so that the plannable VMs' entitlements sum
 * to at most `budget` (when their floors allow). The tick has already set
 * each plannable VM's entitlement to its want for dynmem and hyperv.
 * Returns true when it left every entitlement as the tick had set it. */
bool dynmem__policy_entitle(struct dynmem_balancer *b, uint64_t budget,
                            const struct dynmem__plan_sums *sums);
/* Orderings (balancer_rank.c): sorts r[0..n) by ascending key, stably,
 * using tmp[0..n) as scratch; returns whichever of the two holds the result.
 * rank_of_double: a key that orders finite doubles as numbers. */
struct dynmem__rank *dynmem__rank_sort(struct dynmem__rank *r, struct dynmem__rank *tmp, uint32_t n);
uint64_t dynmem__rank_of_double(double d);

/* The comparison policies: squeezed, mom, esx, proxmox (docs/policies.md).
 * They entitle from the VMs' figures under their own published rules. */
static inline bool dynmem__is_peer(int64_t policy)
{
    return policy >= DYNMEM_POLICY_SQUEEZED && policy <= DYNMEM_POLICY_PROXMOX;
}
static inline bool dynmem__planned(const struct vm *v)
{
    return v->in_use && v->running && v->plannable;
}
/* Their entry points and shared helpers: policy_peer.h. */

/* Tick engine (balancer_tick.c). */
int dynmem__bal_tick(struct dynmem_balancer *b, uint64_t now_ms);
/* At the FINAL confirmation of a VM's action (balancer_facts.c, the VM no
 * longer busy): issues the hot-add half of its growth after a complete
 * unballoon, or returns the memory held for it; holds back a VM whose
 * shrink was given short. */
void dynmem__bal_action_over(struct dynmem_balancer *b, struct vm *v, const struct outstanding *act,
                             uint64_t now_ms);
/* Forgets what a VM's next actions depended on: its chained hot-add (the
 * caller settles in_flight and used) and its hold. */
static inline void vm_forget_plans(struct vm *v)
{
    v->chain_bytes = 0;
    v->held = false;
    v->hold_strikes = 0;
}
/* For white-box tests only: with `on`, every tick of `b` takes the
 * reference path, the same decisions made plainly, without the fast
 * tick's shortcuts: every running VM is refreshed from its estimator
 * (no clean VMs kept, no assignment-only update), the memory in use is
 * recounted, and the planning pass visits every VM. A twin balancer fed
 * the same calls must then decide exactly as the fast one
 * (tests/unit/test_balancer_reference.c). */
void dynmem__bal_set_reference(struct dynmem_balancer *b, bool on);

#endif
