/* The gradient synchronisations of a data-parallel step (see ddp_sync.h).
 * On the CPU backend a gradient is host memory and MPI reads and writes it
 * where it is, the host clock around each call. On the GPU backend
 * (`device`) NCCL does, enqueued on the compute stream or, overlapped, on
 * the side stream after the bucket's copy; the times come from events once
 * the step has finished (rn_sync_collect). */
#include "ddp_sync.h"

#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "comm_nccl.h"
#include "cs_memory.h"

const char *rn_sync_name(rn_sync_kind k)
{
    static const char *const names[] = {"none", "per_tensor", "bucketed", "overlapped"};
    return names[k];
}

/* The buckets: tensors taken last first, a bucket closed once it holds at
 * least its cap (the first one's is 1 MiB), as DDP builds them. */
static int lay_out_buckets(rn_grad_sync *s, size_t bucket_bytes)
{
    size_t cap = RN_FIRST_BUCKET_BYTES < bucket_bytes ? RN_FIRST_BUCKET_BYTES : bucket_bytes;
    rn_bucket *b = NULL;
    for (int i = 0; i < s->ntensors; i++) {
        if (!b || b->floats * sizeof(float) >= cap) {
            if (b) cap = bucket_bytes;
            if (s->nbuckets == RN_MAX_BUCKETS) {
                cs_error("--bucket-mb: more than %d buckets; take larger ones", RN_MAX_BUCKETS);
                return 2;
            }
            b = &s->buckets[s->nbuckets++];
            b->first = i;
            b->request = -1;
        }
        b->count++;
        b->floats += s->order[i]->count;
        s->bucket_of[s->order[i] - s->m->params] = s->nbuckets - 1;
    }
    return 0;
}

/* gradient_as_bucket_view: each tensor's gradient pointed into its bucket. */
static void make_views(rn_grad_sync *s)
{
    for (int k = 0; k < s->nbuckets; k++) {
        rn_bucket *b = &s->buckets[k];
        size_t at = 0;
        for (int i = b->first; i < b->first + b->count; i++) {
            rn_param *p = s->order[i];
            s->own_grad[p - s->m->params] = p->grad;
            p->grad = b->flat + at;
            at += p->count;
        }
    }
}

int rn_sync_plan(rn_grad_sync *s, rn_model *m, size_t bucket_bytes)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->device = m->be->on_device;
    for (int i = m->nparams - 1; i >= 0; i--)
        if (m->params[i].trainable) s->order[s->ntensors++] = &m->params[i];
    return lay_out_buckets(s, bucket_bytes);
}

int rn_sync_init(rn_grad_sync *s, rn_model *m, const rn_group *g, rn_sync_kind kind, size_t bucket_bytes, int views)
{
    int rc = rn_sync_plan(s, m, bucket_bytes);
    if (rc) return rc;
    s->g = g;
    s->kind = kind;
    s->drop_last_bucket = cs_fault_injected("rn_ddp_drops_last_bucket");
    if (kind != RN_SYNC_BUCKETED && kind != RN_SYNC_OVERLAPPED) {
        s->nbuckets = 0; /* per tensor, or nothing to reduce */
        return 0;
    }
    for (int k = 0; k < s->nbuckets; k++)
        s->buckets[k].flat = s->device
                                 ? rn_arena_floats(m->arena, RN_WORKSPACE, s->buckets[k].floats, "gradient bucket")
                                 : cs_alloc(s->buckets[k].floats * sizeof(float), "gradient bucket");
    if (views) {
        s->views = 1;
        make_views(s);
    }
    return 0;
}

void rn_sync_free(rn_grad_sync *s)
{
    if (s->views) /* the gradients' values go back with them: the checks read them after */
        for (int i = 0; i < s->ntensors; i++) {
            rn_param *p = s->order[i];
            float *own = s->own_grad[p - s->m->params];
            if (s->device)
                rn_nccl_copy(own, p->grad, p->count);
            else
                memcpy(own, p->grad, p->count * sizeof(float));
            p->grad = own;
        }
    if (s->views && s->device) {
        double comm, copy; /* those copies are no step's */
        s->m->be->sync();
        rn_nccl_take_times(&comm, &copy);
    }
    for (int k = 0; k < s->nbuckets; k++) {
        if (s->device)
            rn_arena_release(s->m->arena, s->buckets[k].flat);
        else
            cs_free(s->buckets[k].flat);
    }
    memset(s, 0, sizeof *s);
}

/* The profiler's regions of the sync (trace.json's "ddp ..." lanes): the
 * host clock around them is what comm_s and copy_s add up. */
static int region(const rn_grad_sync *s, const char *name)
{
    return s->m->be->region_begin(name);
}

static void region_end(const rn_grad_sync *s, int r)
{
    s->m->be->region_end(r);
}

/* Bucket k's gradients into its flat buffer (out = 0), or back (out = 1);
 * nothing with views: they are there already. */
static void bucket_copy(rn_grad_sync *s, int k, int back)
{
    if (s->views) return;
    int r = region(s, back ? "ddp bucket copy out" : "ddp bucket copy in");
    double t0 = cs_now();
    rn_bucket *b = &s->buckets[k];
    size_t at = 0;
    for (int i = b->first; i < b->first + b->count; i++) {
        rn_param *p = s->order[i];
        float *dst = back ? p->grad : b->flat + at;
        const float *src = back ? b->flat + at : p->grad;
        if (s->device)
            rn_nccl_copy(dst, src, p->count);
        else
            memcpy(dst, src, p->count * sizeof(float));
        at += p->count;
    }
    if (!s->device) s->copy_s += cs_now() - t0; /* on the GPU only enqueued: its time comes from events */
    region_end(s, r);
}

/* The last bucket is left out under the tests' fault: its gradients stay
 * each rank's own. */
static int reduced(const rn_grad_sync *s, int k)
{
    return !(s->drop_last_bucket && k == s->nbuckets - 1);
}

/* Overlapped: bucket k's reduction started. */
static void start_bucket(rn_grad_sync *s, int k)
{
    rn_bucket *b = &s->buckets[k];
    bucket_copy(s, k, 0);
    if (!reduced(s, k)) return;
    if (s->device) { /* on the side stream, after the copy */
        rn_nccl_side_after_compute();
        rn_nccl_allreduce(s->g, b->flat, b->floats, 1);
        s->reductions++;
        return;
    }
    int r = region(s, "ddp all-reduce start");
    double t0 = cs_now();
    b->request = rn_group_iallreduce(s->g, b->flat, b->floats);
    s->reductions++;
    s->comm_s += cs_now() - t0;
    region_end(s, r);
}

/* The model's listener (overlapped): p's gradient is complete. Its bucket
 * waits for one tensor fewer; every bucket ready and next in order starts;
 * the started ones are tested, which is what moves them along. */
static void on_grad(void *ctx, rn_param *p)
{
    rn_grad_sync *s = ctx;
    rn_bucket *b = &s->buckets[s->bucket_of[p - s->m->params]];
    if (b->waiting > 0) b->waiting--;
    while (s->next_start < s->nbuckets && s->buckets[s->next_start].waiting == 0) start_bucket(s, s->next_start++);
    if (s->device) return; /* NCCL's kernels move on their own */
    int r = region(s, "ddp all-reduce test");
    double t0 = cs_now();
    for (int k = 0; k < s->next_start; k++)
        if (s->buckets[k].request >= 0 && rn_request_test(s->buckets[k].request)) s->buckets[k].request = -1;
    s->comm_s += cs_now() - t0;
    region_end(s, r);
}

void rn_sync_begin(rn_grad_sync *s)
{
    s->comm_s = s->copy_s = 0;
    s->reductions = 0;
    s->next_start = 0;
    for (int k = 0; k < s->nbuckets; k++) {
        s->buckets[k].waiting = s->buckets[k].count;
        s->buckets[k].request = -1;
    }
    if (s->kind == RN_SYNC_OVERLAPPED && s->g->size > 1) {
        s->m->on_grad = on_grad;
        s->m->on_grad_ctx = s;
    }
}

static void finish_per_tensor(rn_grad_sync *s)
{
    if (s->device) {
        for (int i = 0; i < s->ntensors; i++) rn_nccl_allreduce(s->g, s->order[i]->grad, s->order[i]->count, 0);
        s->reductions += s->ntensors;
        return;
    }
    int r = region(s, "ddp all-reduce");
    double t0 = cs_now();
    for (int i = 0; i < s->ntensors; i++) rn_group_allreduce(s->g, s->order[i]->grad, s->order[i]->count);
    s->reductions += s->ntensors;
    s->comm_s += cs_now() - t0;
    region_end(s, r);
}

static void finish_bucketed(rn_grad_sync *s)
{
    for (int k = 0; k < s->nbuckets; k++) {
        if (!reduced(s, k)) continue;
        bucket_copy(s, k, 0);
        s->reductions++;
        if (s->device) {
            rn_nccl_allreduce(s->g, s->buckets[k].flat, s->buckets[k].floats, 0);
        } else {
            int r = region(s, "ddp all-reduce");
            double t0 = cs_now();
            rn_group_allreduce(s->g, s->buckets[k].flat, s->buckets[k].floats);
            s->comm_s += cs_now() - t0;
            region_end(s, r);
        }
        bucket_copy(s, k, 1);
    }
}

/* Overlapped: the buckets the backward did not complete (none, unless a
 * gradient was never reported) start now, in order; then each is waited
 * for and copied back. */
static void finish_overlapped(rn_grad_sync *s)
{
    while (s->next_start < s->nbuckets) start_bucket(s, s->next_start++);
    if (s->device) rn_nccl_compute_after_side(); /* the copies back wait for the side stream */
    for (int k = 0; k < s->nbuckets; k++) {
        if (!reduced(s, k)) continue;
        if (s->device) {
            bucket_copy(s, k, 1);
            continue;
        }
        int r = region(s, "ddp all-reduce wait");
        double t0 = cs_now();
        if (s->buckets[k].request >= 0) rn_request_wait(s->buckets[k].request);
        s->buckets[k].request = -1;
        s->comm_s += cs_now() - t0;
        region_end(s, r);
        bucket_copy(s, k, 1);
    }
}

void rn_sync_finish(rn_grad_sync *s)
{
    s->m->on_grad = NULL;
    s->m->on_grad_ctx = NULL;
    if (s->g->size < 2) return; /* one rank: its gradients are the sum */
    switch (s->kind) {
    case RN_SYNC_PER_TENSOR: finish_per_tensor(s); break;
    case RN_SYNC_BUCKETED: finish_bucketed(s); break;
    case RN_SYNC_OVERLAPPED: finish_overlapped(s); break;
    case RN_SYNC_NONE: break;
    }
}

void rn_sync_collect(rn_grad_sync *s)
{
    if (!s->device) return;
    double comm, copy;
    rn_nccl_take_times(&comm, &copy);
    s->comm_s += comm;
    s->copy_s += copy;
}
