/* The VMs a scenario has present, tick by tick: started and not stopped,
 * with each one's latest boot and the sizes it may have. The limits (limit.c, density_limit.c) walk
 * the scenario this way, from the events alone, with no policy and no
 * guest: the same ticks, the same dt and the same VMs for both, so the two
 * bounds always speak of the same fleet. */
#include "sim.h"

#include <stdlib.h>

int sim_presence_init(struct sim_presence *p, const struct sim_scenario *sc,
                      uint64_t duration_ms)
{
    /* One more than the VMs: calloc(0) may return NULL for an empty list. */
    size_t n = (size_t)sc->n_vms + 1;
    *p = (struct sim_presence){
        .sc = sc,
        .end_ms = duration_ms ? duration_ms : sc->duration_ms,
        .present = calloc(n, sizeof *p->present),
        .started_at = calloc(n, sizeof *p->started_at),
        .range = calloc(n, sizeof *p->range),
        .boot_bytes = calloc(n, sizeof *p->boot_bytes),
    };
    if (!p->present || !p->started_at || !p->range || !p->boot_bytes) {
        sim_presence_fini(p);
        return -1;
    }
    for (int i = 0; i < sc->n_vms; i++) {
        p->range[i] = sim_vm_range(&sc->vms[i].config, sc->vms[i].kind);
        p->boot_bytes[i] = sc->vms[i].config.startup_bytes;
    }
    return 0;
}

static void widen(struct sim_range *r, struct sim_range by)
{
    r->lo = by.lo < r->lo ? by.lo : r->lo;
    r->hi = by.hi > r->hi ? by.hi : r->hi;
}

/* A configure may be refused by the library and a resize may end short:
 * taking the sizes they ask for as possible keeps the limits bounds. */
static void apply(struct sim_presence *p, const struct sim_event *ev)
{
    const struct sim_vm_spec *v = &p->sc->vms[ev->vm];
    switch (ev->type) {
    case EV_START:
    case EV_RESTART:
        if (ev->type == EV_RESTART || !p->present[ev->vm])
            p->started_at[ev->vm] = ev->at_ms; /* a guest that boots again */
        p->present[ev->vm] = true;
        break;
    case EV_STOP:
        p->present[ev->vm] = false;
        break;
    case EV_CONFIGURE:
        widen(&p->range[ev->vm], sim_vm_range(&ev->config, v->kind));
        if (ev->config.startup_bytes > p->boot_bytes[ev->vm])
            p->boot_bytes[ev->vm] = ev->config.startup_bytes;
        break;
    case EV_RESIZE:
        widen(&p->range[ev->vm], (struct sim_range){ev->bytes, ev->bytes});
        break;
    }
}

bool sim_presence_next(struct sim_presence *p)
{
    const struct sim_scenario *sc = p->sc;
    if (p->next_ms >= p->end_ms)
        return false;
    uint64_t t = p->t_ms = p->next_ms;
    for (; p->next_event < sc->n_events && sc->events[p->next_event].at_ms <= t;
         p->next_event++) {
        apply(p, &sc->events[p->next_event]);
    }
    /* The last tick is cut at the end of the walk. */
    p->dt_s = (double)(t + sc->tick_ms <= p->end_ms ? sc->tick_ms : p->end_ms - t) / 1000.0;
    p->next_ms = t + sc->tick_ms;
    return true;
}

void sim_presence_fini(struct sim_presence *p)
{
    free(p->present);
    free(p->started_at);
    free(p->range);
    free(p->boot_bytes);
    p->present = NULL;
    p->started_at = NULL;
    p->range = NULL;
    p->boot_bytes = NULL;
}
