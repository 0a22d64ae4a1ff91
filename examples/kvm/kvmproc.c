/* Whether the QEMU behind a QMP socket still runs (see kvmproc.h). */
#define _GNU_SOURCE /* syscall() */
#include "kvmproc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

void kvm_proc_forget(struct kvm_proc *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pid = 0;
    p->pidfd = -1;
}

int kvm_proc_watch(struct kvm_proc *p, pid_t pid)
{
    kvm_proc_forget(p);
    if (pid <= 0)
        return -1;
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ESRCH)
        return -1;
    if (fd < 0 && kill(pid, 0) != 0 && errno == ESRCH)
        return -1; /* no pidfd (old kernel, seccomp): kill(pid, 0) instead */
    p->pid = pid;
    p->pidfd = (int)fd;
    return 0;
}

int kvm_proc_gone(const struct kvm_proc *p)
{
    if (p->pid <= 0)
        return 0;
    if (p->pidfd >= 0) {
        struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
        return poll(&pf, 1, 0) > 0;
    }
    return kill(p->pid, 0) != 0 && errno == ESRCH;
}

int kvm_proc_fd(const struct kvm_proc *p)
{
    return p->pidfd;
}

pid_t kvm_proc_read_pidfile(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > 0x3fffffff)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}
