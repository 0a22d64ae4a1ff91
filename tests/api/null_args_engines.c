/* NULL-argument entries of balancer.h and session.h: one thunk per function
 * that takes a pointer. */
#include "null_args.h"

/* ---- balancer.h ---------------------------------------------------------- */

static void t_vm_config_check(struct world *w)
{
    REFUSED("config", dynmem_vm_config_check(NULL));
}

static void t_vm_config_init(struct world *w)
{
    REFUSED("config", dynmem_vm_config_init(NULL, sizeof w->cfg));
}

static void t_vm_config_explain(struct world *w)
{
    char text[64];
    REFUSED("config", dynmem_vm_config_explain(NULL, text, sizeof text));
    REFUSED("msg", dynmem_vm_config_explain(&w->cfg, NULL, sizeof text));
}

static void t_host_config_check(struct world *w)
{
    char text[64];
    REFUSED("host", dynmem_host_config_check(NULL, text, sizeof text));
    REFUSED("msg", dynmem_host_config_check(&w->host, NULL, sizeof text));
}

static void t_config_check(struct world *w)
{
    char text[64];
    size_t bad = 7;
    REFUSED("vms", dynmem_config_check(&w->host, NULL, 1, &bad, text, sizeof text));
    REFUSED("msg", dynmem_config_check(&w->host, &w->config_vm, 1, &bad, NULL, sizeof text));
    UNCHANGED("vms", bad, 7);
}

static void t_balancer_new(struct world *w)
{
    REFUSED("out", dynmem_balancer_new(NULL, w->alloc));
}

static void t_balancer_free(struct world *w)
{
    NO_OP("b", dynmem_balancer_free(NULL));
}

static void t_balancer_param_bounds(struct world *w)
{
    int64_t lo, hi;
    REFUSED("min", dynmem_balancer_param_bounds(w->bal_param, NULL, &hi));
    REFUSED("max", dynmem_balancer_param_bounds(w->bal_param, &lo, NULL));
}

static void t_balancer_set_param(struct world *w)
{
    REFUSED("b", dynmem_balancer_set_param(NULL, w->bal_param, 1000));
}

static void t_balancer_get_param(struct world *w)
{
    int64_t v;
    REFUSED("b", dynmem_balancer_get_param(NULL, w->bal_param, &v));
    REFUSED("value", dynmem_balancer_get_param(w->b, w->bal_param, NULL));
}

static void t_vm_add(struct world *w)
{
    uint64_t id;
    REFUSED("b", dynmem_balancer_vm_add(NULL, &w->cfg, &id));
    REFUSED("config", dynmem_balancer_vm_add(w->b, NULL, &id));
    REFUSED("vm_id", dynmem_balancer_vm_add(w->b, &w->cfg, NULL));
}

static void t_vm_remove(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_remove(NULL, w->vm));
}

static void t_vm_start(struct world *w)
{
    uint64_t missing = 7;
    REFUSED("b", dynmem_balancer_vm_start(NULL, w->vm, w->now, &missing));
    UNCHANGED("b", missing, 7);
}

static void t_vm_restart(struct world *w)
{
    uint64_t paged = 7;
    REFUSED("b", dynmem_balancer_vm_restart(NULL, w->vm, w->now, &paged));
    UNCHANGED("b", paged, 7);
}

static void t_vm_stop(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_stop(NULL, w->vm));
}

static void t_vm_configure(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_configure(NULL, w->vm, &w->cfg));
    REFUSED("config", dynmem_balancer_vm_configure(w->b, w->vm, NULL));
}

static void t_vm_resize(struct world *w)
{
    uint64_t granted = 7;
    REFUSED("b", dynmem_balancer_vm_resize(NULL, w->vm, w->now, w->cfg.startup_bytes, &granted));
    UNCHANGED("b", granted, 7);
}

static void t_vm_sample(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_sample(NULL, w->vm, &w->sample));
    REFUSED("sample", dynmem_balancer_vm_sample(w->b, w->vm, NULL));
}

static void t_vm_set_pressure_param(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_set_pressure_param(NULL, w->vm, w->pressure_param, 1000));
}

static void t_last_error(struct world *w)
{
    char text[64] = "x";
    REFUSED("b", dynmem_balancer_last_error(NULL, text, sizeof text));
    REFUSED("buf", dynmem_balancer_last_error(w->b, NULL, sizeof text));
    UNCHANGED("b", text[0], 'x');
}

static void t_tick(struct world *w)
{
    size_t queued;
    REFUSED("b", dynmem_balancer_tick(NULL, w->now, &queued));
}

static void t_next_action(struct world *w)
{
    REFUSED("b", dynmem_balancer_next_action(NULL, &w->action));
    REFUSED("action", dynmem_balancer_next_action(w->b, NULL));
}

static void t_confirm(struct world *w)
{
    REFUSED("b", dynmem_balancer_confirm(NULL, w->vm, w->action_id, w->now, 4096, 0));
}

static void t_vm_counters(struct world *w)
{
    REFUSED("b", dynmem_balancer_vm_counters(NULL, w->vm, &w->vm_counters));
    REFUSED("counters", dynmem_balancer_vm_counters(w->b, w->vm, NULL));
}

static void t_host_counters(struct world *w)
{
    REFUSED("b", dynmem_balancer_host_counters(NULL, &w->host_counters));
    REFUSED("counters", dynmem_balancer_host_counters(w->b, NULL));
}

static void t_check(struct world *w)
{
    REFUSED("b", dynmem_balancer_check(NULL));
}

static void t_action_describe(struct world *w)
{
    char text[16];
    REFUSED("action", dynmem_action_describe(NULL, text, sizeof text));
    REFUSED("buf", dynmem_action_describe(&w->action, NULL, sizeof text));
}

/* ---- session.h: host ----------------------------------------------------- */

static void t_host_new(struct world *w)
{
    dynmem_session_host *h = NULL;
    REFUSED("out", dynmem_session_host_new(NULL, w->sp.map, w->alloc));
    REFUSED("map", dynmem_session_host_new(&h, NULL, w->alloc));
    dynmem_session_host_free(h);
}

static void t_host_free(struct world *w)
{
    NO_OP("h", dynmem_session_host_free(NULL));
}

static void t_host_param_bounds(struct world *w)
{
    int64_t lo, hi;
    REFUSED("out_min", dynmem_session_host_param_bounds(w->host_param, NULL, &hi));
    REFUSED("out_max", dynmem_session_host_param_bounds(w->host_param, &lo, NULL));
}

static void t_host_set_param(struct world *w)
{
    REFUSED("h", dynmem_session_host_set_param(NULL, w->host_param, 1000));
}

static void t_host_get_param(struct world *w)
{
    int64_t v;
    REFUSED("h", dynmem_session_host_get_param(NULL, w->host_param, &v));
    REFUSED("out", dynmem_session_host_get_param(w->sp.h, w->host_param, NULL));
}

static void t_host_open(struct world *w)
{
    REFUSED("h", dynmem_session_host_open(NULL, w->now));
}

static void t_host_close(struct world *w)
{
    REFUSED("h", dynmem_session_host_close(NULL, w->now));
}

static void t_host_reset(struct world *w)
{
    REFUSED("h", dynmem_session_host_reset(NULL, w->now, DYNMEM_SESSION_RESET_VMBUS));
}

static void t_host_recv(struct world *w)
{
    REFUSED("h", dynmem_session_host_recv(NULL, w->now, w->buf, w->len));
    REFUSED("buf", dynmem_session_host_recv(w->sp.h, w->now, NULL, w->len));
}

static void t_host_next_send(struct world *w)
{
    size_t n;
    REFUSED("h", dynmem_session_host_next_send(NULL, w->buf, sizeof w->buf, &n));
    REFUSED("buf", dynmem_session_host_next_send(w->sp.h, NULL, sizeof w->buf, &n));
    REFUSED("out_len", dynmem_session_host_next_send(w->sp.h, w->buf, sizeof w->buf, NULL));
}

static void t_host_tick(struct world *w)
{
    REFUSED("h", dynmem_session_host_tick(NULL, w->now));
}

static void t_host_next_deadline(struct world *w)
{
    uint64_t at;
    REFUSED("h", dynmem_session_host_next_deadline(NULL, &at));
    REFUSED("out_ms", dynmem_session_host_next_deadline(w->sp.h, NULL));
}

static void t_host_next_event(struct world *w)
{
    REFUSED("h", dynmem_session_host_next_event(NULL, &w->ev));
    REFUSED("ev", dynmem_session_host_next_event(w->sp.h, NULL));
}

static void t_host_set_target(struct world *w)
{
    REFUSED("h", dynmem_session_host_set_target(NULL, w->now, 1u << 30));
}

static void t_host_clear_target(struct world *w)
{
    REFUSED("h", dynmem_session_host_clear_target(NULL));
}

static void t_host_start_action(struct world *w)
{
    uint32_t kind = w->kind == WORLD_HOSTILE ? 99 : DYNMEM_ACTION_BALLOON;
    REFUSED("h", dynmem_session_host_start_action(NULL, w->now, kind, 1u << 20, 1));
}

static void t_session_counters(struct world *w)
{
    REFUSED("h", dynmem_session_host_counters(NULL, &w->session_counters));
    REFUSED("out", dynmem_session_host_counters(w->sp.h, NULL));
}

static void t_host_last_error(struct world *w)
{
    char text[64] = "x";
    REFUSED("h", dynmem_session_host_last_error(NULL, text, sizeof text));
    REFUSED("buf", dynmem_session_host_last_error(w->sp.h, NULL, sizeof text));
    UNCHANGED("h", text[0], 'x');
}

static void t_host_state(struct world *w)
{
    REFUSED("h", dynmem_session_host_state(NULL));
}

static void t_event_to_pressure_sample(struct world *w)
{
    REFUSED("sample", dynmem_session_event_to_pressure_sample(NULL, &w->ev));
    REFUSED("ev", dynmem_session_event_to_pressure_sample(&w->sample, NULL));
}

/* ---- session.h: guest ---------------------------------------------------- */

static void t_guest_new(struct world *w)
{
    REFUSED("out", dynmem_session_guest_new(NULL, w->alloc));
}

static void t_guest_free(struct world *w)
{
    NO_OP("g", dynmem_session_guest_free(NULL));
}

static void t_guest_set_param(struct world *w)
{
    REFUSED("g", dynmem_session_guest_set_param(NULL, w->guest_param, 1000));
}

static void t_guest_get_param(struct world *w)
{
    int64_t v = 7;
    REFUSED("g", dynmem_session_guest_get_param(NULL, w->guest_param, &v));
    REFUSED("out", dynmem_session_guest_get_param(w->sp.g, w->guest_param, NULL));
    UNCHANGED("g", v, 7);
}

static void t_guest_param_bounds(struct world *w)
{
    int64_t lo = 7, hi = 7;
    REFUSED("out_min", dynmem_session_guest_param_bounds(w->guest_param, NULL, &hi));
    REFUSED("out_max", dynmem_session_guest_param_bounds(w->guest_param, &lo, NULL));
    UNCHANGED("out_min", lo + hi, 14);
}

static void t_guest_add_memory(struct world *w)
{
    REFUSED("g", dynmem_session_guest_add_memory(NULL, w->start, w->count));
}

static void t_guest_set_balloon_fn(struct world *w)
{
    REFUSED("g", dynmem_session_guest_set_balloon_fn(NULL, NULL, w));
}

static void t_guest_set_hot_add_fn(struct world *w)
{
    REFUSED("g", dynmem_session_guest_set_hot_add_fn(NULL, NULL, w));
}

static void t_guest_connect(struct world *w)
{
    REFUSED("g", dynmem_session_guest_connect(NULL, w->now));
}

static void t_guest_reset(struct world *w)
{
    REFUSED("g", dynmem_session_guest_reset(NULL, w->now, DYNMEM_SESSION_RESET_SYSTEM));
}

static void t_guest_recv(struct world *w)
{
    REFUSED("g", dynmem_session_guest_recv(NULL, w->now, w->buf, w->len));
    REFUSED("buf", dynmem_session_guest_recv(w->sp.g, w->now, NULL, w->len));
}

static void t_guest_next_send(struct world *w)
{
    size_t n;
    REFUSED("g", dynmem_session_guest_next_send(NULL, w->buf, sizeof w->buf, &n));
    REFUSED("buf", dynmem_session_guest_next_send(w->sp.g, NULL, sizeof w->buf, &n));
    REFUSED("out_len", dynmem_session_guest_next_send(w->sp.g, w->buf, sizeof w->buf, NULL));
}

static void t_guest_tick(struct world *w)
{
    REFUSED("g", dynmem_session_guest_tick(NULL, w->now));
}

static void t_guest_next_deadline(struct world *w)
{
    uint64_t at;
    REFUSED("g", dynmem_session_guest_next_deadline(NULL, &at));
    REFUSED("out_ms", dynmem_session_guest_next_deadline(w->sp.g, NULL));
}

static void t_guest_next_event(struct world *w)
{
    REFUSED("g", dynmem_session_guest_next_event(NULL, &w->ev));
    REFUSED("ev", dynmem_session_guest_next_event(w->sp.g, NULL));
}

static void t_guest_memory(struct world *w)
{
    NO_OBJECT("g", dynmem_session_guest_memory(NULL));
}

static void t_guest_ballooned(struct world *w)
{
    NO_OBJECT("g", dynmem_session_guest_ballooned(NULL));
}

static void t_guest_last_error(struct world *w)
{
    char text[64] = "x";
    REFUSED("g", dynmem_session_guest_last_error(NULL, text, sizeof text));
    REFUSED("buf", dynmem_session_guest_last_error(w->sp.g, NULL, sizeof text));
    UNCHANGED("g", text[0], 'x');
}

static void t_guest_version(struct world *w)
{
    GIVES("g", dynmem_session_guest_version(NULL), 0);
}

#define E(fn, thunk) {#fn, thunk, ""}
#define E_OPT(fn, thunk, optional) {#fn, thunk, optional}
#define E_NONE(fn) {#fn, TAKES_NO_POINTER, ""}

const struct null_entry null_entries_engines[] = {
    E(dynmem_action_describe, t_action_describe),
    E_NONE(dynmem_action_kind_name),
    E_OPT(dynmem_config_check, t_config_check, "host bad_vm"),
    E(dynmem_host_config_check, t_host_config_check),
    E(dynmem_vm_config_explain, t_vm_config_explain),
    E(dynmem_balancer_check, t_check),
    E(dynmem_balancer_confirm, t_confirm),
    E(dynmem_balancer_free, t_balancer_free),
    E(dynmem_balancer_get_param, t_balancer_get_param),
    E(dynmem_balancer_host_counters, t_host_counters),
    E(dynmem_balancer_last_error, t_last_error),
    E_OPT(dynmem_balancer_new, t_balancer_new, "alloc"),
    E(dynmem_balancer_next_action, t_next_action),
    E(dynmem_balancer_param_bounds, t_balancer_param_bounds),
    E(dynmem_balancer_set_param, t_balancer_set_param),
    E_OPT(dynmem_balancer_tick, t_tick, "queued"),
    E(dynmem_balancer_vm_add, t_vm_add),
    E(dynmem_balancer_vm_configure, t_vm_configure),
    E(dynmem_balancer_vm_counters, t_vm_counters),
    E(dynmem_balancer_vm_remove, t_vm_remove),
    E_OPT(dynmem_balancer_vm_resize, t_vm_resize, "granted_bytes"),
    E_OPT(dynmem_balancer_vm_restart, t_vm_restart, "paged_bytes"),
    E(dynmem_balancer_vm_sample, t_vm_sample),
    E(dynmem_balancer_vm_set_pressure_param, t_vm_set_pressure_param),
    E_OPT(dynmem_balancer_vm_start, t_vm_start, "missing_bytes"),
    E(dynmem_balancer_vm_stop, t_vm_stop),
    E_NONE(dynmem_policy_name),
    E_NONE(dynmem_reason_name),
    E(dynmem_vm_config_check, t_vm_config_check),
    E(dynmem_vm_config_init, t_vm_config_init),
    E_NONE(dynmem_session_event_kind_name),
    E(dynmem_session_event_to_pressure_sample, t_event_to_pressure_sample),
    E(dynmem_session_guest_add_memory, t_guest_add_memory),
    E(dynmem_session_guest_ballooned, t_guest_ballooned),
    E(dynmem_session_guest_connect, t_guest_connect),
    E(dynmem_session_guest_free, t_guest_free),
    E(dynmem_session_guest_get_param, t_guest_get_param),
    E(dynmem_session_guest_memory, t_guest_memory),
    E_OPT(dynmem_session_guest_new, t_guest_new, "alloc"),
    E(dynmem_session_guest_next_deadline, t_guest_next_deadline),
    E(dynmem_session_guest_next_event, t_guest_next_event),
    E(dynmem_session_guest_next_send, t_guest_next_send),
    E(dynmem_session_guest_last_error, t_guest_last_error),
    E(dynmem_session_guest_param_bounds, t_guest_param_bounds),
    E(dynmem_session_guest_recv, t_guest_recv),
    E(dynmem_session_guest_reset, t_guest_reset),
    E_OPT(dynmem_session_guest_set_balloon_fn, t_guest_set_balloon_fn, "user_data"),
    E_OPT(dynmem_session_guest_set_hot_add_fn, t_guest_set_hot_add_fn, "user_data"),
    E(dynmem_session_guest_set_param, t_guest_set_param),
    E(dynmem_session_guest_tick, t_guest_tick),
    E(dynmem_session_guest_version, t_guest_version),
    E(dynmem_session_host_clear_target, t_host_clear_target),
    E(dynmem_session_host_close, t_host_close),
    E(dynmem_session_host_counters, t_session_counters),
    E(dynmem_session_host_free, t_host_free),
    E(dynmem_session_host_get_param, t_host_get_param),
    E(dynmem_session_host_last_error, t_host_last_error),
    E_OPT(dynmem_session_host_new, t_host_new, "alloc"),
    E(dynmem_session_host_next_deadline, t_host_next_deadline),
    E(dynmem_session_host_next_event, t_host_next_event),
    E(dynmem_session_host_next_send, t_host_next_send),
    E(dynmem_session_host_open, t_host_open),
    E(dynmem_session_host_param_bounds, t_host_param_bounds),
    E(dynmem_session_host_recv, t_host_recv),
    E(dynmem_session_host_reset, t_host_reset),
    E(dynmem_session_host_set_param, t_host_set_param),
    E(dynmem_session_host_set_target, t_host_set_target),
    E(dynmem_session_host_start_action, t_host_start_action),
    E(dynmem_session_host_state, t_host_state),
    E(dynmem_session_host_tick, t_host_tick),
    {NULL, NULL, NULL},
};
