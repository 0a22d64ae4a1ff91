/* Reaching a size with balloon and virtio-mem (see lvplan.h). */
#include "lvplan.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t grow(const struct lv_mem *m, uint64_t actual, uint64_t need, struct lv_plan *p)
{
    uint64_t b = actual;
    if (b < m->boot) {
        b = min_u64(m->boot, actual + need);
        need -= b - actual;
    }
    p->balloon = b;
    uint64_t reached = b;
    for (size_t i = 0; i < m->nvmem; i++) {
        const struct lv_vmem *v = &m->vmem[i];
        uint64_t add = min_u64(v->size - v->current, need - need % v->block);
        add -= add % v->block;
        p->vmem[i] = v->current + add;
        need -= add;
        reached += p->vmem[i];
    }
    return reached;
}

static uint64_t shrink(const struct lv_mem *m, uint64_t actual, uint64_t need, uint64_t floor,
                       struct lv_plan *p)
{
    uint64_t reached = 0;
    for (size_t i = m->nvmem; i-- > 0;) {
        const struct lv_vmem *v = &m->vmem[i];
        uint64_t rm = min_u64(v->current, need - need % v->block);
        p->vmem[i] = v->current - rm;
        need -= rm;
        reached += p->vmem[i];
    }
    uint64_t b = actual;
    if (actual > floor)
        b = actual - min_u64(need, actual - floor);
    p->balloon = b;
    return reached + b;
}

uint64_t lv_plan(const struct lv_mem *m, uint64_t actual, uint64_t target, uint64_t floor,
                 struct lv_plan *out)
{
    struct lv_plan p = {0};
    uint64_t held = actual;
    for (size_t i = 0; i < m->nvmem; i++)
        held += m->vmem[i].current;
    uint64_t reached;
    if (target >= held)
        reached = grow(m, actual, target - held, &p);
    else
        reached = shrink(m, actual, held - target, floor, &p);
    *out = p;
    return reached;
}
