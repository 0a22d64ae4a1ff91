/* The tick: refresh every VM's figures, let the policy entitle, then turn
 * the differences into at most one action per VM. Shrinks are queued before
 * growth, and growth only spends memory that is free now: memory a shrink
 * will free counts only once the guest confirmed it (two-phase).
 *
 * Comparison policies (squeezed, mom, esx, proxmox) use the same engine with
 * three differences, each marked below: they shrink to their entitlement at
 * once (no calm period, lazy reclaim or engine deadband: those are Hyper-V's
 * and ours), a policy may cap a VM's step per tick, and growth from short
 * free memory follows the policy's own ranking. */
#include <string.h>

#include "balancer_internal.h"

static bool can_shrink(const struct vm *v)
{
    return (v->cfg_flags & (DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_REMOVE)) != 0;
}

static bool can_hot_add(const struct vm *v)
{
    return (v->cfg_flags & DYNMEM_VM_CAN_HOT_ADD) && !v->hot_add_failed;
}

static bool is_dynamic(const struct vm *v)
{
    return (v->cfg_flags & DYNMEM_VM_DYNAMIC) != 0;
}

/* The dynmem policy looks ahead: a demand that is rising is provisioned for
 * where it will be two ticks from now, so growth does not trail it. */
static uint64_t planning_demand(const struct dynmem_balancer *b, const struct vm *v)
{
    uint64_t d = v->obs.demand_bytes;
    if (b->policy == DYNMEM_POLICY_DYNMEM && v->trend > 0) {
        uint64_t ahead = (uint64_t)v->trend * (uint64_t)(2 * b->tick_ms) / 1000;
        d = min_u64(d + ahead, BYTES_MAX);
    }
    return d;
}

static uint64_t clamp_u64(uint64_t x, uint64_t lo, uint64_t hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* How far back the lookahead's trend looks: the recent rise, not the
 * whole window's. */
#define TREND_HORIZON_MS 10000

/* Whether observe() has anything to bring up to date (see there). */
static bool will_ask(const struct vm *v, uint64_t now_ms)
{
    return v->dirty || !v->has_data || v->assigned != v->observed_assigned || now_ms < v->sample_ms;
}

/* Whether it must read the estimator for that: a new demand or distress
 * signal, no data yet, a report from beyond now_ms, or a distress flag
 * that a later report without distress may have cleared. Otherwise only
 * the assignment moved. */
static bool reads_estimator(const struct vm *v, uint64_t now_ms)
{
    return v->dirty || !v->has_data || now_ms < v->sample_ms ||
           (v->obs.flags & DYNMEM_REPORT_DISTRESS);
}

/* Whether a clean VM's figures hold at now_ms: time moves only its
 * staleness (a report from beyond now_ms is left to the estimator). */
static bool still_clean(const struct vm *v, uint64_t now_ms, uint64_t stale_ms)
{
    if (!v->clean || now_ms < v->sample_ms)
        return false;
    return v->stale || now_ms - v->sample_ms < stale_ms;
}

/* The refresh of the listed VMs over a large fleet is a pipeline: the
 * records of the VM `3 x REFRESH_AHEAD` places ahead are asked for, then
 * for the VM `2 x` ahead, once its record is in, its estimator's first
 * lines, then for the VM `1 x` ahead, when its demand rose, the history
 * its trend reads. Each stage reads only what the stage before asked for,
 * so a hint never waits on memory itself. */
#define REFRESH_AHEAD 4
static void prefetch_refresh(const struct dynmem_balancer *b, const uint32_t *list, uint32_t k,
                             uint32_t n, uint64_t now_ms)
{
    if (k + 3 * REFRESH_AHEAD < n)
        prefetch_vm_lines(b, list[k + 3 * REFRESH_AHEAD], 1, VM_HOT_LINES - 1);
    if (k + 2 * REFRESH_AHEAD < n) {
        const struct vm *w = &b->vms[list[k + 2 * REFRESH_AHEAD]];
        if (will_ask(w, now_ms) && reads_estimator(w, now_ms))
            dynmem__pressure_prefetch(w->est);
    }
    if (k + REFRESH_AHEAD < n && b->policy == DYNMEM_POLICY_DYNMEM) {
        const struct vm *w = &b->vms[list[k + REFRESH_AHEAD]];
        if (will_ask(w, now_ms) && reads_estimator(w, now_ms))
            dynmem__pressure_prefetch_trend(w->est, w->obs.demand_bytes);
    }
}

/* Brings v->obs up to date. Nothing is done unless something it depends
 * on changed; a VM whose only news is a new assignment has its pressure
 * and status worked out here, with the estimator's formulas and settings
 * (the buffer is the configuration's), and the estimator is read only for
 * a new report or configuration. This is what keeps a tick over a large,
 * mostly steady fleet cheap. The estimator learns the assignment with
 * each sample (vm_sample), not from the tick. */
static void observe(struct dynmem_balancer *b, struct vm *v, uint64_t now_ms)
{
    if (!will_ask(v, now_ms)) {
        v->trend = 0; /* no rise since the last tick */
        return;
    }
    uint64_t assigned = max_u64(v->assigned, PAGE_BYTES);
    v->observed_assigned = v->assigned;
    if (!reads_estimator(v, now_ms)) {
        v->obs.pressure = dynmem__pressure_percent(v->obs.demand_bytes, assigned);
        v->obs.status =
            (uint32_t)dynmem__pressure_status(v->obs.demand_bytes, assigned, v->buffer_percent);
        v->trend = 0;
        return;
    }
    uint64_t previous_demand = v->obs.demand_bytes;
    int rc = dynmem__pressure_current(v->est, now_ms, assigned, &v->obs);
    if (rc)
        v->obs = (struct dynmem__observation){0};
    v->trend = 0;
    v->has_data = rc == 0 && !(v->obs.flags & DYNMEM_REPORT_NO_DATA);
    v->dirty = false;
    /* Only a rising demand needs its trend (the lookahead ignores falling
     * ones), and the trend is the one figure that walks the history. */
    if (v->has_data && b->policy == DYNMEM_POLICY_DYNMEM && v->obs.demand_bytes > previous_demand)
        v->trend = dynmem__pressure_recent_trend(v->est, now_ms, TREND_HORIZON_MS);
}

/* A held-back VM (see struct vm) is not brought below what its guest kept
 * using, host memory and paged gap together: a paged gap there is backed
 * rather than asked for again. The hold ends at its time or once the
 * demand falls (the guest may have more to give). */
static void hold_floor(struct vm *v, uint64_t now_ms)
{
    if (now_ms >= v->hold_until_ms || v->obs.demand_bytes < v->hold_demand) {
        v->held = false;
        return;
    }
    v->floor = max_u64(v->floor, min_u64(v->hold_usable, v->ceiling));
}

/* Brings the VM's figures up to date and derives floor, need, want and ceiling. */
static void refresh_vm(struct dynmem_balancer *b, struct vm *v, uint64_t now_ms)
{
    if (v->busy && !v->stuck && now_ms - v->progress_ms >= (uint64_t)b->stuck_ms)
        v->stuck = true;
    observe(b, v, now_ms);
    /* The estimator's sample time is v->sample_ms. */
    v->stale = v->has_data && now_ms - v->sample_ms >= (uint64_t)b->stale_ms;
    uint64_t cur = vm_holding(v);
    bool distressed = b->policy == DYNMEM_POLICY_DYNMEM && (v->obs.flags & DYNMEM_REPORT_DISTRESS);
    v->floor = can_shrink(v) && !distressed ? min_u64(v->minimum, cur) : cur;
    v->ceiling = max_u64(can_hot_add(v) ? v->maximum : v->visible, cur);
    if (v->held)
        hold_floor(v, now_ms);
    /* The estimator's target already uses this VM's buffer and bounds; it
     * is recomputed only when the lookahead moved the demand. What the
     * lookahead adds beyond Hyper-V's rule may come from the balloon only:
     * hot-added memory raises the visible maximum for good unless the
     * guest can hot-remove, so it is not spent on a forecast. */
    uint64_t demand = planning_demand(b, v), target = v->obs.target_bytes;
    if (demand != v->obs.demand_bytes) { /* the configuration was checked when set */
        uint64_t ahead = dynmem__pressure_target(demand, v->buffer_percent, v->minimum, v->maximum);
        target = max_u64(target, min_u64(ahead, v->visible));
    }
    v->need = clamp_u64(round_up_unit(v->obs.demand_bytes), v->floor, v->ceiling);
    v->want = clamp_u64(target, v->need, v->ceiling);
    v->plannable = v->has_data && !v->stale && !v->stuck && !v->busy && is_dynamic(v) &&
                   b->policy != DYNMEM_POLICY_STATIC;
    /* dynmem and hyperv start every plannable VM at its want and cut from
     * there (balancer_policy.c); everything else starts where it is. */
    bool starts_at_want = v->plannable && !dynmem__is_peer(b->policy);
    v->entitled = starts_at_want ? v->want : cur;
    /* Nothing here moves with time until the VM turns stale, unless it
     * waits on an action (it may turn stuck), its lookahead used a trend
     * (the next tick without a new report drops it) or it is held back
     * (the hold ends with time). */
    v->clean = v->has_data && !v->busy && v->trend == 0 && !v->held;
}

/* Peers: the per-tick step a comparison policy set for a VM it planned
 * (proxmox's 100 MiB), or no cap. */
static uint64_t policy_cap(const struct dynmem_balancer *b, const struct vm *v)
{
    bool capped = dynmem__is_peer(b->policy) && v->plannable && v->step_cap;
    return capped ? v->step_cap : UINT64_MAX;
}

static void issue(struct dynmem_balancer *b, struct vm *v, uint32_t kind, uint64_t bytes,
                  uint32_t reason, uint64_t now_ms, uint64_t host_free)
{
    struct dynmem_action a = {.size = sizeof a};
    a.kind = kind;
    a.vm_id = dynmem__bal_vm_id(b, v);
    a.action_id = b->next_action_id++;
    a.bytes = bytes;
    bool grow = kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD ||
                kind == DYNMEM_ACTION_PAGE_IN;
    uint64_t cur = vm_holding(v);
    a.target_bytes = grow ? cur + bytes : (kind == DYNMEM_ACTION_BALLOON ? v->assigned - (bytes - min_u64(bytes, v->paged)) : cur - bytes);
    a.reason = reason;
    a.policy = (uint32_t)b->policy;
    a.demand_bytes = v->obs.demand_bytes;
    a.assigned_bytes = cur;
    a.entitled_bytes = v->entitled;
    a.host_free_bytes = host_free;
    a.weight = v->weight;
    a.pressure = v->obs.pressure;
    uint32_t tail = b->qhead + b->qlen; /* both below cap: no division */
    b->queue[tail >= b->cap ? tail - b->cap : tail] = a;
    b->qlen++;
    v->busy = true;
    v->clean = false;
    v->act = (struct outstanding){a.action_id, kind, reason, bytes, 0};
    v->progress_ms = now_ms;
    if (grow) {
        v->in_flight += bytes;
        b->used += bytes;
    }
}

/* The hot-add toward `g` more bytes for a VM whose visible memory is
 * `visible`: whole chunks of its alignment, within its maximum and `limit`
 * (free memory, step caps); rounded up to a chunk when the limit allows. */
static uint64_t hot_add_bytes(const struct vm *v, uint64_t g, uint64_t visible, uint64_t limit)
{
    uint64_t align = v->hot_add_alignment;
    uint64_t room = v->maximum > visible ? v->maximum - visible : 0;
    limit = min_u64(room, limit);
    uint64_t n = min_u64((g + align - 1) / align * align, round_down(limit, align));
    if (n < g && n + align <= limit)
        n += align;
    return n;
}

/* Growth of up to `want` bytes from `*host_free`: a smart-paged gap is
 * backed first, then ballooned memory given back (the guest already sees
 * both), then aligned chunks hot-added. When the balloon does not cover
 * the growth, the hot-add is chained to the unballoon: its memory is taken
 * now and it is issued when the unballoon is confirmed complete
 * (dynmem__bal_action_over). Returns the bytes issued. */
static uint64_t grow_vm(struct dynmem_balancer *b, struct vm *v, uint64_t want, uint32_t reason,
                        uint64_t now_ms, uint64_t *host_free)
{
    uint64_t cap = min_u64(b->max_grow ? (uint64_t)b->max_grow : UINT64_MAX, policy_cap(b, v));
    uint64_t g = min_u64(min_u64(want, *host_free), cap);
    uint64_t balloon = vm_balloon(v), chained = 0;
    uint32_t kind;
    uint64_t n;
    if (v->paged) {
        kind = DYNMEM_ACTION_PAGE_IN;
        n = round_down(min_u64(g, v->paged), PAGE_BYTES);
        reason = DYNMEM_REASON_SMART_PAGING_BACK;
    } else if (balloon >= PAGE_BYTES) {
        kind = DYNMEM_ACTION_UNBALLOON;
        n = min_u64(g, balloon);
        if (g > n && can_hot_add(v))
            chained = hot_add_bytes(v, g - n, v->visible, min_u64(*host_free, cap) - n);
    } else if (can_hot_add(v)) {
        kind = DYNMEM_ACTION_HOT_ADD;
        n = hot_add_bytes(v, g, v->visible, min_u64(*host_free, cap));
    } else {
        return 0;
    }
    if (n == 0)
        return 0;
    /* Partial: this growth will not bring the VM to its target, because
     * the policy entitled it to less or free memory or the step cap cut it.
     * Peers' targets are not demand + buffer: only free memory or a cap
     * count. */
    bool short_of_want = !dynmem__is_peer(b->policy) && v->entitled < v->want;
    if (reason == DYNMEM_REASON_GROW && (short_of_want || g < want))
        reason = DYNMEM_REASON_GROW_PARTIAL;
    uint64_t before = *host_free;
    *host_free -= n + chained;
    issue(b, v, kind, n, reason, now_ms, before);
    if (chained) {
        v->chain_bytes = chained;
        v->chain_reason = reason;
        v->in_flight += chained;
        b->used += chained;
    }
    return n + chained;
}

/* A guest gives its highest pages, and hot-removed pages can be hot-added
 * again only as whole aligned chunks (the guest's hot-add alignment). So a
 * guest that takes hot-add is asked to hot-remove whole chunks only, and
 * only while nothing is ballooned (ballooned pages sit on top, and the
 * pages below them are not aligned): otherwise every small hot-remove
 * would use up a chunk of its hot-add window for good, until it could not
 * grow at all. Rounds *bytes down to whole chunks; false when not even one
 * chunk can go this way (then the balloon takes it; a guest without a
 * balloon still hot-removes what it is asked). */
static bool hot_remove_whole_chunks(const struct vm *v, uint64_t *bytes)
{
    uint64_t align = v->hot_add_alignment;
    if (!(v->cfg_flags & DYNMEM_VM_CAN_HOT_ADD) || align <= UNIT)
        return true;
    if (vm_balloon(v) >= PAGE_BYTES || *bytes < align)
        return false;
    *bytes = round_down(*bytes, align);
    return true;
}

static void shrink_vm(struct dynmem_balancer *b, struct vm *v, uint64_t bytes, uint32_t reason,
                      uint64_t now_ms, uint64_t host_free)
{
    if (b->max_shrink)
        bytes = min_u64(bytes, (uint64_t)b->max_shrink);
    bytes = min_u64(bytes, policy_cap(b, v));
    if (bytes < PAGE_BYTES)
        return;
    /* A smart-paged gap drains only by ballooning (the balloon takes the
     * paged part first, apply_progress in balancer_facts.c). */
    bool balloon_only = v->paged != 0;
    if (balloon_only && !(v->cfg_flags & DYNMEM_VM_CAN_BALLOON))
        return;
    bool remove = (v->cfg_flags & DYNMEM_VM_CAN_HOT_REMOVE) && !balloon_only;
    if (remove && (v->cfg_flags & DYNMEM_VM_CAN_BALLOON) && !hot_remove_whole_chunks(v, &bytes))
        remove = false;
    issue(b, v, remove ? DYNMEM_ACTION_HOT_REMOVE : DYNMEM_ACTION_BALLOON, bytes, reason, now_ms,
          host_free);
}

/* Smart-paged VMs: back the gap from free memory, else drain it by
 * ballooning while the guest holds more than its target (B15). */
static void plan_paged(struct dynmem_balancer *b, struct vm *v, uint64_t now_ms, uint64_t *host_free)
{
    uint64_t n = min_u64(v->paged, round_down(*host_free, UNIT));
    if (n) {
        uint64_t before = *host_free;
        *host_free -= n;
        issue(b, v, DYNMEM_ACTION_PAGE_IN, n, DYNMEM_REASON_SMART_PAGING_BACK, now_ms, before);
        return;
    }
    uint64_t usable = v->assigned + v->paged;
    uint64_t goal = v->has_data ? max_u64(v->want, v->minimum) : v->minimum;
    if (v->held)
        goal = max_u64(goal, v->hold_usable);
    if (usable > goal && (v->cfg_flags & DYNMEM_VM_CAN_BALLOON))
        issue(b, v, DYNMEM_ACTION_BALLOON, min_u64(v->paged, usable - goal),
              DYNMEM_REASON_SMART_PAGING_DRAIN, now_ms, *host_free);
}

static void plan_resize(struct dynmem_balancer *b, struct vm *v, uint64_t now_ms, uint64_t *host_free)
{
    uint64_t cur = vm_holding(v);
    if (v->resize_target > cur) {
        if (!grow_vm(b, v, v->resize_target - cur, DYNMEM_REASON_RESIZE, now_ms, host_free))
            v->resizing = false; /* nothing more can be done */
    } else if (v->resize_target < cur) {
        shrink_vm(b, v, cur - v->resize_target, DYNMEM_REASON_RESIZE, now_ms, *host_free);
    } else {
        v->resizing = false;
    }
}

/* The dynmem policy keeps a free pool of 1/LOW_FREE_SHARE of the host: below
 * it, a surplus is reclaimed at once, without the calm period or steps, so
 * that the next rise elsewhere finds free memory now instead of waiting a
 * round trip to the guest holding it. */
#define LOW_FREE_SHARE 32

static bool free_pool_low(const struct dynmem_balancer *b, uint64_t host_free)
{
    return b->policy == DYNMEM_POLICY_DYNMEM && host_free < (uint64_t)b->host_total / LOW_FREE_SHARE;
}

/* Lazy reclaim (B7): a surplus above the target must last the calm period.
 * The dynmem policy then shrinks in steps (a quarter of the surplus, at least
 * the deadband) so that a demand coming back meets memory still there,
 * unless the host's free pool is low (all of it at once). */
static uint64_t lazy_reclaim(struct dynmem_balancer *b, struct vm *v, uint64_t now_ms,
                             uint64_t host_free)
{
    uint64_t cur = vm_holding(v);
    if (cur <= v->entitled + (uint64_t)b->deadband) {
        vm_end_surplus(v);
        return 0;
    }
    if (!v->in_surplus) {
        v->surplus_since_ms = now_ms;
        v->in_surplus = true;
    }
    uint64_t surplus = cur - v->entitled;
    if (free_pool_low(b, host_free))
        return surplus;
    uint64_t calm = v->calm_period_ms ? v->calm_period_ms : (uint64_t)b->calm_ms;
    if (now_ms - v->surplus_since_ms < calm)
        return 0;
    uint64_t step = max_u64(round_up_unit(surplus / 4), max_u64((uint64_t)b->deadband, UNIT));
    /* The last steps go in one: a remainder below two steps is not worth
     * another round trip to the guest. */
    if (b->policy == DYNMEM_POLICY_DYNMEM && surplus > 2 * step)
        return step;
    return surplus;
}

static bool wants_growth(const struct dynmem_balancer *b, const struct vm *v)
{
    uint64_t cur = vm_holding(v);
    if (v->entitled <= cur)
        return false;
    /* Peers apply their own deadbands when they entitle. */
    if (dynmem__is_peer(b->policy))
        return v->entitled - cur >= PAGE_BYTES;
    /* A starving guest grows at once, and a smart-paged gap is backed
     * whatever its size; otherwise the deadband applies. */
    return v->entitled - cur >= (uint64_t)b->deadband || cur < v->need || v->paged;
}

/* Why a plannable VM gives memory under scarcity: its share, or more
 * than its share because a VM weights ask first is held back. */
static uint32_t scarcity_reason(const struct dynmem_balancer *b, const struct vm *v)
{
    return b->held_weight <= v->weight ? DYNMEM_REASON_SCARCITY_NEXT : DYNMEM_REASON_SCARCITY;
}

/* The shrink step of a plannable VM that uses more than its entitlement. A
 * smart-paged gap goes at once, before any calm period (B15): ballooning
 * drains it first. */
static void shrink_planned(struct dynmem_balancer *b, struct vm *v, bool scarce, uint64_t now_ms,
                           uint64_t host_free)
{
    uint64_t over = vm_usable(v) - v->entitled;
    if (dynmem__is_peer(b->policy)) {
        shrink_vm(b, v, over, DYNMEM_REASON_POLICY, now_ms, host_free);
    } else if (scarce) {
        shrink_vm(b, v, over, scarcity_reason(b, v), now_ms, host_free);
    } else if (v->paged) {
        shrink_vm(b, v, min_u64(over, v->paged), DYNMEM_REASON_SMART_PAGING_DRAIN, now_ms,
                  host_free);
    } else {
        uint64_t step = lazy_reclaim(b, v, now_ms, host_free);
        if (step)
            shrink_vm(b, v, step, DYNMEM_REASON_LAZY_RECLAIM, now_ms, host_free);
    }
}

/* The shrink step of one VM (see plan_actions). */
static void shrink_step(struct dynmem_balancer *b, struct vm *v, bool scarce, uint64_t now_ms,
                        uint64_t *host_free)
{
    if (v->plannable && !v->resizing)
        shrink_planned(b, v, scarce, now_ms, *host_free);
    else if (v->paged)
        plan_paged(b, v, now_ms, host_free);
    else
        plan_resize(b, v, now_ms, host_free);
}

/* What the planning pass collects: VMs for the shrink step (slot order),
 * VMs to grow with their ranks (slot order), the growth they want. */
struct collected {
    uint32_t shrinks, growths;
    uint64_t growth_wanted;
};

/* The planning pass's look at one running VM. */
static void collect(struct dynmem_balancer *b, uint32_t i, struct collected *c)
{
    struct vm *v = &b->vms[i];
    /* The refresh made a VM plannable only if it was neither busy nor
     * stuck, and a resizing VM is static: neither changed since. */
    if (!v->plannable) {
        if (!v->busy && !v->stuck && (v->paged || v->resizing))
            b->order[c->shrinks++] = i;
        return;
    }
    if (vm_usable(v) > v->entitled) {
        b->order[c->shrinks++] = i;
        return;
    }
    if (v->in_surplus)
        vm_end_surplus(v); /* at or below its entitlement */
    if (!wants_growth(b, v))
        return;
    c->growth_wanted += v->entitled - vm_holding(v);
    /* Higher weight first, then the larger shortfall in 2 MiB units
     * (14 bits of weight above 32 bits of units); peers rank by their
     * own figure, higher first. */
    uint64_t units = round_up_unit(v->entitled - vm_holding(v)) / UNIT;
    uint64_t key = ~(((uint64_t)v->weight << 32) | units);
    if (dynmem__is_peer(b->policy))
        key = dynmem__rank_of_double(-v->grow_rank);
    b->ranks[c->growths++] = (struct dynmem__rank){key, i};
}

/* Whether collect() may do anything for a running VM whose entitlement is
 * final (a superset: a VM short of its entitlement within the deadband
 * is marked too). */
static bool has_plan_work(const struct vm *v)
{
    if (!v->plannable)
        return !v->busy && !v->stuck && (v->paged || v->resizing);
    return vm_holding(v) != v->entitled || v->in_surplus || v->paged;
}

static void mark_work(struct dynmem_balancer *b, uint32_t i, const struct vm *v)
{
    if (has_plan_work(v))
        b->work[i / 64] |= UINT64_C(1) << (i % 64);
}

/* The planning pass collects the VMs that will grow (with the demand for
 * growth) and those the shrink step has work for; then the shrinks,
 * page-ins and resizes are queued in slot order, then growth. Shrinks are
 * decided after the whole pass, because whether memory is scarce depends
 * on every VM's growth; they leave the growing VMs as they are (a
 * plannable VM is not busy, and one that grows does not shrink; one a
 * resize made busy is skipped below). When the policy kept the
 * entitlements the refresh set (`marked`), the pass looks only at the VMs
 * the refresh marked, in slot order; the others have nothing to do. */
static void plan_actions(struct dynmem_balancer *b, uint64_t now_ms, bool marked)
{
    uint64_t host_free = dynmem__bal_free(b);
    struct collected c = {0, 0, 0};
    bool prefetch = b->nvms >= PREFETCH_MIN_VMS;
    if (marked) {
        uint32_t words = (b->nvms + 63) / 64;
        for (uint32_t w = 0; w < words; w++) {
            /* The marked VMs two words on, 64 to 128 slots ahead. */
            if (prefetch && w + 2 < words)
                for (uint64_t bits = b->work[w + 2]; bits; bits &= bits - 1)
                    prefetch_vm(b, (w + 2) * 64 + (uint32_t)__builtin_ctzll(bits));
            for (uint64_t bits = b->work[w]; bits; bits &= bits - 1)
                collect(b, w * 64 + (uint32_t)__builtin_ctzll(bits), &c);
        }
    } else {
        for (uint32_t i = 0; i < b->nvms; i++) {
            if (prefetch)
                prefetch_vm(b, i + 4 * PREFETCH_AHEAD);
            if (b->vms[i].in_use && b->vms[i].running)
                collect(b, i, &c);
        }
    }
    uint32_t m = c.shrinks, n = c.growths;
    uint64_t growth_wanted = c.growth_wanted;
    bool scarce = growth_wanted > host_free;
    for (uint32_t k = 0; k < m; k++) {
        if (prefetch && k + PREFETCH_AHEAD < m)
            prefetch_vm_acting(b, b->order[k + PREFETCH_AHEAD]);
        shrink_step(b, &b->vms[b->order[k]], scarce, now_ms, &host_free);
    }
    /* Order matters only when free memory cannot cover every request; the
     * ranks were collected in slot order, which is the order otherwise. */
    const struct dynmem__rank *r = b->ranks;
    if (growth_wanted > host_free)
        r = dynmem__rank_sort(b->ranks, b->ranks + b->cap, n);
    for (uint32_t k = 0; k < n && host_free >= PAGE_BYTES; k++) {
        /* Served in rank order, all over the array: the record of the VM
         * served AHEAD places later loads while this one grows. */
        if (prefetch && k + PREFETCH_AHEAD < n)
            prefetch_vm_acting(b, r[k + PREFETCH_AHEAD].slot);
        struct vm *v = &b->vms[r[k].slot];
        if (!v->busy)
            grow_vm(b, v, v->entitled - vm_holding(v), DYNMEM_REASON_GROW, now_ms, &host_free);
    }
}

/* Adds a refreshed VM to the tick's totals. */
static void account(const struct vm *v, uint64_t *fixed, struct dynmem__plan_sums *sums)
{
    if (!v->plannable) {
        *fixed += vm_holding(v);
        return;
    }
    sums->want += v->want;
    sums->need += v->need;
    sums->floor += v->floor;
}

/* Refreshes every running VM: one pass over the records' first lines
 * settles the clean VMs and lists the others, which are then refreshed
 * in slot order (each VM's refresh depends only on its own record). The
 * totals are kept in locals: stores to the records could alias them. */
static void refresh_all(struct dynmem_balancer *b, uint64_t now_ms, uint64_t *fixed_out,
                        struct dynmem__plan_sums *sums_out)
{
    uint64_t fixed = 0;
    struct dynmem__plan_sums sums = {0, 0, 0};
    uint32_t n = 0, nvms = b->nvms;
    bool prefetch = nvms >= PREFETCH_MIN_VMS;
    bool at_want = !dynmem__is_peer(b->policy);
    uint64_t stale_ms = (uint64_t)b->stale_ms;
    struct vm *vms = b->vms;
    uint32_t *list = b->order;
    memset(b->work, 0, (nvms + 63) / 64 * sizeof *b->work);
    for (uint32_t i = 0; i < nvms; i++) {
        if (prefetch)
            prefetch_vm(b, i + 4 * PREFETCH_AHEAD);
        struct vm *v = &vms[i];
        if (!v->in_use || !v->running)
            continue;
        if (!still_clean(v, now_ms, stale_ms)) {
            list[n++] = i;
            continue;
        }
        v->entitled = v->plannable && at_want ? v->want : vm_holding(v);
        account(v, &fixed, &sums);
        mark_work(b, i, v);
    }
    uint32_t held_weight = UINT32_MAX; /* held-back VMs are never clean */
    for (uint32_t k = 0; k < n; k++) {
        if (prefetch)
            prefetch_refresh(b, list, k, n, now_ms);
        struct vm *v = &vms[list[k]];
        refresh_vm(b, v, now_ms);
        account(v, &fixed, &sums);
        mark_work(b, list[k], v);
        if (v->held && v->plannable && v->weight < held_weight)
            held_weight = v->weight;
    }
    b->held_weight = held_weight;
    *fixed_out = fixed;
    *sums_out = sums;
}

/* Back-off of a held-back VM: 5 s, doubling with each short answer in a
 * row, at most 5 min. */
#define HOLD_FIRST_MS UINT64_C(5000)
#define HOLD_MAX_MS UINT64_C(300000)

static void hold_back(struct vm *v, uint64_t now_ms)
{
    uint32_t strikes = v->hold_strikes < 7 ? v->hold_strikes : 7;
    v->hold_strikes = strikes + 1;
    v->hold_until_ms = now_ms + min_u64(HOLD_FIRST_MS << strikes, HOLD_MAX_MS);
    v->hold_usable = v->assigned + v->paged;
    v->hold_demand = v->obs.demand_bytes;
    v->held = true;
}

void dynmem__bal_action_over(struct dynmem_balancer *b, struct vm *v, const struct outstanding *act,
                             uint64_t now_ms)
{
    bool complete = act->done == act->bytes;
    if (act->kind == DYNMEM_ACTION_BALLOON || act->kind == DYNMEM_ACTION_HOT_REMOVE) {
        if (act->reason == DYNMEM_REASON_RESIZE)
            return;
        if (complete)
            v->hold_strikes = 0;
        else
            hold_back(v, now_ms);
        return;
    }
    uint64_t chained = v->chain_bytes;
    if (!chained)
        return;
    v->chain_bytes = 0;
    v->in_flight -= chained;
    b->used -= chained;
    /* A hot-add on top of a balloon the guest did not empty would grow
     * what it sees while it still has ballooned memory to take back. */
    bool fits = v->maximum >= v->visible + chained;
    if (act->kind == DYNMEM_ACTION_UNBALLOON && complete && can_hot_add(v) && fits &&
        b->qlen < b->cap)
        issue(b, v, DYNMEM_ACTION_HOT_ADD, chained, v->chain_reason, now_ms, dynmem__bal_free(b));
}

/* The reference path's refresh (see dynmem__bal_set_reference): every
 * running VM from scratch, its estimator read as if a report had come, and
 * the memory in use counted again from the records. */
static void refresh_all_plainly(struct dynmem_balancer *b, uint64_t now_ms, uint64_t *fixed,
                                struct dynmem__plan_sums *sums)
{
    b->used = 0;
    b->held_weight = UINT32_MAX;
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!v->in_use || !v->running)
            continue;
        b->used += vm_holding(v);
        v->dirty = true;
        refresh_vm(b, v, now_ms);
        account(v, fixed, sums);
        if (v->held && v->plannable && v->weight < b->held_weight)
            b->held_weight = v->weight;
    }
}

void dynmem__bal_set_reference(struct dynmem_balancer *b, bool on)
{
    b->reference = on;
}

int dynmem__bal_tick(struct dynmem_balancer *b, uint64_t now_ms)
{
    b->last_tick_ms = now_ms;
    uint64_t fixed = 0;
    struct dynmem__plan_sums sums = {0, 0, 0};
    if (b->reference)
        refresh_all_plainly(b, now_ms, &fixed, &sums);
    else
        refresh_all(b, now_ms, &fixed, &sums);
    uint64_t limit = (uint64_t)b->host_total - dynmem__bal_reserve(b);
    bool kept = dynmem__policy_entitle(b, limit > fixed ? limit - fixed : 0, &sums);
    plan_actions(b, now_ms, kept && !b->reference);
    return DYNMEM_OK;
}

int dynmem_balancer_tick(dynmem_balancer *b, uint64_t now_ms, size_t *queued)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    if (b->host_total == 0)
        return DYNMEM_ERR_BAD_STATE;
    if (now_ms < b->last_tick_ms)
        return DYNMEM_ERR_PRESSURE_TIME_BACKWARDS;
    int rc = dynmem__bal_tick(b, now_ms);
    if (queued)
        *queued = b->qlen;
    return rc;
}
