/* One VM's wiring: its memory map, host session engine and guest session
 * engine exchanging real wire bytes, with the delivery a guest kind needs
 * (delayed for slow guests, dropped for stuck ones from their stuck time). */
#ifndef DYNMEM_SIM_LINK_H
#define DYNMEM_SIM_LINK_H

#include "guest.h"
#include "sim.h"

struct sim_packet {
    uint64_t at_ms;
    size_t len;
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
};

struct sim_queue {
    struct sim_packet *p;
    size_t head, n, cap;
};

struct sim_link {
    const struct sim_vm_spec *spec;
    struct dynmem_memmap *map;
    dynmem_session_host *h;
    dynmem_session_guest *g;
    struct sim_liar liar;
    struct sim_queue to_guest, to_host; /* slow guests only */
    uint64_t now;
    uint64_t status_delay_ms;
    uint64_t refusals; /* guest input the host refused */
};

int sim_link_init(struct sim_link *l, const struct sim_vm_spec *spec,
                  const struct sim_scenario *sc);
void sim_link_fini(struct sim_link *l);
/* Power on: a fresh guest (boot memory only) and a new channel. */
int sim_link_boot(struct sim_link *l, uint64_t now_ms);
/* Power off or reboot: both ends reset (the host's books back to boot
 * memory); packets in flight are lost. */
int sim_link_reset(struct sim_link *l, uint64_t now_ms);
/* Sets the guest's committed memory for this tick. */
int sim_link_set_demand(struct sim_link *l, uint64_t now_ms, uint64_t demand_bytes);
/* Lets time run to until_ms: delivers packets, fires every deadline. */
int sim_link_advance(struct sim_link *l, uint64_t until_ms);

#endif
