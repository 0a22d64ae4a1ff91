/* Reentrancy proof (docs/threading.md): THREADS threads at once, each with
 * its own handles of every kind, or all sharing only the pure functions.
 * Built with ThreadSanitizer in build-tsan/ (scripts/test), where any data
 * race in the library or in this file ends the run with TSan's exit code.
 *
 * Plain C with pthreads, not Criterion: Criterion runs each test in a
 * forked worker next to its own runner threads, which would put code that
 * is not under test into every TSan run.
 *
 * Modes (argv[1]):
 *   handles  each thread drives a balancer, an estimator, a page set and a
 *            host + guest session pair over their memory map, seeded; the
 *            digest of each thread's run must equal the digest of the same
 *            seed run alone on the main thread beforehand.
 *   pure     every thread runs the codec, dynmem_strerror, the config
 *            checks and the version functions over the same inputs; every
 *            digest must equal the main thread's.
 *   race     negative control: the threads share ONE estimator without a
 *            lock (breaking rule 1). Under TSan this must fail;
 *            expect-tsan-race.py runs it in the TSan build only.
 * DYNMEM_THREADS_ROUNDS scales the work (default 16: a few seconds under TSan
 * on 2 cores). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "digest.h"
#include "failalloc.h"
#include "sesspair.h"
#include "splitmix.h"

#define THREADS 8
#define MIB(x) ((uint64_t)(x) << 20)

static int rounds = 16;

/* ---- own handles ---------------------------------------------------- */

static int balancer_run(const struct dynmem_allocator *al, uint64_t *rng, uint64_t *h)
{
    dynmem_balancer *b = NULL;
    int rc = dynmem_balancer_new(&b, al);
    if (rc)
        return rc;
    rc = dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)MIB(32768));
    uint64_t ids[12];
    int n = 0;
    for (int i = 0; i < 12 && !rc; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.minimum_bytes = MIB(256);
        c.startup_bytes = MIB(512) * (1 + splitmix_next(rng) % 4);
        c.maximum_bytes = c.startup_bytes * 4;
        c.weight = (uint32_t)(splitmix_next(rng) % 10001);
        rc = dynmem_balancer_vm_add(b, &c, &ids[n]);
        if (!rc && dynmem_balancer_vm_start(b, ids[n], 0, NULL) == 0)
            n++;
    }
    long actions = 0;
    for (uint64_t t = 1000; t <= 300000 && !rc; t += 1000) {
        for (int i = 0; i < n && !rc; i++) {
            struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
            s.time_ms = t;
            s.committed_bytes = MIB(200) + splitmix_next(rng) % MIB(3000);
            rc = dynmem_balancer_vm_sample(b, ids[i], &s);
        }
        if (!rc)
            rc = dynmem_balancer_tick(b, t, NULL);
        struct dynmem_action a = DYNMEM_ACTION_INIT;
        while (!rc && dynmem_balancer_next_action(b, &a) == 1) {
            uint64_t done = splitmix_next(rng) % 3 ? a.bytes : (a.bytes / 2) & ~UINT64_C(4095);
            actions++;
            digest_mix(h, a.vm_id);
            digest_mix(h, a.kind);
            digest_mix(h, done);
            rc = dynmem_balancer_confirm(b, a.vm_id, a.action_id, t, done, DYNMEM_CONFIRM_FINAL);
        }
        if (!rc)
            rc = dynmem_balancer_check(b);
    }
    dynmem_balancer_free(b);
    if (!rc && (n < 6 || actions < 50)) { /* a workload doing nothing proves nothing */
        fprintf(stderr, "balancer: %d VMs running, %ld actions\n", n, actions);
        rc = DYNMEM_ERR_INVARIANT;
    }
    return rc;
}

static int pressure_run(const struct dynmem_allocator *al, uint64_t *rng, uint64_t *h)
{
    dynmem_pressure *p = NULL;
    int rc = dynmem_pressure_new(&p, al);
    for (uint64_t t = 500; t <= 600000 && !rc; t += 500 + splitmix_next(rng) % 1000) {
        struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
        s.time_ms = t;
        s.committed_bytes = MIB(100) + splitmix_next(rng) % MIB(4000);
        rc = dynmem_pressure_add_sample(p, &s);
        struct dynmem_pressure_report r = {.size = sizeof r};
        if (!rc)
            rc = dynmem_pressure_query(p, t, MIB(2048), &r);
        digest_mix(h, r.target_bytes);
        digest_mix(h, r.average_pressure);
        digest_mix(h, (uint64_t)r.trend_bytes_per_s);
    }
    dynmem_pressure_free(p);
    return rc;
}

static int pageset_run(const struct dynmem_allocator *al, uint64_t *rng, uint64_t *h)
{
    struct dynmem_pageset *s = NULL;
    int rc = dynmem_pageset_new(&s, al);
    for (int i = 0; i < 20000 && !rc; i++) {
        uint64_t start = splitmix_next(rng) % 100000, count = 1 + splitmix_next(rng) % 64;
        uint64_t changed = 0;
        if (splitmix_next(rng) % 3)
            rc = dynmem_pageset_insert(s, start, count, &changed);
        else
            rc = dynmem_pageset_remove(s, start, count, &changed);
        digest_mix(h, changed);
    }
    if (!rc) {
        digest_mix(h, dynmem_pageset_pages(s));
        digest_mix(h, dynmem_pageset_ranges(s));
    }
    dynmem_pageset_free(s);
    return rc;
}

static int session_run(const struct dynmem_allocator *al, uint64_t *rng, uint64_t *h)
{
    struct sesspair p;
    int rc = sesspair_init(&p, 4 * GIB_PAGES, 32 * GIB_PAGES, 8 * GIB_PAGES, al);
    if (rc)
        return rc;
    dynmem_session_guest_set_param(p.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    sesspair_connect(&p);
    for (int i = 0; i < 20 && !rc; i++) {
        uint64_t target = (UINT64_C(1) << 30) + (splitmix_next(rng) % 9) * (UINT64_C(1) << 29);
        dynmem_session_host_set_target(p.h, p.now, target);
        sesspair_run(&p, p.now + 10000);
        digest_mix(h, (uint64_t)sesspair_drain(&p, NULL, NULL));
        /* A refusal (e.g. a status report inside the minimum interval
         * when the clock jumps) is part of the result, not a failure. */
        if (!sesspair_books_agree(&p) || p.guest_rc)
            rc = DYNMEM_ERR_INVARIANT;
        digest_mix(h, (uint64_t)p.host_rc);
        digest_mix(h, sesspair_fig(&p, DYNMEM_MEMMAP_CURRENT));
    }
    sesspair_drain(&p, NULL, NULL);
    sesspair_fini(&p);
    return rc;
}

/* One thread's whole run; its own counting allocator proves that nothing
 * leaked and that the hook is only called from this thread's handles. */
static uint64_t handles_digest(uint64_t seed, int *err)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    uint64_t h = DIGEST_INIT, rng = seed;
    int rc = 0;
    for (int r = 0; r < rounds && !rc; r++) {
        if (!rc)
            rc = balancer_run(&fa.hook, &rng, &h);
        if (!rc)
            rc = pressure_run(&fa.hook, &rng, &h);
        if (!rc)
            rc = pageset_run(&fa.hook, &rng, &h);
        if (!rc)
            rc = session_run(&fa.hook, &rng, &h);
    }
    if (!rc && fa.live)
        rc = DYNMEM_ERR_INVARIANT;
    *err = rc;
    return h;
}

/* ---- pure functions --------------------------------------------------- */

/* Decodes seeded byte strings shaped like messages (header type and size
 * set, body random), re-encodes what decodes, and runs the other pure
 * functions; the same seed gives the same inputs in every thread. */
static uint64_t pure_digest(uint64_t seed, int *err)
{
    uint64_t h = DIGEST_INIT, rng = seed;
    unsigned char in[256], out[DYNMEM_PROTO_MSG_SIZE_MAX];
    *err = 0;
    for (int i = 0; i < 50000 * rounds; i++) {
        size_t len = 8 + splitmix_next(&rng) % (sizeof in - 8);
        for (size_t j = 0; j < len; j++)
            in[j] = (unsigned char)splitmix_next(&rng);
        in[0] = (unsigned char)(1 + i % 14); /* type */
        in[1] = 0;
        in[2] = (unsigned char)len; /* size, little-endian */
        in[3] = (unsigned char)(len >> 8);
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        int rc = dynmem_proto_decode(&m, in, len, 0, NULL);
        digest_mix(&h, (uint64_t)rc);
        if (rc == 0) {
            ptrdiff_t n = dynmem_proto_encode(out, sizeof out, &m, 0);
            digest_mix(&h, (uint64_t)n);
            for (ptrdiff_t j = 0; j < n; j++)
                digest_mix(&h, out[j]);
        }
        const char *s = dynmem_strerror(-(int)(i % 400));
        digest_mix(&h, s ? strlen(s) : 0);
        s = dynmem_error_name(-(int)(i % 400));
        digest_mix(&h, s ? (uint64_t)s[0] : 0);
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.minimum_bytes = MIB(splitmix_next(&rng) % 4096);
        c.startup_bytes = MIB(splitmix_next(&rng) % 4096);
        c.maximum_bytes = MIB(splitmix_next(&rng) % 4096);
        digest_mix(&h, (uint64_t)dynmem_vm_config_check(&c));
        char why[128];
        digest_mix(&h, (uint64_t)dynmem_vm_config_explain(&c, why, sizeof why));
        for (const char *p = why; *p; p++)
            digest_mix(&h, (unsigned char)*p);
        uint64_t target = 0;
        digest_mix(&h, (uint64_t)dynmem_pressure_target(c.startup_bytes, 20, MIB(256), MIB(8192), &target));
        digest_mix(&h, target);
        digest_mix(&h, dynmem_version());
        digest_mix(&h, (uint64_t)dynmem_version_at_least(1, 0, i % 3));
        digest_mix(&h, strlen(dynmem_version_string()));
    }
    return h;
}

/* ---- the negative control ------------------------------------------- */

static dynmem_pressure *shared_estimator;

static uint64_t race_digest(uint64_t seed, int *err)
{
    *err = 0;
    int64_t v = 0;
    for (int i = 0; i < 1000; i++) {
        dynmem_pressure_set_param(shared_estimator, DYNMEM_PRESSURE_PARAM_WINDOW_MS,
                                  (int64_t)(10000 + (seed + (uint64_t)i) % 1000));
        dynmem_pressure_get_param(shared_estimator, DYNMEM_PRESSURE_PARAM_WINDOW_MS, &v);
    }
    return 0;
}

/* ---- driver ------------------------------------------------------------- */

struct job {
    uint64_t (*fn)(uint64_t seed, int *err);
    uint64_t seed;
    uint64_t digest;
    int err;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    j->digest = j->fn(j->seed, &j->err);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *env = getenv("DYNMEM_THREADS_ROUNDS");
    if (env && atoi(env) > 0)
        rounds = atoi(env);
    uint64_t (*fn)(uint64_t, int *);
    int same_seed;
    if (!strcmp(mode, "handles")) {
        fn = handles_digest;
        same_seed = 0;
    } else if (!strcmp(mode, "pure")) {
        fn = pure_digest;
        same_seed = 1;
    } else if (!strcmp(mode, "race")) {
        fn = race_digest;
        same_seed = 0;
        if (dynmem_pressure_new(&shared_estimator, NULL))
            return 1;
    } else {
        fprintf(stderr, "usage: %s handles|pure|race\n", argv[0]);
        return 2;
    }

    struct job jobs[THREADS];
    uint64_t want[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){fn, same_seed ? 42 : 1000 + (uint64_t)i, 0, 0};
        /* The reference: the same work alone on this thread, before any
         * other thread exists (one run serves all when the seeds are the
         * same; none for the race, which has no result). */
        int err = 0;
        if (fn == race_digest)
            want[i] = 0;
        else if (same_seed && i > 0)
            want[i] = want[0];
        else
            want[i] = fn(jobs[i].seed, &err);
        if (err) {
            fprintf(stderr, "reference run %d failed: %s\n", i, dynmem_strerror(err));
            return 1;
        }
    }
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&tid[i], NULL, run_job, &jobs[i])) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        if (jobs[i].err || jobs[i].digest != want[i]) {
            fprintf(stderr, "thread %d: %s, digest %016llx, alone %016llx\n", i,
                    dynmem_strerror(jobs[i].err), (unsigned long long)jobs[i].digest,
                    (unsigned long long)want[i]);
            bad = 1;
        }
    }
    dynmem_pressure_free(shared_estimator);
    if (!bad)
        printf("%s: %d threads x %d rounds agree with the single-threaded runs\n", mode,
               THREADS, rounds);
    return bad;
}
