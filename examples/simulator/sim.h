/* dynmem-sim: shared types. A scenario (parsed from JSON) describes a host,
 * its VMs (configuration, guest kind, demand over time) and events; a run
 * drives one balancer and, per VM, a host and a guest session engine over
 * the real wire format, and collects metrics. See docs/simulator.md. */
#ifndef DYNMEM_SIM_H
#define DYNMEM_SIM_H

#include <dynmem/dynmem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_MIB (UINT64_C(1) << 20)
#define SIM_NAME_MAX 48
#define SIM_POLICIES 7

/* ---- demand models (demand.c) ---- */
enum sim_piece_type { PIECE_CONST, PIECE_RAMP, PIECE_PERIODIC, PIECE_BURSTS, PIECE_TRACE };

struct sim_burst { uint64_t from_ms, to_ms; };

struct sim_piece {
    enum sim_piece_type type;
    uint64_t from_ms;             /* the piece holds from here to the next piece */
    double mib, to_mib;           /* const: mib; ramp: mib -> to_mib over duration */
    uint64_t duration_ms;         /* ramp */
    double amplitude_mib;         /* periodic: mib + amplitude * sin(2 pi (t + phase) / period) */
    uint64_t period_ms, phase_ms; /* periodic */
    double burst_mib;             /* bursts: mib, or burst_mib during a burst */
    struct sim_burst *bursts;     /* bursts, precomputed from the seed */
    size_t n_bursts;
    uint64_t *trace_t;            /* trace: step function (time ms, MiB) */
    double *trace_mib;
    size_t n_trace;
};

struct sim_demand {
    struct sim_piece *pieces;
    size_t n;
};

/* Demand in bytes at time t (rounded down to a 4 KiB page). */
uint64_t sim_demand_at(const struct sim_demand *d, uint64_t t_ms);
/* Highest demand over [0, until_ms] sampled every step_ms. */
uint64_t sim_demand_peak(const struct sim_demand *d, uint64_t until_ms, uint64_t step_ms);
/* Seeded bursts for a piece: mean gap and mean length in ms, over [from, until). */
int sim_bursts_generate(struct sim_piece *p, uint64_t seed, uint64_t mean_gap_ms,
                        uint64_t mean_len_ms, uint64_t until_ms);
void sim_demand_free(struct sim_demand *d);

/* ---- guest kinds (guest.c) ---- */
enum sim_kind { KIND_LINUX, KIND_WINDOWS, KIND_HOT_REMOVE, KIND_NO_DRIVER, KIND_SLOW, KIND_STUCK,
                KIND_LYING, KIND_COUNT };
const char *sim_kind_name(enum sim_kind k);
int sim_kind_parse(const char *s, enum sim_kind *out);

/* ---- scenario (scenario.c) ---- */
enum sim_event_type { EV_START, EV_STOP, EV_RESTART, EV_RESIZE, EV_CONFIGURE };

struct sim_event {
    uint64_t at_ms;
    int vm;                          /* index into the VM list */
    enum sim_event_type type;
    uint64_t bytes;                  /* resize */
    struct dynmem_vm_config config;  /* configure: the complete new configuration */
    int seq;                         /* order in the file (sorting is stable by it) */
    int src;                         /* index in "events", -1 for a VM's start_s */
};

struct sim_vm_spec {
    char name[SIM_NAME_MAX];
    struct dynmem_vm_config config;
    enum sim_kind kind;
    uint64_t delay_ms;    /* slow: delivery delay each way */
    uint64_t stuck_at_ms; /* stuck: stops answering from then on */
    double lie_factor;    /* lying: reported committed = factor x demand */
    uint64_t window_bytes;/* hot-add window: the largest maximum it ever gets */
    struct sim_demand demand;
};

struct sim_scenario {
    char name[64];
    uint64_t seed;
    uint64_t duration_ms;
    uint64_t tick_ms;
    uint64_t host_bytes;
    int64_t reserve_bytes;   /* -1: the library's default */
    int64_t calm_period_ms;  /* -1: default */
    int policy;              /* from the file, -1 = default (dynmem) */
    bool retry_starts;       /* a refused start is tried again every tick */
    uint64_t post_init_wait_ms, status_delay_ms, reply_timeout_ms;
    struct sim_vm_spec *vms;
    int n_vms;
    struct sim_event *events; /* sorted by time (stable) */
    int n_events;
};

/* Loads a scenario; on error writes "file:line: message" into err and
 * returns -1. */
int sim_scenario_load(const char *path, struct sim_scenario *sc, char *err, size_t errlen);
/* The same from text in memory; `name` stands for the file in messages,
 * and trace files are looked for in the working directory. */
int sim_scenario_parse(const char *name, const char *text, struct sim_scenario *sc, char *err,
                       size_t errlen);

void sim_scenario_free(struct sim_scenario *sc);

/* ---- generated fleets (generate.c) ---- */
struct sim_gen {
    uint64_t seed;
    int vms;              /* VMs in the list */
    double hours;         /* simulated time */
    double host_fraction; /* host memory over the sum of the VMs' maxima */
};
#define SIM_GEN_INIT {1, 40, 6.0, 0.7}
/* The scenario's JSON text (malloc'd), or NULL if out of memory. */
char *sim_generate(const struct sim_gen *g);

/* ---- metrics (metrics.c) ---- */
struct sim_vm_metrics {
    double running_s, pending_s;     /* running; waiting for a refused start */
    double deficit_mib_s;            /* integral of max(0, demand - assigned) */
    /* ... of which waiting for a refused start, and running before the
     * guest's first status report (no policy knows the demand then) */
    double waiting_deficit_mib_s, blind_deficit_mib_s;
    double warning_s, low_s;         /* assigned < demand; < demand + buffer */
    double assigned_mib_s, demand_mib_s, met_mib_s, static_mib_s;
    uint64_t add_ops, remove_ops;    /* actions that moved memory */
    uint64_t bytes_added, bytes_removed;
    uint64_t refused_starts, refusals, timeouts, partial_resizes;
    uint64_t reversals;              /* a move the other way from the one before */
    uint64_t peak_assigned;
};

struct sim_host_metrics {
    double free_mib_s, seconds;
    uint64_t min_free, max_assigned;
    uint64_t invariant_checks;
};

/* ---- one run (run.c) ---- */
struct sim_options {
    int policy;                 /* enum dynmem_policy */
    int n_vms;                  /* only the first n VMs (density search); 0 = all */
    uint64_t duration_ms;       /* 0 = the scenario's */
    bool static_at_peak;        /* every VM static at its peak demand (static sizing) */
    FILE *timeline;             /* per-tick CSV, or NULL */
    uint64_t timeline_every_ms; /* thin the timeline (0 = every tick) */
    FILE *actions;              /* every action with its reason, or NULL */
    bool progress;              /* progress on stderr */
    /* Stop as soon as the deficit time can no longer stay at or under this
     * percentage of all VM-seconds the run can have (0: never stop early):
     * a density probe that cannot fit is known long before its end. */
    double stop_above_deficit_pct;
};

struct sim_result {
    int n_vms;
    struct sim_vm_metrics *vm;
    struct sim_host_metrics host;
    uint64_t actions;
    bool failed;                /* an invariant broke or the library refused: see error */
    bool stopped;               /* stopped early (stop_above_deficit_pct) */
    char error[256];
};

int sim_run(const struct sim_scenario *sc, const struct sim_options *opt, struct sim_result *res);
void sim_result_free(struct sim_result *res);

/* ---- metrics and outputs (metrics.c) ---- */
struct sim_totals {
    double deficit_mib_s, deficit_time_pct, warning_s, vm_s, churn_gib, fairness;
    double avg_assigned_mib, saved_mib;
    double flapping;                 /* reversals per VM-hour of running */
    double waiting_deficit_mib_s, blind_deficit_mib_s; /* parts of deficit_mib_s */
    uint64_t ops, checks;
    int never_started;
};
void sim_totals(const struct sim_result *res, struct sim_totals *t);
void sim_print_summary(FILE *f, const struct sim_scenario *sc, const struct sim_result *res,
                       int policy);
int sim_write_summary_csv(const char *path, const struct sim_scenario *sc,
                          const struct sim_result *res);

/* ---- policy comparison (compare.c) ---- */
struct sim_compare_row {
    int policy;
    struct sim_totals t;
    int density;   /* -1 when not computed */
};
/* Several scenarios compared side by side on one pool of threads: for
 * each, every policy's run, and the density search of the policies in
 * density_mask (bit p for policy p). */
#define SIM_ALL_POLICIES ((1u << SIM_POLICIES) - 1)
struct sim_compare_task {
    const struct sim_scenario *sc;
    unsigned density_mask;
    unsigned run_mask;               /* policies run over the whole scenario (0: all) */
    uint64_t duration_ms;            /* 0: the scenario's */
    struct sim_compare_row *rows;    /* SIM_POLICIES rows, filled in */
};
int sim_compare_batch(const struct sim_compare_task *tasks, int n, bool progress, int workers);
/* Every policy's run and density search, on `workers` threads (0: one per
 * CPU). */
int sim_compare(const struct sim_scenario *sc, bool density, uint64_t duration_ms,
                bool progress, int workers, struct sim_compare_row rows[SIM_POLICIES]);
/* `limit`: sim_limit_deficit() of the scenario, shown beside the policies;
 * `density_limit`: sim_density_limit(), shown with density (-1: none). */
void sim_print_compare(FILE *f, const struct sim_scenario *sc,
                       const struct sim_compare_row rows[SIM_POLICIES], bool density,
                       double limit, int density_limit);
int sim_write_compare_csv(const char *path, const struct sim_compare_row rows[SIM_POLICIES],
                          double limit, int density_limit);

/* ---- progress on stderr (progress.c) ---- */
struct sim_progress {
    bool on, tty, open;
    double started, shown; /* monotonic seconds */
};
void sim_progress_init(struct sim_progress *p, bool on);
/* One update: on a terminal the line is rewritten (at most 10 times a
 * second unless a milestone); elsewhere only milestones are written. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sim_progress_show(struct sim_progress *p, bool milestone, const char *fmt, ...);
void sim_progress_end(struct sim_progress *p);
double sim_progress_elapsed(const struct sim_progress *p);

/* ---- worker threads (pool.c) ---- */
struct sim_pool_ops {
    /* Under the pool's lock: the next job to run, or NULL if none is ready
     * now (a worker then waits for a job to finish); set *finished once no
     * job will ever be ready again. */
    void *(*next)(void *ctx, bool *finished);
    /* Runs a job, outside the lock; nonzero stops the pool. */
    int (*run)(void *ctx, void *job);
    /* Under the lock, after run. */
    void (*done)(void *ctx, void *job, int rc);
};
/* `asked` workers, or one per online CPU if asked <= 0 (at most 64). */
int sim_pool_workers(int asked);
/* Runs jobs on `workers` threads (this one included) until none is left;
 * -1 if a job failed. */
int sim_pool_run(int workers, const struct sim_pool_ops *ops, void *ctx);

/* ---- the VMs present, tick by tick (presence.c) ---- */
/* A walk over a scenario's ticks from 0 to the duration, from its events
 * alone (no policy, no guest): a VM is present from its start (or
 * restart) to its stop. The limits below both walk it. What a VM can hold
 * widens with the events that may change it (a configure, accepted or
 * not, a resize): the limits are bounds, so they take every size the VM
 * may have by then. */
struct sim_range { uint64_t lo, hi; };
struct sim_presence {
    const struct sim_scenario *sc;
    uint64_t end_ms;      /* the walk's end */
    uint64_t t_ms;        /* this tick's time */
    double dt_s;          /* this tick's length in seconds (the last one is cut at end_ms) */
    bool *present;        /* per VM: started and not stopped */
    uint64_t *started_at; /* per VM: its latest boot (start, or restart), ms */
    struct sim_range *range; /* per VM: every size it may be brought to so far */
    uint64_t *boot_bytes; /* per VM: the most startup memory it may boot with so far */
    uint64_t next_ms;     /* the next tick's time */
    int next_event;       /* the first event not applied yet */
};
/* For `duration_ms` (0: the scenario's); -1 out of memory. */
int sim_presence_init(struct sim_presence *p, const struct sim_scenario *sc,
                      uint64_t duration_ms);
/* Moves to the next tick, with the events up to its time applied; false
 * after the last. */
bool sim_presence_next(struct sim_presence *p);
void sim_presence_fini(struct sim_presence *p);

/* ---- the physically possible (limit.c) ---- */
/* What all the VMs together can hold at most: the host's memory above the
 * reserve the library applies to it. */
double sim_host_cap(const struct sim_scenario *sc);
/* The memory a VM of `kind` configured so can be given: minimum..maximum,
 * or startup..startup for a guest without a driver (nothing can move its
 * memory). */
struct sim_range sim_vm_range(const struct dynmem_vm_config *c, enum sim_kind kind);
/* The deficit no policy can avoid, MiB*s (see limit.c); -1 out of memory. */
double sim_limit_deficit(const struct sim_scenario *sc, uint64_t duration_ms);
/* A density probe fits at most this percentage of its VM-seconds in deficit. */
#define SIM_DENSITY_DEFICIT_PCT 0.1
/* The density no policy can exceed (see density_limit.c): the longest
 * prefix of the VM list whose unavoidable deficit time is within
 * SIM_DENSITY_DEFICIT_PCT; -1 out of memory. */
int sim_density_limit(const struct sim_scenario *sc, uint64_t duration_ms);

/* ---- the quality benchmark (quality.c) ---- */
struct sim_quality {
    int fleets;            /* generated fleets, seeds first_seed.. */
    int first_seed;        /* at least 1 */
    struct sim_gen gen;    /* their size and duration (seed and host set per case) */
    int workers;           /* threads, 0: one per CPU */
    bool progress;
    const char *runs_csv, *summary_csv; /* or NULL */
};
/* Runs it, prints its tables; the exit status for main(). */
int sim_quality(const struct sim_quality *q);

/* ---- plot (plot.c) ---- */
/* Returns 0, SIM_PLOT_NO_GNUPLOT, or -1 when gnuplot (or a file) failed;
 * `why` says what happened (gnuplot's own message when it has one). */
#define SIM_PLOT_NO_GNUPLOT (-2)
int sim_plot(const char *timeline_csv, const char *out_path, const struct sim_scenario *sc,
             int max_vms, char *why, size_t why_len);

int sim_policy_parse(const char *name);

#endif
