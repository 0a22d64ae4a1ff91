/* dynmem-kvm: everything said to one QEMU over QMP (see kvmvm.h): adopting
 * it into the balancer's books at the size QMP reports, keeping it booked
 * through a lost connection while its process runs, guest statistics in,
 * balloon and virtio-mem sizes out, and what QEMU reports confirmed back. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exutil.h"
#include "kvmvm.h"

#define PAGE UINT64_C(4096)
#define CONNECT_TIMEOUT_MS 1000 /* a stalled peer must not hold the loop long */
#define QMP_TIMEOUT_MS 3000
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 8000
#define ADMIT_RETRY_MS 2000

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

uint64_t vm_held(const struct vm *v)
{
    return v->actual + v->vmem_size;
}

static uint64_t round_up_unit(uint64_t x)
{
    return (x + DYNMEM_SIZE_UNIT - 1) / DYNMEM_SIZE_UNIT * DYNMEM_SIZE_UNIT;
}

static void on_event(void *ctx, const char *name, json_t *data)
{
    struct vm *v = ctx;
    if (!strcmp(name, "BALLOON_CHANGE")) {
        uint64_t a = num(json_object_get(data, "actual"));
        if (a != UINT64_MAX) {
            v->actual = a;
            v->moved = 1;
        }
    } else if (!strcmp(name, "MEMORY_DEVICE_SIZE_CHANGE")) {
        const char *id = json_string_value(json_object_get(data, "id"));
        uint64_t s = num(json_object_get(data, "size"));
        if (id && v->spec->vmem[0] && !strcmp(id, v->spec->vmem) && s != UINT64_MAX) {
            v->vmem_size = s;
            v->moved = 1;
        }
    } else if (!strcmp(name, "SHUTDOWN") || !strcmp(name, "RESET") || !strcmp(name, "STOP") ||
               !strcmp(name, "RESUME")) {
        kvm_log(v, "QEMU event %s", name);
    }
}

static void retry_later(struct vm *v, long long now)
{
    v->next_connect = now + v->backoff_ms;
    v->backoff_ms = v->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : v->backoff_ms * 2;
}

static uint64_t booked(const struct vm *v)
{
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    dynmem_balancer_vm_counters(v->loop->b, v->id, &c);
    return c.physical_bytes + c.in_flight_bytes;
}

void vm_release(struct vm *v, long long now)
{
    if (v->state != VM_WAITING) {
        uint64_t held = booked(v);
        dynmem_balancer_vm_stop(v->loop->b, v->id);
        dynmem_balancer_vm_remove(v->loop->b, v->id);
        kvm_log(v, "QEMU gone (pid %d exited): VM removed, %llu MiB returned to the pool",
                (int)v->proc.pid, MIB(held));
    }
    qmp_close(v->q);
    v->q = NULL;
    kvm_proc_forget(&v->proc);
    v->state = VM_WAITING;
    v->busy = 0;
    v->backoff_ms = BACKOFF_FIRST_MS;
    v->next_connect = now;
}

void vm_lost(struct vm *v, const char *why, long long now)
{
    qmp_close(v->q);
    v->q = NULL;
    if (v->state == VM_MANAGED && kvm_proc_gone(&v->proc)) {
        vm_release(v, now);
    } else if (v->state == VM_MANAGED) {
        v->state = VM_DISCONNECTED;
        v->backoff_ms = BACKOFF_FIRST_MS;
        v->next_connect = now + BACKOFF_FIRST_MS;
        kvm_log(v, "QMP connection lost (%s); QEMU %s%d%s still runs: its %llu MiB stay booked; "
                "reconnecting", why, v->proc.pid ? "pid " : "", (int)v->proc.pid,
                v->proc.pid ? "" : " (pid unknown)", MIB(booked(v)));
    } else {
        if (v->state == VM_WAITING)
            kvm_log(v, "lost QEMU before managing it (%s)", why);
        retry_later(v, now);
    }
}

/* Refresh actual and the virtio-mem size from QMP (the facts). */
static int read_sizes(struct vm *v, long long now)
{
    char err[256];
    json_t *r = NULL;
    int rc = qmp_call(v->q, "query-balloon", NULL, &r, err, sizeof err);
    if (rc == 0 && num(json_object_get(r, "actual")) != UINT64_MAX)
        v->actual = num(json_object_get(r, "actual"));
    json_decref(r);
    if (rc >= 0 && v->spec->vmem[0]) {
        char path[160];
        vmem_path(v, path, sizeof path);
        r = NULL;
        rc = qmp_call(v->q, "qom-get", qom_args(path, "size"), &r, err, sizeof err);
        if (rc == 0 && num(r) != UINT64_MAX)
            v->vmem_size = num(r);
        json_decref(r);
    }
    if (rc < 0) {
        vm_lost(v, err, now);
        return -1;
    }
    return 0;
}

/* The virtio-mem device's size limit; 0 when there is none usable. */
static int read_device(struct vm *v, long long now)
{
    char err[256] = "no such device";
    v->vmem_max = 0;
    if (!v->spec->vmem[0])
        return 0;
    json_t *r = NULL, *dev;
    size_t i;
    int rc = qmp_call(v->q, "query-memory-devices", NULL, &r, err, sizeof err);
    if (rc < 0) {
        vm_lost(v, err, now);
        return -1;
    }
    if (rc == 0)
        json_array_foreach(r, i, dev) {
            json_t *data = json_object_get(dev, "data");
            const char *id = json_string_value(json_object_get(data, "id"));
            if (id && !strcmp(id, v->spec->vmem))
                v->vmem_max = num(json_object_get(data, "max-size"));
        }
    json_decref(r);
    if (v->vmem_max == UINT64_MAX || v->vmem_max == 0) {
        kvm_log(v, "virtio-mem device %s not usable (%s): no growth past boot memory",
                v->spec->vmem, err);
        v->vmem_max = 0;
    }
    return 0;
}

static int enable_stats(struct vm *v, long long now)
{
    char err[256];
    json_t *arg = qom_args(v->spec->balloon, "guest-stats-polling-interval");
    json_object_set_new(arg, "value", json_integer(v->loop->o->stats_interval_s));
    int rc = qmp_call(v->q, "qom-set", arg, NULL, err, sizeof err);
    if (rc < 0) {
        vm_lost(v, err, now);
        return -1;
    }
    if (rc > 0)
        kvm_log(v, "cannot enable guest statistics on %s (%s): held at startup memory",
                v->spec->balloon, err);
    return 0;
}

/* The configuration the VM is booked with: it starts (in the books) at what
 * QEMU holds now, whatever that is, rounded up to 2 MiB (never below its
 * minimum); growth past that size is "hot-add" to the balancer and is
 * carried out by the balloon up to boot size, then by virtio-mem. */
static struct dynmem_vm_config adopted_config(const struct vm *v)
{
    struct dynmem_vm_config c = kvm_spec_config(v->spec);
    c.flags |= DYNMEM_VM_CAN_HOT_ADD;
    if (v->vmem_size)
        c.flags |= DYNMEM_VM_CAN_HOT_REMOVE; /* virtio-mem removes only what it plugged */
    if (c.maximum_bytes > v->boot + v->vmem_max)
        c.maximum_bytes = v->boot + v->vmem_max;
    uint64_t s = round_up_unit(vm_held(v));
    c.startup_bytes = s > c.minimum_bytes ? s : c.minimum_bytes;
    if (c.maximum_bytes < c.startup_bytes)
        c.maximum_bytes = c.startup_bytes;
    return c;
}

static void booked_now(struct vm *v, const struct dynmem_vm_config *c, long long now, pid_t pid)
{
    v->cfg = *c;
    v->state = VM_MANAGED;
    v->refused = 0;
    v->backoff_ms = BACKOFF_FIRST_MS;
    v->hot_remove_on = (c->flags & DYNMEM_VM_CAN_HOT_REMOVE) != 0;
    v->next_stats = now;
    v->last_update = 0;
    dynmem_balancer_vm_set_pressure_param(v->loop->b, v->id, DYNMEM_PRESSURE_PARAM_STALE_MS,
                                          ex_stale_ms(v->loop->o->stats_interval_s));
    if (v->proc.pid != pid && kvm_proc_watch(&v->proc, pid) && pid)
        kvm_log(v, "QEMU pid %d is not running: its exit cannot be told from a lost "
                "connection", (int)pid);
}

/* Starts the VM in the books at c; 0, or the error (missing says how much). */
static int book(struct vm *v, const struct dynmem_vm_config *c, long long now, uint64_t *missing,
                char *why, size_t len)
{
    return ex_book(v->loop->b, c, (uint64_t)now, &v->id, missing, why, len);
}

static void adopt(struct vm *v, long long now, pid_t pid)
{
    struct dynmem_vm_config c = adopted_config(v);
    uint64_t missing = 0;
    char why[EX_WHY_LEN];
    int e = book(v, &c, now, &missing, why, sizeof why);
    if (e) {
        if (!v->refused)
            kvm_log(v, "not managed: QEMU holds %llu MiB; %s%s (needs %llu MiB more); retrying",
                    MIB(vm_held(v)), why,
                    e == DYNMEM_ERR_ADMISSION ? ", host memory is short" : "", MIB(missing));
        v->refused = 1;
        qmp_close(v->q);
        v->q = NULL;
        v->next_connect = now + ADMIT_RETRY_MS;
        return;
    }
    booked_now(v, &c, now, pid);
    kvm_log(v, "managed: QMP %s, QEMU pid %d, boot %llu MiB, holds %llu MiB (balloon %llu MiB, "
            "virtio-mem %llu MiB of %llu MiB), minimum %llu MiB, maximum %llu MiB, buffer %u%%, "
            "weight %u", v->spec->qmp, (int)pid, MIB(v->boot), MIB(vm_held(v)), MIB(v->actual),
            MIB(v->vmem_size), MIB(v->vmem_max), MIB(c.minimum_bytes), MIB(c.maximum_bytes),
            c.buffer_percent, c.weight);
    if (c.maximum_bytes < v->spec->maximum)
        kvm_log(v, "note: virtio-mem device %s holds at most %llu MiB: maximum lowered from %llu "
                "to %llu MiB", v->spec->vmem, MIB(v->vmem_max), MIB(v->spec->maximum),
                MIB(c.maximum_bytes));
}

/* After a lost connection: the outstanding action is settled with what QMP
 * shows, then the books are moved to what QEMU holds. Booking less than
 * before always fits; if QEMU holds more than the books and free memory
 * allow (someone else grew it), it is ballooned back to its old books. */
static void readopt(struct vm *v, long long now, pid_t pid)
{
    if (v->busy) {
        v->moved = 1;
        vm_follow(v, now, 1);
    }
    uint64_t before = booked(v);
    struct dynmem_vm_config c = adopted_config(v);
    if (c.startup_bytes != before) {
        dynmem_balancer_vm_stop(v->loop->b, v->id);
        dynmem_balancer_vm_remove(v->loop->b, v->id);
        char why[EX_WHY_LEN];
        if (book(v, &c, now, NULL, why, sizeof why)) {
            c.startup_bytes = before > c.minimum_bytes ? before : c.minimum_bytes;
            if (c.maximum_bytes < c.startup_bytes)
                c.maximum_bytes = c.startup_bytes;
            book(v, &c, now, NULL, why, sizeof why); /* what it held before: always fits */
            struct dynmem_action back = {.kind = DYNMEM_ACTION_BALLOON,
                                         .target_bytes = c.startup_bytes};
            kvm_log(v, "QEMU holds %llu MiB, more than its %llu MiB in the books and free memory "
                    "allow (changed while disconnected): ballooning it back",
                    MIB(vm_held(v)), MIB(before));
            vm_apply(v, &back);
        }
    }
    booked_now(v, &c, now, pid);
    kvm_log(v, "QMP reconnected: QEMU pid %d holds %llu MiB (balloon %llu MiB, virtio-mem %llu MiB); "
            "re-adopted, books %llu -> %llu MiB", (int)pid, MIB(vm_held(v)), MIB(v->actual),
            MIB(v->vmem_size), MIB(before), MIB(booked(v)));
}

static pid_t qemu_pid(const struct vm *v)
{
    if (v->spec->pid)
        return (pid_t)v->spec->pid;
    if (v->spec->pidfile[0])
        return kvm_proc_read_pidfile(v->spec->pidfile);
    return (pid_t)qmp_peer_pid(v->q);
}

void vm_connect(struct vm *v, long long now)
{
    char err[256];
    v->q = qmp_connect(v->spec->qmp, CONNECT_TIMEOUT_MS, QMP_TIMEOUT_MS, on_event, v, err,
                       sizeof err);
    if (!v->q) {
        if (!v->said_down)
            kvm_log(v, v->state == VM_DISCONNECTED ? "reconnecting: %s; retrying with backoff"
                                                   : "waiting for QEMU (%s)", err);
        v->said_down = 1;
        retry_later(v, now);
        return;
    }
    v->said_down = 0;
    pid_t pid = qemu_pid(v);
    if (v->state == VM_DISCONNECTED && v->proc.pid && pid != v->proc.pid &&
        kvm_proc_gone(&v->proc)) {
        struct qmp *keep = v->q; /* a new QEMU on the socket: the old one is gone */
        v->q = NULL;
        vm_release(v, now);
        v->q = keep;
    }
    v->boot = v->spec->startup;
    if (read_device(v, now) || read_sizes(v, now) || enable_stats(v, now))
        return;
    if (v->state == VM_DISCONNECTED)
        readopt(v, now, pid);
    else
        adopt(v, now, pid);
}

/* Grants sized to the ramp: while demand rises by more than RAMP_MIN_STEP
 * between samples, the buffer covers the rise at that rate until memory
 * granted on the next sample can be in the guest (two statistics periods
 * and a second), on top of the configured buffer; back to the configured
 * buffer once the rise stops (the surplus then goes by lazy reclaim). A
 * guest at its minimum otherwise grows only once demand + buffer passes
 * the minimum, too late for a fast ramp. */
#define RAMP_MIN_STEP (UINT64_C(8) << 20)

static void size_for_ramp(struct vm *v, uint64_t demand, long long now)
{
    uint64_t prev = v->prev_demand;
    long long dt = now - v->prev_demand_ms;
    v->prev_demand = demand;
    v->prev_demand_ms = now;
    uint32_t want = v->spec->buffer;
    if (prev && dt > 0 && demand >= prev + RAMP_MIN_STEP && demand > 0) {
        uint64_t horizon_ms = 2000ULL * v->loop->o->stats_interval_s + 1000;
        uint64_t extra = (demand - prev) * horizon_ms / (uint64_t)dt;
        uint64_t pct = want + (100 * extra + demand - 1) / demand;
        want = pct > 2000 ? 2000 : (uint32_t)pct;
    }
    if (want == v->cfg.buffer_percent)
        return;
    struct dynmem_vm_config c = v->cfg;
    c.buffer_percent = want;
    if (dynmem_balancer_vm_configure(v->loop->b, v->id, &c) == 0)
        v->cfg = c;
    if (v->loop->o->verbose)
        kvm_log(v, "buffer %u%% (demand rose %lld MiB in %.1f s)", want,
                (long long)((int64_t)(demand - prev) >> 20), (double)dt / 1000.0);
}

void vm_read_stats(struct vm *v, long long now)
{
    char err[256];
    json_t *r = NULL;
    int rc = qmp_call(v->q, "qom-get", qom_args(v->spec->balloon, "guest-stats"), &r, err,
                      sizeof err);
    if (rc < 0) {
        vm_lost(v, err, now);
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
        if (vs.total_memory != UINT64_MAX && vs.total_memory < vm_held(v))
            vs.total_memory = vm_held(v);
        vs.available_memory = num(json_object_get(s, "stat-available-memory"));
        vs.free_memory = num(json_object_get(s, "stat-free-memory"));
        vs.disk_caches = num(json_object_get(s, "stat-disk-caches"));
        vs.swap_in = num(json_object_get(s, "stat-swap-in"));
        vs.major_faults = num(json_object_get(s, "stat-major-faults"));
        struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
        int e = dynmem_pressure_sample_from_virtio_stats(&smp, (uint64_t)now, &vs);
        int from_balancer = 0; /* whose detail tells why */
        if (e == 0) {
            e = dynmem_balancer_vm_sample(v->loop->b, v->id, &smp);
            from_balancer = 1;
        }
        if (e && e != DYNMEM_ERR_PRESSURE_NO_DATA)
            kvm_log(v, "guest statistics refused: %s",
                    EX_WHY(from_balancer ? v->loop->b : NULL, e));
        if (e == 0) {
            size_for_ramp(v, smp.committed_bytes, now);
            v->loop->want_tick = 1;
        }
        if (e == 0 && v->loop->o->verbose)
            kvm_log(v, "stats: total %llu MiB, available %llu MiB, demand %llu MiB, balloon at "
                    "%llu MiB", MIB(vs.total_memory), MIB(vs.available_memory),
                    MIB(smp.committed_bytes), MIB(v->actual));
    }
    json_decref(r);
}

static int is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD;
}

static int command(struct vm *v, const char *cmd, json_t *args, const struct dynmem_action *a)
{
    char err[256];
    int rc = qmp_call(v->q, cmd, args, NULL, err, sizeof err);
    if (rc < 0)
        vm_lost(v, err, ex_mono_ms());
    else if (rc > 0)
        kvm_log(v, "%s refused by QEMU: %s", dynmem_action_kind_name(a->kind), err);
    return rc ? -1 : 0;
}

static int set_balloon(struct vm *v, uint64_t value, const struct dynmem_action *a)
{
    if (value > v->boot)
        value = v->boot;
    if (value < DYNMEM_SIZE_UNIT)
        value = DYNMEM_SIZE_UNIT;
    v->requested = value;
    if (value == v->actual)
        return 0;
    return command(v, "balloon", json_pack("{s:I}", "value", (json_int_t)value), a);
}

static int set_vmem(struct vm *v, uint64_t value, const struct dynmem_action *a)
{
    char path[160];
    if (value > v->vmem_max)
        value = v->vmem_max;
    v->requested_vmem = value;
    if (value == v->vmem_size)
        return 0;
    vmem_path(v, path, sizeof path);
    json_t *args = qom_args(path, "requested-size");
    json_object_set_new(args, "value", json_integer((json_int_t)value));
    return command(v, "qom-set", args, a);
}

int vm_apply(struct vm *v, const struct dynmem_action *a)
{
    uint64_t t = a->target_bytes;
    v->requested = v->actual;
    v->requested_vmem = v->vmem_size;
    switch (a->kind) {
    case DYNMEM_ACTION_BALLOON:
        return set_balloon(v, t > v->vmem_size ? t - v->vmem_size : 0, a);
    case DYNMEM_ACTION_HOT_REMOVE:
        return set_vmem(v, v->vmem_size > a->bytes ? v->vmem_size - a->bytes : 0, a);
    case DYNMEM_ACTION_UNBALLOON:
    case DYNMEM_ACTION_HOT_ADD: {
        /* growth: the balloon first (fast, up to boot size), then virtio-mem */
        uint64_t balloon = t > v->vmem_size ? t - v->vmem_size : 0;
        if (balloon > v->boot)
            balloon = v->boot;
        if (set_balloon(v, balloon, a))
            return -1;
        return t > v->boot + v->vmem_size ? set_vmem(v, t - v->boot, a) : 0;
    }
    default:
        return -1; /* page-in: dynmem-kvm never restarts VMs with smart paging */
    }
}

/* A growth that ended short must not go on in QEMU after the books closed
 * it: the devices are asked to stay where they are. */
static void hold_devices(struct vm *v)
{
    struct dynmem_action none = {.kind = v->act.kind};
    if (v->q && v->actual != v->requested)
        set_balloon(v, v->actual, &none);
    if (v->q && v->spec->vmem[0] && v->vmem_max)
        set_vmem(v, v->vmem_size, &none);
}

void vm_follow(struct vm *v, long long now, int settle)
{
    if (!v->moved && now < v->next_poll)
        return;
    v->next_poll = now + 200;
    if (!v->moved && read_sizes(v, now))
        return;
    v->moved = 0;
    const struct dynmem_action *a = &v->act;
    uint64_t base = a->assigned_bytes, cur = vm_held(v), moved = 0;
    if (is_growth(a->kind))
        moved = cur > base ? cur - base : 0;
    else
        moved = base > cur ? base - cur : 0;
    if (moved > a->bytes)
        moved = a->bytes;
    moved &= ~(PAGE - 1);
    /* over when all moved, when the devices reached the (clamped) values
     * asked, after the settle time without progress, or when told (a lost
     * connection's action is settled at what QMP shows on reconnecting) */
    int done = moved == a->bytes || settle ||
               (v->actual == v->requested && v->vmem_size == v->requested_vmem);
    if (moved > v->confirmed)
        v->progressed = now;
    else if (now - v->progressed >= (long long)v->loop->o->settle_ms)
        done = 1;
    if (moved > v->confirmed || done) {
        int e = dynmem_balancer_confirm(v->loop->b, v->id, a->action_id, (uint64_t)now,
                                        moved > v->confirmed ? moved - v->confirmed : 0,
                                        done ? DYNMEM_CONFIRM_FINAL : 0);
        if (e)
            kvm_log(v, "confirm refused: %s", EX_WHY(v->loop->b, e));
        v->confirmed = moved;
    }
    if (!done)
        return;
    v->busy = 0;
    v->loop->want_tick = 1;
    if (is_growth(a->kind) && moved < a->bytes)
        hold_devices(v);
    kvm_log(v, "%s %s: %llu of %llu MiB in %.1f s, now %llu MiB (balloon %llu MiB, virtio-mem "
            "%llu MiB)", dynmem_action_kind_name(a->kind),
            moved == a->bytes ? "done" : "settled short", MIB(moved), MIB(a->bytes),
            (double)(now - v->issued) / 1000.0, MIB(cur), MIB(v->actual), MIB(v->vmem_size));
}

void vm_sync_abilities(struct vm *v)
{
    int want = v->vmem_size != 0;
    if (v->busy || want == v->hot_remove_on)
        return;
    struct dynmem_vm_config c = v->cfg;
    if (want)
        c.flags |= DYNMEM_VM_CAN_HOT_REMOVE;
    else
        c.flags &= ~(uint32_t)DYNMEM_VM_CAN_HOT_REMOVE;
    int e = dynmem_balancer_vm_configure(v->loop->b, v->id, &c);
    if (e) {
        kvm_log(v, "reconfigure: %s", EX_WHY(v->loop->b, e));
        return;
    }
    v->cfg = c;
    v->hot_remove_on = want;
}
