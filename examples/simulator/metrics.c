/* Metrics of a run: totals, the summary table and its CSV. Definitions are
 * in docs/simulator.md ("Metrics"). */
#include "sim.h"

#include <math.h>
#include <string.h>

void sim_totals(const struct sim_result *res, struct sim_totals *t)
{
    memset(t, 0, sizeof *t);
    double s1 = 0, s2 = 0, run_s = 0, assigned = 0, stat = 0;
    int n = 0;
    t->checks = res->host.invariant_checks;
    for (int i = 0; i < res->n_vms; i++) {
        const struct sim_vm_metrics *m = &res->vm[i];
        t->deficit_mib_s += m->deficit_mib_s;
        t->waiting_deficit_mib_s += m->waiting_deficit_mib_s;
        t->blind_deficit_mib_s += m->blind_deficit_mib_s;
        t->warning_s += m->warning_s; /* waiting for a start is counted there */
        t->vm_s += m->running_s + m->pending_s;
        t->churn_gib += (double)(m->bytes_added + m->bytes_removed) / (double)(1 << 30);
        t->ops += m->add_ops + m->remove_ops;
        run_s += m->running_s;
        assigned += m->assigned_mib_s;
        stat += m->static_mib_s;
        if (m->running_s + m->pending_s <= 0) {
            t->never_started++;
            continue;
        }
        /* Satisfaction: the share of the VM's demand that was backed. */
        double s = m->demand_mib_s > 0 ? m->met_mib_s / m->demand_mib_s : 1.0;
        s1 += s;
        s2 += s * s;
        n++;
    }
    t->deficit_time_pct = t->vm_s > 0 ? 100.0 * t->warning_s / t->vm_s : 0;
    t->fairness = s2 > 0 ? s1 * s1 / (n * s2) : 1.0;
    t->avg_assigned_mib = run_s > 0 ? assigned / run_s : 0;
    uint64_t reversals = 0;
    for (int i = 0; i < res->n_vms; i++)
        reversals += res->vm[i].reversals;
    t->flapping = run_s > 0 ? (double)reversals / (run_s / 3600.0) : 0;
    t->saved_mib = run_s > 0 ? (stat - assigned) / run_s : 0;
}

static double avg(double x, double s)
{
    return s > 0 ? x / s : 0;
}

void sim_print_summary(FILE *f, const struct sim_scenario *sc, const struct sim_result *res,
                       int policy)
{
    double hours = res->host.seconds / 3600.0;
    fprintf(f, "scenario %s, policy %s, %d VMs, host %llu MiB, %.2f h simulated\n", sc->name,
            dynmem_policy_name((uint32_t)policy), res->n_vms,
            (unsigned long long)(sc->host_bytes >> 20), hours);
    fprintf(f, "%-12s %-10s %12s %9s %9s %9s %9s %6s %6s %9s %9s %5s %5s\n", "vm", "kind",
            "deficit", "warning", "low", "avg", "saved", "adds", "rems", "added", "removed",
            "refus", "tmo");
    fprintf(f, "%-12s %-10s %12s %9s %9s %9s %9s %6s %6s %9s %9s %5s %5s\n", "", "",
            "MiB*s", "s", "s", "MiB", "MiB", "", "", "MiB", "MiB", "", "");
    for (int i = 0; i < res->n_vms; i++) {
        const struct sim_vm_metrics *m = &res->vm[i];
        fprintf(f, "%-12s %-10s %12.0f %9.0f %9.0f %9.0f %9.0f %6llu %6llu %9llu %9llu %5llu %5llu\n",
                sc->vms[i].name, sim_kind_name(sc->vms[i].kind), m->deficit_mib_s,
                m->warning_s, m->low_s, avg(m->assigned_mib_s, m->running_s),
                avg(m->static_mib_s - m->assigned_mib_s, m->running_s),
                (unsigned long long)m->add_ops, (unsigned long long)m->remove_ops,
                (unsigned long long)(m->bytes_added >> 20),
                (unsigned long long)(m->bytes_removed >> 20), (unsigned long long)m->refusals,
                (unsigned long long)m->timeouts);
        if (m->refused_starts || m->partial_resizes)
            fprintf(f, "%-12s   (%llu start(s) refused, %llu partial resize(s))\n", "",
                    (unsigned long long)m->refused_starts, (unsigned long long)m->partial_resizes);
    }
    struct sim_totals t;
    sim_totals(res, &t);
    fprintf(f, "host: deficit %.0f MiB*s, deficit time %.3f %%, average free %.0f MiB, "
               "lowest free %llu MiB, highest assigned %llu MiB, average assigned per VM %.0f MiB, "
               "saved vs static %.0f MiB per VM, %llu ops, %.1f GiB moved, fairness %.3f, "
               "%llu actions, %llu invariant checks\n",
            t.deficit_mib_s, t.deficit_time_pct, avg(res->host.free_mib_s, res->host.seconds),
            (unsigned long long)(res->host.min_free >> 20),
            (unsigned long long)(res->host.max_assigned >> 20), t.avg_assigned_mib, t.saved_mib,
            (unsigned long long)t.ops, t.churn_gib, t.fairness,
            (unsigned long long)res->actions, (unsigned long long)res->host.invariant_checks);
}

int sim_write_summary_csv(const char *path, const struct sim_scenario *sc,
                          const struct sim_result *res)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "vm,kind,running_s,pending_s,deficit_mib_s,warning_s,low_s,avg_assigned_mib,"
               "saved_mib,peak_assigned_mib,add_ops,remove_ops,added_mib,removed_mib,"
               "refused_starts,partial_resizes,refusals,timeouts\n");
    for (int i = 0; i < res->n_vms; i++) {
        const struct sim_vm_metrics *m = &res->vm[i];
        fprintf(f, "%s,%s,%.0f,%.0f,%.1f,%.0f,%.0f,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,"
                   "%llu,%llu\n",
                sc->vms[i].name, sim_kind_name(sc->vms[i].kind), m->running_s, m->pending_s,
                m->deficit_mib_s, m->warning_s, m->low_s, avg(m->assigned_mib_s, m->running_s),
                avg(m->static_mib_s - m->assigned_mib_s, m->running_s),
                (unsigned long long)(m->peak_assigned >> 20), (unsigned long long)m->add_ops,
                (unsigned long long)m->remove_ops, (unsigned long long)(m->bytes_added >> 20),
                (unsigned long long)(m->bytes_removed >> 20),
                (unsigned long long)m->refused_starts, (unsigned long long)m->partial_resizes,
                (unsigned long long)m->refusals, (unsigned long long)m->timeouts);
    }
    return fclose(f) ? -1 : 0;
}
