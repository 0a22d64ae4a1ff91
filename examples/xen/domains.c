/* dynmem-xen: the domain table, discovery from /local/domain and demand
 * from data/meminfo_* (see domains.h). */
#include "xdom.h"

#include <inttypes.h>
#include "exutil.h"
#include "metrics.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define UNIT DYNMEM_SIZE_UNIT
#define DEFAULT_MINIMUM (UINT64_C(512) << 20)
#define RETRY_MS 2000

void xdom_log(struct xdoms *ds, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dynmem-xen: ", ds->log);
    vfprintf(ds->log, fmt, ap);
    fputc('\n', ds->log);
    fflush(ds->log);
    va_end(ap);
}

void xdom_path(char *buf, size_t len, const struct xdom *d, const char *key)
{
    snprintf(buf, len, "/local/domain/%u/%s", d->domid, key);
}

enum xsio_status xdom_read_key(struct xdoms *ds, const struct xdom *d, const char *key,
                                 uint64_t *out)
{
    char path[256];
    xdom_path(path, sizeof path, d, key);
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
                    params[i].v, EX_WHY(ds->b, rc));
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

/* The library's check of a domain's configuration (1 when refused), then
 * of its name against the managed domains' (2); why says what is wrong. */
static int refused(struct xdoms *ds, const struct xdom *d, const struct dynmem_vm_config *c,
                   char *why, size_t len)
{
    if (dynmem_vm_config_explain(c, why, len))
        return 1;
    struct dynmem_config_vm *set = calloc(ds->n, sizeof *set);
    char (*ids)[16] = calloc(ds->n, sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; set && ids && i < ds->n; i++) {
        const struct xdom *o = &ds->v[i];
        if (!o->managed && o != d)
            continue;
        set[n] = (struct dynmem_config_vm)DYNMEM_CONFIG_VM_INIT;
        set[n].name = o->name;
        set[n].endpoint_field = "domid";
        snprintf(ids[n], sizeof ids[n], "%u", o->domid);
        set[n].endpoint = ids[n];
        n++;
    }
    int rc = set && ids ? dynmem_config_check(NULL, set, n, NULL, why, len) : 0;
    free(set);
    free(ids);
    return rc ? 2 : 0;
}

/* Registers and starts a newly found domain. Its books start from what it
 * holds now (memory/target); it may grow to memory/static-max. */
static void manage(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    char path[256];
    char *name = NULL;
    xdom_path(path, sizeof path, d, "name");
    if (xsio_read_str(ds->xs, path, &name) == XSIO_OK) {
        snprintf(d->name, sizeof d->name, "%s", name);
        free(name);
    }
    struct xen_vm_settings s = xen_config_lookup(ds->cfg, d->name);
    if ((d->domid == 0 && !ds->cfg->manage_dom0) || s.manage < 0) {
        d->ignored = true;
        xdom_log(ds, "dom %u (%s): not managed (%s)", d->domid, d->name,
              s.manage < 0 ? "manage = no" : "dom0");
        return;
    }
    uint64_t smax_kib = 0, target_kib = 0;
    enum xsio_status st = xdom_read_key(ds, d, "memory/static-max", &smax_kib);
    if (st == XSIO_OK)
        st = xdom_read_key(ds, d, "memory/target", &target_kib);
    if (st != XSIO_OK) {
        if (st != XSIO_LOST && st != XSIO_AGAIN)
            xdom_log(ds, "dom %u (%s): memory/static-max or memory/target: %s; retrying", d->domid,
                  d->name, xsio_status_name(st));
        d->retry_ms = now_ms + RETRY_MS;
        return;
    }
    /* What it holds now is its startup (rounded up: the books never count
     * less than it holds); it may grow to static-max (rounded down) or the
     * configured maximum. A configured minimum or maximum it cannot honour
     * is refused, never clamped; the default minimum follows startup. */
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.maximum_bytes = round_down(smax_kib * 1024);
    if (s.maximum && s.maximum < c.maximum_bytes)
        c.maximum_bytes = s.maximum;
    c.startup_bytes = round_up(target_kib * 1024);
    if (s.startup && round_up(s.startup) != c.startup_bytes)
        xdom_log(ds, "dom %u (%s): configured startup %" PRIu64 " MiB, but it holds %" PRIu64
              " MiB (memory/target): starting from what it holds", d->domid, d->name,
              MIB(s.startup), MIB(c.startup_bytes));
    c.minimum_bytes = s.minimum ? s.minimum : DEFAULT_MINIMUM;
    if (!s.minimum && c.minimum_bytes > c.startup_bytes)
        c.minimum_bytes = c.startup_bytes;
    c.buffer_percent = s.buffer;
    c.weight = s.weight;
    c.hot_add_alignment_bytes = UNIT;
    char why[320];
    int bad = refused(ds, d, &c, why, sizeof why);
    if (bad == 1)
        xdom_log(ds, "dom %u (%s): not managed: %s (startup: memory/target %" PRIu64 " KiB; "
              "maximum: memory/static-max %" PRIu64 " KiB or less)", d->domid, d->name, why,
              target_kib, smax_kib);
    else if (bad)
        xdom_log(ds, "dom %u (%s): not managed: %s", d->domid, d->name, why);
    if (bad) {
        d->ignored = true;
        return;
    }
    int rc = dynmem_balancer_vm_add(ds->b, &c, &d->vm_id);
    if (rc) {
        xdom_log(ds, "dom %u (%s): configuration refused: %s", d->domid, d->name,
              EX_WHY(ds->b, rc));
        d->ignored = true;
        return;
    }
    uint64_t missing = 0;
    rc = dynmem_balancer_vm_start(ds->b, d->vm_id, now_ms, &missing);
    if (rc) {
        xdom_log(ds, "dom %u (%s): not admitted: %s (%" PRIu64 " MiB missing); retrying", d->domid,
              d->name, EX_WHY(ds->b, rc), MIB(missing));
        dynmem_balancer_vm_remove(ds->b, d->vm_id);
        d->retry_ms = now_ms + RETRY_MS;
        return;
    }
    d->managed = true;
    xdom_log(ds, "dom %u (%s): managed as vm %" PRIu64 ": holds %" PRIu64 " MiB, minimum %" PRIu64
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
        xdom_log(ds, "dom %u (%s): gone; %" PRIu64 " MiB back to the pool", d->domid, d->name,
              MIB(vc.physical_bytes + vc.in_flight_bytes));
    }
    ds->v[i] = ds->v[--ds->n];
}

void xdoms_rescan(struct xdoms *ds, uint64_t now_ms)
{
    unsigned *ids = NULL, n = 0;
    enum xsio_status st = xsio_list_domains(ds->xs, &ids, &n);
    if (st != XSIO_OK) { /* no listing: nothing is taken for gone */
        if (st != XSIO_LOST && st != XSIO_AGAIN)
            xdom_log(ds, "/local/domain: %s", xsio_status_name(st));
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

void xdoms_sample(struct xdoms *ds, uint64_t now_ms)
{
    for (size_t i = 0; i < ds->n; i++) {
        struct xdom *d = &ds->v[i];
        if (!d->managed)
            continue;
        uint64_t total = UINT64_MAX, freek = UINT64_MAX;
        enum xsio_status st = xdom_read_key(ds, d, "data/meminfo_total", &total);
        if (st == XSIO_OK)
            st = xdom_read_key(ds, d, "data/meminfo_free", &freek);
        if (st == XSIO_LOST)
            return;
        if (st == XSIO_AGAIN)
            continue; /* the store is busy: this domain's figures next time */
        if (st == XSIO_OK) {
            struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
            int rc = dynmem_pressure_sample_from_xen_meminfo(&smp, now_ms, total, freek);
            int from_balancer = 0; /* whose detail tells why */
            if (rc == 0) {
                rc = dynmem_balancer_vm_sample(ds->b, d->vm_id, &smp);
                from_balancer = 1;
            }
            if (rc && !d->refused_logged)
                xdom_log(ds, "dom %u (%s): meminfo free %" PRIu64 " / total %" PRIu64
                      " KiB refused: %s", d->domid, d->name, freek, total, EX_WHY(from_balancer ? ds->b : NULL, rc));
            d->refused_logged = rc != 0;
            d->no_data_logged = false;
        } else if (!d->no_data_logged) {
            d->no_data_logged = true;
            xdom_log(ds, "dom %u (%s): no data/meminfo_total and data/meminfo_free (%s): held where "
                  "it is", d->domid, d->name, xsio_status_name(st));
        }
        if (d->busy && d->written && !xdom_is_growth(d->act.kind))
            xdom_follow_shrink(ds, d, now_ms);
    }
}

void xdoms_publish(struct xdoms *ds, struct metrics *m, bool lost)
{
    if (!ds->cfg->metrics_file[0])
        return;
    metrics_begin(m, ds->b, metrics_wall_ms());
    for (size_t i = 0; i < ds->n; i++) {
        const struct xdom *d = &ds->v[i];
        const char *state = d->managed ? (lost ? "disconnected" : "managed")
                            : d->ignored ? "ignored" : "waiting";
        metrics_add_vm(m, d->name, state, d->managed ? ds->b : NULL, d->vm_id);
    }
    char msg[700];
    if (metrics_publish_quiet(m, ds->cfg->metrics_file, msg, sizeof msg))
        xdom_log(ds, "%s", msg);
}
