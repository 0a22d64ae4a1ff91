/* The QEMU process behind a QMP socket: whether it still runs. A lost QMP
 * connection is not a dead QEMU; only the process's exit is. Linux: a pidfd
 * (readable once the process has exited, immune to pid reuse), else
 * kill(pid, 0). */
#ifndef DYNMEM_KVM_PROC_H
#define DYNMEM_KVM_PROC_H

#include <sys/types.h>

struct kvm_proc {
    pid_t pid;  /* 0 = unknown */
    int pidfd;  /* -1 = none (kill(pid, 0) is used) */
};

#define KVM_PROC_NONE {0, -1}

/* Starts watching pid (replacing what p watched). Returns 0, or -1 when the
 * process does not exist (any more). */
int kvm_proc_watch(struct kvm_proc *p, pid_t pid);
void kvm_proc_forget(struct kvm_proc *p);

/* 1 once the watched process has exited, 0 while it runs or when no process
 * is known. */
int kvm_proc_gone(const struct kvm_proc *p);

/* File descriptor that becomes readable when the process exits, or -1. */
int kvm_proc_fd(const struct kvm_proc *p);

/* A pid from a pid file (QEMU's -pidfile): 0 if unreadable. */
pid_t kvm_proc_read_pidfile(const char *path);

#endif
