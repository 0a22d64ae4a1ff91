/* dynmem-kvm's settings: the command line and the VM list (from --vm or a
 * config file, one VM per line in the same key=value form). */
#ifndef DYNMEM_KVM_CONF_H
#define DYNMEM_KVM_CONF_H

#include <dynmem/dynmem.h>
#include <stddef.h>
#include <stdint.h>

#define KVM_MAX_VMS 64

struct kvm_vm_spec {
    char name[64];
    char qmp[108];       /* QMP unix socket path */
    char balloon[128];   /* QOM path of the balloon device */
    char vmem[64];       /* virtio-mem device id, "" = none */
    char pidfile[256];   /* QEMU's -pidfile, "" = none */
    long pid;            /* QEMU's pid given outright, 0 = none */
    uint64_t startup, minimum, maximum; /* bytes */
    uint32_t buffer, weight;
};

struct kvm_options {
    uint64_t host_total;     /* 0 = MemTotal */
    int64_t reserve;         /* -1 = the library's default */
    unsigned tick_ms;
    unsigned stats_interval_s;
    int64_t calm_ms;         /* -1 = the library's default */
    unsigned settle_ms;      /* an action without progress this long is over */
    int policy;              /* enum dynmem_policy */
    int once, dry_run, verbose;
    int status;              /* --status: print the metrics file and exit */
    const char *metrics_file; /* NULL = none */
    size_t nvm;
    struct kvm_vm_spec vm[KVM_MAX_VMS];
};

/* Parse "qmp=PATH,startup=1G,minimum=256M,..." into a new VM entry;
 * returns 0 or -1 with err set. */
int kvm_add_vm(struct kvm_options *o, const char *spec, char *err, size_t errlen);

/* Read a config file of VM lines ('#' starts a comment). */
int kvm_read_config(struct kvm_options *o, const char *path, char *err, size_t errlen);

/* The host's MemTotal in bytes, 0 if unknown. */
uint64_t kvm_host_memtotal(void);

/* Host memory the VMs share: --host-memory, else MemTotal in whole 2 MiB
 * units. */
uint64_t kvm_host_total(const struct kvm_options *o);

/* A VM's configuration as its spec gives it (sizes, buffer, weight; the
 * balloon, and hot-add when it has a virtio-mem device). */
struct dynmem_vm_config kvm_spec_config(const struct kvm_vm_spec *vm);

/* Checks every setting with the library's check (host, each VM, names and
 * QMP sockets used once) and that growth past startup has a virtio-mem
 * device; returns 0, or -1 with a message naming the setting in err. */
int kvm_check_options(const struct kvm_options *o, char *err, size_t errlen);

#endif
