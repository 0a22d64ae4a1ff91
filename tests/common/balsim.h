/* Test helper: a minimal host around a balancer. Each VM has a demand the
 * test sets; a step feeds every running VM a report at the current time,
 * ticks, and plays the backend for every action according to the VM's
 * behaviour (cooperative, partial, refusing, silent). Public API only. */
#ifndef DYNMEM_TESTS_BALSIM_H
#define DYNMEM_TESTS_BALSIM_H

#include <dynmem/dynmem.h>
#include <stdbool.h>

#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)

enum balsim_guest {
    GUEST_COOPERATIVE, /* does everything asked, at once */
    GUEST_HALF,        /* gives or takes half of each request, then ends it */
    GUEST_REFUSES,     /* ends every request having done nothing (FAILED) */
    GUEST_SILENT,      /* never answers: the VM ends up stuck */
    GUEST_NO_DRIVER,   /* never reports and never answers */
    GUEST_FLOOR        /* as cooperative, but never gives below its demand
                        * (Linux's rule: it keeps its committed memory) */
};

struct balsim_vm {
    uint64_t id;
    uint64_t demand;        /* committed bytes reported */
    uint64_t available;     /* reported available bytes, 0 = not reported */
    uint64_t ledger;        /* physical memory by the test's own count */
    uint64_t ledger_paged;  /* smart-paged memory by the test's own count */
    enum balsim_guest guest;
    bool running;
};

struct balsim {
    dynmem_balancer *b;
    uint64_t now;         /* ms */
    struct balsim_vm *vm;
    int n, cap;
    uint64_t actions, violations, ledger_mismatches;
    char last[256]; /* last action described */
    bool verbose;
    /* Called with every action before the backend plays it, if set. */
    void (*on_action)(struct balsim *s, const struct dynmem_action *a);
    void *user;
};

/* A configuration with the defaults (DYNMEM_VM_CONFIG_INIT) and these sizes. */
static inline struct dynmem_vm_config balsim_config(uint64_t startup, uint64_t minimum,
                                                    uint64_t maximum)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = startup;
    c.minimum_bytes = minimum;
    c.maximum_bytes = maximum;
    return c;
}

/* Host of `total` bytes, policy `policy`, everything else default; room
 * for `cap` VMs (0 = 64). */
void balsim_init_cap(struct balsim *s, uint64_t total, enum dynmem_policy policy, int cap);
void balsim_init(struct balsim *s, uint64_t total, enum dynmem_policy policy);
/* Stops VM i (memory back to the pool), or restarts it (smart paging). */
void balsim_stop(struct balsim *s, int i);
int balsim_restart(struct balsim *s, int i);
void balsim_fini(struct balsim *s);
/* Adds a VM; returns its index. Asserts on failure. */
int balsim_add(struct balsim *s, uint64_t startup, uint64_t minimum, uint64_t maximum,
               uint32_t weight, enum balsim_guest guest);
int balsim_add_cfg(struct balsim *s, const struct dynmem_vm_config *cfg, enum balsim_guest guest);
/* Starts VM i; returns the start's error code. */
int balsim_start(struct balsim *s, int i);
/* One second: reports, tick, backend. Checks the invariant every step. */
void balsim_step(struct balsim *s);
void balsim_run(struct balsim *s, int seconds);
struct dynmem_vm_counters balsim_counters(struct balsim *s, int i);
/* Physical memory of VM i. */
uint64_t balsim_assigned(struct balsim *s, int i);

#endif
