/* Part 3 of the lab: mixed precision (see amp.h).
 *
 * Every row trains the same `--batches` batches of epoch 0 from the same
 * initial weights (put back before each run, outside the clock, with a
 * fresh GradScaler), so its loss curve can be set against fp32's: the
 * low precisions move it by their rounding, within a tolerance per
 * precision; the device-side skip must give fp16's losses exactly. Each
 * row's memory is the model's arena's peak while it trained, by category:
 * switching the precision lays the saved activations out again (16 bits
 * each under fp16 and bf16), and the peaks start from there. */
#include "amp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cpu_ops.h"
#include "cs_blas_info.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_gemm.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "grad_scaler.h"
#include "lab_rungs.h"

const char *const rn_amp_rows[RN_AMP_ROWS] = {"fp32", "tf32", "fp16", "fp16_device_skip", "bf16"};

/* The lab expects this from AMP (its Part 3): speed and memory. */
#define RN_AMP_EXPECT_LO     1.5
#define RN_AMP_EXPECT_HI     2.5
#define RN_AMP_MEM_EXPECT_LO 0.30
#define RN_AMP_MEM_EXPECT_HI 0.40

typedef struct {
    rn_precision precision;
    int scaler, device_skip;
    /* The first batch's logits from the initial weights against fp32's
     * (relative L2): the precision's rounding through the network, about
     * four times the most this machine measured (batches of 32 and 8 at
     * 32 x 32: fp16 5.5e-3 and 7.3e-3, bf16 4.0e-2 and 6.3e-2; a batch
     * from another epoch is 1.3 off). tf32 rounds what fp16 rounds, less. */
    double logits_tol;
    /* ResNet-50 (--arch): 49 more layers of rounding through batch norm,
     * about four times the most measured (batches of 32 and 8: fp16 8.2e-2
     * and 1.8e-1, bf16 0.49 and 0.74; PyTorch's own bf16 autocast is 0.81
     * from its float64 step at batch 8). bf16's is then too wide to tell a
     * batch from another epoch: its loss curve is the check that remains. */
    double logits_tol_resnet50;
    const char *lesson;
} amp_spec;

static const amp_spec specs[RN_AMP_ROWS] = {
    {RN_FP32, 0, 0, 1e-6, 1e-6, "fp32: Part 1's step, every product in float32"},
    {RN_TF32, 0, 0, 3e-2, 0.75,
     "tf32: float32 tensors, convolutions on TF32 tensor cores (PyTorch's default for them)"},
    {RN_FP16, 1, 0, 3e-2, 0.75, "autocast fp16 + GradScaler: the host reads the overflow flag every step"},
    {RN_FP16, 1, 1, 3e-2, 0.75, "fp16 + GradScaler, the skip decided on the device: no host read per step"},
    {RN_BF16, 0, 0, 0.25, 3.0, "autocast bf16: float32's range, 8 bits of precision, no loss scaling"},
};

/* The loss curve against fp32's may drift further (each step's rounding
 * changes the next step's weights, and fp16 skips its first steps): a
 * bound that says the training went the same way, not a rounding test. */
#define RN_AMP_CURVE_BOUND 0.15

enum { ROW_FP32, ROW_TF32, ROW_FP16, ROW_FP16_DEVICE, ROW_BF16 };

typedef struct {
    rn_lab *lab;
    rn_snapshot snap;
    int reference_steps;
    float *reference_loss;   /* fp32's untimed run */
    float *reference_logits; /* fp32's, first batch, initial weights */
    size_t nlogits;
    rn_amp_row rows[RN_AMP_ROWS];
    int ran[RN_AMP_ROWS];
    const char *skip[RN_AMP_ROWS];
    double conv_s[RN_AMP_ROWS], storage_s[RN_AMP_ROWS]; /* per step, from the profiler */
    /* Each timed round's run of each row, the rows one after another in a
     * round (time_rows): */
    double round_s[RN_AMP_ROWS][CS_MAX_REPEATS];
    int rounds;
    int bf16_gemm; /* the CPU's bf16 row multiplied in bf16 (cs_gemm_bf16) */
} amp_state;

/* One row's runs: the scaler they use, and the last run's result. */
typedef struct {
    amp_state *s;
    const amp_spec *spec;
    rn_grad_scaler scaler;
    int epoch; /* 0; another only under CS_FAULT_INJECT=<row> */
    rn_train_result last;
    int have_last;
} amp_run;

static int restore_weights(void *p)
{
    amp_run *r = p;
    rn_snapshot_restore(&r->s->lab->m, &r->s->snap);
    rn_scaler_reset(&r->scaler);
    return 0;
}

static int train_run(void *p)
{
    amp_run *r = p;
    rn_lab *lab = r->s->lab;
    if (r->have_last) rn_train_result_free(&r->last);
    rn_train_opts o = {.batches = lab->epoch_batches, .warmup = 0};
    rn_lab_feed(lab, &o);
    if (r->spec->scaler) o.scaler = &r->scaler;
    o.device_skip = r->spec->device_skip;
    if (o.device_skip) rn_scaler_to_device(&lab->m, &r->scaler);
    int rc = rn_train_epoch(&lab->m, &lab->ld, r->epoch, &o, &r->last);
    if (o.device_skip) rn_scaler_from_device(&lab->m, &r->scaler);
    r->have_last = 1;
    return rc;
}

/* Seconds per step the profiler saw in the convolutions (the work tensor
 * cores take) and in the 16-bit storage's conversions. */
static void profiled_split(double *conv_s, double *storage_s)
{
    static const char *const conv[] = {"fwd conv", "bwd conv"}, *const storage[] = {"16-bit storage"};
    *conv_s = rn_prof_per_step(conv, 2);
    *storage_s = rn_prof_per_step(storage, 1);
}

/* The logits of the first batch of `epoch` from the initial weights, in the
 * model's precision, in training mode (batch statistics, as a step's
 * forward); the weights and statistics put back after. */
static void first_batch_logits(amp_state *s, int epoch, float *out)
{
    rn_model *m = &s->lab->m;
    rn_snapshot_restore(m, &s->snap);
    int n = rn_lab_load_batch(s->lab, epoch, 0);
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    rn_model_forward(m, 1);
    cs_prof_enable(prof);
    m->be->to_host(out, m->logits, (size_t)n * RN_CLASSES * sizeof(float));
    rn_snapshot_restore(m, &s->snap);
}

/* The row's check, two parts: its first batch's logits against fp32's
 * within the precision's rounding (sharp: another batch, or a wrong layer,
 * is far off), and its loss curve within RN_AMP_CURVE_BOUND of fp32's. The
 * device-side skip must give fp16's losses exactly instead. */
static cs_check check_row(amp_state *s, int i, const amp_run *r)
{
    const rn_train_result *t = &r->last;
    float *logits = cs_alloc(s->nlogits * sizeof(float), "row logits");
    first_batch_logits(s, r->epoch, logits);
    double tol = s->lab->a->arch == RN_RESNET50 ? specs[i].logits_tol_resnet50 : specs[i].logits_tol;
    cs_check c = cs_compare_f32(logits, s->reference_logits, s->nlogits, tol);
    cs_free(logits);
    const rn_amp_row *fp16 = &s->rows[ROW_FP16];
    cs_check curve;
    if (i == ROW_FP16_DEVICE && s->ran[ROW_FP16] && fp16->steps == t->steps)
        curve = cs_compare_f32(t->loss, fp16->loss, (size_t)t->steps, s->lab->on_gpu ? 1e-6 : 0.0);
    else
        curve = cs_compare_f32(t->loss, s->reference_loss, (size_t)t->steps, RN_AMP_CURVE_BOUND);
    if (t->steps != s->reference_steps) curve.status = CS_CHECK_FAIL;
    s->rows[i].logits_check = c;
    s->rows[i].curve_check = curve;
    return cs_check_merge(c, curve);
}

/* What the last run left: throughput, memory, accuracy, the scaler. */
static void record_row(amp_state *s, int i, const amp_run *r)
{
    rn_lab *lab = s->lab;
    rn_amp_row *row = &s->rows[i];
    const rn_train_result *t = &r->last;
    row->images_per_s = t->images / row->rung.timing.time.median;
    row->rung.peak_mem = row->peak_total;
    row->train_accuracy = t->train_accuracy;
    row->steps = t->steps;
    row->loss = rn_train_losses_copy(t, "row losses");
    row->skipped = r->scaler.skipped;
    row->scaled = r->scaler.steps;
    row->final_scale = specs[i].scaler ? (double)r->scaler.scale : NAN;
    rn_model_set_precision(&lab->m, specs[i].precision); /* the checks in the row's precision */
    row->rung.check = check_row(s, i, r);
    row->loss_rel_diff = cs_compare_f32(t->loss, s->reference_loss, (size_t)t->steps, 1.0).rel_l2;
}

/* One run of row i (its precision set, its weights and scaler put back,
 * outside the clock), its time in *seconds; a timed one adds the
 * profiler's split per step and the memory peaks to the row's. */
static int one_run(amp_state *s, int i, amp_run *r, int timed, double *seconds)
{
    rn_lab *lab = s->lab;
    rn_amp_row *row = &s->rows[i];
    rn_model_set_precision(&lab->m, specs[i].precision);
    if (!lab->on_gpu && i == ROW_BF16) s->bf16_gemm = rn_cpu_conv_bf16_products();
    restore_weights(r);
    const int rc = rn_rung_one_run(lab, rn_amp_rows[i], train_run, r, seconds);
    if (rc != 0 || !timed) return rc;
    double conv, storage;
    profiled_split(&conv, &storage);
    s->conv_s[i] += conv, s->storage_s[i] += storage;
    rn_peaks_raise(lab->m.arena, row->peak, &row->peak_total);
    return 0;
}

/* The selected rows' runs interleaved (fp32, fp16, ..., bf16, fp32, ...),
 * as Part 5 does: this machine's speed can drift by 2x within a minute,
 * more than a precision changes, and runs side by side see the same
 * drift. --warmup untimed rounds (default 1), then --repeat timed ones
 * (default 3, 2 with --quick). After its last run a row's weights give its
 * test accuracy, before the next row starts from the initial ones. */
static int time_rows(amp_state *s, const int *rows, int n)
{
    rn_lab *lab = s->lab;
    const cs_options *opt = &lab->a->opt;
    int warmup, repeats;
    rn_rounds_count(opt, 3, &warmup, &repeats);
    amp_run runs[RN_AMP_ROWS];
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < n; k++) {
        const int i = rows[k];
        cs_rung_start(&s->rows[i].rung, rn_amp_rows[i], lab->on_gpu ? "gpu" : "cpu", specs[i].lesson);
        s->rows[i].precision = specs[i].precision;
        runs[k] = (amp_run){.s = s, .spec = &specs[i], .epoch = cs_fault_injected(rn_amp_rows[i]) ? 1 : 0};
        rn_scaler_init(&runs[k].scaler); /* the tests' fault above: another epoch's batches */
    }
    cs_say("  Every row is timed here, the rows' runs alternating (%d untimed, then %d timed rounds)\n"
           "  so that the machine's drift falls on every row alike; fp32 and tf32 below, the 16-bit\n"
           "  rows in step 5.\n",
           warmup, repeats);
    int rc = 0;
    for (int w = 0; rc == 0 && w < warmup + repeats; w++) {
        cs_progress("amp: round %d of %d", w + 1, warmup + repeats);
        for (int k = 0; rc == 0 && k < n; k++) {
            const int i = rows[k];
            double t;
            rc = one_run(s, i, &runs[k], w >= warmup, &t);
            if (w >= warmup) s->round_s[i][w - warmup] = t;
            if (rc == 0 && w == warmup + repeats - 1) /* in its precision, before the next row */
                s->rows[i].test_accuracy = rn_evaluate(&lab->m, &lab->test, lab->a->img, lab->a->eval_batches);
        }
    }
    cs_progress_done();
    s->rounds = repeats;
    for (int k = 0; k < n; k++) {
        const int i = rows[k];
        rn_amp_row *row = &s->rows[i];
        if (rc == 0) {
            rn_rung_from_rounds(&row->rung, s->round_s[i], repeats, warmup);
            s->conv_s[i] /= repeats, s->storage_s[i] /= repeats;
            record_row(s, i, &runs[k]);
            s->ran[i] = 1;
        }
        if (runs[k].have_last) rn_train_result_free(&runs[k].last);
    }
    rn_model_set_precision(&lab->m, RN_FP32);
    return rc;
}

/* ---- 2. Initial profiling: fp32's run -------------------------------------------- */

static void print_memory_line(const char *name, const size_t *peak, size_t total)
{
    char b[RN_NCATEGORIES + 1][32];
    for (int c = 0; c < RN_NCATEGORIES; c++) cs_format_bytes((double)peak[c], b[c], sizeof b[c]);
    cs_format_bytes((double)total, b[RN_NCATEGORIES], sizeof b[RN_NCATEGORIES]);
    cs_say("    %-17s activations %9s  weights %9s  gradients %9s  optimizer %9s  workspace %9s  total %9s\n", name,
           b[RN_ACTIVATIONS], b[RN_WEIGHTS], b[RN_GRADIENTS], b[RN_OPTIMIZER], b[RN_WORKSPACE], b[RN_NCATEGORIES]);
}

/* One untimed fp32 run, profiled: the losses every row is checked against,
 * the memory by category, and the convolutions' share of a step. */
static int reference_run(amp_state *s)
{
    rn_lab *lab = s->lab;
    rn_model *m = &lab->m;
    cs_step(2, "Initial profiling: fp32's step and memory");
    rn_model_set_precision(m, RN_FP32);
    rn_arena_peaks_reset(m->arena);
    s->nlogits = (size_t)rn_loader_count(&lab->ld, 0) * RN_CLASSES;
    s->reference_logits = cs_alloc(s->nlogits * sizeof(float), "reference logits");
    first_batch_logits(s, 0, s->reference_logits);
    cs_prof_reset();
    cs_prof_lane("reference");
    rn_train_opts o = {.batches = lab->epoch_batches};
    rn_train_result t;
    int rc = rn_train_epoch(m, &lab->ld, 0, &o, &t);
    if (rc == 0) {
        s->reference_steps = t.steps;
        s->reference_loss = rn_train_losses_copy(&t, "reference losses");
        double conv, storage, step = rn_phase_total(&t);
        profiled_split(&conv, &storage);
        cs_say("  One fp32 run of %d batches of %d, profiled and untimed: the loss curve every row is\n"
               "  checked against. The mean batch took %s; the convolutions %s of it (%.0f%%, %s):\n"
               "  the products mixed precision moves to 16-bit arithmetic where the hardware has it.\n",
               t.steps, lab->a->batch, cs_format_time(step, (char[32]){0}, 32), cs_format_time(conv, (char[32]){0}, 32),
               step > 0 ? 100.0 * conv / step : 0, lab->on_gpu ? "device time" : "host clock");
        size_t peak[RN_NCATEGORIES], total;
        rn_peaks_take(m->arena, peak, &total);
        cs_say("  Peak memory of the model (%s), by category:\n", lab->on_gpu ? "device" : "host");
        print_memory_line("fp32", peak, total);
    }
    rn_train_result_free(&t);
    return rc;
}

/* ---- This CPU's 16-bit arithmetic ----------------------------------------------- */

/* What this CPU multiplies in 16 bits, as words into hw ("" when
 * nothing); returns whether the BLAS loaded has a bf16 GEMM. */
static int cpu_16bit(char *hw, size_t n)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    cs_cpu_16bit_words(&b, hw, n);
    return b.blas_bf16_gemm;
}

/* Why fp16's products stay fp32 on this CPU, in a few words from what it
 * has (cs_blas_info). */
static const char *fp16_fp32_reason(char *buf, size_t n)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    if (b.cpu_avx512_fp16)
        snprintf(buf, n, "AVX-512 FP16 sums in fp16, autocast in fp32");
    else
        snprintf(buf, n, "no AVX-512 FP16: this CPU has no fp16 multiply instructions");
    return buf;
}

/* Why bf16's products stayed fp32 on this CPU (cpu_bf16_choice.c). */
static const char *bf16_gemm_not_used(char *buf, size_t n)
{
    char why[192];
    if (rn_cpu_bf16_gemm_choice()->measured)
        snprintf(buf, n, "the lab's bf16 GEMM measured slower than the fp32 SGEMM here, step 3");
    else
        snprintf(buf, n, "the lab's bf16 GEMM was not used: %s", rn_cpu_bf16_gemm_why(why, sizeof why));
    return buf;
}

/* Step 3 on a CPU: what it and the BLAS can multiply in 16 bits, asked at
 * run time, not assumed (AMD's Zen 4 and Intel's Cooper Lake and later
 * have AVX-512 BF16, which the lab's own bf16 GEMM uses). */
static void say_cpu_time_hypothesis(void)
{
    char hw[64];
    const int blas_bf16 = cpu_16bit(hw, sizeof hw);
    cs_say("  Time: 16-bit arithmetic on this CPU: %s; in the BLAS this run uses: %s.\n",
           hw[0] ? hw : "none (no AVX-512 BF16 or FP16, no AMX)",
           blas_bf16 ? "a bf16 GEMM (cblas_sbgemm), which the lab does not call" : "no bf16 GEMM (no cblas_sbgemm)");
    char why[192];
    rn_cpu_bf16_gemm_why(why, sizeof why);
    if (rn_cpu_bf16_gemm_enabled())
        cs_say("  bf16's convolutions multiply in AVX-512 BF16: the lab's own bf16 GEMM (vdpbf16ps: two\n"
               "  bf16 products per fp32 lane per instruction, twice an fp32 FMA's, summed in fp32;\n"
               "  %s).\n"
               "  fp16's stay the BLAS's fp32 SGEMM (%s),\n"
               "  so fp16 only adds work: rounding each layer's output, and packing and unpacking\n"
               "  the saved activations. Expect fp16 slower than fp32, and bf16 faster if its GEMM\n"
               "  gains more than bf16's conversions cost.\n",
               why, fp16_fp32_reason((char[128]){0}, 128));
    else
        cs_say("  The convolutions are fp32 SGEMM, so every product stays fp32; the lab's bf16 GEMM is not\n"
               "  used: %s.\n"
               "  fp16/bf16 add work: rounding each layer's output, and packing and unpacking the saved\n"
               "  activations. Expect them slower than fp32, for less activation memory.\n",
               why);
}

/* ---- 3. Hypothesis ---------------------------------------------------------------- */

static void hypothesis(const amp_state *s)
{
    const rn_lab *lab = s->lab;
    const rn_model *m = &lab->m;
    double saved = (double)rn_model_saved_count(m);
    char b32[32], b16[32];
    cs_step(3, "Hypothesis");
    /* The GPU keeps the activations between layers in 16 bits too, where
     * it can (backend.h's act16): the working buffers shrink with them. */
    const int act16 = lab->be->act16_ok && lab->be->act16_ok(RN_FP16);
    cs_say("  Memory: the activations the backward pass reads again hold %.0f values: %s in fp32,\n"
           "  %s in 16 bits. Weights, gradients and Adam's state stay fp32 (autocast keeps fp32\n"
           "  master weights), and the working buffers a layer computes in %s; so the\n"
           "  activations shrink, not the whole.\n",
           saved, cs_format_bytes(saved * 4, b32, sizeof b32), cs_format_bytes(saved * 2, b16, sizeof b16),
           act16 ? "are 16-bit too" : "stay float");
    if (lab->on_gpu && act16)
        cs_say("  Time: fp16 and bf16 products run on tensor cores at several times fp32's rate. The\n"
               "  activations stay 16-bit and channels last (NHWC) from layer to layer, as autocast with\n"
               "  channels_last keeps them: cuDNN reads and writes them as they are, and batch norm,\n"
               "  ReLU, add and pooling move half fp32's bytes (RN_GPU_ACTIVATIONS=float keeps them\n"
               "  float NCHW between layers, packed into 16-bit copies for each convolution, to compare).\n"
               "  tf32 keeps fp32 tensors and speeds the convolutions alone.\n");
    else if (lab->on_gpu)
        cs_say("  Time: fp16 and bf16 products run on tensor cores at several times fp32's rate; the\n"
               "  activations stay float between layers here (RN_GPU_ACTIVATIONS=float, or a path\n"
               "  without cuDNN's NHWC tensors), packed into 16-bit copies for each convolution.\n"
               "  tf32 keeps fp32 tensors and speeds the convolutions alone. The gain is bounded by\n"
               "  the convolutions' share of a step.\n");
    else
        say_cpu_time_hypothesis();
}

/* ---- 4 and 5: the rows -------------------------------------------------------------- */

static void print_row(const amp_state *s, int i)
{
    const rn_amp_row *r = &s->rows[i];
    const cs_stats *st = &r->rung.timing.time;
    cs_say("  %-17s run %8s (%s..%s)  %6.1f images/s  conv %s/step", rn_amp_rows[i],
           cs_format_time(st->median, (char[32]){0}, 32), cs_format_time(st->min, (char[32]){0}, 32),
           cs_format_time(st->max, (char[32]){0}, 32), r->images_per_s,
           cs_format_time(s->conv_s[i], (char[32]){0}, 32));
    if (s->storage_s[i] > 0) cs_say("  16-bit storage %s/step", cs_format_time(s->storage_s[i], (char[32]){0}, 32));
    cs_say("\n");
    if (specs[i].scaler)
        cs_say("  %-17s GradScaler: final scale %g; %ld of %ld steps skipped (inf or NaN in a gradient)\n", "",
               r->final_scale, r->skipped, r->scaled);
}

static void print_rows(const amp_state *s, const int *todo, int ntodo, int from, int to)
{
    for (int k = 0; k < ntodo; k++)
        if (todo[k] >= from && todo[k] < to && s->ran[todo[k]]) print_row(s, todo[k]);
    if (from <= ROW_TF32 && ROW_TF32 < to && s->skip[ROW_TF32]) cs_say("  tf32: %s\n", s->skip[ROW_TF32]);
}

/* ---- 6. Verification -------------------------------------------------------------- */

static int verify(const amp_state *s)
{
    cs_step(6, "Verification");
    cs_say("  Two checks per row, relative L2 differences against fp32's untimed run:\n"
           "   - the first batch's logits from the initial weights: the precision's rounding alone,\n"
           "     against its tolerance (fp32 1e-06: the same arithmetic);\n"
           "   - the loss over the %d steps: within %.2f of fp32's (each step's rounding moves the next\n"
           "     step's weights; the device-side skip must equal fp16's row%s).\n",
           s->reference_steps, RN_AMP_CURVE_BOUND, s->lab->on_gpu ? " to 1e-06" : " exactly");
    int failed = 0;
    for (int i = 0; i < RN_AMP_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_amp_row *r = &s->rows[i];
        const cs_check *l = &r->logits_check, *c = &r->curve_check;
        int ok = r->rung.check.status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-17s logits %.2e (tol. %.2g)  losses %.2e (bound %.2g)  %s%s%s   accuracy: train %4.1f%%, "
               "test %4.1f%%\n",
               rn_amp_rows[i], l->rel_l2, l->tol, c->rel_l2, c->tol, ok ? cs_col_pass() : cs_col_fail(),
               cs_check_word(r->rung.check.status), cs_col_reset(), 100.0 * r->train_accuracy,
               100.0 * r->test_accuracy);
    }
    return failed;
}

/* ---- the results -------------------------------------------------------------------- */

static double speedup_over_fp32(const amp_state *s, int i)
{
    return s->ran[ROW_FP32] && s->rows[i].rung.timing.time.median > 0
               ? s->rows[ROW_FP32].rung.timing.time.median / s->rows[i].rung.timing.time.median
               : NAN;
}

/* 1 - the row's peak activations / fp32's (NaN without fp32). */
static double activation_saving(const amp_state *s, int i)
{
    double base = s->ran[ROW_FP32] ? (double)s->rows[ROW_FP32].peak[RN_ACTIVATIONS] : 0;
    return base > 0 ? 1.0 - (double)s->rows[i].peak[RN_ACTIVATIONS] / base : NAN;
}

/* What row i's convolutions multiplied in: on the GPU its precision
 * (tensor cores for tf32, fp16, bf16); on the CPU fp32, except bf16's on
 * the lab's bf16 GEMM. */
static const char *conv_products(const amp_state *s, int i)
{
    if (s->lab->on_gpu) return rn_precision_name(s->rows[i].precision);
    return i == ROW_BF16 && s->bf16_gemm ? "bf16" : "fp32";
}

/* amp.csv: the figures the results table has no column for. */
static int write_figures(const amp_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "amp.csv")) != 0) return 3;
    fprintf(o.f, "configuration,precision,run_s,images_per_s,speedup,peak_activations,peak_weights,peak_gradients,"
                 "peak_optimizer,peak_workspace,peak_total,activation_saving,conv_s_per_step,storage_s_per_step,"
                 "skipped_steps,final_scale,train_accuracy,test_accuracy,logits_rel_diff,loss_rel_diff,check,"
                 "conv_products\n");
    for (int i = 0; i < RN_AMP_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_amp_row *r = &s->rows[i];
        fprintf(o.f, "%s,%s,%.6f,%.3f,%.4f", rn_amp_rows[i], rn_precision_name(r->precision),
                r->rung.timing.time.median, r->images_per_s, speedup_over_fp32(s, i));
        for (int c = 0; c < RN_NCATEGORIES; c++) fprintf(o.f, ",%zu", r->peak[c]);
        fprintf(o.f, ",%zu,%.4f,%.6f,%.6f,%ld,%g,%.4f,%.4f,%.3e,%.3e,%s,%s\n", r->peak_total, activation_saving(s, i),
                s->conv_s[i], s->storage_s[i], r->skipped, r->final_scale, r->train_accuracy, r->test_accuracy,
                r->logits_check.rel_l2, r->loss_rel_diff, cs_check_word(r->rung.check.status), conv_products(s, i));
    }
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

static int results(amp_state *s)
{
    rn_lab *lab = s->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "3: mixed precision", "seconds per run of batches_per_run batches");
    cs_report_config(&report, "memory", "%s", "the model's peak bytes (arena), all categories");
    const cs_rung *rungs[RN_AMP_ROWS];
    double ips[RN_AMP_ROWS];
    size_t activations[RN_AMP_ROWS];
    for (int i = 0; i < RN_AMP_ROWS; i++) {
        rungs[i] = &s->rows[i].rung;
        ips[i] = s->rows[i].images_per_s;
        activations[i] = s->rows[i].peak[RN_ACTIVATIONS];
    }
    if (rn_report_rows(&report, lab, RN_AMP_ROWS, rn_amp_rows, s->skip, s->ran, rungs, ips, activations) != 0) return 3;
    if (write_figures(s, dir) != 0) return 3;
    rn_chart_amp(dir, s->rows, s->ran, rn_amp_rows, RN_AMP_ROWS, lab->on_gpu);
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

/* The fastest low-precision row that ran (fp16, its device-side skip, bf16). */
static int best_amp_row(const amp_state *s)
{
    const int amp_rows[] = {ROW_FP16, ROW_FP16_DEVICE, ROW_BF16};
    int best = -1;
    for (int k = 0; k < 3; k++) {
        int i = amp_rows[k];
        if (s->ran[i] && (best < 0 || s->rows[i].rung.timing.time.median < s->rows[best].rung.timing.time.median))
            best = i;
    }
    return best;
}

/* Step 7 on a CPU: which rows multiplied in 16 bits, and what that and
 * the storage cost. */
static void cpu_lessons(const amp_state *s)
{
    const int bf16 = s->ran[ROW_BF16] && s->bf16_gemm;
    if (bf16)
        cs_say("  - bf16's convolutions multiplied in bf16 on this CPU's AVX-512 BF16 (the lab's GEMM):\n"
               "    %s per step against fp32's %s, %.2fx.\n",
               cs_format_time(s->conv_s[ROW_BF16], (char[32]){0}, 32),
               cs_format_time(s->conv_s[ROW_FP32], (char[32]){0}, 32),
               s->conv_s[ROW_BF16] > 0 ? s->conv_s[ROW_FP32] / s->conv_s[ROW_BF16] : 0.0);
    cs_blas_info b;
    cs_blas_info_get(&b);
    /* fp32 on OpenBLAS's slow kernels only where they were not measured
     * slower than the blocked SGEMM (cs_gemm_choice.c) or were forced. */
    if (bf16 && b.mismatch && cs_gemm_best_cpu() == CS_GEMM_CBLAS)
        cs_say("  - fp32's SGEMM ran OpenBLAS's %s kernels (%s), OpenBLAS's own pick for this %s\n"
               "    CPU: bf16 is set against that fp32. OPENBLAS_CORETYPE=%s gives fp32 kernels for\n"
               "    this CPU; run again with it before drawing a conclusion about bf16.\n",
               b.core, b.core_isa, b.cpu_isa, b.suggested_core);
    const int store = s->ran[ROW_FP16] ? ROW_FP16 : ROW_BF16;
    if (!s->ran[store] || (store == ROW_BF16 && bf16)) return;
    cs_say("  - %s is a storage format on this CPU, not faster arithmetic: its products stay fp32\n"
           "    (%s),\n"
           "    and its conversions cost %s per step on top. AMP pays where the products themselves\n"
           "    are 16-bit: tensor cores, or a CPU's BF16 units through a bf16 GEMM%s.\n",
           rn_amp_rows[store],
           store == ROW_FP16 ? fp16_fp32_reason((char[128]){0}, 128) : bf16_gemm_not_used((char[224]){0}, 224),
           cs_format_time(s->storage_s[store], (char[32]){0}, 32), bf16 ? " (bf16 above)" : "");
}

static void lessons(const amp_state *s)
{
    cs_step(7, "Key lessons");
    int best = best_amp_row(s);
    if (!s->ran[ROW_FP32] || best < 0) {
        cs_say("  - fp32 and an fp16 or bf16 row are both needed for a verdict; --variant left one out.\n");
        return;
    }
    cs_result b = {0}, a = {0};
    b.timing = s->rows[ROW_FP32].rung.timing;
    a.timing = s->rows[best].rung.timing;
    char phrase[128];
    int tie = 0;
    cs_compare_phrase(&b, &a, phrase, sizeof phrase, &tie);
    double x = speedup_over_fp32(s, best), saving = activation_saving(s, best);
    int met = !tie && x >= RN_AMP_EXPECT_LO;
    cs_say("  - Speed: %s, the fastest of the mixed-precision rows, against fp32: %s (%.2fx). The lab\n"
           "    expects %.1f-%.1fx: %s on this machine.\n",
           rn_amp_rows[best], phrase, x, RN_AMP_EXPECT_LO, RN_AMP_EXPECT_HI, met ? "met" : "not met");
    int wins = 0;
    const cs_stats p = rn_rounds_paired(s->round_s[ROW_FP32], s->round_s[best], s->rounds, &wins);
    cs_say("    Round by round (each %s run beside fp32's): %.2fx..%.2fx, median %.2fx, faster in %d of\n"
           "    %d rounds.\n",
           rn_amp_rows[best], p.min, p.max, p.median, wins, s->rounds);
    double whole = 1.0 - (double)s->rows[best].peak_total / (double)s->rows[ROW_FP32].peak_total;
    cs_say("  - Memory: its peak activations are %.0f%% below fp32's (the whole model's peak %.0f%% %s); the\n"
           "    lab expects %.0f-%.0f%% less: %s.\n",
           100.0 * saving, 100.0 * fabs(whole), whole >= 0 ? "lower" : "higher", 100.0 * RN_AMP_MEM_EXPECT_LO,
           100.0 * RN_AMP_MEM_EXPECT_HI, saving >= RN_AMP_MEM_EXPECT_LO ? "met" : "not met");
    if (!s->lab->on_gpu) cpu_lessons(s);
    if (s->ran[ROW_FP16] && s->rows[ROW_FP16].skipped > 0)
        cs_say("  - GradScaler skipped %ld of fp16's first %ld steps: the initial scale 65536 overflows fp16's\n"
               "    gradients until it has halved enough; those steps leave the weights as they were.\n",
               s->rows[ROW_FP16].skipped, s->rows[ROW_FP16].scaled);
    cs_say("  - bf16 needs no loss scaling (float32's exponent range) and loses more precision per value;\n"
           "    fp16 keeps 3 more bits and needs the scaler.\n");
}

int rn_amp(rn_lab *lab)
{
    amp_state s = {.lab = lab};
    rn_snapshot_take(&lab->m, &s.snap);
    cs_say("  Part 3, mixed precision: every row trains the same %d batches (epoch 0) from the same\n"
           "  initial weights, with its own precision; a row's time is the whole run of them.\n",
           lab->epoch_batches);
    const char *names[RN_AMP_ROWS], *devices[RN_AMP_ROWS], *not_here[RN_AMP_ROWS] = {0};
    for (int i = 0; i < RN_AMP_ROWS; i++) {
        names[i] = rn_amp_rows[i];
        devices[i] = lab->on_gpu ? "gpu" : "cpu";
    }
    if (!lab->on_gpu || !lab->be->conv_math)
        not_here[ROW_TF32] = "TF32 is a tensor-core mode of NVIDIA GPUs (Ampere and later); no CPU has it";
    int todo[RN_AMP_ROWS];
    int ntodo = cs_ladder_select(&lab->a->opt, names, devices, not_here, RN_AMP_ROWS, 1, "", todo, s.skip);
    int rc = reference_run(&s);
    if (rc == 0) hypothesis(&s);
    cs_prof_enable(1);
    if (rc == 0) {
        cs_step(4, "Investigation: fp32 and tf32");
        rc = time_rows(&s, todo, ntodo);
        if (rc == 0) print_rows(&s, todo, ntodo, ROW_FP32, ROW_FP16);
    }
    if (rc == 0) {
        cs_step(5, "Optimization: autocast in fp16 (with GradScaler) and bf16");
        print_rows(&s, todo, ntodo, ROW_FP16, RN_AMP_ROWS);
    }
    if (rc == 0) {
        cs_say("  Peak memory of the model by category, per row:\n");
        for (int i = 0; i < RN_AMP_ROWS; i++)
            if (s.ran[i]) print_memory_line(rn_amp_rows[i], s.rows[i].peak, s.rows[i].peak_total);
    }
    int failed = rc == 0 ? verify(&s) : 0;
    if (rc == 0) rc = results(&s);
    if (rc == 0) lessons(&s);
    for (int i = 0; i < RN_AMP_ROWS; i++) cs_free(s.rows[i].loss);
    cs_free(s.reference_loss);
    cs_free(s.reference_logits);
    rn_snapshot_free(&s.snap);
    return rc ? rc : failed;
}
