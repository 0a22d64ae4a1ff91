/* dynmem-demo: the balancer at work on the first scenario of the Hyper-V
 * Dynamic Memory documents, in simulated time, through the public API only.
 *
 * One VM (startup 2 GiB, minimum 512 MiB, maximum 4 GiB, buffer 20 %) on a
 * 16 GiB host. It idles at 533 MiB of demand, a memory hog pushes demand to
 * 4423 MiB, the hog stops. The guest here is a stand-in that does at once
 * whatever it is asked; every decision is printed with its reason, and the
 * state every 10 s.
 * Usage: dynmem-demo [--policy NAME]   (dynmem, hyperv, static, squeezed,
 *                                        mom, esx, proxmox) */
#include <dynmem/dynmem.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)

static const char *status_name(uint32_t s)
{
    return s == DYNMEM_STATUS_OK ? "OK" : s == DYNMEM_STATUS_LOW ? "Low" : "Warning";
}

static uint64_t demand_at(uint64_t t_s)
{
    if (t_s < 150)
        return MIB(533); /* idle */
    if (t_s < 200)
        return MIB(4423); /* the memory hog */
    return MIB(600);      /* the hog stopped */
}

static int parse_policy(const char *name, int64_t *out)
{
    for (int64_t p = 0; p < 16; p++)
        if (strcmp(dynmem_policy_name((uint32_t)p), name) == 0) {
            *out = p;
            return 0;
        }
    return -1;
}

static int check(int rc, const char *what)
{
    if (rc < 0)
        fprintf(stderr, "dynmem-demo: %s: %s (%s)\n", what, dynmem_strerror(rc), dynmem_error_name(rc));
    return rc < 0;
}

int main(int argc, char **argv)
{
    int64_t policy = DYNMEM_POLICY_DYNMEM;
    if (argc == 3 && strcmp(argv[1], "--policy") == 0) {
        if (parse_policy(argv[2], &policy)) {
            fprintf(stderr, "dynmem-demo: unknown policy '%s'\n", argv[2]);
            return 2;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: dynmem-demo [--policy NAME]\n");
        return 2;
    }
    dynmem_balancer *b;
    if (check(dynmem_balancer_new(&b, NULL), "new") ||
        check(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)GIB(16)), "host") ||
        check(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_POLICY, policy), "policy"))
        return 1;
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = GIB(2);
    c.minimum_bytes = MIB(512);
    c.maximum_bytes = GIB(4);
    uint64_t vm;
    if (check(dynmem_balancer_vm_add(b, &c, &vm), "vm_add") ||
        check(dynmem_balancer_vm_start(b, vm, 0, NULL), "vm_start"))
        return 1;
    printf("policy %s: one VM, startup 2048 MiB, minimum 512 MiB, maximum 4096 MiB, on a 16 GiB host\n",
           dynmem_policy_name((uint32_t)policy));
    printf("%6s %8s %9s %8s %8s %8s %9s\n", "time", "demand", "physical", "visible", "balloon",
           "pressure", "status");
    for (uint64_t t = 1; t <= 300; t++) {
        uint64_t now = t * 1000;
        struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
        s.time_ms = now;
        s.committed_bytes = demand_at(t);
        if (check(dynmem_balancer_vm_sample(b, vm, &s), "sample") ||
            check(dynmem_balancer_tick(b, now, NULL), "tick"))
            return 1;
        struct dynmem_action a = DYNMEM_ACTION_INIT;
        while (dynmem_balancer_next_action(b, &a) == 1) {
            char why[320];
            dynmem_action_describe(&a, why, sizeof why);
            printf("  t=%3" PRIu64 "s  %s\n", t, why);
            /* The stand-in guest does everything it is asked, at once. */
            if (check(dynmem_balancer_confirm(b, a.vm_id, a.action_id, now, a.bytes,
                                              DYNMEM_CONFIRM_FINAL), "confirm"))
                return 1;
        }
        if (t % 10 == 0) {
            struct dynmem_vm_counters k = DYNMEM_VM_COUNTERS_INIT;
            dynmem_balancer_vm_counters(b, vm, &k);
            printf("%5" PRIu64 "s %5" PRIu64 " MiB %5" PRIu64 " MiB %4" PRIu64 " MiB %4" PRIu64
                   " MiB %7" PRIu32 " %9s\n",
                   t, k.demand_bytes >> 20, k.physical_bytes >> 20, k.guest_visible_bytes >> 20,
                   k.balloon_bytes >> 20, k.current_pressure, status_name(k.status));
        }
    }
    int rc = dynmem_balancer_check(b);
    dynmem_balancer_free(b);
    return check(rc, "books") ? 1 : 0;
}
