/* Domain table of dynmem-xen (see domains.h). */
#include "domains.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MIB(x) ((x) >> 20)
#define UNIT DYNMEM_SIZE_UNIT
#define PAGE UINT64_C(4096)
#define DEFAULT_MINIMUM (UINT64_C(512) << 20)
#define RETRY_MS 2000

struct xdom {
    unsigned domid;
    char name[128];
    bool seen;        /* listed by the latest rescan */
    bool managed;     /* registered and started in the balancer */
    bool ignored;     /* dom0, or "manage = no" */
    uint64_t retry_ms; /* not managed yet: next attempt */
    uint64_t vm_id;
    bool no_data_logged, stuck_logged, refused_logged;
    /* The outstanding action, if any. */
    bool busy, written;
    struct dynmem_action act;
    uint64_t issued_ms, confirmed;
};

static void logf_(struct xdoms *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct xdoms *ds, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dynmem-xen: ", ds->log);
    vfprintf(ds->log, fmt, ap);
    fputc('\n', ds->log);
    fflush(ds->log);
    va_end(ap);
}

static void dom_path(char *buf, size_t len, const struct xdom *d, const char *key)
{
    snprintf(buf, len, "/local/domain/%u/%s", d->domid, key);
}

static enum xsio_status read_key(struct xdoms *ds, const struct xdom *d, const char *key,
                                 uint64_t *out)
{
    char path[256];
    dom_path(path, sizeof path, d, key);
    return xsio_read_u64(ds->xs, path, out);
}

int xdoms_init(struct xdoms *ds, const struct xen_config *cfg, struct xsio *xs, bool dry_run,
               FILE *log)
{
    *ds = (struct xdoms){.cfg = cfg, .xs = xs, .dry_run = dry_run, .log = log};
    int rc = dynmem_balancer_new(&ds->b, NULL);
    struct { enum dynmem_balancer_param p; int64_t v; } params[] = {
        {DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)cfg->host_memory},
        {DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, cfg->host_reserve},
        {DYNMEM_BALANCER_PARAM_POLICY, cfg->policy},
        {DYNMEM_BALANCER_PARAM_TICK_MS, (int64_t)cfg->tick_ms},
        {DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS, (int64_t)cfg->stuck_ms},
        {DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, (int64_t)cfg->calm_ms},
        {DYNMEM_BALANCER_PARAM_STALE_MS, (int64_t)cfg->stale_ms},
    };
    for (size_t i = 0; rc == 0 && i < sizeof params / sizeof params[0]; i++) {
        rc = dynmem_balancer_set_param(ds->b, params[i].p, params[i].v);
        if (rc)
            fprintf(log, "dynmem-xen: host setting %d = %" PRId64 ": %s\n", (int)params[i].p,
                    params[i].v, dynmem_strerror(rc));
    }
    return rc;
}

void xdoms_fini(struct xdoms *ds)
{
    dynmem_balancer_free(ds->b);
    free(ds->v);
    *ds = (struct xdoms){0};
}

static struct xdom *find(struct xdoms *ds, unsigned domid)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].domid == domid)
            return &ds->v[i];
    return NULL;
}

static struct xdom *add(struct xdoms *ds, unsigned domid)
{
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 16;
        struct xdom *v = realloc(ds->v, cap * sizeof *v);
        if (!v)
            return NULL;
        ds->v = v;
        ds->cap = cap;
    }
    struct xdom *d = &ds->v[ds->n++];
    *d = (struct xdom){.domid = domid};
    snprintf(d->name, sizeof d->name, "Domain-%u", domid);
    return d;
}

static uint64_t round_up(uint64_t x) { return (x + UNIT - 1) / UNIT * UNIT; }
static uint64_t round_down(uint64_t x) { return x / UNIT * UNIT; }

/* Registers and starts a newly found domain. Its books start from what it
 * holds now (memory/target); it may grow to memory/static-max. */
static void manage(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    char path[256];
    char *name = NULL;
    dom_path(path, sizeof path, d, "name");
    if (xsio_read_str(ds->xs, path, &name) == XSIO_OK) {
        snprintf(d->name, sizeof d->name, "%s", name);
        free(name);
    }
    struct xen_vm_settings s = xen_config_lookup(ds->cfg, d->name);
    if ((d->domid == 0 && !ds->cfg->manage_dom0) || s.manage < 0) {
        d->ignored = true;
        logf_(ds, "dom %u (%s): not managed (%s)", d->domid, d->name,
              s.manage < 0 ? "manage = no" : "dom0");
        return;
    }
    uint64_t smax_kib = 0, target_kib = 0;
    enum xsio_status st = read_key(ds, d, "memory/static-max", &smax_kib);
    if (st == XSIO_OK)
        st = read_key(ds, d, "memory/target", &target_kib);
    if (st != XSIO_OK) {
        if (st != XSIO_LOST)
            logf_(ds, "dom %u (%s): memory/static-max or memory/target: %s; retrying", d->domid,
                  d->name, xsio_status_name(st));
        d->retry_ms = now_ms + RETRY_MS;
        return;
    }
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.maximum_bytes = round_down(smax_kib * 1024);
    if (s.maximum && s.maximum < c.maximum_bytes)
        c.maximum_bytes = round_down(s.maximum);
    c.startup_bytes = round_up(target_kib * 1024);
    if (c.startup_bytes > c.maximum_bytes)
        c.startup_bytes = c.maximum_bytes;
    if (s.startup && round_up(s.startup) != c.startup_bytes)
        logf_(ds, "dom %u (%s): configured startup %" PRIu64 " MiB, but it holds %" PRIu64
              " MiB (memory/target): starting from what it holds", d->domid, d->name,
              MIB(s.startup), MIB(c.startup_bytes));
    c.minimum_bytes = round_up(s.minimum ? s.minimum : DEFAULT_MINIMUM);
    if (c.minimum_bytes > c.startup_bytes)
        c.minimum_bytes = c.startup_bytes;
    c.buffer_percent = s.buffer;
    c.weight = s.weight;
    c.hot_add_alignment_bytes = UNIT;
    int rc = dynmem_balancer_vm_add(ds->b, &c, &d->vm_id);
    if (rc) {
        logf_(ds, "dom %u (%s): configuration refused: %s (startup %" PRIu64 " MiB, minimum %" PRIu64
              " MiB, maximum %" PRIu64 " MiB)", d->domid, d->name, dynmem_strerror(rc),
              MIB(c.startup_bytes), MIB(c.minimum_bytes), MIB(c.maximum_bytes));
        d->ignored = true;
        return;
    }
    uint64_t missing = 0;
    rc = dynmem_balancer_vm_start(ds->b, d->vm_id, now_ms, &missing);
    if (rc) {
        logf_(ds, "dom %u (%s): not admitted: %s (%" PRIu64 " MiB missing); retrying", d->domid,
              d->name, dynmem_strerror(rc), MIB(missing));
        dynmem_balancer_vm_remove(ds->b, d->vm_id);
        d->retry_ms = now_ms + RETRY_MS;
        return;
    }
    d->managed = true;
    logf_(ds, "dom %u (%s): managed as vm %" PRIu64 ": holds %" PRIu64 " MiB, minimum %" PRIu64
          " MiB, maximum %" PRIu64 " MiB (static-max %" PRIu64 " KiB), buffer %" PRIu32
          "%%, weight %" PRIu32, d->domid, d->name, d->vm_id, MIB(c.startup_bytes),
          MIB(c.minimum_bytes), MIB(c.maximum_bytes), smax_kib, c.buffer_percent, c.weight);
}

static void forget(struct xdoms *ds, size_t i)
{
    struct xdom *d = &ds->v[i];
    if (d->managed) {
        struct dynmem_vm_counters vc = DYNMEM_VM_COUNTERS_INIT;
        dynmem_balancer_vm_counters(ds->b, d->vm_id, &vc);
        dynmem_balancer_vm_stop(ds->b, d->vm_id);
        dynmem_balancer_vm_remove(ds->b, d->vm_id);
        logf_(ds, "dom %u (%s): gone; %" PRIu64 " MiB back to the pool", d->domid, d->name,
              MIB(vc.physical_bytes + vc.in_flight_bytes));
    }
    ds->v[i] = ds->v[--ds->n];
}

void xdoms_rescan(struct xdoms *ds, uint64_t now_ms)
{
    unsigned *ids = NULL, n = 0;
    enum xsio_status st = xsio_list_domains(ds->xs, &ids, &n);
    if (st != XSIO_OK) {
        if (st != XSIO_LOST)
            logf_(ds, "/local/domain: %s", xsio_status_name(st));
        return;
    }
    for (size_t i = 0; i < ds->n; i++)
        ds->v[i].seen = false;
    for (unsigned k = 0; k < n; k++) {
        struct xdom *d = find(ds, ids[k]);
        if (!d && !(d = add(ds, ids[k])))
            continue;
        d->seen = true;
        if (!d->managed && !d->ignored && now_ms >= d->retry_ms)
            manage(ds, d, now_ms);
    }
    free(ids);
    for (size_t i = ds->n; i-- > 0;)
        if (!ds->v[i].seen)
            forget(ds, i);
}

static bool is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD ||
           kind == DYNMEM_ACTION_PAGE_IN;
}

static void finish(struct xdoms *ds, struct xdom *d, uint64_t now_ms, uint64_t bytes, uint32_t flags)
{
    int rc = dynmem_balancer_confirm(ds->b, d->vm_id, d->act.action_id, now_ms, bytes, flags);
    if (rc)
        logf_(ds, "dom %u (%s): confirm refused: %s", d->domid, d->name, dynmem_strerror(rc));
    if (rc == 0)
        d->confirmed += bytes;
    if (flags & DYNMEM_CONFIRM_FINAL)
        d->busy = false;
}

/* Shrink confirmation: the guest's own figure of what it holds (the
 * confirm key, KiB) is the only evidence that memory was given back. */
static void follow_shrink(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    uint64_t actual_kib;
    if (!ds->cfg->confirm_key[0] || read_key(ds, d, ds->cfg->confirm_key, &actual_kib) != XSIO_OK)
        return;
    uint64_t actual = actual_kib * 1024, from = d->act.assigned_bytes, to = d->act.target_bytes;
    uint64_t progress = actual < from ? from - (actual > to ? actual : to) : 0;
    progress = progress / PAGE * PAGE;
    if (progress > d->act.bytes)
        progress = d->act.bytes;
    bool done = actual <= to;
    if (progress > d->confirmed || done)
        finish(ds, d, now_ms, progress > d->confirmed ? progress - d->confirmed : 0,
               done ? DYNMEM_CONFIRM_FINAL : 0);
    if (done) {
        logf_(ds, "dom %u (%s): reached %" PRIu64 " KiB; %" PRIu64 " MiB freed", d->domid, d->name,
              actual_kib, MIB(d->confirmed));
    }
}

void xdoms_sample(struct xdoms *ds, uint64_t now_ms)
{
    for (size_t i = 0; i < ds->n; i++) {
        struct xdom *d = &ds->v[i];
        if (!d->managed)
            continue;
        uint64_t total = UINT64_MAX, freek = UINT64_MAX;
        enum xsio_status st = read_key(ds, d, "data/meminfo_total", &total);
        if (st == XSIO_OK)
            st = read_key(ds, d, "data/meminfo_free", &freek);
        if (st == XSIO_LOST)
            return;
        if (st == XSIO_OK) {
            struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
            int rc = dynmem_pressure_sample_from_xen_meminfo(&smp, now_ms, total, freek);
            if (rc == 0)
                rc = dynmem_balancer_vm_sample(ds->b, d->vm_id, &smp);
            if (rc && !d->refused_logged)
                logf_(ds, "dom %u (%s): meminfo free %" PRIu64 " / total %" PRIu64
                      " KiB refused: %s", d->domid, d->name, freek, total, dynmem_strerror(rc));
            d->refused_logged = rc != 0;
            d->no_data_logged = false;
        } else if (!d->no_data_logged) {
            d->no_data_logged = true;
            logf_(ds, "dom %u (%s): no data/meminfo_total and data/meminfo_free (%s): held where "
                  "it is", d->domid, d->name, xsio_status_name(st));
        }
        if (d->busy && d->written && !is_growth(d->act.kind))
            follow_shrink(ds, d, now_ms);
    }
}

/* Writes the action's target; returns false when it must be retried. */
static bool carry_out(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    uint64_t kib = d->act.target_bytes / 1024;
    if (!ds->dry_run) {
        char path[256], guard[256];
        dom_path(path, sizeof path, d, "memory/target");
        dom_path(guard, sizeof guard, d, "memory/static-max");
        enum xsio_status st = xsio_write_u64_guarded(ds->xs, guard, path, kib);
        if (st == XSIO_LOST)
            return false; /* maybe written, maybe not: kept outstanding */
        if (st != XSIO_OK) {
            logf_(ds, "dom %u (%s): write memory/target: %s; action dropped", d->domid, d->name,
                  xsio_status_name(st));
            finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL | DYNMEM_CONFIRM_FAILED);
            return true;
        }
    }
    d->written = true;
    if (ds->dry_run) /* nothing happened */
        finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL);
    else if (is_growth(d->act.kind)) /* counted as used since it was issued */
        finish(ds, d, now_ms, d->act.bytes, DYNMEM_CONFIRM_FINAL);
    return true;
}

static struct xdom *by_vm(struct xdoms *ds, uint64_t vm_id)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].managed && ds->v[i].vm_id == vm_id)
            return &ds->v[i];
    return NULL;
}

/* Stuck and give-up handling for outstanding shrinks. */
static void watch_progress(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    struct dynmem_vm_counters vc = DYNMEM_VM_COUNTERS_INIT;
    if (dynmem_balancer_vm_counters(ds->b, d->vm_id, &vc))
        return;
    bool stuck = (vc.flags & DYNMEM_VMSTATE_STUCK) != 0;
    if (stuck && !d->stuck_logged)
        logf_(ds, "dom %u (%s): stuck: memory/target %" PRIu64 " KiB not reached; %" PRIu64
              " MiB confirmed of %" PRIu64 " MiB; books keep %" PRIu64 " MiB (not counted as freed)",
              d->domid, d->name, d->act.target_bytes / 1024, MIB(d->confirmed), MIB(d->act.bytes),
              MIB(vc.physical_bytes));
    d->stuck_logged = stuck;
    if (d->busy && now_ms - d->issued_ms >= ds->cfg->giveup_ms) {
        logf_(ds, "dom %u (%s): giving up on action %" PRIu64 " after %" PRIu64 " ms: %" PRIu64
              " MiB of %" PRIu64 " MiB confirmed; the rest stays counted as held", d->domid,
              d->name, d->act.action_id, now_ms - d->issued_ms, MIB(d->confirmed), MIB(d->act.bytes));
        finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL);
        d->stuck_logged = false;
    }
}

void xdoms_tick(struct xdoms *ds, uint64_t now_ms)
{
    for (size_t i = 0; i < ds->n; i++) {
        struct xdom *d = &ds->v[i];
        if (d->busy && !d->written && !carry_out(ds, d, now_ms))
            return; /* connection lost: after reconnecting */
    }
    int rc = dynmem_balancer_tick(ds->b, now_ms, NULL);
    if (rc) {
        logf_(ds, "tick: %s", dynmem_strerror(rc));
        return;
    }
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(ds->b, &a) == 1) {
        struct xdom *d = by_vm(ds, a.vm_id);
        if (!d)
            continue;
        char text[512];
        dynmem_action_describe(&a, text, sizeof text);
        logf_(ds, "dom %u (%s): memory/target %" PRIu64 " KiB%s: %s", d->domid, d->name,
              a.target_bytes / 1024, ds->dry_run ? " (dry run, not written)" : "", text);
        d->busy = true;
        d->written = false;
        d->act = a;
        d->issued_ms = now_ms;
        d->confirmed = 0;
        d->stuck_logged = false;
        carry_out(ds, d, now_ms);
    }
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].managed && ds->v[i].busy && ds->v[i].written)
            watch_progress(ds, &ds->v[i], now_ms);
}

void xdoms_log_host(struct xdoms *ds)
{
    struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
    if (dynmem_balancer_host_counters(ds->b, &hc))
        return;
    logf_(ds, "host: %" PRIu32 " domains, assigned %" PRIu64 " MiB, in flight %" PRIu64
          " MiB, available %" PRIu64 " MiB, reserve %" PRIu64 " MiB, stuck %" PRIu32,
          hc.running_vms, MIB(hc.assigned_bytes), MIB(hc.in_flight_bytes),
          MIB(hc.available_bytes), MIB(hc.reserve_bytes), hc.stuck_vms);
}
