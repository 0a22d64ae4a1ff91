/* One simulated run: the balancer, one link (host + guest session) per VM,
 * the scenario's events and demand, in simulated time. Actions go down to
 * the host sessions, facts and status reports come up to the balancer, and
 * the balancer's books are checked (B13) after every tick, every event and
 * every batch of facts: a violation ends the run as failed. */
#include "link.h"
#include "sim.h"

/* Paths and messages are cut at their buffer size on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct vmrun {
    struct sim_vm_spec spec; /* a copy: static sizing may override it */
    struct sim_link link;
    uint64_t id;
    bool running, pending;
    bool acted;              /* got an action in this round (act_and_answer) */
    /* The balancer's physical figure for the VM, read again only after
     * something that can change it (a confirmation, an event): reading a
     * VM's counters walks its pressure window. */
    uint64_t assigned;
    bool stale_counters;
    uint64_t demand; /* this tick's, worked out once */
    uint64_t moved;          /* bytes moved by the current action so far */
    int last_way;            /* +1 grew, -1 shrank last (0: not yet) */
    bool reported;           /* a status report since the guest booted */
};

struct run {
    const struct sim_scenario *sc;
    const struct sim_options *opt;
    struct sim_result *res;
    dynmem_balancer *b;
    struct vmrun *vm;
    int n;
    uint64_t now, end;
    double deficit_s; /* VM-seconds in deficit so far, all VMs */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int failf(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(r->res->error, sizeof r->res->error, "t=%.3fs: ", (double)r->now / 1000.0);
    vsnprintf(r->res->error + n, sizeof r->res->error - (size_t)n, fmt, ap);
    va_end(ap);
    r->res->failed = true;
    return -1;
}

static int lib(struct run *r, int rc, const char *what, const struct vmrun *v)
{
    if (rc >= 0)
        return 0;
    return failf(r, "%s%s%s: %s (%s)", what, v ? " " : "", v ? v->spec.name : "",
                 dynmem_strerror(rc), dynmem_error_name(rc));
}

/* As lib(), with the refusing handle's own detail (`detail`, from its
 * last_error function) when it gave one. */
static int lib_detail(struct run *r, int rc, const char *what, const struct vmrun *v,
                      const char *detail)
{
    if (rc >= 0 || !detail[0])
        return lib(r, rc, what, v);
    return failf(r, "%s%s%s: %s (%s): %s", what, v ? " " : "", v ? v->spec.name : "",
                 dynmem_strerror(rc), dynmem_error_name(rc), detail);
}

/* A refused balancer call: which VM, field or setting and the numbers. */
static int bal(struct run *r, int rc, const char *what, const struct vmrun *v)
{
    char detail[192] = "";
    if (rc < 0)
        (void)dynmem_balancer_last_error(r->b, detail, sizeof detail);
    return lib_detail(r, rc, what, v, detail);
}

/* A refused call on a VM's host session: what was wrong, with the figures. */
static int host_session(struct run *r, int rc, const char *what, const struct vmrun *v)
{
    char detail[192] = "";
    if (rc < 0)
        (void)dynmem_session_host_last_error(v->link.h, detail, sizeof detail);
    return lib_detail(r, rc, what, v, detail);
}

static int check(struct run *r, const char *after)
{
    r->res->host.invariant_checks++;
    int rc = dynmem_balancer_check(r->b);
    if (rc)
        return failf(r, "invariant B13 broken after %s: %s", after, dynmem_error_name(rc));
    return 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void logf_action(struct run *r, const char *fmt, ...)
{
    if (!r->opt->actions)
        return;
    va_list ap;
    fprintf(r->opt->actions, "t=%.0fs ", (double)r->now / 1000.0);
    va_start(ap, fmt);
    vfprintf(r->opt->actions, fmt, ap);
    va_end(ap);
    fputc('\n', r->opt->actions);
}

static struct vmrun *by_id(struct run *r, uint64_t id)
{
    for (int i = 0; i < r->n; i++)
        if (r->vm[i].id == id)
            return &r->vm[i];
    return NULL;
}

/* Facts up, status reports in: everything the host session has to say. */
static int drain(struct run *r, struct vmrun *v)
{
    struct sim_vm_metrics *m = &r->res->vm[v - r->vm];
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    while (dynmem_session_host_next_event(v->link.h, &ev) == 1) {
        if (ev.kind == DYNMEM_SESSION_EVENT_STATUS && v->running) {
            v->reported = true;
            struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
            if (lib(r, dynmem_session_event_to_pressure_sample(&s, &ev), "status", v))
                return -1;
            if (bal(r, dynmem_balancer_vm_sample(r->b, v->id, &s), "sample", v))
                return -1;
        } else if (ev.kind == DYNMEM_SESSION_EVENT_FACT && ev.action_id) {
            bool grow = ev.action_kind == DYNMEM_ACTION_UNBALLOON ||
                        ev.action_kind == DYNMEM_ACTION_HOT_ADD;
            v->moved += ev.bytes;
            *(grow ? &m->bytes_added : &m->bytes_removed) += ev.bytes;
            if (ev.flags & DYNMEM_SESSION_FLAG_TIMED_OUT)
                m->timeouts++;
            if (ev.flags & DYNMEM_SESSION_FLAG_FINAL) {
                if (v->moved) {
                    (*(grow ? &m->add_ops : &m->remove_ops))++;
                    int way = grow ? 1 : -1;
                    m->reversals += v->last_way == -way;
                    v->last_way = way;
                }
                v->moved = 0;
            }
            if (!v->running)
                continue; /* the balancer already forgot the VM's actions */
            v->stale_counters = true;
            if (bal(r, dynmem_balancer_confirm(r->b, v->id, ev.action_id, ev.time_ms, ev.bytes,
                                               ev.flags & (DYNMEM_CONFIRM_FINAL |
                                                           DYNMEM_CONFIRM_FAILED)),
                    "confirm", v))
                return -1;
        }
    }
    m->refusals = v->link.refusals;
    return 0;
}

static int advance(struct run *r, struct vmrun *v)
{
    if (lib(r, sim_link_advance(&v->link, r->now), "session", v) || drain(r, v))
        return -1;
    return 0;
}

static int try_start(struct run *r, struct vmrun *v)
{
    uint64_t missing = 0;
    int rc = dynmem_balancer_vm_start(r->b, v->id, r->now, &missing);
    if (rc == DYNMEM_ERR_ADMISSION) {
        if (!v->pending) {
            r->res->vm[v - r->vm].refused_starts++;
            logf_action(r, "%s: start refused, %" PRIu64 " MiB missing%s", v->spec.name,
                        missing >> 20, r->sc->retry_starts ? " (retried every tick)" : "");
        }
        v->pending = r->sc->retry_starts;
        return 0;
    }
    if (bal(r, rc, "start", v))
        return -1;
    if (v->pending)
        logf_action(r, "%s: started after waiting", v->spec.name);
    v->pending = false;
    v->running = true;
    v->stale_counters = true;
    v->reported = false;
    return lib(r, sim_link_boot(&v->link, r->now), "boot", v);
}

/* The guest goes away (power off or reboot): the channel resets, the facts
 * of the transaction in flight are settled with the balancer. */
static int power_cycle(struct run *r, struct vmrun *v)
{
    if (lib(r, sim_link_reset(&v->link, r->now), "reset", v) || drain(r, v))
        return -1;
    return 0;
}

static int apply_event(struct run *r, const struct sim_event *ev)
{
    struct vmrun *v = &r->vm[ev->vm];
    v->stale_counters = true;
    int rc;
    uint64_t out = 0;
    switch (ev->type) {
    case EV_START:
        if (v->running)
            return 0;
        return try_start(r, v);
    case EV_STOP:
        v->pending = false;
        if (!v->running)
            return 0;
        if (power_cycle(r, v))
            return -1;
        v->running = false;
        logf_action(r, "%s: stopped", v->spec.name);
        return bal(r, dynmem_balancer_vm_stop(r->b, v->id), "stop", v);
    case EV_RESTART:
        if (!v->running)
            return try_start(r, v);
        if (power_cycle(r, v))
            return -1;
        rc = dynmem_balancer_vm_restart(r->b, v->id, r->now, &out);
        if (rc == DYNMEM_ERR_ADMISSION) {
            v->running = false;
            logf_action(r, "%s: restart refused (not even the minimum is free)", v->spec.name);
            return 0;
        }
        if (bal(r, rc, "restart", v))
            return -1;
        logf_action(r, "%s: restarted, %" PRIu64 " MiB smart-paged", v->spec.name, out >> 20);
        v->reported = false;
        return lib(r, sim_link_boot(&v->link, r->now), "boot", v);
    case EV_RESIZE:
        if (!v->running)
            return 0;
        rc = dynmem_balancer_vm_resize(r->b, v->id, r->now, ev->bytes, &out);
        logf_action(r, "%s: resize to %" PRIu64 " MiB: %s, reaching %" PRIu64 " MiB", v->spec.name,
                    ev->bytes >> 20, rc ? dynmem_error_name(rc) : "under way", out >> 20);
        if (rc == DYNMEM_ERR_PARTIAL)
            r->res->vm[ev->vm].partial_resizes++;
        return 0;
    case EV_CONFIGURE:
        if (r->opt->static_at_peak)
            return 0;
        rc = dynmem_balancer_vm_configure(r->b, v->id, &ev->config);
        logf_action(r, "%s: configure (minimum %" PRIu64 ", maximum %" PRIu64 " MiB): %s",
                    v->spec.name, ev->config.minimum_bytes >> 20, ev->config.maximum_bytes >> 20,
                    rc ? dynmem_error_name(rc) : "done");
        if (!rc)
            v->spec.config = ev->config;
        return 0;
    }
    return 0;
}

/* Hands every queued action to its VM's host session; returns how many,
 * or -1. */
static int take_actions(struct run *r)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    int got, taken = 0;
    while ((got = dynmem_balancer_next_action(r->b, &a)) == 1) {
        struct vmrun *v = by_id(r, a.vm_id);
        r->res->actions++;
        taken++;
        if (r->opt->actions) {
            char why[400];
            dynmem_action_describe(&a, why, sizeof why);
            logf_action(r, "%s: %s", v ? v->spec.name : "?", why);
        }
        if (!v)
            return failf(r, "action for an unknown VM");
        v->acted = true;
        if (a.kind == DYNMEM_ACTION_PAGE_IN) {
            /* Backing smart-paged memory is the VMM's own job: done at once. */
            v->stale_counters = true;
            if (bal(r, dynmem_balancer_confirm(r->b, a.vm_id, a.action_id, r->now, a.bytes,
                                               DYNMEM_CONFIRM_FINAL), "page-in", v))
                return -1;
            continue;
        }
        if (host_session(r, dynmem_session_host_start_action(v->link.h, r->now, a.kind, a.bytes,
                                                             a.action_id), "action", v))
            return -1;
    }
    return lib(r, got, "next action", NULL) ? -1 : taken;
}

/* The tick's actions go down and the sessions of the VMs that got one run
 * again at the same instant, so that a prompt guest answers within the
 * tick (the others ran up to this instant before the tick and have nothing
 * new). A confirmation may queue the next half of a growth (an unballoon's
 * hot-add): those are taken and answered too, in rounds, until nothing new
 * is queued. */
#define ROUNDS_MAX 8
static int act_and_answer(struct run *r)
{
    int taken = take_actions(r);
    for (int round = 0; taken > 0; round++) {
        if (round == ROUNDS_MAX)
            return failf(r, "actions still queued after %d rounds in one tick", ROUNDS_MAX);
        for (int i = 0; i < r->n; i++) {
            struct vmrun *v = &r->vm[i];
            bool answer = v->running && v->acted;
            v->acted = false;
            if (answer && advance(r, v))
                return -1;
        }
        if (check(r, "actions"))
            return -1;
        taken = take_actions(r);
    }
    return taken < 0 ? -1 : 0;
}

static const char *status_name(uint32_t s)
{
    return s == DYNMEM_STATUS_OK ? "OK" : s == DYNMEM_STATUS_LOW ? "Low" : "Warning";
}

/* Metrics over [now, now + tick) from the state at now; a timeline row. */
static int measure(struct run *r, uint64_t dt_ms)
{
    struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
    if (lib(r, dynmem_balancer_host_counters(r->b, &hc), "host counters", NULL))
        return -1;
    double dt = (double)dt_ms / 1000.0, mib = (double)SIM_MIB;
    struct sim_host_metrics *h = &r->res->host;
    h->seconds += dt;
    h->free_mib_s += (double)hc.available_bytes / mib * dt;
    if (hc.available_bytes < h->min_free || h->seconds == dt)
        h->min_free = hc.available_bytes;
    if (hc.assigned_bytes + hc.in_flight_bytes > h->max_assigned)
        h->max_assigned = hc.assigned_bytes + hc.in_flight_bytes;
    bool row = r->opt->timeline &&
               (!r->opt->timeline_every_ms || r->now % r->opt->timeline_every_ms == 0);
    for (int i = 0; i < r->n; i++) {
        struct vmrun *v = &r->vm[i];
        struct sim_vm_metrics *m = &r->res->vm[i];
        struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
        if (v->running && (row || v->stale_counters)) {
            if (lib(r, dynmem_balancer_vm_counters(r->b, v->id, &c), "counters", v))
                return -1;
            v->assigned = c.physical_bytes;
            v->stale_counters = false;
        }
        uint64_t d = (v->running || v->pending) ? v->demand : 0;
        uint64_t a = v->running ? v->assigned : 0;
        if (v->running || v->pending) {
            double dd = (double)d / mib, aa = (double)a / mib;
            *(v->running ? &m->running_s : &m->pending_s) += dt;
            m->demand_mib_s += dd * dt;
            m->assigned_mib_s += aa * dt;
            m->met_mib_s += (aa < dd ? aa : dd) * dt;
            if (v->running)
                m->static_mib_s += (double)v->spec.config.startup_bytes / mib * dt;
            if (a < d) {
                m->deficit_mib_s += (dd - aa) * dt;
                if (!v->running)
                    m->waiting_deficit_mib_s += (dd - aa) * dt;
                else if (!v->reported)
                    m->blind_deficit_mib_s += (dd - aa) * dt;
                m->warning_s += dt;
                r->deficit_s += dt;
            } else if (aa < dd * (1.0 + v->spec.config.buffer_percent / 100.0)) {
                m->low_s += dt;
            }
            if (a > m->peak_assigned)
                m->peak_assigned = a;
        }
        if (row)
            fprintf(r->opt->timeline,
                    "%.3f,%d,%s,%d,%.1f,%.1f,%.1f,%.1f,%u,%s,%.1f,%.1f\n",
                    (double)r->now / 1000.0, i, v->spec.name, v->running, (double)d / mib,
                    (double)a / mib, (double)c.guest_visible_bytes / mib,
                    (double)c.balloon_bytes / mib, c.current_pressure,
                    v->running ? status_name(c.status) : (v->pending ? "pending" : "off"),
                    (double)hc.available_bytes / mib, (double)hc.reserve_bytes / mib);
    }
    return 0;
}

/* The most VM-seconds a run can count: every VM from its first start
 * event to the end. */
static double vm_seconds_max(const struct run *r)
{
    double s = 0;
    for (int i = 0; i < r->n; i++) {
        for (int k = 0; k < r->sc->n_events; k++) {
            const struct sim_event *ev = &r->sc->events[k];
            if (ev->vm == i && ev->type == EV_START && ev->at_ms < r->end) {
                s += (double)(r->end - ev->at_ms) / 1000.0;
                break; /* events are sorted by time: this is the first */
            }
        }
    }
    return s;
}

static int setup(struct run *r)
{
    const struct sim_scenario *sc = r->sc;
    int policy = r->opt->policy;
    int rc;
    if ((rc = dynmem_balancer_new(&r->b, NULL)) ||
        (rc = dynmem_balancer_set_param(r->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                        (int64_t)sc->host_bytes)) ||
        (rc = dynmem_balancer_set_param(r->b, DYNMEM_BALANCER_PARAM_POLICY, policy)) ||
        (rc = dynmem_balancer_set_param(r->b, DYNMEM_BALANCER_PARAM_TICK_MS,
                                        (int64_t)sc->tick_ms)) ||
        (sc->reserve_bytes >= 0 &&
         (rc = dynmem_balancer_set_param(r->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                         sc->reserve_bytes))) ||
        (sc->calm_period_ms >= 0 &&
         (rc = dynmem_balancer_set_param(r->b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS,
                                         sc->calm_period_ms))))
        return lib(r, rc, "balancer setup", NULL);
    for (int i = 0; i < r->n; i++) {
        struct vmrun *v = &r->vm[i];
        v->spec = sc->vms[i];
        if (r->opt->static_at_peak) {
            /* Static sizing with hindsight: each VM gets exactly its peak. */
            uint64_t peak = sim_demand_peak(&v->spec.demand, r->end, sc->tick_ms);
            peak = (peak + DYNMEM_SIZE_UNIT - 1) / DYNMEM_SIZE_UNIT * DYNMEM_SIZE_UNIT;
            if (!peak)
                peak = DYNMEM_SIZE_UNIT;
            v->spec.config.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
            v->spec.config.startup_bytes = v->spec.config.minimum_bytes =
                v->spec.config.maximum_bytes = v->spec.window_bytes = peak;
        }
        if (bal(r, dynmem_balancer_vm_add(r->b, &v->spec.config, &v->id), "add", v) ||
            lib(r, sim_link_init(&v->link, &v->spec, sc), "link", v))
            return -1;
    }
    return 0;
}

int sim_run(const struct sim_scenario *sc, const struct sim_options *opt, struct sim_result *res)
{
    memset(res, 0, sizeof *res);
    struct run r = {.sc = sc, .opt = opt, .res = res};
    r.n = opt->n_vms > 0 && opt->n_vms < sc->n_vms ? opt->n_vms : sc->n_vms;
    res->n_vms = r.n;
    res->vm = calloc((size_t)r.n, sizeof *res->vm);
    r.vm = calloc((size_t)r.n, sizeof *r.vm);
    if (!res->vm || !r.vm) {
        free(r.vm);
        snprintf(res->error, sizeof res->error, "out of memory");
        res->failed = true;
        return -1;
    }
    uint64_t end = opt->duration_ms ? opt->duration_ms : sc->duration_ms;
    r.end = end;
    if (opt->timeline)
        fprintf(opt->timeline, "time_s,vm,name,running,demand_mib,assigned_mib,visible_mib,"
                               "balloon_mib,pressure,status,host_free_mib,host_reserve_mib\n");
    int next_ev = 0, rc = setup(&r);
    uint64_t report_every = end / 20 ? end / 20 : 1, next_report = report_every;
    double deficit_s_max = opt->stop_above_deficit_pct / 100.0 * vm_seconds_max(&r);
    struct sim_progress progress;
    sim_progress_init(&progress, opt->progress);
    for (r.now = 0; !rc && r.now < end; r.now += sc->tick_ms) {
        for (; !rc && next_ev < sc->n_events && sc->events[next_ev].at_ms <= r.now; next_ev++)
            if (sc->events[next_ev].vm < r.n)
                rc = apply_event(&r, &sc->events[next_ev]) || check(&r, "an event");
        for (int i = 0; !rc && i < r.n; i++) {
            struct vmrun *v = &r.vm[i];
            if (v->pending)
                rc = try_start(&r, v);
            if (v->running || v->pending)
                v->demand = sim_demand_at(&v->spec.demand, r.now);
            if (!rc && v->running)
                rc = lib(&r, sim_link_set_demand(&v->link, r.now, v->demand), "demand", v) ||
                     advance(&r, v);
        }
        if (rc || check(&r, "facts") ||
            lib(&r, dynmem_balancer_tick(r.b, r.now, NULL), "tick", NULL) || check(&r, "a tick") ||
            act_and_answer(&r) ||
            measure(&r, r.now + sc->tick_ms <= end ? sc->tick_ms : end - r.now))
            break;
        if (opt->stop_above_deficit_pct > 0 && r.deficit_s > deficit_s_max) {
            res->stopped = true;
            break;
        }
        if (opt->progress && r.now >= next_report) {
            sim_progress_show(&progress, true, "dynmem-sim: %s, %s: %3.0f%% (%.1f h simulated)",
                              sc->name, dynmem_policy_name((uint32_t)opt->policy),
                              100.0 * (double)r.now / (double)end, (double)r.now / 3.6e6);
            next_report += report_every;
        }
    }
    sim_progress_end(&progress);
    for (int i = 0; i < r.n; i++)
        sim_link_fini(&r.vm[i].link);
    dynmem_balancer_free(r.b);
    free(r.vm);
    return res->failed ? -1 : 0;
}

void sim_result_free(struct sim_result *res)
{
    free(res->vm);
    res->vm = NULL;
}

int sim_policy_parse(const char *name)
{
    for (int p = 0; p < SIM_POLICIES; p++)
        if (!strcmp(dynmem_policy_name((uint32_t)p), name))
            return p;
    return -1;
}
