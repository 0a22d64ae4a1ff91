/* Settings parsing for dynmem-kvm. */
#include "kvmconf.h"

#include <dynmem/dynmem.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kvm_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 20;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    case 'b': case 'B': shift = 0; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int copy_str(char *dst, size_t len, const char *src)
{
    if (strlen(src) >= len)
        return -1;
    strcpy(dst, src);
    return 0;
}

static int set_key(struct kvm_vm_spec *vm, const char *key, const char *val)
{
    if (!strcmp(key, "name"))
        return copy_str(vm->name, sizeof vm->name, val);
    if (!strcmp(key, "qmp"))
        return copy_str(vm->qmp, sizeof vm->qmp, val);
    if (!strcmp(key, "balloon"))
        return copy_str(vm->balloon, sizeof vm->balloon, val);
    if (!strcmp(key, "vmem"))
        return copy_str(vm->vmem, sizeof vm->vmem, val);
    if (!strcmp(key, "startup"))
        return kvm_parse_size(val, &vm->startup);
    if (!strcmp(key, "minimum"))
        return kvm_parse_size(val, &vm->minimum);
    if (!strcmp(key, "maximum"))
        return kvm_parse_size(val, &vm->maximum);
    if (!strcmp(key, "buffer"))
        return parse_u32(val, &vm->buffer);
    if (!strcmp(key, "weight"))
        return parse_u32(val, &vm->weight);
    return -1;
}

int kvm_add_vm(struct kvm_options *o, const char *spec, char *err, size_t errlen)
{
    if (o->nvm == KVM_MAX_VMS) {
        snprintf(err, errlen, "more than %d VMs", KVM_MAX_VMS);
        return -1;
    }
    struct kvm_vm_spec vm = {.buffer = 20, .weight = 5000};
    strcpy(vm.balloon, "/machine/peripheral/balloon0");
    char copy[1024];
    if (copy_str(copy, sizeof copy, spec)) {
        snprintf(err, errlen, "VM spec too long");
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "'%s' is not key=value", tok);
            return -1;
        }
        *eq = '\0';
        if (set_key(&vm, tok, eq + 1)) {
            snprintf(err, errlen, "bad %s '%s'", tok, eq + 1);
            return -1;
        }
    }
    if (!vm.qmp[0] || !vm.startup) {
        snprintf(err, errlen, "a VM needs qmp= and startup=");
        return -1;
    }
    if (!vm.minimum)
        vm.minimum = vm.startup;
    if (!vm.maximum)
        vm.maximum = vm.startup;
    if (!vm.name[0])
        snprintf(vm.name, sizeof vm.name, "vm%zu", o->nvm);
    o->vm[o->nvm++] = vm;
    return 0;
}

int kvm_read_config(struct kvm_options *o, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (strspn(line, " \t") == strlen(line))
            continue;
        char why[256];
        if (kvm_add_vm(o, line, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

uint64_t kvm_host_memtotal(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}
