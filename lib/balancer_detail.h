/* Internal: the detail of a balancer's latest refusal
 * (dynmem_balancer_last_error()), written into a fixed array inside the
 * handle: no allocation, no state outside the handle. */
#ifndef DYNMEM_LIB_BALANCER_DETAIL_H
#define DYNMEM_LIB_BALANCER_DETAIL_H

#include <stdint.h>

#include <dynmem/balancer.h>

#include "detail.h"

struct vm;

/* Each returns `rc` after writing the detail of a refusal with that code;
 * the other refusals call dynmem__detail_set(b->detail, rc, ...). */

/* "vm N: no such VM" for an id that names none. */
int dynmem__bal_no_vm(dynmem_balancer *b, uint64_t vm_id);
/* A configuration refused by dynmem_vm_config_check(), with the text of
 * dynmem_vm_config_explain(), prefixed "vm N: " (or "new vm: "). */
int dynmem__bal_bad_config(dynmem_balancer *b, int rc, const uint64_t *vm_id,
                           const struct dynmem_vm_config *config);
/* A setting outside its bounds or not whole 2 MiB units. */
int dynmem__bal_bad_param(dynmem_balancer *b, int rc, const char *name, int64_t value,
                          int64_t min, int64_t max);
/* The name of a balancer setting as its enumerator spells it, or NULL. */
const char *dynmem__bal_param_name(int param);
/* A confirmation of an action that is not the VM's outstanding one. */
int dynmem__bal_stray_confirm(dynmem_balancer *b, const struct vm *v, uint64_t vm_id,
                              uint64_t action_id);
/* A guest's sample refused by the VM's estimator with `rc`: what in it was
 * wrong, with its figures (the examples log it for "statistics refused"). */
int dynmem__bal_bad_sample(dynmem_balancer *b, int rc, uint64_t vm_id,
                           const struct dynmem_pressure_sample *s, uint64_t latest_ms);
/* Clears the detail: each call that may change the balancer starts so. */
void dynmem__bal_detail_clear(dynmem_balancer *b);

#endif
