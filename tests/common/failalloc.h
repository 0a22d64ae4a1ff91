/* Test helper: a counting allocator that fails on request.
 *
 * Every later handle type reuses it for its allocation-failure test: run a
 * workload once to count its allocations, then once per allocation with that
 * one failing, and check each run returned a clean error and leaked nothing. */
#ifndef DYNMEM_TESTS_FAILALLOC_H
#define DYNMEM_TESTS_FAILALLOC_H

#include <dynmem/common.h>
#include <stdint.h>

struct failalloc {
    struct dynmem_allocator hook; /* pass &fa.hook to a _new function */
    long fail_at;                 /* 1-based allocation that fails; 0 = none */
    long calls;                   /* malloc and realloc calls so far */
    long failures;                /* calls that were made to fail */
    long live;                    /* blocks allocated and not yet freed */
    size_t live_bytes;            /* bytes in those blocks */
};

/* Sets up fa; with_realloc = 0 leaves the realloc hook NULL. */
void failalloc_init(struct failalloc *fa, long fail_at, int with_realloc);

/* A workload builds and frees its objects with fa's allocator and returns 0
 * or a negative dynmem error; it must free everything it made either way. */
typedef int (*failalloc_workload)(struct failalloc *fa, void *ctx);

/* Runs the workload once with no failure (it must return 0), then once for
 * each allocation n it made with the n-th one failing. Returns 0 when every
 * run ended with nothing live and every failed run returned an error
 * (DYNMEM_ERR_NO_MEMORY unless the workload maps it); otherwise the first n
 * that broke a rule, and *why says which rule. *count gets the number of
 * allocations of the clean run. */
/* Frees a block from a failalloc whose count no longer matters: a workload
 * that leaks on purpose (to prove that the sweep notices) hands its block
 * to the test, which releases it here so valgrind sees no leak. */
void failalloc_discard(void *ptr);

long failalloc_sweep(failalloc_workload w, void *ctx, long *count, const char **why);

/* A recovering workload goes on whatever fails: a call refused with
 * DYNMEM_ERR_NO_MEMORY is made again (FAILALLOC_RETRY; only one allocation
 * of a run fails, so the retry must succeed), which proves the handle is
 * still usable after the failure. It returns 0 or an error and folds
 * everything it observed into *digest (digest.h). */
typedef int (*failalloc_recovering)(struct failalloc *fa, void *ctx, uint64_t *digest);

/* Makes `call` (an expression giving a dynmem error code) once more if it
 * ran out of memory; rc gets the last result. */
#define FAILALLOC_RETRY(rc, call)              \
    do {                                       \
        (rc) = (call);                         \
        if ((rc) == DYNMEM_ERR_NO_MEMORY)      \
            (rc) = (call);                     \
    } while (0)

/* Runs w once clean, then once for each allocation n it made with the n-th
 * failing. Every run must return 0, leave nothing live, have made its one
 * allocation fail, and end with the clean run's digest: a refused call
 * changed nothing that later calls can see. Returns 0, -1 if the clean run
 * failed, or the first n that broke a rule (*why says which). */
long failalloc_sweep_recovering(failalloc_recovering w, void *ctx, long *count,
                                const char **why);

#endif
