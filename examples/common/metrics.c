/* Operator counters: collected from a balancer, written in the Prometheus
 * text format, published by an atomic rename (see metrics.h). */
#include "metrics_names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const struct metrics_name metrics_vm_names[METRICS_VM_FIELDS] = {
    [METRICS_VM_ASSIGNED] = {"dynmem_vm_assigned_bytes", "gauge",
        "Physical memory: host memory backing the VM, as confirmed by the guest"},
    [METRICS_VM_IN_FLIGHT] = {"dynmem_vm_in_flight_bytes", "gauge",
        "Growth issued to the VM and not yet confirmed (counted as used)"},
    [METRICS_VM_DEMAND] = {"dynmem_vm_demand_bytes", "gauge",
        "Memory the guest needs, from its latest report"},
    [METRICS_VM_TARGET] = {"dynmem_vm_target_bytes", "gauge",
        "Demand plus buffer, clamped to minimum and maximum"},
    [METRICS_VM_PRESSURE] = {"dynmem_vm_pressure_current_percent", "gauge",
        "Current pressure: demand / assigned x 100"},
    [METRICS_VM_PRESSURE_AVERAGE] = {"dynmem_vm_pressure_average_percent", "gauge",
        "Average pressure over the estimator window"},
    [METRICS_VM_PRESSURE_MINIMUM] = {"dynmem_vm_pressure_minimum_percent", "gauge",
        "Minimum pressure over the estimator window"},
    [METRICS_VM_PRESSURE_MAXIMUM] = {"dynmem_vm_pressure_maximum_percent", "gauge",
        "Maximum pressure over the estimator window"},
    [METRICS_VM_BALLOON] = {"dynmem_vm_balloon_bytes", "gauge",
        "Ballooned memory: visible maximum - assigned - smart-paged"},
    [METRICS_VM_ADDED] = {"dynmem_vm_added_bytes", "gauge",
        "Memory hot-added since the VM started"},
    [METRICS_VM_REMOVED] = {"dynmem_vm_removed_bytes", "gauge",
        "Memory hot-removed since the VM started"},
    [METRICS_VM_VISIBLE] = {"dynmem_vm_visible_maximum_bytes", "gauge",
        "Guest-visible physical memory: startup + added - removed"},
    [METRICS_VM_SMART_PAGED] = {"dynmem_vm_smart_paged_bytes", "gauge",
        "Guest memory backed by the paging file (smart paging)"},
    [METRICS_VM_ADD_OPERATIONS] = {"dynmem_vm_add_operations_total", "counter",
        "Growth actions confirmed with progress"},
    [METRICS_VM_REMOVE_OPERATIONS] = {"dynmem_vm_remove_operations_total", "counter",
        "Shrink actions confirmed with progress"},
    [METRICS_VM_STUCK] = {"dynmem_vm_stuck", "gauge",
        "1 while an action has made no progress for the stuck timeout"},
    [METRICS_VM_STALE] = {"dynmem_vm_stale", "gauge",
        "1 while the guest's reports are stale (held where it is)"},
};

const struct metrics_name metrics_host_names[METRICS_HOST_FIELDS] = {
    [METRICS_HOST_TOTAL] = {"dynmem_host_memory_bytes", "gauge",
        "Host memory the VMs share (reserve included)"},
    [METRICS_HOST_RESERVE] = {"dynmem_host_reserve_bytes", "gauge",
        "Memory kept for the host itself"},
    [METRICS_HOST_AVAILABLE] = {"dynmem_host_available_bytes", "gauge",
        "Available memory: total - reserve - assigned - in flight"},
    [METRICS_HOST_ASSIGNED] = {"dynmem_host_assigned_bytes", "gauge",
        "Memory assigned to running VMs, confirmed"},
    [METRICS_HOST_IN_FLIGHT] = {"dynmem_host_in_flight_bytes", "gauge",
        "Growth issued to all VMs and not yet confirmed"},
    [METRICS_HOST_PRESSURE] = {"dynmem_host_pressure_average_percent", "gauge",
        "Average pressure, demand-weighted over running VMs with data"},
    [METRICS_HOST_RUNNING] = {"dynmem_host_running_vms", "gauge",
        "VMs in the balancer's books"},
    [METRICS_HOST_STUCK] = {"dynmem_host_stuck_vms", "gauge",
        "VMs flagged stuck"},
    [METRICS_HOST_ADDED] = {"dynmem_host_added_bytes_total", "counter",
        "All growth confirmed since the daemon started"},
    [METRICS_HOST_REMOVED] = {"dynmem_host_removed_bytes_total", "counter",
        "All shrinking confirmed since the daemon started"},
};

const char *const metrics_statuses[4] = {"ok", "low", "warning", "no-data"};

int64_t metrics_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void metrics_init(struct metrics *m, const char *daemon)
{
    *m = (struct metrics){0};
    snprintf(m->daemon, sizeof m->daemon, "%s", daemon);
    snprintf(m->library, sizeof m->library, "%s", dynmem_version_string());
}

void metrics_free(struct metrics *m)
{
    free(m->vm);
    m->vm = NULL;
    m->n = m->cap = 0;
}

int metrics_begin(struct metrics *m, const dynmem_balancer *b, int64_t now_ms)
{
    m->n = 0;
    m->updated_ms = now_ms;
    memset(m->host, 0, sizeof m->host);
    if (!b)
        return 0;
    struct dynmem_host_counters h = DYNMEM_HOST_COUNTERS_INIT;
    if (dynmem_balancer_host_counters(b, &h))
        return -1;
    uint64_t *v = m->host;
    v[METRICS_HOST_TOTAL] = h.total_bytes;
    v[METRICS_HOST_RESERVE] = h.reserve_bytes;
    v[METRICS_HOST_AVAILABLE] = h.available_bytes;
    v[METRICS_HOST_ASSIGNED] = h.assigned_bytes;
    v[METRICS_HOST_IN_FLIGHT] = h.in_flight_bytes;
    v[METRICS_HOST_PRESSURE] = h.average_pressure;
    v[METRICS_HOST_RUNNING] = h.running_vms;
    v[METRICS_HOST_STUCK] = h.stuck_vms;
    v[METRICS_HOST_ADDED] = h.added_bytes;
    v[METRICS_HOST_REMOVED] = h.removed_bytes;
    return 0;
}

static void fill_vm(struct metrics_vm *e, const struct dynmem_vm_counters *c)
{
    uint64_t *v = e->v;
    v[METRICS_VM_ASSIGNED] = c->physical_bytes;
    v[METRICS_VM_IN_FLIGHT] = c->in_flight_bytes;
    v[METRICS_VM_DEMAND] = c->demand_bytes;
    v[METRICS_VM_TARGET] = c->target_bytes;
    v[METRICS_VM_PRESSURE] = c->current_pressure;
    v[METRICS_VM_PRESSURE_AVERAGE] = c->average_pressure;
    v[METRICS_VM_PRESSURE_MINIMUM] = c->minimum_pressure;
    v[METRICS_VM_PRESSURE_MAXIMUM] = c->maximum_pressure;
    v[METRICS_VM_BALLOON] = c->balloon_bytes;
    v[METRICS_VM_ADDED] = c->added_bytes;
    v[METRICS_VM_REMOVED] = c->removed_bytes;
    v[METRICS_VM_VISIBLE] = c->guest_visible_bytes;
    v[METRICS_VM_SMART_PAGED] = c->smart_paged_bytes;
    v[METRICS_VM_ADD_OPERATIONS] = c->add_operations;
    v[METRICS_VM_REMOVE_OPERATIONS] = c->remove_operations;
    v[METRICS_VM_STUCK] = (c->flags & DYNMEM_VMSTATE_STUCK) != 0;
    v[METRICS_VM_STALE] = (c->flags & DYNMEM_VMSTATE_STALE) != 0;
    unsigned s = c->flags & DYNMEM_VMSTATE_NO_DATA ? 3 : c->status < 3 ? c->status : 2;
    snprintf(e->status, sizeof e->status, "%s", metrics_statuses[s]);
}

int metrics_add_vm(struct metrics *m, const char *name, const char *state,
                   const dynmem_balancer *b, uint64_t vm_id)
{
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    if (b && dynmem_balancer_vm_counters(b, vm_id, &c))
        return -1;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct metrics_vm *v = realloc(m->vm, cap * sizeof *v);
        if (!v)
            return -1;
        m->vm = v;
        m->cap = cap;
    }
    struct metrics_vm *e = &m->vm[m->n++];
    *e = (struct metrics_vm){.booked = b != NULL};
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->state, sizeof e->state, "%s", state);
    if (b)
        fill_vm(e, &c);
    return 0;
}

/* A label value with \, " and newline escaped as the text format wants. */
static void put_label(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static void put_head(FILE *out, const struct metrics_name *n)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", n->name, n->help, n->name, n->type);
}

static void put_vm_series(FILE *out, const char *metric, const struct metrics_vm *e,
                          const char *key, const char *value, uint64_t v)
{
    fprintf(out, "%s{vm=\"", metric);
    put_label(out, e->name);
    if (key) {
        fprintf(out, "\",%s=\"", key);
        put_label(out, value);
    }
    fprintf(out, "\"} %" PRIu64 "\n", v);
}

int metrics_write_prom(const struct metrics *m, FILE *out)
{
    fprintf(out, "# HELP %s The daemon and the libdynmem it runs\n# TYPE %s gauge\n",
            METRICS_INFO, METRICS_INFO);
    fprintf(out, "%s{daemon=\"", METRICS_INFO);
    put_label(out, m->daemon);
    fputs("\",libdynmem=\"", out);
    put_label(out, m->library);
    fputs("\"} 1\n", out);
    fprintf(out, "# HELP %s When the daemon wrote these figures\n# TYPE %s gauge\n%s %" PRId64
            ".%03d\n", METRICS_UPDATED, METRICS_UPDATED, METRICS_UPDATED, m->updated_ms / 1000,
            (int)(m->updated_ms % 1000));
    for (int f = 0; f < METRICS_HOST_FIELDS; f++) {
        put_head(out, &metrics_host_names[f]);
        fprintf(out, "%s %" PRIu64 "\n", metrics_host_names[f].name, m->host[f]);
    }
    fprintf(out, "# HELP %s Where the daemon stands with the VM (1 for the current state)\n"
            "# TYPE %s gauge\n", METRICS_VM_STATE, METRICS_VM_STATE);
    for (size_t i = 0; i < m->n; i++)
        put_vm_series(out, METRICS_VM_STATE, &m->vm[i], "state", m->vm[i].state, 1);
    fprintf(out, "# HELP %s Memory status: ok, low (under demand + buffer), warning (under "
            "demand), no-data\n# TYPE %s gauge\n", METRICS_VM_STATUS, METRICS_VM_STATUS);
    for (size_t i = 0; i < m->n; i++)
        for (int s = 0; m->vm[i].booked && s < 4; s++)
            put_vm_series(out, METRICS_VM_STATUS, &m->vm[i], "status", metrics_statuses[s],
                          !strcmp(m->vm[i].status, metrics_statuses[s]));
    for (int f = 0; f < METRICS_VM_FIELDS; f++) {
        put_head(out, &metrics_vm_names[f]);
        for (size_t i = 0; i < m->n; i++)
            if (m->vm[i].booked)
                put_vm_series(out, metrics_vm_names[f].name, &m->vm[i], NULL, NULL,
                              m->vm[i].v[f]);
    }
    fflush(out);
    return ferror(out) ? -1 : 0;
}

int metrics_publish(const struct metrics *m, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    /* node_exporter usually runs as another user: readable by all. */
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    int rc = metrics_write_prom(m, f);
    int saved = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        unlink(tmp);
    }
    return rc;
}

int metrics_publish_quiet(struct metrics *m, const char *path, char *msg, size_t msglen)
{
    char err[512];
    bool failed = metrics_publish(m, path, err, sizeof err) != 0;
    bool news = failed != m->write_failed;
    m->write_failed = failed;
    if (news && failed)
        snprintf(msg, msglen, "metrics file not written: %s (further failures not logged)", err);
    else if (news)
        snprintf(msg, msglen, "metrics file %s written again", path);
    return news;
}
