/* The VMs a scenario has present, tick by tick: started and not stopped,
 * with each one's latest boot. The limits (limit.c, density_limit.c) walk
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
    };
    if (p->present && p->started_at)
        return 0;
    sim_presence_fini(p);
    return -1;
}

bool sim_presence_next(struct sim_presence *p)
{
    const struct sim_scenario *sc = p->sc;
    if (p->next_ms >= p->end_ms)
        return false;
    uint64_t t = p->t_ms = p->next_ms;
    for (; p->next_event < sc->n_events && sc->events[p->next_event].at_ms <= t;
         p->next_event++) {
        const struct sim_event *ev = &sc->events[p->next_event];
        if (ev->type == EV_START || ev->type == EV_RESTART) {
            if (ev->type == EV_RESTART || !p->present[ev->vm])
                p->started_at[ev->vm] = ev->at_ms; /* a guest that boots again */
            p->present[ev->vm] = true;
        } else if (ev->type == EV_STOP) {
            p->present[ev->vm] = false;
        }
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
    p->present = NULL;
    p->started_at = NULL;
}
