/* lab_resnet: the Week 13 lab's ResNet-18 training loop, Part 1: baseline
 * and profile (see docs/lab_resnet.md).
 *
 *   lab_resnet                 the seven steps: profile, then the baseline epoch
 *   lab_resnet baseline        one epoch (or --batches N) with its figures
 *   lab_resnet profile         the first --profile-batches batches, profiled
 *   lab_resnet check-step      one step on fixed data, written as CSV for PyTorch
 *   lab_resnet --generate DIR  write the generated data set in CIFAR-10's format */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_case.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "cs_sysinfo.h"
#include "cifar.h"
#include "cs_files.h"
#include "loader.h"
#include "model.h"
#include "profile.h"
#include "train.h"

#define PROG "lab_resnet"
/* Batches the baseline's check needs: the loss of the first tenth of the
 * epoch against the last tenth's, two different batches at the least. */
#define LR_MIN_CHECK_BATCHES 2

typedef enum { CMD_ALL, CMD_BASELINE, CMD_PROFILE, CMD_CHECK_STEP } command;

typedef struct {
    const char *data_dir, *generate_dir, *weights, *save;
    int samples, samples_set;
    int img, batch, batches, warmup, log_every, profile_batches, eval_batches;
    double lr;
} lr_args;

enum { OPT_DATA, OPT_GENERATE, OPT_SAMPLES, OPT_IMG, OPT_BATCH, OPT_BATCHES, OPT_WARMUP,
       OPT_LOG_EVERY, OPT_PROFILE_BATCHES, OPT_EVAL_BATCHES, OPT_LR, OPT_WEIGHTS, OPT_SAVE };

static const cs_case_option case_options[] = {
    [OPT_DATA] = {"data", "DIR", "CIFAR-10 binary files: DIR/data_batch_1.bin .. data_batch_5.bin, test_batch.bin"},
    [OPT_GENERATE] = {"generate", "DIR", "write the generated data set there in CIFAR-10's format and stop"},
    [OPT_SAMPLES] = {"samples", "N", "training images of the generated set (10..1000000; default 50000 on a GPU, 4096 on the CPU)"},
    [OPT_IMG] = {"img-size", "N", "training image side after RandomResizedCrop (8..512; default 224 on a GPU, 32 on the CPU)"},
    [OPT_BATCH] = {"batch", "N", "images per batch (1..4096; default 32)"},
    [OPT_BATCHES] = {"batches", "N", "stop the epoch after N batches (1..1000000; default: the whole epoch)"},
    [OPT_WARMUP] = {"warmup-batches", "N", "first batches not timed (0..1000; default 3)"},
    [OPT_LOG_EVERY] = {"log-every", "N", "print every N batches (0..100000; default 50)"},
    [OPT_PROFILE_BATCHES] = {"profile-batches", "N", "batches the profile covers (1..10000; default 10)"},
    [OPT_EVAL_BATCHES] = {"eval-batches", "N", "test batches for the accuracy (0 = all; default all)"},
    [OPT_LR] = {"lr", "X", "Adam's learning rate (0 < X <= 1; default 1e-4)"},
    [OPT_WEIGHTS] = {"weights", "FILE", "start from a safetensors file with torchvision's names (the lab's pretrained=True)"},
    [OPT_SAVE] = {"save", "FILE", "save the trained weights as safetensors"},
};

static int on_option(int index, const char *arg, void *p)
{
    lr_args *a = p;
    long v;
    double d;
    switch (index) {
    case OPT_DATA: a->data_dir = arg; break;
    case OPT_GENERATE: a->generate_dir = arg; break;
    case OPT_SAMPLES:
        if (cs_parse_long("--samples", arg, 10, 1000000, &v)) return 2;
        a->samples = (int)v, a->samples_set = 1;
        break;
    case OPT_IMG:
        if (cs_parse_long("--img-size", arg, 8, 512, &v)) return 2;
        a->img = (int)v;
        break;
    case OPT_BATCH:
        if (cs_parse_long("--batch", arg, 1, 4096, &v)) return 2;
        a->batch = (int)v;
        break;
    case OPT_BATCHES:
        if (cs_parse_long("--batches", arg, 1, 1000000, &v)) return 2;
        a->batches = (int)v;
        break;
    case OPT_WARMUP:
        if (cs_parse_long("--warmup-batches", arg, 0, 1000, &v)) return 2;
        a->warmup = (int)v;
        break;
    case OPT_LOG_EVERY:
        if (cs_parse_long("--log-every", arg, 0, 100000, &v)) return 2;
        a->log_every = (int)v;
        break;
    case OPT_PROFILE_BATCHES:
        if (cs_parse_long("--profile-batches", arg, 1, 10000, &v)) return 2;
        a->profile_batches = (int)v;
        break;
    case OPT_EVAL_BATCHES:
        if (cs_parse_long("--eval-batches", arg, 0, 1000000, &v)) return 2;
        a->eval_batches = (int)v;
        break;
    case OPT_LR:
        if (cs_parse_double("--lr", arg, 0.0, 1.0, &d)) return 2;
        if (!(d > 0.0)) {
            cs_error("--lr %s: the learning rate must be greater than 0", arg);
            return 2;
        }
        a->lr = d;
        break;
    case OPT_WEIGHTS: a->weights = arg; break;
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const char *const variant_names[] = {"baseline"};

static void print_memory(const lr_model *m)
{
    const lr_arena *ar = m->arena;
    cs_say("  Peak memory by category (%s):\n", lr_arena_on_device(ar) ? "device" : "host");
    for (int c = 0; c < LR_NCATEGORIES; c++)
        cs_say("    %-12s %12s\n", lr_category_name((lr_category)c),
               cs_format_bytes((double)lr_arena_peak(ar, (lr_category)c), (char[32]){0}, 32));
    cs_say("    %-12s %12s\n", "total", cs_format_bytes((double)lr_arena_total_peak(ar), (char[32]){0}, 32));
    if (lr_arena_on_device(ar))
        cs_say("    device memory in use (cudaMemGetInfo): %s\n",
               cs_format_bytes((double)cs_gpu_used_bytes(), (char[32]){0}, 32));
}

/* The profile: the first n batches with the profiler on. */
static int run_profile(lr_model *m, lr_loader *ld, int n, int on_gpu, const char *out_dir,
                       lr_profile_answers *ans)
{
    /* One untimed batch first, as PyTorch's profiler schedule does with its
     * warm-up step: the one-time costs of the first batch (loading the GPU
     * libraries' kernels, cuDNN's and cuBLAS's first calls, the first touch
     * of every buffer) would otherwise be charged to the layers. */
    lr_train_opts w = {.batches = 1, .warmup = 0, .log_every = 0};
    lr_train_result r;
    cs_prof_enable(0);
    int rc = lr_train_epoch(m, ld, 0, &w, &r);
    if (rc) return rc;
    lr_train_result_free(&r);
    cs_say("  (after one untimed warm-up batch, which pays the one-time costs of the first)\n");
    lr_train_opts o = {.batches = n, .warmup = 0, .log_every = 0};
    cs_prof_reset();
    cs_prof_enable(1);
    cs_prof_lane("profile");
    double t0 = cs_now();
    rc = lr_train_epoch(m, ld, 0, &o, &r);
    double wall = cs_now() - t0;
    if (rc) return rc;
    lr_profile_report(stdout, r.steps, wall, on_gpu, 10, ans);
    char path[CS_PATH_MAX];
    if (cs_mkdir_p(out_dir) != 0) return 3;
    if (cs_prof_write_trace(cs_path_join(path, sizeof path, out_dir, "baseline_trace.json")) != 0) return 3;
    cs_say("  Trace: %s (open in ui.perfetto.dev: data loading, copy, forward, backward and the\n"
           "  optimizer step with the layers inside them)\n", path);
    lr_train_result_free(&r);
    return 0;
}

static void print_answers(const lr_profile_answers *a, int on_gpu)
{
    double step = a->wall_s / (a->steps ? a->steps : 1);
    cs_say("  The lab's four questions, from this profile (%d steps, %s per step):\n", a->steps,
           cs_format_time(step, (char[32]){0}, 32));
    double dl = a->data_s / a->steps, comp = a->compute_s / a->steps;
    cs_say("  1. Data loading against compute: %s loading (%.1f%% of a step) against %s of\n"
           "     forward, loss, backward and optimizer step (%.0f%%).\n",
           cs_format_time(dl, (char[32]){0}, 32), 100.0 * dl / step,
           cs_format_time(comp, (char[32]){0}, 32), 100.0 * comp / step);
    if (on_gpu)
        cs_say("  2. GPU busy: the device worked %.0f%% of the wall time (device time of the copies\n"
               "     and compute regions, from CUDA events, over the wall clock).\n",
               100.0 * a->device_busy_share);
    else
        cs_say("  2. GPU busy: no GPU in this run; the CPU computes %.0f%% of each step.\n",
               100.0 * comp / step);
    cs_say("  3. Host-to-device copies: %s per step (%.1f%%)%s.\n",
           cs_format_time(a->h2d_s / a->steps, (char[32]){0}, 32), 100.0 * a->h2d_s / a->steps / step,
           on_gpu ? "" : " (a host-to-host copy here: no device)");
    cs_say("  4. The three slowest operations:");
    for (int i = 0; i < 3 && a->slowest[i][0]; i++)
        cs_say("%s %s (%s per step)", i ? "," : "", a->slowest[i],
               cs_format_time(a->slowest_s[i], (char[32]){0}, 32));
    cs_say(".\n");
}

int main(int argc, char **argv)
{
    /* The subcommand comes first; the options after it are the suite's. */
    command cmd = CMD_ALL;
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "baseline") == 0) cmd = CMD_BASELINE;
        else if (strcmp(argv[1], "profile") == 0) cmd = CMD_PROFILE;
        else if (strcmp(argv[1], "check-step") == 0) cmd = CMD_CHECK_STEP;
        else {
            cs_console_init(PROG, 0);
            cs_error("unknown subcommand '%s' (baseline, profile, check-step, or none)", argv[1]);
            return 2;
        }
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    lr_args a = {.batch = 32, .warmup = 3, .log_every = 50, .profile_batches = 10, .lr = 1e-4};
    int exit_code = 0;
    cs_options opt;
    cs_cli_spec spec = {
        .prog = PROG,
        .summary = "The ResNet-18 training lab, Part 1: the baseline and its profile "
                   "(subcommands: baseline, profile, check-step)",
        .usage_notes = "Usage: lab_resnet [baseline|profile|check-step] [options]\n"
                       "check-step: --weights FILE --data DIR --batch B --out FILE (a CSV).\n"
                       "The baseline's check (the training loss fell) needs at least 2 batches;\n"
                       "with --batches 1 it is reported as SKIP.",
        .exit_1 = "training diverged or a check failed",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = &a,
        .variant_names = variant_names,
        .n_variants = 1,
    };
    int rc = cs_case_begin(argc, argv, &spec, &opt);
    if (rc) return rc < 0 ? 0 : rc;

    /* Check what can be checked before any work: the files named. */
    if (a.weights && cs_check_input_file("--weights", a.weights) != 0) return 2;
    if (a.save && cs_check_output_file("--save", a.save) != 0) return 2;

    if (a.generate_dir) {
        int n = a.samples_set ? a.samples : 50000;
        rc = lr_cifar_write_dir(a.generate_dir, n, n / 5 > 10 ? n / 5 : 10, opt.seed);
        if (rc == 0) cs_say("wrote %d training and %d test images in CIFAR-10's format to %s\n", n,
                            n / 5 > 10 ? n / 5 : 10, a.generate_dir);
        return rc;
    }

    /* The results' place, also before any work (and before the GPU probe:
     * bad usage is 2 whatever the device). */
    char csv_path[CS_PATH_MAX];
    int default_csv = 0;
    if (cmd == CMD_CHECK_STEP) {
        if (!a.data_dir) {
            cs_error("check-step needs --data DIR (with data_batch_1.bin)");
            return 2;
        }
        /* --out names the CSV here; without it, check_step.csv in the default
         * folder (made when missing). */
        if (strcmp(opt.out_dir, "results/" PROG) == 0) {
            if (cs_check_writable_dir(opt.out_dir) != 0) return 2;
            cs_path_join(csv_path, sizeof csv_path, opt.out_dir, "check_step.csv");
            default_csv = 1;
        } else {
            snprintf(csv_path, sizeof csv_path, "%s", opt.out_dir);
            if (cs_check_output_file("--out", csv_path) != 0) return 2;
        }
    } else if (cs_check_writable_dir(opt.out_dir) != 0) {
        return 2;
    }

    cs_devices dev;
    if (cs_case_devices(&opt, &dev) != 0) return 3;
    const lr_backend *be = dev.run_gpu ? lr_gpu_backend() : lr_cpu_backend();
    int on_gpu = be->on_device;
    if (opt.quick) {
        if (!a.batches) a.batches = 6;
        if (!a.samples_set) a.samples = 512;
        if (!a.eval_batches) a.eval_batches = 2;
        if (a.profile_batches == 10) a.profile_batches = 3;
        a.warmup = a.warmup > 2 ? 2 : a.warmup;
    }
    const char *img_why = NULL;
    if (a.img == 0) {
        a.img = on_gpu && !opt.quick ? 224 : 32;
        img_why = on_gpu ? (opt.quick ? "--quick keeps the native 32" : "the lab's size, on a GPU")
                         : "on the CPU; the lab's 224 would take hours per epoch on a few cores (--img-size 224 to try)";
    }
    if (cmd == CMD_CHECK_STEP) a.img = 32;

    /* ---- data ---- */
    lr_cifar train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if (cmd != CMD_CHECK_STEP) {
        if (a.data_dir) {
            rc = lr_cifar_load_train(&train, a.data_dir);
            if (rc == 0) rc = lr_cifar_load_test(&test, a.data_dir);
        } else {
            int n = a.samples_set || opt.quick ? a.samples : on_gpu ? 50000 : 4096;
            rc = lr_cifar_generate(&train, n, opt.seed);
            if (rc == 0) rc = lr_cifar_generate(&test, n / 5 > a.batch ? n / 5 : a.batch, opt.seed + 1);
        }
        if (rc) {
            lr_cifar_free(&train);
            lr_cifar_free(&test);
            return rc;
        }
    }

    /* ---- model ---- */
    lr_model m;
    lr_model_init(&m, be, opt.seed);
    m.lr = (float)a.lr;
    lr_model_prepare(&m, a.batch, a.img);
    if (a.weights && (rc = lr_model_load(&m, a.weights, opt.seed)) != 0) goto done;

    if (cmd == CMD_CHECK_STEP) {
        if (default_csv && cs_mkdir_p(opt.out_dir) != 0) { rc = 3; goto done; }
        rc = lr_check_step(&m, a.data_dir, a.batch, csv_path);
        if (rc == 0 && !opt.brief) cs_say("wrote %s (loss, logits, gradient norms)\n", csv_path);
        goto done;
    }

    lr_loader ld;
    rc = lr_loader_init(&ld, &train, a.batch, a.img, 1, opt.seed);
    if (rc) goto done;
    int epoch_batches = a.batches > 0 && a.batches < ld.batches ? a.batches : ld.batches;

    cs_sysinfo sys;
    cs_sysinfo_get(&sys);
    /* ---- 1. Scenario ---- */
    cs_step(1, "Scenario");
    cs_say("  The lab's ResNet-18 (torchvision's definition, 10-class head, %zu parameters),\n"
           "  Adam lr %g, batch %d, on %s: %d training images (%s), %d test images.\n"
           "  Images: RandomResizedCrop to %d x %d%s%s%s, flip, ImageNet normalisation; loaded in the\n"
           "  training thread (the lab's baseline, num_workers = 0). Device: %s.\n",
           lr_model_trainable_count(&m), a.lr, a.batch, a.data_dir ? "CIFAR-10 files" : "generated data",
           train.n, train.source, test.n, a.img, a.img, img_why ? " (" : "", img_why ? img_why : "",
           img_why ? ")" : "", on_gpu ? "GPU" : "CPU");
    if (!dev.run_gpu && dev.want_gpu) cs_say("  GPU: not used: %s\n", dev.why);
    if (!cs_brief()) cs_sysinfo_print(stdout, &sys);
    cs_say("  Convolutions: conv1 %s; 3x3 %s; 1x1 shortcut %s\n",
           be->conv_algo(&m.conv1.s, a.batch, a.img, a.img),
           be->conv_algo(&m.blocks[0].conv1.s, a.batch, m.pool_h, m.pool_w),
           be->conv_algo(&m.blocks[2].ds_conv.s, a.batch, m.pool_h, m.pool_w));

    lr_profile_answers ans;
    memset(&ans, 0, sizeof ans);
    if (cmd == CMD_ALL || cmd == CMD_PROFILE) {
        /* ---- 2. Initial profiling ---- */
        cs_step(2, "Initial profiling");
        int n = a.profile_batches < ld.batches ? a.profile_batches : ld.batches;
        rc = run_profile(&m, &ld, n, on_gpu, opt.out_dir, &ans);
        if (rc) { exit_code = rc; goto loader_done; }
        /* ---- 3. Hypothesis ---- */
        cs_step(3, "Hypothesis");
        print_answers(&ans, on_gpu);
        if (cmd == CMD_PROFILE) goto loader_done;
        /* The baseline starts again from the initial weights. */
        lr_model_free(&m);
        lr_model_init(&m, be, opt.seed);
        m.lr = (float)a.lr;
        lr_model_prepare(&m, a.batch, a.img);
        if (a.weights && (rc = lr_model_load(&m, a.weights, opt.seed)) != 0) { exit_code = rc; goto loader_done; }
    }

    /* ---- the baseline epoch ---- */
    cs_step(cmd == CMD_ALL ? 4 : 2, cmd == CMD_ALL ? "Investigation: the baseline epoch" : "Baseline");
    cs_prof_reset();
    cs_prof_enable(0);   /* the baseline is timed without the profiler */
    lr_train_opts o = {.batches = epoch_batches, .warmup = a.warmup, .log_every = a.log_every};
    lr_train_result res;
    rc = lr_train_epoch(&m, &ld, 0, &o, &res);
    cs_prof_enable(1);
    if (rc) { exit_code = rc; goto loader_done; }
    /* Test accuracy in evaluation mode, at the training size (no augmentation). */
    double test_acc = lr_evaluate(&m, &test, a.img, a.eval_batches);
    cs_say("  Epoch: %d batches of %d in %s; throughput %.1f images/s over the %d batches after\n"
           "  %d warm-up batches (median batch %s, min %s, max %s).\n",
           res.steps, a.batch, cs_format_time(res.wall_s, (char[32]){0}, 32), res.images_per_s,
           res.steps - (a.warmup < res.steps ? a.warmup : 0), a.warmup < res.steps ? a.warmup : 0,
           cs_format_time(res.step_median_s, (char[32]){0}, 32),
           cs_format_time(res.step_min_s, (char[32]){0}, 32), cs_format_time(res.step_max_s, (char[32]){0}, 32));
    cs_say("  Median batch split: %s loading it in this thread, %s copying it to the %s,\n"
           "  %s training on it (forward, loss, backward, Adam, loss.item()): %.1f images/s\n"
           "  for the training alone.\n",
           cs_format_time(res.load_median_s, (char[32]){0}, 32),
           cs_format_time(res.copy_median_s, (char[32]){0}, 32), on_gpu ? "GPU" : "model's buffer",
           cs_format_time(res.train_median_s, (char[32]){0}, 32),
           res.train_median_s > 0 ? a.batch / res.train_median_s : 0.0);
    cs_say("  Loss %.4f over the first tenth of the epoch, %.4f over the last; running training\n"
           "  accuracy %.1f%%; test accuracy %.1f%% (evaluation mode, %s).\n",
           res.first_loss, res.last_loss, 100.0 * res.train_accuracy, 100.0 * test_acc,
           a.eval_batches ? "a subset of the test set" : "the whole test set, resized to the training size");
    print_memory(&m);
    if (cmd == CMD_ALL) {
        cs_step(5, "Optimization");
        cs_say("  Part 1 measures the baseline that Parts 2-6 of the lab optimise (data loading\n"
               "  workers, mixed precision, memory, compilation); none is applied here.\n");
    }

    /* ---- verification and results ---- */
    cs_step(cmd == CMD_ALL ? 6 : 3, "Verification");
    /* The check compares the first batches' loss with the last ones': with
     * one batch there is nothing to compare, and the check is not applied. */
    int checked = res.steps >= LR_MIN_CHECK_BATCHES;
    int learned = isfinite(res.last_loss) && res.last_loss < res.first_loss;
    if (checked)
        cs_say("  The training loss fell from %.4f to %.4f: %s%s%s\n", res.first_loss, res.last_loss,
               learned ? cs_col_pass() : cs_col_fail(), learned ? "PASS" : "FAIL", cs_col_reset());
    else
        cs_say("  The training loss: %.4f after %d batch; whether it falls needs at least %d batches: SKIP\n",
               res.last_loss, res.steps, LR_MIN_CHECK_BATCHES);
    cs_say("  (the layers' gradients are checked against finite differences by the tests, and the\n"
           "  whole step against PyTorch by check-step and docs/compare_with_pytorch.py)\n");
    cs_report report;
    cs_report_init(&report, PROG);
    cs_report_config(&report, "data", "%s", train.source);
    cs_report_config(&report, "train_images", "%d", train.n);
    cs_report_config(&report, "batch", "%d", a.batch);
    cs_report_config(&report, "img_size", "%d", a.img);
    cs_report_config(&report, "batches", "%d", res.steps);
    cs_report_config(&report, "warmup_batches", "%d", a.warmup);
    cs_report_config(&report, "lr", "%g", a.lr);
    cs_report_config(&report, "time_unit", "%s", "seconds per batch");
    cs_report_config(&report, "load_median_s", "%.9f", res.load_median_s);
    cs_report_config(&report, "copy_median_s", "%.9f", res.copy_median_s);
    cs_report_config(&report, "train_median_s", "%.9f", res.train_median_s);
    cs_report_config(&report, "first_loss", "%.6f", res.first_loss);
    cs_report_config(&report, "last_loss", "%.6f", res.last_loss);
    cs_report_config(&report, "train_accuracy", "%.4f", res.train_accuracy);
    cs_report_config(&report, "test_accuracy", "%.4f", test_acc);
    for (int c = 0; c < LR_NCATEGORIES; c++)
        cs_report_config(&report, lr_category_name((lr_category)c), "%zu", lr_arena_peak(m.arena, (lr_category)c));
    cs_result row = {0};
    snprintf(row.variant, sizeof row.variant, "baseline");
    snprintf(row.device, sizeof row.device, "%s", on_gpu ? "gpu" : "cpu");
    row.ran = 1;
    row.timing.time.n = res.steps;
    row.timing.time.median = res.step_median_s;
    row.timing.time.min = res.step_min_s;
    row.timing.time.max = res.step_max_s;
    row.timing.repeats = res.steps - (a.warmup < res.steps ? a.warmup : 0);
    row.timing.warmup = a.warmup < res.steps ? a.warmup : 0;
    row.work = a.batch;
    snprintf(row.unit, sizeof row.unit, "images/s");
    row.peak_mem = lr_arena_total_peak(m.arena);
    row.check.status = !checked ? CS_CHECK_SKIP : learned ? CS_CHECK_PASS : CS_CHECK_FAIL;
    cs_report_add(&report, &row);
    cs_report_finish(&report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &report);
    if (cs_case_write_results(&report, &sys, opt.out_dir) != 0) { exit_code = 3; goto train_done; }
    if (a.save && lr_model_save(&m, a.save) != 0) { exit_code = 3; goto train_done; }

    if (cmd == CMD_ALL) {
        cs_step(7, "Key lessons");
        if (ans.steps) {
            double step = ans.wall_s / ans.steps;
            cs_say("  - Measure first: this step spends %.0f%% loading data and %.0f%% computing; the\n"
                   "    slowest operation is %s.\n", 100.0 * ans.data_s / ans.steps / step,
                   100.0 * ans.compute_s / ans.steps / step, ans.slowest[0]);
        }
        cs_say("  - The baseline trains %.1f images/s; every later part of the lab is measured\n"
               "    against this figure on this machine.\n", res.images_per_s);
    }
    if (checked && !learned) exit_code = 1;
train_done:
    lr_train_result_free(&res);
loader_done:
    lr_loader_free(&ld);
done:
    lr_model_free(&m);
    lr_cifar_free(&train);
    lr_cifar_free(&test);
    if (be->release) be->release();
    cs_gpu_release();
    return exit_code ? exit_code : rc;
}
