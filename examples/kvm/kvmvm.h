/* Internal to dynmem-kvm: one managed QEMU and the loop that drives them,
 * shared by kvmloop.c (scheduling, the balancer's actions, status) and
 * kvmqemu.c (everything said to one QEMU over QMP).
 *
 * A VM's memory is in the balancer's books from the moment it is adopted
 * until its QEMU process is known to have exited. A QMP connection that
 * closes or stops answering only moves it to VM_DISCONNECTED: still booked,
 * reconnected with backoff, and re-adopted at the size QMP then reports. */
#ifndef DYNMEM_KVM_VM_H
#define DYNMEM_KVM_VM_H

#include <dynmem/dynmem.h>
#include <signal.h>

#include "kvmconf.h"
#include "kvmproc.h"
#include "qmp.h"

#define MIB(x) ((unsigned long long)((x) >> 20))

enum vm_state {
    VM_WAITING,      /* not in the books: no QEMU yet, or not admitted */
    VM_MANAGED,      /* in the books, QMP connected */
    VM_DISCONNECTED  /* in the books, QMP lost, the process still runs */
};

struct vm {
    const struct kvm_vm_spec *spec;
    struct loop *loop;
    struct qmp *q;
    enum vm_state state;
    struct kvm_proc proc;      /* the QEMU process, once known */
    uint64_t id;               /* balancer id while booked */
    struct dynmem_vm_config cfg; /* as the balancer has it */
    uint64_t boot;             /* boot memory (startup), the balloon's ceiling */
    uint64_t actual;           /* balloon: guest size QEMU reports */
    uint64_t vmem_size, vmem_max;
    long long last_update;     /* guest-stats last-update */
    long long next_connect, next_stats, next_poll;
    unsigned backoff_ms;       /* next reconnect delay */
    int said_down;             /* "waiting"/"reconnecting" logged once */
    int refused;               /* the last adoption was not admitted */
    int moved;                 /* an event changed a size since the last follow */
    int busy;
    struct dynmem_action act;
    uint64_t confirmed;
    uint64_t requested;        /* the balloon value asked for */
    uint64_t requested_vmem;   /* the virtio-mem requested-size asked for */
    int hot_remove_on;         /* CAN_HOT_REMOVE currently configured */
    uint64_t prev_demand;      /* the sample before, for the ramp rate */
    long long prev_demand_ms;
    uint32_t dry_kind;         /* --dry-run: last action logged, not repeated */
    uint64_t dry_target;
    long long issued, progressed;
};

struct loop {
    const struct kvm_options *o;
    dynmem_balancer *b;
    int want_tick;             /* a new sample or a finished action: decide now */
    struct vm vm[KVM_MAX_VMS];
};

void kvm_log(const struct vm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* kvmqemu.c */
/* Connects (or reconnects) to the VM's QEMU and adopts it into the books,
 * or re-adopts it after a lost connection. */
void vm_connect(struct vm *v, long long now);
/* The connection is unusable (why): the VM stays booked while its QEMU
 * runs. */
void vm_lost(struct vm *v, const char *why, long long now);
/* Releases a booked VM whose QEMU process has exited. */
void vm_release(struct vm *v, long long now);
/* Reads the guest statistics; feeds a new sample to the balancer. */
void vm_read_stats(struct vm *v, long long now);
/* Confirms what QMP shows has moved for the outstanding action; with
 * settle, ends it there (after a lost connection). */
void vm_follow(struct vm *v, long long now, int settle);
/* Carries out an action; 0 if the request is with QEMU. */
int vm_apply(struct vm *v, const struct dynmem_action *a);
/* CAN_HOT_REMOVE follows whether virtio-mem holds anything. */
void vm_sync_abilities(struct vm *v);
/* What QEMU holds: balloon actual + plugged virtio-mem. */
uint64_t vm_held(const struct vm *v);

#endif
