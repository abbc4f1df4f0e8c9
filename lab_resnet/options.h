/* The lab's command line: the subcommand, the suite's options and the lab's
 * own, their defaults, and the checks of the files they name, all before
 * any work. */
#ifndef RN_OPTIONS_H
#define RN_OPTIONS_H

#include "cs_cli.h"
#include "cs_outfile.h"
#include "model.h"
#include "precision.h"

#define RN_PROG "lab_resnet"

typedef enum {
    RN_CMD_ALL,
    RN_CMD_BASELINE,
    RN_CMD_PROFILE,
    RN_CMD_CHECK_STEP,
    RN_CMD_DATALOADER,
    RN_CMD_AMP,
    RN_CMD_MEMORY,
    RN_CMD_COMPILE,
    RN_CMD_COMPARE,
    RN_CMD_EVERY,  /* `all`: Parts 1 to 6 (RN_CMD_ALL, no subcommand, is Part 1's seven steps) */
    RN_CMD_EXPORT, /* the model as ONNX */
    RN_CMD_DDP     /* data-parallel training over MPI's ranks */
} rn_command;

typedef struct {
    rn_command cmd;
    cs_options opt; /* the suite's options (--quick, --out, --seed, ...) */
    const char *data_dir, *generate_dir, *weights, *save;
    const char *onnx, *onnx_reference; /* --onnx, --onnx-reference (export) */
    int samples, samples_set;
    int img, batch, batches, warmup, log_every, profile_batches, eval_batches;
    double lr; /* Adam's learning rate (--lr) */
    /* Data loading (Part 2): --num-workers (-1: not given), --prefetch-factor,
     * --persistent-workers, --pin-memory. */
    int num_workers, prefetch, persistent, pin_memory;
    int accum_steps;            /* --accum-steps (Part 4): batches per optimizer step */
    int bucket_mb;              /* --bucket-mb (ddp) */
    int checkpoint;             /* --checkpoint stages (Part 4) */
    int mem_budget_mb;          /* --mem-budget (Part 4's memory; 0: not given) */
    rn_precision precision;     /* --precision (Part 3's numerics) */
    rn_arch arch;               /* --arch (Part 4's bonus challenge: ResNet-50) */
    const char *img_why;        /* why the image side is what it is (NULL: --img-size) */
    char csv_path[CS_PATH_MAX]; /* check-step: the CSV it writes */
    int default_csv;            /* check-step: csv_path is in the default folder */
} rn_args;

/* Parses the subcommand and the options, then checks the files named
 * (--weights readable, --save writable). Returns 0 to go on, -1 when --help
 * or --version was printed (exit 0), or 2 on bad usage (one line printed). */
int rn_options_parse(int argc, char **argv, rn_args *a);

/* The results' place, checked before any work (and before the GPU probe:
 * bad usage is 2 whatever the device): the --out folder, or for check-step
 * the CSV file --out names (check_step.csv in the default folder without
 * it). Returns 0 or 2 (one line printed). */
int rn_options_check_out(rn_args *a);

/* The defaults that depend on the device and --quick: the sizes --quick
 * shrinks, the image side (224 on a GPU, 32 on the CPU; 32 for check-step). */
void rn_options_resolve(rn_args *a, int on_gpu);

#endif
