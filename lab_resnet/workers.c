/* Part 2's data loading workers (see workers.h): a ring of staging slots,
 * one mutex and two condition variables.
 *
 * Slot k holds batch b when b mod nslots == k. Its state goes
 * FREE -> FILLING (a worker took batch b) -> READY (loaded) -> FREE (the
 * step released it). A worker takes the epoch's next batch only when that
 * batch's slot is FREE, which keeps the workers at most nslots batches
 * ahead of the step and the handover in order: the step waits for "slot
 * b mod nslots holds batch b and is READY", whichever worker loaded it. */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_memory.h"

typedef enum { SLOT_FREE, SLOT_FILLING, SLOT_READY } slot_state;

typedef struct {
    rn_batch_view view;
    int batch; /* the batch it holds (FILLING or READY) */
    slot_state state;
} slot;

struct rn_workers {
    rn_loader *ld;
    const rn_backend *be;
    int n, prefetch, nslots, persistent, pinned;
    pthread_t *threads;
    int running; /* threads started and not yet joined */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* a worker may have something to do */
    pthread_cond_t ready_cv; /* a batch is READY, or a worker finished one */
    int active;              /* the workers may take batches of this epoch */
    int quit;                /* the threads leave */
    int batches, next;       /* the epoch's batch count, the next one to take */
    int filling;             /* batches being loaded now */
    slot *slots;
    double start_s;
};

/* A batch a worker may take now: the epoch's next, if its slot is free. */
static int work_available(const rn_workers *w)
{
    return w->active && w->next < w->batches && w->slots[w->next % w->nslots].state == SLOT_FREE;
}

static void *worker_main(void *arg)
{
    rn_workers *w = arg;
#ifdef _OPENMP
    /* The transforms are serial; one OpenMP thread for anything this
     * thread might start, so N workers add N threads and no more. */
    omp_set_num_threads(1);
#endif
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && !work_available(w)) pthread_cond_wait(&w->work_cv, &w->mu);
        if (w->quit) break;
        int b = w->next++;
        slot *s = &w->slots[b % w->nslots];
        s->state = SLOT_FILLING;
        s->batch = b;
        w->filling++;
        pthread_mutex_unlock(&w->mu);
        /* Outside the lock: the loading is the work. rn_loader_get reads
         * only the loader and the data set, which no one changes while the
         * epoch is active. */
        s->view.count = rn_loader_get(w->ld, b, s->view.images, s->view.labels);
        pthread_mutex_lock(&w->mu);
        s->state = SLOT_READY;
        w->filling--;
        pthread_cond_broadcast(&w->ready_cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

rn_workers *rn_workers_create(rn_loader *ld, const rn_backend *be, int num_workers, int prefetch, int persistent,
                              int pinned)
{
    rn_workers *w = cs_calloc(sizeof *w, "data loading workers");
    w->ld = ld;
    w->be = be;
    w->n = num_workers < 1 ? 1 : num_workers;
    w->prefetch = prefetch < 1 ? 1 : prefetch;
    w->nslots = w->n * w->prefetch;
    w->persistent = persistent != 0;
    w->pinned = pinned != 0;
    w->threads = cs_calloc((size_t)w->n * sizeof *w->threads, "worker threads");
    w->slots = cs_calloc((size_t)w->nslots * sizeof *w->slots, "worker slots");
    size_t image_bytes = (size_t)ld->batch * 3 * ld->img_size * ld->img_size * sizeof(float);
    for (int k = 0; k < w->nslots; k++) {
        w->slots[k].view.images = be->host_alloc(image_bytes, w->pinned, "worker staging (images)");
        w->slots[k].view.labels =
            be->host_alloc((size_t)ld->batch * sizeof(int32_t), w->pinned, "worker staging (labels)");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, NULL);
    pthread_cond_init(&w->ready_cv, NULL);
    return w;
}

/* Tells the running threads to leave and joins them. */
static void join_threads(rn_workers *w)
{
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->running; i++) pthread_join(w->threads[i], NULL);
    w->running = 0;
    w->quit = 0;
}

int rn_workers_start_epoch(rn_workers *w, int epoch, int batches)
{
    /* No worker is loading (the last epoch ended, or none began), so the
     * order may change under no one's feet. */
    rn_loader_start_epoch(w->ld, epoch);
    pthread_mutex_lock(&w->mu);
    w->next = 0;
    w->batches = batches < w->ld->batches ? batches : w->ld->batches;
    for (int k = 0; k < w->nslots; k++) w->slots[k].state = SLOT_FREE;
    w->active = 1;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    w->start_s = 0.0;
    if (w->running) return 0; /* persistent workers, already waiting */
    double t0 = cs_now();
    for (int i = 0; i < w->n; i++) {
        int e = pthread_create(&w->threads[i], NULL, worker_main, w);
        if (e != 0) {
            cs_error("data loading: cannot start worker thread %d of %d: %s", i + 1, w->n, strerror(e));
            rn_workers_end_epoch(w);
            join_threads(w);
            return 3;
        }
        w->running = i + 1;
    }
    w->start_s = cs_now() - t0;
    return 0;
}

const rn_batch_view *rn_workers_get(rn_workers *w, int b)
{
    slot *s = &w->slots[b % w->nslots];
    pthread_mutex_lock(&w->mu);
    while (!(s->state == SLOT_READY && s->batch == b)) pthread_cond_wait(&w->ready_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return &s->view;
}

void rn_workers_release(rn_workers *w, int b)
{
    pthread_mutex_lock(&w->mu);
    w->slots[b % w->nslots].state = SLOT_FREE;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
}

void rn_workers_end_epoch(rn_workers *w)
{
    pthread_mutex_lock(&w->mu);
    w->active = 0;
    while (w->filling > 0) pthread_cond_wait(&w->ready_cv, &w->mu);
    for (int k = 0; k < w->nslots; k++) w->slots[k].state = SLOT_FREE;
    pthread_mutex_unlock(&w->mu);
    if (!w->persistent) join_threads(w);
}

double rn_workers_start_s(const rn_workers *w)
{
    return w->start_s;
}

int rn_workers_count(const rn_workers *w)
{
    return w->n;
}

void rn_workers_destroy(rn_workers *w)
{
    if (w == NULL) return;
    rn_workers_end_epoch(w);
    join_threads(w);
    for (int k = 0; k < w->nslots; k++) {
        w->be->host_free(w->slots[k].view.images, w->pinned);
        w->be->host_free(w->slots[k].view.labels, w->pinned);
    }
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->ready_cv);
    pthread_mutex_destroy(&w->mu);
    cs_free(w->slots);
    cs_free(w->threads);
    cs_free(w);
}
