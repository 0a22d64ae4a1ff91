/* dynmem-kvm's main loop: QMP sessions in, balancer decisions out. */
#ifndef DYNMEM_KVM_LOOP_H
#define DYNMEM_KVM_LOOP_H

#include <signal.h>

#include "kvmconf.h"

/* Run until *stop is set (or once, with o->once). Returns the exit status. */
int kvm_run(const struct kvm_options *o, volatile sig_atomic_t *stop);

#endif
