/* Internal: the comparison policies (squeezed, mom, esx, proxmox; one file
 * each, policy_<name>.c) and the helpers they share (policy_peer.c). The
 * dispatcher, balancer_policy.c, calls the entry points; the policies call
 * the helpers; nothing here calls back into the dispatcher. */
#ifndef DYNMEM_LIB_POLICY_PEER_H
#define DYNMEM_LIB_POLICY_PEER_H

#include "balancer_internal.h"

/* Entry points: entitle every planned VM (v->entitled) for a cycle of the
 * policy, within `budget`. */
void dynmem__policy_squeezed(struct dynmem_balancer *b, uint64_t budget);
void dynmem__policy_mom(struct dynmem_balancer *b, uint64_t budget);
void dynmem__policy_esx(struct dynmem_balancer *b, uint64_t budget);
void dynmem__policy_proxmox(struct dynmem_balancer *b, uint64_t budget);

/* peer_set: entitle a VM to `target` clamped to [floor, ceiling], moving in
 * whole 2 MiB units unless it lands on a bound. peer_fit: trim growth, in
 * proportion, so that the planned VMs' entitlements sum to at most
 * `budget` and their growth to at most `growth_room`. */
void dynmem__peer_set(struct vm *v, uint64_t target);
void dynmem__peer_fit(struct dynmem_balancer *b, uint64_t budget, uint64_t growth_room);

#endif
