/* The distributed-profiling lab's runs and their checks (see ddp.h).
 *
 * Every row trains the same `--batches` global batches of epoch 0 from the
 * same initial weights (put back before each run, outside the clock). A
 * row's time is rank 0's: the sum of its steps, each from loading its
 * shard to Adam's update (the ranks wait for each other in the
 * all-reduces, so their clocks agree within a step). The checks, outside
 * the clock:
 *  - after every step, every rank's weights hash to the same 64 bits;
 *  - the first step from the initial weights: the summed gradients and the
 *    weights after Adam against one process that takes the same global
 *    batch as the same shards, one after the other, adding their gradients
 *    (Part 4's accumulation). Batch norm's statistics are per shard in both
 *    (DDP's default, not SyncBatchNorm), so the two compute the same thing
 *    and differ only in the order of float additions: within
 *    RN_DDP_GRAD_TOL and RN_DDP_WEIGHT_TOL. Against one process with one
 *    batch norm over the whole batch they would differ by design. */
#include "ddp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "comm_nccl.h"
#include "cs_blas_threads.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "cs_stats.h"
#include "ddp_state.h"
#include "lab_rungs.h"

const char *const rn_ddp_rows[RN_DDP_ROWS] = {"single",      "per_tensor", "bucketed",
                                              "bucket_view", "overlapped", "no_sync_4"};

const rn_ddp_spec rn_ddp_specs[RN_DDP_ROWS] = {
    {0, RN_SYNC_NONE, 1, 0, "single: one rank with the whole machine trains the global batch"},
    {1, RN_SYNC_PER_TENSOR, 1, 0, "per_tensor: one blocking all-reduce per tensor after the backward"},
    {1, RN_SYNC_BUCKETED, 1, 0, "bucketed: the gradients copied into buckets, one all-reduce each after the backward"},
    {1, RN_SYNC_BUCKETED, 1, 1, "bucket_view: bucketed, the gradients living in the buckets (no copies)"},
    {1, RN_SYNC_OVERLAPPED, 1, 1, "overlapped: each bucket's all-reduce started as the backward completes it"},
    {1, RN_SYNC_OVERLAPPED, 4, 1, "no_sync_4: overlapped, communicating once per 4 micro-batches (no_sync)"},
};

/* ---- the engine around the run ------------------------------------------------ */

int rn_ddp_start(int *argc, char ***argv)
{
    if (*argc < 2 || strcmp((*argv)[1], "ddp") != 0) return 0;
    if (rn_comm_init(argc, argv) != 0) return 3;
    /* Rank 0 tells the run; the others' words would repeat it N times.
     * Their errors still reach stderr. */
    if (rn_comm_rank() != 0 && !freopen("/dev/null", "w", stdout)) return 3;
    return 0;
}

int rn_ddp_end(int rc)
{
    /* An error (2: usage, 3: the machine) on one rank would leave the
     * others waiting in a collective: it ends them all. A failed check (1)
     * is known to every rank only after the last collective. */
    if (rc >= 2 && rn_comm_size() > 1) rn_comm_abort(rc);
    rn_group all;
    rn_group_open(&all, rn_comm_size());
    double worst = rc;
    rn_group_max(&all, &worst, 1);
    rn_group_close(&all);
    rn_comm_finalize();
    return (int)worst;
}

/* Where the ranks train, and why (step 1 prints it). */
static char device_note[256];

const char *rn_ddp_device_note(void)
{
    return device_note;
}

int rn_ddp_choose_device(rn_args *a)
{
    int world = rn_comm_size(), here = rn_comm_local_size();
    int asked_gpu = strcmp(a->opt.device, "gpu") == 0;
    char why[160] = "--device cpu";
    if (strcmp(a->opt.device, "cpu") != 0) {
        int gpus = rn_nccl_pick_device(rn_comm_local_rank(), why, sizeof why);
        if (gpus > 0 && gpus < here)
            snprintf(why, sizeof why, "%d ranks on this machine for %d GPU%s: NCCL wants one GPU per rank", here, gpus,
                     gpus == 1 ? "" : "s");
        else if (gpus > 0 && world < 2 && !asked_gpu)
            snprintf(why, sizeof why, "one rank: NCCL has no one to talk to (mpirun -np N, N GPUs; or --device gpu)");
        else if (gpus > 0) {
            snprintf(device_note, sizeof device_note,
                     "Every rank trains on its own GPU (%d here) and all-reduces with NCCL (one rank per GPU).", gpus);
            return 0;
        }
    }
    if (asked_gpu) {
        cs_error("--device gpu: %s", why);
        return 2;
    }
    snprintf(a->opt.device, sizeof a->opt.device, "cpu");
    snprintf(device_note, sizeof device_note, "Every rank trains on the CPU and all-reduces over MPI (%s).", why);
    return 0;
}

const rn_group *rn_ddp_all(const rn_ddp_state *s)
{
    return &s->groups[s->npoints - 1];
}

/* ---- the pieces of a step ------------------------------------------------------ */

/* Threads per rank: --threads, else OMP_NUM_THREADS, else this machine's
 * cores shared by the group's ranks on it (the BLAS follows the team). */
static int set_threads(const rn_ddp_state *s, int ranks_here)
{
    int t = s->lab->a->opt.threads;
    const char *env = getenv("OMP_NUM_THREADS");
    if (t <= 0 && env && *env) t = atoi(env);
    if (t <= 0) t = s->cores / (ranks_here > 0 ? ranks_here : 1);
    if (t < 1) t = 1;
#ifdef _OPENMP
    omp_set_num_threads(t);
#endif
    cs_blas_pool_set(cs_blas_pool_get());
    return t;
}

/* Rank r's part of n images among k ranks: [first, first + count). */
static void shard_of(int n, int k, int r, int *first, int *count)
{
    *first = (int)((long)n * r / k);
    *count = (int)((long)n * (r + 1) / k) - *first;
}

/* Rank r of k's shard of global batch b into the model; returns its images. */
static int load_shard(rn_ddp_state *s, int b, int k, int r)
{
    int first, count;
    shard_of(rn_loader_count(&s->lab->ld, b), k, r, &first, &count);
    rn_loader_get_part(&s->lab->ld, b, first, count, s->images, s->labels);
    rn_model_set_batch_n(&s->lab->m, s->images, s->labels, count);
    return count;
}

/* Images in global batches b .. b + accum - 1. */
static int images_in(const rn_ddp_state *s, int b, int accum)
{
    int n = 0;
    for (int j = 0; j < accum; j++) n += rn_loader_count(&s->lab->ld, b + j);
    return n;
}

/* DDP's broadcast_buffers: group rank 0's running statistics (and batch
 * counts) to every member before the step. Returns its seconds. */
static double broadcast_buffers(rn_ddp_state *s, const rn_group *g)
{
    if (g->size < 2) return 0;
    rn_model *m = &s->lab->m;
    int r = m->be->region_begin("ddp broadcast buffers");
    double t0 = cs_now();
    size_t at = 0;
    for (int i = 0; i < m->nparams; i++)
        if (!m->params[i].trainable) {
            m->be->to_host(s->buffers + at, m->params[i].data, m->params[i].count * sizeof(float));
            at += m->params[i].count;
        }
    rn_group_bcast(g, s->buffers, at * sizeof(float)); /* a few thousand floats: MPI on the host either way */
    at = 0;
    for (int i = 0; i < m->nparams; i++)
        if (!m->params[i].trainable) {
            m->be->to_backend(m->params[i].data, s->buffers + at, m->params[i].count * sizeof(float));
            at += m->params[i].count;
        }
    double t = cs_now() - t0;
    m->be->region_end(r);
    return t;
}

/* FNV-1a over the 64-bit words of every trainable tensor and Adam's step
 * count: equal on two ranks when their weights are. (The running
 * statistics differ after each step's forward, each rank's from its own
 * shard, until the next step's broadcast: as in DDP.) */
static uint64_t model_hash(const rn_ddp_state *s)
{
    const rn_model *m = &s->lab->m;
    uint64_t h = 1469598103934665603ull ^ (uint64_t)m->adam_t;
    for (int i = 0; i < m->nparams; i++) {
        if (!m->params[i].trainable) continue;
        const float *d = s->host_tensor;
        m->be->to_host(s->host_tensor, m->params[i].data, m->params[i].count * sizeof(float));
        size_t n = m->params[i].count, k = 0;
        for (; k + 1 < n; k += 2) {
            uint64_t w;
            memcpy(&w, d + k, sizeof w);
            h = (h ^ w) * 1099511628211ull;
        }
        if (k < n) {
            uint32_t w;
            memcpy(&w, d + k, sizeof w);
            h = (h ^ w) * 1099511628211ull;
        }
    }
    return h;
}

/* What one optimizer step measured on this rank. */
typedef struct {
    double step_s, comm_s, copy_s;
    int reductions;
} step_time;

/* One optimizer step of group g (this rank a member) over global batches
 * b .. b + accum - 1: the buffers broadcast, each micro-batch's shard
 * forward and backward (the gradients adding up), the sync on the last,
 * Adam. */
static step_time one_step(rn_ddp_state *s, const rn_group *g, rn_grad_sync *sync, int b, int accum)
{
    rn_model *m = &s->lab->m;
    step_time t = {0};
    double t0 = cs_now();
    t.comm_s = broadcast_buffers(s, g);
    /* The loss scaled by the shard's share of the step's images: the sum
     * over the ranks is then the step's mean gradient. The tests' fault
     * forgets the ranks' shares (each rank's mean summed: N times it). */
    double total = images_in(s, b, accum);
    int sums = cs_fault_injected("rn_ddp_sums_not_averages");
    for (int j = 0; j < accum; j++) {
        int n = load_shard(s, b + j, g->size, g->rank);
        rn_model_forward(m, 1);
        rn_model_loss(m);
        rn_model_scale_loss_grad(m, (float)(sums ? 1.0 / accum : n / total));
        int last = j == accum - 1;
        if (last) rn_sync_begin(sync);
        rn_model_backward_adding(m, j > 0);
        if (last) rn_sync_finish(sync);
    }
    rn_model_adam_step(m);
    m->be->sync(); /* the GPU's step done before the clock is read */
    t.step_s = cs_now() - t0;
    /* The profiler's GPU phases of this step read now (the step is done:
     * nothing waits), as the training loop does after each step: a run
     * would otherwise pile up more than the profiler holds. */
    m->be->regions_flush();
    rn_sync_collect(sync);
    t.comm_s += sync->comm_s;
    t.copy_s = sync->copy_s;
    t.reductions = sync->reductions + (g->size > 1);
    return t;
}

/* ---- a row's run -------------------------------------------------------------- */

typedef struct {
    double run_s, comm_s, copy_s;
    int steps, reductions, agreed;
} run_out;

/* One run of `batches` global batches by group g (this rank a member) with
 * sync `kind` and `accum` micro-batches per step, from the initial weights;
 * the ranks' models compared after every step. */
static int one_run(rn_ddp_state *s, const rn_group *g, rn_sync_kind kind, int accum, int views, run_out *o)
{
    rn_model *m = &s->lab->m;
    rn_grad_sync sync;
    if (rn_sync_init(&sync, m, g, kind, s->bucket_bytes, views) != 0) return 2;
    rn_snapshot_restore(m, &s->snap);
    int steps = s->lab->epoch_batches / accum;
    o->run_s = o->comm_s = o->copy_s = 0;
    o->steps = steps, o->reductions = 0, o->agreed = 1;
    for (int k = 0; k < steps; k++) {
        step_time t = one_step(s, g, &sync, k * accum, accum);
        o->run_s += t.step_s, o->comm_s += t.comm_s, o->copy_s += t.copy_s;
        o->reductions += t.reductions;
        if (!rn_group_agree(g, model_hash(s))) o->agreed = 0;
    }
    rn_sync_free(&sync);
    return 0;
}

/* The row's figures from its runs (rank 0). */
static void record(rn_ddp_row *row, const double *samples, int repeats, int warmup, const run_out *sum,
                   const run_out *last, const rn_ddp_state *s, int accum)
{
    row->rung.timing.time = cs_stats_of(samples, repeats);
    row->rung.timing.repeats = repeats;
    row->rung.timing.warmup = warmup;
    row->rung.ran = 1;
    int steps = last->steps > 0 ? last->steps : 1;
    double per = 1.0 / ((double)repeats * steps * accum); /* per global batch: every row's unit */
    row->step_s = sum->run_s * per;
    row->comm_s = sum->comm_s * per;
    row->copy_s = sum->copy_s * per;
    row->compute_s = row->step_s - row->comm_s - row->copy_s;
    row->reductions = last->reductions / steps;
    row->steps = last->steps;
    int batches = last->steps * accum;
    row->images_per_s = images_in(s, 0, batches) / row->rung.timing.time.median;
    row->agree = (cs_check){.status = sum->agreed ? CS_CHECK_PASS : CS_CHECK_FAIL, .n = (size_t)last->steps};
}

/* ---- timing: rows interleaved ---------------------------------------------------- */

typedef struct {
    rn_ddp_row *row;
    const rn_group *g;
    rn_sync_kind sync;
    int accum, views, ranks_here;
    const char *name, *lesson;
} ddp_job;

/* The jobs' runs interleaved (job 1, job 2, ..., job 1, ...): this
 * machine's speed drifts within minutes, and runs side by side see the
 * same drift. Each job's ranks run while the others wait asleep; then all
 * meet. --warmup untimed rounds (default 1), --repeat timed ones (default
 * 3, 2 with --quick). */
static int time_jobs(rn_ddp_state *s, const ddp_job *jobs, int n, const char *what)
{
    const cs_options *opt = &s->lab->a->opt;
    const int warmup = opt->warmup >= 0 ? opt->warmup : 1;
    int repeats = opt->repeat > 0 ? opt->repeat : opt->quick ? 2 : 3;
    if (repeats > CS_MAX_REPEATS) repeats = CS_MAX_REPEATS;
    double samples[RN_DDP_MAX_POINTS + RN_DDP_ROWS][CS_MAX_REPEATS];
    run_out sums[RN_DDP_MAX_POINTS + RN_DDP_ROWS], last[RN_DDP_MAX_POINTS + RN_DDP_ROWS];
    memset(sums, 0, sizeof sums);
    for (int k = 0; k < n; k++) {
        cs_rung_start(&jobs[k].row->rung, jobs[k].name, s->lab->on_gpu ? "gpu" : "cpu", jobs[k].lesson);
        sums[k].agreed = 1;
    }
    int rc = 0;
    for (int w = 0; rc == 0 && w < warmup + repeats; w++) {
        cs_progress("%s: round %d of %d", what, w + 1, warmup + repeats);
        for (int k = 0; rc == 0 && k < n; k++) {
            const ddp_job *j = &jobs[k];
            if (j->g->rank >= 0) {
                jobs[k].row->threads = set_threads(s, j->ranks_here);
                cs_prof_reset();
                cs_prof_lane(j->name);
                rc = one_run(s, j->g, j->sync, j->accum, j->views, &last[k]);
                if (w >= warmup) {
                    samples[k][w - warmup] = last[k].run_s;
                    sums[k].run_s += last[k].run_s, sums[k].comm_s += last[k].comm_s;
                    sums[k].copy_s += last[k].copy_s;
                }
                sums[k].agreed &= last[k].agreed;
            }
            rn_comm_meet();
        }
    }
    cs_progress_done();
    for (int k = 0; k < n; k++) {
        jobs[k].row->ranks = jobs[k].g->size;
        if (rc == 0 && s->rank == 0)
            record(jobs[k].row, samples[k], repeats, warmup, &sums[k], &last[k], s, jobs[k].accum);
    }
    return rc;
}

/* ---- the first step against one process ---------------------------------------- */

/* The gradients (summed) and the weights after the first step from the
 * initial weights, into grads and weights (host; rank 0's), for group g
 * (every member calls it) with sync `kind`. */
static void first_step(rn_ddp_state *s, const rn_group *g, const rn_ddp_spec *sp, float *grads, float *weights)
{
    rn_model *m = &s->lab->m;
    rn_grad_sync sync;
    rn_sync_init(&sync, m, g, sp->sync, s->bucket_bytes, sp->views);
    rn_snapshot_restore(m, &s->snap);
    one_step(s, g, &sync, 0, sp->accum);
    rn_sync_free(&sync); /* with views, the gradients back in the model's own */
    rn_gradients_to_host(m, grads);
    rn_weights_to_host(m, weights);
    rn_snapshot_restore(m, &s->snap);
}

/* One process (rank 0 alone) taking the step's k shards one after the
 * other, their gradients added: what k ranks compute together. */
static void reference_step(rn_ddp_state *s, int k, int accum, float *grads, float *weights)
{
    rn_model *m = &s->lab->m;
    rn_snapshot_restore(m, &s->snap);
    double total = images_in(s, 0, accum);
    int first = 1;
    for (int j = 0; j < accum; j++)
        for (int r = 0; r < k; r++) {
            int n = load_shard(s, j, k, r);
            rn_model_forward(m, 1);
            rn_model_loss(m);
            rn_model_scale_loss_grad(m, (float)(n / total));
            rn_model_backward_adding(m, !first);
            first = 0;
        }
    rn_model_adam_step(m);
    rn_gradients_to_host(m, grads);
    rn_weights_to_host(m, weights);
    rn_snapshot_restore(m, &s->snap);
}

/* Row i's first step against the reference (rank 0 holds the verdicts). */
static void check_row(rn_ddp_state *s, int i)
{
    const rn_ddp_spec *sp = &rn_ddp_specs[i];
    const rn_group *g = sp->all_ranks ? rn_ddp_all(s) : &s->groups[0];
    size_t n = rn_model_trainable_count(&s->lab->m);
    float *g_row = cs_alloc(n * sizeof(float), "row gradients"), *w_row = cs_alloc(n * sizeof(float), "row weights");
    float *g_ref = cs_alloc(n * sizeof(float), "reference gradients");
    float *w_ref = cs_alloc(n * sizeof(float), "reference weights");
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    if (g->rank >= 0) {
        set_threads(s, g->local_size);
        first_step(s, g, sp, g_row, w_row);
    }
    rn_comm_meet();
    if (s->rank == 0) {
        /* The ranks' thread count, not the machine's: a BLAS may split a
         * product differently with more threads (OpenBLAS's Prescott
         * kernels do), and on an input with a near-tie in a ReLU or a
         * max-pool window one flipped bit moves the gradients far past
         * the tolerance; the check is of the gradients' sync, not of the
         * BLAS's thread invariance. */
        set_threads(s, g->local_size);
        reference_step(s, g->size, sp->accum, g_ref, w_ref);
        s->rows[i].grads = cs_compare_f32(g_row, g_ref, n, RN_DDP_GRAD_TOL);
        s->rows[i].weights = cs_compare_f32(w_row, w_ref, n, RN_DDP_WEIGHT_TOL);
        s->rows[i].rung.check = cs_check_merge(cs_check_merge(s->rows[i].grads, s->rows[i].weights), s->rows[i].agree);
    }
    rn_comm_meet();
    cs_prof_enable(prof);
    cs_free(g_row), cs_free(w_row), cs_free(g_ref), cs_free(w_ref);
}

/* ---- the all-reduce against its size ------------------------------------------- */

/* Every rank calls it; rank 0 keeps the medians and the fitted line. */
static void measure_allreduce(rn_ddp_state *s)
{
    const rn_group *g = rn_ddp_all(s);
    if (g->size < 2) return;
    rn_ddp_fit *f = &s->fit;
    /* 1 KiB to 16 MiB (4 Mi floats); the line carries on to a 25 MiB bucket. */
    size_t most = (size_t)1 << 22;
    float *buf = NULL; /* on the GPU, NCCL's timing has its own device buffer */
    if (!s->lab->on_gpu) {
        buf = cs_alloc(most * sizeof(float), "all-reduce buffer");
        memset(buf, 0, most * sizeof(float));
    }
    f->n = 0;
    for (size_t floats = 256; floats <= most && f->n < RN_DDP_SIZES; floats *= 4) {
        int reps = floats <= ((size_t)1 << 16) ? 20 : 5;
        double t[20];
        if (s->lab->on_gpu) {
            rn_nccl_time_allreduce(g, floats, reps, t);
        } else {
            rn_group_allreduce(g, buf, floats); /* warm-up */
            for (int r = 0; r < reps; r++) {
                double t0 = cs_now();
                rn_group_allreduce(g, buf, floats);
                t[r] = cs_now() - t0;
            }
        }
        rn_group_max(g, t, reps); /* the slowest rank's: the collective ends when it does */
        cs_stats st = cs_stats_of(t, reps);
        f->bytes[f->n] = (double)floats * sizeof(float);
        f->median_s[f->n] = st.median, f->min_s[f->n] = st.min, f->max_s[f->n] = st.max;
        f->n++;
    }
    cs_free(buf);
    /* t = a + b * bytes by least squares on the relative error (weights
     * 1 / t^2): a plain fit is all large messages, and its intercept, the
     * latency, comes out anywhere near zero. */
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < f->n; i++) {
        double w = 1.0 / (f->median_s[i] * f->median_s[i]);
        sw += w, sx += w * f->bytes[i], sy += w * f->median_s[i];
        sxx += w * f->bytes[i] * f->bytes[i], sxy += w * f->bytes[i] * f->median_s[i];
    }
    double b = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
    double a = (sy - b * sx) / sw;
    if (a <= 0) a = f->median_s[0]; /* the smallest size's time is the latency then */
    int p = g->size;
    f->intercept_s = a, f->slope_s_per_byte = b;
    f->alpha_s = a / (2.0 * (p - 1));
    f->beta_s_per_byte = b * p / (2.0 * (p - 1));
    s->have_fit = 1;
}

double rn_ddp_ring_time(const rn_ddp_fit *f, int p, double bytes)
{
    return 2.0 * (p - 1) * f->alpha_s + 2.0 * (p - 1) / p * bytes * f->beta_s_per_byte;
}

/* ---- set-up and the run ---------------------------------------------------------- */

static int set_up(rn_ddp_state *s, rn_lab *lab)
{
    memset(s, 0, sizeof *s);
    s->lab = lab;
    s->world = rn_comm_size();
    s->rank = rn_comm_rank();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->cores = cores > 0 ? (int)cores : 1;
    if (lab->a->batch < s->world) {
        cs_error("--batch %d: fewer images than the %d ranks (each needs at least one)", lab->a->batch, s->world);
        return 2;
    }
    s->bucket_bytes = (size_t)lab->a->bucket_mb << 20;
    if (rn_sync_plan(&s->plan, &lab->m, s->bucket_bytes) != 0) return 2; /* before any collective */
    for (int k = 0; k < s->plan.nbuckets; k++) s->grad_bytes += s->plan.buckets[k].floats * sizeof(float);
    for (int k = 1; k < s->world && s->npoints < RN_DDP_MAX_POINTS - 1; k *= 2) s->point_ranks[s->npoints++] = k;
    s->point_ranks[s->npoints++] = s->world;
    for (int i = 0; i < s->npoints; i++) rn_group_open(&s->groups[i], s->point_ranks[i]);
    /* Each rank chose its device alone (rn_ddp_choose_device): a machine
     * with fewer GPUs than the others sends its ranks to the CPU, and ranks
     * that go on to different collectives (NCCL's set-up on the GPU ranks
     * only) would wait for each other for ever. The tests' fault has rank 1
     * claim the other device. */
    uint64_t device = (uint64_t)lab->on_gpu ^ (s->rank == 1 && cs_fault_injected("rn_ddp_rank1_other_device"));
    if (!rn_group_agree(rn_ddp_all(s), device)) {
        cs_error("the ranks disagree on the device: rank %d is on the %s and another is not "
                 "(a machine with fewer GPUs than ranks?): --device cpu, or one GPU per rank on every machine",
                 s->rank, device ? "GPU" : "CPU");
        return 3;
    }
    if (lab->on_gpu)
        for (int i = 0; i < s->npoints; i++) rn_nccl_open(&s->groups[i]);
    /* A last, short batch with fewer images than ranks is dropped (as
     * DistributedSampler's drop_last would). */
    if (lab->epoch_batches > 1 && rn_loader_count(&lab->ld, lab->epoch_batches - 1) < s->world) lab->epoch_batches--;
    /* Every row trains the same batches: no_sync_4's steps take 4 each. */
    if (lab->epoch_batches >= 4) lab->epoch_batches -= lab->epoch_batches % 4;
    rn_model *m = &lab->m;
    s->host_tensor = cs_alloc(rn_model_largest_count(m) * sizeof(float), "a tensor on the host");
    /* DDP starts every rank from rank 0's weights. */
    for (int i = 0; i < m->nparams; i++) {
        size_t bytes = m->params[i].count * sizeof(float);
        m->be->to_host(s->host_tensor, m->params[i].data, bytes);
        rn_group_bcast(rn_ddp_all(s), s->host_tensor, bytes);
        m->be->to_backend(m->params[i].data, s->host_tensor, bytes);
    }
    rn_snapshot_take(m, &s->snap);
    s->images = cs_alloc((size_t)lab->a->batch * 3 * m->img * m->img * sizeof(float), "shard images");
    s->labels = cs_alloc((size_t)lab->a->batch * sizeof(int32_t), "shard labels");
    for (int i = 0; i < m->nparams; i++)
        if (!m->params[i].trainable) s->nbuffers += m->params[i].count;
    s->buffers = cs_alloc((s->nbuffers > 0 ? s->nbuffers : 1) * sizeof(float), "running statistics");
    return 0;
}

static void tear_down(rn_ddp_state *s)
{
    for (int i = 0; i < s->npoints; i++) {
        rn_nccl_close(&s->groups[i]);
        rn_group_close(&s->groups[i]);
    }
    cs_free(s->images), cs_free(s->labels), cs_free(s->buffers), cs_free(s->host_tensor);
    rn_snapshot_free(&s->snap);
}

/* The selected rows: their jobs, timed together. */
static int time_rows(rn_ddp_state *s, const int *todo, int ntodo)
{
    ddp_job jobs[RN_DDP_ROWS];
    memset(jobs, 0, sizeof jobs);
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];
        const rn_ddp_spec *sp = &rn_ddp_specs[i];
        const rn_group *g = sp->all_ranks ? rn_ddp_all(s) : &s->groups[0];
        jobs[k] = (ddp_job){&s->rows[i], g, sp->sync, sp->accum, sp->views, g->local_size, rn_ddp_rows[i], sp->lesson};
        if (!sp->all_ranks) jobs[k].ranks_here = 1; /* the whole machine */
    }
    int rc = time_jobs(s, jobs, ntodo, "ddp");
    for (int k = 0; rc == 0 && k < ntodo; k++) {
        check_row(s, todo[k]);
        s->ran[todo[k]] = 1;
    }
    return rc;
}

/* The overlapped step on 1, 2, 4, ..., N ranks, each with the threads an
 * N-rank run gives a rank: adding ranks as one adds machines. */
static int time_scaling(rn_ddp_state *s)
{
    ddp_job jobs[RN_DDP_MAX_POINTS];
    static char names[RN_DDP_MAX_POINTS][24];
    int per_rank = rn_ddp_all(s)->local_size;
    for (int i = 0; i < s->npoints; i++) {
        snprintf(names[i], sizeof names[i], "ranks_%d", s->point_ranks[i]);
        jobs[i] = (ddp_job){&s->points[i],
                            &s->groups[i],
                            RN_SYNC_OVERLAPPED,
                            1,
                            1,
                            per_rank,
                            names[i],
                            "the overlapped step, the threads per rank fixed"};
    }
    int rc = time_jobs(s, jobs, s->npoints, "scaling");
    if (rc == 0) s->points_ran = 1;
    return rc;
}

int rn_ddp(rn_lab *lab)
{
    rn_ddp_state s;
    int rc = set_up(&s, lab);
    if (rc) return rc;
    const char *names[RN_DDP_ROWS], *devices[RN_DDP_ROWS], *not_here[RN_DDP_ROWS] = {0};
    for (int i = 0; i < RN_DDP_ROWS; i++) names[i] = rn_ddp_rows[i], devices[i] = lab->on_gpu ? "gpu" : "cpu";
    if (lab->epoch_batches < 4) not_here[DDP_NO_SYNC] = "no_sync_4 needs at least 4 batches per run (--batches)";
    int todo[RN_DDP_ROWS];
    int ntodo = cs_ladder_select(&lab->a->opt, names, devices, not_here, RN_DDP_ROWS, lab->on_gpu, "", todo, s.skip);
    measure_allreduce(&s);
    if (s.rank == 0) rn_ddp_say_setup(&s);
    cs_prof_enable(1);
    rc = time_rows(&s, todo, ntodo);
    if (rc == 0 && s.rank == 0) {
        rn_ddp_say_profile(&s);
        rn_ddp_say_hypothesis(&s);
        rn_ddp_say_investigation(&s);
    }
    if (rc == 0) rc = time_scaling(&s);
    if (rc == 0 && s.rank == 0) rn_ddp_say_scaling(&s);
    int failed = rc == 0 && s.rank == 0 ? rn_ddp_say_verification(&s) : 0;
    if (rc == 0 && s.rank == 0) rc = rn_ddp_write_results(&s);
    if (rc == 0 && s.rank == 0) rn_ddp_say_lessons(&s);
    tear_down(&s);
    return rc ? rc : failed;
}
