/* The lab's Part 1 told as the seven steps of the case-study method, each a
 * function in the lab's own words (steps.c), then its results. Each prints
 * its heading and its figures; those that can fail return 0 or an exit code.
 * `lab_resnet baseline` runs steps 4 and 6 as its steps 2 and 3;
 * `lab_resnet profile` runs steps 1 to 3. */
#ifndef RN_STEPS_H
#define RN_STEPS_H

#include "lab.h"

/* 1. The model, the data, the machine, the convolution algorithms. */
void step1_scenario(rn_lab *lab);
/* 2. The first --profile-batches batches with the profiler on (after one
 * untimed warm-up batch): the operations table and a trace. */
int step2_initial_profiling(rn_lab *lab);
/* 3. The lab's four questions, answered from step 2's profile. */
void step3_hypothesis(rn_lab *lab);
/* 4. The baseline epoch, timed without the profiler: throughput, the split
 * of a batch, the loss, the test accuracy, the memory by category. */
int step4_baseline_epoch(rn_lab *lab);
/* 5. What Parts 2-6 will optimise (nothing is applied in Part 1). */
void step5_optimization(rn_lab *lab);
/* 6. The checks: the training loss fell over the epoch, and the gradient
 * check of the whole model (gradcheck.h) on the epoch's first batch. */
void step6_verification(rn_lab *lab);
/* Step 6 passed (its exit code is 1 when not). */
int rn_lab_verified(const rn_lab *lab);
/* The before/after table, the result files, and --save. Returns 0 or 3. */
int rn_results(rn_lab *lab);
/* 7. The rules, with this run's figures. */
void step7_key_lessons(rn_lab *lab);

#endif
