#include "failalloc.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Each block carries its size in front so that live_bytes stays exact. */
#define HDR (sizeof(max_align_t))

static int should_fail(struct failalloc *fa)
{
    fa->calls++;
    if (fa->fail_at && fa->calls == fa->fail_at) {
        fa->failures++;
        return 1;
    }
    return 0;
}

static void *fa_malloc(void *ud, size_t n)
{
    struct failalloc *fa = ud;
    if (should_fail(fa))
        return NULL;
    unsigned char *p = malloc(HDR + n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    fa->live++;
    fa->live_bytes += n;
    return p + HDR;
}

static void *fa_realloc(void *ud, void *ptr, size_t n)
{
    struct failalloc *fa = ud;
    if (should_fail(fa))
        return NULL;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, HDR + n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    fa->live_bytes = fa->live_bytes - old + n;
    return p + HDR;
}

static void fa_free(void *ud, void *ptr)
{
    struct failalloc *fa = ud;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    fa->live--;
    fa->live_bytes -= old;
    free(base);
}

void failalloc_discard(void *ptr)
{
    if (ptr)
        free((unsigned char *)ptr - HDR);
}

void failalloc_init(struct failalloc *fa, long fail_at, int with_realloc)
{
    memset(fa, 0, sizeof *fa);
    fa->hook = (struct dynmem_allocator)DYNMEM_ALLOCATOR_INIT;
    fa->hook.user_data = fa;
    fa->hook.malloc = fa_malloc;
    fa->hook.realloc = with_realloc ? fa_realloc : NULL;
    fa->hook.free = fa_free;
    fa->fail_at = fail_at;
}

long failalloc_sweep(failalloc_workload w, void *ctx, long *count, const char **why)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    *why = NULL;
    if (w(&fa, ctx) != 0) {
        *why = "workload failed with no allocation failure";
        return -1;
    }
    if (fa.live != 0) {
        *why = "clean run leaked";
        return -1;
    }
    *count = fa.calls;
    for (long n = 1; n <= *count; n++) {
        failalloc_init(&fa, n, 1);
        int rc = w(&fa, ctx);
        if (fa.live != 0) {
            *why = "leak after a failed allocation";
            return n;
        }
        if (fa.failures && rc == 0) {
            *why = "an allocation failed but the workload reported success";
            return n;
        }
    }
    return 0;
}

long failalloc_sweep_recovering(failalloc_recovering w, void *ctx, long *count,
                                const char **why)
{
    struct failalloc fa;
    uint64_t clean = 0, d = 0;
    failalloc_init(&fa, 0, 1);
    *why = NULL;
    if (w(&fa, ctx, &clean) != 0 || fa.live != 0) {
        *why = "the clean run failed or leaked";
        return -1;
    }
    *count = fa.calls;
    for (long n = 1; n <= *count; n++) {
        failalloc_init(&fa, n, 1);
        d = 0;
        int rc = w(&fa, ctx, &d);
        if (fa.live != 0)
            *why = "leak after a failed allocation";
        else if (rc != 0)
            *why = "the handle was not usable after a failed allocation";
        else if (fa.failures != 1)
            *why = "the run did not reach its n-th allocation";
        else if (d != clean)
            *why = "a refused call changed what later calls see";
        if (*why)
            return n;
    }
    return 0;
}
