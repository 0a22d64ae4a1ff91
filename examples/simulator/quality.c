/* --quality: every policy on many generated fleets, each on three host
 * sizes (50, 70 and 90 % of the sum of the VMs' maxima), with the
 * physically possible limit beside them, and the ratios that judge a
 * policy: per fleet and host size, each policy's figure over hyperv's and
 * over the best peer's (the peer with the least deficit MiB*s there), then
 * the median and the worst of those ratios over all fleets and sizes.
 * Density (at the 50 % host, on a list twice the fleet) is searched
 * for dynmem, hyperv and static sizing, beside the density limit no policy
 * can exceed (density_limit.c) on the same list. docs/performance.md ("Quality on generated fleets") shows the
 * output; scripts/bench quality reruns it. */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIZES 3

/* Density needs a list longer than the host holds: it is searched on the
 * fleet's first DENSITY_LIST x vms VMs (the generator draws VMs in order,
 * so the fleet is their beginning) on the fleet's 50 % host, for these
 * policies. */
#define DENSITY_LIST 2
#define DENSITY_POLICIES                                                                       \
    ((1u << DYNMEM_POLICY_DYNMEM) | (1u << DYNMEM_POLICY_HYPERV) | (1u << DYNMEM_POLICY_STATIC))
static const double host_fractions[SIZES] = {0.5, 0.7, 0.9};

enum metric { M_DEFICIT, M_TIME, M_CHURN, M_FLAPPING, M_FAIRNESS, METRICS };
static const char *const metric_names[METRICS] = {"deficit_mib_s", "deficit_time", "churn",
                                                  "flapping", "fairness"};
static const char *const metric_titles[METRICS] = {"deficit MiB*s", "deficit time", "churn",
                                                   "flapping", "fairness"};

struct case_ {
    int fleet, size;
    struct sim_scenario sc;
    struct sim_compare_row rows[SIM_POLICIES];
    double limit;
    int density_limit; /* fleets' 50 % cases: sim_density_limit() of the density list */
    int best_peer;
};

static double figure(const struct sim_compare_row *r, enum metric m)
{
    switch (m) {
    case M_DEFICIT: return r->t.deficit_mib_s;
    case M_TIME: return r->t.deficit_time_pct;
    case M_CHURN: return r->t.churn_gib;
    case M_FLAPPING: return r->t.flapping;
    default: return r->t.fairness;
    }
}

static bool is_peer(int p)
{
    return p != DYNMEM_POLICY_DYNMEM && p != DYNMEM_POLICY_HYPERV;
}

/* a over b; two zeros are equal, something over nothing is infinite. */
static double ratio(double a, double b)
{
    if (b == 0)
        return a == 0 ? 1.0 : INFINITY;
    return a / b;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median and the worst of one policy's ratios against a reference
 * (hyperv, or the best peer of each case). Fairness is better higher, so
 * its worst is its least. */
static void ratio_stats(const struct case_ *cs, int n, int p, bool vs_peer, enum metric m,
                        double *med, double *worst)
{
    double *v = malloc((size_t)n * sizeof *v);
    if (!v) {
        *med = *worst = NAN;
        return;
    }
    for (int k = 0; k < n; k++) {
        int ref = vs_peer ? cs[k].best_peer : DYNMEM_POLICY_HYPERV;
        v[k] = ratio(figure(&cs[k].rows[p], m), figure(&cs[k].rows[ref], m));
    }
    *med = median(v, n);
    *worst = m == M_FAIRNESS ? v[0] : v[n - 1];
    free(v);
}

static void print_ratio(FILE *f, double x)
{
    if (isinf(x))
        fprintf(f, " %8s", "inf");
    else
        fprintf(f, " %8.3f", x);
}

static void print_table(FILE *f, const struct case_ *cs, int n, bool vs_peer)
{
    fprintf(f, "\nratios to %s, median / worst over %d fleet x host cases\n",
            vs_peer ? "the best peer of each case (least deficit MiB*s)" : "hyperv", n);
    fprintf(f, "%-9s", "policy");
    for (int m = 0; m < METRICS; m++)
        fprintf(f, " %17s", metric_titles[m]);
    fputc('\n', f);
    for (int p = 0; p < SIM_POLICIES; p++) {
        fprintf(f, "%-9s", dynmem_policy_name((uint32_t)p));
        for (int m = 0; m < METRICS; m++) {
            double med, worst;
            ratio_stats(cs, n, p, vs_peer, (enum metric)m, &med, &worst);
            print_ratio(f, med);
            print_ratio(f, worst);
        }
        fputc('\n', f);
    }
}

/* A fleet's density of `policy` (-1: the density limit), -1 if none. */
static int density_of(const struct case_ *c, int policy)
{
    return policy < 0 ? c->density_limit : c->rows[policy].density;
}

/* The median and the least, over the fleets whose static sizing fits some
 * VMs, of a density (-1: the density limit) over static sizing's. */
static int density_stats(const struct case_ *cs, int n, int policy, double *med, double *least)
{
    double *v = malloc((size_t)n * sizeof *v);
    int m = 0;
    for (int k = 0; v && k < n; k++) {
        int st = cs[k].rows[DYNMEM_POLICY_STATIC].density;
        if (st > 0 && density_of(&cs[k], policy) >= 0)
            v[m++] = (double)density_of(&cs[k], policy) / st;
    }
    *med = m ? median(v, m) : NAN;
    *least = m ? v[0] : NAN;
    free(v);
    return m;
}

static int write_runs_csv(const char *path, const struct case_ *cs, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "fleet,host_fraction,host_mib,vms,policy,deficit_mib_s,waiting_deficit_mib_s,"
               "blind_deficit_mib_s,deficit_time_pct,churn_gib,flapping,fairness,ops,density,"
               "limit_mib_s,best_peer,density_limit\n");
    for (int k = 0; k < n; k++)
        for (int p = 0; p < SIM_POLICIES; p++) {
            const struct sim_compare_row *r = &cs[k].rows[p];
            fprintf(f, "%d,%.2f,%llu,%d,%s,%.1f,%.1f,%.1f,%.5f,%.3f,%.4f,%.4f,%llu,%d,%.1f,%s,%d\n",
                    cs[k].fleet, host_fractions[cs[k].size],
                    (unsigned long long)(cs[k].sc.host_bytes >> 20), cs[k].sc.n_vms,
                    dynmem_policy_name((uint32_t)p), r->t.deficit_mib_s,
                    r->t.waiting_deficit_mib_s, r->t.blind_deficit_mib_s, r->t.deficit_time_pct,
                    r->t.churn_gib, r->t.flapping, r->t.fairness, (unsigned long long)r->t.ops,
                    r->density, cs[k].limit, dynmem_policy_name((uint32_t)cs[k].best_peer),
                    cs[k].density_limit);
        }
    return fclose(f) ? -1 : 0;
}

static int write_summary_csv(const char *path, const struct case_ *cs, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "policy,reference,metric,median,worst\n");
    for (int p = 0; p < SIM_POLICIES; p++)
        for (int ref = 0; ref < 2; ref++)
            for (int m = 0; m < METRICS; m++) {
                double med, worst;
                ratio_stats(cs, n, p, ref, (enum metric)m, &med, &worst);
                fprintf(f, "%s,%s,%s,%.4f,%.4f\n", dynmem_policy_name((uint32_t)p),
                        ref ? "best_peer" : "hyperv", metric_names[m], med, worst);
            }
    static const struct { const char *name; int policy; } dens[] = {
        {"dynmem", DYNMEM_POLICY_DYNMEM}, {"hyperv", DYNMEM_POLICY_HYPERV},
        {"density_limit", -1}};
    for (size_t d = 0; d < sizeof dens / sizeof *dens; d++) {
        double med, least;
        density_stats(cs, n, dens[d].policy, &med, &least);
        fprintf(f, "%s,static,density,%.4f,%.4f\n", dens[d].name, med, least);
    }
    return fclose(f) ? -1 : 0;
}

/* Per host size: the median deficit MiB*s of the limit and of each policy. */
static void print_limit(FILE *f, const struct case_ *cs, int n)
{
    fprintf(f, "\nmedian deficit MiB*s by host size, and the limit no policy can avoid\n");
    fprintf(f, "%-6s %12s", "host", "limit");
    for (int p = 0; p < SIM_POLICIES; p++)
        fprintf(f, " %12s", dynmem_policy_name((uint32_t)p));
    fputc('\n', f);
    double *v = malloc((size_t)n * sizeof *v);
    for (int s = 0; v && s < SIZES; s++) {
        fprintf(f, "%5.0f%%", 100 * host_fractions[s]);
        for (int p = -1; p < SIM_POLICIES; p++) {
            int m = 0;
            for (int k = 0; k < n; k++)
                if (cs[k].size == s)
                    v[m++] = p < 0 ? cs[k].limit : cs[k].rows[p].t.deficit_mib_s;
            fprintf(f, " %12.0f", m ? median(v, m) : 0);
        }
        fputc('\n', f);
    }
    free(v);
}

/* Where each policy's deficit comes from, summed over every case: VMs
 * waiting for a refused start, VMs running before their guest's first
 * report (no policy knows their demand yet), and the rest, beside the
 * limit no policy can avoid. */
static void print_sources(FILE *f, const struct case_ *cs, int n)
{
    double limit = 0;
    for (int k = 0; k < n; k++)
        limit += cs[k].limit;
    fprintf(f, "\nwhere the deficit comes from (MiB*s, summed over all cases; the limit: %.0f)\n",
            limit);
    fprintf(f, "%-9s %14s %14s %14s %14s %12s\n", "policy", "deficit", "waiting start",
            "before report", "the rest", "rest/limit");
    for (int p = 0; p < SIM_POLICIES; p++) {
        double d = 0, w = 0, bl = 0;
        for (int k = 0; k < n; k++) {
            d += cs[k].rows[p].t.deficit_mib_s;
            w += cs[k].rows[p].t.waiting_deficit_mib_s;
            bl += cs[k].rows[p].t.blind_deficit_mib_s;
        }
        fprintf(f, "%-9s %14.0f %14.0f %14.0f %14.0f %12.3f\n", dynmem_policy_name((uint32_t)p), d,
                w, bl, d - w - bl, limit > 0 ? (d - w - bl) / limit : 0);
    }
}

/* dynmem's deficit over hyperv's counting only what follows each guest's
 * first report (what a policy can act on): the median over the cases. */
static double informed_ratio(const struct case_ *cs, int n)
{
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return NAN;
    for (int k = 0; k < n; k++) {
        const struct sim_totals *d = &cs[k].rows[DYNMEM_POLICY_DYNMEM].t;
        const struct sim_totals *h = &cs[k].rows[DYNMEM_POLICY_HYPERV].t;
        v[k] = ratio(d->deficit_mib_s - d->blind_deficit_mib_s,
                     h->deficit_mib_s - h->blind_deficit_mib_s);
    }
    double m = median(v, n);
    free(v);
    return m;
}

/* The goals, as measured. */
static void print_goals(FILE *f, const struct case_ *cs, int n)
{
    double med, worst;
    int worse = 0;
    for (int k = 0; k < n; k++) {
        const struct sim_compare_row *r = cs[k].rows;
        worse += r[DYNMEM_POLICY_DYNMEM].t.deficit_mib_s > r[DYNMEM_POLICY_HYPERV].t.deficit_mib_s;
    }
    fprintf(f, "\ngoals (median over %d fleet x host cases)\n", n);
    ratio_stats(cs, n, DYNMEM_POLICY_DYNMEM, false, M_DEFICIT, &med, &worst);
    fprintf(f, "dynmem deficit MiB*s / hyperv: %.3f (goal <= 0.5): %s\n", med,
            med <= 0.5 ? "met" : "not met");
    fprintf(f, "  the same after each guest's first report (what a policy can act on): %.3f\n",
            informed_ratio(cs, n));
    ratio_stats(cs, n, DYNMEM_POLICY_DYNMEM, true, M_DEFICIT, &med, &worst);
    fprintf(f, "dynmem deficit MiB*s / best peer: %.3f (goal <= 0.5): %s\n", med,
            med <= 0.5 ? "met" : "not met");
    fprintf(f, "cases where dynmem's deficit MiB*s is above hyperv's: %d of %d (goal 0): %s\n",
            worse, n, worse ? "not met" : "met");
    ratio_stats(cs, n, DYNMEM_POLICY_DYNMEM, false, M_CHURN, &med, &worst);
    fprintf(f, "dynmem churn / hyperv: %.3f (goal <= 1.5): %s\n", med,
            med <= 1.5 ? "met" : "not met");
    double d, lim, least;
    int dens_n = density_stats(cs, n, DYNMEM_POLICY_DYNMEM, &d, &least);
    if (dens_n && density_stats(cs, n, -1, &lim, &least)) {
        fprintf(f, "dynmem density / static sizing at the 50 %% host, lists of %d x the fleet: "
                   "%.2f over %d fleets (goal >= 1.4): %s\n", DENSITY_LIST, d, dens_n,
                d >= 1.4 ? "met" : "not met");
        fprintf(f, "density limit / static sizing: %.2f (no policy can exceed it): the goal is "
                   "%s\n", lim, lim >= 1.4 ? "not ruled out" : "out of reach");
    }
}

/* Per fleet, at its 50 % host: how many VMs of the density list each
 * searched policy fits, beside the most any policy could. */
static void print_density(FILE *f, const struct case_ *cs, int n)
{
    fprintf(f, "\ndensity per fleet (VMs of the list of %d x the fleet that fit the 50 %% host "
               "at <= %.1f %% deficit time)\n", DENSITY_LIST, SIM_DENSITY_DEFICIT_PCT);
    fprintf(f, "%-6s %8s %8s %8s %8s %14s\n", "fleet", "limit", "dynmem", "hyperv", "static",
            "limit/static");
    for (int k = 0; k < n; k++) {
        if (cs[k].size)
            continue;
        const struct sim_compare_row *r = cs[k].rows;
        int st = r[DYNMEM_POLICY_STATIC].density;
        fprintf(f, "%-6d %8d %8d %8d %8d %14.2f\n", cs[k].fleet, cs[k].density_limit,
                r[DYNMEM_POLICY_DYNMEM].density, r[DYNMEM_POLICY_HYPERV].density, st,
                st > 0 ? (double)cs[k].density_limit / st : NAN);
    }
}

/* Loads generated fleet `fleet` with `vms` VMs and its host at `fraction`
 * of the sum of maxima. */
static int load_fleet(const struct sim_quality *q, int fleet, int vms, double fraction,
                      struct sim_scenario *sc)
{
    struct sim_gen g = q->gen;
    g.seed = (uint64_t)fleet;
    g.vms = vms;
    g.host_fraction = fraction;
    char *text = sim_generate(&g), err[512];
    int rc = !text || sim_scenario_parse("generated", text, sc, err, sizeof err);
    if (rc)
        fprintf(stderr, "dynmem-sim: fleet %d: %s\n", fleet, text ? err : "out of memory");
    free(text);
    return rc;
}

int sim_quality(const struct sim_quality *q)
{
    int n = q->fleets * SIZES, all = n + q->fleets;
    struct case_ *cs = calloc((size_t)all, sizeof *cs); /* then one density case per fleet */
    struct sim_compare_task *tasks = calloc((size_t)all, sizeof *tasks);
    int rc = cs && tasks ? 0 : 1;
    for (int k = 0; !rc && k < n; k++) {
        cs[k].density_limit = -1;
        cs[k].fleet = q->first_seed + k / SIZES;
        cs[k].size = k % SIZES;
        rc = load_fleet(q, cs[k].fleet, q->gen.vms, host_fractions[cs[k].size], &cs[k].sc);
        cs[k].limit = rc ? 0 : sim_limit_deficit(&cs[k].sc, 0);
        tasks[k] = (struct sim_compare_task){.sc = &cs[k].sc, .rows = cs[k].rows};
    }
    for (int k = n; !rc && k < all; k++) {
        cs[k].fleet = q->first_seed + k - n;
        rc = load_fleet(q, cs[k].fleet, DENSITY_LIST * q->gen.vms, host_fractions[0], &cs[k].sc);
        cs[k].sc.host_bytes = cs[(k - n) * SIZES].sc.host_bytes;
        cs[(k - n) * SIZES].density_limit = rc ? -1 : sim_density_limit(&cs[k].sc, 0);
        tasks[k] = (struct sim_compare_task){.sc = &cs[k].sc, .rows = cs[k].rows,
                                             .density_mask = DENSITY_POLICIES,
                                             .run_mask = DENSITY_POLICIES};
    }
    if (!rc && sim_compare_batch(tasks, all, q->progress, q->workers))
        rc = 1;
    for (int k = n; !rc && k < all; k++)
        for (int p = 0; p < SIM_POLICIES; p++)
            cs[(k - n) * SIZES].rows[p].density = cs[k].rows[p].density;
    for (int k = 0; !rc && k < n; k++) {
        cs[k].best_peer = -1;
        for (int p = 0; p < SIM_POLICIES; p++)
            if (is_peer(p) && (cs[k].best_peer < 0 || cs[k].rows[p].t.deficit_mib_s <
                                                          cs[k].rows[cs[k].best_peer].t.deficit_mib_s))
                cs[k].best_peer = p;
    }
    if (!rc) {
        printf("quality: %d generated fleets (seeds %d-%d) of %d VMs over %.2f h, hosts at 50, "
               "70 and 90 %% of the sum of maxima\n", q->fleets, q->first_seed,
               q->first_seed + q->fleets - 1, q->gen.vms, q->gen.hours);
        print_table(stdout, cs, n, false);
        print_table(stdout, cs, n, true);
        print_limit(stdout, cs, n);
        print_sources(stdout, cs, n);
        print_goals(stdout, cs, n);
        print_density(stdout, cs, n);
        if ((q->runs_csv && write_runs_csv(q->runs_csv, cs, n)) ||
            (q->summary_csv && write_summary_csv(q->summary_csv, cs, n))) {
            fprintf(stderr, "dynmem-sim: cannot write the quality CSV\n");
            rc = 3;
        }
    }
    for (int k = 0; cs && k < all; k++)
        sim_scenario_free(&cs[k].sc);
    free(cs);
    free(tasks);
    return rc;
}
