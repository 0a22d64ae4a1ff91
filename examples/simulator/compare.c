/* --compare: every policy on the same scenario, and density by search, the
 * runs spread over worker threads.
 *
 * Density of a policy: the largest n such that the first n VMs of the
 * scenario, run alone on the same host, all get started and spend at most
 * 0.1 % of their VM-seconds in deficit (assigned < demand; waiting for a
 * refused start counts). Found by bisection over n (assumes that a prefix
 * that fits stays fitting when shortened); a probe stops as soon as its
 * deficit time can no longer stay under the limit. The static row is
 * static sizing: every VM static at its own peak demand (with hindsight). */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* Each policy's part of a comparison: its run over the whole scenario,
 * then its density search, a bisection in which `lo` VMs are known to fit
 * and `hi` are known not to (hi = n_vms + 1 until the full list is tried).
 * The run over the whole scenario is the probe of all VMs (static sizing
 * excepted: its probes change the VMs), so the search starts after it. */
struct policy_part {
    struct sim_compare_row *row;
    bool run_started, run_done;
    int lo, hi, probing; /* probing: VMs in the probe under way, 0 if none */
};

struct compare;

struct job {
    struct compare *c;
    int policy;
    int n; /* 0: the run over the whole scenario; else a density probe */
    struct sim_result res;
};

/* One scenario's comparison. */
struct compare {
    const struct sim_scenario *sc;
    unsigned density_mask; /* policies whose density is searched */
    uint64_t duration_ms;
    struct policy_part part[SIM_POLICIES];
    struct job jobs[2 * SIM_POLICIES]; /* a run and a probe per policy */
};

/* Comparisons run side by side on one pool. */
struct batch {
    struct compare *c;
    int n, done;
    struct sim_progress progress;
};

static const char *pname(int policy)
{
    return dynmem_policy_name((uint32_t)policy);
}

/* Whether a finished run or probe fits: every VM started and at most
 * 0.1 % of VM-seconds in deficit (waiting for a refused start counts). */
static bool result_fits(const struct sim_result *res)
{
    if (res->stopped)
        return false;
    struct sim_totals t;
    sim_totals(res, &t);
    bool ok = t.never_started == 0 && t.deficit_time_pct <= SIM_DENSITY_DEFICIT_PCT;
    for (int i = 0; i < res->n_vms && ok; i++)
        ok = res->vm[i].running_s > 0; /* a VM that was never admitted does not fit */
    return ok;
}

static bool searched(const struct compare *c, int p)
{
    return (c->density_mask >> p) & 1u;
}

static bool search_over(const struct compare *c, int p)
{
    return !searched(c, p) || c->part[p].hi - c->part[p].lo <= 1;
}

/* The comparison's next job, or NULL; *over once all of it is done. */
static struct job *compare_next(struct compare *c, bool *over)
{
    *over = true;
    /* Density probes first: each search is a chain of runs, the longest
     * path of the comparison. */
    for (int p = 0; p < SIM_POLICIES; p++) {
        struct policy_part *pp = &c->part[p];
        bool can_search = pp->run_done || p == DYNMEM_POLICY_STATIC;
        if (!search_over(c, p) || !pp->run_done)
            *over = false;
        if (!can_search || pp->probing || search_over(c, p))
            continue;
        struct job *j = &c->jobs[SIM_POLICIES + p];
        *j = (struct job){.c = c, .policy = p};
        j->n = pp->hi > c->sc->n_vms ? c->sc->n_vms : (pp->lo + pp->hi) / 2;
        pp->probing = j->n;
        return j;
    }
    for (int p = 0; p < SIM_POLICIES; p++) {
        struct policy_part *pp = &c->part[p];
        if (pp->run_started)
            continue;
        pp->run_started = true;
        struct job *j = &c->jobs[p];
        *j = (struct job){.c = c, .policy = p};
        return j;
    }
    return NULL;
}

static void *next_job(void *ctx, bool *finished)
{
    struct batch *bt = ctx;
    bool all_over = true;
    for (int k = 0; k < bt->n; k++) {
        bool over;
        struct job *j = compare_next(&bt->c[k], &over);
        if (j)
            return j;
        all_over &= over;
    }
    *finished = all_over;
    return NULL;
}

static int run_job(void *ctx, void *job)
{
    (void)ctx;
    struct job *j = job;
    struct compare *c = j->c;
    struct sim_options o = {.policy = j->policy, .duration_ms = c->duration_ms};
    if (j->n) {
        o.n_vms = j->n;
        o.static_at_peak = j->policy == DYNMEM_POLICY_STATIC;
        o.stop_above_deficit_pct = SIM_DENSITY_DEFICIT_PCT;
    }
    if (sim_run(c->sc, &o, &j->res) == 0)
        return 0;
    if (j->n)
        fprintf(stderr, "\ndynmem-sim: %s: %s with %d VMs: %s\n", c->sc->name, pname(j->policy),
                j->n, j->res.error);
    else
        fprintf(stderr, "\ndynmem-sim: %s: policy %s failed: %s\n", c->sc->name,
                pname(j->policy), j->res.error);
    return -1;
}

/* A finished probe (or the run over all VMs, which is one) moves its
 * search's bounds. */
static void settle_probe(struct compare *c, int p, int n, bool fits)
{
    struct policy_part *pp = &c->part[p];
    if (fits)
        pp->lo = n;
    else
        pp->hi = n;
    if (search_over(c, p))
        pp->row->density = pp->lo;
}

static void job_done(void *ctx, void *job, int rc)
{
    struct batch *bt = ctx;
    struct job *j = job;
    struct compare *c = j->c;
    struct policy_part *pp = &c->part[j->policy];
    if (!rc) {
        bt->done++;
        if (j->n) {
            pp->probing = 0;
            settle_probe(c, j->policy, j->n, result_fits(&j->res));
        } else {
            sim_totals(&j->res, &pp->row->t);
            pp->run_done = true;
            if (searched(c, j->policy) && j->policy != DYNMEM_POLICY_STATIC &&
                pp->hi > c->sc->n_vms)
                settle_probe(c, j->policy, c->sc->n_vms, result_fits(&j->res));
        }
        bool milestone = bt->n == 1 && pp->run_done && search_over(c, j->policy);
        if (milestone)
            sim_progress_show(&bt->progress, true, "dynmem-sim: %s: policy %s done (%.0f s)",
                              c->sc->name, pname(j->policy), sim_progress_elapsed(&bt->progress));
        else
            sim_progress_show(&bt->progress, bt->n > 1 && bt->done % 50 == 0,
                              "dynmem-sim: %d scenarios: %d runs done (%.0f s)", bt->n, bt->done,
                              sim_progress_elapsed(&bt->progress));
    }
    sim_result_free(&j->res);
}

int sim_compare_batch(const struct sim_compare_task *tasks, int n, bool progress, int workers)
{
    struct batch bt = {.n = n, .c = calloc((size_t)n, sizeof *bt.c)};
    if (!bt.c)
        return -1;
    for (int k = 0; k < n; k++) {
        struct compare *c = &bt.c[k];
        c->sc = tasks[k].sc;
        c->density_mask = tasks[k].density_mask;
        c->duration_ms = tasks[k].duration_ms;
        for (int p = 0; p < SIM_POLICIES; p++) {
            tasks[k].rows[p] = (struct sim_compare_row){.policy = p, .density = -1};
            c->part[p] = (struct policy_part){.row = &tasks[k].rows[p], .lo = 0,
                                              .hi = c->sc->n_vms + 1};
            /* A run left out counts as done: a density search then probes
             * the whole list itself. */
            bool skipped = tasks[k].run_mask && !((tasks[k].run_mask >> p) & 1u);
            c->part[p].run_started = c->part[p].run_done = skipped;
        }
    }
    sim_progress_init(&bt.progress, progress);
    static const struct sim_pool_ops ops = {next_job, run_job, job_done};
    int rc = sim_pool_run(sim_pool_workers(workers), &ops, &bt);
    sim_progress_end(&bt.progress);
    free(bt.c);
    return rc;
}

int sim_compare(const struct sim_scenario *sc, bool with_density, uint64_t duration_ms,
                bool progress, int workers, struct sim_compare_row rows[SIM_POLICIES])
{
    struct sim_compare_task t = {.sc = sc, .density_mask = with_density ? SIM_ALL_POLICIES : 0,
                                 .duration_ms = duration_ms, .rows = rows};
    return sim_compare_batch(&t, 1, progress, workers);
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
                       const struct sim_compare_row rows[SIM_POLICIES], bool with_density,
                       double limit, int density_limit)
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
    fprintf(f, "%-9s %14.0f  (deficit no policy can avoid: demand above the maxima, or above "
               "what the host holds over its reserve and the minimums)\n", "limit", limit);
    const struct sim_compare_row *dm = &rows[DYNMEM_POLICY_DYNMEM];
    print_deficit_ratio(f, "best peer", dm, best_peer(rows));
    print_deficit_ratio(f, "Hyper-V rules", dm, &rows[DYNMEM_POLICY_HYPERV]);
    if (with_density && rows[DYNMEM_POLICY_STATIC].density > 0)
        fprintf(f, "dynmem density / static sizing: %d / %d = %.2f (goal >= 1.4)\n", dm->density,
                rows[DYNMEM_POLICY_STATIC].density,
                (double)dm->density / rows[DYNMEM_POLICY_STATIC].density);
    if (with_density && density_limit >= 0)
        fprintf(f, "density limit: %d of %d VMs (no policy can exceed it: the unavoidable "
                   "deficit time of a longer list is above %.1f %%)\n", density_limit, sc->n_vms,
                SIM_DENSITY_DEFICIT_PCT);
}

int sim_write_compare_csv(const char *path, const struct sim_compare_row rows[SIM_POLICIES],
                          double limit, int density_limit)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "policy,deficit_mib_s,deficit_time_pct,density,churn_gib,ops,fairness,"
               "avg_assigned_mib,invariant_checks,limit_mib_s,density_limit\n");
    for (int p = 0; p < SIM_POLICIES; p++)
        fprintf(f, "%s,%.1f,%.5f,%d,%.3f,%llu,%.4f,%.1f,%llu,%.1f,%d\n",
                dynmem_policy_name((uint32_t)p),
                rows[p].t.deficit_mib_s, rows[p].t.deficit_time_pct, rows[p].density,
                rows[p].t.churn_gib, (unsigned long long)rows[p].t.ops, rows[p].t.fairness,
                rows[p].t.avg_assigned_mib, (unsigned long long)rows[p].t.checks, limit,
                density_limit);
    return fclose(f) ? -1 : 0;
}
