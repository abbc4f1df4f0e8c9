/* Part 4's memory bookkeeping (memory_budget.h, rn_model_unprepare):
 *  - unprepare gives back every byte prepare took, and the model can be
 *    prepared again for another batch and train;
 *  - the layout is affine in the batch (fixed + n x per image, exactly),
 *    for every configuration;
 *  - a training step allocates nothing beyond the layout on the CPU (its
 *    peak equals the laid-out bytes), so the largest batch that fits is
 *    the layout's;
 *  - AMP and checkpointing each lay out fewer bytes per image than fp32;
 *    the largest batch in a budget is the layout's: its layout fits, one
 *    more image's does not. */
#include <stdio.h>
#include <stdlib.h>

#include "cs_profiler.h"
#include "cs_test.h"
#include "memory_budget.h"

static void test_unprepare(void)
{
    rn_model m;
    rn_model_init(&m, rn_cpu_backend(), 5);
    size_t before = rn_arena_total(m.arena);
    rn_model_prepare(&m, 4, 32);
    CHECK(rn_arena_total(m.arena) > before);
    rn_model_unprepare(&m);
    CHECK(rn_arena_total(m.arena) == before);
    CHECK(m.capacity == 0);
    rn_model_set_checkpoint(&m, 1);
    rn_model_prepare(&m, 2, 32);
    float images[2 * 3 * 32 * 32];
    int32_t labels[2] = {3, 7};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) images[i] = (float)(i % 17) / 17.0f - 0.5f;
    rn_model_set_batch(&m, images, labels);
    rn_model_forward(&m, 1);
    rn_model_loss(&m);
    rn_model_backward(&m);
    float loss;
    int correct;
    rn_model_read_metrics(&m, &loss, &correct);
    CHECK(loss > 0.0f && loss < 10.0f);
    rn_model_unprepare(&m);
    CHECK(rn_arena_total(m.arena) == before);
    rn_model_free(&m);
}

static void test_probe(void)
{
    rn_mem_probe p;
    rn_probe_open(&p, rn_cpu_backend(), 5, RN_RESNET18, 32);
    double fixed[RN_BUDGET_CONFIGS], per[RN_BUDGET_CONFIGS];
    for (int c = 0; c < RN_BUDGET_CONFIGS; c++) {
        rn_probe_fit(&p, c, &fixed[c], &per[c]);
        CHECK(per[c] > 0 && fixed[c] > 0);
        /* Affine, to the byte: every buffer is linear in n or constant. */
        CHECK((double)rn_probe_layout_bytes(&p, c, 7) == fixed[c] + 7 * per[c]);
    }
    CHECK(per[1] < per[0]); /* 16-bit activations */
    CHECK(per[2] < per[0]); /* checkpointing */
    CHECK(per[3] < per[1] && per[3] < per[2]);
    /* A budget room for 9.5 images of fp32: the search finds 9, and the
     * step at 9 takes exactly the layout (nothing allocated during it). */
    size_t budget = (size_t)(fixed[0] + 9.5 * per[0]);
    rn_budget_row rows[RN_BUDGET_CONFIGS];
    rn_probe_max_batches(&p, budget, rows);
    CHECK(rows[0].max_batch == 9);
    CHECK(rows[0].laid_out <= budget && rn_probe_layout_bytes(&p, 0, 10) > budget);
    CHECK(rows[0].step_peak == rows[0].laid_out);
    /* Checkpointing adds nothing fixed: more images fit. (AMP adds its
     * weight-copy scratch, so in a budget this small it may fit fewer.) */
    CHECK(rows[2].max_batch > rows[0].max_batch);
    for (int c = 1; c < RN_BUDGET_CONFIGS; c++)
        CHECK(rows[c].step_peak <= budget && rn_probe_layout_bytes(&p, c, rows[c].max_batch + 1) > budget);
    /* Too small for the weights alone: no batch fits. */
    rn_probe_max_batches(&p, (size_t)(fixed[0] / 2), rows);
    CHECK(rows[0].max_batch == 0 && rows[3].max_batch == 0);
    rn_probe_close(&p);
}

int main(void)
{
    cs_prof_enable(0);
    test_unprepare();
    test_probe();
    return cs_test_done();
}
