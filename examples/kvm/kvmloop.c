/* The loop: one QMP session per VM, guest statistics fed to the balancer,
 * its actions carried out with the balloon and virtio-mem, and what QEMU
 * reports back confirmed to the balancer as facts. */
#include "kvmloop.h"

#include <dynmem/dynmem.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qmp.h"

#define PAGE UINT64_C(4096)
#define MIB(x) ((unsigned long long)((x) >> 20))
#define RECONNECT_MS 2000
#define QMP_TIMEOUT_MS 5000

struct vm {
    const struct kvm_vm_spec *spec;
    struct qmp *q;
    int in_balancer;       /* added and started */
    uint64_t id;
    uint64_t boot;         /* boot memory (startup), the balloon's ceiling */
    uint64_t actual;       /* balloon: guest size QEMU reports */
    uint64_t vmem_size, vmem_requested, vmem_max;
    long long last_update; /* guest-stats last-update */
    long long next_connect, next_stats;
    int said_down;         /* "cannot connect" logged once */
    int busy;
    struct dynmem_action act;
    uint64_t confirmed;
    uint64_t requested;    /* the balloon or requested-size value asked for */
    int hot_remove_on;     /* CAN_HOT_REMOVE currently configured */
    uint32_t dry_kind;     /* --dry-run: last action logged, not repeated */
    uint64_t dry_target;
    long long issued, progressed;
};

struct loop {
    const struct kvm_options *o;
    dynmem_balancer *b;
    struct vm vm[KVM_MAX_VMS];
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void logf_(const struct vm *v, const char *fmt, ...)
{
    char stamp[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03ldZ %s: ", stamp, ts.tv_nsec / 1000000, v ? v->spec->name : "dynmem-kvm");
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* QEMU numbers are read as reals (2^64-1, "not available", overflows
 * jansson's integers); byte counts stay exact below 2^53. */
static uint64_t num(json_t *j)
{
    if (!json_is_number(j))
        return UINT64_MAX;
    double d = json_number_value(j);
    if (d < 0 || d >= 9007199254740992.0)
        return UINT64_MAX;
    return (uint64_t)d;
}

static json_t *qom_args(const char *path, const char *prop)
{
    return json_pack("{s:s, s:s}", "path", path, "property", prop);
}

static void vmem_path(const struct vm *v, char *buf, size_t len)
{
    snprintf(buf, len, "/machine/peripheral/%s", v->spec->vmem);
}

static void on_event(void *ctx, const char *name, json_t *data)
{
    struct vm *v = ctx;
    if (!strcmp(name, "BALLOON_CHANGE")) {
        uint64_t a = num(json_object_get(data, "actual"));
        if (a != UINT64_MAX)
            v->actual = a;
    } else if (!strcmp(name, "MEMORY_DEVICE_SIZE_CHANGE")) {
        const char *id = json_string_value(json_object_get(data, "id"));
        uint64_t s = num(json_object_get(data, "size"));
        if (id && v->spec->vmem[0] && !strcmp(id, v->spec->vmem) && s != UINT64_MAX)
            v->vmem_size = s;
    } else if (!strcmp(name, "SHUTDOWN") || !strcmp(name, "RESET") || !strcmp(name, "STOP") ||
               !strcmp(name, "RESUME")) {
        logf_(v, "QEMU event %s", name);
    }
}

static uint64_t held(const struct vm *v)
{
    return v->actual + v->vmem_size;
}

static void disconnect(struct loop *l, struct vm *v, const char *why)
{
    if (v->in_balancer) {
        struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
        dynmem_balancer_vm_counters(l->b, v->id, &c);
        dynmem_balancer_vm_stop(l->b, v->id);
        dynmem_balancer_vm_remove(l->b, v->id);
        logf_(v, "QEMU gone (%s): VM removed, %llu MiB returned to the pool", why,
              MIB(c.physical_bytes + c.in_flight_bytes));
    } else {
        logf_(v, "lost QEMU before managing it (%s)", why);
    }
    v->in_balancer = 0;
    v->busy = 0;
    qmp_close(v->q);
    v->q = NULL;
    v->next_connect = mono_ms() + RECONNECT_MS;
}

/* Refresh actual and the virtio-mem size from QMP (the facts). */
static int read_sizes(struct loop *l, struct vm *v)
{
    char err[256];
    json_t *r = NULL;
    int rc = qmp_call(v->q, "query-balloon", NULL, &r, err, sizeof err);
    if (rc < 0) {
        disconnect(l, v, err);
        return -1;
    }
    if (rc == 0) {
        uint64_t a = num(json_object_get(r, "actual"));
        if (a != UINT64_MAX)
            v->actual = a;
    }
    json_decref(r);
    if (!v->spec->vmem[0])
        return 0;
    char path[160];
    vmem_path(v, path, sizeof path);
    rc = qmp_call(v->q, "qom-get", qom_args(path, "size"), &r, err, sizeof err);
    if (rc < 0) {
        disconnect(l, v, err);
        return -1;
    }
    if (rc == 0 && num(r) != UINT64_MAX)
        v->vmem_size = num(r);
    json_decref(r);
    return 0;
}

static struct dynmem_vm_config vm_config(const struct vm *v)
{
    struct dynmem_vm_config c = kvm_spec_config(v->spec);
    if (!v->vmem_max)
        c.flags &= ~(uint32_t)DYNMEM_VM_CAN_HOT_ADD;
    if (v->vmem_size)
        c.flags |= DYNMEM_VM_CAN_HOT_REMOVE; /* virtio-mem removes only what it plugged */
    /* the virtio-mem device QEMU has may be smaller than maximum - startup
     * (logged when the VM is managed) */
    if (c.maximum_bytes > c.startup_bytes + v->vmem_max)
        c.maximum_bytes = c.startup_bytes + v->vmem_max;
    return c;
}

static void try_connect(struct loop *l, struct vm *v, long long now)
{
    char err[256];
    v->q = qmp_connect(v->spec->qmp, QMP_TIMEOUT_MS, on_event, v, err, sizeof err);
    if (!v->q) {
        if (!v->said_down)
            logf_(v, "waiting for QEMU (%s)", err);
        v->said_down = 1;
        v->next_connect = now + RECONNECT_MS;
        return;
    }
    v->said_down = 0;
    v->boot = v->spec->startup;
    v->actual = v->boot;
    v->vmem_size = v->vmem_max = 0;
    v->last_update = 0;
    if (v->spec->vmem[0]) {
        json_t *r = NULL, *dev;
        size_t i;
        snprintf(err, sizeof err, "no such device");
        if (qmp_call(v->q, "query-memory-devices", NULL, &r, err, sizeof err) == 0)
            json_array_foreach(r, i, dev) {
                json_t *data = json_object_get(dev, "data");
                const char *id = json_string_value(json_object_get(data, "id"));
                if (id && !strcmp(id, v->spec->vmem))
                    v->vmem_max = num(json_object_get(data, "max-size"));
            }
        json_decref(r);
        if (v->vmem_max == UINT64_MAX || v->vmem_max == 0) {
            logf_(v, "virtio-mem device %s not usable (%s): no growth past boot memory",
                  v->spec->vmem, err);
            v->vmem_max = 0;
        }
    }
    if (read_sizes(l, v))
        return;
    json_t *arg = qom_args(v->spec->balloon, "guest-stats-polling-interval");
    json_object_set_new(arg, "value", json_integer(l->o->stats_interval_s));
    int rc = qmp_call(v->q, "qom-set", arg, NULL, err, sizeof err);
    if (rc < 0) {
        disconnect(l, v, err);
        return;
    }
    if (rc > 0)
        logf_(v, "cannot enable guest statistics on %s (%s): held at startup memory",
              v->spec->balloon, err);
    struct dynmem_vm_config c = vm_config(v);
    uint64_t missing = 0;
    int e = dynmem_balancer_vm_add(l->b, &c, &v->id);
    if (e == 0) {
        e = dynmem_balancer_vm_start(l->b, v->id, (uint64_t)now, &missing);
        if (e)
            dynmem_balancer_vm_remove(l->b, v->id);
    }
    if (e) {
        logf_(v, "not managed: %s%s (needs %llu MiB more)", dynmem_strerror(e),
              e == DYNMEM_ERR_ADMISSION ? ", host memory is short" : "", MIB(missing));
        qmp_close(v->q);
        v->q = NULL;
        v->next_connect = now + 5 * RECONNECT_MS;
        return;
    }
    int64_t stale = 3000LL * l->o->stats_interval_s;
    dynmem_balancer_vm_set_pressure_param(l->b, v->id, DYNMEM_PRESSURE_PARAM_STALE_MS,
                                          stale > 5000 ? stale : 5000);
    v->in_balancer = 1;
    v->hot_remove_on = v->vmem_size != 0;
    v->next_stats = now;
    logf_(v, "managed: QMP %s, boot %llu MiB, balloon at %llu MiB, virtio-mem %llu MiB of %llu MiB, "
          "minimum %llu MiB, maximum %llu MiB, buffer %u%%, weight %u",
          v->spec->qmp, MIB(v->boot), MIB(v->actual), MIB(v->vmem_size), MIB(v->vmem_max),
          MIB(c.minimum_bytes), MIB(c.maximum_bytes), c.buffer_percent, c.weight);
    if (c.maximum_bytes < v->spec->maximum)
        logf_(v, "note: virtio-mem device %s holds at most %llu MiB: maximum lowered from %llu "
              "to %llu MiB", v->spec->vmem, MIB(v->vmem_max), MIB(v->spec->maximum),
              MIB(c.maximum_bytes));
    if (held(v) != v->boot)
        logf_(v, "note: QEMU holds %llu MiB, not the startup size; the next action corrects the books",
              MIB(held(v)));
}

static void read_stats(struct loop *l, struct vm *v, long long now)
{
    char err[256];
    json_t *r = NULL;
    int rc = qmp_call(v->q, "qom-get", qom_args(v->spec->balloon, "guest-stats"), &r, err,
                      sizeof err);
    if (rc < 0) {
        disconnect(l, v, err);
        return;
    }
    long long upd = rc == 0 ? (long long)num(json_object_get(r, "last-update")) : 0;
    json_t *s = json_object_get(r, "stats");
    if (rc == 0 && upd > 0 && upd != v->last_update && s) {
        v->last_update = upd;
        struct dynmem_virtio_stats vs = DYNMEM_VIRTIO_STATS_INIT;
        vs.total_memory = num(json_object_get(s, "stat-total-memory"));
        /* MemTotal leaves out what the guest kernel keeps for itself (tens of
         * MiB: code, page tables, memmap), yet the VM holds that memory too
         * and cannot give it up: count it as demand, with the size QEMU
         * reports as the total. */
        if (vs.total_memory != UINT64_MAX && vs.total_memory < held(v))
            vs.total_memory = held(v);
        vs.available_memory = num(json_object_get(s, "stat-available-memory"));
        vs.free_memory = num(json_object_get(s, "stat-free-memory"));
        vs.disk_caches = num(json_object_get(s, "stat-disk-caches"));
        vs.swap_in = num(json_object_get(s, "stat-swap-in"));
        vs.major_faults = num(json_object_get(s, "stat-major-faults"));
        struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
        int e = dynmem_pressure_sample_from_virtio_stats(&smp, (uint64_t)now, &vs);
        if (e == 0)
            e = dynmem_balancer_vm_sample(l->b, v->id, &smp);
        if (e && e != DYNMEM_ERR_PRESSURE_NO_DATA)
            logf_(v, "guest statistics refused: %s", dynmem_strerror(e));
        else if (e == 0 && l->o->verbose)
            logf_(v, "stats: total %llu MiB, available %llu MiB, demand %llu MiB, balloon at %llu MiB",
                  MIB(vs.total_memory), MIB(vs.available_memory), MIB(smp.committed_bytes),
                  MIB(v->actual));
    }
    json_decref(r);
}

/* Carry out an action; 0 if the request is with QEMU. */
static int apply(struct loop *l, struct vm *v, const struct dynmem_action *a)
{
    char err[256];
    const char *cmd;
    json_t *args;
    uint64_t value;
    char path[160];
    switch (a->kind) {
    case DYNMEM_ACTION_BALLOON:
    case DYNMEM_ACTION_UNBALLOON:
        value = a->target_bytes > v->vmem_size ? a->target_bytes - v->vmem_size : 0;
        if (value > v->boot)
            value = v->boot;
        if (value < DYNMEM_SIZE_UNIT)
            value = DYNMEM_SIZE_UNIT;
        cmd = "balloon";
        args = json_pack("{s:I}", "value", (json_int_t)value);
        break;
    case DYNMEM_ACTION_HOT_ADD:
    case DYNMEM_ACTION_HOT_REMOVE:
        if (!v->spec->vmem[0])
            return -1;
        value = a->kind == DYNMEM_ACTION_HOT_ADD ? v->vmem_size + a->bytes
                : v->vmem_size > a->bytes ? v->vmem_size - a->bytes : 0;
        if (value > v->vmem_max)
            value = v->vmem_max;
        vmem_path(v, path, sizeof path);
        cmd = "qom-set";
        args = qom_args(path, "requested-size");
        json_object_set_new(args, "value", json_integer((json_int_t)value));
        break;
    default:
        return -1; /* page-in: dynmem-kvm never restarts VMs with smart paging */
    }
    v->requested = value;
    int rc = qmp_call(v->q, cmd, args, NULL, err, sizeof err);
    if (rc < 0) {
        disconnect(l, v, err);
        return -1;
    }
    if (rc > 0) {
        logf_(v, "%s refused by QEMU: %s", dynmem_action_kind_name(a->kind), err);
        return -1;
    }
    return 0;
}

static int is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD;
}

/* Confirm what QMP shows has moved since the action was issued. */
static void follow(struct loop *l, struct vm *v, long long now)
{
    if (read_sizes(l, v))
        return;
    const struct dynmem_action *a = &v->act;
    uint64_t base = a->assigned_bytes, cur = held(v), moved = 0;
    if (is_growth(a->kind))
        moved = cur > base ? cur - base : 0;
    else
        moved = base > cur ? base - cur : 0;
    if (moved > a->bytes)
        moved = a->bytes;
    moved &= ~(PAGE - 1);
    uint32_t flags = 0;
    /* over when all moved, or when the device reached the (clamped) value asked */
    int done = moved == a->bytes ||
               ((a->kind == DYNMEM_ACTION_BALLOON || a->kind == DYNMEM_ACTION_UNBALLOON)
                    ? v->actual == v->requested : v->vmem_size == v->requested);
    if (moved > v->confirmed)
        v->progressed = now;
    else if (now - v->progressed >= (long long)l->o->settle_ms)
        done = 1;
    if (done)
        flags |= DYNMEM_CONFIRM_FINAL;
    if (moved > v->confirmed || done) {
        int e = dynmem_balancer_confirm(l->b, v->id, a->action_id, (uint64_t)now,
                                        moved > v->confirmed ? moved - v->confirmed : 0, flags);
        if (e)
            logf_(v, "confirm refused: %s", dynmem_strerror(e));
        v->confirmed = moved;
    }
    if (done) {
        v->busy = 0;
        logf_(v, "%s %s: %llu of %llu MiB in %.1f s, now %llu MiB (balloon %llu MiB, virtio-mem %llu MiB)",
              dynmem_action_kind_name(a->kind), moved == a->bytes ? "done" : "settled short",
              MIB(moved), MIB(a->bytes), (double)(now - v->issued) / 1000.0, MIB(cur), MIB(v->actual),
              MIB(v->vmem_size));
    }
}

/* CAN_HOT_REMOVE follows whether virtio-mem holds anything. */
static void sync_abilities(struct loop *l, struct vm *v)
{
    int want = v->vmem_size != 0;
    if (v->busy || want == v->hot_remove_on)
        return;
    struct dynmem_vm_config c = vm_config(v);
    int e = dynmem_balancer_vm_configure(l->b, v->id, &c);
    if (e)
        logf_(v, "reconfigure: %s", dynmem_strerror(e));
    else
        v->hot_remove_on = want;
}

static void take_actions(struct loop *l, long long now)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(l->b, &a) == 1) {
        struct vm *v = NULL;
        for (size_t i = 0; i < l->o->nvm; i++)
            if (l->vm[i].in_balancer && l->vm[i].id == a.vm_id)
                v = &l->vm[i];
        char text[512];
        dynmem_action_describe(&a, text, sizeof text);
        if (!v)
            continue;
        if (!l->o->dry_run || a.kind != v->dry_kind || a.target_bytes != v->dry_target)
            logf_(v, "%s%s", l->o->dry_run ? "dry-run: " : "", text);
        v->dry_kind = a.kind;
        v->dry_target = a.target_bytes;
        if (l->o->dry_run || apply(l, v, &a)) {
            if (v->in_balancer)
                dynmem_balancer_confirm(l->b, v->id, a.action_id, (uint64_t)now, 0,
                                        DYNMEM_CONFIRM_FINAL |
                                            (l->o->dry_run ? 0 : DYNMEM_CONFIRM_FAILED));
            continue;
        }
        v->act = a;
        v->busy = 1;
        v->confirmed = 0;
        v->issued = v->progressed = now;
    }
}

static int setup(struct loop *l)
{
    const struct kvm_options *o = l->o;
    int e = dynmem_balancer_new(&l->b, NULL);
    uint64_t total = kvm_host_total(o);
    if (!e)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)total);
    if (!e && o->reserve >= 0)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, o->reserve);
    if (!e)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_POLICY, o->policy);
    if (!e && o->calm_ms >= 0)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, o->calm_ms);
    if (!e)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_TICK_MS, o->tick_ms);
    int64_t stale = 3000LL * o->stats_interval_s;
    if (!e)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_STALE_MS,
                                      stale > 5000 ? stale : 5000);
    if (e) {
        fprintf(stderr, "dynmem-kvm: balancer set-up: %s\n", dynmem_strerror(e));
        return -1;
    }
    int64_t reserve = 0;
    dynmem_balancer_get_param(l->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve);
    logf_(NULL, "libdynmem %s, host memory %llu MiB, reserve %llu MiB, policy %s, %zu VM(s)%s",
          dynmem_version_string(), MIB(total), MIB((uint64_t)reserve),
          dynmem_policy_name((uint32_t)o->policy), o->nvm, o->dry_run ? ", dry run" : "");
    for (size_t i = 0; i < o->nvm; i++)
        l->vm[i].spec = &o->vm[i];
    return 0;
}

/* Wait until the deadline, reading events as they come. */
static void wait_events(struct loop *l, long long until, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        long long left = until - mono_ms();
        if (left <= 0)
            return;
        struct pollfd p[KVM_MAX_VMS];
        struct vm *owner[KVM_MAX_VMS];
        nfds_t n = 0;
        for (size_t i = 0; i < l->o->nvm; i++)
            if (l->vm[i].q) {
                p[n] = (struct pollfd){.fd = qmp_fd(l->vm[i].q), .events = POLLIN};
                owner[n++] = &l->vm[i];
            }
        if (poll(p, n, (int)left) <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++)
            if (p[i].revents && qmp_pump(owner[i]->q) < 0)
                disconnect(l, owner[i], "QMP connection closed");
    }
}

static void status_line(struct loop *l, struct vm *v)
{
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    if (dynmem_balancer_vm_counters(l->b, v->id, &c))
        return;
    logf_(v, "status: held %llu MiB, balloon %llu MiB, demand %llu MiB, target %llu MiB, pressure %u%%%s",
          MIB(held(v)), MIB(v->actual), MIB(c.demand_bytes), MIB(c.target_bytes), c.current_pressure,
          c.flags & DYNMEM_VMSTATE_NO_DATA ? " (no guest statistics yet: held at startup)" : "");
}

int kvm_run(const struct kvm_options *o, volatile sig_atomic_t *stop)
{
    static struct loop l;
    l.o = o;
    if (setup(&l))
        return 2;
    long long start = mono_ms(), next_tick = start;
    int status = 0;
    while (!*stop) {
        long long now = mono_ms();
        for (size_t i = 0; i < o->nvm; i++) {
            struct vm *v = &l.vm[i];
            if (!v->q && now >= v->next_connect)
                try_connect(&l, v, now);
            if (v->q && qmp_pump(v->q) < 0)
                disconnect(&l, v, "QMP connection closed");
            if (v->in_balancer && v->busy)
                follow(&l, v, now);
            if (v->in_balancer)
                sync_abilities(&l, v);
            if (v->in_balancer && now >= v->next_stats) {
                read_stats(&l, v, now);
                v->next_stats = now + 1000LL * o->stats_interval_s / 2;
            }
        }
        now = mono_ms();
        int e = dynmem_balancer_tick(l.b, (uint64_t)now, NULL);
        if (e)
            logf_(NULL, "tick: %s", dynmem_strerror(e));
        take_actions(&l, now);
        if (o->once) {
            for (size_t i = 0; i < o->nvm; i++) {
                if (l.vm[i].in_balancer)
                    status_line(&l, &l.vm[i]);
                else
                    status = 1;
            }
            break;
        }
        next_tick += o->tick_ms;
        if (next_tick < mono_ms())
            next_tick = mono_ms();
        wait_events(&l, next_tick, stop);
    }
    if (*stop)
        logf_(NULL, "stopping: guests are left as they are");
    for (size_t i = 0; i < o->nvm; i++)
        qmp_close(l.vm[i].q);
    dynmem_balancer_free(l.b);
    return status;
}
