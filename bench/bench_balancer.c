/* Balancer benchmark: one tick for N VMs under a changing, scarce load.
 *
 * Each round feeds every VM a report (its demand drifts at random), ticks,
 * and confirms every action at once, as a cooperative backend would. Only
 * the tick is timed, and the figure is the median tick: on a shared machine
 * the mean follows whatever else ran (the naive pass likewise). Reported
 * beside it, from the same run: a naive pass (qsort of 48-byte VM records
 * by price, then one sweep), the reference the issue gives for scale; the
 * heap allocations made during ticks, which must be zero; and the heap
 * bytes the balancer holds per VM at the end. The naive pass sorts records
 * whose prices are in random order each round (drawn before its clock
 * starts), as the reference does: about 87 us at 1024 VMs and 15 ms
 * at 100k on this machine kind; records left sorted by the last round would
 * make it a pass over presorted input, several times cheaper. For
 * instruction counts run it under
 *   valgrind --tool=callgrind --toggle-collect=dynmem_balancer_tick
 * Usage: bench-balancer [VMS [ROUNDS]]   (default: 1024 and 100000 VMs) */
#define _POSIX_C_SOURCE 200809L
#include <dynmem/dynmem.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MIB(x) ((uint64_t)(x) << 20)

/* The hook counts allocations and the bytes the balancer holds: each block
 * carries its size in a header of max_align_t, so the count is exact and
 * the same on every run (malloc's own overhead is not in it). */
struct counting {
    long allocs;
    size_t live;
};

#define HEADER sizeof(max_align_t)

static void *count_realloc(void *ud, void *p, size_t n)
{
    struct counting *c = ud;
    char *old = p ? (char *)p - HEADER : NULL;
    size_t old_n = old ? *(size_t *)(void *)old : 0;
    if (n > SIZE_MAX - HEADER)
        return NULL;
    char *q = realloc(old, n + HEADER);
    if (!q)
        return NULL;
    c->allocs++;
    c->live = c->live - old_n + n;
    *(size_t *)(void *)q = n;
    return q + HEADER;
}

static void *count_malloc(void *ud, size_t n)
{
    return count_realloc(ud, NULL, n);
}

static void count_free(void *ud, void *p)
{
    if (!p)
        return;
    char *block = (char *)p - HEADER;
    ((struct counting *)ud)->live -= *(size_t *)(void *)block;
    free(block);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The naive reference: sort VM records by a price, sweep once. */
struct naive_vm {
    double price;
    uint64_t assigned, demand, minimum, maximum, target;
};

static int by_price(const void *a, const void *b)
{
    double x = ((const struct naive_vm *)a)->price, y = ((const struct naive_vm *)b)->price;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static double naive_pass(struct naive_vm *v, size_t n, uint64_t budget)
{
    double t0 = now_ns();
    qsort(v, n, sizeof *v, by_price);
    for (size_t i = 0; i < n; i++) {
        uint64_t want = v[i].demand + v[i].demand / 5;
        want = want < v[i].minimum ? v[i].minimum : want > v[i].maximum ? v[i].maximum : want;
        v[i].target = want <= budget ? want : v[i].minimum;
        budget -= v[i].target <= budget ? v[i].target : budget;
        v[i].price = (double)v[i].demand / (double)(v[i].assigned + 1);
    }
    return now_ns() - t0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void run(uint32_t nvms, int rounds)
{
    struct counting cnt = {0};
    struct dynmem_allocator hook = DYNMEM_ALLOCATOR_INIT;
    hook.user_data = &cnt;
    hook.malloc = count_malloc;
    hook.realloc = count_realloc;
    hook.free = count_free;
    dynmem_balancer *b;
    if (dynmem_balancer_new(&b, &hook))
        exit(1);
    /* Host: 60 % of the sum of maxima, so memory is scarce. */
    uint64_t total = (uint64_t)nvms * MIB(2048) * 6 / 10 + MIB(1024);
    dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)(total / MIB(2) * MIB(2)));
    dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 5000);
    uint64_t *ids = calloc(nvms, sizeof *ids), *demand = calloc(nvms, sizeof *demand);
    struct naive_vm *naive = calloc(nvms, sizeof *naive);
    uint64_t seed = 88172645463325252u, price_seed = 0x9E3779B97F4A7C15u;
    for (uint32_t i = 0; i < nvms; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = MIB(1024);
        c.minimum_bytes = MIB(256);
        c.maximum_bytes = MIB(2048);
        c.weight = (uint32_t)(rng(&seed) % 10001);
        dynmem_balancer_vm_add(b, &c, &ids[i]);
        dynmem_balancer_vm_start(b, ids[i], 0, NULL);
        demand[i] = MIB(200) + rng(&seed) % MIB(1600);
        naive[i] = (struct naive_vm){1.0, MIB(1024), demand[i], MIB(256), MIB(2048), 0};
    }
    double *tick_ns = calloc((size_t)rounds, sizeof *tick_ns);
    double *naive_ns = calloc((size_t)rounds, sizeof *naive_ns);
    long allocs_in_ticks = 0;
    uint64_t actions = 0;
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    for (int r = 1; r <= rounds; r++) {
        uint64_t t = (uint64_t)r * 1000;
        for (uint32_t i = 0; i < nvms; i++) {
            if (rng(&seed) % 8 == 0)
                demand[i] = MIB(200) + rng(&seed) % MIB(1600);
            struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
            s.time_ms = t;
            s.committed_bytes = demand[i];
            dynmem_balancer_vm_sample(b, ids[i], &s);
        }
        long before = cnt.allocs;
        double t0 = now_ns();
        dynmem_balancer_tick(b, t, NULL);
        tick_ns[r - 1] = now_ns() - t0;
        allocs_in_ticks += cnt.allocs - before;
        while (dynmem_balancer_next_action(b, &a) == 1) {
            actions++;
            dynmem_balancer_confirm(b, a.vm_id, a.action_id, t, a.bytes, DYNMEM_CONFIRM_FINAL);
        }
        for (uint32_t i = 0; i < nvms; i++)
            naive[i].price = (double)(rng(&price_seed) >> 11) / 9007199254740992.0;
        naive_ns[r - 1] = naive_pass(naive, nvms, total);
    }
    if (dynmem_balancer_check(b))
        printf("INVARIANT VIOLATED\n");
    double per_tick = median(tick_ns, rounds), per_naive = median(naive_ns, rounds);
    printf("| %6u | %9.1f us | %7.1f ns | %9.1f us | %5.2fx | %4ld | %6.1f | %6.0f |\n", nvms,
           per_tick / 1e3, per_tick / nvms, per_naive / 1e3, per_naive / per_tick, allocs_in_ticks,
           (double)actions / rounds, (double)cnt.live / nvms);
    dynmem_balancer_free(b);
    free(ids);
    free(demand);
    free(naive);
    free(tick_ns);
    free(naive_ns);
}

int main(int argc, char **argv)
{
    printf("| VMs | per tick | per VM | naive pass | naive / tick | allocs in ticks | actions per tick "
           "| heap bytes per VM |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    if (argc > 1) {
        run((uint32_t)strtoul(argv[1], NULL, 10), argc > 2 ? atoi(argv[2]) : 100);
        return 0;
    }
    run(1024, 2000);
    run(100000, 30);
    return 0;
}
