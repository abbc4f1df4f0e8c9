/* Part 6's report: optimization_report.md in the lab's template (executive
 * summary, bottlenecks identified with their evidence, optimizations
 * applied with speedup and impact, production recommendations, lessons
 * learned), every figure and every verdict taken from the comparison's
 * rows (compare.c): nothing is typed in ahead of the run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_ops.h"
#include "compare.h"
#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_report.h"
#include "precision.h"

enum { ROW_BASELINE, ROW_DATALOADER, ROW_AMP, ROW_FUSED, ROW_GRAPH, ROW_AMP_ONLY, ROW_ACCUM_ONLY, ROW_ALL };

static double median(const rn_cmp_run *r, int i)
{
    return r->rows[i].rung.timing.time.median;
}

/* "1.23x faster" or "no faster within the measured spread (...)" of row
 * `after` against row `before`; *tie set when their ranges overlap. */
static const char *phrase(const rn_cmp_run *r, int before, int after, char *buf, size_t len, int *tie)
{
    cs_result b = {0}, a = {0};
    b.timing = r->rows[before].rung.timing;
    a.timing = r->rows[after].rung.timing;
    return cs_compare_phrase(&b, &a, buf, len, tie);
}

/* The baseline's mean batch: its phases added up. */
static double baseline_batch_s(const rn_cmp_run *r)
{
    double s = 0;
    for (int p = 0; p < RN_NPHASES; p++) s += r->rows[ROW_BASELINE].phase_s[p];
    return s;
}

/* The last row of the lab's table that ran. */
static int last_lab_row(const rn_cmp_run *r)
{
    int last = -1;
    for (int i = 0; i < RN_COMPARE_ROWS; i++)
        if (r->ran[i] && rn_compare_specs[i].label_lab) last = i;
    return last;
}

static void executive_summary(FILE *f, const rn_cmp_run *r)
{
    const rn_lab *lab = r->lab;
    char machine[512];
    cs_sysinfo_oneline(&lab->sys, machine, sizeof machine);
    fprintf(f, "## Executive Summary\n\n");
    fprintf(f,
            "Measured on %s. %s at %d x %d, batch %d, %d batches per run, the median of %d timed runs per "
            "configuration.\n\n",
            machine, rn_arch_title(lab->a->arch), lab->a->img, lab->a->img, lab->a->batch, lab->epoch_batches,
            r->rows[ROW_BASELINE].rung.timing.time.n);
    int last = last_lab_row(r);
    const rn_cmp_row *b = &r->rows[ROW_BASELINE], *l = &r->rows[last];
    char buf[128];
    int tie = 0;
    phrase(r, ROW_BASELINE, last, buf, sizeof buf, &tie);
    fprintf(f,
            "- The baseline trained **%.1f samples/s**; with every technique of the lab's table (%s) **%.1f "
            "samples/s**: %s against the baseline.\n",
            b->images_per_s, rn_compare_specs[last].label_lab, l->images_per_s, buf);
    fprintf(f, "- Peak memory of the model: %.1f MiB -> %.1f MiB (activations %.1f -> %.1f MiB).\n",
            b->peak_total / 1048576.0, l->peak_total / 1048576.0, b->peak_act / 1048576.0, l->peak_act / 1048576.0);
    fprintf(f,
            "- Test accuracy after the same %d batches: %.1f%% -> %.1f%% (a short run: it shows the training went the "
            "same way, not the accuracy a full training reaches).\n",
            lab->epoch_batches, 100.0 * b->test_accuracy, 100.0 * l->test_accuracy);
    fprintf(f, "- The course expects 2-3x from the whole lab: %s here.\n\n",
            !tie && median(r, ROW_BASELINE) / median(r, last) >= 2.0 ? "met" : "not met");
}

typedef struct {
    const char *what;
    double s;
    const char *evidence;
} cost_row;

/* The baseline's costs, largest first, with the figures that show them. */
static void bottlenecks(FILE *f, const rn_cmp_run *r)
{
    const rn_cmp_row *b = &r->rows[ROW_BASELINE];
    double step = baseline_batch_s(r);
    if (step <= 0) step = 1;
    cost_row cost[4] = {
        {"Convolutions (forward and backward)", b->conv_s, "the profiler's fwd conv and bwd conv regions"},
        {"Adam's update", b->phase_s[RN_PHASE_OPTIMIZER], "the step's optimizer phase"},
        {"The rest of forward and backward (batch norm, ReLU, adds, pooling, the head)",
         b->phase_s[RN_PHASE_FORWARD] + b->phase_s[RN_PHASE_BACKWARD] - b->conv_s, "forward + backward - convolutions"},
        {"Waiting for data (loading in the training thread)", b->phase_s[RN_PHASE_DATA] + b->phase_s[RN_PHASE_COPY],
         "the step's data and copy phases"},
    };
    for (int i = 0; i < 4; i++) /* largest first */
        for (int j = i + 1; j < 4; j++)
            if (cost[j].s > cost[i].s) {
                cost_row t = cost[i];
                cost[i] = cost[j];
                cost[j] = t;
            }
    fprintf(f, "## Bottlenecks Identified\n\n");
    fprintf(f, "The baseline's mean batch took %.2f ms (%s). Where it went, largest first:\n\n", 1e3 * step,
            r->lab->on_gpu ? "forward, backward and Adam in device time" : "host clock");
    fprintf(f, "| Cost | ms per batch | Share | Evidence |\n|---|---:|---:|---|\n");
    for (int i = 0; i < 4; i++)
        fprintf(f, "| %s | %.2f | %.1f%% | %s |\n", cost[i].what, 1e3 * cost[i].s, 100.0 * cost[i].s / step,
                cost[i].evidence);
    fprintf(f, "\n");
}

/* One row of a techniques table: its speedup over `before` and over the
 * baseline, memory and accuracy, and the verdict the spreads allow. */
static void technique_row(FILE *f, const rn_cmp_run *r, int i, int before, const char *label)
{
    const rn_cmp_row *x = &r->rows[i];
    char buf[128];
    int tie = 0;
    phrase(r, before, i, buf, sizeof buf, &tie);
    double step = median(r, before) / median(r, i), mem = (double)x->peak_total / (double)r->rows[before].peak_total;
    fprintf(f, "| %s | %.2fx | %.2fx | %.1f MiB (%+.0f%%) | %.1f%% | %s |\n", label, step,
            median(r, ROW_BASELINE) / median(r, i), x->peak_total / 1048576.0, 100.0 * (mem - 1.0),
            100.0 * x->test_accuracy,
            i == before ? "the reference"
            : tie       ? "no measurable change"
                        : buf);
}

static void optimizations(FILE *f, const rn_cmp_run *r)
{
    fprintf(f, "## Optimizations Applied\n\n");
    fprintf(f, "Each on top of the one before (the lab's table, `optimization_results.csv`):\n\n");
    fprintf(f, "| Configuration | Speedup over the row before | Over the baseline | Peak memory (vs the row before) | "
               "Test accuracy | Impact |\n|---|---:|---:|---:|---:|---|\n");
    int prev = -1;
    for (int i = 0; i < RN_COMPARE_ROWS; i++) {
        if (!r->ran[i] || !rn_compare_specs[i].label_lab) continue;
        technique_row(f, r, i, prev < 0 ? i : prev, rn_compare_specs[i].label_lab);
        prev = i;
    }
    fprintf(f, "\nEach alone on the baseline, then all together (the distributed-profiling lab's table, "
               "`profiling_results.csv`):\n\n");
    fprintf(f, "| Configuration | Speedup | Over the baseline | Peak memory (vs the baseline) | Test accuracy | Impact "
               "|\n|---|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < RN_COMPARE_ROWS; i++)
        if (r->ran[i] && rn_compare_specs[i].label_profiling && r->ran[ROW_BASELINE])
            technique_row(f, r, i, ROW_BASELINE, rn_compare_specs[i].label_profiling);
    fprintf(f, "\n");
}

/* Keep or leave out each technique, from its row alone on the baseline (or
 * on the row before it in the lab's table). */
static void recommend(FILE *f, const rn_cmp_run *r, int i, int before, const char *what, const char *why_not)
{
    if (!r->ran[i] || !r->ran[before]) return;
    char buf[128];
    int tie = 0;
    phrase(r, before, i, buf, sizeof buf, &tie);
    double x = median(r, before) / median(r, i);
    if (!tie && x > 1.0)
        fprintf(f, "- **Keep %s**: %s.\n", what, buf);
    else if (!tie)
        fprintf(f, "- **Leave %s off on this machine**: %s; %s.\n", what, buf, why_not);
    else
        fprintf(f, "- **%s makes no measurable difference here** (%s); %s.\n", what, buf, why_not);
}

static void recommendations(FILE *f, const rn_cmp_run *r)
{
    const rn_cmp_row *b = &r->rows[ROW_BASELINE];
    double step = baseline_batch_s(r);
    char data_why[160];
    snprintf(data_why, sizeof data_why, "loading was %.1f%% of a baseline batch, so there was little to hide",
             step > 0 ? 100.0 * (b->phase_s[RN_PHASE_DATA] + b->phase_s[RN_PHASE_COPY]) / step : 0);
    fprintf(f, "## Production Recommendations\n\n");
    recommend(f, r, ROW_DATALOADER, ROW_BASELINE, "the optimized DataLoader", data_why);
    char amp_why[320] = "check that the convolutions run on tensor cores (cuDNN, NHWC)";
    if (!r->lab->on_gpu && rn_cpu_bf16_gemm_enabled())
        snprintf(amp_why, sizeof amp_why,
                 "bf16's convolutions multiply in AVX-512 BF16 here, and its conversions and the float layers "
                 "between them cost the rest");
    else if (!r->lab->on_gpu)
        snprintf(amp_why, sizeof amp_why,
                 "bf16's products stay fp32 here (the lab's bf16 GEMM is not used: %s): it is a storage format, "
                 "and its conversions cost time",
                 rn_cpu_bf16_gemm_why((char[192]){0}, 192));
    recommend(f, r, ROW_AMP_ONLY, ROW_BASELINE,
              r->lab->on_gpu ? "mixed precision (fp16 with GradScaler)" : "mixed precision (bf16 autocast)", amp_why);
    recommend(f, r, ROW_FUSED, ROW_AMP, "fusion", "the fused operations are a small share of the step");
    if (r->ran[ROW_ACCUM_ONLY] && r->ran[ROW_BASELINE]) {
        char buf[128];
        int tie = 0;
        phrase(r, ROW_BASELINE, ROW_ACCUM_ONLY, buf, sizeof buf, &tie);
        fprintf(
            f,
            "- **Gradient accumulation** is for memory: an effective batch of %d x %d at the memory of %d. Its time "
            "here: %s, as it takes one optimizer step per %d batches (Adam was %.1f%% of a baseline batch). Use it "
            "when the batch you want does not fit.\n",
            RN_COMPARE_ACCUM, r->lab->a->batch, r->lab->a->batch, tie ? "no measurable change" : buf, RN_COMPARE_ACCUM,
            step > 0 ? 100.0 * b->phase_s[RN_PHASE_OPTIMIZER] / step : 0);
    }
    fprintf(f, "- Measure on the production machine before deciding: these verdicts are this machine's.\n\n");
}

static void lessons(FILE *f, const rn_cmp_run *r)
{
    fprintf(f, "## Lessons Learned\n\n");
    const rn_cmp_row *b = &r->rows[ROW_BASELINE];
    double step = baseline_batch_s(r);
    if (step > 0)
        fprintf(f,
                "- Measure first: the convolutions took %.0f%% of the baseline's batch; a technique that "
                "removes another cost can save at most that cost's share.\n",
                100.0 * b->conv_s / step);
    if (r->ran[ROW_ALL] && r->ran[ROW_DATALOADER] && r->ran[ROW_AMP_ONLY] && r->ran[ROW_ACCUM_ONLY]) {
        double product = median(r, ROW_BASELINE) / median(r, ROW_DATALOADER) * median(r, ROW_BASELINE) /
                         median(r, ROW_AMP_ONLY) * median(r, ROW_BASELINE) / median(r, ROW_ACCUM_ONLY);
        fprintf(f,
                "- Speedups do not simply multiply: DataLoader, AMP and accumulation alone give %.2fx together "
                "if they did; all of them at once (with fusion) gave %.2fx.\n",
                product, median(r, ROW_BASELINE) / median(r, ROW_ALL));
    }
    fprintf(f, "- Every configuration was checked against the baseline's losses (the first loss exactly where the "
               "arithmetic is the same): a speedup that changes the result is not one.\n");
}

int rn_compare_report(const rn_cmp_run *r, const char *dir)
{
    if (!r->ran[ROW_BASELINE] || last_lab_row(r) < 0) return 0; /* --variant left out what the report needs */
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "optimization_report.md")) != 0) return 3;
    fprintf(o.f, "# %s Training Optimization Report\n\n", rn_arch_title(r->lab->a->arch));
    fprintf(o.f, "Written by `lab_resnet compare` from this run's measurements (%s/results.csv).\n\n", dir);
    executive_summary(o.f, r);
    bottlenecks(o.f, r);
    optimizations(o.f, r);
    recommendations(o.f, r);
    lessons(o.f, r);
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}
