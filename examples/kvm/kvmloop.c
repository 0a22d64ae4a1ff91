/* The loop: one QMP session per VM (kvmqemu.c), guest statistics fed to
 * the balancer as they arrive, a decision at once on a new sample or a
 * finished action (else every tick), its actions carried out, and the
 * operator counters written after each decision. */
#include "kvmloop.h"

#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exutil.h"
#include "kvmvm.h"
#include "metrics.h"

#define METRICS_EVERY_MS 1000

void kvm_log(const struct vm *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex_vlog(v ? v->spec->name : "dynmem-kvm", fmt, ap);
    va_end(ap);
}

static struct vm *booked_vm(struct loop *l, uint64_t id)
{
    for (size_t i = 0; i < l->o->nvm; i++)
        if (l->vm[i].state != VM_WAITING && l->vm[i].id == id)
            return &l->vm[i];
    return NULL;
}

/* An action that cannot be carried out: nothing moved. A refusal by QEMU
 * is a failure (no more hot-add until the configuration changes); a VM
 * that is disconnected or a dry run only did not act. */
static void drop_action(struct loop *l, struct vm *v, const struct dynmem_action *a, long long now,
                        int failed)
{
    dynmem_balancer_confirm(l->b, v->id, a->action_id, (uint64_t)now, 0,
                            DYNMEM_CONFIRM_FINAL | (failed ? DYNMEM_CONFIRM_FAILED : 0));
}

static void take_actions(struct loop *l, long long now)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(l->b, &a) == 1) {
        struct vm *v = booked_vm(l, a.vm_id);
        if (!v)
            continue;
        if (v->state != VM_MANAGED) { /* disconnected: held, never acted on */
            drop_action(l, v, &a, now, 0);
            continue;
        }
        char text[512];
        dynmem_action_describe(&a, text, sizeof text);
        if (!l->o->dry_run || a.kind != v->dry_kind || a.target_bytes != v->dry_target)
            kvm_log(v, "%s%s", l->o->dry_run ? "dry-run: " : "", text);
        v->dry_kind = a.kind;
        v->dry_target = a.target_bytes;
        if (l->o->dry_run) {
            drop_action(l, v, &a, now, 0);
            continue;
        }
        int rc = vm_apply(v, &a);
        if (rc && v->state == VM_MANAGED) { /* refused by QEMU */
            drop_action(l, v, &a, now, 1);
            continue;
        }
        /* with QEMU, or maybe: a connection lost while asking keeps the
         * action outstanding until it is settled on reconnecting */
        v->act = a;
        v->busy = 1;
        v->confirmed = 0;
        v->issued = v->progressed = now;
        v->next_poll = now + 100;
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
    if (!e)
        e = dynmem_balancer_set_param(l->b, DYNMEM_BALANCER_PARAM_STALE_MS,
                                      ex_stale_ms(o->stats_interval_s));
    if (e) {
        fprintf(stderr, "dynmem-kvm: balancer set-up: %s\n", EX_WHY(l->b, e));
        return -1;
    }
    int64_t reserve = 0;
    dynmem_balancer_get_param(l->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve);
    kvm_log(NULL, "libdynmem %s, host memory %llu MiB, reserve %llu MiB, policy %s, %zu VM(s)%s",
            dynmem_version_string(), MIB(total), MIB((uint64_t)reserve),
            dynmem_policy_name((uint32_t)o->policy), o->nvm, o->dry_run ? ", dry run" : "");
    for (size_t i = 0; i < o->nvm; i++) {
        struct vm *v = &l->vm[i];
        v->spec = &o->vm[i];
        v->loop = l;
        v->proc = (struct kvm_proc)KVM_PROC_NONE;
        v->backoff_ms = 250;
    }
    return 0;
}

/* How often the guest statistics are polled: a quarter of their period,
 * so that a new sample is seen soon after the guest sent it. */
static long long stats_poll_ms(const struct kvm_options *o)
{
    long long ms = 250LL * o->stats_interval_s;
    return ms < 250 ? 250 : ms;
}

/* One VM's round: its process, its connection, its action, its sample. */
static void serve(struct loop *l, struct vm *v, long long now)
{
    if (v->state != VM_WAITING && kvm_proc_gone(&v->proc))
        vm_release(v, now);
    if (!v->q && now >= v->next_connect)
        vm_connect(v, now);
    if (v->q && qmp_pump(v->q) < 0)
        vm_lost(v, "QMP connection closed", now);
    if (!v->q || v->state != VM_MANAGED)
        return;
    if (v->busy)
        vm_follow(v, now, 0);
    if (v->q && !v->busy)
        vm_sync_abilities(v);
    if (v->q && now >= v->next_stats) {
        vm_read_stats(v, now);
        v->next_stats = now + stats_poll_ms(l->o);
    }
}

/* The next moment anything is due: a tick, a poll, a reconnection. */
static long long next_due(struct loop *l, long long next_tick)
{
    long long due = next_tick;
    for (size_t i = 0; i < l->o->nvm; i++) {
        const struct vm *v = &l->vm[i];
        long long t = !v->q ? v->next_connect
                    : v->state != VM_MANAGED ? due
                    : v->busy && v->next_poll < v->next_stats ? v->next_poll : v->next_stats;
        due = t < due ? t : due;
    }
    return due;
}

/* Wait until the deadline, reading events and noticing exits as they come. */
static void wait_events(struct loop *l, long long until, volatile sig_atomic_t *stop)
{
    while (!*stop && !l->want_tick) {
        long long left = until - ex_mono_ms();
        if (left <= 0)
            return;
        struct pollfd p[2 * KVM_MAX_VMS];
        struct vm *owner[2 * KVM_MAX_VMS];
        nfds_t n = 0;
        for (size_t i = 0; i < l->o->nvm; i++) {
            struct vm *v = &l->vm[i];
            if (v->q)
                owner[n] = v, p[n++] = (struct pollfd){.fd = qmp_fd(v->q), .events = POLLIN};
            if (v->state != VM_WAITING && kvm_proc_fd(&v->proc) >= 0)
                owner[n] = v, p[n++] = (struct pollfd){.fd = kvm_proc_fd(&v->proc), .events = POLLIN};
        }
        if (poll(p, n, (int)left) <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++) {
            struct vm *v = owner[i];
            if (!p[i].revents)
                continue;
            if (v->q && p[i].fd == qmp_fd(v->q) && qmp_pump(v->q) < 0)
                vm_lost(v, "QMP connection closed", ex_mono_ms());
            else if (v->state != VM_WAITING && p[i].fd == kvm_proc_fd(&v->proc))
                vm_release(v, ex_mono_ms());
            if (v->busy && v->moved)
                return; /* a size changed: follow the action now */
        }
    }
}

static const char *state_word(const struct vm *v)
{
    switch (v->state) {
    case VM_MANAGED: return "managed";
    case VM_DISCONNECTED: return "disconnected";
    case VM_WAITING: break;
    }
    return v->refused ? "refused" : "waiting";
}

static void publish(struct loop *l, struct metrics *m)
{
    metrics_begin(m, l->b, metrics_wall_ms());
    for (size_t i = 0; i < l->o->nvm; i++) {
        const struct vm *v = &l->vm[i];
        metrics_add_vm(m, v->spec->name, state_word(v), v->state != VM_WAITING ? l->b : NULL,
                       v->id);
    }
    char msg[700];
    if (metrics_publish_quiet(m, l->o->metrics_file, msg, sizeof msg))
        kvm_log(NULL, "%s", msg);
}

static void status_line(struct loop *l, struct vm *v)
{
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    if (dynmem_balancer_vm_counters(l->b, v->id, &c))
        return;
    kvm_log(v, "status: held %llu MiB, balloon %llu MiB, demand %llu MiB, target %llu MiB, "
            "pressure %u%%%s", MIB(vm_held(v)), MIB(v->actual), MIB(c.demand_bytes),
            MIB(c.target_bytes), c.current_pressure,
            c.flags & DYNMEM_VMSTATE_NO_DATA ? " (no guest statistics yet: held at startup)" : "");
}

int kvm_run(const struct kvm_options *o, volatile sig_atomic_t *stop)
{
    static struct loop l;
    struct metrics m;
    l.o = o;
    if (setup(&l))
        return 2;
    metrics_init(&m, "dynmem-kvm");
    long long next_tick = ex_mono_ms(), next_metrics = next_tick;
    int status = 0;
    while (!*stop) {
        long long now = ex_mono_ms();
        for (size_t i = 0; i < o->nvm; i++)
            serve(&l, &l.vm[i], now);
        now = ex_mono_ms();
        if (now >= next_tick || l.want_tick || o->once) {
            l.want_tick = 0;
            int e = dynmem_balancer_tick(l.b, (uint64_t)now, NULL);
            if (e)
                kvm_log(NULL, "tick: %s", EX_WHY(l.b, e));
            take_actions(&l, now);
            next_tick = now + o->tick_ms;
            if (o->metrics_file && (now >= next_metrics || o->once)) {
                publish(&l, &m);
                next_metrics = now + METRICS_EVERY_MS;
            }
        }
        if (o->once) {
            for (size_t i = 0; i < o->nvm; i++) {
                if (l.vm[i].state == VM_MANAGED)
                    status_line(&l, &l.vm[i]);
                else
                    status = 1;
            }
            break;
        }
        wait_events(&l, next_due(&l, next_tick), stop);
    }
    if (*stop)
        kvm_log(NULL, "stopping: guests are left as they are");
    for (size_t i = 0; i < o->nvm; i++) {
        qmp_close(l.vm[i].q);
        kvm_proc_forget(&l.vm[i].proc);
    }
    metrics_free(&m);
    dynmem_balancer_free(l.b);
    return status;
}
