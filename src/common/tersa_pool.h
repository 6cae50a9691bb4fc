/* Internal thread-pool interface (public handle in tersa_chunk.h). */
#ifndef TERSA_POOL_H
#define TERSA_POOL_H

#include "tersa/tersa_chunk.h"

/* Task callback: task index in [0, ntasks), worker index in [0, nworkers). Returns 0 or a
 * negative error; the first error stops the distribution of further tasks. */
typedef tersa_task_fn tersa__task_fn; /* the public type (tersa_chunk.h) */

/* Run ntasks tasks on up to max_workers workers of pool (NULL pool or max_workers 1: all on
 * the calling thread, worker 0). If the pool is busy with another caller, runs on the calling
 * thread. Returns 0 or the first negative error of a task. Worker indices stay below
 * max_workers. */
int tersa__pool_run(tersa_pool *pool, int max_workers, int ntasks, tersa__task_fn fn, void *arg);

#endif
