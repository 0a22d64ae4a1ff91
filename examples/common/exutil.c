/* Helpers shared by the example daemons (see exutil.h). */
#include "exutil.h"

#include <dynmem/dynmem.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ex_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-' || *s == '+' || *s == ' ')
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
    if (shift && *end == 'i')
        end++;
    if (shift && *end == 'B')
        end++;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int ex_parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || *s == '+' || *s == ' ' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int ex_parse_ms(const char *s, unsigned *out)
{
    uint32_t v;
    if (ex_parse_u32(s, &v) || v == 0 || v > 86400000U)
        return -1;
    *out = v;
    return 0;
}

int ex_parse_policy(const char *s)
{
    for (int p = DYNMEM_POLICY_DYNMEM; p <= DYNMEM_POLICY_STATIC; p++)
        if (!strcmp(s, dynmem_policy_name((uint32_t)p)))
            return p;
    return -1;
}

int64_t ex_stale_ms(unsigned stats_interval_s)
{
    int64_t stale = 3000LL * stats_interval_s;
    return stale > 5000 ? stale : 5000;
}

/* The one piece of process-wide state here: a signal handler has nowhere
 * else to write. */
static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

volatile sig_atomic_t *ex_stop_on_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return &stop_flag;
}

long long ex_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ex_vlog(const char *who, const char *fmt, va_list ap)
{
    char stamp[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03ldZ %s: ", stamp, ts.tv_nsec / 1000000, who);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

void ex_log(const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex_vlog(who, fmt, ap);
    va_end(ap);
}

const char *ex_why(const dynmem_balancer *b, int rc, char *buf, size_t len)
{
    char detail[EX_WHY_LEN - 64];
    if (b && dynmem_balancer_last_error(b, detail, sizeof detail) > 0)
        snprintf(buf, len, "%s: %s", dynmem_strerror(rc), detail);
    else
        snprintf(buf, len, "%s", dynmem_strerror(rc));
    return buf;
}

int ex_book(dynmem_balancer *b, const struct dynmem_vm_config *c, uint64_t now_ms,
            uint64_t *vm_id, uint64_t *missing, char *why, size_t len)
{
    int e = dynmem_balancer_vm_add(b, c, vm_id);
    bool added = e == 0;
    if (added)
        e = dynmem_balancer_vm_start(b, *vm_id, now_ms, missing);
    if (e) {
        ex_why(b, e, why, len); /* before the remove, which would replace the detail */
        if (added)
            dynmem_balancer_vm_remove(b, *vm_id);
    }
    return e;
}
