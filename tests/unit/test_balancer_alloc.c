/* The balancer under allocation failure: every allocation of a representative
 * workload (creation, VMs added past several array growths, reports growing
 * estimator rings, ticks) is made to fail in turn. Each failing call must
 * return DYNMEM_ERR_NO_MEMORY, leave the books valid, and nothing may leak. */
#include <criterion/criterion.h>

#include <dynmem/dynmem.h>
#include "failalloc.h"

#define MIB(x) ((uint64_t)(x) << 20)

static int workload(struct failalloc *fa, void *ctx)
{
    (void)ctx;
    dynmem_balancer *b = NULL;
    int rc = dynmem_balancer_new(&b, &fa->hook);
    if (rc)
        return rc;
    rc = dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)MIB(65536));
    uint64_t ids[40];
    int added = 0;
    for (int i = 0; i < 40 && !rc; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = MIB(1024);
        c.minimum_bytes = MIB(256);
        c.maximum_bytes = MIB(4096);
        rc = dynmem_balancer_vm_add(b, &c, &ids[i]);
        if (!rc) {
            added++;
            rc = dynmem_balancer_vm_start(b, ids[i], 0, NULL);
        }
    }
    for (uint64_t t = 1000; t <= 80000 && !rc; t += 1000) {
        for (int i = 0; i < added && !rc; i++) {
            struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
            s.time_ms = t;
            s.committed_bytes = MIB(300) + (uint64_t)((i * 37 + t / 1000 * 11) % 40) * MIB(20);
            rc = dynmem_balancer_vm_sample(b, ids[i], &s);
        }
        if (!rc)
            rc = dynmem_balancer_tick(b, t, NULL);
        struct dynmem_action a = DYNMEM_ACTION_INIT;
        while (!rc && dynmem_balancer_next_action(b, &a) == 1)
            rc = dynmem_balancer_confirm(b, a.vm_id, a.action_id, t, a.bytes, DYNMEM_CONFIRM_FINAL);
        if (dynmem_balancer_check(b))
            rc = DYNMEM_ERR_INVARIANT;
    }
    dynmem_balancer_free(b);
    return rc;
}

Test(balancer_alloc, every_allocation_fails_cleanly, .timeout = 300)
{
    long count = 0;
    const char *why = NULL;
    long n = failalloc_sweep(workload, NULL, &count, &why);
    cr_assert_eq(n, 0, "allocation %ld: %s", n, why ? why : "");
    cr_assert_geq(count, 40, "VM arrays, estimators and their rings (%ld allocations)", count);
}
