/* The lab's command line (see options.h). */
#include "options.h"

#include <stdio.h>
#include <string.h>

#include "cs_case.h"
#include "cs_console.h"
#include "cs_files.h"
#include "amp.h"
#include "compare.h"
#include "compile.h"
#include "dataloader.h"
#include "ddp.h"
#include "memory.h"

enum {
    OPT_DATA,
    OPT_GENERATE,
    OPT_SAMPLES,
    OPT_IMG,
    OPT_BATCH,
    OPT_BATCHES,
    OPT_WARMUP,
    OPT_LOG_EVERY,
    OPT_PROFILE_BATCHES,
    OPT_EVAL_BATCHES,
    OPT_LR,
    OPT_WEIGHTS,
    OPT_SAVE,
    OPT_NUM_WORKERS,
    OPT_PREFETCH,
    OPT_PERSISTENT,
    OPT_PIN,
    OPT_PRECISION,
    OPT_ACCUM,
    OPT_CHECKPOINT,
    OPT_MEM_BUDGET,
    OPT_ARCH,
    OPT_ONNX,
    OPT_ONNX_REFERENCE,
    OPT_BUCKET_MB
};

static const cs_case_option case_options[] = {
    [OPT_DATA] = {"data", "DIR", "CIFAR-10 binary files: DIR/data_batch_1.bin .. data_batch_5.bin, test_batch.bin"},
    [OPT_GENERATE] = {"generate", "DIR", "write the generated data set there in CIFAR-10's format and stop"},
    [OPT_SAMPLES] = {"samples", "N",
                     "training images of the generated set (10..1000000; default 50000 on a GPU, 4096 on the CPU)"},
    [OPT_IMG] = {"img-size", "N",
                 "training image side after RandomResizedCrop (8..512; default 224 on a GPU, 32 on the CPU)"},
    [OPT_BATCH] = {"batch", "N", "images per batch (1..4096; default 32)"},
    [OPT_BATCHES] = {"batches", "N", "stop the epoch after N batches (1..1000000; default: the whole epoch)"},
    [OPT_WARMUP] = {"warmup-batches", "N", "first batches not timed (0..1000; default 3)"},
    [OPT_LOG_EVERY] = {"log-every", "N", "print every N batches (0..100000; default 50)"},
    [OPT_PROFILE_BATCHES] = {"profile-batches", "N", "batches the profile covers (1..10000; default 10)"},
    [OPT_EVAL_BATCHES] = {"eval-batches", "N", "test batches for the accuracy (0 = all; default all)"},
    [OPT_LR] = {"lr", "X", "Adam's learning rate (0 < X <= 1; default 1e-4)"},
    [OPT_WEIGHTS] = {"weights", "FILE",
                     "start from a safetensors file with torchvision's names (the lab's pretrained=True)"},
    [OPT_SAVE] = {"save", "FILE", "save the trained weights as safetensors (check-step: the weights it starts from)"},
    [OPT_NUM_WORKERS] = {"num-workers", "N",
                         "data loading threads (0..64; 0 = load in the training thread, the baseline; "
                         "amp, memory, compile: every row's loader, so the rows time their step, not the loading; "
                         "dataloader: the optimized rows' count instead of the sweep's best)"},
    [OPT_PREFETCH] = {"prefetch-factor", "N", "batches each worker loads ahead (1..64; default 2)"},
    [OPT_PERSISTENT] = {"persistent-workers", NULL, "keep the workers between epochs (baseline; needs --num-workers)"},
    [OPT_PRECISION] = {"precision", "P",
                       "fp32 (default), tf32 (GPU: TF32 tensor cores), fp16 (with GradScaler's loss scaling) or "
                       "bf16: autocast's numerics for baseline, profile and check-step"},
    [OPT_ACCUM] = {"accum-steps", "K",
                   "gradient accumulation: one optimizer step per K batches, the loss divided by K "
                   "(1..1024; default 1; baseline)"},
    [OPT_CHECKPOINT] = {"checkpoint", "MODE",
                        "gradient checkpointing: none (default) or stages (the stem and layer1-4 run again in "
                        "the backward; baseline, profile, check-step)"},
    [OPT_MEM_BUDGET] = {"mem-budget", "MB",
                        "memory: find the largest batch whose model fits in MB mebibytes (1..16777216) for fp32, "
                        "AMP, checkpointing and both (device memory on a GPU)"},
    [OPT_ARCH] = {"arch", "NAME",
                  "resnet18 (default, the lab's) or resnet50 (torchvision's Bottleneck blocks; the lab's bonus "
                  "challenge 2), for every subcommand"},
    [OPT_PIN] = {"pin-memory", NULL,
                 "GPU: page-locked staging and copies overlapping compute (baseline, amp, memory, compile; needs "
                 "--num-workers)"},
    [OPT_ONNX] = {"onnx", "FILE",
                  "export: write the model's inference graph as ONNX (opset 13); baseline: after training"},
    [OPT_ONNX_REFERENCE] = {"onnx-reference", "FILE",
                            "export: also write a test batch and the model's logits for it (for onnxruntime)"},
    [OPT_BUCKET_MB] = {"bucket-mb", "MB",
                       "ddp: the gradient buckets' size in mebibytes (1..1024; default 25, PyTorch DDP's "
                       "bucket_cap_mb)"},
};

static int on_option(int index, const char *arg, void *p)
{
    rn_args *a = p;
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
    case OPT_ONNX: a->onnx = arg; break;
    case OPT_ONNX_REFERENCE: a->onnx_reference = arg; break;
    case OPT_NUM_WORKERS:
        if (cs_parse_long("--num-workers", arg, 0, 64, &v)) return 2;
        a->num_workers = (int)v;
        break;
    case OPT_PREFETCH:
        if (cs_parse_long("--prefetch-factor", arg, 1, 64, &v)) return 2;
        a->prefetch = (int)v;
        break;
    case OPT_PERSISTENT: a->persistent = 1; break;
    case OPT_PIN: a->pin_memory = 1; break;
    case OPT_CHECKPOINT:
        if (strcmp(arg, "none") != 0 && strcmp(arg, "stages") != 0) {
            cs_error("--checkpoint '%s': choose none or stages", arg);
            return 2;
        }
        a->checkpoint = strcmp(arg, "stages") == 0;
        break;
    case OPT_ARCH:
        if (rn_arch_parse(arg, &a->arch) != 0) {
            cs_error("--arch '%s': choose resnet18 or resnet50", arg);
            return 2;
        }
        break;
    case OPT_MEM_BUDGET:
        if (cs_parse_long("--mem-budget", arg, 1, 16777216, &v)) return 2;
        a->mem_budget_mb = (int)v;
        break;
    case OPT_BUCKET_MB:
        if (cs_parse_long("--bucket-mb", arg, 1, 1024, &v)) return 2;
        a->bucket_mb = (int)v;
        break;
    case OPT_ACCUM:
        if (cs_parse_long("--accum-steps", arg, 1, 1024, &v)) return 2;
        a->accum_steps = (int)v;
        break;
    case OPT_PRECISION:
        if (rn_precision_parse(arg, &a->precision) != 0) {
            cs_error("--precision '%s': choose fp32, tf32, fp16 or bf16", arg);
            return 2;
        }
        break;
    }
    return 0;
}

static const char *const baseline_variants[] = {"baseline"};

/* The first of --precision, --accum-steps and --checkpoint given away from
 * Part 1's fp32 step, or NULL. */
static const char *step_option_given(const rn_args *a)
{
    return a->precision != RN_FP32 ? "precision"
           : a->accum_steps != 1   ? "accum-steps"
           : a->checkpoint         ? "checkpoint"
                                   : NULL;
}

/* Why a subcommand takes none of those options (it sets them per row, or
 * runs Part 1's step), or NULL when it takes them. */
static const char *sets_its_own_step(rn_command cmd)
{
    switch (cmd) {
    case RN_CMD_MEMORY: return "memory runs accumulation and checkpointing as its rows, in fp32 (--variant picks some)";
    case RN_CMD_COMPILE: return "compile's rows are Part 1's fp32 step, one optimizer step per batch";
    case RN_CMD_COMPARE: return "compare sets precision and accumulation per row (--variant picks rows)";
    case RN_CMD_EVERY: return "all runs every part with its own settings";
    case RN_CMD_DDP: return "ddp's rows are Part 1's fp32 step (no_sync_4 accumulates as its lesson)";
    default: return NULL;
    }
}

/* The subcommand comes first; the options after it are the suite's. Returns
 * 0 (argv, argc without it) or 2. */
static int parse_command(int *argc, char ***argv, rn_command *cmd)
{
    *cmd = RN_CMD_ALL;
    char **v = *argv;
    if (*argc > 1 && v[1][0] != '-') {
        if (strcmp(v[1], "baseline") == 0)
            *cmd = RN_CMD_BASELINE;
        else if (strcmp(v[1], "profile") == 0)
            *cmd = RN_CMD_PROFILE;
        else if (strcmp(v[1], "check-step") == 0)
            *cmd = RN_CMD_CHECK_STEP;
        else if (strcmp(v[1], "dataloader") == 0)
            *cmd = RN_CMD_DATALOADER;
        else if (strcmp(v[1], "amp") == 0)
            *cmd = RN_CMD_AMP;
        else if (strcmp(v[1], "memory") == 0)
            *cmd = RN_CMD_MEMORY;
        else if (strcmp(v[1], "compile") == 0)
            *cmd = RN_CMD_COMPILE;
        else if (strcmp(v[1], "compare") == 0)
            *cmd = RN_CMD_COMPARE;
        else if (strcmp(v[1], "all") == 0)
            *cmd = RN_CMD_EVERY;
        else if (strcmp(v[1], "export") == 0)
            *cmd = RN_CMD_EXPORT;
        else if (strcmp(v[1], "ddp") == 0)
            *cmd = RN_CMD_DDP;
        else {
            cs_console_init(RN_PROG, 0);
            cs_error("unknown subcommand '%s' (baseline, profile, check-step, dataloader, amp, memory, compile, "
                     "compare, all, export, ddp, or none)",
                     v[1]);
            return 2;
        }
        v[1] = v[0];
        (*argv)++;
        (*argc)--;
    }
    return 0;
}

int rn_options_parse(int argc, char **argv, rn_args *a)
{
    memset(a, 0, sizeof *a);
    if (parse_command(&argc, &argv, &a->cmd) != 0) return 2;
    a->batch = 32, a->warmup = 3, a->log_every = 50, a->profile_batches = 10, a->lr = 1e-4;
    a->num_workers = -1, a->prefetch = 2, a->accum_steps = 1, a->bucket_mb = 25;
    int dataloader = a->cmd == RN_CMD_DATALOADER, amp = a->cmd == RN_CMD_AMP, memory = a->cmd == RN_CMD_MEMORY;
    int compile = a->cmd == RN_CMD_COMPILE, compare = a->cmd == RN_CMD_COMPARE, ddp = a->cmd == RN_CMD_DDP;
    cs_cli_spec spec = {
        .prog = RN_PROG,
        .summary = "The ResNet-18 training lab (or ResNet-50 with --arch): Part 1, the baseline and its profile; Part "
                   "2, data loading; "
                   "Part 3, mixed precision; Part 4, memory; Part 5, compilation; Part 6, the comparison (subcommands: "
                   "baseline, profile, check-step, dataloader, amp, memory, compile, compare, all, export, ddp)",
        .usage_notes = "Usage: lab_resnet "
                       "[baseline|profile|check-step|dataloader|amp|memory|compile|compare|all|export|ddp] "
                       "[options]\n"
                       "check-step: --weights FILE --data DIR --batch B --out FILE (a CSV).\n"
                       "dataloader: the rows workers_0, workers_2, workers_4, workers_8, then the lab's\n"
                       "baseline, optimal_workers, pin_memory and persistent (--variant picks some).\n"
                       "amp: the rows fp32, tf32 (GPU), fp16, fp16_device_skip and bf16 (--variant picks some).\n"
                       "memory: the rows accum_1, accum_2, accum_4, accum_8, checkpoint_none and\n"
                       "checkpoint_stages (--variant picks some); --mem-budget MB adds the largest batch.\n"
                       "compile: the rows eager, fused and graph (GPU) (--variant picks some).\n"
                       "compare: baseline, dataloader, amp, fused, graph (GPU) (each on the one before), then\n"
                       "amp_only, accum_only and all (--variant picks some).\n"
                       "all: Parts 1 to 6 in order, each in its own folder under --out.\n"
                       "ddp: data-parallel training, run as mpirun -np N lab_resnet ddp: the rows single,\n"
                       "per_tensor, bucketed, overlapped and no_sync_4 (--variant picks some), then 1..N ranks.\n"
                       "The baseline's check (the training loss fell) needs at least 2 batches;\n"
                       "with --batches 1 it is reported as SKIP.",
        .exit_1 = "training diverged or a check failed",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = a,
        .variant_names = dataloader ? rn_dataloader_rows
                         : amp      ? rn_amp_rows
                         : memory   ? rn_memory_rows
                         : compile  ? rn_compile_rows
                         : compare  ? rn_compare_rows
                         : ddp      ? rn_ddp_rows
                                    : baseline_variants,
        .n_variants = dataloader ? RN_DATALOADER_ROWS
                      : amp      ? RN_AMP_ROWS
                      : memory   ? RN_MEMORY_ROWS
                      : compile  ? RN_COMPILE_ROWS
                      : compare  ? RN_COMPARE_ROWS
                      : ddp      ? RN_DDP_ROWS
                                 : 1,
    };
    int rc = cs_case_begin(argc, argv, &spec, &a->opt);
    if (rc) return rc;
    if (amp && a->precision != RN_FP32) {
        cs_error("--precision: amp runs every precision as its rows (--variant picks some)");
        return 2;
    }
    const char *step_option = step_option_given(a), *own = sets_its_own_step(a->cmd);
    if (step_option && own) {
        cs_error("--%s: %s", step_option, own);
        return 2;
    }
    if (a->bucket_mb != 25 && !ddp) {
        cs_error("--bucket-mb: only ddp reduces gradients in buckets");
        return 2;
    }
    if (a->mem_budget_mb && !memory && a->cmd != RN_CMD_EVERY) {
        cs_error("--mem-budget: only the memory subcommand searches for the largest batch");
        return 2;
    }
    if ((a->persistent || a->pin_memory) && !dataloader && a->num_workers < 1) {
        cs_error("--%s needs --num-workers 1 or more (without workers there is nothing to %s)",
                 a->persistent ? "persistent-workers" : "pin-memory", a->persistent ? "keep" : "stage");
        return 2;
    }
    if (a->cmd == RN_CMD_EXPORT && !a->onnx) {
        cs_error("export needs --onnx FILE (the ONNX file to write)");
        return 2;
    }
    if (a->onnx && a->cmd != RN_CMD_EXPORT && a->cmd != RN_CMD_BASELINE && a->cmd != RN_CMD_ALL) {
        cs_error("--onnx: export writes the model, baseline writes it after training");
        return 2;
    }
    if (a->onnx_reference && a->cmd != RN_CMD_EXPORT) {
        cs_error("--onnx-reference: only with export");
        return 2;
    }
    /* Check what can be checked before any work: the files named. */
    if (a->weights && cs_check_input_file("--weights", a->weights) != 0) return 2;
    if (a->save && cs_check_output_file("--save", a->save) != 0) return 2;
    if (a->onnx && cs_check_output_file("--onnx", a->onnx) != 0) return 2;
    if (a->onnx_reference && cs_check_output_file("--onnx-reference", a->onnx_reference) != 0) return 2;
    return 0;
}

int rn_options_check_out(rn_args *a)
{
    const cs_options *opt = &a->opt;
    if (a->cmd == RN_CMD_EXPORT) return 0; /* it writes --onnx (checked with the options), nothing in --out */
    if (a->cmd != RN_CMD_CHECK_STEP) return cs_check_writable_dir(opt->out_dir) != 0 ? 2 : 0;
    if (!a->data_dir) {
        cs_error("check-step needs --data DIR (with data_batch_1.bin)");
        return 2;
    }
    /* --out names the CSV here; without it, check_step.csv in the default
     * folder (made when missing). */
    if (strcmp(opt->out_dir, "results/" RN_PROG) == 0) {
        if (cs_check_writable_dir(opt->out_dir) != 0) return 2;
        cs_path_join(a->csv_path, sizeof a->csv_path, opt->out_dir, "check_step.csv");
        a->default_csv = 1;
    } else {
        snprintf(a->csv_path, sizeof a->csv_path, "%s", opt->out_dir);
        if (cs_check_output_file("--out", a->csv_path) != 0) return 2;
    }
    return 0;
}

void rn_options_resolve(rn_args *a, int on_gpu)
{
    int quick = a->opt.quick;
    /* Part 4: accum_8 takes one optimizer step per 8 batches, so even
     * --quick trains 8 of them. */
    if (a->cmd == RN_CMD_MEMORY && !a->batches) a->batches = quick ? 8 : 24;
    if (quick) {
        /* all: each part its own; ddp: no_sync_4's two steps */
        if (!a->batches && a->cmd != RN_CMD_EVERY) a->batches = a->cmd == RN_CMD_DDP ? 8 : 6;
        if (!a->samples_set) a->samples = 512;
        if (!a->eval_batches) a->eval_batches = 2;
        if (a->profile_batches == 10) a->profile_batches = 3;
        a->warmup = a->warmup > 2 ? 2 : a->warmup;
    }
    if (a->img == 0) {
        a->img = on_gpu && !quick ? 224 : 32;
        a->img_why =
            on_gpu ? (quick ? "--quick keeps the native 32" : "the lab's size, on a GPU")
                   : "the CPU's, as the lab's 224 would take hours per epoch on a few cores (--img-size 224 to try)";
    }
    if (a->cmd == RN_CMD_CHECK_STEP) a->img = 32;
    /* Part 2 trains every configuration several times: a part of the epoch each. */
    if ((a->cmd == RN_CMD_DATALOADER || a->cmd == RN_CMD_AMP || a->cmd == RN_CMD_COMPILE || a->cmd == RN_CMD_COMPARE ||
         a->cmd == RN_CMD_DDP) &&
        !a->batches)
        a->batches = 24;
}
