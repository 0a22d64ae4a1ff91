/* Guest kinds: how each kind maps onto the guest session engine's settings
 * and model hooks, and what the simulator's wiring does for kinds the engine
 * cannot express (slow: delayed delivery; stuck: nothing delivered; no
 * driver: never connects). */
#ifndef DYNMEM_SIM_GUEST_H
#define DYNMEM_SIM_GUEST_H

#include "sim.h"

struct sim_liar {
    uint64_t now_ms;   /* last time the engine called a hook */
    uint64_t lies;     /* bogus ranges or claims sent */
    bool balloon_hooked;
};

/* Applies a kind's settings and hooks to a new guest session. */
int sim_guest_setup(dynmem_session_guest *g, const struct sim_vm_spec *spec,
                    struct sim_liar *liar);
/* Sets the committed memory the guest reports for its true demand (a lying
 * guest reports lie_factor times it, and lies about balloon ranges in odd
 * minutes). Called every tick. */
int sim_guest_update(dynmem_session_guest *g, const struct sim_vm_spec *spec,
                     struct sim_liar *liar, uint64_t now_ms, uint64_t demand_bytes);

#endif
