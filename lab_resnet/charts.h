/* The lab's charts, each a gnuplot script and its data (common/cs_plot.h)
 * in the run's folder, drawn from the run's own figures. */
#ifndef RN_CHARTS_H
#define RN_CHARTS_H

#include "amp.h"
#include "compare.h"
#include "compile.h"
#include "dataloader.h"
#include "ddp.h"
#include "memory.h"
#include "memory_budget.h"
#include "profile.h"
#include "train.h"

/* Part 1, baseline: where a timed batch's time goes (baseline_step_breakdown)
 * and every batch's time over the epoch (baseline_batch_times). on_gpu:
 * forward, backward and the optimizer are device time. */
void rn_chart_baseline(const char *dir, const rn_train_result *r, int on_gpu);
/* Part 1, profile: the operation types by time per step
 * (profile_top_operations). */
void rn_chart_profile(const char *dir, const rn_profile_answers *a, int on_gpu);

/* Part 2: throughput and epoch time against the number of workers (the
 * sweep's rows, num_workers_comparison), and each of the lab's four
 * configurations' speedup over its baseline row, with the baseline's line
 * (dataloader_optimization). rows[i] counts where ran[i]. */
void rn_chart_dataloader(const char *dir, const rn_dl_row *rows, const int *ran, const char *const *names,
                         int baseline_row, int on_gpu);

/* Part 3: the lab's three panels (throughput, peak memory, speedup over
 * fp32: amp_comparison), the peak memory by category (amp_memory) and the
 * loss curves (amp_loss_curves) of the rows that ran. */
void rn_chart_amp(const char *dir, const rn_amp_row *rows, const int *ran, const char *const *names, int nrows,
                  int on_gpu);

/* Part 4: checkpointing's two rows side by side, peak memory (the
 * activations above) and throughput (checkpointing_comparison); the
 * accumulation rows likewise, with their effective batch
 * (accumulation_comparison). */
void rn_chart_memory(const char *dir, const rn_memory_row *rows, const int *ran, const char *const *names, int nrows,
                     int on_gpu);
/* Part 4, --mem-budget: the largest batch per configuration (max_batch). */
void rn_chart_max_batch(const char *dir, const rn_budget_row *rows, const char *const *names, int n, size_t budget,
                        int on_gpu);

/* Part 5: throughput, the time between the convolutions per step, and the
 * speedup over eager (compile_comparison). */
void rn_chart_compile(const char *dir, const rn_compile_row *rows, const int *ran, const char *const *names, int nrows,
                      int on_gpu);

/* Part 6: the lab's dashboard over its cumulative configurations, four
 * panels: throughput, the cumulative speedup (a line, the baseline's level
 * dashed), peak memory, the speedup each added (optimization_dashboard). */
void rn_chart_compare(const char *dir, const rn_cmp_run *run);

/* ddp: compute, bucket copies and communication per global batch, stacked,
 * for each row that ran (comm_overhead); images/s against the number of
 * ranks with the ideal line, k times one rank's (ddp_scaling). */
void rn_chart_ddp(const char *dir, const rn_ddp_row *rows, const int *ran, const char *const *names, int nrows,
                  const rn_ddp_row *points, int npoints);

#endif
