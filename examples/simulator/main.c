/* dynmem-sim: the command line. Parses options, loads the scenario, runs it
 * (or every policy with --compare) and writes the outputs. See
 * docs/dynmem-sim.1 and docs/simulator.md. */
#include "sim.h"

/* Paths and messages are cut at their buffer size on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: dynmem-sim [options] SCENARIO.json\n"
    "       dynmem-sim --generate SEED [--vms N] [--hours H] [--host-fraction F] > FLEET.json\n"
    "       dynmem-sim --quality FLEETS [--first-seed S] [--vms N] [--hours H] [--quality-csv FILE]\n"
    "                  [--jobs N]\n"
    "  --policy NAME        dynmem (default), hyperv, static, squeezed, mom, esx, proxmox\n"
    "  --compare            run every policy; print deficit, density, churn, fairness\n"
    "  --no-density         with --compare: skip the density search\n"
    "  --jobs N             with --compare: runs on N threads (default: one per CPU)\n"
    "  --duration SECONDS   simulate this long instead of the scenario's duration_s\n"
    "  --host-mib MIB       host memory instead of the scenario's host.memory_mib\n"
    "  --out DIR            write DIR/timeline.csv, summary.csv, actions.log, plot.png\n"
    "                       (with --compare: DIR/compare.csv)\n"
    "  --timeline FILE      per-tick timeline CSV\n"
    "  --timeline-every S   one timeline row per VM every S seconds (default: every tick)\n"
    "  --summary-csv FILE   per-VM summary as CSV\n"
    "  --compare-csv FILE   the comparison as CSV\n"
    "  --plot FILE          plot (.png or .svg) of the timeline with gnuplot\n"
    "  --plot-vms N         VMs in the plot (default 6)\n"
    "  --actions            print every action with its reason (or DIR/actions.log)\n"
    "  --progress           progress on stderr (default for runs over 6 simulated hours)\n"
    "  --quiet              no summary table on stdout\n"
    "  --generate SEED      write a generated fleet (scenario JSON) to stdout\n"
    "  --vms N, --hours H   with --generate or --quality: fleet size (40), duration (6)\n"
    "  --host-fraction F    with --generate: host = F x sum of maxima (0.7)\n"
    "  --quality FLEETS     every policy on FLEETS generated fleets x 3 host sizes\n"
    "  --first-seed S       with --quality: the fleets are seeds S to S + FLEETS - 1 (1)\n"
    "  --quality-csv FILE   with --quality: one row per fleet, host size and policy\n"
    "  --quality-summary-csv FILE  with --quality: the ratios table as CSV\n"
    "  --help               this text\n"
    "Exit status: 0 done, 1 the run failed (an invariant broke or the library refused),\n"
    "2 bad usage or scenario, 3 an output could not be written.\n";

struct cli {
    const char *scenario, *out, *timeline, *summary_csv, *compare_csv, *plot;
    int policy, plot_vms, jobs, quality, first_seed; /* first_seed 0: not given */
    bool generate;
    struct sim_gen gen;
    const char *quality_csv, *quality_summary_csv;
    bool compare, density, actions, quiet, progress, progress_set;
    double duration_s, timeline_every_s, host_mib;
};

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno || end == s || *end || *out < 0 ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct cli *c)
{
    *c = (struct cli){.policy = -1, .plot_vms = 6, .density = true,
                      .gen = (struct sim_gen)SIM_GEN_INIT};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
#define NEEDS_VALUE if (!v) { fprintf(stderr, "dynmem-sim: %s needs a value\n", a); return -1; } i++;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--policy")) {
            NEEDS_VALUE
            if ((c->policy = sim_policy_parse(v)) < 0) {
                fprintf(stderr, "dynmem-sim: unknown policy '%s'\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--compare")) {
            c->compare = true;
        } else if (!strcmp(a, "--no-density")) {
            c->density = false;
        } else if (!strcmp(a, "--actions")) {
            c->actions = true;
        } else if (!strcmp(a, "--quiet")) {
            c->quiet = true;
        } else if (!strcmp(a, "--progress")) {
            c->progress = c->progress_set = true;
        } else if (!strcmp(a, "--out")) {
            NEEDS_VALUE c->out = v;
        } else if (!strcmp(a, "--timeline")) {
            NEEDS_VALUE c->timeline = v;
        } else if (!strcmp(a, "--summary-csv")) {
            NEEDS_VALUE c->summary_csv = v;
        } else if (!strcmp(a, "--compare-csv")) {
            NEEDS_VALUE c->compare_csv = v;
        } else if (!strcmp(a, "--plot")) {
            NEEDS_VALUE c->plot = v;
        } else if (!strcmp(a, "--generate") || !strcmp(a, "--quality") || !strcmp(a, "--vms") ||
                   !strcmp(a, "--first-seed")) {
            NEEDS_VALUE
            if (parse_num(v, &d) || d != floor(d) || d > 1e9 || (d < 1 && strcmp(a, "--generate"))) {
                fprintf(stderr, "dynmem-sim: %s: a whole number%s, not '%s'\n", a,
                        strcmp(a, "--generate") ? " of at least 1" : "", v);
                return -1;
            }
            if (!strcmp(a, "--generate")) {
                c->generate = true;
                c->gen.seed = (uint64_t)d;
            } else if (!strcmp(a, "--quality")) {
                c->quality = (int)d;
            } else if (!strcmp(a, "--first-seed")) {
                c->first_seed = (int)d;
            } else {
                c->gen.vms = (int)d;
            }
        } else if (!strcmp(a, "--hours") || !strcmp(a, "--host-fraction")) {
            NEEDS_VALUE
            if (parse_num(v, &d) || d <= 0 || d > (strcmp(a, "--hours") ? 10 : 24 * 30)) {
                fprintf(stderr, "dynmem-sim: %s: out of range: '%s'\n", a, v);
                return -1;
            }
            *(strcmp(a, "--hours") ? &c->gen.host_fraction : &c->gen.hours) = d;
        } else if (!strcmp(a, "--quality-csv")) {
            NEEDS_VALUE c->quality_csv = v;
        } else if (!strcmp(a, "--quality-summary-csv")) {
            NEEDS_VALUE c->quality_summary_csv = v;
        } else if (!strcmp(a, "--jobs")) {
            NEEDS_VALUE
            if (parse_num(v, &d) || d < 1 || d > 64 || d != (int)d) {
                fprintf(stderr, "dynmem-sim: --jobs: a whole number of 1 to 64, not '%s'\n", v);
                return -1;
            }
            c->jobs = (int)d;
        } else if (!strcmp(a, "--plot-vms") || !strcmp(a, "--duration") ||
                   !strcmp(a, "--timeline-every") || !strcmp(a, "--host-mib")) {
            NEEDS_VALUE
            if (parse_num(v, &d)) {
                fprintf(stderr, "dynmem-sim: %s: bad number '%s'\n", a, v);
                return -1;
            }
            if (!strcmp(a, "--plot-vms"))
                c->plot_vms = (int)d;
            else if (!strcmp(a, "--duration"))
                c->duration_s = d;
            else if (!strcmp(a, "--host-mib"))
                c->host_mib = d;
            else
                c->timeline_every_s = d;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dynmem-sim: unknown option '%s'\n%s", a, usage);
            return -1;
        } else if (c->scenario) {
            fprintf(stderr, "dynmem-sim: one scenario only\n");
            return -1;
        } else {
            c->scenario = a;
        }
#undef NEEDS_VALUE
    }
    if (!c->scenario && !c->generate && !c->quality) {
        fputs(usage, stderr);
        return -1;
    }
    if (c->scenario && (c->generate || c->quality)) {
        fprintf(stderr, "dynmem-sim: --generate and --quality take no scenario file\n");
        return -1;
    }
    if (c->first_seed && !c->quality) {
        fprintf(stderr, "dynmem-sim: --first-seed goes with --quality\n");
        return -1;
    }
    return 0;
}

static const char *in_out(const struct cli *c, const char *given, const char *name, char *buf,
                          size_t len)
{
    if (given)
        return given;
    if (!c->out)
        return NULL;
    snprintf(buf, len, "%s/%s", c->out, name);
    return buf;
}

static int run_compare(const struct cli *c, const struct sim_scenario *sc, uint64_t dur)
{
    struct sim_compare_row rows[SIM_POLICIES];
    if (sim_compare(sc, c->density, dur, c->progress, c->jobs, rows))
        return 1;
    double limit = sim_limit_deficit(sc, dur);
    int density_limit = c->density ? sim_density_limit(sc, dur) : -1;
    if (limit < 0 || (c->density && density_limit < 0)) {
        fprintf(stderr, "dynmem-sim: out of memory\n");
        return 1;
    }
    sim_print_compare(stdout, sc, rows, c->density, limit, density_limit);
    char buf[1024];
    const char *csv = in_out(c, c->compare_csv, "compare.csv", buf, sizeof buf);
    if (csv) {
        if (sim_write_compare_csv(csv, rows, limit, density_limit)) {
            fprintf(stderr, "dynmem-sim: cannot write %s: %s\n", csv, strerror(errno));
            return 3;
        }
        printf("comparison CSV: %s\n", csv);
    }
    return 0;
}

static FILE *open_out(const char *path)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (path && !f)
        fprintf(stderr, "dynmem-sim: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int run_one(const struct cli *c, const struct sim_scenario *sc, uint64_t dur)
{
    char b1[1024], b2[1024], b3[1024], b4[1024];
    const char *tl = in_out(c, c->timeline, "timeline.csv", b1, sizeof b1);
    const char *sum = in_out(c, c->summary_csv, "summary.csv", b2, sizeof b2);
    const char *plot = in_out(c, c->plot, "plot.png", b3, sizeof b3);
    const char *act = c->actions && c->out ? in_out(c, NULL, "actions.log", b4, sizeof b4) : NULL;
    if (plot && !tl) {
        snprintf(b1, sizeof b1, "%s.csv", plot);
        tl = b1;
    }
    struct sim_options o = {
        .policy = c->policy >= 0 ? c->policy : (sc->policy >= 0 ? sc->policy : 0),
        .duration_ms = dur,
        .timeline_every_ms = (uint64_t)(c->timeline_every_s * 1000.0),
        .progress = c->progress,
    };
    o.timeline = open_out(tl);
    o.actions = act ? open_out(act) : (c->actions ? stdout : NULL);
    if ((tl && !o.timeline) || (act && !o.actions))
        return 3;
    struct sim_result res;
    int rc = sim_run(sc, &o, &res);
    if (o.timeline && fclose(o.timeline))
        rc = rc ? rc : 3;
    if (act)
        fclose(o.actions);
    if (res.failed) {
        fprintf(stderr, "dynmem-sim: run failed: %s\n", res.error);
        sim_result_free(&res);
        return 1;
    }
    if (!c->quiet)
        sim_print_summary(stdout, sc, &res, o.policy);
    int status = 0;
    if (sum && sim_write_summary_csv(sum, sc, &res)) {
        fprintf(stderr, "dynmem-sim: cannot write %s\n", sum);
        status = 3;
    }
    sim_result_free(&res);
    if (tl)
        printf("timeline CSV: %s\n", tl);
    if (sum && !status)
        printf("summary CSV: %s\n", sum);
    if (act)
        printf("actions: %s\n", act);
    if (plot) {
        /* A plot that fails is an output that could not be written; only a
         * missing gnuplot is let pass when the plot was not asked for by
         * name (--out). */
        char why[300];
        int prc = sim_plot(tl, plot, sc, c->plot_vms, why, sizeof why);
        if (prc == 0) {
            printf("plot: %s\n", plot);
        } else {
            fprintf(stderr, "dynmem-sim: no plot written to %s: %s\n", plot, why);
            if (prc != SIM_PLOT_NO_GNUPLOT || c->plot)
                status = 3;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    struct cli c;
    if (parse_args(argc, argv, &c))
        return 2;
    if (c.generate) {
        char *text = sim_generate(&c.gen);
        if (!text) {
            fprintf(stderr, "dynmem-sim: out of memory\n");
            return 1;
        }
        int ok = fputs(text, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
        free(text);
        return ok ? 0 : 3;
    }
    if (c.quality) {
        struct sim_quality q = {.fleets = c.quality, .first_seed = c.first_seed ? c.first_seed : 1,
                                .gen = c.gen, .workers = c.jobs,
                                .progress = !c.progress_set || c.progress,
                                .runs_csv = c.quality_csv, .summary_csv = c.quality_summary_csv};
        return sim_quality(&q);
    }
    struct sim_scenario sc;
    char err[512];
    if (sim_scenario_load(c.scenario, &sc, err, sizeof err)) {
        fprintf(stderr, "dynmem-sim: %s\n", err);
        return 2;
    }
    if (c.out && mkdir(c.out, 0777) && errno != EEXIST) {
        fprintf(stderr, "dynmem-sim: cannot create %s: %s\n", c.out, strerror(errno));
        sim_scenario_free(&sc);
        return 3;
    }
    uint64_t dur = (uint64_t)(c.duration_s * 1000.0);
    if (c.host_mib > 0) {
        if (c.host_mib != (double)((uint64_t)c.host_mib / 2 * 2)) {
            fprintf(stderr, "dynmem-sim: --host-mib must be a whole multiple of 2 MiB\n");
            sim_scenario_free(&sc);
            return 2;
        }
        sc.host_bytes = (uint64_t)c.host_mib * SIM_MIB;
    }
    if (!c.progress_set)
        c.progress = (dur ? dur : sc.duration_ms) > 6 * 3600 * 1000u;
    int rc = c.compare ? run_compare(&c, &sc, dur) : run_one(&c, &sc, dur);
    sim_scenario_free(&sc);
    return rc;
}
