/* The distributed lab's pieces that need no second rank:
 *  - the model's listener (model.h's on_grad) hears every trainable
 *    tensor exactly once per backward, plain, fused and checkpointed: the
 *    overlapped sync starts a bucket only when all its tensors were heard,
 *    so a tensor never reported would stall it and one reported twice
 *    would start it early;
 *  - the buckets (ddp_sync.c) hold every trainable tensor once, last
 *    first, each closed once it reaches its cap (the first one's 1 MiB), for
 *    ResNet-18 and ResNet-50 and several caps;
 *  - with views (gradient_as_bucket_view) the backward writes each
 *    gradient inside its bucket, tensor after tensor, and freeing the sync
 *    gives every tensor its own buffer back holding those values;
 *  - a shard loads the same images as the whole batch does there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_profiler.h"
#include "cs_test.h"
#include "ddp_sync.h"
#include "loader.h"
#include "model.h"

static int heard[RN_MAX_PARAMS];

static void count_grad(void *ctx, rn_param *p)
{
    rn_model *m = ctx;
    heard[p - m->params]++;
}

static void listener(rn_arch arch, int fused, int checkpoint, const float *images, const int32_t *labels, int batch)
{
    rn_model m;
    rn_model_init_arch(&m, rn_cpu_backend(), 5, arch);
    rn_model_set_fused(&m, fused);
    rn_model_set_checkpoint(&m, checkpoint);
    rn_model_prepare(&m, batch, 32);
    memset(heard, 0, sizeof heard);
    m.on_grad = count_grad;
    m.on_grad_ctx = &m;
    rn_model_set_batch(&m, images, labels);
    rn_model_forward(&m, 1);
    rn_model_loss(&m);
    rn_model_backward(&m);
    int once = 1;
    for (int i = 0; i < m.nparams; i++) once &= heard[i] == (m.params[i].trainable ? 1 : 0);
    printf("%s%s%s: every trainable tensor heard once in the backward: %s\n", rn_arch_name(arch), fused ? " fused" : "",
           checkpoint ? " checkpointed" : "", once ? "yes" : "NO");
    CHECK(once);
    rn_model_free(&m);
}

static void buckets(rn_arch arch, size_t cap)
{
    rn_model m;
    rn_model_init_arch(&m, rn_cpu_backend(), 5, arch);
    rn_group one = {NULL, 0, 1, 1, NULL};
    rn_grad_sync s;
    CHECK(rn_sync_init(&s, &m, &one, RN_SYNC_BUCKETED, cap, 0) == 0);
    int ok = s.nbuckets >= 1;
    size_t total = 0;
    int next = 0;
    for (int k = 0; k < s.nbuckets; k++) {
        const rn_bucket *b = &s.buckets[k];
        size_t limit = k == 0 && cap > RN_FIRST_BUCKET_BYTES ? RN_FIRST_BUCKET_BYTES : cap;
        ok &= b->first == next && b->count >= 1;
        next += b->count;
        size_t floats = 0;
        for (int i = b->first; i < b->first + b->count; i++) floats += s.order[i]->count;
        ok &= floats == b->floats;
        /* Closed once full: without its last tensor it was below the cap;
         * every bucket but the last reached it. */
        ok &= (b->floats - s.order[b->first + b->count - 1]->count) * sizeof(float) < limit;
        if (k < s.nbuckets - 1) ok &= b->floats * sizeof(float) >= limit;
        total += b->floats;
    }
    ok &= next == s.ntensors && total == rn_model_trainable_count(&m);
    /* Last first: the model's order reversed. */
    for (int i = 1; i < s.ntensors; i++) ok &= s.order[i] < s.order[i - 1];
    printf("%s, cap %zu MiB: %d buckets over %d tensors (%zu floats): %s\n", rn_arch_name(arch), cap >> 20, s.nbuckets,
           s.ntensors, total, ok ? "laid out" : "WRONG");
    CHECK(ok);
    rn_sync_free(&s);
    rn_model_free(&m);
}

static void views(const float *images, const int32_t *labels, int batch)
{
    rn_model m;
    rn_model_init_arch(&m, rn_cpu_backend(), 5, RN_RESNET18);
    rn_model_prepare(&m, batch, 32);
    float *own[RN_MAX_PARAMS];
    for (int i = 0; i < m.nparams; i++) own[i] = m.params[i].grad;
    rn_group one = {NULL, 0, 1, 1, NULL};
    rn_grad_sync s;
    CHECK(rn_sync_init(&s, &m, &one, RN_SYNC_BUCKETED, (size_t)4 << 20, 1) == 0);
    int ok = 1;
    for (int k = 0; k < s.nbuckets; k++) {
        const float *at = s.buckets[k].flat;
        for (int i = s.buckets[k].first; i < s.buckets[k].first + s.buckets[k].count; i++) {
            ok &= s.order[i]->grad == at;
            at += s.order[i]->count;
        }
    }
    rn_model_set_batch(&m, images, labels);
    rn_model_forward(&m, 1);
    rn_model_loss(&m);
    rn_model_backward(&m);
    size_t n = rn_model_trainable_count(&m), at = 0;
    float *written = malloc(n * sizeof(float));
    CHECK(written != NULL);
    for (int i = 0; i < m.nparams; i++)
        if (m.params[i].trainable) {
            memcpy(written + at, m.params[i].grad, m.params[i].count * sizeof(float));
            at += m.params[i].count;
        }
    rn_sync_free(&s);
    at = 0;
    for (int i = 0; i < m.nparams; i++) {
        ok &= m.params[i].grad == own[i];
        if (!m.params[i].trainable) continue;
        ok &= memcmp(written + at, m.params[i].grad, m.params[i].count * sizeof(float)) == 0;
        at += m.params[i].count;
    }
    printf("gradients as views of 4 MiB buckets: written in place, given back with their values: %s\n",
           ok ? "yes" : "NO");
    CHECK(ok);
    free(written);
    rn_model_free(&m);
}

/* Every shard of a batch, put together, is the batch. */
static void shards(const rn_loader *ld, int batch)
{
    size_t per = 3 * 32 * 32;
    float *whole = malloc(batch * per * sizeof(float)), *part = malloc(batch * per * sizeof(float));
    int32_t lw[64], lp[64];
    CHECK(whole && part);
    int n = rn_loader_get(ld, 1, whole, lw);
    int ok = 1;
    for (int k = 1; k <= 5; k++)
        for (int r = 0; r < k; r++) {
            int first = n * r / k, count = n * (r + 1) / k - first;
            CHECK(rn_loader_get_part(ld, 1, first, count, part, lp) == count);
            ok &= memcmp(part, whole + first * per, count * per * sizeof(float)) == 0;
            ok &= memcmp(lp, lw + first, count * sizeof(int32_t)) == 0;
        }
    printf("a batch of %d in 1 to 5 shards: the same images and labels: %s\n", n, ok ? "yes" : "NO");
    CHECK(ok);
    free(whole);
    free(part);
}

int main(void)
{
    cs_prof_enable(0); /* the models live on this stack */
    const int batch = 4;
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 32, 9) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, batch, 32, 1, 9) == 0);
    float *images = malloc((size_t)batch * 3 * 32 * 32 * sizeof(float));
    int32_t labels[8];
    CHECK(images != NULL);
    rn_loader_get(&ld, 0, images, labels);
    listener(RN_RESNET18, 0, 0, images, labels, batch);
    listener(RN_RESNET18, 1, 0, images, labels, batch);
    listener(RN_RESNET18, 0, 1, images, labels, batch);
    listener(RN_RESNET50, 0, 0, images, labels, batch);
    buckets(RN_RESNET18, (size_t)25 << 20);
    buckets(RN_RESNET18, (size_t)1 << 20);
    buckets(RN_RESNET18, (size_t)4 << 20);
    buckets(RN_RESNET50, (size_t)25 << 20);
    views(images, labels, batch);
    shards(&ld, batch);
    free(images);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    return cs_test_done();
}
