/* Part 6 of the lab, `lab_resnet compare`: the techniques of Parts 2 to 5
 * together, from the same weights on the same batches, as two tables:
 *   the Week 13 lab's, cumulative: Baseline, + Optimized DataLoader, + AMP,
 *     + Fusion (+ CUDA Graph on a GPU);
 *   the distributed-profiling lab's, each technique alone on the baseline,
 *     then all of them: Baseline, + AMP, + Grad Accum, + DataLoader, + All.
 * Each table is written as the lab's CSV (optimization_results.csv,
 * profiling_results.csv); the first is drawn as the lab's dashboard
 * (optimization_dashboard) and told in its report template
 * (optimization_report.md, report.c). */
#ifndef RN_COMPARE_H
#define RN_COMPARE_H

#include "cs_ladder.h"
#include "lab.h"
#include "train.h"

#define RN_COMPARE_ROWS 8
/* Gradient accumulation's batches per step in the profiling lab's rows. */
#define RN_COMPARE_ACCUM 4
extern const char *const rn_compare_rows[RN_COMPARE_ROWS];

/* The lab's header of both CSV files, exactly. */
#define RN_COMPARE_CSV_HEADER \
    "Configuration,Throughput (samples/sec),Epoch Time (s),Peak Memory (MB),Speedup,Accuracy (%)"

/* What one configuration is made of. */
typedef struct {
    const char *label_lab;       /* its name in the Week 13 table (NULL: not in it) */
    const char *label_profiling; /* its name in the distributed-profiling table (NULL: not in it) */
    int dataloader;              /* the optimized DataLoader: workers (persistent; pinned on a GPU) */
    int amp;                     /* autocast in rn_compare_amp_precision's type */
    int accum;                   /* batches per optimizer step */
    int fused;                   /* Part 5's fusions */
    int graph;                   /* the step as a CUDA graph (GPU) */
    const char *lesson;
} rn_cmp_spec;
extern const rn_cmp_spec rn_compare_specs[RN_COMPARE_ROWS];

/* What one configuration measured. */
typedef struct {
    cs_rung rung;
    double images_per_s;         /* images per run / median run */
    double epoch_s;              /* a whole epoch at that rate (the runs are --batches long) */
    size_t peak_total, peak_act; /* the model's arena: every category; the activations */
    double test_accuracy;        /* after the row's last run, evaluation mode */
    double phase_s[RN_NPHASES];  /* the last run's mean batch by phase */
    double conv_s;               /* per step: the convolutions (profiler) */
    cs_check first_check, curve_check;
    int workers;
} rn_cmp_row;

/* Everything the report needs. */
typedef struct {
    rn_lab *lab;
    rn_cmp_row rows[RN_COMPARE_ROWS];
    int ran[RN_COMPARE_ROWS];
    const char *skip[RN_COMPARE_ROWS];
    int workers; /* the optimized DataLoader's */
    const char *workers_why;
    int batches_per_epoch;
} rn_cmp_run;

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_compare(rn_lab *lab);

/* The precision of the AMP rows: PyTorch's autocast default on the device
 * (fp16 with GradScaler on a GPU, bf16 on a CPU). */
rn_precision rn_compare_amp_precision(const rn_lab *lab);

/* report.c: optimization_report.md in --out from the run's figures. Returns 0 or 3. */
int rn_compare_report(const rn_cmp_run *r, const char *dir);

#endif
