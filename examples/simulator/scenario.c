/* Scenario files: JSON (jansson) to struct sim_scenario. Every error names
 * the file, the line and the JSON path of the offending value; unknown keys
 * are refused so that a typo does not pass silently. The schema is in
 * docs/simulator.md. */
#include "jsonline.h"
#include "sim.h"

/* Paths and messages are cut at their buffer size on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
    const char *file;
    char *text;      /* the file's text, for line numbers */
    char *err;
    size_t errlen;
    char dir[512];   /* the scenario's folder, for trace files */
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = c->text ? json_line_of(c->text, path) : 0;
    snprintf(c->err, c->errlen, "%s:%d: %s%s%s", c->file, line ? line : 1, *path ? path : "",
             *path ? ": " : "", msg);
    return -1;
}

static void sub(char *out, size_t len, const char *path, const char *key)
{
    snprintf(out, len, "%s%s%s", path, *path ? "." : "", key);
}

/* Refuses keys not in the NULL-terminated list. */
static int known_keys(struct ctx *c, json_t *obj, const char *path, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (int i = 0; keys[i] && !ok; i++)
            ok = strcmp(keys[i], k) == 0;
        if (!ok) {
            char p[256];
            sub(p, sizeof p, path, k);
            return fail(c, p, "unknown key '%s'", k);
        }
    }
    return 0;
}

/* A number (>= 0) at obj[key] or, if absent, in the fallback object. */
static int get_num(struct ctx *c, json_t *obj, json_t *fallback, const char *path,
                   const char *key, bool required, double def, double *out)
{
    json_t *v = json_object_get(obj, key);
    char p[256];
    sub(p, sizeof p, path, key);
    if (!v && fallback) {
        v = json_object_get(fallback, key);
        sub(p, sizeof p, "vm_defaults", key);
    }
    if (!v) {
        if (required)
            return fail(c, path, "missing '%s'", key);
        *out = def;
        return 0;
    }
    if (!json_is_number(v))
        return fail(c, p, "must be a number");
    *out = json_number_value(v);
    if (*out < 0 || !isfinite(*out))
        return fail(c, p, "must not be negative");
    return 0;
}

/* MiB as bytes; `unit` bytes (2 MiB for sizes, 1 for demand) must divide it. */
static int get_mib(struct ctx *c, json_t *obj, json_t *fb, const char *path, const char *key,
                   bool required, uint64_t def, uint64_t unit, uint64_t *out)
{
    double v = 0; /* set by get_num on success; -O3 cannot see it */
    if (get_num(c, obj, fb, path, key, required, (double)def / (double)SIM_MIB, &v))
        return -1;
    char p[256];
    sub(p, sizeof p, path, key);
    if (v > 1 << 30)
        return fail(c, p, "too large");
    if (v != floor(v))
        return fail(c, p, "must be whole MiB");
    *out = (uint64_t)v * SIM_MIB;
    if (unit > SIM_MIB && *out % unit)
        return fail(c, p, "must be a multiple of %llu MiB", (unsigned long long)(unit / SIM_MIB));
    return 0;
}

/* A whole number (>= 0): buffer and weight are integers in the library. */
static int get_whole(struct ctx *c, json_t *obj, json_t *fb, const char *path, const char *key,
                     double def, double *out)
{
    if (get_num(c, obj, fb, path, key, false, def, out))
        return -1;
    if (*out == floor(*out))
        return 0;
    char p[256];
    sub(p, sizeof p, json_object_get(obj, key) || !fb ? path : "vm_defaults", key);
    return fail(c, p, "must be a whole number");
}

static int get_ms(struct ctx *c, json_t *obj, json_t *fb, const char *path, const char *key,
                  bool required, uint64_t def_ms, uint64_t *out)
{
    double v;
    if (get_num(c, obj, fb, path, key, required, (double)def_ms / 1000.0, &v))
        return -1;
    if (v > 1e9) {
        char p[256];
        sub(p, sizeof p, path, key);
        return fail(c, p, "too large");
    }
    *out = (uint64_t)llround(v * 1000.0);
    return 0;
}

static const char *get_str(json_t *obj, json_t *fb, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v && fb)
        v = json_object_get(fb, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int check_str(struct ctx *c, json_t *obj, const char *path, const char *key)
{
    json_t *v = json_object_get(obj, key);
    char p[256];
    sub(p, sizeof p, path, key);
    if (v && !json_is_string(v))
        return fail(c, p, "must be a string");
    return 0;
}

static int get_bool(struct ctx *c, json_t *obj, json_t *fb, const char *path, const char *key,
                    bool def, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v && fb)
        v = json_object_get(fb, key);
    *out = def;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char p[256];
        sub(p, sizeof p, path, key);
        return fail(c, p, "must be true or false");
    }
    *out = json_is_true(v);
    return 0;
}

static int load_trace(struct ctx *c, const char *path, const char *file, struct sim_piece *pc)
{
    char full[1024];
    if (file[0] == '/')
        snprintf(full, sizeof full, "%s", file);
    else
        snprintf(full, sizeof full, "%s/%s", c->dir, file);
    FILE *f = fopen(full, "r");
    if (!f)
        return fail(c, path, "cannot open trace '%s'", full);
    char line[256];
    size_t cap = 0;
    int lineno = 0;
    uint64_t last = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        double t, mib;
        if (line[0] == '#' || line[0] == '\n' || (lineno == 1 && sscanf(line, "%lf", &t) != 1))
            continue; /* comments, blank lines, a header */
        if (sscanf(line, "%lf , %lf", &t, &mib) != 2 || t < 0 || mib < 0) {
            fclose(f);
            return fail(c, path, "%s:%d: expected 'time_s,demand_mib'", full, lineno);
        }
        uint64_t tm = (uint64_t)llround(t * 1000.0);
        if (pc->n_trace && tm < last) {
            fclose(f);
            return fail(c, path, "%s:%d: time goes backwards", full, lineno);
        }
        last = tm;
        if (pc->n_trace == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *nt = realloc(pc->trace_t, cap * sizeof *nt);
            if (nt)
                pc->trace_t = nt;
            double *nm = realloc(pc->trace_mib, cap * sizeof *nm);
            if (nm)
                pc->trace_mib = nm;
            if (!nt || !nm) {
                fclose(f);
                return fail(c, path, "out of memory");
            }
        }
        pc->trace_t[pc->n_trace] = pc->from_ms + tm;
        pc->trace_mib[pc->n_trace++] = mib;
    }
    fclose(f);
    if (!pc->n_trace)
        return fail(c, path, "trace '%s' has no samples", full);
    return 0;
}

static int parse_piece(struct ctx *c, json_t *o, const char *path, struct sim_piece *pc,
                       uint64_t seed, uint64_t until_ms)
{
    static const char *const keys[] = {"type", "from_s", "mib", "to_mib", "over_s",
        "amplitude_mib", "period_s", "phase_s", "burst_mib", "mean_gap_s", "mean_length_s",
        "seed", "file", NULL};
    if (!json_is_object(o))
        return fail(c, path, "a demand piece must be an object");
    if (known_keys(c, o, path, keys) || check_str(c, o, path, "type") ||
        check_str(c, o, path, "file") || get_ms(c, o, NULL, path, "from_s", false, 0, &pc->from_ms))
        return -1;
    const char *type = get_str(o, NULL, "type");
    char p[256];
    sub(p, sizeof p, path, "type");
    if (!type || !strcmp(type, "const")) {
        pc->type = PIECE_CONST;
        return get_num(c, o, NULL, path, "mib", true, 0, &pc->mib);
    }
    if (!strcmp(type, "ramp")) {
        pc->type = PIECE_RAMP;
        return get_num(c, o, NULL, path, "mib", true, 0, &pc->mib) ||
               get_num(c, o, NULL, path, "to_mib", true, 0, &pc->to_mib) ||
               get_ms(c, o, NULL, path, "over_s", true, 0, &pc->duration_ms) ? -1 : 0;
    }
    if (!strcmp(type, "periodic")) {
        pc->type = PIECE_PERIODIC;
        if (get_num(c, o, NULL, path, "mib", true, 0, &pc->mib) ||
            get_num(c, o, NULL, path, "amplitude_mib", true, 0, &pc->amplitude_mib) ||
            get_ms(c, o, NULL, path, "period_s", true, 0, &pc->period_ms) ||
            get_ms(c, o, NULL, path, "phase_s", false, 0, &pc->phase_ms))
            return -1;
        if (!pc->period_ms)
            return fail(c, path, "period_s must be above 0");
        return 0;
    }
    if (!strcmp(type, "bursts")) {
        uint64_t gap = 0, len = 0; /* set on success; -O3 cannot see it */
        double s;
        pc->type = PIECE_BURSTS;
        if (get_num(c, o, NULL, path, "mib", true, 0, &pc->mib) ||
            get_num(c, o, NULL, path, "burst_mib", true, 0, &pc->burst_mib) ||
            get_ms(c, o, NULL, path, "mean_gap_s", true, 0, &gap) ||
            get_ms(c, o, NULL, path, "mean_length_s", true, 0, &len) ||
            get_num(c, o, NULL, path, "seed", false, (double)seed, &s))
            return -1;
        if (!gap || !len)
            return fail(c, path, "mean_gap_s and mean_length_s must be above 0");
        if (sim_bursts_generate(pc, (uint64_t)s, gap, len, until_ms))
            return fail(c, path, "out of memory");
        return 0;
    }
    if (!strcmp(type, "trace")) {
        const char *file = get_str(o, NULL, "file");
        pc->type = PIECE_TRACE;
        if (!file)
            return fail(c, path, "missing 'file'");
        return load_trace(c, path, file, pc);
    }
    return fail(c, p, "unknown demand type '%s' (const, ramp, periodic, bursts, trace)", type);
}

static int parse_demand(struct ctx *c, json_t *v, const char *path, struct sim_demand *d,
                        uint64_t seed, uint64_t until_ms)
{
    if (json_is_number(v)) { /* a constant */
        d->pieces = calloc(1, sizeof *d->pieces);
        if (!d->pieces)
            return fail(c, path, "out of memory");
        d->n = 1;
        d->pieces[0].mib = json_number_value(v);
        if (d->pieces[0].mib < 0)
            return fail(c, path, "must not be negative");
        return 0;
    }
    if (!json_is_array(v) || !json_array_size(v))
        return fail(c, path, "must be a number (MiB) or a non-empty array of pieces");
    d->n = json_array_size(v);
    d->pieces = calloc(d->n, sizeof *d->pieces);
    if (!d->pieces)
        return fail(c, path, "out of memory");
    for (size_t i = 0; i < d->n; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (parse_piece(c, json_array_get(v, i), p, &d->pieces[i], seed + 7919 * i, until_ms))
            return -1;
        if (i && d->pieces[i].from_ms < d->pieces[i - 1].from_ms)
            return fail(c, p, "from_s goes backwards (pieces must be in time order)");
    }
    return 0;
}

/* Configuration fields shared by VMs and configure events. */
static int parse_config(struct ctx *c, json_t *o, json_t *fb, const char *path,
                        struct dynmem_vm_config *cfg, bool required)
{
    uint64_t startup = cfg->startup_bytes, align;
    double buffer, weight;
    bool dynamic;
    if (get_mib(c, o, fb, path, "startup_mib", required, startup, DYNMEM_SIZE_UNIT, &startup) ||
        get_mib(c, o, fb, path, "minimum_mib", false, required ? startup : cfg->minimum_bytes,
                DYNMEM_SIZE_UNIT, &cfg->minimum_bytes) ||
        get_mib(c, o, fb, path, "maximum_mib", false, required ? startup : cfg->maximum_bytes,
                DYNMEM_SIZE_UNIT, &cfg->maximum_bytes) ||
        get_mib(c, o, fb, path, "hot_add_alignment_mib", false, cfg->hot_add_alignment_bytes,
                DYNMEM_SIZE_UNIT, &align) ||
        get_whole(c, o, fb, path, "buffer_percent", cfg->buffer_percent, &buffer) ||
        get_whole(c, o, fb, path, "weight", cfg->weight, &weight) ||
        get_bool(c, o, fb, path, "dynamic", cfg->flags & DYNMEM_VM_DYNAMIC, &dynamic))
        return -1;
    cfg->startup_bytes = startup;
    cfg->hot_add_alignment_bytes = align;
    cfg->buffer_percent = buffer > 100000 ? 100000 : (uint32_t)buffer;
    cfg->weight = weight > 100000 ? 100000 : (uint32_t)weight;
    if (dynamic)
        cfg->flags |= DYNMEM_VM_DYNAMIC;
    else
        cfg->flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    if (!dynamic && required && !json_object_get(o, "minimum_mib") &&
        !json_object_get(o, "maximum_mib"))
        cfg->minimum_bytes = cfg->maximum_bytes = startup;
    char why[256];
    if (dynmem_vm_config_explain(cfg, why, sizeof why))
        return fail(c, path, "%s", why);
    return 0;
}

static const char *const vm_keys[] = {"name", "startup_mib", "minimum_mib", "maximum_mib",
    "buffer_percent", "weight", "dynamic", "hot_add_alignment_mib", "kind", "delay_ms",
    "stuck_at_s", "lie_factor", "start_s", "demand", NULL};

static int parse_vm(struct ctx *c, json_t *o, json_t *fb, const char *path,
                    struct sim_scenario *sc, int idx, struct sim_event *start)
{
    struct sim_vm_spec *vm = &sc->vms[idx];
    if (!json_is_object(o))
        return fail(c, path, "a VM must be an object");
    if (known_keys(c, o, path, vm_keys) || check_str(c, o, path, "name") ||
        check_str(c, o, path, "kind"))
        return -1;
    const char *name = get_str(o, NULL, "name");
    if (!name)
        snprintf(vm->name, sizeof vm->name, "vm%d", idx + 1);
    else if (strlen(name) >= sizeof vm->name || !*name || strpbrk(name, ",\"\n"))
        return fail(c, path, "name must be 1..%d characters without commas or quotes",
                    SIM_NAME_MAX - 1);
    else
        strcpy(vm->name, name);
    vm->config = (struct dynmem_vm_config)DYNMEM_VM_CONFIG_INIT;
    if (parse_config(c, o, fb, path, &vm->config, true))
        return -1;
    const char *kind = get_str(o, fb, "kind");
    if (kind && sim_kind_parse(kind, &vm->kind)) {
        char p[256];
        sub(p, sizeof p, path, "kind");
        return fail(c, p, "unknown guest kind '%s' (linux, windows, hot-remove, no-driver, slow, "
                          "stuck, lying)", kind);
    }
    if (vm->kind == KIND_HOT_REMOVE)
        vm->config.flags |= DYNMEM_VM_CAN_HOT_REMOVE;
    double lie, ms;
    if (get_num(c, o, fb, path, "delay_ms", false, 2000, &ms) ||
        get_ms(c, o, fb, path, "stuck_at_s", false, 600000, &vm->stuck_at_ms) ||
        get_num(c, o, fb, path, "lie_factor", false, 4, &lie))
        return -1;
    vm->delay_ms = (uint64_t)ms;
    vm->lie_factor = lie;
    json_t *st = json_object_get(o, "start_s");
    if (!st && fb)
        st = json_object_get(fb, "start_s");
    if (!json_is_null(st)) { /* null: started only by an event */
        uint64_t at;
        if (get_ms(c, o, fb, path, "start_s", false, 0, &at))
            return -1;
        *start = (struct sim_event){.at_ms = at, .vm = idx, .type = EV_START};
    } else {
        start->vm = -1;
    }
    json_t *d = json_object_get(o, "demand");
    if (!d && fb)
        d = json_object_get(fb, "demand");
    char p[256];
    sub(p, sizeof p, path, "demand");
    if (!d)
        return fail(c, path, "missing 'demand'");
    /* Bursts are drawn for at least 8 days so that --duration can run a
     * scenario longer than its file says (the weekly soak). */
    uint64_t horizon = sc->duration_ms > 8 * 86400000ull ? sc->duration_ms : 8 * 86400000ull;
    return parse_demand(c, d, p, &vm->demand, sc->seed * 1000003u + (uint64_t)idx * 65537u,
                        horizon);
}

static int find_vm(const struct sim_scenario *sc, const char *name)
{
    for (int i = 0; i < sc->n_vms; i++)
        if (!strcmp(sc->vms[i].name, name))
            return i;
    return -1;
}

static int parse_event(struct ctx *c, json_t *o, const char *path, struct sim_scenario *sc,
                       struct sim_event *ev)
{
    static const char *const keys[] = {"at_s", "vm", "type", "mib", "startup_mib", "minimum_mib",
        "maximum_mib", "buffer_percent", "weight", "dynamic", "hot_add_alignment_mib", NULL};
    if (!json_is_object(o))
        return fail(c, path, "an event must be an object");
    if (known_keys(c, o, path, keys) || check_str(c, o, path, "vm") ||
        check_str(c, o, path, "type") || get_ms(c, o, NULL, path, "at_s", true, 0, &ev->at_ms))
        return -1;
    const char *vm = get_str(o, NULL, "vm"), *type = get_str(o, NULL, "type");
    char p[256];
    if (!vm)
        return fail(c, path, "missing 'vm'");
    if ((ev->vm = find_vm(sc, vm)) < 0) {
        sub(p, sizeof p, path, "vm");
        return fail(c, p, "no VM named '%s'", vm);
    }
    if (!type)
        return fail(c, path, "missing 'type'");
    sub(p, sizeof p, path, "type");
    static const char *const names[] = {"start", "stop", "restart", "resize", "configure"};
    int t = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(type, names[i]))
            t = i;
    if (t < 0)
        return fail(c, p, "unknown event type '%s' (start, stop, restart, resize, configure)", type);
    ev->type = (enum sim_event_type)t;
    if (ev->type == EV_RESIZE)
        return get_mib(c, o, NULL, path, "mib", true, 0, DYNMEM_SIZE_UNIT, &ev->bytes);
    return 0;
}

static int cmp_event(const void *a, const void *b)
{
    const struct sim_event *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq); /* stable: keep file order */
}

static int parse_host(struct ctx *c, json_t *h, struct sim_scenario *sc)
{
    static const char *const keys[] = {"memory_mib", "reserve_mib", "calm_period_s", "policy",
                                       NULL};
    if (!json_is_object(h))
        return fail(c, "host", "must be an object");
    uint64_t v;
    if (known_keys(c, h, "host", keys) || check_str(c, h, "host", "policy") ||
        get_mib(c, h, NULL, "host", "memory_mib", true, 0, DYNMEM_SIZE_UNIT, &sc->host_bytes))
        return -1;
    sc->reserve_bytes = -1;
    sc->calm_period_ms = -1;
    if (json_object_get(h, "reserve_mib")) {
        if (get_mib(c, h, NULL, "host", "reserve_mib", true, 0, DYNMEM_SIZE_UNIT, &v))
            return -1;
        sc->reserve_bytes = (int64_t)v;
    }
    if (json_object_get(h, "calm_period_s")) {
        if (get_ms(c, h, NULL, "host", "calm_period_s", true, 0, &v))
            return -1;
        sc->calm_period_ms = (int64_t)v;
    }
    struct dynmem_host_config hc = DYNMEM_HOST_CONFIG_INIT;
    hc.total_bytes = sc->host_bytes;
    hc.reserve_bytes = sc->reserve_bytes;
    char why[256];
    int rc = dynmem_host_config_check(&hc, why, sizeof why);
    if (rc)
        return fail(c, rc == DYNMEM_ERR_CONFIG_HOST_MEMORY ? "host.memory_mib"
                       : sc->reserve_bytes >= 0 ? "host.reserve_mib" : "host", "%s", why);
    sc->policy = -1;
    const char *pol = get_str(h, NULL, "policy");
    if (pol && (sc->policy = sim_policy_parse(pol)) < 0)
        return fail(c, "host.policy", "unknown policy '%s'", pol);
    return 0;
}

static int parse_session(struct ctx *c, json_t *s, struct sim_scenario *sc)
{
    static const char *const keys[] = {"post_init_wait_s", "status_delay_s", "reply_timeout_s",
                                       NULL};
    sc->post_init_wait_ms = sc->status_delay_ms = 5000;
    sc->reply_timeout_ms = 30000;
    if (!s)
        return 0;
    if (!json_is_object(s))
        return fail(c, "session", "must be an object");
    return known_keys(c, s, "session", keys) ||
           get_ms(c, s, NULL, "session", "post_init_wait_s", false, 5000, &sc->post_init_wait_ms) ||
           get_ms(c, s, NULL, "session", "status_delay_s", false, 5000, &sc->status_delay_ms) ||
           get_ms(c, s, NULL, "session", "reply_timeout_s", false, 30000, &sc->reply_timeout_ms)
               ? -1 : 0;
}

/* Resolves configure events into complete configurations, in time order,
 * and sizes each VM's hot-add window for the largest maximum it will get. */
static int resolve_events(struct ctx *c, json_t *evs, struct sim_scenario *sc)
{
    struct dynmem_vm_config *cur = malloc((size_t)sc->n_vms * sizeof *cur);
    if (!cur)
        return fail(c, "events", "out of memory");
    for (int i = 0; i < sc->n_vms; i++) {
        cur[i] = sc->vms[i].config;
        sc->vms[i].window_bytes = cur[i].maximum_bytes;
    }
    for (int k = 0; k < sc->n_events; k++) {
        struct sim_event *ev = &sc->events[k];
        if (ev->type == EV_RESIZE && ev->bytes > sc->vms[ev->vm].window_bytes)
            sc->vms[ev->vm].window_bytes = ev->bytes; /* room to grow a static VM */
        if (ev->type != EV_CONFIGURE)
            continue;
        json_t *o = json_array_get(evs, (size_t)ev->src);
        char p[64];
        snprintf(p, sizeof p, "events[%d]", ev->src);
        ev->config = cur[ev->vm];
        if (parse_config(c, o, NULL, p, &ev->config, false)) {
            free(cur);
            return -1;
        }
        cur[ev->vm] = ev->config;
        if (ev->config.maximum_bytes > sc->vms[ev->vm].window_bytes)
            sc->vms[ev->vm].window_bytes = ev->config.maximum_bytes;
    }
    free(cur);
    return 0;
}

/* Every VM's name used once (the library's set check; configurations and
 * the host were checked as they were read). */
static int unique_names(struct ctx *c, const struct sim_scenario *sc)
{
    struct dynmem_config_vm *set = calloc((size_t)sc->n_vms, sizeof *set);
    if (!set)
        return fail(c, "vms", "out of memory");
    for (int i = 0; i < sc->n_vms; i++) {
        set[i] = (struct dynmem_config_vm)DYNMEM_CONFIG_VM_INIT;
        set[i].name = sc->vms[i].name;
    }
    char why[256], p[64];
    size_t at = 0;
    int rc = dynmem_config_check(NULL, set, (size_t)sc->n_vms, &at, why, sizeof why);
    free(set);
    if (!rc)
        return 0;
    snprintf(p, sizeof p, "vms[%zu]", at);
    return fail(c, p, "%s", why);
}

static int parse_root(struct ctx *c, json_t *root, struct sim_scenario *sc)
{
    static const char *const keys[] = {"name", "description", "seed", "duration_s", "tick_ms",
        "retry_refused_starts", "host", "session", "vm_defaults", "vms", "events", NULL};
    if (!json_is_object(root))
        return fail(c, "", "the scenario must be a JSON object");
    double seed, tick;
    if (known_keys(c, root, "", keys) || check_str(c, root, "", "name") ||
        check_str(c, root, "", "description") ||
        get_num(c, root, NULL, "", "seed", false, 1, &seed) ||
        get_ms(c, root, NULL, "", "duration_s", true, 0, &sc->duration_ms) ||
        get_num(c, root, NULL, "", "tick_ms", false, 1000, &tick) ||
        get_bool(c, root, NULL, "", "retry_refused_starts", false, &sc->retry_starts))
        return -1;
    snprintf(sc->name, sizeof sc->name, "%s",
             get_str(root, NULL, "name") ? get_str(root, NULL, "name") : "scenario");
    sc->seed = (uint64_t)seed;
    sc->tick_ms = (uint64_t)tick;
    if (sc->tick_ms < 10 || sc->tick_ms > 60000)
        return fail(c, "tick_ms", "must be 10..60000");
    if (!sc->duration_ms)
        return fail(c, "duration_s", "must be above 0");
    json_t *host = json_object_get(root, "host");
    if (!host)
        return fail(c, "", "missing 'host'");
    if (parse_host(c, host, sc) || parse_session(c, json_object_get(root, "session"), sc))
        return -1;
    json_t *fb = json_object_get(root, "vm_defaults");
    if (fb) {
        if (!json_is_object(fb))
            return fail(c, "vm_defaults", "must be an object");
        /* The defaults take a VM's keys but its name, which is each VM's own. */
        if (known_keys(c, fb, "vm_defaults", vm_keys) || check_str(c, fb, "vm_defaults", "kind"))
            return -1;
        if (json_object_get(fb, "name"))
            return fail(c, "vm_defaults.name", "a name is each VM's own, not a default");
    }
    json_t *vms = json_object_get(root, "vms"), *evs = json_object_get(root, "events");
    if (!json_is_array(vms) || !json_array_size(vms))
        return fail(c, vms ? "vms" : "", "%s", vms ? "must be a non-empty array" : "missing 'vms'");
    if (evs && !json_is_array(evs))
        return fail(c, "events", "must be an array");
    sc->n_vms = (int)json_array_size(vms);
    size_t n_ev = (evs ? json_array_size(evs) : 0) + (size_t)sc->n_vms;
    sc->vms = calloc((size_t)sc->n_vms, sizeof *sc->vms);
    sc->events = calloc(n_ev, sizeof *sc->events);
    if (!sc->vms || !sc->events)
        return fail(c, "", "out of memory");
    for (int i = 0; i < sc->n_vms; i++) {
        char p[64];
        snprintf(p, sizeof p, "vms[%d]", i);
        struct sim_event start;
        if (parse_vm(c, json_array_get(vms, (size_t)i), fb, p, sc, i, &start))
            return -1;
        if (start.vm >= 0) {
            start.seq = sc->n_events;
            start.src = -1;
            sc->events[sc->n_events++] = start;
        }
    }
    if (unique_names(c, sc))
        return -1;
    for (size_t i = 0; evs && i < json_array_size(evs); i++) {
        char p[64];
        snprintf(p, sizeof p, "events[%zu]", i);
        struct sim_event *ev = &sc->events[sc->n_events];
        if (parse_event(c, json_array_get(evs, i), p, sc, ev))
            return -1;
        ev->seq = sc->n_events++;
        ev->src = (int)i;
    }
    qsort(sc->events, (size_t)sc->n_events, sizeof *sc->events, cmp_event);
    return resolve_events(c, evs, sc);
}

/* Parses the scenario text of `c` (n bytes, NUL-terminated). */
static int load_text(struct ctx *c, size_t n, struct sim_scenario *sc)
{
    json_error_t je;
    json_t *root = json_loadb(c->text, n, JSON_REJECT_DUPLICATES, &je);
    int rc;
    if (!root) {
        snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, je.line, je.column, je.text);
        rc = -1;
    } else {
        rc = parse_root(c, root, sc);
        json_decref(root);
    }
    if (rc)
        sim_scenario_free(sc);
    return rc;
}

int sim_scenario_load(const char *path, struct sim_scenario *sc, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    struct ctx c = {.file = path, .err = err, .errlen = errlen};
    const char *slash = strrchr(path, '/');
    snprintf(c.dir, sizeof c.dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    c.text = malloc(cap + 1);
    for (size_t got; c.text && (got = fread(c.text + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *t = realloc(c.text, (cap *= 2) + 1);
            if (!t)
                free(c.text);
            c.text = t;
        }
    }
    fclose(f);
    if (!c.text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    c.text[n] = 0;
    int rc = load_text(&c, n, sc);
    free(c.text);
    return rc;
}

int sim_scenario_parse(const char *name, const char *text, struct sim_scenario *sc, char *err,
                       size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    struct ctx c = {.file = name, .err = err, .errlen = errlen, .text = (char *)text};
    snprintf(c.dir, sizeof c.dir, ".");
    return load_text(&c, strlen(text), sc);
}

void sim_scenario_free(struct sim_scenario *sc)
{
    for (int i = 0; sc->vms && i < sc->n_vms; i++)
        sim_demand_free(&sc->vms[i].demand);
    free(sc->vms);
    free(sc->events);
    memset(sc, 0, sizeof *sc);
}
