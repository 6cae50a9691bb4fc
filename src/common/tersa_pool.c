/* The thread pool: nthreads - 1 worker threads plus the calling thread run the tasks of one
 * parallel-for at a time. A caller that finds the pool busy runs its tasks itself. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common/tersa_internal.h"
#include "common/tersa_pool.h"

struct tersa_pool {
    int nthreads;
    pthread_t *threads;
    int nstarted;
    pthread_mutex_t busy;  /* held by the caller running a job */
    pthread_mutex_t lock;  /* protects the fields below */
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    unsigned generation;
    bool stop;
    int pending;           /* helper threads still inside the current job */
    int helpers;           /* helper threads taking part in the current job */
    tersa__task_fn fn;
    void *arg;
    int ntasks;
    atomic_int next;
    atomic_int err;
};

typedef struct pool_worker_arg {
    tersa_pool *pool;
    int index; /* 1..nthreads-1 */
} pool_worker_arg;

static void run_tasks(tersa_pool *p, int worker)
{
    for (;;) {
        if (atomic_load_explicit(&p->err, memory_order_relaxed) < 0) return;
        int t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->ntasks) return;
        int rc = p->fn(p->arg, t, worker);
        if (rc < 0) {
            int zero = 0;
            atomic_compare_exchange_strong(&p->err, &zero, rc);
        }
    }
}

static void *worker_main(void *varg)
{
    tersa_pool *p = ((pool_worker_arg *)varg)->pool;
    int index = ((pool_worker_arg *)varg)->index;
    tersa__free(varg);
    unsigned seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->work_cv, &p->lock);
        if (p->stop) break;
        seen = p->generation;
        if (index > p->helpers) continue;
        pthread_mutex_unlock(&p->lock);
        run_tasks(p, index);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0) pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int start_threads(tersa_pool *p)
{
    for (int i = 1; i < p->nthreads; i++) {
        pool_worker_arg *a = tersa__malloc(sizeof *a);
        if (!a) return tersa__fail(TERSA_ERR_NOMEM, "pool: cannot allocate worker %d", i);
        a->pool = p;
        a->index = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, a) != 0) {
            tersa__free(a);
            return tersa__fail(TERSA_ERR_THREAD, "pool: cannot start thread %d of %d", i,
                               p->nthreads);
        }
        p->nstarted++;
    }
    return 0;
}

tersa_pool *tersa_pool_create(int nthreads)
{
    if (nthreads < 1 || nthreads > 256) {
        tersa__fail(TERSA_ERR_PARAM, "pool: nthreads %d outside 1..256", nthreads);
        return NULL;
    }
    tersa_pool *p = tersa__calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = nthreads;
    p->threads = tersa__calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads) {
        tersa__free(p);
        tersa__fail(TERSA_ERR_NOMEM, "pool: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->busy, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (start_threads(p) < 0) {
        tersa_pool_free(p);
        return NULL;
    }
    return p;
}

void tersa_pool_free(tersa_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nstarted; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->busy);
    tersa__free(p->threads);
    tersa__free(p);
}

int tersa_pool_nthreads(const tersa_pool *p) { return p ? p->nthreads : 1; }

static int run_serial(int ntasks, tersa__task_fn fn, void *arg)
{
    for (int t = 0; t < ntasks; t++) TERSA_TRY(fn(arg, t, 0));
    return 0;
}

int tersa__pool_run(tersa_pool *p, int max_workers, int ntasks, tersa__task_fn fn, void *arg)
{
    if (ntasks <= 0) return 0;
    int workers = p ? p->nthreads : 1;
    if (max_workers < workers) workers = max_workers;
    if (ntasks < workers) workers = ntasks;
    if (workers <= 1 || pthread_mutex_trylock(&p->busy) != 0) return run_serial(ntasks, fn, arg);
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->err, 0);
    p->helpers = workers - 1;
    p->pending = workers - 1;
    p->generation++;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    run_tasks(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->pending > 0) pthread_cond_wait(&p->done_cv, &p->lock);
    pthread_mutex_unlock(&p->lock);
    int err = atomic_load(&p->err);
    pthread_mutex_unlock(&p->busy);
    return err;
}

int tersa_pool_run(tersa_pool *pool, int max_workers, int ntasks, tersa_task_fn fn, void *arg)
{
    if (!fn) return tersa__fail(TERSA_ERR_PARAM, "pool run: no task function");
    if (ntasks < 0 || max_workers < 1)
        return tersa__fail(TERSA_ERR_PARAM, "pool run: %d tasks on %d workers (need >= 0, >= 1)",
                           ntasks, max_workers);
    return tersa__pool_run(pool, max_workers, ntasks, fn, arg);
}
