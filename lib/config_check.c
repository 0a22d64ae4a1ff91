/* The one check of settings every front end uses (B1, B11): a VM's
 * configuration, a host's, and a whole set of named VMs, each refusal with
 * its error code and one line naming the field and its values. Messages are
 * written only into the caller's buffer: no state anywhere. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "detail.h"
#include "balancer_internal.h"
#include "struct_abi.h"

#define KNOWN_VM_FLAGS \
    (DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_ADD | DYNMEM_VM_CAN_HOT_REMOVE)
#define ALIGNMENT_MAX (UINT64_C(1) << 30)
#define MIB_BYTES (UINT64_C(1) << 20)

/* Where a message goes: the caller's buffer, possibly none. */
struct sink {
    char *buf;
    size_t len;
};

DYNMEM__PRINTF(3, 4)
static int say(const struct sink *s, int rc, const char *fmt, ...)
{
    if (s->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->buf, s->len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A size as people read it: whole MiB, else whole KiB, else bytes. */
struct dynmem__size_text dynmem__size_text(uint64_t bytes)
{
    struct dynmem__size_text t;
    if (bytes % MIB_BYTES == 0)
        snprintf(t.s, sizeof t.s, "%" PRIu64 " MiB", bytes / MIB_BYTES);
    else if (bytes % 1024 == 0)
        snprintf(t.s, sizeof t.s, "%" PRIu64 " KiB", bytes / 1024);
    else
        snprintf(t.s, sizeof t.s, "%" PRIu64 " bytes", bytes);
    return t;
}

/* A configured size: non-zero, within the limit, whole 2 MiB units. */
static int size_check(const struct sink *s, int rc, const char *field, uint64_t bytes)
{
    if (bytes == 0)
        return say(s, rc, "%s is 0", field);
    if (bytes > BYTES_MAX)
        return say(s, rc, "%s %s is above the limit, %s", field, dynmem__size_text(bytes).s,
                   dynmem__size_text(BYTES_MAX).s);
    if (bytes % UNIT)
        return say(s, rc, "%s %s is not a whole number of 2 MiB units", field, dynmem__size_text(bytes).s);
    return DYNMEM_OK;
}

static int struct_check(const struct sink *s, const void *p, uint32_t size, size_t known,
                        const uint64_t *reserved, size_t n_reserved, uint32_t reserved0,
                        const char *what)
{
    int rc = dynmem__struct_check(p, size, known, known);
    for (size_t i = 0; rc == 0 && i < n_reserved; i++)
        if (reserved[i])
            rc = DYNMEM_ERR_STRUCT_RESERVED;
    if (rc == 0 && reserved0)
        rc = DYNMEM_ERR_STRUCT_RESERVED;
    return rc ? say(s, rc, "%s: %s", what, dynmem_strerror(rc)) : DYNMEM_OK;
}

/* The relations and ranges of a structurally valid configuration. */
static int vm_fields(const struct sink *s, const struct dynmem_vm_config *c)
{
    uint64_t st = c->startup_bytes, mn = c->minimum_bytes, mx = c->maximum_bytes;
    int rc;
    if ((rc = size_check(s, DYNMEM_ERR_CONFIG_STARTUP, "startup", st)) ||
        (rc = size_check(s, DYNMEM_ERR_CONFIG_MINIMUM, "minimum", mn)))
        return rc;
    if (mn > st && mn > mx && mx > 0)
        return say(s, DYNMEM_ERR_CONFIG_MINIMUM, "minimum %s above startup %s and maximum %s",
                   dynmem__size_text(mn).s, dynmem__size_text(st).s, dynmem__size_text(mx).s);
    if (mn > st)
        return say(s, DYNMEM_ERR_CONFIG_MINIMUM, "minimum %s above startup %s", dynmem__size_text(mn).s,
                   dynmem__size_text(st).s);
    if ((rc = size_check(s, DYNMEM_ERR_CONFIG_MAXIMUM, "maximum", mx)))
        return rc;
    if (mx < st)
        return say(s, DYNMEM_ERR_CONFIG_MAXIMUM, "maximum %s below startup %s", dynmem__size_text(mx).s,
                   dynmem__size_text(st).s);
    if (c->buffer_percent < 5 || c->buffer_percent > 2000)
        return say(s, DYNMEM_ERR_CONFIG_BUFFER, "buffer %" PRIu32 " %% outside 5..2000 %%",
                   c->buffer_percent);
    if (c->weight > 10000)
        return say(s, DYNMEM_ERR_CONFIG_WEIGHT, "weight %" PRIu32 " outside 0..10000", c->weight);
    uint64_t a = c->hot_add_alignment_bytes;
    if (a < UNIT || a > ALIGNMENT_MAX || (a & (a - 1)) != 0)
        return say(s, DYNMEM_ERR_CONFIG_ALIGNMENT,
                   "hot-add alignment %s is not a power of two from 2 MiB to %s",
                   dynmem__size_text(a).s, dynmem__size_text(ALIGNMENT_MAX).s);
    if (c->calm_period_ms > (uint64_t)CALM_MAX_MS)
        return say(s, DYNMEM_ERR_CONFIG_CALM_PERIOD, "calm period %" PRIu64 " ms above a day "
                   "(%" PRId64 " ms)", c->calm_period_ms, CALM_MAX_MS);
    if (c->flags & ~(uint32_t)KNOWN_VM_FLAGS)
        return say(s, DYNMEM_ERR_CONFIG_FLAGS, "flags %#" PRIx32 " hold bits this library does "
                   "not know", c->flags);
    if (!(c->flags & DYNMEM_VM_DYNAMIC) && (mn != st || mx != st))
        return say(s, DYNMEM_ERR_CONFIG_FLAGS, "a static VM (dynamic memory off) has minimum = "
                   "startup = maximum, not minimum %s, startup %s, maximum %s", dynmem__size_text(mn).s, dynmem__size_text(st).s,
                   dynmem__size_text(mx).s);
    return DYNMEM_OK;
}

static int vm_check(const struct sink *s, const struct dynmem_vm_config *c)
{
    if (!c)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = struct_check(s, c, c->size, sizeof *c, c->reserved,
                          sizeof c->reserved / sizeof c->reserved[0], 0, "configuration");
    return rc ? rc : vm_fields(s, c);
}

static int start(const struct sink *s)
{
    if (!s->buf && s->len)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (s->len)
        s->buf[0] = '\0';
    return DYNMEM_OK;
}

int dynmem_vm_config_init(struct dynmem_vm_config *config, size_t size)
{
    if (!config)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    /* The 1.0 size, the smallest dynmem_vm_config_check() accepts. */
    if (size < DYNMEM__END_OF(struct dynmem_vm_config, reserved) ||
        size > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    const struct dynmem_vm_config defaults = DYNMEM_VM_CONFIG_INIT;
    memset(config, 0, size);
    memcpy(config, &defaults, size < sizeof defaults ? size : sizeof defaults);
    config->size = (uint32_t)size;
    return DYNMEM_OK;
}

int dynmem_vm_config_check(const struct dynmem_vm_config *c)
{
    struct sink none = {NULL, 0};
    return vm_check(&none, c);
}

int dynmem_vm_config_explain(const struct dynmem_vm_config *c, char *msg, size_t msg_len)
{
    struct sink s = {msg, msg_len};
    int rc = start(&s);
    return rc ? rc : vm_check(&s, c);
}

static int host_check(const struct sink *s, const struct dynmem_host_config *h)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = struct_check(s, h, h->size, sizeof *h, h->reserved,
                          sizeof h->reserved / sizeof h->reserved[0], h->reserved0, "host");
    if (rc || (rc = size_check(s, DYNMEM_ERR_CONFIG_HOST_MEMORY, "host memory", h->total_bytes)))
        return rc;
    int64_t r = h->reserve_bytes;
    if (r < -1)
        return say(s, DYNMEM_ERR_CONFIG_RESERVE, "reserve %" PRId64 " bytes is negative (-1 "
                   "means the default)", r);
    uint64_t reserve = r < 0 ? dynmem__bal_default_reserve(h->total_bytes) : (uint64_t)r;
    if (reserve % UNIT)
        return say(s, DYNMEM_ERR_CONFIG_RESERVE, "reserve %s is not a whole number of 2 MiB "
                   "units", dynmem__size_text(reserve).s);
    if (reserve >= h->total_bytes)
        return say(s, DYNMEM_ERR_CONFIG_RESERVE, "reserve %s%s at or above host memory %s",
                   dynmem__size_text(reserve).s, r < 0 ? " (the default for this host)" : "",
                   dynmem__size_text(h->total_bytes).s);
    return DYNMEM_OK;
}

int dynmem_host_config_check(const struct dynmem_host_config *h, char *msg, size_t msg_len)
{
    struct sink s = {msg, msg_len};
    int rc = start(&s);
    return rc ? rc : host_check(&s, h);
}

/* "vm 'NAME'", or "VM n" for an unnamed one. */
static void who(char *out, size_t len, const struct dynmem_config_vm *v, size_t i)
{
    if (v->name && v->name[0])
        snprintf(out, len, "vm '%s'", v->name);
    else
        snprintf(out, len, "VM %zu", i + 1);
}

static const char *field_name(const struct dynmem_config_vm *v)
{
    return v->endpoint_field ? v->endpoint_field : "endpoint";
}

static bool same(const char *a, const char *b)
{
    return a && b && a[0] && strcmp(a, b) == 0;
}

/* Entry i against itself and the entries before it. */
static int entry_check(const struct sink *s, const struct dynmem_config_vm *vms, size_t i)
{
    const struct dynmem_config_vm *v = &vms[i];
    char me[160], other[160], why[256];
    who(me, sizeof me, v, i);
    int rc = struct_check(s, v, v->size, sizeof *v, v->reserved,
                          sizeof v->reserved / sizeof v->reserved[0], v->reserved0, me);
    if (rc)
        return rc;
    for (size_t j = 0; j < i; j++) {
        if (same(v->name, vms[j].name) && vms[j].endpoint)
            return say(s, DYNMEM_ERR_CONFIG_DUPLICATE, "%s: name also used by the VM at %s %s", me,
                       field_name(&vms[j]), vms[j].endpoint);
        if (same(v->name, vms[j].name))
            return say(s, DYNMEM_ERR_CONFIG_DUPLICATE, "%s: name also used by VM %zu", me, j + 1);
        if (same(v->endpoint, vms[j].endpoint)) {
            who(other, sizeof other, &vms[j], j);
            return say(s, DYNMEM_ERR_CONFIG_DUPLICATE, "%s: %s %s also used by %s", me,
                       field_name(v), v->endpoint, other);
        }
    }
    if (!v->config)
        return DYNMEM_OK;
    struct sink inner = {why, sizeof why};
    rc = vm_check(&inner, v->config);
    return rc ? say(s, rc, "%s: %s", me, why) : DYNMEM_OK;
}

int dynmem_config_check(const struct dynmem_host_config *host, const struct dynmem_config_vm *vms,
                        size_t n_vms, size_t *bad_vm, char *msg, size_t msg_len)
{
    struct sink s = {msg, msg_len};
    int rc = start(&s);
    if (rc || (n_vms && !vms))
        return rc ? rc : DYNMEM_ERR_INVALID_ARGUMENT;
    if (host && (rc = host_check(&s, host))) {
        if (bad_vm)
            *bad_vm = n_vms;
        return rc;
    }
    for (size_t i = 0; i < n_vms; i++)
        if ((rc = entry_check(&s, vms, i))) {
            if (bad_vm)
                *bad_vm = i;
            return rc;
        }
    return DYNMEM_OK;
}
