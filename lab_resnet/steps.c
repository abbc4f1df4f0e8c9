/* The lab's Part 1 as the seven steps (see steps.h). */
#include "steps.h"
#include "onnx_export.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gemm.h"
#include "cs_gpu.h"
#include "cs_ladder.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "charts.h"
#include "cpu_ops.h"
#include "grad_scaler.h"
#include "lab_rungs.h"

/* Batches the baseline's check needs: the loss of the first tenth of the
 * epoch against the last tenth's, two different batches at the least. */
#define RN_MIN_CHECK_BATCHES 2

/* Below this many batches the run is a demo of the loop, not a training
 * (the default CPU epoch is 128 batches of 32). */
#define RN_LEARNING_BATCHES 100

/* `lab_resnet baseline` numbers its steps 1, 2 (the epoch), 3 (the check). */
static int all_steps(const rn_lab *lab)
{
    return lab->a->cmd == RN_CMD_ALL;
}

/* ---- 1. Scenario ---------------------------------------------------------------- */

/* How this run loads its batches, for the Scenario. */
static const char *loading_words(const rn_args *a)
{
    static char words[160];
    if (a->cmd == RN_CMD_DATALOADER)
        return "loaded in the training thread or by\n  worker threads, row by row (Part 2)";
    if (a->num_workers < 1) return "loaded in the\n  training thread (the lab's baseline, num_workers = 0)";
    snprintf(words, sizeof words, "loaded by %d worker\n  threads (prefetch_factor %d%s%s)", a->num_workers,
             a->prefetch, a->persistent ? ", persistent" : "", a->pin_memory ? ", pinned staging on a GPU" : "");
    return words;
}

void step1_scenario(rn_lab *lab)
{
    const rn_args *a = lab->a;
    const rn_model *m = &lab->m;
    /* The CPU GEMM's choice (a probe where OpenBLAS runs slow kernels) made
     * before any timed work, and so named on the BLAS line. */
    (void)cs_gemm_best_cpu();
    cs_sysinfo_get(&lab->sys);
    cs_step(1, "Scenario");
    cs_say("  The lab's %s (torchvision's definition, 10-class head, %zu parameters),\n"
           "  Adam lr %g, batch %d, on %s: %d training images (%s),\n"
           "  %d test images.\n"
           "  Images: RandomResizedCrop to %d x %d, flip, ImageNet normalisation; %s.\n"
           "  Device: %s.\n",
           rn_arch_title(m->arch), rn_model_trainable_count(m), a->lr, a->batch,
           a->data_dir ? "CIFAR-10 files" : "generated data", lab->train.n, lab->train.source, lab->test.n, a->img,
           a->img, loading_words(a), lab->on_gpu ? "GPU" : "CPU");
    if (a->img_why) cs_say("  Image size %d: %s.\n", a->img, a->img_why);
    if (a->precision != RN_FP32)
        cs_say("  Precision: %s, autocast's numerics (convolutions and fc on %s copies of the fp32 weights,\n"
               "  activations and gradients rounded to %s, batch norm, the loss and Adam in fp32%s). The\n"
               "  activations kept for the backward pass are stored in 16 bits, %s.\n",
               rn_precision_name(a->precision), rn_precision_name(a->precision), rn_precision_name(a->precision),
               a->precision == RN_FP16 ? "; GradScaler" : "",
               m->act16 ? "and every activation between layers\n  is 16-bit channels last (NHWC), computed on as it is"
                        : "computed on in float");
    /* Why the GPU is not used, when the GPU line below does not say it. */
    if (!lab->dev.run_gpu && lab->dev.want_gpu && cs_devices_why_not(&lab->dev, &lab->sys, NULL))
        cs_say("  GPU not used: %s\n", lab->dev.why);
    if (!cs_brief()) cs_sysinfo_print(stdout, &lab->sys);
    /* A 3x3 of layer1 (a Bottleneck's is its conv2) and layer2's shortcut. */
    const rn_block *first = &m->blocks[0], *l2 = &m->blocks[m->layer_first[1]];
    cs_say("  Convolutions: conv1 %s; 3x3 %s; 1x1 shortcut %s\n",
           lab->be->conv_algo(&m->conv1.s, a->batch, a->img, a->img),
           lab->be->conv_algo(first->bottleneck ? &first->conv2.s : &first->conv1.s, a->batch, m->pool_h, m->pool_w),
           lab->be->conv_algo(&l2->ds_conv.s, a->batch, l2->h_in, l2->w_in));
    if (!lab->on_gpu && a->precision == RN_BF16 && rn_cpu_bf16_gemm_choice()->available)
        cs_say("  bf16 GEMM: %s (%s)\n", rn_cpu_bf16_gemm_enabled() ? "used" : "not used",
               rn_cpu_bf16_gemm_why((char[192]){0}, 192));
}

/* ---- 2. Initial profiling --------------------------------------------------------- */

/* The profile: the first n batches with the profiler on. */
static int run_profile(rn_model *m, rn_loader *ld, int n, int on_gpu, const char *out_dir, rn_profile_answers *ans)
{
    /* One untimed batch first, as PyTorch's profiler schedule does with its
     * warm-up step: the one-time costs of the first batch (loading the GPU
     * libraries' kernels, cuDNN's and cuBLAS's first calls, the first touch
     * of every buffer) would otherwise be charged to the layers. */
    rn_grad_scaler scaler; /* fp16: the loss scaled, as the training's */
    rn_scaler_init(&scaler);
    rn_grad_scaler *fp16 = m->precision == RN_FP16 ? &scaler : NULL;
    rn_train_opts w = {.batches = 1, .warmup = 0, .log_every = 0, .scaler = fp16};
    rn_train_result r;
    cs_prof_enable(0);
    int rc = rn_train_epoch(m, ld, 0, &w, &r);
    rn_train_result_free(&r);
    if (rc) return rc;
    cs_say("  (after one untimed warm-up batch, which pays the one-time costs of the first)\n");
    rn_train_opts o = {.batches = n, .warmup = 0, .log_every = 0, .scaler = fp16};
    cs_prof_reset();
    cs_prof_enable(1);
    cs_prof_lane("profile");
    double t0 = cs_now();
    rc = rn_train_epoch(m, ld, 0, &o, &r);
    double wall = cs_now() - t0;
    if (rc == 0) rn_profile_report(stdout, r.steps, wall, on_gpu, 10, ans);
    rn_train_result_free(&r);
    if (rc) return rc;
    char path[CS_PATH_MAX];
    if (cs_mkdir_p(out_dir) != 0) return 3;
    if (cs_prof_write_trace(cs_path_join(path, sizeof path, out_dir, "baseline_trace.json")) != 0) return 3;
    rn_chart_profile(out_dir, ans, on_gpu);
    cs_say("  Trace: %s (open in ui.perfetto.dev: data loading, copy, forward, backward and the\n"
           "  optimizer step with the layers inside them)\n",
           path);
    return 0;
}

int step2_initial_profiling(rn_lab *lab)
{
    cs_step(2, "Initial profiling");
    int n = lab->a->profile_batches < lab->ld.batches ? lab->a->profile_batches : lab->ld.batches;
    return run_profile(&lab->m, &lab->ld, n, lab->on_gpu, lab->a->opt.out_dir, &lab->ans);
}

/* ---- 3. Hypothesis ---------------------------------------------------------------- */

void step3_hypothesis(rn_lab *lab)
{
    const rn_profile_answers *a = &lab->ans;
    int on_gpu = lab->on_gpu;
    cs_step(3, "Hypothesis");
    double step = a->wall_s / (a->steps ? a->steps : 1);
    cs_say("  The lab's four questions, from this profile (%d steps, %s per step):\n", a->steps,
           cs_format_time(step, (char[32]){0}, 32));
    double dl = a->data_s / a->steps, comp = a->compute_s / a->steps;
    cs_say("  1. Data loading against compute: %s loading (%.1f%% of a step) against %s of\n"
           "     forward, loss, backward and optimizer step (%.0f%%).\n",
           cs_format_time(dl, (char[32]){0}, 32), 100.0 * dl / step, cs_format_time(comp, (char[32]){0}, 32),
           100.0 * comp / step);
    if (on_gpu)
        cs_say("  2. GPU busy: the device worked %.0f%% of the wall time (device time of the copies\n"
               "     and compute regions, from CUDA events, over the wall clock).\n",
               100.0 * a->device_busy_share);
    else
        cs_say("  2. GPU busy: no GPU in this run; the CPU computes %.0f%% of each step.\n", 100.0 * comp / step);
    cs_say("  3. Host-to-device copies: %s per step (%.1f%%)%s.\n",
           cs_format_time(a->h2d_s / a->steps, (char[32]){0}, 32), 100.0 * a->h2d_s / a->steps / step,
           on_gpu ? "" : " (a host-to-host copy here: no device)");
    cs_say("  4. The three slowest operations:");
    for (int i = 0; i < 3 && a->slowest[i][0]; i++)
        cs_say("%s %s (%s per step)", i ? "," : "", a->slowest[i], cs_format_time(a->slowest_s[i], (char[32]){0}, 32));
    cs_say(".\n");
}

/* ---- 4. Investigation: the baseline epoch ------------------------------------------ */

/* Step 4's memory table: the arena's peak per category, and the device's
 * own figure on a GPU. */
static void print_memory(const rn_model *m)
{
    const rn_arena *ar = m->arena;
    cs_say("  Peak memory by category (%s):\n", rn_arena_on_device(ar) ? "device" : "host");
    for (int c = 0; c < RN_NCATEGORIES; c++)
        cs_say("    %-12s %12s\n", rn_category_name((rn_category)c),
               cs_format_bytes((double)rn_arena_peak(ar, (rn_category)c), (char[32]){0}, 32));
    cs_say("    %-12s %12s\n", "total", cs_format_bytes((double)rn_arena_total_peak(ar), (char[32]){0}, 32));
    if (rn_arena_on_device(ar))
        cs_say("    device memory in use (cudaMemGetInfo): %s\n",
               cs_format_bytes((double)cs_gpu_used_bytes(), (char[32]){0}, 32));
}

/* The epoch's figures: throughput, the split of the median batch, the loss
 * and the accuracies. */
static void print_epoch(const rn_lab *lab)
{
    const rn_args *a = lab->a;
    const rn_train_result *res = &lab->res;
    int warmup = a->warmup < res->steps ? a->warmup : 0;
    cs_say("  Epoch: %d batches of %d in %s; throughput %.1f images/s over the %d batches after\n"
           "  %d warm-up batches (median batch %s, min %s, max %s).\n",
           res->steps, a->batch, cs_format_time(res->wall_s, (char[32]){0}, 32), res->images_per_s, res->steps - warmup,
           warmup, cs_format_time(res->step_median_s, (char[32]){0}, 32),
           cs_format_time(res->step_min_s, (char[32]){0}, 32), cs_format_time(res->step_max_s, (char[32]){0}, 32));
    cs_say("  The lab's figures: epoch time %s (loading included); throughput %.1f images/s\n"
           "  (the %d images over every batch's time from when its data was there: loading excluded).\n",
           cs_format_time(res->wall_s, (char[32]){0}, 32), res->lab_images_per_s, res->images);
    cs_say("  Median batch split: %s loading it in this thread, %s copying it to the %s,\n"
           "  %s training on it (forward, loss, backward, Adam, loss.item()): %.1f images/s\n"
           "  for the training alone.\n",
           cs_format_time(res->load_median_s, (char[32]){0}, 32), cs_format_time(res->copy_median_s, (char[32]){0}, 32),
           lab->on_gpu ? "GPU" : "model's buffer", cs_format_time(res->train_median_s, (char[32]){0}, 32),
           res->train_median_s > 0 ? a->batch / res->train_median_s : 0.0);
    cs_say("  Loss %.4f over the first tenth of the epoch, %.4f over the last; running training\n"
           "  accuracy %.1f%%; test accuracy %.1f%% (evaluation mode, %s).\n",
           res->first_loss, res->last_loss, 100.0 * res->train_accuracy, 100.0 * lab->test_acc,
           a->eval_batches ? "a subset of the test set" : "the whole test set, resized to the training size");
    /* A few batches do not train a network: say so, or 10% reads as a bug. */
    if (res->steps < RN_LEARNING_BATCHES)
        cs_say("  (%d batches are too few to learn from: chance is 10%%, and the accuracies show the\n"
               "  start of training, not its result.)\n",
               res->steps);
}

int step4_baseline_epoch(rn_lab *lab)
{
    const rn_args *a = lab->a;
    cs_step(all_steps(lab) ? 4 : 2, all_steps(lab) ? "Investigation: the baseline epoch" : "Baseline");
    cs_prof_reset();
    cs_prof_enable(0); /* the baseline is timed without the profiler */
    rn_train_opts o = {.batches = lab->epoch_batches, .warmup = a->warmup, .log_every = a->log_every};
    /* --num-workers: Part 2's workers behind the same epoch. */
    int pinned = a->pin_memory && lab->on_gpu;
    rn_workers *workers = a->num_workers > 0
                              ? rn_workers_create(&lab->ld, lab->be, a->num_workers, a->prefetch, a->persistent, pinned)
                              : NULL;
    o.workers = workers;
    o.async_copy = pinned;
    rn_grad_scaler scaler; /* fp16: PyTorch's GradScaler */
    rn_scaler_init(&scaler);
    if (a->precision == RN_FP16) o.scaler = &scaler;
    o.accum_steps = a->accum_steps;
    if (a->checkpoint)
        cs_say("  Gradient checkpointing: the stem and layer1 to layer3 keep only their outputs and run\n"
               "  again in the backward (layer4's activations are still there); batch norm's running\n"
               "  statistics are updated once per batch, not again by the recompute.\n");
    if (a->accum_steps > 1)
        cs_say("  Gradient accumulation: %d batches of %d per optimizer step (an effective batch of %d); batch\n"
               "  norm normalises each batch with its own statistics, so this is not one batch of %d.\n",
               a->accum_steps, a->batch, a->accum_steps * a->batch, a->accum_steps * a->batch);
    int rc = rn_train_epoch(&lab->m, &lab->ld, 0, &o, &lab->res);
    rn_workers_destroy(workers);
    if (o.scaler)
        cs_say("  GradScaler: final scale %g; %ld of %ld steps skipped (inf or NaN in a gradient).\n",
               (double)scaler.scale, scaler.skipped, scaler.steps);
    lab->have_result = 1;
    cs_prof_enable(1);
    if (rc) return rc;
    /* Test accuracy in evaluation mode, at the training size (no augmentation). */
    lab->test_acc = rn_evaluate(&lab->m, &lab->test, a->img, a->eval_batches);
    if (!isfinite(lab->test_acc)) {
        cs_error("evaluation: the test set (%d images) cannot be evaluated at %d x %d in batches of %d", lab->test.n,
                 a->img, a->img, a->batch);
        return 3;
    }
    print_epoch(lab);
    print_memory(&lab->m);
    if (cs_mkdir_p(a->opt.out_dir) != 0) return 3;
    rn_chart_baseline(a->opt.out_dir, &lab->res, lab->on_gpu);
    return 0;
}

/* ---- 5. Optimization -------------------------------------------------------------- */

void step5_optimization(rn_lab *lab)
{
    (void)lab;
    cs_step(5, "Optimization");
    cs_say("  Part 1 measures the baseline that Parts 2-6 of the lab optimise (data loading\n"
           "  workers, mixed precision, memory, compilation); none is applied here.\n");
}

/* ---- 6. Verification -------------------------------------------------------------- */

/* The gradient check on the epoch's first batch (loaded again, with its
 * augmentation), at the trained weights: see gradcheck.h. */
static void run_gradcheck(rn_lab *lab)
{
    rn_model *m = &lab->m;
    size_t floats = (size_t)m->capacity * 3 * m->img * m->img;
    float *images = cs_alloc(floats * sizeof(float), "gradient check images");
    int32_t *labels = cs_alloc((size_t)m->capacity * sizeof(int32_t), "gradient check labels");
    int n = rn_loader_get(&lab->ld, 0, images, labels);
    rn_model_set_batch_n(m, images, labels, n);
    /* In fp32 whatever --precision says: the check asks whether the
     * backward is right, and fp16/bf16 rounding alone moves the loss by more
     * than its tolerance (check-step sets the low-precision step against
     * PyTorch's autocast instead). Its fp32 activations are the check's
     * memory, not the training's: the peaks are put back after it. */
    rn_precision precision = m->math; /* tf32 is fp32 tensors with TF32 math */
    rn_arena_peaks peaks;
    rn_arena_peaks_get(m->arena, &peaks);
    rn_model_set_precision(m, RN_FP32);
    double t0 = cs_now();
    rn_gradcheck(m, lab->a->opt.seed, lab->grad);
    lab->gradcheck_s = cs_now() - t0;
    rn_model_set_precision(m, precision);
    rn_arena_peaks_set(m->arena, &peaks);
    double worst = rn_gradcheck_worst(lab->grad);
    lab->grad_ok = worst <= RN_GRADCHECK_TOL; /* NaN fails */
    cs_free(images);
    cs_free(labels);
}

void step6_verification(rn_lab *lab)
{
    const rn_train_result *res = &lab->res;
    cs_step(all_steps(lab) ? 6 : 3, "Verification");
    /* The check compares the first batches' loss with the last ones': with
     * one batch there is nothing to compare, and the check is not applied. */
    lab->checked = res->steps >= RN_MIN_CHECK_BATCHES;
    lab->learned = isfinite(res->last_loss) && res->last_loss < res->first_loss;
    if (lab->checked)
        cs_say("  The training loss went from %.4f to %.4f (it must fall): %s%s%s\n", res->first_loss, res->last_loss,
               lab->learned ? cs_col_pass() : cs_col_fail(), lab->learned ? "PASS" : "FAIL", cs_col_reset());
    else
        cs_say("  The training loss: %.4f after %d batch; whether it falls needs at least %d batches: SKIP\n",
               res->last_loss, res->steps, RN_MIN_CHECK_BATCHES);
    /* A falling loss proves little: fc alone learns. The gradient check
     * asks the loss itself whether the backward's gradient is right. */
    run_gradcheck(lab);
    cs_say("  Gradient check on the epoch's first batch: how far the loss moves each way along\n"
           "  the sign of the gradient, against what the gradient predicts (%s, %.0f%% of the epoch%s):\n",
           cs_format_time(lab->gradcheck_s, (char[32]){0}, 32),
           res->wall_s > 0 ? 100.0 * lab->gradcheck_s / res->wall_s : 0.0,
           lab->a->precision != RN_FP32 ? "; in fp32, as it checks the backward, not the precision" : "");
    for (int k = 0; k < RN_GRADCHECK_DIRS; k++)
        cs_say("    %-25s predicted %.4e, moved %.4e: relative difference %.1e\n", lab->grad[k].over,
               lab->grad[k].backward, lab->grad[k].finite_diff, lab->grad[k].rel);
    cs_say("  Tolerance %.0e (ten times the difference measured on a correct backward): %s%s%s\n", RN_GRADCHECK_TOL,
           lab->grad_ok ? cs_col_pass() : cs_col_fail(), lab->grad_ok ? "PASS" : "FAIL", cs_col_reset());
    cs_say("  (each layer's gradient is checked against finite differences by the tests, and the\n"
           "  whole step against PyTorch by check-step and docs/compare_with_pytorch.py)\n");
}

/* Passed when the gradient check passed and the loss fell (or one batch
 * gave nothing to compare it with). */
int rn_lab_verified(const rn_lab *lab)
{
    return lab->grad_ok && (!lab->checked || lab->learned);
}

/* ---- the results ------------------------------------------------------------------ */

/* The run's settings and figures, written with the table to the result files. */
static void report_config(cs_report *report, const rn_lab *lab)
{
    const rn_args *a = lab->a;
    const rn_train_result *res = &lab->res;
    cs_report_config(report, "arch", "%s", rn_arch_name(a->arch));
    cs_report_config(report, "data", "%s", lab->train.source);
    cs_report_config(report, "train_images", "%d", lab->train.n);
    cs_report_config(report, "batch", "%d", a->batch);
    cs_report_config(report, "img_size", "%d", a->img);
    cs_report_config(report, "batches", "%d", res->steps);
    cs_report_config(report, "warmup_batches", "%d", a->warmup);
    cs_report_config(report, "lr", "%g", a->lr);
    cs_report_config(report, "precision", "%s", rn_precision_name(a->precision));
    cs_report_config(report, "time_unit", "%s", "seconds per batch");
    cs_report_config(report, "images", "%d", res->images);
    cs_report_config(report, "epoch_s", "%.6f", res->wall_s);
    cs_report_config(report, "lab_images_per_s", "%.3f", res->lab_images_per_s);
    cs_report_config(report, "load_median_s", "%.9f", res->load_median_s);
    cs_report_config(report, "copy_median_s", "%.9f", res->copy_median_s);
    cs_report_config(report, "train_median_s", "%.9f", res->train_median_s);
    cs_report_config(report, "first_loss", "%.6f", res->first_loss);
    cs_report_config(report, "last_loss", "%.6f", res->last_loss);
    cs_report_config(report, "train_accuracy", "%.4f", res->train_accuracy);
    cs_report_config(report, "test_accuracy", "%.4f", lab->test_acc);
    for (int c = 0; c < RN_NCATEGORIES; c++)
        cs_report_config(report, rn_category_name((rn_category)c), "%zu", rn_arena_peak(lab->m.arena, (rn_category)c));
}

int rn_results(rn_lab *lab)
{
    const rn_args *a = lab->a;
    const rn_train_result *res = &lab->res;
    cs_report report;
    cs_report_init(&report, RN_PROG);
    report_config(&report, lab);
    /* The baseline as a rung: its time per batch over the batches after the
     * warm-up (the epoch times each batch once; no cs_rung_time here). */
    cs_rung rung = {.name = "baseline", .device = lab->on_gpu ? "gpu" : "cpu", .ran = 1};
    int warmup = a->warmup < res->steps ? a->warmup : 0;
    rung.timing.time.n = res->steps;
    rung.timing.time.median = res->step_median_s;
    rung.timing.time.min = res->step_min_s;
    rung.timing.time.max = res->step_max_s;
    rung.timing.repeats = res->steps - warmup;
    rung.timing.warmup = warmup;
    rung.peak_mem = rn_arena_total_peak(lab->m.arena);
    rung.check.status = rn_lab_verified(lab) ? CS_CHECK_PASS : CS_CHECK_FAIL;
    rung.check.rel_l2 = rn_gradcheck_worst(lab->grad);
    rung.check.tol = RN_GRADCHECK_TOL;
    cs_result *row = cs_rung_report(&report, &rung, a->batch, "images/s", 0, NULL);
    if (row)
        cs_result_extra(row, cs_report_column(&report, RN_PEAK_ACTIVATION_COLUMN),
                        (double)rn_arena_peak(lab->m.arena, RN_ACTIVATIONS));
    cs_report_finish(&report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &report);
    /* The results; the trace is step 2's baseline_trace.json (the epoch is
     * timed with the profiler off, so a trace.json would repeat it). */
    if (cs_report_write(&report, &lab->sys, a->opt.out_dir) != 0) return 3;
    if (!cs_brief())
        cs_say("\n  Results: %s/results.csv, results.json%s\n", a->opt.out_dir,
               lab->ans.steps ? ", baseline_trace.json (open in ui.perfetto.dev)" : "");
    if (a->save && rn_model_save(&lab->m, a->save) != 0) return 3;
    if (a->onnx && rn_onnx_export(&lab->m, lab->m.img, a->onnx) != 0) return 3;
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

void step7_key_lessons(rn_lab *lab)
{
    const rn_profile_answers *ans = &lab->ans;
    cs_step(7, "Key lessons");
    if (ans->steps) {
        double step = ans->wall_s / ans->steps;
        cs_say("  - Measure first: this step spends %.1f%% loading data and %.1f%% computing; the\n"
               "    slowest operation is %s.\n",
               100.0 * ans->data_s / ans->steps / step, 100.0 * ans->compute_s / ans->steps / step, ans->slowest[0]);
    }
    cs_say("  - The baseline trains %.1f images/s; every later part of the lab is measured\n"
           "    against this figure on this machine.\n",
           lab->res.images_per_s);
}
