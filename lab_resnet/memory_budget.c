/* The largest batch that fits (see memory_budget.h).
 *
 * The probe is a model of its own, so that laying it out again and again
 * leaves the lab's model and its arena's peaks alone. Its precision goes
 * back to fp32 after each use: the backend's convolution math is one
 * setting for both models, and the memory run's model is fp32. */
#include "memory_budget.h"

#include <math.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "cs_rng.h"

const char *const rn_budget_configs[RN_BUDGET_CONFIGS] = {"fp32", "amp", "checkpoint", "amp+checkpoint"};

static const struct {
    rn_precision precision;
    int checkpoint;
} configs[RN_BUDGET_CONFIGS] = {{RN_FP32, 0}, {RN_BF16, 0}, {RN_FP32, 1}, {RN_BF16, 1}};

void rn_probe_open(rn_mem_probe *p, const rn_backend *be, uint64_t seed, rn_arch arch, int img)
{
    memset(p, 0, sizeof *p);
    rn_model_init_arch(&p->m, be, seed, arch);
    p->img = img;
    p->open = 1;
}

void rn_probe_close(rn_mem_probe *p)
{
    if (!p->open) return;
    rn_model_set_precision(&p->m, RN_FP32);
    rn_model_free(&p->m);
    p->open = 0;
}

/* The probe laid out for n images under configuration c. */
static void lay_out(rn_mem_probe *p, int c, int n)
{
    rn_model_unprepare(&p->m);
    rn_model_set_precision(&p->m, configs[c].precision);
    rn_model_set_checkpoint(&p->m, configs[c].checkpoint);
    rn_model_prepare(&p->m, n, p->img);
}

static void done_with(rn_mem_probe *p)
{
    rn_model_unprepare(&p->m);
    rn_model_set_checkpoint(&p->m, 0);
    rn_model_set_precision(&p->m, RN_FP32);
}

size_t rn_probe_layout_bytes(rn_mem_probe *p, int config, int n)
{
    lay_out(p, config, n);
    size_t bytes = rn_arena_total(p->m.arena);
    done_with(p);
    return bytes;
}

void rn_probe_fit(rn_mem_probe *p, int config, double *fixed, double *per_image)
{
    double one = (double)rn_probe_layout_bytes(p, config, 1), two = (double)rn_probe_layout_bytes(p, config, 2);
    *per_image = two - one;
    *fixed = one - *per_image;
}

/* One training step of the probe laid out for n images, on made-up images
 * (the bytes do not depend on the values), into row: the layout's bytes,
 * the arena's peak over the step, its time. */
static void step_peak(rn_mem_probe *p, int c, int n, rn_budget_row *row)
{
    lay_out(p, c, n);
    row->laid_out = rn_arena_total(p->m.arena);
    size_t floats = (size_t)n * 3 * p->img * p->img;
    float *images = cs_alloc(floats * sizeof(float), "probe images");
    int32_t *labels = cs_alloc((size_t)n * sizeof(int32_t), "probe labels");
    cs_rng r;
    cs_rng_seed(&r, 4, 0);
    for (size_t i = 0; i < floats; i++) images[i] = cs_rng_uniform(&r, -2.0f, 2.0f);
    for (int i = 0; i < n; i++) labels[i] = i % RN_CLASSES;
    rn_model_set_batch(&p->m, images, labels);
    rn_arena_peaks_reset(p->m.arena);
    double t0 = cs_now();
    rn_model_forward(&p->m, 1);
    rn_model_loss(&p->m);
    rn_model_backward(&p->m);
    rn_model_adam_step(&p->m);
    float loss;
    int correct;
    rn_model_read_metrics(&p->m, &loss, &correct); /* waits for the device */
    row->step_s = cs_now() - t0;
    row->step_peak = rn_arena_total_peak(p->m.arena);
    cs_free(images);
    cs_free(labels);
    done_with(p);
}

/* The largest n <= RN_BUDGET_MAX_BATCH whose layout fits. The fit from 1
 * and 2 images bounds the layout from above (the convolutions' scratch
 * grows with the batch up to its cap, then stops), so its estimate fits:
 * from there the steps double until one does not, then halve between the
 * two (a handful of layouts, none much past the budget). */
static int largest_layout(rn_mem_probe *p, int c, size_t budget, rn_budget_row *row)
{
    rn_probe_fit(p, c, &row->fixed, &row->per_image);
    double room = (double)budget - row->fixed;
    double guess = row->per_image > 0 ? floor(room / row->per_image) : RN_BUDGET_MAX_BATCH;
    int lo = 0, hi = RN_BUDGET_MAX_BATCH + 1; /* lo fits (0: by definition), hi does not */
    int n = guess < 1 ? 1 : guess > RN_BUDGET_MAX_BATCH ? RN_BUDGET_MAX_BATCH : (int)guess;
    if (rn_probe_layout_bytes(p, c, n) <= budget) {
        lo = n;
        for (int step = 1; lo + step < hi; step *= 2) {
            if (rn_probe_layout_bytes(p, c, lo + step) > budget) {
                hi = lo + step;
                break;
            }
            lo += step;
        }
    } else {
        hi = n;
        for (int step = 1; hi - step > lo; step *= 2) {
            if (rn_probe_layout_bytes(p, c, hi - step) <= budget) {
                lo = hi - step;
                break;
            }
            hi -= step;
        }
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (rn_probe_layout_bytes(p, c, mid) <= budget)
            lo = mid;
        else
            hi = mid;
    }
    row->capped = lo == RN_BUDGET_MAX_BATCH;
    return lo;
}

void rn_probe_max_batches(rn_mem_probe *p, size_t budget, rn_budget_row *rows)
{
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    for (int c = 0; c < RN_BUDGET_CONFIGS; c++) {
        rn_budget_row *row = &rows[c];
        memset(row, 0, sizeof *row);
        cs_progress("largest batch in the budget: %s", rn_budget_configs[c]);
        int n = largest_layout(p, c, budget, row);
        /* The step's own peak must fit too: anything a step takes beyond
         * the layout (none on the CPU today) is counted here. */
        while (n > 0) {
            step_peak(p, c, n, row);
            if (row->step_peak <= budget) break;
            n--;
        }
        row->max_batch = n;
        if (n == 0) row->laid_out = 0;
        cs_progress_done();
    }
    cs_prof_enable(prof);
}
