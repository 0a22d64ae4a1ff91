/* Allocation failure, second half: the handle stays usable. For each handle
 * type a workload runs to its end whatever fails, making a call refused with
 * DYNMEM_ERR_NO_MEMORY once more; with each of its allocations failing in
 * turn it must still succeed, leak nothing and observe exactly what the
 * clean run observed (failalloc_sweep_recovering). The sweeps of the other
 * unit tests check the other half: a run that gives up at the failure
 * leaks nothing and every failed call left its handle as it was.
 * docs/quality.md lists them all. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "digest.h"
#include "failalloc.h"
#include "sesspair.h"

#define MIB(x) ((uint64_t)(x) << 20)

static void expect_sweep(failalloc_recovering w, long min_count)
{
    long count = 0;
    const char *why = NULL;
    long n = failalloc_sweep_recovering(w, NULL, &count, &why);
    cr_assert_eq(n, 0, "allocation %ld of %ld: %s", n, count, why ? why : "");
    cr_assert_geq(count, min_count, "only %ld allocations", count);
}

static int pageset_life(struct failalloc *fa, void *ctx, uint64_t *d)
{
    (void)ctx;
    struct dynmem_pageset *s = NULL;
    int rc;
    FAILALLOC_RETRY(rc, dynmem_pageset_new(&s, &fa->hook));
    for (uint64_t i = 0; i < 3000 && !rc; i++) {
        uint64_t n = 0;
        if (i % 3 == 2) /* splits a range: may need a node */
            FAILALLOC_RETRY(rc, dynmem_pageset_remove(s, (i - 2) * 4 + 1, 1, &n));
        else
            FAILALLOC_RETRY(rc, dynmem_pageset_insert(s, i * 4, 3, &n));
        digest_mix(d, n);
    }
    digest_mix(d, dynmem_pageset_pages(s));
    digest_mix(d, dynmem_pageset_ranges(s));
    dynmem_pageset_free(s);
    return rc;
}

Test(alloc_recovery, pageset) { expect_sweep(pageset_life, 10); }

static int memmap_life(struct failalloc *fa, void *ctx, uint64_t *d)
{
    (void)ctx;
    struct dynmem_memmap *m = NULL;
    uint64_t start = 0, count = 0;
    int rc;
    FAILALLOC_RETRY(rc, dynmem_memmap_new(&m, &fa->hook));
    if (!rc)
        FAILALLOC_RETRY(rc, dynmem_memmap_add_boot(m, 0, 1u << 20));
    if (!rc)
        FAILALLOC_RETRY(rc, dynmem_memmap_set_hot_add_window(m, 1u << 23, 1u << 23));
    if (!rc)
        FAILALLOC_RETRY(rc, dynmem_memmap_hot_add_plan(m, 1u << 19, &start, &count));
    if (!rc)
        FAILALLOC_RETRY(rc, dynmem_memmap_hot_add_done(m, start, count, count, NULL));
    for (uint64_t i = 0; i < 2000 && !rc; i++)
        FAILALLOC_RETRY(rc, dynmem_memmap_balloon_record(m, i * 300, 2));
    for (uint64_t i = 0; i < 200 && !rc; i++) {
        FAILALLOC_RETRY(rc, dynmem_memmap_unballoon_take(m, 1, &start, &count));
        digest_mix(d, start);
    }
    for (uint64_t i = 0; i < 200 && !rc; i++)
        FAILALLOC_RETRY(rc, dynmem_memmap_hot_remove_record(m, (1u << 23) + i * 1001, 1));
    for (int f = DYNMEM_MEMMAP_BOOT; f <= DYNMEM_MEMMAP_UNUSABLE && !rc; f++) {
        uint64_t v = 0;
        dynmem_memmap_pages(m, (enum dynmem_memmap_figure)f, &v);
        digest_mix(d, v);
    }
    dynmem_memmap_free(m);
    return rc;
}

Test(alloc_recovery, memmap) { expect_sweep(memmap_life, 10); }

static int pressure_life(struct failalloc *fa, void *ctx, uint64_t *d)
{
    (void)ctx;
    dynmem_pressure *p = NULL;
    int rc;
    FAILALLOC_RETRY(rc, dynmem_pressure_new(&p, &fa->hook));
    for (uint64_t t = 0; t < 100000 && !rc; t += 1000) {
        struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
        struct dynmem_pressure_report r = {.size = sizeof r};
        s.time_ms = t;
        s.committed_bytes = t << 10;
        FAILALLOC_RETRY(rc, dynmem_pressure_add_sample(p, &s));
        /* Alternating assigned figures: every query adds its own point. */
        uint64_t assigned = (UINT64_C(1) << 30) + (t / 1000 % 2) * MIB(2);
        if (!rc)
            FAILALLOC_RETRY(rc, dynmem_pressure_query(p, t + 500, assigned, &r));
        digest_mix(d, r.target_bytes);
        digest_mix(d, r.average_pressure);
        digest_mix(d, (uint64_t)r.trend_bytes_per_s);
    }
    dynmem_pressure_free(p);
    return rc;
}

Test(alloc_recovery, pressure) { expect_sweep(pressure_life, 4); }

static int balancer_life(struct failalloc *fa, void *ctx, uint64_t *d)
{
    (void)ctx;
    dynmem_balancer *b = NULL;
    int rc;
    FAILALLOC_RETRY(rc, dynmem_balancer_new(&b, &fa->hook));
    if (!rc)
        rc = dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                       (int64_t)MIB(65536));
    uint64_t ids[40];
    for (int i = 0; i < 40 && !rc; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = MIB(1024);
        c.minimum_bytes = MIB(256);
        c.maximum_bytes = MIB(4096);
        FAILALLOC_RETRY(rc, dynmem_balancer_vm_add(b, &c, &ids[i]));
        if (!rc)
            FAILALLOC_RETRY(rc, dynmem_balancer_vm_start(b, ids[i], 0, NULL));
        digest_mix(d, ids[i]);
    }
    for (uint64_t t = 1000; t <= 60000 && !rc; t += 1000) {
        for (int i = 0; i < 40 && !rc; i++) {
            struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
            s.time_ms = t;
            s.committed_bytes = MIB(300) + (uint64_t)((i * 37 + t / 1000 * 11) % 40) * MIB(20);
            FAILALLOC_RETRY(rc, dynmem_balancer_vm_sample(b, ids[i], &s));
        }
        if (!rc)
            FAILALLOC_RETRY(rc, dynmem_balancer_tick(b, t, NULL));
        struct dynmem_action a = DYNMEM_ACTION_INIT;
        while (!rc && dynmem_balancer_next_action(b, &a) == 1) {
            digest_mix(d, a.vm_id);
            digest_mix(d, a.kind);
            digest_mix(d, a.bytes);
            FAILALLOC_RETRY(rc, dynmem_balancer_confirm(b, a.vm_id, a.action_id, t, a.bytes,
                                                        DYNMEM_CONFIRM_FINAL));
        }
        if (!rc)
            rc = dynmem_balancer_check(b);
    }
    dynmem_balancer_free(b);
    return rc;
}

Test(alloc_recovery, balancer, .timeout = 300) { expect_sweep(balancer_life, 40); }

/* The self-check: a workload that does not retry must be caught. */
static int gives_up(struct failalloc *fa, void *ctx, uint64_t *d)
{
    (void)ctx;
    (void)d;
    struct dynmem_pageset *s = NULL;
    int rc = dynmem_pageset_new(&s, &fa->hook);
    for (uint64_t i = 0; i < 100 && !rc; i++)
        rc = dynmem_pageset_insert(s, i * 4, 3, NULL);
    dynmem_pageset_free(s);
    return rc;
}

Test(alloc_recovery, sweep_catches_an_unusable_handle)
{
    long count = 0;
    const char *why = NULL;
    cr_assert_eq(failalloc_sweep_recovering(gives_up, NULL, &count, &why), 1);
    cr_assert_str_eq(why, "the handle was not usable after a failed allocation");
}
