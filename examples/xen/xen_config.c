/* Configuration file parser for dynmem-xen (see xen_config.h). */
#include "xen_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dynmem/dynmem.h>

void xen_config_init(struct xen_config *c)
{
    *c = (struct xen_config){0};
    c->host_reserve = -1;
    c->tick_ms = 1000;
    c->stuck_ms = 5000;
    c->calm_ms = 60000;
    c->giveup_ms = 30000;
    c->stale_ms = 10000;
    c->policy = DYNMEM_POLICY_DYNMEM;
    strcpy(c->confirm_key, "data/balloon_current_kb");
}

void xen_config_free(struct xen_config *c)
{
    free(c->domains);
    c->domains = NULL;
    c->ndomains = 0;
}

int xen_parse_size(const char *s, uint64_t *bytes)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 20;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || n > (UINT64_C(1) << 52) >> shift)
        return -1;
    *bytes = (uint64_t)n << shift;
    return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
        *out = true;
    else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

/* A key of a domain or [defaults] section. */
static const char *vm_key(struct xen_vm_settings *s, const char *key, const char *val)
{
    uint64_t n;
    if (!strcmp(key, "startup") || !strcmp(key, "minimum") || !strcmp(key, "maximum")) {
        if (xen_parse_size(val, &n) || n == 0)
            return "expected a size such as 512M or 2G";
        *(key[0] == 's' ? &s->startup : key[1] == 'i' ? &s->minimum : &s->maximum) = n;
    } else if (!strcmp(key, "buffer")) {
        if (parse_u64(val, 5, 2000, &n))
            return "buffer is a percentage, 5..2000";
        s->buffer = (uint32_t)n;
    } else if (!strcmp(key, "weight")) {
        if (parse_u64(val, 0, 10000, &n))
            return "weight is 0..10000";
        s->weight = (uint32_t)n;
        if (n == 0)
            s->weight = UINT32_MAX; /* "set to 0", distinct from unset */
    } else if (!strcmp(key, "manage")) {
        bool b;
        if (parse_bool(val, &b))
            return "expected yes or no";
        s->manage = b ? 1 : -1;
    } else {
        return "unknown key";
    }
    return NULL;
}

static const char *host_key(struct xen_config *c, const char *key, const char *val)
{
    uint64_t n;
    struct { const char *name; uint64_t *field; } ms[] = {
        {"tick-ms", &c->tick_ms}, {"stuck-ms", &c->stuck_ms}, {"calm-ms", &c->calm_ms},
        {"giveup-ms", &c->giveup_ms}, {"stale-ms", &c->stale_ms}};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (!strcmp(key, ms[i].name)) {
            if (parse_u64(val, 1, 86400000, &n))
                return "expected milliseconds, 1..86400000";
            *ms[i].field = n;
            return NULL;
        }
    if (!strcmp(key, "memory")) {
        if (xen_parse_size(val, &n) || n == 0)
            return "expected a size such as 16G";
        c->host_memory = n;
    } else if (!strcmp(key, "reserve")) {
        if (xen_parse_size(val, &n))
            return "expected a size such as 1G";
        c->host_reserve = (int64_t)n;
    } else if (!strcmp(key, "policy")) {
        static const char *const names[] = {"dynmem", "hyperv", "static"};
        for (int i = 0; i < 3; i++)
            if (!strcmp(val, names[i])) {
                c->policy = i;
                return NULL;
            }
        return "policy is dynmem, hyperv or static";
    } else if (!strcmp(key, "manage-dom0")) {
        if (parse_bool(val, &c->manage_dom0))
            return "expected yes or no";
    } else if (!strcmp(key, "confirm-key")) {
        if (strlen(val) >= sizeof c->confirm_key || val[0] == '/')
            return "expected a path relative to the domain, or \"none\"";
        strcpy(c->confirm_key, strcmp(val, "none") ? val : "");
    } else {
        return "unknown key";
    }
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Opens a "[host]", "[defaults]" or "[domain NAME]" section. */
static const char *section(struct xen_config *c, char *head, unsigned line,
                           struct xen_vm_settings **vm, bool *host)
{
    *vm = NULL;
    *host = false;
    if (!strcmp(head, "host")) {
        *host = true;
        c->host_line = line;
        return NULL;
    }
    if (!strcmp(head, "defaults")) {
        *vm = &c->defaults;
        c->defaults_line = line;
        return NULL;
    }
    if (strncmp(head, "domain ", 7))
        return "expected [host], [defaults] or [domain NAME]";
    char *name = trim(head + 7);
    if (!*name || strlen(name) >= sizeof c->domains[0].name)
        return "bad domain name";
    struct xen_domain_settings *d = realloc(c->domains, (c->ndomains + 1) * sizeof *d);
    if (!d)
        return "out of memory";
    c->domains = d;
    d = &c->domains[c->ndomains++];
    *d = (struct xen_domain_settings){.line = line};
    strcpy(d->name, name);
    *vm = &d->s;
    return NULL;
}

struct dynmem_vm_config xen_settings_config(const struct xen_vm_settings *s, bool *guessed)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    *guessed = !s->startup;
    /* a guessed startup in whole units, so that a size error is the set field's */
    uint64_t guess = s->maximum ? s->maximum : s->minimum ? s->minimum : DYNMEM_SIZE_UNIT;
    guess = (guess + DYNMEM_SIZE_UNIT - 1) / DYNMEM_SIZE_UNIT * DYNMEM_SIZE_UNIT;
    c.startup_bytes = s->startup ? s->startup : guess;
    c.minimum_bytes = s->minimum ? s->minimum : c.startup_bytes;
    c.maximum_bytes = s->maximum ? s->maximum
                      : c.startup_bytes > c.minimum_bytes ? c.startup_bytes : c.minimum_bytes;
    c.buffer_percent = s->buffer;
    c.weight = s->weight;
    return c;
}

/* One section's settings through the library's check. */
static int check_section(const struct xen_vm_settings *s, const char *path, unsigned line,
                         const char *head, FILE *err)
{
    bool guessed;
    struct dynmem_vm_config vc = xen_settings_config(s, &guessed);
    char why[256];
    if (!dynmem_vm_config_explain(&vc, why, sizeof why))
        return 0;
    fprintf(err, "%s:%u: %s: %s%s\n", path, line, head, why,
            guessed && strstr(why, "startup") ? s->maximum ? " (startup not set: taken as the maximum)"
                                                           : " (startup not set: taken as the minimum)"
                                              : "");
    return -1;
}

/* Everything the file sets, with the library's checks: the host, each
 * section as it applies to a domain, every domain name once. */
static int check(const struct xen_config *c, const char *path, FILE *err)
{
    struct dynmem_host_config h = DYNMEM_HOST_CONFIG_INIT;
    h.total_bytes = c->host_memory;
    h.reserve_bytes = c->host_reserve;
    char why[256];
    if (dynmem_host_config_check(&h, why, sizeof why)) {
        fprintf(err, "%s:%u: [host]: %s\n", path, c->host_line, why);
        return -1;
    }
    struct xen_vm_settings d = xen_config_lookup(c, NULL);
    if (c->defaults_line && check_section(&d, path, c->defaults_line, "[defaults]", err))
        return -1;
    struct dynmem_config_vm *set = calloc(c->ndomains ? c->ndomains : 1, sizeof *set);
    if (!set) {
        fprintf(err, "%s: out of memory\n", path);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->ndomains; i++) {
        char head[160];
        snprintf(head, sizeof head, "[domain %s]", c->domains[i].name);
        d = xen_config_lookup(c, c->domains[i].name);
        rc = check_section(&d, path, c->domains[i].line, head, err);
        set[i] = (struct dynmem_config_vm)DYNMEM_CONFIG_VM_INIT;
        set[i].name = c->domains[i].name;
    }
    size_t at = 0;
    if (rc == 0 && dynmem_config_check(NULL, set, c->ndomains, &at, why, sizeof why)) {
        fprintf(err, "%s:%u: [domain %s]: %s\n", path, c->domains[at].line, c->domains[at].name,
                why);
        rc = -1;
    }
    free(set);
    return rc;
}

int xen_config_load(struct xen_config *c, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    unsigned lineno = 0;
    struct xen_vm_settings *vm = NULL;
    bool host = false;
    const char *msg = NULL;
    while (!msg && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1]) {
                msg = "unterminated section header";
                break;
            }
            *close = '\0';
            msg = section(c, trim(s + 1), lineno, &vm, &host);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            msg = "expected key = value";
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (host)
            msg = host_key(c, key, val);
        else if (vm)
            msg = vm_key(vm, key, val);
        else
            msg = "key outside a section";
    }
    fclose(f);
    if (!msg && c->host_memory == 0) {
        fprintf(err, "%s: [host] memory is required\n", path);
        return -1;
    }
    if (msg) {
        fprintf(err, "%s:%u: %s\n", path, lineno, msg);
        return -1;
    }
    return check(c, path, err);
}

static void overlay(struct xen_vm_settings *to, const struct xen_vm_settings *from)
{
    if (from->startup)
        to->startup = from->startup;
    if (from->minimum)
        to->minimum = from->minimum;
    if (from->maximum)
        to->maximum = from->maximum;
    if (from->buffer)
        to->buffer = from->buffer;
    if (from->weight)
        to->weight = from->weight;
    if (from->manage)
        to->manage = from->manage;
}

struct xen_vm_settings xen_config_lookup(const struct xen_config *c, const char *name)
{
    struct xen_vm_settings s = {0};
    s.buffer = 20;
    s.weight = 5000;
    overlay(&s, &c->defaults);
    for (size_t i = 0; name && i < c->ndomains; i++)
        if (!strcmp(c->domains[i].name, name))
            overlay(&s, &c->domains[i].s);
    if (s.weight == UINT32_MAX)
        s.weight = 0;
    return s;
}
