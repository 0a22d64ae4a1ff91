/* dynmem-xen's configuration file: host settings, defaults for every
 * domain, and per-domain settings keyed by the domain's xenstore name.
 * The format is described in docs/dynmem-xen.1. */
#ifndef DYNMEM_XEN_CONFIG_H
#define DYNMEM_XEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <dynmem/dynmem.h>

/* One domain's memory settings; a zero field is unset (the next level of
 * defaults applies). Sizes in bytes. */
struct xen_vm_settings {
    uint64_t startup, minimum, maximum;
    uint32_t buffer, weight;
    int manage;      /* 0 unset, 1 "manage = yes", -1 "manage = no" */
};

struct xen_domain_settings {
    char name[128];
    unsigned line;   /* of its [domain NAME] header, for messages */
    struct xen_vm_settings s;
};

struct xen_config {
    uint64_t host_memory;     /* bytes the balancer may hand out, required */
    int64_t host_reserve;     /* bytes, -1 = the library's default */
    uint64_t tick_ms, stuck_ms, calm_ms, giveup_ms, stale_ms;
    int policy;               /* enum dynmem_policy */
    bool manage_dom0;
    char confirm_key[128];    /* relative to the domain's path; "" = none */
    struct xen_vm_settings defaults;
    unsigned host_line, defaults_line; /* of their headers, 0 if absent */
    struct xen_domain_settings *domains;
    size_t ndomains;
};

/* Sets the built-in defaults. */
void xen_config_init(struct xen_config *c);
void xen_config_free(struct xen_config *c);

/* Parses a file; on error prints "path:line: message" to err, returns -1. */
int xen_config_load(struct xen_config *c, const char *path, FILE *err);

/* Parses a size: a number with an optional K, M, G or T suffix (binary
 * units); no suffix means MiB. Returns 0 or -1. */
int xen_parse_size(const char *s, uint64_t *bytes);

/* The settings for a domain: its section over [defaults] over built-ins. */
struct xen_vm_settings xen_config_lookup(const struct xen_config *c, const char *name);

/* The configuration settings give before a domain is seen: a startup not
 * set is taken as the maximum, else the minimum, rounded up to 2 MiB
 * (*guessed then says so), a minimum not set as the startup, a maximum not
 * set as the larger of the two. Sizes as given, for the library's check. */
struct dynmem_vm_config xen_settings_config(const struct xen_vm_settings *s, bool *guessed);

#endif
