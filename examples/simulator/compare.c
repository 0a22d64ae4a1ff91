/* --compare: every policy on the same scenario, and density by search.
 *
 * Density of a policy: the largest n such that the first n VMs of the
 * scenario, run alone on the same host, all get started and spend at most
 * 0.1 % of their VM-seconds in deficit (assigned < demand; waiting for a
 * refused start counts). Found by binary search over n (assumes that a
 * prefix that fits stays fitting when shortened). The static row is static
 * sizing: every VM static at its own peak demand (with hindsight). */
#include "sim.h"

#include <string.h>

#define DENSITY_DEFICIT_PCT 0.1

static int fits(const struct sim_scenario *sc, int policy, int n, uint64_t duration_ms,
                bool *ok)
{
    struct sim_options o = {.policy = policy, .n_vms = n, .duration_ms = duration_ms,
                            .static_at_peak = policy == DYNMEM_POLICY_STATIC};
    struct sim_result res;
    int rc = sim_run(sc, &o, &res);
    if (rc) {
        fprintf(stderr, "dynmem-sim: %s with %d VMs: %s\n", dynmem_policy_name((uint32_t)policy),
                n, res.error);
        sim_result_free(&res);
        return -1;
    }
    struct sim_totals t;
    sim_totals(&res, &t);
    *ok = t.never_started == 0 && t.deficit_time_pct <= DENSITY_DEFICIT_PCT;
    for (int i = 0; i < res.n_vms && *ok; i++)
        *ok = res.vm[i].running_s > 0; /* a VM that was never admitted does not fit */
    sim_result_free(&res);
    return 0;
}

static int density(const struct sim_scenario *sc, int policy, uint64_t duration_ms, int *out)
{
    int lo = 0, hi = sc->n_vms; /* lo fits (0 trivially); find the largest */
    bool ok;
    if (fits(sc, policy, hi, duration_ms, &ok))
        return -1;
    if (ok) {
        *out = hi;
        return 0;
    }
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (fits(sc, policy, mid, duration_ms, &ok))
            return -1;
        *(ok ? &lo : &hi) = mid;
    }
    *out = lo;
    return 0;
}

int sim_compare(const struct sim_scenario *sc, bool with_density, uint64_t duration_ms,
                bool progress, struct sim_compare_row rows[SIM_POLICIES])
{
    for (int p = 0; p < SIM_POLICIES; p++) {
        struct sim_options o = {.policy = p, .duration_ms = duration_ms, .progress = progress};
        struct sim_result res;
        rows[p] = (struct sim_compare_row){.policy = p, .density = -1};
        if (sim_run(sc, &o, &res)) {
            fprintf(stderr, "dynmem-sim: policy %s failed: %s\n", dynmem_policy_name((uint32_t)p),
                    res.error);
            sim_result_free(&res);
            return -1;
        }
        sim_totals(&res, &rows[p].t);
        sim_result_free(&res);
        if (with_density && density(sc, p, duration_ms, &rows[p].density))
            return -1;
        if (progress)
            fprintf(stderr, "dynmem-sim: policy %s done\n", dynmem_policy_name((uint32_t)p));
    }
    return 0;
}

/* The peers are the other systems' published rules (static, squeezed, mom,
 * esx, proxmox: issue #6's list). hyperv is not one of them: it is this
 * library's own reproduction of Hyper-V, so it gets a ratio of its own. */
static const struct sim_compare_row *best_peer(const struct sim_compare_row rows[SIM_POLICIES])
{
    const struct sim_compare_row *best = NULL;
    for (int p = 0; p < SIM_POLICIES; p++)
        if (p != DYNMEM_POLICY_DYNMEM && p != DYNMEM_POLICY_HYPERV &&
            (!best || rows[p].t.deficit_mib_s < best->t.deficit_mib_s))
            best = &rows[p];
    return best;
}

static void print_deficit_ratio(FILE *f, const char *label, const struct sim_compare_row *dm,
                                const struct sim_compare_row *other)
{
    const char *name = dynmem_policy_name((uint32_t)other->policy);
    if (other->t.deficit_mib_s > 0)
        fprintf(f, "dynmem deficit / %s (%s): %.3f (goal <= 0.5)\n", label, name,
                dm->t.deficit_mib_s / other->t.deficit_mib_s);
    else
        fprintf(f, "dynmem deficit / %s (%s): it has no deficit (dynmem %.0f MiB*s)\n", label,
                name, dm->t.deficit_mib_s);
}

void sim_print_compare(FILE *f, const struct sim_scenario *sc,
                       const struct sim_compare_row rows[SIM_POLICIES], bool with_density)
{
    fprintf(f, "policy comparison on %s (%d VMs, host %llu MiB)\n", sc->name, sc->n_vms,
            (unsigned long long)(sc->host_bytes >> 20));
    fprintf(f, "%-9s %14s %10s %8s %10s %8s %9s %9s\n", "policy", "deficit MiB*s", "deficit %",
            "density", "churn GiB", "ops", "fairness", "avg MiB");
    for (int p = 0; p < SIM_POLICIES; p++) {
        const struct sim_compare_row *r = &rows[p];
        char dens[16] = "-";
        if (with_density)
            snprintf(dens, sizeof dens, "%d", r->density);
        fprintf(f, "%-9s %14.0f %10.4f %8s %10.1f %8llu %9.3f %9.0f\n",
                dynmem_policy_name((uint32_t)p), r->t.deficit_mib_s, r->t.deficit_time_pct, dens,
                r->t.churn_gib, (unsigned long long)r->t.ops, r->t.fairness,
                r->t.avg_assigned_mib);
    }
    const struct sim_compare_row *dm = &rows[DYNMEM_POLICY_DYNMEM];
    print_deficit_ratio(f, "best peer", dm, best_peer(rows));
    print_deficit_ratio(f, "Hyper-V rules", dm, &rows[DYNMEM_POLICY_HYPERV]);
    if (with_density && rows[DYNMEM_POLICY_STATIC].density > 0)
        fprintf(f, "dynmem density / static sizing: %d / %d = %.2f (goal >= 1.4)\n", dm->density,
                rows[DYNMEM_POLICY_STATIC].density,
                (double)dm->density / rows[DYNMEM_POLICY_STATIC].density);
}

int sim_write_compare_csv(const char *path, const struct sim_compare_row rows[SIM_POLICIES])
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "policy,deficit_mib_s,deficit_time_pct,density,churn_gib,ops,fairness,"
               "avg_assigned_mib,invariant_checks\n");
    for (int p = 0; p < SIM_POLICIES; p++)
        fprintf(f, "%s,%.1f,%.5f,%d,%.3f,%llu,%.4f,%.1f,%llu\n", dynmem_policy_name((uint32_t)p),
                rows[p].t.deficit_mib_s, rows[p].t.deficit_time_pct, rows[p].density,
                rows[p].t.churn_gib, (unsigned long long)rows[p].t.ops, rows[p].t.fairness,
                rows[p].t.avg_assigned_mib, (unsigned long long)rows[p].t.checks);
    return fclose(f) ? -1 : 0;
}
