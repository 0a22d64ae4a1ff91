/* A small pool of worker threads for independent simulation runs (see
 * sim.h). The caller's callbacks decide what runs next; they are called
 * under the pool's lock, the runs themselves outside it. Each run owns its
 * balancer and sessions and only reads the scenario, so runs never share
 * state that changes. */
#include "sim.h"

#include <pthread.h>
#include <unistd.h>

struct pool {
    const struct sim_pool_ops *ops;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int running;
    bool failed;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        bool finished = false;
        void *job = NULL;
        /* Nothing ready and nothing running: nothing can become ready. */
        while (!p->failed && !(job = p->ops->next(p->ctx, &finished)) && !finished &&
               p->running > 0)
            pthread_cond_wait(&p->changed, &p->lock);
        if (!job)
            break;
        p->running++;
        pthread_mutex_unlock(&p->lock);
        int rc = p->ops->run(p->ctx, job);
        pthread_mutex_lock(&p->lock);
        p->running--;
        p->ops->done(p->ctx, job, rc);
        if (rc)
            p->failed = true;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int sim_pool_workers(int asked)
{
    if (asked > 0)
        return asked;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int sim_pool_run(int workers, const struct sim_pool_ops *ops, void *ctx)
{
    struct pool p = {.ops = ops, .ctx = ctx};
    pthread_t tid[64];
    int started = 0;
    if (workers > 64)
        workers = 64;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    for (int i = 1; i < workers; i++)
        if (pthread_create(&tid[started], NULL, worker, &p) == 0)
            started++;
    worker(&p); /* this thread works too */
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    return p.failed ? -1 : 0;
}
